"""Organiser forms. They parse and check the shape of input; the rules live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from ...i18n import LANGUAGE_NAMES, choices
from ...models import ActivityKind, EventFormat, EventKind, SpeakerRole, TargetGroup
from ..forms import FlaskForm, MultiCheckboxField

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


# The optional Russian and English text of an event, activity or speaker (the plain fields
# are the Latvian, which is required). lang= lets spell checkers and screen readers follow.
TRANSLATION_LABELS = {
    ("title", "ru"): _l("Title in Russian"),
    ("title", "en"): _l("Title in English"),
    ("summary", "ru"): _l("Short summary in Russian"),
    ("summary", "en"): _l("Short summary in English"),
    ("description", "ru"): _l("Description in Russian"),
    ("description", "en"): _l("Description in English"),
    ("accessibility", "ru"): _l("Accessibility in Russian"),
    ("accessibility", "en"): _l("Accessibility in English"),
    ("position", "ru"): _l("Position in Russian"),
    ("position", "en"): _l("Position in English"),
}


def _translation(kind, name: str, language: str, max_length: int, label: str | None = None):
    return kind(
        TRANSLATION_LABELS[(label or name, language)],
        validators=[Optional(), Length(max=max_length)],
        render_kw={"lang": language},
    )


class EventForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)]
    )
    kind = SelectField(
        _l("Kind of event"), choices=lambda: choices(EventKind), validators=[InputRequired()]
    )
    summary = TextAreaField(
        _l("Short summary"),
        description=_l("One or two sentences shown in the calendar."),
        validators=[Length(max=500)],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    organisation_id = SelectField(_l("Organiser"), coerce=int, validators=[InputRequired()])
    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[InputRequired()])
    campaign_id = SelectField(
        _l("Campaign or pilot"), coerce=_optional_int, validators=[Optional()]
    )
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(_l("Enter the date and time it starts."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(_l("Enter the date and time it ends."))],
    )
    desk_opens_at = TimeField(
        _l("Registration desk opens"),
        description=_l("On the day of the event, e.g. 12:30 for a 13:00 start."),
        validators=[Optional()],
    )
    venue_name = StringField(
        _l("Venue"), description=_l("e.g. Tume culture house"), validators=[Length(max=200)]
    )
    venue_address = StringField(_l("Address"), validators=[Length(max=300)])
    format = SelectField(
        _l("Format"), choices=lambda: choices(EventFormat), validators=[InputRequired()]
    )
    stream_url = StringField(
        _l("Link to the online stream"),
        validators=[
            Optional(),
            URL(message=_l("Enter a web address starting with https://")),
            Length(max=500),
        ],
    )
    stream_public = BooleanField(
        _l("Stream link shown to everyone"),
        description=_l(
            "Tick for a public stream (e.g. a Facebook live). Otherwise only registered "
            "participants get the link: in their confirmation, reminder and private page."
        ),
    )
    capacity = IntegerField(
        _l("Places (people)"),
        description=_l("Counted in people, not registrations. Leave empty for no limit."),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=100_000,
                message=_l("Enter 1 to 100000 places, or leave empty for no limit."),
            ),
        ],
    )
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens"),
        format=DATETIME_FORMAT,
        description=_l("Leave empty to open registration when the event is published."),
        validators=[Optional()],
    )
    registration_closes_on = DateField(
        _l("Registration deadline (date)"),
        description=_l(
            "Registration stays open until the end of this day, Riga time. Leave empty to close when the event starts."
        ),
        validators=[Optional()],
    )
    registration_closes_time = TimeField(
        _l("Deadline time"),
        description=_l(
            "Only if registration closes at a set time rather than at the end of the day."
        ),
        validators=[Optional()],
    )
    target_groups = MultiCheckboxField(_l("Who it is for"), choices=lambda: choices(TargetGroup))
    # When the reminders go (services/reminders.py); a new event reminds the day before.
    remind_day_before = BooleanField(
        _l("The day before (from 10:00)"),
        default=True,
        description=_l("It says “tomorrow at 13:00”."),
    )
    remind_two_hours = BooleanField(
        _l("Two hours before"), description=_l("It says “today at 13:00”.")
    )
    accessibility = TextAreaField(
        _l("Accessibility"),
        description=_l("Step-free access, hearing loop, sign language, seating, parking…"),
        validators=[Length(max=5000)],
    )
    language = SelectField(
        _l("Language of the event"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        validators=[InputRequired()],
    )
    title_ru = _translation(StringField, "title", "ru", 200)
    summary_ru = _translation(TextAreaField, "summary", "ru", 500)
    description_ru = _translation(TextAreaField, "description", "ru", 20000)
    accessibility_ru = _translation(TextAreaField, "accessibility", "ru", 5000)
    title_en = _translation(StringField, "title", "en", 200)
    summary_en = _translation(TextAreaField, "summary", "en", 500)
    description_en = _translation(TextAreaField, "description", "en", 20000)
    accessibility_en = _translation(TextAreaField, "accessibility", "en", 5000)


class SpeakerForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the speaker's name.")), Length(max=120)]
    )
    title = StringField(
        _l("Position"),
        description=_l("e.g. Head of the social service"),
        validators=[Length(max=200)],
    )
    title_ru = _translation(StringField, "title", "ru", 200, label="position")
    title_en = _translation(StringField, "title", "en", 200, label="position")
    organisation = StringField(_l("Organisation"), validators=[Length(max=200)])
    role = SelectField(
        _l("Role"), choices=lambda: choices(SpeakerRole), validators=[InputRequired()]
    )
    position = IntegerField(
        _l("Order"),
        default=0,
        description=_l("Smaller numbers are listed first."),
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )


class ActivityForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)]
    )
    kind = SelectField(
        _l("Kind"), choices=lambda: choices(ActivityKind), validators=[InputRequired()]
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    title_ru = _translation(StringField, "title", "ru", 200)
    description_ru = _translation(TextAreaField, "description", "ru", 5000)
    title_en = _translation(StringField, "title", "en", 200)
    description_en = _translation(TextAreaField, "description", "en", 5000)
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(_l("Enter the date and time it starts."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=DATETIME_FORMAT,
        validators=[InputRequired(_l("Enter the date and time it ends."))],
    )
    location = StringField(
        _l("Place"), description=_l("e.g. the courtyard stage"), validators=[Length(max=200)]
    )
    capacity = IntegerField(
        _l("Places (people)"),
        description=_l("Leave empty for no separate limit."),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=100_000,
                message=_l("Enter 1 to 100000 places, or leave empty for no limit."),
            ),
        ],
    )
    position = IntegerField(
        _l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=1000)]
    )
