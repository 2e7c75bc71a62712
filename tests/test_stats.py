"""Attendance totals on a small fixture whose numbers are worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Attendance,
    CheckIn,
    CheckInMethod,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    TargetGroup,
)
from eventsvc.services import stats
from eventsvc.services.stats import GroupBy, StatsFilter, Totals
from eventsvc.timezones import RIGA

from . import factories
from .conftest import run_at_once


def reg(
    event,
    name,
    size,
    status=RegistrationStatus.CONFIRMED,
    attendance=Attendance.IN_PERSON,
    source=RegistrationSource.WEB,
    checked=(),
    undone=(),
):
    r = Registration(
        event_id=event.id,
        name=name,
        email=f"{name.lower()}@example.lv" if source is not RegistrationSource.WALK_IN else None,
        phone="+37120000000",
        needs=f"needs of {name}",
        party_size=size,
        status=status,
        attendance=attendance,
        source=source,
    )
    _db.session.add(r)
    _db.session.flush()
    for people in checked:
        _db.session.add(
            CheckIn(
                event_id=event.id, registration_id=r.id, people=people, method=CheckInMethod.SCAN
            )
        )
    r.checked_in_people = sum(checked)  # as the check-in service keeps it
    for people in undone:
        _db.session.add(
            CheckIn(
                event_id=event.id,
                registration_id=r.id,
                people=people,
                method=CheckInMethod.SCAN,
                undone_at=datetime(2026, 10, 5, 13, tzinfo=RIGA),
            )
        )
    return r


@pytest.fixture
def fixture(world):
    e1 = factories.event(
        world.org_a,
        datetime(2026, 9, 10, 12, 0, tzinfo=RIGA),
        title="Tumes diskusija",
        capacity=10,
        kind=EventKind.DISCUSSION,
        campaign=world.campaign,
        target_groups=[TargetGroup.SENIORS, TargetGroup.EVERYONE],
    )
    e2 = factories.event(
        world.org_b,
        datetime(2026, 10, 5, 12, 0, tzinfo=RIGA),
        title="Križu svētki",
        kind=EventKind.FESTIVAL,
        target_groups=[TargetGroup.FAMILIES_DISABILITY],
    )
    draft = factories.event(
        world.org_a, datetime(2026, 9, 12, 12, 0, tzinfo=RIGA), status=EventStatus.DRAFT
    )
    cancelled = factories.event(
        world.org_a, datetime(2026, 9, 13, 12, 0, tzinfo=RIGA), status=EventStatus.CANCELLED
    )
    reg(e1, "Ilze", 3, checked=[2])  # 1 of 3 did not come
    reg(e1, "Pēteris", 2)  # a no-show of 2
    reg(e1, "Marija", 4, attendance=Attendance.ONLINE)  # watched online
    reg(e1, "Aija", 5, status=RegistrationStatus.CANCELLED)
    reg(e1, "Gunārs", 2, status=RegistrationStatus.WAITLISTED)
    reg(e1, "Olga", 1, source=RegistrationSource.WALK_IN, checked=[1])
    reg(e2, "Inta", 1, checked=[1])
    reg(e2, "Rasma", 2, checked=[2], undone=[1])  # one mistaken check-in undone
    reg(draft, "Melnraksts", 7, checked=[7])
    reg(cancelled, "Atcelts", 6, checked=[6])
    _db.session.commit()
    return e1, e2


E1 = Totals(
    events=1,
    ended_events=1,
    people_in_person_ended=5,
    registrations=3,
    people_registered=9,
    people_in_person=5,
    people_online=4,
    people_checked_in=3,
    checked_in_registered=2,
    walk_ins=1,
    no_shows=3,
    waitlisted_never_placed=2,
)
E2 = Totals(
    events=1,
    ended_events=1,
    people_in_person_ended=3,
    registrations=2,
    people_registered=3,
    people_in_person=3,
    people_online=0,
    people_checked_in=3,
    checked_in_registered=3,
    walk_ins=0,
    no_shows=0,
    waitlisted_never_placed=0,
)
ALL = Totals(
    events=2,
    ended_events=2,
    people_in_person_ended=8,
    registrations=5,
    people_registered=12,
    people_in_person=8,
    people_online=4,
    people_checked_in=6,
    checked_in_registered=5,
    walk_ins=1,
    no_shows=3,
    waitlisted_never_placed=2,
)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=RIGA)


def test_headline_totals(db, fixture):
    totals = stats.headline(StatsFilter(), None, NOW)
    assert totals == ALL
    assert totals.attendance_rate == pytest.approx(5 / 8)


def test_no_shows_and_never_placed_wait_until_the_event_has_ended(db, fixture):
    during = datetime(2026, 9, 10, 13, 0, tzinfo=RIGA)  # E1 under way, E2 ahead
    totals = stats.headline(StatsFilter(), None, during)
    assert (totals.no_shows, totals.waitlisted_never_placed) == (0, 0)


@pytest.mark.parametrize(
    "group_by, expected",
    [
        (GroupBy.MUNICIPALITY, {"Daugavpils valstspilsēta": E2, "Tukuma novads": E1}),
        (GroupBy.CAMPAIGN, {"Savējais savējiem!": E1, "Bez kampaņas": E2}),
        (GroupBy.KIND, {"Diskusija": E1, "Svētki": E2}),
        (
            GroupBy.TARGET_GROUP,
            {"Seniori": E1, "Visi interesenti": E1, "Ģimenes ar bērniem ar invaliditāti": E2},
        ),
        (GroupBy.MONTH, {"2026-09": E1, "2026-10": E2}),
    ],
)
def test_each_grouping(app, db, fixture, group_by, expected):
    with app.test_request_context("/"):
        rows = stats.breakdown(group_by, StatsFilter(), None, NOW)
    assert {row.label: row.totals for row in rows} == expected


def test_each_filter(db, world, fixture):
    _e1, _e2 = fixture
    cases = [
        (StatsFilter(date_from=date(2026, 10, 1)), E2),
        (StatsFilter(date_to=date(2026, 9, 30)), E1),
        (StatsFilter(date_from=date(2026, 9, 10), date_to=date(2026, 9, 10)), E1),
        (StatsFilter(municipality_id=world.tukums.id), E1),
        (StatsFilter(campaign_id=world.campaign.id), E1),
        (StatsFilter(kind=EventKind.FESTIVAL), E2),
    ]
    for filters, expected in cases:
        assert stats.headline(filters, None, NOW) == expected, filters


def test_organisers_see_only_their_organisations(db, world, fixture):
    assert stats.require_stats_reader(world.ministry) is None
    assert stats.require_stats_reader(world.admin) is None
    scope = stats.require_stats_reader(world.organiser_b)
    assert stats.headline(StatsFilter(), scope, NOW) == E2


def test_events_behind_a_total_carry_no_person(db, fixture):
    lines = stats.events_behind(StatsFilter(), None, NOW)
    assert [(line.title, line.totals) for line in lines] == [
        ("Tumes diskusija", E1),
        ("Križu svētki", E2),
    ]


def test_totals_survive_anonymisation(db, fixture):
    before = stats.headline(StatsFilter(), None, NOW)
    for r in _db.session.query(Registration):
        r.name, r.needs, r.email = "—", "", None
    _db.session.commit()
    assert stats.headline(StatsFilter(), None, NOW) == before


def test_running_counters_equal_a_rebuild_after_every_kind_of_change(db, world, in_days, now):
    from eventsvc.models import EventStats
    from eventsvc.models.event_stats import COUNTERS
    from eventsvc.services import checkin as door
    from eventsvc.services import registration as rules

    event = factories.event(
        world.org_a, in_days(1), capacity=6, format=EventFormat.HYBRID, stream_url="https://x.lv/s"
    )
    made = [
        rules.register(
            event.id, factories.registration_request(party_size=size, attendance=attendance), now
        ).registration
        for size, attendance in (
            (3, Attendance.IN_PERSON),
            (2, Attendance.ONLINE),
            (3, Attendance.IN_PERSON),
            (2, Attendance.IN_PERSON),
            (1, Attendance.IN_PERSON),
        )
    ]
    _db.session.commit()
    rules.change_party_size(made[0], 2, now)  # promotes from the waiting list
    rules.cancel_registration(made[4], now)
    first = door.check_in_ticket(event, made[0].ticket_secret, world.organiser_a, now, people=1)
    door.check_in_ticket(event, made[1].ticket_secret, world.organiser_a, now)
    door.undo_checkin(event, first.checkin.id, world.organiser_a, now)
    door.register_walk_in(event, "Ienācējs", 1, world.organiser_a, now)
    _db.session.commit()

    def row():
        _db.session.expire_all()
        stats_row = _db.session.get(EventStats, event.id)
        return {name: getattr(stats_row, name) for name in COUNTERS}

    running = row()
    stats.rebuild_event_stats()
    _db.session.commit()
    assert running == row()
    assert running["people_checked_in"] == 3 and running["walk_ins"] == 1
    # The places counters (what admission reads) include the walk-in: 2 + 3 in person, the
    # walk-in, the online pair apart; the party of 2 still waits (one place came free twice).
    assert running["confirmed_in_person_people"] == 6 and running["confirmed_online_people"] == 2
    assert running["waiting_parties"] == 1
    assert rules.availability(event).confirmed_people == 6


def test_stats_check_finds_a_counter_that_drifted_and_rebuild_mends_it(
    db, world, in_days, now, runner
):
    """The counters decide who gets a place, so a difference (SQL run by hand) must be found
    and mended from the command line; afterwards registration counts right again."""
    from sqlalchemy import text

    from eventsvc.services import registration as rules

    event = factories.event(world.org_a, in_days(1), capacity=4)
    rules.register(event.id, factories.registration_request(party_size=3), now)
    _db.session.commit()
    assert runner.invoke(args=["stats", "check"]).exit_code == 0

    _db.session.execute(
        text("UPDATE event_stats SET confirmed_in_person_people = 0 WHERE event_id = :e"),
        {"e": event.id},
    )
    _db.session.commit()
    assert rules.availability(event).places_left == 4  # what a drifted counter would let in
    check = runner.invoke(args=["stats", "check"])
    assert check.exit_code == 1
    assert f"event {event.id}: confirmed_in_person_people 0 (counted 3)" in check.output

    rebuild = runner.invoke(args=["stats", "rebuild"])
    assert rebuild.exit_code == 0 and "counters of 1 events that differed" in rebuild.output
    assert runner.invoke(args=["stats", "check"]).exit_code == 0
    _db.session.expire_all()
    assert rules.availability(event).places_left == 1
    outcome = rules.register(event.id, factories.registration_request(party_size=2), now)
    assert outcome.status is RegistrationStatus.WAITLISTED and outcome.waitlist_position == 1


def test_an_event_whose_counters_row_is_missing_is_counted_not_overbooked(db, world, in_days, now):
    """Registrations loaded by SQL without their counters (no event_stats row): places and
    the repeat check come from the registrations, and the next change writes the row right."""
    from sqlalchemy import text

    from eventsvc.services import registration as rules

    event = factories.event(world.org_a, in_days(5), capacity=2)
    rules.register(
        event.id, factories.registration_request(email="a@example.lv", party_size=2), now
    )
    _db.session.commit()
    _db.session.execute(text("DELETE FROM event_stats WHERE event_id = :e"), {"e": event.id})
    _db.session.commit()

    assert rules.availability(event).places_left == 0
    repeat = rules.register(event.id, factories.registration_request(email="a@example.lv"), now)
    assert repeat.repeated and repeat.status is RegistrationStatus.WAITLISTED
    second = rules.register(
        event.id, factories.registration_request(email="b@example.lv", party_size=2), now
    )
    assert second.status is RegistrationStatus.WAITLISTED and second.waitlist_position == 1
    _db.session.commit()
    assert stats.counter_drift() == {}


def test_mending_an_event_waits_for_a_registration_in_flight(app, db, world, in_days, now):
    """`flask stats rebuild` on a live database: it takes each event's lock first, as every
    registration does, so it waits for one in flight (no deadlock) and counts it."""
    import re
    import threading

    from sqlalchemy import event as sa_event
    from sqlalchemy import text

    from eventsvc.services import registration as rules

    event = factories.event(world.org_a, in_days(5), capacity=10)
    rules.register(event.id, factories.registration_request(), now)
    _db.session.commit()
    _db.session.execute(
        text("UPDATE event_stats SET waiting_parties = 7 WHERE event_id = :e"), {"e": event.id}
    )
    _db.session.commit()
    event_id = event.id
    locked, mend_asks, committing = threading.Event(), threading.Event(), threading.Event()
    mend_thread: list[int] = []
    got_the_lock_after_the_commit: list[bool] = []
    lock_sql = re.compile(r"\bFOR (NO KEY )?UPDATE\b|^\s*BEGIN IMMEDIATE")

    def is_the_mends_lock(statement: str) -> bool:
        return threading.get_ident() in mend_thread and bool(lock_sql.search(statement))

    def before(conn, cursor, statement, parameters, context, executemany):
        if is_the_mends_lock(statement):
            mend_asks.set()  # the lock statement goes to the database now

    def after(conn, cursor, statement, parameters, context, executemany):
        if is_the_mends_lock(statement) and not got_the_lock_after_the_commit:
            got_the_lock_after_the_commit.append(committing.is_set())

    def registrant():
        rules.lock_event(event_id)
        locked.set()
        assert mend_asks.wait(10)  # the mend asks for the event's lock while this one holds it
        rules.register(event_id, factories.registration_request(), now)
        committing.set()  # the lock is released by the commit, not before
        _db.session.commit()

    def mend():
        mend_thread.append(threading.get_ident())
        assert locked.wait(10)
        assert stats.mend_event_counters(event_id)
        _db.session.commit()

    sa_event.listen(_db.engine, "before_cursor_execute", before)
    sa_event.listen(_db.engine, "after_cursor_execute", after)
    try:
        errors = run_at_once(app, registrant, mend)
    finally:
        sa_event.remove(_db.engine, "before_cursor_execute", before)
        sa_event.remove(_db.engine, "after_cursor_execute", after)
    assert errors == []
    assert got_the_lock_after_the_commit == [True]
    _db.session.expire_all()
    assert stats.counter_drift() == {}
    assert rules.availability(_db.session.get(Event, event_id)).confirmed_people == 2


# --- one definition of each counter, in Python and in every SQL that counts ------------------


def _migration(name: str):
    import importlib.util

    from eventsvc import MIGRATIONS

    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / "versions" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_definition_of_the_counters_agrees_on_real_rows(db, world, in_days):
    """models/event_stats.py defines each counter twice (contribution() in Python, for the
    running counters; COUNT_EVENT_STATS in SQL, for checks and rebuilds), migrations 0008 and
    0011 filled them with SQL of their own (0022's follow-up calls start at 0), and services count people in SQL too. Every
    combination of status, source, attendance, party size and people let in, on two events,
    with ticked needs of every kind, before and after changes: all of them must give the same
    numbers."""
    import itertools

    from sqlalchemy import select, text

    from eventsvc.models import EventStats
    from eventsvc.models.event_stats import COUNT_EVENT_STATS, COUNTERS, contribution, counted
    from eventsvc.services.checkin import door_counts
    from eventsvc.services.events import registration_counts

    events = [factories.event(world.org_a, in_days(3 + i)) for i in range(2)]
    rows = []
    for i, (status, source, attendance, size, checked) in enumerate(
        itertools.product(
            RegistrationStatus, RegistrationSource, Attendance, (1, 3), ("none", "some", "all")
        )
    ):
        registration = Registration(
            event_id=events[i % 2].id,
            name=f"P{i}",
            email=f"p{i}@example.lv",
            status=status,
            source=source,
            attendance=attendance,
            party_size=size,
            checked_in_people={"none": 0, "some": 1, "all": size}[checked],
            follow_up_calls=i % 3,  # calls made after the event: a count, whatever the state
            needs_mask=(i * 37) % 128,  # every need ticked by some, with others or alone
        )
        _db.session.add(registration)
        rows.append(registration)
    _db.session.commit()

    rebuild_0008 = _migration("0008_event_stats").REBUILD
    columns_0008 = rebuild_0008.split("(", 1)[1].split(")", 1)[0].replace("\n", " ")
    assert [c.strip() for c in columns_0008.split(",")] == ["event_id", *COUNTERS[:9]]
    select_0008 = text(rebuild_0008[rebuild_0008.index("SELECT") :])
    migration_0011 = _migration("0011_event_places_counters")
    assert tuple(COUNTERS[9:12]) == migration_0011.NEW_COUNTERS
    assert COUNTERS[12] == "follow_up_calls"  # migration 0022
    assert tuple(COUNTERS[13:]) == _migration("0023_structured_needs").NEED_COUNTERS
    fill_0011 = text(migration_0011.FILL)

    def agree():
        expected = {e.id: dict.fromkeys(COUNTERS, 0) for e in events}
        for r in rows:
            added = contribution(
                r.status,
                r.source,
                r.attendance,
                r.party_size,
                r.checked_in_people,
                r.follow_up_calls,
                r.needs_mask,
            )
            for name, n in added.items():
                expected[r.event_id][name] += n
        assert all(any(v.values()) for v in expected.values())  # a fixture worth checking

        with _db.engine.connect() as conn:
            by_sql = {
                row[0]: dict(zip(COUNTERS, map(int, row[1:]), strict=True))
                for row in conn.execute(text(COUNT_EVENT_STATS))
            }
            by_0008 = {
                row[0]: dict(zip(COUNTERS[:9], map(int, row[1:]), strict=True))
                for row in conn.execute(select_0008)
            }
        with _db.engine.connect() as conn:  # 0011's fill, from counters set wrong; rolled back
            conn.execute(
                text(
                    "UPDATE event_stats SET confirmed_in_person_people = -1, "
                    "confirmed_online_people = -1, waiting_parties = -1"
                )
            )
            conn.execute(fill_0011)
            by_0011 = {
                row[0]: dict(zip(COUNTERS[9:12], row[1:], strict=True))
                for row in conn.execute(
                    text(f"SELECT event_id, {', '.join(COUNTERS[9:12])} FROM event_stats")
                )
            }
            conn.rollback()
        running = {
            s.event_id: {name: getattr(s, name) for name in COUNTERS}
            for s in _db.session.scalars(
                select(EventStats).execution_options(populate_existing=True)
            )
        }
        people = registration_counts([e.id for e in events])
        for event in events:
            want = expected[event.id]
            assert by_sql[event.id] == want
            assert counted(_db.session, event.id) == want
            assert running[event.id] == want
            assert by_0008[event.id] == {name: want[name] for name in COUNTERS[:9]}
            assert by_0011[event.id] == {name: want[name] for name in COUNTERS[9:12]}
            assert people[event.id].confirmed_people == (
                want["confirmed_in_person_people"] + want["confirmed_online_people"]
            )
            assert people[event.id].waitlisted_people == want["people_waitlisted"]
            door = door_counts(event)
            assert (door.checked_in_people, door.walk_in_people) == (
                want["people_checked_in"],
                want["walk_ins"],
            )

    agree()
    # Changes move the running counters by their differences: still the same numbers.
    for r in rows[::5]:
        r.status = RegistrationStatus.CANCELLED
    for r in rows[1::7]:
        r.party_size += 1
        r.attendance = Attendance.ONLINE
    for r in rows[2::4]:
        r.checked_in_people = 0
    for r in rows[3::6]:
        r.follow_up_calls += 2
    for r in rows[3::5]:
        r.needs_mask ^= 0b1010101  # some needs ticked, some unticked
    _db.session.delete(rows.pop(3))
    _db.session.commit()
    agree()
