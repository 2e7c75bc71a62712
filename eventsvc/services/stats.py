"""Attendance totals for the Ministry and organisers: SQL aggregates only, never a person.

What each number means is written once, in services/measures.py (the glossary the page and
the OpenAPI document show). In short: people registered, in person, online, let in and
walk-ins count every event in the filter; no-shows, people who waited in vain and the
attendance rate count only events that have ended (an event still ahead has had no chance to
be attended), and the rate is None for a group without such people; upcoming events and
their people are counted apart. Nothing here reads a name, an email, a phone or needs text,
so the totals stay the same after personal data is anonymised.

Beside them, anonymous counts of the accessibility needs ticked (measures.NEEDS), summed from
the same per-event counters in the same query: a count under the minimum group size is never
returned (services/disclosure.py's rule, the feedback totals' one): None stands for it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Label,
    Select,
    SQLColumnExpression,
    case,
    delete,
    func,
    literal,
    select,
    text,
)

from ..extensions import db, rows_matched
from ..models import (
    Campaign,
    Event,
    EventKind,
    EventStats,
    EventStatus,
    EventTargetGroup,
    Municipality,
    Role,
    User,
)
from ..models.event_stats import COUNT_EVENT_STATS, COUNTERS, counted
from ..needs import NEEDS, Need, counter
from ..timezones import end_of_riga_day, riga_day_bounds
from . import PermissionDenied
from .access import managed_organisation_ids, may_read_totals
from .disclosure import Figure, hide_small, suppress
from .locking import lock_event

log = logging.getLogger(__name__)

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
GroupKey = int | str  # a municipality's or campaign's id, a kind, a target group, a month


class GroupBy(enum.StrEnum):
    MUNICIPALITY = "municipality"
    CAMPAIGN = "campaign"
    KIND = "kind"
    TARGET_GROUP = "target_group"
    MONTH = "month"


@dataclass(frozen=True)
class StatsFilter:
    date_from: date | None = None
    date_to: date | None = None
    municipality_id: int | None = None
    campaign_id: int | None = None
    kind: EventKind | None = None
    year: int | None = None  # with month: that month; alone: the whole year (Riga time)
    month: int | None = None  # alone (the API): that month of every year


@dataclass(frozen=True)
class Totals:
    """The measures of services/measures.py for one group of events."""

    events: int = 0
    ended_events: int = 0
    registrations: int = 0
    people_registered: int = 0
    people_in_person: int = 0
    people_online: int = 0
    people_checked_in: int = 0
    checked_in_registered: int = 0
    walk_ins: int = 0
    no_shows: int = 0
    waitlisted_never_placed: int = 0
    people_in_person_ended: int = 0
    upcoming_events: int = 0
    upcoming_people_registered: int = 0
    follow_up_calls: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """Of the people registered in person for ended events, the share let in; None when
        no event has ended or nobody registered in person for those that have."""
        if not self.ended_events or not self.people_in_person_ended:
            return None
        return (self.people_in_person_ended - self.no_shows) / self.people_in_person_ended


METRICS = [f.name for f in fields(Totals)]
# Counted per event row (the rest are sums of the counters).
EVENT_COUNTS = ("events", "ended_events", "upcoming_events")


# A group's counts of accessibility needs: registrations that ticked each need, or None where
# the count is hidden under the minimum group size. Nothing else leaves this module.
NeedCounts = dict[Need, int | None]


@dataclass(frozen=True)
class Row:
    key: str  # stable id for links and the API (municipality id, kind value, "2026-11" …)
    label: str  # a name for people; never a person's
    totals: Totals
    needs: NeedCounts = field(default_factory=dict)


def require_stats_reader(user: User) -> set[int] | None:
    """Who may read totals, and over which organisations (None: all of them)."""
    if not may_read_totals(user):
        raise PermissionDenied()
    return managed_organisation_ids(user) if user.role is Role.ORGANISER else None


# Every event's counters from scratch (models/event_stats.py counts them).
REBUILD_EVENT_STATS = (
    f"INSERT INTO event_stats (event_id, {', '.join(COUNTERS)})" + COUNT_EVENT_STATS
)


def rebuild_event_stats() -> None:
    """Every event's counters from scratch, for bulk-loaded data (nothing else may run: see
    mend_event_counters for a live database)."""
    db.session.execute(delete(EventStats))
    rows = rows_matched(text(REBUILD_EVENT_STATS))
    db.session.flush()
    log.info("event counters: all counted again from the registrations (%d events)", rows)


def _counted_and_running() -> str:
    """One statement, so one snapshot: each event's counters as counted from its registrations
    next to the running ones (a counter and its registrations change in one transaction)."""
    columns = [f"n{i}" for i in range(len(COUNTERS))]
    counted_columns = ", ".join(f"c.n{i} AS counted_{name}" for i, name in enumerate(COUNTERS))
    running_columns = ", ".join(f"s.{name} AS running_{name}" for name in COUNTERS)
    return (
        f"WITH c (event_id, {', '.join(columns)}) AS ({COUNT_EVENT_STATS}) "
        f"SELECT e.id AS event_id, {counted_columns}, {running_columns} FROM events e "
        "LEFT JOIN c ON c.event_id = e.id LEFT JOIN event_stats s ON s.event_id = e.id "
        "WHERE c.event_id IS NOT NULL OR s.event_id IS NOT NULL"
    )


_DRIFT = text(_counted_and_running())


def counter_drift() -> dict[int, dict[str, tuple[int, int]]]:
    """Events whose running counters differ from a count of their registrations:
    {event id: {counter: (running, counted)}}; empty when all is well. Read-only and takes no
    lock. The counters decide who gets a place: `flask stats check` runs this."""
    drift = {}
    checked = 0
    for row in db.session.execute(_DRIFT):
        values = row._mapping
        differences = {
            name: (int(values[f"running_{name}"] or 0), int(values[f"counted_{name}"] or 0))
            for name in COUNTERS
        }
        differences = {name: pair for name, pair in differences.items() if pair[0] != pair[1]}
        if differences:
            drift[row.event_id] = differences
        checked += 1
    if drift:
        log.warning(
            "event counters checked: %d events, %d differ from their registrations: events %s",
            checked,
            len(drift),
            ", ".join(map(str, sorted(drift))),
        )
    else:
        log.info("event counters checked: %d events, all agree with their registrations", checked)
    return drift


def mend_event_counters(event_id: int) -> bool:
    """Count `event_id`'s counters again from its registrations, under the event's lock (the
    lock every registration change and check-in takes first, so nothing moves them meanwhile
    and nothing deadlocks). True if they had differed. The caller commits."""
    lock_event(event_id)
    count = counted(db.session, event_id)
    stats_row = db.session.get(EventStats, event_id, populate_existing=True)
    running = {name: getattr(stats_row, name) if stats_row else 0 for name in COUNTERS}
    if running == count:
        return False
    if stats_row is None:
        db.session.add(EventStats(event_id=event_id, **count))
    else:
        for name, value in count.items():
            setattr(stats_row, name, value)
    db.session.flush()
    log.warning(
        "event counters of event %d counted again: %s",
        event_id,
        ", ".join(f"{n} {running[n]} → {count[n]}" for n in COUNTERS if running[n] != count[n]),
    )
    return True


def _stats_columns(now: datetime) -> list[Label[Any]]:
    """Sums over the per-event counters (10,000 rows for a national year, not a million)."""
    ended = Event.ends_at <= now

    def total(column: SQLColumnExpression[int]) -> ColumnElement[int]:
        return func.coalesce(func.sum(column), 0)

    def total_ended(column: SQLColumnExpression[int]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((ended, column), else_=0)), 0)

    return [
        total(EventStats.registrations).label("registrations"),
        total(EventStats.people_registered).label("people_registered"),
        total(EventStats.people_in_person).label("people_in_person"),
        total(EventStats.people_online).label("people_online"),
        total(EventStats.people_checked_in).label("people_checked_in"),
        total(EventStats.checked_in_registered).label("checked_in_registered"),
        total(EventStats.walk_ins).label("walk_ins"),
        total(EventStats.follow_up_calls).label("follow_up_calls"),
        total_ended(EventStats.people_in_person - EventStats.checked_in_in_person).label(
            "no_shows"
        ),
        total_ended(EventStats.people_waitlisted).label("waitlisted_never_placed"),
        total_ended(EventStats.people_in_person).label("people_in_person_ended"),
        func.coalesce(
            func.sum(case((ended, literal(0)), else_=EventStats.people_registered)), 0
        ).label("upcoming_people_registered"),
        *(total(getattr(EventStats, counter(need))).label(counter(need)) for need in NEEDS),
    ]


def _event_columns(now: datetime) -> list[Label[Any]]:
    ended = Event.ends_at <= now
    return [
        func.count(Event.id).label("events"),
        func.coalesce(func.sum(case((ended, 1), else_=0)), 0).label("ended_events"),
        func.coalesce(func.sum(case((ended, 0), else_=1)), 0).label("upcoming_events"),
    ]


def _filtered(query: _Query, filters: StatsFilter, organisations: set[int] | None) -> _Query:
    query = query.where(Event.status == EventStatus.PUBLISHED)
    if filters.date_from is not None:
        query = query.where(Event.starts_at >= riga_day_bounds(filters.date_from)[0])
    if filters.date_to is not None:
        query = query.where(Event.starts_at < end_of_riga_day(filters.date_to))
    if filters.year is not None and filters.month is not None:
        query = query.where(Event.local_month == f"{filters.year:04d}-{filters.month:02d}")
    elif filters.year is not None:  # the month column is indexed: a range of it, not a LIKE
        query = query.where(
            Event.local_month.between(f"{filters.year:04d}-01", f"{filters.year:04d}-12")
        )
    elif filters.month is not None:  # the API's month alone: every year's
        query = query.where(Event.local_month.like(f"%-{filters.month:02d}"))
    if filters.municipality_id is not None:
        query = query.where(Event.municipality_id == filters.municipality_id)
    if filters.campaign_id is not None:
        query = query.where(Event.campaign_id == filters.campaign_id)
    if filters.kind is not None:
        query = query.where(Event.kind == filters.kind)
    if organisations is not None:
        query = query.where(Event.organisation_id.in_(organisations or [-1]))
    return query


# The same filters for other aggregates over events (services/feedback.py).
filtered = _filtered


def _grouped(
    keys: list[Label[Any]],
    filters: StatsFilter,
    organisations: set[int] | None,
    now: datetime,
    target_groups: bool = False,
) -> dict[tuple[Any, ...], tuple[Totals, dict[Need, int]]]:
    """{group key: (Totals, {need: registrations})}: events, and the sums of their per-event
    counters. The needs' counts are as counted: the callers hide the small ones."""
    events = _filtered(
        select(*keys, *_event_columns(now)).select_from(Event),
        filters,
        organisations,
    )
    people = _filtered(
        select(*keys, *_stats_columns(now))
        .select_from(EventStats)
        .join(Event, Event.id == EventStats.event_id),
        filters,
        organisations,
    )
    if target_groups:
        events = events.join(EventTargetGroup, EventTargetGroup.event_id == Event.id)
        people = people.join(EventTargetGroup, EventTargetGroup.event_id == Event.id)
    if keys:
        events, people = events.group_by(*keys), people.group_by(*keys)
    width = len(keys)
    counts = {tuple(row[:width]): row for row in db.session.execute(events)}
    sums = {tuple(row[:width]): row for row in db.session.execute(people)}
    result: dict[tuple[Any, ...], tuple[Totals, dict[Need, int]]] = {}
    for key in counts.keys() | sums.keys():
        totals = Totals(**_values(counts.get(key), EVENT_COUNTS), **_values(sums.get(key)))
        row = sums.get(key)
        needs = {n: int(getattr(row, counter(n)) or 0) if row else 0 for n in NEEDS}
        result[key] = (totals, needs)
    return result


def _values(row: object | None, names: Sequence[str] | None = None) -> dict[str, int]:
    names = names or [name for name in METRICS if name not in EVENT_COUNTS]
    return {name: int(getattr(row, name) or 0) for name in names} if row is not None else {}


def headline(filters: StatsFilter, organisations: set[int] | None, now: datetime) -> Totals:
    return summary(filters, organisations, now)[0]


def summary(
    filters: StatsFilter, organisations: set[int] | None, now: datetime
) -> tuple[Totals, NeedCounts]:
    """The totals of every event in the filter, and their counts of needs (small ones hidden)."""
    totals, needs = _grouped([], filters, organisations, now).get((), (Totals(), {}))
    return totals, _shown([hide_small(_figure(needs.get(n, 0))) for n in NEEDS])


def _figure(n: int) -> Figure:
    return Figure(n, float(n))


def _shown(figures: list[Figure]) -> NeedCounts:
    """The figures of NEEDS, in order, as counts or None where hidden."""
    return {need: None if f.hidden else f.n for need, f in zip(NEEDS, figures, strict=True)}


def _hide_needs(groups: list[dict[Need, int]]) -> list[NeedCounts]:
    """Each group's counts of needs under the minimum group size: per need, the column of
    groups by the rule of services/disclosure.py. The total it guards is the column's sum:
    the headline's count, or more where a group of events overlaps another (target groups),
    which only hides more."""
    columns = {}
    for need in NEEDS:
        figures = [_figure(group[need]) for group in groups]
        columns[need] = suppress(figures, _figure(sum(f.n for f in figures)))
    return [_shown([columns[need][i] for need in NEEDS]) for i in range(len(groups))]


def breakdown(
    group_by: GroupBy, filters: StatsFilter, organisations: set[int] | None, now: datetime
) -> list[Row]:
    """One row per municipality / campaign / kind / target group / month."""
    key = {
        GroupBy.MUNICIPALITY: Event.municipality_id,
        GroupBy.CAMPAIGN: func.coalesce(Event.campaign_id, literal(0)),
        GroupBy.KIND: Event.kind,
        GroupBy.TARGET_GROUP: EventTargetGroup.target_group,
        GroupBy.MONTH: Event.local_month,
    }[group_by]
    totals = _grouped(
        [key.label("key")],
        filters,
        organisations,
        now,
        target_groups=group_by is GroupBy.TARGET_GROUP,
    )
    keys = [_plain(k[0]) for k in totals]
    labels = _labels(group_by, keys)
    hidden = _hide_needs([needs for _totals, needs in totals.values()])
    result = [
        Row(str(_plain(k[0])), labels[_plain(k[0])], t, counts)
        for (k, (t, _needs)), counts in zip(totals.items(), hidden, strict=True)
    ]
    return sorted(result, key=lambda r: r.key if group_by is GroupBy.MONTH else r.label.lower())


def _plain(value: enum.Enum | GroupKey) -> GroupKey:
    return str(value.value) if isinstance(value, enum.Enum) else value  # the StrEnums' values


def _labels(group_by: GroupBy, given: Iterable[enum.Enum | GroupKey]) -> dict[GroupKey, str]:
    from flask_babel import gettext as _

    from ..i18n import label
    from ..models import TargetGroup

    keys: list[Any] = [_plain(k) for k in given]  # ids or strings, as `group_by` has them
    if group_by is GroupBy.MUNICIPALITY:
        return dict(
            db.session.execute(
                select(Municipality.id, Municipality.name).where(Municipality.id.in_(keys))
            ).all()
        )
    if group_by is GroupBy.CAMPAIGN:
        names = dict(
            db.session.execute(
                select(Campaign.id, Campaign.name).where(Campaign.id.in_(keys))
            ).all()
        )
        return {k: names.get(k, _("No campaign")) for k in keys}
    if group_by is GroupBy.KIND:
        return {k: label(EventKind(k)) for k in keys}
    if group_by is GroupBy.TARGET_GROUP:
        return {k: label(TargetGroup(k)) for k in keys}
    return {k: k for k in keys}


@dataclass(frozen=True)
class EventLine:
    """One event behind a total: what it was and its numbers, never who came."""

    event_id: int
    title: str
    starts_at: datetime
    municipality: str
    totals: Totals


def events_behind(
    filters: StatsFilter, organisations: set[int] | None, now: datetime, limit: int = 500
) -> list[EventLine]:
    """Per event, in date order: the same totals, grouped by event."""
    chosen = (
        _filtered(select(Event.id).select_from(Event), filters, organisations)
        .order_by(Event.starts_at)
        .limit(limit)
    )
    ids = list(db.session.scalars(chosen))
    if not ids:
        return []
    rows = db.session.execute(
        select(Event.id, Event.title, Event.starts_at, Event.ends_at, Municipality.name)
        .join(Municipality, Municipality.id == Event.municipality_id)
        .where(Event.id.in_(ids))
        .order_by(Event.starts_at)
    ).all()
    people = {
        row[0]: row
        for row in db.session.execute(
            select(EventStats.event_id, *_stats_columns(now))
            .join(Event, Event.id == EventStats.event_id)
            .where(EventStats.event_id.in_(ids))
            .group_by(EventStats.event_id)
        )
    }
    lines = []
    for event_id, title, starts_at, ends_at, municipality in rows:
        ended = int(ends_at <= now)
        totals = Totals(
            events=1, ended_events=ended, upcoming_events=1 - ended, **_values(people.get(event_id))
        )
        lines.append(EventLine(event_id, title, starts_at, municipality, totals))
    return lines
