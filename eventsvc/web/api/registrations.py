"""Registering through the API (POST /api/v1/events/<id>/registrations) and a resident's own
registration by its private token (GET and DELETE /api/v1/registrations/<token>)."""

from __future__ import annotations

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext as _

from ...extensions import limiter
from ...models import RegistrationSource, RegistrationStatus
from ...services import ServiceError, ValidationFailed
from ...services import registration as rules
from ...services.registration import RegistrationRefused
from ...timezones import utcnow
from . import bp
from .errors import refusal
from .serialize import activity_choice
from .serialize import registration as registration_json


@bp.post("/events/<int:event_id>/registrations")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def create_registration(event_id: int):
    payload = request.get_json(silent=True)
    try:
        outcome = rules.register(
            event_id, rules.request_from_json(payload), utcnow(), RegistrationSource.API
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
