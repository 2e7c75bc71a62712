"""Someone to call: an organisation's public phone and email reach the resident everywhere
(event page, confirmation, manage page, ticket, mail), and its own organisers keep them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventsvc.extensions import db as _db
from eventsvc.models import AuditEntry
from eventsvc.services import PermissionDenied, ValidationFailed, mailer
from eventsvc.services import organisations as organisation_service
from eventsvc.services import registration as rules

from . import factories
from .conftest import login, post_form

PHONE_LINK = 'href="tel:+37164012345"'
MAIL_LINK = 'href="mailto:socialais@tukums.example.lv"'


@pytest.fixture
def event(world, in_days):
    world.org_a.phone, world.org_a.email = "+371 6401 2345", "socialais@tukums.example.lv"
    return factories.event(world.org_a, in_days(10), capacity=5)


def text_of(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_page_of_the_residents_journey_shows_whom_to_call(client, event, now):
    assert PHONE_LINK in text_of(client.get(f"/events/{event.id}"))
    outcome = rules.register(event.id, factories.registration_request(name="Anna"), now)
    _db.session.commit()
    token = outcome.registration.manage_token
    for page in (f"/r/{token}", f"/r/{token}/ticket"):
        body = text_of(client.get(page))
        assert PHONE_LINK in body and MAIL_LINK in body, page


def test_the_confirmation_page_names_the_number_it_tells_people_to_call(client, event):
    response = post_form(
        client,
        f"/events/{event.id}/register",
        {
            "name": "Anna",
            "email": "anna@example.lv",
            "party_size": "1",
            "language": "lv",
            "consent": "y",
        },
        form_url=f"/events/{event.id}",
    )
    assert response.status_code == 302
    body = text_of(client.get(response.location))
    assert "zvaniet organizatoram" in body and PHONE_LINK in body and MAIL_LINK in body


def test_every_mail_carries_the_contacts_in_text_and_html(event, smtp_server, now):
    rules.register(event.id, factories.registration_request(name="Anna"), now)
    _db.session.commit()
    mailer.deliver_due(now + timedelta(seconds=1))
    (mail,) = smtp_server.inbox.parsed()
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "+371 6401 2345" in plain and "socialais@tukums.example.lv" in plain
    assert PHONE_LINK in html and MAIL_LINK in html


def test_an_event_without_contacts_says_so_rather_than_showing_nothing(client, world, in_days):
    event = factories.event(world.org_b, in_days(10))
    body = text_of(client.get(f"/events/{event.id}"))
    assert "Rīkotājs vēl nav publicējis tālruni vai e-pastu." in body and "tel:" not in body


def test_organisers_keep_their_own_organisations_contacts(client, world, event):
    login(client, world.organiser_a.email)
    url = f"/manage/organisations/{world.org_a.id}"
    response = post_form(client, url, {"phone": "+371 6400 0000", "email": "Jauns@Tukums.lv"})
    assert response.status_code == 302
    _db.session.refresh(world.org_a)
    assert (world.org_a.phone, world.org_a.email) == ("+371 6400 0000", "jauns@tukums.lv")
    entry = _db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    assert entry.target_id == world.org_a.id and "+371" not in entry.detail
    # A wrong number is refused next to its field, and nothing changes.
    response = post_form(client, url, {"phone": "zvaniet man", "email": ""})
    assert response.status_code == 422
    assert "ievadiet tālruņa numuru tikai ar cipariem" in response.get_data(as_text=True)
    _db.session.refresh(world.org_a)
    assert world.org_a.phone == "+371 6400 0000"
    # Another organisation's contacts are not theirs to change.
    assert client.get(f"/manage/organisations/{world.org_b.id}").status_code == 403


def test_the_service_refuses_another_organisations_organiser_and_bad_addresses(db, world):
    with pytest.raises(PermissionDenied):
        organisation_service.update_public_contacts(
            world.organiser_b, world.org_a.id, None, "+371 20000000"
        )
    with pytest.raises(ValidationFailed) as refused:
        organisation_service.update_public_contacts(
            world.organiser_a, world.org_a.id, "nav-adrese", None
        )
    assert set(refused.value.errors) == {"email"}
