"""Staff sign-in: hashed passwords, one vague error, safe redirects, POST-only sign-out."""

from __future__ import annotations

from eventsvc.extensions import db as _db

from . import factories
from .conftest import csrf_from, login, post_form


def test_passwords_are_stored_hashed(db, world):
    assert factories.PASSWORD not in world.organiser_a.password_hash
    assert world.organiser_a.check_password(factories.PASSWORD)
    assert not world.organiser_a.check_password("wrong")


def test_wrong_password_and_unknown_email_get_the_same_answer(client, world):
    bodies = []
    for email, password in (
        ("a@example.lv", "not the password"),
        ("nobody@example.lv", factories.PASSWORD),
    ):
        response = post_form(client, "/login", {"email": email, "password": password})
        assert response.status_code == 422
        bodies.append(response.get_data(as_text=True))
    assert all('id="password-error"' in body for body in bodies)


def test_login_is_case_insensitive_and_goes_to_the_organiser_list(client, world):
    response = post_form(
        client, "/login", {"email": "A@Example.LV", "password": factories.PASSWORD}
    )
    assert response.status_code == 302 and response.location == "/manage/"
    _db.session.refresh(world.organiser_a)
    assert world.organiser_a.last_login_at is not None


def test_next_is_followed_only_within_the_site(client, world):
    token = csrf_from(client, "/login")
    ok = client.post(
        "/login?next=/manage/events/new",
        data={"email": "a@example.lv", "password": factories.PASSWORD, "csrf_token": token},
    )
    assert ok.location == "/manage/events/new"
    post_form(client, "/logout", {}, form_url="/manage/")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        token = csrf_from(client, "/login")
        response = client.post(
            f"/login?next={evil}",
            data={"email": "a@example.lv", "password": factories.PASSWORD, "csrf_token": token},
        )
        assert response.location == "/manage/", evil
        post_form(client, "/logout", {}, form_url="/manage/")


def test_disabled_account_cannot_sign_in(client, world):
    world.organiser_a.is_active_account = False
    _db.session.commit()
    response = post_form(
        client, "/login", {"email": "a@example.lv", "password": factories.PASSWORD}
    )
    assert response.status_code == 422


def test_logout_needs_post_with_token(client, world):
    login(client, world.organiser_a.email)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/manage/").status_code == 200
    post_form(client, "/logout", {}, form_url="/manage/")
    assert client.get("/manage/").status_code == 302


def test_an_unknown_address_costs_a_password_check_too(db, world, monkeypatch):
    """Otherwise the answer's speed would tell which staff addresses exist."""
    import pytest

    from eventsvc.services import ServiceError, accounts

    checked = []
    monkeypatch.setattr(
        accounts, "check_password_hash", lambda hashed, password: checked.append(password) or False
    )
    with pytest.raises(ServiceError):
        accounts.authenticate("nobody@example.lv", "a guess", _db.func.now())
    assert checked == ["a guess"]
