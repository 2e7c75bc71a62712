"""The event's to-call list: a notice that could not be emailed, for an organiser to phone.

One row per notice and person: the registrant had no email address, or the message to them
failed for good (services/mailer.py). What to tell them is built, in their language, from
`kind` and `payload` (the same facts the mail carries) when it is shown: services/phone_calls.py.
The person's name and phone are the registration's, so an erasure leaves nothing here to read
(and services/privacy.py deletes the rows with it).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timezones import utcnow
from .accounts import User
from .base import Base, UTCDateTime, enum_type
from .events import Event
from .registrations import Registration


class CallReason(enum.StrEnum):
    NO_EMAIL = "no_email"  # registered without an email address (by phone, at a desk)
    UNDELIVERED = "undelivered"  # the mail was refused for good, or given up after retries


class PhoneCall(Base):
    __tablename__ = "phone_calls"
    __table_args__ = (
        # The event's open calls (its page shows how many until there are none).
        Index("ix_phone_calls_event_done", "event_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))  # a notification kind (services/notifications)
    reason: Mapped[CallReason] = mapped_column(enum_type(CallReason))
    # What the notice must say that the database will not remember (what changed, a message).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    registration: Mapped[Registration] = relationship()
    done_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PhoneCall {self.id} {self.kind} r{self.registration_id}>"
