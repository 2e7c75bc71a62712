"""Messages waiting to be sent: written in the transaction that caused them, sent by a worker."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timezones import utcnow
from .base import Base, UTCDateTime, enum_type
from .registrations import Registration


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until claimed_until (its lease)
    SENT = "sent"
    FAILED = "failed"  # refused for good, or gave up after the last retry; shown to admins
    # and to the event's organisers
    SKIPPED = "skipped"  # nothing to send (e.g. no email address any more)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The worker's queue: pending messages that are due, oldest first.
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        # The hourly cap per address (services/notifications.py): messages to one recipient lately.
        Index("ix_outbox_messages_recipient_created", "recipient", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="lv")
    # What the message must say that the database will not remember (e.g. what changed).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While SENDING: the worker's lease. No row lock is held during the SMTP conversation; a
    # worker that dies mid-send leaves a lease that expires, and the message is claimed again.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()
