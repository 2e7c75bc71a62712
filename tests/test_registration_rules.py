"""The registration rules, at the service layer (eventsvc/services/registration.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Activity,
    Attendance,
    EventFormat,
    EventStatus,
    OutboxMessage,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from eventsvc.services import NotFound, ServiceError, ValidationFailed
from eventsvc.services import registration as rules
from eventsvc.services.registration import Refusal, RegistrationRefused
from eventsvc.timezones import RIGA, end_of_riga_day
from eventsvc.web.api.registrations import request_from_json

from . import factories

req = factories.registration_request


def register(event, now, **fields):
    outcome = rules.register(event.id, req(**fields), now)
    _db.session.commit()
    return outcome


def statuses(event) -> list[tuple[str, int, str]]:
    rows = _db.session.scalars(
        select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
    )
    return [(r.name, r.party_size, r.status.value) for r in rows]


def outbox_kinds(registration_id=None) -> list[str]:
    query = select(OutboxMessage.kind).order_by(OutboxMessage.id)
    if registration_id is not None:
        query = query.where(OutboxMessage.registration_id == registration_id)
    return list(_db.session.scalars(query))


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=5)


def test_capacity_counts_people_and_overflow_waits_in_order(db, event, now):
    assert register(event, now, name="A", party_size=3).status is RegistrationStatus.CONFIRMED
    b = register(event, now, name="B", party_size=3)
    assert (b.status, b.waitlist_position) == (RegistrationStatus.WAITLISTED, 1)
    assert (
        register(event, now, name="C", party_size=2).status is RegistrationStatus.CONFIRMED
    )  # fits the 2 left
    d = register(event, now, name="D", party_size=1)
    assert (d.status, d.waitlist_position) == (RegistrationStatus.WAITLISTED, 2)
    places = rules.availability(event)
    assert (places.confirmed_people, places.places_left, places.waitlisted_people) == (5, 0, 4)
    assert outbox_kinds() == [
        "registration_confirmed",
        "registration_waitlisted",
        "registration_confirmed",
        "registration_waitlisted",
    ]


def test_a_registration_keeps_the_privacy_notice_version_its_resident_agreed_to(
    db, client, event, now, monkeypatch
):
    from eventsvc.services import privacy_notice, registration

    first = register(event, now, name="A").registration
    assert first.consent_notice_version == privacy_notice.PRIVACY_NOTICE_VERSION == "2026-11-28"
    # A new notice: new registrations record it, earlier ones keep what they agreed to.
    monkeypatch.setattr(registration, "PRIVACY_NOTICE_VERSION", "2027-03-01")
    second = register(event, now, name="B").registration
    assert (first.consent_notice_version, second.consent_notice_version) == (
        "2026-11-28",
        "2027-03-01",
    )
    page = client.get("/privacy").get_data(as_text=True)
    assert "Šī versija: 2026. gada 28. novembris" in page


def test_a_party_that_wants_no_waiting_list_is_refused_when_full(db, event, now):
    register(event, now, party_size=4)
    with pytest.raises(RegistrationRefused) as refused:
        rules.register(event.id, req(party_size=2, join_waitlist=False), now)
    assert refused.value.code is Refusal.FULL


def test_promotion_takes_the_first_parties_that_fit(db, world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=4)
    a = register(event, now, name="A", party_size=2).registration
    register(event, now, name="B", party_size=2)
    register(event, now, name="C", party_size=3)  # waits, 1st
    d = register(event, now, name="D", party_size=1).registration  # waits, 2nd
    register(event, now, name="E", party_size=2)  # waits, 3rd

    promoted = rules.cancel_registration(a, now)
    _db.session.commit()
    # Two places free: C (3) does not fit and keeps its turn; D (1) fits; E (2) no longer does.
    assert [r.name for r in promoted] == ["D"]
    assert statuses(event) == [
        ("A", 2, "cancelled"),
        ("B", 2, "confirmed"),
        ("C", 3, "waitlisted"),
        ("D", 1, "confirmed"),
        ("E", 2, "waitlisted"),
    ]
    assert outbox_kinds(d.id) == ["registration_waitlisted", "registration_promoted"]
    assert rules.waitlist_position(_db.session.get(Registration, d.id)) is None
    c = _db.session.scalar(select(Registration).where(Registration.name == "C"))
    assert rules.waitlist_position(c) == 1


def test_fewer_people_free_places_more_people_need_them(db, world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=4)
    a = register(event, now, name="A", party_size=3).registration
    b = register(event, now, name="B", party_size=2).registration  # waits
    rules.change_party_size(a, 2, now)
    _db.session.commit()
    assert statuses(event) == [("A", 2, "confirmed"), ("B", 2, "confirmed")]
    with pytest.raises(RegistrationRefused) as refused:
        rules.change_party_size(a, 3, now)
    assert refused.value.code is Refusal.NO_ROOM
    _db.session.rollback()
    assert _db.session.get(Registration, a.id).party_size == 2
    rules.change_party_size(b, 1, now)
    rules.change_party_size(a, 3, now)  # the place B gave back
    _db.session.commit()
    assert rules.availability(event).places_left == 0
    for bad in (0, 11, 1000, "3", True):
        with pytest.raises(ValidationFailed):
            rules.change_party_size(a, bad, now)


def test_waiting_party_may_grow_and_stays_waiting(db, world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=1)
    register(event, now, party_size=1)
    waiting = register(event, now, name="W", party_size=1).registration
    rules.change_party_size(waiting, 4, now)
    _db.session.commit()
    assert waiting.status is RegistrationStatus.WAITLISTED and waiting.party_size == 4


def test_activity_capacity_counts_people_too(db, world, in_days, now):
    event = factories.event(world.org_b, in_days(10), capacity=100, hours=6)
    workshop = Activity(
        title="Eglīšu rotājumu darbnīca",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        capacity=3,
    )
    concert = Activity(title="Koncerts", starts_at=event.starts_at, ends_at=event.ends_at)
    event.activities.extend([workshop, concert])
    _db.session.commit()
    assert (
        register(event, now, name="A", party_size=2, activity_ids=[workshop.id, concert.id]).status
        is RegistrationStatus.CONFIRMED
    )
    b = register(event, now, name="B", party_size=2, activity_ids=[workshop.id])
    # The festival place is kept; the whole party waits for the workshop, not half of it.
    assert b.status is RegistrationStatus.CONFIRMED
    assert [(c.activity.id, c.status, c.position) for c in b.activities] == [
        (workshop.id, RegistrationStatus.WAITLISTED, 1)
    ]
    assert (
        register(event, now, name="C", party_size=5, activity_ids=[concert.id]).status
        is RegistrationStatus.CONFIRMED
    )
    d = register(event, now, name="D", party_size=1, activity_ids=[workshop.id])
    assert [(c.status, c.position) for c in d.activities] == [(RegistrationStatus.CONFIRMED, None)]
    places = rules.availability(event)
    assert places.activities[workshop.id].left == 0 and places.activities[concert.id].left is None
    assert (places.activities[workshop.id].waiting_parties, places.confirmed_people) == (1, 10)


def test_at_a_hybrid_event_watching_online_takes_no_place(db, world, in_days, now):
    event = factories.event(
        world.org_a, in_days(10), capacity=2, format=EventFormat.HYBRID, stream_url="https://x.lv/s"
    )
    assert (
        register(event, now, party_size=2, attendance=Attendance.IN_PERSON).status
        is RegistrationStatus.CONFIRMED
    )
    assert (
        register(event, now, party_size=5, attendance=Attendance.ONLINE).status
        is RegistrationStatus.CONFIRMED
    )
    assert (
        register(event, now, party_size=1, attendance=Attendance.IN_PERSON).status
        is RegistrationStatus.WAITLISTED
    )
    with pytest.raises(ValidationFailed) as missing:
        rules.register(event.id, req(), now)
    assert "attendance" in missing.value.errors


def test_deadline_edges(db, world, now):
    starts = datetime(2031, 11, 16, 13, 0, tzinfo=RIGA)
    opens = datetime(2031, 11, 1, 9, 0, tzinfo=RIGA)
    event = factories.event(
        world.org_a,
        starts,
        capacity=50,
        registration_opens_at=opens,
        registration_closes_at=end_of_riga_day(date(2031, 11, 15)),
    )
    second = timedelta(seconds=1)
    with pytest.raises(RegistrationRefused) as early:
        rules.register(event.id, req(), opens - second)
    assert early.value.code is Refusal.NOT_OPEN
    assert rules.register(event.id, req(), opens).status is RegistrationStatus.CONFIRMED
    last_moment = datetime(2031, 11, 15, 23, 59, 59, 999999, tzinfo=RIGA)
    assert rules.register(event.id, req(), last_moment).status is RegistrationStatus.CONFIRMED
    with pytest.raises(RegistrationRefused) as late:
        rules.register(event.id, req(), datetime(2031, 11, 16, 0, 0, tzinfo=RIGA))
    assert late.value.code is Refusal.CLOSED
    assert late.value.message == "Reģistrācija ir slēgta."


def test_without_deadline_registration_closes_when_the_event_starts(db, world, now):
    starts = datetime(2031, 11, 16, 13, 0, tzinfo=RIGA)
    event = factories.event(world.org_a, starts)
    assert (
        rules.register(event.id, req(), starts - timedelta(seconds=1)).status
        is RegistrationStatus.CONFIRMED
    )
    with pytest.raises(RegistrationRefused) as refused:
        rules.register(event.id, req(), starts)
    assert refused.value.code is Refusal.CLOSED


def test_drafts_cancelled_and_past_events_refuse(db, world, in_days, now):
    draft = factories.event(world.org_a, in_days(5), status=EventStatus.DRAFT)
    cancelled = factories.event(world.org_a, in_days(5), status=EventStatus.CANCELLED)
    past = factories.event(world.org_a, in_days(-5))
    with pytest.raises(NotFound):
        rules.register(draft.id, req(), now)
    with pytest.raises(NotFound):
        rules.register(987654, req(), now)
    with pytest.raises(RegistrationRefused) as c:
        rules.register(cancelled.id, req(), now)
    assert c.value.code is Refusal.CANCELLED
    with pytest.raises(RegistrationRefused) as p:
        rules.register(past.id, req(), now)
    assert p.value.code is Refusal.PAST


def test_a_repeated_email_answers_like_a_new_registration_and_resends(db, event, now):
    first = register(event, now, name="Anna", email="Anna@Example.LV", party_size=2)
    again = register(event, now, name="Someone else", email="anna@example.lv", party_size=1)
    assert again.repeated and again.registration.id == first.registration.id
    assert again.status is RegistrationStatus.CONFIRMED and again.waitlist_position is None
    assert _db.session.scalar(select(func.count(Registration.id))) == 1
    assert (
        _db.session.get(Registration, first.registration.id).name == "Anna"
    )  # nothing overwritten
    assert outbox_kinds(first.registration.id) == [
        "registration_confirmed",
        "registration_repeated",
    ]
    # When a new party would have waited, the repeated one hears the same.
    register(event, now, party_size=3)
    full_again = register(event, now, email="anna@example.lv", party_size=2)
    assert full_again.status is RegistrationStatus.WAITLISTED and full_again.waitlist_position == 1
    # After cancelling, the address may register again.
    rules.cancel_registration(first.registration, now)
    _db.session.commit()
    assert not register(event, now, email="anna@example.lv", party_size=1).repeated


def test_organisers_are_told_plainly_about_a_repeated_email(db, world, event, now):
    register(event, now, email="anna@example.lv")
    with pytest.raises(ValidationFailed) as exc:
        rules.register(
            event.id,
            req(email="anna@example.lv"),
            now,
            RegistrationSource.ORGANISER,
            by_user=world.organiser_a,
        )
    assert "email" in exc.value.errors


def test_organiser_may_register_after_the_public_deadline(db, world, now):
    starts = now + timedelta(days=2)
    event = factories.event(world.org_a, starts, registration_closes_at=now - timedelta(hours=1))
    with pytest.raises(RegistrationRefused):
        rules.register(event.id, req(), now)
    outcome = rules.register(
        event.id,
        req(phone="+371 20000000", email=None),
        now,
        RegistrationSource.ORGANISER,
        by_user=world.organiser_a,
    )
    assert outcome.status is RegistrationStatus.CONFIRMED
    assert outcome.registration.created_by_id == world.organiser_a.id
    assert outbox_kinds(outcome.registration.id) == []  # no email: nothing to send


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "", "phone": ""}, "email"),
        ({"phone": "call me", "email": None}, "phone"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": 1000}, "party_size"),
        ({"party_size": -1}, "party_size"),
        ({"consent": False}, "consent"),
        ({"needs": "x" * 2001}, "needs"),
        ({"language": "de"}, "language"),
    ],
)
def test_bad_input_is_a_field_error(db, event, now, fields, field):
    with pytest.raises(ValidationFailed) as exc:
        rules.register(event.id, req(**fields), now)
    assert field in exc.value.errors
    assert _db.session.scalar(select(func.count(Registration.id))) == 0


def test_unknown_or_foreign_activity_is_refused(db, world, event, in_days, now):
    other = factories.event(world.org_b, in_days(3), hours=3)
    foreign = Activity(title="Cita", starts_at=other.starts_at, ends_at=other.ends_at)
    other.activities.append(foreign)
    _db.session.commit()
    for ids in ([foreign.id], [987654]):
        with pytest.raises(ValidationFailed) as exc:
            rules.register(event.id, req(activity_ids=ids), now)
        assert "activity_ids" in exc.value.errors


def test_manage_tokens_are_unguessable_and_reach_only_their_own(db, event, now):
    a = register(event, now).registration
    b = register(event, now).registration
    assert a.manage_token != b.manage_token and len(a.manage_token) >= 43
    assert rules.registration_by_token(a.manage_token).id == a.id
    for token in (
        a.manage_token[:-1] + ("A" if a.manage_token[-1] != "A" else "B"),
        "",
        "x" * 500,
        str(a.id),
    ):
        with pytest.raises(NotFound):
            rules.registration_by_token(token)


def test_residents_change_online_until_the_start_organisers_after(db, world, in_days, now):
    event = factories.event(world.org_a, in_days(1), capacity=10)
    registration = register(event, now).registration
    after_start = event.starts_at + timedelta(minutes=5)
    assert rules.resident_may_change(registration, now)
    assert not rules.resident_may_change(registration, after_start)
    with pytest.raises(ServiceError):
        rules.cancel_registration(registration, after_start)
    rules.cancel_registration(registration, after_start, by_user=world.organiser_a)
    _db.session.commit()
    assert registration.status is RegistrationStatus.CANCELLED
    with pytest.raises(ServiceError):
        rules.cancel_registration(registration, now)  # already cancelled


def test_more_places_promote_the_waiting_list(db, world, in_days, now):
    from eventsvc.services.events import EventData, update_event

    event = factories.event(world.org_a, in_days(10), capacity=2)
    register(event, now, party_size=2)
    waiting = register(event, now, party_size=2).registration
    data = EventData.from_event(event)
    data.capacity = 4
    update_event(world.organiser_a, event, data, now)
    _db.session.commit()
    assert _db.session.get(Registration, waiting.id).status is RegistrationStatus.CONFIRMED


def test_a_waiting_party_that_shrinks_to_fit_gets_the_place(db, world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=3)
    register(event, now, party_size=2)
    waiting = register(event, now, party_size=3).registration
    promoted = rules.change_party_size(waiting, 1, now)
    _db.session.commit()
    assert [r.id for r in promoted] == [waiting.id]
    assert _db.session.get(Registration, waiting.id).status is RegistrationStatus.CONFIRMED


def test_more_activity_places_promote_the_waiting_list(db, world, in_days, now):
    from eventsvc.services.events import ActivityData, save_activity

    event = factories.event(world.org_b, in_days(10), capacity=100, hours=5)
    workshop = Activity(
        title="Darbnīca", starts_at=event.starts_at, ends_at=event.ends_at, capacity=2
    )
    event.activities.append(workshop)
    _db.session.commit()
    register(event, now, party_size=2, activity_ids=[workshop.id])
    waiting = register(event, now, party_size=2, activity_ids=[workshop.id])
    assert [c.status for c in waiting.activities] == [RegistrationStatus.WAITLISTED]
    data = ActivityData(workshop.title, workshop.starts_at, workshop.ends_at, capacity=4)
    save_activity(world.organiser_b, event, data, workshop, now)
    _db.session.commit()
    promoted = _db.session.get(Registration, waiting.registration.id)
    assert [a.id for a in promoted.activities] == [workshop.id] and promoted.activity_waits == []
    assert outbox_kinds(promoted.id)[-1] == "activity_promoted"


def test_no_waiting_list_wanted_is_refused_alike_for_new_and_repeated_addresses(db, event, now):
    register(event, now, email="anna@example.lv", party_size=4)
    for email in ("anna@example.lv", "new@example.lv"):
        with pytest.raises(RegistrationRefused) as refused:
            rules.register(event.id, req(email=email, party_size=2, join_waitlist=False), now)
        assert refused.value.code is Refusal.FULL


def test_unpublishing_makes_a_later_cancellation_private(db, world, in_days, now):
    from eventsvc.services.calendar import public_event
    from eventsvc.services.events import cancel_event, unpublish_event

    event = factories.event(world.org_a, in_days(10))
    unpublish_event(world.organiser_a, event)
    cancel_event(world.organiser_a, event, now)
    _db.session.commit()
    with pytest.raises(NotFound):
        public_event(event.id)


# --- one party-size rule ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, rules.MAX_PARTY_SIZE + 1, True, "3", 2.5, None])
def test_one_party_size_rule_for_every_way_in(db, world, in_days, now, bad):
    """The form, the API, the manage link and the door all answer a bad party size with the
    same rule and the same words (services/registration.party_size_error)."""
    from eventsvc.services.checkin import register_walk_in

    message = rules.party_size_error(bad)
    assert message is not None
    event = factories.event(world.org_a, in_days(5))
    existing = rules.register(event.id, factories.registration_request(), now).registration
    _db.session.commit()

    attempts = {
        "form": lambda: rules.normalise_request(factories.registration_request(party_size=bad)),
        "api": lambda: request_from_json(
            {"name": "Anna", "email": "anna@example.lv", "consent": True, "party_size": bad}
        ),
        "manage link": lambda: rules.change_party_size(existing, bad, now),
        "door": lambda: register_walk_in(event, "Ieva", bad, world.organiser_a, now),
    }
    for way, attempt in attempts.items():
        with pytest.raises(ValidationFailed) as refused:
            attempt()
        assert refused.value.errors["party_size"] == message, way
        _db.session.rollback()


def test_party_sizes_within_the_rule_pass(db):
    assert [rules.party_size_error(n) for n in (1, rules.MAX_PARTY_SIZE)] == [None, None]


def test_the_door_pages_walk_in_form_takes_up_to_max_party_size(client, world, in_days):
    from .conftest import login, post_form

    event = factories.event(world.org_a, in_days(0, 1))
    login(client, world.organiser_a.email)
    page = f"/manage/events/{event.id}/checkin"
    assert f'max="{rules.MAX_PARTY_SIZE}"' in client.get(page).get_data(as_text=True)
    too_many = post_form(
        client,
        page,
        {"action": "walk_in", "name": "Liela ģimene", "people": str(rules.MAX_PARTY_SIZE + 1)},
    )
    assert f"1–{rules.MAX_PARTY_SIZE} cilvēki" in too_many.get_data(as_text=True)
    most = post_form(
        client,
        page,
        {"action": "walk_in", "name": "Liela ģimene", "people": str(rules.MAX_PARTY_SIZE)},
    )
    assert 'class="result result-ok"' in most.get_data(as_text=True)
