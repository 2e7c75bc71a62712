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
    import threading
    import time

    from sqlalchemy import text

    from eventsvc.services import registration as rules

    event = factories.event(world.org_a, in_days(5), capacity=10)
    rules.register(event.id, factories.registration_request(), now)
    _db.session.commit()
    _db.session.execute(
        text("UPDATE event_stats SET waiting_parties = 7 WHERE event_id = :e"), {"e": event.id}
    )
    _db.session.commit()
    event_id, locked = event.id, threading.Event()

    def registrant():
        rules.lock_event(event_id)
        locked.set()
        time.sleep(0.5)  # the mend starts meanwhile and must wait
        rules.register(event_id, factories.registration_request(), now)
        _db.session.commit()

    def mend():
        locked.wait(10)
        assert stats.mend_event_counters(event_id)
        _db.session.commit()

    errors = run_at_once(app, registrant, mend)
    assert errors == []
    _db.session.expire_all()
    assert stats.counter_drift() == {}
    assert rules.availability(_db.session.get(Event, event_id)).confirmed_people == 2
