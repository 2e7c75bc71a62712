"""The benchmark's baseline: one INSERT and a commit (by the request's boundary), through the same app, extensions and
hooks as every other endpoint (bench/load_bench.py). It shows what this stack (gunicorn,
Flask, SQLAlchemy, PostgreSQL) can do on the machine at best, so that the real endpoints can
be reported as a ratio of it.

Registered only when EVENTSVC_BENCH_BASELINE=1 (config "EVENTSVC_BENCH_BASELINE"); otherwise
the route does not exist. The table is made by the bench itself, not by a migration:

    CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from ..extensions import csrf, db

bp = Blueprint("bench_baseline", __name__, url_prefix="/bench")
TABLE_SQL = "CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())"


@bp.post("/baseline")
def baseline():
    db.session.execute(text("INSERT INTO bench_baseline DEFAULT VALUES"))
    return jsonify(ok=True), 201


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # like the JSON API: no cookie authority
    app.register_blueprint(bp)
