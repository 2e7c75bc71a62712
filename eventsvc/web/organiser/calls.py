"""Organiser pages for people without email: the event's to-call list (mark a call done) and
the large-print letters to print for them (services/phone_calls.py, services/letters.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import IntegerField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from ...services import access, audit, phone_calls
from ...services.letters import Letter, letters
from ...timezones import utcnow
from ..forms import FlaskForm
from ..same_origin import same_origin_only
from . import bp


class CallDoneForm(FlaskForm):
    """ "Called": the newest call shown, so that one noted since stays on the list."""

    up_to = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


@bp.get("/events/<int:event_id>/calls")
def calls(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    return render_template(
        "organiser/calls.html",
        event=event,
        calls=phone_calls.call_list(current_user, event),
        form=CallDoneForm(),
    )


@bp.post("/events/<int:event_id>/calls/<int:registration_id>/done")
def call_done(event_id: int, registration_id: int):
    event = access.event_for_manager(current_user, event_id)
    form = CallDoneForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
    elif phone_calls.mark_done(current_user, event, registration_id, form.up_to.data, utcnow()):
        flash(_("Marked as called."), "success")
    else:
        flash(_("Someone marked this call as done already."), "success")
    return redirect(url_for(".calls", event_id=event.id))


@bp.get("/events/<int:event_id>/letters")
@same_origin_only
def print_letters(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    found = letters(current_user, event)
    page = render_template(
        "organiser/letters.html",
        event=event,
        letters=[_in_their_language(event, letter) for letter in found],
    )
    audit.record_export(current_user, audit.Action.EXPORT_LETTERS, event=event, rows=len(found))
    return page


def _in_their_language(event, letter: Letter) -> Markup:
    """One letter, every word of it in the registrant's language (whatever the page's)."""
    with force_locale(letter.language):
        return Markup(
            render_template(
                "organiser/_letter.html",
                event=event,
                letter=letter,
                registration=letter.registration,
                today=utcnow(),
            )
        )
