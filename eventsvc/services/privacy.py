"""Personal data: forgetting it (the retention purge, a resident's own erasure) and handing
it over (a data-subject request).

Anonymising a registration erases what names or reaches a person — name, email, phone,
accessibility needs written in words, and the two secrets of its links (replaced by fresh
random values, so old links and tickets stop working), its consent to a follow-up call after
the event and the marks of the calls made (so it leaves the follow-up list) — and the
messages addressed to it in the mail outbox, and its entries on the event's to-call list
(services/phone_calls.py). It keeps everything the totals count (status, party size,
attendance, source, people let in, activities, the needs ticked from the fixed list, times,
the number of follow-up calls made), so eventsvc.services.stats answers the same before and
after: with nothing left that names or reaches the person, a ticked "hearing loop" is a count
of an anonymous party. Check-ins hold no personal data (counts, times, the staff account and
a random door-device id), and the audit log never does.

The purge works in batches, each its own short transaction: the batch's rows are locked
(FOR UPDATE SKIP LOCKED on PostgreSQL, so a row another transaction holds waits for the next
run; the write lock on SQLite) and updated only while `anonymised_at IS NULL`, so two purges
at once, or a purge during registration activity, anonymise each row once. A second run
finds nothing to do.

Functions flush and never commit, except `purge`, a job whose batches are each a unit of work
(eventsvc/transactions.py).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict, cast

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import BindParameter, Select, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    CheckIn,
    Event,
    OutboxMessage,
    PhoneCall,
    Registration,
    RegistrationSearchTerm,
    User,
)
from ..models.registrations import new_token
from ..transactions import unit_of_work
from . import NotFound, ValidationFailed, access, audit, phone_calls
from .locking import claim, lock_registration, sqlite_write_lock
from .mailer import TEMPLATES as MAIL_TEMPLATES
from .registration import cancel_registration, resident_may_change

log = logging.getLogger(__name__)

# What an anonymised registration is called: not a person's name, the same in every language.
ANONYMOUS_NAME = "—"
BATCH_SIZE = 500

# What the audit log records (never personal data in its `detail`).
AUDIT_PURGE = audit.Action.PRIVACY_PURGE
AUDIT_ERASE = audit.Action.REGISTRATION_ERASE
AUDIT_EXPORT = audit.Action.EXPORT_DATA_SUBJECT


class AnonymousValues(TypedDict):
    name: str
    email: None
    phone: None
    needs: str
    manage_token: str
    ticket_secret: str
    follow_up_consent_at: None
    follow_up_called_at: None
    follow_up_called_by_id: None
    follow_up_outcome: None
    anonymised_at: datetime


def anonymous_values(now: datetime) -> AnonymousValues:
    """The personal columns of a registration, erased; fresh secrets, so old links die. The
    follow-up list goes too (services/follow_up.py): the consent and the last call's marks;
    the number of calls made (follow_up_calls) stays, for the totals."""
    return {
        "name": ANONYMOUS_NAME,
        "email": None,
        "phone": None,
        "needs": "",
        "manage_token": new_token(),
        "ticket_secret": new_token(),
        "follow_up_consent_at": None,
        "follow_up_called_at": None,
        "follow_up_called_by_id": None,
        "follow_up_outcome": None,
        "anonymised_at": now,
    }


def _outbox_ids(registration_ids: Sequence[int]) -> list[int]:
    if not registration_ids:
        return []
    return list(
        db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.registration_id.in_(registration_ids))
        )
    )


def _delete_outbox(message_ids: list[int]) -> int:
    """Messages to erased people: sent or failed ones hold their address (and errors may
    quote it); pending ones must not go out any more. All are deleted."""
    if not message_ids:
        return 0
    db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .execution_options(synchronize_session="fetch")
    )
    return len(message_ids)


def remove_mailbox_copies(message_ids: Iterable[int]) -> int:
    """The development mailbox keeps each sent message as a file: remove those too."""
    if current_app.config.get("EVENTSVC_MAIL_BACKEND") != "mailbox":
        return 0
    folder = Path(current_app.config["EVENTSVC_MAILBOX_DIR"])
    removed = 0
    for message_id in message_ids:
        path = folder / f"{int(message_id):08d}.eml"
        if path.is_file():
            path.unlink()
            removed += 1
    return removed


# --- the retention purge ------------------------------------------------------------------


@dataclass
class PurgeReport:
    registrations: int = 0  # anonymised (or, in a dry run, that would be)
    outbox_messages: int = 0  # deleted
    events: int = 0  # events whose registrations were touched
    dry_run: bool = False


def _candidates(cutoff: datetime) -> Select[int]:
    """Registrations not yet anonymised, of events that ended before `cutoff`."""
    return (
        select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .where(Event.ends_at < cutoff, Registration.anonymised_at.is_(None))
    )


def _stray_outbox() -> Select[int]:
    """Messages to registrations already anonymised (queued by a transaction that raced the
    purge): never sent, since there is no address any more, but they still name it."""
    return select(OutboxMessage.id).where(
        OutboxMessage.registration_id.in_(
            select(Registration.id).where(Registration.anonymised_at.is_not(None))
        )
    )


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    if retention_days < 0:
        raise ValueError("retention_days must not be negative")
    return now - timedelta(days=retention_days)


def purge_due(now: datetime, retention_days: int) -> PurgeReport:
    """What a purge would do now, changing nothing (for --dry-run and the progress bar)."""
    cutoff = retention_cutoff(now, retention_days)
    candidates = _candidates(cutoff).subquery()
    registrations = db.session.scalar(select(func.count()).select_from(candidates)) or 0
    events = (
        db.session.scalar(
            select(func.count(func.distinct(Registration.event_id))).where(
                Registration.id.in_(select(candidates.c.id))
            )
        )
        or 0
    )
    messages = (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.registration_id.in_(select(candidates.c.id))
                | OutboxMessage.id.in_(_stray_outbox())
            )
        )
        or 0
    )
    return PurgeReport(
        registrations=registrations, outbox_messages=messages, events=events, dry_run=True
    )


def purge(
    now: datetime,
    retention_days: int,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> PurgeReport:
    """Anonymise the registrations of events that ended more than `retention_days` ago, in
    batches of `batch_size`, each its own unit of work (a job, run by `flask privacy purge`); `progress(n)` hears of each batch. Safe to run twice,
    or twice at once: what is done is not done again."""
    cutoff = retention_cutoff(now, retention_days)
    report = PurgeReport()
    events: set[int] = set()
    after_id = 0
    table = cast(Table, Registration.__table__)  # typed as a FromClause; a model's is a Table
    # The columns anonymous_values() erases, with its values for each row (fresh secrets);
    # the registration's own history (updated_at) stays as it was.
    erased: dict[str, BindParameter[Any]] = {
        name: bindparam(f"b_{name}") for name in anonymous_values(now)
    }
    anonymise = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.anonymised_at.is_(None))
        .values({**erased, "updated_at": table.c.updated_at})
    )
    while True:
        with unit_of_work():  # one batch: its rows are anonymised together or not at all
            query = (
                select(Registration.id, Registration.event_id, Event.organisation_id)
                .join(Event, Event.id == Registration.event_id)
                .where(
                    Event.ends_at < cutoff,
                    Registration.anonymised_at.is_(None),
                    Registration.id > after_id,
                )
                .order_by(Registration.id)
                .limit(batch_size)
            )
            # Rows another transaction holds (a late cancellation, a concurrent purge) are
            # skipped, not waited for: this run moves on, a later run takes them.
            rows = db.session.execute(claim(query, of=Registration)).all()
            if not rows:
                break
            after_id = rows[-1].id
            ids = [row.id for row in rows]
            db.session.execute(
                anonymise,
                [
                    {"b_id": i, **{f"b_{name}": v for name, v in anonymous_values(now).items()}}
                    for i in ids
                ],
            )
            # The folded words of their names and phones (the model's listener does this for
            # an erasure through the ORM; this is SQL).
            db.session.execute(
                delete(RegistrationSearchTerm).where(
                    RegistrationSearchTerm.registration_id.in_(ids)
                )
            )
            message_ids = _outbox_ids(ids)
            _delete_outbox(message_ids)
            phone_calls.remove_for(ids)
            for organisation_id, count in sorted(
                Counter(row.organisation_id for row in rows).items()
            ):
                audit.record(
                    AUDIT_PURGE,
                    actor=audit.SYSTEM,
                    target_type="registration",
                    organisation_id=organisation_id,
                    detail=audit.part(
                        audit.N_("registrations anonymised: %(n)d (kept for %(days)d days)"),
                        n=count,
                        days=retention_days,
                    ),
                )
        remove_mailbox_copies(message_ids)  # once the batch is stored
        report.registrations += len(ids)
        report.outbox_messages += len(message_ids)
        events.update(row.event_id for row in rows)
        if progress is not None:
            progress(len(ids))

    with unit_of_work():
        sqlite_write_lock()
        strays = list(db.session.scalars(_stray_outbox()))
        _delete_outbox(strays)
        # Calls noted for them by a transaction that raced the purge (a late failed message).
        phone_calls.remove_for(
            db.session.scalars(
                select(PhoneCall.registration_id)
                .join(Registration, Registration.id == PhoneCall.registration_id)
                .where(Registration.anonymised_at.is_not(None))
            ).all()
        )
    remove_mailbox_copies(strays)
    report.outbox_messages += len(strays)
    report.events = len(events)
    log.info(
        "privacy purge: %d registrations of %d events anonymised, %d outbox messages deleted "
        "(events ended more than %d days ago)",
        report.registrations,
        report.events,
        report.outbox_messages,
        retention_days,
    )
    return report


# --- a resident erases their own registration -------------------------------------------------


@dataclass
class Erasure:
    event: Event
    gave_up: (
        str | None
    )  # "confirmed" or "waitlisted" when a place (or a place in line) was given up
    promoted: int  # waiting parties that got the freed places
    message_ids: list[int] = field(default_factory=list)  # deleted from the outbox


def anonymise_registration(registration: Registration, now: datetime) -> list[int]:
    """Erase one registration's personal data now (the caller holds its lock); returns the
    ids of the outbox messages deleted with it."""
    for name, value in anonymous_values(now).items():
        setattr(registration, name, value)
    db.session.flush()  # counts are untouched, so the per-event counters do not move
    message_ids = _outbox_ids([registration.id])
    _delete_outbox(message_ids)
    phone_calls.remove_for([registration.id])
    return message_ids


def erase_registration(
    registration: Registration, now: datetime, by_user: User | None = None
) -> Erasure:
    """The resident's "erase my data": an active registration for an event still ahead is
    cancelled first by the ordinary rule (its places go to the waiting list), then the row
    is anonymised at once. Nothing is sent to the erased person, not even the cancellation.
    A registration for an event that has begun or ended keeps its status: it is history the
    totals count."""
    locked = lock_registration(registration)  # the event, then the registration
    if locked is None or locked.anonymised_at is not None:
        raise NotFound()  # erased a moment ago (a second click, another tab)
    registration = locked
    gave_up, promoted = None, []
    if registration.is_active and resident_may_change(registration, now):
        gave_up = registration.status.value
        promoted = cancel_registration(registration, now, by_user)
    event = registration.event
    message_ids = anonymise_registration(registration, now)
    audit.record(
        AUDIT_ERASE,
        actor=by_user or audit.RESIDENT,  # staff following the private link act as themselves
        target_type="registration",
        target_id=registration.id,
        event=event,
        detail=[
            audit.part(
                audit.N_("erased by the resident")
                if by_user is None
                else audit.N_("erased by staff through the private link")
            ),
            audit.part(audit.N_("cancelled first")) if gave_up else None,
            audit.part(audit.N_("moved up from the waiting list: %(n)d"), n=len(promoted)),
        ],
    )
    db.session.flush()
    return Erasure(event=event, gave_up=gave_up, promoted=len(promoted), message_ids=message_ids)


# --- a data-subject request ---------------------------------------------------------------------


def normalise_address(email: str | None) -> str:
    """An email address as registrations store it (validated, lower-cased)."""
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed(
            {"email": _("Enter a valid email address, like name@example.lv.")}
        ) from None


def _when(moment: datetime | None) -> str | None:
    from ..timezones import to_riga

    return to_riga(moment).isoformat(timespec="seconds") if moment else None


def _subject(message: OutboxMessage, event: Event) -> str:
    template = MAIL_TEMPLATES.get(message.kind)  # what a queued message became
    if template is None:
        return message.kind
    with force_locale(message.language):
        # The template alone (no request's context processors): the mail's own subject line.
        return (
            current_app.jinja_env.get_template("mail/subject.txt")
            .render(template=template, event=event, payload=message.payload or {})
            .strip()
        )


def data_subject_export(user: User, email: str, now: datetime) -> dict[str, Any]:
    """Everything held about one email address in the registrations `user` may see
    (organisers: their organisations' events; admins: all), as a JSON-ready document. The
    Ministry may not (PermissionDenied). The export itself is audited, without the address."""
    access.require_organiser(user)
    scope = access.managed_organisation_ids(user)
    address = normalise_address(email)
    query = (
        select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(Registration.email == address)
        .options(
            selectinload(Registration.activities),
            selectinload(Registration.event).selectinload(Event.organisation),
        )
        .order_by(Event.starts_at, Registration.id)
    )
    if scope is not None:
        query = query.where(Event.organisation_id.in_(scope or [-1]))
    registrations = list(db.session.scalars(query))
    ids = [r.id for r in registrations]
    checkins: dict[int, list[CheckIn]] = {}
    messages: dict[int | None, list[OutboxMessage]] = {}
    calls: dict[int, list[PhoneCall]] = {}  # the event's to-call list (services/phone_calls.py)
    if ids:
        for checkin in db.session.scalars(
            select(CheckIn).where(CheckIn.registration_id.in_(ids)).order_by(CheckIn.id)
        ):
            checkins.setdefault(checkin.registration_id, []).append(checkin)
        for message in db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.registration_id.in_(ids))
            .order_by(OutboxMessage.id)
        ):
            messages.setdefault(message.registration_id, []).append(message)
        for call in db.session.scalars(
            select(PhoneCall).where(PhoneCall.registration_id.in_(ids)).order_by(PhoneCall.id)
        ):
            calls.setdefault(call.registration_id, []).append(call)

    def describe(r: Registration) -> dict[str, Any]:
        event = r.event
        return {
            "registration_id": r.id,
            "event": {
                "id": event.id,
                "title": event.title,
                "starts_at": _when(event.starts_at),
                "ends_at": _when(event.ends_at),
                "venue": ", ".join(
                    part for part in (event.venue_name, event.venue_address) if part
                ),
                "organiser": event.organisation.name,
            },
            "status": r.status.value,
            "name": r.name,
            "email": r.email,
            "phone": r.phone,
            "party_size": r.party_size,
            "attendance": r.attendance.value,
            "activities": [a.title for a in r.activities],
            "activity_waiting_lists": [w.activity.title for w in r.activity_waits],
            "accessibility_needs": r.needs,
            "accessibility_needs_ticked": [need.value for need in r.access_needs],
            "language": r.language,
            "registered_via": r.source.value,
            "consent_at": _when(r.consent_at),
            "privacy_notice_version": r.consent_notice_version,
            "created_at": _when(r.created_at),
            "confirmed_at": _when(r.confirmed_at),
            "cancelled_at": _when(r.cancelled_at),
            "updated_at": _when(r.updated_at),
            "reminded_at": _when(r.reminded_at),
            "reminded_two_hours_at": _when(r.reminded_two_hours_at),
            "follow_up_consent_at": _when(r.follow_up_consent_at),
            "follow_up_calls": r.follow_up_calls,
            "follow_up_called_at": _when(r.follow_up_called_at),
            "follow_up_outcome": r.follow_up_outcome.value if r.follow_up_outcome else None,
            "checked_in_people": r.checked_in_people,
            "check_ins": [
                {
                    "at": _when(c.scanned_at),
                    "recorded_at": _when(c.created_at),
                    "people": c.people,
                    "method": c.method.value,
                    "undone_at": _when(c.undone_at),
                }
                for c in checkins.get(r.id, [])
            ],
            "messages": [
                {
                    "subject": _subject(m, event),
                    "kind": m.kind,
                    "to": m.recipient,
                    "language": m.language,
                    "status": m.status.value,
                    "queued_at": _when(m.created_at),
                    "sent_at": _when(m.sent_at),
                }
                for m in messages.get(r.id, [])
            ],
            "phone_calls": [
                {
                    "about": c.kind,
                    "why": c.reason.value,
                    "what_to_say": c.payload,
                    "noted_at": _when(c.created_at),
                    "called_at": _when(c.done_at),
                }
                for c in calls.get(r.id, [])
            ],
        }

    document = {
        "email": address,
        "generated_at": _when(now),
        "registrations": [describe(r) for r in registrations],
    }
    # One entry per organisation whose registrations were handed over (admins: one entry
    # when there were none), so that each organisation's organisers see it.
    per_organisation = Counter(r.event.organisation_id for r in registrations)
    handed_over: list[tuple[int | None, int]] = [*sorted(per_organisation.items())]
    for organisation_id, count in handed_over or [(None, 0)]:
        audit.record(
            AUDIT_EXPORT,
            actor=user,
            target_type="registration",
            organisation_id=organisation_id,
            detail=audit.part(audit.N_("data-subject request, registrations: %(n)d"), n=count),
        )
    db.session.flush()
    return document


def export_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
