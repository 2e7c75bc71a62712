"""The door's API and page: staff only (session + CSRF header, or a personal token)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import ApiToken, CheckIn
from eventsvc.services import registration as rules

from . import factories
from .conftest import login, post_form


@pytest.fixture
def event(world, in_days, now):
    event = factories.event(world.org_a, in_days(1), capacity=10)
    return event


@pytest.fixture
def family(event, now):
    outcome = rules.register(
        event.id, factories.registration_request(name="Anna Bērziņa", party_size=3), now
    )
    _db.session.commit()
    return outcome.registration


def page_token(client, event) -> str:
    body = client.get(f"/manage/events/{event.id}/checkin").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', body).group(1)


def test_session_with_csrf_header_checks_in(client, world, event, family):
    login(client, world.organiser_a.email)
    token = page_token(client, event)
    url = f"/api/v1/events/{event.id}/checkins"
    assert (
        client.post(url, json={"code": family.ticket_secret}).status_code == 400
    )  # no CSRF header
    first = client.post(
        url,
        json={"code": family.ticket_secret, "nonce": "dev1:00000001"},
        headers={"X-CSRFToken": token},
    )
    assert first.status_code == 200 and first.json["result"] == "checked_in" and first.json["ok"]
    assert first.json["attendee"] == {
        "registration_id": family.id,
        "name": "Anna Bērziņa",
        "party_size": 3,
        "checked_in_people": 3,
        "walk_in": False,
        "activities": [],
        "needs": "",
        "access_needs": [],
        "needs_text": "",
        "booking_code": family.booking_code,
    }
    retry = client.post(
        url,
        json={"code": family.ticket_secret, "nonce": "dev1:00000001"},
        headers={"X-CSRFToken": token},
    )
    assert retry.json["checkin_id"] == first.json["checkin_id"]
    again = client.post(url, json={"code": family.ticket_secret}, headers={"X-CSRFToken": token})
    assert (
        again.json["result"] == "already_checked_in"
        and again.json["previous"]["by"] == world.organiser_a.name
    )
    bad = client.post(url, json={"code": 12}, headers={"X-CSRFToken": token})
    assert bad.status_code == 422
    state = client.get(f"/api/v1/events/{event.id}/checkins/state").json
    assert (state["checked_in_people"], state["confirmed_people"], state["capacity"]) == (3, 3, 10)
    undo = client.delete(
        f"/api/v1/events/{event.id}/checkins/{first.json['checkin_id']}",
        headers={"X-CSRFToken": token},
    )
    assert undo.status_code == 200 and undo.json["checked_in_people"] == 0
    assert undo.json["name"] == "Anna Bērziņa" and "Anna Bērziņa" in undo.json["message"]


def test_personal_token_works_and_can_be_revoked(client, runner, world, event, family):
    result = runner.invoke(args=["users", "token", world.organiser_a.email, "--name", "door phone"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("evs_") and _db.session.scalar(select(ApiToken.token_hash)) != token
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(
        f"/api/v1/events/{event.id}/checkins", json={"code": family.ticket_secret}, headers=headers
    )
    assert response.status_code == 200 and response.json["ok"]

    login(client, world.organiser_a.email)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "door phone" in page and token not in page  # only its prefix is shown again
    stored = _db.session.scalar(select(ApiToken))
    post_form(client, f"/account/tokens/{stored.id}/revoke", {}, form_url="/account/tokens")
    fresh = client.application.test_client()
    assert (
        fresh.get(f"/api/v1/events/{event.id}/checkins/state", headers=headers).status_code == 401
    )


def test_token_made_on_the_account_page_is_shown_once(client, world):
    login(client, world.organiser_a.email)
    response = post_form(client, "/account/tokens", {"name": "Tumes kultūras nams"})
    token = re.search(
        r'<code class="token">(evs_[^<]+)</code>', response.get_data(as_text=True)
    ).group(1)
    assert token not in client.get("/account/tokens").get_data(as_text=True)
    assert post_form(client, "/account/tokens", {"name": ""}).status_code == 422


def test_offline_list_sync_and_walk_in(client, world, event, family, now):
    other = rules.register(
        event.id, factories.registration_request(name="Jānis", party_size=1), now
    ).registration
    _db.session.commit()
    login(client, world.organiser_a.email)
    token = page_token(client, event)
    listing = client.get(f"/api/v1/events/{event.id}/checkins/offline")
    assert listing.headers["Cache-Control"] == "private, no-store"
    assert family.ticket_secret not in listing.get_data(as_text=True)
    assert len(listing.json["tickets"]) == 2
    # Another device checked Jānis in first; this device's offline queue arrives later.
    client.post(
        f"/api/v1/events/{event.id}/checkins",
        json={"registration_id": other.id},
        headers={"X-CSRFToken": token},
    )
    queue = [
        {"code": family.ticket_secret, "nonce": "dev2:00000001", "scanned_at": now.isoformat()},
        {"registration_id": other.id, "nonce": "dev2:00000002", "scanned_at": now.isoformat()},
        {"code": "nonsense", "nonce": "dev2:00000003"},
    ]
    synced = client.post(
        f"/api/v1/events/{event.id}/checkins/sync",
        json={"checkins": queue},
        headers={"X-CSRFToken": token},
    )
    assert [r["result"] for r in synced.json["results"]] == [
        "checked_in",
        "already_checked_in",
        "malformed",
    ]
    again = client.post(
        f"/api/v1/events/{event.id}/checkins/sync",
        json={"checkins": queue[:1]},
        headers={"X-CSRFToken": token},
    )
    assert (
        again.json["results"][0]["result"] == "checked_in"
    )  # the same nonce: the first answer again
    assert _db.session.scalar(select(func.count(CheckIn.id))) == 2

    walk_in = client.post(
        f"/api/v1/events/{event.id}/walkins",
        json={"name": "Nezināmais", "people": 2},
        headers={"X-CSRFToken": token},
    )
    assert walk_in.status_code == 201 and walk_in.json["attendee"]["walk_in"]
    full = client.post(
        f"/api/v1/events/{event.id}/walkins",
        json={"name": "Pārāk daudz", "people": 9},
        headers={"X-CSRFToken": token},
    )
    assert full.status_code == 409
    found = client.get(f"/api/v1/events/{event.id}/attendees?q=bērz").json["attendees"]
    assert [a["name"] for a in found] == ["Anna Bērziņa"]


def test_other_organisations_and_other_roles_are_refused(client, world, event, family):
    urls = [
        ("GET", f"/api/v1/events/{event.id}/checkins/state"),
        ("GET", f"/api/v1/events/{event.id}/checkins/offline"),
        ("GET", f"/api/v1/events/{event.id}/attendees"),
        ("POST", f"/api/v1/events/{event.id}/checkins"),
        ("POST", f"/api/v1/events/{event.id}/checkins/sync"),
        ("POST", f"/api/v1/events/{event.id}/walkins"),
        ("DELETE", f"/api/v1/events/{event.id}/checkins/1"),
    ]
    for method, url in urls:
        assert client.open(url, method=method, json={}).status_code == 401, url
    login(client, world.organiser_b.email)
    token = page_token(client, factories.event(world.org_b, event.starts_at))
    for method, url in urls:
        assert (
            client.open(
                url,
                method=method,
                json={"code": family.ticket_secret},
                headers={"X-CSRFToken": token},
            ).status_code
            == 404
        ), url
    assert client.get(f"/manage/events/{event.id}/checkin").status_code == 404
    ministry = client.application.test_client()
    login(ministry, world.ministry.email)
    assert ministry.get(f"/api/v1/events/{event.id}/checkins/state").status_code == 403
    assert ministry.get(f"/manage/events/{event.id}/checkin").status_code == 403
    assert _db.session.scalar(select(func.count(CheckIn.id))) == 0


def test_the_page_works_without_javascript(client, world, event, family):
    login(client, world.organiser_a.email)
    page = f"/manage/events/{event.id}/checkin"
    ok = post_form(client, page, {"action": "code", "code": family.ticket_secret})
    body = ok.get_data(as_text=True)
    assert 'class="result result-ok"' in body and "Anna Bērziņa" in body
    again = post_form(client, page, {"action": "code", "code": family.ticket_secret}).get_data(
        as_text=True
    )
    assert 'class="result result-warn"' in again
    bad = post_form(client, page, {"action": "code", "code": "not-a-ticket"}).get_data(as_text=True)
    assert 'class="result result-bad"' in bad
    found = client.get(page + "?q=anna").get_data(as_text=True)
    assert "Anna Bērziņa" in found and "3/3" in found
    walk = post_form(
        client, page, {"action": "walk_in", "name": "Nezināmais", "people": "1"}
    ).get_data(as_text=True)
    assert 'class="result result-ok"' in walk
    assert client.get("/manage/checkin-sw.js").headers["Service-Worker-Allowed"] == "/manage/"


def test_signing_out_clears_the_phones_data(client, world):
    login(client, world.organiser_a.email)
    response = post_form(client, "/logout", {}, form_url="/manage/")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_last_used_is_written_at_most_once_a_minute(db, world, now):
    """A door phone scans all evening: "last used" must not cost a write per scan."""
    from datetime import timedelta

    from eventsvc.services.api_tokens import create_token, user_for_token

    token, plain = create_token(world.organiser_a, "door", now)
    _db.session.commit()
    assert user_for_token(plain, now) == world.organiser_a
    _db.session.commit()
    first = token.last_used_at
    assert first is not None
    assert user_for_token(plain, now + timedelta(seconds=30)) == world.organiser_a
    assert not _db.session.dirty  # nothing to write
    assert user_for_token(plain, now + timedelta(minutes=2)) == world.organiser_a
    _db.session.commit()
    assert token.last_used_at > first
    assert user_for_token("evt_" + "x" * 40, now) is None
