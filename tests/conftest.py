"""Shared fixtures.

The schema is built once per database by running the Alembic migrations (down and up
again, so both directions are proven); each test then starts from empty tables. Tests that
need the database run on SQLite, and also on PostgreSQL when EVENTSVC_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, make_url, text

from eventsvc import create_app
from eventsvc.extensions import db as _db
from eventsvc.models import Base
from eventsvc.timezones import utcnow

from . import factories

POSTGRES_URL = os.environ.get("EVENTSVC_TEST_DATABASE_URL")
TEST_RATE_LIMIT = "100000 per second"
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own (`test_gw0`, `test_gw1`, …),
    created on first use, so that workers never empty each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    if request.param == "postgresql":
        url = _worker_database(POSTGRES_URL)
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-of-sufficient-length-123456",
            "SQLALCHEMY_DATABASE_URI": url,
            # Any mail sent by accident goes nowhere real and fails the test.
            "EVENTSVC_MAIL_BACKEND": "smtp",
            "EVENTSVC_INPROCESS_MAIL_WORKER": False,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": 9,
            # Rate limits are tested on their own (test_rate_limits.py); elsewhere a high
            # limit keeps the limiter's code running without tests counting each other.
            "RATELIMIT_REGISTRATION": TEST_RATE_LIMIT,
            "RATELIMIT_MANAGE_LINK": TEST_RATE_LIMIT,
            "RATELIMIT_LOGIN": TEST_RATE_LIMIT,
            "RATELIMIT_LOGIN_PER_EMAIL": TEST_RATE_LIMIT,
            # The rushes of test_concurrency.py queue 60 requests on one lock, on a machine
            # shared with other work: they test that nobody is overbooked, not how long a wait
            # may be, so their waits never run out here. test_database_trouble.py shortens it.
            "EVENTSVC_LOCK_TIMEOUT_MS": 30_000,
        }
    )
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def db(app):
    """The database inside an app context, emptied after the test."""
    with app.app_context():
        yield _db
        _db.session.remove()
        _empty_all_tables()


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as it does in production: its own `g` and
    its own database session, not the test's (which would hide stale state and caches)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def now():
    return utcnow()


@pytest.fixture
def world(db, now):
    """Two organisations in two municipalities, each with an organiser, plus ministry and admin."""
    return factories.world(now)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(client, url: str) -> str:
    """The CSRF token of the form on `url`, as a browser would submit it."""
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({response.status_code})"
    return match.group(1)


def login(client, email: str, password: str = factories.PASSWORD):
    token = csrf_from(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def run_at_once(app, *steps) -> list[Exception]:
    """Each step in its own thread with its own app context (its own session and database
    connection), all started together; returns what they raised. Steps order themselves
    with threading.Event where a test needs one to hold a lock while another starts."""
    import threading

    errors: list[Exception] = []

    def run(step):
        try:
            with app.app_context():
                step()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def post_form(client, url: str, data: dict, form_url: str | None = None):
    """Submit a form the way a browser does: fetch its page, then post with its token."""
    token = csrf_from(client, form_url or url)
    return client.post(url, data={**data, "csrf_token": token})


@pytest.fixture
def in_days(now):
    return lambda days, hours=0: now + timedelta(days=days, hours=hours)


# --- mail --------------------------------------------------------------------------------

_allowed_smtp_ports: set[int] = set()


@pytest.fixture(autouse=True)
def no_unexpected_smtp(monkeypatch):
    """Any SMTP connection a test did not ask for (through `smtp_server`) fails the test."""
    import smtplib

    real_connect = smtplib.SMTP.connect

    def guarded_connect(self, host="localhost", port=0, source_address=None):
        if int(port) not in _allowed_smtp_ports:
            pytest.fail(f"unexpected SMTP connection to {host}:{port}")
        return real_connect(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded_connect)


class Inbox:
    """Messages received by the test's SMTP server."""

    def __init__(self):
        self.messages: list[bytes] = []
        # Recipients refused at RCPT, with the reply: "550 5.1.1 …" (for good), "451 …" (now).
        self.refuse: dict[str, str] = {}
        self.envelopes: list[tuple[str, list[str], list[str]]] = []  # from, to, MAIL options

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        self.envelopes.append(
            (envelope.mail_from, list(envelope.rcpt_tos), list(envelope.mail_options))
        )
        return "250 Message accepted for delivery"

    def parsed(self):
        import email
        from email import policy

        return [email.message_from_bytes(raw, policy=policy.default) for raw in self.messages]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    def __init__(self, port: int, smtputf8: bool = False):
        from aiosmtpd.controller import Controller

        self.port = port
        self.inbox = Inbox()
        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8
        )

    def start(self):
        self._controller.start()

    def stop(self):
        self._controller.stop()


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; the app sends to it during the test. It
    does not offer SMTPUTF8 (aiosmtpd's default); `smtputf8_server` does."""
    yield from _serve_smtp(app, smtputf8=False)


@pytest.fixture
def smtputf8_server(app):
    """Like `smtp_server`, offering SMTPUTF8 (addresses with letters beyond ASCII)."""
    yield from _serve_smtp(app, smtputf8=True)


def _serve_smtp(app, smtputf8: bool):
    server = SMTPServer(_free_port(), smtputf8=smtputf8)
    server.start()
    _allowed_smtp_ports.add(server.port)
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "EVENTSVC_MAIL_BACKEND")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, EVENTSVC_MAIL_BACKEND="smtp")
    yield server
    with contextlib.suppress(Exception):  # already stopped by the test
        server.stop()
    _allowed_smtp_ports.discard(server.port)
    app.config.update(saved)


@pytest.fixture
def live_server(app, db):
    """The app served over real HTTP on 127.0.0.1 by a threaded server, for browsers and rushes."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install chromium (the Makefile does this as root)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield LatvianBrowser(browser)
        browser.close()


class LatvianBrowser:
    """Chromium as a Latvian resident's: its pages ask for Latvian (Accept-Language) unless a
    test asks for another locale, since a first visit follows the browser's language."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        options.setdefault("locale", "lv-LV")
        return self._browser.new_context(**options)

    def new_page(self, **options):
        options.setdefault("locale", "lv-LV")
        return self._browser.new_page(**options)

    def __getattr__(self, name):
        return getattr(self._browser, name)


def wait_for_js(page, expression: str, timeout: float = 15.0) -> None:
    """page.wait_for_function, polled from here: Playwright polls a string expression inside
    the page with eval(), which the pages' Content-Security-Policy (rightly) refuses."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)
