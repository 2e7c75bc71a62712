"""The public calendar and event pages, as a resident without an account sees them."""

from __future__ import annotations

from datetime import timedelta

from eventsvc.models import EventKind, EventStatus, TargetGroup
from eventsvc.timezones import end_of_riga_day, to_riga

from . import factories


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_calendar_lists_upcoming_published_events_soonest_first(client, world, in_days):
    later = factories.event(world.org_a, in_days(20), title="Vēlāk")
    sooner = factories.event(world.org_b, in_days(3), title="Drīzāk")
    factories.event(world.org_a, in_days(5), title="Melnraksts", status=EventStatus.DRAFT)
    factories.event(world.org_a, in_days(-5), title="Pagājis")
    body = text_of(client.get("/"))
    assert body.index(sooner.title) < body.index(later.title)
    assert "Melnraksts" not in body
    assert "Pagājis" not in body
    assert "2 pasākumi" in body  # the count, in Latvian plural


def test_calendar_cards_say_the_deadline_and_places_and_a_full_event_says_so(
    client, world, in_days, now
):
    from eventsvc.extensions import db as _db
    from eventsvc.services import registration as rules

    deadline_day = to_riga(in_days(6)).date()
    deadline = end_of_riga_day(deadline_day)
    roomy = factories.event(
        world.org_a, in_days(10), title="Brīvs", capacity=10, registration_closes_at=deadline
    )
    full = factories.event(world.org_a, in_days(11), title="Pilns", capacity=2)
    for event, people in ((roomy, 3), (full, 2)):
        rules.register(event.id, factories.registration_request(party_size=people), now)
    _db.session.commit()

    cards = text_of(client.get("/")).split('class="event-card"')[1:]
    roomy_card, full_card = (next(c for c in cards if title in c) for title in ("Brīvs", "Pilns"))
    assert f"Reģistrācija atvērta līdz {deadline_day.day}." in roomy_card
    assert "Brīvas vietas: 7 no 10" in roomy_card and "Reģistrācija atvērta<" in roomy_card
    assert "Pilns – rinda" in full_card and "Reģistrācija atvērta<" not in full_card
    assert "jaunie pieteikumi nonāk rindā" in full_card

    listed = {e["title"]: e for e in client.get("/api/v1/events").json["events"]}
    assert (listed["Brīvs"]["places_left"], listed["Brīvs"]["full"]) == (7, False)
    assert (listed["Pilns"]["places_left"], listed["Pilns"]["full"]) == (0, True)
    assert listed["Brīvs"]["registration_closes_at"] == deadline.isoformat()


def test_the_event_page_offers_a_register_link_at_its_top(client, world, in_days):
    event = factories.event(world.org_a, in_days(10), description="Garš apraksts.")
    body = text_of(client.get(f"/events/{event.id}"))
    jump = body.index('href="#register"')
    assert jump < body.index("Garš apraksts.") < body.index('id="register"')


def test_cancelled_event_stays_listed_and_says_so(client, world, in_days):
    factories.event(
        world.org_a, in_days(4), title="Atceltā diskusija", status=EventStatus.CANCELLED
    )
    body = text_of(client.get("/"))
    assert "Atceltā diskusija" in body
    assert "Atcelts" in body


def test_drafts_and_unknown_ids_are_404_for_the_public(client, world, in_days):
    draft = factories.event(world.org_a, in_days(5), status=EventStatus.DRAFT)
    never_public = factories.event(
        world.org_a, in_days(5), status=EventStatus.CANCELLED, published_at=None
    )
    for url in (
        f"/events/{draft.id}",
        f"/events/{draft.id}.ics",
        f"/events/{never_public.id}",
        "/events/999999",
        "/events/999999.ics",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Šī lapa neeksistē vai nav publiski pieejama." in text_of(response)


def test_event_page_shows_panel_place_map_and_deadline_in_latvian(client, world, in_days):
    from eventsvc.extensions import db
    from eventsvc.models import Speaker, SpeakerRole

    starts = in_days(10)
    deadline_day = to_riga(starts).date() - timedelta(days=1)
    event = factories.event(
        world.org_a, starts, registration_closes_at=end_of_riga_day(deadline_day), capacity=80
    )
    event.speakers.extend(
        [
            Speaker(name="Linda Medne", role=SpeakerRole.MODERATOR, position=0),
            Speaker(
                name="Inga Priede",
                title="domes priekšsēdētāja vietniece",
                role=SpeakerRole.PANELLIST,
                position=1,
            ),
        ]
    )
    db.session.commit()
    body = text_of(client.get(f"/events/{event.id}"))
    assert "Moderators" in body and "Linda Medne" in body
    assert "Inga Priede" in body and "domes priekšsēdētāja vietniece" in body
    assert "Pasta iela 1A" in body
    assert "openstreetmap.org/search?query=Pasta+iela+1A" in body
    assert f"Reģistrācija atvērta līdz {deadline_day.day}." in body
    assert "(ieskaitot)" in body
    assert '<html lang="lv" ' in body


def test_event_page_in_english_after_choosing_the_language(client, world, in_days):
    event = factories.event(world.org_a, in_days(10))
    response = client.get(f"/language/en?next=/events/{event.id}")
    assert response.status_code == 302 and response.location.endswith(f"/events/{event.id}")
    body = text_of(client.get(f"/events/{event.id}"))
    assert '<html lang="en" ' in body
    assert "Registration is open until the event starts." in body


def test_a_first_visit_follows_the_browsers_language_and_the_switcher_wins_after(
    client, world, in_days
):
    event = factories.event(world.org_a, in_days(10))
    russian = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    response = client.get(f"/events/{event.id}", headers=russian)
    assert '<html lang="ru" ' in text_of(response)
    assert "Accept-Language" in response.headers["Vary"]  # a cache must not mix languages
    # A language we don't have falls back to Latvian; so does no header at all.
    for headers in ({"Accept-Language": "de-DE,fr;q=0.8"}, {}):
        assert '<html lang="lv" ' in text_of(client.get(f"/events/{event.id}", headers=headers))
    client.get("/language/en")
    response = client.get(f"/events/{event.id}", headers=russian)
    assert '<html lang="en" ' in text_of(response)


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/language/en?next=https://evil.example/")
    assert response.location == "/"
    response = client.get("/language/en?next=//evil.example/")
    assert response.location == "/"


def test_past_and_not_yet_open_events_say_so(client, world, in_days):
    past = factories.event(world.org_a, in_days(-3))
    soon = factories.event(world.org_a, in_days(30), registration_opens_at=in_days(10))
    assert "Šis pasākums jau ir noticis." in text_of(client.get(f"/events/{past.id}"))
    opens = to_riga(soon.registration_opens_at)
    assert f"Reģistrācijas sākums: {opens.year}. gada {opens.day}." in text_of(
        client.get(f"/events/{soon.id}")
    )
    assert f"plkst. {opens:%H:%M}" in text_of(client.get(f"/events/{soon.id}"))


def test_calendar_filters_by_municipality_kind_target_group_and_dates(client, world, in_days):
    a = factories.event(
        world.org_a, in_days(2), title="Tukuma diskusija", target_groups=[TargetGroup.SENIORS]
    )
    b = factories.event(
        world.org_b,
        in_days(9),
        title="Križu svētki",
        kind=EventKind.FESTIVAL,
        target_groups=[TargetGroup.FAMILIES_DISABILITY, TargetGroup.EVERYONE],
    )
    c = factories.event(
        world.org_b,
        in_days(40),
        title="Daugavpils mācības",
        kind=EventKind.TRAINING,
        target_groups=[TargetGroup.PROFESSIONALS],
    )

    def titles(query: str) -> set[str]:
        body = text_of(client.get("/?" + query))
        return {e.title for e in (a, b, c) if e.title in body}

    assert titles("") == {a.title, b.title, c.title}
    assert titles(f"municipality={world.daugavpils.id}") == {b.title, c.title}
    assert titles("kind=festival") == {b.title}
    assert titles("target_group=families_disability") == {b.title}
    day_of_b = to_riga(b.starts_at).date()
    assert titles(f"date_from={day_of_b.isoformat()}&date_to={day_of_b.isoformat()}") == {b.title}
    assert titles(f"municipality={world.daugavpils.id}&kind=training") == {c.title}


def test_bad_filter_values_show_a_message_not_an_error(client, world, in_days):
    """A filter value not understood: the calendar page still, everything listed, with the
    message next to the filter, as a 400 (never an error page, never a 500)."""
    factories.event(world.org_a, in_days(2), title="Tukuma diskusija")
    for query in (
        "kind=party",
        "date_from=not-a-date",
        "municipality=abc",
        "date_from=2026-12-10&date_to=2026-12-01",
        "date_to=9999-12-31",
        "date_from=0001-01-01",
        "target_group=nobody",
    ):
        response = client.get("/?" + query)
        body = text_of(response)
        assert response.status_code == 400, query
        assert "error-message" in body and "Tukuma diskusija" in body, query
    for query in ("page=-3", "page=x"):  # not a filter: the first page
        assert client.get("/?" + query).status_code == 200, query


def test_calendar_is_paginated(app, client, world, in_days):
    per_page = app.config["EVENTS_PER_PAGE"]
    for i in range(per_page + 3):
        factories.event(world.org_a, in_days(1 + i), title=f"Pasākums numur {i:03d}")
    first = text_of(client.get("/"))
    second = text_of(client.get("/?page=2"))
    assert "Pasākums numur 000" in first and f"Pasākums numur {per_page:03d}" not in first
    assert f"Pasākums numur {per_page:03d}" in second and "Pasākums numur 000" not in second
    assert 'rel="next"' in first and 'rel="prev"' in second
