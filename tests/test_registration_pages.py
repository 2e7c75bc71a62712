"""Registering on the event page, the thank-you page and the private manage page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, OutboxMessage, Registration, RegistrationStatus

from . import factories
from .conftest import csrf_from


def text_of(response) -> str:
    return response.get_data(as_text=True)


def form(**fields) -> dict:
    data = {
        "name": "Anna Bērziņa",
        "email": "anna@example.lv",
        "phone": "",
        "party_size": "2",
        "needs": "",
        "language": "lv",
        "consent": "y",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def post_registration(client, event, **fields):
    token = csrf_from(client, f"/events/{event.id}")
    return client.post(f"/events/{event.id}/register", data={**form(**fields), "csrf_token": token})


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=4)


def test_event_page_offers_the_form_and_places_left(client, event):
    body = text_of(client.get(f"/events/{event.id}"))
    assert f'action="/events/{event.id}/register' in body
    assert "Brīvas vietas: 4 no 4" in body
    for field in ("name", "email", "phone", "party_size", "needs", "language", "consent"):
        assert f'id="{field}"' in body
    assert 'href="/privacy"' in body


def test_register_with_email_thanks_and_queues_the_ticket(client, event):
    response = post_registration(client, event)
    assert response.status_code == 302 and response.location == f"/events/{event.id}/registered"
    body = text_of(client.get(response.location))
    assert "anna@example.lv" in body
    registration = _db.session.scalar(select(Registration))
    assert (registration.name, registration.party_size, registration.status) == (
        "Anna Bērziņa",
        2,
        RegistrationStatus.CONFIRMED,
    )
    assert registration.manage_token not in body  # the private link goes by email only
    assert _db.session.scalar(select(OutboxMessage.kind)) == "registration_confirmed"


def test_a_repeated_email_gets_the_same_answer(client, event, app):
    first = post_registration(client, event)
    first_page = text_of(client.get(first.location))
    other = app.test_client()
    again = post_registration(other, event, name="Cits Vārds", email="ANNA@example.lv")
    assert (again.status_code, again.location) == (first.status_code, first.location)
    again_page = text_of(other.get(again.location))
    main = lambda page: page[page.index("<main") : page.index("</main>")]  # noqa: E731
    assert main(again_page).replace("ANNA@example.lv", "anna@example.lv") == main(first_page)
    assert _db.session.scalar(select(func.count(Registration.id))) == 1
    assert list(_db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id))) == [
        "registration_confirmed",
        "registration_repeated",
    ]


def test_without_email_the_manage_page_is_the_answer(client, event):
    response = post_registration(client, event, email="", phone="+371 26 123 456", party_size="1")
    registration = _db.session.scalar(select(Registration))
    assert response.status_code == 302 and response.location == f"/r/{registration.manage_token}"
    body = text_of(client.get(response.location))
    assert "Anna Bērziņa" in body and 'name="robots" content="noindex"' in body


def test_manage_page_changes_party_size_and_cancels_with_promotion(client, event):
    post_registration(client, event, email="", phone="+37120000001", party_size="3")
    post_registration(client, event, email="", phone="+37120000002", party_size="2", name="Otra")
    first, second = _db.session.scalars(select(Registration).order_by(Registration.id)).all()
    assert second.status is RegistrationStatus.WAITLISTED
    page = f"/r/{first.manage_token}"
    assert "1" in text_of(client.get(f"/r/{second.manage_token}"))
    token = csrf_from(client, page)
    response = client.post(f"{page}/party-size", data={"party_size": "2", "csrf_token": token})
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Registration, first.id).party_size == 2
    assert (
        _db.session.get(Registration, second.id).status is RegistrationStatus.CONFIRMED
    )  # freed place taken

    too_many = client.post(f"{page}/party-size", data={"party_size": "5", "csrf_token": token})
    assert too_many.status_code == 409 and 'id="party_size-error"' in text_of(too_many)

    confirm = text_of(client.get(f"{page}/cancel"))
    assert "csrf_token" in confirm
    response = client.post(
        f"{page}/cancel", data={"csrf_token": csrf_from(client, f"{page}/cancel")}
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Registration, first.id).status is RegistrationStatus.CANCELLED


def test_one_manage_link_cannot_reach_another_registration(client, event):
    post_registration(client, event, email="", phone="+37120000001")
    post_registration(client, event, email="", phone="+37120000002", name="Otra")
    first, second = _db.session.scalars(select(Registration).order_by(Registration.id)).all()
    for url in (
        f"/r/{first.id}",
        f"/r/{second.manage_token[:-2]}",
        "/r/" + "A" * 43,
        f"/r/{first.manage_token}x",
    ):
        assert client.get(url).status_code == 404
    token = csrf_from(client, f"/r/{first.manage_token}")
    assert (
        client.post(
            f"/r/{second.manage_token[:-1]}Z/cancel", data={"csrf_token": token}
        ).status_code
        == 404
    )
    _db.session.expire_all()
    assert _db.session.get(Registration, second.id).status is RegistrationStatus.CONFIRMED


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 200}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "", "phone": ""}, "email"),
        ({"party_size": "0"}, "party_size"),
        ({"party_size": "1000"}, "party_size"),
        ({"party_size": "many"}, "party_size"),
        ({"party_size": ""}, "party_size"),
        ({"consent": None}, "consent"),
        ({"activity_ids": "987654"}, "activity_ids"),
        ({"language": "xx"}, "language"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(client, event, fields, field):
    response = post_registration(client, event, **fields)
    body = text_of(response)
    assert response.status_code == 422
    assert f'id="{field}-error"' in body
    assert 'class="error-summary"' in body
    assert "Kļūda" in body  # in the user's language
    assert _db.session.scalar(select(func.count(Registration.id))) == 0


def test_all_errors_are_shown_at_once(client, event):
    body = text_of(
        post_registration(client, event, name="", email="bad", party_size="0", consent=None)
    )
    for field in ("name", "email", "party_size", "consent"):
        assert f'id="{field}-error"' in body


def test_missing_csrf_token_is_refused(client, event):
    response = client.post(f"/events/{event.id}/register", data=form())
    assert response.status_code == 400
    assert "Lūdzu, atgriezieties" in text_of(response)  # "the form had expired", in Latvian
    assert _db.session.scalar(select(func.count(Registration.id))) == 0


def test_closed_registration_says_why_and_refuses(client, world, in_days, now):
    closed = factories.event(
        world.org_a, in_days(3), registration_closes_at=now - timedelta(hours=1)
    )
    page = text_of(client.get(f"/events/{closed.id}"))
    assert f'action="/events/{closed.id}/register' not in page
    assert "Reģistrācija ir slēgta." in page
    token = csrf_from(client, f"/events/{event_id_with_form(world, in_days)}")
    response = client.post(f"/events/{closed.id}/register", data={**form(), "csrf_token": token})
    assert response.status_code == 409
    assert "Reģistrācija ir slēgta." in text_of(response)
    assert _db.session.scalar(select(func.count(Registration.id))) == 0


def event_id_with_form(world, in_days) -> int:
    return factories.event(world.org_b, in_days(20)).id


def test_full_event_offers_the_waiting_list(client, event):
    post_registration(client, event, party_size="4")
    body = text_of(client.get(f"/events/{event.id}"))
    assert "Visas vietas ir aizņemtas. Varat pieteikties rindā." in body
    assert ">Pieteikties rindā</button>" in body
    response = post_registration(client, event, email="berzins@example.lv", party_size="1")
    assert response.status_code == 302
    thanks = text_of(client.get(response.location))
    assert "Jūs esat rindā uz pasākumu" in thanks and "1. vietā" in thanks
    assert (
        _db.session.scalar(
            select(Registration).where(Registration.email == "berzins@example.lv")
        ).status
        is RegistrationStatus.WAITLISTED
    )


def test_festival_activities_are_chosen_with_their_places(client, world, in_days):
    festival = factories.event(world.org_b, in_days(10), hours=6, capacity=100)
    workshop = Activity(
        title="Eglīšu rotājumu darbnīca",
        starts_at=festival.starts_at,
        ends_at=festival.ends_at,
        capacity=20,
    )
    festival.activities.append(workshop)
    _db.session.commit()
    body = text_of(client.get(f"/events/{festival.id}"))
    assert "Eglīšu rotājumu darbnīca" in body and "brīvas vietas: 20)" in body
    response = post_registration(client, festival, activity_ids=str(workshop.id), party_size="3")
    assert response.status_code == 302
    registration = _db.session.scalar(select(Registration))
    assert [a.id for a in registration.activities] == [workshop.id]


@pytest.fixture
def festival(world, in_days):
    """A festival with room, a full workshop (its 2 places taken) and one with room."""
    from eventsvc.services import registration as rules

    festival = factories.event(world.org_b, in_days(10), hours=6, capacity=100)
    for title, capacity in (("Kartīšu darbnīca", 2), ("Eglīšu rotājumu darbnīca", 20)):
        festival.activities.append(
            Activity(
                title=title,
                starts_at=festival.starts_at,
                ends_at=festival.ends_at,
                capacity=capacity,
            )
        )
    _db.session.commit()
    rules.register(
        festival.id,
        factories.registration_request(party_size=2, activity_ids=[festival.activities[0].id]),
        festival.starts_at - timedelta(days=10),
    )
    _db.session.commit()
    return festival


def test_a_full_workshop_is_marked_and_costs_no_festival_place(client, festival):
    full, other = festival.activities
    page = text_of(client.get(f"/events/{festival.id}"))
    assert "Kartīšu darbnīca (" in page and "vietu nav – var pieteikties rindā)" in page
    assert "brīvas vietas: 20)" in page
    assert "Brīvas vietas: 98 no 100" in page
    response = post_registration(
        client, festival, activity_ids=[str(full.id), str(other.id)], party_size="1"
    )
    assert response.status_code == 302
    thanks = text_of(client.get(response.location))
    assert "Jūsu vieta pasākumā" in thanks and "ir rezervēta" in thanks
    assert "Kartīšu darbnīca</span>:" in thanks
    assert "vietu nav; jūs esat tās rindā 1. vietā" in thanks
    assert "jūsu biļeti" in thanks  # the festival ticket: the party has its place
    registration = _db.session.scalar(
        select(Registration).where(Registration.email == "anna@example.lv")
    )
    assert registration.status is RegistrationStatus.CONFIRMED
    assert [a.id for a in registration.activities] == [other.id]
    assert [w.activity_id for w in registration.activity_waits] == [full.id]


def test_a_waitlisted_party_is_not_told_a_ticket_was_sent(client, event):
    post_registration(client, event, party_size="4")
    response = post_registration(client, event, email="otra@example.lv", party_size="1")
    thanks = text_of(client.get(response.location))
    assert "1. vietā" in thanks
    assert "jūsu biļeti" not in thanks
    assert "Biļeti saņemsiet vēstulē, kas jums piešķirs vietu." in thanks


def test_an_online_attendee_is_not_sent_to_the_door(client, world, in_days):
    from eventsvc.models import EventFormat

    hybrid = factories.event(
        world.org_a, in_days(10), format=EventFormat.HYBRID, stream_url="https://x.lv/s"
    )
    response = post_registration(client, hybrid, attendance="online", party_size="1")
    thanks = text_of(client.get(response.location))
    assert "biļete nav vajadzīga" in thanks and "jūsu biļeti" not in thanks
    registration = _db.session.scalar(select(Registration))
    manage = text_of(client.get(f"/r/{registration.manage_token}"))
    assert "Parādīt vai izdrukāt manu biļeti" not in manage
    assert "https://x.lv/s" in manage  # where the stream link goes


def test_a_refusal_after_the_deadline_is_at_the_top_without_a_live_form(
    client, world, in_days, now
):
    event = factories.event(world.org_a, in_days(3))
    token = csrf_from(client, f"/events/{event.id}")  # the form was open when it was loaded
    event.registration_closes_at = now - timedelta(minutes=1)
    _db.session.commit()
    response = client.post(f"/events/{event.id}/register", data={**form(), "csrf_token": token})
    body = text_of(response)
    assert response.status_code == 409
    refusal = body.index('id="refusal"')
    assert body.index("<h1") < refusal < body.index("Kad</dt>")  # at the top, under the title
    assert 'role="alert"' in body[refusal - 200 : refusal + 200]
    assert "autofocus" in body[refusal - 200 : refusal + 200]
    assert "Reģistrācija ir slēgta." in body and "Reģistrācija nenotika" in body
    assert f'action="/events/{event.id}/register' not in body  # no form as if nothing happened
    assert 'name="name"' not in body
    assert _db.session.scalar(select(func.count(Registration.id))) == 0


def test_error_summary_lines_read_as_sentences(client, event):
    body = text_of(post_registration(client, event, consent=None))
    assert "pasākumam: Lūdzu" in body and ".: " not in body


def manage_form(registration, **fields) -> dict:
    data = {
        "party_size": str(registration.party_size),
        "attendance": registration.attendance.value,
        "needs": registration.needs,
        "email": registration.email or "",
        "phone": registration.phone or "",
        "language": registration.language,
    }
    data.update(fields)
    return data


def test_the_manage_page_changes_everything_under_the_rules(client, festival):
    full, other = festival.activities
    post_registration(client, festival, activity_ids=str(other.id), party_size="2")
    registration = _db.session.scalar(
        select(Registration).where(Registration.email == "anna@example.lv")
    )
    page = f"/r/{registration.manage_token}"
    body = text_of(client.get(page))
    assert f'action="{page}/change#change"' in body
    checked = re.findall(
        r'<input checked id="activity_ids-\d" name="activity_ids"[^>]*value="(\d+)"', body
    )
    assert checked == [str(other.id)]  # the form starts from the registration as it is
    token = csrf_from(client, page)
    response = client.post(
        f"{page}/change",
        data={
            **manage_form(
                registration,
                party_size="3",
                needs="ratiņkrēsls",
                phone="+371 20000000",
                email="anna.jauna@example.lv",
                language="ru",
            ),
            "activity_ids": [str(full.id)],
            "csrf_token": token,
        },
    )
    assert response.status_code == 302 and response.location == f"{page}#main"
    _db.session.expire_all()
    changed = _db.session.get(Registration, registration.id)
    assert (changed.party_size, changed.needs, changed.phone, changed.email, changed.language) == (
        3,
        "ratiņkrēsls",
        "+371 20000000",
        "anna.jauna@example.lv",
        "ru",
    )
    assert changed.activities == [] and [w.activity_id for w in changed.activity_waits] == [full.id]
    shown = text_of(client.get(page))
    assert "anna.jauna@example.lv" in shown
    kinds = _db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.recipient).order_by(OutboxMessage.id)
    ).all()[-2:]
    assert kinds == [
        ("registration_email_changed", "anna@example.lv"),
        ("registration_confirmed", "anna.jauna@example.lv"),
    ]

    too_many = client.post(
        f"{page}/change",
        data={**manage_form(changed, party_size="99"), "csrf_token": token},
    )
    assert too_many.status_code == 422 and 'id="party_size-error"' in text_of(too_many)
    festival.capacity = 4
    _db.session.commit()
    no_room = client.post(
        f"{page}/change", data={**manage_form(changed, party_size="5"), "csrf_token": token}
    )
    body = text_of(no_room)
    assert no_room.status_code == 409 and 'id="party_size-error"' in body
    assert 'class="error-summary"' in body
    _db.session.expire_all()
    assert _db.session.get(Registration, registration.id).party_size == 3


def test_a_change_too_late_is_refused_on_top(client, event, world, in_days, now):
    post_registration(client, event, email="", phone="+37120000001", party_size="1")
    registration = _db.session.scalar(select(Registration))
    event.starts_at, event.ends_at = now - timedelta(hours=1), now + timedelta(hours=1)
    _db.session.commit()
    page = f"/r/{registration.manage_token}"
    assert "/change" not in text_of(client.get(page))  # no form once the event has begun
    token = csrf_from(client, f"/events/{event_id_with_form(world, in_days)}")
    response = client.post(
        f"{page}/change", data={**manage_form(registration, party_size="2"), "csrf_token": token}
    )
    body = text_of(response)
    assert response.status_code == 409
    assert (
        'class="flash flash-error" role="alert"' in body and "Lūdzu, zvaniet organizatoram" in body
    )
    _db.session.expire_all()
    assert _db.session.get(Registration, registration.id).party_size == 1
