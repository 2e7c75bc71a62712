"""Tickets: the QR code carries only the registration's ticket secret (256 random bits)."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pil import PilImage
from sqlalchemy import select

from ..extensions import db
from ..models import Registration, RegistrationStatus


@lru_cache(maxsize=2048)
def qr_png(secret: str, box_size: int = 10) -> bytes:
    """A PNG of the QR code for `secret`; phone cameras and handheld scanners read it."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M, box_size=box_size, border=4, image_factory=PilImage
    )
    code.add_data(secret)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def ticket_is_valid(registration: Registration) -> bool:
    """Only a confirmed place has a ticket; waiting or cancelled registrations show none."""
    return registration.status is RegistrationStatus.CONFIRMED


def registration_by_ticket(event_id: int, secret: str) -> Registration | None:
    """The registration a scanned ticket belongs to, if it is for this event."""
    if not isinstance(secret, str) or not 20 <= len(secret) <= 64:
        return None
    return db.session.scalar(
        select(Registration).where(
            Registration.ticket_secret == secret, Registration.event_id == event_id
        )
    )
