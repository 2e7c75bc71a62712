"""Staff sessions kept on the server: sign-out, "sign out everywhere", a new password and a
disabled account end them for every copy of their cookies; a door phone that changes
network stays signed in; each sign-in has its own unguessable secret, stored hashed."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from werkzeug.middleware.proxy_fix import ProxyFix

from eventsvc.extensions import db as _db
from eventsvc.models import ApiToken, AuditEntry, User, UserSession
from eventsvc.services import registration as rules
from eventsvc.services import sessions
from eventsvc.services.accounts import UserData, save_user
from eventsvc.services.api_tokens import create_token

from . import factories
from .conftest import CSRF_RE, csrf_from, login, post_form

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
LAPTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def event(world, in_days):
    event = factories.event(world.org_a, in_days(3), capacity=20)
    _db.session.commit()
    return event


def sign_in(client, email: str, *, remember: bool = False, user_agent: str = PHONE, **environ):
    headers = {"User-Agent": user_agent}
    token = csrf_from(client, "/login")
    data = {"email": email, "password": factories.PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, headers=headers, environ_base=environ)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def cookies_of(client) -> dict[str, str]:
    return {
        name: cookie.value
        for name in ("session", "remember_token")
        if (cookie := client.get_cookie(name)) is not None
    }


def client_with(app, cookies: dict[str, str]):
    """Another browser holding copies of these cookies (as a thief would)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def csv_url(event) -> str:
    return f"/manage/events/{event.id}/registrations.csv"


def offline_url(event) -> str:
    return f"/api/v1/events/{event.id}/checkins/offline"


def refused(client, event) -> bool:
    """The registrations CSV sends to the sign-in page and the door's list answers 401."""
    page = client.get(csv_url(event), headers={"User-Agent": PHONE})
    api = client.get(offline_url(event), headers={"User-Agent": PHONE})
    return page.status_code == 302 and page.location.startswith("/login") and api.status_code == 401


def allowed(client, event) -> bool:
    page = client.get(csv_url(event), headers={"User-Agent": PHONE})
    api = client.get(offline_url(event), headers={"User-Agent": PHONE})
    return page.status_code == 200 and page.mimetype == "text/csv" and api.status_code == 200


def stored_sessions(user) -> int:
    return _db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )


# --- copies of cookies stop working ---------------------------------------------------------


def test_copied_cookies_are_refused_after_sign_out(app, client, world, event):
    sign_in(client, world.organiser_a.email, remember=True)
    copied = cookies_of(client)
    assert set(copied) == {"session", "remember_token"}
    session_copy = client_with(app, {"session": copied["session"]})
    remember_copy = client_with(app, {"remember_token": copied["remember_token"]})
    assert allowed(client, event) and allowed(session_copy, event) and allowed(remember_copy, event)

    response = post_form(client, "/logout", {}, form_url="/manage/")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    # The browser that signed out forgets both cookies …
    assert client.get_cookie("remember_token") is None
    assert refused(client, event)
    # … and copies taken before sign-out open nothing any more.
    for copy in (
        client_with(app, {"session": copied["session"]}),
        client_with(app, {"remember_token": copied["remember_token"]}),
        client_with(app, copied),
    ):
        assert refused(copy, event)
    assert stored_sessions(world.organiser_a) == 0


def test_a_dead_cookie_is_removed_from_the_browser(app, client, world, event):
    sign_in(client, world.organiser_a.email, remember=True)
    copy = client_with(app, cookies_of(client))
    post_form(client, "/logout", {}, form_url="/manage/")
    assert copy.get("/").status_code == 200  # a public page, as before
    assert copy.get_cookie("remember_token") is None
    with copy.session_transaction() as session:
        assert "_user_id" not in session


def test_sign_out_ends_only_that_device(app, client, world, event):
    sign_in(client, world.organiser_a.email)
    laptop = app.test_client()
    sign_in(laptop, world.organiser_a.email, user_agent=LAPTOP)
    post_form(client, "/logout", {}, form_url="/manage/")
    assert refused(client, event)
    assert allowed(laptop, event)


def test_sign_out_everywhere_ends_every_session_and_every_copy(app, client, world, event):
    sign_in(client, world.organiser_a.email, remember=True)
    phone_copy = cookies_of(client)
    laptop = app.test_client()
    sign_in(laptop, world.organiser_a.email, user_agent=LAPTOP, remember=True)
    laptop_copy = cookies_of(laptop)
    other_user = app.test_client()
    sign_in(other_user, world.organiser_b.email)

    page = laptop.get("/account/", headers={"User-Agent": LAPTOP}).get_data(as_text=True)
    assert "Sign out everywhere" in page or "Iziet visās ierīcēs" in page
    response = post_form(laptop, "/account/sessions/end", {}, form_url="/account/")
    assert response.status_code == 302 and response.location == "/"
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'

    for browser in (client, laptop, client_with(app, phone_copy), client_with(app, laptop_copy)):
        assert refused(browser, event)
    assert (
        client_with(app, {"remember_token": phone_copy["remember_token"]})
        .get("/manage/")
        .location.startswith("/login")
    )
    assert stored_sessions(world.organiser_a) == 0
    # Another account's session is not touched.
    assert other_user.get("/manage/").status_code == 200


# --- a new password, an administrator's reset, a disabled account -------------------------


def change_password(client, **fields):
    data = {
        "current_password": factories.PASSWORD,
        "new_password": "a brand new password 2026",
        "repeated_password": "a brand new password 2026",
        "revoke_tokens": "y",
        **fields,
    }
    return post_form(
        client,
        "/account/password",
        {k: v for k, v in data.items() if v is not None},
        form_url="/account/",
    )


def test_a_new_password_ends_the_other_sessions_keeps_this_device_and_revokes_tokens(
    app, client, world, event, now
):
    sign_in(client, world.organiser_a.email, remember=True)
    before = cookies_of(client)
    door_phone = app.test_client()
    sign_in(door_phone, world.organiser_a.email, remember=True)
    door_copy = cookies_of(door_phone)
    _, bearer = create_token(world.organiser_a, "durvis", now)
    _db.session.commit()
    headers = {"Authorization": f"Bearer {bearer}"}
    assert client_with(app, {}).get(offline_url(event), headers=headers).status_code == 200

    response = change_password(client)
    assert response.status_code == 302 and response.location == "/account/#main"
    # This device goes on with a new session (and a new remember cookie) …
    assert allowed(client, event)
    after = cookies_of(client)
    assert after["remember_token"] != before["remember_token"]
    assert allowed(client_with(app, {"remember_token": after["remember_token"]}), event)
    # … while the other device, and copies of this device's old cookies, are refused.
    assert refused(door_phone, event)
    assert refused(client_with(app, door_copy), event)
    assert refused(client_with(app, before), event)
    assert refused(client_with(app, {"remember_token": before["remember_token"]}), event)
    # The API token is revoked too (the default).
    assert client_with(app, {}).get(offline_url(event), headers=headers).status_code == 401
    assert stored_sessions(world.organiser_a) == 1
    page = client.get("/account/").get_data(as_text=True)
    assert "Parole ir nomainīta" in page and "Atsaukta 1 API atslēga." in page
    # The change is in the audit log (for administrators), and so is the revoked token.
    actions = _db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.actor_id == world.organiser_a.id)
    ).all()
    assert "user.update" in actions and "api_token.revoke" in actions
    login(app.test_client(), world.organiser_a.email, "a brand new password 2026")


def test_keeping_the_tokens_is_a_choice(app, client, world, event, now):
    sign_in(client, world.organiser_a.email)
    _, bearer = create_token(world.organiser_a, "durvis", now)
    _db.session.commit()
    page = client.get("/account/").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*\bchecked\b[^>]*id="revoke_tokens"', page
    )  # revoking is the default
    assert change_password(client, revoke_tokens=None).status_code == 302
    headers = {"Authorization": f"Bearer {bearer}"}
    assert client_with(app, {}).get(offline_url(event), headers=headers).status_code == 200


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"current_password": "not my password at all"}, "current_password"),
        ({"new_password": "short", "repeated_password": "short"}, "new_password"),
        ({"repeated_password": "a different new password"}, "repeated_password"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, client, world, event, fields, field
):
    sign_in(client, world.organiser_a.email)
    laptop = app.test_client()
    sign_in(laptop, world.organiser_a.email, user_agent=LAPTOP)
    old_hash = world.organiser_a.password_hash
    response = change_password(client, **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and 'class="error-summary"' in page
    assert f'aria-describedby="{field}-error"' in page or f'{field}-error"' in page
    _db.session.expire_all()
    assert _db.session.get(User, world.organiser_a.id).password_hash == old_hash
    assert allowed(client, event) and allowed(laptop, event)


def test_guessing_the_current_password_is_throttled(app, client, world):
    """A stolen session must not become a way to guess the password."""
    from eventsvc.extensions import limiter

    from .conftest import TEST_RATE_LIMIT

    app.config["RATELIMIT_LOGIN_PER_EMAIL"] = "3 per minute"
    limiter.reset()
    try:
        sign_in(client, world.organiser_a.email)
        wrong = {"current_password": "a guess at the password"}
        assert [change_password(client, **wrong).status_code for _ in range(3)] == [422] * 3
        blocked = change_password(client)  # even the right one, for now
        assert blocked.status_code == 429
        assert "Pārāk daudz" in blocked.get_data(as_text=True)
        # Another account is not affected.
        other = app.test_client()
        sign_in(other, world.organiser_b.email)
        assert change_password(other).status_code == 302
    finally:
        app.config["RATELIMIT_LOGIN_PER_EMAIL"] = TEST_RATE_LIMIT
        limiter.reset()


def test_an_administrators_reset_ends_every_session_and_token(app, client, world, event, now):
    sign_in(client, world.organiser_a.email, remember=True)
    copied = cookies_of(client)
    _, bearer = create_token(world.organiser_a, "durvis", now)
    _db.session.commit()
    admin = app.test_client()
    sign_in(admin, world.admin.email)
    form = f"/admin/users/{world.organiser_a.id}"
    page = admin.get(form).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = admin.post(
        form,
        data={
            "csrf_token": token,
            "name": world.organiser_a.name,
            "email": world.organiser_a.email,
            "role": "organiser",
            "organisations": [str(world.org_a.id)],
            "password": "reset by the administrator",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert refused(client, event)
    assert refused(client_with(app, copied), event)
    assert refused(client_with(app, {"remember_token": copied["remember_token"]}), event)
    headers = {"Authorization": f"Bearer {bearer}"}
    assert client_with(app, {}).get(offline_url(event), headers=headers).status_code == 401
    assert admin.get("/admin/users").status_code == 200  # the administrator is not affected


def test_an_administrator_resetting_their_own_password_stays_signed_in_here(app, world):
    admin = app.test_client()
    sign_in(admin, world.admin.email)
    copied = cookies_of(admin)
    form = f"/admin/users/{world.admin.id}"
    page = admin.get(form).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = admin.post(
        form,
        data={
            "csrf_token": token,
            "name": "Admin",
            "email": world.admin.email,
            "role": "admin",
            "password": "the admin's new password",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert admin.get("/admin/users").status_code == 200
    assert client_with(app, copied).get("/admin/users").location.startswith("/login")


def test_disabling_an_account_ends_its_sessions_for_good(app, client, world, event):
    sign_in(client, world.organiser_a.email, remember=True)
    copied = cookies_of(client)
    save_user(
        world.admin,
        UserData(
            world.organiser_a.email,
            world.organiser_a.name,
            world.organiser_a.role,
            list(world.organiser_a.organisations),
            active=False,
        ),
        world.organiser_a,
    )
    _db.session.commit()
    assert refused(client, event)
    assert stored_sessions(world.organiser_a) == 0
    # Enabled again, the account signs in afresh; the old cookies stay dead.
    world.organiser_a.is_active_account = True
    _db.session.commit()
    assert refused(client_with(app, copied), event)
    assert refused(client_with(app, {"remember_token": copied["remember_token"]}), event)


def test_sign_out_leaves_api_tokens_alone(app, client, world, event, now):
    sign_in(client, world.organiser_a.email)
    _, bearer = create_token(world.organiser_a, "durvis", now)
    _db.session.commit()
    post_form(client, "/logout", {}, form_url="/manage/")
    headers = {"Authorization": f"Bearer {bearer}"}
    assert client_with(app, {}).get(offline_url(event), headers=headers).status_code == 200


# --- the door phone changes network ----------------------------------------------------------


def test_the_same_browser_from_another_address_stays_signed_in(app, client, world, event):
    sign_in(client, world.organiser_a.email, REMOTE_ADDR="192.168.1.23")  # the venue's Wi-Fi
    for address in ("10.64.12.7", "2a03:ec0:1::17"):  # mobile data, then IPv6
        environ = {"REMOTE_ADDR": address}
        door = client.get(
            f"/manage/events/{event.id}/checkin",
            headers={"User-Agent": PHONE},
            environ_base=environ,
        )
        assert door.status_code == 200, address
        api = client.get(offline_url(event), headers={"User-Agent": PHONE}, environ_base=environ)
        assert api.status_code == 200 and "tickets" in api.json, address


def test_behind_the_proxy_another_forwarded_address_stays_signed_in(
    app, client, world, event, now, monkeypatch
):
    """As deployed behind nginx (EVENTSVC_PROXY_HOPS=1, create_app's ProxyFix): the client's
    address comes from X-Forwarded-For. A scan from the new address is checked in."""
    family = rules.register(event.id, factories.registration_request(party_size=2), now)
    _db.session.commit()
    seen = []
    inner = app.wsgi_app

    def app_sees(environ, start_response):  # the address the app is given, after ProxyFix
        seen.append(environ["REMOTE_ADDR"])
        return inner(environ, start_response)

    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app_sees, x_for=1, x_proto=1, x_host=1))
    wifi = {"User-Agent": PHONE, "X-Forwarded-For": "192.168.1.23"}
    token = CSRF_RE.search(client.get("/login", headers=wifi).get_data(as_text=True)).group(1)
    signed_in = client.post(
        "/login",
        data={
            "email": world.organiser_a.email,
            "password": factories.PASSWORD,
            "csrf_token": token,
        },
        headers=wifi,
    )
    assert signed_in.status_code == 302

    mobile = {"User-Agent": PHONE, "X-Forwarded-For": "10.64.12.7"}
    door = client.get(f"/manage/events/{event.id}/checkin", headers=mobile)
    assert door.status_code == 200
    page_token = re.search(r'name="csrf-token" content="([^"]+)"', door.get_data(as_text=True))
    assert client.get(offline_url(event), headers=mobile).status_code == 200
    scan = client.post(
        f"/api/v1/events/{event.id}/checkins",
        json={"code": family.registration.ticket_secret, "nonce": "phone:00000001"},
        headers={**mobile, "X-CSRFToken": page_token.group(1)},
    )
    assert scan.status_code == 200 and scan.json["result"] == "checked_in"
    assert seen[0] == "192.168.1.23" and seen[-1] == "10.64.12.7"


# --- the secret: new at each sign-in, unguessable, stored only hashed --------------------------


def test_each_sign_in_gets_a_new_unguessable_secret_stored_hashed(app, client, world):
    client.get("/login")
    with client.session_transaction() as session:
        session["_user_id"] = "planted-by-an-attacker-before-sign-in-0000000000"
    sign_in(client, world.organiser_a.email)
    with client.session_transaction() as session:
        first = session["_user_id"]
    post_form(client, "/logout", {}, form_url="/manage/")
    sign_in(client, world.organiser_a.email)
    with client.session_transaction() as session:
        second = session["_user_id"]

    for secret in (first, second):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", secret)  # token_urlsafe(32): 256 bits
        assert str(world.organiser_a.id) != secret
    assert first != second and "planted" not in first
    assert sessions.SECRET_BYTES >= 32
    rows = _db.session.scalars(select(UserSession)).all()
    assert [row.secret_hash for row in rows] == [hashlib.sha256(second.encode()).hexdigest()]
    # Nowhere in the database is the secret itself.
    with _db.engine.connect() as conn:
        dumped = repr(conn.execute(text("SELECT * FROM user_sessions")).all())
    assert second not in dumped and first not in dumped


def test_a_forged_or_old_style_cookie_signs_no_one_in(app, world):
    for forged in (str(world.organiser_a.id), f"{world.organiser_a.id}:0123456789abcdef", "x" * 43):
        browser = app.test_client()
        with browser.session_transaction() as session:
            session["_user_id"] = forged
        assert browser.get("/manage/").location.startswith("/login"), forged


def test_remember_cookies_differ_per_device_and_expire_on_the_server(app, world, event):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, world.organiser_a.email, remember=True)
    sign_in(laptop, world.organiser_a.email, remember=True, user_agent=LAPTOP)
    phone_cookie = phone.get_cookie("remember_token")
    laptop_cookie = laptop.get_cookie("remember_token")
    assert phone_cookie.value != laptop_cookie.value
    rows = _db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
    assert all(row.remembered for row in rows)
    for row in rows:
        lifetime = row.expires_at - row.created_at
        assert lifetime == app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    # The phone's 30 days are over (the server decides, whatever the cookie's own date).
    rows[0].expires_at = datetime.now(UTC) - timedelta(seconds=1)
    _db.session.commit()
    assert refused(client_with(app, {"remember_token": phone_cookie.value}), event)
    assert allowed(client_with(app, {"remember_token": laptop_cookie.value}), event)


def test_a_session_not_remembered_ends_after_its_idle_time(app, client, world, event):
    sign_in(client, world.organiser_a.email)
    row = _db.session.scalar(select(UserSession))
    assert not row.remembered
    assert row.expires_at - row.last_seen_at == app.config["EVENTSVC_SESSION_IDLE"]
    row.last_seen_at = row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    _db.session.commit()
    assert refused(client, event)


def test_last_seen_is_written_at_most_once_a_minute(db, world, now):
    secret = sessions.start(world.organiser_a, now - timedelta(minutes=5), remembered=False)
    _db.session.commit()
    record = sessions.user_for_secret(secret, now).current_session
    assert sessions.touch(record, now)  # five minutes on: written, and the idle time restarts
    _db.session.commit()
    _db.session.expire_all()
    record = sessions.user_for_secret(secret, now + timedelta(seconds=30)).current_session
    assert record.last_seen_at == now
    assert record.expires_at == now + timedelta(hours=12)
    assert not sessions.touch(record, now + timedelta(seconds=30))  # within the minute: no write
    assert sessions.touch(record, now + timedelta(seconds=61))


def test_requests_within_a_minute_write_nothing(app, client, world, event):
    sign_in(client, world.organiser_a.email)
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE USER_SESSIONS"):
            statements.append(statement)

    from sqlalchemy import event as sa_event

    with app.app_context():
        engine = _db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert client.get(offline_url(event)).status_code == 200
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert statements == []


# --- the account page ----------------------------------------------------------------------


def test_the_account_page_lists_the_sessions_in_riga_time(app, client, world):
    sign_in(client, world.organiser_a.email)
    laptop = app.test_client()
    sign_in(laptop, world.organiser_a.email, user_agent=LAPTOP, remember=True)
    other = app.test_client()
    sign_in(other, world.organiser_b.email, user_agent=LAPTOP)
    # The laptop was last seen at 10:00 UTC on 15 January: 12:00 in Riga (winter time).
    laptop_row = _db.session.scalars(
        select(UserSession).where(UserSession.remembered.is_(True))
    ).one()
    laptop_row.created_at = laptop_row.last_seen_at = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    _db.session.commit()

    page = client.get("/account/").get_data(as_text=True)
    cards = re.findall(r'<li class="event-card">(.*?)</li>', page, re.S)
    assert len(cards) == 2  # organiser A's two sessions, not organiser B's
    phone_card = next(c for c in cards if "Chrome, Android" in c)
    laptop_card = next(c for c in cards if "Firefox, Windows" in c)
    assert "šī ierīce" in phone_card and "šī ierīce" not in laptop_card
    assert "2026. gada 15. janv., 12:00" in laptop_card
    assert "šodien" in phone_card
    client.set_cookie("lang", "ru")
    page = client.get("/account/").get_data(as_text=True)
    assert "15 янв. 2026\u202fг., 12:00" in page and "это устройство" in page
    # The whole user agent is not kept, only its summary.
    assert not _db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.device.like("%Mozilla%"))
    )


def test_describe_device():
    assert sessions.describe_device(PHONE) == "Chrome, Android"
    assert sessions.describe_device(LAPTOP) == "Firefox, Windows"
    assert (
        sessions.describe_device(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
        )
        == "Safari, iPhone"
    )
    assert (
        sessions.describe_device(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
        )
        == "Edge, Windows"
    )
    assert sessions.describe_device("") == "" and sessions.describe_device("curl/8.5") == ""


# --- expired rows go -----------------------------------------------------------------------


def test_privacy_purge_deletes_expired_sessions(runner, world, now):
    live = sessions.start(world.organiser_a, now, remembered=True)
    sessions.start(world.organiser_b, now - timedelta(days=40), remembered=True)
    sessions.start(world.ministry, now - timedelta(days=2), remembered=False)
    _db.session.commit()
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "deleted 2 expired staff sessions" in result.output
    _db.session.expire_all()
    left = _db.session.scalars(select(UserSession)).all()
    assert [row.secret_hash for row in left] == [hashlib.sha256(live.encode()).hexdigest()]


def test_signing_in_clears_the_accounts_own_expired_sessions(client, world, now):
    sessions.start(world.organiser_a, now - timedelta(days=40), remembered=True)
    sessions.start(world.organiser_b, now - timedelta(days=40), remembered=True)
    _db.session.commit()
    sign_in(client, world.organiser_a.email)
    owners = sorted(_db.session.scalars(select(UserSession.user_id)))
    assert owners == sorted([world.organiser_a.id, world.organiser_b.id])
    assert stored_sessions(world.organiser_a) == 1


def test_api_tokens_table_untouched_by_sign_in(client, world, now):
    create_token(world.organiser_a, "durvis", now)
    _db.session.commit()
    sign_in(client, world.organiser_a.email)
    assert _db.session.scalar(select(ApiToken.revoked_at)) is None
