"""Staff accounts. Residents never have one: a manage link reaches their registration."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..timezones import utcnow
from .base import Base, UTCDateTime, enum_type
from .organisations import Organisation

if TYPE_CHECKING:
    from .sessions import UserSession

    class UserMixin:
        """Flask-Login's mixin as the type checker sees it: Flask-Login ships no types, and a
        model built on an unknown (Any) base would make every query of users untyped."""

        @property
        def is_authenticated(self) -> bool: ...
        @property
        def is_anonymous(self) -> bool: ...
        def get_id(self) -> str: ...
else:
    from flask_login import UserMixin


class Role(enum.StrEnum):
    ORGANISER = "organiser"  # acts within their organisations
    MINISTRY = "ministry"  # read-only aggregates, never a person
    ADMIN = "admin"  # manages organisations and users
    DOOR = "door"  # checks people in at their organisations' events, and nothing else


memberships = Table(
    "memberships",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive in practice.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    # The language the service writes to them in (lv, ru, en): the one they last chose on
    # the site's language switch while signed in. None until then: Latvian.
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=memberships, order_by=Organisation.name
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    # The server-side session (a UserSession, services/sessions.py) this object signed in
    # or was loaded through in this request, and its secret; not columns. Flask-Login keeps
    # the secret in its cookies (LoginManager.id_attribute = "session_secret_for_cookie").
    # Declared for the type checker only: an annotation here would ask the ORM for a column.
    if TYPE_CHECKING:
        current_session: UserSession | None
        current_session_secret: str | None
    current_session = None
    current_session_secret = None

    def session_secret_for_cookie(self) -> str:
        if self.current_session_secret is None:
            raise RuntimeError("sign in through services.sessions.start, not login_user alone")
        return self.current_session_secret

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
