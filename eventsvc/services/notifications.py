"""The seam between state changes and the messages they cause.

State-changing services call notify(kind, registration) inside their transaction; it
writes the message to the outbox in that same transaction, so nothing is sent for a change
that rolled back and nothing is lost when the mail server is down. The worker
(eventsvc.services.mailer) renders and sends it later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, literal_column, select, update

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Event,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
)
from ..timezones import riga_day_bounds, to_riga

KINDS = frozenset(
    {
        "registration_confirmed",
        "registration_waitlisted",
        "registration_promoted",
        "registration_repeated",
        "registration_cancelled",
        "registration_changed",
        "registration_email_changed",  # a notice to the address it had before
        "activity_promoted",  # payload: activity_id
        "event_changed",
        "event_cancelled",
        "event_reminder",
        "event_feedback",  # after the event: the feedback form (services/feedback.py)
    }
)


# The hourly cap per address (EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR) keeps the public forms from
# being turned into a mail cannon (registering someone else's address at many events, "send my
# ticket again" over and over), without losing a message anybody needs:
# - it applies only to messages caused by a public request (`public=True`: the form, the API,
#   the private link); what follows an organiser's or the system's action (a cancellation by
#   the organiser, a phone registration, the event changed or cancelled, a place came free, the
#   reminder) is always queued at once;
# - only the capped kinds below count towards it;
# - over the cap, "here is your ticket again" is dropped (the first ticket mail exists), and any
#   other message is held: queued to go out an hour later at the earliest, spaced so that the
#   address never gets more than the cap in an hour. The answer on the page stays the same.
CAPPED_KINDS = frozenset(
    {
        "registration_confirmed",
        "registration_waitlisted",
        "registration_repeated",
        "registration_cancelled",
        "registration_changed",
        "registration_email_changed",
    }
)
DROPPED_OVER_CAP = frozenset({"registration_repeated"})
CAP_WINDOW = timedelta(hours=1)
log = logging.getLogger(__name__)


_RECENT_MAIL_WHERE = (
    OutboxMessage.recipient == bindparam("recipient"),
    # The kinds as literals in the statement: an IN list of parameters would be rendered
    # again on every execution.
    OutboxMessage.kind.in_([literal_column(f"'{kind}'") for kind in sorted(CAPPED_KINDS)]),
    (OutboxMessage.created_at > bindparam("since"))
    | (OutboxMessage.next_attempt_at > bindparam("now")),
)
_RECENT_MAIL = select(func.count(OutboxMessage.id), func.max(OutboxMessage.next_attempt_at)).where(
    *_RECENT_MAIL_WHERE
)
# The same two numbers as columns, for a caller that asks them in a statement of its own
# (a registration, with the event's places: services/registration.py); its parameters are
# recent_mail_params(). A NULL recipient matches nothing.
RECENT_MAIL_COLUMNS = (
    select(func.count(OutboxMessage.id)).where(*_RECENT_MAIL_WHERE).scalar_subquery(),
    select(func.max(OutboxMessage.next_attempt_at)).where(*_RECENT_MAIL_WHERE).scalar_subquery(),
)


def recent_mail_params(recipient: str | None, now: datetime) -> dict:
    return {"recipient": recipient, "since": now - CAP_WINDOW, "now": now}


def recent_mail(recipient: str, now: datetime) -> tuple[int, datetime | None]:
    """(how many, latest due time) of capped messages to `recipient` queued in the last hour or
    still waiting to go (uses the recipient/created index). A caller that holds a lock may
    count first and pass this to notify(recent=…): two requests for one address at the same
    moment may then both pass the cap, which a soft cap against abuse can afford."""
    count, latest = db.session.execute(_RECENT_MAIL, recent_mail_params(recipient, now)).one()
    return count, latest


def notify(
    kind: str,
    registration: Registration,
    now: datetime,
    payload: dict | None = None,
    *,
    public: bool = False,
    recent: tuple[int, datetime | None] | None = None,
    recipient: str | None = None,
) -> OutboxMessage | None:
    """Queue a message about `registration` to its registrant (or to `recipient`, an address
    it had before), due at `now` (or later, held by the hourly cap: see above); None if they
    have no email, or a repeat dropped by the cap. `recent` is recent_mail() for the address
    if the caller counted already."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    address = recipient or registration.email
    if not address:
        return None  # phone registrations: the organiser tells them; the ticket is printable
    due = now
    if public and kind in CAPPED_KINDS:
        cap = max(
            1, current_app.config["EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"]
        )  # 0 would stop all mail
        sent_lately, latest = recent if recent is not None else recent_mail(address, now)
        if sent_lately >= cap:
            if registration.id is None:
                db.session.flush()  # the log names the registration by its id
            # No address in the log: the registration id is enough to look into it.
            if kind in DROPPED_OVER_CAP:
                log.warning("mail cap: %s for registration %s dropped", kind, registration.id)
                return None
            latest = latest.replace(tzinfo=now.tzinfo) if latest.tzinfo is None else latest
            due = max(now + CAP_WINDOW, latest + CAP_WINDOW / cap)
            log.warning(
                "mail cap: %s for registration %s held until %s",
                kind,
                registration.id,
                due.isoformat(),
            )
    message = OutboxMessage(
        kind=kind,
        registration=registration,  # also one not flushed yet: one flush writes both
        recipient=address,
        language=registration.language,
        payload=payload or {},
        created_at=now,
        next_attempt_at=due,
    )
    db.session.add(message)
    return message


def notify_registrants(event, kind: str, now: datetime, payload: dict | None = None) -> int:
    """Queue `kind` for every active registration of `event`; returns how many were queued."""
    queued = 0
    for registration in db.session.scalars(
        select(Registration).where(
            Registration.event_id == event.id, Registration.status.in_(ACTIVE_STATUSES)
        )
    ):
        if notify(kind, registration, now, payload) is not None:
            queued += 1
    return queued


def reminders_due(now: datetime) -> list[Registration]:
    """Confirmed registrations for events that start tomorrow (Riga time), not yet reminded."""
    tomorrow = to_riga(now).date() + timedelta(days=1)
    start, end = riga_day_bounds(tomorrow)
    return list(
        db.session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at >= start,
                Event.starts_at < end,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.reminded_at.is_(None),
            )
            .order_by(Registration.id)
        )
    )


def queue_reminder(registration: Registration, now: datetime) -> bool:
    """Claim the reminder with a conditional update first, so that a second run (or a second
    cron host at the same moment) finds nothing left to remind. True if this run queued it."""
    claimed = db.session.execute(
        update(Registration)
        .where(
            Registration.id == registration.id,
            Registration.reminded_at.is_(None),
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.anonymised_at.is_(None),  # erased since it was listed: nothing to send
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        db.session.refresh(registration)  # its address as it is now, not as it was listed
        notify("event_reminder", registration, now)
        db.session.flush()
    return bool(claimed)


@dataclass(frozen=True)
class Undelivered:
    """A message that failed for good: whom the organiser should phone, and about what."""

    message_id: int
    kind: str
    registration_id: int
    name: str
    phone: str | None


def undelivered(event_id: int) -> list[Undelivered]:
    """The event's failed messages (refused for good, or given up after the last retry), for
    its organisers to phone the people instead; erased registrations have no one to call.
    The caller checks that the reader manages the event."""
    rows = db.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            Registration.id,
            Registration.name,
            Registration.phone,
        )
        .join(Registration, Registration.id == OutboxMessage.registration_id)
        .where(
            Registration.event_id == event_id,
            OutboxMessage.status == OutboxStatus.FAILED,
            Registration.anonymised_at.is_(None),
        )
        .order_by(OutboxMessage.id)
    )
    return [Undelivered(*row) for row in rows]
