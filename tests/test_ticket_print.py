"""The printable ticket in Chromium: a print button where JavaScript runs (a hint where it does
not), one A4 sheet with a large QR in every language and text size, and never the private
change/cancel link on paper."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from eventsvc.extensions import db as _db
from eventsvc.models import Activity
from eventsvc.services import registration as rules

from . import factories

A4 = {"width": 794, "height": 1123}  # CSS pixels at 96 per inch
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def registration(world, in_days, now):
    """A long ticket: a long title, the desk time, three activities, the organiser's contacts."""
    world.org_a.phone = "+371 6400 0000"
    world.org_a.email = "info@sociala.example.lv"
    event = factories.event(
        world.org_a,
        in_days(10),
        capacity=20,
        title="Kopienas svētki pagalmā: darbnīcas, koncerts un sarunas ar sociālajiem darbiniekiem",
        desk_opens_at=in_days(10) - timedelta(minutes=30),
    )
    activities = [
        Activity(
            event_id=event.id,
            title=title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            position=i,
        )
        for i, title in enumerate(
            ("Keramikas darbnīca", "Pīšana no klūdziņām", "Ģimenes fotosesija")
        )
    ]
    _db.session.add_all(activities)
    _db.session.flush()
    outcome = rules.register(
        event.id,
        factories.registration_request(
            name="Anna Bērziņa-Ozoliņa",
            email="anna@example.lv",
            party_size=4,
            activity_ids=[a.id for a in activities],
        ),
        now,
    )
    _db.session.commit()
    return outcome.registration


def open_ticket(browser, live_server, registration, *, language="lv", size="normal", **options):
    context = browser.new_context(**options)
    context.add_cookies(
        [
            {"name": "lang", "value": language, "url": live_server},
            {"name": "text_size", "value": size, "url": live_server},
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server}/r/{registration.manage_token}/ticket")
    return context, page


@pytest.mark.parametrize(
    "language,size", [("lv", "normal"), ("ru", "normal"), ("lv", "largest"), ("ru", "largest")]
)
def test_the_printed_ticket_is_one_a4_sheet_without_the_private_link(
    registration, live_server, browser, language, size
):
    context, page = open_ticket(
        browser, live_server, registration, language=language, size=size, viewport=PHONE
    )
    try:
        printed = PdfReader(io.BytesIO(page.pdf(format="A4")))
        text = " ".join(printed.pages[0].extract_text().split())
        assert len(printed.pages) == 1, f"{len(printed.pages)} pages"
        assert "Anna Bērziņa-Ozoliņa" in text and "+371 6400 0000" in text
        assert "Ģimenes fotosesija" in text
        assert registration.manage_token not in text
        assert "/r/" not in text  # no link to the private page, not even cut short
        # The print button and its hint are for the screen only.
        assert {"lv": "Drukāt biļeti", "ru": "Распечатать билет"}[language] not in text
        links = [a.get("/A", {}).get("/URI", "") for a in printed.pages[0].get("/Annots", [])]
        assert not [uri for uri in links if registration.manage_token in str(uri)]
    finally:
        context.close()


def test_the_printed_qr_is_at_least_6_cm(registration, live_server, browser):
    context, page = open_ticket(browser, live_server, registration, size="largest", viewport=A4)
    try:
        page.emulate_media(media="print")
        width = page.eval_on_selector(".ticket-qr img", "img => img.getBoundingClientRect().width")
        assert width >= 6 / 2.54 * 96  # 6 cm in CSS pixels
        assert page.is_hidden("#print-ticket") and page.is_hidden(".site-header")
    finally:
        context.close()


def test_the_print_button_prints_where_javascript_runs(registration, live_server, browser):
    context, page = open_ticket(browser, live_server, registration, viewport=PHONE)
    try:
        button = page.get_by_role("button", name="Drukāt biļeti")
        button.wait_for(state="visible")
        assert page.is_hidden("#print-hint")
        page.evaluate(
            "() => { window.print = () => { window.printed = (window.printed || 0) + 1 } }"
        )
        button.click()
        assert page.evaluate("window.printed") == 1
    finally:
        context.close()


def test_without_javascript_the_page_says_how_to_print(registration, live_server, browser):
    context, page = open_ticket(
        browser, live_server, registration, viewport=PHONE, java_script_enabled=False
    )
    try:
        assert page.is_hidden("#print-ticket")
        hint = page.inner_text("#print-hint")
        assert re.search(r"pārlūkprogrammas komandu “Drukāt”", hint)
    finally:
        context.close()


def test_the_ticket_page_loads_its_script_without_inline_code(client, registration):
    page = client.get(f"/r/{registration.manage_token}/ticket").get_data(as_text=True)
    assert '<script src="/static/js/ticket.js" defer></script>' in page
    assert re.search(r"<button[^>]*id=\"print-ticket\"[^>]*hidden", page)
    with client.get("/static/js/ticket.js") as script:
        assert script.status_code == 200 and "window.print()" in script.get_data(as_text=True)


def test_the_booking_code_has_its_row_on_the_ticket_page(app, registration):
    """The short booking code (another change adds the column) shows where it exists."""
    from flask import render_template

    def page():
        with app.test_request_context("/"):
            return render_template(
                "registration/ticket.html",
                registration=registration,
                event=registration.event,
                qr_url="/qr.png",
            )

    assert registration.booking_code
    assert f"<strong>{registration.booking_code}</strong>" in page()
