"""The door page in a real browser (Playwright + Debian's Chromium, headless), offline included."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import CheckIn
from eventsvc.services import registration as rules

from . import factories
from .conftest import wait_for_js


@pytest.fixture
def door(app, world, in_days, now, live_server, browser):
    event = factories.event(world.org_a, in_days(1), capacity=20)
    people = [
        rules.register(
            event.id, factories.registration_request(name=name, party_size=size), now
        ).registration
        for name, size in (("Anna Bērziņa", 2), ("Jānis Ozols", 1), ("Zane Kalniņa", 3))
    ]
    _db.session.commit()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", world.organiser_a.email)
    page.fill("#password", factories.PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/manage/")
    page.goto(f"{live_server}/manage/events/{event.id}/checkin")
    page.wait_for_selector("#door[data-list-size='3']")  # the offline list is on the phone
    yield event, people, context, page
    context.close()


def scan(page, code: str) -> None:
    page.fill("#code", code)
    page.press("#code", "Enter")


def test_scan_again_offline_and_back(door):
    _event, (anna, janis, zane), context, page = door

    scan(page, anna.ticket_secret)
    page.wait_for_selector("#result.result-ok")
    assert "Anna Bērziņa" in page.inner_text("#result")

    scan(page, anna.ticket_secret)
    page.wait_for_selector("#result.result-warn")
    assert "Anna Bērziņa" in page.inner_text("#result")

    context.set_offline(True)
    page.wait_for_selector("#connection:not(.is-online)")
    scan(page, janis.ticket_secret)
    page.wait_for_selector("#connection[data-waiting='1']")
    assert "Jānis Ozols" in page.inner_text("#result")
    scan(page, zane.ticket_secret)
    page.wait_for_selector("#connection[data-waiting='2']")
    scan(page, zane.ticket_secret)  # the phone's own list knows she is in now
    page.wait_for_selector("#result.result-warn")
    _db.session.expire_all()
    assert {c.registration_id for c in _db.session.scalars(select(CheckIn))} == {
        anna.id
    }  # nothing sent yet

    context.set_offline(False)
    page.wait_for_selector("#connection.is-online[data-waiting='0']")
    _db.session.expire_all()
    assert {c.registration_id for c in _db.session.scalars(select(CheckIn))} == {
        anna.id,
        janis.id,
        zane.id,
    }
    wait_for_js(page, "document.querySelector('[data-count=checked_in]').textContent === '6'")


def test_the_page_loads_offline_from_its_service_worker(door):
    _event, (anna, *_), context, page = door
    wait_for_js(page, "navigator.serviceWorker.controller !== null")
    page.reload()  # now fetched through the service worker, which keeps a copy
    page.wait_for_selector("#door[data-list-size='3']")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#code")  # the page itself came from the cache
    page.wait_for_selector("#connection:not(.is-online)")
    scan(page, anna.ticket_secret)  # and works from the list kept in IndexedDB
    page.wait_for_selector("#connection[data-waiting='1']")
    assert "Anna Bērziņa" in page.inner_text("#result")
    context.set_offline(False)
    page.wait_for_selector("#connection.is-online[data-waiting='0']")
