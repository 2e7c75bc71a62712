"""The PDF ticket attached to ticket mails: in the registrant's language, with the facts a
resident needs at the door and a QR the door reads, never the private link; a PDF that cannot
be made never stops the mail."""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

import pytest
import zxingcpp
from flask_babel import force_locale
from pypdf import PdfReader

from eventsvc.extensions import db as _db
from eventsvc.i18n import local_date, local_time
from eventsvc.models import Activity, Event
from eventsvc.services import mailer
from eventsvc.services import registration as rules

from . import factories


@pytest.fixture
def event(world, in_days):
    world.org_a.phone = "+371 6400 0000"
    world.org_a.email = "info@sociala.example.lv"
    event = factories.event(
        world.org_a, in_days(10), capacity=3, desk_opens_at=in_days(10) - timedelta(minutes=30)
    )
    if hasattr(Event, "title_ru"):  # event text in three languages, where the tree has it
        event.title_ru = "Социальная работа в общине"
    _db.session.add(
        Activity(
            event_id=event.id,
            title="Keramikas darbnīca",
            starts_at=event.starts_at,
            ends_at=event.ends_at,
        )
    )
    _db.session.commit()
    return event


def riga(moment) -> str:
    """'ceturtdiena, 2026. gada 10. decembris, 13:00' as the Latvian ticket says it."""
    with force_locale("lv"):
        return f"{local_date(moment)}, {local_time(moment)}"


def register(event, now, **fields):
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome.registration


def pdf_parts(mail):
    return [p for p in mail.walk() if p.get_content_type() == "application/pdf"]


def read_pdf(mail) -> PdfReader:
    (part,) = pdf_parts(mail)
    assert part.get_content_disposition() == "attachment"
    assert part.get_filename().endswith(".pdf")
    return PdfReader(io.BytesIO(part.get_payload(decode=True)))


def text_of(reader: PdfReader) -> str:
    # Line breaks and hyphenation aside: what a person reads.
    return " ".join(reader.pages[0].extract_text().split())


def decode_qr_in(reader: PdfReader) -> str:
    """The QR image embedded in the page, decoded by an independent reader (zxing-cpp)."""
    (image,) = reader.pages[0].images
    (result,) = zxingcpp.read_barcodes(image.image)
    return result.text


def test_the_confirmation_carries_a_one_page_pdf_ticket_in_latvian(event, smtp_server, now):
    workshop = event.activities[0]
    registration = register(
        event, now, name="Anna Bērziņa", email="anna@example.lv", party_size=2,
        activity_ids=[workshop.id], language="lv",
    )  # fmt: skip
    mailer.deliver_due(now)
    (mail,) = smtp_server.inbox.parsed()
    reader = read_pdf(mail)
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = text_of(reader)
    for expected in (
        "Biļete",
        "Anna Bērziņa",
        event.title,
        "Keramikas darbnīca",
        "Pasta iela 1A",
        "+371 6400 0000",
        "info@sociala.example.lv",
    ):
        assert expected in text, expected
    assert "Cilvēki 2" in text
    assert f"{riga(event.starts_at)}–{riga(event.ends_at)[-5:]}" in text  # Riga time, not UTC
    assert registration.manage_token not in text
    assert decode_qr_in(reader) == registration.ticket_secret
    # The QR is large: drawn at least 6 cm wide on paper (1 cm = 72 / 2.54 points).
    drawn = re.search(
        rb"([\d.]+) 0 0 ([\d.]+) [\d.]+ [\d.]+ cm\s*/I\w* Do",
        reader.pages[0].get_contents().get_data(),
    )
    assert drawn and min(float(drawn[1]), float(drawn[2])) >= 6 * 72 / 2.54


def test_the_pdf_ticket_is_in_russian_for_a_russian_registrant(event, smtp_server, now):
    registration = register(
        event, now, name="Ирина Петрова", email="irina@example.lv", language="ru"
    )
    mailer.deliver_due(now)
    (mail,) = smtp_server.inbox.parsed()
    text = text_of(read_pdf(mail))
    assert "Билет" in text and "Ирина Петрова" in text and "Организатор" in text
    assert "+371 6400 0000" in text
    russian_title = getattr(event, "title_ru", None)
    assert (russian_title or event.title) in text
    assert decode_qr_in(read_pdf(mail)) == registration.ticket_secret


def test_the_promotion_mail_carries_the_pdf_and_the_waitlisted_one_does_not(
    event, smtp_server, now
):
    first = register(event, now, party_size=3)
    waiting = register(event, now, email="w@example.lv", language="lv")
    mailer.deliver_due(now)
    waiting_mail = next(m for m in smtp_server.inbox.parsed() if m["To"] == "w@example.lv")
    assert pdf_parts(waiting_mail) == []  # no place, no ticket
    rules.cancel_registration(first, now)
    _db.session.commit()
    mailer.deliver_due(now)
    promoted = [m for m in smtp_server.inbox.parsed()[2:] if m["To"] == "w@example.lv"]
    assert len(promoted) == 1
    assert decode_qr_in(read_pdf(promoted[0])) == waiting.ticket_secret


def test_a_pdf_that_cannot_be_made_never_stops_the_mail(app, event, smtp_server, now, caplog):
    registration = register(event, now, email="anna@example.lv")
    saved = app.config["EVENTSVC_PDF_FONT_DIR"]
    app.config["EVENTSVC_PDF_FONT_DIR"] = "/nonexistent-fonts"
    try:
        with caplog.at_level(logging.ERROR, logger="eventsvc.services.mailer"):
            assert mailer.deliver_due(now).sent == 1
    finally:
        app.config["EVENTSVC_PDF_FONT_DIR"] = saved
    (mail,) = smtp_server.inbox.parsed()
    assert pdf_parts(mail) == []
    assert [p for p in mail.walk() if p.get("Content-ID") == "<qr>"]  # the QR still goes
    assert "PDF ticket could not be built" in caplog.text
    assert "DejaVuSans.ttf" in caplog.text and registration.manage_token not in caplog.text


def test_the_booking_code_is_printed_on_the_pdf(app, event, now):
    """The short booking code, typed at the door when the QR cannot be read, has its row."""
    from eventsvc.services.ticket_pdf import ticket_pdf

    registration = register(event, now, email="anna@example.lv")
    assert registration.booking_code and len(registration.booking_code) == 6
    with app.test_request_context("/"), force_locale("lv"):
        text = " ".join(
            PdfReader(io.BytesIO(ticket_pdf(registration))).pages[0].extract_text().split()
        )
    assert f"Rezervācijas kods {registration.booking_code}" in text
