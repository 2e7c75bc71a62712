"""The audit log: who created, changed, cancelled, exported, checked in or undid what, and when.

`record` adds an entry to the caller's transaction (it never commits): an action that is
rolled back leaves no entry, and one that is committed always has one.

What an entry may hold: the staff account that acted (or "a resident", "the system"), the
event, the kind and id of the object, and a short `detail` made of ids, counts, field names
and old → new numbers or states. Never a resident's name, email, phone or needs: the log
outlives the anonymisation of registrations.

`detail` is stored as compact JSON, a message id with its arguments, and translated when it
is shown (see "the detail" below), so that each reader sees it in their own language.

Who reads it: admins everything; organisers the entries of their own organisations; the
Ministry nothing (it sees totals only). Entries without an organisation are for admins.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import label as enum_label
from ..models import (
    ActorKind,
    AuditEntry,
    CheckInMethod,
    Event,
    EventKind,
    EventStatus,
    RegistrationStatus,
    Role,
    User,
)
from . import access

RESIDENT = ActorKind.RESIDENT  # through the private manage link (or the API with its token)
SYSTEM = ActorKind.SYSTEM  # the rules themselves (the waiting list moving up), CLI commands

PER_PAGE = 50
DETAIL_LENGTH = 200


class Action(enum.StrEnum):
    EVENT_CREATE = "event.create"
    EVENT_UPDATE = "event.update"
    EVENT_PUBLISH = "event.publish"
    EVENT_UNPUBLISH = "event.unpublish"
    EVENT_CANCEL = "event.cancel"
    REGISTRATION_CREATE = "registration.create"  # by an organiser (a phone call)
    REGISTRATION_CANCEL = "registration.cancel"
    REGISTRATION_PARTY_SIZE = "registration.party_size"
    REGISTRATION_PROMOTE = "registration.promote"
    REGISTRATION_ATTENDANCE = "registration.attendance"  # in person ↔ online (hybrid)
    CERTIFICATE_ISSUE = "certificate.issue"  # attendance certificates of a training
    CHECKIN = "checkin.create"
    CHECKIN_UNDO = "checkin.undo"
    WALK_IN = "checkin.walk_in"
    EXPORT_REGISTRATIONS = "export.registrations_csv"
    EXPORT_ATTENDANCE_SHEET = "export.attendance_sheet"
    EXPORT_STATS = "export.stats_csv"
    EXPORT_DOOR_LIST = "export.door_list"  # the check-in page's offline list, onto a device
    TOKEN_CREATE = "api_token.create"
    TOKEN_REVOKE = "api_token.revoke"
    # Recorded by services/privacy.py:
    REGISTRATION_ERASE = "registration.erase"  # by the resident, through the manage link
    EXPORT_DATA_SUBJECT = "export.data_subject"  # everything held about one email address
    PRIVACY_PURGE = "privacy.purge"  # `flask privacy purge`: old registrations anonymised
    # Administrators' changes (services/accounts.py, services/organisations.py):
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    ORGANISATION_CREATE = "organisation.create"
    ORGANISATION_UPDATE = "organisation.update"
    MUNICIPALITY_CREATE = "municipality.create"


ACTION_LABELS = {
    Action.EVENT_CREATE: _l("Event created"),
    Action.EVENT_UPDATE: _l("Event changed"),
    Action.EVENT_PUBLISH: _l("Event published"),
    Action.EVENT_UNPUBLISH: _l("Event unpublished"),
    Action.EVENT_CANCEL: _l("Event cancelled"),
    Action.REGISTRATION_CREATE: _l("Registered by an organiser"),
    Action.REGISTRATION_CANCEL: _l("Registration cancelled"),
    Action.REGISTRATION_PARTY_SIZE: _l("Number of people changed"),
    Action.REGISTRATION_PROMOTE: _l("Place from the waiting list"),
    Action.REGISTRATION_ATTENDANCE: _l("In person or online changed"),
    Action.CERTIFICATE_ISSUE: _l("Attendance certificates issued"),
    Action.CHECKIN: _l("Checked in"),
    Action.CHECKIN_UNDO: _l("Check-in undone"),
    Action.WALK_IN: _l("Walk-in registered and checked in"),
    Action.EXPORT_REGISTRATIONS: _l("Registrations downloaded (CSV)"),
    Action.EXPORT_ATTENDANCE_SHEET: _l("Attendance sheet opened"),
    Action.EXPORT_STATS: _l("Attendance totals downloaded (CSV or XLSX)"),
    Action.EXPORT_DOOR_LIST: _l("Door list taken onto a device (offline check-in)"),
    Action.TOKEN_CREATE: _l("API token created"),
    Action.TOKEN_REVOKE: _l("API token revoked"),
    Action.REGISTRATION_ERASE: _l("Personal data erased by the resident"),
    Action.EXPORT_DATA_SUBJECT: _l("Data request answered (download)"),
    Action.PRIVACY_PURGE: _l("Old personal data removed"),
    Action.USER_CREATE: _l("Staff account created"),
    Action.USER_UPDATE: _l("Staff account changed"),
    Action.ORGANISATION_CREATE: _l("Organisation created"),
    Action.ORGANISATION_UPDATE: _l("Organisation changed"),
    Action.MUNICIPALITY_CREATE: _l("Municipality added"),
}

TARGET_LABELS = {
    "event": _l("Event"),
    "registration": _l("Registration"),
    "checkin": _l("Check-in"),
    "api_token": _l("API token"),
    "stats": _l("Attendance totals"),
    "user": _l("Staff account"),
    "organisation": _l("Organisation"),
    "municipality": _l("Municipality"),
}


def action_label(action: str) -> str:
    """The action in words, in the current language (an unknown one as it is stored)."""
    label = ACTION_LABELS.get(Action(action)) if action in Action._value2member_map_ else None
    return str(label) if label is not None else action


def target_label(target_type: str) -> str:
    label = TARGET_LABELS.get(target_type)
    return str(label) if label is not None else target_type


# --- writing ---------------------------------------------------------------------------


def record(
    action: Action | str,
    *,
    actor: User | ActorKind,
    target_type: str,
    target_id: int | None = None,
    event: Event | None = None,
    organisation_id: int | None = None,
    detail: Detail = "",
) -> AuditEntry:
    """Add an entry in the caller's transaction. `actor` is the staff account that acted, or
    RESIDENT or SYSTEM; the organisation defaults to the event's (who may read the entry).
    `detail` is a part (see `part`) or a list of parts; a plain string is kept as it is."""
    if isinstance(actor, ActorKind):
        if actor is ActorKind.STAFF:
            raise ValueError("a staff actor is given as the User")
        kind, actor_id = actor, None
    else:
        kind, actor_id = ActorKind.STAFF, actor.id
    if organisation_id is None and event is not None:
        organisation_id = event.organisation_id
    entry = AuditEntry(
        actor_kind=kind,
        actor_id=actor_id,
        action=str(action),
        organisation_id=organisation_id,
        event_id=event.id if event is not None else None,
        target_type=target_type,
        target_id=target_id,
        detail=encode_detail(detail),
    )
    db.session.add(entry)
    return entry


def record_for_organisations(
    action: Action, organisation_ids: Iterable[int] | None, **fields
) -> None:
    """An action that concerns several organisations at once (a staff member's API token,
    totals over all their organisations): one entry for each, so that each organisation's
    organisers see it. None or no organisation: a single entry for admins."""
    ids = sorted(organisation_ids or ())
    for organisation_id in ids or [None]:
        record(action, organisation_id=organisation_id, **fields)


def record_export(
    user: User,
    action: Action,
    *,
    event: Event | None = None,
    rows: int | None = None,
    organisation_ids: Iterable[int] | None = None,
    detail: Part | list[Part] | None = None,
) -> None:
    """A download or printout of personal data or totals, by `user`; the caller commits.
    `detail`: what was downloaded (parts), followed in the entry by the number of rows."""
    parts = [detail] if isinstance(detail, dict) else list(detail or [])
    note = parts + ([part(N_("rows: %(n)d"), n=rows)] if rows is not None else [])
    if event is not None:
        record(
            action, actor=user, target_type="event", target_id=event.id, event=event, detail=note
        )
    else:
        record_for_organisations(
            action, organisation_ids, actor=user, target_type="stats", detail=note
        )


def user_organisation_ids(user: User) -> set[int]:
    """The organisations a staff member belongs to (for entries about the account itself)."""
    return {organisation.id for organisation in user.organisations}


def transition(before, after, message: str | None = None, **args) -> Part:
    """'2 → 3', 'draft → published': an old and a new number or state ('–' for none), as a
    part; `message` (marked with N_) names them, with %(old)s and %(new)s (or %(old)d …),
    and any further `args`."""
    return part(message or TRANSITION, old=value(before), new=value(after), **args)


# --- the detail: message ids and their arguments, translated when read -------------------
#
# Stored as compact JSON: a part {"m": message id, "a": {name: argument}}, or a list of parts
# shown joined with "; ". The message id is the English text with %(name)d / %(name)s
# placeholders, marked with N_ so that `make extract-messages` finds it; it is translated
# when the page is shown, in the reader's language, as gettext(m) % a. An argument is a
# number, a short non-personal string shown as it is, None (shown as "–"), or a list
# [kind, value, …] of enum values or field names, each shown by its translated label.
# Entries written before this format (English text) are shown as they are.


def N_(message: str) -> str:
    """Marks a message id for extraction (`-k N_`); it is translated only when shown."""
    return message


Part = dict
Detail = Part | list[Part] | str

TRANSITION = N_("%(old)s → %(new)s")
MORE = "…"  # ends a list of names cut short to fit DETAIL_LENGTH
_CUT = {"m": MORE}  # stands for parts left out to fit DETAIL_LENGTH

# Enum values: [kind, member.value]; shown with eventsvc.i18n.label.
_ENUMS = {"es": EventStatus, "rs": RegistrationStatus, "ro": Role, "ek": EventKind}
_ENUM_KINDS = {enum_cls: kind for kind, enum_cls in _ENUMS.items()}

# Other values and field names: [kind, name, …]; shown by these labels (the forms' words).
# A [name, value] pair in place of a name is shown as "label: value".
NAMES = {
    "cm": {  # how someone was checked in
        CheckInMethod.SCAN.value: _l("ticket scanned"),
        CheckInMethod.SEARCH.value: _l("found in the list"),
        CheckInMethod.WALK_IN.value: _l("walk-in"),
    },
    "ef": {  # an event's fields (services.events.EventData)
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
        "accessibility": _l("Accessibility"),
        "language": _l("Language of the event"),
        "target_groups": _l("Who it is for"),
    },
    "uf": {  # a staff account's fields (services.accounts)
        "email": _l("Email"),
        "name": _l("Name and surname"),
        "role": _l("Role"),
        "organisations": _l("Organisations"),
        "active": _l("Account active"),
        "password": _l("Password"),
    },
    "of": {  # an organisation's fields (services.organisations)
        "name": _l("Name"),
        "slug": _l("Short name"),
        "kind": _l("Kind of organisation"),
        "municipality_id": _l("Municipality"),
        "email": _l("Contact email"),
        "phone": _l("Contact phone"),
    },
    "sf": {  # the filters of a download of totals (services.stats.StatsFilter)
        "date_from": _l("From"),
        "date_to": _l("To"),
        "municipality_id": _l("Municipality"),
        "campaign_id": _l("Campaign or pilot"),
        "kind": _l("Kind of event"),
        "year": _l("Year"),
        "month": _l("Month"),
    },
    "st": {  # the table of totals downloaded (services.stats.GroupBy, or events)
        "municipality": _l("by municipality"),
        "campaign": _l("by campaign or pilot"),
        "kind": _l("by kind of event"),
        "target_group": _l("by target group"),
        "month": _l("by month"),
        "event": _l("by event"),
    },
}


def part(message: str, **args) -> Part:
    """One piece of a detail: a message id marked with N_, and its arguments."""
    return {"m": message, "a": args} if args else {"m": message}


def value(member):
    """An argument: an enum member as [kind, value] (shown by its label), a date as its ISO
    form, anything else (a number, None) as it is."""
    if isinstance(member, CheckInMethod):
        return ["cm", member.value]
    kind = _ENUM_KINDS.get(type(member))
    if kind is not None:
        return [kind, member.value]
    if hasattr(member, "isoformat"):
        return member.isoformat()
    return getattr(member, "value", member)


def names(kind: str, fields: Iterable[str]) -> list:
    """An argument: field names (or other values) of a kind in NAMES, shown by their labels."""
    return [kind, *fields]


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
    message = p["m"]
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


def _show(arg, translate: bool = True):
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


def _name(kind: str, name, translate: bool = True) -> str:
    """One name of a [kind, name, …] argument by its label (as it is when there is none)."""
    if isinstance(name, list) and len(name) == 2:  # [field name, value], e.g. a filter
        return f"{_name(kind, name[0], translate)}: {_show(name[1], translate)}"
    if not isinstance(name, str) or name == MORE or not translate:
        return name if isinstance(name, str) else json.dumps(name, ensure_ascii=False)
    if kind in _ENUMS:
        try:
            return enum_label(_ENUMS[kind](name))
        except (ValueError, KeyError):
            return name
    label = NAMES.get(kind, {}).get(name)
    return str(label) if label is not None else name


# --- reading ---------------------------------------------------------------------------


@dataclass
class AuditPage:
    page: Pagination  # of AuditEntry, newest first
    events: dict[int, Event]  # the events the entries name


def entries_for(
    user: User,
    *,
    event_id: int | None = None,
    action: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> AuditPage:
    """The entries `user` may read, newest first, optionally of one event or one action.
    The Ministry reads none (PermissionDenied)."""
    scope = access.audit_scope(user)
    query = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    if scope is not None:
        query = query.where(AuditEntry.organisation_id.in_(scope))
    if event_id is not None:
        query = query.where(AuditEntry.event_id == event_id)
    if action:
        query = query.where(AuditEntry.action == action)
    pagination = db.paginate(
        query, page=max(page, 1), per_page=per_page, max_per_page=100, error_out=False, count=True
    )
    event_ids = {entry.event_id for entry in pagination.items if entry.event_id is not None}
    events = (
        {e.id: e for e in db.session.scalars(select(Event).where(Event.id.in_(event_ids)))}
        if event_ids
        else {}
    )
    return AuditPage(pagination, events)
