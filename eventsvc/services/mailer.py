"""The outbox worker: renders queued messages and delivers them, exactly once each.

Each message is claimed in its own short transaction (FOR UPDATE SKIP LOCKED on
PostgreSQL, so several workers share the queue; the write lock on SQLite), sent, marked
sent and committed. A message the server refuses is retried with exponential backoff and,
after MAX_ATTEMPTS, marked failed for an admin to see. When the server cannot be reached
at all, nothing is charged to the messages: the pass stops and the worker tries later.

Two delivery backends: "smtp" (Flask-Mail to MAIL_SERVER) and "mailbox" (the embedded
default: each message is written as an .eml file that the development mailbox page shows).
"""

from __future__ import annotations

import contextlib
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import func, select

from ..extensions import db, mail
from ..models import Attendance, OutboxMessage, OutboxStatus, Registration, RegistrationStatus
from .ical import calendar_bytes
from .locking import sqlite_write_lock
from .tickets import qr_png

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
TICKET_KINDS = {"confirmation", "promoted", "changed", "event_changed", "reminder"}


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … at most 6 hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


class MailServerUnavailable(Exception):
    """The SMTP server could not be reached: no message is to blame."""


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
    "registration_changed": "changed",
    "event_changed": "event_changed",
    "event_cancelled": "event_cancelled",
    "event_reminder": "reminder",
    "event_feedback": "feedback",
}


def _template_for(message: OutboxMessage, registration: Registration) -> str | None:
    """Which mail a queued kind becomes, given the registration as it is now."""
    status = registration.status
    if message.kind == "registration_repeated":
        return {
            RegistrationStatus.CONFIRMED: "confirmation",
            RegistrationStatus.WAITLISTED: "waitlisted",
        }.get(status)
    if (
        message.kind in ("event_changed", "event_reminder", "registration_changed")
        and status is RegistrationStatus.CANCELLED
    ):
        return None
    return TEMPLATES[message.kind]


def compose(message: OutboxMessage) -> Message | None:
    """The mail for a queued message, in its recipient's language; None if moot now."""
    registration = message.registration
    if registration is None or not registration.email:
        return None
    template = _template_for(message, registration)
    if template is None:
        return None
    event = registration.event
    with (
        force_locale(message.language),
        current_app.test_request_context("/", base_url=current_app.config["EVENTSVC_PUBLIC_URL"]),
    ):
        from .registration import waitlist_position

        with_ticket = (
            template in TICKET_KINDS and registration.status is RegistrationStatus.CONFIRMED
        )
        context = dict(
            template=template,
            registration=registration,
            event=event,
            payload=message.payload or {},
            position=waitlist_position(registration),
            with_ticket=with_ticket,
            repeated=message.kind == "registration_repeated",
            manage_url=url_for(
                "registration.manage", token=registration.manage_token, _external=True
            ),
            ticket_url=url_for(
                "registration.ticket", token=registration.manage_token, _external=True
            ),
            event_url=url_for("public.event", event_id=event.id, _external=True),
            show_stream=registration.attendance is Attendance.ONLINE and bool(event.stream_url),
            changes=describe_changes((message.payload or {}).get("changes", {})),
            feedback_url=url_for(
                "feedback.form", feedback_token=message.payload["token"], _external=True
            )
            if template == "feedback"
            else None,
            feedback_until=datetime.fromisoformat(message.payload["expires"])
            if template == "feedback"
            else None,
        )
        subject = render_template("mail/subject.txt", **context).strip()
        mail_message = Message(
            subject=subject,
            recipients=[message.recipient],
            body=render_template("mail/message.txt", **context),
            html=render_template("mail/message.html", **context),
            sender=current_app.config["MAIL_DEFAULT_SENDER"],
            extra_headers={
                "Auto-Submitted": "auto-generated",
                "X-Eventsvc-Message": str(message.id),
            },
        )
        if with_ticket:
            png = qr_png(registration.ticket_secret)
            mail_message.attach(
                "qr.png", "image/png", png, disposition="inline", headers={"Content-ID": "<qr>"}
            )
            mail_message.attach(_("ticket") + ".png", "image/png", png)
        if template not in ("cancelled", "event_cancelled", "feedback"):
            ics = calendar_bytes(
                [event],
                url_for_event=lambda e: context["event_url"],
                uid_domain=current_app.config["EVENTSVC_PUBLIC_URL"]
                .split("//")[-1]
                .split(":")[0]
                .split("/")[0],
                name=event.title,
                now=message.created_at,
            )
            mail_message.attach("event.ics", "text/calendar; charset=utf-8; method=PUBLISH", ics)
        return mail_message


def describe_changes(changes: dict[str, list]) -> list[tuple[str, str, str]]:
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
    shown = {"time": when, "format": lambda v: label(EventFormat(v))}
    lines = []
    for key, (old, new) in changes.items():
        show = shown.get(key, lambda v: v or "–")
        lines.append((names.get(key, key), show(old), show(new)))
    return lines


# --- delivery ------------------------------------------------------------------------


def _claim_next(now: datetime) -> OutboxMessage | None:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if sqlite_write_lock():
        return db.session.scalar(query)
    return db.session.scalar(query.with_for_update(skip_locked=True))


class _Sender:
    """One SMTP connection for a whole pass (opened on the first message), or the mailbox."""

    def __init__(self, backend: str):
        self.backend = backend
        self._connection = None
        self._context = None

    def send(self, message_id: int, mail_message: Message) -> None:
        if self.backend == "mailbox":
            folder = Path(current_app.config["EVENTSVC_MAILBOX_DIR"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{message_id:08d}.eml").write_bytes(mail_message.as_bytes())
            return
        if self._connection is None:
            try:
                self._context = mail.connect()
                self._connection = self._context.__enter__()
            except (OSError, smtplib.SMTPException) as exc:
                self._context = None
                raise MailServerUnavailable(str(exc)) from exc
        try:
            self._connection.send(mail_message)
        except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError):
            # Connected, then lost while sending this message: it is charged an attempt
            # (and backs off), so one message that breaks the server cannot stall the queue.
            self.close()
            raise

    def close(self) -> None:
        if self._context is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._context.__exit__(None, None, None)
        self._context = self._connection = None


def deliver_due(now: datetime, limit: int | None = None, progress=None) -> DeliveryReport:
    """Send what is due, one committed transaction per message. `progress(n)` is told of
    each message handled (for the CLI's progress bar)."""
    report = DeliveryReport()
    sender = _Sender(current_app.config["EVENTSVC_MAIL_BACKEND"])
    handled = 0
    try:
        while limit is None or handled < limit:
            message = _claim_next(now)
            if message is None:
                db.session.rollback()
                break
            handled += 1
            try:
                mail_message = compose(message)
                if mail_message is None:
                    message.status = OutboxStatus.SKIPPED
                    report.skipped += 1
                else:
                    sender.send(message.id, mail_message)
                    message.status = OutboxStatus.SENT
                    message.sent_at = now
                    report.sent += 1
            except MailServerUnavailable as exc:
                db.session.rollback()  # not the message's fault: it stays due
                report.server_unavailable = True
                report.errors.append(str(exc))
                break
            except Exception as exc:
                db.session.rollback()
                message = db.session.get(OutboxMessage, message.id, with_for_update=True)
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                    report.failed += 1
                else:
                    message.next_attempt_at = now + backoff(message.attempts)
                    report.retried += 1
                report.errors.append(message.last_error)
            db.session.commit()
            if progress:
                progress(1)
    finally:
        sender.close()
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
