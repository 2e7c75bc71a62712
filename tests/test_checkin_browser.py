"""The door page in a real browser (Playwright + Debian's Chromium, headless), on a phone
(390×844), offline included."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, CheckIn, Registration
from eventsvc.services import checkin as door_service
from eventsvc.services import registration as rules

from . import factories
from .conftest import wait_for_js

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def door(app, world, in_days, live_server, browser, now):
    """Organiser A at the door of a festival on a phone: returns a function that opens the
    page (at a text size), the event and its three parties."""
    event = factories.event(world.org_a, in_days(1), capacity=20)
    event.activities.append(
        Activity(title="Keramikas darbnīca", starts_at=event.starts_at, ends_at=event.ends_at)
    )
    _db.session.commit()
    people = [
        rules.register(
            event.id,
            factories.registration_request(
                name=name,
                party_size=size,
                needs=needs,
                activity_ids=[event.activities[0].id] if needs else [],
            ),
            now,
        ).registration
        for name, size, needs in (
            ("Anna Bērziņa", 2, ""),
            ("Jānis Ozols", 1, "Ratiņkrēsls: vajag uzbrauktuvi"),
            ("Zane Kalniņa", 3, ""),
        )
    ]
    _db.session.commit()
    contexts = []

    def open_page(text_size: str = "normal"):
        context = browser.new_context(viewport=PHONE)
        contexts.append(context)
        context.add_cookies(
            [
                {"name": "lang", "value": "en", "url": live_server},
                {"name": "text_size", "value": text_size, "url": live_server},
            ]
        )
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.fill("#email", world.organiser_a.email)
        page.fill("#password", factories.PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(f"{live_server}/manage/")
        page.goto(f"{live_server}/manage/events/{event.id}/checkin")
        page.wait_for_selector("#door[data-list-size='3']")  # the offline list is on the phone
        return context, page

    yield open_page, event, people
    for context in contexts:
        context.close()


def scan(page, code: str) -> None:
    """A handheld scanner: it types into whatever has the focus, then presses Enter."""
    assert page.evaluate("document.activeElement.id") == "code", "the scanner's code is lost"
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def count(page, name: str) -> str:
    return page.inner_text(f"[data-count={name}]")


def checked_in() -> dict[int, int]:
    _db.session.expire_all()
    return {r.id: r.checked_in_people for r in _db.session.scalars(select(Registration))}


def test_a_scanner_is_never_ignored(door):
    """After a scan, an undo, part of a party from the search, and a walk-in, the code field
    has the focus again: the next scan checks in."""
    open_page, _event, (anna, janis, zane) = door
    _context, page = open_page()

    scan(page, anna.ticket_secret)
    page.wait_for_selector("#result.result-ok")
    page.click("#result button")  # undo
    page.wait_for_selector("#result.result-neutral")
    assert "Anna Bērziņa" in page.inner_text("#result")  # whose check-in was undone
    scan(page, anna.ticket_secret)  # seen: this scan used to do nothing
    page.wait_for_selector("#result.result-ok")
    assert checked_in()[anna.id] == 2

    page.fill("#q", "kalnina")
    page.wait_for_selector("#found li")
    page.select_option(f"#people-{zane.id}", "1")  # one of the three is here
    page.click("#found li button")
    page.wait_for_selector("#result.result-ok >> text=Zane Kalniņa")
    scan(page, janis.booking_code)  # the short code from the ticket, typed
    page.wait_for_selector("#result.result-ok >> text=Jānis Ozols")
    assert "uzbrauktuvi" in page.inner_text("#result")  # the ramp: the door must call for it

    page.fill("#walkin-name", "Nezināmais Viesis")
    page.fill("#walkin-people", "2")
    page.click("#walkin-form button")
    page.wait_for_selector("#result.result-ok >> text=Nezināmais Viesis")
    scan(page, zane.ticket_secret)  # the other two of Zane's party
    page.wait_for_selector("#result.result-ok >> text=3 of 3")
    assert {k: v for k, v in checked_in().items() if k in (anna.id, janis.id, zane.id)} == {
        anna.id: 2,
        janis.id: 1,
        zane.id: 3,
    }


@pytest.mark.parametrize("text_size", ["normal", "largest"])
def test_the_code_field_and_the_counts_fit_the_first_screen(door, text_size):
    open_page, _event, (anna, *_) = door
    _context, page = open_page(text_size)
    assert page.evaluate("document.documentElement.className") == f"text-{text_size}"

    def on_screen(selector: str) -> bool:
        return page.evaluate(
            """s => { const r = document.querySelector(s).getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.width > 0; }""",
            selector,
        )

    for moment in ("opened", "scanned"):
        assert window_not_scrolled(page), moment
        assert on_screen("#code") and on_screen("#counts"), moment
        assert page.evaluate("document.querySelector('#code').offsetWidth") >= 150, moment
        if moment == "opened":
            scan(page, anna.ticket_secret)
            page.wait_for_selector("#result.result-ok")
    assert on_screen("#result .result-title")  # and what the scan said


def window_not_scrolled(page) -> bool:
    return page.evaluate("window.scrollY") == 0


def test_names_are_found_as_they_are_typed(door):
    open_page, _event, _people = door
    _context, page = open_page()
    page.evaluate("window.stillThisPage = true")  # gone if the page were loaded again
    page.click("#q")
    page.keyboard.type("berzina")  # no ē, no ņ, and no Enter
    page.wait_for_selector("#found li >> text=Anna Bērziņa")
    page.fill("#q", "OZOLS")
    page.wait_for_selector("#found li >> text=Jānis Ozols")
    found = page.inner_text("#found")
    assert "Keramikas darbnīca" in found and "uzbrauktuvi" in found  # activities and needs
    page.fill("#q", "zzz")
    page.wait_for_selector("#found-status >> text=Nothing found for “zzz”.")
    assert page.locator("#found li").count() == 0
    assert page.evaluate("window.stillThisPage === true") and page.url.endswith("/checkin")


def test_scan_again_offline_and_back(door, world, now):
    open_page, event, (anna, janis, zane) = door
    context, page = open_page()

    scan(page, anna.ticket_secret)
    page.wait_for_selector("#result.result-ok")
    assert "Anna Bērziņa" in page.inner_text("#result")
    wait_for_js(page, "document.querySelector('[data-count=checked_in]').textContent === '2'")
    scan(page, anna.ticket_secret)
    page.wait_for_selector("#result.result-warn")
    assert "Anna Bērziņa" in page.inner_text("#result")

    page.fill("#q", "ozols")  # a row seen before going offline
    page.wait_for_selector("#found li >> text=0/1")
    page.click("#code")

    context.set_offline(True)
    page.wait_for_selector("#connection:not(.is-online)")
    scan(page, zane.ticket_secret)
    page.wait_for_selector("#connection[data-waiting='1']")
    assert "Zane Kalniņa" in page.inner_text("#result")
    assert count(page, "checked_in") == "5"  # the counts include what waits on the phone
    scan(page, zane.ticket_secret)  # the phone's own list knows she is in now
    page.wait_for_selector("#result.result-warn")
    # Meanwhile another door lets Jānis in; this phone does not know yet.
    door_service.check_in_registration(event, janis.id, world.admin, now)
    _db.session.commit()
    assert {c.registration_id for c in _db.session.scalars(select(CheckIn))} == {
        anna.id,
        janis.id,
    }  # the phone's check-in is not sent yet

    context.set_offline(False)
    page.wait_for_selector("#connection.is-online[data-waiting='0']")
    page.wait_for_selector("#result.result-ok")  # a successful sync says so, in green
    assert page.inner_text("#result .result-title").startswith("✔")
    assert {c.registration_id for c in _db.session.scalars(select(CheckIn))} == {
        anna.id,
        janis.id,
        zane.id,
    }
    wait_for_js(page, "document.querySelector('[data-count=checked_in]').textContent === '6'")
    page.wait_for_selector("#found li >> text=1/1")  # the row seen before is fresh


def test_the_page_loads_offline_after_a_single_visit(door):
    open_page, _event, (anna, _janis, zane) = door
    context, page = open_page()
    page.wait_for_selector("#door[data-cached='yes']")  # the service worker kept the page
    context.set_offline(True)
    page.reload()  # the first visit was the only one online
    page.wait_for_selector("#code")
    page.wait_for_selector("#connection:not(.is-online)")
    assert count(page, "confirmed") == "6"
    scan(page, anna.ticket_secret)  # and works from the list kept in IndexedDB
    page.wait_for_selector("#connection[data-waiting='1']")
    assert "Anna Bērziņa" in page.inner_text("#result") and count(page, "checked_in") == "2"
    page.fill("#q", "kalnina")  # found in the phone's own list, diacritics folded
    page.wait_for_selector("#found li >> text=Zane Kalniņa")
    page.click("#code")
    scan(page, zane.booking_code.lower())  # the short code works offline too
    page.wait_for_selector("#connection[data-waiting='2']")
    assert count(page, "checked_in") == "5"
    page.wait_for_selector("#found li >> text=3/3")  # the row follows
    context.set_offline(False)
    page.wait_for_selector("#connection.is-online[data-waiting='0']")
    page.wait_for_selector("#result.result-ok")
