"""Every API error is JSON: {"error": {"code", "message", "fields"?}} with a 4xx status."""
from __future__ import annotations

from flask import jsonify


def api_error(status: int, code: str, message: str, fields: dict[str, str] | None = None):
    body = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status
