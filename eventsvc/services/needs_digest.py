"""Needs known in advance: an event's accessibility needs, counted for its organisers, and the
digest they get by mail the day before.

What is counted (services/measures.py "needs", the same counters the totals sum): confirmed
registrations made before the door that ticked each need of eventsvc/needs.py. A party counts
once, whatever its size: the organiser prepares one ramp, one interpreter, one seat for an
assistant per party that asked ("3 wheelchair access" is three parties). People on the waiting
list are not counted until they get a place. Beside them, how many of those registrations
wrote other needs in words (the organisers read them in the event's registrations).

The digest: `flask mail needs-digest` (daily, like the reminders) takes the published events
that start tomorrow (Riga time), claims each one once (events.needs_digest_at, set by a
conditional update, so a second run or a second host queues nothing), and queues one message
through the outbox to each organiser of the event's organisation — an active account with the
organiser role — in their language (users.language; Latvian while they have none). The numbers
are read when the message is written, so they are the day's. An event nobody asked anything
for is marked and gets no mail. The event's page shows the same numbers at any time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from ..extensions import db, rows_matched
from ..models import (
    Event,
    EventStats,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    Role,
    User,
    memberships,
)
from ..models.event_stats import counted
from ..needs import NEEDS, Need, counter, label
from ..timezones import riga_day_bounds, to_riga
from .notifications import notify_staff

KIND = "needs_digest"  # the outbox kind (services/notifications.py STAFF_KINDS)


@dataclass(frozen=True)
class EventNeeds:
    """One event's needs, as its organisers plan for them."""

    counts: dict[Need, int]  # registrations (parties) that ticked each need
    written: int  # of those counted, registrations that wrote other needs in words

    @property
    def asked(self) -> list[tuple[Need, str, int]]:
        """(need, its words, registrations) for each need someone ticked, in the list's order."""
        return [(need, label(need), n) for need, n in self.counts.items() if n]

    @property
    def anything(self) -> bool:
        return bool(self.written or any(self.counts.values()))


def event_needs(event_id: int) -> EventNeeds:
    """The event's needs: its counters (one row) and one count of needs written in words."""
    stats = db.session.get(EventStats, event_id)
    values = (
        {counter(need): getattr(stats, counter(need)) for need in NEEDS}
        if stats is not None
        else counted(db.session, event_id)  # no counters yet: counted from the rows
    )
    written = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.source != RegistrationSource.WALK_IN,
            Registration.needs != "",
        )
    )
    return EventNeeds({need: int(values[counter(need)] or 0) for need in NEEDS}, int(written or 0))


def organisers_of(event: Event) -> list[User]:
    """Who gets the digest: active accounts with the organiser role in the event's
    organisation (every account has an email address)."""
    return list(
        db.session.scalars(
            select(User)
            .join(memberships, memberships.c.user_id == User.id)
            .where(
                memberships.c.organisation_id == event.organisation_id,
                User.role == Role.ORGANISER,
                User.is_active_account.is_(True),
            )
            .order_by(User.id)
        )
    )


def receives_digest(user: User | None, event: Event) -> bool:
    """Whether `user` still gets `event`'s digest (checked again when it is written)."""
    return user is not None and user in organisers_of(event)


def digests_due(now: datetime) -> list[Event]:
    """Published events that start tomorrow (Riga time) and have had no digest yet."""
    tomorrow = to_riga(now).date() + timedelta(days=1)
    start, end = riga_day_bounds(tomorrow)
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at >= start,
                Event.starts_at < end,
                Event.needs_digest_at.is_(None),
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def queue_digest(event: Event, now: datetime) -> int:
    """Claim the event's digest (a conditional update: a second run, or a second host at the
    same moment, finds it taken) and queue one message per organiser if anyone asked for
    anything. Returns how many messages were queued."""
    claimed = rows_matched(
        update(Event)
        .where(Event.id == event.id, Event.needs_digest_at.is_(None))
        .values(needs_digest_at=now, updated_at=Event.updated_at)  # not an edit of the event
        .execution_options(synchronize_session=False)
    )
    if not claimed:
        return 0
    db.session.refresh(event)
    if not event_needs(event.id).anything:
        return 0
    queued = 0
    for user in organisers_of(event):
        notify_staff(KIND, user, now, {"event_id": event.id, "user_id": user.id})
        queued += 1
    db.session.flush()
    return queued
