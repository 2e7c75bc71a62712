"""What the service takes as text and as a date: one rule, asked by the forms (web/forms.py
adds it to every text field), the JSON API and the services.

A single-line field (a name, title, venue, address, email, phone) is one line: no CR, LF or
other control character (Unicode category Cc), no line or paragraph separator. Such values
end up in mail headers, calendar files and CSV cells, where a line break is structure.
A multi-line field (a description, needs) keeps its line breaks (CR, LF) and tabs, nothing
else of the kind (not U+2028/U+2029 either: no one types them, and they end lines where a
reader does not expect it). A lone surrogate (JSON can carry one as "\\ud800") is no
character at all: nothing can store or send it, so every field refuses it too.

Dates are 1900 to 2999: far inside what Python, SQLite and PostgreSQL hold, so that the
arithmetic around a date (a Riga day's bounds in UTC, a deadline's next midnight) never
steps over an edge.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # Cc without tab, LF and CR
_SURROGATES = "\ud800-\udfff"
_MULTI_LINE_REFUSED = re.compile(f"[{_CONTROLS}\u2028\u2029{_SURROGATES}]")
_SINGLE_LINE_REFUSED = re.compile(f"[\t\n\r{_CONTROLS}\u2028\u2029{_SURROGATES}]")

# The same rules as JSON Schema patterns for the API's document. They name characters
# one by one (no \s: JSON Schema's and Python's differ), and say nothing of lone
# surrogates, which no valid JSON text generator makes.
CONTROL_CHARACTERS = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"  # and separators
# Whitespace that str.split() and str.strip() remove, other than control characters.
WHITESPACE = r"\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
SINGLE_LINE_PATTERN = rf"^[^{CONTROL_CHARACTERS}]*$"
MULTI_LINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]*$"
# One line with something on it besides spaces (a name).
NAME_PATTERN = (
    rf"^[^{CONTROL_CHARACTERS}]*"
    rf"[^{WHITESPACE}{CONTROL_CHARACTERS}]"
    rf"[^{CONTROL_CHARACTERS}]*$"
)
# Nothing but spaces (an optional field left empty).
BLANK_PATTERN = rf"^[{WHITESPACE}]*$"
_YEAR_MONTH_DAY = r"(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = rf"^{_YEAR_MONTH_DAY}$"
DATE_TIME_PATTERN = (
    rf"^{_YEAR_MONTH_DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)

EARLIEST_YEAR = 1900
LATEST_YEAR = 2999


def text_problem(value: object, multiline: bool = False) -> str | None:
    """Why `value` cannot be kept as text (a message in the user's language), or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        return _("This must be text.")
    if multiline:
        if _MULTI_LINE_REFUSED.search(value):
            return _("Remove the invisible control characters from this text.")
    elif _SINGLE_LINE_REFUSED.search(value):
        return _("Write this on one line, without line breaks or invisible control characters.")
    return None


def check_text(
    errors: dict[str, str],
    single_line: dict[str, object],
    multi_line: dict[str, object] | None = None,
) -> None:
    """Add a message to `errors` for each field whose value breaks the rule (a field that has
    a message already keeps it)."""
    for fields, multiline in ((single_line, False), (multi_line or {}, True)):
        for name, value in fields.items():
            problem = text_problem(value, multiline)
            if problem is not None:
                errors.setdefault(name, problem)


def whole_number(value: object) -> int | None:
    """A JSON number without a fraction as an int (JSON Schema's integers: 2.0 is 2), or None
    for anything else (true is not 1)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def unknown_fields(payload: Mapping[Any, object], known: Container[object]) -> dict[str, str]:
    """A message for each field of a JSON object that the API does not describe (a typo
    must not pass for an omission)."""
    return {str(key): _("This field is not known.") for key in payload if key not in known}


def without_controls(value: str) -> str:
    """A search box's text with the characters no one can type taken out (not refused: a
    search has nothing to keep)."""
    return _SINGLE_LINE_REFUSED.sub("", value)


def date_problem(value: date | datetime | None) -> str | None:
    """Why `value` is outside the dates the service keeps, or None."""
    if value is None or EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return None
    return _(
        "Enter a date between the years %(first)d and %(last)d.",
        first=EARLIEST_YEAR,
        last=LATEST_YEAR,
    )


def parse_date(value: str) -> date | None:
    """YYYY-MM-DD within the years the service keeps, or None (date.fromisoformat would also
    take "20261118" and "2026-W47-3")."""
    if not re.fullmatch(_YEAR_MONTH_DAY, value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None


def check_dates(errors: dict[str, str], values: dict[str, date | datetime | None]) -> None:
    for name, value in values.items():
        problem = date_problem(value)
        if problem is not None:
            errors.setdefault(name, problem)
