"""Every number defined once (services/measures.py) and shown as defined: events that have not
ended are no part of no-shows or the attendance rate, an event moved online counts its people
online, and a hybrid event's people read the same on the organiser's page, at the door, in the
totals and in the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from eventsvc.extensions import db as _db
from eventsvc.models import Attendance, EventFormat, EventKind
from eventsvc.services import checkin as door
from eventsvc.services import events as event_service
from eventsvc.services import measures, stats
from eventsvc.services import registration as rules
from eventsvc.services.stats import GroupBy, StatsFilter
from eventsvc.web.api.openapi import SPEC

from . import factories
from .conftest import login


def _register(event, size, attendance=None, now=None):
    return rules.register(
        event.id, factories.registration_request(party_size=size, attendance=attendance), now
    ).registration


@pytest.fixture
def past_and_future(world, now):
    """Tukums: an event that ended (5 registered in person, 3 let in); Daugavpils: one next
    week (4 registered, nobody could have come yet)."""
    past = factories.event(world.org_a, now + timedelta(days=2), title="Notikušais")
    first, second = _register(past, 3, now=now), _register(past, 2, now=now)
    door.check_in_registration(past, first.id, world.organiser_a, now)
    future = factories.event(world.org_b, now + timedelta(days=7), title="Gaidāmais")
    _register(future, 4, now=now)
    _db.session.commit()
    past.starts_at, past.ends_at = now - timedelta(days=2), now - timedelta(days=2, hours=-2)
    _db.session.commit()
    return past, future, second


def test_events_that_have_not_ended_count_in_no_rate_and_no_no_shows(
    app, db, world, now, past_and_future
):
    totals = stats.headline(StatsFilter(), None, now)
    assert (totals.events, totals.ended_events, totals.upcoming_events) == (2, 1, 1)
    assert totals.people_registered == 9 and totals.upcoming_people_registered == 4
    assert totals.no_shows == 2  # the party of 2 at the past event; the future 4 are not
    assert totals.attendance_rate == pytest.approx(3 / 5)  # not 3 / 9

    with app.test_request_context("/"):
        rows = {
            r.label: r.totals
            for r in stats.breakdown(GroupBy.MUNICIPALITY, StatsFilter(), None, now)
        }
    daugavpils = rows["Daugavpils valstspilsēta"]
    assert daugavpils.attendance_rate is None  # never 0 %: nothing has happened yet
    assert (daugavpils.no_shows, daugavpils.ended_events, daugavpils.upcoming_events) == (0, 0, 1)
    assert rows["Tukuma novads"].attendance_rate == pytest.approx(3 / 5)


def test_the_api_gives_no_rate_for_a_group_without_an_ended_event(
    client, runner, world, now, past_and_future
):
    token = runner.invoke(args=["users", "token", world.ministry.email]).output.strip()
    body = client.get(
        "/api/v1/stats/attendance?group_by=municipality",
        headers={"Authorization": f"Bearer {token}"},
    ).json
    groups = {g["label"]: g for g in body["groups"]}
    assert groups["Daugavpils valstspilsēta"]["attendance_rate"] is None
    assert groups["Daugavpils valstspilsēta"]["upcoming_people_registered"] == 4
    assert groups["Tukuma novads"]["attendance_rate"] == pytest.approx(0.6)
    assert body["totals"]["no_shows"] == 2 and body["totals"]["upcoming_events"] == 1


def test_the_page_shows_upcoming_apart_and_a_dash_for_no_rate(client, world, now, past_and_future):
    login(client, world.ministry.email)
    page = client.get("/stats/").get_data(as_text=True)
    assert "Gaidāmie: 1 pasākums, 4 cilvēki reģistrējušies." in page
    table = page.split('id="table-municipality"')[1].split("</section>")[0]
    daugavpils = table.split("<tbody>")[1].split("Daugavpils valstspilsēta")[1].split("</tr>")[0]
    assert "—" in daugavpils and "0%" not in daugavpils
    assert "Nav rādītāja: neviens rindas pasākums vēl nav beidzies" in table


def test_an_event_moved_online_counts_its_people_online(db, world, now):
    """The Preiļi training moved online: its 6 people are online, everywhere."""
    event = factories.event(world.org_a, now + timedelta(days=3), capacity=20)
    parties = [_register(event, size, now=now) for size in (3, 2, 1)]
    door.check_in_registration(event, parties[2].id, world.organiser_a, now)  # already there
    _db.session.commit()

    def moved_to(event_format):
        data = event_service.EventData.from_event(event)
        data.format, data.stream_url = event_format, "https://video.example.lv/x"
        event_service.update_event(world.organiser_a, event, data, now)
        _db.session.commit()
        totals = stats.headline(StatsFilter(), None, now)
        people = measures.event_people([event.id])[event.id]
        assert (people.people_in_person, people.people_online) == (
            totals.people_in_person,
            totals.people_online,
        )
        assert stats.counter_drift() == {}  # the counters moved with the registrations
        return totals.people_in_person, totals.people_online

    assert moved_to(EventFormat.ONLINE) == (1, 5)  # the one let in at the door was there
    assert moved_to(EventFormat.HYBRID) == (1, 5)  # hybrid: each keeps their way
    assert moved_to(EventFormat.IN_PERSON) == (6, 0)
    assert moved_to(EventFormat.ONLINE) == (1, 5)


def test_hybrid_people_read_the_same_on_every_page(client, runner, world, now):
    """2 places, 2 people in person and 3 online: 2 places taken everywhere (it once read
    "5 / 2" on the organiser's page), 2 in person, 3 online."""
    event = factories.event(
        world.org_a,
        now + timedelta(days=3),
        capacity=2,
        format=EventFormat.HYBRID,
        stream_url="https://video.example.lv/x",
        kind=EventKind.TRAINING,
    )
    _register(event, 2, Attendance.IN_PERSON, now)
    _register(event, 3, Attendance.ONLINE, now)
    _db.session.commit()

    people = measures.event_people([event.id])[event.id]
    assert (people.places_taken, people.people_in_person, people.people_online) == (2, 2, 3)
    assert rules.availability(event).confirmed_people == 2  # what admission counts
    assert door.door_counts(event).confirmed_people == 2  # the door
    totals = stats.headline(StatsFilter(kind=EventKind.TRAINING), None, now)
    assert (totals.people_in_person, totals.people_online) == (2, 3)

    login(client, world.organiser_a.email)
    page = re.sub(r"\s+", " ", client.get(f"/manage/events/{event.id}").get_data(as_text=True))
    assert "<dd>2 / 2 " in page and "5 / 2" not in page
    assert re.search(r"Klātienē</dt> <dd>2</dd>", page)
    assert re.search(r"Tiešsaistē</dt><dd>3</dd>", page)
    listing = re.sub(r"\s+", " ", client.get("/manage/").get_data(as_text=True))
    row = listing.split(event.title)[1].split("</tr>")[0]
    assert [c.split(">")[-1] for c in row.split("</td>")][2:6] == ["2", "2", "3", "0"]
    door_page = client.get(f"/manage/events/{event.id}/checkin").get_data(as_text=True)
    assert '<strong data-count="confirmed">2</strong> aizņemtas vietas' in door_page
    state = client.get(f"/api/v1/events/{event.id}/checkins/state").json
    assert state["confirmed_people"] == 2

    token = runner.invoke(args=["users", "token", world.ministry.email]).output.strip()
    api = client.get(
        "/api/v1/stats/attendance?kind=training", headers={"Authorization": f"Bearer {token}"}
    ).json["totals"]
    assert (api["people_in_person"], api["people_online"]) == (2, 3)


def test_every_measure_is_described_once_in_the_openapi_document():
    schema = SPEC["components"]["schemas"]["Totals"]["properties"]
    for name in stats.METRICS:
        assert schema[name]["description"] == measures.english(name)
    assert schema["attendance_rate"]["description"].startswith(measures.english("attendance_rate"))
    # Every column of the tables is in the glossary, with a definition.
    assert {m.key for m in measures.GLOSSARY} <= set(stats.METRICS) | {"attendance_rate"}


def test_switching_between_in_person_and_online_at_a_hybrid_event(db, world, now):
    """Coming in person needs a place; watching online frees one for the waiting list."""
    from eventsvc.models import RegistrationStatus
    from eventsvc.services.registration import RegistrationRefused

    event = factories.event(
        world.org_a,
        now + timedelta(days=3),
        capacity=2,
        format=EventFormat.HYBRID,
        stream_url="https://video.example.lv/x",
    )
    in_person = _register(event, 2, Attendance.IN_PERSON, now)
    online = _register(event, 1, Attendance.ONLINE, now)
    waiting = _register(event, 2, Attendance.IN_PERSON, now)
    _db.session.commit()
    assert waiting.status is RegistrationStatus.WAITLISTED
    with pytest.raises(RegistrationRefused):
        rules.change_attendance(online, Attendance.IN_PERSON, now)
    _db.session.rollback()
    promoted = rules.change_attendance(in_person, Attendance.ONLINE, now)
    _db.session.commit()
    assert [r.id for r in promoted] == [waiting.id]
    people = measures.event_people([event.id])[event.id]
    assert (people.places_taken, people.people_in_person, people.people_online) == (2, 2, 3)
    assert stats.counter_drift() == {}
