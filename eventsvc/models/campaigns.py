"""Campaigns, pilots and projects that events belong to (for the Ministry's totals)."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_type
from .organisations import Organisation


class CampaignKind(enum.StrEnum):
    CAMPAIGN = "campaign"  # e.g. "Savējais savējiem!"
    PILOT = "pilot"  # e.g. "Sociālais darbs kopienā"
    PROJECT = "project"  # e.g. the ESF project 9.2.1.1/15/I/001


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[CampaignKind] = mapped_column(enum_type(CampaignKind))
    # A funding programme's reference, e.g. "9.2.1.1/15/I/001".
    project_number: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))

    organisation: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<Campaign {self.name}>"
