"""Production refuses to start without a real secret and database; development needs nothing."""

from __future__ import annotations

import pytest

from eventsvc.config import ConfigError, load_config


def test_production_needs_secret_and_database(tmp_path):
    with pytest.raises(ConfigError, match="EVENTSVC_SECRET_KEY"):
        load_config(
            str(tmp_path),
            env={"EVENTSVC_ENV": "production", "EVENTSVC_DATABASE_URL": "postgresql+psycopg://x/y"},
        )
    with pytest.raises(ConfigError, match="EVENTSVC_DATABASE_URL"):
        load_config(
            str(tmp_path), env={"EVENTSVC_ENV": "production", "EVENTSVC_SECRET_KEY": "x" * 40}
        )
    with pytest.raises(ConfigError, match="32"):
        load_config(
            str(tmp_path),
            env={
                "EVENTSVC_ENV": "production",
                "EVENTSVC_SECRET_KEY": "short",
                "EVENTSVC_DATABASE_URL": "postgresql+psycopg://x/y",
            },
        )
    complete = {
        "EVENTSVC_ENV": "production",
        "EVENTSVC_SECRET_KEY": "x" * 40,
        "EVENTSVC_DATABASE_URL": "postgresql+psycopg://x/y",
        "MAIL_SERVER": "smtp.example.lv",
        "EVENTSVC_PUBLIC_URL": "https://pasakumi.example.lv",
    }
    for missing, message in (
        ("MAIL_SERVER", "MAIL_SERVER"),
        ("EVENTSVC_PUBLIC_URL", "EVENTSVC_PUBLIC_URL"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(str(tmp_path), env={k: v for k, v in complete.items() if k != missing})
    config = load_config(str(tmp_path), env=complete)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["EVENTSVC_MAIL_BACKEND"] == "smtp"
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_and_keeps_a_secret(tmp_path):
    first = load_config(str(tmp_path), env={})
    second = load_config(str(tmp_path), env={})
    assert len(first["SECRET_KEY"]) >= 64 and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert (
        first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
        and str(tmp_path) in first["SQLALCHEMY_DATABASE_URI"]
    )


@pytest.mark.parametrize("days", ["-5", "0", "ninety", "٩٠"])
def test_a_retention_period_that_is_no_period_stops_the_start(tmp_path, days):
    with pytest.raises(ConfigError, match="RETENTION"):
        load_config(str(tmp_path), env={"EVENTSVC_RETENTION_DAYS": days})


def test_the_embedded_mail_thread_is_the_factorys_own_step(monkeypatch):
    """Registering the blueprints starts nothing; create_app starts the development
    mailbox's delivery thread as a step of its own (`make run`)."""
    from flask import Flask

    from eventsvc import create_app
    from eventsvc.web import dev_mailbox, register_blueprints

    started = []
    monkeypatch.setattr(dev_mailbox, "start_inprocess_worker", started.append)
    bare = Flask("bare")
    bare.config.update(EVENTSVC_MAIL_BACKEND="mailbox", EVENTSVC_INPROCESS_MAIL_WORKER=True)
    register_blueprints(bare)
    assert started == []

    app = create_app({"TESTING": True, "SECRET_KEY": "x" * 40})
    assert started == [app]


def test_the_lock_wait_is_a_few_seconds_unless_set(tmp_path):
    assert load_config(str(tmp_path), env={})["EVENTSVC_LOCK_TIMEOUT_MS"] == 5000
    set_to = load_config(str(tmp_path), env={"EVENTSVC_LOCK_TIMEOUT_MS": "0"})
    assert set_to["EVENTSVC_LOCK_TIMEOUT_MS"] == 0  # no limit
    for wrong in ("-1", "3s", "٩"):
        with pytest.raises(ConfigError, match="LOCK_TIMEOUT"):
            load_config(str(tmp_path), env={"EVENTSVC_LOCK_TIMEOUT_MS": wrong})
