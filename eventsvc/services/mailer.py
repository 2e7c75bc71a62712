"""The outbox worker: renders queued messages and delivers them, once each.

A message is claimed in a short transaction of its own: marked "sending" with a lease
(claimed_until) and committed before any SMTP, so that no row lock and no open transaction
spans the conversation with the server. Several workers share the queue (FOR UPDATE SKIP
LOCKED on PostgreSQL, the write lock for a moment on SQLite). The result is recorded in a
second short transaction, only while the lease is still this worker's; a worker that dies
mid-send leaves a lease that expires, and the message is claimed again (a message that kept
killing its workers fails after MAX_ATTEMPTS claims). At worst a message whose worker died
between the server's yes and its own note is sent twice; none is lost.

What a failure costs a message (the kinds are in mail_transport):
- the server cannot be reached: nothing; the claim is handed back and the pass stops.
- a permanent refusal (a 5xx reply, an address the server cannot carry): failed at once, for
  the admins (/admin/outbox) to see, and onto the event's to-call list for its organisers to
  phone the person (services/phone_calls.py), in the unit of work that records the failure.
- anything else (a 4xx reply, a timeout or lost connection mid-message, a message that cannot
  be rendered): retried with exponential backoff, failed after MAX_ATTEMPTS.
A part that cannot be built (the QR code, the PDF ticket, the calendar file) never stops a
message: it goes without that part, and the traceback is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update

from .. import transactions
from ..extensions import db, rows_matched
from ..models import Attendance, OutboxMessage, OutboxStatus, Registration, RegistrationStatus
from ..timezones import utcnow
from ..transactions import unit_of_work
from .ical import calendar_bytes
from .locking import claim as queue_claim
from .mail_transport import (
    Envelope,
    MailServerUnavailable,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    as_bytes,
    smtp_address,
    transport_for,
)
from .notifications import STAFF_KINDS
from .phone_calls import note_undelivered
from .plain_text import one_line
from .reminders import relative_day
from .ticket_pdf import ticket_pdf
from .tickets import qr_png

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
# How long a claim stays this worker's. Far longer than one message can take: each step of the
# SMTP conversation is bounded by MAIL_TIMEOUT (at most 300 s, config.py), and a message is a
# handful of steps.
LEASE = timedelta(minutes=30)
TICKET_KINDS = {"confirmation", "promoted", "restored", "changed", "event_changed", "reminder"}


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … at most 6 hours."""
    doublings: int = 2 ** max(attempts - 1, 0)  # int ** int is typed Any (it may be a float)
    return min(FIRST_RETRY * doublings, LONGEST_WAIT)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    server_unavailable: bool = False
    errors: list[str] = field(default_factory=list)


# --- rendering ----------------------------------------------------------------------


# Which mail template each queued kind becomes (a repeat re-sends the confirmation).
TEMPLATES = {
    "registration_confirmed": "confirmation",
    "registration_repeated": "confirmation",
    "registration_promoted": "promoted",
    "registration_waitlisted": "waitlisted",
    "registration_cancelled": "cancelled",
    "registration_restored": "restored",
    "registration_changed": "changed",
    "registration_email_changed": "email_changed",
    "activity_promoted": "activity_promoted",
    "event_changed": "event_changed",
    "event_cancelled": "event_cancelled",
    "event_reminder": "reminder",
    "event_feedback": "feedback",
    "organiser_message": "organiser_message",
}


_TO_A_FORMER_ADDRESS = {"registration_email_changed"}


def _template_for(message: OutboxMessage, registration: Registration) -> str | None:
    """Which mail a queued kind becomes, given the registration as it is now."""
    status = registration.status
    if message.kind == "registration_repeated":
        return {
            RegistrationStatus.CONFIRMED: "confirmation",
            RegistrationStatus.WAITLISTED: "waitlisted",
        }.get(status)
    if (
        message.kind
        in (
            "event_changed",
            "event_reminder",
            "registration_changed",
            "organiser_message",
            "registration_restored",
        )
        and status is RegistrationStatus.CANCELLED
    ):
        return None
    if message.kind == "activity_promoted" and not (
        status is RegistrationStatus.CONFIRMED
        and (message.payload or {}).get("activity_id") in {a.id for a in registration.activities}
    ):
        return None  # the place was given up (or the activity removed) before this went out
    return TEMPLATES[message.kind]


# Messages that carry neither the private link nor the calendar file: what ends the
# registration, and the notice to an address the registration no longer uses.
WITHOUT_LINK = {"cancelled", "event_cancelled", "email_changed", "feedback"}
# Messages that carry the link but no calendar file: the event's date is not their news.
WITHOUT_CALENDAR = WITHOUT_LINK | {"organiser_message"}


@dataclass(frozen=True)
class Outgoing:
    """A composed message, ready for the transport."""

    envelope: Envelope
    message: EmailMessage

    def as_bytes(self) -> bytes:
        return as_bytes(self.message, self.envelope)

    # What a reader (the development mailbox, a test) looks at.
    @property
    def recipients(self) -> list[str]:
        return [self.envelope.recipient]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The plain-text part."""
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        """The HTML part."""
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else ""

    @property
    def attachments(self) -> list[EmailMessage]:
        """The attached files (the ticket, the calendar file), not the inline QR."""
        return list(self.message.iter_attachments())

    @property
    def images(self) -> list[str]:
        """The content types of every image part (inline or attached)."""
        return [
            p.get_content_type() for p in self.message.walk() if p.get_content_maintype() == "image"
        ]


def _optional_part(message_id: int, what: str, build: Callable[[], bytes]) -> bytes | None:
    """A part the message can go without: its failure is logged (with the traceback) and
    the message goes all the same."""
    try:
        return build()
    except Exception:
        log.exception(
            "outbox message %s: the %s could not be built; sent without it", message_id, what
        )
        return None


def _host(url: str) -> str:
    return url.split("//")[-1].split(":")[0].split("/")[0]


def compose(message: OutboxMessage, now: datetime | None = None) -> Outgoing | None:
    """The mail for a queued message, in its recipient's language, as sent at `now` (default:
    the clock); None if moot now. PermanentFailure for an address no mail server could carry."""
    if message.kind in STAFF_KINDS:
        return compose_to_staff(message)
    now = now or utcnow()
    registration = message.registration
    if registration is None or not (registration.email or message.kind in _TO_A_FORMER_ADDRESS):
        return None
    template = _template_for(message, registration)
    if template is None:
        return None
    if template == "reminder" and registration.event.starts_at <= now:
        return None  # held up until the event began: a reminder is no use any more
    config = current_app.config
    envelope, sender_name = _envelope(message)
    event = registration.event
    host = _host(config["EVENTSVC_PUBLIC_URL"])
    with (
        force_locale(message.language),
        current_app.test_request_context("/", base_url=config["EVENTSVC_PUBLIC_URL"]),
    ):
        from .registration import activity_choices, stream_link, waitlist_position

        online = registration.attendance is Attendance.ONLINE
        # An online attendee needs no ticket: nobody checks them in at a door.
        with_ticket = (
            template in TICKET_KINDS
            and registration.status is RegistrationStatus.CONFIRMED
            and not online
        )
        payload = message.payload or {}
        context: dict[str, Any] = dict(  # what the templates are given
            template=template,
            registration=registration,
            event=event,
            payload=payload,
            position=waitlist_position(registration),
            online=online,
            activity_choices=activity_choices(registration),
            promoted_activity=next(
                (a for a in registration.activities if a.id == payload.get("activity_id")), None
            ),
            field_changes=describe_registration_changes(payload.get("fields") or {}),
            with_link=template not in WITHOUT_LINK,
            with_ticket=with_ticket,
            repeated=message.kind == "registration_repeated",
            manage_url=url_for(
                "registration.manage", token=registration.manage_token, _external=True
            ),
            ticket_url=url_for(
                "registration.ticket", token=registration.manage_token, _external=True
            ),
            event_url=url_for("public.event", event_id=event.id, _external=True),
            stream_url=stream_link(registration),
            changes=describe_changes((message.payload or {}).get("changes", {})),
            feedback_url=url_for(
                "feedback.form", feedback_token=message.payload["token"], _external=True
            )
            if template == "feedback"
            else None,
            feedback_until=datetime.fromisoformat(message.payload["expires"])
            if template == "feedback"
            else None,
            # "today" / "tomorrow" / "later", in Riga, as the mail leaves (not as it was queued).
            starts=relative_day(event.starts_at, now) if template == "reminder" else None,
        )
        qr = (
            _optional_part(message.id, "QR code", lambda: qr_png(registration.ticket_secret))
            if with_ticket
            else None
        )
        # The ticket to print (at a library, say), made in the registrant's language.
        pdf = (
            _optional_part(message.id, "PDF ticket", lambda: ticket_pdf(registration))
            if with_ticket
            else None
        )
        ics = None
        if template not in WITHOUT_CALENDAR:
            ics = _optional_part(
                message.id,
                "calendar file",
                lambda: calendar_bytes(
                    [event],
                    url_for_event=lambda e: context["event_url"],
                    uid_domain=host,
                    name=event.text("title", message.language).text,
                    now=message.created_at,
                    language=message.language,
                ),
            )
        context["with_qr"] = qr is not None
        # The subject is text: the HTML part shows it escaped, like everything else there.
        context["subject"] = one_line(render_template("mail/subject.txt", **context))
        text = render_template("mail/message.txt", **context)
        html = render_template("mail/message.html", **context)
        ticket_name = _("ticket") + ".png"
        pdf_name = _("ticket") + ".pdf"

    mail = _mail(message, envelope, sender_name, host, context["subject"], text, html)
    if qr is not None:
        html_part = list(mail.iter_parts())[1]
        html_part.add_related(
            qr, "image", "png", cid="<qr>", filename="qr.png", disposition="inline"
        )
        mail.add_attachment(qr, "image", "png", filename=ticket_name)
    if pdf is not None:
        mail.add_attachment(pdf, "application", "pdf", filename=pdf_name)
    if ics is not None:
        mail.add_attachment(
            ics,
            "text",
            "calendar",
            filename="event.ics",
            params={"charset": "utf-8", "method": "PUBLISH"},
        )
    return Outgoing(envelope=envelope, message=mail)


def _envelope(message: OutboxMessage) -> tuple[Envelope, str]:
    """The envelope for `message`'s recipient, and the sender's display name."""
    recipient, smtputf8 = smtp_address(message.recipient)
    sender_name, sender_address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    envelope = Envelope(
        sender=smtp_address(sender_address)[0], recipient=recipient, smtputf8=smtputf8
    )
    return envelope, sender_name


def _mail(
    message: OutboxMessage,
    envelope: Envelope,
    sender_name: str,
    host: str,
    subject: str,
    text: str,
    html: str,
) -> EmailMessage:
    """The message with its headers and its text and HTML parts."""
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = Address(display_name=one_line(sender_name), addr_spec=envelope.sender)
    # As text: Address() refuses a local part beyond ASCII, which SMTPUTF8 carries as it is.
    mail["To"] = envelope.recipient
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = make_msgid(domain=host)
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Eventsvc-Message"] = str(message.id)
    # Quoted-printable keeps the body 7-bit: no server needs 8BITMIME for it.
    mail.set_content(text, cte="quoted-printable")
    mail.add_alternative(html, subtype="html", cte="quoted-printable")
    return mail


def compose_to_staff(message: OutboxMessage) -> Outgoing | None:
    """A message to a staff member (notifications.STAFF_KINDS), in their language; None if
    moot now: the event is gone, cancelled or under way, or the account no longer gets it."""
    from ..models import Event, EventStatus, User
    from .needs_digest import event_needs, receives_digest

    payload = message.payload or {}
    event = db.session.get(Event, payload.get("event_id") or 0)
    user = db.session.get(User, payload.get("user_id") or 0)
    if (
        event is None
        or event.status is not EventStatus.PUBLISHED
        or event.starts_at <= utcnow()  # too late to prepare: not worth a mail any more
        or not receives_digest(user, event)
    ):
        return None
    config = current_app.config
    envelope, sender_name = _envelope(message)
    host = _host(config["EVENTSVC_PUBLIC_URL"])
    with (
        force_locale(message.language),
        current_app.test_request_context("/", base_url=config["EVENTSVC_PUBLIC_URL"]),
    ):
        context = dict(
            user=user,
            event=event,
            needs=event_needs(event.id),
            registrations_url=url_for("organiser.registrations", event_id=event.id, _external=True),
            event_url=url_for("organiser.event", event_id=event.id, _external=True),
        )
        subject = one_line(render_template("mail/needs_digest_subject.txt", **context))
        context["subject"] = subject
        text = render_template("mail/needs_digest.txt", **context)
        html = render_template("mail/needs_digest.html", **context)
    return Outgoing(
        envelope=envelope, message=_mail(message, envelope, sender_name, host, subject, text, html)
    )


def describe_changes(changes: dict[str, list[Any]]) -> list[tuple[str, str, str]]:
    """(what, before, after) in the current language, for an event_changed notice."""
    from ..i18n import label, local_date, local_time
    from ..models import EventFormat

    def when(value: str) -> str:
        start, end = (datetime.fromisoformat(part) for part in value.split("/"))
        return f"{local_date(start)}, {local_time(start)}–{local_time(end)}"

    names = {
        "time": _("Time"),
        "place": _("Place"),
        "format": _("Format"),
        "stream_url": _("Link to the online stream"),
    }

    def as_it_is(value: str | None) -> str:
        return value or "–"

    shown: dict[str, Callable[[str], str]] = {
        "time": when,
        "format": lambda v: label(EventFormat(v)),
    }
    lines = []
    for key, (old, new) in changes.items():
        show = shown.get(key, as_it_is)
        lines.append((names.get(key, key), show(old), show(new)))
    return lines


def describe_registration_changes(
    fields: dict[str, list[Any] | None],
) -> list[tuple[str, str | None]]:
    """(what, "was … now …" or None) in the current language, for a registration's change."""
    from ..i18n import LANGUAGE_NAMES, label

    names = {
        "party_size": _("People"),
        "attendance": _("Taking part"),
        "activities": _("Activities"),
        "needs": _("Accessibility needs"),
        "phone": _("Phone"),
        "email": _("Email"),
        "language": _("Language for messages"),
    }
    lines = []
    for key, values in fields.items():
        if key == "attendance" and values:
            values = [label(Attendance(v)) for v in values]
        if key == "language" and values:
            values = [LANGUAGE_NAMES.get(v, v) for v in values]
        was_now = _("was %(old)s, now %(new)s", old=values[0], new=values[1]) if values else None
        lines.append((names.get(key, key), was_now))
    return lines


# --- delivery ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A message this worker holds: its id, its attempts counting this one, and the lease
    (which also tells this claim from a later one of the same message)."""

    id: int
    attempts: int
    until: datetime


def claim_next(now: datetime) -> Claim | None:
    """Claim the oldest message due at `now` (or whose lease has expired), in a unit of work
    of its own that is committed before returning (a queue claim: services/locking.py);
    None when there is none."""
    while True:
        wall = utcnow()  # leases run on the real clock, whatever `now` the caller schedules by
        with unit_of_work():
            query = (
                select(OutboxMessage)
                .where(
                    or_(
                        and_(
                            OutboxMessage.status == OutboxStatus.PENDING,
                            OutboxMessage.next_attempt_at <= now,
                        ),
                        and_(
                            OutboxMessage.status == OutboxStatus.SENDING,
                            OutboxMessage.claimed_until <= wall,
                        ),
                    )
                )
                .order_by(OutboxMessage.id)
                .limit(1)
            )
            message = db.session.scalar(queue_claim(query))
            if message is None:
                return None
            if message.status is OutboxStatus.SENDING:
                log.warning("outbox message %s: its worker stopped while sending it", message.id)
                message.last_error = "the worker stopped while sending it (its lease expired)"
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                    message.claimed_until = None
                    note_undelivered(message.id, now)  # someone phones the person instead
                    continue  # this one fails for good (committed); look for the next
            message.status = OutboxStatus.SENDING
            message.attempts += 1
            message.claimed_until = wall + LEASE
            held = Claim(id=message.id, attempts=message.attempts, until=message.claimed_until)
        return held


def _record(claim: Claim, then: Callable[[], object] | None = None, **values: object) -> bool:
    """Write the outcome of a claim and commit, with what `then` does in the same unit of
    work; False (nothing written) if the claim is gone: its lease expired and another worker
    claimed the message again, or the message was erased with its registration meanwhile
    (services/privacy.py)."""
    with unit_of_work():
        done = rows_matched(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == claim.id,
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_until == claim.until,
            )
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if done and then is not None:
            then()
    if not done:
        log.warning("outbox message %s: its claim was gone before the outcome was noted", claim.id)
    return bool(done)


def _failed(
    claim: Claim, error: str, now: datetime, report: DeliveryReport, *, permanent: bool
) -> None:
    error = error[:2000]
    report.errors.append(error)
    if permanent or claim.attempts >= MAX_ATTEMPTS:
        report.failed += 1
        _record(
            claim,
            lambda: note_undelivered(claim.id, now),  # someone phones the person instead
            status=OutboxStatus.FAILED,
            last_error=error,
        )
    else:
        report.retried += 1
        _record(
            claim,
            status=OutboxStatus.PENDING,
            last_error=error,
            next_attempt_at=now + backoff(claim.attempts),
        )


def _deliver_one(claim: Claim, transport: Transport, now: datetime, report: DeliveryReport) -> bool:
    """Compose and send one claimed message and record the outcome; False when the server
    cannot be reached (the pass stops)."""
    message = db.session.get(OutboxMessage, claim.id)
    if message is None:  # erased with its registration since it was claimed: nothing to send
        transactions.rollback()
        report.skipped += 1
        return True
    try:
        outgoing = compose(message, now)
        data = outgoing.as_bytes() if outgoing is not None else b""
    except PermanentFailure as exc:
        transactions.rollback()
        log.warning("outbox message %s cannot be sent: %s", claim.id, type(exc).__name__)
        _failed(claim, f"{type(exc).__name__}: {exc}", now, report, permanent=True)
        return True
    except Exception as exc:
        transactions.rollback()
        log.exception("outbox message %s could not be composed", claim.id)
        _failed(claim, f"{type(exc).__name__}: {exc}", now, report, permanent=False)
        return True
    # The reads that composed it end here: nothing stays open while the server is talked to.
    transactions.rollback()
    if outgoing is None:
        report.skipped += 1
        _record(claim, status=OutboxStatus.SKIPPED)
        return True
    try:
        transport.send(claim.id, outgoing.envelope, data)
    except MailServerUnavailable as exc:
        # Not the message's fault: it is handed back as it was, due at once.
        report.server_unavailable = True
        report.errors.append(str(exc))
        _record(claim, status=OutboxStatus.PENDING, attempts=OutboxMessage.attempts - 1)
        return False
    except PermanentFailure as exc:
        log.warning("outbox message %s refused for good", claim.id)
        _failed(claim, str(exc), now, report, permanent=True)
    except TemporaryFailure as exc:
        log.warning("outbox message %s not accepted now; will retry", claim.id)
        _failed(claim, str(exc), now, report, permanent=False)
    except Exception as exc:
        log.exception("outbox message %s: sending failed", claim.id)
        _failed(claim, f"{type(exc).__name__}: {exc}", now, report, permanent=False)
    else:
        report.sent += 1
        _record(claim, status=OutboxStatus.SENT, sent_at=now)
    return True


def deliver_due(
    now: datetime, limit: int | None = None, progress: Callable[[int], object] | None = None
) -> DeliveryReport:
    """Send what is due, each message claimed, sent and recorded on its own. `progress(n)` is
    told of each message handled (for the CLI's progress bar)."""
    report = DeliveryReport()
    transport = transport_for(current_app.config)
    handled = 0
    try:
        while limit is None or handled < limit:
            claim = claim_next(now)
            if claim is None:
                break
            handled += 1
            reachable = _deliver_one(claim, transport, now, report)
            if progress:
                progress(1)
            if not reachable:
                break
    finally:
        transport.close()
    return report


def due_count(now: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now
            )
        )
        or 0
    )


def retry(message: OutboxMessage, now: datetime) -> None:
    """An admin's second chance for a failed message."""
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    db.session.flush()
