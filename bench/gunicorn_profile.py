"""gunicorn settings for `load_bench.py --profile`: every worker runs pyinstrument (wall
clock, so time spent waiting for PostgreSQL and for row locks shows too) and counts the SQL
each request sends. On exit each worker saves its session and counts under
BENCH_PROFILE_DIR; load_bench.py combines them into one report.

    gunicorn -c bench/gunicorn_profile.py --workers 4 wsgi:app
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

OUT = Path(os.environ.get("BENCH_PROFILE_DIR", "bench/results/profile"))
ENDPOINTS = [
    ("registration", re.compile(r"^/api/v1/events/\d+/registrations$")),
    ("checkin", re.compile(r"^/api/v1/events/\d+/checkins$")),
    ("baseline", re.compile(r"^/bench/baseline$")),
]
_state: dict = {}


def _endpoint(path: str) -> str:
    return next((name for name, pattern in ENDPOINTS if pattern.match(path)), "other")


def _shape(statement: str) -> str:
    """A statement without its literals and column lists, short enough to group by."""
    statement = " ".join(statement.split())
    statement = re.sub(r"^SELECT .*? FROM", "SELECT … FROM", statement)
    statement = re.sub(r"\(%\(.*?\)s(, %\(.*?\)s)*\)", "(…)", statement)
    statement = re.sub(r"%\(\w+\)s", "?", statement)
    return statement[:150]


def post_fork(server, worker):
    from pyinstrument import Profiler
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    _state.update(
        requests=Counter(), statements=defaultdict(Counter), checkouts=Counter(), current=None
    )

    @event.listens_for(Engine, "before_cursor_execute")
    def count_statement(conn, cursor, statement, parameters, context, executemany):
        if _state["current"]:
            _state["statements"][_state["current"]][_shape(statement)] += 1

    @event.listens_for(Engine, "commit")
    def count_commit(conn):
        if _state["current"]:
            _state["statements"][_state["current"]]["COMMIT"] += 1

    @event.listens_for(Pool, "checkout")
    def count_checkout(dbapi_connection, record, proxy):
        # pool_pre_ping: every checkout costs one round trip ("ping") before the first query.
        if _state["current"]:
            _state["checkouts"][_state["current"]] += 1

    profiler = Profiler(interval=0.001)
    profiler.start()
    _state["profiler"] = profiler


def pre_request(worker, req):
    _state["current"] = _endpoint(req.path)
    _state["requests"][_state["current"]] += 1


def post_request(worker, req, environ, resp):
    _state["current"] = None


def worker_exit(server, worker):
    profiler = _state.get("profiler")
    if profiler is None:
        return
    session = profiler.stop()
    OUT.mkdir(parents=True, exist_ok=True)
    session.save(str(OUT / f"worker-{os.getpid()}.pyisession"))
    counts = {
        "requests": dict(_state["requests"]),
        "checkouts": dict(_state["checkouts"]),
        "statements": {k: dict(v) for k, v in _state["statements"].items()},
    }
    (OUT / f"worker-{os.getpid()}.sql.json").write_text(json.dumps(counts, indent=1))
