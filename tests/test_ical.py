"""The .ics of an event and the calendar feed parse with `icalendar` and carry UTC times."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from eventsvc.models import EventStatus
from eventsvc.timezones import RIGA

from . import factories


def test_event_ics_has_the_right_utc_times(client, world):
    starts = datetime(2031, 11, 13, 13, 0, tzinfo=RIGA)  # winter: 11:00 UTC
    event = factories.event(world.org_a, starts, hours=2)
    response = client.get(f"/events/{event.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    (vevent,) = cal.walk("VEVENT")
    assert vevent.decoded("dtstart") == datetime(2031, 11, 13, 11, 0, tzinfo=UTC)
    assert vevent.decoded("dtend") == datetime(2031, 11, 13, 13, 0, tzinfo=UTC)
    assert b"DTSTART:20311113T110000Z" in response.data
    assert str(vevent["summary"]) == event.title
    assert "Pasta iela 1A" in str(vevent["location"])
    assert str(vevent["url"]).endswith(f"/events/{event.id}")
    assert str(vevent["status"]) == "CONFIRMED"


def test_summer_event_is_utc_plus_three(client, world):
    event = factories.event(world.org_a, datetime(2031, 7, 10, 13, 0, tzinfo=RIGA))
    (vevent,) = Calendar.from_ical(client.get(f"/events/{event.id}.ics").data).walk("VEVENT")
    assert vevent.decoded("dtstart") == datetime(2031, 7, 10, 10, 0, tzinfo=UTC)


def test_feed_holds_public_upcoming_events_and_marks_cancelled(client, world, in_days):
    published = factories.event(world.org_a, in_days(3), title="Publicēts")
    cancelled = factories.event(
        world.org_b, in_days(4), title="Atcelts", status=EventStatus.CANCELLED
    )
    factories.event(world.org_a, in_days(5), title="Melnraksts", status=EventStatus.DRAFT)
    cal = Calendar.from_ical(client.get("/calendar.ics").data)
    events = {str(v["summary"]): v for v in cal.walk("VEVENT")}
    assert set(events) == {published.title, cancelled.title}
    assert str(events[cancelled.title]["status"]) == "CANCELLED"
    uids = {str(v["uid"]) for v in events.values()}
    assert len(uids) == 2


def test_feed_follows_the_calendar_filters(client, world, in_days):
    factories.event(world.org_a, in_days(3), title="Tukumā")
    factories.event(world.org_b, in_days(3), title="Daugavpilī")
    cal = Calendar.from_ical(client.get(f"/calendar.ics?municipality={world.tukums.id}").data)
    assert [str(v["summary"]) for v in cal.walk("VEVENT")] == ["Tukumā"]
