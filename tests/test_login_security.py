"""Staff sessions: throttled sign-in after repeated attempts (per client address and per email
address tried, counted before the password is checked), a fresh session on sign-in, cookies that end with a new password, secure cookie
flags in production and only same-site `next` redirects."""

from __future__ import annotations

import pytest

from eventsvc.config import load_config
from eventsvc.extensions import db as _db
from eventsvc.extensions import limiter
from eventsvc.services import sessions
from eventsvc.services.accounts import UserData, save_user
from eventsvc.timezones import utcnow
from eventsvc.web.auth import safe_next

from . import factories
from .conftest import TEST_RATE_LIMIT, csrf_from, login, post_form

WRONG = "not the password at all"


@pytest.fixture
def throttled(app):
    app.config["RATELIMIT_LOGIN"] = "3 per minute;10 per hour"
    app.config["RATELIMIT_LOGIN_PER_EMAIL"] = "3 per minute;10 per hour"
    limiter.reset()
    yield
    app.config["RATELIMIT_LOGIN"] = app.config["RATELIMIT_LOGIN_PER_EMAIL"] = TEST_RATE_LIMIT
    limiter.reset()


def attempt(client, email: str, password: str, address: str = "127.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base=environ,
    )


def test_failures_from_one_address_are_throttled(client, world, throttled):
    assert [attempt(client, "a@example.lv", WRONG).status_code for _ in range(3)] == [422, 422, 422]
    blocked = attempt(
        client, world.organiser_a.email, factories.PASSWORD
    )  # even the right password now
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "Pārāk daudz neveiksmīgu pieteikšanās mēģinājumu" in page  # Latvian by default, clear
    assert 'name="csrf_token"' in page and 'id="email"' in page  # the form is still there
    assert 'value="a@example.lv"' in page and WRONG not in page
    assert client.get("/login").status_code == 200  # looking at the form is not limited
    # Another address is not affected (for another account: a@example.lv itself is throttled too).
    assert (
        attempt(client, world.organiser_b.email, factories.PASSWORD, "10.9.8.7").status_code == 302
    )


def test_failures_for_one_email_are_throttled_from_any_address(client, world, throttled):
    for n in range(3):
        assert attempt(client, "A@example.lv ", WRONG, f"10.0.0.{n}").status_code == 422
    assert attempt(client, "a@example.lv", factories.PASSWORD, "10.0.0.99").status_code == 429
    # Another account from that address signs in.
    assert (
        attempt(client, world.organiser_b.email, factories.PASSWORD, "10.0.0.99").status_code == 302
    )


def test_the_message_is_translated(client, world, throttled):
    client.set_cookie("lang", "en")
    for _ in range(3):
        attempt(client, "a@example.lv", WRONG)
    assert "Too many failed sign-in attempts" in attempt(client, "a@example.lv", WRONG).get_data(
        as_text=True
    )
    client.set_cookie("lang", "ru")
    page = attempt(client, "a@example.lv", WRONG).get_data(as_text=True)
    assert "Too many failed" not in page and "Слишком много" in page


def test_a_parallel_burst_of_guesses_cannot_slip_past_the_limit(app, client, world, throttled):
    """Each attempt is counted before its password is checked: 12 guesses sent at once get at
    most 3 password checks (the limit), the rest 429, whatever the timing."""
    import threading

    pages = []
    for _ in range(12):
        client = (
            app.test_client()
        )  # each its own session, in its own app context (FreshContextClient)
        page = client.get("/login").get_data(as_text=True)
        pages.append(
            (client, page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0])
        )
    statuses, start = [], threading.Barrier(12)

    def guess(client, token):
        start.wait()
        statuses.append(
            client.post(
                "/login", data={"email": "a@example.lv", "password": WRONG, "csrf_token": token}
            ).status_code
        )

    threads = [threading.Thread(target=guess, args=pair) for pair in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [422] * 3 + [429] * 9


# --- the session ---------------------------------------------------------------------------


def test_sign_in_starts_a_fresh_session(client, world):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone before sign-in"
        session["_user_id"] = "forged"
    login(client, world.organiser_a.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        secret = session["_user_id"]
    # The session holds the secret of a new server-side session of this account (see
    # test_sessions.py), never something planted before the sign-in.
    assert secret != "forged"
    assert sessions.user_for_secret(secret, utcnow()).id == world.organiser_a.id


def test_cookie_flags(app, client, world, monkeypatch):
    token = csrf_from(client, "/login")
    response = client.post(
        "/login",
        data={
            "email": "a@example.lv",
            "password": factories.PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
    )
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
        assert "Secure" not in cookies[name]  # plain HTTP in development
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_SECURE", True)
    other = app.test_client()
    token = csrf_from(other, "/login")
    response = other.post(
        "/login",
        data={
            "email": "a@example.lv",
            "password": factories.PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
    )
    assert all("Secure" in c for c in response.headers.getlist("Set-Cookie"))


def test_production_settings_secure_the_cookies(tmp_path):
    config = load_config(
        str(tmp_path),
        env={
            "EVENTSVC_ENV": "production",
            "EVENTSVC_SECRET_KEY": "x" * 40,
            "EVENTSVC_DATABASE_URL": "postgresql+psycopg://x/y",
            "MAIL_SERVER": "smtp.example.lv",
            "EVENTSVC_PUBLIC_URL": "https://pasakumi.example.lv",
        },
    )
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["REMEMBER_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["ENV_NAME"] == "production" and config["PREFERRED_URL_SCHEME"] == "https"
    development = load_config(str(tmp_path), env={})
    assert not development["SESSION_COOKIE_SECURE"]


def test_a_new_password_ends_sessions_and_remember_cookies(app, client, world):
    token = csrf_from(client, "/login")
    client.post(
        "/login",
        data={
            "email": "a@example.lv",
            "password": factories.PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
    )
    remembered = client.get_cookie("remember_token").value
    door_phone = app.test_client()  # a phone that kept only the "keep me signed in" cookie
    door_phone.set_cookie("remember_token", remembered)
    assert door_phone.get("/manage/").status_code == 200
    assert client.get("/manage/").status_code == 200

    # An administrator's reset (the password form on the account page: test_sessions.py).
    save_user(
        world.admin,
        UserData(
            world.organiser_a.email,
            world.organiser_a.name,
            world.organiser_a.role,
            list(world.organiser_a.organisations),
            password="a brand new password 2026",
        ),
        world.organiser_a,
    )
    _db.session.commit()
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remembered)
    assert fresh.get("/manage/").status_code == 302  # the old cookie signs no one in
    assert client.get("/manage/").status_code == 302  # nor does the old session
    login(client, world.organiser_a.email, "a brand new password 2026")


# --- next -------------------------------------------------------------------------------------

EVIL_NEXT = [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "\\evil.example",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,x",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "evil.example",
    "manage/",
    "",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_safe_next_refuses(target):
    assert safe_next(target) is None


def test_safe_next_keeps_own_paths():
    for target in ("/manage/", "/manage/events/3/checkin?q=anna", "/stats/?municipality=1#table"):
        assert safe_next(target) == target


def test_login_never_redirects_off_site(client, world):
    from urllib.parse import quote

    for evil in (
        "\\evil.example",
        "/\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "/%09/evil.example",
    ):
        token = csrf_from(client, "/login")
        response = client.post(
            f"/login?next={quote(evil, safe='%')}",
            data={"email": "a@example.lv", "password": factories.PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302 and response.location == "/manage/", evil
        post_form(client, "/logout", {}, form_url="/manage/")
