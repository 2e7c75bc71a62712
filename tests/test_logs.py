"""Logs an operator can use: one line per request (route, status, duration, request id),
each purge and each check of the event counters; never a person's data or a private token."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from flask import g

from eventsvc.config import ConfigError, load_config
from eventsvc.extensions import db as _db
from eventsvc.logs import HANDLER_NAME, configure_logging
from eventsvc.models import Registration, RegistrationStatus
from eventsvc.services import privacy
from eventsvc.services import registration as rules

from . import factories


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "eventsvc.request"]


@pytest.fixture
def registered(world, in_days, now):
    event = factories.event(world.org_a, in_days(5))
    outcome = rules.register(
        event.id, factories.registration_request(name="Ilze Kalniņa", email="ilze@example.lv"), now
    )
    _db.session.commit()
    return outcome.registration


def test_a_request_logs_one_line_with_its_route_not_its_token(client, registered, caplog):
    caplog.set_level(logging.INFO, logger="eventsvc")
    token = registered.manage_token

    response = client.get(f"/r/{token}")

    assert response.status_code == 200
    (line,) = request_lines(caplog)
    message = line.getMessage()
    assert message.startswith("request method=GET route=/r/<token> status=200 duration_ms=")
    assert float(message.rsplit("duration_ms=", 1)[1]) >= 0
    assert line.request_id == response.headers["X-Request-ID"]
    assert len(line.request_id) == 32 and int(line.request_id, 16) >= 0
    assert token not in caplog.text
    assert "Ilze" not in caplog.text and "ilze@example.lv" not in caplog.text


def test_a_request_id_from_the_proxy_is_kept_if_it_is_sane(client, db, caplog):
    caplog.set_level(logging.INFO, logger="eventsvc.request")
    given = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert client.get("/", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for insane in ("short", "x" * 65, "a b c d e f g h", "id=1;secret=yes"):
        answered = client.get("/", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert answered != insane and len(answered) == 32
    assert request_lines(caplog)[0].request_id == given
    assert all(line.getMessage().split()[2] == "route=/" for line in request_lines(caplog))


def test_a_path_that_matches_no_route_is_not_logged(client, db, caplog):
    caplog.set_level(logging.INFO, logger="eventsvc.request")
    response = client.get("/r-private-looking-path/5f3a9c")
    assert response.status_code == 404
    (line,) = request_lines(caplog)
    assert "route=- status=404" in line.getMessage()
    assert "5f3a9c" not in caplog.text


def test_a_refused_request_is_logged_too(client, db, caplog):
    """A before_request refusal (here the NUL byte check) still gets its line and its id."""
    caplog.set_level(logging.INFO, logger="eventsvc.request")
    response = client.get("/?q=%00")
    assert response.status_code == 400 and response.headers["X-Request-ID"]
    (line,) = request_lines(caplog)
    assert "route=/ status=400" in line.getMessage()


def test_an_error_is_logged_with_the_route_not_the_path(
    app, client, registered, caplog, monkeypatch
):
    """Flask's own message would name the path, and so the resident's private token."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("eventsvc.web.registration.render_template", broken)
    caplog.set_level(logging.INFO, logger="eventsvc")
    token = registered.manage_token

    assert client.get(f"/r/{token}").status_code == 500

    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == "Exception on /r/<token> [GET]" and error.exc_info
    assert "route=/r/<token> status=500" in request_lines(caplog)[0].getMessage()
    assert token not in caplog.text


# --- the one logging configuration ---------------------------------------------------------


@pytest.fixture
def restore_logging():
    root, ours = logging.getLogger(), logging.getLogger("eventsvc")
    saved = (list(root.handlers), root.level, ours.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    ours.setLevel(saved[2])


def test_configure_logging_writes_one_line_per_record_with_the_request_id(app, restore_logging):
    stream = io.StringIO()
    configure_logging("INFO", stream)
    configure_logging("INFO", stream)  # again (a second app in one process): still one handler
    assert [h.get_name() for h in logging.getLogger().handlers].count(HANDLER_NAME) == 1

    with app.test_request_context("/"):
        g.request_id = "abcdef0123456789"
        logging.getLogger("eventsvc.services.x").info("inside a request")
    logging.getLogger("eventsvc.services.x").info("outside")
    logging.getLogger("eventsvc.services.x").debug("not at INFO")
    logging.getLogger("some.library").info("a library's chatter")
    logging.getLogger("some.library").warning("a library's warning")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 3  # neither our DEBUG nor a library's INFO
    assert lines[0].endswith("INFO eventsvc.services.x [abcdef0123456789] inside a request")
    assert lines[1].endswith("INFO eventsvc.services.x [-] outside")
    assert lines[2].endswith("WARNING some.library [-] a library's warning")


def test_the_log_level_comes_from_the_environment(tmp_path):
    assert load_config(str(tmp_path), env={})["EVENTSVC_LOG_LEVEL"] == "INFO"
    assert (
        load_config(str(tmp_path), env={"EVENTSVC_LOG_LEVEL": "warning"})["EVENTSVC_LOG_LEVEL"]
        == "WARNING"
    )
    with pytest.raises(ConfigError, match="EVENTSVC_LOG_LEVEL"):
        load_config(str(tmp_path), env={"EVENTSVC_LOG_LEVEL": "loud"})


# --- the purge and the counters ----------------------------------------------------------------


def test_a_purge_logs_its_counts_and_no_person(db, world, now, caplog):
    ended = factories.event(world.org_a, now - timedelta(days=100))
    for name in ("Jānis Ozols", "Marta Liepa"):
        _db.session.add(
            Registration(
                event_id=ended.id,
                status=RegistrationStatus.CONFIRMED,
                name=name,
                email=f"{name[:3]}@example.lv",
                party_size=2,
            )
        )
    _db.session.commit()
    caplog.set_level(logging.INFO, logger="eventsvc")

    privacy.purge(now, 90)

    (line,) = [r.getMessage() for r in caplog.records if r.name == "eventsvc.services.privacy"]
    assert line.startswith("privacy purge: 2 registrations of 1 events anonymised")
    assert "(events ended more than 90 days ago)" in line
    assert "Jānis" not in caplog.text and "@example.lv" not in caplog.text


def test_a_check_and_a_rebuild_of_the_counters_log_which_events(
    db, world, in_days, now, runner, caplog
):
    from sqlalchemy import text

    event = factories.event(world.org_a, in_days(1))
    rules.register(event.id, factories.registration_request(party_size=3), now)
    _db.session.commit()
    caplog.set_level(logging.INFO, logger="eventsvc")
    runner.invoke(args=["stats", "check"])
    assert "event counters checked: 1 events, all agree with their registrations" in caplog.text

    _db.session.execute(
        text("UPDATE event_stats SET confirmed_in_person_people = 0 WHERE event_id = :e"),
        {"e": event.id},
    )
    _db.session.commit()
    caplog.clear()
    runner.invoke(args=["stats", "rebuild"])
    messages = [r.getMessage() for r in caplog.records if r.name == "eventsvc.services.stats"]
    assert messages == [
        f"event counters checked: 1 events, 1 differ from their registrations: events {event.id}",
        f"event counters of event {event.id} counted again: confirmed_in_person_people 0 → 3",
    ]


def test_a_database_error_is_logged_without_the_values(db, world, in_days, restore_logging):
    """What a failed statement says ends up in a traceback in the log: its SQL, not the
    values (SQLAlchemy's hide_parameters) nor PostgreSQL's DETAIL, which quotes the row."""
    from sqlalchemy.exc import IntegrityError

    stream = io.StringIO()
    configure_logging("INFO", stream)
    event = factories.event(world.org_a, in_days(3))
    for _ in range(2):
        _db.session.add(
            Registration(
                event_id=event.id,
                status=RegistrationStatus.CONFIRMED,
                name="Ilze Kalniņa",
                email="ilze@example.lv",
            )
        )
    try:
        _db.session.commit()
    except IntegrityError:
        logging.getLogger("eventsvc.test").exception("the commit failed")
    _db.session.rollback()
    logged = stream.getvalue()
    assert "the commit failed" in logged and "IntegrityError" in logged
    assert "INSERT INTO registrations" in logged
    assert "ilze@example.lv" not in logged and "Ilze" not in logged
