"""Handing a finished message to the mail system, and what each kind of failure means.

Two backends: "smtp" (smtplib to MAIL_SERVER, every step bounded by MAIL_TIMEOUT) and
"mailbox" (the embedded default: each message is written as an .eml file that the
development mailbox page shows).

Addresses: the domain always travels as punycode (IDNA), which every server accepts; a local
part with letters beyond ASCII (jānis@…) needs the server's SMTPUTF8 extension, and a
server without it refuses that message for good (PermanentFailure), never silently.

The failures, by whom they blame:
- MailServerUnavailable: the server could not be reached or greeted; no message is to blame.
- PermanentFailure: this message can never go (a 5xx reply, an address the server cannot
  carry); the worker fails it at once, for the organisers to phone the person.
- TemporaryFailure: this message did not go now (a 4xx reply, a timeout or a lost connection
  in the middle of it); the worker retries it with backoff.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import idna


class MailServerUnavailable(Exception):
    """The SMTP server could not be reached: no message is to blame."""


class PermanentFailure(Exception):
    """This message will never be accepted as it is: fail it, do not retry."""


class TemporaryFailure(Exception):
    """This message was not accepted now; it may be later."""


@dataclass(frozen=True)
class Envelope:
    """Who a message goes to and from, as the SMTP conversation spells them."""

    sender: str
    recipient: str
    smtputf8: bool  # a local part beyond ASCII: the server must offer SMTPUTF8


def smtp_address(address: str) -> tuple[str, bool]:
    """(`address` with its domain in punycode, whether its local part needs SMTPUTF8).
    PermanentFailure for what no mail server could carry."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise PermanentFailure("not an email address")
    if any(ord(c) < 32 or ord(c) == 127 for c in address):
        raise PermanentFailure("control characters in an email address")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise PermanentFailure(f"the domain cannot be written in IDNA: {exc}") from exc
    return f"{local}@{domain}", not local.isascii()


def as_bytes(message: EmailMessage, envelope: Envelope) -> bytes:
    """The message as it goes on the wire: RFC 2047 headers, or UTF-8 ones under SMTPUTF8."""
    return message.as_bytes(policy=policy.SMTPUTF8 if envelope.smtputf8 else policy.SMTP)


def _refusal(exc: smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused) -> Exception:
    """A refusal by the server: permanent for 5xx, temporary otherwise (4xx)."""
    reply: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
    else:
        code, reply = exc.smtp_code, exc.smtp_error
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    text = f"{code} {reply}"
    return PermanentFailure(text) if 500 <= code < 600 else TemporaryFailure(text)


class SMTPTransport:
    """One SMTP connection for a whole pass (opened on the first message)."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        smtp = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
        connection = None
        try:
            # The timeout bounds the connect and every reply after it (socket timeout).
            connection = smtp(
                config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
            )
            connection.ehlo()
            if config.get("MAIL_USE_TLS"):
                connection.starttls()
                connection.ehlo()
            if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
                connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (OSError, smtplib.SMTPException) as exc:
            if connection is not None:
                connection.close()
            raise MailServerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return connection

    def send(self, message_id: int, envelope: Envelope, data: bytes) -> None:
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        options: list[str] = []
        if envelope.smtputf8:
            if not connection.has_extn("smtputf8"):
                raise PermanentFailure(
                    "the mail server does not offer SMTPUTF8, which this address needs"
                )
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            connection.sendmail(envelope.sender, [envelope.recipient], data, mail_options=options)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            # A reply refusing this message; smtplib has reset the transaction (RSET), so the
            # connection serves the next one.
            raise _refusal(exc) from exc
        except (OSError, smtplib.SMTPException) as exc:
            # Connected, then lost (or timed out) in the middle of this message: it is charged
            # an attempt and backs off, so one message that breaks the server cannot stall
            # the queue. The next message opens a new connection.
            self.close()
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            with contextlib.suppress(OSError):
                self._connection.close()
        self._connection = None


class MailboxTransport:
    """The development mailbox: one .eml file per message, any address delivered."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def send(self, message_id: int, envelope: Envelope, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{message_id:08d}.eml").write_bytes(data)

    def close(self) -> None:
        pass


Transport = SMTPTransport | MailboxTransport


def transport_for(config: Mapping[str, Any]) -> Transport:
    if config["EVENTSVC_MAIL_BACKEND"] == "mailbox":
        return MailboxTransport(config["EVENTSVC_MAILBOX_DIR"])
    return SMTPTransport(config)
