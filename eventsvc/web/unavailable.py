"""The answer when the database cannot do its part now: a lock held longer than
EVENTSVC_LOCK_TIMEOUT_MS, or the database down or restarting (eventsvc.transactions
.try_again_later). Every page and API call answers 503 with Retry-After and a message in
the user's language, never a 500, and nothing of the request is kept. A view whose form must
come back with what the person typed says how with `@form_kept(page)`; the JSON API answers
its usual error shape; the door's page treats a 503 like being offline and queues the scan
(static/js/checkin.js). Connections come back by themselves when the database does
(pool_pre_ping, config.py): no restart.
"""

from __future__ import annotations

import contextlib

from flask import Flask, current_app, g, render_template, request
from flask_babel import gettext as _
from sqlalchemy import exc as sa_exc

from .. import transactions
from ..extensions import login_manager
from ..transactions import Failure, try_again_later
from .api.errors import api_error

# Seconds a client is asked to wait: a lock is let go within moments; a database that is
# restarting takes longer.
RETRY_AFTER = {Failure.BUSY: 5, Failure.UNREACHABLE: 30}
# The JSON API's error codes (web/api/errors.py): "busy" (a lock, try again in seconds) or
# "unavailable" (the database is away).
API_CODES = {Failure.BUSY: "busy", Failure.UNREACHABLE: "unavailable"}


def init_app(app: Flask) -> None:
    for error in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.register_error_handler(error, _answer)


def form_kept(page):
    """Mark a view whose form comes back filled when the database fails it: `page(message)`
    builds that page from the request alone (it must not read the database)."""

    def mark(view):
        view.when_unavailable = page
        return view

    return mark


def message(failure: Failure) -> str:
    said = (
        _("Many people are doing the same at this moment. Please try again in a few seconds.")
        if failure is Failure.BUSY
        else _("The service is briefly unavailable. Please try again in a minute.")
    )
    if request.method not in ("GET", "HEAD"):
        said += " " + _("What you sent has not been saved.")
    return said


def _answer(error):
    failure = try_again_later(error)
    if failure is None:
        raise error  # not the database's state but a bug: the ordinary 500
    with contextlib.suppress(sa_exc.SQLAlchemyError):  # the connection may be gone with it
        transactions.rollback()
    # The page must not ask the database who is signed in (it may be what failed): this
    # answer is drawn as for a visitor.
    g._login_user = login_manager.anonymous_user()
    text = message(failure)
    if request.path.startswith("/api/"):
        response = api_error(503, API_CODES[failure], text)
    else:
        view = current_app.view_functions.get(request.endpoint or "")
        page = getattr(view, "when_unavailable", None)
        if page is not None and request.method == "POST":
            response = page(text)
        else:
            response = render_template("error.html", code=503, message=text)
    response = current_app.make_response(response)
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER[failure])
    return response
