"""Staff accounts: create, change, list, sign in."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Organisation, Role, User
from ..timezones import utcnow
from . import ServiceError, ValidationFailed, access, api_tokens, audit, sessions
from .input_rules import check_text

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass
class UserData:
    email: str
    name: str
    role: Role
    organisations: list[Organisation] = field(default_factory=list)
    password: str | None = None  # None or "" keeps the current one (required for a new account)
    active: bool = True


def _check(
    data: UserData, existing: User | None, actor: User | None, errors: dict[str, str]
) -> dict[str, str]:
    """`errors` holds the text rule's findings already: a value it refused is not used."""
    if not data.name.strip():
        errors.setdefault("name", _("Enter the person's name."))
    if "email" not in errors and "@" not in data.email:
        errors["email"] = _("Enter an email address.")
    elif "email" not in errors:
        owner = db.session.scalar(select(User.id).where(User.email == data.email))
        if owner is not None and (existing is None or owner != existing.id):
            errors["email"] = _("An account with this email address already exists.")
    if (existing is None or data.password) and len(data.password or "") < MIN_PASSWORD_LENGTH:
        errors.setdefault("password", _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if data.role is Role.ORGANISER and not data.organisations:
        errors["organisations"] = _("An organiser belongs to at least one organisation.")
    if data.role is Role.DOOR and not data.organisations:
        errors["organisations"] = _(
            "Door staff belong to at least one organisation: they check people in at its events."
        )
    if data.role not in (Role.ORGANISER, Role.DOOR) and data.organisations:
        errors["organisations"] = _("Only organisers and door staff belong to organisations.")
    # An administrator cannot lock themselves out (someone must be left to manage accounts).
    if existing is not None and actor is not None and existing.id == actor.id:
        if data.role is not Role.ADMIN:
            errors["role"] = _("You cannot take the administrator role from your own account.")
        if not data.active:
            errors["active"] = _("You cannot disable your own account.")
    return errors


def save_user(
    actor: User | None, data: UserData, existing: User | None = None, now: datetime | None = None
) -> User:
    """Create an account, or change `existing`. `actor` None is the command line (trusted).
    A new password (an administrator's reset) ends every session of the account and revokes
    its API tokens; disabling the account ends its sessions."""
    now = now or utcnow()
    if actor is not None:
        access.require_admin(actor)
    errors: dict[str, str] = {}
    # Before anything tidies the values: "a@b.lv\r\n" is refused, not trimmed into shape.
    check_text(errors, {"name": data.name, "email": data.email, "password": data.password})
    if "email" not in errors:
        data.email = normalise_email(data.email)
    errors = _check(data, existing, actor, errors)
    if errors:
        raise ValidationFailed(errors)
    user = existing or User()
    before = _account_facts(user) if existing is not None else None
    user.email = data.email
    user.name = data.name.strip()
    user.role = data.role
    user.organisations = list(data.organisations)
    user.is_active_account = data.active
    if data.password:
        user.set_password(data.password)
    db.session.add(user)
    db.session.flush()
    if existing is not None and (data.password or not data.active):
        sessions.end_all(user)
    if existing is not None and data.password:
        api_tokens.revoke_all(user, now, actor if actor is not None else audit.SYSTEM)
    if actor is not None:
        # Staff accounts are not residents: the changed fields are named, never their values
        # (and never the password).
        after = _account_facts(user)
        changed = [name for name in after if before is None or before[name] != after[name]]
        if data.password and existing is not None:
            changed.append("password")
        audit.record(
            audit.Action.USER_UPDATE if existing is not None else audit.Action.USER_CREATE,
            actor=actor,
            target_type="user",
            target_id=user.id,
            detail=[
                audit.part(audit.N_("role: %(role)s"), role=audit.value(user.role)),
                audit.part(
                    audit.N_("changed: %(fields)s"), fields=audit.names("user_field", changed)
                )
                if changed
                else None,
            ],
        )
    return user


def _account_facts(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "organisations": sorted(o.id for o in user.organisations),
        "active": user.is_active_account,
    }


def create_user(
    email: str,
    name: str,
    role: Role,
    password: str,
    organisations: Sequence[Organisation] = (),
) -> User:
    # The command line may leave the name out: the address stands in for it.
    return save_user(
        None,
        UserData(email, name.strip() or email.strip()[:120], role, list(organisations), password),
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def _dummy_check(password: str) -> None:
    check_password_hash(_dummy_hash(), password)


def authenticate(email: str, password: str, now: datetime) -> User:
    """The active account with these credentials; one vague error otherwise."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        _dummy_check(
            password
        )  # as slow as a real check: the timing must not tell which addresses exist
        raise ServiceError(_("Wrong email address or password."))
    if not user.check_password(password) or not user.is_active:
        raise ServiceError(_("Wrong email address or password."))
    user.last_login_at = now
    db.session.flush()
    return user


def change_own_password(
    user: User,
    current_password: str,
    new_password: str,
    repeated_password: str,
    *,
    revoke_tokens: bool,
    now: datetime,
) -> int:
    """A staff member's new password, given their current one. Every session of the
    account ends (the caller starts a fresh one for the device in hand), and, unless they
    choose otherwise, every API token is revoked. Returns the number of tokens revoked."""
    errors = {}
    if not user.check_password(current_password or ""):
        errors["current_password"] = _("This is not your current password.")
    if len(new_password or "") < MIN_PASSWORD_LENGTH:
        errors["new_password"] = _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    elif new_password != repeated_password:
        errors["repeated_password"] = _("The two new passwords are not the same.")
    if errors:
        raise ValidationFailed(errors)
    user.set_password(new_password)
    sessions.end_all(user)
    revoked = api_tokens.revoke_all(user, now, actor=user) if revoke_tokens else 0
    audit.record(
        audit.Action.USER_UPDATE,
        actor=user,
        target_type="user",
        target_id=user.id,
        detail=audit.part(
            audit.N_("changed: %(fields)s"), fields=audit.names("user_field", ["password"])
        ),
    )
    db.session.flush()
    return revoked


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.role, User.email)))


def organisation_by_slug_or_name(key: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(
            (Organisation.slug == key) | (func.lower(Organisation.name) == key.lower())
        )
    )


STAFF_LANGUAGES = ("lv", "ru", "en")


def remember_language(user: User, language: str) -> None:
    """The language a staff member chose on the site's language switch: the service writes
    to them in it from now on (the needs digest, services/needs_digest.py)."""
    if language in STAFF_LANGUAGES and user.language != language:
        user.language = language
        db.session.flush()
