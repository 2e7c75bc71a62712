"""Blueprints, security headers and error pages."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..services import NotFound, PermissionDenied
from .api.errors import api_error


def register_blueprints(app: Flask) -> None:
    from ..extensions import csrf
    from . import account, admin, auth, dev_mailbox, preferences, public, registration, stats
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
    app.register_blueprint(stats.bp)
    app.register_blueprint(dev_mailbox.bp)
    dev_mailbox.start_inprocess_worker(app)

    _register_error_pages(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Manage links carry a secret in the path: never send it to another site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


API_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             422: "invalid", 429: "rate_limited", 500: "server_error"}


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood. Please go back and try again."),
        401: lambda: _("Please sign in (or send a valid API token)."),
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("This page does not exist, or it is not public."),
        405: lambda: _("This address does not accept that request."),
        422: lambda: _("The request could not be processed."),
        429: lambda: _("Too many requests. Please wait a moment and try again."),
        500: lambda: _("Something went wrong on our side. Please try again later."),
    }

    def render_error(code: int, api_code: str | None = None):
        if code >= 500:
            db.session.rollback()  # the failed transaction must not break the error page too
        message = messages.get(code, messages[500])()
        if request.path.startswith("/api/"):
            return api_error(code, api_code or API_CODES.get(code, "error"), message)
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return render_error(exc.code or 500)

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
