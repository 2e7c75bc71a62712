"""After the event: the follow-up list of people who could not come.

A resident may agree, when registering (the form, the phone registration, the API) or later
through the private link, that the social service contacts them if they could not come
(`follow_up_consent_at`; unticked by default, and withdrawn as easily). Once the event has
ended, its organisers (and admins; never the door, never the Ministry) see the follow-up list:
the people of confirmed registrations, made before the door, who take part in person, agreed,
and were not let in. A social worker marks each call made, with an optional outcome (reached,
not reached): who and when are kept on the registration, each call is audited, and the number
of calls is a counter of the event (models/event_stats.py), the one thing the totals count.

The retention purge and a resident's erasure (services/privacy.py) erase the consent and the
call marks with the rest of the personal data; the number of calls stays on the registration,
so the totals and `flask stats rebuild` count the same before and after.

Functions flush and never commit; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..folding import fold
from ..models import (
    Attendance,
    Event,
    EventStats,
    EventStatus,
    FollowUpOutcome,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    User,
)
from . import NotFound, ServiceError, ValidationFailed, access, audit
from .locking import lock_registration

# Who is on an event's list (with its event's id): everything but "the event has ended".
ON_THE_LIST = and_(
    Registration.status == RegistrationStatus.CONFIRMED,
    Registration.source != RegistrationSource.WALK_IN,
    Registration.attendance == Attendance.IN_PERSON,  # online, nobody is let in at a door
    Registration.follow_up_consent_at.is_not(None),
    Registration.checked_in_people == 0,
    Registration.anonymised_at.is_(None),
)


def list_is_open(event: Event, now: datetime) -> bool:
    """The list exists once a published event has ended (a cancelled one had nobody to miss)."""
    return event.status is EventStatus.PUBLISHED and event.has_ended(now)


def on_the_list(registration: Registration) -> bool:
    """Whether `registration` (of an event that has ended) belongs on the list, as ON_THE_LIST."""
    return (
        registration.status is RegistrationStatus.CONFIRMED
        and registration.source is not RegistrationSource.WALK_IN
        and registration.attendance is Attendance.IN_PERSON
        and registration.follow_up_consent_at is not None
        and registration.checked_in_people == 0
        and registration.anonymised_at is None
    )


@dataclass(frozen=True)
class FollowUpList:
    event: Event
    is_open: bool  # False: not ended yet, or cancelled (then `people` is empty)
    people: list[Registration]  # by name
    calls_made: int  # every call of the event, also to people erased since (the counter)

    @property
    def called(self) -> int:
        """People on the list called at least once."""
        return sum(1 for r in self.people if r.follow_up_calls)


def _calls_made(event_id: int) -> int:
    return (
        db.session.scalar(
            select(func.coalesce(EventStats.follow_up_calls, 0)).where(
                EventStats.event_id == event_id
            )
        )
        or 0
    )


def follow_up_list(user: User, event_id: int, now: datetime) -> FollowUpList:
    """The event's follow-up list for one of its organisers (or an admin)."""
    event = access.event_for_manager(user, event_id)
    people: list[Registration] = []
    is_open = list_is_open(event, now)
    if is_open:
        people = sorted(
            db.session.scalars(
                select(Registration)
                .where(Registration.event_id == event.id, ON_THE_LIST)
                .options(selectinload(Registration.follow_up_called_by))
                .order_by(Registration.id)
            ),
            key=lambda r: fold(r.name),  # Ā with A, as people look names up
        )
    return FollowUpList(event, is_open, people, _calls_made(event.id))


@dataclass(frozen=True)
class FollowUpCounts:
    people: int = 0  # on the list
    called: int = 0  # of them, called at least once


def follow_up_counts(event: Event, now: datetime) -> FollowUpCounts | None:
    """For the event page's link: how many are on the list and how many were called; None
    while there is no list."""
    if not list_is_open(event, now):
        return None
    people, called = db.session.execute(
        select(
            func.count(Registration.id),
            func.coalesce(func.sum(case((Registration.follow_up_calls > 0, 1), else_=0)), 0),
        ).where(Registration.event_id == event.id, ON_THE_LIST)
    ).one()
    return FollowUpCounts(int(people), int(called))


def parse_outcome(value: str | None) -> FollowUpOutcome | None:
    """A form's or a caller's outcome: empty for none, else one of FollowUpOutcome."""
    if value in (None, ""):
        return None
    if value not in FollowUpOutcome._value2member_map_:
        raise ValidationFailed({"outcome": _("Choose an outcome from the list.")})
    return FollowUpOutcome(value)


def mark_called(
    user: User,
    event_id: int,
    registration_id: int,
    outcome: FollowUpOutcome | None,
    now: datetime,
) -> Registration:
    """A social worker called someone on the list: one more call (the counter the totals
    count), who and when, and the outcome if given; audited without the person."""
    event = access.event_for_manager(user, event_id)
    if outcome is not None and not isinstance(outcome, FollowUpOutcome):
        raise ValidationFailed({"outcome": _("Choose an outcome from the list.")})
    if not list_is_open(event, now):
        raise ServiceError(_("The follow-up list opens once the event has ended."))
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound()
    registration = lock_registration(registration)  # the event, then the registration
    if registration is None or not on_the_list(registration):
        raise ServiceError(_("This person is not on the follow-up list any more."))
    registration.follow_up_calls += 1
    registration.follow_up_called_at = now
    registration.follow_up_called_by_id = user.id
    registration.follow_up_outcome = outcome
    audit.record(
        audit.Action.FOLLOW_UP_CALL,
        actor=user,
        target_type="registration",
        target_id=registration.id,
        event=event,
        detail=audit.part(
            audit.N_("call %(n)d: %(outcome)s"),
            n=registration.follow_up_calls,
            outcome=audit.value(outcome) if outcome is not None else None,
        ),
    )
    db.session.flush()  # the event's counter moves with this flush
    return registration


def set_consent(
    registration: Registration, agree: bool, now: datetime, by_user: User | None = None
) -> bool:
    """The resident agrees (or no longer agrees) to be contacted after the event, through the
    private link; staff following the link act as themselves. Withdrawing erases the call
    marks too (the number of calls made stays, for the totals). True if it changed."""
    locked = lock_registration(registration)
    if locked is None or locked.anonymised_at is not None:
        raise NotFound()
    registration = locked
    if not registration.is_active:
        raise ServiceError(_("This registration is cancelled."))
    if agree == (registration.follow_up_consent_at is not None):
        return False
    registration.follow_up_consent_at = now if agree else None
    if not agree:
        registration.follow_up_called_at = None
        registration.follow_up_called_by_id = None
        registration.follow_up_outcome = None
    audit.record(
        audit.Action.REGISTRATION_UPDATE,
        actor=by_user or audit.RESIDENT,
        target_type="registration",
        target_id=registration.id,
        event=registration.event,
        detail=audit.part(
            audit.N_("changed: %(fields)s"),
            fields=audit.names("registration_field", ["follow_up_consent"]),
        ),
    )
    db.session.flush()
    return True
