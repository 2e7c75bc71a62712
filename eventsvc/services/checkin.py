"""Check-in at the door: tickets scanned or typed (the QR code, or the short booking code),
people found by name, phone or booking code, walk-ins, undo.

A party's people are let in at most once: the check-ins of a registration never add up to
more than its party size. Each check-in finds its registration and locks the row in one step
(FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite; services/locking.py), so two devices scanning the same ticket
at the same moment produce one check-in and one "already checked in". A client nonce makes a
retried request (or an offline queue synced twice) return its first answer; it is looked up
under the lock, where a twin request that finished first is seen.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, cast

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Table, bindparam, case, exists, func, insert, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import as_loaded, db
from ..folding import search_text
from ..models import (
    Activity,
    Attendance,
    CheckIn,
    CheckInMethod,
    Event,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    User,
    normalise_booking_code,
    registration_activities,
)
from ..models.event_stats import add_to_counters, contribution_of, difference
from ..needs import needs_text
from . import NotFound, ValidationFailed, access, audit, name_search
from .input_rules import text_problem
from .locking import door_queries, lock_door_registration, lock_event, lock_registration_at_door
from .registration import RegistrationRequest, availability, register

TICKET_CODE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
NONCE = re.compile(r"[A-Za-z0-9_.:-]{8,64}")  # whole value (fullmatch: no "\n" after it)


class Result(enum.StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY = "already_checked_in"
    MALFORMED = "malformed"  # not a ticket code at all
    UNKNOWN = "unknown_ticket"  # shaped like one, but no such ticket (forged, mistyped)
    OTHER_EVENT = "other_event"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"
    TOO_MANY = "too_many_people"
    NOT_FOUND = "not_found"  # a registration id that is not this event's


@dataclass
class CheckInOutcome:
    """What the door is told after a scan, a check-in from the list or a walk-in."""

    result: Result
    registration: Registration | None = None
    checkin: CheckIn | None = None
    previous: CheckIn | None = None  # for "already": the check-in that let them in
    checked_in_people: int = 0
    other_event: Event | None = None
    activities: list[str] | None = None  # titles; None: ask the registration
    booking_code: str | None = None  # the code typed, when it was a booking code

    @property
    def activity_titles(self) -> list[str]:
        if self.activities is not None:
            return self.activities
        return [a.title for a in self.registration.activities] if self.registration else []

    @property
    def ok(self) -> bool:
        return self.result is Result.CHECKED_IN

    def message(self) -> str:
        # Read only for the results about a party, which always have its registration.
        r = cast(Registration, self.registration)
        if self.result is Result.CHECKED_IN:
            return _(
                "Checked in: %(name)s, %(n)d of %(total)d people.",
                name=r.name,
                n=self.checked_in_people,
                total=r.party_size,
            )
        if self.result is Result.ALREADY:
            from ..i18n import local_time

            who = (
                self.previous.created_by.name if self.previous and self.previous.created_by else "?"
            )
            return _(
                "Already checked in at %(time)s by %(who)s: %(name)s.",
                time=local_time(self.previous.scanned_at) if self.previous else "?",
                who=who,
                name=r.name,
            )
        return {
            Result.MALFORMED: lambda: _("This is not a ticket code."),
            Result.UNKNOWN: lambda: (
                _("No booking with the code %(code)s at this event.", code=self.booking_code)
                if self.booking_code
                else _("Not valid: no such ticket.")
            ),
            Result.OTHER_EVENT: lambda: _(
                "This ticket is for another event: %(title)s.",
                title=self.other_event.title if self.other_event else "?",
            ),
            Result.CANCELLED: lambda: _("This registration was cancelled: %(name)s.", name=r.name),
            Result.WAITLISTED: lambda: _(
                "On the waiting list, not confirmed: %(name)s.", name=r.name
            ),
            Result.TOO_MANY: lambda: _(
                "Only %(n)d of this party's people are still to come.",
                n=r.party_size - self.checked_in_people,
            ),
            Result.NOT_FOUND: lambda: _("No such registration for this event."),
        }[self.result]()


def ticket_hash(code: str) -> str:
    """What the offline list holds instead of the ticket codes themselves."""
    return hashlib.sha256(code.encode()).hexdigest()


def _active(registration_id: int) -> ColumnElement[bool]:
    return (CheckIn.registration_id == registration_id) & CheckIn.undone_at.is_(None)


def checked_in_people(registration_id: int) -> int:
    return (
        db.session.scalar(
            select(Registration.checked_in_people).where(Registration.id == registration_id)
        )
        or 0
    )


# The titles of a registration's activities, read with the registration itself (the door
# shows them with every result; a second query per scan would cost a round trip).
_ACTIVITY_TITLES = (
    select(func.aggregate_strings(Activity.title, "\x1f"))
    .select_from(registration_activities)
    .join(Activity, Activity.id == registration_activities.c.activity_id)
    .where(registration_activities.c.registration_id == Registration.id)
    .scalar_subquery()
)


def _lock_registration(event_id: int, registration_id: int) -> Registration | None:
    """The event shared, then the registration (services/locking.py: the one lock order)."""
    return lock_registration_at_door(
        select(Registration).where(Registration.id == registration_id), event_id
    )


_EARLIER = select(CheckIn).where(
    CheckIn.event_id == bindparam("event_id"), CheckIn.nonce == bindparam("nonce")
)


def _replay(event: Event, nonce: str | None) -> CheckInOutcome | None:
    """The first answer to a request with this nonce, if there was one. Asked while holding
    the registration's lock, so that a twin request that got there first is seen."""
    if not nonce:
        return None
    earlier = db.session.scalar(_EARLIER, {"event_id": event.id, "nonce": nonce})
    if earlier is None:
        return None
    return CheckInOutcome(
        Result.CHECKED_IN,
        earlier.registration,
        earlier,
        checked_in_people=checked_in_people(earlier.registration_id),
    )


def _validate_nonce(nonce: str | None) -> None:
    if nonce is not None and not (isinstance(nonce, str) and NONCE.fullmatch(nonce)):
        raise ValidationFailed(
            {"nonce": _("The request id must be 8 to 64 letters, digits or - _ . :")}
        )


# Each built once, plain and locking (services/locking.py): a statement made anew per scan
# would cost its cache key every time.
_BY_TICKET = door_queries(
    select(Registration, _ACTIVITY_TITLES).where(Registration.ticket_secret == bindparam("code"))
)
_BY_BOOKING_CODE = door_queries(
    select(Registration, _ACTIVITY_TITLES).where(
        Registration.event_id == bindparam("event_id"),
        Registration.booking_code == bindparam("code"),
    )
)
_BY_ID = door_queries(
    select(Registration, _ACTIVITY_TITLES).where(Registration.id == bindparam("registration_id"))
)


def check_in_ticket(
    event: Event,
    code: str,
    user: User,
    now: datetime,
    *,
    people: int | None = None,
    nonce: str | None = None,
    device: str = "",
    scanned_at: datetime | None = None,
) -> CheckInOutcome:
    """A scanned or typed ticket code: the QR code's, or the ticket's short booking code."""
    _validate_nonce(nonce)
    code = (code or "").strip()
    if TICKET_CODE.match(code):
        # Found and locked in one step (a ticket of another event is let go with the
        # transaction).
        registration, titles = lock_door_registration(_BY_TICKET, {"code": code}, event.id)
        if registration is None:
            return CheckInOutcome(Result.UNKNOWN)
        if registration.event_id != event.id:
            return CheckInOutcome(Result.OTHER_EVENT, other_event=registration.event)
    else:
        booking_code = normalise_booking_code(code)
        if booking_code is None:
            return CheckInOutcome(Result.MALFORMED)
        # Unique within an event only: another event's code is simply not found here.
        registration, titles = lock_door_registration(
            _BY_BOOKING_CODE, {"event_id": event.id, "code": booking_code}, event.id
        )
        if registration is None:
            return CheckInOutcome(Result.UNKNOWN, booking_code=booking_code)
    outcome = _check_in(
        event,
        registration,
        user,
        now,
        people=people,
        nonce=nonce,
        device=device,
        scanned_at=scanned_at,
        method=CheckInMethod.SCAN,
    )
    outcome.activities = titles
    return outcome


def check_in_registration(
    event: Event,
    registration_id: int,
    user: User,
    now: datetime,
    *,
    people: int | None = None,
    nonce: str | None = None,
    device: str = "",
    scanned_at: datetime | None = None,
    method: CheckInMethod = CheckInMethod.SEARCH,
) -> CheckInOutcome:
    """Someone found by name or phone in the list."""
    _validate_nonce(nonce)
    # An id the database cannot hold (an API body can send any number) is simply not found.
    registration, titles = (
        lock_door_registration(_BY_ID, {"registration_id": registration_id}, event.id)
        if 0 < registration_id < 2**31
        else (None, [])
    )
    if registration is None or registration.event_id != event.id:
        return CheckInOutcome(Result.NOT_FOUND)
    outcome = _check_in(
        event,
        registration,
        user,
        now,
        people=people,
        nonce=nonce,
        device=device,
        scanned_at=scanned_at,
        method=method,
    )
    outcome.activities = titles
    return outcome


def _validate_people(people: object) -> None:
    if people is not None and (
        not isinstance(people, int) or isinstance(people, bool) or people < 1
    ):
        raise ValidationFailed({"people": _("Check in at least 1 person.")})


def _check_in(
    event: Event,
    registration: Registration,
    user: User,
    now: datetime,
    *,
    people: int | None,
    nonce: str | None,
    device: str,
    scanned_at: datetime | None,
    method: CheckInMethod,
) -> CheckInOutcome:
    """Let the party of `registration` (locked by the caller) in."""
    _validate_people(people)
    problem = text_problem(device)
    if problem is not None:
        raise ValidationFailed({"device": problem})
    done = registration.checked_in_people
    remaining = registration.party_size - done
    if (
        registration.status is not RegistrationStatus.CONFIRMED
        or remaining <= 0
        or (people is not None and people > remaining)
    ):
        # Not a check-in, unless this is a retry of one (or its twin finished while we
        # waited for the registration): then the first answer again.
        replay = _replay(event, nonce)
        if replay is not None:
            return replay
    if registration.status is RegistrationStatus.CANCELLED:
        return CheckInOutcome(Result.CANCELLED, registration)
    if registration.status is RegistrationStatus.WAITLISTED:
        return CheckInOutcome(Result.WAITLISTED, registration)
    if remaining <= 0:
        previous = db.session.scalar(
            select(CheckIn)
            .where(_active(registration.id))
            .order_by(CheckIn.scanned_at.desc(), CheckIn.id.desc())
            .limit(1)
        )
        return CheckInOutcome(
            Result.ALREADY, registration, previous=previous, checked_in_people=done
        )
    if people is not None and people > remaining:
        return CheckInOutcome(Result.TOO_MANY, registration, checked_in_people=done)
    db.session.flush()  # the statements below run on the connection: nothing may be pending
    checkin = _insert_checkin(
        {
            "event_id": event.id,
            "registration_id": registration.id,
            "people": people or remaining,
            "method": method,
            "nonce": nonce,
            "device": (device or "")[:64],
            "created_by_id": user.id,
            "created_at": now,
            "scanned_at": min(scanned_at or now, now),
        }
    )
    if checkin is None:  # a request with this nonce was answered already: its answer again
        replay = _replay(event, nonce)
        assert replay is not None  # found by the same condition, under the same lock
        return replay
    before = contribution_of(registration)
    _let_in(registration, done + checkin.people, now)
    audit.record(
        audit.Action.WALK_IN if method is CheckInMethod.WALK_IN else audit.Action.CHECKIN,
        actor=user,
        target_type="checkin",
        target_id=checkin.id,
        event=event,
        detail=audit.part(
            audit.N_("registration %(id)d: +%(n)d (%(how)s), %(done)d/%(of)d in"),
            id=registration.id,
            n=checkin.people,
            how=audit.value(method),
            done=registration.checked_in_people,
            of=registration.party_size,
        ),
    )
    # The event's counters last (services/locking.py): the one row every scan of the event
    # writes, so it is held for the shortest time.
    add_to_counters(
        db.session.connection(),
        event.id,
        difference(before, contribution_of(registration)),
        stored=True,  # _let_in wrote it: a counters row counted now includes this check-in
    )
    return CheckInOutcome(
        Result.CHECKED_IN, registration, checkin, checked_in_people=registration.checked_in_people
    )


_CHECKIN_COLUMNS = (
    "event_id",
    "registration_id",
    "people",
    "method",
    "nonce",
    "device",
    "created_by_id",
    "created_at",
    "scanned_at",
)
_CHECKINS = cast(Table, CheckIn.__table__)
# The check-in, unless one with its nonce exists (a retry; or a twin request, which holds the
# registration's lock until it commits, so this statement, begun after, sees its row): the
# replay check and the insert in one round trip on the scan's usual path.
_INSERT_CHECKIN = (
    insert(_CHECKINS)
    .from_select(
        _CHECKIN_COLUMNS,
        select(*(bindparam(name, type_=_CHECKINS.c[name].type) for name in _CHECKIN_COLUMNS)).where(
            ~exists().where(
                _CHECKINS.c.event_id == bindparam("event_id"),
                _CHECKINS.c.nonce == bindparam("nonce"),
            )
        ),
    )
    .returning(*_CHECKINS.c)
)


def _insert_checkin(values: dict[str, object]) -> CheckIn | None:
    """The new check-in as an object of the session (extensions.insert_loaded), or None when
    one with the same nonce is there already."""
    row = db.session.connection().execute(_INSERT_CHECKIN, values).one_or_none()
    return None if row is None else as_loaded(CheckIn, row)


_SET_CHECKED_IN = (
    update(Registration)
    .where(Registration.id == bindparam("registration_id"))
    .values(checked_in_people=bindparam("people"), updated_at=bindparam("now"))
)


def _let_in(registration: Registration, people: int, now: datetime) -> None:
    """Set how many of the party are in, by its own UPDATE rather than the flush (the scan's
    hot path): the loaded registration is told the stored values, so no flush writes it
    again; the caller moves the counters."""
    db.session.connection().execute(
        _SET_CHECKED_IN, {"registration_id": registration.id, "people": people, "now": now}
    )
    set_committed_value(registration, "checked_in_people", people)
    set_committed_value(registration, "updated_at", now)


def undone_message(checkin: CheckIn) -> str:
    """What the door hears after an undo: whose check-in it was."""
    return _(
        "Undone: the check-in of %(name)s (people: %(n)d).",
        name=checkin.registration.name,
        n=checkin.people,
    )


def undo_checkin(event: Event, checkin_id: int, user: User, now: datetime) -> CheckIn:
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or checkin.event_id != event.id:
        raise NotFound()
    registration = _lock_registration(event.id, checkin.registration_id)
    db.session.refresh(checkin)
    if registration is None or checkin.undone_at is not None:
        raise NotFound()
    checkin.undone_at = now
    checkin.undone_by_id = user.id
    registration.checked_in_people -= checkin.people
    db.session.flush()
    audit.record(
        audit.Action.CHECKIN_UNDO,
        actor=user,
        target_type="checkin",
        target_id=checkin.id,
        event=event,
        detail=audit.part(
            audit.N_("registration %(id)d: −%(n)d, %(done)d/%(of)d in"),
            id=registration.id,
            n=checkin.people,
            done=registration.checked_in_people,
            of=registration.party_size,
        ),
    )
    return checkin


def register_walk_in(
    event: Event, name: str, people: int, user: User, now: datetime, nonce: str | None = None
) -> CheckInOutcome:
    """Someone at the door without a registration: a place if there is one, then in."""
    _validate_nonce(nonce)
    lock_event(event.id)  # first, so that a retried walk-in cannot register twice
    replay = _replay(event, nonce)
    if replay is not None:
        return replay
    outcome = register(
        event.id,
        # Someone at the door is there in person, also at a hybrid event.
        RegistrationRequest(
            name=name,
            party_size=people,
            consent=True,
            join_waitlist=False,
            attendance=Attendance.IN_PERSON,
        ),
        now,
        RegistrationSource.WALK_IN,
        by_user=user,
    )
    return _check_in(
        event,
        outcome.registration,
        user,
        now,
        people=None,  # the whole party
        nonce=nonce,
        device="",
        scanned_at=now,
        method=CheckInMethod.WALK_IN,
    )


@dataclass(frozen=True)
class DoorCounts:
    checked_in_people: int
    confirmed_people: int
    capacity: int | None
    walk_in_people: int


def door_counts(event: Event) -> DoorCounts:
    checked, walk_ins = db.session.execute(
        select(
            func.coalesce(func.sum(Registration.checked_in_people), 0),
            func.coalesce(
                func.sum(
                    case(
                        (
                            Registration.source == RegistrationSource.WALK_IN,
                            Registration.checked_in_people,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
        ).where(Registration.event_id == event.id)
    ).one()
    places = availability(event)
    # People expected at the door: those holding a place (online viewers do not come).
    return DoorCounts(int(checked), places.confirmed_people, event.capacity, int(walk_ins))


def door_list(event: Event, search: str = "", limit: int = 50) -> list[tuple[Registration, int]]:
    """Registrations with people checked in so far; when searching, those with a word that
    begins with each word typed (name, phone digits or booking code, case and diacritics
    ignored: services/name_search.py)."""
    query = (
        select(Registration, Registration.checked_in_people)
        .where(Registration.event_id == event.id)
        .options(selectinload(Registration.activities))
        .order_by(Registration.name, Registration.id)
        .limit(limit)
    )
    for _term, condition in name_search.conditions(event.id, search):
        query = query.where(condition)
    return [(registration, int(n)) for registration, n in db.session.execute(query)]


class OfflineEntry(TypedDict):
    """One party on a door device's offline list."""

    ticket: str  # the ticket code's hash
    booking_code: str
    registration_id: int
    name: str
    party_size: int
    status: str
    checked_in_people: int
    activities: list[str]
    needs: str
    access_needs: list[str]  # the ticked needs' names (eventsvc/needs.py)
    needs_text: str  # the ticked needs and the written ones, as words
    search: str


def offline_list(event: Event, user: User) -> list[OfflineEntry]:
    """What a door device keeps to work without a connection: ticket hashes, not codes, and
    what the door shows of each party (contact details only to those who may see them)."""
    contacts = access.sees_contacts(user)
    return [
        {
            "ticket": ticket_hash(registration.ticket_secret),
            "booking_code": registration.booking_code,
            "registration_id": registration.id,
            "name": registration.name,
            "party_size": registration.party_size,
            "status": registration.status.value,
            "checked_in_people": n,
            "activities": [a.title for a in registration.activities],
            "needs": registration.needs,
            # The ticked needs, and everything it needs as words of the page's language.
            "access_needs": [need.value for need in registration.access_needs],
            "needs_text": needs_text(registration),
            # What the phone searches offline: as the server's search text, the phone's
            # digits only for those who may see them.
            "search": search_text(
                registration.name,
                registration.phone if contacts else None,
                registration.booking_code,
            ),
        }
        for registration, n in door_list(event, limit=100_000)
    ]


def door_events(user: User, now: datetime, limit: int = 50) -> list[Event]:
    """The events whose door `user` may work that have not ended yet, soonest first."""
    allowed = access.door_organisation_ids(user)
    query = (
        select(Event)
        .where(Event.ends_at > now, Event.status == EventStatus.PUBLISHED)
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    if allowed is not None:
        query = query.where(Event.organisation_id.in_(allowed))
    return list(db.session.scalars(query))
