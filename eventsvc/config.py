"""Settings from EVENTSVC_* environment variables, with safe defaults for the embedded run.

The embedded default (`make run`) needs nothing: SQLite under instance/ and a secret key
generated into instance/ on first start. In production (EVENTSVC_ENV=production) a missing
secret or database URL stops the app at start-up instead of running insecurely.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(RuntimeError):
    pass


def _instance_secret(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _whole_number(env: dict[str, str], name: str, default: str) -> int:
    value = env.get(name, default)
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{name} must be a whole number, 1 or more")
    return int(value)


def load_config(
    instance_path: str, env: dict[str, str] | None = None, overrides: dict | None = None
) -> dict:
    """The app's settings: environment first, then `overrides` (tests pass theirs here)."""
    env = dict(os.environ if env is None else env)
    overrides = overrides or {}
    instance = Path(instance_path)
    production = env.get("EVENTSVC_ENV", "development") == "production"

    secret = env.get("EVENTSVC_SECRET_KEY")
    database_url = env.get("EVENTSVC_DATABASE_URL")
    if production:
        missing = [
            name
            for name, value in (
                ("EVENTSVC_SECRET_KEY", secret),
                ("EVENTSVC_DATABASE_URL", database_url),
            )
            if not value
        ]
        if missing:
            raise ConfigError("production needs " + ", ".join(missing))
        if len(secret or "") < 32:
            raise ConfigError("EVENTSVC_SECRET_KEY must be at least 32 characters")
        if not env.get("MAIL_SERVER"):
            raise ConfigError(
                "production needs MAIL_SERVER (the development mailbox is not for real mail)"
            )
        if not env.get("EVENTSVC_PUBLIC_URL", "").startswith("https://"):
            raise ConfigError("production needs EVENTSVC_PUBLIC_URL=https://… (links in emails)")

    retention_days = env.get("EVENTSVC_RETENTION_DAYS", "90")
    if not retention_days.isascii() or not retention_days.isdigit() or int(retention_days) < 1:
        raise ConfigError("EVENTSVC_RETENTION_DAYS must be a whole number of days, 1 or more")
    mail_timeout = env.get("MAIL_TIMEOUT", "20")
    try:
        mail_timeout_seconds = float(mail_timeout)
    except ValueError:
        mail_timeout_seconds = 0.0
    if not 0 < mail_timeout_seconds <= 300:
        raise ConfigError("MAIL_TIMEOUT must be a number of seconds, more than 0 and at most 300")

    remember_days = _whole_number(env, "EVENTSVC_REMEMBER_DAYS", "30")
    idle_hours = _whole_number(env, "EVENTSVC_SESSION_IDLE_HOURS", "12")

    log_level = env.get("EVENTSVC_LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError("EVENTSVC_LOG_LEVEL must be one of " + ", ".join(LOG_LEVELS))

    lock_timeout = env.get("EVENTSVC_LOCK_TIMEOUT_MS", "5000")
    if not lock_timeout.isascii() or not lock_timeout.isdigit():
        raise ConfigError("EVENTSVC_LOCK_TIMEOUT_MS must be a whole number of milliseconds")

    settings = {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": secret or overrides.get("SECRET_KEY") or _instance_secret(instance),
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{instance / 'eventsvc.sqlite'}",
        # Errors quote their SQL without the values (a name or an email never reaches a log).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_NAME": "remember_token",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Every sign-in is a server-side session (services/sessions.py). "Keep me signed in"
        # lasts this long from the sign-in (Flask-Login's default would be a year); without
        # it, a session ends after this long unused. Sign-out, "sign out everywhere", a new
        # password and disabling the account end sessions at once.
        "REMEMBER_COOKIE_DURATION": timedelta(days=remember_days),
        "EVENTSVC_SESSION_IDLE": timedelta(hours=idle_hours),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "BABEL_DEFAULT_LOCALE": "lv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Riga",
        "EVENTSVC_LANGUAGES": ("lv", "en", "ru"),
        "EVENTS_PER_PAGE": int(env.get("EVENTSVC_EVENTS_PER_PAGE", "20")),
        # Mail: with MAIL_SERVER set, the worker sends over SMTP; without it (the embedded
        # default) messages go to a development mailbox under instance/ shown at /dev/mailbox.
        "EVENTSVC_MAIL_BACKEND": "smtp" if env.get("MAIL_SERVER") else "mailbox",
        "EVENTSVC_MAILBOX_DIR": str(instance / "mailbox"),
        # The embedded default delivers from a thread of the app itself (no second process).
        "EVENTSVC_INPROCESS_MAIL_WORKER": not env.get("MAIL_SERVER"),
        "EVENTSVC_PUBLIC_URL": env.get("EVENTSVC_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "") == "1",
        "MAIL_USE_SSL": env.get("MAIL_USE_SSL", "") == "1",
        "MAIL_USERNAME": env.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": env.get(
            "MAIL_DEFAULT_SENDER", "Kopienas pasākumi <noreply@eventsvc.localhost>"
        ),
        # Seconds the mail worker waits for the SMTP server at each step (connect, each reply)
        # before it gives up on this pass: a hung server costs at most this, per message.
        "MAIL_TIMEOUT": mail_timeout_seconds,
        # Where residents report an accessibility barrier (the accessibility statement) and
        # whom they reach about the service itself; the operator sets its own.
        "EVENTSVC_ACCESSIBILITY_EMAIL": env.get(
            "EVENTSVC_ACCESSIBILITY_EMAIL", "pieklustamiba@eventsvc.localhost"
        ),
        "EVENTSVC_ACCESSIBILITY_PHONE": env.get("EVENTSVC_ACCESSIBILITY_PHONE", ""),
        # How many reverse proxies (nginx) stand in front of the app; 0 when none.
        "EVENTSVC_PROXY_HOPS": int(env.get("EVENTSVC_PROXY_HOPS", "0")),
        "RATELIMIT_STORAGE_URI": env.get("EVENTSVC_RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Public write endpoints, per client address.
        "RATELIMIT_REGISTRATION": env.get(
            "EVENTSVC_RATELIMIT_REGISTRATION", "10 per minute;60 per hour"
        ),
        # Reads by a resident's private token (manage page, ticket, GET /api/v1/registrations/…).
        "RATELIMIT_MANAGE_LINK": env.get(
            "EVENTSVC_RATELIMIT_MANAGE_LINK", "30 per minute;300 per hour"
        ),
        # Staff sign-in attempts per client address (an office behind one address signs in a
        # few times a day), and per email address tried from anywhere. The second is looser:
        # anyone can spend it, and spending it locks that account out until the hour is over.
        "RATELIMIT_LOGIN": env.get("EVENTSVC_RATELIMIT_LOGIN", "10 per minute;30 per hour"),
        "RATELIMIT_LOGIN_PER_EMAIL": env.get(
            "EVENTSVC_RATELIMIT_LOGIN_PER_EMAIL", "10 per minute;50 per hour"
        ),
        # At most this many messages queued to one email address in an hour (notifications.py).
        "EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR": int(
            env.get("EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR", "5")
        ),
        # Days after an event ends until `flask privacy purge` anonymises its registrations.
        "EVENTSVC_RETENTION_DAYS": int(retention_days),
        # The largest request body, refused with 413 before it is read. Nothing uploads files;
        # the largest real bodies are an event form with a 20,000-character description
        # (about 120 KB percent-encoded in Cyrillic) and a door's offline queue of 1,000
        # check-ins (about 200 KB of JSON).
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,  # one field of a multipart form
        "MAX_FORM_PARTS": 500,  # fields of a multipart form
        # How long a request waits for a row lock (PostgreSQL's lock_timeout) or for SQLite's
        # write lock (busy_timeout) before it answers 503 "try again" instead of hanging
        # behind a stuck transaction; 0 waits without limit (services/locking.py).
        "EVENTSVC_LOCK_TIMEOUT_MS": int(lock_timeout),
        # A folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf for the certificates' PDF (they
        # need Latvian and Cyrillic letters); by default Debian's fonts-dejavu-core.
        "EVENTSVC_PDF_FONT_DIR": env.get(
            "EVENTSVC_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"
        ),
        "WTF_CSRF_TIME_LIMIT": None,  # a form left open for an hour must still submit
        # Our log lines (eventsvc/logs.py): DEBUG, INFO, WARNING or ERROR.
        "EVENTSVC_LOG_LEVEL": log_level,
        # Benchmarks only (bench/load_bench.py): adds POST /bench/baseline, one bare INSERT.
        "EVENTSVC_BENCH_BASELINE": env.get("EVENTSVC_BENCH_BASELINE") == "1",
    }
    settings.update(overrides)
    return settings
