"""Every API error is JSON: {"error": {"code", "message", "fields"?}} with a 4xx status."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from ...services import ServiceError, ValidationFailed


def api_error(status: int, code: str, message: str, fields: dict[str, str] | None = None):
    body: dict[str, dict[str, object]] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def refusal(exc: ServiceError, code: str = "refused"):
    """The answer to a service's refusal: 422 with a message per field, or 409 with the
    refusal's own code (a RegistrationRefused carries one); 400 for an accessibility need that
    is not on the list (the client's list is out of date). An error answer: the request's
    boundary (web/boundary.py) keeps nothing of it."""
    from ...services.registration import UnknownNeeds

    if isinstance(exc, UnknownNeeds):
        return api_error(400, "unknown_need", exc.message, exc.errors)
    if isinstance(exc, ValidationFailed):
        return api_error(422, "invalid", _("Please correct the marked fields."), exc.errors)
    own = getattr(exc, "code", None)
    return api_error(409, own.value if own is not None else code, exc.message)
