"""Organisers see, add (by phone), change, cancel and export their events' registrations."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Registration, RegistrationSource, RegistrationStatus
from eventsvc.services import registration as rules

from . import factories
from .conftest import login, post_form


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def event(world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=5)
    for name, email, size in (
        ("Anna Bērziņa", "anna@example.lv", 2),
        ("Jānis Ozols", "janis@example.lv", 3),
        ("Zane Kalniņa", "zane@example.lv", 2),
    ):
        rules.register(
            event.id, factories.registration_request(name=name, email=email, party_size=size), now
        )
    _db.session.commit()
    return event


def test_list_shows_counts_search_and_filter(client, world, event):
    login(client, world.organiser_a.email)
    page = f"/manage/events/{event.id}/registrations"
    body = text_of(client.get(page))
    for name in ("Anna Bērziņa", "Jānis Ozols", "Zane Kalniņa"):
        assert name in body
    counts = body[
        body.index('class="facts counts"') : body.index("</dl>", body.index('class="facts counts"'))
    ]
    assert (
        ">5<" in counts and ">0 / 5<" in counts and ">2<" in counts
    )  # 5 confirmed, 0 left, 2 waiting
    assert "Jānis Ozols" in text_of(client.get(page + "?q=ozol"))
    assert "Anna Bērziņa" not in text_of(client.get(page + "?q=ozol"))
    waiting = text_of(client.get(page + "?status=waitlisted"))
    assert "Zane Kalniņa" in waiting and "Anna Bērziņa" not in waiting
    assert "(1.)" in waiting  # her place in line


def test_phone_registration_without_email_after_the_deadline(client, world, in_days, now):
    from datetime import timedelta

    event = factories.event(
        world.org_a, in_days(2), capacity=10, registration_closes_at=now - timedelta(hours=2)
    )
    login(client, world.organiser_a.email)
    response = post_form(
        client,
        f"/manage/events/{event.id}/registrations/new",
        {
            "name": "Valentīna Petrova",
            "phone": "+371 29 111 222",
            "email": "",
            "party_size": "2",
            "needs": "ratiņkrēsls",
            "language": "en",
            "consent": "y",
        },
    )
    assert response.status_code == 302
    registration = _db.session.scalar(select(Registration))
    assert (registration.source, registration.created_by_id, registration.email) == (
        RegistrationSource.ORGANISER,
        world.organiser_a.id,
        None,
    )
    detail = text_of(client.get(response.location))
    assert (
        registration.manage_token in detail
    )  # staff hand the private link (or printed ticket) over


def test_organiser_cancels_and_the_waiting_list_moves(client, world, event):
    login(client, world.organiser_a.email)
    janis = _db.session.scalar(select(Registration).where(Registration.name == "Jānis Ozols"))
    page = f"/manage/events/{event.id}/registrations/{janis.id}"
    response = post_form(client, page + "/cancel", {}, form_url=page)
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Registration, janis.id).status is RegistrationStatus.CANCELLED
    zane = _db.session.scalar(select(Registration).where(Registration.name == "Zane Kalniņa"))
    assert zane.status is RegistrationStatus.CONFIRMED


def test_csv_export_is_utf8_with_bom_and_formula_safe(client, world, event, now):
    rules.register(
        event.id,
        factories.registration_request(name='=HYPERLINK("http://x")', email="f@example.lv"),
        now,
    )
    _db.session.commit()
    login(client, world.organiser_a.email)
    response = client.get(f"/manage/events/{event.id}/registrations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    # For Latvian Excel: a semicolon between columns.
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 5
    names = [row[rows[0].index("Vārds, uzvārds")] for row in rows[1:]]
    assert "Anna Bērziņa" in names and '\'=HYPERLINK("http://x")' in names


def test_attendance_sheet_lists_confirmed_people_alphabetically(client, world, event):
    login(client, world.organiser_a.email)
    body = text_of(client.get(f"/manage/events/{event.id}/attendance-sheet"))
    assert body.index("Anna Bērziņa") < body.index("Jānis Ozols")
    assert "Zane Kalniņa" not in body  # waiting, not expected at the door


def test_another_organisations_registrations_are_out_of_reach(client, world, event):
    login(client, world.organiser_b.email)
    anna = _db.session.scalar(select(Registration).where(Registration.name == "Anna Bērziņa"))
    for url in (
        f"/manage/events/{event.id}/registrations",
        f"/manage/events/{event.id}/registrations.csv",
        f"/manage/events/{event.id}/attendance-sheet",
        f"/manage/events/{event.id}/registrations/{anna.id}",
        f"/manage/events/{event.id}/registrations/new",
    ):
        assert client.get(url).status_code == 404, url
    own = factories.event(world.org_b, event.starts_at)
    # Their registration reached through my own event's URL.
    assert client.get(f"/manage/events/{own.id}/registrations/{anna.id}").status_code == 404
    page = f"/manage/events/{own.id}/registrations"
    assert (
        post_form(
            client, f"/manage/events/{own.id}/registrations/{anna.id}/cancel", {}, form_url=page
        ).status_code
        == 404
    )
    _db.session.expire_all()
    assert _db.session.get(Registration, anna.id).status is RegistrationStatus.CONFIRMED


def test_pages_read_like_words_not_codes(client, world, event, now):
    """Times as 13:00 in Riga, sources and languages as words, one plain sentence when done."""
    login(client, world.organiser_a.email)
    russian = rules.register(
        event.id, factories.registration_request(name="Olga", language="ru"), now
    ).registration
    _db.session.commit()
    page = text_of(client.get(f"/manage/events/{event.id}/registrations/{russian.id}"))
    assert "krievu" in page and "tīmekļvietnē" in page
    assert ">ru<" not in page and "(web)" not in page
    overview = text_of(client.get(f"/manage/events/{event.id}"))
    for code in (":00:00", "EET", "EEST", "+0200", "+0300"):
        assert code not in overview and code not in page, code
    response = post_form(
        client,
        f"/manage/events/{event.id}/registrations/new",
        {
            "name": "Pa tālruni",
            "phone": "+371 20000000",
            "party_size": "1",
            "language": "lv",
            "consent": "y",
        },
    )
    assert response.status_code == 302
    done = text_of(client.get(response.location))
    assert "Pieteikums saglabāts rindā." in done  # the event is full: 7 of 5 taken
    assert "Reģistrēts:" not in done
