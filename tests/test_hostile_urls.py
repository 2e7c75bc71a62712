"""Numbers too large for the database, and other odd input in URLs: 404 or 422, never a 500."""

from __future__ import annotations

from datetime import datetime

from eventsvc.timezones import RIGA

from . import factories
from .conftest import login, post_form

HUGE = "9" * 30


def test_huge_ids_are_not_found(client, world):
    for url in (
        f"/events/{HUGE}",
        f"/events/{HUGE}.ics",
        f"/api/v1/events/{HUGE}",
        f"/manage/events/{HUGE}",
        f"/api/v1/events/{2**31}",
    ):
        assert client.get(url).status_code in (401, 404), url
    assert client.post(f"/api/v1/events/{HUGE}/registrations", json={}).status_code == 404
    assert client.get(f"/api/v1/events?municipality={HUGE}").status_code in (200, 400)
    # Not a municipality of the list: the calendar says so next to the filter (400).
    assert client.get(f"/?municipality={HUGE}").status_code == 400
    login(client, world.organiser_a.email)
    assert client.get(f"/manage/events/{HUGE}").status_code == 404


def test_out_of_range_numbers_in_organiser_forms_are_field_errors(client, world):
    event = factories.event(world.org_a, datetime(2031, 11, 13, 12, 0, tzinfo=RIGA), hours=4)
    login(client, world.organiser_a.email)
    for field, value in (("position", str(10**12)), ("capacity", str(10**12))):
        data = {
            "title": "Darbnīca",
            "kind": "workshop",
            "starts_at": "2031-11-13T12:30",
            "ends_at": "2031-11-13T13:30",
            "position": "1",
            "capacity": "",
            field: value,
        }
        response = post_form(client, f"/manage/events/{event.id}/activities/new", data)
        assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(
            as_text=True
        )


def test_huge_page_numbers_are_not_a_server_error(client, world):
    """Found by the API fuzz (test_api_fuzz.py): an OFFSET beyond the database's integers."""
    assert client.get(f"/?page={HUGE}").status_code == 200
    assert client.get("/?page=99999999999").status_code == 200
    assert client.get(f"/api/v1/events?page={HUGE}").status_code == 400
    assert client.get("/api/v1/events?page=0").json["error"]["code"] == "bad_page"
    assert client.get("/api/v1/events?per_page=101").status_code == 400
    assert (
        client.get("/api/v1/events?per_page=1").json["pages"] == 0
    )  # per_page is honoured (no events here)
    event = factories.event(world.org_a, datetime(2031, 11, 13, 12, 0, tzinfo=RIGA))
    login(client, world.organiser_a.email)
    assert client.get(f"/manage/events/{event.id}/registrations?page={HUGE}").status_code == 200
    assert client.get(f"/manage/audit?page={HUGE}").status_code == 200


def test_nul_bytes_are_refused_before_the_database_sees_them(client, world):
    """PostgreSQL keeps no NUL in text: found by the API fuzz in a search, and in any form field."""
    event = factories.event(world.org_a, datetime(2031, 11, 13, 12, 0, tzinfo=RIGA))
    assert client.get(f"/events/{event.id}?x=a%00").status_code == 400
    assert client.get("/r/abc%00def").status_code == 400
    token = (
        client.get(f"/events/{event.id}")
        .get_data(as_text=True)
        .split('name="csrf_token" type="hidden" value="')[1]
        .split('"')[0]
    )
    form = {
        "name": "A\x00B",
        "email": "a@example.lv",
        "party_size": "1",
        "language": "lv",
        "consent": "y",
        "csrf_token": token,
    }
    assert client.post(f"/events/{event.id}/register", data=form).status_code == 400
    body = {"name": "A\u0000B", "email": "a@example.lv", "consent": True}
    response = client.post(f"/api/v1/events/{event.id}/registrations", json=body)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"
    login(client, world.organiser_a.email)
    for url in (
        f"/manage/events/{event.id}/registrations?q=a%00",
        f"/manage/events/{event.id}/checkin?q=a%00",
        f"/api/v1/events/{event.id}/attendees?q=a%00",
    ):
        assert client.get(url).status_code == 400, url
    assert client.get(f"/api/v1/events/{event.id}/attendees?q=a").status_code == 200


def test_odd_digits_in_the_door_form_are_not_a_server_error(client, world):
    event = factories.event(world.org_a, datetime(2031, 11, 13, 12, 0, tzinfo=RIGA))
    login(client, world.organiser_a.email)
    url = f"/manage/events/{event.id}/checkin"
    for value in ("²", "٣", "99999999999", "-1", " 1"):
        response = post_form(
            client,
            url,
            {"action": "person", "registration_id": value, "people": "1", "nonce": "n-" + value},
        )
        assert response.status_code < 500, value
