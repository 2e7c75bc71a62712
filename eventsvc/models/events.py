"""An event with its panel (speakers) and its own sessions (activities)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timezones import to_riga, utcnow
from .base import Base, UTCDateTime, enum_type
from .campaigns import Campaign
from .organisations import Municipality, Organisation


class EventKind(enum.StrEnum):
    DISCUSSION = "discussion"
    FESTIVAL = "festival"
    WORKSHOP = "workshop"
    TRAINING = "training"
    EXCURSION = "excursion"
    MEETING = "meeting"
    CONCERT = "concert"
    OTHER = "other"


class EventFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class TargetGroup(enum.StrEnum):
    EVERYONE = "everyone"
    SENIORS = "seniors"
    FAMILIES_DISABILITY = "families_disability"  # families with children with a disability
    CHILDREN = "children"
    YOUTH = "youth"
    FUNCTIONAL_IMPAIRMENTS = "functional_impairments"
    PROFESSIONALS = "professionals"  # social workers, municipal staff


# Event text: the plain columns (title, summary, …) hold the Latvian text, which is required;
# each of these languages may add its own in a nullable column beside it (title_ru, title_en).
# Columns rather than one JSON column: plain typed, length-limited strings that read, filter
# and migrate the same on SQLite and PostgreSQL, and each edit is a named field in the audit.
BASE_TEXT_LANGUAGE = "lv"
TEXT_LANGUAGES = ("ru", "en")


@dataclass(frozen=True, slots=True)
class LocalText:
    """A text with the language it is written in (for the `lang` attribute around it)."""

    text: str
    lang: str

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


class Translated:
    """Text fields kept in Latvian plus optional Russian and English columns."""

    TRANSLATED: ClassVar[tuple[str, ...]] = ()

    def text(self, name: str, language: str | None) -> LocalText:
        """The field in `language` if it has been written there, else the Latvian text.

        The only place the fallback rule lives: pages, mails, .ics and the API all call it."""
        if name not in self.TRANSLATED:
            raise AttributeError(f"{type(self).__name__}.{name} has no translations")
        if language in TEXT_LANGUAGES:
            own = getattr(self, f"{name}_{language}")
            if own and own.strip():
                return LocalText(own, language)
        return LocalText(getattr(self, name) or "", BASE_TEXT_LANGUAGE)


def translation_columns(name: str) -> list[str]:
    """['title_ru', 'title_en'] for 'title'."""
    return [f"{name}_{language}" for language in TEXT_LANGUAGES]


class Event(Translated, Base):
    TRANSLATED = ("title", "summary", "description", "accessibility")
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "registration_opens_at IS NULL OR registration_closes_at IS NULL"
            " OR registration_opens_at < registration_closes_at",
            name="registration_window",
        ),
        # The public calendar: published events by start time.
        Index("ix_events_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    status: Mapped[EventStatus] = mapped_column(enum_type(EventStatus), default=EventStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    title_ru: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    summary_ru: Mapped[str | None] = mapped_column(String(500))
    summary_en: Mapped[str | None] = mapped_column(String(500))
    description_ru: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)

    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(String(300), default="")

    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "YYYY-MM" of the start in Riga, kept with starts_at: monthly totals group on it the same
    # way on SQLite (no time zones) and PostgreSQL.
    local_month: Mapped[str] = mapped_column(String(7), index=True, default="")
    desk_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: open from publication.
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Exclusive. None: open until the event starts. A date deadline is stored as the
    # Riga midnight after that date (see eventsvc.timezones).
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None] = mapped_column(Integer)  # people, not registrations

    format: Mapped[EventFormat] = mapped_column(
        enum_type(EventFormat), default=EventFormat.IN_PERSON
    )
    stream_url: Mapped[str | None] = mapped_column(String(500))
    # A stream link goes to registrants only, unless the organiser makes it public (a
    # Ministry Facebook live is): then the event page and the public API show it too.
    stream_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    accessibility: Mapped[str] = mapped_column(Text, default="")
    accessibility_ru: Mapped[str | None] = mapped_column(Text)
    accessibility_en: Mapped[str | None] = mapped_column(Text)
    # The language the event is held in (not the language of its text: see Translated).
    language: Mapped[str] = mapped_column(String(5), default="lv")
    # The questions of the feedback form sent after the event (services/feedback.py), in
    # their order, comma-separated: the organiser picks 3 to 5 from a fixed set.
    feedback_questions: Mapped[str] = mapped_column(
        String(100),
        default="usefulness,come_again,needs_met,improve",
        server_default="usefulness,come_again,needs_met,improve",
    )
    # When the reminders go (services/reminders.py): the day before, and/or two hours before.
    remind_day_before: Mapped[bool] = mapped_column(default=True, server_default=true())
    remind_two_hours: Mapped[bool] = mapped_column(default=False, server_default=false())

    # When the day-before digest of accessibility needs went to its organisers (or was found
    # to have nothing to say): once per event (services/needs_digest.py).
    needs_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="events")
    municipality: Mapped[Municipality] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    target_group_links: Mapped[list[EventTargetGroup]] = relationship(
        cascade="all, delete-orphan", order_by="EventTargetGroup.target_group"
    )
    speakers: Mapped[list[Speaker]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="(Speaker.position, Speaker.id)",
    )
    activities: Mapped[list[Activity]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        order_by="(Activity.starts_at, Activity.position, Activity.id)",
    )

    @property
    def target_groups(self) -> list[TargetGroup]:
        return [link.target_group for link in self.target_group_links]

    @target_groups.setter
    def target_groups(self, groups: Iterable[TargetGroup | str]) -> None:
        wanted = list(dict.fromkeys(TargetGroup(g) for g in groups))
        self.target_group_links = [
            next((link for link in self.target_group_links if link.target_group is g), None)
            or EventTargetGroup(target_group=g)
            for g in wanted
        ]

    @property
    def moderators(self) -> list[Speaker]:
        return [s for s in self.speakers if s.role is SpeakerRole.MODERATOR]

    @property
    def panellists(self) -> list[Speaker]:
        return [s for s in self.speakers if s.role is SpeakerRole.PANELLIST]

    @property
    def is_public(self) -> bool:
        """Published, or cancelled after having been published (people must learn of it)."""
        return self.status is EventStatus.PUBLISHED or (
            self.status is EventStatus.CANCELLED and self.published_at is not None
        )

    @property
    def is_online_possible(self) -> bool:
        return self.format in (EventFormat.ONLINE, EventFormat.HYBRID)

    def has_ended(self, now: datetime) -> bool:
        return self.ends_at <= now

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class EventTargetGroup(Base):
    __tablename__ = "event_target_groups"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    target_group: Mapped[TargetGroup] = mapped_column(
        enum_type(TargetGroup), primary_key=True, index=True
    )


class SpeakerRole(enum.StrEnum):
    MODERATOR = "moderator"
    PANELLIST = "panellist"


class Speaker(Translated, Base):
    TRANSLATED = ("title",)
    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200), default="")  # "Head of the social service"
    title_ru: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[SpeakerRole] = mapped_column(enum_type(SpeakerRole), default=SpeakerRole.PANELLIST)
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="speakers")


class ActivityKind(enum.StrEnum):
    WORKSHOP = "workshop"
    CONTEST = "contest"
    CONCERT = "concert"
    SESSION = "session"  # a training day, a lecture
    OTHER = "other"


class Activity(Translated, Base):
    """A festival's or programme's own session, with its own time, place and places."""

    TRANSLATED = ("title", "description")
    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ActivityKind] = mapped_column(
        enum_type(ActivityKind), default=ActivityKind.WORKSHOP
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    title_ru: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description_ru: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="activities")


@event.listens_for(Event.starts_at, "set")
def _keep_local_month(target: Event, value: datetime | None, oldvalue: Any, initiator: Any) -> None:
    if value is not None:
        target.local_month = to_riga(value).strftime("%Y-%m")
