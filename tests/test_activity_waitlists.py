"""Each activity's own waiting list (services/registration.py): a full workshop never costs a
party its place at the festival. Runs on SQLite and, with EVENTSVC_TEST_DATABASE_URL, on
PostgreSQL (the race at the end uses real threads there, with real row locks)."""

from __future__ import annotations

import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Activity,
    ActivityWait,
    Attendance,
    AuditEntry,
    EventFormat,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from eventsvc.services import ValidationFailed, audit
from eventsvc.services import registration as rules
from eventsvc.services.mailer import compose
from eventsvc.services.registration import Refusal, RegistrationChange, RegistrationRefused

from . import factories
from .conftest import run_at_once

CONFIRMED, WAITLISTED = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED


def register(event, now, **fields) -> rules.RegistrationOutcome:
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome


def fresh(registration) -> Registration:
    _db.session.expire_all()
    return _db.session.get(Registration, registration.id)


def standing(registration) -> list[tuple[str, str, int | None]]:
    """Where the party stands in each activity it asked for: (title, status, position)."""
    return [
        (c.activity.title, c.status.value, c.position)
        for c in rules.activity_choices(fresh(registration))
    ]


def mails(registration) -> list[tuple[str, dict]]:
    return [
        (m.kind, m.payload)
        for m in _db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.registration_id == registration.id)
            .order_by(OutboxMessage.id)
        )
    ]


@pytest.fixture
def festival(world, in_days):
    """The courtyard festival: 100 places, a workshop of 3 and a concert without limit."""
    event = factories.event(world.org_b, in_days(10), capacity=100, hours=6, title="Pagalmu svētki")
    event.activities.extend(
        [
            Activity(
                title="Kartīšu darbnīca",
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                capacity=3,
            ),
            Activity(title="Koncerts", starts_at=event.starts_at, ends_at=event.ends_at),
        ]
    )
    _db.session.commit()
    return event


def test_a_full_workshop_never_costs_the_festival_place(db, festival, now):
    workshop, concert = festival.activities
    register(festival, now, party_size=3, activity_ids=[workshop.id])
    outcome = register(
        festival, now, party_size=2, activity_ids=[workshop.id, concert.id], language="en"
    )
    assert (outcome.status, outcome.waitlist_position) == (CONFIRMED, None)
    assert [(c.activity.id, c.status, c.position) for c in outcome.activities] == [
        (workshop.id, WAITLISTED, 1),
        (concert.id, CONFIRMED, None),
    ]
    places = rules.availability(festival)
    assert places.places_left == 95  # the party has its festival places
    assert (places.activities[workshop.id].left, places.activities[workshop.id].taken) == (0, 3)
    assert places.activities[workshop.id].waiting_parties == 1
    assert [kind for kind, _ in mails(outcome.registration)] == ["registration_confirmed"]
    text = compose(_db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))).body
    assert "Your place is reserved." in text and "All places are taken" not in text
    assert "Kartīšu darbnīca" in text and "waiting list, position 1" in text
    assert "QR code" in text  # the festival ticket: the party has its place


def test_an_activity_waiting_list_follows_the_event_list_rule(db, festival, now):
    """First come, first served, whole parties: a party too large for the freed places keeps
    its turn, and a later party that fits takes them, exactly as on the event's list."""
    workshop = festival.activities[0]
    holder = register(festival, now, name="A", party_size=3, activity_ids=[workshop.id])
    pair = register(festival, now, name="B", party_size=2, activity_ids=[workshop.id])
    trio = register(festival, now, name="C", party_size=3, activity_ids=[workshop.id])
    single = register(festival, now, name="D", party_size=1, activity_ids=[workshop.id])
    assert [o.activities[0].position for o in (pair, trio, single)] == [1, 2, 3]

    rules.cancel_registration(holder.registration, now)
    _db.session.commit()
    assert standing(pair.registration) == [("Kartīšu darbnīca", "confirmed", None)]
    assert standing(trio.registration) == [("Kartīšu darbnīca", "waitlisted", 1)]
    assert standing(single.registration) == [("Kartīšu darbnīca", "confirmed", None)]
    for promoted in (pair, single):
        assert mails(promoted.registration)[-1] == (
            "activity_promoted",
            {"activity_id": workshop.id},
        )
    assert [kind for kind, _ in mails(trio.registration)] == ["registration_confirmed"]
    with force_locale("lv"):
        message = compose(
            _db.session.scalar(
                select(OutboxMessage).where(OutboxMessage.kind == "activity_promoted")
            )
        )
    assert "Kartīšu darbnīca" in message.subject
    promotions = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "registration.activity_promote")
    ).all()
    assert sorted(e.target_id for e in promotions) == sorted(
        [pair.registration.id, single.registration.id]
    )
    assert all(e.actor_kind is audit.SYSTEM for e in promotions)


def test_a_party_waiting_for_the_event_gets_its_activities_by_the_same_rule(
    db, world, in_days, now
):
    event = factories.event(world.org_b, in_days(10), capacity=4, hours=6)
    event.activities.append(
        Activity(title="Darbnīca", starts_at=event.starts_at, ends_at=event.ends_at, capacity=2)
    )
    _db.session.commit()
    workshop = event.activities[0]
    holder = register(event, now, party_size=2, activity_ids=[workshop.id])
    other = register(event, now, party_size=2)
    late = register(event, now, party_size=2, activity_ids=[workshop.id])
    assert (late.status, late.waitlist_position) == (WAITLISTED, 1)
    assert [(c.status, c.position) for c in late.activities] == [(WAITLISTED, None)]
    assert standing(late.registration) == [("Darbnīca", "waitlisted", None)]

    rules.cancel_registration(other.registration, now)  # frees festival places, not workshop ones
    _db.session.commit()
    assert fresh(late.registration).status is CONFIRMED
    assert standing(late.registration) == [("Darbnīca", "waitlisted", 1)]
    assert [kind for kind, _ in mails(late.registration)][-1] == "registration_promoted"

    rules.change_registration(holder.registration, RegistrationChange(activity_ids=[]), now)
    _db.session.commit()
    assert standing(holder.registration) == []
    assert standing(late.registration) == [("Darbnīca", "confirmed", None)]
    assert mails(late.registration)[-1] == ("activity_promoted", {"activity_id": workshop.id})


def test_party_size_changes_follow_the_same_rule(db, festival, now):
    workshop = festival.activities[0]
    grows = register(festival, now, party_size=2, activity_ids=[workshop.id])
    small = register(festival, now, party_size=1, activity_ids=[workshop.id])

    # The festival has room for one more; the workshop has not: the party keeps its festival
    # place and goes to the end of the workshop's line.
    promoted = rules.change_party_size(grows.registration, 3, now)
    _db.session.commit()
    assert promoted == []
    assert fresh(grows.registration).status is CONFIRMED
    assert fresh(grows.registration).party_size == 3
    assert standing(grows.registration) == [("Kartīšu darbnīca", "waitlisted", 1)]

    rules.change_party_size(small.registration, 1, now)  # the same: nothing happens
    rules.cancel_registration(small.registration, now)  # frees the workshop: 3 places
    _db.session.commit()
    assert standing(grows.registration) == [("Kartīšu darbnīca", "confirmed", None)]

    waiting = register(festival, now, party_size=2, activity_ids=[workshop.id])
    assert standing(waiting.registration) == [("Kartīšu darbnīca", "waitlisted", 1)]
    rules.change_party_size(grows.registration, 1, now)  # fewer people free workshop places
    _db.session.commit()
    assert standing(waiting.registration) == [("Kartīšu darbnīca", "confirmed", None)]


def test_asking_not_to_wait_refuses_a_full_activity_alike_for_new_and_repeated(db, festival, now):
    workshop = festival.activities[0]
    register(festival, now, email="anna@example.lv", party_size=3, activity_ids=[workshop.id])
    for email in ("anna@example.lv", "new@example.lv"):
        with pytest.raises(RegistrationRefused) as refused:
            rules.register(
                festival.id,
                factories.registration_request(
                    email=email, activity_ids=[workshop.id], join_waitlist=False
                ),
                now,
            )
        assert refused.value.code is Refusal.ACTIVITY_FULL
        assert "Kartīšu darbnīca" in refused.value.message
        _db.session.rollback()


def test_a_resident_changes_everything_under_the_rules(db, world, in_days, now):
    event = factories.event(
        world.org_a,
        in_days(10),
        capacity=10,
        format=EventFormat.HYBRID,
        stream_url="https://x.lv/s",
    )
    event.activities.append(
        Activity(title="Darbnīca", starts_at=event.starts_at, ends_at=event.ends_at, capacity=2)
    )
    _db.session.commit()
    workshop = event.activities[0]
    registration = register(
        event,
        now,
        email="old@example.lv",
        phone=None,
        party_size=2,
        attendance=Attendance.IN_PERSON,
        needs="ratiņkrēsls",
    ).registration
    outcome = rules.change_registration(
        registration,
        RegistrationChange(
            party_size=2,
            attendance=Attendance.ONLINE,
            activity_ids=[workshop.id],
            needs="",
            phone="+371 20000000",
            email="NEW@example.lv",
            language="ru",
        ),
        now,
    )
    _db.session.commit()
    assert outcome.changed == ("attendance", "activities", "needs", "phone", "email", "language")
    changed = fresh(registration)
    assert (changed.attendance, changed.needs, changed.phone, changed.email, changed.language) == (
        Attendance.ONLINE,
        "",
        "+371 20000000",
        "new@example.lv",
        "ru",
    )
    assert rules.availability(event).places_left == 10  # watching online takes no place here
    queued = _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[1:]
    assert [(m.kind, m.recipient, m.language) for m in queued] == [
        ("registration_email_changed", "old@example.lv", "ru"),
        ("registration_confirmed", "new@example.lv", "ru"),
    ]
    notice, confirmation = (compose(m) for m in queued)
    assert notice.recipients == ["old@example.lv"]
    assert registration.manage_token not in notice.body  # the old address gets no key
    assert "электронной почты" in notice.body
    assert confirmation.recipients == ["new@example.lv"]
    assert registration.manage_token in confirmation.body
    assert "https://x.lv/s" in confirmation.body  # online: the stream, not a ticket
    assert confirmation.images == []

    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.update"))
    assert entry.actor_kind is audit.RESIDENT and entry.target_id == registration.id
    with force_locale("en"):
        assert audit.detail_text(entry.detail) == (
            "changed: Taking part, Activities, Accessibility needs, Phone, Email,"
            " Language for messages"
        )
    for personal in ("ratiņkrēsls", "20000000", "example.lv"):
        assert personal not in entry.detail


def test_coming_in_person_instead_needs_a_place_and_going_online_frees_one(db, world, in_days, now):
    event = factories.event(
        world.org_a, in_days(10), capacity=2, format=EventFormat.HYBRID, stream_url="https://x.lv/s"
    )
    online = register(event, now, party_size=2, attendance=Attendance.ONLINE).registration
    present = register(event, now, party_size=2, attendance=Attendance.IN_PERSON).registration
    waiting = register(event, now, party_size=1, attendance=Attendance.IN_PERSON).registration
    assert fresh(waiting).status is WAITLISTED
    with pytest.raises(RegistrationRefused) as refused:
        rules.change_registration(online, RegistrationChange(attendance=Attendance.IN_PERSON), now)
    assert (refused.value.code, refused.value.field) == (Refusal.NO_ROOM, "attendance")
    _db.session.rollback()

    promoted = rules.change_registration(
        present, RegistrationChange(attendance=Attendance.ONLINE), now
    ).promoted
    _db.session.commit()
    assert [r.id for r in promoted] == [waiting.id]
    assert fresh(present).status is CONFIRMED


def test_bad_changes_are_refused_with_every_reason(db, festival, world, in_days, now):
    taken = register(festival, now, email="taken@example.lv").registration
    registration = register(festival, now, email="anna@example.lv").registration
    with pytest.raises(ValidationFailed) as failed:
        rules.change_registration(
            registration,
            RegistrationChange(
                party_size=0,
                email="TAKEN@example.lv",
                phone="call me",
                language="xx",
                activity_ids=[987654],
            ),
            now,
        )
    assert set(failed.value.errors) == {"party_size", "phone", "language"}
    _db.session.rollback()
    with pytest.raises(ValidationFailed) as failed:
        rules.change_registration(
            registration,
            RegistrationChange(
                email=taken.email.upper(), activity_ids=[987654], attendance=Attendance.ONLINE
            ),
            now,
        )
    assert set(failed.value.errors) == {"email", "activity_ids", "attendance"}
    _db.session.rollback()
    with pytest.raises(ValidationFailed) as failed:
        rules.change_registration(registration, RegistrationChange(email="", phone=""), now)
    assert set(failed.value.errors) == {"email"}  # one way to reach the party must stay
    _db.session.rollback()
    assert fresh(registration).email == "anna@example.lv"
    assert _db.session.scalar(select(AuditEntry.id)) is None


def test_a_race_for_the_last_workshop_places_never_overbooks_it(app, db, festival, now):
    """Real threads, each its own connection: the locks (PostgreSQL's row locks, SQLite's
    write lock) decide who gets the last places; nobody holds a place the workshop does not have, and the rest wait in one line.
    Cancels run in the same rush, so promotions race the new registrations too."""
    workshop_id = festival.activities[0].id
    holders = [
        register(festival, now, party_size=1, activity_ids=[workshop_id]).registration.id
        for _ in range(2)
    ]
    start = threading.Barrier(14)

    def registers(i):
        def step():
            start.wait(timeout=30)
            rules.register(
                festival.id,
                factories.registration_request(
                    name=f"P{i}", party_size=1 + i % 2, activity_ids=[workshop_id]
                ),
                now,
            )
            _db.session.commit()

        return step

    def cancels(registration_id):
        def step():
            start.wait(timeout=30)
            rules.cancel_registration(_db.session.get(Registration, registration_id), now)
            _db.session.commit()

        return step

    errors = run_at_once(app, *[registers(i) for i in range(12)], *map(cancels, holders))
    assert errors == []
    _db.session.expire_all()
    confirmed = _db.session.scalars(
        select(Registration).where(
            Registration.event_id == festival.id, Registration.status == CONFIRMED
        )
    ).all()
    assert len(confirmed) == 12  # everyone has a festival place
    held = [r for r in confirmed if [a.id for a in r.activities] == [workshop_id]]
    assert 0 < sum(r.party_size for r in held) <= 3
    left = 3 - sum(r.party_size for r in held)
    waits = _db.session.scalars(select(ActivityWait).order_by(ActivityWait.id)).all()
    assert len(held) + len(waits) == 12 and not any(
        r.activity_waits and r.activities for r in confirmed
    )
    assert all(w.registration.party_size > left for w in waits)  # nobody waits who would fit
    positions = rules.activity_waitlist_positions(festival.id)
    assert sorted(positions.values()) == list(range(1, len(waits) + 1))


def test_removing_an_activity_ends_its_waiting_list(db, festival, world, now):
    from eventsvc.services.events import remove_part

    workshop = festival.activities[0]
    register(festival, now, party_size=3, activity_ids=[workshop.id])
    waiting = register(festival, now, party_size=1, activity_ids=[workshop.id]).registration
    remove_part(world.organiser_b, festival, workshop)
    _db.session.commit()
    assert _db.session.scalar(select(ActivityWait.id)) is None
    assert fresh(waiting).status is CONFIRMED and standing(waiting) == []
    rules.cancel_registration(fresh(waiting), now)  # nothing left to promote: no error
    _db.session.commit()


def test_a_change_keeps_what_another_change_did_meanwhile(app, db, festival, now):
    """The fields a change does not touch keep the values they have under the lock, not the
    ones read before it (here: a party size changed by another request in between)."""
    registration = register(festival, now, party_size=2).registration
    registration_id = registration.id
    assert registration.party_size == 2  # loaded in this session, and kept there

    def elsewhere():
        rules.change_party_size(_db.session.get(Registration, registration_id), 3, now)
        _db.session.commit()

    assert run_at_once(app, elsewhere) == []
    assert registration.party_size == 2  # this session has not seen it
    rules.change_registration(registration, RegistrationChange(phone="+371 20000000"), now)
    _db.session.commit()
    changed = fresh(registration)
    assert (changed.party_size, changed.phone) == (3, "+371 20000000")
    assert rules.availability(festival).places_left == 97


def test_an_activity_without_a_limit_any_more_takes_everyone_waiting(db, festival, world, now):
    from eventsvc.services.events import ActivityData, save_activity

    workshop = festival.activities[0]
    register(festival, now, party_size=3, activity_ids=[workshop.id])
    waiting = [
        register(festival, now, party_size=size, activity_ids=[workshop.id]).registration
        for size in (2, 1)
    ]
    data = ActivityData(workshop.title, workshop.starts_at, workshop.ends_at, capacity=None)
    save_activity(world.organiser_b, festival, data, workshop, now)
    _db.session.commit()
    assert [standing(r) for r in waiting] == [[("Kartīšu darbnīca", "confirmed", None)]] * 2
