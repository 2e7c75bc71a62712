"""Needs known in advance in a real browser (Playwright + Debian's Chromium): a resident ticks
needs on a phone (390×844), the door shows them as words, the organiser's event page counts
them (1366×900), the Ministry's page hides small counts; axe on each in lv, ru and en.

Screenshots go to EVENTSVC_SHOTS when it names a folder (to look at), else under tmp_path."""

from __future__ import annotations

import os
import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Registration
from eventsvc.needs import Need
from eventsvc.services import registration as rules
from eventsvc.timezones import RIGA, to_riga

from . import factories
from .test_accessibility import axe_violations

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True}
DESK = {"viewport": {"width": 1366, "height": 900}}
LANGUAGES = ("lv", "ru", "en")

on_sqlite = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("EVENTSVC_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, live_server, language="lv", text_size="normal", **options):
    context = browser.new_context(bypass_csp=True, **options)  # bypass: axe is injected
    context.add_cookies(
        [
            {"name": "lang", "value": language, "url": live_server},
            {"name": "text_size", "value": text_size, "url": live_server},
        ]
    )
    return context, context.new_page()


def sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(re.compile(r"/manage/"))


@pytest.fixture
def event(world, now):
    """Tomorrow's community day in Tukums: two parties already said what they need."""
    day = to_riga(now).date() + timedelta(days=1)
    event = factories.event(
        world.org_a,
        datetime.combine(day, time(12), tzinfo=RIGA),
        capacity=40,
        title="Kopienas diena Tumē",
    )
    for name, size, needs, written in (
        ("Jānis Ozols", 1, [Need.WHEELCHAIR], "vajag uzbrauktuvi"),
        ("Aija Liepiņa", 3, [Need.WHEELCHAIR, Need.ASSISTANT], ""),
        ("Olga Petrova", 2, [Need.HEARING_LOOP], ""),
    ):
        rules.register(
            event.id,
            factories.registration_request(
                name=name, party_size=size, access_needs=needs, needs=written
            ),
            now,
        )
    _db.session.commit()
    return event


@on_sqlite
def test_a_resident_ticks_needs_on_a_phone(event, live_server, browser, shots):
    context, page = open_page(browser, live_server, "lv", **PHONE)
    page.goto(f"{live_server}/events/{event.id}#register")
    needs = page.get_by_role("group", name="Piekļūstamības vajadzības (nav obligāti)")
    assert needs.is_visible()
    assert needs.get_by_role("checkbox").count() == 7
    page.fill("#name", "Inta Zariņa")
    page.fill("#email", "inta@example.lv")
    page.fill("#party_size", "2")
    page.get_by_label("Piekļuve ratiņkrēslā").check()
    # The keyboard alone: from one tick box to the next, space ticks it.
    page.get_by_label("Piekļuve ratiņkrēslā").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert page.get_by_label("Dzirdes cilpa").is_checked()
    page.fill("#needs", "Sēdvieta pie izejas")
    page.check("#consent")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    page.locator("fieldset:has(#access_needs-0)").screenshot(
        path=str(shots / "registration-needs-fieldset-lv-390.png")
    )
    page.screenshot(path=str(shots / "registration-form-lv-390.png"), full_page=True)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Reģistrēties").click()
    page.wait_for_url(re.compile(r"/events/\d+/registered"))
    context.close()

    stored = _db.session.scalar(select(Registration).where(Registration.email == "inta@example.lv"))
    assert stored.access_needs == [Need.WHEELCHAIR, Need.HEARING_LOOP]
    assert stored.needs == "Sēdvieta pie izejas"

    # The private link shows them as words and keeps them ticked in its change form.
    context, page = open_page(browser, live_server, "lv", **PHONE)
    page.goto(f"{live_server}/r/{stored.manage_token}")
    facts = page.inner_text("dl.facts")
    assert "Piekļuve ratiņkrēslā; Dzirdes cilpa; Sēdvieta pie izejas" in facts
    assert page.get_by_label("Dzirdes cilpa").is_checked()
    page.get_by_label("Dzirdes cilpa").uncheck()
    page.get_by_label("Palīdzība ar transportu").check()
    page.get_by_role("button", name="Saglabāt izmaiņas").click()
    page.wait_for_selector(".flash-success, .notice-success, [role=status]")
    assert "Piekļuve ratiņkrēslā; Palīdzība ar transportu" in page.inner_text("dl.facts")
    context.close()


@on_sqlite
@pytest.mark.parametrize(
    "language,text_size", [("lv", "normal"), ("ru", "normal"), ("en", "normal"), ("lv", "largest")]
)
def test_the_form_with_needs_passes_axe_and_fits_a_phone(
    event, live_server, browser, shots, language, text_size
):
    context, page = open_page(browser, live_server, language, text_size, **PHONE)
    page.goto(f"{live_server}/events/{event.id}")
    page.click("form.form button[type=submit]")  # empty: the errors, with the tick boxes
    page.wait_for_selector(".error-summary")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    fieldset = page.locator("fieldset:has(#access_needs-0)")
    fieldset.scroll_into_view_if_needed()
    suffix = "A++" if text_size == "largest" else "A"
    fieldset.screenshot(path=str(shots / f"registration-needs-{language}-{suffix}-390.png"))
    page.goto(f"{live_server}/events/{event.id}#register")
    page.screenshot(
        path=str(shots / f"registration-form-{language}-{suffix}-390.png"), full_page=True
    )
    context.close()


@on_sqlite
def test_the_door_shows_a_partys_needs_as_words(event, world, live_server, browser, shots):
    aija = _db.session.scalar(select(Registration).where(Registration.name == "Aija Liepiņa"))
    for language, words in (
        ("lv", "Piekļuve ratiņkrēslā; Līdzi nāk asistents vai aprūpētājs"),
        ("ru", "Доступ для инвалидной коляски; Придёт ассистент или сопровождающий"),
        ("en", "Wheelchair access; An assistant or carer comes along"),
    ):
        context, page = open_page(browser, live_server, language, **PHONE)
        sign_in(page, live_server, world.organiser_a.email)
        page.goto(f"{live_server}/manage/events/{event.id}/checkin")
        page.wait_for_selector("#door[data-list-size='3']")
        page.keyboard.type(aija.booking_code)
        page.keyboard.press("Enter")
        page.wait_for_selector("#result .party-needs")
        assert words in page.inner_text("#result .party-needs")
        page.screenshot(path=str(shots / f"door-result-needs-{language}-390.png"))
        page.fill("#q", "olga")
        page.wait_for_selector("#found li .party-needs")
        assert {"lv": "Dzirdes cilpa", "ru": "Индукционная петля", "en": "Hearing loop"}[
            language
        ] in page.inner_text("#found li .party-needs")
        assert axe_violations(page) == []
        page.screenshot(path=str(shots / f"door-found-needs-{language}-390.png"), full_page=True)
        context.close()


@on_sqlite
def test_the_organisers_event_page_counts_the_needs(event, world, live_server, browser, shots):
    for language in LANGUAGES:
        context, page = open_page(browser, live_server, language, **DESK)
        sign_in(page, live_server, world.organiser_a.email)
        page.goto(f"{live_server}/manage/events/{event.id}")
        section = page.locator("#needs")
        rows = section.locator("tbody tr").all_inner_texts()
        assert [re.sub(r"\s+", " ", r).strip() for r in rows][:1] == [
            {
                "lv": "Piekļuve ratiņkrēslā 2",
                "ru": "Доступ для инвалидной коляски 2",
                "en": "Wheelchair access 2",
            }[language]
        ]
        assert len(rows) == 3  # wheelchair, hearing loop, assistant
        assert axe_violations(page) == []
        section.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"organiser-event-needs-{language}-1366.png"))
        # The other organiser pages that show or take needs.
        janis = _db.session.scalar(select(Registration).where(Registration.name == "Jānis Ozols"))
        for path in (
            f"/manage/events/{event.id}/registrations",
            f"/manage/events/{event.id}/registrations/new",
            f"/manage/events/{event.id}/registrations/{janis.id}",
        ):
            page.goto(live_server + path)
            assert axe_violations(page) == [], path
        context.close()


@on_sqlite
def test_the_ministrys_needs_page_passes_axe(event, world, live_server, browser, shots):
    for language in LANGUAGES:
        context, page = open_page(browser, live_server, language, **DESK)
        page.goto(f"{live_server}/login")
        page.fill("#email", world.ministry.email)
        page.fill("#password", factories.PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(re.compile(r"/stats/|/$"))
        page.goto(f"{live_server}/stats/needs")
        hidden = page.locator("#need-wheelchair .figure [aria-hidden=true]")
        assert hidden.inner_text() == "‹5"  # 2 parties: hidden, and said so to screen readers
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        assert axe_violations(page) == []
        page.screenshot(path=str(shots / f"stats-needs-{language}-1366.png"), full_page=True)
        context.close()


@on_sqlite
def test_the_digest_mail_reads_well(app, event, world, browser, shots, now):
    """The digest as a mail client shows it (its HTML part), in Latvian and Russian."""
    from eventsvc.models import OutboxMessage
    from eventsvc.services import mailer
    from eventsvc.services.needs_digest import queue_digest

    world.organiser_a.language = "ru"
    factories.user("lv@example.lv", world.organiser_a.role, [world.org_a])
    assert queue_digest(event, now) == 2
    _db.session.commit()
    for message in _db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        if message.kind != "needs_digest":
            continue
        outgoing = mailer.compose(message)
        assert ("2" in outgoing.html) and event.title in outgoing.html
        page = browser.new_page(viewport={"width": 700, "height": 900})
        page.set_content(outgoing.html)
        page.screenshot(path=str(shots / f"digest-mail-{message.language}.png"), full_page=True)
        page.close()
