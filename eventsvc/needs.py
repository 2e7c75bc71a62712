"""Accessibility needs organisers can plan for: the one list, how it is stored, its words.

A registration ticks any of NEEDS (wheelchair access, a hearing loop …) and may still write
other needs as free text beside them (Registration.needs). Everything that shows, takes or
counts the ticked needs goes through this module: the forms' tick boxes, the API's enum,
the door, the organiser's lists and exports, the digest before an event and the totals.

How they are stored: one integer column, registrations.needs_mask, one bit per need (BITS),
rather than a child table with a row per need. Counting is what they are for, and a bit is
counted in the same pass over a registration as everything else about it: the per-event
counters (models/event_stats.py) move in the flush that changes the registration, with no
collection of child rows to diff, and their check and rebuild (COUNT_EVENT_STATS) stay one
GROUP BY over registrations — `(needs_mask & 4) <> 0` is the same SQL on SQLite and
PostgreSQL — instead of a join with a second table of up to seven times as many rows. A bit
is never reused: a need is only ever added, with the next free bit, a counter column of its
own and a migration; the database refuses bits no need has (CHECK on the column).

The words are lazy gettext strings: shown in the page's language, or in the language of the
mail they are rendered into (lv and ru from the catalogues, English as written here).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l


class Need(enum.StrEnum):
    """In the order they are offered and reported."""

    WHEELCHAIR = "wheelchair"
    HEARING_LOOP = "hearing_loop"
    SIGN_LANGUAGE = "sign_language"
    EASY_READ = "easy_read"
    ASSISTANT = "assistant"
    TRANSPORT = "transport"
    CHILDCARE = "childcare"


NEEDS: tuple[Need, ...] = tuple(Need)

# Fixed for good: stored in registrations.needs_mask. A new need takes the next bit.
BITS: dict[Need, int] = {
    Need.WHEELCHAIR: 1 << 0,
    Need.HEARING_LOOP: 1 << 1,
    Need.SIGN_LANGUAGE: 1 << 2,
    Need.EASY_READ: 1 << 3,
    Need.ASSISTANT: 1 << 4,
    Need.TRANSPORT: 1 << 5,
    Need.CHILDCARE: 1 << 6,
}
ALL_BITS = sum(BITS.values())  # the largest mask the column takes (its CHECK)

# What a person reads: the tick box's label, the door, the lists, the digest, the totals.
LABELS = {
    Need.WHEELCHAIR: _l("Wheelchair access"),
    Need.HEARING_LOOP: _l("Hearing loop"),
    Need.SIGN_LANGUAGE: _l("Sign language interpreter"),
    Need.EASY_READ: _l("Easy-read material"),
    Need.ASSISTANT: _l("An assistant or carer comes along"),
    Need.TRANSPORT: _l("Help with transport"),
    Need.CHILDCARE: _l("Childcare"),
}


def counter(need: Need) -> str:
    """The per-event counter (a column of event_stats) of registrations that ask for `need`."""
    return f"needs_{need.value}"


def mask_of(needs: Iterable[Need | str]) -> int:
    """The stored mask of these needs (ValueError for a value that is none)."""
    mask = 0
    for need in needs:
        mask |= BITS[Need(need)]
    return mask


def needs_of(mask: int | None) -> list[Need]:
    """The needs in a stored mask, in the order of NEEDS."""
    return [need for need in NEEDS if (mask or 0) & BITS[need]]


def unknown(values: Iterable[object]) -> list[str]:
    """The values sent that name no need (as text, for a message)."""
    return [str(v) for v in values if not isinstance(v, str) or v not in Need._value2member_map_]


def label(need: Need) -> str:
    return str(LABELS[need])


def words(mask: int | None) -> list[str]:
    """The ticked needs as words of the current language, in the order of NEEDS."""
    return [label(need) for need in needs_of(mask)]


def needs_text(registration, one_line: bool = True) -> str:
    """Everything a registration asked for: the ticked needs as words and the free text after
    them ("Wheelchair access; Hearing loop; a seat near the door"). `one_line` folds the free
    text's line breaks (a list, the door); the exports and the attendance sheet keep them."""
    written = (
        " ".join((registration.needs or "").split())
        if one_line
        else "\n".join(line.strip() for line in (registration.needs or "").strip().splitlines())
    )
    return "; ".join([*words(registration.needs_mask), *([written] if written else [])])
