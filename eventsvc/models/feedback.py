"""Feedback after an event: the invitation (on the registration's side) and the answers
(on the event's side), with nothing that joins one to the other.

An invitation holds the hash of a single-use link token, when it expires and the day it was
used. An answer holds only the event and the answers: no registration, no invitation, no
time (a time could be matched with the day the link was used), and a random key (a growing
number could be matched with the order in which links were used)."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class FeedbackInvitation(Base):
    __tablename__ = "feedback_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One per registration: a second run of the timer finds it there and sends nothing.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the link's token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_on: Mapped[date | None] = mapped_column(Date)  # a day, not a moment


def new_answer_key() -> str:
    return secrets.token_hex(16)


class FeedbackAnswer(Base):
    __tablename__ = "feedback_answers"
    __table_args__ = (
        CheckConstraint("usefulness IS NULL OR usefulness BETWEEN 1 AND 5", name="usefulness_1_5"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_answer_key)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # Each question the event asked (services/feedback.py QUESTIONS); None: not asked or skipped.
    usefulness: Mapped[int | None] = mapped_column(SmallInteger)  # 1–5
    come_again: Mapped[str | None] = mapped_column(String(10))  # yes / no / maybe
    needs_met: Mapped[str | None] = mapped_column(String(10))  # yes / partly / no / none
    information: Mapped[str | None] = mapped_column(String(10))  # yes / partly / no
    improve: Mapped[str | None] = mapped_column(Text)  # free text, for the event's organisers only
