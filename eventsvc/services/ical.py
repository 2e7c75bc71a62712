"""iCalendar files for one event and for the calendar feed (RFC 5545 via `icalendar`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from icalendar import Calendar
from icalendar import Event as VEvent

from ..models import Event, EventStatus

PRODID = "-//eventsvc//Community events//LV"


def _vevent(event: Event, url: str, uid_domain: str, stamp: datetime) -> VEvent:
    vevent = VEvent()
    vevent.add("uid", f"event-{event.id}@{uid_domain}")
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.starts_at)  # aware UTC: written as ...Z
    vevent.add("dtend", event.ends_at)
    vevent.add("last-modified", event.updated_at)
    vevent.add("summary", event.title)
    description = "\n\n".join(part for part in (event.summary, event.description, url) if part)
    vevent.add("description", description)
    location = ", ".join(part for part in (event.venue_name, event.venue_address) if part)
    if location:
        vevent.add("location", location)
    vevent.add("url", url)
    vevent.add("status", "CANCELLED" if event.status is EventStatus.CANCELLED else "CONFIRMED")
    return vevent


def calendar_bytes(
    events: Iterable[Event],
    url_for_event: Callable[[Event], str],
    uid_domain: str,
    name: str,
    now: datetime,
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Riga")
    for event in events:
        cal.add_component(_vevent(event, url_for_event(event), uid_domain, now))
    return cal.to_ical()
