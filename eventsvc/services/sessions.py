"""Staff sessions kept on the server: each sign-in is a row, and ending the row ends every
copy of its cookies.

A sign-in gets a random secret (secrets.token_urlsafe, 32 bytes). The session cookie, and
the "keep me signed in" cookie when asked for, carry it (Flask-Login signs both); the
database keeps only its SHA-256, so a copy of the table signs no one in. A remembered
session ends a fixed time after the sign-in (REMEMBER_COOKIE_DURATION, 30 days); any other
after EVENTSVC_SESSION_IDLE unused (12 hours). Nothing binds a session to an address or a
browser: a door phone moves between Wi-Fi and mobile data all day.

Sign-out ends one session; "sign out everywhere", a new password and disabling the account
end all of an account's sessions at once. Expired rows go in `flask privacy purge`.
Functions flush and never commit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db, rows_matched
from ..models import User, UserSession

SECRET_BYTES = 32
LAST_SEEN_GRANULARITY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _lifetime(remembered: bool) -> timedelta:
    config = current_app.config
    lifetime: timedelta = config[
        "REMEMBER_COOKIE_DURATION" if remembered else "EVENTSVC_SESSION_IDLE"
    ]
    return lifetime


def start(user: User, now: datetime, *, remembered: bool, user_agent: str = "") -> str:
    """A new session for `user` (already authenticated); returns its secret, which only the
    cookies will hold. The session is also set as the user's current one."""
    # The account's own sessions that have run out go as it signs in again.
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    record = UserSession(
        user_id=user.id,
        secret_hash=_hash(secret),
        remembered=remembered,
        device=describe_device(user_agent),
        created_at=now,
        last_seen_at=now,
        expires_at=now + _lifetime(remembered),
    )
    db.session.add(record)
    db.session.flush()
    user.current_session, user.current_session_secret = record, secret
    return secret


_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{40,64}")

_FIND = (
    select(UserSession)
    .where(UserSession.secret_hash == bindparam("secret_hash"))
    .options(joinedload(UserSession.user))
)


def user_for_secret(secret: str, now: datetime) -> User | None:
    """The active account whose unexpired session has this secret, or None. The row's
    `last_seen_at` is moved on (at most once a minute, see `touch`)."""
    if not isinstance(secret, str) or not _SECRET_SHAPE.fullmatch(secret):
        return None  # also what cookies from before server-side sessions held ("id:fingerprint")
    record = db.session.execute(_FIND, {"secret_hash": _hash(secret)}).scalar_one_or_none()
    if record is None or _aware(record.expires_at) <= now or not record.user.is_active:
        return None
    record.user.current_session, record.user.current_session_secret = record, secret
    return record.user


def touch(record: UserSession, now: datetime) -> bool:
    """Note that the session was used: at most once a minute, so a door phone scanning all
    evening does not add a write per scan. A session that is not remembered lasts its idle
    time from here. True when a row was written (the caller commits)."""
    if _aware(record.last_seen_at) > now - LAST_SEEN_GRANULARITY:
        return False
    values = {"last_seen_at": now}
    if not record.remembered:
        values["expires_at"] = now + _lifetime(False)
    # A plain UPDATE, guarded: a row ended meanwhile (sign-out elsewhere) is simply not
    # found, and parallel requests of one device write it once.
    written = rows_matched(
        update(UserSession)
        .where(
            UserSession.id == record.id,
            UserSession.last_seen_at <= now - LAST_SEEN_GRANULARITY,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return written > 0


def end(record: UserSession | None) -> None:
    """Sign-out: this one session, whoever holds a copy of its cookies."""
    if record is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == record.id))
        db.session.flush()


def end_all(user: User) -> int:
    """Every session of the account, on every device: "sign out everywhere", a new
    password, a disabled account. Returns how many there were."""
    ended = rows_matched(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.flush()
    return ended


def active_sessions(user: User, now: datetime) -> list[UserSession]:
    """The account's sessions that have not ended, the most recently used first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.expires_at > now)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def purge_expired(now: datetime) -> int:
    """Delete every session that has run out (daily, from `flask privacy purge`)."""
    purged = rows_matched(delete(UserSession).where(UserSession.expires_at <= now))
    db.session.flush()
    return purged


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- the device, as its owner will recognise it in the list --------------------------------

# The first that matches wins: Edge and Opera also say "Chrome", and Chrome also "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """'Chrome, Android' from a User-Agent header; '' when neither is recognised. Only this
    summary is kept, never the header itself."""
    user_agent = (user_agent or "")[:500]
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return ", ".join(part for part in (browser, system) if part)
