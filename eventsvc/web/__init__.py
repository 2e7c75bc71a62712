"""Blueprints, the language switcher and error pages."""
from __future__ import annotations

from flask import Flask, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, supported_languages
from ..services import NotFound, PermissionDenied
from .auth import safe_next


def register_blueprints(app: Flask) -> None:
    from . import auth, public
    from .organiser import bp as organiser_bp

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(organiser_bp)

    @app.get("/language/<code>")
    def set_language(code: str):
        response = redirect(safe_next(request.args.get("next")) or url_for("public.calendar"))
        if code in supported_languages():
            response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def page_globals():
        return {
            "current_language": str(get_locale()),
            "languages": [(code, LANGUAGE_NAMES[code]) for code in supported_languages()],
        }

    _register_error_pages(app)


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood. Please go back and try again."),
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("This page does not exist, or it is not public."),
        405: lambda: _("This address does not accept that request."),
        422: lambda: _("The request could not be processed."),
        429: lambda: _("Too many requests. Please wait a moment and try again."),
        500: lambda: _("Something went wrong on our side. Please try again later."),
    }

    def render_error(code: int):
        message = messages.get(code, messages[500])()
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
