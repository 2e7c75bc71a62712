"""Who is calling a staff endpoint: a personal token, or a signed-in session (whose writes
must carry the page's CSRF token in the X-CSRFToken header)."""

from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from ...extensions import db
from ...services.api_tokens import user_for_token
from ...timezones import utcnow
from ..boundary import commit_now


def api_user():
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_for_token(header[7:].strip(), utcnow())
        if user is None:
            abort(401)
        if db.session.dirty:
            # "Last used" (written at most once a minute) is kept whatever this request
            # answers: a door phone whose scans are refused has still used its token.
            commit_now()
    elif current_user.is_authenticated:
        user = current_user
        if request.method not in ("GET", "HEAD"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except (ValidationError, CSRFError):
                abort(400)
    else:
        abort(401)
    g.api_user = user
    return user
