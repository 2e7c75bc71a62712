"""The form base class, and forms and fields shared by several blueprints."""

from __future__ import annotations

import flask_babel
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import choices
from ..models import EventKind, TargetGroup


class _BabelTranslations:
    """WTForms' own messages through our catalogue (WTForms ships no Latvian)."""

    def gettext(self, string):
        return flask_babel.gettext(string)

    def ngettext(self, singular, plural, n):
        return flask_babel.ngettext(singular, plural, n)


class FlaskForm(_FlaskForm):
    """Every form of the app: CSRF from Flask-WTF, messages in the user's language."""

    class Meta(_FlaskForm.Meta):
        def get_translations(self, form):
            return _BabelTranslations()


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


MAX_PAGE = 10_000


def page_arg() -> int:
    """?page=N of a paginated list: 1 to MAX_PAGE, otherwise the first page (a huge number
    would overflow the database's OFFSET)."""
    from flask import request

    page = request.args.get("page", 1, type=int)
    return page if 1 <= page <= MAX_PAGE else 1
