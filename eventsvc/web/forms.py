"""The form base class, and forms and fields shared by several blueprints."""

from __future__ import annotations

import flask_babel
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from flask_wtf.form import _Auto  # Flask-WTF's "read the request" marker
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.datetime import DateTimeField, TimeField
from wtforms.validators import Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import choices
from ..models import EventKind, TargetGroup
from ..services.input_rules import date_problem, text_problem


class _BabelTranslations:
    """WTForms' own messages through our catalogue (WTForms ships no Latvian). WTForms fills
    in the placeholders itself, so the translated text goes back unformatted."""

    def gettext(self, string):
        return flask_babel.get_translations().gettext(string)

    def ngettext(self, singular, plural, n):
        return flask_babel.get_translations().ngettext(singular, plural, n)


class PlainText:
    """The text rule of services/input_rules.py on a form field: one line, or several lines
    in a text area; no control characters either way. Added to every text field by FlaskForm."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        problem = text_problem(field.data, self.multiline)
        if problem is not None:
            raise StopValidation(problem)


class SupportedDate:
    """A date (or date and time) within the years the service keeps. Added to every date field
    by FlaskForm."""

    def __call__(self, form, field):
        problem = date_problem(field.data)
        if problem is not None:
            raise StopValidation(problem)


class FlaskForm(_FlaskForm):
    """Every form of the app: CSRF from Flask-WTF, messages in the user's language, and the
    service's rules for text and dates on every field of those kinds, so that a new field
    cannot forget them."""

    class Meta(_FlaskForm.Meta):
        def get_translations(self, form):
            return _BabelTranslations()

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, CSRFTokenField):
                return field
            if isinstance(field, StringField):  # also email, phone, password, hidden fields
                field.validators = [PlainText(isinstance(field, TextAreaField)), *field.validators]
            elif isinstance(field, DateTimeField) and not isinstance(field, TimeField):
                field.validators = [*field.validators, SupportedDate()]
            return field

        def wrap_formdata(self, form, formdata):
            if formdata is _Auto:
                # Form fields only: neither a JSON body nor a file part stands in for them.
                submitted = request.method in ("POST", "PUT", "PATCH", "DELETE")
                return request.form if submitted and request.form else None
            return super().wrap_formdata(form, formdata)


# WTForms' messages that our fields can show, listed so that extraction finds them.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid URL."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid integer value."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    lambda: flask_babel.ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        2,
    ),
    lambda: flask_babel.ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        2,
    ),
    _l("The CSRF token is missing."),
    _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."),
    _l("The CSRF tokens do not match."),
)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def add_errors(form, errors: dict[str, str], field_for: dict[str, str] | None = None) -> None:
    """Show a service's per-field messages next to the form's fields (others as flashes)."""
    from flask import flash

    for name, message in errors.items():
        name = (field_for or {}).get(name, name)
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            flash(message, "error")


def _with_all(label, enum_cls):
    return lambda: [SelectChoice("", label), *choices(enum_cls)]


class CalendarFilterForm(FlaskForm):
    """Filters in the query string (GET), so a filtered calendar can be bookmarked."""

    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    kind = SelectField(
        _l("Kind of event"), choices=_with_all(_l("All kinds"), EventKind), validators=[Optional()]
    )
    target_group = SelectField(
        _l("Who it is for"),
        choices=_with_all(_l("All groups"), TargetGroup),
        validators=[Optional()],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))


def filter_problems(form) -> str:
    """A filter form's messages in one line, for an answer that has no form to show them
    on (a calendar feed, a CSV file): "From: Enter a date between …"."""
    return " ".join(
        f"{form[name].label.text}: {' '.join(map(str, messages))}"
        for name, messages in form.errors.items()
    )


MAX_PAGE = 10_000


def page_arg() -> int:
    """?page=N of a paginated list: 1 to MAX_PAGE, otherwise the first page (a huge number
    would overflow the database's OFFSET)."""
    from flask import request

    page = request.args.get("page", 1, type=int)
    return page if 1 <= page <= MAX_PAGE else 1
