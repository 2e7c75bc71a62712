"""The private change/cancel link is on the private page, never on the printable ticket
(which is shown at the door, left on a table, photographed)."""

from __future__ import annotations

import re

import pytest

from eventsvc.extensions import db as _db
from eventsvc.services import registration as rules

from . import factories
from .conftest import login


def visible_text(html: str) -> str:
    """What the page shows: no tags, and nothing in the parts a printout hides."""
    html = re.sub(r'<p class="no-print">.*?</p>', "", html, flags=re.S)
    html = re.sub(r"<(script|style|head)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def registration(world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=20)
    outcome = rules.register(
        event.id, factories.registration_request(email=None, phone="+371 20000000"), now
    )
    _db.session.commit()
    return outcome.registration


def test_the_printable_ticket_does_not_show_the_private_link(client, registration):
    token = registration.manage_token
    page = client.get(f"/r/{token}/ticket").get_data(as_text=True)
    assert f"/r/{token}/qr.png" in page  # the ticket itself is there
    assert token not in visible_text(page)
    # The only way back to the private page is the on-screen link, which does not print.
    links = re.findall(rf'href="[^"]*/r/{token}"', page)
    assert len(links) == 1 and 'class="no-print"><a href' in page

    manage = client.get(f"/r/{token}").get_data(as_text=True)
    assert f"http://localhost/r/{token}" in visible_text(manage)
    assert 'id="private-link-title"' in manage


def test_the_ticket_an_organiser_prints_does_not_show_it_either(client, world, registration):
    login(client, world.organiser_a.email)
    url = f"/manage/events/{registration.event_id}/registrations/{registration.id}/ticket"
    page = client.get(url).get_data(as_text=True)
    assert "qr.png" in page
    assert registration.manage_token not in visible_text(page)


def test_what_prints_holds_no_private_link(world, registration, live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/r/{registration.manage_token}/ticket")
        page.emulate_media(media="print")
        printed = page.inner_text("body")
        assert "Anna Bērziņa" in printed
        assert registration.manage_token not in printed
    finally:
        context.close()
