"""Organiser pages: create, edit, publish, unpublish and cancel events; panel and activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, Event, EventStatus, Registration, RegistrationStatus, Speaker
from eventsvc.timezones import RIGA, end_of_riga_day, to_riga

from . import factories
from .conftest import login, post_form


def text_of(response) -> str:
    return response.get_data(as_text=True)


def event_form(world, starts: datetime, **overrides) -> dict:
    local = to_riga(starts)
    data = {
        "title": "Kopienas satikšanās",
        "kind": "meeting",
        "summary": "Sarunas par apkaimi",
        "description": "",
        "organisation_id": str(world.org_a.id),
        "municipality_id": str(world.tukums.id),
        "campaign_id": str(world.campaign.id),
        "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "desk_opens_at": (local - timedelta(minutes=30)).strftime("%H:%M"),
        "venue_name": "Tumes kultūras nams",
        "venue_address": "Pasta iela 1A, Tume",
        "format": "hybrid",
        "stream_url": "https://www.facebook.com/Labklajibas.ministrija",
        "capacity": "80",
        "registration_opens_at": "",
        "registration_closes_on": (local.date() - timedelta(days=1)).isoformat(),
        "registration_closes_time": "",
        "target_groups": ["seniors", "everyone"],
        "accessibility": "Uzbrauktuve",
        "language": "lv",
    }
    data.update(overrides)
    return data


def test_organiser_creates_a_draft_then_publishes_it(client, world):
    login(client, world.organiser_a.email)
    starts = datetime(2031, 11, 13, 13, 0, tzinfo=RIGA)
    response = post_form(client, "/manage/events/new", event_form(world, starts))
    assert response.status_code == 302
    event = _db.session.scalar(select(Event).where(Event.title == "Kopienas satikšanās"))
    assert event.status is EventStatus.DRAFT
    assert event.organisation_id == world.org_a.id
    assert event.starts_at == datetime(2031, 11, 13, 11, 0, tzinfo=timezone_utc())
    assert event.desk_opens_at == datetime(2031, 11, 13, 10, 30, tzinfo=timezone_utc())
    # A date deadline means the end of that day in Riga.
    assert event.registration_closes_at == end_of_riga_day(starts.date() - timedelta(days=1))
    assert set(g.value for g in event.target_groups) == {"seniors", "everyone"}
    assert event.campaign_id == world.campaign.id

    assert client.get(f"/events/{event.id}").status_code == 404  # a draft is not public
    response = post_form(
        client, f"/manage/events/{event.id}/publish", {}, form_url=f"/manage/events/{event.id}"
    )
    assert response.status_code == 302
    _db.session.refresh(event)
    assert event.status is EventStatus.PUBLISHED and event.published_at is not None
    assert client.get(f"/events/{event.id}").status_code == 200


def timezone_utc():

    return UTC


def test_form_errors_are_shown_next_to_their_fields_never_a_500(client, world):
    login(client, world.organiser_a.email)
    starts = datetime(2031, 11, 13, 13, 0, tzinfo=RIGA)
    cases = {
        "title": {"title": ""},
        "ends_at": {"ends_at": "2031-11-13T12:00"},
        "capacity": {"capacity": "0"},
        "stream_url": {"stream_url": "javascript:alert(1)"},
        "starts_at": {"starts_at": "13.11.2031 13:00"},
        "registration_closes_on": {"registration_closes_on": "2031-11-20"},
        "venue_address": {"venue_name": "", "venue_address": ""},
        "desk_opens_at": {"desk_opens_at": "14:00"},
        "kind": {"kind": "rave"},
        "organisation_id": {"organisation_id": str(world.org_b.id)},
    }
    for field_name, override in cases.items():
        response = post_form(client, "/manage/events/new", event_form(world, starts, **override))
        body = text_of(response)
        assert response.status_code == 422, field_name
        # The message sits in the field's own block, tied to the input for screen readers.
        assert f'id="{field_name}-error"' in body, field_name
        assert 'aria-describedby="' in body and f"{field_name}-error" in body
        assert 'class="error-summary"' in body
    assert _db.session.scalar(select(Event.id)) is None  # nothing saved


def test_online_event_needs_a_stream_link_with_a_latvian_message(client, world):
    login(client, world.organiser_a.email)
    response = post_form(
        client,
        "/manage/events/new",
        event_form(world, datetime(2031, 11, 13, 13, tzinfo=RIGA), format="online", stream_url=""),
    )
    assert response.status_code == 422
    assert 'id="stream_url-error"' in text_of(response)


def test_edit_keeps_a_date_deadline_as_a_date(client, world, in_days):
    starts = datetime(2031, 11, 13, 13, 0, tzinfo=RIGA)
    event = factories.event(
        world.org_a,
        starts,
        registration_closes_at=end_of_riga_day(starts.date() - timedelta(days=1)),
    )
    login(client, world.organiser_a.email)
    body = text_of(client.get(f"/manage/events/{event.id}/edit"))
    assert 'value="2031-11-12"' in body  # the deadline day, not the stored midnight after it
    assert 'value="2031-11-13T13:00"' in body  # Riga wall-clock time
    data = event_form(
        world,
        starts,
        title="Jauns nosaukums",
        registration_closes_on="2031-11-11",
        registration_closes_time="18:00",
    )
    response = post_form(client, f"/manage/events/{event.id}/edit", data)
    assert response.status_code == 302
    _db.session.refresh(event)
    assert event.title == "Jauns nosaukums"
    assert event.registration_closes_at == datetime(2031, 11, 11, 18, 0, tzinfo=RIGA)


def test_unpublish_is_refused_once_people_registered_and_cancel_works(client, world, in_days):
    event = factories.event(world.org_a, in_days(10))
    _db.session.add(
        Registration(
            event_id=event.id,
            status=RegistrationStatus.CONFIRMED,
            name="Anna",
            email="anna@example.lv",
            party_size=3,
        )
    )
    _db.session.commit()
    login(client, world.organiser_a.email)
    page = f"/manage/events/{event.id}"
    post_form(client, f"{page}/unpublish", {}, form_url=page)
    _db.session.refresh(event)
    assert event.status is EventStatus.PUBLISHED
    assert "cancel" in text_of(client.get(page)).lower() or "atceliet" in text_of(client.get(page))

    confirm = text_of(client.get(f"{page}/cancel"))
    assert "1" in confirm
    response = post_form(client, f"{page}/cancel", {})
    assert response.status_code == 302
    _db.session.refresh(event)
    assert event.status is EventStatus.CANCELLED and event.cancelled_at is not None
    # Cancelled events cannot be edited.
    response = post_form(
        client, f"{page}/edit", event_form(world, event.starts_at), form_url=page + "/cancel"
    )
    _db.session.refresh(event)
    assert event.title != "Kopienas satikšanās"


def test_event_list_shows_people_registered_per_event(client, world, in_days):
    event = factories.event(world.org_a, in_days(10), title="Ar reģistrācijām", capacity=30)
    _db.session.add_all(
        [
            Registration(
                event_id=event.id,
                status=RegistrationStatus.CONFIRMED,
                name="A",
                email="a1@example.lv",
                party_size=3,
            ),
            Registration(
                event_id=event.id,
                status=RegistrationStatus.CONFIRMED,
                name="B",
                email="b1@example.lv",
                party_size=2,
            ),
            Registration(
                event_id=event.id,
                status=RegistrationStatus.CANCELLED,
                name="C",
                email="c1@example.lv",
                party_size=4,
            ),
            Registration(
                event_id=event.id,
                status=RegistrationStatus.WAITLISTED,
                name="D",
                email="d1@example.lv",
                party_size=1,
            ),
        ]
    )
    _db.session.commit()
    factories.event(world.org_b, in_days(10), title="Citas organizācijas pasākums")
    login(client, world.organiser_a.email)
    body = text_of(client.get("/manage/"))
    assert "Ar reģistrācijām" in body
    assert "Citas organizācijas pasākums" not in body
    row = body[body.index("Ar reģistrācijām") :].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in row.split("</td>")]
    assert "5" in cells and "30" in cells and "1" in cells


def test_speakers_and_activities_are_managed_in_order(client, world):
    starts = datetime(2031, 11, 13, 12, 0, tzinfo=RIGA)
    event = factories.event(world.org_a, starts, hours=6)
    login(client, world.organiser_a.email)
    base = f"/manage/events/{event.id}"
    post_form(
        client,
        f"{base}/speakers/new",
        {
            "name": "Inga Priede",
            "role": "panellist",
            "title": "",
            "organisation": "",
            "position": "2",
        },
    )
    post_form(
        client,
        f"{base}/speakers/new",
        {
            "name": "Linda Medne",
            "role": "moderator",
            "title": "",
            "organisation": "",
            "position": "1",
        },
    )
    names = [s.name for s in _db.session.scalars(select(Speaker).order_by(Speaker.position))]
    assert names == ["Linda Medne", "Inga Priede"]
    response = post_form(
        client, f"{base}/speakers/new", {"name": "", "role": "panellist", "position": "3"}
    )
    assert response.status_code == 422 and 'id="name-error"' in text_of(response)

    ok = post_form(
        client,
        f"{base}/activities/new",
        {
            "title": "Eglīšu rotājumu darbnīca",
            "kind": "workshop",
            "description": "",
            "starts_at": "2031-11-13T13:30",
            "ends_at": "2031-11-13T14:30",
            "location": "Telts",
            "capacity": "20",
            "position": "1",
        },
    )
    assert ok.status_code == 302
    activity = _db.session.scalar(select(Activity))
    assert activity.capacity == 20 and activity.starts_at == datetime(
        2031, 11, 13, 13, 30, tzinfo=RIGA
    )
    outside = post_form(
        client,
        f"{base}/activities/new",
        {
            "title": "Vēlu vakarā",
            "kind": "concert",
            "starts_at": "2031-11-13T20:00",
            "ends_at": "2031-11-13T21:00",
            "position": "2",
        },
    )
    assert outside.status_code == 422 and 'id="starts_at-error"' in text_of(outside)

    speaker = _db.session.scalar(select(Speaker).where(Speaker.name == "Inga Priede"))
    post_form(client, f"{base}/speakers/{speaker.id}/delete", {}, form_url=base)
    post_form(client, f"{base}/activities/{activity.id}/delete", {}, form_url=base)
    assert [s.name for s in _db.session.scalars(select(Speaker))] == ["Linda Medne"]
    assert _db.session.scalar(select(Activity.id)) is None


def test_posts_without_csrf_token_are_refused(client, world, in_days):
    event = factories.event(world.org_a, in_days(10), status=EventStatus.DRAFT)
    login(client, world.organiser_a.email)
    response = client.post(f"/manage/events/{event.id}/publish")
    assert response.status_code == 400
    _db.session.refresh(event)
    assert event.status is EventStatus.DRAFT
    response = client.post("/login", data={"email": "a@example.lv", "password": factories.PASSWORD})
    assert response.status_code == 400


def test_a_new_event_starts_in_the_organisers_own_municipality(client, world):
    login(client, world.organiser_a.email)  # Tukums, after Daugavpils in the list
    form = text_of(client.get("/manage/events/new"))
    selected = form[form.index('id="municipality_id"') :]
    selected = selected[: selected.index("</select>")]
    assert f'<option selected value="{world.tukums.id}">' in selected


def test_publishing_after_the_deadline_warns_first(client, world, in_days, now):
    event = factories.event(
        world.org_a,
        in_days(10),
        status=EventStatus.DRAFT,
        registration_closes_at=now - timedelta(hours=1),
    )
    login(client, world.organiser_a.email)
    page = f"/manage/events/{event.id}"
    response = post_form(client, f"{page}/publish", {}, form_url=page)
    assert response.status_code == 200
    assert "nobody can register" not in text_of(response)  # it speaks Latvian
    assert "neviens nevarēs pieteikties" in text_of(response)
    _db.session.refresh(event)
    assert event.status is EventStatus.DRAFT  # nothing went live without asking
    response = post_form(client, f"{page}/publish", {"confirm": "yes"}, form_url=page)
    assert response.status_code == 302
    _db.session.refresh(event)
    assert event.status is EventStatus.PUBLISHED
