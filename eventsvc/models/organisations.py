"""Who runs events: municipalities and the organisations inside them."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, enum_type

if TYPE_CHECKING:
    from .events import Event


class Municipality(Base):
    """A Latvian municipality (novads or valstspilsēta), e.g. Tukuma novads."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    organisations: Mapped[list[Organisation]] = relationship(back_populates="municipality")

    def __repr__(self) -> str:
        return f"<Municipality {self.slug}>"


class OrganisationKind(enum.StrEnum):
    SOCIAL_SERVICE = "social_service"  # a municipality's social service
    MINISTRY = "ministry"
    NGO = "ngo"
    OTHER = "other"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_type(OrganisationKind))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))

    municipality: Mapped[Municipality | None] = relationship(back_populates="organisations")
    events: Mapped[list[Event]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"
