"""The seam between state changes and the messages they cause.

State-changing services call notify(kind, registration) inside their transaction; it
writes the message to the outbox in that same transaction, so nothing is sent for a change
that rolled back and nothing is lost when the mail server is down. The worker
(eventsvc.services.mailer) renders and sends it later. When reminders go: services/reminders.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, bindparam, func, insert, literal_column, select

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    CallReason,
    Event,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    User,
)
from . import phone_calls

KINDS = frozenset(
    {
        "registration_confirmed",
        "registration_waitlisted",
        "registration_promoted",
        "registration_repeated",
        "registration_cancelled",
        "registration_restored",  # the cancellation undone after its notice went out
        "registration_changed",
        "registration_email_changed",  # a notice to the address it had before
        "activity_promoted",  # payload: activity_id
        "event_changed",
        "event_cancelled",
        "event_reminder",  # payload: reminder (services/reminders.py)
        "event_feedback",  # after the event: the feedback form (services/feedback.py)
        "organiser_message",  # payload: subject, body (services/organiser_messages.py)
    }
)
# Messages to staff, not about a registration (registration_id is NULL): the payload names
# what they are about, the recipient is the account's address.
STAFF_KINDS = frozenset(
    {
        "needs_digest",  # the day before: accessibility needs (services/needs_digest.py)
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
        "registration_restored",
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


def recent_mail_params(recipient: str | None, now: datetime) -> dict[str, object]:
    """The parameters of RECENT_MAIL_COLUMNS: one address, the last hour."""
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
    payload: dict[str, Any] | None = None,
    *,
    public: bool = False,
    recent: tuple[int, datetime | None] | None = None,
    recipient: str | None = None,
) -> OutboxMessage | None:
    """Queue a message about `registration` to its registrant (or to `recipient`, an address
    it had before), due at `now` (or later, held by the hourly cap: see above); None if they
    have no email, or a repeat dropped by the cap. `recent` is recent_mail() for the address
    if the caller counted already. The next flush writes it."""
    values = _message(kind, registration, now, payload, public, recent, recipient)
    if values is None:
        return None
    message = OutboxMessage(registration=registration, **values)
    db.session.add(message)
    return message


def notify_stored(
    kind: str,
    registration: Registration,
    now: datetime,
    *,
    public: bool = False,
    recent: tuple[int, datetime | None] | None = None,
) -> bool:
    """notify() for a registration already stored (it has its id), written at once by one
    INSERT rather than by the unit of work's flush: a registration's hot path
    (services/registration.py). Whether a message was queued."""
    values = _message(kind, registration, now, None, public, recent, None)
    if values is None:
        return False
    db.session.connection().execute(_INSERT_MESSAGE, {**values, "registration_id": registration.id})
    return True


# Every column given, so that one compiled statement serves every message.
_INSERT_MESSAGE = insert(cast(Table, OutboxMessage.__table__)).values(
    {
        name: bindparam(name)
        for name in (
            "kind",
            "registration_id",
            "recipient",
            "language",
            "payload",
            "created_at",
            "next_attempt_at",
        )
    }
)


def _message(
    kind: str,
    registration: Registration,
    now: datetime,
    payload: dict[str, Any] | None,
    public: bool,
    recent: tuple[int, datetime | None] | None,
    recipient: str | None,
) -> dict[str, Any] | None:
    """The outbox columns of a message about `registration` (see notify), or None when none
    is queued: no address (the notices a person must hear of go onto the to-call list), or
    a repeat over the hourly cap."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    address = recipient or registration.email
    if not address:
        # Registered by phone: the organiser phones them (the ticket is printable); the notices
        # they must hear of go onto the event's to-call list.
        if kind in phone_calls.TOLD_BY_PHONE:
            phone_calls.note(kind, registration, CallReason.NO_EMAIL, now, payload)
        return None
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
            assert latest is not None  # at least `cap` (>= 1) messages: the latest is known
            latest = latest.replace(tzinfo=now.tzinfo) if latest.tzinfo is None else latest
            due = max(now + CAP_WINDOW, latest + CAP_WINDOW / cap)
            log.warning(
                "mail cap: %s for registration %s held until %s",
                kind,
                registration.id,
                due.isoformat(),
            )
    return {
        "kind": kind,
        "recipient": address,
        "language": registration.language,
        "payload": payload or {},
        "created_at": now,
        "next_attempt_at": due,
    }


def notify_staff(kind: str, user: User, now: datetime, payload: dict[str, Any]) -> OutboxMessage:
    """Queue a message to a staff member, in their language (Latvian while they have none),
    due at `now`. Never capped: the system sends it, not a public request."""
    if kind not in STAFF_KINDS:
        raise ValueError(f"unknown staff notification {kind!r}")
    message = OutboxMessage(
        kind=kind,
        registration=None,
        recipient=user.email,
        language=user.language or "lv",
        payload=payload,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    return message


@dataclass(frozen=True)
class Told:
    """How a notice to an event's registrants went out."""

    emailed: int = 0  # messages queued
    phoned: int = 0  # registrations without an email address: onto the to-call list


def notify_registrants(
    event: Event,
    kind: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    statuses: Iterable[RegistrationStatus] = ACTIVE_STATUSES,
) -> Told:
    """Queue `kind` for every registration of `event` in `statuses` (the active ones)."""
    emailed = phoned = 0
    for registration in db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(statuses),
            Registration.anonymised_at.is_(None),
        )
        .order_by(Registration.id)
    ):
        if notify(kind, registration, now, payload) is not None:
            emailed += 1
        elif not registration.email:
            phoned += 1
    return Told(emailed=emailed, phoned=phoned)
