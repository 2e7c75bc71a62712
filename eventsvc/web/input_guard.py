"""Requests refused before any view reads them: a body over the size limit (413), a file
where the service takes none, a JSON body that is not JSON or is nested too deep to parse.
Each gets a 4xx with a message in the user's language (JSON under /api/)."""

from __future__ import annotations

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge


class RequestRefused(HTTPException):
    """A 4xx with our own message (translated) and API error code."""

    def __init__(self, message: str, api_code: str, status: int = 400):
        super().__init__(message)
        self.code = status
        self.user_message = message
        self.api_code = api_code


class _TooDeep(ValueError):
    pass


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested deeper than Python can recurse is invalid JSON
    like any other (a ValueError), not a RecursionError."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise _TooDeep("nested too deeply") from None


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.before_request(refuse_unreadable_bodies)


def refuse_unreadable_bodies() -> None:
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()  # before anything reads it
    if request.files:
        raise RequestRefused(
            _("Files cannot be sent here. Please send the form without attachments."), "file"
        )
    if request.is_json and request.content_length:  # a GET may name the type, with no body
        try:
            request.get_json()  # kept: the view's get_json() reads the parsed body
        except BadRequest as exc:
            if _caused_by(exc, _TooDeep):
                message = _("The JSON body is nested too deeply.")
            else:
                message = _("The request body is not valid JSON.")
            # 422, as the API has always answered a body it cannot use.
            raise RequestRefused(message, "invalid", 422) from None


def _caused_by(exc: BaseException | None, kind: type) -> bool:
    while exc is not None and not isinstance(exc, kind):
        exc = exc.__context__
    return exc is not None
