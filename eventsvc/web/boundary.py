"""The transaction boundary of a web request (as Indico's RH.process and pretix's atomic
services have one): every view runs in one unit of work (eventsvc/transactions.py).

- The view raised (a ServiceError it let through, abort(), anything): roll back.
- The view returned an error answer (4xx/5xx, e.g. its form with the errors): roll back.
  An answer that says something went wrong keeps nothing.
- Otherwise commit, after the view has built its answer and before the answer is sent. A
  commit that fails becomes an error answer (503 when the database is busy or away, see
  web/unavailable.py), never a 200 for something that was not stored; what the view put into
  the browser's session (a flash "You are registered", the signed-in user) is taken back too.

Views never commit or roll back themselves. The two exceptions go through this module and
say why where they are used: `discard()` for a view that answers a service's refusal with a
page that is not an error (a flash and a redirect), and `commit_now()` for a write that must
be kept whatever the answer turns out to be.
"""

from __future__ import annotations

import contextlib
import copy
import functools

from flask import Flask, current_app, g, session
from sqlalchemy.exc import SQLAlchemyError

from .. import transactions

_DISCARDED = "_eventsvc_discarded"


def init_app(app: Flask) -> None:
    """Wrap every view registered so far (call it after the blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not hasattr(view, "unit_of_work"):
            app.view_functions[endpoint] = _in_unit_of_work(view)


def _in_unit_of_work(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        before = copy.deepcopy(dict(session))
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            _roll_back()
            raise
        if response.status_code >= 400 or g.pop(_DISCARDED, False):
            _roll_back()
            return response
        try:
            transactions.commit()
        except BaseException:
            # Nothing was stored: the browser must not keep what the view told it.
            session.clear()
            session.update(before)
            raise
        return response

    wrapped.unit_of_work = True  # type: ignore[attr-defined]  # the mark that a view is wrapped
    return wrapped


def _roll_back() -> None:
    with contextlib.suppress(SQLAlchemyError):  # the connection may be gone, the answer stands
        transactions.rollback()


def discard() -> None:
    """Roll back what this request has changed so far, and commit nothing when it ends: for a
    view that answers a service's refusal itself with a page that is not an error. Done at
    once, so that what the view shows next is read from the stored rows."""
    transactions.rollback()
    setattr(g, _DISCARDED, True)


def commit_now() -> None:
    """Commit what this request has done so far, before the rest of it can fail: only for a
    write that must be kept whatever the answer is. Each caller says why."""
    transactions.commit()
