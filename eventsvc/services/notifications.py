"""The seam between state changes and the messages they cause.

State-changing services call notify(kind, registration) inside their transaction; it
writes the message to the outbox in that same transaction, so nothing is sent for a change
that rolled back and nothing is lost when the mail server is down. The worker
(eventsvc.services.mailer) renders and sends it later.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import ACTIVE_STATUSES, Event, EventStatus, OutboxMessage, Registration, RegistrationStatus
from ..timezones import riga_day_bounds, to_riga

KINDS = frozenset(
    {
        "registration_confirmed",
        "registration_waitlisted",
        "registration_promoted",
        "registration_repeated",
        "registration_cancelled",
        "registration_changed",
        "event_changed",
        "event_cancelled",
        "event_reminder",
    }
)


# Messages that follow a request anyone can make on the public site or the API: registering
# (with anyone's address), the same address again ("send my ticket again"), and changes made
# through the private link. Once EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR messages (of any kind) were
# queued to an address in the last hour, these are dropped: not queued and not held for later,
# so that the forms cannot be turned into a mail cannon (held messages would only fire later).
# The answer on the page stays the same, so the cap reveals nothing either.
# Notices that follow an organiser's or the system's action (the event changed or was
# cancelled, a place came free, the day-before reminder) are always queued: they are bounded
# by the events the person is registered for, and must not be lost.
CAPPED_KINDS = frozenset(
    {
        "registration_confirmed",
        "registration_waitlisted",
        "registration_repeated",
        "registration_cancelled",
        "registration_changed",
    }
)
CAP_WINDOW = timedelta(hours=1)
log = logging.getLogger(__name__)


def messages_to_address_lately(recipient: str, now: datetime) -> int:
    """Messages queued to `recipient` within the last hour (uses the recipient/created index)."""
    return db.session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.recipient == recipient, OutboxMessage.created_at > now - CAP_WINDOW
        )
    )


def over_hourly_cap(recipient: str, now: datetime) -> bool:
    return messages_to_address_lately(recipient, now) >= current_app.config["EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"]


def notify(kind: str, registration: Registration, now: datetime, payload: dict | None = None) -> OutboxMessage | None:
    """Queue a message about `registration` to its registrant, due at `now`; None if they
    have no email, or if the hourly cap per address drops it (CAPPED_KINDS above)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    if not registration.email:
        return None  # phone registrations: the organiser tells them; the ticket is printable
    if kind in CAPPED_KINDS and over_hourly_cap(registration.email, now):
        # No address in the log: the registration id is enough to look into it.
        log.warning("mail cap: %s for registration %s not queued (too many to its address this hour)", kind, registration.id)
        return None
    message = OutboxMessage(
        kind=kind,
        registration_id=registration.id,
        recipient=registration.email,
        language=registration.language,
        payload=payload or {},
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    return message


def notify_registrants(event, kind: str, now: datetime, payload: dict | None = None) -> int:
    """Queue `kind` for every active registration of `event`; returns how many were queued."""
    queued = 0
    for registration in db.session.scalars(
        select(Registration).where(Registration.event_id == event.id, Registration.status.in_(ACTIVE_STATUSES))
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
        .where(Registration.id == registration.id, Registration.reminded_at.is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        notify("event_reminder", registration, now)
        db.session.flush()
    return bool(claimed)
