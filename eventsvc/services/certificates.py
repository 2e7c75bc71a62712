"""Attendance certificates for trainings: issued by the event's organisers to people who were
let in, downloaded by the resident through the manage link, in the registrant's language.

A certificate is a row (who, how many hours, when, by whom); the PDF is made on download
from the registration and the event as they are, with fpdf2 and DejaVu Sans (Latvian and
Cyrillic letters). An anonymised registration has no name left, so it has no certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..i18n import local_date, local_period
from ..models import Certificate, Event, EventKind, Registration, RegistrationStatus, User
from . import NotFound, ServiceError, ValidationFailed, audit
from .access import can_manage_organisation, require_organiser
from .pdf_fonts import pdf_fonts

MAX_HOURS = Decimal("99.5")


def _require_manages(user: User, event: Event) -> None:
    require_organiser(user)
    if not can_manage_organisation(user, event.organisation_id):
        raise NotFound()


def default_hours(event: Event) -> Decimal:
    """The training's length in hours, to the half hour."""
    hours = Decimal((event.ends_at - event.starts_at).total_seconds()) / 3600
    return max((hours * 2).quantize(Decimal(1), ROUND_HALF_UP) / 2, Decimal("0.5"))


def parse_hours(value: object) -> Decimal:
    try:
        hours = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        hours = None
    if hours is None or not hours.is_finite() or not Decimal("0.5") <= hours <= MAX_HOURS:
        raise ValidationFailed({"hours": _("Enter the hours, from 0.5 to 99.5.")})
    return (hours * 2).quantize(Decimal(1), ROUND_HALF_UP) / 2


@dataclass(frozen=True)
class Attendee:
    registration: Registration
    certificate: Certificate | None


def attendees(user: User, event: Event) -> list[Attendee]:
    """Who may get a certificate: confirmed registrations whose people were let in."""
    _require_manages(user, event)
    rows = db.session.execute(
        select(Registration, Certificate)
        .outerjoin(Certificate, Certificate.registration_id == Registration.id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.checked_in_people > 0,
            Registration.anonymised_at.is_(None),
        )
        .order_by(Registration.name, Registration.id)
    ).all()
    return [Attendee(r, c) for r, c in rows]


def issue(
    user: User, event: Event, hours: object, now: datetime, registration_id: int | None = None
) -> int:
    """Issue certificates (to one registration, or to everyone let in who has none yet; one
    already issued gets the new hours). Returns how many were issued or changed."""
    _require_manages(user, event)
    if event.kind is not EventKind.TRAINING:
        raise ServiceError(_("Certificates are issued for trainings only."))
    hours = parse_hours(hours)
    chosen = [
        a
        for a in attendees(user, event)
        if (a.registration.id == registration_id)
        or (registration_id is None and a.certificate is None)
    ]
    if registration_id is not None and not chosen:
        raise ServiceError(_("Only someone who was let in at the door can get a certificate."))
    for attendee in chosen:
        if attendee.certificate is None:
            db.session.add(
                Certificate(
                    registration_id=attendee.registration.id,
                    hours=hours,
                    issued_at=now,
                    issued_by_id=user.id,
                )
            )
        else:
            attendee.certificate.hours = hours
    db.session.flush()
    if chosen:
        audit.record(
            audit.Action.CERTIFICATE_ISSUE,
            actor=user,
            target_type="event",
            target_id=event.id,
            event=event,
            detail=audit.part(
                audit.N_("%(n)d certificates, %(hours)s hours"), n=len(chosen), hours=str(hours)
            ),
        )
    return len(chosen)


def certificate_of(registration: Registration) -> Certificate | None:
    if registration.anonymised_at is not None:
        return None
    return db.session.scalar(
        select(Certificate).where(Certificate.registration_id == registration.id)
    )


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate as a one-page A4 PDF in the registrant's language."""
    from fpdf import FPDF

    registration = certificate.registration
    event = registration.event
    regular, bold = pdf_fonts("a certificate")
    with force_locale(registration.language):
        pdf = FPDF(orientation="L", unit="mm", format="A4")
        pdf.set_lang(registration.language)
        pdf.set_title(_("Certificate of attendance"))
        pdf.set_author(event.organisation.name)
        pdf.set_creator("eventsvc")
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        pdf.set_margins(25, 25, 25)
        pdf.add_page()
        width = pdf.w - pdf.l_margin - pdf.r_margin

        def line(text: str, size: float, style: str = "", space: float = 4) -> None:
            pdf.set_font("DejaVu", style, size)
            pdf.multi_cell(width, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(space)

        pdf.set_draw_color(11, 79, 138)
        pdf.set_line_width(1.2)
        pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)
        pdf.ln(8)
        line(_("Certificate of attendance"), 26, "B", 10)
        line(registration.name, 22, "B", 6)
        line(_("took part in the training"), 14)
        line(event.title, 18, "B", 8)
        when = local_period(event.starts_at, event.ends_at, "long")
        line(when, 13, "", 2)
        where = ", ".join(p for p in (event.venue_name, event.venue_address) if p)
        if where:
            line(where, 12, "", 2)
        line(
            _("Length: %(hours)s hours", hours=_hours(certificate.hours, registration.language)),
            13,
            "B",
            10,
        )
        line(_("Organiser: %(name)s", name=event.organisation.name), 13, "", 2)
        line(
            _(
                "Issued on %(day)s, no. %(number)s",
                day=local_date(certificate.issued_at, "long"),
                number=number(certificate),
            ),
            11,
        )
        return bytes(pdf.output())


def _hours(hours: Decimal, language: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(hours.normalize(), locale=language)


def number(certificate: Certificate) -> str:
    """The certificate's number, as the organiser's list and the PDF show it."""
    return f"{certificate.issued_at.year}-{certificate.id:06d}"
