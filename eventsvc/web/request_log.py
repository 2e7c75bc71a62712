"""One log line per request for the operator: method, route, status, duration and a request
id (X-Request-ID from the proxy if it is sane, else a new one; sent back on the response).

The route is the URL rule ("/r/<token>"), never the path: a resident's manage link carries
a private token in it. Nor the query, the client's address or anything from the body.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, Response, g, request

from ..logs import ExcInfo

log = logging.getLogger("eventsvc.request")
HEADER = "X-Request-ID"
# What we take from a proxy (nginx's $request_id, a UUID, …); anything else could break
# the log line or carry what does not belong there.
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_app(app: Flask) -> None:
    # First of all before_request functions: a rate limit or a refusal answers before the
    # view, and its answer is logged too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)  # registered first, so it runs last: the final status


def route() -> str:
    """The request's URL rule, "-" when none matched (a 404)."""
    rule = request.url_rule
    return rule.rule if rule is not None else "-"


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get(HEADER, "")
    g.request_id = given if SANE_ID.match(given) else secrets.token_hex(16)


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    request_id = g.get("request_id")
    if started is None or request_id is None:  # the request never reached _start
        return response
    response.headers[HEADER] = request_id
    log.info(
        "request method=%s route=%s status=%d duration_ms=%.1f",
        request.method,
        route(),
        response.status_code,
        (time.perf_counter() - started) * 1000,
        extra={"request_id": request_id},
    )
    return response


def log_exception(app: Flask, exc_info: ExcInfo) -> None:
    """Flask's own message names the path (and so a private token): name the route."""
    app.logger.error("Exception on %s [%s]", route(), request.method, exc_info=exc_info)
