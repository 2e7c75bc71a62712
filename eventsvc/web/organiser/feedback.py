"""An event's feedback for its own organisers: which questions are asked, the totals and the
free text (nobody else sees the free text)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...services import ValidationFailed, access
from ...services import feedback as service
from ..boundary import discard
from ..forms import FlaskForm
from . import bp


class QuestionsForm(FlaskForm):
    """The CSRF token; the questions are checkboxes named `questions`."""


@bp.route("/events/<int:event_id>/feedback", methods=["GET", "POST"])
def feedback(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    form = QuestionsForm()
    error = None
    chosen = [q.key for q in service.questions_of(event)]
    if request.method == "POST" and form.validate_on_submit():
        chosen = request.form.getlist("questions")
        try:
            service.set_questions(current_user, event, chosen)
        except ValidationFailed as exc:
            discard()  # what comes back reads the rows as stored; nothing is kept
            error = exc.errors["questions"]
        else:
            flash(_("The questions are saved."), "success")
            return redirect(url_for(".feedback", event_id=event.id))
    return render_template(
        "organiser/feedback.html",
        event=event,
        form=form,
        questions=service.QUESTIONS,
        chosen=chosen,
        error=error,
        limits=(service.MIN_QUESTIONS, service.MAX_QUESTIONS),
        result=service.event_feedback(current_user, event),
        min_group=service.MIN_GROUP,
    ), 422 if error else 200
