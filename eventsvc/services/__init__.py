"""The rules of the service. No request objects here: functions take explicit arguments,
flush, and never commit — the request or CLI command commits once."""


class ServiceError(Exception):
    """A rule refused the action; `message` is translated and safe to show."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(ServiceError):
    """Several field-level problems at once: {field name: translated message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NotFound(ServiceError):
    """Unknown, or not visible to this caller: both look the same from outside."""

    def __init__(self, message: str | None = None):
        from flask_babel import gettext as _

        super().__init__(message or _("This page does not exist, or it is not public."))


class PermissionDenied(ServiceError):
    def __init__(self, message: str | None = None):
        from flask_babel import gettext as _

        super().__init__(message or _("You do not have access to this page."))
