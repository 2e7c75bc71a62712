"""The load bench: gunicorn + PostgreSQL on this machine, driven from this process over
127.0.0.1, with every result as a ratio of a bare one-INSERT endpoint measured in the same run.

    python bench/load_bench.py                          # make bench-load
    python bench/load_bench.py --stats-url postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_bench
                                                        # make bench: the Ministry's totals too
    python bench/load_bench.py --profile                # pyinstrument + SQL counts per request

One run: a fresh database (dropped, created, `flask db upgrade`), gunicorn with 2 × cores
sync workers started with the production settings, warm-up, then

  baseline   POST /bench/baseline (one INSERT + commit), at 50 and at 10 clients
  rush       5,000 POST /api/v1/events/<id>/registrations from 50 clients to one event with
             1,000 places (party sizes 1–3, distinct addresses)
  door       2,000 tickets + 10 % repeated scans, POST /api/v1/events/<id>/checkins from 10
             scanners, each with its own API token
  totals     (with --stats-url) bench/stats_bench.py on the national data set, built first
             by bench/national_data.py when the database has none

and afterwards the database is checked: exactly `capacity` people confirmed, everybody
else waiting, one outbox message per registration, one check-in per ticket. A failed check
makes the run exit non-zero. Results: a table on stdout and JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import load_data
from load_driver import Job, RunResult, run, wait_for_quiet
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

TARGETS = {  # issue 9, on this 2-core machine
    "rush": {"ratio": 0.5, "p95_ms": 100.0},
    "door": {"ratio": 0.6, "p99_ms": 30.0},
}


# --- the server -------------------------------------------------------------------------


def redis_reachable(uri: str) -> bool:
    parsed = urlparse(uri)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1
        ):
            return True
    except OSError:
        return False


def server_env(args) -> dict:
    return {
        **os.environ,
        # The production settings, so that nothing development-only runs in the measurement.
        "EVENTSVC_ENV": "production",
        "EVENTSVC_SECRET_KEY": load_data.SECRET,
        "EVENTSVC_DATABASE_URL": args.database_url,
        "EVENTSVC_PUBLIC_URL": "https://bench.invalid",
        # A mail server that is never contacted: with MAIL_SERVER set the in-process mailbox
        # worker is off, and no `flask mail worker` runs, so mail stays queued in the outbox.
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": "9",
        # One client address sends everything: the per-address limit must not be what is measured.
        "EVENTSVC_RATELIMIT_REGISTRATION": "1000000 per minute",
        "EVENTSVC_RATELIMIT_STORAGE_URI": args.ratelimit_storage,
        "EVENTSVC_BENCH_BASELINE": "1",
        "BENCH_PROFILE_DIR": str(args.profile_dir),
    }


def start_server(args, log_path: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--graceful-timeout",
        "60",
        "--log-level",
        "warning",
    ]
    if args.profile:
        command += ["--config", str(ROOT / "bench" / "gunicorn_profile.py")]
    command.append("wsgi:app")
    log = log_path.open("w")
    server = subprocess.Popen(
        command, cwd=ROOT, env=server_env(args), stdout=log, stderr=subprocess.STDOUT
    )
    return server


def wait_until_ready(
    base_url: str, path: str, server: subprocess.Popen, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited during start-up; see its log")
        try:
            with urllib.request.urlopen(base_url + path, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


class CpuMeter:
    """CPU seconds used by the gunicorn workers and by the PostgreSQL backends serving the
    bench database, so that each run can say what a request costs where (others' work on
    the machine does not count here, unlike in the throughput)."""

    def __init__(self, server: subprocess.Popen, engine):
        self.server, self.engine = server, engine

    def sample(self) -> dict[str, dict[int, float]]:
        with self.engine.connect() as conn:
            backends = list(
                conn.scalars(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            )
        return {
            "app": {p: _cpu_seconds(p) for p in _children(self.server.pid)},
            "db": {p: _cpu_seconds(p) for p in backends},
        }

    @staticmethod
    def per_request_ms(before: dict, after: dict, requests: int) -> dict[str, float]:
        return {
            part: round(
                sum(after[part][p] - before[part].get(p, 0.0) for p in after[part])
                * 1000
                / max(requests, 1),
                2,
            )
            for part in after
        }


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=90)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the scenarios ----------------------------------------------------------------------


def registration_jobs(
    event_id: int, count: int, prefix: str, rng: random.Random, sizes=(1, 3)
) -> list[Job]:
    return [
        Job(
            "POST",
            f"/api/v1/events/{event_id}/registrations",
            {
                "name": f"Bench Dalībnieks {i}",
                "email": f"{prefix}-{i}@bench.example.lv",
                "party_size": rng.randint(*sizes),
                "consent": True,
                "language": "lv",
            },
        )
        for i in range(count)
    ]


def scan_jobs(
    event_id: int, tickets: list[str], duplicates: float, rng: random.Random
) -> list[Job]:
    """Every ticket once, and a share of them a second time, in random order (some repeats
    arrive while the first scan is still being answered)."""
    codes = tickets + rng.sample(tickets, round(len(tickets) * duplicates))
    rng.shuffle(codes)
    return [
        Job(
            "POST",
            f"/api/v1/events/{event_id}/checkins",
            {"code": code, "nonce": f"bench-{i:06d}", "device": "bench"},
        )
        for i, code in enumerate(codes)
    ]


def bearer(tokens: list[str]):
    return lambda client: {"Authorization": f"Bearer {tokens[client % len(tokens)]}"}


# --- the checks -------------------------------------------------------------------------


def verify_rush(engine, event_id: int, capacity: int, result: RunResult, sent: int) -> dict:
    with engine.connect() as conn:
        by_status = {
            row.status: (row.n, int(row.people))
            for row in conn.execute(
                text(
                    "SELECT status, count(*) AS n, sum(party_size) AS people FROM registrations"
                    " WHERE event_id = :e GROUP BY status"
                ),
                {"e": event_id},
            )
        }
        not_once = conn.scalar(
            text(
                "SELECT count(*) FROM registrations r WHERE r.event_id = :e AND"
                " (SELECT count(*) FROM outbox_messages o WHERE o.registration_id = r.id) <> 1"
            ),
            {"e": event_id},
        )
        wrong_kind = conn.scalar(
            text(
                "SELECT count(*) FROM registrations r JOIN outbox_messages o ON o.registration_id = r.id"
                " WHERE r.event_id = :e AND o.kind <> 'registration_' || r.status"
            ),
            {"e": event_id},
        )
        stats = conn.execute(
            text(
                "SELECT people_registered, people_waitlisted FROM event_stats WHERE event_id = :e"
            ),
            {"e": event_id},
        ).one()
    confirmed_n, confirmed_people = by_status.get("confirmed", (0, 0))
    waiting_n, waiting_people = by_status.get("waitlisted", (0, 0))
    answers = Counter(body.get("status") for body in result.bodies if body)
    positions = sorted(
        body["waitlist_position"]
        for body in result.bodies
        if body and body.get("status") == "waitlisted"
    )
    checks = {
        "every request answered 201": result.statuses.get(201, 0) == sent,
        "registrations in the database == requests": confirmed_n + waiting_n == sent,
        "confirmed people == capacity (none overbooked)": confirmed_people == capacity,
        "everyone else waitlisted (none cancelled)": set(by_status) <= {"confirmed", "waitlisted"},
        "answers match the database": answers.get("confirmed", 0) == confirmed_n
        and answers.get("waitlisted", 0) == waiting_n,
        "waiting-list positions 1..n, each once": positions == list(range(1, waiting_n + 1)),
        "one outbox message per registration": not_once == 0,
        "outbox message kind matches status": wrong_kind == 0,
        "per-event counters match": (stats.people_registered, stats.people_waitlisted)
        == (confirmed_people, waiting_people),
    }
    return {
        "confirmed_registrations": confirmed_n,
        "confirmed_people": confirmed_people,
        "waitlisted_registrations": waiting_n,
        "waitlisted_people": waiting_people,
        "overbooked_people": max(confirmed_people - capacity, 0),
        "checks": checks,
    }


def verify_door(
    engine, event_id: int, tickets: int, people: int, result: RunResult, repeats: int
) -> dict:
    with engine.connect() as conn:
        rows, distinct, let_in = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT registration_id), coalesce(sum(people), 0) FROM checkins"
                " WHERE event_id = :e AND undone_at IS NULL"
            ),
            {"e": event_id},
        ).one()
        twice = conn.scalar(
            text(
                "SELECT count(*) FROM (SELECT registration_id FROM checkins WHERE event_id = :e AND undone_at IS NULL"
                " GROUP BY registration_id HAVING count(*) > 1) t"
            ),
            {"e": event_id},
        )
        mismatched = conn.scalar(
            text(
                "SELECT count(*) FROM registrations WHERE event_id = :e AND checked_in_people <> party_size"
            ),
            {"e": event_id},
        )
        counter = conn.scalar(
            text("SELECT people_checked_in FROM event_stats WHERE event_id = :e"), {"e": event_id}
        )
    answers = Counter(body.get("result") for body in result.bodies if body)
    checks = {
        "every request answered 200": result.statuses.get(200, 0) == tickets + repeats,
        "one check-in per ticket": rows == distinct == tickets and twice == 0,
        "answers: checked in once per ticket": answers.get("checked_in", 0) == tickets,
        "answers: repeats are 'already checked in'": answers.get("already_checked_in", 0)
        == repeats,
        "every party fully let in": mismatched == 0 and let_in == people,
        "per-event counter matches": counter == people,
    }
    return {"checkins": rows, "double_checkins": twice, "answers": dict(answers), "checks": checks}


# --- the report -------------------------------------------------------------------------


def baseline_rps(runs: dict, name: str) -> float:
    """The baseline measured just before and just after a scenario: their mean, so that
    other work on the machine that comes or goes during the run skews the ratio less."""
    rates = [runs[key]["throughput_rps"] for key in (name, name + "_after") if key in runs]
    return sum(rates) / len(rates)


def line(name: str, r: dict, base: float | None) -> str:
    ratio = f"{r['throughput_rps'] / base:.2f}" if base else "–"
    return (
        f"| {name} | {r['concurrency']} | {r['requests']} | {r['throughput_rps']:.0f} | {ratio} | "
        f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['app_cpu_ms']:.2f} | {r['db_cpu_ms']:.2f} | "
        f"{r['machine_busy'] * 100:.0f} % | {r['busy_before'] * 100:.0f} % | {r['driver_cpu_s']:.1f} |"
    )


def report(results: dict) -> str:
    out = [
        f"# load bench {results['started']}: {results['cores']} cores, gunicorn {results['workers']} × "
        f"{results['worker_class']} (threads {results['threads']}), rate-limit storage {results['ratelimit_storage']}",
        "",
        "| run | clients | requests | req/s | × baseline | p50 ms | p95 ms | p99 ms | app CPU ms/req | db CPU ms/req | CPU busy | busy before | driver CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    runs = results["runs"]
    out.append(line("baseline (1 INSERT), 50 clients, before", runs["baseline_50"], None))
    out.append(line("registration rush", runs["rush"], baseline_rps(runs, "baseline_50")))
    if "baseline_50_after" in runs:
        out.append(line("baseline (1 INSERT), 50 clients, after", runs["baseline_50_after"], None))
    out.append(line("baseline (1 INSERT), 10 clients, before", runs["baseline_10"], None))
    out.append(line("check-in (10 scanners)", runs["door"], baseline_rps(runs, "baseline_10")))
    if "baseline_10_after" in runs:
        out.append(line("baseline (1 INSERT), 10 clients, after", runs["baseline_10_after"], None))
    out.append(
        "(× baseline: against the mean of the baseline just before and just after, same clients)"
    )
    if "rush_paced" in runs:
        out += [
            "",
            "Paced (open loop): requests due at a steady rate, latency counted from when each was due",
            "| run | rate asked | up to at once | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | app CPU ms/req | db CPU ms/req | CPU busy |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, label in (("rush_paced", "registrations"), ("door_paced", "check-ins")):
            r = runs[name]
            out.append(
                f"| {label} | {r['rate']:g}/s | {r['concurrency']} | {r['requests']} | {r['throughput_rps']:.0f} | "
                f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
                f"{r['app_cpu_ms']:.2f} | {r['db_cpu_ms']:.2f} | {r['machine_busy'] * 100:.0f} % |"
            )
    rush, door = results["verify"]["rush"], results["verify"]["door"]
    out += [
        "",
        f"rush: {rush['confirmed_people']} people confirmed in {rush['confirmed_registrations']} registrations, "
        f"{rush['waitlisted_registrations']} registrations waitlisted, overbooked {rush['overbooked_people']}",
        f"door: {door['checkins']} check-ins, {door['double_checkins']} tickets checked in twice, answers {door['answers']}",
    ]
    for part, verified in results["verify"].items():
        for name, ok in verified["checks"].items():
            out.append(f"  [{'ok' if ok else 'FAILED'}] {part}: {name}")
    for name, target in TARGETS.items():
        r = runs["rush" if name == "rush" else "door"]
        ratio = r["throughput_rps"] / baseline_rps(
            runs, "baseline_50" if name == "rush" else "baseline_10"
        )
        parts = [
            f"ratio {ratio:.2f} (≥ {target['ratio']}) {'met' if ratio >= target['ratio'] else 'MISSED'}"
        ]
        for key in ("p95_ms", "p99_ms"):
            if key in target:
                parts.append(
                    f"{key[:3]} {r[key]:.1f} ms (< {target[key]:.0f}) {'met' if r[key] < target[key] else 'MISSED'}"
                )
        out.append(f"target {name}: " + "; ".join(parts))
    if results.get("stats"):
        stats = results["stats"]
        out += [
            "",
            f"totals: {stats['events']} events, {stats['registrations']} registrations, median of {stats['runs']}"
            + (f" (data built in {stats['built_s']:.0f} s)" if stats.get("built_s") else ""),
            "| query | ms | × plain GROUP BY |",
            "|---|---:|---:|",
        ]
        out += [
            f"| {row['query']} | {row['ms']:.1f} | {row['ratio']:.2f} |" for row in stats["rows"]
        ]
    return "\n".join(out)


# --- the profile ------------------------------------------------------------------------


def profile_report(profile_dir: Path) -> str:
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
    from pyinstrument.session import Session

    sessions = [Session.load(str(p)) for p in sorted(profile_dir.glob("worker-*.pyisession"))]
    if not sessions:
        return "(no profile written)"
    combined = sessions[0]
    for other in sessions[1:]:
        combined = Session.combine(combined, other)
    (profile_dir / "combined.html").write_text(HTMLRenderer().render(combined))
    text_report = ConsoleRenderer(
        unicode=True, color=False, show_all=False, time="percent_of_total"
    ).render(combined)
    (profile_dir / "combined.txt").write_text(text_report)

    requests, checkouts, statements = Counter(), Counter(), {}
    for path in profile_dir.glob("worker-*.sql.json"):
        data = json.loads(path.read_text())
        requests.update(data["requests"])
        checkouts.update(data["checkouts"])
        for endpoint, counts in data["statements"].items():
            statements.setdefault(endpoint, Counter()).update(counts)
    lines = []
    for endpoint, n in sorted(requests.items()):
        counts = statements.get(endpoint, Counter())
        lines.append(
            f"{endpoint}: {n} requests, {sum(counts.values()) / n:.2f} statements/request "
            f"(+ {checkouts[endpoint] / n:.2f} pool checkouts = pre-ping round trips)"
        )
        for shape, count in counts.most_common():
            lines.append(f"  {count / n:6.2f}  {shape}")
    sql = "\n".join(lines)
    (profile_dir / "sql.txt").write_text(sql)
    return sql


def start_py_spy(server: subprocess.Popen, path: Path) -> subprocess.Popen | None:
    """py-spy (if installed) samples the workers' stacks while they are on a CPU: where the
    CPU time goes, where pyinstrument's wall-clock profile shows mostly waiting."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return None
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(server.pid),
            "--subprocesses",
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_py_spy(spy: subprocess.Popen | None) -> None:
    if spy is not None and spy.poll() is None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()


PACKAGES = (
    "eventsvc",
    "sqlalchemy",
    "psycopg",
    "flask_sqlalchemy",
    "flask_limiter",
    "limits",
    "redis",
    "flask_babel",
    "babel",
    "flask_login",
    "flask",
    "werkzeug",
    "email_validator",
    "gunicorn",
    "json",
)


def cpu_profile_report(path: Path, top: int = 40) -> str:
    """py-spy's collapsed stacks → on-CPU share by package (of the innermost frame) and the
    eventsvc functions with the most CPU below them."""
    if not path.exists():
        return "(no py-spy profile: pip install py-spy)"
    by_package, inclusive, leaves, total = Counter(), Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")
        total += n
        leaf = frames[-1]
        leaves[leaf] += n
        by_package[
            next(
                (p for p in PACKAGES if f"/{p}/" in leaf or f"{p}/" in leaf.split("(")[-1]), "other"
            )
        ] += n
        for frame in dict.fromkeys(f for f in frames if "eventsvc/" in f):
            inclusive[frame.split(" (")[0] + " (" + frame.split("eventsvc/")[-1]] += n
    if not total:
        return "(py-spy recorded nothing)"
    lines = [f"on-CPU samples: {total}", "by package (innermost frame):"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in by_package.most_common()]
    lines.append("innermost frames:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in leaves.most_common(15)]
    lines.append("eventsvc functions, CPU including what they call:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    report = "\n".join(lines)
    path.with_suffix(".txt").write_text(report)
    return report


# --- the run ----------------------------------------------------------------------------


def main() -> int:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_load"
        ),
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2 * cores)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ratelimit-storage", default="redis://127.0.0.1:6379")
    parser.add_argument("--capacity", type=int, default=1000)
    parser.add_argument("--rush-requests", type=int, default=5000)
    parser.add_argument("--rush-clients", type=int, default=50)
    parser.add_argument("--door-tickets", type=int, default=2000)
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--scanners", type=int, default=10)
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=150.0,
        help="paced (open-loop) runs after the closed ones: requests a second; 0 skips them",
    )
    parser.add_argument("--paced-registrations", type=int, default=2000)
    parser.add_argument("--paced-tickets", type=int, default=1000)
    parser.add_argument(
        "--stats-url", help="also measure the Ministry's totals on this database (built if empty)"
    )
    parser.add_argument("--stats-runs", type=int, default=5)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="pyinstrument (wall clock) and SQL statements per request, in every worker",
    )
    parser.add_argument(
        "--cpu-profile",
        action="store_true",
        help="py-spy samples of the workers while on a CPU, during the rush and the door runs",
    )
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument(
        "--quiet-limit",
        type=float,
        default=0.10,
        help="before each run, wait until the cores are at most this busy (0..1)",
    )
    parser.add_argument(
        "--quiet-patience", type=float, default=30.0, help="… but no longer than this (s)"
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    args.profile_dir = RESULTS / f"profile-{stamp}"
    if args.profile or args.cpu_profile:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    if args.ratelimit_storage.startswith("redis") and not redis_reachable(args.ratelimit_storage):
        print(
            f"! {args.ratelimit_storage} unreachable: rate-limit counts kept per process (memory://)"
        )
        args.ratelimit_storage = "memory://"
    rng = random.Random(args.seed)
    began = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {message}", flush=True)

    busy_before: dict[str, float] = {}

    def quiet(name: str) -> None:
        """Other work on the machine (a test run, a browser) would be measured too: wait for it."""
        busy_before[name] = share = wait_for_quiet(args.quiet_limit, args.quiet_patience)
        if share > args.quiet_limit:
            say(
                f"! the machine is {share:.0%} busy before '{name}' (others' work): this run is skewed"
            )

    say(f"fresh database {args.database_url}")
    load_data.recreate_database(args.database_url)
    load_data.migrate(args.database_url)
    load_data.create_baseline_table(args.database_url)
    fx = load_data.create_fixtures(
        args.database_url,
        rush_capacity=args.capacity,
        door_tickets=args.door_tickets,
        scanners=args.scanners,
        seed=args.seed,
        paced_door_tickets=args.paced_tickets if args.paced_rate else 0,
    )
    engine = create_engine(args.database_url)

    say(
        f"gunicorn: {args.workers} {args.worker_class} workers (threads {args.threads}) on 127.0.0.1:{args.port}"
    )
    base_url = f"http://127.0.0.1:{args.port}"
    server = start_server(args, RESULTS / f"gunicorn-{stamp}.log")
    runs: dict[str, RunResult] = {}
    cpu: dict[str, dict[str, float]] = {}
    meter = CpuMeter(server, engine)

    def measured(name: str, *run_args, **run_kwargs) -> RunResult:
        quiet(name)
        before = meter.sample()
        result = run(base_url, name, *run_args, **run_kwargs)
        cpu[name] = CpuMeter.per_request_ms(before, meter.sample(), result.requests)
        runs[name] = result
        return result

    try:
        wait_until_ready(base_url, f"/api/v1/events/{fx.warmup_event_id}", server)
        say("warm-up (not measured): baseline, registrations and scans on a separate event")
        run(base_url, "warm-up", [Job("POST", "/bench/baseline")] * 500, args.rush_clients)
        run(
            base_url,
            "warm-up",
            registration_jobs(fx.warmup_event_id, 400, "warm", rng),
            args.rush_clients,
        )
        with engine.connect() as conn:
            warm_tickets = list(
                conn.scalars(
                    text(
                        "SELECT ticket_secret FROM registrations WHERE event_id = :e AND status = 'confirmed' LIMIT 200"
                    ),
                    {"e": fx.warmup_event_id},
                )
            )
        run(
            base_url,
            "warm-up",
            scan_jobs(fx.warmup_event_id, warm_tickets, 0.1, rng),
            args.scanners,
            headers_for=bearer(fx.tokens),
        )

        say(f"baseline: {args.rush_requests} × POST /bench/baseline, {args.rush_clients} clients")
        measured(
            "baseline_50", [Job("POST", "/bench/baseline")] * args.rush_requests, args.rush_clients
        )
        say(
            f"rush: {args.rush_requests} registrations, {args.rush_clients} clients, {args.capacity} places"
        )
        rush_jobs = registration_jobs(fx.rush_event_id, args.rush_requests, "rush", rng)
        spy = start_py_spy(server, args.profile_dir / "rush-cpu.raw") if args.cpu_profile else None
        measured("rush", rush_jobs, args.rush_clients, keep_bodies=True)
        stop_py_spy(spy)
        measured(
            "baseline_50_after",
            [Job("POST", "/bench/baseline")] * args.rush_requests,
            args.rush_clients,
        )
        door_jobs = scan_jobs(fx.door_event_id, fx.tickets, args.duplicates, rng)
        say(f"baseline: {len(door_jobs)} × POST /bench/baseline, {args.scanners} clients")
        measured("baseline_10", [Job("POST", "/bench/baseline")] * len(door_jobs), args.scanners)
        say(
            f"door: {len(fx.tickets)} tickets + {len(door_jobs) - len(fx.tickets)} repeats, {args.scanners} scanners"
        )
        spy = start_py_spy(server, args.profile_dir / "door-cpu.raw") if args.cpu_profile else None
        measured("door", door_jobs, args.scanners, headers_for=bearer(fx.tokens), keep_bodies=True)
        stop_py_spy(spy)
        measured(
            "baseline_10_after", [Job("POST", "/bench/baseline")] * len(door_jobs), args.scanners
        )
        if args.paced_rate:
            # What a visitor waits at a steady load below the maximum (events of their own).
            say(
                f"paced: {args.paced_registrations} registrations at {args.paced_rate:g}/s (up to {args.rush_clients} "
                f"at once), {args.capacity} places"
            )
            paced_rush_jobs = registration_jobs(
                fx.paced_rush_event_id, args.paced_registrations, "paced", rng
            )
            measured(
                "rush_paced",
                paced_rush_jobs,
                args.rush_clients,
                keep_bodies=True,
                rate=args.paced_rate,
            )
            say(
                f"paced: {len(fx.paced_tickets)} scans at {args.paced_rate:g}/s (up to {args.scanners} at once)"
            )
            paced_door_jobs = scan_jobs(fx.paced_door_event_id, fx.paced_tickets, 0.0, rng)
            measured(
                "door_paced",
                paced_door_jobs,
                args.scanners,
                headers_for=bearer(fx.tokens),
                keep_bodies=True,
                rate=args.paced_rate,
            )
    finally:
        say("stopping gunicorn")
        stop_server(server)

    for r in runs.values():
        for error in r.errors[:5]:
            print(f"! {r.name}: {error}")
    results = {
        "started": stamp,
        "cores": cores,
        "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads,
        "ratelimit_storage": args.ratelimit_storage,
        "database_url": args.database_url,
        "runs": {
            name: {
                **r.summary(),
                "busy_before": round(busy_before.get(name, 0.0), 3),
                "app_cpu_ms": cpu[name]["app"],
                "db_cpu_ms": cpu[name]["db"],
            }
            for name, r in runs.items()
        },
        "verify": {
            "rush": verify_rush(
                engine, fx.rush_event_id, args.capacity, runs["rush"], args.rush_requests
            ),
            "door": verify_door(
                engine,
                fx.door_event_id,
                len(fx.tickets),
                fx.door_people,
                runs["door"],
                len(door_jobs) - len(fx.tickets),
            ),
        },
    }
    if "rush_paced" in runs:
        results["verify"]["rush_paced"] = verify_rush(
            engine,
            fx.paced_rush_event_id,
            args.capacity,
            runs["rush_paced"],
            args.paced_registrations,
        )
        results["verify"]["door_paced"] = verify_door(
            engine,
            fx.paced_door_event_id,
            len(fx.paced_tickets),
            fx.paced_door_people,
            runs["door_paced"],
            0,
        )
    engine.dispose()
    results["ratios"] = {
        "rush": round(
            results["runs"]["rush"]["throughput_rps"]
            / baseline_rps(results["runs"], "baseline_50"),
            3,
        ),
        "door": round(
            results["runs"]["door"]["throughput_rps"]
            / baseline_rps(results["runs"], "baseline_10"),
            3,
        ),
    }

    if args.stats_url:
        results["stats"] = ministry_totals(args.stats_url, args.stats_runs, say)
    if args.profile:
        say(f"profile: {args.profile_dir}/combined.txt, combined.html, sql.txt")
        print(profile_report(args.profile_dir))
    if args.cpu_profile:
        for part in ("rush", "door"):
            print(f"\n{part}: CPU profile (py-spy, {args.profile_dir.name}/{part}-cpu.txt)")
            print(cpu_profile_report(args.profile_dir / f"{part}-cpu.raw"))

    text_report = report(results)
    print()
    print(text_report)
    path = RESULTS / f"load-{stamp}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    say(f"results: {path.relative_to(ROOT)}")
    failed = [
        name for part in results["verify"].values() for name, ok in part["checks"].items() if not ok
    ]
    return 1 if failed else 0


def ministry_totals(url: str, runs: int, say) -> dict:
    import national_data
    import stats_bench

    built = None
    national_data.ensure_database(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        has_data = conn.scalar(
            text("SELECT to_regclass('public.event_stats') IS NOT NULL")
        ) and conn.scalar(text("SELECT EXISTS (SELECT 1 FROM registrations)"))
    engine.dispose()
    if not has_data:
        say(
            f"totals: building the national data set in {url} (10,000 events, 1,000,000 registrations)"
        )
        started = time.monotonic()
        national_data.build_schema(url)
        national_data.fill(url, 10_000, 1_000_000)
        built = time.monotonic() - started
    say(f"totals: bench/stats_bench.py on {url}, median of {runs}")
    result = stats_bench.measure(url, runs)
    result["built_s"] = built
    return result


if __name__ == "__main__":
    sys.exit(main())
