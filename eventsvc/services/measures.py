"""Every number about people at events, defined once: the glossary the totals page shows as
hints, the OpenAPI document describes, and the per-event numbers the organiser's pages and
the door show.

All of them come from the per-event counters (models/event_stats.py), which move in the same
transaction as the registrations they count:

- registered: people in confirmed registrations made before the door (party sizes, in person
  and online; walk-ins apart, the waiting list apart);
- in person / online: the registered people by how they take part. When an event changes
  format its registrations move with it (services/events.py), so an event moved online counts
  its people online;
- let in: people let in at the door, walk-ins included (an undone check-in does not count);
- walk-ins: people let in at the door without having registered;
- places taken: what the capacity is measured against: people of confirmed registrations in
  person (walk-ins included), and at an online-only event the online ones too (at a hybrid
  event watching online takes no place);
- follow-up calls: calls made after an event to people who agreed and did not come
  (services/follow_up.py), counted on their registrations, which keep the number when their
  personal data is erased;
- no-shows, waited in vain and the attendance rate are about events that have ended only: an
  event still ahead has had no chance to be attended. The rate is the share of people
  registered in person (for ended events) who were let in, and there is none for a group
  without such people;
- accessibility needs: per need of eventsvc/needs.py, the registrations counted in
  "registrations" that ticked it (a party once, whatever its size). The organiser's event page
  and the digest show an event's; the totals show them under the minimum group size
  (services/disclosure.py): a count under 5 is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Event, EventFormat, EventStats
from .disclosure import MIN_GROUP


@dataclass(frozen=True)
class Measure:
    key: str  # the name in Totals, the CSV/XLSX column and the API
    label: LazyString  # a short column header (shown in the page's language)
    definition: LazyString  # one or two sentences
    ended_only: bool = False  # counts events that have ended only
    percent: bool = False


def _measure(key: str, label: LazyString, definition: LazyString, **kw: bool) -> Measure:
    return Measure(key, label, definition, **kw)


# The glossary, in the order of the totals' columns. The English text of each definition is
# also the OpenAPI description of the field (web/api/openapi.py).
GLOSSARY: tuple[Measure, ...] = (
    _measure(
        "events",
        _l("Events"),
        _l("Published events (not drafts, not cancelled) that start in the period."),
    ),
    _measure(
        "ended_events",
        _l("Ended"),
        _l(
            "Of these events, those that have ended. No-shows and the attendance rate count only these."
        ),
    ),
    _measure(
        "people_registered",
        _l("People registered"),
        _l(
            "People in confirmed registrations made before the door (party sizes), in person "
            "and online. Walk-ins and people on a waiting list are not included."
        ),
    ),
    _measure(
        "people_in_person",
        _l("In person"),
        _l(
            "Registered people who take part in person. An event moved online counts its people online."
        ),
    ),
    _measure(
        "people_online",
        _l("Online"),
        _l("Registered people who watch online (hybrid and online events)."),
    ),
    _measure(
        "people_checked_in",
        _l("Let in"),
        _l("People let in at the door, walk-ins included. An undone check-in does not count."),
    ),
    _measure(
        "walk_ins",
        _l("Walk-ins"),
        _l("People let in at the door without having registered."),
    ),
    _measure(
        "no_shows",
        _l("No-shows"),
        _l("People registered in person for an event that has ended who were not let in."),
        ended_only=True,
    ),
    _measure(
        "waitlisted_never_placed",
        _l("Waited in vain"),
        _l("People still on the waiting list when their event ended: they never got a place."),
        ended_only=True,
    ),
    _measure(
        "attendance_rate",
        _l("Attendance rate"),
        _l(
            "Of the people registered in person for events that have ended, the share who "
            "were let in. Not shown (—) where no event has ended or nobody registered in person."
        ),
        ended_only=True,
        percent=True,
    ),
    _measure(
        "follow_up_calls",
        _l("Follow-up calls"),
        _l(
            "Calls social workers made after an event to people who had registered, agreed to be "
            "contacted if they could not come, and were not let in. A number of calls, never a "
            "person; it stays when personal data is erased."
        ),
    ),
    _measure(
        "upcoming_events",
        _l("Upcoming events"),
        _l("Events that have not ended yet (including any under way now), shown apart."),
    ),
    _measure(
        "upcoming_people_registered",
        _l("Registered for upcoming"),
        _l("People registered (as above) for events that have not ended yet."),
    ),
)
MEASURES = {m.key: m for m in GLOSSARY}

# Not columns of the tables, but in the API and the downloads, defined here all the same.
EXTRA: tuple[Measure, ...] = (
    _measure(
        "registrations",
        _l("Registrations"),
        _l("Confirmed registrations made before the door (one per party)."),
    ),
    _measure(
        "checked_in_registered",
        _l("Registered and let in"),
        _l("People let in from registrations made before the door (walk-ins not included)."),
    ),
    _measure(
        "places_taken",
        _l("Places taken"),
        _l(
            "What the places are counted against: people coming in person (walk-ins "
            "included); at an online-only event, everyone registered. Watching a hybrid "
            "event online takes no place."
        ),
    ),
    _measure(
        "people_waitlisted",
        _l("Waiting list"),
        _l("People on the waiting list (they get a place when one frees up)."),
    ),
    _measure(
        "people_in_person_ended",
        _l("In person, ended events"),
        _l(
            "People registered in person for events that have ended: what the attendance rate divides by."
        ),
        ended_only=True,
    ),
)
# Anonymous counts of the accessibility needs ticked, one per need (eventsvc/needs.py names
# them): the organiser's event page and digest (services/needs_digest.py), and the totals,
# where services/disclosure.py hides a count under its minimum group size.
NEEDS = _measure(
    "needs",
    _l("Accessibility needs"),
    _l(
        "For each need, the confirmed registrations made before the door that ticked it. A "
        "party counts once, however many people it brings; the waiting list is not counted."
    ),
)
# How the totals hide small counts of needs (the page's hint and the API's description).
NEEDS_HIDDEN = _l(
    "A count under %(n)d is hidden (‹%(n)d), and so is the next smallest where the total "
    "would give it away, so that no one can be singled out.",
    n=MIN_GROUP,
)
EVERY_MEASURE = {m.key: m for m in (*GLOSSARY, *EXTRA, NEEDS)}


def english(key: str) -> str:
    """The definition in the source language (for the OpenAPI document)."""
    return str(EVERY_MEASURE[key].definition._args[0])  # lazy_gettext's message id


def english_needs_hidden() -> str:
    """NEEDS_HIDDEN in the source language, filled in (for the OpenAPI document)."""
    return str(NEEDS_HIDDEN._args[0] % NEEDS_HIDDEN._kwargs)


# --- one event ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EventPeople:
    """One event's people as the organiser's pages, the door and the totals name them."""

    capacity: int | None = None
    places_taken: int = 0
    people_in_person: int = 0  # registered before the door, confirmed, in person
    people_online: int = 0  # registered before the door, confirmed, online
    walk_ins: int = 0
    people_checked_in: int = 0  # let in
    people_waitlisted: int = 0

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.places_taken, 0)


def places_taken(event_format: EventFormat, confirmed_in_person: int, confirmed_online: int) -> int:
    """What counts against the capacity (services/registration.py admits by this)."""
    if event_format is EventFormat.ONLINE:
        return confirmed_in_person + confirmed_online
    return confirmed_in_person


def event_people(event_ids: list[int]) -> dict[int, EventPeople]:
    """Each event's people, from its counters: one query for a whole list of events."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Event.id, Event.format, Event.capacity, EventStats)
        .outerjoin(EventStats, EventStats.event_id == Event.id)
        .where(Event.id.in_(event_ids))
    )
    result = {}
    for event_id, event_format, capacity, counters in rows:
        if counters is None:
            result[event_id] = EventPeople(capacity=capacity)
            continue
        result[event_id] = EventPeople(
            capacity=capacity,
            places_taken=places_taken(
                event_format,
                counters.confirmed_in_person_people,
                counters.confirmed_online_people,
            ),
            people_in_person=counters.people_in_person,
            people_online=counters.people_online,
            walk_ins=counters.walk_ins,
            people_checked_in=counters.people_checked_in,
            people_waitlisted=counters.people_waitlisted,
        )
    return result
