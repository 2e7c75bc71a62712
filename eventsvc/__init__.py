"""eventsvc: registration for public community events.

create_app() builds the Flask app: config → extensions → blueprints → CLI.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import i18n
from .config import load_config
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config(app.instance_path, overrides=config))

    # Ids in URLs are database integers: a larger number is simply not found (never a 500).
    app.url_map.converters["int"] = DatabaseId
    if app.config["EVENTSVC_PROXY_HOPS"]:
        # Behind nginx: the client's address (for rate limits) and scheme come from it.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["EVENTSVC_PROXY_HOPS"], x_proto=1, x_host=1
        )

    db.init_app(app)
    _limit_lock_waits(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    mail.init_app(app)
    limiter.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    i18n.init_app(app)
    _init_login(app)

    from .web import register_blueprints

    register_blueprints(app)
    if app.config["EVENTSVC_BENCH_BASELINE"]:
        from .web import bench_baseline

        bench_baseline.init_app(app)
    from .web import boundary

    boundary.init_app(app)  # last: every view above runs in one unit of work

    from .cli import register_cli

    register_cli(app)
    return app


class DatabaseId(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from .models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        # "id:fingerprint" (User.get_id): a session or remember cookie from before the
        # password changed no longer signs anyone in.
        number, _, fingerprint = user_id.partition(":")
        user = (
            db.session.get(User, int(number))
            if number.isascii() and number.isdigit() and len(number) < 10
            else None
        )
        if user is None or not secrets.compare_digest(fingerprint, user.password_fingerprint()):
            return None
        return user


@sa_event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys only when asked."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _limit_lock_waits(app: Flask) -> None:
    """Each new connection waits at most EVENTSVC_LOCK_TIMEOUT_MS for a lock (read when it
    connects): PostgreSQL's lock_timeout, SQLite's busy timeout (it waits for the writer).
    A request that waited that long answers 503 "try again" (web/unavailable.py)."""
    with app.app_context():
        engine = db.engine

    def milliseconds() -> int:
        return int(app.config["EVENTSVC_LOCK_TIMEOUT_MS"])

    if engine.dialect.name == "postgresql":

        @sa_event.listens_for(engine, "do_connect")
        def lock_timeout(dialect, connection_record, cargs, cparams) -> None:
            # A startup option: no statement to send (and none a rollback could undo).
            options = cparams.get("options", "")
            cparams["options"] = f"{options} -c lock_timeout={milliseconds()}".strip()

    elif engine.dialect.name == "sqlite":

        @sa_event.listens_for(engine, "connect")
        def busy_timeout(dbapi_connection, connection_record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={milliseconds() or 2**31 - 1}")  # 0: no limit
            cursor.close()
