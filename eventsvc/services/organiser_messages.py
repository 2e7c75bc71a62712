"""The organisers' own message to an event's registrants: everyone registered, only those with
a place, or only the waiting list.

It goes through the outbox like every other notice (kind "organiser_message", its subject and
text in the payload; the mail frames it in each registrant's language), and whoever has no
email address lands on the event's to-call list with the text to read out
(services/phone_calls.py). The hourly cap per address does not hold it back: it is an
organiser's action, not a public request (services/notifications.py). The organiser sees
first how it will look, how many get it by email and who must be phoned (`preview`); the
audit log records who sent it to whom (counts, never the text).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Event,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    User,
)
from . import NotFound, ServiceError, ValidationFailed, access, audit
from .input_rules import check_text
from .mailer import compose
from .notifications import Told, notify_registrants
from .phone_calls import Reach, Script, reach, script

SUBJECT_LENGTH = 150
TEXT_LENGTH = 5000


class Audience(enum.StrEnum):
    EVERYONE = "everyone"  # confirmed and waiting
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"


AUDIENCE_LABELS = {
    Audience.EVERYONE: _l("Everyone registered (with a place or waiting)"),
    Audience.CONFIRMED: _l("Only those with a place"),
    Audience.WAITLISTED: _l("Only the waiting list"),
}
STATUSES = {
    Audience.EVERYONE: ACTIVE_STATUSES,
    Audience.CONFIRMED: (RegistrationStatus.CONFIRMED,),
    Audience.WAITLISTED: (RegistrationStatus.WAITLISTED,),
}
# The audit note per audience: counts only, never the text.
_SENT_NOTE = {
    Audience.EVERYONE: audit.N_(
        "to everyone registered: %(emailed)d by email, %(phoned)d to phone"
    ),
    Audience.CONFIRMED: audit.N_(
        "to those with a place: %(emailed)d by email, %(phoned)d to phone"
    ),
    Audience.WAITLISTED: audit.N_("to the waiting list: %(emailed)d by email, %(phoned)d to phone"),
}


@dataclass(frozen=True)
class MessageData:
    audience: Audience
    subject: str
    text: str

    @property
    def payload(self) -> dict[str, str]:
        return {"subject": self.subject, "body": self.text}


def clean(data: MessageData) -> MessageData:
    """`data` trimmed, or ValidationFailed with a message per field."""
    errors: dict[str, str] = {}
    check_text(errors, {"subject": data.subject}, {"text": data.text})
    subject, text = data.subject.strip(), data.text.strip()
    if "subject" not in errors:
        if not subject:
            errors["subject"] = _("Enter a subject.")
        elif len(subject) > SUBJECT_LENGTH:
            errors["subject"] = _("At most %(n)d characters.", n=SUBJECT_LENGTH)
    if "text" not in errors:
        if not text:
            errors["text"] = _("Write the message.")
        elif len(text) > TEXT_LENGTH:
            errors["text"] = _("At most %(n)d characters.", n=TEXT_LENGTH)
    if errors:
        raise ValidationFailed(errors)
    return MessageData(audience=data.audience, subject=subject, text=text)


@dataclass(frozen=True)
class Sample:
    """The message as one registrant gets it: a mail (subject and text), or, for someone
    without email, what the organiser reads out to them."""

    name: str
    language: str
    subject: str | None = None
    mail_text: str | None = None
    phone_script: Script | None = None


@dataclass(frozen=True)
class Preview:
    data: MessageData
    reach: Reach
    sample: Sample | None  # None: nobody to send it to


def preview(user: User, event: Event, data: MessageData) -> Preview:
    """What sending `data` would do, changing nothing: how it looks, how many get it by email,
    and who must be phoned."""
    _require_manages(user, event)
    data = clean(data)
    statuses = STATUSES[data.audience]
    return Preview(data=data, reach=reach(event.id, statuses), sample=_sample(event, data))


def _sample(event: Event, data: MessageData) -> Sample | None:
    """The first registrant's copy (by mail if anyone gets one by mail)."""
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status.in_(STATUSES[data.audience]),
                Registration.anonymised_at.is_(None),
            )
            .order_by(Registration.email.is_(None), Registration.id)
            .limit(1)
        )
    )
    if not registrations:
        return None
    registration = registrations[0]
    if registration.email:
        # A message built as the worker will build it, never stored (it is in no session).
        outgoing = compose(
            OutboxMessage(
                kind="organiser_message",
                registration=registration,
                recipient=registration.email,
                language=registration.language,
                payload=data.payload,
            )
        )
        if outgoing is not None:
            return Sample(
                name=registration.name,
                language=registration.language,
                subject=outgoing.subject,
                # The resident's private link is theirs: the organiser sees where it goes.
                mail_text=outgoing.body.replace(registration.manage_token, "…"),
            )
    return Sample(
        name=registration.name,
        language=registration.language,
        phone_script=script("organiser_message", registration, data.payload),
    )


def send(user: User, event: Event, data: MessageData, now: datetime) -> Told:
    """Queue the message for everyone in its audience (mail, or the to-call list); audited."""
    _require_manages(user, event)
    data = clean(data)
    told = notify_registrants(
        event, "organiser_message", now, data.payload, statuses=STATUSES[data.audience]
    )
    if not (told.emailed or told.phoned):
        raise ServiceError(_("Nobody is registered to get this message."))
    audit.record(
        audit.Action.EVENT_MESSAGE,
        actor=user,
        target_type="event",
        target_id=event.id,
        event=event,
        detail=audit.part(_SENT_NOTE[data.audience], emailed=told.emailed, phoned=told.phoned),
    )
    return told


def _require_manages(user: User, event: Event) -> None:
    access.require_organiser(user)
    if not access.can_manage_event(user, event):
        raise NotFound()
