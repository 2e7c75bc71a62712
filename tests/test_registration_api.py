"""The JSON API: the same registration rules, JSON in and out, described by OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import jsonschema
import pytest
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import EventStatus, OutboxMessage, Registration
from eventsvc.web.api.openapi import SPEC

from . import factories


def check(instance, name: str) -> None:
    resolver_schema = {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}
    jsonschema.validate(instance, resolver_schema)


def body(**fields) -> dict:
    data = {"name": "Jānis Kalniņš", "email": "janis@example.lv", "party_size": 2, "consent": True}
    data.update(fields)
    return data


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=3)


def test_register_confirmed_then_waitlisted(client, event):
    first = client.post(f"/api/v1/events/{event.id}/registrations", json=body())
    assert first.status_code == 201
    check(first.json, "RegistrationCreated")
    assert first.json["status"] == "confirmed" and first.json["manage_url"] is None
    second = client.post(
        f"/api/v1/events/{event.id}/registrations", json=body(email="x@example.lv", phone=None)
    )
    assert second.status_code == 201
    assert (second.json["status"], second.json["waitlist_position"]) == ("waitlisted", 1)
    assert [r.source.value for r in _db.session.scalars(select(Registration))] == ["api", "api"]


def test_repeated_email_gets_an_identical_answer(client, event):
    first = client.post(f"/api/v1/events/{event.id}/registrations", json=body(party_size=1))
    again = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json=body(name="Kāds cits", email="JANIS@example.lv", party_size=1),
    )
    assert (again.status_code, again.json) == (first.status_code, first.json)
    assert _db.session.scalar(select(func.count(Registration.id))) == 1
    assert _db.session.scalar(select(func.count(OutboxMessage.id))) == 2


def test_without_email_the_manage_url_is_returned_and_works(client, event):
    response = client.post(
        f"/api/v1/events/{event.id}/registrations", json=body(email=None, phone="+371 20000000")
    )
    url = response.json["manage_url"]
    token = url.rsplit("/", 1)[1]
    got = client.get(f"/api/v1/registrations/{token}")
    assert got.status_code == 200
    check(got.json, "Registration")
    assert (got.json["status"], got.json["party_size"], got.json["name"]) == (
        "confirmed",
        2,
        "Jānis Kalniņš",
    )
    assert client.get(url.replace("http://localhost", "")).status_code == 200

    deleted = client.delete(f"/api/v1/registrations/{token}")
    assert deleted.status_code == 200 and deleted.json["status"] == "cancelled"
    again = client.delete(f"/api/v1/registrations/{token}")
    assert again.status_code == 409 and again.json["error"]["code"] == "not_changeable"
    assert client.get("/api/v1/registrations/" + "x" * 43).status_code == 404


def test_errors_have_codes_and_messages(client, world, event, in_days, now):
    missing = client.post("/api/v1/events/987654/registrations", json=body())
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    draft = factories.event(world.org_a, in_days(5), status=EventStatus.DRAFT)
    assert client.post(f"/api/v1/events/{draft.id}/registrations", json=body()).status_code == 404

    closed = factories.event(
        world.org_a, in_days(5), registration_closes_at=now - timedelta(minutes=1)
    )
    refused = client.post(f"/api/v1/events/{closed.id}/registrations", json=body())
    assert refused.status_code == 409 and refused.json["error"]["code"] == "registration_closed"
    check(refused.json, "Error")
    soon = factories.event(world.org_a, in_days(20), registration_opens_at=in_days(2))
    assert (
        client.post(f"/api/v1/events/{soon.id}/registrations", json=body()).json["error"]["code"]
        == "registration_not_open"
    )

    client.post(f"/api/v1/events/{event.id}/registrations", json=body(party_size=3))
    full = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json=body(email="b@example.lv", join_waitlist=False),
    )
    assert full.status_code == 409 and full.json["error"]["code"] == "full"

    invalid = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={
            "name": "",
            "email": "nope",
            "party_size": 0,
            "activity_ids": [999999],
            "consent": False,
        },
    )
    assert invalid.status_code == 422
    assert set(invalid.json["error"]["fields"]) >= {"name", "email", "party_size", "consent"}
    check(invalid.json, "Error")
    assert (
        client.post(
            f"/api/v1/events/{event.id}/registrations",
            data="not json",
            content_type="application/json",
        ).status_code
        == 422
    )


def test_messages_follow_accept_language(client, event, now):
    lv = client.post(f"/api/v1/events/{event.id}/registrations", json={"name": ""})
    en = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": ""},
        headers={"Accept-Language": "en"},
    )
    assert en.json["error"]["fields"]["name"] == "Enter your name."
    assert lv.json["error"]["fields"]["name"] != "Enter your name."


def test_event_list_and_detail_match_the_schema(client, world, event, in_days):
    from eventsvc.models import Activity

    event.activities.append(
        Activity(title="Darbnīca", starts_at=event.starts_at, ends_at=event.ends_at, capacity=2)
    )
    _db.session.commit()
    client.post(f"/api/v1/events/{event.id}/registrations", json=body(party_size=1))
    listing = client.get("/api/v1/events")
    assert listing.status_code == 200
    jsonschema.validate(
        listing.json,
        {
            **SPEC["paths"]["/events"]["get"]["responses"]["200"]["content"]["application/json"][
                "schema"
            ],
            "components": SPEC["components"],
        },
    )
    assert [e["id"] for e in listing.json["events"]] == [event.id]
    detail = client.get(f"/api/v1/events/{event.id}")
    check(detail.json, "Event")
    assert detail.json["registration"]["places_left"] == 2
    assert detail.json["activities"][0]["places_left"] == 2
    assert client.get("/api/v1/events?kind=rave").status_code == 400


def test_openapi_document_describes_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    described = {
        ("/api/v1" + path.replace("{", "<").replace("}", ">"), method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    }
    routes = {
        (rule.rule.replace("<int:", "<"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and not rule.rule.endswith("openapi.json")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == described


@pytest.fixture
def festival(world, in_days):
    """175 places, and a workshop with none left."""
    from eventsvc.models import Activity

    festival = factories.event(world.org_b, in_days(10), capacity=175, hours=6)
    festival.activities.append(
        Activity(
            title="Kartīšu darbnīca",
            starts_at=festival.starts_at,
            ends_at=festival.ends_at,
            capacity=2,
        )
    )
    _db.session.commit()
    return festival


def test_a_full_activity_is_waited_for_while_the_event_place_is_confirmed(client, festival):
    url = f"/api/v1/events/{festival.id}/registrations"
    workshop_id = festival.activities[0].id
    first = client.post(url, json=body(party_size=2, activity_ids=[workshop_id]))
    assert first.json["activities"] == [
        {
            "id": workshop_id,
            "title": "Kartīšu darbnīca",
            "status": "confirmed",
            "waitlist_position": None,
        }
    ]
    second = client.post(
        url,
        json=body(email=None, phone="+371 20000000", party_size=1, activity_ids=[workshop_id]),
        headers={"Accept-Language": "en"},
    )
    assert second.status_code == 201
    check(second.json, "RegistrationCreated")
    assert (second.json["status"], second.json["waitlist_position"]) == ("confirmed", None)
    assert second.json["activities"] == [
        {
            "id": workshop_id,
            "title": "Kartīšu darbnīca",
            "status": "waitlisted",
            "waitlist_position": 1,
        }
    ]
    assert second.json["message"] == (
        "Your place is reserved. “Kartīšu darbnīca” is full: you are on its waiting list,"
        " position 1."
    )
    detail = client.get(f"/api/v1/events/{festival.id}").json
    check(detail, "Event")
    assert detail["registration"]["places_left"] == 172
    assert (detail["activities"][0]["places_left"], detail["activities"][0]["waiting_parties"]) == (
        0,
        1,
    )

    manage = second.json["manage_url"].split("/r/")[1]
    waiting = client.get(f"/api/v1/registrations/{manage}")
    check(waiting.json, "Registration")
    assert waiting.json["activities"][0]["status"] == "waitlisted"
    assert waiting.json["activity_ids"] == [workshop_id]

    refused = client.post(
        url, json=body(email="nowait@example.lv", activity_ids=[workshop_id], join_waitlist=False)
    )
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "activity_full")

    holder = _db.session.scalar(select(Registration).order_by(Registration.id))
    assert client.delete(f"/api/v1/registrations/{holder.manage_token}").status_code == 200
    promoted = client.get(f"/api/v1/registrations/{manage}").json
    assert promoted["activities"][0] == {
        "id": workshop_id,
        "title": "Kartīšu darbnīca",
        "status": "confirmed",
        "waitlist_position": None,
    }
    # The waiting party has no email: the organiser tells them (nothing to send).
    assert (
        _db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "activity_promoted")
        )
        == 0
    )


def test_a_party_waiting_for_the_event_waits_for_its_activities_with_it(client, world, in_days):
    from eventsvc.models import Activity

    event = factories.event(world.org_b, in_days(10), capacity=2, hours=6)
    event.activities.append(
        Activity(title="Darbnīca", starts_at=event.starts_at, ends_at=event.ends_at, capacity=5)
    )
    _db.session.commit()
    url = f"/api/v1/events/{event.id}/registrations"
    client.post(url, json=body(party_size=2))
    late = client.post(
        url, json=body(email="late@example.lv", party_size=1, activity_ids=[event.activities[0].id])
    )
    check(late.json, "RegistrationCreated")
    assert (late.json["status"], late.json["waitlist_position"]) == ("waitlisted", 1)
    assert [(a["status"], a["waitlist_position"]) for a in late.json["activities"]] == [
        ("waitlisted", None)
    ]
