"""Organiser pages: an organisation's events, their panel and activities."""

from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/manage")

from . import (  # noqa: E402,F401  (routes register on import)
    calls,
    certificates,
    checkin,
    feedback,
    follow_up,
    messages,
    organisation,
    privacy,
    registrations,
    views,
)
