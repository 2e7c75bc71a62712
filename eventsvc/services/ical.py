"""iCalendar files for one event and for the calendar feed (RFC 5545 via `icalendar`).

Every text goes in as an escaped TEXT value (vText), with control characters replaced:
RFC 5545 forbids them, and a title stored with a newline must not break the file (nor the
ticket mail that carries it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from icalendar import Calendar, vText
from icalendar import Event as VEvent

from ..models import Event, EventStatus
from .plain_text import multi_line, one_line

PRODID = "-//eventsvc//Community events//LV"


def _vevent(event: Event, url: str, uid_domain: str, stamp: datetime, language: str) -> VEvent:
    vevent = VEvent()
    vevent.add("uid", f"event-{event.id}@{uid_domain}")
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.starts_at)  # aware UTC: written as ...Z
    vevent.add("dtend", event.ends_at)
    vevent.add("last-modified", event.updated_at)
    # RFC 5545's LANGUAGE parameter: the text's own, which may be the Latvian fallback.
    title = event.text("title", language)
    vevent.add("summary", vText(one_line(title.text)), parameters={"LANGUAGE": title.lang})
    summary, about = event.text("summary", language), event.text("description", language)
    description = "\n\n".join(part for part in (summary.text, about.text, url) if part)
    vevent.add("description", vText(multi_line(description)))
    location = ", ".join(one_line(part) for part in (event.venue_name, event.venue_address) if part)
    if location:
        vevent.add("location", vText(location))
    vevent.add("url", url)
    vevent.add("status", "CANCELLED" if event.status is EventStatus.CANCELLED else "CONFIRMED")
    return vevent


def calendar_bytes(
    events: Iterable[Event],
    url_for_event: Callable[[Event], str],
    uid_domain: str,
    name: str,
    now: datetime,
    language: str,
) -> bytes:
    """The events' text in `language` where they have it, else in Latvian."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # An X- property is not escaped by icalendar unless it is given as vText.
    cal.add("x-wr-calname", vText(one_line(name)))
    cal.add("x-wr-timezone", "Europe/Riga")
    for event in events:
        cal.add_component(_vevent(event, url_for_event(event), uid_domain, now, language))
    ical: bytes = cal.to_ical()  # icalendar leaves the method's return unannotated
    return ical
