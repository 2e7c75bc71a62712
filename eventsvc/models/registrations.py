"""A resident's registration for an event: one row per party, capacity counts people."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, Session, UOWTransaction, mapped_column, relationship

from ..folding import TERM_LENGTH, terms_for
from ..needs import ALL_BITS, Need, needs_of
from ..timezones import utcnow
from .accounts import User
from .base import Base, UTCDateTime, enum_type
from .events import Activity, Event


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


class Attendance(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class FollowUpOutcome(enum.StrEnum):
    """What a social worker's call after the event came to (services/follow_up.py)."""

    REACHED = "reached"
    NOT_REACHED = "not_reached"


class RegistrationSource(enum.StrEnum):
    WEB = "web"  # the public form
    API = "api"  # the JSON API (e.g. a municipality's own site)
    ORGANISER = "organiser"  # entered by staff, e.g. after a phone call
    WALK_IN = "walk_in"  # came to the door without registering


def new_token() -> str:
    """256 random bits, URL-safe: the key to a registration's manage page."""
    return secrets.token_urlsafe(32)


# The short code on a ticket, for typing at the door: no 0/O, 1/I/L to confuse.
BOOKING_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BOOKING_CODE_LENGTH = 6  # 31**6: some 900 million codes per event


def new_booking_code() -> str:
    """A random booking code; unique per event only once checked (services/registration.py
    checks it under the event's lock; the unique constraint catches anything else)."""
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(BOOKING_CODE_LENGTH))


def normalise_booking_code(typed: str) -> str | None:
    """A typed booking code as stored (upper case, without spaces or dashes), or None if it
    cannot be one."""
    code = "".join(typed.split()).replace("-", "").upper()
    if len(code) == BOOKING_CODE_LENGTH and all(c in BOOKING_CODE_ALPHABET for c in code):
        return code
    return None


# The activities a party holds a place in. While the party itself waits for a place at the
# event, these are the activities it asked for: they are checked again when it gets one.
registration_activities = Table(
    "registration_activities",
    Base.metadata,
    Column("registration_id", ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint("party_size >= 1", name="party_size_positive"),
        CheckConstraint("checked_in_people >= 0", name="checked_in_people_not_negative"),
        CheckConstraint("follow_up_calls >= 0", name="follow_up_calls_not_negative"),
        # Residents leave a way to reach them; a walk-in at the door need not, nor an
        # anonymised registration (its contact details are erased).
        CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL OR source = 'walk_in' OR anonymised_at IS NOT NULL",
            name="has_contact",
        ),
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
        UniqueConstraint("event_id", "booking_code", name="uq_registrations_event_booking_code"),
        # Bits of eventsvc/needs.py only (a bit no need has would be counted nowhere).
        CheckConstraint(f"needs_mask >= 0 AND needs_mask <= {ALL_BITS}", name="needs_mask_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(enum_type(RegistrationStatus))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))  # lower-cased
    phone: Mapped[str | None] = mapped_column(String(40))
    party_size: Mapped[int] = mapped_column(default=1)
    # People of this party let in at the door: the sum of its check-ins that were not undone,
    # kept here by the check-in service (under this row's lock) so that national totals are
    # one scan of registrations, not a join with every check-in.
    checked_in_people: Mapped[int] = mapped_column(default=0, server_default="0")
    attendance: Mapped[Attendance] = mapped_column(
        enum_type(Attendance), default=Attendance.IN_PERSON
    )
    needs: Mapped[str] = mapped_column(Text, default="")  # accessibility needs, free text
    # The needs ticked from the list organisers plan for, one bit each (eventsvc/needs.py
    # says why a mask); counted in event_stats, kept when the registration is anonymised.
    needs_mask: Mapped[int] = mapped_column(default=0, server_default="0")
    language: Mapped[str] = mapped_column(String(5), default="lv")
    # Two secrets: the manage link changes the registration; the ticket (the QR code) only
    # lets its holder in. Showing a ticket at the door must not hand over the manage link.
    manage_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    ticket_secret: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # Short enough to read out and type at the door; unique within the event.
    booking_code: Mapped[str] = mapped_column(String(BOOKING_CODE_LENGTH))
    source: Mapped[RegistrationSource] = mapped_column(
        enum_type(RegistrationSource), default=RegistrationSource.WEB
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # services/privacy_notice.PRIVACY_NOTICE_VERSION when the resident agreed (None: older rows).
    consent_notice_version: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the day-before reminder
    reminded_two_hours_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After the event (services/follow_up.py): when the resident agreed that the social
    # service contacts them if they could not come (None: not agreed), and the last call made.
    # All erased with the personal data, except the number of calls, which the totals count.
    follow_up_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_calls: Mapped[int] = mapped_column(default=0, server_default="0")
    follow_up_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    follow_up_called_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    follow_up_outcome: Mapped[FollowUpOutcome | None] = mapped_column(enum_type(FollowUpOutcome))
    # Set when the personal fields were erased (retention purge or the resident's own request);
    # the row stays, with its counts, for the totals.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    follow_up_called_by: Mapped[User | None] = relationship(foreign_keys=[follow_up_called_by_id])
    activities: Mapped[list[Activity]] = relationship(
        secondary=registration_activities, order_by=(Activity.starts_at, Activity.id)
    )
    # Full activities this (confirmed) party waits for, each on that activity's waiting list.
    activity_waits: Mapped[list[ActivityWait]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="ActivityWait.id"
    )
    search_terms: Mapped[list[RegistrationSearchTerm]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def access_needs(self) -> list[Need]:
        """The ticked needs, in the order of eventsvc/needs.py."""
        return needs_of(self.needs_mask)

    @property
    def takes_a_place(self) -> bool:
        """Whether this party counts against the event's capacity (see registration rules)."""
        return self.attendance is Attendance.IN_PERSON or self.event.format.value == "online"

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status} x{self.party_size}>"


class ActivityWait(Base):
    """A confirmed party on a full activity's own waiting list (services/registration.py):
    first come, first served by id, as on the event's. The party keeps its place at the event
    while it waits here."""

    __tablename__ = "activity_waits"
    __table_args__ = (UniqueConstraint("registration_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="activity_waits")
    activity: Mapped[Activity] = relationship()

    def __repr__(self) -> str:
        return f"<ActivityWait {self.id} r{self.registration_id} a{self.activity_id}>"


class RegistrationSearchTerm(Base):
    """One word a registration is found by (folding.py: its name's words folded, its phone's
    digits, its booking code), kept by the listener below on every write.

    One row per word rather than a text column, so that "a word beginning with what was
    typed" is one range of the (event_id, term) index on SQLite and PostgreSQL alike: the
    door's search reads the matching entries, never all of a big event's rows. The term is
    compared byte by byte (PostgreSQL's "C" collation; SQLite's binary one), as the range
    of folding.prefix_range needs.
    """

    __tablename__ = "registration_search_terms"
    __table_args__ = (
        Index("ix_registration_search_terms_event_term", "event_id", "term", "registration_id"),
    )

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(
        String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql"),
        primary_key=True,
    )
    event_id: Mapped[int] = mapped_column()  # the registration's, copied: the index leads with it

    registration: Mapped[Registration] = relationship(back_populates="search_terms")


_SEARCHED = ("name", "phone", "booking_code", "anonymised_at")


def _terms(registration: Registration) -> list[str]:
    if registration.anonymised_at is not None:
        return []  # erased: found by nothing any more
    return terms_for(registration.name, registration.phone, registration.booking_code)


@event.listens_for(Session, "before_flush")
def _keep_search_terms(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    """A new registration gets its booking code (unless the service chose one) and its search
    terms; a changed name, phone or code, or an erasure, changes the terms. Scans and other
    changes cost nothing here. (`services.registration.register` inserts a registration with
    its own statements, not through a flush, and writes its terms itself, from `terms_for`.)"""
    for registration in list(session.new):
        if isinstance(registration, Registration):
            if registration.booking_code is None:
                registration.booking_code = new_booking_code()
            registration.search_terms = [
                RegistrationSearchTerm(term=t) for t in _terms(registration)
            ]
    for registration in list(session.dirty):
        if not isinstance(registration, Registration):
            continue
        state = inspect(registration)
        if not any(state.attrs[name].history.has_changes() for name in _SEARCHED):
            continue
        wanted = _terms(registration)
        kept = {t.term: t for t in registration.search_terms if t.term in wanted}
        registration.search_terms = [kept.get(t) or RegistrationSearchTerm(term=t) for t in wanted]


@event.listens_for(RegistrationSearchTerm, "before_insert")
def _term_event(
    mapper: Mapper[RegistrationSearchTerm], connection: Connection, term: RegistrationSearchTerm
) -> None:
    # The registration is inserted first (the foreign key orders the flush), so its event is
    # known here even when the registration was made with `event=` alone.
    term.event_id = term.registration.event_id
