"""The stream link goes to the people taking part online, not to the whole internet, unless
its organiser marks the stream as public (a Ministry Facebook live)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Attendance, EventFormat
from eventsvc.services import mailer
from eventsvc.services import registration as rules

from . import factories

LINK = "https://meet.example.lv/preili-macibas"


@pytest.fixture
def hybrid(world, in_days):
    return factories.event(
        world.org_a, in_days(10), capacity=10, format=EventFormat.HYBRID, stream_url=LINK
    )


def register(event, now, attendance, email):
    request = factories.registration_request(name="Anna", email=email, attendance=attendance)
    registration = rules.register(event.id, request, now).registration
    _db.session.commit()
    return registration


def test_a_private_link_stays_off_every_public_place(client, hybrid):
    page = client.get(f"/events/{hybrid.id}").get_data(as_text=True)
    assert LINK not in page
    assert "Saiti uz tiešraidi nosūtām reģistrētajiem dalībniekiem" in page
    assert client.get(f"/api/v1/events/{hybrid.id}").json["stream_url"] is None
    assert LINK.encode() not in client.get(f"/events/{hybrid.id}.ics").data
    assert LINK.encode() not in client.get("/calendar.ics").data


def test_people_taking_part_online_get_it_in_mail_on_their_page_and_in_the_api(
    client, hybrid, smtp_server, now
):
    online = register(hybrid, now, Attendance.ONLINE, "online@example.lv")
    in_person = register(hybrid, now, Attendance.IN_PERSON, "zale@example.lv")
    mailer.deliver_due(now + timedelta(seconds=1))
    mails = {m["To"]: m.get_body(("plain",)).get_content() for m in smtp_server.inbox.parsed()}
    assert LINK in mails["online@example.lv"] and LINK not in mails["zale@example.lv"]
    for registration, sees in ((online, True), (in_person, False)):
        page = client.get(f"/r/{registration.manage_token}").get_data(as_text=True)
        assert (LINK in page) is sees
        api = client.get(f"/api/v1/registrations/{registration.manage_token}").json
        assert api["stream_url"] == (LINK if sees else None)


def test_a_public_stream_is_shown_to_everyone(client, hybrid):
    hybrid.stream_public = True
    _db.session.commit()
    assert LINK in client.get(f"/events/{hybrid.id}").get_data(as_text=True)
    assert client.get(f"/api/v1/events/{hybrid.id}").json["stream_url"] == LINK


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_moving_online_on_a_phone_brings_the_stream_link(hybrid, live_server, browser, now):
    """A resident registered to come in person changes to watching online through the
    private link, on a 390×844 phone: the page then shows the stream's link, and the
    confirmation mail queued for the change carries it too."""
    from eventsvc.models import OutboxMessage
    from eventsvc.services.mailer import compose

    resident = register(hybrid, now, Attendance.IN_PERSON, "zale@example.lv")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/r/{resident.manage_token}")
    assert LINK not in page.content()
    page.check("input[name=attendance][value=online]")
    page.click("form[action$='/change#change'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(f"a[href='{LINK}']").is_visible()
    context.close()
    _db.session.expire_all()
    change = _db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id == resident.id)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert LINK in compose(change).body
