"""The event's to-call list: nobody is forgotten for want of an email address.

The notices people must get (the event changed or was cancelled, a place came free for them,
the organisers' own message) go by mail (services/notifications.py). Where mail cannot carry
one, it lands here, for the event's organisers to phone the person:
- the registrant left no email address (registered by phone, say): notify() notes the notice
  at once (`note`, the kinds in TOLD_BY_PHONE);
- the mail was refused for good, or given up after the last retry: the worker notes it when
  it marks the message failed (`note_undelivered`, any kind but UNDELIVERED_NOT_CALLED: a
  ticket that never arrived needs a call as much as a change does).

What to tell them is built in the person's own language from the same facts as the mail
(`script`). The organiser marks the call done (who and when; audited). A call that lost its
point is neither shown nor counted: its registration was cancelled since (unless the call is
about that cancellation); a later change of the event is folded into an open call about an
earlier one (was the first value, now the last), and the event's cancellation replaces every
other open call of its registrants. The large-print letters (services/letters.py) print the
same scripts. Erasure and the retention purge delete the calls with the registration
(services/privacy.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db, rows_matched
from ..folding import fold
from ..i18n import label, local_period, local_time
from ..models import (
    ACTIVE_STATUSES,
    Attendance,
    CallReason,
    Event,
    EventFormat,
    LocalText,
    OutboxMessage,
    PhoneCall,
    Registration,
    RegistrationStatus,
    User,
)
from . import NotFound, access, audit

# Notices that a registrant without an email address is phoned about.
TOLD_BY_PHONE = frozenset(
    {
        "event_changed",
        "event_cancelled",
        "registration_promoted",
        "activity_promoted",
        "organiser_message",
    }
)
# Failed mail nobody is phoned about: the notice to an address the registration no longer
# uses (the new one works), and the anonymous feedback form after the event.
UNDELIVERED_NOT_CALLED = frozenset({"registration_email_changed", "event_feedback"})
# Calls still worth making once the registration is cancelled.
ABOUT_AN_END = frozenset({"event_cancelled", "registration_cancelled"})


# --- noting a call ----------------------------------------------------------------------------


def note(
    kind: str,
    registration: Registration,
    reason: CallReason,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> PhoneCall | None:
    """Put a notice on the registration's event's to-call list, in the caller's transaction;
    the open call that now holds it (an earlier one it was folded into), or None when it
    needs no call any more (a change undone by a later one)."""
    if registration.anonymised_at is not None:
        return None
    payload = dict(payload or {})
    waiting = _open_calls_of(registration)
    if kind == "event_cancelled":  # the event is off: nothing else is worth a call
        for call in waiting:
            if call.kind != "event_cancelled":
                db.session.delete(call)
    for call in waiting:
        if call.kind == kind == "event_changed":
            return _fold_changes(call, payload.get("changes") or {})
        if call.kind == kind and call.payload == payload:
            return call  # the same notice twice (a second failed copy): one call
    call = PhoneCall(
        event=registration.event,
        registration=registration,
        kind=kind,
        reason=reason,
        payload=payload,
        created_at=now,
    )
    db.session.add(call)
    return call


def _open_calls_of(registration: Registration) -> list[PhoneCall]:
    if registration.id is None:
        return []
    return list(
        db.session.scalars(
            select(PhoneCall)
            .where(PhoneCall.registration_id == registration.id, PhoneCall.done_at.is_(None))
            .order_by(PhoneCall.id)
        )
    )


def _fold_changes(call: PhoneCall, later: dict[str, list[Any]]) -> PhoneCall | None:
    """An open call about a change, told a later change too: each fact as it was before the
    first and as it is after the last; a fact changed back drops out, and so does the call."""
    changes = {key: list(values) for key, values in (call.payload.get("changes") or {}).items()}
    for key, (old, new) in later.items():
        first = changes[key][0] if key in changes else old
        if first == new:
            changes.pop(key, None)
        else:
            changes[key] = [first, new]
    if not changes:
        db.session.delete(call)
        return None
    call.payload = {**call.payload, "changes": changes}  # a new dict: the JSON column sees it
    return call


def note_undelivered(message_id: int, now: datetime) -> PhoneCall | None:
    """The mail worker gave a message up for good (in the unit of work that records it)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.kind in UNDELIVERED_NOT_CALLED:
        return None
    registration = message.registration
    if registration is None:
        return None
    return note(message.kind, registration, CallReason.UNDELIVERED, now, message.payload)


# --- who is told how ----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone on a list the organiser reads: to phone, or to write a letter to."""

    registration_id: int
    name: str
    phone: str | None
    language: str


@dataclass(frozen=True)
class Reach:
    """Before a notice goes: how many registrations get it by email, and who must be phoned."""

    emailed: int = 0
    phoned: list[Person] = field(default_factory=list)

    @property
    def anyone(self) -> bool:
        return bool(self.emailed or self.phoned)


def reach(event_id: int, statuses: Iterable[RegistrationStatus] = ACTIVE_STATUSES) -> Reach:
    """Whom a notice to the event's registrations in `statuses` reaches, and how."""
    rows = db.session.execute(
        select(Registration.id, Registration.name, Registration.phone, Registration.language).where(
            Registration.event_id == event_id,
            Registration.status.in_(statuses),
            Registration.anonymised_at.is_(None),
            Registration.email.is_(None),
        )
    ).all()
    emailed = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.event_id == event_id,
            Registration.status.in_(statuses),
            Registration.email.is_not(None),
        )
    )
    phoned = sorted((Person(*row) for row in rows), key=by_name)
    return Reach(emailed=emailed or 0, phoned=phoned)


# --- the list ---------------------------------------------------------------------------------


def _worth_calling() -> ColumnElement[bool]:
    """An open call whose registration still stands (or which is about its end)."""
    return and_(
        PhoneCall.done_at.is_(None),
        or_(
            Registration.status != RegistrationStatus.CANCELLED,
            PhoneCall.kind.in_(ABOUT_AN_END),
        ),
    )


def open_counts(event_ids: list[int]) -> dict[int, int]:
    """People still to phone, per event (one aggregate query; events with none left out)."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(PhoneCall.event_id, func.count(func.distinct(PhoneCall.registration_id)))
        .join(Registration, Registration.id == PhoneCall.registration_id)
        .where(PhoneCall.event_id.in_(event_ids), _worth_calling())
        .group_by(PhoneCall.event_id)
    )
    return {event_id: count for event_id, count in rows}


@dataclass(frozen=True)
class Script:
    """What to tell one person about one notice, in their language (`language`): the mail's
    opening line, the event's title, the facts, and an organiser's own message."""

    language: str
    opening: str
    title: LocalText
    lines: list[str] = field(default_factory=list)
    message: str | None = None


@dataclass
class ToCall:
    """One person to phone, with everything to tell them."""

    person: Person
    reason: CallReason  # why mail did not do (of the latest call)
    scripts: list[Script]
    up_to: int  # the newest call shown: marking done covers these, not one noted since


@dataclass(frozen=True)
class Called:
    person: Person
    kind: str
    done_at: datetime
    done_by: str | None  # the staff member's name (None: an account since deleted)


@dataclass
class CallList:
    to_call: list[ToCall]
    called: list[Called]


def call_list(user: User, event: Event) -> CallList:
    """The event's to-call list for one of its organisers: the people to phone (each with
    what to tell them, in their language) and the calls made."""
    _require_manages(user, event)
    calls = db.session.scalars(
        select(PhoneCall)
        .join(Registration, Registration.id == PhoneCall.registration_id)
        .where(
            PhoneCall.event_id == event.id,
            Registration.anonymised_at.is_(None),
            or_(PhoneCall.done_at.is_not(None), _worth_calling()),
        )
        .options(
            selectinload(PhoneCall.registration).selectinload(Registration.activities),
            selectinload(PhoneCall.done_by),
        )
        .order_by(PhoneCall.id)
    ).all()
    waiting: dict[int, list[PhoneCall]] = defaultdict(list)
    called = []
    for call in calls:
        if call.done_at is None:
            waiting[call.registration_id].append(call)
        else:
            called.append(
                Called(
                    person=person_of(call.registration),
                    kind=call.kind,
                    done_at=call.done_at,
                    done_by=call.done_by.name if call.done_by else None,
                )
            )
    to_call = [
        ToCall(
            person=person_of(group[0].registration),
            reason=group[-1].reason,
            scripts=[script(c.kind, c.registration, c.payload) for c in group],
            up_to=group[-1].id,
        )
        for group in waiting.values()
    ]
    to_call.sort(key=lambda item: by_name(item.person))
    called.sort(key=lambda item: item.done_at, reverse=True)
    return CallList(to_call=to_call, called=called)


def open_calls_by_registration(event_id: int) -> dict[int, list[PhoneCall]]:
    """The event's open calls worth making, per registration (for the letters)."""
    grouped: dict[int, list[PhoneCall]] = defaultdict(list)
    for call in db.session.scalars(
        select(PhoneCall)
        .join(Registration, Registration.id == PhoneCall.registration_id)
        .where(
            PhoneCall.event_id == event_id,
            Registration.anonymised_at.is_(None),
            _worth_calling(),
        )
        .order_by(PhoneCall.id)
    ):
        grouped[call.registration_id].append(call)
    return grouped


def by_name(person: Person) -> tuple[str, int]:
    """Alphabetical as people read a list (Ā with A, Č with C), whatever the database's order."""
    return fold(person.name), person.registration_id


def person_of(registration: Registration) -> Person:
    return Person(registration.id, registration.name, registration.phone, registration.language)


def mark_done(user: User, event: Event, registration_id: int, up_to: int, now: datetime) -> int:
    """The organiser phoned this person: their open calls up to `up_to` (those shown) are done,
    by `user`, now; returns how many (0: someone marked them a moment ago)."""
    _require_manages(user, event)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound()
    done = rows_matched(
        update(PhoneCall)
        .where(
            PhoneCall.event_id == event.id,
            PhoneCall.registration_id == registration_id,
            PhoneCall.id <= up_to,
            PhoneCall.done_at.is_(None),
        )
        .values(done_at=now, done_by_id=user.id)
        .execution_options(synchronize_session="fetch")
    )
    if done:
        audit.record(
            audit.Action.CALL_DONE,
            actor=user,
            target_type="registration",
            target_id=registration_id,
            event=event,
            detail=audit.part(audit.N_("calls marked done: %(n)d"), n=done),
        )
    return done


def remove_for(registration_ids: Iterable[int]) -> int:
    """Erasure and the retention purge: the registrations' calls go with their names."""
    ids = list(registration_ids)
    if not ids:
        return 0
    return rows_matched(
        delete(PhoneCall)
        .where(PhoneCall.registration_id.in_(ids))
        .execution_options(synchronize_session="fetch")
    )


def _require_manages(user: User, event: Event) -> None:
    access.require_organiser(user)
    if not access.can_manage_event(user, event):
        raise NotFound()


# --- what to tell them ------------------------------------------------------------------------


def when_text(event: Event) -> str:
    """'Thursday, 16 November 2028, 13:00–15:00' in the current language, Riga time."""
    return local_period(event.starts_at, event.ends_at)


def where_text(event: Event, registration: Registration) -> str:
    if registration.attendance is Attendance.ONLINE or event.format is EventFormat.ONLINE:
        return label(EventFormat.ONLINE)
    return ", ".join(part for part in (event.venue_name, event.venue_address) if part)


def _fact(what: str, value: str) -> str:
    return f"{what}: {value}"


def script(kind: str, registration: Registration, payload: dict[str, Any] | None = None) -> Script:
    """What to tell `registration`'s person about a notice of `kind`, in their language, from
    the facts the mail is made of (its opening line, what changed, when and where, the booking
    code)."""
    from .mailer import describe_changes  # the mail's own words for what changed
    from .registration import stream_link, waitlist_position

    payload = payload or {}
    event = registration.event
    language = registration.language
    with force_locale(language):
        when = _fact(_("When"), when_text(event))
        where = _fact(_("Where"), where_text(event, registration))
        code = _fact(_("Booking code"), registration.booking_code)
        link = stream_link(registration)  # taking part online: no ticket, a link
        watch = _fact(_("Watch online"), link) if link else None
        place = [when, watch] if watch else [when, where, code]
        message = None
        if kind == "event_changed":
            opening = _("The organiser has changed the event. Please note the new details below.")
            changes = payload.get("changes") or {}
            lines = [
                _fact(what, _("was %(old)s, now %(new)s", old=old, new=new))
                for what, old, new in describe_changes(changes)
            ]
            if watch and "stream_url" not in changes:  # moved online: how to watch
                lines.append(watch)
        elif kind == "event_cancelled":
            opening = _(
                "We are sorry: the event has been cancelled. You do not need to do anything."
            )
            lines = [when]
        elif kind == "registration_promoted":
            opening = _("Good news: a place became free and it is yours now.")
            lines = place
        elif kind == "activity_promoted":
            activity = next(
                (a for a in registration.activities if a.id == payload.get("activity_id")), None
            )
            name = activity.text("title", language).text if activity else ""
            opening = _(
                "Good news: a place in “%(activity)s” became free and it is yours now.",
                activity=name,
            )
            lines = [when]
            if activity is not None:
                lines.append(
                    _fact(name, f"{local_time(activity.starts_at)}–{local_time(activity.ends_at)}")
                )
        elif kind == "organiser_message":
            opening = payload.get("subject") or ""
            message = payload.get("body") or ""
            lines = []
        elif kind in ("registration_confirmed", "registration_repeated"):
            opening = _("Your place is reserved.")
            lines = place
        elif kind == "registration_waitlisted":
            opening = _(
                "All places are taken, so you are on the waiting list, position %(n)d. "
                "We will call you as soon as a place frees up for you.",
                n=waitlist_position(registration) or 0,
            )
            lines = [when]
        elif kind == "registration_cancelled":
            opening = _("Your registration is cancelled. Thank you for letting us know.")
            lines = [when]
        elif kind == "registration_changed":
            opening = _("Your registration is changed.")
            lines = [when, where, _fact(_("People"), str(registration.party_size))]
        elif kind == "event_reminder":
            opening = _(
                "A reminder that the event takes place soon. We look forward to seeing you."
            )
            lines = [when, where]
        else:
            from ..i18n import message_kind

            opening, lines = message_kind(kind), [when]
        return Script(
            language=language,
            opening=opening,
            title=event.text("title", language),
            lines=lines,
            message=message,
        )
