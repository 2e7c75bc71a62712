"""Blueprints, security headers, error pages, and what every template may ask (`can`:
services/access.py's answers for the signed-in user)."""

from __future__ import annotations

from flask import Flask, abort, has_request_context, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .. import transactions
from ..services import NotFound, PermissionDenied, access
from .api.errors import api_error


def register_blueprints(app: Flask) -> None:
    from ..extensions import csrf
    from . import (
        account,
        admin,
        audit,
        auth,
        dev_mailbox,
        feedback,
        input_guard,
        preferences,
        public,
        registration,
        stats,
    )
    from .api import bp as api_bp
    from .organiser import bp as organiser_bp

    # Public API calls carry no cookie authority (private tokens travel in the path); staff
    # calls made with a session must send the X-CSRFToken header (web/api/auth.py).
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(registration.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(organiser_bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(audit.bp)  # /admin/audit and /manage/audit
    app.register_blueprint(stats.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(dev_mailbox.bp)

    _register_error_pages(app)

    @app.context_processor
    def permissions():
        """`can.manage_events` … in every template: what services/access.py lets the user
        reach, so that no template repeats a role check."""
        return {"can": access.permissions(current_user if has_request_context() else None)}

    @app.before_request
    def refuse_nul_bytes():
        """No person types a NUL byte and PostgreSQL keeps none in text: a request with one in
        its path, query, form or JSON body is refused before anything reads it (400). A door's
        queue is the exception: each of its items is answered on its own (one with a NUL byte
        as invalid), so one bad item never costs the scans queued with it."""
        if request.endpoint != "api.sync_checkins" and _has_nul_byte():
            abort(400)

    input_guard.init_app(app)  # too large, files, JSON that cannot be parsed

    @app.after_request
    def security_headers(response):
        # A view may set its own policy (the development mailbox's mail frame does).
        api = request.path.startswith("/api/")
        response.headers.setdefault("Content-Security-Policy", API_CSP if api else PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Manage links carry a secret in the path: never send it to another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if (
            request.is_secure
            or app.config["ENV_NAME"] == "production"
            or app.config["SESSION_COOKIE_SECURE"]
        ):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def _has_nul_byte() -> bool:
    if "\x00" in request.path or any(
        "\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)
    ):
        return True
    if request.is_json:
        body = request.get_data()  # kept: get_json() reads the same bytes
        return b"\x00" in body or b"\\u0000" in body
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True))
    return False


# Pages: no inline script or style anywhere (tests/test_security_headers.py reads every
# template for them). The door page's camera scanner (static/vendor/qr-scanner) decodes in
# a Worker made from a blob: URL and plays the camera stream in a <video>; checkin.js talks
# to the API and registers the door's service worker (both same origin).
PAGE_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "media-src 'self' blob: mediastream:",
    )
)
# JSON is never a document to render: nothing may load, nothing may frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The door page needs the camera, nothing needs the rest.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
# In production (behind HTTPS, see config.py) or on any HTTPS request: one year, subdomains too.
HSTS = "max-age=31536000; includeSubDomains"


API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
}


def _register_error_pages(app: Flask) -> None:
    from . import unavailable

    unavailable.init_app(app)  # the database busy or down: 503 "try again", never a 500
    # The size named in the 413 page (a bare app without our config sets no limit).
    largest = "%g MB" % ((app.config.get("MAX_CONTENT_LENGTH") or 0) / 1024 / 1024)
    messages = {
        400: lambda: _("The request could not be understood. Please go back and try again."),
        401: lambda: _("Please sign in (or send a valid API token)."),
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("This page does not exist, or it is not public."),
        405: lambda: _("This address does not accept that request."),
        413: lambda: _(
            "What was sent is too large (at most %(size)s). Please send less, without attachments.",
            size=largest,
        ),
        422: lambda: _("The request could not be processed."),
        429: lambda: _("Too many requests. Please wait a moment and try again."),
        500: lambda: _("Something went wrong on our side. Please try again later."),
    }

    def render_error(code: int, api_code: str | None = None, message: str | None = None):
        if code >= 500:
            # A view's failure is rolled back by its boundary; this one may come from before
            # the view (a hook): its failed transaction must not break the error page too.
            transactions.rollback()
        message = message or messages.get(code, messages[500])()
        if request.path.startswith("/api/"):
            return api_error(code, api_code or API_CODES.get(code, "error"), message)
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if (
            exc.response is not None
        ):  # a ready answer, e.g. the sign-in form when throttled (auth.py)
            return exc.response
        response = make_response(
            render_error(
                exc.code or 500,
                getattr(exc, "api_code", None),
                getattr(exc, "user_message", None),
            )
        )
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110 asks for it
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_template(
            "error.html",
            code=400,
            message=_("The form had expired. Please go back, reload the page and send it again."),
        ), 400

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound):
        return render_error(404)

    @app.errorhandler(PermissionDenied)
    def forbidden(exc: PermissionDenied):
        return render_error(403)

    @app.errorhandler(500)
    def server_error(exc):
        return render_error(500)
