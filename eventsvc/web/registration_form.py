"""The resident's registration form and its submission to the rules, one module for every
page that shows it: the event page (web/public.py), the registration views
(web/registration.py) and the organiser's phone registrations (web/organiser/)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, ValidationError

from .. import needs as need_list
from ..i18n import LANGUAGE_NAMES, choices, current_language
from ..models import Attendance, RegistrationSource
from ..services import ServiceError, ValidationFailed
from ..services import registration as rules
from ..services.registration import RegistrationRequest
from ..timezones import utcnow
from .boundary import discard
from .forms import FlaskForm, MultiCheckboxField, add_errors


class RegistrationForm(FlaskForm):
    name = StringField(_l("Name and surname"), validators=[InputRequired(_l("Enter your name."))])
    email = EmailField(
        _l("Email"), description=_l("Your ticket and the link to change or cancel are sent here.")
    )
    phone = TelField(
        _l("Phone"), description=_l("If you have no email, give a phone number instead.")
    )
    party_size = IntegerField(
        _l("How many people come (you included)"),
        default=1,
        description=_l("A parent with two children is 3."),
        validators=[InputRequired(_l("Enter a number."))],
    )
    activity_ids = MultiCheckboxField(
        _l("Activities you want to take part in"),
        coerce=int,
        validate_choice=False,
        description=_l(
            "A full activity does not cost you your place at the event: you get your place, "
            "and a turn on that activity's waiting list. We write to you when a place in it "
            "frees up. You can also leave it out."
        ),
    )
    # Shown only at a hybrid event; elsewhere it is absent, which is no error.
    attendance = RadioField(
        _l("How will you take part?"), choices=lambda: choices(Attendance), validate_choice=False
    )
    # The needs organisers plan for (eventsvc/needs.py), as tick boxes in a fieldset; a value
    # that is none of them is refused next to the field.
    access_needs = MultiCheckboxField(
        _l("Accessibility needs (optional)"),
        choices=lambda: [SelectChoice(n.value, need_list.LABELS[n]) for n in need_list.NEEDS],
        description=_l(
            "Tick what you or anyone coming with you needs, so that the organiser can prepare."
        ),
    )
    needs = TextAreaField(
        _l("Other needs (optional)"),
        description=_l("Anything else the organiser should know, e.g. a seat near the exit."),
    )
    language = SelectField(
        _l("Language for messages"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in rules.LANGUAGES],
    )
    consent = BooleanField(_l("I agree that my data is processed to register me for this event."))
    # Optional and unticked: services/follow_up.py.
    follow_up_consent = BooleanField(
        _l(
            "If I cannot come, the social service may contact me afterwards to ask how I am "
            "(optional)."
        ),
        description=_l(
            "Only if you were not at the event. You can withdraw this at any time through the "
            "private link to your registration."
        ),
    )
    # The honeypot: hidden from people (css .hp-field, aria-hidden, out of the tab order) and
    # shown only on the public form; a bot that fills every field fills this one too.
    website = StringField(_l("Leave this field empty"))

    def validate_attendance(self, field):
        if field.data and field.data not in Attendance._value2member_map_:
            raise ValidationError(_l("Choose in person or online."))


def registration_form(event, places) -> RegistrationForm:
    form = RegistrationForm()
    form.activity_ids.choices = activity_choices_of(event, places)
    if not form.is_submitted():
        form.language.data = current_language()
    return form


def activity_choices_of(event, places) -> list[SelectChoice]:
    """The event's activities as checkboxes, each with its places left (or full)."""
    return [
        SelectChoice(a.id, activity_label(a, places.activities[a.id])) for a in event.activities
    ]


def activity_label(activity, places) -> str:
    """The checkbox's label: the title and time, and its places left or that it is full."""
    from ..i18n import local_time

    when = f"{local_time(activity.starts_at)}–{local_time(activity.ends_at)}"
    title = activity.text("title", current_language()).text
    if places.left is None:
        return f"{title} ({when})"
    if places.is_full:
        return _("%(title)s (%(when)s, full – waiting list)", title=title, when=when)
    return _("%(title)s (%(when)s, places left: %(n)d)", title=title, when=when, n=places.left)


def request_from_form(form: RegistrationForm) -> RegistrationRequest:
    return RegistrationRequest(
        name=form.name.data or "",
        email=form.email.data,
        phone=form.phone.data,
        party_size=form.party_size.data if form.party_size.data is not None else 0,
        activity_ids=list(form.activity_ids.data or []),
        attendance=Attendance(form.attendance.data)
        if form.attendance.data in Attendance._value2member_map_
        else None,
        needs=form.needs.data or "",
        language=form.language.data or "lv",
        consent=bool(form.consent.data),
        follow_up_consent=bool(form.follow_up_consent.data),
        access_needs=ticked_needs(form),
    )


def ticked_needs(form: RegistrationForm) -> list[need_list.Need]:
    """The form's ticked needs that are needs (the field's own check reports the others)."""
    values = form.access_needs.data or []
    return [need_list.Need(v) for v in values if not need_list.unknown([v])]


def form_is_valid(form, check) -> bool:
    """The form's own checks (token, types) and the service's rules, all errors at once."""
    valid = form.validate_on_submit()
    try:
        check()
    except ValidationFailed as exc:
        add_errors(
            form, {k: v for k, v in exc.errors.items() if k not in form or not form[k].errors}
        )
        return False
    return valid


@dataclass(frozen=True)
class Submission:
    outcome: rules.RegistrationOutcome | None
    status: int  # 201, 422 (errors on the form) or 409 (refused)
    refusal: str | None = None  # why it was refused, for the top of the page


def submit_registration(
    form, event_id: int, source: RegistrationSource, by_user=None
) -> Submission:
    """Validate the form and register: 201 with the outcome (the request's boundary commits
    it), or 422/409 with the errors on the form or the refusal, keeping nothing."""
    if not form_is_valid(form, lambda: rules.normalise_request(request_from_form(form))):
        return Submission(None, 422)
    try:
        outcome = rules.register(
            event_id, request_from_form(form), utcnow(), source, by_user=by_user
        )
    except ValidationFailed as exc:
        add_errors(form, exc.errors)
        return Submission(None, 422)
    except ServiceError as exc:  # refused: closed, full, too late …
        discard()  # the page that comes back reads the rows as they are stored
        return Submission(None, 409, exc.message)
    return Submission(outcome, 201)
