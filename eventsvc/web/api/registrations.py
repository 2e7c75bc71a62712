"""Registering through the API (POST /api/v1/events/<id>/registrations) and a resident's own
registration by its private token (GET and DELETE /api/v1/registrations/<token>)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _

from ...extensions import limiter
from ...models import Attendance, RegistrationSource, RegistrationStatus
from ...services import ServiceError, ValidationFailed
from ...services import registration as rules
from ...services.input_rules import unknown_fields, whole_number
from ...services.registration import RegistrationRefused
from ...timezones import utcnow
from . import bp
from .errors import refusal
from .serialize import activity_choice
from .serialize import registration as registration_json


def request_from_json(payload: object) -> rules.RegistrationRequest:
    """The JSON API's body → a request. Wrong types are field errors, never exceptions."""
    if not isinstance(payload, Mapping):
        raise ValidationFailed({"body": _("Send a JSON object.")})
    errors: dict[str, str] = {}

    def text(key: str, required: bool = False) -> str | None:
        value = payload.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            errors[key] = _("This must be text.")
            return None
        return value

    errors.update(unknown_fields(payload, {f.name for f in fields(rules.RegistrationRequest)}))
    # 2 and 2.0 are the same JSON number; anything else stays as sent, for the one rule to refuse.
    raw_party_size = payload.get("party_size", 1)
    party_size = whole_number(raw_party_size)
    activity_ids = payload.get("activity_ids", [])
    if isinstance(activity_ids, list):
        activity_ids = [whole_number(i) for i in activity_ids]
    if not isinstance(activity_ids, list) or None in activity_ids:
        errors["activity_ids"] = _("Choose activities of this event.")
        activity_ids = []
    attendance = payload.get("attendance")
    if attendance is not None and (
        not isinstance(attendance, str) or attendance not in Attendance._value2member_map_
    ):
        errors["attendance"] = _("Choose in person or online.")
        attendance = None
    language = payload.get("language", "lv")
    if not isinstance(language, str):
        errors["language"] = _("Choose a language from the list.")
        language = "lv"
    for flag in ("consent", "join_waitlist", "follow_up_consent"):
        if flag in payload and not isinstance(payload[flag], bool):
            errors[flag] = _("This must be true or false.")
    access_needs = rules.needs_from_json(payload, errors)
    request = rules.RegistrationRequest(
        name=text("name") or "",
        email=text("email"),
        phone=text("phone"),
        party_size=raw_party_size if party_size is None else party_size,  # checked below
        activity_ids=activity_ids,
        attendance=Attendance(attendance) if attendance else None,
        needs=text("needs") or "",
        language=language,
        consent=payload.get("consent") is True,
        join_waitlist=payload.get("join_waitlist", True) is not False,
        follow_up_consent=payload.get("follow_up_consent") is True,
        access_needs=access_needs,
    )
    try:
        rules.normalise_request(request)
    except ValidationFailed as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise ValidationFailed(errors)
    return request


@bp.post("/events/<int:event_id>/registrations")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def create_registration(event_id: int):
    payload = request.get_json(silent=True)
    try:
        outcome = rules.register(
            event_id, request_from_json(payload), utcnow(), RegistrationSource.API
        )
    except (
        ValidationFailed,
        RegistrationRefused,
    ) as exc:  # invalid fields (422) or refused, e.g. closed (409)
        return refusal(exc)
    item = outcome.registration
    manage_url = (
        url_for("registration.manage", token=item.manage_token, _external=True)
        if outcome.manage_link_in_answer
        else None
    )
    activities = [activity_choice(c) for c in outcome.activities]
    confirmed = outcome.status is RegistrationStatus.CONFIRMED
    message = _("Your place is reserved.") if confirmed else _("You are on the waiting list.")
    waiting = [c for c in outcome.activities if c.position is not None]
    if waiting:
        message += " " + " ".join(
            _(
                "“%(title)s” is full: you are on its waiting list, position %(n)d.",
                title=c.activity.title,
                n=c.position,
            )
            for c in waiting
        )
    body = {
        "status": outcome.status.value,
        "waitlist_position": outcome.waitlist_position,
        "event_id": event_id,
        "manage_url": manage_url,
        "activities": activities,
        "message": message,
    }
    return jsonify(body), 201


@bp.get("/registrations/<token>")
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"])
def get_registration(token: str):
    return jsonify(registration_json(rules.registration_by_token(token)))


@bp.patch("/registrations/<token>")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def change_registration(token: str):
    """The resident's own change, as through the private link: the fields sent change, under
    the rules a new registration meets; confirmed by mail."""
    item = rules.registration_by_token(token)
    try:
        change = rules.change_from_json(request.get_json(silent=True))
        rules.change_registration(item, change, utcnow())
    except (ValidationFailed, RegistrationRefused) as exc:  # 400/422, or no room (409)
        return refusal(exc)
    except ServiceError as exc:  # cancelled, or too late to change online
        return refusal(exc, "not_changeable")
    return jsonify(registration_json(rules.registration_by_token(token)))


@bp.delete("/registrations/<token>")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def delete_registration(token: str):
    item = rules.registration_by_token(token)
    try:
        rules.cancel_registration(item, utcnow())
    except ServiceError as exc:
        return refusal(exc, "not_changeable")
    return jsonify(registration_json(item))
