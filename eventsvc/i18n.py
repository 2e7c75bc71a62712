"""Language choice and the words for our enums and dates.

Latvian is the default. A visitor's explicit choice (the switcher on every page) is kept
in a cookie. Enum labels live here so every page and mail names things the same way.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app, has_request_context, request
from flask_babel import (
    format_date,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
    pgettext,
)
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from .models import (
    ActivityKind,
    Attendance,
    CallReason,
    CampaignKind,
    EventFormat,
    EventKind,
    EventStatus,
    FollowUpOutcome,
    OrganisationKind,
    OutboxStatus,
    RegistrationSource,
    RegistrationStatus,
    Role,
    SpeakerRole,
    TargetGroup,
)
from .needs import LABELS as NEED_LABELS
from .needs import Need, needs_text
from .timezones import to_riga

LANGUAGE_COOKIE = "lang"
LANGUAGE_NAMES = {"lv": "Latviešu", "en": "English", "ru": "Русский"}


def supported_languages() -> tuple[str, ...]:
    return current_app.config["EVENTSVC_LANGUAGES"]


def select_locale() -> str:
    """The switcher's choice (cookie) first; on a first visit, the browser's Accept-Language
    among ours (a Russian-speaking resident's phone asks for ru); else Latvian."""
    if has_request_context():
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        if chosen in supported_languages():
            return chosen
        return (
            request.accept_languages.best_match(supported_languages())
            or current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale())


LABELS: dict[type, dict] = {
    EventKind: {
        EventKind.DISCUSSION: _l("Discussion"),
        EventKind.FESTIVAL: _l("Festival"),
        EventKind.WORKSHOP: _l("Workshop"),
        EventKind.TRAINING: _l("Training"),
        EventKind.EXCURSION: _l("Excursion"),
        EventKind.MEETING: _l("Community meeting"),
        EventKind.CONCERT: _l("Concert"),
        EventKind.OTHER: _l("Other"),
    },
    EventFormat: {
        EventFormat.IN_PERSON: _l("In person"),
        EventFormat.ONLINE: _l("Online"),
        EventFormat.HYBRID: _l("In person and online"),
    },
    EventStatus: {
        EventStatus.DRAFT: _l("Draft"),
        EventStatus.PUBLISHED: _l("Published"),
        EventStatus.CANCELLED: _l("Cancelled"),
    },
    TargetGroup: {
        TargetGroup.EVERYONE: _l("Everyone"),
        TargetGroup.SENIORS: _l("Seniors"),
        TargetGroup.FAMILIES_DISABILITY: _l("Families of children with a disability"),
        TargetGroup.CHILDREN: _l("Children"),
        TargetGroup.YOUTH: _l("Young people"),
        TargetGroup.FUNCTIONAL_IMPAIRMENTS: _l("People with functional impairments"),
        TargetGroup.PROFESSIONALS: _l("Social work professionals"),
    },
    SpeakerRole: {
        SpeakerRole.MODERATOR: _l("Moderator"),
        SpeakerRole.PANELLIST: _l("Panellist"),
    },
    ActivityKind: {
        ActivityKind.WORKSHOP: _l("Workshop"),
        ActivityKind.CONTEST: _l("Contest"),
        ActivityKind.CONCERT: _l("Concert"),
        ActivityKind.SESSION: _l("Session"),
        ActivityKind.OTHER: _l("Other"),
    },
    CampaignKind: {
        CampaignKind.CAMPAIGN: _l("Campaign"),
        CampaignKind.PILOT: _l("Pilot project"),
        CampaignKind.PROJECT: _l("Project"),
    },
    Attendance: {
        Attendance.IN_PERSON: _l("In person"),
        Attendance.ONLINE: _l("Online"),
    },
    Role: {
        Role.ORGANISER: _l("Organiser"),
        Role.MINISTRY: _l("Ministry (totals only)"),
        Role.ADMIN: _l("Administrator"),
        Role.DOOR: _l("Door (check-in only)"),
    },
    OrganisationKind: {
        OrganisationKind.SOCIAL_SERVICE: _l("Municipal social service"),
        OrganisationKind.MINISTRY: _l("Ministry"),
        OrganisationKind.NGO: _l("Non-governmental organisation"),
        OrganisationKind.OTHER: _l("Other"),
    },
    RegistrationStatus: {
        RegistrationStatus.CONFIRMED: _l("Confirmed"),
        RegistrationStatus.WAITLISTED: _l("Waiting list"),
        RegistrationStatus.CANCELLED: _l("Cancelled"),
    },
    RegistrationSource: {
        RegistrationSource.WEB: _l("on the website"),
        RegistrationSource.API: _l("through another website"),
        RegistrationSource.ORGANISER: _l("by the organiser (e.g. by phone)"),
        RegistrationSource.WALK_IN: _l("at the door"),
    },
    FollowUpOutcome: {
        FollowUpOutcome.REACHED: _l("Reached"),
        FollowUpOutcome.NOT_REACHED: _l("Not reached"),
    },
    Need: NEED_LABELS,  # eventsvc/needs.py owns the list and its words
    CallReason: {
        CallReason.NO_EMAIL: _l("No email address"),
        CallReason.UNDELIVERED: _l("Our email was not delivered"),
    },
    OutboxStatus: {
        OutboxStatus.PENDING: _l("Waiting to be sent"),
        OutboxStatus.SENDING: _l("Being sent"),
        OutboxStatus.SENT: _l("Sent"),
        OutboxStatus.FAILED: _l("Not delivered"),
        OutboxStatus.SKIPPED: _l("Nothing to send"),
    },
}

# A language as a word of the page's language (the switcher names each in its own instead).
LANGUAGE_WORDS = {"lv": _l("Latvian"), "ru": _l("Russian"), "en": _l("English")}


def language_word(code: str) -> str:
    return str(LANGUAGE_WORDS.get(code, code))


# What each kind of queued message is about (services/notifications.py KINDS), for staff.
MESSAGE_KINDS = {
    "registration_confirmed": _l("Ticket (registration confirmed)"),
    "registration_repeated": _l("Ticket sent again"),
    "registration_promoted": _l("Ticket (a place from the waiting list)"),
    "registration_waitlisted": _l("Placed on the waiting list"),
    "registration_cancelled": _l("Registration cancelled"),
    "registration_restored": _l("Cancellation undone"),
    "registration_changed": _l("Registration changed"),
    "event_changed": _l("Change to the event"),
    "event_cancelled": _l("Event cancelled"),
    "event_reminder": _l("Reminder before the event"),
    "needs_digest": _l("Accessibility needs for tomorrow (to organisers)"),
    "activity_promoted": _l("A place in an activity (from its waiting list)"),
    "registration_email_changed": _l("Email address changed (to the former address)"),
    "event_feedback": _l("Feedback form after the event"),
    "organiser_message": _l("Message from the organiser"),
}


def message_kind(kind: str) -> str:
    return str(MESSAGE_KINDS.get(kind, kind))


def label(value) -> str:
    """The translated name of an enum member."""
    return str(LABELS[type(value)][value])


def choices(enum_cls) -> list[SelectChoice]:
    """Options for a form field, in declaration order."""
    return [SelectChoice(member.value, LABELS[enum_cls][member]) for member in enum_cls]


# Latvian needs the month in the dative after "līdz" ("until"); gettext contexts let each
# language say "until 15 November" in its own grammar.
_UNTIL_MONTHS = [
    lambda: pgettext("until <day> <month>", "January"),
    lambda: pgettext("until <day> <month>", "February"),
    lambda: pgettext("until <day> <month>", "March"),
    lambda: pgettext("until <day> <month>", "April"),
    lambda: pgettext("until <day> <month>", "May"),
    lambda: pgettext("until <day> <month>", "June"),
    lambda: pgettext("until <day> <month>", "July"),
    lambda: pgettext("until <day> <month>", "August"),
    lambda: pgettext("until <day> <month>", "September"),
    lambda: pgettext("until <day> <month>", "October"),
    lambda: pgettext("until <day> <month>", "November"),
    lambda: pgettext("until <day> <month>", "December"),
]


def until_day_month(day: date) -> str:
    """'15 November' in the form that follows 'until' (lv: '15. novembrim')."""
    return pgettext("until <day> <month>", "%(day)s %(month)s") % {
        "day": day.day,
        "month": _UNTIL_MONTHS[day.month - 1](),
    }


def local_date(value: datetime | date, fmt: str = "full") -> str:
    if isinstance(value, datetime):
        value = to_riga(value).date()
    return format_date(value, fmt)


def local_time(value: datetime) -> str:
    return format_time(value, "short")  # Flask-Babel converts to Europe/Riga


def local_datetime(value: datetime, fmt: str = "medium") -> str:
    """A day and a time as people say them, in Riga: "10 Dec 2026, 13:00" — never seconds or a
    zone ("13:00:00 EET"), which Babel's own medium and long formats add."""
    return f"{local_date(value, fmt)}, {local_time(value)}"


def local_period(starts: datetime, ends: datetime, fmt: str = "full") -> str:
    """When something happens, in Riga: "Saturday, 19 December 2026, 12:00–18:00" within one
    day; across days, each end with its own date (a two-day training must not read as one
    day)."""
    if to_riga(starts).date() == to_riga(ends).date():
        return f"{local_date(starts, fmt)}, {local_time(starts)}–{local_time(ends)}"
    return f"{local_datetime(starts, fmt)} – {local_datetime(ends, fmt)}"


def local_text(item, name: str, language: str | None = None):
    """`event|local_text("title")`: the field in the page's (or a mail's) language, falling
    back to Latvian; print it as is, and its `.lang` in the lang attribute around it."""
    return item.text(name, language or current_language())


def tel_href(phone: str) -> str:
    """'+371 6400 0000' -> '+37164000000' for a tel: link (a phone dials digits only)."""
    return ("+" if phone.strip().startswith("+") else "") + "".join(c for c in phone if c.isdigit())


def number(value: int | float) -> str:
    """A count as the page's language writes it (lv/ru: "12 345", en: "12,345")."""
    return format_decimal(value)


def percent(value: float) -> str:
    """A share from 0 to 1 as a whole percentage in the page's language ("59%", "59 %")."""
    return format_percent(value)


def init_app(app) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        label=label,
        message_kind=message_kind,
        local_date=local_date,
        local_time=local_time,
        local_datetime=local_datetime,
        local_period=local_period,
        tel_href=tel_href,
        local_text=local_text,
        language_word=language_word,
        needs_text=needs_text,
        number=number,
        percent=percent,
    )
