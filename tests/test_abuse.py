"""Abuse of the public side: the registration form's honeypot, rate limits on every public
write and on reads by private token, and the hourly cap on mail to one address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.extensions import limiter
from eventsvc.models import OutboxMessage, Registration, RegistrationSource
from eventsvc.services import events as event_service
from eventsvc.services import notifications
from eventsvc.services import registration as rules
from eventsvc.timezones import utcnow

from . import factories
from .conftest import csrf_from


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=40)


def registration_form(**fields) -> dict:
    data = {
        "name": "Anna Bērziņa",
        "email": "anna@example.lv",
        "phone": "",
        "party_size": "1",
        "needs": "",
        "language": "lv",
        "consent": "y",
    }
    data.update(fields)
    return data


# --- the honeypot ----------------------------------------------------------------------------


def test_the_honeypot_is_hidden_from_people(client, event):
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    trap = page.split('<div class="hp-field" aria-hidden="true">')[1].split("</div>")[0]
    assert (
        '<label for="website">Atstājiet šo lauku tukšu</label>' in trap
    )  # "leave this field empty"
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap and 'name="website"' in trap
    with client.get("/static/css/site.css") as css:
        assert ".hp-field {" in css.get_data(as_text=True)


def test_a_filled_honeypot_looks_like_success_and_saves_nothing(client, event):
    token = csrf_from(client, f"/events/{event.id}")
    response = client.post(
        f"/events/{event.id}/register",
        data={**registration_form(website="https://spam.example"), "csrf_token": token},
    )
    assert response.status_code == 302 and response.location == f"/events/{event.id}/registered"
    thanks = client.get(response.location).get_data(as_text=True)
    assert "anna@example.lv" in thanks  # the very page a real registration gets
    assert count(Registration) == 0 and count(OutboxMessage) == 0


def test_an_empty_honeypot_registers_as_usual(client, event):
    token = csrf_from(client, f"/events/{event.id}")
    response = client.post(
        f"/events/{event.id}/register", data={**registration_form(website=""), "csrf_token": token}
    )
    assert response.status_code == 302
    assert count(Registration) == 1 and count(OutboxMessage) == 1


# --- rate limits -------------------------------------------------------------------------------


@pytest.fixture
def limited(app):
    saved = {k: app.config[k] for k in ("RATELIMIT_REGISTRATION", "RATELIMIT_MANAGE_LINK")}
    app.config.update(RATELIMIT_REGISTRATION="2 per minute", RATELIMIT_MANAGE_LINK="3 per minute")
    limiter.reset()
    yield
    app.config.update(saved)
    limiter.reset()


@pytest.fixture
def resident(event, now):
    registration = rules.register(
        event.id, factories.registration_request(email="ilze@example.lv"), now
    ).registration
    _db.session.commit()
    return registration


def statuses(make_request, n: int) -> list[int]:
    return [make_request().status_code for _ in range(n)]


def test_reads_by_private_token_are_limited(client, resident, limited):
    token = resident.manage_token
    assert statuses(lambda: client.get(f"/api/v1/registrations/{token}"), 4) == [200, 200, 200, 429]
    assert client.get(f"/api/v1/registrations/{token}").json["error"]["code"] == "rate_limited"
    for url in (f"/r/{token}", f"/r/{token}/ticket", f"/r/{token}/qr.png", f"/r/{token}/cancel"):
        assert (
            statuses(lambda url=url: client.get(url, environ_base={"REMOTE_ADDR": "10.2.2.2"}), 4)[
                -1
            ]
            == 429
        ), url
    # Guessing tokens is limited the same way.
    assert statuses(
        lambda: client.get("/api/v1/registrations/guess", environ_base={"REMOTE_ADDR": "10.3.3.3"}),
        4,
    ) == [404, 404, 404, 429]
    assert (
        client.get(
            f"/api/v1/registrations/{token}", environ_base={"REMOTE_ADDR": "10.4.4.4"}
        ).status_code
        == 200
    )


def test_every_public_write_is_limited(client, event, resident, limited):
    token = resident.manage_token
    csrf = csrf_from(client, f"/events/{event.id}")
    writes = {
        "form registration": lambda: client.post(
            f"/events/{event.id}/register", data={"csrf_token": csrf}
        ),
        "API registration": lambda: client.post(
            f"/api/v1/events/{event.id}/registrations", json={"name": ""}
        ),
        "API cancel": lambda: client.delete("/api/v1/registrations/no-such-token"),
        "party size": lambda: client.post(
            f"/r/{token}/party-size", data={"csrf_token": csrf, "party_size": "0"}
        ),
        "cancel": lambda: client.post("/r/no-such-token/cancel", data={"csrf_token": csrf}),
    }
    for name, write in writes.items():
        limiter.reset()
        codes = statuses(write, 3)
        assert codes[:2] != [429, 429] and codes[2] == 429, (name, codes)


# --- at most N messages an hour to one address ----------------------------------------------------


@pytest.fixture
def cap(app):
    saved = app.config["EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"]
    app.config["EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"] = 3
    yield 3
    app.config["EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"] = saved


def outbox_to(address: str) -> list[str]:
    return list(
        _db.session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
    )


def test_send_ticket_again_is_not_a_mail_cannon(client, event, cap):
    """The same address registered again and again gets the same answer every time, but at
    most `cap` messages an hour; the rest are not queued at all."""
    for n in range(6):
        token = csrf_from(client, f"/events/{event.id}")
        response = client.post(
            f"/events/{event.id}/register", data={**registration_form(), "csrf_token": token}
        )
        assert response.status_code == 302, n
        assert "anna@example.lv" in client.get(response.location).get_data(as_text=True)
    assert outbox_to("anna@example.lv") == [
        "registration_confirmed",
        "registration_repeated",
        "registration_repeated",
    ]
    assert count(Registration) == 1


def due_times(address: str) -> list:
    return [
        m.next_attempt_at
        for m in _db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
    ]


def test_the_cap_counts_every_event_and_the_api_and_holds_the_rest(client, world, in_days, cap):
    """A stranger registers someone's address at 6 events: every registration gets its ticket
    mail, but only `cap` go out within the hour; the others wait, spaced over the next hours."""
    events = [
        factories.event(world.org_a, in_days(10 + n), title=f"Pasākums {n}") for n in range(6)
    ]
    before = utcnow()
    for item in events:
        response = client.post(
            f"/api/v1/events/{item.id}/registrations",
            json={"name": "Upuris", "email": "victim@example.lv", "consent": True},
        )
        assert (
            response.status_code == 201 and response.json["manage_url"] is None
        )  # the same answer for all
    assert count(Registration) == 6
    assert outbox_to("victim@example.lv") == ["registration_confirmed"] * 6  # nothing lost
    due = [
        at.replace(tzinfo=before.tzinfo) if at.tzinfo is None else at
        for at in due_times("victim@example.lv")
    ]
    assert all(at < before + timedelta(minutes=1) for at in due[:3])
    held = due[3:]
    assert held[0] >= before + timedelta(hours=1)
    # However it is counted, no hour holds more than `cap` of them.
    assert all(
        sum(1 for at in due if start <= at < start + timedelta(hours=1)) <= cap for start in due
    )
    assert outbox_to("someone.else@example.lv") == []


def test_the_cap_is_per_hour(event, now, cap):
    registration = rules.register(
        event.id, factories.registration_request(email="anna@example.lv"), now
    ).registration
    for _ in range(4):
        notifications.notify("registration_repeated", registration, now, public=True)
    assert (
        len(outbox_to("anna@example.lv")) == 3
    )  # the ticket mail and two repeats; the rest dropped
    later = now + timedelta(minutes=59)
    assert notifications.notify("registration_repeated", registration, later, public=True) is None
    an_hour_on = now + timedelta(hours=1, seconds=1)
    assert [
        notifications.notify("registration_repeated", registration, an_hour_on, public=True)
        is not None
        for _ in range(4)
    ] == [True, True, True, False]


def test_what_organisers_cause_is_never_capped_nor_counted(event, world, now, cap):
    """A cancelled event, a place come free, an organiser's cancellation or phone registration
    must reach the person at once, cap or not; and they do not use up the person's allowance."""
    registration = rules.register(
        event.id, factories.registration_request(email="anna@example.lv"), now
    ).registration
    for _ in range(2):
        notifications.notify(
            "registration_repeated", registration, now, public=True
        )  # the cap is reached
    held = notifications.notify("registration_changed", registration, now, public=True)
    assert held is not None and held.next_attempt_at >= now + timedelta(
        hours=1
    )  # a resident's change waits
    rules.cancel_registration(registration, now, by_user=world.organiser_a)
    _db.session.commit()
    assert (
        _db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "registration_cancelled")
        )
        .one()
        .next_attempt_at
        == now
    )
    phone = rules.register(
        event.id,
        factories.registration_request(email="anna@example.lv"),
        now,
        source=RegistrationSource.ORGANISER,
        by_user=world.organiser_a,
    ).registration
    _db.session.commit()
    assert (
        _db.session.scalars(select(OutboxMessage).where(OutboxMessage.registration_id == phone.id))
        .one()
        .next_attempt_at
        == now
    )
    event_service.cancel_event(world.organiser_a, event, now)
    _db.session.commit()
    assert outbox_to("anna@example.lv")[-1] == "event_cancelled"
    for kind in ("event_changed", "registration_promoted", "event_reminder"):
        assert notifications.notify(kind, phone, now).next_attempt_at == now, kind


def test_the_cap_setting(app):
    from eventsvc.config import load_config

    assert load_config(app.instance_path, env={})["EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"] == 5
    assert (
        load_config(app.instance_path, env={"EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR": "12"})[
            "EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"
        ]
        == 12
    )
