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
- every waiting list here (the event's, and each activity's own) follows that one rule
  (`_in_turn`): first come, first served, a party whole or not at all; a party too large for
  the places left keeps its turn, and a later, smaller party that fits takes them;
- a full activity never costs a party its place at the event: a party that fits the event is
  confirmed, holds a place in each activity it asked for that has room for all of it, and
  waits on the activity's own list for the others (it may also simply leave them out). While
  a party waits for the event itself, its activities wait with it and are given by the same
  rule when it gets its place. Freed activity places (a cancellation, a smaller party, an
  activity dropped, more places) go first to that activity's waiting parties;
- one active registration per email address and event; a second attempt answers exactly
  as a new one would and sends the existing ticket again, so it reveals nothing;
- counting and inserting happen under a lock on the event row (SELECT … FOR UPDATE on
  PostgreSQL, BEGIN IMMEDIATE on SQLite; every lock and its order: services/locking.py). Places are counted from the event's counters
  (models/event_stats.py: one row, moved in the same transaction by every change to a
  registration), so the time the lock is held does not grow with the event.
  Every change to a registration takes the event lock, then the event's activity rows,
  then the registration's own row, and promotion locks the waiting rows it reads: one lock
  order, so no deadlock, and no party is confirmed with a size or state it no longer has;
- a resident changes their own registration through its private link (change_registration:
  people, in person or online, activities, needs, contact, language) until the event
  starts, under the same places rules; every change is audited and confirmed by mail.

Functions flush and never commit; the caller commits once.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import Table, bindparam, func, insert, select

from .. import needs as need_list
from ..extensions import db, insert_loaded
from ..folding import terms_for
from ..i18n import local_date, local_time, until_day_month
from ..models import (
    Activity,
    ActivityWait,
    Attendance,
    Event,
    EventFormat,
    EventStats,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationSearchTerm,
    RegistrationSource,
    RegistrationStatus,
    User,
    new_booking_code,
    registration_activities,
)
from ..models.event_stats import add_to_counters, contribution_of, counted
from ..needs import Need
from ..timezones import inclusive_deadline_day, to_riga
from . import NotFound, ServiceError, ValidationFailed, audit
from .input_rules import (
    CONTROL_CHARACTERS,
    WHITESPACE,
    check_text,
    unknown_fields,
    whole_number,
)
from .locking import (
    lock_activities,
    lock_activity_waits,
    lock_event,
    lock_pending_messages,
    lock_registration,
    lock_registrations,
    lock_waiting_list,
)
from .measures import event_people, places_taken
from .notifications import RECENT_MAIL_COLUMNS, notify, notify_stored, recent_mail_params
from .privacy_notice import PRIVACY_NOTICE_VERSION

MAX_PARTY_SIZE = 10
MAX_NAME_LENGTH = 120
MAX_NEEDS_LENGTH = 2000
LANGUAGES = ("lv", "en", "ru")
# A phone number: 6 to 25 digits, ( ) and -, after an optional +, with spaces anywhere.
PHONE_RE = re.compile(r"\+?[0-9()\-]{6,25}")  # the number without its spaces
MAX_PHONE_LENGTH = 40  # the column's size (models/registrations.py)
PHONE_PATTERN = rf"^[{WHITESPACE}]*\+?[{WHITESPACE}]*([0-9()\-][{WHITESPACE}]*){{6,25}}$"


def is_phone_number(value: str) -> bool:
    """Digits (with +, brackets, dashes and spaces as people write them), 6 to 25 of them."""
    return PHONE_RE.fullmatch(value.replace(" ", "")) is not None


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
            assert self.opens_at is not None  # "not yet open" only with an opening time
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
    ACTIVITY_FULL = "activity_full"  # only when the party asked not to wait
    NO_ROOM = "no_room"


class RegistrationRefused(ServiceError):
    def __init__(self, code: Refusal, message: str, field: str | None = None):
        super().__init__(message, field)
        self.code = code


@dataclass
class RegistrationRequest:
    name: str
    email: str | None = None
    phone: str | None = None
    party_size: int = 1
    activity_ids: list[int] = field(default_factory=list)
    attendance: Attendance | None = None  # None: whatever the event's format implies
    needs: str = ""  # other needs, in words
    language: str = "lv"
    consent: bool = False
    join_waitlist: bool = True  # False: refuse instead of waiting
    # Optional: the social service may contact them if they could not come (services/follow_up.py).
    follow_up_consent: bool = False
    access_needs: list[Need] = field(default_factory=list)  # ticked (eventsvc/needs.py)


class UnknownNeeds(ValidationFailed):
    """A value sent as a ticked need that is none of eventsvc/needs.py's (the API answers 400:
    the client's list is out of date, not a field a person typed)."""

    def __init__(self, values: list[str]):
        super().__init__(
            {
                "access_needs": _(
                    "Unknown accessibility need: %(values)s. Known needs: %(known)s.",
                    values=", ".join(values) or "–",
                    known=", ".join(need_list.NEEDS),
                )
            }
        )


def _known_needs(values: Iterable[object] | None) -> list[Need]:
    """Ticked needs as sent (a form's values, the API's list), each once, in the list's order;
    UnknownNeeds for anything else."""
    sent = list(values or [])
    strange = need_list.unknown(sent)
    if strange:
        raise UnknownNeeds(strange)
    return need_list.needs_of(need_list.mask_of(str(v) for v in sent))


def party_size_error(party_size: object) -> str | None:
    """The one party-size rule, for every way in (form, API, manage link, the door): a whole
    number of people from 1 to MAX_PARTY_SIZE. The message if `party_size` breaks it."""
    if (
        isinstance(party_size, int)
        and not isinstance(party_size, bool)
        and 1 <= party_size <= MAX_PARTY_SIZE
    ):
        return None
    return _("A party is 1 to %(n)d people.", n=MAX_PARTY_SIZE)


def _clean_text(value: str | None) -> str:
    return " ".join((value or "").split())


# The addresses _normalised_email takes, as a pattern for the API's document: one line, and
# a domain that mail can reach (email_validator refuses the special-use names).
EMAIL_PATTERN = (
    rf"^[^@{CONTROL_CHARACTERS}]+@[^@{CONTROL_CHARACTERS}]+"
    rf"\.(?!(arpa|invalid|local|localhost|onion|test)$)[^.@{CONTROL_CHARACTERS}]+$"
)


def _normalised_email(address: str) -> str | None:
    """The address as it is stored, or None if it is not one. Not cached: a cache would keep
    thousands of addresses in memory in an app that erases them on request."""
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
    # Line breaks and control characters first: nothing below may see them (they would be
    # tidied away, or break a mail header later).
    check_text(
        errors,
        {"name": request.name, "email": request.email, "phone": request.phone},
        {"needs": request.needs},
    )
    name = _clean_text(request.name)
    if not name:
        errors.setdefault("name", _("Enter your name."))
    elif len(name) > MAX_NAME_LENGTH:
        errors.setdefault(
            "name", _("The name is too long (at most %(n)d characters).", n=MAX_NAME_LENGTH)
        )

    email = None
    if "email" not in errors and (request.email or "").strip():
        email = _normalised_email((request.email or "").strip())
        if email is None:
            errors["email"] = _("Enter a valid email address, like name@example.lv.")
    phone = _clean_text(request.phone) or None if "phone" not in errors else None
    if phone is not None and len(request.phone or "") > MAX_PHONE_LENGTH:
        errors.setdefault(
            "phone",
            _("The phone number is too long (at most %(n)d characters).", n=MAX_PHONE_LENGTH),
        )
    if phone is not None and not is_phone_number(phone):
        errors.setdefault("phone", _("Enter a phone number with digits only, like +371 20000000."))
    if (
        contact_required
        and email is None
        and phone is None
        and "email" not in errors
        and "phone" not in errors
    ):
        errors["email"] = _("Enter an email address, or a phone number if you have no email.")

    if (party_error := party_size_error(request.party_size)) is not None:
        errors["party_size"] = party_error
    try:
        access_needs = _known_needs(request.access_needs)
    except UnknownNeeds as exc:
        errors.update(exc.errors)
        access_needs = []
    needs = (request.needs or "").strip() if "needs" not in errors else ""
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
        follow_up_consent=request.follow_up_consent is True,
        access_needs=access_needs,
    )


def change_from_json(payload: object) -> RegistrationChange:
    """The API's change (PATCH) → a RegistrationChange: the fields sent change, the others
    stay; wrong types are field errors. change_registration checks the values."""
    if not isinstance(payload, Mapping):
        raise ValidationFailed({"body": _("Send a JSON object.")})
    errors: dict[str, str] = dict(unknown_fields(payload, CHANGE_FIELDS))
    change = RegistrationChange()
    for key in ("needs", "phone", "email", "language"):
        value = payload.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = _("This must be text.")
        elif value is not None:
            setattr(change, key, value)
    if payload.get("party_size") is not None:
        party_size = whole_number(payload["party_size"])
        problem = party_size_error(payload["party_size"] if party_size is None else party_size)
        if problem is not None:
            errors["party_size"] = problem
        else:
            change.party_size = party_size
    attendance = payload.get("attendance")
    if attendance is not None:
        if isinstance(attendance, str) and attendance in Attendance._value2member_map_:
            change.attendance = Attendance(attendance)
        else:
            errors["attendance"] = _("Choose in person or online.")
    if payload.get("activity_ids") is not None:
        activity_ids = payload["activity_ids"]
        if isinstance(activity_ids, list):
            activity_ids = [whole_number(i) for i in activity_ids]
        if not isinstance(activity_ids, list) or None in activity_ids:
            errors["activity_ids"] = _("Choose activities of this event.")
        else:
            change.activity_ids = activity_ids
    if payload.get("access_needs") is not None:  # [] unticks them all
        needs = needs_from_json(payload, errors)
        if "access_needs" not in errors:
            change.access_needs = needs
    if errors:
        raise ValidationFailed(errors)
    return change


def needs_from_json(payload: Mapping[str, Any], errors: dict[str, str]) -> list[Need]:
    """The API's `access_needs`: a list of the needs' names (null or absent: none). A value
    that names no need raises UnknownNeeds (400); anything but a list is a field error."""
    value = payload.get("access_needs")
    if value is None:
        return []
    if not isinstance(value, list):
        errors["access_needs"] = _('Send a list of needs, e.g. ["wheelchair"].')
        return []
    return _known_needs(value)


# --- places ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityPlaces:
    capacity: int | None
    taken: int  # people of confirmed parties holding a place in it
    waiting_parties: int = 0  # confirmed parties on its own waiting list
    waiting_people: int = 0

    @property
    def left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.left == 0

    def fits(self, people: int) -> bool:
        return self.left is None or people <= self.left

    @property
    def next_waitlist_position(self) -> int:
        return self.waiting_parties + 1


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
_COUNTERS = (
    EventStats.event_id,
    func.coalesce(EventStats.confirmed_in_person_people, 0),
    func.coalesce(EventStats.confirmed_online_people, 0),
    func.coalesce(EventStats.people_waitlisted, 0),
    func.coalesce(EventStats.waiting_parties, 0),
    _EXISTING,
    _CODE_TAKEN,
)
_PLACES = (
    select(*_COUNTERS)
    .select_from(Event)
    .outerjoin(EventStats, EventStats.event_id == Event.id)
    .where(Event.id == bindparam("event_id"))
)
# What a registration reads under the event's lock: _PLACES and the address's recent mail
# (the hourly cap, services/notifications.py), in one round trip. Not in the locking
# statement itself: a statement that waited for the lock still reads every other row as it
# was when the statement began (READ COMMITTED), so counters read with the lock could be
# those before the registration it waited for (the rush test overbooks that way).
_PLACES_AND_MAIL = _PLACES.add_columns(*RECENT_MAIL_COLUMNS)
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
# Each activity's own waiting list: confirmed parties waiting for a place in it.
_WAITING_BY_ACTIVITY = (
    select(
        ActivityWait.activity_id,
        func.count(ActivityWait.id),
        func.coalesce(func.sum(Registration.party_size), 0),
    )
    .join(Registration, Registration.id == ActivityWait.registration_id)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.status == RegistrationStatus.CONFIRMED,
    )
    .group_by(ActivityWait.activity_id)
)


def _places(
    event: Event,
    email: str | None = None,
    activities: list[Activity] | None = None,
    booking_code: str | None = None,
    mail_at: datetime | None = None,
) -> tuple[Availability, int | None, bool, tuple[int, datetime | None] | None]:
    """The event's places and waiting list (and those of `activities`, if given), the id of
    `email`'s active registration, whether `booking_code` is taken, and (given `mail_at`,
    now) `email`'s recent mail for the hourly cap (notifications.recent_mail)."""
    params = {"event_id": event.id, "email": email, "booking_code": booking_code}
    if mail_at is None:
        row = db.session.execute(_PLACES, params).one()
    else:
        row = db.session.execute(
            _PLACES_AND_MAIL, {**params, **recent_mail_params(email, mail_at)}
        ).one()
    has_counters, in_person, online, waiting_people, waiting_parties, existing_id, code_taken = row[
        : len(_COUNTERS)
    ]
    recent_mail = None if mail_at is None else (row[-2], row[-1])
    if has_counters is None:  # the next flush writes the counted row
        count = counted(db.session, event.id)
        in_person, online = count["confirmed_in_person_people"], count["confirmed_online_people"]
        waiting_people, waiting_parties = count["people_waitlisted"], count["waiting_parties"]
    taking = places_taken(event.format, in_person, online)
    activities = activities or []
    taken_by_activity: dict[int, int] = {}
    waiting_by_activity: dict[int, tuple[int, int]] = {}
    if activities:
        taken_by_activity = dict(
            db.session.execute(_TAKEN_BY_ACTIVITY, {"event_id": event.id}).all()
        )
        waiting_by_activity = {
            activity_id: (parties, people)
            for activity_id, parties, people in db.session.execute(
                _WAITING_BY_ACTIVITY, {"event_id": event.id}
            )
        }
    places = Availability(
        capacity=event.capacity,
        confirmed_people=taking,
        online_people=in_person + online - taking,
        waitlisted_people=waiting_people,
        activities={
            a.id: ActivityPlaces(
                a.capacity,
                int(taken_by_activity.get(a.id, 0)),
                *(int(n) for n in waiting_by_activity.get(a.id, (0, 0))),
            )
            for a in activities
        },
        waiting_parties=waiting_parties,
    )
    return places, existing_id, bool(code_taken), recent_mail


def _free_booking_code(event_id: int, code: str, taken: bool) -> str:
    """`code`, or (if the event has it already) another one that is free. Asked under the
    event's lock, so no registration can take it meanwhile."""
    while taken:
        code = new_booking_code()
        taken = bool(
            db.session.scalar(select(_CODE_TAKEN), {"event_id": event_id, "booking_code": code})
        )
    return code


def places_left_by_event(events: list[Event]) -> dict[int, int | None]:
    """Places left at each of `events` (None: no limit), for a list of events: one query over
    their counters (services/measures.py), none per event."""
    people = event_people([e.id for e in events])
    return {e.id: people[e.id].places_left for e in events}


def availability(event: Event) -> Availability:
    """People confirmed, waiting and places left, for the event and its activities."""
    return _places(event, activities=event.activities)[0]


def _fits(places: Availability, party_size: int, takes_place: bool) -> bool:
    """Whether a party gets a place at the event; its activities are decided one by one."""
    return not takes_place or places.places_left is None or party_size <= places.places_left


_Party = TypeVar("_Party")  # a place in a waiting list: a registration, or its turn at an activity


def _in_turn(
    queue: Iterable[_Party], left: int | None, need: Callable[[_Party], int]
) -> list[_Party]:
    """Who of a waiting list (in its order) gets places, `left` of them free (None: no limit):
    each party that fits entirely in what is still left takes its places; a party that does
    not fit keeps its turn, and a later, smaller party that fits may pass it. `need(item)`
    is the places a party takes. The one rule of the event's list and every activity's."""
    taken = []
    for item in queue:
        people = need(item)
        if left is not None:
            if people > left:
                continue
            left -= people
        taken.append(item)
    return taken


# --- state changes ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityChoice:
    """An activity a party asked for, and where the party stands in it: CONFIRMED (it holds
    a place), or WAITLISTED with its place in the activity's own line, or WAITLISTED without
    one (`position` None) while the party waits for its place at the event itself."""

    activity: Activity
    status: RegistrationStatus
    position: int | None = None


@dataclass(frozen=True)
class RegistrationOutcome:
    """What the registrant is told. For a repeated email address `registration` is the
    existing one and `repeated` is True; callers must answer exactly as for a new one."""

    registration: Registration
    status: RegistrationStatus
    waitlist_position: int | None
    repeated: bool = False
    activities: tuple[ActivityChoice, ...] = ()

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


def _activity_full(activity: Activity) -> RegistrationRefused:
    return RegistrationRefused(
        Refusal.ACTIVITY_FULL,
        _("There are not enough free places in “%(title)s”.", title=activity.title),
        field="activity_ids",
    )


def follow_format(event: Event) -> int:
    """After the event's format changed: its registrations take part as the new format says,
    so that "in person" and "online" (the counters, the door, the totals) follow the event.
    Moved online, everyone watches online, except people already let in at the door and
    walk-ins (they were there); moved to in person, everyone comes; made hybrid, each keeps
    their choice. Under the event's lock, as every change to a registration. Returns how many
    registrations changed."""
    if event.format is EventFormat.HYBRID:
        return 0
    lock_event(event.id)
    wanted = _attendance_for(event, None)
    query = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
            Registration.attendance != wanted,
        )
        .order_by(Registration.id)
    )
    moved = 0
    for registration in lock_registrations(query):
        if wanted is Attendance.ONLINE and (
            registration.source is RegistrationSource.WALK_IN or registration.checked_in_people
        ):
            continue
        registration.attendance = wanted
        moved += 1
    db.session.flush()  # the counters move with this flush
    return moved


_INSERT_TERMS = insert(cast(Table, RegistrationSearchTerm.__table__))
_INSERT_ACTIVITIES = insert(registration_activities)
_INSERT_WAITS = insert(cast(Table, ActivityWait.__table__))


def _store_new(
    values: dict[str, Any], held: list[Activity], waits: list[Activity], now: datetime
) -> Registration:
    """Insert a new registration, its activities, its turns on activities' waiting lists and
    the words it is found by at the door, with plain statements on the session's connection
    rather than the unit of work's flush, which cost more CPU than the rest of a
    registration together (docs/PERFORMANCE.md). The flush's hooks are not run, so the
    caller moves the event's counters (add_to_counters), and the search terms are written
    here as the hook in models/registrations.py would. The registration comes back as an
    object of the session, as if just loaded; its relationships load when read."""
    registration = insert_loaded(Registration, values)
    connection = db.session.connection()
    terms = terms_for(registration.name, registration.phone, registration.booking_code)
    if terms:
        connection.execute(
            _INSERT_TERMS,
            [
                {"registration_id": registration.id, "term": term, "event_id": values["event_id"]}
                for term in terms
            ],
        )
    if held:
        connection.execute(
            _INSERT_ACTIVITIES,
            [{"registration_id": registration.id, "activity_id": a.id} for a in held],
        )
    if waits:
        connection.execute(
            _INSERT_WAITS,
            [
                {"registration_id": registration.id, "activity_id": a.id, "created_at": now}
                for a in waits
            ],
        )
    return registration


def register(
    event_id: int,
    request: RegistrationRequest,
    now: datetime,
    source: RegistrationSource = RegistrationSource.WEB,
    by_user: User | None = None,
) -> RegistrationOutcome:
    """Register a party for an event: confirmed if it fits, otherwise waitlisted (or refused);
    in each activity it asks for, a place if the activity has room for the whole party,
    otherwise a turn on that activity's own waiting list."""
    staff = by_user is not None and source in (
        RegistrationSource.ORGANISER,
        RegistrationSource.WALK_IN,
    )
    request = normalise_request(
        request, contact_required=source is not RegistrationSource.WALK_IN or not staff
    )
    public = by_user is None

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
    # Most parties choose no activity: then the event's activities need not be read here.
    activities = lock_activities(event.id) if request.activity_ids else {}
    unknown = [a for a in request.activity_ids if a not in activities]
    if unknown:
        raise ValidationFailed({"activity_ids": _("Choose activities of this event.")})

    # Places, whether the address or the booking code is taken, and the address's recent mail
    # (the hourly cap, for a public request): one round trip, under the lock.
    code = new_booking_code()
    places, existing_id, code_taken, mail_cap = _places(
        event,
        request.email,
        list(activities.values()),
        booking_code=code,
        mail_at=now if public and request.email else None,
    )
    takes_place = attendance is Attendance.IN_PERSON or event.format is EventFormat.ONLINE
    fits = _fits(places, request.party_size, takes_place)
    status = RegistrationStatus.CONFIRMED if fits else RegistrationStatus.WAITLISTED
    # Under the lock every earlier registration of the event is committed and has a smaller
    # id, so a new waiting party is last in line (on the event's list and the activities').
    position = None if fits else places.next_waitlist_position
    chosen = [activities[a] for a in request.activity_ids]
    if fits:
        held = [a for a in chosen if places.activities[a.id].fits(request.party_size)]
    else:  # asked for; given by the same rule when the party gets its place at the event
        held = chosen
    waits = [a for a in chosen if a not in held]
    choices = tuple(
        ActivityChoice(
            a, RegistrationStatus.WAITLISTED, places.activities[a.id].next_waitlist_position
        )
        if a in waits
        else ActivityChoice(a, status)
        for a in chosen
    )

    # Before the repeat check: the same answer for all.
    if not request.join_waitlist and not fits:
        raise RegistrationRefused(Refusal.FULL, _("There are not enough free places."))
    if not request.join_waitlist and waits:
        raise _activity_full(waits[0])

    if existing_id is not None:
        if staff:
            raise ValidationFailed(
                {"email": _("This email address is already registered for this event.")}
            )
        # Say what a new registration would have heard; the owner of the address gets
        # their real ticket again by email.
        existing = db.session.get_one(Registration, existing_id)  # found under the event's lock
        # Counted under the lock (with the places): repeats of one address for one event
        # queue on it, and "your ticket again" is what someone would repeat to flood an inbox.
        notify("registration_repeated", existing, now, public=True, recent=mail_cap)
        return RegistrationOutcome(
            registration=existing,
            status=status,
            waitlist_position=position,
            repeated=True,
            activities=choices,
        )
    registration = _store_new(
        {
            "event_id": event.id,
            "status": status,
            "name": request.name,
            "email": request.email,
            "phone": request.phone,
            "party_size": request.party_size,
            "attendance": attendance,
            "needs": request.needs,
            "needs_mask": need_list.mask_of(request.access_needs),
            "language": request.language,
            "source": source,
            "booking_code": _free_booking_code(event.id, code, code_taken),
            "created_by_id": by_user.id if by_user else None,
            "consent_at": now,
            "consent_notice_version": PRIVACY_NOTICE_VERSION,
            "follow_up_consent_at": now if request.follow_up_consent else None,
            "created_at": now,
            "confirmed_at": now if fits else None,
        },
        held,
        waits,
        now,
    )
    notify_stored(
        "registration_confirmed" if fits else "registration_waitlisted",
        registration,
        now,
        public=public,
        recent=mail_cap,
    )
    # The event's counters last (services/locking.py: the counters row after every other).
    add_to_counters(db.session.connection(), event.id, contribution_of(registration), stored=True)
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
    return RegistrationOutcome(
        registration=registration, status=status, waitlist_position=position, activities=choices
    )


def stream_link(registration: Registration) -> str | None:
    """The online stream's link for a party that holds a place online; the people who come
    in person, and those still waiting, don't get it (unless the organiser made it public)."""
    event = registration.event
    if (
        event.stream_url
        and registration.status is RegistrationStatus.CONFIRMED
        and registration.attendance is Attendance.ONLINE
    ):
        return event.stream_url
    return None


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


# An activity's waiting list: the waits of confirmed parties, in order (a cancelled party
# waits for nothing any more).
_ACTIVITY_QUEUE = (
    select(ActivityWait.id)
    .join(Registration, Registration.id == ActivityWait.registration_id)
    .where(Registration.status == RegistrationStatus.CONFIRMED)
)


def activity_choices(registration: Registration) -> list[ActivityChoice]:
    """Each activity the party asked for and where it stands in it (see ActivityChoice), in
    the order of the programme; nothing for a cancelled registration."""
    if registration.status is RegistrationStatus.CANCELLED:
        return []
    choices = [ActivityChoice(a, registration.status) for a in registration.activities]
    if registration.status is RegistrationStatus.CONFIRMED:
        for wait in registration.activity_waits:
            position = db.session.scalar(
                select(func.count()).select_from(
                    _ACTIVITY_QUEUE.where(
                        ActivityWait.activity_id == wait.activity_id, ActivityWait.id <= wait.id
                    ).subquery()
                )
            )
            choices.append(ActivityChoice(wait.activity, RegistrationStatus.WAITLISTED, position))
    return sorted(choices, key=lambda c: (c.activity.starts_at, c.activity.id))


def activity_waitlist_positions(event_id: int) -> dict[tuple[int, int], int]:
    """(registration id, activity id) → place in that activity's line, for an event's
    lists, in one query."""
    rows = db.session.execute(
        select(ActivityWait.registration_id, ActivityWait.activity_id)
        .join(Registration, Registration.id == ActivityWait.registration_id)
        .where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(ActivityWait.activity_id, ActivityWait.id)
    )
    positions: dict[tuple[int, int], int] = {}
    counts: dict[int, int] = {}
    for registration_id, activity_id in rows:
        counts[activity_id] = counts.get(activity_id, 0) + 1
        positions[(registration_id, activity_id)] = counts[activity_id]
    return positions


def resident_may_change(registration: Registration, now: datetime) -> bool:
    """Residents change or cancel online until the event starts; after that, staff do."""
    return (
        registration.is_active
        and registration.event.status is EventStatus.PUBLISHED
        and now < registration.event.starts_at
    )


def _locked(registration: Registration) -> Registration:
    """`registration` locked and re-read (services/locking.py); NotFound if it is gone."""
    locked = lock_registration(registration)
    if locked is None:
        raise NotFound()
    return locked


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
    registration = _locked(registration)
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


# --- undoing a cancellation -----------------------------------------------------------------

# How long after cancelling a resident may undo it through the private link: an undo of a
# mistaken click, not a way around the registration deadline (to come after all, later, one
# registers again). Staff may restore a registration until the event ends, as they may
# register someone until then.
RESIDENT_UNDO = timedelta(minutes=30)


@dataclass(frozen=True)
class RestoreOutcome:
    """Where a restored registration stands, and what its registrant was told."""

    status: RegistrationStatus
    waitlist_position: int | None
    activities: tuple[ActivityChoice, ...]
    withdrawn: bool  # the cancellation notice had not gone out, and never will
    notified: bool  # a notice that the registration is valid again was queued


def resident_undo_until(registration: Registration) -> datetime | None:
    """Until when the resident may undo their cancellation (None: not cancelled)."""
    if registration.status is not RegistrationStatus.CANCELLED or not registration.cancelled_at:
        return None
    return min(registration.cancelled_at + RESIDENT_UNDO, registration.event.starts_at)


def _restore_refused(registration: Registration, now: datetime, by_user: User | None) -> str | None:
    """Why this registration cannot be restored by `by_user` (None: its resident) whatever the
    places, or None. The places are counted under the lock (restore_registration)."""
    if registration.status is not RegistrationStatus.CANCELLED:
        return _("This registration is not cancelled.")
    if registration.anonymised_at is not None:
        return _("The personal data of this registration are erased, so it cannot be restored.")
    event = registration.event
    if event.status is not EventStatus.PUBLISHED or event.has_ended(now):
        return registration_window(event, now).describe()
    undo_until = resident_undo_until(registration)
    if by_user is None and (undo_until is None or now >= undo_until):
        return _(
            "A cancellation can be undone here only within %(n)d minutes, before the event "
            "starts. To come after all, please register again.",
            n=RESIDENT_UNDO.seconds // 60,
        )
    return None


def _no_room(registration: Registration, left: int | None, by_user: User | None) -> str:
    if by_user is None:
        return _(
            "Your place has been given to someone from the waiting list meanwhile, so the "
            "cancellation cannot be undone. You can register again and join the waiting list."
        )
    return _(
        "It cannot be restored: it needs %(n)d places and %(left)d are free now (its places "
        "went to people on the waiting list). To let the party come, register them again: "
        "they join the end of the waiting list.",
        n=registration.party_size,
        left=left or 0,
    )


@dataclass(frozen=True)
class RestorePreview:
    """Whether the page offers to undo a cancellation, and what it would give (counted without
    a lock: restore_registration decides again)."""

    possible: bool
    status: RegistrationStatus | None = None  # CONFIRMED, or WAITLISTED back in its turn
    reason: str | None = None  # why not


def restore_preview(
    registration: Registration, now: datetime, by_user: User | None = None
) -> RestorePreview:
    refused = _restore_refused(registration, now, by_user)
    if refused is None:
        refused = _other_active_registration(registration)
    if refused is not None:
        return RestorePreview(False, reason=refused)
    places = availability(registration.event)
    if _fits(places, registration.party_size, registration.takes_a_place):
        return RestorePreview(True, RegistrationStatus.CONFIRMED)
    if registration.confirmed_at is None:
        return RestorePreview(True, RegistrationStatus.WAITLISTED)
    return RestorePreview(False, reason=_no_room(registration, places.places_left, by_user))


def _other_active_registration(registration: Registration) -> str | None:
    if registration.email and db.session.scalar(
        select(Registration.id).where(
            Registration.event_id == registration.event_id,
            Registration.email == registration.email,
            Registration.status != RegistrationStatus.CANCELLED,
            Registration.id != registration.id,
        )
    ):
        return _(
            "This email address has registered for the event again since, so this "
            "registration cannot be restored."
        )
    return None


def restore_registration(
    registration: Registration, now: datetime, by_user: User | None = None
) -> RestoreOutcome:
    """Undo a cancellation, while places allow, by the rules a new registration meets:
    - a party that fits in the places free now is confirmed (whether it held a place or was
      waiting when it was cancelled); in each activity it had, a place if the activity still
      has room for it, otherwise a turn at the end of that activity's waiting list;
    - a party that was waiting when it was cancelled, and does not fit, is back on the
      waiting list in its former turn: its cancellation gave nobody anything;
    - a party that held places and does not fit is refused (RegistrationRefused NO_ROOM): its
      places went to the waiting list, whose parties were told so by mail and keep them, and
      putting it back in line in its old turn would pass everyone already waiting. Staff
      register it again instead, at the end of the waiting list.
    The cancellation notice that has not gone out yet is withdrawn, so the registrant hears
    nothing of a cancellation undone at once; one that went out is followed by a notice that
    the registration is valid again (with the ticket). Audited."""
    locked = lock_registration(registration)
    if locked is None:
        raise NotFound()
    registration = locked
    refused = _restore_refused(registration, now, by_user) or _other_active_registration(
        registration
    )
    if refused is not None:
        raise ServiceError(refused)
    event = registration.event
    activities = lock_activities(event.id)  # held already: this reads them
    places = _places(event, activities=list(activities.values()))[0]
    size = registration.party_size
    fits = _fits(places, size, registration.takes_a_place)
    if not fits and registration.confirmed_at is not None:
        raise RegistrationRefused(
            Refusal.NO_ROOM, _no_room(registration, places.places_left, by_user)
        )

    status = RegistrationStatus.CONFIRMED if fits else RegistrationStatus.WAITLISTED
    audit.record(
        audit.Action.REGISTRATION_RESTORE,
        actor=by_user or audit.RESIDENT,
        target_type="registration",
        target_id=registration.id,
        event=event,
        detail=audit.transition(
            RegistrationStatus.CANCELLED,
            status,
            audit.N_("%(old)s → %(new)s, party size %(n)d"),
            n=size,
        ),
    )
    if fits:
        # What the party had or waited for, in the programme's order; its turns on the
        # activities' lists are new ones, at the end (the old ones were given up).
        wanted = [a for a in activities.values() if a in registration.activities] + [
            w.activity
            for w in registration.activity_waits
            if w.activity not in registration.activities
        ]
        held = [a for a in wanted if places.activities[a.id].fits(size)]
        registration.activities = held
        registration.activity_waits = []
        db.session.flush()  # the old turns go before new ones (one per activity) come
        registration.activity_waits = [
            ActivityWait(activity=a, created_at=now) for a in wanted if a not in held
        ]
        registration.confirmed_at = registration.confirmed_at or now
    registration.status = status
    registration.cancelled_at = None
    db.session.flush()  # the counters move with this flush

    withdrawn = lock_pending_messages(registration.id, "registration_cancelled")
    for message in withdrawn:
        message.status = OutboxStatus.SKIPPED
        message.last_error = "withdrawn: the cancellation was undone before it went out"
    last_notice = db.session.scalar(
        select(OutboxMessage.status)
        .where(
            OutboxMessage.registration_id == registration.id,
            OutboxMessage.kind == "registration_cancelled",
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    notified = False
    if last_notice in (OutboxStatus.SENT, OutboxStatus.SENDING):
        notified = (
            notify("registration_restored", registration, now, public=by_user is None) is not None
        )
    db.session.flush()
    return RestoreOutcome(
        status=status,
        waitlist_position=waitlist_position(registration),
        activities=tuple(activity_choices(registration)),
        withdrawn=bool(withdrawn) and not notified,
        notified=notified,
    )


def change_party_size(
    registration: Registration, party_size: int, now: datetime, by_user: User | None = None
) -> list[Registration]:
    """Fewer people free places (promoting others); more people need free places at the
    event (or the change is refused), and in each activity (or the party waits for it).
    Returns the parties promoted at the event."""
    if (party_error := party_size_error(party_size)) is not None:
        raise ValidationFailed({"party_size": party_error})
    change = RegistrationChange(party_size=party_size)
    return change_registration(registration, change, now, by_user=by_user).promoted


@dataclass
class RegistrationChange:
    """What a resident (or staff) asks to change; None leaves a field as it is, and an empty
    email or phone removes it (one of them must stay, but for a walk-in)."""

    party_size: int | None = None
    attendance: Attendance | None = None
    activity_ids: list[int] | None = None
    needs: str | None = None
    phone: str | None = None
    email: str | None = None
    language: str | None = None
    access_needs: list[Need] | None = None  # ticked needs (all of them: [] ticks none)


# The fields in the order they are reported (mail, audit log). "needs" is the ticked needs
# and the free text together: what the person needs.
CHANGEABLE = ("party_size", "attendance", "activities", "needs", "phone", "email", "language")
# What the API's change takes (the names of RegistrationChange).
CHANGE_FIELDS = (
    "party_size",
    "attendance",
    "activity_ids",
    "needs",
    "access_needs",
    "phone",
    "email",
    "language",
)


@dataclass(frozen=True)
class ChangeOutcome:
    changed: tuple[str, ...]  # of CHANGEABLE
    activities: tuple[ActivityChoice, ...]  # where the party stands in each, after the change
    promoted: list[Registration]  # parties that got a place at the event through it


def _check_change(registration: Registration, change: RegistrationChange) -> RegistrationRequest:
    """The registration as the change would leave it, checked by the same rules as a new
    one; ValidationFailed lists every problem."""
    merged = RegistrationRequest(
        name=registration.name,
        email=registration.email if change.email is None else change.email,
        phone=registration.phone if change.phone is None else change.phone,
        party_size=registration.party_size if change.party_size is None else change.party_size,
        activity_ids=list(change.activity_ids or []),
        attendance=change.attendance,
        needs=registration.needs if change.needs is None else change.needs,
        language=registration.language if change.language is None else change.language,
        consent=True,
        access_needs=registration.access_needs
        if change.access_needs is None
        else change.access_needs,
    )
    return normalise_request(
        merged, contact_required=registration.source is not RegistrationSource.WALK_IN
    )


def change_registration(
    registration: Registration,
    change: RegistrationChange,
    now: datetime,
    by_user: User | None = None,
) -> ChangeOutcome:
    """Change a registration under the rules a new one meets. At the event: more people, or
    coming in person instead of watching online, need free places (or the change is refused:
    RegistrationRefused NO_ROOM); while the party waits for the event it may change freely.
    In the activities: one added gets a place if it has room for the whole party, otherwise
    a turn at the end of its waiting list; an activity whose place cannot take the party's
    extra people goes to the end of its waiting list too; one dropped frees its places.
    Whatever is freed goes to the waiting lists. The change is audited (field names and
    numbers, never contents) and confirmed by mail in the registration's (new) language;
    a new email address gets the confirmation again, the old one a notice."""
    _check_change(registration, change)  # before waiting for any lock
    registration = _locked(registration)
    _require_changeable(registration, now, by_user)
    # Again, on the row as it is under the lock: the fields not changed here keep the values
    # they have now, not the ones read before (another change may have come in between).
    clean = _check_change(registration, change)
    event = registration.event
    activities = lock_activities(event.id)  # held already: this reads them
    errors: dict[str, str] = {}
    if change.activity_ids is not None and any(a not in activities for a in clean.activity_ids):
        errors["activity_ids"] = _("Choose activities of this event.")
    attendance = registration.attendance
    if change.attendance is not None and change.attendance is not registration.attendance:
        if event.format is not EventFormat.HYBRID:
            errors["attendance"] = _("At this event everyone takes part the same way.")
        attendance = change.attendance
    email = clean.email if change.email is not None else registration.email
    if (
        email is not None
        and email != registration.email
        and db.session.scalar(
            select(Registration.id).where(
                Registration.event_id == event.id,
                Registration.email == email,
                Registration.status != RegistrationStatus.CANCELLED,
            )
        )
    ):
        errors["email"] = _("This email address is already registered for this event.")
    if errors:
        raise ValidationFailed(errors)

    size = clean.party_size
    if size < registration.checked_in_people:  # the totals would count a no-show below 0
        raise ValidationFailed(
            {
                "party_size": _(
                    "%(n)d people of this party are already in; the party cannot be smaller.",
                    n=registration.checked_in_people,
                )
            }
        )
    confirmed = registration.status is RegistrationStatus.CONFIRMED
    places = _places(event, activities=list(activities.values()))[0]
    if confirmed:
        takes_place = attendance is Attendance.IN_PERSON or event.format is EventFormat.ONLINE
        extra = (size if takes_place else 0) - (
            registration.party_size if registration.takes_a_place else 0
        )
        if extra > 0 and places.places_left is not None and extra > places.places_left:
            if attendance is not registration.attendance:
                raise RegistrationRefused(
                    Refusal.NO_ROOM,
                    _(
                        "There are not enough free places at the venue for %(n)d people. "
                        "You can keep taking part online.",
                        n=size,
                    ),
                    field="attendance",
                )
            raise RegistrationRefused(
                Refusal.NO_ROOM,
                _("There are not enough free places for %(n)d more people.", n=extra),
                field="party_size",
            )

    before = _activity_state(registration)
    if confirmed:
        held = {a.id: a for a in registration.activities}
        waiting = {w.activity_id: w for w in registration.activity_waits}
        wanted = set(clean.activity_ids) if change.activity_ids is not None else {*held, *waiting}
        grows_by = size - registration.party_size
        for activity_id in sorted(held.keys() - wanted):
            registration.activities.remove(held[activity_id])
        for activity_id in sorted(waiting.keys() - wanted):
            registration.activity_waits.remove(waiting[activity_id])
        for activity_id in sorted(wanted):
            activity, room = activities[activity_id], places.activities[activity_id]
            if activity_id in held:
                if grows_by > 0 and not room.fits(grows_by):
                    registration.activities.remove(activity)  # to the end of its line
                    registration.activity_waits.append(
                        ActivityWait(activity=activity, created_at=now)
                    )
            elif activity_id not in waiting:
                if room.fits(size):
                    registration.activities.append(activity)
                else:
                    registration.activity_waits.append(
                        ActivityWait(activity=activity, created_at=now)
                    )
    elif change.activity_ids is not None:
        registration.activities = [activities[a] for a in clean.activity_ids]

    new_values = {
        "party_size": size,
        "attendance": attendance,
        "needs": clean.needs,
        "needs_mask": need_list.mask_of(clean.access_needs),
        "phone": clean.phone if change.phone is not None else registration.phone,
        "email": email,
        "language": clean.language,
    }
    old_values = {name: getattr(registration, name) for name in new_values}
    changed = tuple(
        name
        for name in CHANGEABLE
        if (
            _activity_state(registration) != before
            if name == "activities"
            else old_values[name] != new_values[name]
            or (name == "needs" and old_values["needs_mask"] != new_values["needs_mask"])
        )
    )
    if not changed:
        return ChangeOutcome((), tuple(activity_choices(registration)), [])
    for name, value in new_values.items():
        setattr(registration, name, value)

    actor = by_user or audit.RESIDENT
    if "party_size" in changed:
        audit.record(
            audit.Action.REGISTRATION_PARTY_SIZE,
            actor=actor,
            target_type="registration",
            target_id=registration.id,
            event=event,
            detail=audit.transition(
                old_values["party_size"], size, audit.N_("party size %(old)d → %(new)d")
            ),
        )
    others = [name for name in changed if name != "party_size"]
    if others:
        audit.record(
            audit.Action.REGISTRATION_UPDATE,
            actor=actor,
            target_type="registration",
            target_id=registration.id,
            event=event,
            detail=audit.part(
                audit.N_("changed: %(fields)s"), fields=audit.names("registration_field", others)
            ),
        )
    db.session.flush()

    # What changed, for the mail: numbers and states as they were and are, the rest by name.
    shown = {
        "party_size": [old_values["party_size"], size],
        "attendance": [old_values["attendance"].value, attendance.value],
        "language": [old_values["language"], clean.language],
    }
    payload = {"fields": {name: shown.get(name) for name in changed}}
    public = by_user is None
    if "email" in changed:
        if old_values["email"]:
            notify(
                "registration_email_changed",
                registration,
                now,
                public=public,
                recipient=old_values["email"],
            )
        kind = "registration_confirmed" if confirmed else "registration_waitlisted"
        notify(kind, registration, now, payload, public=public)  # the new address
    else:
        notify("registration_changed", registration, now, payload, public=public)
    promoted = promote_waitlist(event.id, now)
    return ChangeOutcome(changed, tuple(activity_choices(registration)), promoted)


def _activity_state(registration: Registration) -> tuple[frozenset[int], frozenset[int]]:
    return (
        frozenset(a.id for a in registration.activities),
        frozenset(w.activity_id for w in registration.activity_waits),
    )


def change_attendance(
    registration: Registration, attendance: Attendance, now: datetime, by_user: User | None = None
) -> list[Registration]:
    """At a hybrid event: come in person instead of watching online, or the other way round
    (change_registration's rules: coming in person needs free places, watching online frees
    them for the waiting list). Returns those promoted."""
    if not isinstance(attendance, Attendance):
        raise ValidationFailed({"attendance": _("Choose in person or online.")})
    change = RegistrationChange(attendance=attendance)
    return change_registration(registration, change, now, by_user=by_user).promoted


def promote_waitlist(event_id: int, now: datetime) -> list[Registration]:
    """Give free places to waiting parties by the rule of every waiting list (_in_turn): first
    each activity's own list (those parties hold their place at the event and have waited
    for the activity longest), then the event's, whose parties, once confirmed, take the
    places left in the activities they asked for, or join those activities' lists. Returns
    the parties that got a place at the event."""
    event = lock_event(event_id)
    if event.status is not EventStatus.PUBLISHED or event.has_ended(now):
        return []
    activities = lock_activities(event_id)
    places = _places(event, activities=list(activities.values()))[0]
    activity_left = {a: p.left for a, p in places.activities.items()}
    if any(p.waiting_parties and p.left != 0 for p in places.activities.values()):
        _promote_activity_waits(event, activity_left, now)

    promoted = _in_turn(
        lock_waiting_list(event_id),
        places.places_left,
        lambda r: r.party_size if r.takes_a_place else 0,
    )
    for registration in promoted:
        size = registration.party_size
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = now
        for activity in list(registration.activities):
            left = activity_left.get(activity.id)
            if left is None or size <= left:
                if left is not None:
                    activity_left[activity.id] = left - size
            else:  # full: the party joins its line, keeping its place at the event
                registration.activities.remove(activity)
                registration.activity_waits.append(ActivityWait(activity=activity, created_at=now))
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


def _promote_activity_waits(
    event: Event, activity_left: dict[int, int | None], now: datetime
) -> None:
    """Freed places of activities to the parties on their waiting lists (locked, in order);
    `activity_left` is updated."""
    queues: dict[int, list[ActivityWait]] = {}
    for wait in lock_activity_waits(event.id):
        queues.setdefault(wait.activity_id, []).append(wait)
    for activity_id, queue in queues.items():
        left = activity_left.get(activity_id)
        for wait in _in_turn(queue, left, lambda w: w.registration.party_size):
            registration, activity = wait.registration, wait.activity
            registration.activity_waits.remove(wait)
            registration.activities.append(activity)
            if left is not None:
                left -= registration.party_size
            notify("activity_promoted", registration, now, {"activity_id": activity_id})
            audit.record(
                audit.Action.REGISTRATION_ACTIVITY_PROMOTE,
                actor=audit.SYSTEM,
                target_type="registration",
                target_id=registration.id,
                event=event,
                detail=audit.part(
                    audit.N_("activity %(id)d, party size %(n)d"),
                    id=activity_id,
                    n=registration.party_size,
                ),
            )
        activity_left[activity_id] = left
    db.session.flush()


def registration_by_token(token: str) -> Registration:
    """The registration this manage link belongs to; anything else is not found."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise NotFound()
    registration = db.session.scalar(select(Registration).where(Registration.manage_token == token))
    if registration is None:
        raise NotFound()
    return registration
