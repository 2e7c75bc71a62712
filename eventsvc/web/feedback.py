"""The feedback form behind the private link a person gets after an event."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import force_locale

from ..extensions import limiter
from ..i18n import LANGUAGE_COOKIE, supported_languages
from ..services import ValidationFailed
from ..services import feedback as service
from ..timezones import utcnow
from .boundary import discard
from .forms import FlaskForm

bp = Blueprint("feedback", __name__)


class FeedbackForm(FlaskForm):
    """The CSRF token; the questions are the event's own, read from the request."""


def _language(token: str) -> str:
    """The visitor's chosen language if they chose one, else the registrant's."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in supported_languages() else service.language_of(token)


@bp.route("/feedback/<feedback_token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"], methods=["GET"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"], methods=["POST"])
def form(feedback_token: str):
    token = feedback_token
    language = _language(token)
    with force_locale(language):
        return _form(token, language)


def _form(token: str, language: str):
    now = utcnow()
    try:
        opened = service.open_form(token, now)
    except (service.LinkUsed, service.LinkExpired) as exc:
        return render_template("feedback/closed.html", message=exc.message), 410
    csrf = FeedbackForm()
    errors: dict[str, str] = {}
    answers = {}
    if request.method == "POST":
        answers = {q.key: request.form.get(q.key, "") for q in opened.questions}
        if not csrf.validate_on_submit():
            return render_template("error.html", code=400, message=csrf.csrf_token.errors[0]), 400
        try:
            service.submit(token, answers, now)
        except ValidationFailed as exc:
            discard()  # what comes back reads the rows as stored; nothing is kept
            errors = exc.errors
        except (service.LinkUsed, service.LinkExpired) as exc:
            discard()  # what comes back reads the rows as stored; nothing is kept
            return render_template("feedback/closed.html", message=exc.message), 410
        else:
            session["feedback_language"] = language
            return redirect(url_for(".thanks"))
    return render_template(
        "feedback/form.html",
        event=opened.event,
        questions=opened.questions,
        form=csrf,
        answers=answers,
        errors=errors,
    ), 422 if errors else 200


@bp.get("/feedback/thanks")
def thanks():
    language = session.pop("feedback_language", None)
    if language not in supported_languages():
        return render_template("feedback/thanks.html")
    with force_locale(language):
        return render_template("feedback/thanks.html")
