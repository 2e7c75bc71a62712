"""One unit of work per request, command or job: the only place that commits.

A web request gets its unit from the boundary every view is wrapped in (web/boundary.py); a
CLI command, and each step of a job that commits in steps (one outbox message, one purge
batch, one event's counters), opens its own with `with unit_of_work():`. A unit commits once,
when it ends normally, and rolls back when anything in it raises; the services inside only
flush or run statements in the unit's transaction (never commit). Work outside the database that must follow a commit (deleting the development
mailbox's copies of erased mail) is queued with `after_commit()` and runs only once the unit
has committed.

The session keeps `expire_on_commit` on (Flask-SQLAlchemy's default), on purpose: the web
boundary commits after the view has built its answer, so no answer reads rows after the
commit; and a session that outlives a unit (the mail worker's loop, a command's steps, the
tests) must not trust its copies of rows that other transactions may have changed since. A
locking re-read that found an object already loaded would otherwise keep the old values.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from flask import current_app
from sqlalchemy import exc as sa_exc

from .extensions import db

_AFTER_COMMIT = "eventsvc.after_commit"


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit when the block ends normally; roll back (and let the error go on) when it raises."""
    try:
        yield
    except BaseException:
        _rollback_after_failure()
        raise
    commit()


def commit() -> None:
    """Commit the session's transaction, then run what waited for it. If the commit itself
    fails, nothing is kept and the error goes on to the caller (a request answers 503)."""
    session = db.session()
    waiting = session.info.pop(_AFTER_COMMIT, [])
    try:
        session.commit()
    except BaseException:
        _rollback_after_failure()
        raise
    for callback in waiting:
        try:
            callback()
        except Exception:  # committed is committed: a tidy-up that fails is logged, not answered
            current_app.logger.exception("after-commit step failed")


def rollback() -> None:
    """Forget what the session's transaction changed (and what waited for its commit)."""
    session = db.session()
    session.info.pop(_AFTER_COMMIT, None)
    session.rollback()


def _rollback_after_failure() -> None:
    """Roll back after an error, which then goes on: if the connection went with the
    database, the rollback fails too, and that must not hide the error that matters."""
    with suppress(sa_exc.SQLAlchemyError):
        rollback()


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current unit has committed; never if it rolls back."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(callback)


class Failure(enum.Enum):
    """Why the database did not do its part, when the answer is "try again"."""

    BUSY = "busy"  # a lock held too long (lock_timeout), a deadlock broken, no free connection
    UNREACHABLE = "unreachable"  # down, restarting, or the connection lost


# PostgreSQL's SQLSTATEs: lock_not_available, deadlock_detected, serialization_failure; the
# server shutting down, crashed, starting up, out of connections; class 08: the connection.
_BUSY_STATES = {"55P03", "40P01", "40001"}
_UNREACHABLE_STATES = {"57P01", "57P02", "57P03", "53300"}
_SQLITE_BUSY = ("database is locked", "database table is locked")
_SQLITE_UNREACHABLE = ("unable to open database file", "disk I/O error")


def try_again_later(error: BaseException) -> Failure | None:
    """BUSY or UNREACHABLE when `error` says the database could not do it now (worth trying
    again in a moment); None for any other error, which is a bug to show as such."""
    if isinstance(error, sa_exc.TimeoutError):  # every pooled connection in use
        return Failure.BUSY
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return Failure.UNREACHABLE
    if not isinstance(error, sa_exc.OperationalError):
        return None
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        text = str(original)
        if text.startswith(_SQLITE_BUSY):
            return Failure.BUSY
        return Failure.UNREACHABLE if text.startswith(_SQLITE_UNREACHABLE) else None
    state = getattr(original, "sqlstate", None)
    if state in _BUSY_STATES:
        return Failure.BUSY
    if state is None or state.startswith("08") or state in _UNREACHABLE_STATES:
        return Failure.UNREACHABLE  # no SQLSTATE: the client could not reach the server
    return None
