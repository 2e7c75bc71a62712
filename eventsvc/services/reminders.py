"""Reminders before an event: when each goes, to whom, and once only.

Each event chooses its reminders (the event form's tick boxes; the day before by default):

- the day before: from DAY_BEFORE_AT (10:00) Riga time on the day before the event, until that
  day ends, so that it always says "tomorrow at 13:00";
- two hours before: from two hours before the start until the event starts ("today at 13:00",
  or "tomorrow at 00:30" for an event just after midnight).

A reminder goes to every confirmed registration with an email address, in its registrant's
language, that was confirmed before the reminder was due (someone who registered an hour ago
has their ticket in front of them). `flask mail reminders` queues what is due (a timer every
15 minutes, say); each reminder is claimed on its registration with a conditional update of
its own column first, so a second run, or a second timer host at the same moment, queues it
once. A change of the event's time re-arms (`rearm`) the reminders whose new moment is still
ahead: they go again, for the new time; one whose new moment has passed already stays as it
was (the change notice has told the people).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, contains_eager

from ..extensions import db, rows_matched
from ..models import Event, EventStatus, Registration, RegistrationStatus
from ..timezones import RIGA, riga_day_bounds, to_riga
from .notifications import notify

DAY_BEFORE_AT = time(10, 0)  # Riga time, on the day before the event
TWO_HOURS = timedelta(hours=2)


class Reminder(enum.StrEnum):
    DAY_BEFORE = "day_before"
    TWO_HOURS = "two_hours"


# Whether an event sends each reminder, and where a registration notes it has gone.
CHOSEN: dict[Reminder, InstrumentedAttribute[bool]] = {
    Reminder.DAY_BEFORE: Event.remind_day_before,
    Reminder.TWO_HOURS: Event.remind_two_hours,
}
SENT: dict[Reminder, InstrumentedAttribute[datetime | None]] = {
    Reminder.DAY_BEFORE: Registration.reminded_at,
    Reminder.TWO_HOURS: Registration.reminded_two_hours_at,
}


def due_at(reminder: Reminder, starts_at: datetime) -> datetime:
    """The moment `reminder` of an event starting at `starts_at` is due (UTC)."""
    if reminder is Reminder.DAY_BEFORE:
        day_before = to_riga(starts_at).date() - timedelta(days=1)
        return datetime.combine(day_before, DAY_BEFORE_AT, tzinfo=RIGA).astimezone(starts_at.tzinfo)
    return starts_at - TWO_HOURS


def _starting_within(reminder: Reminder, now: datetime) -> tuple[datetime, datetime] | None:
    """[from, until) of the start of events whose `reminder` may go at `now`, or None."""
    if reminder is Reminder.DAY_BEFORE:
        local = to_riga(now)
        if local.time() < DAY_BEFORE_AT:
            return None
        return riga_day_bounds(local.date() + timedelta(days=1))
    return now + timedelta(microseconds=1), now + TWO_HOURS + timedelta(microseconds=1)


@dataclass(frozen=True)
class Due:
    reminder: Reminder
    registration: Registration


def reminders_due(now: datetime) -> list[Due]:
    """Every reminder that may go at `now` and has not gone: confirmed registrations (with an
    address) of published events that chose it, confirmed before it was due."""
    due: list[Due] = []
    for reminder in Reminder:
        window = _starting_within(reminder, now)
        if window is None:
            continue
        rows = db.session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                CHOSEN[reminder].is_(True),
                Event.starts_at >= window[0],
                Event.starts_at < window[1],
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.email.is_not(None),
                SENT[reminder].is_(None),
            )
            .options(contains_eager(Registration.event))
            .order_by(Registration.id)
        )
        for registration in rows:
            moment = due_at(reminder, registration.event.starts_at)
            if moment <= now and (
                registration.confirmed_at is None or registration.confirmed_at < moment
            ):
                due.append(Due(reminder, registration))
    return due


def queue_reminder(
    registration: Registration, now: datetime, reminder: Reminder = Reminder.DAY_BEFORE
) -> bool:
    """Claim `reminder` of `registration` with a conditional update first, so that a second
    run (or a second timer host at the same moment) finds nothing left to send; then queue
    it in the registrant's language. True if this run queued it."""
    sent = SENT[reminder]
    claimed = rows_matched(
        update(Registration)
        .where(
            Registration.id == registration.id,
            sent.is_(None),
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.anonymised_at.is_(None),  # erased since it was listed: nothing to send
        )
        .values({sent.key: now})
        .execution_options(synchronize_session=False)
    )
    if claimed:
        db.session.refresh(registration)  # its address as it is now, not as it was listed
        notify("event_reminder", registration, now, {"reminder": reminder.value})
        db.session.flush()
    return bool(claimed)


def rearm(event: Event, now: datetime) -> list[Reminder]:
    """After the event's time changed: each reminder whose moment (for the new time) is still
    ahead may go again, for every registration; those whose moment has passed stay as they
    are. Returns the reminders re-armed."""
    ahead = [r for r in Reminder if due_at(r, event.starts_at) > now]
    if ahead:
        db.session.execute(
            update(Registration)
            .where(
                Registration.event_id == event.id,
                or_(*(SENT[r].is_not(None) for r in ahead)),
            )
            .values({SENT[r].key: None for r in ahead})
            .execution_options(synchronize_session="fetch")
        )
    return ahead


def relative_day(starts_at: datetime, now: datetime) -> str:
    """'today', 'tomorrow' or 'later': the event's day (Riga) seen from `now` (Riga)."""
    days = (to_riga(starts_at).date() - to_riga(now).date()).days
    return {0: "today", 1: "tomorrow"}.get(days, "later")
