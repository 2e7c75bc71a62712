"""What one request costs, one at a time: SQL statements, commits, wall time, CPU of the app
and CPU of its PostgreSQL backend, for the baseline, a registration and a check-in.

    python bench/request_cost.py [postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_cost] [--profile registration]

The requests go through the Flask app in this process (the test client: no gunicorn, no
HTTP), one after the other, so nothing waits for a lock and other work on the machine
hardly changes the CPU figures. That makes it the before/after measure for changes to the
request path; bench/load_bench.py says what they are worth under load.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import load_data

REGISTRATIONS = 1500  # to an event with 1,000 places: about a third confirmed, then waiting
SCANS = 1000


def backend_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(url: str, profile: str | None = None) -> None:
    from sqlalchemy import event, text
    from sqlalchemy.engine import Engine

    load_data.recreate_database(url)
    load_data.migrate(url)
    load_data.create_baseline_table(url)
    fx = load_data.create_fixtures(url, rush_capacity=1000, door_tickets=SCANS + 100, scanners=1)

    from eventsvc import create_app
    from eventsvc.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": load_data.SECRET,
            "EVENTSVC_INPROCESS_MAIL_WORKER": False,
            "RATELIMIT_REGISTRATION": "1000000 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
            "EVENTSVC_BENCH_BASELINE": True,
        }
    )
    client = app.test_client()
    counts: Counter = Counter()

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        counts["statements"] += 1

    @event.listens_for(Engine, "commit")
    def _commit(conn):
        counts["commits"] += 1

    with app.app_context():
        backend = db.session.scalar(text("SELECT pg_backend_pid()"))  # the pool's one connection
        db.session.remove()

    def register(event_id: int, prefix: str):
        def send(i: int):
            response = client.post(
                f"/api/v1/events/{event_id}/registrations",
                json={
                    "name": f"Dalībnieks {i}",
                    "email": f"{prefix}-{i}@bench.example.lv",
                    "party_size": 1 + i % 3,
                    "consent": True,
                },
            )
            assert response.status_code == 201, response.get_data(as_text=True)

        return send

    headers = {"Authorization": f"Bearer {fx.tokens[0]}"}

    def scan(offset: int):
        def send(i: int):
            code = fx.tickets[offset + i % (len(fx.tickets) - offset)]
            response = client.post(
                f"/api/v1/events/{fx.door_event_id}/checkins",
                json={"code": code, "nonce": f"cost-{offset}-{i:06d}"},
                headers=headers,
            )
            assert response.status_code == 200, response.get_data(as_text=True)

        return send

    def baseline(i: int):
        assert client.post("/bench/baseline").status_code == 201

    def measure(name: str, send, n: int) -> dict:
        counts.clear()
        profiler = cProfile.Profile() if profile and name.startswith(profile) else None
        db_before, cpu_before, started = (
            backend_cpu_s(backend),
            time.thread_time(),
            time.perf_counter(),
        )
        if profiler:
            profiler.enable()
        for i in range(n):
            send(i)
        if profiler:
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_before
        db_cpu = backend_cpu_s(backend) - db_before
        return {
            "request": name,
            "n": n,
            "statements": counts["statements"] / n,
            "commits": counts["commits"] / n,
            "wall_ms": wall / n * 1000,
            "app_cpu_ms": cpu / n * 1000,
            "db_cpu_ms": db_cpu / n * 1000,
        }

    # Warm-up (not reported): imports, compiled-statement caches, prepared statements.
    measure("warm-up", baseline, 200)
    measure("warm-up", register(fx.warmup_event_id, "warm"), 200)
    measure("warm-up", scan(SCANS), 100)
    rows = [
        measure("baseline (1 INSERT)", baseline, 1000),
        measure(
            f"registration ({REGISTRATIONS} to 1,000 places)",
            register(fx.rush_event_id, "cost"),
            REGISTRATIONS,
        ),
        measure(f"check-in ({SCANS} tickets)", scan(0), SCANS),
    ]
    print(
        f"# one request at a time, in-process (Flask test client), PostgreSQL; {os.cpu_count()} cores"
    )
    print("| request | statements | commits | wall ms | app CPU ms | db CPU ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['request']} | {r['statements']:.2f} | {r['commits']:.2f} | {r['wall_ms']:.2f} | "
            f"{r['app_cpu_ms']:.2f} | {r['db_cpu_ms']:.2f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "url", nargs="?", default="postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_cost"
    )
    parser.add_argument(
        "--profile",
        choices=("baseline", "registration", "check-in"),
        help="print cProfile's view of that request (cumulative and own time; slows it down)",
    )
    arguments = parser.parse_args()
    main(arguments.url, arguments.profile)
