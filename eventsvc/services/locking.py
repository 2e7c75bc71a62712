"""Every row lock and queue claim of the service, and the one order they are taken in.

A transaction that needs several locks takes them in this order, never back up it, so two
transactions can wait for each other but never in a circle (no deadlock):

1. The event row. FOR UPDATE by whatever changes who holds a place: registering, a walk-in,
   cancelling, changing a party's size, moving the waiting list up, erasing, mending the
   counters (`lock_event`). FOR KEY SHARE by a check-in and its undo (`share_event`): they
   change no places, so scans do not wait for each other, but they wait for a change of
   places in progress (a scan reads the event with it: `shared_event`). Without it the
   check-in's insert would take the same lock last,
   through its foreign key, after the registration: a scan and a cancellation of one ticket
   deadlocked that way (commit f25a746).
   Then the event's activity rows, FOR UPDATE in id order (`lock_activities`), by whatever
   changes who holds a place in an activity: an organiser's change of an activity's places
   waits for the registration that counts them, and the other way round.
2. Registration rows, FOR UPDATE and re-read: the one being changed (`lock_registration`,
   `lock_registration_at_door`), or the waiting list in the order of its ids
   (`lock_waiting_list`).
3. A registration's messages still waiting in the outbox, FOR UPDATE (`lock_pending_messages`):
   undoing a cancellation withdraws the cancellation notice that has not gone out. The mail
   worker's claim skips them (SKIP LOCKED) while they are held, and a message a worker has
   claimed is no longer pending, so the two never wait for each other.
4. The event's counters row (event_stats). Not locked here: the flush's
   UPDATE … SET n = n + delta takes it (models/event_stats.py), always after 1 to 3.

Queue claims stand apart and never wait: the mail worker claims one due outbox message in a
transaction that takes nothing else, and the retention purge claims its batch of
registrations, both FOR UPDATE SKIP LOCKED (`claim`), so a row someone holds is left for the
next pass. "Lock what you make less available, lock late, never lock to free" (pretix).

SQLite has no row locks: every function here first takes the database's write lock
(`sqlite_write_lock`, BEGIN IMMEDIATE), which lets one writer at a time in, so the order
above holds trivially. On PostgreSQL a wait for any lock ends after EVENTSVC_LOCK_TIMEOUT_MS
(`lock_timeout`, set on each connection, eventsvc/__init__.py; SQLite's busy timeout is the
same setting), and the request answers 503 "try again" instead of hanging behind a stuck
transaction.
"""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import contains_eager, defer

from ..extensions import db
from ..models import (
    Activity,
    ActivityWait,
    Event,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
)
from . import NotFound

# A select of any columns: a queue claim keeps the query's own type.
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")

# The door's query: a registration with its activity titles (joined by \x1f, or None).
DoorQuery: TypeAlias = "Select[Registration, str | None]"


def sqlite_write_lock() -> bool:
    """On SQLite, hold the database's write lock until the transaction ends and return True;
    on PostgreSQL do nothing and return False, so that the caller locks its rows instead.
    pysqlite starts a transaction only at the first write, after the reads that decide it:
    a service that reads and then writes takes the write lock first (BEGIN IMMEDIATE, unless
    a transaction is already open)."""
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return False
    sqlite_connection = connection.connection.dbapi_connection
    assert sqlite_connection is not None  # a checked-out connection holds its DBAPI connection
    if not sqlite_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    return True


# --- 1. the event ------------------------------------------------------------------------

# The long texts of an event (its descriptions in three languages, the accessibility notes,
# the feedback questions) stay out of the locking reads: no rule decided under the lock reads
# them, and they would be most of the bytes of every registration's and every scan's read.
# Read only when something asks for them (a page that already loaded them keeps them).
_LONG_TEXTS = tuple(
    defer(column)
    for column in (
        Event.summary,
        Event.description,
        Event.summary_ru,
        Event.summary_en,
        Event.description_ru,
        Event.description_en,
        Event.accessibility,
        Event.accessibility_ru,
        Event.accessibility_en,
        Event.feedback_questions,
    )
)
_LOCK_EVENT = (
    select(Event)
    .options(*_LONG_TEXTS)
    .where(Event.id == bindparam("event_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
_SHARE_EVENT = (
    select(Event.id)
    .where(Event.id == bindparam("event_id"))
    .with_for_update(read=True, key_share=True)
)
_SHARED_EVENT = (
    select(Event)
    .options(*_LONG_TEXTS)
    .where(Event.id == bindparam("event_id"))
    .with_for_update(read=True, key_share=True)
    .execution_options(populate_existing=True)
)
# The events this session's transaction holds FOR KEY SHARE: (the transaction, their ids).
_SHARED = "eventsvc.shared_events"


def lock_event(event_id: int) -> Event:
    """The event row, locked until the transaction ends and re-read, so that counting places
    and taking them cannot interleave with another change of the event's places. Activities
    are not locked: their places are counted under this lock, and every change takes it."""
    if sqlite_write_lock():
        event = db.session.get(Event, event_id, populate_existing=True)
    else:
        event = db.session.scalar(_LOCK_EVENT, {"event_id": event_id})
    if event is None:
        raise NotFound()
    return event


def lock_activities(event_id: int) -> dict[int, Activity]:
    """The event's activity rows, locked and re-read, in id order; after the event's lock and
    before any registration's. Their places are counted under the event's lock."""
    query = (
        select(Activity)
        .where(Activity.event_id == event_id)
        .order_by(Activity.id)
        .execution_options(populate_existing=True)
    )
    if not sqlite_write_lock():
        query = query.with_for_update()
    return {activity.id: activity for activity in db.session.scalars(query)}


def share_event(event_id: int) -> None:
    """The event row FOR KEY SHARE: what the door holds while it lets people in. Scans share
    it; a change of places (FOR UPDATE) waits for them and they for it. Nothing to do when
    the transaction holds it already (`shared_event`)."""
    if not sqlite_write_lock() and not _holds_shared(event_id):
        db.session.execute(_SHARE_EVENT, {"event_id": event_id})
        _note_shared(event_id)


def shared_event(event_id: int) -> Event | None:
    """The event, read and held FOR KEY SHARE in one statement: for a scan, whose request
    reads the event first and shares it anyway (`share_event` then has nothing to do). None
    if there is no such event. Never before a FOR UPDATE of the same event in one transaction
    (a walk-in): two such transactions would each wait for the other's share."""
    if sqlite_write_lock():
        return db.session.get(Event, event_id)
    event = db.session.scalar(_SHARED_EVENT, {"event_id": event_id})
    if event is not None:
        _note_shared(event_id)
    return event


def _holds_shared(event_id: int) -> bool:
    held = db.session.info.get(_SHARED)
    return held is not None and held[0] is db.session().get_transaction() and event_id in held[1]


def _note_shared(event_id: int) -> None:
    transaction = db.session().get_transaction()
    held = db.session.info.get(_SHARED)
    if held is None or held[0] is not transaction:
        held = db.session.info[_SHARED] = (transaction, set[int]())
    held[1].add(event_id)


# --- 2. registrations --------------------------------------------------------------------


def _for_update(query: Select[Registration]) -> Select[Registration]:
    query = query.execution_options(populate_existing=True)
    if db.session.connection().dialect.name == "sqlite":
        return query  # the write lock, taken with the event, covers it
    return query.with_for_update(of=Registration)


def lock_registration(registration: Registration) -> Registration | None:
    """The event (FOR UPDATE), its activities, then this registration, locked and re-read:
    two changes of one registration (or a change and a promotion) cannot interleave, and the
    caller sees the row as it is now. None if it is gone."""
    lock_event(registration.event_id)
    lock_activities(registration.event_id)
    return db.session.scalar(
        _for_update(select(Registration).where(Registration.id == registration.id))
    )


def lock_registration_at_door(query: Select[Registration], event_id: int) -> Registration | None:
    """For the door: `event_id` shared, then the one registration `query` selects (by
    ticket or by id), found and locked in one step and re-read. A ticket of another event
    is locked too, and let go when the transaction ends."""
    share_event(event_id)
    return db.session.scalar(_for_update(query))


def lock_registrations(query: Select[Registration]) -> list[Registration]:
    """The registrations `query` selects (of one event, in a stable order), locked and
    re-read. The caller holds the event's lock."""
    return list(db.session.scalars(_for_update(query)))


def door_queries(query: DoorQuery) -> tuple[DoorQuery, DoorQuery]:
    """`query` (one registration, with whatever columns the door shows) as the door runs it:
    re-read as it is (SQLite, under the database's write lock) and locking the registration's
    row (PostgreSQL). Built once, at import: for `lock_door_registration`."""
    query = query.execution_options(populate_existing=True)
    return query, query.with_for_update(of=Registration)


def lock_door_registration(
    queries: tuple[DoorQuery, DoorQuery], params: dict[str, Any], event_id: int
) -> tuple[Registration | None, list[str]]:
    """For the door: `event_id` shared, then the one registration the `door_queries` select,
    found and locked in one step and re-read, with its activity titles (joined by \x1f). A
    ticket of another event is locked too, and let go when the transaction ends."""
    if sqlite_write_lock():
        row = db.session.execute(queries[0], params).first()
    else:
        share_event(event_id)
        row = db.session.execute(queries[1], params).first()
    if row is None:
        return None, []
    registration, titles = row
    return registration, sorted(titles.split("\x1f")) if titles else []


def lock_waiting_list(event_id: int) -> list[Registration]:
    """The event's waiting registrations, oldest first, locked and re-read: a party is not
    confirmed with a size or a state it no longer has. The caller holds the event's lock."""
    query = (
        select(Registration)
        .where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.WAITLISTED
        )
        .order_by(Registration.id)
    )
    return list(db.session.scalars(_for_update(query)))


def lock_activity_waits(event_id: int) -> list[ActivityWait]:
    """The turns of the event's confirmed parties on its activities' waiting lists, with
    their registrations, oldest first, locked and re-read. The caller holds the event's
    lock and its activities'."""
    query = (
        select(ActivityWait)
        .join(Registration, Registration.id == ActivityWait.registration_id)
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(ActivityWait.id)
        .options(contains_eager(ActivityWait.registration))
        .execution_options(populate_existing=True)
    )
    if db.session.connection().dialect.name != "sqlite":
        query = query.with_for_update(of=(ActivityWait, Registration))
    return list(db.session.scalars(query))


# --- 3. the outbox's waiting messages of a registration -----------------------------------


def lock_pending_messages(registration_id: int, kind: str) -> list[OutboxMessage]:
    """The registration's messages of `kind` that no worker has claimed yet, oldest first,
    locked and re-read. The caller holds the registration's lock. A worker's claim skips them
    until this transaction ends; one a worker claimed first is not returned (on PostgreSQL
    the status is checked again once its claim commits)."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.registration_id == registration_id,
            OutboxMessage.kind == kind,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    if not sqlite_write_lock():
        query = query.with_for_update()
    return list(db.session.scalars(query))


# --- queue claims ------------------------------------------------------------------------


def claim(query: _Query, of: type[Any] | None = None) -> _Query:
    """`query` as a queue claim: the rows it selects that no other transaction holds, locked
    until the transaction ends (FOR UPDATE SKIP LOCKED; `of` names the table whose rows are
    claimed when the query joins others). On SQLite the write lock, taken here."""
    if sqlite_write_lock():
        return query
    return query.with_for_update(skip_locked=True, of=of)
