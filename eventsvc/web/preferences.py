"""A visitor's reading preferences: language and text size, each kept in a cookie for a year.

Both switchers are plain links (they work without JavaScript and on every page); following
one sets the cookie and returns to the page the visitor was on. A signed-in staff member's
choice of language is also kept on their account, for the mail the service sends them.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, supported_languages
from ..services.accounts import remember_language
from .auth import safe_next

bp = Blueprint("preferences", __name__)

TEXT_SIZE_COOKIE = "text_size"
# As on Latvian municipal sites: A, A+, A++. The class on <html> scales the root font size.
TEXT_SIZES = {
    "normal": ("A", _l("normal text")),
    "large": ("A+", _l("larger text")),
    "largest": ("A++", _l("largest text")),
}
ONE_YEAR = 365 * 24 * 3600


def _back():
    return redirect(safe_next(request.args.get("next")) or url_for("public.calendar"))


@bp.get("/language/<code>")
def language(code: str):
    response = _back()
    if code in supported_languages():
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        if current_user.is_authenticated:  # staff: their mail (the needs digest) follows it
            remember_language(current_user, code)
    return response


@bp.get("/text-size/<size>")
def text_size(size: str):
    response = _back()
    if size in TEXT_SIZES:
        response.set_cookie(TEXT_SIZE_COOKIE, size, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response


@bp.after_app_request
def vary_by_language(response):
    """A page without the language cookie is in the browser's language: caches must key on it."""
    if LANGUAGE_COOKIE not in request.cookies:
        response.vary.add("Accept-Language")
    return response


def current_text_size() -> str:
    chosen = request.cookies.get(TEXT_SIZE_COOKIE)
    return chosen if chosen in TEXT_SIZES else "normal"


@bp.app_context_processor
def page_preferences():
    return {
        "current_language": str(get_locale()),
        "languages": [(code, LANGUAGE_NAMES[code]) for code in supported_languages()],
        "current_text_size": current_text_size(),
        "text_sizes": TEXT_SIZES,
    }
