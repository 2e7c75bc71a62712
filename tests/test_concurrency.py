"""A rush of registrations and cancels through the real HTTP path, many threads at once.

Runs on SQLite and, with EVENTSVC_TEST_DATABASE_URL, on PostgreSQL (where the event row
lock is SELECT … FOR UPDATE). Each thread waits at a barrier so the requests really overlap.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, OutboxMessage, Registration, RegistrationStatus

from . import factories

THREADS = 60


def call(method: str, url: str, payload=None) -> tuple[int, dict]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def all_at_once(calls) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(calls))

    def run(fn):
        barrier.wait(timeout=30)
        return fn()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def registrations(event) -> list[Registration]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
        )
    )


def assert_nobody_waits_who_would_fit(rows, capacity: int, confirmed_people: int) -> None:
    left = capacity - confirmed_people
    waiting = [r.party_size for r in rows if r.status is RegistrationStatus.WAITLISTED]
    assert all(size > left for size in waiting), (left, waiting)


def test_rush_for_20_places_never_overbooks(live_server, world, in_days):
    event = factories.event(world.org_a, in_days(10), capacity=20)
    url = f"{live_server}/api/v1/events/{event.id}/registrations"
    sizes = [1 + i % 3 for i in range(THREADS)]
    results = all_at_once(
        [
            (
                lambda i=i: call(
                    "POST",
                    url,
                    {
                        "name": f"Dalībnieks {i}",
                        "email": f"p{i}@example.lv",
                        "party_size": sizes[i],
                        "consent": True,
                    },
                )
            )
            for i in range(THREADS)
        ]
    )
    assert [status for status, _ in results] == [201] * THREADS, results
    rows = registrations(event)
    assert len(rows) == THREADS
    confirmed = sum(r.party_size for r in rows if r.status is RegistrationStatus.CONFIRMED)
    assert confirmed <= 20
    assert_nobody_waits_who_would_fit(rows, 20, confirmed)
    positions = sorted(
        body["waitlist_position"] for _, body in results if body["status"] == "waitlisted"
    )
    assert positions == list(
        range(1, len(positions) + 1)
    )  # each waiting party has its own place in line
    assert len(_db.session.scalars(select(OutboxMessage.registration_id)).all()) == THREADS


def test_rush_for_an_activity_never_overbooks_it(live_server, world, in_days):
    event = factories.event(world.org_b, in_days(10), capacity=500, hours=6)
    workshop = Activity(
        title="Eglīšu rotājumu darbnīca",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        capacity=10,
    )
    event.activities.append(workshop)
    _db.session.commit()
    url = f"{live_server}/api/v1/events/{event.id}/registrations"
    workshop_id = workshop.id  # read here: the threads have no database session
    results = all_at_once(
        [
            (
                lambda i=i: call(
                    "POST",
                    url,
                    {
                        "name": f"Bērns {i}",
                        "email": f"c{i}@example.lv",
                        "party_size": 1 + i % 3,
                        "activity_ids": [workshop_id],
                        "consent": True,
                    },
                )
            )
            for i in range(40)
        ]
    )
    assert {status for status, _ in results} == {201}
    assert {body["status"] for _, body in results} == {"confirmed"}  # the festival has room
    rows = registrations(event)
    assert all(r.status is RegistrationStatus.CONFIRMED for r in rows)
    holding = [r for r in rows if [a.id for a in r.activities] == [workshop_id]]
    taken = sum(r.party_size for r in holding)
    assert taken <= 10
    waiting = [r for r in rows if r not in holding]
    assert all([w.activity_id for w in r.activity_waits] == [workshop_id] for r in waiting)
    assert all(r.party_size > 10 - taken for r in waiting)  # nobody waits who would fit
    positions = sorted(
        body["activities"][0]["waitlist_position"]
        for _, body in results
        if body["activities"][0]["status"] == "waitlisted"
    )
    assert positions == list(range(1, len(waiting) + 1))


def test_concurrent_cancels_promote_without_overfilling(live_server, world, in_days, now):
    from eventsvc.services import registration as rules

    event = factories.event(world.org_a, in_days(10), capacity=10)
    tokens = []
    for i in range(40):
        outcome = rules.register(
            event.id,
            factories.registration_request(name=f"P{i}", party_size=1 if i < 10 else 1 + i % 2),
            now,
        )
        tokens.append(outcome.registration.manage_token)
    _db.session.commit()
    results = all_at_once(
        [
            (lambda t=t: call("DELETE", f"{live_server}/api/v1/registrations/{t}"))
            for t in tokens[:8]
        ]
    )
    assert {status for status, _ in results} == {200}
    rows = registrations(event)
    confirmed = sum(r.party_size for r in rows if r.status is RegistrationStatus.CONFIRMED)
    assert confirmed <= 10
    assert_nobody_waits_who_would_fit(rows, 10, confirmed)
    promoted = [r for r in rows[10:] if r.status is RegistrationStatus.CONFIRMED]
    assert promoted, "the freed places went to the waiting list"
    kinds = _db.session.execute(select(OutboxMessage.registration_id, OutboxMessage.kind)).all()
    assert sorted(rid for rid, kind in kinds if kind == "registration_promoted") == sorted(
        r.id for r in promoted
    )
