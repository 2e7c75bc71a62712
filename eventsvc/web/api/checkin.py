"""Check-in endpoints for the door page and devices: staff only, by session or API token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from ...i18n import local_time
from ...needs import needs_text
from ...services import ServiceError, ValidationFailed, access, audit
from ...services import checkin as door
from ...services.input_rules import date_problem, text_problem, unknown_fields, whole_number
from ...timezones import utcnow
from ..boundary import commit_now, discard
from ..same_origin import same_origin_only
from . import bp
from .auth import api_user
from .errors import api_error, refusal


def _staff_event(event_id: int, *, shared: bool = False):
    """The caller (session with CSRF header, or Bearer token) and the event whose door they
    may work (organisers, admins and the door role; services/access.py). `shared`: for a
    scan or its undo, the event read with the lock they hold (services/locking.py)."""
    user = api_user()
    return user, access.event_for_door(user, event_id, shared=shared)


def _time(value: datetime | None):
    return value.isoformat() if value else None


def outcome_json(outcome: door.CheckInOutcome) -> dict[str, Any]:
    r = outcome.registration
    body: dict[str, Any] = {
        "result": outcome.result.value,
        "ok": outcome.ok,
        "message": outcome.message(),
        "attendee": None,
        "checkin_id": outcome.checkin.id if outcome.checkin else None,
        "previous": None,
    }
    if r is not None:
        body["attendee"] = {
            "registration_id": r.id,
            "name": r.name,
            "party_size": r.party_size,
            "checked_in_people": outcome.checked_in_people,
            "walk_in": r.source.value == "walk_in",
            # What the door must know of the party: where they go, what they need.
            "activities": outcome.activity_titles,
            "needs": r.needs,
            "access_needs": [need.value for need in r.access_needs],
            "needs_text": needs_text(r),  # ticked needs as words, then the free text
            "booking_code": r.booking_code,
        }
    if outcome.previous is not None:
        body["previous"] = {
            "at": _time(outcome.previous.scanned_at),
            "time": local_time(outcome.previous.scanned_at),
            "by": outcome.previous.created_by.name if outcome.previous.created_by else None,
        }
    return body


def _parse_time(value) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            {"scanned_at": _("Give the time as ISO 8601 with a zone.")}
        ) from None
    if moment.tzinfo is None:
        raise ValidationFailed({"scanned_at": _("Give the time as ISO 8601 with a zone.")})
    problem = date_problem(moment)
    if problem is not None:  # in UTC, year 1 at +14:00 would fall before year 1
        raise ValidationFailed({"scanned_at": problem})
    return moment.astimezone(UTC)


CHECKIN_FIELDS = ("code", "registration_id", "people", "nonce", "device", "scanned_at")


def _one(event, user, item, now) -> door.CheckInOutcome:
    """One check-in request (null stands for a field left out)."""
    if not isinstance(item, dict):
        raise ValidationFailed({"body": _("Send a JSON object.")})
    unknown = unknown_fields(item, CHECKIN_FIELDS)
    if unknown:
        raise ValidationFailed(unknown)
    people, nonce, device = item.get("people"), item.get("nonce"), item.get("device")
    device = "" if device is None else device
    if people is not None:
        people = whole_number(people)
        if people is None or people < 1:
            raise ValidationFailed({"people": _("Check in at least 1 person.")})
    device_problem = text_problem(device)
    if device_problem is not None or len(device) > 64:
        raise ValidationFailed(
            {"device": device_problem or _("Name the device in at most 64 characters.")}
        )
    scanned_at = _parse_time(item.get("scanned_at"))
    registration_id = item.get("registration_id")
    if registration_id is not None:  # checked even beside a code: nothing sent is ignored
        registration_id = whole_number(registration_id)
        if registration_id is None or not 0 < registration_id < 2**31:
            raise ValidationFailed({"registration_id": _("This is not a registration id.")})
    if item.get("code") is not None:
        problem = text_problem(item["code"])
        if problem is not None:
            raise ValidationFailed({"code": problem})
        return door.check_in_ticket(
            event,
            item["code"],
            user,
            now,
            people=people,
            nonce=nonce,
            device=device,
            scanned_at=scanned_at,
        )
    if registration_id is None:
        raise ValidationFailed({"code": _("Send a ticket code or a registration id.")})
    return door.check_in_registration(
        event,
        registration_id,
        user,
        now,
        people=people,
        nonce=nonce,
        device=device,
        scanned_at=scanned_at,
    )


@bp.post("/events/<int:event_id>/checkins")
def create_checkin(event_id: int):
    user, event = _staff_event(event_id, shared=True)
    try:
        outcome = _one(event, user, request.get_json(silent=True), utcnow())
    except ValidationFailed as exc:
        return refusal(exc)
    return jsonify(outcome_json(outcome))


@bp.post("/events/<int:event_id>/checkins/sync")
def sync_checkins(event_id: int):
    """An offline device's queue, in the order it was made. The first check-in of a ticket
    wins; later ones come back as already checked in."""
    user, event = _staff_event(event_id, shared=True)
    payload = request.get_json(silent=True)
    items = payload.get("checkins") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or not isinstance(items, list) or len(items) > 1000:
        return api_error(422, "invalid", _('Send {"checkins": [...]} with at most 1000 items.'))
    unknown = unknown_fields(payload, ("checkins",))
    if unknown:
        return api_error(422, "invalid", _("Please correct the marked fields."), unknown)
    results = []
    for item in items:
        # Each result names its item by the nonce sent (when that was text at all).
        nonce = (
            item.get("nonce")
            if isinstance(item, dict) and isinstance(item.get("nonce"), str)
            else None
        )
        try:
            outcome = _one(event, user, item, utcnow())
        except ValidationFailed as exc:
            discard()  # this item only: the ones before it are committed
            results.append(
                {
                    "result": "invalid",
                    "ok": False,
                    "message": "; ".join(exc.errors.values()),
                    "nonce": nonce,
                }
            )
            continue
        body = outcome_json(outcome)
        # Each item in a transaction of its own, on purpose: its lock goes at once, so two
        # devices syncing overlapping queues in different orders cannot deadlock, and a bad
        # item later in the queue does not undo the good ones before it.
        commit_now()
        results.append({**body, "nonce": nonce})
    return jsonify(results=results)


@bp.delete("/events/<int:event_id>/checkins/<int:checkin_id>")
def undo_checkin(event_id: int, checkin_id: int):
    user, event = _staff_event(event_id, shared=True)
    checkin = door.undo_checkin(event, checkin_id, user, utcnow())
    body = {
        "checkin_id": checkin.id,
        "undone": True,
        "registration_id": checkin.registration_id,
        "name": checkin.registration.name,
        "people": checkin.people,
        "checked_in_people": checkin.registration.checked_in_people,
        "message": door.undone_message(checkin),
    }
    return jsonify(body)


@bp.get("/events/<int:event_id>/checkins/state")
def checkin_state(event_id: int):
    _, event = _staff_event(event_id)
    counts = door.door_counts(event)
    return jsonify(
        checked_in_people=counts.checked_in_people,
        confirmed_people=counts.confirmed_people,
        capacity=counts.capacity,
        walk_in_people=counts.walk_in_people,
    )


@bp.get("/events/<int:event_id>/checkins/offline")
@same_origin_only
def checkin_offline_list(event_id: int):
    user, event = _staff_event(event_id)
    tickets = door.offline_list(event, user)
    # Names of everyone registered leave the server for a phone: that is an export.
    audit.record_export(user, audit.Action.EXPORT_DOOR_LIST, event=event, rows=len(tickets))
    response = jsonify(event_id=event.id, generated_at=utcnow().isoformat(), tickets=tickets)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/events/<int:event_id>/attendees")
def attendees(event_id: int):
    user, event = _staff_event(event_id)
    search = request.args.get("q", "")
    if len(search) > 100:
        return api_error(400, "bad_search", _("Search with at most 100 characters."))
    rows = door.door_list(event, search)
    contacts = access.sees_contacts(user)  # the door role finds by phone, sees the name only
    return jsonify(
        attendees=[
            {
                "registration_id": r.id,
                "name": r.name,
                "phone": r.phone if contacts else None,
                "party_size": r.party_size,
                "status": r.status.value,
                "checked_in_people": n,
                "activities": [a.title for a in r.activities],
                "needs": r.needs,
                "access_needs": [need.value for need in r.access_needs],
                "needs_text": needs_text(r),
                "booking_code": r.booking_code,
            }
            for r, n in rows
        ]
    )


@bp.post("/events/<int:event_id>/walkins")
def walk_in(event_id: int):
    user, event = _staff_event(event_id)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return api_error(422, "invalid", _("Send a JSON object."))
    unknown = unknown_fields(payload, ("name", "people", "nonce"))
    if unknown:
        return api_error(422, "invalid", _("Please correct the marked fields."), unknown)
    people = whole_number(payload.get("people", 1))
    name = payload.get("name")
    try:
        outcome = door.register_walk_in(
            event,
            name if isinstance(name, str) else "",
            people if people is not None else 0,
            user,
            utcnow(),
            nonce=payload.get("nonce"),
        )
    except ServiceError as exc:
        return refusal(exc)
    return jsonify(outcome_json(outcome)), 201
