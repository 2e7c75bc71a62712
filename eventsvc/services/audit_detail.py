"""The audit log's `detail`: how a note is built (`part`, `value`, `names`, `transition`),
stored (`encode_detail`: compact JSON within DETAIL_LENGTH) and shown (`detail_text`, in
the reader's language). Writing and reading entries is services/audit.py.

A part is {"m": message id, "a": {name: argument}}; a detail is one part, or a list of
parts shown joined with "; ". The message id is the English text with %(name)d / %(name)s
placeholders, marked with N_ so that `make extract-messages` finds it; it is translated when
the page is shown, as gettext(m) % a. An argument is a number, a short non-personal string
shown as it is, None (shown as "–"), or a list [kind, name, …] whose first item says what
the names are (a kind of KINDS: "event_status", "event_field", …), each name shown by its
translated label. Entries written before this format (English text) are shown as they are.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from ..i18n import label as enum_label
from ..models import (
    CheckInMethod,
    EventKind,
    EventStatus,
    FollowUpOutcome,
    RegistrationStatus,
    Role,
)

# What a new entry's detail may take: the notes 200 characters held with two-letter kinds
# (migration 0013). Longer ones lose names from their lists, then parts.
DETAIL_LENGTH = 300

Part = dict[str, Any]
Detail = Part | Sequence[Part | None] | str  # a None in a list: a part that does not apply


def N_(message: str) -> str:
    """Marks a message id for extraction (`-k N_`); it is translated only when shown."""
    return message


TRANSITION = N_("%(old)s → %(new)s")
MORE = "…"  # ends a list of names cut short to fit DETAIL_LENGTH
_CUT: Part = {"m": MORE}  # stands for parts left out to fit DETAIL_LENGTH

# Enum values: [kind, member.value]; shown with eventsvc.i18n.label.
ENUM_KINDS: dict[str, type[enum.Enum]] = {
    "event_status": EventStatus,
    "registration_status": RegistrationStatus,
    "role": Role,
    "event_kind": EventKind,
    "follow_up_outcome": FollowUpOutcome,
}
_KIND_OF_ENUM = {enum_cls: kind for kind, enum_cls in ENUM_KINDS.items()}

# Other values and field names: [kind, name, …]; shown by these labels (the forms' words).
# A [name, value] pair in place of a name is shown as "label: value".
NAMES: dict[str, dict[str, LazyString]] = {
    "checkin_method": {  # how someone was checked in
        CheckInMethod.SCAN.value: _l("ticket scanned"),
        CheckInMethod.SEARCH.value: _l("found in the list"),
        CheckInMethod.WALK_IN.value: _l("walk-in"),
    },
    "event_field": {  # an event's fields (services.events.EventData)
        "kind": _l("Kind of event"),
        "title": _l("Title"),
        "organisation_id": _l("Organiser"),
        "municipality_id": _l("Municipality"),
        "starts_at": _l("Starts"),
        "ends_at": _l("Ends"),
        "summary": _l("Short summary"),
        "description": _l("Description"),
        "campaign_id": _l("Campaign or pilot"),
        "venue_name": _l("Venue"),
        "venue_address": _l("Address"),
        "desk_opens_at": _l("Registration desk opens"),
        "registration_opens_at": _l("Registration opens"),
        "registration_closes_at": _l("Registration deadline"),
        "capacity": _l("Places (people)"),
        "format": _l("Format"),
        "stream_url": _l("Link to the online stream"),
        "stream_public": _l("Stream link shown to everyone"),
        "accessibility": _l("Accessibility"),
        "language": _l("Language of the event"),
        "target_groups": _l("Who it is for"),
        "title_ru": _l("Title in Russian"),
        "title_en": _l("Title in English"),
        "summary_ru": _l("Short summary in Russian"),
        "summary_en": _l("Short summary in English"),
        "description_ru": _l("Description in Russian"),
        "description_en": _l("Description in English"),
        "accessibility_ru": _l("Accessibility in Russian"),
        "accessibility_en": _l("Accessibility in English"),
        "remind_day_before": _l("Reminder the day before"),
        "remind_two_hours": _l("Reminder two hours before"),
    },
    "user_field": {  # a staff account's fields (services.accounts)
        "email": _l("Email"),
        "name": _l("Name and surname"),
        "role": _l("Role"),
        "organisations": _l("Organisations"),
        "active": _l("Account active"),
        "password": _l("Password"),
    },
    "registration_field": {  # a registration's fields (services.registration.CHANGEABLE)
        "party_size": _l("People"),
        "attendance": _l("Taking part"),
        "activities": _l("Activities"),
        "needs": _l("Accessibility needs"),
        "phone": _l("Phone"),
        "email": _l("Email"),
        "language": _l("Language for messages"),
        "follow_up_consent": _l("Contact after the event"),
    },
    "organisation_field": {  # an organisation's fields (services.organisations)
        "name": _l("Name"),
        "slug": _l("Short name"),
        "kind": _l("Kind of organisation"),
        "municipality_id": _l("Municipality"),
        "email": _l("Contact email"),
        "phone": _l("Contact phone"),
    },
    "stats_filter": {  # the filters of a download of totals (services.stats.StatsFilter)
        "date_from": _l("From"),
        "date_to": _l("To"),
        "municipality_id": _l("Municipality"),
        "campaign_id": _l("Campaign or pilot"),
        "kind": _l("Kind of event"),
        "year": _l("Year"),
        "month": _l("Month"),
    },
    "stats_table": {  # the table of totals downloaded (services.stats.GroupBy, or events)
        "municipality": _l("by municipality"),
        "campaign": _l("by campaign or pilot"),
        "kind": _l("by kind of event"),
        "target_group": _l("by target group"),
        "month": _l("by month"),
        "event": _l("by event"),
    },
}

# Every kind a [kind, …] argument may name; migrations/versions/0013 holds the two-letter
# codes entries were stored with before.
KINDS = frozenset(ENUM_KINDS) | frozenset(NAMES)


# --- building a detail ---------------------------------------------------------------------


def part(message: str, **args: Any) -> Part:
    """One piece of a detail: a message id marked with N_, and its arguments."""
    return {"m": message, "a": args} if args else {"m": message}


def value(member: Any) -> Any:
    """An argument: an enum member as [kind, value] (shown by its label), a date as its ISO
    form, anything else (a number, None) as it is."""
    if isinstance(member, CheckInMethod):
        return ["checkin_method", member.value]
    kind = _KIND_OF_ENUM.get(type(member))
    if kind is not None:
        return [kind, member.value]
    if hasattr(member, "isoformat"):
        return member.isoformat()
    return getattr(member, "value", member)


def names(kind: str, fields: Iterable[Any]) -> list[Any]:
    """An argument: field names (or other values) of a kind in NAMES, shown by their labels."""
    if kind not in NAMES:
        raise ValueError(f"unknown kind of names: {kind!r}")
    return [kind, *fields]


def transition(before: Any, after: Any, message: str | None = None, **args: Any) -> Part:
    """'2 → 3', 'draft → published': an old and a new number or state ('–' for none), as a
    part; `message` (marked with N_) names them, with %(old)s and %(new)s (or %(old)d …),
    and any further `args`."""
    return part(message or TRANSITION, old=value(before), new=value(after), **args)


# --- storing it ----------------------------------------------------------------------------


def encode_detail(detail: Detail) -> str:
    """The stored form: JSON within DETAIL_LENGTH characters (long lists of names are cut
    short, then middle parts left out); a plain string is kept as it is."""
    if isinstance(detail, str):
        return detail[:DETAIL_LENGTH]
    parts = [detail] if isinstance(detail, dict) else [p for p in detail if p]
    if not parts:
        return ""
    parts = json.loads(json.dumps(parts, default=str))  # a copy that can be cut
    while len(text := _dump(parts)) > DETAIL_LENGTH:
        if _cut_a_list(parts):
            continue
        middle = [i for i in range(1, len(parts) - 1) if parts[i] != _CUT]
        if middle:
            i = middle[-1]
            if parts[i + 1] == _CUT:
                del parts[i]
            else:
                parts[i] = _CUT
        elif len(parts) > 1 and parts[-1] != _CUT:
            parts[-1] = _CUT
        else:
            return "; ".join(_render(p, translate=False) for p in parts)[:DETAIL_LENGTH]
    return text


def _dump(parts: list[Part]) -> str:
    data = parts[0] if len(parts) == 1 else parts
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _cut_a_list(parts: list[Part]) -> bool:
    """Leave out the last name of the longest list argument that has two or more."""
    lists = [
        v
        for p in parts
        for v in p.get("a", {}).values()
        if isinstance(v, list) and len([x for x in v[1:] if x != MORE]) >= 2
    ]
    if not lists:
        return False
    longest = max(lists, key=lambda v: len(json.dumps(v, ensure_ascii=False)))
    if longest[-1] == MORE:
        del longest[-2]
    else:
        longest[-1] = MORE
    return True


# --- showing it ----------------------------------------------------------------------------


def detail_text(detail: str | None) -> str:
    """The detail in the current language; one not in the JSON form as it is stored."""
    parts = _parse(detail or "")
    if parts is None:
        return detail or ""
    return "; ".join(_render(p) for p in parts)


def _parse(text: str) -> list[Part] | None:
    if not text.startswith(("{", "[")):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    parts = [data] if isinstance(data, dict) else data
    if not isinstance(parts, list) or not parts:
        return None
    for p in parts:
        if not (
            isinstance(p, dict) and isinstance(p.get("m"), str) and isinstance(p.get("a", {}), dict)
        ):
            return None
    return parts


def _render(p: Part, translate: bool = True) -> str:
    message: str = p["m"]
    if not message:
        return ""
    args = {name: _show(v, translate) for name, v in p.get("a", {}).items()}
    translated = gettext(message) if translate and message != MORE else message
    if not args:
        return translated
    for template in (translated, message):
        try:
            return template % args
        except (KeyError, ValueError, TypeError):
            continue
    return message


def _show(arg: Any, translate: bool = True) -> Any:
    """An argument as it goes into the message: numbers stay numbers (for %(n)d)."""
    if arg is None:
        return "–"
    if isinstance(arg, bool):
        return str(arg)
    if isinstance(arg, (int, float, str)):
        return arg
    if isinstance(arg, list) and arg and isinstance(arg[0], str):
        kind, values = arg[0], arg[1:]
        return ", ".join(_name(kind, v, translate) for v in values)
    return json.dumps(arg, ensure_ascii=False)


def _name(kind: str, name: Any, translate: bool = True) -> str:
    """One name of a [kind, name, …] argument by its label (as it is when there is none)."""
    if isinstance(name, list) and len(name) == 2:  # [field name, value], e.g. a filter
        return f"{_name(kind, name[0], translate)}: {_show(name[1], translate)}"
    if not isinstance(name, str) or name == MORE or not translate:
        return name if isinstance(name, str) else json.dumps(name, ensure_ascii=False)
    if kind in ENUM_KINDS:
        try:
            return enum_label(ENUM_KINDS[kind](name))
        except (ValueError, KeyError):
            return name
    label = NAMES.get(kind, {}).get(name)
    return str(label) if label is not None else name
