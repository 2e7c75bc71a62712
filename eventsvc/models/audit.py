"""The audit log: who did what to which object, and when.

It names people only by their staff account (actor_id); residents and the system appear as
an actor kind. `detail` is a short, non-personal note ("party size 2 → 3", "4 rows"), never
a resident's name, email, phone or needs: the log outlives the anonymisation of registrations.
It is stored as compact JSON, a message id and its arguments, and translated when shown
(services/audit_detail.py); older entries hold English text, shown as it is.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timezones import utcnow
from .accounts import User
from .base import Base, UTCDateTime, enum_type


class ActorKind(enum.StrEnum):
    STAFF = "staff"  # a signed-in user (organiser, ministry, admin), also through an API token
    RESIDENT = "resident"  # through the private manage link
    SYSTEM = "system"  # a CLI command or timer (purge, reminders)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_organisation_at", "organisation_id", "at"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))  # e.g. "registration.cancel"
    # The organisation whose organisers may read this entry (None: admins only).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    target_type: Mapped[str] = mapped_column(String(30))  # "event", "registration", "user", …
    target_id: Mapped[int | None]
    # New entries are cut to 200 characters (services/audit_detail.DETAIL_LENGTH); TEXT, since
    # entries rewritten by migration 0013 (full kind names) may have grown past that.
    detail: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()
