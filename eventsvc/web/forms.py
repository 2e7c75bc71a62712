"""Forms shared by several blueprints."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from ..i18n import choices
from ..models import EventKind, TargetGroup


def _with_all(label, enum_cls):
    return lambda: [SelectChoice("", label)] + choices(enum_cls)


class CalendarFilterForm(FlaskForm):
    """Filters in the query string (GET), so a filtered calendar can be bookmarked."""

    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    kind = SelectField(_l("Kind of event"), choices=_with_all(_l("All kinds"), EventKind), validators=[Optional()])
    target_group = SelectField(
        _l("Who it is for"), choices=_with_all(_l("All groups"), TargetGroup), validators=[Optional()]
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))
