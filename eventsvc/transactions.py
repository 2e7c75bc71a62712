"""One unit of work per request, command or job: the only place that commits.

A web request gets its unit from the boundary every view is wrapped in (web/boundary.py); a
CLI command, and each step of a job that commits in steps (one outbox message, one purge
batch, one event's counters), opens its own with `with unit_of_work():`. A unit commits once,
when it ends normally, and rolls back when anything in it raises; the services inside only
flush. Work outside the database that must follow a commit (deleting the development
mailbox's copies of erased mail) is queued with `after_commit()` and runs only once the unit
has committed.

The session keeps `expire_on_commit` on (Flask-SQLAlchemy's default), on purpose: the web
boundary commits after the view has built its answer, so no answer reads rows after the
commit; and a session that outlives a unit (the mail worker's loop, a command's steps, the
tests) must not trust its copies of rows that other transactions may have changed since. A
locking re-read that found an object already loaded would otherwise keep the old values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app

from .extensions import db

_AFTER_COMMIT = "eventsvc.after_commit"


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit when the block ends normally; roll back (and let the error go on) when it raises."""
    try:
        yield
    except BaseException:
        rollback()
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
        rollback()
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


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current unit has committed; never if it rolls back."""
    db.session().info.setdefault(_AFTER_COMMIT, []).append(callback)
