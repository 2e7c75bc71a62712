"""eventsvc: registration for public community events.

create_app() builds the Flask app: config → logging → extensions → request log → blueprints
→ CLI → the embedded run's mail thread.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import i18n, transactions
from .config import load_config
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .logs import ExcInfo, configure_logging

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"


class App(Flask):
    def log_exception(self, exc_info: ExcInfo) -> None:
        from .web import request_log

        request_log.log_exception(self, exc_info)  # Flask's own names the path, and its token


def create_app(config: dict | None = None) -> Flask:
    app = App(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config(app.instance_path, overrides=config))
    if not app.testing:  # under pytest, pytest collects the records
        configure_logging(app.config["EVENTSVC_LOG_LEVEL"])

    # Ids in URLs are database integers: a larger number is simply not found (never a 500).
    app.url_map.converters["int"] = DatabaseId
    if app.config["EVENTSVC_PROXY_HOPS"]:
        # Behind nginx: the client's address (for rate limits) and scheme come from it.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Werkzeug's way to wrap it
            app.wsgi_app, x_for=app.config["EVENTSVC_PROXY_HOPS"], x_proto=1, x_host=1
        )

    db.init_app(app)
    _limit_lock_waits(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    limiter.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    i18n.init_app(app)
    _init_login(app)

    from .web import register_blueprints, request_log

    request_log.init_app(app)

    register_blueprints(app)
    if app.config["EVENTSVC_BENCH_BASELINE"]:
        from .web import bench_baseline

        bench_baseline.init_app(app)
    from .web import boundary

    boundary.init_app(app)  # last: every view above runs in one unit of work

    from .cli import register_cli

    register_cli(app)
    _start_embedded_mail_thread(app)
    return app


def _start_embedded_mail_thread(app: Flask) -> None:
    """`make run` needs no mail worker process: with the development mailbox, a thread of
    the app delivers (started by the first request; never in production, where MAIL_SERVER
    is set and `flask mail worker` runs)."""
    from .web import dev_mailbox

    dev_mailbox.start_inprocess_worker(app)


class DatabaseId(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _init_login(app: Flask) -> None:
    from flask import request, session
    from flask_babel import lazy_gettext as _l
    from flask_login import current_user

    from .services import sessions
    from .timezones import utcnow

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"  # a request, not a "Done:"
    # No address-and-browser fingerprint: a door phone changes networks all day. A session
    # is ended on the server instead (services/sessions.py).
    login_manager.session_protection = None
    # The session cookie and the remember cookie carry the sign-in's own secret, never the
    # account's id (User.session_secret_for_cookie).
    login_manager.id_attribute = "session_secret_for_cookie"

    @login_manager.user_loader
    def load_user(secret: str):
        now = utcnow()
        user = sessions.user_for_secret(secret, now)
        if (
            user is not None
            and user.current_session is not None
            and sessions.touch(user.current_session, now)
        ):
            # "Last seen" (at most once a minute), before the view: nothing else is pending.
            transactions.commit()
        return user

    @app.before_request
    def load_signed_in_user() -> None:
        # The account is loaded before the view runs, so that the commit of "last seen"
        # above never carries a view's half-done work.
        remember_cookie = app.config["REMEMBER_COOKIE_NAME"]
        if request.endpoint == "static" or (
            "_user_id" not in session and remember_cookie not in request.cookies
        ):
            return
        if not current_user.is_authenticated:
            # An ended or expired session: the browser forgets its cookies, and later
            # requests need not look them up again.
            session.pop("_user_id", None)
            if remember_cookie in request.cookies:
                session["_remember"] = "clear"


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
