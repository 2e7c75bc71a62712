"""Text from the database made safe for formats that forbid control characters: mail
headers and iCalendar. Forms refuse them in single-line fields, but rows written earlier (or
by other means) may still hold a newline or worse; building a message or a calendar from
such a row must not fail."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_CONTROLS_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str | None) -> str:
    """`text` on one line: every line break or control character becomes a space."""
    return " ".join(_CONTROLS.sub(" ", text or "").split())


def multi_line(text: str | None) -> str:
    """`text` with its lines (CR LF and CR become LF) and no other control character."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS_BUT_NEWLINE.sub(" ", text)
