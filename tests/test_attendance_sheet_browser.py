"""The attendance sheet in Chromium: phone, needs and activities for each confirmed party, a
print button where JavaScript runs (a hint where it does not), a way back to the event; printed
on A4 across (landscape) with the table's header on every page, no row cut in two, and none of
the site's navigation."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from eventsvc.extensions import db as _db
from eventsvc.models import Activity
from eventsvc.services import registration as rules

from . import factories

on_sqlite = pytest.mark.parametrize("app", ["sqlite"], indirect=True)
DESKTOP = {"width": 1366, "height": 900}
PEOPLE = 60
A4_LANDSCAPE = (842, 595)  # points


def needs_of(i: int) -> str:
    """Two lines, each marked with the row: a row cut by a page break splits them."""
    return f"Ratiņkrēsls R{i:02d}A\nAsistents R{i:02d}B"


@pytest.fixture
def festival(world, in_days, now):
    event = factories.event(world.org_a, in_days(7), capacity=500, title="Pagalma svētki Križos")
    workshop = Activity(
        title="Keramikas darbnīca", starts_at=event.starts_at, ends_at=event.ends_at
    )
    event.activities.append(workshop)
    _db.session.commit()
    for i in range(PEOPLE):
        rules.register(
            event.id,
            factories.registration_request(
                name=f"Dalībnieks {i:02d} Bērziņš",
                phone=f"+371 2000 00{i:02d}",
                needs=needs_of(i),
                activity_ids=[workshop.id] if i % 2 else [],
            ),
            now,
        )
    _db.session.commit()
    return event


def open_sheet(browser, live_server, world, event, *, language="lv", size="normal", **options):
    context = browser.new_context(viewport=DESKTOP, **options)
    context.add_cookies(
        [
            {"name": "lang", "value": language, "url": live_server},
            {"name": "text_size", "value": size, "url": live_server},
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", world.organiser_a.email)
    page.fill("#password", factories.PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/manage/")
    page.goto(f"{live_server}/manage/events/{event.id}/attendance-sheet")
    return context, page


@on_sqlite
def test_the_sheet_shows_phone_needs_and_activities_and_leads_back(
    festival, world, live_server, browser
):
    context, page = open_sheet(browser, live_server, world, festival)
    try:
        headers = page.locator("table.attendance thead th").all_inner_texts()
        assert headers == [
            "Nr.",
            "Vārds, uzvārds",
            "Cilvēki",
            "Tālrunis",
            "Piekļūstamības vajadzības",
            "Aktivitātes",
            "Ieradās",
            "Paraksts",
        ]
        first = page.locator("table.attendance tbody tr").first.locator("th, td").all_inner_texts()
        assert first[:4] == ["1", "Dalībnieks 00 Bērziņš", "1", "+371 2000 0000"]
        assert first[4] == needs_of(0)  # its line break kept
        second = page.locator("table.attendance tbody tr").nth(1).locator("td").all_inner_texts()
        assert "Keramikas darbnīca" in second
        back = page.get_by_role("link", name="Atpakaļ uz pasākumu")
        assert back.get_attribute("href") == f"/manage/events/{festival.id}"
    finally:
        context.close()


@on_sqlite
def test_the_print_button_prints_where_javascript_runs(festival, world, live_server, browser):
    context, page = open_sheet(browser, live_server, world, festival)
    try:
        button = page.get_by_role("button", name="Drukāt apmeklējuma lapu")
        button.wait_for(state="visible")
        assert page.is_hidden("[data-print-hint]")
        page.evaluate(
            "() => { window.print = () => { window.printed = (window.printed || 0) + 1 } }"
        )
        button.click()
        assert page.evaluate("window.printed") == 1
    finally:
        context.close()


@on_sqlite
def test_without_javascript_the_sheet_says_how_to_print(festival, world, live_server, browser):
    # Signing in needs no script: the form posts.
    context, page = open_sheet(browser, live_server, world, festival, java_script_enabled=False)
    try:
        assert page.is_hidden("button[data-print]")
        assert re.search(r"pārlūkprogrammas komandu “Drukāt”", page.inner_text("[data-print-hint]"))
    finally:
        context.close()


@on_sqlite
@pytest.mark.parametrize("language,size", [("lv", "normal"), ("ru", "largest")])
def test_printed_the_header_repeats_on_every_a4_page_and_no_row_is_cut(
    festival, world, live_server, browser, language, size
):
    context, page = open_sheet(browser, live_server, world, festival, language=language, size=size)
    try:
        page.emulate_media(media="print")
        style = page.evaluate(
            """() => ({
                header: getComputedStyle(document.querySelector('.site-header')).display,
                footer: getComputedStyle(document.querySelector('.site-footer')).display,
                actions: getComputedStyle(document.querySelector('.print-actions')).display,
                back: getComputedStyle(document.querySelector('.breadcrumb')).display,
                thead: getComputedStyle(document.querySelector('table.attendance thead')).display,
                row: getComputedStyle(document.querySelector('table.attendance tbody tr')).breakInside,
            })"""
        )
        assert style == {
            "header": "none",
            "footer": "none",
            "actions": "none",
            "back": "none",
            "thead": "table-header-group",
            "row": "avoid",
        }
        printed = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))
        assert len(printed.pages) >= 3, len(printed.pages)
        texts = [" ".join(p.extract_text().split()) for p in printed.pages]
        header = {"lv": ("Vārds, uzvārds", "Paraksts"), "ru": ("Имя", "Подпись")}[language]
        for number, (sheet, text) in enumerate(zip(printed.pages, texts, strict=True), start=1):
            box = sheet.mediabox
            assert (round(box.width), round(box.height)) == A4_LANDSCAPE, number
            assert all(h in text for h in header), f"page {number} has no header: {text[:200]}"
            # Nothing of the site's navigation or the screen's buttons on paper.
            for word in ("Drukāt apmeklējuma lapu", "Распечатать лист", "Atpakaļ", "Назад"):
                assert word not in text, (number, word)
        for i in range(PEOPLE):
            pages = {n for n, text in enumerate(texts) if f"R{i:02d}A" in text}
            also = {n for n, text in enumerate(texts) if f"R{i:02d}B" in text}
            assert len(pages) == 1 and pages == also, f"row {i} is cut: pages {pages} and {also}"
    finally:
        context.close()
