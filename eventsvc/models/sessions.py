"""Staff sign-ins kept on the server, so that signing out really ends them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timezones import utcnow
from .accounts import User
from .base import Base, UTCDateTime


class UserSession(Base):
    """One sign-in on one device (services/sessions.py). Its cookies carry a random secret;
    only the secret's SHA-256 is kept here, so this table signs no one in."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex
    # "Keep me signed in": the session ends at a fixed time after the sign-in; otherwise
    # after a while unused.
    remembered: Mapped[bool] = mapped_column(default=False)
    # What the owner sees in their list ("Chrome, Android"); never the whole user agent
    # string, nor an address.
    device: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most once a minute, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()
