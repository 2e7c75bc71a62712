"""Publishing events: create, edit, publish, unpublish, cancel; the panel and activities.

The same rules serve the organiser pages, the CLI (demo data) and, later, the JSON API.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlparse

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Activity,
    ActivityKind,
    Campaign,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Municipality,
    Registration,
    RegistrationStatus,
    Speaker,
    SpeakerRole,
    TargetGroup,
    User,
    translation_columns,
)
from ..timezones import end_of_riga_day, riga_local_to_utc
from . import NotFound, ServiceError, ValidationFailed, audit
from .access import can_manage_organisation, managed_organisation_ids, require_organiser
from .input_rules import check_dates, check_text
from .locking import lock_activities, lock_event
from .notifications import Told, notify_registrants
from .registration import effective_close, follow_format, promote_waitlist
from .reminders import rearm


@dataclass
class EventData:
    """What an organiser sets on an event. Times are aware datetimes (UTC or any zone)."""

    kind: EventKind
    title: str
    organisation_id: int
    municipality_id: int
    starts_at: datetime
    ends_at: datetime
    summary: str = ""
    description: str = ""
    campaign_id: int | None = None
    venue_name: str = ""
    venue_address: str = ""
    desk_opens_at: datetime | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    capacity: int | None = None
    format: EventFormat = EventFormat.IN_PERSON
    stream_url: str | None = None
    stream_public: bool = False
    accessibility: str = ""
    language: str = "lv"
    target_groups: list[TargetGroup] = field(default_factory=list)
    # Optional Russian and English text; None: the Latvian is shown (models.events.Translated).
    title_ru: str | None = None
    title_en: str | None = None
    summary_ru: str | None = None
    summary_en: str | None = None
    description_ru: str | None = None
    description_en: str | None = None
    accessibility_ru: str | None = None
    accessibility_en: str | None = None
    # When the reminders go (services/reminders.py).
    remind_day_before: bool = True
    remind_two_hours: bool = False

    @classmethod
    def from_event(cls, event: Event) -> EventData:
        values = {f.name: getattr(event, f.name) for f in fields(cls)}
        return cls(**values)


def registration_deadline(day: date | None, at: time | None) -> datetime | None:
    """An organiser's deadline: a date alone means the end of that day in Riga."""
    if day is None:
        return None
    if at is None:
        return end_of_riga_day(day)
    return riga_local_to_utc(datetime.combine(day, at))


def _is_web_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def validate_event_data(user: User, data: EventData) -> None:
    """Raise ValidationFailed with a message per field when `data` breaks a rule."""
    errors: dict[str, str] = {}
    check_text(
        errors,
        {
            "title": data.title,
            "venue_name": data.venue_name,
            "venue_address": data.venue_address,
            "stream_url": data.stream_url,
            **{name: getattr(data, name) for name in translation_columns("title")},
        },
        {
            "summary": data.summary,
            "description": data.description,
            "accessibility": data.accessibility,
            **{
                name: getattr(data, name)
                for field_name in ("summary", "description", "accessibility")
                for name in translation_columns(field_name)
            },
        },
    )
    check_dates(
        errors,
        {
            "starts_at": data.starts_at,
            "ends_at": data.ends_at,
            "desk_opens_at": data.desk_opens_at,
            "registration_opens_at": data.registration_opens_at,
            "registration_closes_at": data.registration_closes_at,
        },
    )
    if not data.title.strip():
        errors.setdefault("title", _("Enter a title."))
    if not can_manage_organisation(user, data.organisation_id):
        errors["organisation_id"] = _("Choose one of your organisations.")
    if db.session.get(Municipality, data.municipality_id) is None:
        errors["municipality_id"] = _("Choose a municipality.")
    if data.campaign_id is not None and db.session.get(Campaign, data.campaign_id) is None:
        errors["campaign_id"] = _("Choose a campaign from the list.")
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if data.desk_opens_at is not None and not (
        data.desk_opens_at <= data.starts_at and (data.starts_at - data.desk_opens_at).days < 1
    ):
        errors["desk_opens_at"] = _(
            "The registration desk opens on the day of the event, before it starts."
        )
    if data.registration_closes_at is not None and data.registration_closes_at > data.ends_at:
        errors["registration_closes_at"] = _("Registration must close before the event ends.")
    if data.registration_opens_at is not None and data.registration_opens_at >= (
        data.registration_closes_at or data.starts_at
    ):
        errors["registration_opens_at"] = _("Registration must open before it closes.")
    if data.capacity is not None and data.capacity < 1:
        errors["capacity"] = _("Enter at least 1 place, or leave empty for no limit.")
    if data.stream_url and not _is_web_url(data.stream_url):
        errors["stream_url"] = _("Enter a web address starting with https://")
    if data.format is EventFormat.ONLINE and not data.stream_url:
        errors["stream_url"] = _("An online event needs a link to the stream.")
    if data.format is not EventFormat.ONLINE and not (
        data.venue_name.strip() or data.venue_address.strip()
    ):
        errors["venue_address"] = _("Say where the event takes place.")
    if errors:
        raise ValidationFailed(errors)


def _apply(event: Event, data: EventData) -> set[str]:
    changed = set()
    for f in fields(EventData):
        new = getattr(data, f.name)
        if f.name == "target_groups":
            if set(event.target_groups) != set(new):
                event.target_groups = new
                changed.add(f.name)
        elif getattr(event, f.name) != new:
            setattr(event, f.name, new)
            changed.add(f.name)
    return changed


def create_event(user: User, data: EventData) -> Event:
    """A new draft event; invisible to the public until published."""
    require_organiser(user)
    validate_event_data(user, data)
    event = Event(status=EventStatus.DRAFT)
    _apply(event, data)
    db.session.add(event)
    db.session.flush()
    audit.record(
        audit.Action.EVENT_CREATE,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=audit.part(audit.N_("status: %(status)s"), status=audit.value(event.status)),
    )
    return event


def update_event(
    user: User, event: Event, data: EventData, now: datetime, *, notify: bool = True
) -> set[str]:
    """Apply the organiser's changes; returns the names of the fields that changed.

    Registrants are told of a change of time, place or format (by mail, or on the to-call
    list) unless the organiser chose not to (`notify`, asked after changes_to_tell). More
    places give the waiting list its turn at once."""
    require_organiser(user)
    _require_manages(user, event)
    if event.status is EventStatus.CANCELLED:
        raise ServiceError(_("A cancelled event cannot be changed."))
    validate_event_data(user, data)
    changes = _changes(event, data)
    old_capacity = event.capacity
    changed = _apply(event, data)
    db.session.flush()
    if "format" in changed:  # in person / online follow the event (and so do the counters)
        follow_format(event)
    told = None
    if changes and notify:
        told = notify_registrants(event, "event_changed", now, {"changes": changes})
    if changed:  # which fields, the numbers that move the waiting list, and who was told
        note = [
            audit.part(
                audit.N_("changed: %(fields)s"), fields=audit.names("event_field", sorted(changed))
            )
        ]
        if "capacity" in changed:
            note.append(
                audit.transition(old_capacity, event.capacity, audit.N_("places %(old)s → %(new)s"))
            )
        if changes:
            note.append(_told_note(told))
        audit.record(
            audit.Action.EVENT_UPDATE,
            actor=user,
            target_type="event",
            target_id=event.id,
            event=event,
            detail=note,
        )
    if event.status is EventStatus.PUBLISHED:
        if (
            "time" in changes
        ):  # reminders and the needs digest still ahead go again, for the new time
            rearm(event, now)
            event.needs_digest_at = None
        if changed & {"capacity", "format"}:  # a new format can free places too
            promote_waitlist(event.id, now)
    return changed


def _changes(event: Event, data: EventData) -> dict[str, list[Any]]:
    """What registrants are told of if `data` is saved: {fact: [before, after]}; none for an
    event that is not published."""
    if event.status is not EventStatus.PUBLISHED:
        return {}
    before, after = notice_facts(event), notice_facts(data)
    return {key: [before[key], after[key]] for key in before if before[key] != after[key]}


def changes_to_tell(user: User, event: Event, data: EventData) -> dict[str, list[Any]]:
    """Before an edit is saved: what its registrants would be told of (time, place, format),
    if anyone is registered; {} when saving tells nobody anything. Refuses `data` as
    update_event would, so a form's errors come before the question."""
    require_organiser(user)
    _require_manages(user, event)
    if event.status is EventStatus.CANCELLED:
        raise ServiceError(_("A cancelled event cannot be changed."))
    validate_event_data(user, data)
    changes = _changes(event, data)
    return changes if changes and active_registration_count(event) else {}


def _told_note(told: Told | None) -> audit.Part:
    if told is None:
        return audit.part(audit.N_("registrants not told"))
    return audit.part(
        audit.N_("registrants told: %(emailed)d by email, %(phoned)d to phone"),
        emailed=told.emailed,
        phoned=told.phoned,
    )


def notice_facts(event: Event | EventData) -> dict[str, str | None]:
    """What registrants are told about when it changes (the Preiļi training moved online)."""
    start, end = (moment.astimezone(UTC) for moment in (event.starts_at, event.ends_at))
    return {
        "time": start.isoformat() + "/" + end.isoformat(),
        "place": ", ".join(p for p in (event.venue_name, event.venue_address) if p),
        "format": event.format.value,
        "stream_url": event.stream_url or "",
    }


def publish_warnings(event: Event, now: datetime) -> list[str]:
    """What would keep people from registering once `event` is live: asked about before it
    goes out (an organiser may still publish it, e.g. to announce it without registration)."""
    closes = effective_close(event)
    opens = event.registration_opens_at
    if now >= closes:
        return [_("The registration deadline has passed: once published, nobody can register.")]
    if opens is not None and opens >= closes:
        return [_("Registration would open only after it closes: nobody could register.")]
    return []


def publish_event(user: User, event: Event, now: datetime) -> None:
    _require_manages(user, event)
    if event.status is not EventStatus.DRAFT:
        raise ServiceError(_("Only a draft can be published."))
    if event.has_ended(now):
        raise ServiceError(_("An event that has already ended cannot be published."))
    validate_event_data(user, EventData.from_event(event))
    event.status = EventStatus.PUBLISHED
    event.published_at = event.published_at or now
    db.session.flush()
    audit.record(
        audit.Action.EVENT_PUBLISH,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=audit.transition(EventStatus.DRAFT, EventStatus.PUBLISHED),
    )


def unpublish_event(user: User, event: Event) -> None:
    """Back to draft. Refused once people have registered: they must be told (cancel)."""
    _require_manages(user, event)
    if event.status is not EventStatus.PUBLISHED:
        raise ServiceError(_("Only a published event can be unpublished."))
    if active_registration_count(event) > 0:
        raise ServiceError(
            _("People have registered for this event; cancel it instead so they are told.")
        )
    event.status = EventStatus.DRAFT
    event.published_at = None  # not public any more: a later cancellation stays private
    db.session.flush()
    audit.record(
        audit.Action.EVENT_UNPUBLISH,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=audit.transition(EventStatus.PUBLISHED, EventStatus.DRAFT),
    )


def cancel_event(user: User, event: Event, now: datetime, *, notify: bool = True) -> None:
    """Cancel for good. The event stays visible, marked cancelled, if it was ever public.
    Its registrants are told (by mail, or on the to-call list) unless the organiser chose
    not to (`notify`)."""
    _require_manages(user, event)
    if event.status is EventStatus.CANCELLED:
        raise ServiceError(_("This event is already cancelled."))
    was_public = event.status is EventStatus.PUBLISHED
    old_status = event.status
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    db.session.flush()
    told = None
    if was_public and notify:
        told = notify_registrants(event, "event_cancelled", now)
    audit.record(
        audit.Action.EVENT_CANCEL,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=[
            audit.transition(old_status, EventStatus.CANCELLED),
            _told_note(told) if was_public else None,
        ],
    )


def _require_manages(user: User, event: Event) -> None:
    require_organiser(user)
    if not can_manage_organisation(user, event.organisation_id):
        raise NotFound()  # the same answer as for an unknown event: ids cannot be probed


def active_registration_count(event: Event) -> int:
    return (
        db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.event_id == event.id, Registration.status.in_(ACTIVE_STATUSES)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class RegistrationCounts:
    confirmed_people: int = 0
    waitlisted_people: int = 0
    registrations: int = 0


def registration_counts(event_ids: list[int]) -> dict[int, RegistrationCounts]:
    """People confirmed and waiting per event, in one aggregate query."""
    if not event_ids:
        return {}

    def people(status: RegistrationStatus) -> ColumnElement[int]:
        return func.coalesce(
            func.sum(case((Registration.status == status, Registration.party_size), else_=0)), 0
        )

    rows = db.session.execute(
        select(
            Registration.event_id,
            people(RegistrationStatus.CONFIRMED),
            people(RegistrationStatus.WAITLISTED),
            func.count(Registration.id),
        )
        .where(Registration.event_id.in_(event_ids), Registration.status.in_(ACTIVE_STATUSES))
        .group_by(Registration.event_id)
    )
    return {event_id: RegistrationCounts(int(c), int(w), int(n)) for event_id, c, w, n in rows}


def events_for_manager(user: User, status: EventStatus | None = None) -> list[Event]:
    """The events of the organisations `user` manages, soonest first."""
    require_organiser(user)
    allowed = managed_organisation_ids(user)
    query = select(Event).options(selectinload(Event.organisation)).order_by(Event.starts_at.desc())
    if allowed is not None:
        query = query.where(Event.organisation_id.in_(allowed))
    if status is not None:
        query = query.where(Event.status == status)
    return list(db.session.scalars(query))


# --- the panel -------------------------------------------------------------------------


@dataclass
class SpeakerData:
    name: str
    title: str = ""
    organisation: str = ""
    role: SpeakerRole = SpeakerRole.PANELLIST
    position: int = 0
    title_ru: str | None = None
    title_en: str | None = None


def save_speaker(
    user: User, event: Event, data: SpeakerData, speaker: Speaker | None = None
) -> Speaker:
    _require_manages(user, event)
    errors: dict[str, str] = {}
    check_text(
        errors,
        {
            "name": data.name,
            "title": data.title,
            "organisation": data.organisation,
            **{name: getattr(data, name) for name in translation_columns("title")},
        },
    )
    if not data.name.strip():
        errors.setdefault("name", _("Enter the speaker's name."))
    if errors:
        raise ValidationFailed(errors)
    if speaker is None:
        speaker = Speaker(event=event)
        db.session.add(speaker)
    elif speaker.event_id != event.id:
        raise ServiceError(_("This speaker belongs to another event."))
    new = speaker.id is None
    for f in fields(SpeakerData):
        setattr(speaker, f.name, getattr(data, f.name))
    db.session.flush()
    audit.record(
        audit.Action.EVENT_UPDATE,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=audit.part(
            audit.N_("speaker %(id)d added") if new else audit.N_("speaker %(id)d changed"),
            id=speaker.id,
        ),
    )
    return speaker


# --- activities ------------------------------------------------------------------------


@dataclass
class ActivityData:
    title: str
    starts_at: datetime
    ends_at: datetime
    kind: ActivityKind = ActivityKind.WORKSHOP
    description: str = ""
    location: str = ""
    capacity: int | None = None
    position: int = 0
    title_ru: str | None = None
    title_en: str | None = None
    description_ru: str | None = None
    description_en: str | None = None


def save_activity(
    user: User, event: Event, data: ActivityData, activity: Activity | None, now: datetime
) -> Activity:
    """Add or change an activity; more places at a published event promote the waiting list."""
    _require_manages(user, event)
    errors: dict[str, str] = {}
    check_text(
        errors,
        {
            "title": data.title,
            "location": data.location,
            **{name: getattr(data, name) for name in translation_columns("title")},
        },
        {
            "description": data.description,
            **{name: getattr(data, name) for name in translation_columns("description")},
        },
    )
    check_dates(errors, {"starts_at": data.starts_at, "ends_at": data.ends_at})
    if not data.title.strip():
        errors.setdefault("title", _("Enter a title."))
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if data.starts_at < event.starts_at or data.ends_at > event.ends_at:
        errors["starts_at"] = _("An activity takes place within the event's own time.")
    if data.capacity is not None and data.capacity < 1:
        errors["capacity"] = _("Enter at least 1 place, or leave empty for no limit.")
    if errors:
        raise ValidationFailed(errors)
    if activity is None:
        activity = Activity(event=event)
        db.session.add(activity)
    elif activity.event_id != event.id:
        raise ServiceError(_("This activity belongs to another event."))
    else:  # its places are counted under these locks (services/registration.py)
        lock_event(event.id)
        lock_activities(event.id)
    more_places = activity.id is not None and (
        data.capacity is None or (activity.capacity or 0) < data.capacity
    )
    new, places_before = activity.id is None, activity.capacity
    for f in fields(ActivityData):
        setattr(activity, f.name, getattr(data, f.name))
    db.session.flush()
    audit.record(
        audit.Action.EVENT_UPDATE,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=[
            audit.part(
                audit.N_("activity %(id)d added") if new else audit.N_("activity %(id)d changed"),
                id=activity.id,
            ),
            audit.transition(
                places_before, activity.capacity, audit.N_("places %(old)s → %(new)s")
            ),
        ],
    )
    if more_places and event.status is EventStatus.PUBLISHED:
        promote_waitlist(event.id, now)
    return activity


def remove_part(user: User, event: Event, part: Speaker | Activity) -> None:
    """Take a speaker or an activity off the event."""
    _require_manages(user, event)
    if part.event_id != event.id:
        raise ServiceError(_("This belongs to another event."))
    removed = (
        audit.N_("speaker %(id)d removed")
        if isinstance(part, Speaker)
        else audit.N_("activity %(id)d removed")
    )
    audit.record(
        audit.Action.EVENT_UPDATE,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=audit.part(removed, id=part.id),
    )
    if isinstance(part, Speaker):
        event.speakers.remove(part)
    else:
        event.activities.remove(part)
    db.session.flush()
