"""Event text in the resident's language: Latvian always, Russian and English where the
organiser wrote them, and the Latvian (marked lang="lv") where they did not."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from babel.dates import format_date
from icalendar import Calendar
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, ActivityKind, AuditEntry, Event, Speaker, SpeakerRole
from eventsvc.services import audit_detail, mailer
from eventsvc.services import registration as rules
from eventsvc.timezones import RIGA

from . import factories
from .conftest import login, post_form
from .test_organiser_pages import event_form

RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def event(world, in_days):
    item = factories.event(
        world.org_a,
        in_days(10),
        title="Sociālais darbs kopienā",
        title_ru="Социальная работа в общине",
        summary="Diskusija par sadarbību",
        summary_ru="Дискуссия о сотрудничестве",
        description="Pirmā rindkopa.\n\nOtrā rindkopa.",
        description_ru="Первый абзац.\n\nВторой абзац.",
        accessibility="Uzbrauktuve pie ieejas",
        accessibility_ru="Пандус у входа",
        title_en="Social work in the community",
        hours=6,
    )
    item.speakers.append(
        Speaker(
            name="Inga Priede",
            title="Vadītāja",
            title_ru="Руководитель",
            role=SpeakerRole.MODERATOR,
        )
    )
    item.activities.append(
        Activity(
            title="Rotājumu darbnīca",
            title_ru="Мастерская украшений",
            kind=ActivityKind.WORKSHOP,
            starts_at=item.starts_at,
            ends_at=item.starts_at + timedelta(hours=1),
        )
    )
    _db.session.commit()
    return item


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- the rule ----------------------------------------------------------------------------


def test_a_translation_is_used_where_written_else_the_latvian(event):
    title_ru = event.text("title", "ru")
    assert (title_ru.text, title_ru.lang) == ("Социальная работа в общине", "ru")
    title_en = event.text("title", "en")
    assert (title_en.text, title_en.lang) == ("Social work in the community", "en")
    # No English summary: the Latvian, saying it is Latvian.
    summary_en = event.text("summary", "en")
    assert (summary_en.text, summary_en.lang) == ("Diskusija par sadarbību", "lv")
    # Latvian, an unknown language and none at all: the Latvian.
    for language in ("lv", "de", None):
        local = event.text("title", language)
        assert (local.text, local.lang) == ("Sociālais darbs kopienā", "lv")
    # A translation of nothing but spaces is no translation.
    event.title_ru = "   "
    assert event.text("title", "ru").lang == "lv"
    assert str(event.text("title", "ru")) == "Sociālais darbs kopienā"
    # An empty text is falsy, so templates can leave out its section.
    event.accessibility, event.accessibility_en = "", None
    assert not event.text("accessibility", "en")
    with pytest.raises(AttributeError):
        event.text("venue_name", "ru")


def test_activities_and_speakers_follow_the_same_rule(event):
    activity, speaker = event.activities[0], event.speakers[0]
    assert (activity.text("title", "ru").text, activity.text("title", "ru").lang) == (
        "Мастерская украшений",
        "ru",
    )
    assert activity.text("title", "en").lang == "lv"
    assert speaker.text("title", "ru").text == "Руководитель"
    assert speaker.text("title", "en").text == "Vadītāja"


def test_every_translated_field_has_an_audit_label():
    from eventsvc.models import translation_columns

    labels = audit_detail.NAMES["event_field"]
    for name in Event.TRANSLATED:
        for column in translation_columns(name):
            assert column in labels


# --- pages -------------------------------------------------------------------------------


def test_russian_page_shows_the_russian_text_marked_ru(client, event):
    body = text_of(client.get(f"/events/{event.id}", headers=RU))
    assert '<html lang="ru" ' in body
    assert '<h1 lang="ru">Социальная работа в общине</h1>' in body
    assert '<p class="lead" lang="ru">Дискуссия о сотрудничестве</p>' in body
    assert '<p lang="ru">Первый абзац.</p><p lang="ru">Второй абзац.</p>' in body
    assert '<p lang="ru">Пандус у входа</p>' in body
    assert '<span lang="ru">Мастерская украшений</span>' in body
    assert '<span lang="ru">Руководитель</span>' in body
    assert "Sociālais darbs kopienā" not in body
    # The registration form names the activities the same way.
    assert "Мастерская украшений (" in body and "Rotājumu darbnīca" not in body


def test_english_page_falls_back_to_latvian_marked_lv(client, event):
    body = text_of(client.get(f"/events/{event.id}", headers=EN))
    assert '<h1 lang="en">Social work in the community</h1>' in body
    # No English summary, description, accessibility, activity or job title: the Latvian.
    assert '<p class="lead" lang="lv">Diskusija par sadarbību</p>' in body
    assert '<p lang="lv">Uzbrauktuve pie ieejas</p>' in body
    assert '<span lang="lv">Rotājumu darbnīca</span>' in body
    assert '<span lang="lv">Vadītāja</span>' in body


def test_latvian_page_is_unchanged(client, event):
    body = text_of(client.get(f"/events/{event.id}"))
    assert '<h1 lang="lv">Sociālais darbs kopienā</h1>' in body
    assert "Социальная" not in body


def test_calendar_cards_follow_the_language(client, event, world, in_days):
    factories.event(world.org_a, in_days(12), title="Tikai latviski")
    body = text_of(client.get("/", headers=RU))
    assert 'lang="ru">Социальная работа в общине</a>' in body
    assert '<p lang="ru">Дискуссия о сотрудничестве</p>' in body
    assert 'lang="lv">Tikai latviski</a>' in body


def test_ics_is_in_the_requested_language(client, event):
    for url in (f"/events/{event.id}.ics", "/calendar.ics"):
        cal = Calendar.from_ical(client.get(url, headers=RU).data)
        (vevent,) = cal.walk("VEVENT")
        assert str(vevent["summary"]) == "Социальная работа в общине"
        assert vevent["summary"].params["LANGUAGE"] == "ru"
        assert "Первый абзац." in str(vevent["description"])
    cal = Calendar.from_ical(client.get(f"/events/{event.id}.ics").data)
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["summary"]) == "Sociālais darbs kopienā"


# --- mail, ticket, manage page: the registrant's language -----------------------------


def test_a_russian_registrants_mail_ticket_and_page_carry_the_russian_title(
    client, event, smtp_server, now
):
    outcome = rules.register(
        event.id,
        factories.registration_request(
            name="Ирина",
            email="irina@example.lv",
            language="ru",
            activity_ids=[event.activities[0].id],
        ),
        now,
    )
    _db.session.commit()
    mailer.deliver_due(now)
    (mail,) = smtp_server.inbox.parsed()
    assert "Социальная работа в общине" in mail["Subject"]
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Социальная работа в общине" in plain and "Мастерская украшений" in plain
    assert 'lang="ru"' in html and "Социальная работа в общине" in html
    ics = next(p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar")
    (vevent,) = Calendar.from_ical(ics.get_content()).walk("VEVENT")
    assert str(vevent["summary"]) == "Социальная работа в общине"

    # Her pages show the event in her language, whatever the browser's.
    token = outcome.registration.manage_token
    for url in (f"/r/{token}", f"/r/{token}/ticket"):
        body = text_of(client.get(url))
        assert 'lang="ru">Социальная работа в общине<' in body, url


def test_a_latvian_registrants_mail_keeps_the_latvian_title(event, smtp_server, now):
    rules.register(
        event.id, factories.registration_request(email="janis@example.lv", language="lv"), now
    )
    _db.session.commit()
    mailer.deliver_due(now)
    (mail,) = smtp_server.inbox.parsed()
    assert "Sociālais darbs kopienā" in mail["Subject"]


# --- the JSON API --------------------------------------------------------------------------


def test_api_gives_the_latvian_fields_translations_and_the_requested_language(client, event):
    (item,) = client.get("/api/v1/events", headers=RU).get_json()["events"]
    assert item["title"] == "Sociālais darbs kopienā"  # as before
    assert item["text"]["title"] == {"text": "Социальная работа в общине", "lang": "ru"}
    assert item["translations"]["en"]["title"] == "Social work in the community"
    assert item["translations"]["en"]["summary"] is None

    detail = client.get(f"/api/v1/events/{event.id}", headers=EN).get_json()
    assert detail["text"]["title"] == {"text": "Social work in the community", "lang": "en"}
    assert detail["text"]["accessibility"] == {"text": "Uzbrauktuve pie ieejas", "lang": "lv"}
    assert detail["translations"]["ru"]["description"] == "Первый абзац.\n\nВторой абзац."
    assert detail["activities"][0]["text"]["title"] == {"text": "Rotājumu darbnīca", "lang": "lv"}
    assert detail["speakers"][0]["translations"]["ru"]["title"] == "Руководитель"
    assert detail["language"] == "lv"  # the language it is held in, unchanged


# --- the organiser's forms -----------------------------------------------------------------


def test_the_event_form_saves_and_shows_each_language(client, world):
    login(client, world.organiser_a.email)
    starts = datetime(2031, 11, 13, 13, 0, tzinfo=RIGA)
    form = event_form(
        world,
        starts,
        title_ru="Встреча общины",
        summary_ru="Разговоры о районе",
        description_ru="Приходите.",
        accessibility_ru="Пандус",
        title_en="Community meeting",
        summary_en="",
        description_en="  ",
        accessibility_en="Ramp",
    )
    assert post_form(client, "/manage/events/new", form).status_code == 302
    event = _db.session.scalar(select(Event).where(Event.title == "Kopienas satikšanās"))
    assert (event.title_ru, event.summary_ru, event.description_ru, event.accessibility_ru) == (
        "Встреча общины",
        "Разговоры о районе",
        "Приходите.",
        "Пандус",
    )
    assert (event.title_en, event.summary_en, event.description_en, event.accessibility_en) == (
        "Community meeting",
        None,
        None,
        "Ramp",
    )
    page = text_of(client.get(f"/manage/events/{event.id}/edit"))
    assert 'lang="ru"' in page and "Встреча общины" in page
    assert '<details class="translation" id="translation-ru" open>' in page

    # A change to one translation is named in the audit log.
    response = post_form(
        client, f"/manage/events/{event.id}/edit", {**form, "title_ru": "Собрание общины"}
    )
    assert response.status_code == 302
    _db.session.refresh(event)
    assert event.title_ru == "Собрание общины"
    entry = _db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert "title_ru" in entry.detail


def test_an_empty_translation_form_is_folded(client, world):
    login(client, world.organiser_a.email)
    page = text_of(client.get("/manage/events/new"))
    assert '<details class="translation" id="translation-ru">' in page
    assert '<details class="translation" id="translation-en">' in page


def test_activity_and_speaker_forms_save_each_language(client, world):
    starts = datetime(2031, 11, 13, 12, 0, tzinfo=RIGA)
    event = factories.event(world.org_a, starts, hours=6)
    login(client, world.organiser_a.email)
    base = f"/manage/events/{event.id}"
    response = post_form(
        client,
        f"{base}/speakers/new",
        {
            "name": "Inga Priede",
            "role": "panellist",
            "title": "Vadītāja",
            "title_ru": "Руководитель",
            "title_en": "Head",
            "organisation": "",
            "position": "1",
        },
    )
    assert response.status_code == 302
    speaker = _db.session.scalar(select(Speaker))
    assert (speaker.title_ru, speaker.title_en) == ("Руководитель", "Head")
    response = post_form(
        client,
        f"{base}/activities/new",
        {
            "title": "Eglīšu rotājumu darbnīca",
            "title_ru": "Мастерская ёлочных украшений",
            "title_en": "",
            "kind": "workshop",
            "description": "Nāciet!",
            "description_ru": "",
            "description_en": "Come along!",
            "starts_at": "2031-11-13T13:00",
            "ends_at": "2031-11-13T14:00",
            "location": "",
            "capacity": "",
            "position": "0",
        },
    )
    assert response.status_code == 302
    activity = _db.session.scalar(select(Activity))
    assert (activity.title_ru, activity.title_en) == ("Мастерская ёлочных украшений", None)
    assert (activity.description_ru, activity.description_en) == (None, "Come along!")


def test_a_too_long_translation_is_an_error_next_to_its_field(client, world):
    login(client, world.organiser_a.email)
    starts = datetime(2031, 11, 13, 13, 0, tzinfo=RIGA)
    response = post_form(
        client, "/manage/events/new", event_form(world, starts, title_ru="я" * 201)
    )
    assert response.status_code == 422
    body = text_of(response)
    assert 'id="title_ru-error"' in body
    assert '<details class="translation" id="translation-ru" open>' in body


# --- when: one day, or several ---------------------------------------------------------------


def _riga(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=RIGA)


def test_a_two_day_training_names_both_days_in_the_mail_ticket_and_page(
    client, world, smtp_server, now
):
    """From 10:00 one day to 16:00 the next (Riga): never "…, 10:00–16:00" on one day."""
    day = (now + timedelta(days=10)).astimezone(RIGA).date()
    training = factories.event(
        world.org_a,
        _riga(day, 10),
        ends_at=_riga(day + timedelta(days=1), 16),
    )
    outcome = rules.register(
        training.id, factories.registration_request(email="liga@example.lv", language="lv"), now
    )
    _db.session.commit()
    mailer.deliver_due(now)
    (mail,) = smtp_server.inbox.parsed()
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    first, second = (format_date(d, "full", locale="lv") for d in (day, day + timedelta(days=1)))
    both = f"{first}, 10:00 – {second}, 16:00"
    assert both in plain
    token = outcome.registration.manage_token
    for url in (f"/r/{token}", f"/r/{token}/ticket"):
        assert both in text_of(client.get(url)), url


def test_a_one_day_event_names_its_day_once_on_the_organisers_page(client, world, now):
    day = (now + timedelta(days=10)).astimezone(RIGA).date()
    event = factories.event(world.org_a, _riga(day, 13), ends_at=_riga(day, 15))
    _db.session.commit()
    login(client, world.organiser_a.email)
    body = text_of(client.get(f"/manage/events/{event.id}"))
    long_day = format_date(day, "long", locale="lv")
    assert f"{long_day}, 13:00–15:00" in body
    assert body.count(long_day) == 1
