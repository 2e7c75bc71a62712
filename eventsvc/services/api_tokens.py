"""Personal API tokens: shown once when made, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ActorKind, ApiToken, User
from . import NotFound, ValidationFailed, audit
from .input_rules import text_problem

PREFIX = "evs_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    user: User, name: str, now: datetime, actor: User | ActorKind | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`; the plain text is returned only here. `actor` is who made it
    (the user themself unless said otherwise, e.g. audit.SYSTEM for the command line)."""
    problem = text_problem(name)
    if problem is not None:
        raise ValidationFailed({"name": problem})
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationFailed(
            {"name": _("Give the token a name of up to 100 characters, e.g. the device.")}
        )
    plain = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, token_hash=_hash(plain), prefix=plain[:12], created_at=now
    )
    db.session.add(token)
    db.session.flush()
    audit.record_for_organisations(
        audit.Action.TOKEN_CREATE,
        audit.user_organisation_ids(user),
        actor=actor if actor is not None else user,
        target_type="api_token",
        target_id=token.id,
        detail=audit.part(audit.N_("staff account %(id)d"), id=user.id),
    )
    return token, plain


LAST_USED_GRANULARITY = timedelta(minutes=1)


# The token, its account and the account's organisations (what every staff endpoint asks
# next) in one round trip; built once at start-up.
_TOKEN_WITH_USER = (
    select(ApiToken)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    .options(joinedload(ApiToken.user).joinedload(User.organisations))
)


def user_for_token(plain: str, now: datetime) -> User | None:
    """The active account behind a token, or None."""
    if not isinstance(plain, str) or not plain.startswith(PREFIX) or len(plain) > 100:
        return None
    token = (
        db.session.execute(_TOKEN_WITH_USER, {"token_hash": _hash(plain)})
        .unique()
        .scalar_one_or_none()
    )
    if token is None or not token.user.is_active:
        return None
    # "Last used" is for the owner to spot a forgotten token, not a log: written at most once a
    # minute, so a door phone scanning all evening does not add a write and a commit per scan.
    if token.last_used_at is None or _aware(token.last_used_at) < now - LAST_USED_GRANULARITY:
        token.last_used_at = now
    return token.user


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(user: User, token_id: int, now: datetime) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record_for_organisations(
            audit.Action.TOKEN_REVOKE,
            audit.user_organisation_ids(user),
            actor=user,
            target_type="api_token",
            target_id=token.id,
            detail=audit.part(audit.N_("staff account %(id)d"), id=user.id),
        )
    db.session.flush()


def revoke_all(user: User, now: datetime, actor: User | ActorKind) -> int:
    """Every token of `user` still in force (with a new password): returns how many."""
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    organisation_ids = audit.user_organisation_ids(user)
    for token in tokens:
        token.revoked_at = now
        audit.record_for_organisations(
            audit.Action.TOKEN_REVOKE,
            organisation_ids,
            actor=actor,
            target_type="api_token",
            target_id=token.id,
            detail=audit.part(audit.N_("staff account %(id)d"), id=user.id),
        )
    db.session.flush()
    return len(tokens)
