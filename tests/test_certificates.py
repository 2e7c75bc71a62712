"""Attendance certificates of a training: issued by its organisers to people let in (one or
all), downloaded by the resident through the manage link, as a PDF in their language."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Certificate, EventKind
from eventsvc.services import ServiceError, ValidationFailed, certificates
from eventsvc.services import checkin as door
from eventsvc.services import registration as rules

from . import factories
from .conftest import login, post_form


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def training(world, now):
    """A 6-hour training: Ludmila (Russian) and Ķirsis (Latvian) were let in, Pēteris not."""
    event = factories.event(
        world.org_a,
        now + timedelta(days=1),
        title="Sociālā darba pamati",
        kind=EventKind.TRAINING,
        hours=6,
    )
    people = {
        name: rules.register(
            event.id, factories.registration_request(name=name, language=language), now
        ).registration
        for name, language in (
            ("Людмила Иванова", "ru"),
            ("Ģirts Ķirsis", "lv"),
            ("Pēteris Ozols", "lv"),
        )
    }
    _db.session.commit()
    for name in ("Людмила Иванова", "Ģirts Ķirsis"):
        door.check_in_registration(event, people[name].id, world.organiser_a, now)
    _db.session.commit()
    return event, people


def test_issued_to_everyone_let_in_and_read_in_their_language(db, world, now, training):
    event, people = training
    assert certificates.default_hours(event) == Decimal(6)
    assert certificates.issue(world.organiser_a, event, "6", now) == 2
    _db.session.commit()
    issued = {c.registration_id for c in _db.session.scalars(select(Certificate))}
    assert issued == {people["Людмила Иванова"].id, people["Ģirts Ķirsis"].id}

    russian = text_of(
        certificates.certificate_pdf(certificates.certificate_of(people["Людмила Иванова"]))
    )
    assert "Людмила Иванова" in russian and "Sociālā darba pamati" in russian
    assert "Свидетельство об участии" in russian and "Продолжительность: 6 ч" in russian
    assert world.org_a.name in russian
    latvian = text_of(
        certificates.certificate_pdf(certificates.certificate_of(people["Ģirts Ķirsis"]))
    )
    assert "Ģirts Ķirsis" in latvian and "Apliecinājums par dalību" in latvian
    assert "Ilgums: 6 stundas" in latvian


def test_one_at_a_time_with_its_own_hours_and_only_for_people_let_in(db, world, now, training):
    event, people = training
    certificates.issue(world.organiser_a, event, "7,5", now, people["Ģirts Ķirsis"].id)
    _db.session.commit()
    certificate = certificates.certificate_of(people["Ģirts Ķirsis"])
    assert certificate.hours == Decimal("7.5")
    assert certificates.certificate_of(people["Людмила Иванова"]) is None
    with pytest.raises(ServiceError):  # not let in
        certificates.issue(world.organiser_a, event, "6", now, people["Pēteris Ozols"].id)
    _db.session.rollback()
    with pytest.raises(ValidationFailed):
        certificates.issue(world.organiser_a, event, "0", now)
    _db.session.rollback()
    discussion = factories.event(world.org_a, now + timedelta(days=2))
    with pytest.raises(ServiceError):  # trainings only
        certificates.issue(world.organiser_a, discussion, "2", now)
    _db.session.rollback()
    from eventsvc.services import NotFound

    with pytest.raises(NotFound):  # another organisation's training
        certificates.issue(world.organiser_b, event, "6", now)


def test_the_resident_downloads_it_through_the_manage_link(client, world, now, training):
    event, people = training
    ludmila = people["Людмила Иванова"]
    link = f"/r/{ludmila.manage_token}"
    assert client.get(link + "/certificate.pdf").status_code == 404  # not issued yet
    assert "certificate.pdf" not in client.get(link).get_data(as_text=True)

    login(client, world.organiser_a.email)
    url = f"/manage/events/{event.id}/certificates"
    page = client.get(url).get_data(as_text=True)
    assert "Pēteris Ozols" not in page and "Ģirts Ķirsis" in page
    response = post_form(client, url, {"hours": "6"})
    assert response.status_code == 302
    organiser_pdf = client.get(f"{url}/{ludmila.id}.pdf")
    assert organiser_pdf.mimetype == "application/pdf"

    resident = client.application.test_client()
    assert "certificate.pdf" in resident.get(link).get_data(as_text=True)
    pdf = resident.get(link + "/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Людмила Иванова" in text_of(pdf.data)
    assert resident.get(f"/r/{'x' * 43}/certificate.pdf").status_code == 404


def test_a_missing_font_is_a_clear_error_not_a_500(app, client, world, now, training, caplog):
    event, people = training
    certificates.issue(world.organiser_a, event, "6", now)
    _db.session.commit()
    saved = app.config["EVENTSVC_PDF_FONT_DIR"]
    app.config["EVENTSVC_PDF_FONT_DIR"] = "/nonexistent"
    try:
        response = client.get(f"/r/{people['Ģirts Ķirsis'].manage_token}/certificate.pdf")
    finally:
        app.config["EVENTSVC_PDF_FONT_DIR"] = saved
    assert response.status_code == 503
    assert "fonts-dejavu-core" in caplog.text and "EVENTSVC_PDF_FONT_DIR" in caplog.text
