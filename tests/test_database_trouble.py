"""When the database cannot do its part now, the answer is 503 "try again" with Retry-After and
a message in the user's language, never a 500 or a hang, and nothing of the request is kept:
a lock held too long (EVENTSVC_LOCK_TIMEOUT_MS), or the database unreachable."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, func, select, text

from eventsvc.extensions import db as _db
from eventsvc.models import AuditEntry, OutboxMessage, Registration

from . import factories
from .conftest import csrf_from

BUSY_LV = "Šobrīd to pašu dara daudz cilvēku. Lūdzu, mēģiniet vēlreiz pēc dažām sekundēm."
BUSY_RU = (
    "Сейчас то же самое делают очень многие. Пожалуйста, попробуйте ещё раз через несколько секунд."
)
NOT_SAVED_LV = "Nosūtītais nav saglabāts."


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=20)


@pytest.fixture
def short_lock_wait(app):
    """Requests wait 0.3 s for a lock (new connections read the setting when they connect)."""
    saved = app.config["EVENTSVC_LOCK_TIMEOUT_MS"]
    app.config["EVENTSVC_LOCK_TIMEOUT_MS"] = 300
    _db.engine.dispose()
    yield
    app.config["EVENTSVC_LOCK_TIMEOUT_MS"] = saved
    _db.engine.dispose()


def retry_after(response) -> int:
    """Seconds to wait; on a rate-limited route Flask-Limiter writes the same moment again,
    counted from a little later (rounded down)."""
    seconds = int(response.headers["Retry-After"])
    return seconds + 1 if seconds in (4, 29) else seconds


def stored() -> tuple[int, int, int]:
    _db.session.expire_all()
    return tuple(
        _db.session.scalar(select(func.count()).select_from(model))
        for model in (Registration, OutboxMessage, AuditEntry)
    )


def holding_the_event(app, event_id: int):
    """Another connection holds the event's lock (FOR UPDATE on PostgreSQL, the write lock on
    SQLite) in a thread of its own until the returned `release()` is called."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    held, done = threading.Event(), threading.Event()

    def hold():
        if url.startswith("sqlite"):
            other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            done.wait(30)
            other.execute("ROLLBACK")
            other.close()
            return
        engine = create_engine(url)
        with engine.connect() as other:
            other.execute(text("SELECT id FROM events WHERE id = :id FOR UPDATE"), {"id": event_id})
            held.set()
            done.wait(30)
            other.rollback()
        engine.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)

    def release():
        done.set()
        thread.join(30)

    return release


def test_a_lock_held_too_long_answers_the_api_try_again(app, client, event, short_lock_wait):
    before = stored()
    release = holding_the_event(app, event.id)
    try:
        response = client.post(
            f"/api/v1/events/{event.id}/registrations",
            json={"name": "Anna Bērziņa", "email": "anna@example.lv", "consent": True},
            headers={"Accept-Language": "ru"},
        )
    finally:
        release()
    assert response.status_code == 503
    assert retry_after(response) == 5
    assert response.json["error"]["code"] == "busy"
    assert response.json["error"]["message"].startswith(BUSY_RU)
    assert stored() == before
    # The lock let go, the same request goes through.
    again = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": "Anna Bērziņa", "email": "anna@example.lv", "consent": True},
    )
    assert again.status_code == 201


def test_a_lock_held_too_long_answers_the_page_try_again(app, client, event, short_lock_wait):
    page = f"/events/{event.id}"
    form = {
        "csrf_token": csrf_from(client, page),
        "name": "Jānis Ozols",
        "email": "janis@example.lv",
        "party_size": "2",
        "language": "lv",
        "consent": "y",
    }
    before = stored()
    release = holding_the_event(app, event.id)
    try:
        response = client.post(f"{page}/register", data=form)
    finally:
        release()
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and retry_after(response) == 5
    assert BUSY_LV in body and NOT_SAVED_LV in body
    assert stored() == before
