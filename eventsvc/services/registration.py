"""Registration rules: when an event takes registrations, and who gets a place.

Every rule about registering lives in this module so a newcomer finds them in one file:

- the window: registration is possible from opens-at (inclusive) until closes-at
  (exclusive; a date deadline closes at the Riga midnight after that day), never for a
  draft, cancelled or past event;
- capacity counts people (party sizes) of confirmed registrations, for the event and for
  each chosen activity. At a hybrid event only in-person attendance takes a place; at an
  online event every registration does (the room is the meeting's size);
- a party that does not fit entirely goes to the waiting list (if it agreed to); places
  freed by a cancellation or a smaller party go to the first waiting parties that fit;
- one active registration per email address and event; a second attempt answers exactly
  as a new one would and sends the existing ticket again, so it reveals nothing;
- counting and inserting happen under a lock on the event row (SELECT … FOR UPDATE on
  PostgreSQL, BEGIN IMMEDIATE on SQLite). Places are counted from the event's counters
  (models/event_stats.py: one row, moved in the same transaction by every change to a
  registration), so the time the lock is held does not grow with the event.
  Every change to a registration takes the event lock before the registration's own row,
  and promotion locks the waiting rows it reads: one lock order, so no deadlock, and no
  party is confirmed with a size or state it no longer has.

Functions flush and never commit; the caller commits once.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from ..extensions import db
from ..i18n import local_date, local_time, until_day_month
from ..models import (
    Attendance,
    Event,
    EventFormat,
    EventStats,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    User,
    new_booking_code,
    registration_activities,
)
from ..models.event_stats import counted
from ..timezones import inclusive_deadline_day, to_riga
from . import NotFound, ServiceError, ValidationFailed, audit
from .locking import sqlite_write_lock
from .notifications import notify, recent_mail

MAX_PARTY_SIZE = 10
MAX_NAME_LENGTH = 120
MAX_NEEDS_LENGTH = 2000
LANGUAGES = ("lv", "en", "ru")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{6,25}$")


class WindowState(enum.StrEnum):
    DRAFT = "draft"
    CANCELLED = "cancelled"
    PAST = "past"
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class RegistrationWindow:
    state: WindowState
    opens_at: datetime | None
    closes_at: datetime | None  # exclusive

    @property
    def is_open(self) -> bool:
        return self.state is WindowState.OPEN

    @property
    def deadline_day(self) -> date | None:
        """The last day of a date deadline ("until 15 November inclusive"), else None."""
        return inclusive_deadline_day(self.closes_at) if self.closes_at else None

    def describe(self) -> str:
        """The state in plain words, in the current language."""
        if self.state is WindowState.DRAFT:
            return _("Not published yet.")
        if self.state is WindowState.CANCELLED:
            return _("This event has been cancelled.")
        if self.state is WindowState.PAST:
            return _("This event has already taken place.")
        if self.state is WindowState.NOT_YET_OPEN:
            return _(
                "Registration opens on %(day)s at %(time)s.",
                day=local_date(self.opens_at, "long"),
                time=local_time(self.opens_at),
            )
        if self.state is WindowState.CLOSED:
            return _("Registration is closed.")
        if self.closes_at is None:
            return _("Registration is open until the event starts.")
        day = self.deadline_day
        if day is not None:
            return _("Registration is open until %(day)s inclusive.", day=until_day_month(day))
        return _(
            "Registration is open until %(day)s, %(time)s.",
            day=until_day_month(to_riga(self.closes_at).date()),
            time=local_time(self.closes_at),
        )


def effective_close(event: Event) -> datetime:
    """Without a deadline, registration stays open until the event starts."""
    return event.registration_closes_at or event.starts_at


def registration_window(event: Event, now: datetime) -> RegistrationWindow:
    """Whether `event` takes registrations at `now`, and why not if it does not."""
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if event.status is EventStatus.CANCELLED:
        state = WindowState.CANCELLED
    elif event.status is EventStatus.DRAFT:
        state = WindowState.DRAFT
    elif event.has_ended(now):
        state = WindowState.PAST
    elif opens is not None and now < opens:
        state = WindowState.NOT_YET_OPEN
    elif now >= effective_close(event):
        state = WindowState.CLOSED
    else:
        state = WindowState.OPEN
    return RegistrationWindow(state=state, opens_at=opens, closes_at=closes)


# --- what a registration asks for ------------------------------------------------------


class Refusal(enum.StrEnum):
    """Why a well-formed request cannot be taken now (the API's 409 reason codes)."""

    NOT_OPEN = "registration_not_open"
    CLOSED = "registration_closed"
    CANCELLED = "event_cancelled"
    PAST = "event_past"
    FULL = "full"
    NO_ROOM = "no_room"


class RegistrationRefused(ServiceError):
    def __init__(self, code: Refusal, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class RegistrationRequest:
    name: str
    email: str | None = None
    phone: str | None = None
    party_size: int = 1
    activity_ids: list[int] = field(default_factory=list)
    attendance: Attendance | None = None  # None: whatever the event's format implies
    needs: str = ""
    language: str = "lv"
    consent: bool = False
    join_waitlist: bool = True  # False: refuse instead of waiting


def _clean_text(value: str | None) -> str:
    return " ".join((value or "").split())


@lru_cache(maxsize=4096)
def _normalised_email(address: str) -> str | None:
    """The address as it is stored, or None if it is not one. Cached, because a request's
    address is checked twice (request_from_json, then register) and checking it is not cheap."""
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def normalise_request(
    request: RegistrationRequest, contact_required: bool = True
) -> RegistrationRequest:
    """Check and tidy what does not depend on the event; ValidationFailed lists every problem.
    Only a walk-in at the door may come without an email address or phone number."""
    errors: dict[str, str] = {}
    name = _clean_text(request.name)
    if not name:
        errors["name"] = _("Enter your name.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = _("The name is too long (at most %(n)d characters).", n=MAX_NAME_LENGTH)

    email = (request.email or "").strip() or None
    if email is not None:
        email = _normalised_email(email)
        if email is None:
            errors["email"] = _("Enter a valid email address, like name@example.lv.")
    phone = _clean_text(request.phone) or None
    if phone is not None and not PHONE_RE.match(phone):
        errors["phone"] = _("Enter a phone number with digits only, like +371 20000000.")
    if (
        contact_required
        and email is None
        and phone is None
        and "email" not in errors
        and "phone" not in errors
    ):
        errors["email"] = _("Enter an email address, or a phone number if you have no email.")

    if (
        not isinstance(request.party_size, int)
        or isinstance(request.party_size, bool)
        or not 1 <= request.party_size <= MAX_PARTY_SIZE
    ):
        errors["party_size"] = _("A party is 1 to %(n)d people.", n=MAX_PARTY_SIZE)
    needs = (request.needs or "").strip()
    if len(needs) > MAX_NEEDS_LENGTH:
        errors["needs"] = _("Please keep this under %(n)d characters.", n=MAX_NEEDS_LENGTH)
    if request.language not in LANGUAGES:
        errors["language"] = _("Choose a language from the list.")
    if not request.consent:
        errors["consent"] = _(
            "Please agree to the processing of your data so that we can register you."
        )
    if errors:
        raise ValidationFailed(errors)
    return RegistrationRequest(
        name=name,
        email=email,
        phone=phone,
        party_size=request.party_size,
        activity_ids=sorted(set(request.activity_ids)),
        attendance=request.attendance,
        needs=needs,
        language=request.language,
        consent=True,
        join_waitlist=request.join_waitlist,
    )


def request_from_json(payload) -> RegistrationRequest:
    """The JSON API's body → a request. Wrong types are field errors, never exceptions."""
    if not isinstance(payload, Mapping):
        raise ValidationFailed({"body": _("Send a JSON object.")})
    errors: dict[str, str] = {}

    def text(key: str, required: bool = False) -> str | None:
        value = payload.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            errors[key] = _("This must be text.")
            return None
        return value

    party_size = payload.get("party_size", 1)
    if not isinstance(party_size, int) or isinstance(party_size, bool):
        errors["party_size"] = _("A party is 1 to %(n)d people.", n=MAX_PARTY_SIZE)
        party_size = 1
    activity_ids = payload.get("activity_ids", [])
    if not isinstance(activity_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in activity_ids
    ):
        errors["activity_ids"] = _("Choose activities of this event.")
        activity_ids = []
    attendance = payload.get("attendance")
    if attendance is not None and (
        not isinstance(attendance, str) or attendance not in Attendance._value2member_map_
    ):
        errors["attendance"] = _("Choose in person or online.")
        attendance = None
    language = payload.get("language", "lv")
    if not isinstance(language, str):
        errors["language"] = _("Choose a language from the list.")
        language = "lv"
    for flag in ("consent", "join_waitlist"):
        if flag in payload and not isinstance(payload[flag], bool):
            errors[flag] = _("This must be true or false.")
    request = RegistrationRequest(
        name=text("name") or "",
        email=text("email"),
        phone=text("phone"),
        party_size=party_size,
        activity_ids=activity_ids,
        attendance=Attendance(attendance) if attendance else None,
        needs=text("needs") or "",
        language=language,
        consent=payload.get("consent") is True,
        join_waitlist=payload.get("join_waitlist", True) is not False,
    )
    try:
        normalise_request(request)
    except ValidationFailed as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise ValidationFailed(errors)
    return request


# --- places ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityPlaces:
    capacity: int | None
    taken: int

    @property
    def left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.taken, 0)


@dataclass(frozen=True)
class Availability:
    capacity: int | None
    confirmed_people: int  # people holding a place
    online_people: int  # confirmed people attending online where that takes no place
    waitlisted_people: int
    activities: dict[int, ActivityPlaces]
    waiting_parties: int = 0  # registrations on the waiting list

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed_people, 0)

    @property
    def is_full(self) -> bool:
        return self.places_left == 0

    @property
    def next_waitlist_position(self) -> int:
        return self.waiting_parties + 1


# Whether a registration of this address is active, for the same round trip as the counters
# (a NULL address matches nothing).
_EXISTING = (
    select(Registration.id)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.email == bindparam("email"),
        Registration.status != RegistrationStatus.CANCELLED,
    )
    .scalar_subquery()
)
# Whether the booking code drawn for a new registration is the event's already (a NULL code
# matches nothing): asked in the same round trip too.
_CODE_TAKEN = (
    select(Registration.id)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.booking_code == bindparam("booking_code"),
    )
    .exists()
)
# The event's counters (models/event_stats.py, moved by every flush that changes a
# registration, in the same transaction): one row, however many registrations the event has.
# No row means nobody has registered yet, or registrations were loaded by SQL without
# their counters (then they are counted). The address is looked up either way. Built once
# at start-up; the event is a parameter.
_PLACES = (
    select(
        EventStats.event_id,
        func.coalesce(EventStats.confirmed_in_person_people, 0),
        func.coalesce(EventStats.confirmed_online_people, 0),
        func.coalesce(EventStats.people_waitlisted, 0),
        func.coalesce(EventStats.waiting_parties, 0),
        _EXISTING,
        _CODE_TAKEN,
    )
    .select_from(Event)
    .outerjoin(EventStats, EventStats.event_id == Event.id)
    .where(Event.id == bindparam("event_id"))
)
_TAKEN_BY_ACTIVITY = (
    select(
        registration_activities.c.activity_id, func.coalesce(func.sum(Registration.party_size), 0)
    )
    .join(Registration, Registration.id == registration_activities.c.registration_id)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.status == RegistrationStatus.CONFIRMED,
    )
    .group_by(registration_activities.c.activity_id)
)


def _places(
    event: Event,
    email: str | None = None,
    activities: bool = True,
    booking_code: str | None = None,
) -> tuple[Availability, int | None, bool]:
    """The event's places and waiting list (and its activities' unless `activities` is False),
    the id of `email`'s active registration, and whether `booking_code` is taken."""
    has_counters, in_person, online, waiting_people, waiting_parties, existing_id, code_taken = (
        db.session.execute(
            _PLACES, {"event_id": event.id, "email": email, "booking_code": booking_code}
        ).one()
    )
    if has_counters is None:  # the next flush writes the counted row
        count = counted(db.session, event.id)
        in_person, online = count["confirmed_in_person_people"], count["confirmed_online_people"]
        waiting_people, waiting_parties = count["people_waitlisted"], count["waiting_parties"]
    # At an online event every confirmed registration takes a place; otherwise only in person.
    taking = in_person + online if event.format is EventFormat.ONLINE else in_person
    activities = event.activities if activities else []
    taken_by_activity = (
        dict(db.session.execute(_TAKEN_BY_ACTIVITY, {"event_id": event.id}).all())
        if activities
        else {}
    )
    places = Availability(
        capacity=event.capacity,
        confirmed_people=taking,
        online_people=in_person + online - taking,
        waitlisted_people=waiting_people,
        activities={
            a.id: ActivityPlaces(a.capacity, int(taken_by_activity.get(a.id, 0)))
            for a in activities
        },
        waiting_parties=waiting_parties,
    )
    return places, existing_id, bool(code_taken)


def _free_booking_code(event_id: int, code: str, taken: bool) -> str:
    """`code`, or (if the event has it already) another one that is free. Asked under the
    event's lock, so no registration can take it meanwhile."""
    while taken:
        code = new_booking_code()
        taken = db.session.scalar(select(_CODE_TAKEN), {"event_id": event_id, "booking_code": code})
    return code


def availability(event: Event) -> Availability:
    """People confirmed, waiting and places left, for the event and its activities."""
    return _places(event)[0]


def _fits(places: Availability, party_size: int, takes_place: bool, activity_ids) -> bool:
    if takes_place and places.places_left is not None and party_size > places.places_left:
        return False
    return all(
        places.activities[a].left is None or party_size <= places.activities[a].left
        for a in activity_ids
    )


_LOCK_EVENT = (
    select(Event)
    .where(Event.id == bindparam("event_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_event(event_id: int) -> Event:
    """The event row, locked until the transaction ends, so that counting places and taking
    them cannot interleave with another registration for the same event."""
    if sqlite_write_lock():
        event = db.session.get(Event, event_id, populate_existing=True)
    else:
        # Activities are not locked: their places are counted under this lock, from their
        # confirmed registrations, and every registration change takes it.
        event = db.session.scalar(_LOCK_EVENT, {"event_id": event_id})
    if event is None:
        raise NotFound()
    return event


# --- state changes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the registrant is told. For a repeated email address `registration` is the
    existing one and `repeated` is True; callers must answer exactly as for a new one."""

    registration: Registration
    status: RegistrationStatus
    waitlist_position: int | None
    repeated: bool = False

    @property
    def manage_link_in_answer(self) -> bool:
        """The private link goes by email when there is an address (a repeated address must
        get exactly the answer a new one gets); without one, the answer is the only way."""
        return self.registration.email is None


def _refusal(window: RegistrationWindow) -> RegistrationRefused:
    code = {
        WindowState.NOT_YET_OPEN: Refusal.NOT_OPEN,
        WindowState.CLOSED: Refusal.CLOSED,
        WindowState.CANCELLED: Refusal.CANCELLED,
        WindowState.PAST: Refusal.PAST,
    }[window.state]
    return RegistrationRefused(code, window.describe())


def _attendance_for(event: Event, wanted: Attendance | None) -> Attendance:
    if event.format is EventFormat.IN_PERSON:
        return Attendance.IN_PERSON
    if event.format is EventFormat.ONLINE:
        return Attendance.ONLINE
    if wanted is None:
        raise ValidationFailed(
            {"attendance": _("Choose whether you come in person or watch online.")}
        )
    return wanted


def register(
    event_id: int,
    request: RegistrationRequest,
    now: datetime,
    source: RegistrationSource = RegistrationSource.WEB,
    by_user: User | None = None,
) -> Outcome:
    """Register a party for an event: confirmed if it fits, otherwise waitlisted (or refused)."""
    staff = by_user is not None and source in (
        RegistrationSource.ORGANISER,
        RegistrationSource.WALK_IN,
    )
    request = normalise_request(
        request, contact_required=source is not RegistrationSource.WALK_IN or not staff
    )
    public = by_user is None
    # The address's recent mail (the hourly cap) is about the address, not the event's places:
    # counted before the lock, so that the lock is held only for what needs it.
    mail_cap = recent_mail(request.email, now) if public and request.email else None

    # The event is read once, locked: the checks below need no database, so taking the lock
    # before them costs nothing, and a second read of the event would.
    event = lock_event(event_id)
    if not event.is_public:
        raise NotFound()
    if not staff:
        window = registration_window(event, now)
        if not window.is_open:
            raise _refusal(window)
    elif event.status is EventStatus.CANCELLED or event.has_ended(now):
        # Staff may register someone after the public deadline, but not for a dead event.
        raise _refusal(registration_window(event, now))
    attendance = _attendance_for(event, request.attendance)
    # Most parties choose no activity: then the event's activities need not be loaded here.
    activities = {a.id: a for a in event.activities} if request.activity_ids else {}
    unknown = [a for a in request.activity_ids if a not in activities]
    if unknown:
        raise ValidationFailed({"activity_ids": _("Choose activities of this event.")})

    code = new_booking_code()
    places, existing_id, code_taken = _places(
        event, request.email, activities=bool(request.activity_ids), booking_code=code
    )
    takes_place = attendance is Attendance.IN_PERSON or event.format is EventFormat.ONLINE
    fits = _fits(places, request.party_size, takes_place, request.activity_ids)
    status = RegistrationStatus.CONFIRMED if fits else RegistrationStatus.WAITLISTED
    # Under the lock every earlier registration of the event is committed and has a smaller
    # id, so a new waiting party is last in line.
    position = None if fits else places.next_waitlist_position

    if not fits and not request.join_waitlist:  # before the repeat check: the same answer for all
        raise RegistrationRefused(Refusal.FULL, _("There are not enough free places."))

    if existing_id is not None:
        if staff:
            raise ValidationFailed(
                {"email": _("This email address is already registered for this event.")}
            )
        # Say what a new registration would have heard; the owner of the address gets
        # their real ticket again by email.
        existing = db.session.get(Registration, existing_id)
        # Counted again here, under the lock: repeats of one address for one event queue on
        # it, and "your ticket again" is what someone would repeat to flood an inbox.
        notify("registration_repeated", existing, now, public=True)
        return Outcome(
            registration=existing, status=status, waitlist_position=position, repeated=True
        )
    registration = Registration(
        event_id=event.id,
        status=status,
        name=request.name,
        email=request.email,
        phone=request.phone,
        party_size=request.party_size,
        attendance=attendance,
        needs=request.needs,
        language=request.language,
        source=source,
        booking_code=_free_booking_code(event.id, code, code_taken),
        created_by_id=by_user.id if by_user else None,
        consent_at=now,
        created_at=now,
        confirmed_at=now if fits else None,
        activities=[activities[a] for a in request.activity_ids],
    )
    db.session.add(registration)
    notify(
        "registration_confirmed" if fits else "registration_waitlisted",
        registration,
        now,
        public=public,
        recent=mail_cap,
    )
    db.session.flush()  # one flush: the registration, its message, the event's counters
    if (
        source is RegistrationSource.ORGANISER and by_user is not None
    ):  # by phone; walk-ins: checkin.py
        audit.record(
            audit.Action.REGISTRATION_CREATE,
            actor=by_user,
            target_type="registration",
            target_id=registration.id,
            event=event,
            detail=audit.part(
                audit.N_("%(status)s, party size %(n)d"),
                status=audit.value(status),
                n=request.party_size,
            ),
        )
    return Outcome(registration=registration, status=status, waitlist_position=position)


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first party waiting; None when not waiting."""
    if registration.status is not RegistrationStatus.WAITLISTED:
        return None
    return db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.id <= registration.id,
        )
    )


def waitlist_positions(event_id: int) -> dict[int, int]:
    """Every waiting registration's place in line, in one query (for lists)."""
    ids = db.session.scalars(
        select(Registration.id)
        .where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.WAITLISTED
        )
        .order_by(Registration.id)
    )
    return {registration_id: position for position, registration_id in enumerate(ids, start=1)}


def _lock_registration(registration: Registration) -> Registration:
    """The event, then this row, locked and re-read: two changes of one registration (or a
    change and a promotion) cannot interleave."""
    lock_event(registration.event_id)
    query = (
        select(Registration)
        .where(Registration.id == registration.id)
        .execution_options(populate_existing=True)
    )
    if db.session.connection().dialect.name != "sqlite":
        query = query.with_for_update()
    return db.session.scalar(query)


def resident_may_change(registration: Registration, now: datetime) -> bool:
    """Residents change or cancel online until the event starts; after that, staff do."""
    return (
        registration.is_active
        and registration.event.status is EventStatus.PUBLISHED
        and now < registration.event.starts_at
    )


def _require_changeable(registration: Registration, now: datetime, by_user: User | None) -> None:
    if not registration.is_active:
        raise ServiceError(_("This registration is cancelled."))
    if by_user is None and not resident_may_change(registration, now):
        raise ServiceError(
            _("It is too late to change this registration online. Please call the organiser.")
        )


def cancel_registration(
    registration: Registration, now: datetime, by_user: User | None = None
) -> list[Registration]:
    """Cancel; the places it held go to the waiting list. Returns those promoted."""
    registration = _lock_registration(registration)
    _require_changeable(registration, now, by_user)
    freed = registration.status is RegistrationStatus.CONFIRMED
    audit.record(
        audit.Action.REGISTRATION_CANCEL,
        actor=by_user or audit.RESIDENT,
        target_type="registration",
        target_id=registration.id,
        event=registration.event,
        detail=audit.transition(registration.status, RegistrationStatus.CANCELLED),
    )
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    db.session.flush()
    notify("registration_cancelled", registration, now, public=by_user is None)
    return promote_waitlist(registration.event_id, now) if freed else []


def change_party_size(
    registration: Registration, party_size: int, now: datetime, by_user: User | None = None
) -> list[Registration]:
    """Fewer people free places (promoting others); more people need free places."""
    if (
        not isinstance(party_size, int)
        or isinstance(party_size, bool)
        or not 1 <= party_size <= MAX_PARTY_SIZE
    ):
        raise ValidationFailed({"party_size": _("A party is 1 to %(n)d people.", n=MAX_PARTY_SIZE)})
    registration = _lock_registration(registration)
    _require_changeable(registration, now, by_user)
    if party_size == registration.party_size:
        return []
    if party_size < registration.party_size or registration.status is RegistrationStatus.WAITLISTED:
        shrinks = party_size < registration.party_size
        audit.record(
            audit.Action.REGISTRATION_PARTY_SIZE,
            actor=by_user or audit.RESIDENT,
            target_type="registration",
            target_id=registration.id,
            event=registration.event,
            detail=audit.transition(
                registration.party_size, party_size, audit.N_("party size %(old)d → %(new)d")
            ),
        )
        registration.party_size = party_size
        db.session.flush()
        notify("registration_changed", registration, now, public=by_user is None)
        # Fewer people free places, or let a waiting party fit now.
        return promote_waitlist(registration.event_id, now) if shrinks else []

    event = lock_event(registration.event_id)
    places = availability(event)
    extra = party_size - registration.party_size
    if not _fits(
        places, extra, registration.takes_a_place, [a.id for a in registration.activities]
    ):
        raise RegistrationRefused(
            Refusal.NO_ROOM,
            _("There are not enough free places for %(n)d more people.", n=extra),
        )
    audit.record(
        audit.Action.REGISTRATION_PARTY_SIZE,
        actor=by_user or audit.RESIDENT,
        target_type="registration",
        target_id=registration.id,
        event=event,
        detail=audit.transition(
            registration.party_size, party_size, audit.N_("party size %(old)d → %(new)d")
        ),
    )
    registration.party_size = party_size
    db.session.flush()
    notify("registration_changed", registration, now, public=by_user is None)
    return []


def promote_waitlist(event_id: int, now: datetime) -> list[Registration]:
    """Give free places to waiting parties in order: each party that fits entirely is
    confirmed; a larger party that does not fit keeps its place in the queue."""
    event = lock_event(event_id)
    if event.status is not EventStatus.PUBLISHED or event.has_ended(now):
        return []
    places = availability(event)
    left = places.places_left
    activity_left = {a: p.left for a, p in places.activities.items()}
    promoted = []
    query = (
        select(Registration)
        .where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.WAITLISTED
        )
        .order_by(Registration.id)
        .execution_options(populate_existing=True)
    )
    if db.session.connection().dialect.name != "sqlite":
        query = query.with_for_update(of=Registration)
    waiting = db.session.scalars(query).all()
    for registration in waiting:
        size = registration.party_size
        activity_ids = [a.id for a in registration.activities]
        takes_place = registration.takes_a_place
        if takes_place and left is not None and size > left:
            continue
        if any(activity_left[a] is not None and size > activity_left[a] for a in activity_ids):
            continue
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = now
        if takes_place and left is not None:
            left -= size
        for a in activity_ids:
            if activity_left[a] is not None:
                activity_left[a] -= size
        promoted.append(registration)
        notify("registration_promoted", registration, now)
        audit.record(
            audit.Action.REGISTRATION_PROMOTE,
            actor=audit.SYSTEM,
            target_type="registration",
            target_id=registration.id,
            event=event,
            detail=audit.transition(
                RegistrationStatus.WAITLISTED,
                RegistrationStatus.CONFIRMED,
                audit.N_("%(old)s → %(new)s, party size %(n)d"),
                n=size,
            ),
        )
    db.session.flush()
    return promoted


def registration_by_token(token: str) -> Registration:
    """The registration this manage link belongs to; anything else is not found."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise NotFound()
    registration = db.session.scalar(select(Registration).where(Registration.manage_token == token))
    if registration is None:
        raise NotFound()
    return registration
