"""Large-print letters for people without email: one A4 sheet per person, in their language.

Whoever is registered without an email address, or is on the to-call list because their mail
failed, gets a letter: what the open calls would tell them (what changed, a place that came
free, the organisers' message: services/phone_calls.py), or, with nothing new to say, their
ticket (the QR code and booking code, when and where). The organiser's phone closes it. The
page that prints them is templates/organiser/letters.html; printing them is audited like the
attendance sheet (web/organiser/calls.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import force_locale
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..folding import fold
from ..models import (
    ACTIVE_STATUSES,
    Attendance,
    Event,
    EventStatus,
    PhoneCall,
    Registration,
    RegistrationStatus,
    User,
)
from . import NotFound, access
from .phone_calls import Script, open_calls_by_registration, script, when_text, where_text
from .registration import stream_link, waitlist_position


@dataclass(frozen=True)
class Letter:
    """One person's letter; its words are in `language` (the registrant's)."""

    registration: Registration
    language: str
    news: list[Script] = field(default_factory=list)  # what the open calls say
    ticket: bool = False  # nothing new: the ticket (QR and booking code) instead
    online: bool = False  # taking part online: no ticket needed
    waiting: int | None = None  # on the waiting list, at this position
    when: str = ""
    where: str = ""
    stream_url: str | None = None  # taking part online: the link to watch


def letters(user: User, event: Event) -> list[Letter]:
    """The event's letters, by name: everyone registered without email, and everyone whose
    open calls come from failed mail."""
    access.require_organiser(user)
    if not access.can_manage_event(user, event):
        raise NotFound()
    calls = open_calls_by_registration(event.id)
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.anonymised_at.is_(None),
            or_(
                Registration.id.in_(list(calls)),
                Registration.email.is_(None) & Registration.status.in_(ACTIVE_STATUSES),
            ),
        )
        .options(selectinload(Registration.activities))
    ).all()
    ordered = sorted(registrations, key=lambda r: (fold(r.name), r.id))
    return [_letter(event, r, calls.get(r.id, [])) for r in ordered]


def _letter(event: Event, registration: Registration, calls: list[PhoneCall]) -> Letter:
    language = registration.language
    with force_locale(language):
        when, where = when_text(event), where_text(event, registration)
    news = [script(c.kind, registration, c.payload) for c in calls]
    if not news and event.status is EventStatus.CANCELLED:  # not told yet: the letter tells
        news = [script("event_cancelled", registration)]
    confirmed = registration.status is RegistrationStatus.CONFIRMED
    online = confirmed and registration.attendance is Attendance.ONLINE
    waiting = (
        waitlist_position(registration)
        if registration.status is RegistrationStatus.WAITLISTED
        else None
    )
    return Letter(
        registration=registration,
        language=language,
        news=news,
        ticket=not news and confirmed and not online,
        online=not news and online,
        waiting=None if news else waiting,
        when=when,
        where=where,
        stream_url=stream_link(registration),
    )
