"""The ticket as a one-page A4 PDF, attached to the mails that carry a ticket, for residents
who print at a library or cannot show a phone at the door.

Made in the current language (the mailer composes under force_locale of the registrant's
language) with fpdf2 and DejaVu Sans (Latvian and Cyrillic letters), from the same facts as the
printable ticket page; it carries the QR code large and never the private change/cancel link.
"""

from __future__ import annotations

import io

from flask_babel import get_locale
from flask_babel import gettext as _

from ..i18n import local_period, local_time
from ..models import EventFormat, Registration
from ..models.events import Translated
from .pdf_fonts import pdf_fonts
from .tickets import qr_png, ticket_is_valid

QR_SIZE_MM = 90  # a door scanner and a phone camera read it from arm's length
MARGIN_MM = 18


def _text(item: Translated, name: str) -> str:
    """An event's or activity's text in the current language where it has one (event text in
    three languages), else its one text."""
    if callable(getattr(item, "text", None)):
        return str(item.text(name, str(get_locale())))
    return getattr(item, name) or ""


def ticket_pdf(registration: Registration) -> bytes:
    """The ticket of a confirmed registration, in the current language."""
    from fpdf import FPDF

    if not ticket_is_valid(registration):
        raise ValueError("only a confirmed registration has a ticket")
    regular, bold = pdf_fonts("the PDF ticket")
    event = registration.event
    organisation = event.organisation
    title = _text(event, "title")

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(False)  # one page: long texts are cut, never a second sheet
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_title(f"{_('Ticket')}: {title}")
    pdf.set_lang(str(get_locale()))
    pdf.add_page()
    width = pdf.w - 2 * MARGIN_MM

    pdf.set_font("DejaVu", "", 12)
    pdf.cell(width, 7, _("Ticket"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 20)
    pdf.multi_cell(width, 9, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(registration.ticket_secret)), x=MARGIN_MM, y=top, w=QR_SIZE_MM)
    pdf.set_y(top + QR_SIZE_MM + 4)

    when = local_period(event.starts_at, event.ends_at)
    if event.desk_opens_at:
        when += "\n" + _(
            "Registration desk opens at %(time)s", time=local_time(event.desk_opens_at)
        )
    facts: list[tuple[str, str]] = [
        (_("Name"), registration.name or ""),
        (_("People"), str(registration.party_size)),
        (_("When"), when),
    ]
    if event.format is EventFormat.ONLINE:
        facts.append((_("Where"), _("Online")))
    else:
        facts.append(
            (_("Where"), ", ".join(p for p in (event.venue_name, event.venue_address) if p))
        )
    if registration.activities:
        facts.append(
            (_("Activities"), ", ".join(_text(a, "title") for a in registration.activities))
        )
    # The short booking code (typed at the door instead of a scan) goes here once
    # registrations carry one.
    booking_code = getattr(registration, "booking_code", None)
    if booking_code:
        facts.append((_("Booking code"), booking_code))
    organiser = [organisation.name]
    if organisation.phone:
        organiser.append(f"{_('Phone:')} {organisation.phone}")
    if organisation.email:
        organiser.append(f"{_('Email:')} {organisation.email}")
    facts.append((_("Organiser"), "\n".join(organiser)))

    label_width = 52
    for label, value in facts:
        top = pdf.get_y()
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(label_width - 3, 6.5, label, align="L", new_x="LMARGIN", new_y="NEXT")
        label_bottom = pdf.get_y()
        pdf.set_xy(MARGIN_MM + label_width, top)
        pdf.set_font("DejaVu", "", 12)
        pdf.multi_cell(width - label_width, 6.5, value, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), label_bottom) + 2.5)
    return bytes(pdf.output())
