"""Who came: one row per check-in at the door (a whole party, or some of its people)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timezones import utcnow
from .accounts import User
from .base import Base, UTCDateTime, enum_type
from .registrations import Registration


class CheckInMethod(enum.StrEnum):
    SCAN = "scan"  # camera or handheld scanner, or a typed code
    SEARCH = "search"  # found by name or phone
    WALK_IN = "walk_in"  # registered at the door


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("people >= 1", name="people_positive"),
        UniqueConstraint("event_id", "nonce", name="uq_checkins_event_nonce"),
        Index("ix_checkins_event_active", "event_id", "undone_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    people: Mapped[int] = mapped_column(default=1)
    method: Mapped[CheckInMethod] = mapped_column(enum_type(CheckInMethod))
    # A client-made id: a retried request (or an offline queue synced twice) finds its
    # first answer instead of checking in again.
    nonce: Mapped[str | None] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow
    )  # when the server recorded it
    scanned_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow
    )  # when the door saw it (offline)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
