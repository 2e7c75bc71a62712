"""The door-only role (Role.DOOR): volunteers check people in, register walk-ins and find
names at their organisations' events, and nothing else (services/access.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import CheckIn, EventStatus, Role, User
from eventsvc.services import PermissionDenied, access
from eventsvc.services import checkin as door
from eventsvc.services import registration as rules
from eventsvc.services.api_tokens import create_token

from . import factories
from .conftest import login, post_form

PHONE = "+371 2612 3456"
EMAIL = "ilze.iedzivotaja@example.lv"


@pytest.fixture
def volunteer(world):
    user = factories.user("durvis@example.lv", Role.DOOR, [world.org_a])
    _db.session.commit()
    return user


@pytest.fixture
def event(world, in_days, now):
    event = factories.event(world.org_a, in_days(1), capacity=10, title="Pagalma svētki")
    return event


@pytest.fixture
def ilze(event, now):
    registration = rules.register(
        event.id,
        factories.registration_request(
            name="Ilze Iedzīvotāja", email=EMAIL, phone=PHONE, party_size=2, needs="uzbrauktuve"
        ),
        now,
    ).registration
    _db.session.commit()
    return registration


def csrf(client, event) -> str:
    body = client.get(f"/manage/events/{event.id}/checkin").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', body).group(1)


def test_cli_and_admin_create_door_accounts_that_belong_to_an_organisation(
    app, client, runner, world
):
    made = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "brivpratigais@tukums.lv",
            "--role",
            "door",
            "--organisation",
            "tukums-sd",
            "--password",
            "long enough pw",
        ]
    )
    assert made.exit_code == 0, made.output
    user = _db.session.scalar(select(User).where(User.email == "brivpratigais@tukums.lv"))
    assert user.role is Role.DOOR and [o.slug for o in user.organisations] == ["tukums-sd"]
    lonely = runner.invoke(
        args=["users", "create", "--email", "x@tukums.lv", "--role", "door", "--password", "p" * 12]
    )
    assert lonely.exit_code != 0 and "organisation" in lonely.output

    login(client, world.admin.email)
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert '<option value="door">' in form
    saved = post_form(
        client,
        "/admin/users/new",
        {
            "name": "Pēteris Palīgs",
            "email": "paligs@tukums.lv",
            "role": "door",
            "organisations": str(world.org_a.id),
            "password": "ļoti droša parole 42",
            "active": "y",
        },
    )
    assert saved.status_code == 302
    assert (
        _db.session.scalar(select(User.role).where(User.email == "paligs@tukums.lv")) is Role.DOOR
    )


def test_sign_in_lands_on_the_coming_events_with_a_door_each(
    client, world, volunteer, event, in_days, now
):
    past = factories.event(world.org_a, now - timedelta(days=3), title="Pagājis")
    draft = factories.event(world.org_a, in_days(3), title="Melnraksts", status=EventStatus.DRAFT)
    other = factories.event(world.org_b, in_days(2), title="Citas organizācijas")
    response = login(client, volunteer.email)
    assert response.location == "/manage/door"
    page = client.get("/manage/door").get_data(as_text=True)
    assert "Pagalma svētki" in page and f"/manage/events/{event.id}/checkin" in page
    for hidden in (past, draft, other):
        assert hidden.title not in page
    # The menu offers the door, not the organisers' pages or the totals.
    assert "/stats/" not in page and 'href="/manage/"' not in page


def test_the_door_role_checks_in_registers_walk_ins_and_undoes(
    client, world, volunteer, event, ilze
):
    login(client, volunteer.email)
    token = csrf(client, event)
    api = f"/api/v1/events/{event.id}"
    scanned = client.post(
        f"{api}/checkins", json={"code": ilze.booking_code}, headers={"X-CSRFToken": token}
    )
    assert scanned.json["result"] == "checked_in"
    assert scanned.json["attendee"]["needs"] == "uzbrauktuve"  # the ramp: the door must know
    undone = client.delete(
        f"{api}/checkins/{scanned.json['checkin_id']}", headers={"X-CSRFToken": token}
    )
    assert undone.status_code == 200 and "Ilze Iedzīvotāja" in undone.json["message"]
    walk_in = client.post(
        f"{api}/walkins", json={"name": "Nezināmais", "people": 1}, headers={"X-CSRFToken": token}
    )
    assert walk_in.status_code == 201
    page = post_form(
        client, f"/manage/events/{event.id}/checkin", {"action": "code", "code": ilze.ticket_secret}
    ).get_data(as_text=True)
    assert 'class="result result-ok"' in page and "uzbrauktuve" in page
    assert _db.session.scalar(select(func.count(CheckIn.id))) == 3


def test_the_door_role_finds_by_phone_but_sees_the_name_only(client, world, volunteer, event, ilze):
    login(client, volunteer.email)
    found = client.get(f"/api/v1/events/{event.id}/attendees?q=26123456").json["attendees"]
    assert [a["name"] for a in found] == ["Ilze Iedzīvotāja"]
    assert found[0]["phone"] is None and found[0]["needs"] == "uzbrauktuve"
    offline = client.get(f"/api/v1/events/{event.id}/checkins/offline").get_data(as_text=True)
    page = client.get(f"/manage/events/{event.id}/checkin?q=2612+3456").get_data(as_text=True)
    results = page.split('id="found"')[1].split("</ul>")[0]  # not the search box's own text
    assert "Ilze Iedzīvotāja" in results and "uzbrauktuve" in results
    for body in (str(found), offline, results):
        assert EMAIL not in body and "2612 3456" not in body and "26123456" not in body
    # An organiser of the event sees the phone in the same search.
    organiser = client.application.test_client()
    login(organiser, world.organiser_a.email)
    (row,) = organiser.get(f"/api/v1/events/{event.id}/attendees?q=26123456").json["attendees"]
    assert row["phone"] == PHONE


@pytest.mark.parametrize(
    "url",
    [
        "/manage/",
        "/manage/events/new",
        "/manage/events/{id}",
        "/manage/events/{id}/edit",
        "/manage/events/{id}/registrations",
        "/manage/events/{id}/registrations.csv",
        "/manage/events/{id}/registrations.xlsx",
        "/manage/events/{id}/attendance-sheet",
        "/manage/data-requests",
        "/manage/audit",
        "/stats/",
        "/admin/users",
    ],
)
def test_nothing_else_is_open_to_the_door_role(client, volunteer, event, ilze, url):
    login(client, volunteer.email)
    response = client.get(url.format(id=event.id))
    assert response.status_code in (403, 404), (url, response.status_code)
    assert EMAIL not in response.get_data(as_text=True)


def test_another_organisations_door_is_missing(client, world, event, ilze):
    outsider = factories.user("durvis-b@example.lv", Role.DOOR, [world.org_b])
    _db.session.commit()
    login(client, outsider.email)
    assert client.get(f"/manage/events/{event.id}/checkin").status_code == 404
    assert client.get(f"/api/v1/events/{event.id}/attendees").status_code == 404


def test_a_door_accounts_token_is_limited_as_the_account(client, volunteer, event, ilze, now):
    _, token = create_token(volunteer, "durvju tālrunis", now)
    _db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    scanned = client.post(
        f"/api/v1/events/{event.id}/checkins", json={"code": ilze.ticket_secret}, headers=bearer
    )
    assert scanned.status_code == 200 and scanned.json["ok"]
    assert client.get("/api/v1/stats/attendance", headers=bearer).status_code == 403
    (row,) = client.get(f"/api/v1/events/{event.id}/attendees", headers=bearer).json["attendees"]
    assert row["phone"] is None


def test_the_rules_live_in_the_access_service(db, world, volunteer, event):
    assert access.event_for_door(volunteer, event.id) == event
    assert not access.can_manage_event(volunteer, event)
    assert not access.sees_contacts(volunteer) and access.sees_contacts(world.organiser_a)
    for refused in (access.require_organiser, access.audit_scope):
        with pytest.raises(PermissionDenied):
            refused(volunteer)
    with pytest.raises(PermissionDenied):
        access.event_for_door(world.ministry, event.id)
    assert door.door_events(volunteer, event.starts_at - timedelta(days=1)) == [event]
