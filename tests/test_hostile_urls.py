"""Numbers too large for the database, and other odd input in URLs: 404 or 422, never a 500."""
from __future__ import annotations

from datetime import datetime

from eventsvc.timezones import RIGA

from . import factories
from .conftest import login, post_form

HUGE = "9" * 30


def test_huge_ids_are_not_found(client, world):
    for url in (f"/events/{HUGE}", f"/events/{HUGE}.ics", f"/api/v1/events/{HUGE}", f"/manage/events/{HUGE}",
                f"/api/v1/events/{2**31}"):
        assert client.get(url).status_code in (401, 404), url
    assert client.post(f"/api/v1/events/{HUGE}/registrations", json={}).status_code == 404
    assert client.get(f"/api/v1/events?municipality={HUGE}").status_code in (200, 400)
    assert client.get(f"/?municipality={HUGE}").status_code == 200
    login(client, world.organiser_a.email)
    assert client.get(f"/manage/events/{HUGE}").status_code == 404


def test_out_of_range_numbers_in_organiser_forms_are_field_errors(client, world):
    event = factories.event(world.org_a, datetime(2031, 11, 13, 12, 0, tzinfo=RIGA), hours=4)
    login(client, world.organiser_a.email)
    for field, value in (("position", str(10**12)), ("capacity", str(10**12))):
        data = {"title": "Darbnīca", "kind": "workshop", "starts_at": "2031-11-13T12:30", "ends_at": "2031-11-13T13:30",
                "position": "1", "capacity": "", field: value}
        response = post_form(client, f"/manage/events/{event.id}/activities/new", data)
        assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(as_text=True)
