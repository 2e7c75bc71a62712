"""What one request costs, one at a time: SQL statements, commits, wall time, CPU of the app
and CPU of its PostgreSQL backend, for the baseline, a registration and a check-in.

    python bench/request_cost.py [postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_cost] [--repeat 3] [--profile registration] [--show-sql]

The requests go through the Flask app in this process (the test client: no gunicorn, no
HTTP), one after the other, so nothing waits for a lock and other work on the machine
hardly changes the CPU figures. That makes it the before/after measure for changes to the
request path; bench/load_bench.py says what they are worth under load.

"app CPU" is the CPU time of the thread that serves the requests (time.thread_time: user +
system, not wall time). A busy machine stretches the wall time much more than the CPU, but
the CPU too: on this 2-core machine the same baseline costs 1.2 ms when it is quiet and 2.8
ms when both cores are busy. So the three kinds take turns, 50 requests each, all meeting the
same machine, and each kind's CPU is also given as a multiple of the baseline's, which moves
much less. With --repeat N (default 3) the whole measurement runs N times, each in a fresh
process on a fresh database, and the table shows the median of each column (and every run's
CPU).

--profile KIND shows where that kind's CPU went: py-spy samples (1,000 a second) of the
thread holding the interpreter lock, so that waits for PostgreSQL (psycopg lets the lock go)
are left out; or cProfile with a CPU clock (--profiler cprofile; every call counted, slow).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
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


SPY_RATE = 1000  # samples a second


def start_py_spy() -> tuple[subprocess.Popen, str]:
    """py-spy sampling this process: only the thread holding the GIL, so waits (psycopg
    releases it while it waits for the server, a sleeping thread holds none) are left out."""
    out = f"/tmp/request_cost_spy_{os.getpid()}.txt"
    spy = Path(sys.executable).with_name("py-spy")
    process = subprocess.Popen(
        [
            str(spy),
            "record",
            *("--pid", str(os.getpid()), "--rate", str(SPY_RATE)),
            *("--format", "raw", "--output", out, "--nonblocking", "--gil"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # attached
    return process, out


# The frame under which each kind's requests are sent (for py-spy's stacks).
MARKERS = {
    "baseline": "main.<locals>.baseline (",
    "registration": "register.<locals>.send (",
    "check-in": "scan.<locals>.send (",
}


def stop_py_spy(process: subprocess.Popen, out: str, marker: str) -> None:
    """Stop sampling and print where the samples of the request loop were."""
    import signal

    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    summarise_samples(Path(out).read_text().splitlines(), marker)


def _frame(frame: str) -> str:
    """'execute (sqlalchemy/engine/base.py:1450)' → 'execute (sqlalchemy/engine/base.py)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    where = where.split("site-packages/")[-1].replace(str(Path(__file__).parent.parent) + "/", "")
    return f"{name} ({where})"


def summarise_samples(lines: list[str], marker: str, top: int = 45) -> None:
    """py-spy's raw (collapsed) stacks of the frames under `marker` (the request loop): each
    function's share of the on-CPU samples, inclusive and its own."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        start = next((k for k, f in enumerate(frames) if marker in f), None)
        if start is None:
            continue
        frames = [_frame(f) for f in frames[start:]]
        n = int(count)
        total += n
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    print(f"# py-spy: {total} on-CPU samples under {marker.strip(' (')} at {SPY_RATE}/s")
    print("# inclusive (the function and what it calls)")
    for name, n in inclusive.most_common(top):
        print(f"{100 * n / total:6.1f} %  {name}")
    print("# own (the function's own code)")
    for name, n in own.most_common(top // 2):
        print(f"{100 * n / total:6.1f} %  {name}")


def main(
    url: str,
    profile: str | None = None,
    show_sql: bool = False,
    ratelimit_storage: str = "memory://",
    sampler: str = "py-spy",
) -> list[dict]:
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
            "RATELIMIT_STORAGE_URI": ratelimit_storage,
            "EVENTSVC_BENCH_BASELINE": True,
        }
    )
    client = app.test_client()
    counts: Counter = Counter()
    last_request: list[str] = []  # the statements of the request being sent (--show-sql)
    last_sql: dict[str, list[str]] = {}  # each kind's last request's

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        counts["statements"] += 1
        if show_sql:
            last_request.append(" ".join(statement.split()))

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

    def measure(kinds: list[tuple[str, str, object, int]], block: int = 50) -> list[dict]:
        """Send each kind's `n` requests, the kinds taking turns in blocks of `block`, so that
        every kind meets the same machine (its speed moves with other work on it); each
        block's statements, CPU and time are added to its kind's."""
        totals = {name: Counter() for _, name, _, _ in kinds}
        profiled = next((name for key, name, _, _ in kinds if key == profile), None)
        # cProfile with a CPU clock (thread_time): waits for PostgreSQL's answers, and for a
        # core on a busy machine, are not the request's own work. It slows every call down,
        # and small ones most; py-spy (the default) samples instead, on-CPU only.
        profiler = (
            cProfile.Profile(time.thread_time) if profiled and sampler == "cprofile" else None
        )
        spy = start_py_spy() if profiled and sampler == "py-spy" else None
        sent = Counter()
        while any(sent[name] < n for _, name, _, n in kinds):
            for _, name, send, n in kinds:
                count = min(block, n - sent[name])
                if count <= 0:
                    continue
                counts.clear()
                db_before, cpu_before, started = (
                    backend_cpu_s(backend),
                    time.thread_time(),
                    time.perf_counter(),
                )
                if profiler and name == profiled:
                    profiler.enable()
                for i in range(sent[name], sent[name] + count):
                    last_request.clear()
                    send(i)
                last_sql[name] = list(last_request)
                if profiler and name == profiled:
                    profiler.disable()
                total = totals[name]
                total["wall"] += time.perf_counter() - started
                total["cpu"] += time.thread_time() - cpu_before
                total["db_cpu"] += backend_cpu_s(backend) - db_before
                total["statements"] += counts["statements"]
                total["commits"] += counts["commits"]
                sent[name] += count
        if profiler:
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
        if spy:
            stop_py_spy(*spy, marker=MARKERS[profile])
        rows = []
        for _, name, _, n in kinds:
            total = totals[name]
            rows.append(
                {
                    "request": name,
                    "n": n,
                    "statements": total["statements"] / n,
                    "commits": total["commits"] / n,
                    "wall_ms": total["wall"] / n * 1000,
                    "app_cpu_ms": total["cpu"] / n * 1000,
                    "db_cpu_ms": total["db_cpu"] / n * 1000,
                }
            )
            if show_sql and not name.startswith("warm-up"):
                print(f"# the statements of the last {name}:")
                for statement in last_sql[name]:
                    print("  " + statement[:300])
        return rows

    # Warm-up (not reported): imports, compiled-statement caches, prepared statements.
    measure(
        [
            ("warm-up", "warm-up baseline", baseline, 200),
            ("warm-up", "warm-up registration", register(fx.warmup_event_id, "warm"), 200),
            ("warm-up", "warm-up check-in", scan(SCANS), 100),
        ]
    )
    rows = measure(
        [
            ("baseline", "baseline (1 INSERT)", baseline, 1000),
            (
                "registration",
                f"registration ({REGISTRATIONS} to 1,000 places)",
                register(fx.rush_event_id, "cost"),
                REGISTRATIONS,
            ),
            ("check-in", f"check-in ({SCANS} tickets)", scan(0), SCANS),
        ]
    )
    return rows


def report(runs: list[list[dict]], ratelimit_storage: str) -> None:
    """The median of each column over the runs, and every run's app CPU."""
    print(
        f"# one request at a time, in-process (Flask test client), PostgreSQL; {os.cpu_count()} "
        f"cores; rate limits in {ratelimit_storage}; median of {len(runs)} run(s)"
    )
    # The machine's speed moves with other work on it (the same baseline's CPU doubles when
    # both cores are busy), so each request's CPU is also given as a multiple of the
    # baseline's in the same run: that moves much less.
    print(
        "| request | statements | commits | wall ms | app CPU ms | × baseline CPU | db CPU ms "
        "| app CPU per run |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for k, first in enumerate(runs[0]):
        rows = [run[k] for run in runs]
        ratios = [run[k]["app_cpu_ms"] / run[0]["app_cpu_ms"] for run in runs]

        def median(column: str, rows=rows) -> float:
            return statistics.median(r[column] for r in rows)

        print(
            f"| {first['request']} | {median('statements'):.2f} | {median('commits'):.2f} | "
            f"{median('wall_ms'):.2f} | {median('app_cpu_ms'):.2f} | "
            f"{statistics.median(ratios):.2f} | {median('db_cpu_ms'):.2f} | "
            + " · ".join(f"{r['app_cpu_ms']:.2f}" for r in rows)
            + " |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "url", nargs="?", default="postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_cost"
    )
    parser.add_argument(
        "--profile",
        choices=("baseline", "registration", "check-in"),
        help="print where that request's CPU went (see --profiler; implies --repeat 1)",
    )
    parser.add_argument(
        "--profiler",
        choices=("py-spy", "cprofile"),
        default="py-spy",
        help="py-spy: on-CPU samples, the share of each function (default); cprofile: every "
        "call, in CPU time (much slower, small calls look dearer than they are)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="run the whole measurement this many times, each in a fresh process on a fresh "
        "database, and report the median (default 3)",
    )
    parser.add_argument(
        "--show-sql",
        action="store_true",
        help="print the statements of the last request of each kind",
    )
    parser.add_argument(
        "--ratelimit-storage",
        default="memory://",
        help="the rate limiter's storage (memory://, as before; redis://127.0.0.1:6379 as "
        "production and bench/load_bench.py have it)",
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one run's rows
    arguments = parser.parse_args()
    if arguments.json or arguments.profile or arguments.show_sql or arguments.repeat <= 1:
        rows = main(
            arguments.url,
            arguments.profile,
            arguments.show_sql,
            arguments.ratelimit_storage,
            arguments.profiler,
        )
        if arguments.json:
            print("REQUEST_COST " + json.dumps(rows))
        else:
            report([rows], arguments.ratelimit_storage)
    else:
        runs = []
        for _ in range(arguments.repeat):
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    arguments.url,
                    "--json",
                    "--ratelimit-storage",
                    arguments.ratelimit_storage,
                ],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
            line = next(x for x in child.stdout.splitlines() if x.startswith("REQUEST_COST "))
            runs.append(json.loads(line.removeprefix("REQUEST_COST ")))
        report(runs, arguments.ratelimit_storage)
