"""When the database cannot do its part now, the answer is 503 "try again" with Retry-After and
a message in the user's language, never a 500 or a hang, and nothing of the request is kept:
a lock held too long (EVENTSVC_LOCK_TIMEOUT_MS), or the database unreachable."""

from __future__ import annotations

import html
import re
import socket
import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from eventsvc.extensions import db as _db
from eventsvc.models import AuditEntry, CheckIn, OutboxMessage, Registration
from eventsvc.services import registration as rules

from . import factories
from .conftest import csrf_from, login

# Browser pages look the same whichever database is behind them: these run once, on SQLite.
on_sqlite = pytest.mark.parametrize("app", ["sqlite"], indirect=True)

BUSY_LV = "Šobrīd to pašu dara daudz cilvēku. Lūdzu, mēģiniet vēlreiz pēc dažām sekundēm."
BUSY_RU = (
    "Сейчас то же самое делают очень многие. Пожалуйста, попробуйте ещё раз через несколько секунд."
)
NOT_SAVED_LV = "Nosūtītais nav saglabāts."
AWAY_LV = "Pakalpojums īslaicīgi nav pieejams. Lūdzu, mēģiniet vēlreiz pēc minūtes."
AWAY_RU = "Сервис временно недоступен. Пожалуйста, попробуйте ещё раз через минуту."


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=20)


@pytest.fixture
def short_lock_wait(app):
    """Requests wait 0.3 s for a lock (new connections read the setting when they connect)."""
    saved = app.config["EVENTSVC_LOCK_TIMEOUT_MS"]
    app.config["EVENTSVC_LOCK_TIMEOUT_MS"] = 300
    _db.session.commit()  # the test's connection goes back to the pool before it is emptied
    _db.engine.dispose()
    yield
    app.config["EVENTSVC_LOCK_TIMEOUT_MS"] = saved
    _db.session.commit()
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


# --- the database unreachable ------------------------------------------------------------


def _cut_connections(url: str) -> None:
    """PostgreSQL ends every session of the test database but this one (as a restart does)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()


class Database:
    """Takes the database away from the running app and brings it back, without touching the
    app: the connections it holds are cut (PostgreSQL) or closed (a SQLite file has no
    server), and each new one fails as the driver fails when nothing answers: a port nobody
    listens on, a file in a folder that is not there."""

    def __init__(self, app, tmp_path):
        self.engine = _db.engine
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.missing = str(tmp_path / "gone" / "eventsvc.sqlite")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.closed_port = s.getsockname()[1]
        self.is_down = False

    def _unreachable(self, dialect, record, cargs, cparams):
        if self.url.startswith("sqlite"):
            cargs[0] = self.missing
        else:
            cparams.update(host="127.0.0.1", port=self.closed_port)

    def down(self):
        _db.session.close()  # the test's own session lets go of its connection first
        sa_event.listen(self.engine, "do_connect", self._unreachable)
        self.is_down = True
        if self.url.startswith("sqlite"):
            self.engine.dispose()
        else:
            _cut_connections(self.url)  # the pool still holds them: pool_pre_ping must notice

    def back(self):
        if self.is_down:
            sa_event.remove(self.engine, "do_connect", self._unreachable)
            self.is_down = False


@pytest.fixture
def database(app, db, tmp_path):
    state = Database(app, tmp_path)
    yield state
    state.back()


def test_while_the_database_is_away_every_answer_is_503_then_all_is_well_again(
    app, client, world, event, database
):
    event_id, email = event.id, world.organiser_a.email
    organiser = app.test_client()
    login(organiser, email)
    login_token = csrf_from(client, "/login")

    database.down()
    for path in ("/", f"/events/{event_id}", "/calendar.ics"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert retry_after(response) == 30
        assert AWAY_LV in response.get_data(as_text=True), path
    sign_in = client.post(
        "/login",
        data={"csrf_token": login_token, "email": email, "password": "x" * 12},
    )
    assert sign_in.status_code == 503
    assert NOT_SAVED_LV in sign_in.get_data(as_text=True)
    api = client.get("/api/v1/events", headers={"Accept-Language": "ru"})
    assert api.status_code == 503 and retry_after(api) == 30
    assert api.json == {"error": {"code": "unavailable", "message": AWAY_RU}}
    client.set_cookie("lang", "ru")
    assert AWAY_RU in client.get("/").get_data(as_text=True)
    assert organiser.get("/manage/").status_code == 503  # who is signed in: not knowable now
    door = organiser.get(f"/api/v1/events/{event_id}/checkins/state")
    assert door.status_code == 503 and door.json["error"]["code"] == "unavailable"

    database.back()  # no restart: the first requests after it are answered as usual
    assert client.get("/").status_code == 200
    assert organiser.get("/manage/").status_code == 200  # still signed in
    assert organiser.get(f"/api/v1/events/{event_id}/checkins/state").status_code == 200


def test_after_a_restart_nobody_gets_the_connections_it_broke(app, client, world, event):
    """PostgreSQL restarted while the app was idle: the pool still holds the connections it
    ended, and the first request after it is answered as usual all the same (pool_pre_ping
    tries each before use). A SQLite file has no server to restart."""
    event_id = event.id
    organiser = app.test_client()
    login(organiser, world.organiser_a.email)
    assert client.get(f"/events/{event_id}").status_code == 200
    _db.session.close()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        _cut_connections(app.config["SQLALCHEMY_DATABASE_URI"])
    assert client.get(f"/events/{event_id}").status_code == 200
    assert organiser.get("/manage/").status_code == 200


def _form_fields(page: str) -> dict[str, str]:
    """The values a browser would send from the kept form (text inputs, the chosen option,
    the ticked box, the textarea)."""
    fields = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name is None or (kind and kind.group(1) == "checkbox" and "checked" not in tag):
            continue
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text_ in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\s*([^<]*)</textarea>', page):
        fields[name] = html.unescape(text_.strip())
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', options
        )
        fields[name] = next(v for v in chosen.groups() if v is not None)
    return fields


def test_the_registration_form_comes_back_as_typed_and_goes_through_later(client, event, database):
    event_id = event.id
    page = f"/events/{event_id}"
    typed = {
        "name": "Līga Bērziņa",
        "email": "liga@example.lv",
        "phone": "+371 2000 1111",
        "party_size": "3",
        "needs": "ratiņkrēsls & asistents",
        "language": "ru",
        "consent": "y",
        "website": "",
    }
    token = csrf_from(client, page)

    database.down()
    response = client.post(f"{page}/register", data={**typed, "csrf_token": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and retry_after(response) == 30
    assert AWAY_LV in body and NOT_SAVED_LV in body
    kept = _form_fields(body)
    assert {name: kept.get(name) for name in typed} == typed

    database.back()
    assert stored() == (0, 0, 0)
    again = client.post(f"{page}/register", data=kept)  # the kept form, sent again
    assert again.status_code == 302 and again.location.endswith(f"/events/{event_id}/registered")
    registration = _db.session.scalar(select(Registration))
    assert (registration.name, registration.party_size, registration.needs) == (
        "Līga Bērziņa",
        3,
        "ratiņkrēsls & asistents",
    )


def test_a_commit_that_fails_answers_503_and_takes_back_what_it_told_the_browser(
    app, client, event, short_lock_wait
):
    """The commit itself fails, after the view has done everything: PostgreSQL loses the
    connection at that moment; SQLite cannot get its lock to commit (a reader holds the
    file). The answer is 503, never the view's 302 "you are registered", nothing is stored,
    and the browser's session does not keep the view's "you are registered" note either."""
    event_id = event.id
    page = f"/events/{event_id}"
    form = {
        "csrf_token": csrf_from(client, page),
        "name": "Jānis Ozols",
        "phone": "+371 2000 2222",  # no email: the answer would be a flash and the manage page
        "party_size": "1",
        "language": "lv",
        "consent": "y",
    }
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    readers, pids = [], []

    def fail_the_commit(session):
        if readers or pids:
            return  # only the registration's commit, the one request made meanwhile
        if url.startswith("sqlite"):
            reader = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM events").fetchall()  # holds the file shared
            readers.append(reader)
        else:
            pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            pids.append(pid)
            engine = create_engine(url)
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            engine.dispose()

    before = stored()
    sa_event.listen(Session, "before_commit", fail_the_commit)
    try:
        response = client.post(f"{page}/register", data=form)
    finally:
        sa_event.remove(Session, "before_commit", fail_the_commit)
        for reader in readers:
            reader.execute("ROLLBACK")
            reader.close()
    assert response.status_code == 503 and retry_after(response) in (5, 30)
    assert stored() == before
    assert "Jānis Ozols" in response.get_data(as_text=True)  # the form, kept
    told = "Reģistrācija izdevās"  # the view's flash, "You are registered"
    assert told not in response.get_data(as_text=True)
    assert told not in client.get("/").get_data(as_text=True)


@on_sqlite
def test_the_door_queues_a_scan_answered_503_and_sends_it_when_the_database_is_back(
    world, in_days, now, live_server, browser, database
):
    """On the phone (390×844): a scan the server answers with 503 is kept in the offline
    queue, as without a connection, and reaches the server once the database is back."""
    event = factories.event(world.org_a, in_days(1), capacity=20)
    anna = rules.register(
        event.id, factories.registration_request(name="Anna Bērziņa", party_size=2), now
    ).registration
    _db.session.commit()
    event_id, anna_id, code = event.id, anna.id, anna.ticket_secret
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", world.organiser_a.email)
    page.fill("#password", factories.PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/manage/")
    page.goto(f"{live_server}/manage/events/{event_id}/checkin")
    page.wait_for_selector("#door[data-list-size='1']")

    database.down()
    page.fill("#code", code)
    page.press("#code", "Enter")
    page.wait_for_selector("#connection[data-waiting='1']")  # queued on the phone
    assert "Anna Bērziņa" in page.inner_text("#result")
    assert "result-ok" in page.get_attribute("#result", "class")

    database.back()  # the page tries again by itself (every 10 s) and sends its queue
    page.wait_for_selector("#connection.is-online[data-waiting='0']", timeout=30_000)
    context.close()
    assert list(_db.session.scalars(select(CheckIn.registration_id))) == [anna_id]


@on_sqlite
@pytest.mark.parametrize("language", ["lv", "ru", "en"])
def test_the_pages_of_a_database_away_pass_axe(language, event, live_server, browser, database):
    from .test_accessibility import axe_violations, new_page

    context, page = new_page(browser, live_server, language, viewport={"width": 390, "height": 844})
    page.goto(f"{live_server}/events/{event.id}")
    page.fill("#name", "Anna Bērziņa")
    page.fill("#email", "anna@example.lv")
    page.check("#consent")
    database.down()
    page.click("form.form button[type=submit]")
    page.wait_for_selector("h1")
    assert page.input_value("#name") == "Anna Bērziņa"
    found = {"the form kept": axe_violations(page)}
    page.goto(f"{live_server}/")
    found["the error page"] = axe_violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}


@on_sqlite
def test_the_door_page_reloaded_while_the_database_is_away_comes_from_the_phone(
    world, in_days, live_server, browser, database
):
    """Its service worker answers a 503 for the door page with the copy it keeps, as offline."""
    from .conftest import wait_for_js

    event_id, email = factories.event(world.org_a, in_days(1)).id, world.organiser_a.email
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/manage/")
    page.goto(f"{live_server}/manage/events/{event_id}/checkin")
    wait_for_js(page, "navigator.serviceWorker.controller !== null")
    page.reload()  # fetched through the service worker now, which keeps a copy
    page.wait_for_selector("#door[data-list-size]")
    database.down()
    page.reload()
    page.wait_for_selector("#code")  # the door page, not the error page
    page.wait_for_selector("#connection:not(.is-online)")
    context.close()
