"""After the event: the follow-up list (services/follow_up.py). Who is on it and who not, the
calls marked (who, when, audited, counted), its purge (the list gone, the count kept), the
calls-made total, the consent on every way in, and the page for the event's organisers only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Attendance,
    AuditEntry,
    EventFormat,
    EventStats,
    EventStatus,
    FollowUpOutcome,
    Registration,
    Role,
)
from eventsvc.services import NotFound, PermissionDenied, ServiceError, follow_up, privacy, stats
from eventsvc.services import checkin as door
from eventsvc.services import registration as rules
from eventsvc.services.stats import StatsFilter

from . import factories
from .conftest import csrf_from, login, post_form, run_at_once


@dataclass
class Scene:
    event: object  # ended two days ago
    absent: Registration  # agreed, not let in: on the list
    phone_only: Registration  # agreed, no email, not let in: on the list
    came: Registration  # agreed, let in
    cancelled: Registration  # agreed, cancelled before the event
    not_agreed: Registration  # did not agree, not let in
    waiting: Registration  # agreed, never got a place


def _register(event, at, **fields):
    return rules.register(event.id, factories.registration_request(**fields), at).registration


@pytest.fixture
def scene(world, now) -> Scene:
    event = factories.event(world.org_a, now - timedelta(days=2), capacity=5, title="Senioru diena")
    before = event.starts_at - timedelta(days=10)
    absent = _register(
        event, before, name="Ārija Ozola", email="arija@example.lv", follow_up_consent=True
    )
    phone_only = _register(
        event,
        before,
        name="Pēteris Liepa",
        email=None,
        phone="+371 2611 1111",
        language="ru",
        follow_up_consent=True,
    )
    came = _register(event, before, name="Inta Kalna", follow_up_consent=True)
    cancelled = _register(event, before, name="Gunārs Zariņš", follow_up_consent=True)
    rules.cancel_registration(cancelled, before)
    not_agreed = _register(event, before, name="Olga Petrova", party_size=2)
    waiting = _register(event, before, name="Rasma Krūmiņa", party_size=3, follow_up_consent=True)
    _db.session.commit()
    door.check_in_registration(event, came.id, world.organiser_a, event.starts_at)
    _db.session.commit()
    assert waiting.status.value == "waitlisted"
    return Scene(event, absent, phone_only, came, cancelled, not_agreed, waiting)


def names(listing) -> list[str]:
    return [r.name for r in listing.people]


# --- who is on it -------------------------------------------------------------------------


def test_who_is_on_the_list_and_who_not(world, scene, now):
    listing = follow_up.follow_up_list(world.organiser_a, scene.event.id, now)
    assert listing.is_open
    # Agreed and not let in: on it, by name. Let in, cancelled, not agreed, never placed: not.
    assert names(listing) == ["Ārija Ozola", "Pēteris Liepa"]
    assert (listing.called, listing.calls_made) == (0, 0)
    assert follow_up.follow_up_counts(scene.event, now) == follow_up.FollowUpCounts(2, 0)


def test_the_list_waits_until_the_event_has_ended(world, now):
    event = factories.event(world.org_a, now + timedelta(hours=1), capacity=5)
    _register(event, now, name="Ārija Ozola", follow_up_consent=True)
    _db.session.commit()
    listing = follow_up.follow_up_list(world.organiser_a, event.id, now)
    assert (listing.is_open, listing.people) == (False, [])
    assert follow_up.follow_up_counts(event, now) is None
    # During the event it is not there either; after its end it is.
    assert not follow_up.follow_up_list(
        world.organiser_a, event.id, now + timedelta(hours=2)
    ).is_open
    later = now + timedelta(hours=3, seconds=1)
    assert names(follow_up.follow_up_list(world.organiser_a, event.id, later)) == ["Ārija Ozola"]


def test_a_cancelled_event_has_no_list(world, scene, now):
    scene.event.status = EventStatus.CANCELLED
    _db.session.commit()
    listing = follow_up.follow_up_list(world.organiser_a, scene.event.id, now)
    assert (listing.is_open, listing.people) == (False, [])


def test_people_taking_part_online_are_not_on_it(world, now):
    event = factories.event(
        world.org_a,
        now - timedelta(days=1),
        format=EventFormat.HYBRID,
        stream_url="https://video.example.lv/x",
    )
    before = event.starts_at - timedelta(days=3)
    _register(
        event, before, name="Klātienē", attendance=Attendance.IN_PERSON, follow_up_consent=True
    )
    _register(
        event, before, name="Tiešsaistē", attendance=Attendance.ONLINE, follow_up_consent=True
    )
    _db.session.commit()
    assert names(follow_up.follow_up_list(world.organiser_a, event.id, now)) == ["Klātienē"]


# --- marking calls -----------------------------------------------------------------------


def test_marking_calls_keeps_who_when_and_the_outcome_and_counts_each_call(world, scene, now):
    first = follow_up.mark_called(
        world.organiser_a, scene.event.id, scene.absent.id, FollowUpOutcome.NOT_REACHED, now
    )
    _db.session.commit()
    assert (first.follow_up_calls, first.follow_up_outcome) == (1, FollowUpOutcome.NOT_REACHED)
    later = now + timedelta(hours=3)
    follow_up.mark_called(
        world.admin, scene.event.id, scene.absent.id, FollowUpOutcome.REACHED, later
    )
    follow_up.mark_called(world.organiser_a, scene.event.id, scene.phone_only.id, None, later)
    _db.session.commit()
    _db.session.expire_all()

    absent = _db.session.get(Registration, scene.absent.id)
    assert absent.follow_up_calls == 2
    assert (absent.follow_up_called_at, absent.follow_up_called_by_id) == (later, world.admin.id)
    assert absent.follow_up_outcome is FollowUpOutcome.REACHED
    listing = follow_up.follow_up_list(world.organiser_a, scene.event.id, later)
    assert names(listing) == ["Ārija Ozola", "Pēteris Liepa"]  # still on it, now marked
    assert (listing.called, listing.calls_made) == (2, 3)
    assert _db.session.get(EventStats, scene.event.id).follow_up_calls == 3
    assert stats.counter_drift() == {}

    # Audited: who and which registration, never the person.
    entries = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "registration.follow_up_call")
    ).all()
    assert [(e.actor_id, e.target_id) for e in entries] == [
        (world.organiser_a.id, scene.absent.id),
        (world.admin.id, scene.absent.id),
        (world.organiser_a.id, scene.phone_only.id),
    ]
    assert all("Ozola" not in e.detail and "2611" not in e.detail for e in entries)
    assert '"reached"' in entries[1].detail


def test_only_people_on_the_list_of_an_ended_event_are_marked(world, scene, now, in_days):
    for registration in (scene.came, scene.cancelled, scene.not_agreed, scene.waiting):
        with pytest.raises(ServiceError):
            follow_up.mark_called(world.organiser_a, scene.event.id, registration.id, None, now)
        _db.session.rollback()
    upcoming = factories.event(world.org_a, in_days(3), capacity=5)
    ahead = _register(upcoming, now, follow_up_consent=True)
    _db.session.commit()
    with pytest.raises(ServiceError, match="beidzies"):
        follow_up.mark_called(world.organiser_a, upcoming.id, ahead.id, None, now)
    _db.session.rollback()
    with pytest.raises(NotFound):  # a registration of another event, through this event's list
        follow_up.mark_called(world.organiser_a, scene.event.id, ahead.id, None, now)
    _db.session.rollback()
    assert _db.session.get(EventStats, scene.event.id).follow_up_calls == 0


def test_only_the_events_organisers_and_admins(world, scene, now):
    door_user = factories.user("durvis@example.lv", Role.DOOR, [world.org_a])
    _db.session.commit()
    with pytest.raises(NotFound):
        follow_up.follow_up_list(world.organiser_b, scene.event.id, now)
    for user in (world.ministry, door_user):
        with pytest.raises(PermissionDenied):
            follow_up.follow_up_list(user, scene.event.id, now)
        with pytest.raises(PermissionDenied):
            follow_up.mark_called(user, scene.event.id, scene.absent.id, None, now)
    assert names(follow_up.follow_up_list(world.admin, scene.event.id, now))


def test_two_social_workers_marking_at_once_both_count(app, world, scene, now):
    """Real threads (on PostgreSQL too): each call made counts, none is lost."""
    event_id, registration_id = scene.event.id, scene.absent.id
    organiser_id, admin_id = world.organiser_a.id, world.admin.id
    from eventsvc.models import User

    def mark(user_id):
        def step():
            user = _db.session.get(User, user_id)
            follow_up.mark_called(user, event_id, registration_id, FollowUpOutcome.REACHED, now)
            _db.session.commit()

        return step

    _db.session.remove()
    assert run_at_once(app, *(mark(u) for u in (organiser_id, admin_id, organiser_id))) == []
    assert _db.session.get(Registration, registration_id).follow_up_calls == 3
    assert _db.session.get(EventStats, event_id).follow_up_calls == 3
    assert stats.counter_drift() == {}


# --- the purge and the totals -------------------------------------------------------------


def test_the_purge_takes_the_list_and_keeps_the_count(world, scene, now, runner):
    follow_up.mark_called(
        world.organiser_a, scene.event.id, scene.absent.id, FollowUpOutcome.REACHED, now
    )
    follow_up.mark_called(world.organiser_a, scene.event.id, scene.phone_only.id, None, now)
    follow_up.mark_called(world.organiser_a, scene.event.id, scene.phone_only.id, None, now)
    _db.session.commit()
    totals_before = stats.headline(StatsFilter(), None, now)
    assert totals_before.follow_up_calls == 3

    report = privacy.purge(now + timedelta(days=100), 90)
    assert report.registrations == 6
    _db.session.expire_all()

    listing = follow_up.follow_up_list(world.organiser_a, scene.event.id, now)
    assert (listing.people, listing.calls_made) == ([], 3)  # the list gone, the count kept
    for registration in _db.session.scalars(select(Registration)):
        assert registration.follow_up_consent_at is None
        assert registration.follow_up_called_at is None
        assert registration.follow_up_called_by_id is None
        assert registration.follow_up_outcome is None
    assert sorted(r.follow_up_calls for r in _db.session.scalars(select(Registration))) == [
        0,
        0,
        0,
        0,
        1,
        2,
    ]
    assert stats.headline(StatsFilter(), None, now) == totals_before
    # The counters agree with a count of the (anonymised) rows: a rebuild changes nothing.
    assert stats.counter_drift() == {}
    stats.rebuild_event_stats()
    _db.session.commit()
    assert stats.headline(StatsFilter(), None, now).follow_up_calls == 3
    assert (
        "counted again the counters of 0 events" in runner.invoke(args=["stats", "rebuild"]).output
    )


def test_a_residents_erasure_takes_them_off_the_list_and_keeps_the_count(world, scene, now):
    follow_up.mark_called(world.organiser_a, scene.event.id, scene.absent.id, None, now)
    _db.session.commit()
    privacy.erase_registration(scene.absent, now)
    _db.session.commit()
    listing = follow_up.follow_up_list(world.organiser_a, scene.event.id, now)
    assert (names(listing), listing.calls_made) == (["Pēteris Liepa"], 1)
    assert stats.counter_drift() == {}


def test_the_calls_made_total_for_the_ministry(client, runner, world, scene, now):
    from eventsvc.services import measures
    from eventsvc.web.api.openapi import SPEC

    follow_up.mark_called(world.organiser_a, scene.event.id, scene.absent.id, None, now)
    other = factories.event(world.org_b, now - timedelta(days=3))
    b = _register(other, other.starts_at - timedelta(days=2), follow_up_consent=True)
    _db.session.commit()
    follow_up.mark_called(world.organiser_b, other.id, b.id, FollowUpOutcome.REACHED, now)
    _db.session.commit()

    assert stats.headline(StatsFilter(), None, now).follow_up_calls == 2
    assert stats.headline(StatsFilter(), {world.org_a.id}, now).follow_up_calls == 1
    by_municipality = {
        row.label: row.totals.follow_up_calls
        for row in stats.breakdown(stats.GroupBy.MUNICIPALITY, StatsFilter(), None, now)
    }
    assert by_municipality == {"Tukuma novads": 1, "Daugavpils valstspilsēta": 1}
    schema = SPEC["components"]["schemas"]["Totals"]["properties"]["follow_up_calls"]
    assert schema["description"] == measures.english("follow_up_calls")

    token = runner.invoke(args=["users", "token", world.ministry.email]).output.strip()
    api = client.get("/api/v1/stats/attendance", headers={"Authorization": f"Bearer {token}"})
    assert api.json["totals"]["follow_up_calls"] == 2
    assert "Ozola" not in api.get_data(as_text=True)

    login(client, world.ministry.email)
    page = re.sub(r"\s+", " ", client.get("/stats/").get_data(as_text=True))
    figure = page.split('id="measure-follow_up_calls"')[1].split("</div>")[0]
    assert '<dd class="figure">2</dd>' in figure
    assert "Zvani, ko sociālie darbinieki pēc pasākuma veica" in figure  # its definition
    assert "Ārija" not in page


# --- consent on every way in ---------------------------------------------------------------


def test_consent_is_optional_and_unticked_on_the_public_form(client, world, in_days):
    event = factories.event(world.org_a, in_days(5), capacity=5)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    (box,) = re.findall(r'<input[^>]*name="follow_up_consent"[^>]*>', page)
    assert 'type="checkbox"' in box and "checked" not in box
    base = {"name": "Anna Bērziņa", "party_size": "1", "language": "lv", "consent": "y"}
    for email, extra in (("no@example.lv", {}), ("yes@example.lv", {"follow_up_consent": "y"})):
        response = post_form(
            client,
            f"/events/{event.id}/register",
            {**base, "email": email, **extra},
            form_url=f"/events/{event.id}",
        )
        assert response.status_code == 302
    consent = dict(
        _db.session.execute(select(Registration.email, Registration.follow_up_consent_at)).all()
    )
    assert consent["no@example.lv"] is None and consent["yes@example.lv"] is not None


def test_the_organisers_phone_form_asks_for_it(client, world, in_days):
    event = factories.event(world.org_a, in_days(5), capacity=5)
    login(client, world.organiser_a.email)
    url = f"/manage/events/{event.id}/registrations/new"
    page = client.get(url).get_data(as_text=True)
    assert "sociālais dienests" in page and 'name="follow_up_consent"' in page
    response = post_form(
        client,
        url,
        {
            "name": "Pēteris Liepa",
            "phone": "+371 2611 1111",
            "party_size": "1",
            "language": "lv",
            "consent": "y",
            "follow_up_consent": "y",
        },
    )
    assert response.status_code == 302
    registration = _db.session.scalar(select(Registration))
    assert registration.follow_up_consent_at is not None
    detail = client.get(response.location).get_data(as_text=True)
    assert "Piekrita" in detail  # "agreed on …" on the organiser's page of the registration


def test_the_api_takes_it_as_true_or_false(client, world, in_days):
    event = factories.event(world.org_a, in_days(5), capacity=5)
    url = f"/api/v1/events/{event.id}/registrations"
    body = {"name": "Anna", "consent": True}
    assert client.post(url, json={**body, "email": "a@example.lv"}).status_code == 201
    assert (
        client.post(
            url, json={**body, "email": "b@example.lv", "follow_up_consent": True}
        ).status_code
        == 201
    )
    refused = client.post(url, json={**body, "email": "c@example.lv", "follow_up_consent": "yes"})
    assert refused.status_code == 422 and "follow_up_consent" in refused.json["error"]["fields"]
    consent = dict(
        _db.session.execute(select(Registration.email, Registration.follow_up_consent_at)).all()
    )
    assert consent["a@example.lv"] is None and consent["b@example.lv"] is not None
    assert "c@example.lv" not in consent
    b = _db.session.scalar(select(Registration).where(Registration.email == "b@example.lv"))
    assert client.get(f"/api/v1/registrations/{b.manage_token}").json["follow_up_consent"] is True


def test_the_private_link_gives_and_withdraws_it_at_any_time(client, world, scene, now):
    follow_up.mark_called(world.organiser_a, scene.event.id, scene.absent.id, None, now)
    _db.session.commit()
    token = scene.absent.manage_token
    page = client.get(f"/r/{token}").get_data(as_text=True)  # after the event, too
    (box,) = re.findall(r'<input[^>]*name="follow_up_consent"[^>]*>', page)
    assert "checked" in box
    withdrawn = client.post(
        f"/r/{token}/follow-up", data={"csrf_token": csrf_from(client, f"/r/{token}")}
    )
    assert withdrawn.status_code == 302
    _db.session.expire_all()
    registration = _db.session.get(Registration, scene.absent.id)
    assert registration.follow_up_consent_at is None and registration.follow_up_called_at is None
    assert registration.follow_up_calls == 1  # the call was made: it stays counted
    assert names(follow_up.follow_up_list(world.organiser_a, scene.event.id, now)) == [
        "Pēteris Liepa"
    ]
    entry = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.target_id == scene.absent.id).order_by(AuditEntry.id)
    ).all()[-1]
    assert (entry.action, entry.actor_kind.value) == ("registration.update", "resident")
    assert "follow_up_consent" in entry.detail

    again = client.post(
        f"/r/{token}/follow-up",
        data={"csrf_token": csrf_from(client, f"/r/{token}"), "follow_up_consent": "y"},
    )
    assert again.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Registration, scene.absent.id).follow_up_consent_at is not None
    # A cancelled registration has nothing to agree to.
    cancelled = scene.cancelled.manage_token
    assert 'name="follow_up_consent"' not in client.get(f"/r/{cancelled}").get_data(as_text=True)


# --- the page ---------------------------------------------------------------------------------


def test_the_organisers_page(client, world, scene, now):
    login(client, world.organiser_a.email)
    event_page = client.get(f"/manage/events/{scene.event.id}").get_data(as_text=True)
    assert f'href="/manage/events/{scene.event.id}/follow-up"' in event_page
    assert "2 cilvēki" in re.sub(r"\s+", " ", event_page)
    url = f"/manage/events/{scene.event.id}/follow-up"
    page = client.get(url).get_data(as_text=True)
    assert "Ārija Ozola" in page and "arija@example.lv" in page
    assert 'href="tel:+37126111111"' in page
    assert "krievu" in page  # the language as a word, not "ru"
    for absent in ("Inta Kalna", "Gunārs Zariņš", "Olga Petrova", "Rasma Krūmiņa"):
        assert absent not in page

    token = csrf_from(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "registration_id": str(scene.absent.id), "outcome": "reached"},
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Sazvanīts" in page and "Zvanīts 1 reizi" in page
    refused = client.post(
        url, data={"csrf_token": token, "registration_id": str(scene.absent.id), "outcome": "maybe"}
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'id="outcome-{scene.absent.id}-error"' in body
    gone = client.post(
        url, data={"csrf_token": token, "registration_id": str(scene.came.id), "outcome": ""}
    )
    assert gone.status_code == 302  # not on the list: a message, nothing marked
    _db.session.expire_all()
    assert _db.session.get(Registration, scene.came.id).follow_up_calls == 0

    other = client.application.test_client()
    login(other, world.organiser_b.email)
    assert other.get(url).status_code == 404
    ministry = client.application.test_client()
    login(ministry, world.ministry.email)
    assert ministry.get(url).status_code == 403


def test_the_event_page_links_to_it_only_once_the_event_has_ended(client, world, in_days):
    event = factories.event(world.org_a, in_days(2))
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert "/follow-up" not in page
    waiting = client.get(f"/manage/events/{event.id}/follow-up").get_data(as_text=True)
    assert "kad pasākums būs beidzies" in waiting
