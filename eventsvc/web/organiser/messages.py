"""The organisers' message to an event's registrants: write, see how it will look and whom it
reaches, then send (services/organiser_messages.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ...services import ServiceError, ValidationFailed, access
from ...services import organiser_messages as messages
from ...services.organiser_messages import Audience, MessageData
from ...timezones import utcnow
from ..boundary import discard
from ..forms import FlaskForm, add_errors
from . import bp


class MessageForm(FlaskForm):
    audience = RadioField(
        _l("To whom"),
        choices=lambda: [SelectChoice(a.value, messages.AUDIENCE_LABELS[a]) for a in Audience],
        default=Audience.EVERYONE.value,
        validators=[InputRequired()],
    )
    subject = StringField(
        _l("Subject"),
        validators=[
            InputRequired(_l("Enter a subject.")),
            Length(max=messages.SUBJECT_LENGTH),
        ],
    )
    text = TextAreaField(
        _l("Message"),
        description=_l(
            "Each person gets it in a mail in their own language, with the event's details "
            "and the organiser's contacts; it is read out to those without email."
        ),
        validators=[InputRequired(_l("Write the message.")), Length(max=messages.TEXT_LENGTH)],
        render_kw={"rows": 8},
    )

    def data_for_service(self) -> MessageData:
        return MessageData(
            audience=Audience(self.audience.data),
            subject=self.subject.data or "",
            text=self.text.data or "",
        )


@bp.route("/events/<int:event_id>/message", methods=["GET", "POST"])
def message(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    form = MessageForm()
    action = request.form.get("action")  # "preview" (the default), "send" or "edit"
    if form.validate_on_submit() and action != "edit":
        try:
            if action == "send":
                told = messages.send(current_user, event, form.data_for_service(), utcnow())
            else:
                shown = messages.preview(current_user, event, form.data_for_service())
                return render_template(
                    "organiser/message_preview.html",
                    event=event,
                    form=form,
                    preview=shown,
                    audience=messages.AUDIENCE_LABELS[shown.data.audience],
                )
        except ServiceError as exc:
            discard()  # refused: nothing is sent; the form comes again
            if isinstance(exc, ValidationFailed):
                add_errors(form, exc.errors)
            else:
                flash(exc.message, "error")
        else:
            flash(_sent_message(told.emailed, told.phoned), "success")
            target = ".calls" if told.phoned else ".event"
            return redirect(url_for(target, event_id=event.id))
    return render_template(
        "organiser/message.html", event=event, form=form
    ), 422 if form.errors else 200


def _sent_message(emailed: int, phoned: int) -> str:
    sent = ngettext(
        "The message is on its way to %(num)d registration by email.",
        "The message is on its way to %(num)d registrations by email.",
        emailed,
    )
    if not phoned:
        return sent
    return (
        sent
        + " "
        + ngettext(
            "%(num)d person without email is on the to-call list.",
            "%(num)d people without email are on the to-call list.",
            phoned,
        )
    )
