"""The audit log: who created, changed, cancelled, exported, checked in or undid what, and when.

`record` adds an entry to the caller's transaction (it never commits): an action that is
rolled back leaves no entry, and one that is committed always has one.

What an entry may hold: the staff account that acted (or "a resident", "the system"), the
event, the kind and id of the object, and a short `detail` made of ids, counts, field names
and old → new numbers or states. Never a resident's name, email, phone or needs: the log
outlives the anonymisation of registrations.

`detail` is stored as compact JSON, a message id with its arguments, and translated when it
is shown, so that each reader sees it in their own language: services/audit_detail.py builds,
stores and shows it (its helpers are re-exported here, so callers write `audit.part(…)`).

Who reads it: admins everything; organisers the entries of their own organisations; the
Ministry nothing (it sees totals only). Entries without an organisation are for admins.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db, insert_loaded
from ..models import ActorKind, AuditEntry, Event, User
from . import access
from .audit_detail import (
    DETAIL_LENGTH,
    N_,
    Detail,
    Part,
    detail_text,
    encode_detail,
    names,
    part,
    transition,
    value,
)

# The detail's vocabulary, for callers of record(): audit.part(audit.N_("…"), n=…).
__all__ = [
    "DETAIL_LENGTH",
    "N_",
    "RESIDENT",
    "SYSTEM",
    "Action",
    "AuditPage",
    "Detail",
    "Part",
    "action_label",
    "detail_text",
    "encode_detail",
    "entries_for",
    "names",
    "part",
    "record",
    "record_export",
    "record_for_organisations",
    "target_label",
    "transition",
    "user_organisation_ids",
    "value",
]

RESIDENT = ActorKind.RESIDENT  # through the private manage link (or the API with its token)
SYSTEM = ActorKind.SYSTEM  # the rules themselves (the waiting list moving up), CLI commands

PER_PAGE = 50


class Action(enum.StrEnum):
    EVENT_CREATE = "event.create"
    EVENT_UPDATE = "event.update"
    EVENT_PUBLISH = "event.publish"
    EVENT_UNPUBLISH = "event.unpublish"
    EVENT_CANCEL = "event.cancel"
    EVENT_MESSAGE = "event.message"  # the organisers' message to its registrants
    CALL_DONE = "call.done"  # someone on the to-call list was phoned (services/phone_calls.py)
    REGISTRATION_CREATE = "registration.create"  # by an organiser (a phone call)
    REGISTRATION_CANCEL = "registration.cancel"
    REGISTRATION_RESTORE = "registration.restore"  # a cancellation undone
    REGISTRATION_PARTY_SIZE = "registration.party_size"
    REGISTRATION_PROMOTE = "registration.promote"
    REGISTRATION_UPDATE = "registration.update"  # contact, needs, activities … (not the size)
    REGISTRATION_ACTIVITY_PROMOTE = "registration.activity_promote"
    FOLLOW_UP_CALL = "registration.follow_up_call"  # a social worker's call after the event
    CERTIFICATE_ISSUE = "certificate.issue"  # attendance certificates of a training
    CHECKIN = "checkin.create"
    CHECKIN_UNDO = "checkin.undo"
    WALK_IN = "checkin.walk_in"
    EXPORT_REGISTRATIONS = "export.registrations_csv"
    EXPORT_ATTENDANCE_SHEET = "export.attendance_sheet"
    EXPORT_STATS = "export.stats_csv"
    EXPORT_DOOR_LIST = "export.door_list"  # the check-in page's offline list, onto a device
    EXPORT_LETTERS = "export.letters"  # large-print letters to people without email
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
    Action.EVENT_MESSAGE: _l("Message sent to registrants"),
    Action.CALL_DONE: _l("Phoned (to-call list)"),
    Action.REGISTRATION_CREATE: _l("Registered by an organiser"),
    Action.REGISTRATION_CANCEL: _l("Registration cancelled"),
    Action.REGISTRATION_RESTORE: _l("Cancellation undone"),
    Action.REGISTRATION_PARTY_SIZE: _l("Number of people changed"),
    Action.REGISTRATION_PROMOTE: _l("Place from the waiting list"),
    Action.REGISTRATION_UPDATE: _l("Registration changed"),
    Action.REGISTRATION_ACTIVITY_PROMOTE: _l("Place in an activity from its waiting list"),
    Action.FOLLOW_UP_CALL: _l("Called after the event"),
    Action.CERTIFICATE_ISSUE: _l("Attendance certificates issued"),
    Action.CHECKIN: _l("Checked in"),
    Action.CHECKIN_UNDO: _l("Check-in undone"),
    Action.WALK_IN: _l("Walk-in registered and checked in"),
    Action.EXPORT_REGISTRATIONS: _l("Registrations downloaded (CSV or XLSX)"),
    Action.EXPORT_ATTENDANCE_SHEET: _l("Attendance sheet opened"),
    Action.EXPORT_STATS: _l("Attendance totals downloaded (CSV or XLSX)"),
    Action.EXPORT_DOOR_LIST: _l("Door list taken onto a device (offline check-in)"),
    Action.EXPORT_LETTERS: _l("Letters printed for people without email"),
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
    kind: ActorKind
    actor_id: int | None
    if isinstance(actor, ActorKind):
        if actor is ActorKind.STAFF:
            raise ValueError("a staff actor is given as the User")
        kind, actor_id = actor, None
    else:
        kind, actor_id = ActorKind.STAFF, actor.id
    if organisation_id is None and event is not None:
        organisation_id = event.organisation_id
    # Written at once by its own INSERT (an entry is never changed, and a flush of it would
    # cost a scan more CPU than the statement: docs/PERFORMANCE.md).
    return insert_loaded(
        AuditEntry,
        {
            "actor_kind": kind,
            "actor_id": actor_id,
            "action": str(action),
            "organisation_id": organisation_id,
            "event_id": event.id if event is not None else None,
            "target_type": target_type,
            "target_id": target_id,
            "detail": encode_detail(detail),
        },
    )


def record_for_organisations(
    action: Action, organisation_ids: Iterable[int] | None, **fields: Any
) -> None:
    """An action that concerns several organisations at once (a staff member's API token,
    totals over all their organisations): one entry for each, so that each organisation's
    organisers see it. None or no organisation: a single entry for admins."""
    ids: list[int | None] = [*sorted(organisation_ids or ())]
    for organisation_id in ids or [None]:
        record(action, organisation_id=organisation_id, **fields)


def record_export(
    user: User,
    action: Action,
    *,
    event: Event | None = None,
    rows: int | None = None,
    organisation_ids: Iterable[int] | None = None,
    detail: Part | Sequence[Part | None] | None = None,
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
