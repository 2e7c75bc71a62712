"""A resident's registration for an event: one row per party, capacity counts people."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timezones import utcnow
from .base import Base, UTCDateTime, enum_type
from .events import Event


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_contact"),
        # One active registration per address and event (as Indico does): the database
        # itself refuses a second one, whatever the application forgets.
        Index(
            "uq_registrations_event_email_active",
            "event_id",
            "email",
            unique=True,
            sqlite_where=text("status != 'cancelled' AND email IS NOT NULL"),
            postgresql_where=text("status != 'cancelled' AND email IS NOT NULL"),
        ),
        Index("ix_registrations_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_type(RegistrationStatus)
    )
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))  # lower-cased
    phone: Mapped[str | None] = mapped_column(String(40))
    party_size: Mapped[int] = mapped_column(default=1)
    needs: Mapped[str] = mapped_column(Text, default="")  # accessibility needs, free text
    language: Mapped[str] = mapped_column(String(5), default="lv")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
