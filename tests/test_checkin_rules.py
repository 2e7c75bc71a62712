"""Check-in rules (eventsvc/services/checkin.py)."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from eventsvc.extensions import db as _db
from eventsvc.models import (
    CheckIn,
    CheckInMethod,
    EventStats,
    Registration,
    RegistrationSource,
    Role,
)
from eventsvc.services import NotFound, ValidationFailed
from eventsvc.services import checkin as door
from eventsvc.services import registration as rules
from eventsvc.services.checkin import Result
from eventsvc.services.registration import RegistrationRefused

from . import factories
from .conftest import run_at_once


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(1), capacity=6)


def register(event, now, **fields):
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome.registration


def test_each_kind_of_code_has_its_own_result(db, world, event, in_days, now):
    family = register(event, now, name="Anna", party_size=4)
    waiting = register(event, now, name="Rinda", party_size=3)
    cancelled = register(event, now, name="Atteica", party_size=1)
    rules.cancel_registration(cancelled, now)
    other_event = factories.event(world.org_a, in_days(2), title="Cits pasākums")
    elsewhere = register(other_event, now, name="Citur")
    _db.session.commit()
    user = world.organiser_a

    first = door.check_in_ticket(event, family.ticket_secret, user, now)
    assert (first.result, first.checked_in_people) == (Result.CHECKED_IN, 4)
    again = door.check_in_ticket(event, family.ticket_secret, user, now + timedelta(minutes=3))
    assert again.result is Result.ALREADY and again.previous.id == first.checkin.id
    assert world.organiser_a.name in again.message()
    assert (
        door.check_in_ticket(event, elsewhere.ticket_secret, user, now).result is Result.OTHER_EVENT
    )
    assert (
        "Cits pasākums" in door.check_in_ticket(event, elsewhere.ticket_secret, user, now).message()
    )
    assert (
        door.check_in_ticket(event, cancelled.ticket_secret, user, now).result is Result.CANCELLED
    )
    assert door.check_in_ticket(event, waiting.ticket_secret, user, now).result is Result.WAITLISTED
    for malformed in ("", "hello", "x" * 500, family.ticket_secret + "!", "DROP TABLE checkins;"):
        assert door.check_in_ticket(event, malformed, user, now).result is Result.MALFORMED
    forged = secrets.token_urlsafe(32)
    assert door.check_in_ticket(event, forged, user, now).result is Result.UNKNOWN
    assert (
        door.check_in_ticket(event, family.manage_token, user, now).result is Result.UNKNOWN
    )  # the manage link is no ticket
    assert _db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_part_of_a_party_then_the_rest(db, world, event, now):
    family = register(event, now, party_size=4)
    user = world.organiser_a
    two = door.check_in_registration(event, family.id, user, now, people=2)
    assert (two.result, two.checked_in_people) == (Result.CHECKED_IN, 2)
    assert (
        door.check_in_registration(event, family.id, user, now, people=3).result is Result.TOO_MANY
    )
    rest = door.check_in_ticket(event, family.ticket_secret, user, now)
    assert (rest.result, rest.checkin.people, rest.checked_in_people) == (Result.CHECKED_IN, 2, 4)
    assert (
        door.check_in_registration(event, family.id, user, now, people=1).result is Result.ALREADY
    )
    with pytest.raises(ValidationFailed):
        door.check_in_registration(event, family.id, user, now, people=0)


def test_a_nonce_makes_a_retry_idempotent(db, world, event, now):
    family = register(event, now, party_size=2)
    user = world.organiser_a
    first = door.check_in_ticket(event, family.ticket_secret, user, now, nonce="device-1:0001")
    _db.session.commit()
    retry = door.check_in_ticket(event, family.ticket_secret, user, now, nonce="device-1:0001")
    assert retry.result is Result.CHECKED_IN and retry.checkin.id == first.checkin.id
    assert _db.session.scalar(select(func.count(CheckIn.id))) == 1
    with pytest.raises(ValidationFailed):
        door.check_in_ticket(event, family.ticket_secret, user, now, nonce="bad nonce!")


def test_undo_lets_them_in_again(db, world, event, now):
    family = register(event, now, party_size=2)
    user = world.organiser_a
    first = door.check_in_ticket(event, family.ticket_secret, user, now)
    door.undo_checkin(event, first.checkin.id, user, now)
    assert door.checked_in_people(family.id) == 0
    assert door.check_in_ticket(event, family.ticket_secret, user, now).result is Result.CHECKED_IN
    with pytest.raises(NotFound):
        door.undo_checkin(event, first.checkin.id, user, now)  # already undone


def test_walk_ins_count_against_capacity(db, world, event, now):
    register(event, now, party_size=4)
    user = world.organiser_a
    walk_in = door.register_walk_in(event, "Nezināms apmeklētājs", 2, user, now)
    assert walk_in.result is Result.CHECKED_IN and walk_in.checkin.method is CheckInMethod.WALK_IN
    assert (
        walk_in.registration.source is RegistrationSource.WALK_IN
        and walk_in.registration.email is None
    )
    with pytest.raises(RegistrationRefused):
        door.register_walk_in(event, "Vēl viens", 1, user, now)  # the 6 places are taken
    counts = door.door_counts(event)
    assert (
        counts.checked_in_people,
        counts.confirmed_people,
        counts.capacity,
        counts.walk_in_people,
    ) == (2, 6, 6, 2)


def test_offline_list_holds_hashes_not_codes(db, world, event, now):
    family = register(event, now, name="Anna Bērziņa", party_size=2, phone="+371 2000 0001")
    family.needs = "ratiņkrēsls"
    _db.session.commit()
    rows = door.offline_list(event, world.organiser_a)
    assert rows == [
        {
            "ticket": door.ticket_hash(family.ticket_secret),
            "booking_code": family.booking_code,
            "registration_id": family.id,
            "name": "Anna Bērziņa",
            "party_size": 2,
            "status": "confirmed",
            "checked_in_people": 0,
            "activities": [],
            "needs": "ratiņkrēsls",
            "access_needs": [],
            "needs_text": "ratiņkrēsls",
            "search": f" anna berzina 37120000001 20000001 {family.booking_code.lower()}",
        }
    ]
    assert family.ticket_secret not in str(rows)
    # The door role's phone is found by name and booking code offline, never holds a number.
    door_user = factories.user("durvis@example.lv", Role.DOOR, [world.org_a])
    _db.session.commit()
    (row,) = door.offline_list(event, door_user)
    assert row["search"] == f" anna berzina {family.booking_code.lower()}"
    assert "2000" not in str(row)


@pytest.mark.parametrize("threads", [20])
def test_twenty_devices_scanning_one_ticket_make_one_checkin(app, db, world, event, now, threads):
    family = register(event, now, party_size=3)
    event_id, secret, user_id = event.id, family.ticket_secret, world.organiser_a.id
    barrier = threading.Barrier(threads)
    results = []

    errors = []

    def scan():
        try:
            _scan()
        except Exception as exc:  # reported below: a thread's exception would vanish
            errors.append(exc)

    def _scan():
        with app.app_context():
            from eventsvc.models import Event, User

            barrier.wait(timeout=20)
            own_event, user = _db.session.get(Event, event_id), _db.session.get(User, user_id)
            outcome = door.check_in_ticket(own_event, secret, user, now)
            _db.session.commit()
            results.append(outcome.result)
            _db.session.remove()

    workers = [threading.Thread(target=scan) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert errors == []
    assert sorted(results) == sorted([Result.CHECKED_IN] + [Result.ALREADY] * (threads - 1))
    assert _db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_twin_requests_with_one_nonce_make_one_checkin_and_the_same_answer(
    app, db, world, event, now
):
    """A door phone that resends a scan before the first answer came back (the same nonce,
    one person of a party of three): the twins wait for the first one's lock, then find its
    check-in (the insert's own NOT EXISTS, begun after the wait) and answer as it did —
    neither a second check-in nor a unique-key error."""
    family = register(event, now, party_size=3)
    event_id, secret, user_id = event.id, family.ticket_secret, world.organiser_a.id
    _db.session.commit()
    outcomes: list[tuple[Result, int]] = []  # what each request answered: result, check-in id
    barrier = threading.Barrier(8)

    def scan():
        from eventsvc.models import Event, User

        own_event, user = _db.session.get(Event, event_id), _db.session.get(User, user_id)
        barrier.wait(timeout=20)
        outcome = door.check_in_ticket(own_event, secret, user, now, people=1, nonce="phone-7:0042")
        outcomes.append((outcome.result, outcome.checkin.id))
        _db.session.commit()

    assert run_at_once(app, *[scan] * 8) == []
    assert [result for result, _ in outcomes] == [Result.CHECKED_IN] * 8
    assert len({checkin_id for _, checkin_id in outcomes}) == 1
    _db.session.expire_all()
    assert _db.session.scalar(select(func.count(CheckIn.id))) == 1
    assert door.checked_in_people(family.id) == 1
    stats = _db.session.get(EventStats, event_id)
    assert (stats.people_checked_in, stats.checked_in_registered) == (1, 1)  # moved once


def test_a_scan_at_an_event_without_its_counters_row_counts_the_party_once(db, world, event, now):
    """Registrations loaded by SQL without their counters (no event_stats row): the scan starts
    the row from a count of the registrations, which already holds this check-in."""
    family = register(event, now, party_size=3)
    _db.session.commit()
    _db.session.execute(text("DELETE FROM event_stats WHERE event_id = :id"), {"id": event.id})
    _db.session.commit()
    door.check_in_ticket(event, family.ticket_secret, world.organiser_a, now, people=2)
    _db.session.commit()
    stats = _db.session.get(EventStats, event.id)
    assert (stats.people_checked_in, stats.checked_in_registered, stats.registrations) == (2, 2, 1)


def test_nonces_belong_to_their_event(db, world, event, in_days, now):
    other = factories.event(world.org_b, in_days(1), capacity=5)
    here = register(event, now, name="Šeit")
    there = register(other, now, name="Tur")
    first = door.check_in_ticket(
        event, here.ticket_secret, world.organiser_a, now, nonce="door1:00000001"
    )
    second = door.check_in_ticket(
        other, there.ticket_secret, world.organiser_b, now, nonce="door1:00000001"
    )
    _db.session.commit()
    assert (
        first.registration.id == here.id and second.registration.id == there.id
    )  # no one else's answer


def test_a_retried_walk_in_registers_once(db, world, event, now):
    first = door.register_walk_in(
        event, "Ienācējs", 2, world.organiser_a, now, nonce="walkin:0000001"
    )
    _db.session.commit()
    again = door.register_walk_in(
        event, "Ienācējs", 2, world.organiser_a, now, nonce="walkin:0000001"
    )
    _db.session.commit()
    assert again.checkin.id == first.checkin.id
    assert (
        _db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.source == RegistrationSource.WALK_IN)
        )
        == 1
    )


def test_the_registrations_count_of_people_in_follows_checkins_and_undo(db, world, event, now):
    family = register(event, now, party_size=4)
    user = world.organiser_a

    def counted():
        _db.session.expire_all()
        rows = _db.session.scalars(
            select(CheckIn).where(CheckIn.registration_id == family.id, CheckIn.undone_at.is_(None))
        )
        return _db.session.get(Registration, family.id).checked_in_people, sum(
            c.people for c in rows
        )

    first = door.check_in_registration(event, family.id, user, now, people=1)
    door.check_in_ticket(event, family.ticket_secret, user, now)
    _db.session.commit()
    assert counted() == (4, 4)
    door.undo_checkin(event, first.checkin.id, user, now)
    _db.session.commit()
    assert counted() == (3, 3)


def test_a_wrong_people_count_does_not_hide_what_is_wrong_with_the_ticket(db, world, in_days, now):
    """A code that is no ticket is answered as such, whatever the number of people says."""
    event = factories.event(world.org_a, in_days(0, hours=1), capacity=10)
    assert (
        door.check_in_ticket(event, "!!!", world.organiser_a, now, people=0).result
        is door.Result.MALFORMED
    )
    assert (
        door.check_in_ticket(event, "x" * 43, world.organiser_a, now, people=0).result
        is door.Result.UNKNOWN
    )


def _until_someone_waits_for_this_transaction(timeout: float = 10.0) -> None:
    """PostgreSQL: return as soon as another session waits for a lock this session's
    transaction holds (at most `timeout` seconds). On SQLite the other writer waits for the
    database's write lock instead, out of sight: return at once."""
    if _db.engine.dialect.name != "postgresql":
        return
    waiting = text(
        "SELECT count(*) FROM pg_locks"
        " WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
    )
    deadline = time.monotonic() + timeout
    while not _db.session.scalar(waiting) and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_scan_and_a_cancellation_of_one_ticket_at_once_do_not_deadlock(
    app, db, world, in_days, now
):
    """The cancellation holds the event and then wants the registration; the scan takes the
    event (shared) before the registration, so it waits instead of closing a lock cycle, and
    then sees the cancellation."""
    from eventsvc.services import registration as rules

    event = factories.event(world.org_a, in_days(0, hours=1), capacity=10)
    registration = rules.register(
        event.id, factories.registration_request(party_size=2), now
    ).registration
    _db.session.commit()
    event_id, registration_id, code = event.id, registration.id, registration.ticket_secret
    organiser_id = world.organiser_a.id
    holding, scanning, results = threading.Event(), threading.Event(), []

    def cancel():
        rules.lock_event(event_id)  # as cancel_registration does first
        holding.set()
        scanning.wait(10)
        _until_someone_waits_for_this_transaction()  # the scan, behind its event lock
        rules.cancel_registration(_db.session.get(Registration, registration_id), now)
        _db.session.commit()

    def scan():
        from eventsvc.models import Event, User

        holding.wait(10)
        scanning.set()
        results.append(
            door.check_in_ticket(
                _db.session.get(Event, event_id), code, _db.session.get(User, organiser_id), now
            ).result
        )
        _db.session.commit()

    errors = run_at_once(app, cancel, scan)
    assert errors == [] and results == [door.Result.CANCELLED]
    assert (
        _db.session.scalar(
            select(func.count(CheckIn.id)).where(CheckIn.registration_id == registration_id)
        )
        == 0
    )
