"""Per-event running totals, kept in step with registrations: the places taken and the
waiting list (registration rules), and the Ministry's dashboard.

Every flush that adds, changes or removes a registration adds the difference of that
registration's contribution here (UPDATE … SET n = n + delta: atomic, no lost updates); the
two hot paths that write a registration by a statement of their own, a new registration and
a scan (services/registration.py, services/checkin.py), call `add_to_counters` themselves, so
counting an event's places reads one row instead of every registration of the event, and
national totals sum 10,000 event rows instead of scanning a million registrations. Nothing
personal is stored: only counts. `eventsvc.services.stats.rebuild_event_stats` recomputes
the table from the registrations (after bulk SQL, or to check it)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    ForeignKey,
    Table,
    bindparam,
    event,
    insert,
    text,
    update,
)
from sqlalchemy.orm import (
    Mapped,
    Session,
    UOWTransaction,
    attributes,
    mapped_column,
    scoped_session,
)

from ..needs import BITS, NEEDS, counter
from .base import Base
from .registrations import Attendance, Registration, RegistrationSource, RegistrationStatus

# Of the registrations counted in `registrations` (confirmed, made before the door), those
# that ticked each need of eventsvc/needs.py: needs_wheelchair, needs_hearing_loop, … A
# party counts once, whatever its size (the organiser plans one ramp, one interpreter).
NEED_COUNTERS = tuple(counter(need) for need in NEEDS)

COUNTERS = (
    "registrations",  # confirmed, made before the door
    "people_registered",
    "people_in_person",
    "people_online",
    "people_checked_in",  # everyone let in, walk-ins included
    "checked_in_registered",  # let in, from registrations made before the door
    "checked_in_in_person",  # let in, from in-person registrations (for no-shows)
    "walk_ins",
    "people_waitlisted",
    # What holds a place and who waits (services/registration.py), every source, walk-ins
    # included; attendance kept apart because whether online people take a place depends on
    # the event's format, which can change.
    "confirmed_in_person_people",
    "confirmed_online_people",
    "waiting_parties",
    # Calls social workers made after the event to people who agreed and did not come
    # (services/follow_up.py): kept on the registration when its personal data is erased.
    "follow_up_calls",
    *NEED_COUNTERS,
)


class EventStats(Base):
    __tablename__ = "event_stats"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    registrations: Mapped[int] = mapped_column(default=0)
    people_registered: Mapped[int] = mapped_column(default=0)
    people_in_person: Mapped[int] = mapped_column(default=0)
    people_online: Mapped[int] = mapped_column(default=0)
    people_checked_in: Mapped[int] = mapped_column(default=0)
    checked_in_registered: Mapped[int] = mapped_column(default=0)
    checked_in_in_person: Mapped[int] = mapped_column(default=0)
    walk_ins: Mapped[int] = mapped_column(default=0)
    people_waitlisted: Mapped[int] = mapped_column(default=0)
    confirmed_in_person_people: Mapped[int] = mapped_column(default=0, server_default="0")
    confirmed_online_people: Mapped[int] = mapped_column(default=0, server_default="0")
    waiting_parties: Mapped[int] = mapped_column(default=0, server_default="0")
    follow_up_calls: Mapped[int] = mapped_column(default=0, server_default="0")
    needs_wheelchair: Mapped[int] = mapped_column(default=0, server_default="0")
    needs_hearing_loop: Mapped[int] = mapped_column(default=0, server_default="0")
    needs_sign_language: Mapped[int] = mapped_column(default=0, server_default="0")
    needs_easy_read: Mapped[int] = mapped_column(default=0, server_default="0")
    needs_assistant: Mapped[int] = mapped_column(default=0, server_default="0")
    needs_transport: Mapped[int] = mapped_column(default=0, server_default="0")
    needs_childcare: Mapped[int] = mapped_column(default=0, server_default="0")


# The per-event counters from scratch, out of the registrations (kept in step incrementally
# by the hook below; this is for bulk-loaded data, for checking, and for a row that is
# missing). The columns are in the order of COUNTERS.
_COUNT_NEEDS = "".join(
    ",\n       sum(CASE WHEN status = 'confirmed' AND source <> 'walk_in'"
    f" AND (needs_mask & {BITS[need]}) <> 0 THEN 1 ELSE 0 END)"
    for need in NEEDS
)
COUNT_EVENT_STATS = f"""
SELECT event_id,
       sum(CASE WHEN status = 'confirmed' AND source <> 'walk_in' THEN 1 ELSE 0 END),
       sum(CASE WHEN status = 'confirmed' AND source <> 'walk_in' THEN party_size ELSE 0 END),
       sum(CASE WHEN status = 'confirmed' AND source <> 'walk_in' AND attendance = 'in_person' THEN party_size ELSE 0 END),
       sum(CASE WHEN status = 'confirmed' AND source <> 'walk_in' AND attendance = 'online' THEN party_size ELSE 0 END),
       sum(checked_in_people),
       sum(CASE WHEN status = 'confirmed' AND source <> 'walk_in' THEN checked_in_people ELSE 0 END),
       sum(CASE WHEN status = 'confirmed' AND source <> 'walk_in' AND attendance = 'in_person' THEN checked_in_people ELSE 0 END),
       sum(CASE WHEN source = 'walk_in' THEN checked_in_people ELSE 0 END),
       sum(CASE WHEN status = 'waitlisted' THEN party_size ELSE 0 END),
       sum(CASE WHEN status = 'confirmed' AND attendance = 'in_person' THEN party_size ELSE 0 END),
       sum(CASE WHEN status = 'confirmed' AND attendance = 'online' THEN party_size ELSE 0 END),
       sum(CASE WHEN status = 'waitlisted' THEN 1 ELSE 0 END),
       sum(follow_up_calls){_COUNT_NEEDS}
FROM registrations GROUP BY event_id
"""


def counted(session: Session | scoped_session[Any] | Connection, event_id: int) -> dict[str, int]:
    """`event_id`'s counters as a count of its registrations (flushed ones) gives them."""
    row = session.execute(_COUNT_ONE_EVENT, {"event_id": event_id}).one_or_none()
    return (
        dict(zip(COUNTERS, map(int, row[1:]), strict=True))
        if row is not None
        else dict.fromkeys(COUNTERS, 0)
    )


def contribution(
    status: RegistrationStatus | None,
    source: RegistrationSource | None,
    attendance: Attendance | None,
    party_size: int | None,
    checked_in: int | None,
    follow_up_calls: int | None = 0,
    needs_mask: int | None = 0,
) -> dict[str, int]:
    """What one registration adds to its event's counters."""
    # Column defaults are not applied yet to a registration that is about to be inserted.
    party_size, checked_in = (1 if party_size is None else party_size), checked_in or 0
    source = source or RegistrationSource.WEB
    attendance = attendance or Attendance.IN_PERSON
    confirmed = status == RegistrationStatus.CONFIRMED
    waiting = status == RegistrationStatus.WAITLISTED
    registered = confirmed and source != RegistrationSource.WALK_IN
    in_person = registered and attendance == Attendance.IN_PERSON
    return {
        "registrations": int(registered),
        "people_registered": party_size if registered else 0,
        "people_in_person": party_size if in_person else 0,
        "people_online": party_size if registered and attendance == Attendance.ONLINE else 0,
        "people_checked_in": checked_in,
        "checked_in_registered": checked_in if registered else 0,
        "checked_in_in_person": checked_in if in_person else 0,
        "walk_ins": checked_in if source == RegistrationSource.WALK_IN else 0,
        "people_waitlisted": party_size if waiting else 0,
        "confirmed_in_person_people": party_size
        if confirmed and attendance == Attendance.IN_PERSON
        else 0,
        "confirmed_online_people": party_size
        if confirmed and attendance == Attendance.ONLINE
        else 0,
        "waiting_parties": int(waiting),
        "follow_up_calls": follow_up_calls or 0,
        **{
            counter(need): int(registered and bool((needs_mask or 0) & BITS[need]))
            for need in NEEDS
        },
    }


FIELDS = (
    "status",
    "source",
    "attendance",
    "party_size",
    "checked_in_people",
    "follow_up_calls",
    "needs_mask",
)


def contribution_of(registration: Registration) -> dict[str, int]:
    """What `registration`, as it is now, adds to its event's counters."""
    return _as_contribution(_values(registration, old=False))


def difference(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What moves the counters from `before` to `after` (two contributions)."""
    return {key: after[key] - before[key] for key in after}


def _values(registration: Registration, old: bool) -> dict[str, Any]:
    values = {}
    for name in FIELDS:
        history = attributes.get_history(registration, name)
        if old and history.has_changes():
            values[name] = history.deleted[0] if history.deleted else None
        else:
            values[name] = getattr(registration, name)
    return values


def _as_contribution(values: dict[str, Any]) -> dict[str, int]:
    return contribution(
        values["status"],
        values["source"],
        values["attendance"],
        values["party_size"],
        values["checked_in_people"],
        values["follow_up_calls"],
        values["needs_mask"],
    )


@event.listens_for(Session, "before_flush")
def _track_registrations(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    deltas: dict[int | None, dict[str, int]] = {}

    def add(event_id: int | None, change: dict[str, int], sign: int) -> None:
        bucket = deltas.setdefault(event_id, dict.fromkeys(COUNTERS, 0))
        for key, value in change.items():
            bucket[key] += sign * value

    for registration in session.new:
        if isinstance(registration, Registration):
            event_id: int | None = (
                registration.event_id
                if registration.event_id is not None
                else getattr(registration.event, "id", None)
            )
            add(event_id, contribution_of(registration), 1)
    for registration in session.dirty:
        if isinstance(registration, Registration) and session.is_modified(registration):
            add(registration.event_id, _as_contribution(_values(registration, old=True)), -1)
            add(registration.event_id, contribution_of(registration), 1)
    for registration in session.deleted:
        if isinstance(registration, Registration):
            add(registration.event_id, _as_contribution(_values(registration, old=True)), -1)
    for event_id, change in deltas.items():
        if event_id is not None:
            add_to_counters(session, event_id, change)


def add_to_counters(
    session: Session | scoped_session[Any] | Connection,
    event_id: int,
    change: dict[str, int],
    *,
    stored: bool = False,
) -> None:
    """Move `event_id`'s counters by `change`: the hook above, and a service that writes a
    registration with a statement of its own (services/registration.py) calls it itself.
    `stored`: the registrations that make the change are in the database already (so a
    missing row, counted from them, includes it)."""
    if not any(change.values()):
        return
    params = {
        "stats_event_id": event_id,
        **{f"delta_{key}": value for key, value in change.items()},
    }
    updated = cast("CursorResult[Any]", session.execute(_ADD_TO_COUNTERS, params)).rowcount
    if not updated:
        # The event's first registration, or registrations loaded by SQL without their
        # counters: start from what is there (before a flush, without its changes).
        start = counted(session, event_id)
        session.execute(
            insert(_STATS).values(
                event_id=event_id,
                **{key: start[key] + (0 if stored else value) for key, value in change.items()},
            )
        )


_STATS = cast(Table, EventStats.__table__)

# Built once at start-up rather than on every flush: each counter moves by its delta (most
# deltas are 0, and n + 0 leaves n as it is), so one statement serves every change.
_ADD_TO_COUNTERS = (
    update(_STATS)
    .where(_STATS.c.event_id == bindparam("stats_event_id"))
    .values({key: _STATS.c[key] + bindparam(f"delta_{key}") for key in COUNTERS})
)

_COUNT_ONE_EVENT = text(
    COUNT_EVENT_STATS.replace("GROUP BY", "WHERE event_id = :event_id GROUP BY")
)
