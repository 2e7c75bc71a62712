"""Shared fixtures.

The schema is built once per database by running the Alembic migrations (down and up
again, so both directions are proven); each test then starts from empty tables. Tests that
need the database run on SQLite, and also on PostgreSQL when EVENTSVC_TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from eventsvc import create_app
from eventsvc.extensions import db as _db
from eventsvc.models import Base
from eventsvc.timezones import utcnow

from . import factories

POSTGRES_URL = os.environ.get("EVENTSVC_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    if request.param == "postgresql":
        url = POSTGRES_URL
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-of-sufficient-length-123456",
            "SQLALCHEMY_DATABASE_URI": url,
            # Any mail sent by accident goes nowhere real and fails the test.
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": 9,
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
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def post_form(client, url: str, data: dict, form_url: str | None = None):
    """Submit a form the way a browser does: fetch its page, then post with its token."""
    token = csrf_from(client, form_url or url)
    return client.post(url, data={**data, "csrf_token": token})


@pytest.fixture
def in_days(now):
    return lambda days, hours=0: now + timedelta(days=days, hours=hours)
