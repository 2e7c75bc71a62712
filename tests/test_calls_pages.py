"""The organiser's pages for people without email: the question before a notifying change or a
cancellation, the to-call list, the letters and the message to registrants."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Attendance,
    AuditEntry,
    Event,
    EventFormat,
    EventStatus,
    OutboxMessage,
    PhoneCall,
    Registration,
    Role,
)
from eventsvc.services import registration as rules
from eventsvc.timezones import RIGA, utcnow

from . import factories
from .conftest import csrf_from, login, post_form
from .test_organiser_pages import event_form

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def text_of(response) -> str:
    return response.get_data(as_text=True)


def carried(page: str) -> list[tuple[str, str]]:
    """The hidden fields of a page's form, as a browser posts them again."""
    return [(name, html.unescape(value)) for name, value in HIDDEN.findall(page)]


def register(event, **fields):
    fields.setdefault("attendance", Attendance.IN_PERSON)
    outcome = rules.register(event.id, factories.registration_request(**fields), utcnow())
    _db.session.commit()
    return outcome.registration


@pytest.fixture
def event(world):
    starts = datetime(2031, 11, 13, 13, 0, tzinfo=RIGA)
    event = factories.event(
        world.org_a,
        starts,
        capacity=80,
        format=EventFormat.HYBRID,
        stream_url="https://www.facebook.com/Labklajibas.ministrija",
        desk_opens_at=starts - timedelta(minutes=30),
        campaign_id=world.campaign.id,
    )
    register(event, name="Anna Bērziņa", email="anna@example.lv")
    register(event, name="Valentīna Ivanova", phone="+371 2000 0001", language="ru")
    register(event, name="Jānis Ozols", phone="+371 2000 0002")
    return event


def online_form(world, event) -> dict:
    return event_form(
        world,
        event.starts_at,
        title=event.title,
        format="online",
        stream_url="https://video.example.lv/tume",
    )


def outbox_kinds() -> list[str]:
    return list(_db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


def test_a_notifying_change_asks_first_and_saves_nothing_until_told(client, world, event):
    login(client, world.organiser_a.email)
    page_url = f"/manage/events/{event.id}/edit"
    response = post_form(client, page_url, online_form(world, event))
    page = text_of(response)
    assert response.status_code == 200
    assert "Paziņot reģistrētajiem par šīm izmaiņām?" in page
    assert "1 reģistrācijai paziņosim pa e-pastu." in page
    assert "Jānis Ozols" in page and "+371 2000 0002" in page and "Valentīna Ivanova" in page
    assert "Valentīna Ivanova – <a" in page and "+371 2000 0001</a> (krievu)" in page
    _db.session.expire_all()
    assert _db.session.get(Event, event.id).format is EventFormat.HYBRID  # nothing saved yet
    assert outbox_kinds() == ["registration_confirmed"]

    fields = carried(page)
    assert ("stream_url", "https://video.example.lv/tume") in fields
    assert ("target_groups", "seniors") in fields and ("target_groups", "everyone") in fields
    response = client.post(page_url, data=MultiDict([*fields, ("notify", "yes")]))
    assert response.status_code == 302
    _db.session.expire_all()
    saved = _db.session.get(Event, event.id)
    assert (saved.format, saved.stream_url) == (EventFormat.ONLINE, "https://video.example.lv/tume")
    assert outbox_kinds() == ["registration_confirmed", "event_changed"]
    assert _db.session.scalar(select(func.count(PhoneCall.id))) == 2
    event_page = text_of(client.get(f"/manage/events/{event.id}"))
    assert "Izmaiņas saglabātas, un reģistrētajiem tiek paziņots." in event_page
    assert "2 cilvēkiem jāpiezvana" in event_page


def test_save_without_telling_and_back_to_the_form(client, world, event):
    login(client, world.organiser_a.email)
    page_url = f"/manage/events/{event.id}/edit"
    page = text_of(post_form(client, page_url, online_form(world, event)))
    fields = carried(page)

    back = client.post(page_url, data=MultiDict([*fields, ("notify", "edit")]))
    assert back.status_code == 200
    assert 'value="https://video.example.lv/tume"' in text_of(back)  # the form, as it was typed
    _db.session.expire_all()
    assert _db.session.get(Event, event.id).format is EventFormat.HYBRID

    response = client.post(page_url, data=MultiDict([*fields, ("notify", "no")]))
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Event, event.id).format is EventFormat.ONLINE
    assert outbox_kinds() == ["registration_confirmed"]
    assert _db.session.scalar(select(func.count(PhoneCall.id))) == 0
    assert "Reģistrētajiem netika paziņots." in text_of(client.get(f"/manage/events/{event.id}"))


def test_a_change_nobody_is_told_of_is_saved_at_once(client, world, event):
    login(client, world.organiser_a.email)
    data = event_form(
        world,
        event.starts_at,
        title="Jauns nosaukums",
        venue_address=event.venue_address,
    )
    response = post_form(client, f"/manage/events/{event.id}/edit", data)
    assert response.status_code == 302


def test_a_form_with_errors_is_refused_before_the_question(client, world, event):
    login(client, world.organiser_a.email)
    data = {**online_form(world, event), "stream_url": ""}
    response = post_form(client, f"/manage/events/{event.id}/edit", data)
    assert response.status_code == 422 and 'id="stream_url-error"' in text_of(response)


def test_cancelling_shows_who_is_phoned_and_may_tell_nobody(client, world, event):
    login(client, world.organiser_a.email)
    page = text_of(client.get(f"/manage/events/{event.id}/cancel"))
    assert "1 reģistrācijai paziņosim pa e-pastu." in page
    assert "Valentīna Ivanova" in page and "+371 2000 0001" in page
    response = post_form(client, f"/manage/events/{event.id}/cancel", {"notify": "no"})
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Event, event.id).status is EventStatus.CANCELLED
    assert outbox_kinds() == ["registration_confirmed"]
    assert _db.session.scalar(select(func.count(PhoneCall.id))) == 0


def test_cancelling_and_telling_puts_phone_only_people_on_the_list(client, world, event):
    login(client, world.organiser_a.email)
    post_form(client, f"/manage/events/{event.id}/cancel", {"notify": "yes"})
    assert outbox_kinds() == ["registration_confirmed", "event_cancelled"]
    calls = text_of(client.get(f"/manage/events/{event.id}/calls"))
    with force_locale("ru"):
        sorry = gettext(
            "We are sorry: the event has been cancelled. You do not need to do anything."
        )
    assert sorry in calls and sorry != "We are sorry: the event has been cancelled."
    assert 'lang="ru"' in calls


def test_the_list_is_marked_done_person_by_person(client, world, event):
    login(client, world.organiser_a.email)
    page_url = f"/manage/events/{event.id}/edit"
    page = text_of(post_form(client, page_url, online_form(world, event)))
    client.post(page_url, data=MultiDict([*carried(page), ("notify", "yes")]))

    listing = text_of(client.get(f"/manage/events/{event.id}/calls"))
    assert "2 cilvēkiem jāpiezvana" in listing
    assert 'href="tel:+37120000001"' in listing
    assert "Sakiet viņiem (valoda: krievu):" in listing
    janis = _db.session.scalar(
        select(PhoneCall.registration_id)
        .join(PhoneCall.registration)
        .where(PhoneCall.registration.has(name="Jānis Ozols"))
    )
    up_to = re.search(
        rf'/calls/{janis}/done">\s*<input[^>]+>\s*<input type="hidden" name="up_to" value="(\d+)"',
        listing,
    ).group(1)
    response = post_form(
        client,
        f"/manage/events/{event.id}/calls/{janis}/done",
        {"up_to": up_to},
        form_url=f"/manage/events/{event.id}/calls",
    )
    assert response.status_code == 302
    listing = text_of(client.get(f"/manage/events/{event.id}/calls"))
    assert "Atzīmēts, ka piezvanīts." in listing
    assert "1 cilvēkam jāpiezvana" in listing
    assert "Veiktie zvani" in listing and world.organiser_a.name in listing
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.action == "call.done")).one()
    assert entry.actor_id == world.organiser_a.id
    events = text_of(client.get("/manage/"))
    assert "1 cilvēkam jāpiezvana" in events


def test_the_door_role_and_the_ministry_see_no_list(client, world, event):
    factories.user("door@example.lv", Role.DOOR, [world.org_a])
    _db.session.commit()
    for email, status in (
        ("door@example.lv", 403),
        (world.ministry.email, 403),
        (world.organiser_b.email, 404),
    ):
        other = client.application.test_client()
        login(other, email)
        for path in ("calls", "letters", "message"):
            assert other.get(f"/manage/events/{event.id}/{path}").status_code == status, (
                email,
                path,
            )


def test_letters_are_one_article_per_person_each_in_their_language(client, world, event):
    world.org_a.phone = "+371 6310 0000"
    _db.session.commit()
    login(client, world.organiser_a.email)
    client.set_cookie("lang", "en")  # the organiser's page in English, the letters not
    page = text_of(client.get(f"/manage/events/{event.id}/letters"))
    letters = re.findall(r'<article class="letter" lang="(\w+)"', page)
    assert letters == ["lv", "ru"]  # Jānis, Valentīna (Anna has email)
    russian = page.split('lang="ru"', 1)[1]
    assert "Здравствуйте, Valentīna Ivanova!" in russian
    assert "Ваше место забронировано." in russian
    assert "+371 6310 0000" in russian
    assert "Labdien, Jānis Ozols!" in page
    assert page.count("/qr.png") == 2 and "Letters to people without email" in page
    entry = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.letters")
    ).one()
    assert entry.event_id == event.id


def test_a_message_is_previewed_then_sent(client, world, event):
    login(client, world.organiser_a.email)
    url = f"/manage/events/{event.id}/message"
    data = {
        "audience": "everyone",
        "subject": "Autobuss uz Tumi",
        "text": "Autobuss atiet plkst. 12:00\nno Pasta ielas.",
        "action": "preview",
    }
    preview = post_form(client, url, data)
    page = text_of(preview)
    assert preview.status_code == 200
    assert "1 reģistrācijai paziņosim pa e-pastu." in page
    assert "Valentīna Ivanova" in page and "Jānis Ozols" in page
    assert "Autobuss atiet plkst. 12:00" in page and "Autobuss uz Tumi – " in page
    assert outbox_kinds() == ["registration_confirmed"]  # nothing sent yet
    anna_token = _db.session.scalar(
        select(Registration.manage_token).where(Registration.name == "Anna Bērziņa")
    )
    assert anna_token not in page  # her private link stays hers

    fields = dict(carried(page))
    assert fields["text"].splitlines() == ["Autobuss atiet plkst. 12:00", "no Pasta ielas."]
    sent = client.post(url, data={**fields, "action": "send"})
    assert sent.status_code == 302 and sent.location.endswith(f"/manage/events/{event.id}/calls")
    assert outbox_kinds() == ["registration_confirmed", "organiser_message"]
    listing = text_of(client.get(f"/manage/events/{event.id}/calls"))
    assert "2 cilvēki bez e-pasta ir zvanāmo sarakstā." in listing
    assert "no Pasta ielas." in listing


def test_an_empty_message_is_refused_next_to_its_fields(client, world, event):
    login(client, world.organiser_a.email)
    response = post_form(
        client,
        f"/manage/events/{event.id}/message",
        {"audience": "everyone", "subject": "", "text": "", "action": "send"},
    )
    page = text_of(response)
    assert response.status_code == 422
    assert 'id="subject-error"' in page and 'id="text-error"' in page
    assert outbox_kinds() == ["registration_confirmed"]
    assert csrf_from(client, f"/manage/events/{event.id}/message")
