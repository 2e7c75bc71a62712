"""An attendance certificate: issued by an organiser to a registration whose people were let
in at a training. The PDF is made when it is downloaded, in the registrant's language, from
the registration and the event as they are (services/certificates.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime
from .registrations import Registration


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (CheckConstraint("hours > 0", name="hours_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))  # the training's hours, as issued
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    registration: Mapped[Registration] = relationship()
