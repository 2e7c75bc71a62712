"""Staff accounts: create, list, sign in."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..models import Organisation, Role, User
from . import ServiceError, ValidationFailed

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    email: str,
    name: str,
    role: Role,
    password: str,
    organisations: list[Organisation] = (),
) -> User:
    email = normalise_email(email)
    errors = {}
    if "@" not in email:
        errors["email"] = _("Enter an email address.")
    elif db.session.scalar(select(User.id).where(User.email == email)) is not None:
        errors["email"] = _("An account with this email address already exists.")
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if role is Role.ORGANISER and not organisations:
        errors["organisations"] = _("An organiser belongs to at least one organisation.")
    if role is not Role.ORGANISER and organisations:
        errors["organisations"] = _("Only organisers belong to organisations.")
    if errors:
        raise ValidationFailed(errors)
    user = User(email=email, name=name.strip() or email, role=role, organisations=list(organisations))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str, now: datetime) -> User:
    """The active account with these credentials; one vague error otherwise."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.check_password(password) or not user.is_active:
        raise ServiceError(_("Wrong email address or password."))
    user.last_login_at = now
    db.session.flush()
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.role, User.email)))


def organisation_by_slug_or_name(key: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where((Organisation.slug == key) | (func.lower(Organisation.name) == key.lower()))
    )
