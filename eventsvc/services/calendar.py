"""The public calendar: which events a resident sees, filtered and in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Event, EventKind, EventStatus, EventTargetGroup, Municipality, TargetGroup
from ..timezones import end_of_riga_day, riga_day_bounds
from . import NotFound


@dataclass(frozen=True)
class CalendarFilter:
    municipality_id: int | None = None
    kind: EventKind | None = None
    target_group: TargetGroup | None = None
    date_from: date | None = None  # Riga calendar days, inclusive
    date_to: date | None = None


def _public() -> Select[Event]:
    """Published events, and cancelled ones that were public (so people learn of it)."""
    return select(Event).where(
        or_(
            Event.status == EventStatus.PUBLISHED,
            (Event.status == EventStatus.CANCELLED) & Event.published_at.is_not(None),
        )
    )


def calendar_query(filters: CalendarFilter, now: datetime) -> Select[Event]:
    """Upcoming public events (or those in the chosen days), soonest first.

    Without a start date the calendar shows what has not ended yet; an event still under
    way stays listed until it ends.
    """
    query = _public().options(
        selectinload(Event.municipality), selectinload(Event.target_group_links)
    )
    if filters.date_from is not None:
        query = query.where(Event.ends_at > riga_day_bounds(filters.date_from)[0])
    else:
        query = query.where(Event.ends_at > now)
    if filters.date_to is not None:
        query = query.where(Event.starts_at < end_of_riga_day(filters.date_to))
    if filters.municipality_id is not None:
        query = query.where(Event.municipality_id == filters.municipality_id)
    if filters.kind is not None:
        query = query.where(Event.kind == filters.kind)
    if filters.target_group is not None:
        query = query.where(
            Event.id.in_(
                select(EventTargetGroup.event_id).where(
                    EventTargetGroup.target_group == filters.target_group
                )
            )
        )
    return query.order_by(Event.starts_at, Event.id)


def public_event(event_id: int) -> Event:
    """An event as the public sees it; drafts and unknown ids are both not found."""
    event = db.session.scalar(_public().where(Event.id == event_id))
    if event is None:
        raise NotFound()
    return event


def municipalities_with_events() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.name)))
