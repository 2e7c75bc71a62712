"""Needs known in advance: accessibility needs ticked from a fixed list (eventsvc/needs.py),
stored, changed, shown at the door and in the organiser's lists, counted for the organisers
(the event page and the digest the day before) and, anonymously, in the Ministry's totals,
where a small count is hidden by the minimum group size."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time, timedelta

import jsonschema
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    EventStats,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
)
from eventsvc.needs import ALL_BITS, BITS, NEEDS, Need, mask_of, needs_of, needs_text
from eventsvc.services import checkin as door
from eventsvc.services import mailer, privacy, stats
from eventsvc.services import registration as rules
from eventsvc.services.disclosure import MIN_GROUP
from eventsvc.services.needs_digest import event_needs, queue_digest
from eventsvc.services.registration import RegistrationChange
from eventsvc.services.stats import GroupBy, StatsFilter
from eventsvc.timezones import RIGA, to_riga
from eventsvc.web.api.openapi import SPEC

from . import factories
from .conftest import CSRF_RE, login

W, H, S, E, A, T, C = NEEDS  # wheelchair, hearing loop, sign language … childcare


def register(event, now, needs=(), written="", party_size=1, **fields):
    request = factories.registration_request(
        access_needs=list(needs), needs=written, party_size=party_size, **fields
    )
    registration = rules.register(event.id, request, now).registration
    _db.session.commit()
    return registration


def counters(event) -> dict[Need, int]:
    return event_needs(event.id).counts


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=20)


def tomorrow_at(now, hour=13) -> datetime:
    return datetime.combine(to_riga(now).date() + timedelta(days=1), time(hour), tzinfo=RIGA)


# --- the list and how it is stored ----------------------------------------------------------


def test_each_need_has_a_bit_of_its_own_and_words_in_every_language(app):
    assert len({BITS[n] for n in NEEDS}) == len(NEEDS) == 7
    assert ALL_BITS == 127 and needs_of(mask_of(["childcare", Need.WHEELCHAIR])) == [W, C]
    with app.test_request_context():
        words = {}
        for language in ("lv", "ru", "en"):
            with force_locale(language):
                words[language] = [str(rules.need_list.LABELS[n]) for n in NEEDS]
    assert words["en"][0] == "Wheelchair access" and words["lv"][0] == "Piekļuve ratiņkrēslā"
    assert words["ru"][1] == "Индукционная петля"
    for language in ("lv", "ru"):  # every need translated, none left in English
        assert all(a != b for a, b in zip(words[language], words["en"], strict=True))


def test_the_database_refuses_a_bit_that_is_no_need(event, now):
    from sqlalchemy.exc import IntegrityError

    registration = register(event, now, [W])
    with pytest.raises(IntegrityError), _db.engine.begin() as conn:
        conn.execute(
            Registration.__table__.update()
            .where(Registration.id == registration.id)
            .values(needs_mask=ALL_BITS + 1)
        )


# --- stored, changed, shown --------------------------------------------------------------


def test_ticked_needs_are_stored_with_the_words_beside_them(event, now):
    registration = register(event, now, [H, W, H], "vieta pie izejas")
    assert registration.access_needs == [W, H]  # once each, in the list's order
    assert registration.needs_mask == BITS[W] | BITS[H]
    with force_locale("lv"):
        assert needs_text(registration) == "Piekļuve ratiņkrēslā; Dzirdes cilpa; vieta pie izejas"
    assert counters(event)[W] == 1 and event_needs(event.id).written == 1


def test_the_registration_form_stores_ticks_and_refuses_an_unknown_one(client, event):
    token = CSRF_RE.search(client.get(f"/events/{event.id}").get_data(as_text=True)).group(1)
    form = {
        "csrf_token": token,
        "name": "Anna Bērziņa",
        "email": "anna@example.lv",
        "party_size": "2",
        "language": "lv",
        "consent": "y",
    }
    refused = client.post(
        f"/events/{event.id}/register", data={**form, "access_needs": ["wheelchair", "jetpack"]}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="access_needs-error"' in page
    assert (
        'href="#access_needs"' in page and '<fieldset id="access_needs"' in page
    )  # summary → field
    assert _db.session.scalar(select(func.count(Registration.id))) == 0
    done = client.post(
        f"/events/{event.id}/register",
        data={**form, "access_needs": ["wheelchair", "assistant"], "needs": "suns-pavadonis"},
    )
    assert done.status_code == 302
    stored = _db.session.scalar(select(Registration))
    assert (stored.access_needs, stored.needs) == ([W, A], "suns-pavadonis")


def test_the_form_offers_the_needs_as_tick_boxes_in_a_fieldset_in_the_pages_language(client, event):
    client.set_cookie("lang", "ru")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    fieldset = page.split('class="field needs-field')[1].split("</fieldset>")[0]
    assert "<legend>Особые потребности (необязательно)</legend>" in fieldset
    assert fieldset.count('type="checkbox"') == len(NEEDS)
    assert 'value="sign_language"' in fieldset and "Переводчик жестового языка" in fieldset


def test_the_private_link_changes_the_needs_and_the_counters_follow(client, event, now):
    registration = register(event, now, [W], email="ilze@example.lv")
    page = client.get(f"/r/{registration.manage_token}").get_data(as_text=True)
    assert re.search(r'value="wheelchair"[^>]*checked|checked[^>]*value="wheelchair"', page)
    token = CSRF_RE.search(page).group(1)
    response = client.post(
        f"/r/{registration.manage_token}/change",
        data={
            "csrf_token": token,
            "party_size": "1",
            "access_needs": ["hearing_loop", "transport"],
            "needs": "",
            "email": "ilze@example.lv",
            "phone": "",
            "language": "lv",
        },
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert registration.access_needs == [H, T]
    assert (counters(event)[W], counters(event)[H], counters(event)[T]) == (0, 1, 1)
    assert stats.counter_drift() == {}
    message = _db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "registration_changed")
    ).one()
    assert message.payload["fields"] == {"needs": None}  # "Accessibility needs" changed
    # Unticking all of them is a change too.
    outcome = rules.change_registration(registration, RegistrationChange(access_needs=[]), now)
    _db.session.commit()
    assert outcome.changed == ("needs",) and registration.needs_mask == 0
    assert not any(counters(event).values())


def test_the_organiser_registers_a_caller_with_needs_and_sees_them(client, world, event):
    login(client, world.organiser_a.email)
    url = f"/manage/events/{event.id}/registrations/new"
    token = CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "name": "Jānis Ozols",
            "phone": "+371 20000001",
            "party_size": "1",
            "access_needs": ["easy_read", "transport"],
            "language": "lv",
            "consent": "y",
        },
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Materiāli vieglajā valodā; Palīdzība ar transportu" in page
    listing = client.get(f"/manage/events/{event.id}/registrations").get_data(as_text=True)
    assert "Materiāli vieglajā valodā, Palīdzība ar transportu" in listing
    sheet = client.get(
        f"/manage/events/{event.id}/attendance-sheet",
        headers={"Sec-Fetch-Site": "same-origin"},
    ).get_data(as_text=True)
    assert "Materiāli vieglajā valodā; Palīdzība ar transportu" in sheet


def test_the_csv_carries_the_needs_as_words(client, world, event, now):
    register(event, now, [S], "+ratiņkrēsls", name="Olga Petrova")
    login(client, world.organiser_a.email)
    client.set_cookie("lang", "ru")
    response = client.get(
        f"/manage/events/{event.id}/registrations.csv", headers={"Sec-Fetch-Site": "same-origin"}
    )
    # the CSV for Latvian (and Russian) Excel: semicolons
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    column = rows[0].index("Особые потребности")
    assert rows[1][column] == "Переводчик жестового языка; +ratiņkrēsls"


def test_the_door_shows_the_needs_as_words(client, world, event, now):
    family = register(event, now, [W, A], "uzbrauktuve", party_size=3, name="Aija Liepiņa")
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}/checkin?q=aija").get_data(as_text=True)
    assert (
        "<strong>Vajadzības:</strong> Piekļuve ratiņkrēslā; Līdzi nāk asistents vai aprūpētājs;"
        " uzbrauktuve" in page
    )
    client.set_cookie("lang", "en")
    found = client.get(f"/api/v1/events/{event.id}/attendees?q=aija").json["attendees"][0]
    assert found["access_needs"] == ["wheelchair", "assistant"]
    assert found["needs_text"] == (
        "Wheelchair access; An assistant or carer comes along; uzbrauktuve"
    )
    offline = client.get(f"/api/v1/events/{event.id}/checkins/offline").json["tickets"][0]
    assert offline["needs_text"] == found["needs_text"]
    scanned = client.post(
        f"/api/v1/events/{event.id}/checkins",
        json={"code": family.booking_code, "nonce": "needs-door-1"},
        headers={"X-CSRFToken": CSRF_RE.search(page).group(1)},
    )
    assert scanned.json["attendee"]["needs_text"] == found["needs_text"]
    with _db.session.no_autoflush:
        assert door.offline_list(event, world.organiser_a)[0]["access_needs"] == [
            "wheelchair",
            "assistant",
        ]


def test_anonymising_keeps_the_ticks_for_the_totals_and_erases_the_words(event, now):
    registration = register(event, now, [W, S], "mana meita Anna")
    event.starts_at, event.ends_at = now - timedelta(days=3), now - timedelta(days=3, hours=-2)
    _db.session.commit()  # over: erasing gives up no place, the totals keep the party
    before = stats.headline(StatsFilter(), None, now), counters(event)
    assert before[1][W] == 1
    privacy.erase_registration(registration, now)
    _db.session.commit()
    _db.session.refresh(registration)
    assert (registration.needs, registration.access_needs) == ("", [W, S])
    assert (stats.headline(StatsFilter(), None, now), counters(event)) == before
    assert stats.counter_drift() == {}


# --- the API ---------------------------------------------------------------------------


def _schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}


def test_the_api_takes_known_needs_and_shows_them(client, event):
    response = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={
            "name": "Jānis",
            "phone": "+371 20000002",
            "consent": True,
            "access_needs": ["childcare", "wheelchair"],
            "needs": "divi bērni",
        },
    )
    assert response.status_code == 201
    token = response.json["manage_url"].rsplit("/", 1)[1]
    shown = client.get(f"/api/v1/registrations/{token}").json
    jsonschema.validate(shown, _schema("Registration"))
    assert (shown["access_needs"], shown["needs"]) == (["wheelchair", "childcare"], "divi bērni")


@pytest.mark.parametrize(
    "value", [["wheelchair", "jetpack"], ["WHEELCHAIR"], [1], [None], [["wheelchair"]]]
)
def test_the_api_answers_an_unknown_need_with_400_and_a_message(client, event, value):
    response = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": "Jānis", "email": "j@example.lv", "consent": True, "access_needs": value},
    )
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "unknown_need"
    assert "wheelchair, hearing_loop" in error["message"]  # the known ones, to fix the list
    assert "access_needs" in error["fields"]
    assert _db.session.scalar(select(func.count(Registration.id))) == 0


def test_the_api_says_so_in_latvian_and_wants_a_list(client, event):
    client.set_cookie("lang", "lv")
    unknown = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": "J", "email": "j@example.lv", "consent": True, "access_needs": ["x"]},
    )
    assert unknown.json["error"]["message"].startswith("Nezināma piekļūstamības vajadzība: x.")
    not_a_list = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": "J", "email": "j@example.lv", "consent": True, "access_needs": "wheelchair"},
    )
    assert not_a_list.status_code == 422 and "access_needs" in not_a_list.json["error"]["fields"]


def test_the_api_changes_the_needs_through_the_private_token(client, event, now):
    registration = register(event, now, [W], email="ilze@example.lv")
    url = f"/api/v1/registrations/{registration.manage_token}"
    refused = client.patch(url, json={"access_needs": ["hearing_loop", "nope"]})
    assert (refused.status_code, refused.json["error"]["code"]) == (400, "unknown_need")
    wrong = client.patch(url, json={"party_size": 0, "colour": "red"})
    assert wrong.status_code == 422 and {"party_size", "colour"} <= set(
        wrong.json["error"]["fields"]
    )
    _db.session.expire_all()
    assert registration.access_needs == [W]
    changed = client.patch(url, json={"access_needs": ["hearing_loop"], "needs": "cilpa"})
    assert changed.status_code == 200
    jsonschema.validate(changed.json, _schema("Registration"))
    assert (changed.json["access_needs"], changed.json["needs"]) == (["hearing_loop"], "cilpa")
    assert (counters(event)[W], counters(event)[H]) == (0, 1)
    same = client.patch(url, json={})  # nothing sent: nothing changes
    assert same.status_code == 200 and same.json["access_needs"] == ["hearing_loop"]
    rules.cancel_registration(registration, now)
    _db.session.commit()
    assert client.patch(url, json={"access_needs": []}).status_code == 409


def test_the_openapi_document_lists_the_needs_as_an_enum():
    names = [n.value for n in NEEDS]
    request = SPEC["components"]["schemas"]["RegistrationRequest"]["properties"]["access_needs"]
    assert request["anyOf"][1]["items"]["enum"] == names
    change = SPEC["paths"]["/registrations/{token}"]["patch"]
    assert set(change["responses"]) >= {"200", "400", "404", "409", "422"}
    totals = SPEC["components"]["schemas"]["Totals"]["properties"]["needs"]
    assert list(totals["properties"]) == names and "hidden" in totals["description"]


# --- counted for the organisers: the event page and the digest --------------------------


@pytest.fixture
def tomorrow(world, now):
    """Tomorrow's event: 3 wheelchair users (one a party of 3), 1 hearing loop, 2 assistants,
    one need written in words; a waiting and a cancelled party that are not counted."""
    event = factories.event(world.org_a, tomorrow_at(now), capacity=6, title="Rītdienas diskusija")
    register(event, now, [W, A], party_size=3)
    register(event, now, [W])
    register(event, now, [W, H, A], "suns-pavadonis")
    register(event, now, [], party_size=1)
    register(event, now, [S], party_size=4)  # waits: no place yet, not counted
    cancelled = register(event, now, [T])
    rules.cancel_registration(cancelled, now)
    _db.session.commit()
    return event


def test_the_event_page_counts_the_needs_at_any_time(client, world, tomorrow):
    assert counters(tomorrow) == {W: 3, H: 1, S: 0, E: 0, A: 2, T: 0, C: 0}
    login(client, world.organiser_a.email)
    page = re.sub(r"\s+", " ", client.get(f"/manage/events/{tomorrow.id}").get_data(as_text=True))
    section = page.split('id="needs"')[1].split("</section>")[0]
    assert '<th scope="row">Piekļuve ratiņkrēslā</th><td class="num">3</td>' in section
    assert '<th scope="row">Dzirdes cilpa</th><td class="num">1</td>' in section
    assert 'Līdzi nāk asistents vai aprūpētājs</th><td class="num">2</td>' in section
    assert "Zīmju valodas tulks" not in section and "Palīdzība ar transportu" not in section
    assert "1 reģistrācijā vēl citas vajadzības aprakstītas vārdos" in section
    assert "Dienu pirms pasākuma organizatori saņem šos skaitļus e-pastā." in section


@pytest.fixture
def organisers(world):
    """Organisation A's organisers: one without a language (Latvian), one who reads Russian;
    and accounts that get nothing: an inactive organiser, A's door volunteer, B's organiser."""
    russian = factories.user("ru@example.lv", Role.ORGANISER, [world.org_a])
    russian.language = "ru"
    factories.user("gone@example.lv", Role.ORGANISER, [world.org_a]).is_active_account = False
    factories.user("door@example.lv", Role.DOOR, [world.org_a])
    _db.session.commit()
    return world.organiser_a, russian


def test_the_digest_goes_once_to_each_organiser_in_their_language(
    app, world, tomorrow, organisers, now
):
    later = factories.event(world.org_a, tomorrow_at(now) + timedelta(days=2))
    register(later, now, [W])
    runner = app.test_cli_runner()
    first = runner.invoke(args=["mail", "needs-digest"])
    second = runner.invoke(args=["mail", "needs-digest"])
    assert first.exit_code == 0, first.output
    assert "queued 2 needs digests for 1 events" in first.output
    assert "queued 0 needs digests for 0 events" in second.output
    messages = _db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "needs_digest").order_by(OutboxMessage.id)
    ).all()
    assert [(m.recipient, m.language, m.registration_id) for m in messages] == [
        ("a@example.lv", "lv", None),
        ("ru@example.lv", "ru", None),
    ]
    latvian, russian = (mailer.compose(m) for m in messages)
    assert latvian.subject == "Rītdienas piekļūstamības vajadzības: Rītdienas diskusija"
    assert "- Piekļuve ratiņkrēslā: 3\n- Dzirdes cilpa: 1\n" in latvian.body
    assert "- Līdzi nāk asistents vai aprūpētājs: 2\n" in latvian.body
    assert "Zīmju valodas tulks" not in latvian.body  # only the waiting party asked for it
    assert f"/manage/events/{tomorrow.id}/registrations" in latvian.body
    assert "- Доступ для инвалидной коляски: 3" in russian.body
    assert "Индукционная петля" in russian.html and "Labdien" not in russian.body
    _db.session.refresh(tomorrow)
    assert tomorrow.needs_digest_at is not None


def test_a_digest_is_not_sent_for_nothing_nor_to_who_left(app, world, organisers, now):
    quiet = factories.event(world.org_a, tomorrow_at(now, 10), title="Bez vajadzībām")
    register(quiet, now, [])
    assert queue_digest(quiet, now) == 0  # nobody asked for anything: marked, no mail
    _db.session.commit()
    assert quiet.needs_digest_at is not None
    assert queue_digest(quiet, now) == 0

    asked = factories.event(world.org_a, tomorrow_at(now, 15), title="Ar vajadzībām")
    register(asked, now, [E])
    assert queue_digest(asked, now) == 2
    _db.session.commit()
    organisers[1].is_active_account = False  # left before the worker wrote the mail
    _db.session.commit()
    lv, ru = _db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "needs_digest").order_by(OutboxMessage.id)
    ).all()
    assert mailer.compose(ru) is None and "Materiāli vieglajā valodā: 1" in mailer.compose(lv).body


def test_choosing_a_language_on_the_site_sets_the_organisers_mail_language(client, world):
    assert world.organiser_a.language is None
    login(client, world.organiser_a.email)
    client.get("/language/ru?next=/manage/")
    _db.session.refresh(world.organiser_a)
    assert world.organiser_a.language == "ru"
    client.get("/language/xx")
    _db.session.refresh(world.organiser_a)
    assert world.organiser_a.language == "ru"


# --- the Ministry's totals: anonymous, small counts hidden ---------------------------------


@pytest.fixture
def national(world, in_days, now):
    """Tukums (org A) and Daugavpils (org B): wheelchair access 6 + 2, hearing loop 3 + 3,
    childcare 1 in Tukums only."""
    tukums = factories.event(world.org_a, in_days(5), capacity=100)
    daugavpils = factories.event(world.org_b, in_days(6), capacity=100)
    for _ in range(6):
        register(tukums, now, [W])
    for _ in range(2):
        register(daugavpils, now, [W])
    for event in (tukums, daugavpils):
        for _ in range(3):
            register(event, now, [H], party_size=2)
    register(tukums, now, [C])
    return tukums, daugavpils


def test_the_totals_hide_counts_under_the_minimum_group_size(national, now):
    assert MIN_GROUP == 5
    totals, needs = stats.summary(StatsFilter(), None, now)
    assert totals.registrations == 15
    assert (needs[W], needs[H], needs[C], needs[S]) == (8, 6, None, 0)  # 1 childcare: hidden
    rows = {
        r.label: r.needs for r in stats.breakdown(GroupBy.MUNICIPALITY, StatsFilter(), None, now)
    }
    # Daugavpils' 2 wheelchair users are hidden, and Tukums' 6 with them: 8 - 6 would tell.
    assert (rows["Tukuma novads"][W], rows["Daugavpils valstspilsēta"][W]) == (None, None)
    # 3 and 3 hearing loops are both under 5, but no figure is left to work them out from.
    assert (rows["Tukuma novads"][H], rows["Daugavpils valstspilsēta"][H]) == (None, None)
    assert rows["Tukuma novads"][S] == 0
    # One municipality alone: its own count is the headline's.
    one = StatsFilter(municipality_id=national[0].municipality_id)
    assert stats.summary(one, None, now)[1][W] == 6


def test_a_count_hidden_in_one_group_stays_hidden_where_the_others_are_big(world, in_days, now):
    events = [
        factories.event(world.org_a, in_days(5 + month * 31), capacity=100) for month in range(3)
    ]
    for event, n in zip(events, (6, 3, 3), strict=True):
        for _ in range(n):
            register(event, now, [W])
    months = stats.breakdown(GroupBy.MONTH, StatsFilter(), None, now)
    assert [r.needs[W] for r in months] == [6, None, None]  # the hidden rest on 6: safe


def test_the_api_totals_carry_the_needs_with_null_where_hidden(client, runner, world, national):
    token = runner.invoke(args=["users", "token", world.ministry.email]).output.strip()
    body = client.get(
        "/api/v1/stats/attendance?group_by=municipality",
        headers={"Authorization": f"Bearer {token}"},
    ).json
    assert (
        body["totals"]["needs"]["wheelchair"] == 8 and body["totals"]["needs"]["childcare"] is None
    )
    for group in body["groups"]:
        jsonschema.validate(group, _schema("Totals"))
        assert group["needs"]["wheelchair"] is None and group["needs"]["sign_language"] == 0


def test_the_needs_totals_page_shows_words_and_hides_small_counts(client, world, national):
    login(client, world.ministry.email)
    page = re.sub(r"\s+", " ", client.get("/stats/needs").get_data(as_text=True))
    headline = page.split('id="headline"')[1].split("</section>")[0]
    assert 'id="need-wheelchair"><dt>Piekļuve ratiņkrēslā</dt><dd class="figure">8</dd>' in headline
    assert (
        'id="need-childcare"><dt>Bērnu pieskatīšana</dt><dd class="figure"><span aria-hidden="true">‹5</span>'
        in headline
    )
    assert "Skaits, kas mazāks par 5, nav rādīts" in page
    assert "Ilze" not in page and "@example.lv" not in page
    dashboard = client.get("/stats/").get_data(as_text=True)
    assert 'href="/stats/needs"' in dashboard


def test_the_totals_are_counted_per_event_not_per_registration(national, now):
    """The needs are summed from the per-event counters in the totals' one query: the counters
    agree with a count of the rows, and a rebuild gives the same."""
    counted = _db.session.execute(
        select(func.sum(EventStats.needs_wheelchair), func.sum(EventStats.needs_hearing_loop))
    ).one()
    by_rows = _db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.needs_mask.op("&")(BITS[W]) != 0,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )
    assert tuple(counted) == (by_rows, 6)
    stats.rebuild_event_stats()
    assert stats.summary(StatsFilter(), None, now)[1][W] == 8


def test_moving_the_event_makes_the_digest_due_again(world, tomorrow, organisers, now):
    from eventsvc.services.events import EventData, update_event

    assert queue_digest(tomorrow, now) == 2
    _db.session.commit()
    data = EventData.from_event(tomorrow)
    data.starts_at += timedelta(days=7)
    data.ends_at += timedelta(days=7)
    update_event(world.organiser_a, tomorrow, data, now)
    _db.session.commit()
    assert tomorrow.needs_digest_at is None
    assert queue_digest(tomorrow, now + timedelta(days=7)) == 2  # the day before the new day


def test_the_totals_downloads_carry_the_needs_hidden_as_the_page_hides_them(
    client, world, in_days, now
):
    """By month: 6 wheelchair users in the first month (shown), 3 and 3 in the next two
    (hidden, as on the page): in the CSV and the XLSX, with the rule on the XLSX's "About"."""
    from openpyxl import load_workbook

    events = [
        factories.event(world.org_a, in_days(5 + month * 31), capacity=100) for month in range(3)
    ]
    for event, n in zip(events, (6, 3, 3), strict=True):
        for _ in range(n):
            register(event, now, [W])
    _db.session.commit()
    login(client, world.ministry.email)
    raw = client.get("/stats/month.csv", headers={"Sec-Fetch-Site": "same-origin"})
    rows = list(csv.reader(io.StringIO(raw.data.decode("utf-8-sig")), delimiter=";"))
    wheelchair = rows[0].index("Piekļuve ratiņkrēslā")
    assert [row[wheelchair] for row in rows[1:]] == ["6", "nav rādīts", "nav rādīts"]
    assert rows[0][-7:] == [
        "Piekļuve ratiņkrēslā",
        "Dzirdes cilpa",
        "Zīmju valodas tulks",
        "Materiāli vieglajā valodā",
        "Līdzi nāk asistents vai aprūpētājs",
        "Palīdzība ar transportu",
        "Bērnu pieskatīšana",
    ]

    book = load_workbook(io.BytesIO(client.get("/stats/month.xlsx").data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("Piekļuve ratiņkrēslā")] for row in sheet.iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [
        (6, "n"),
        ("nav rādīts", "s"),
        ("nav rādīts", "s"),
    ]
    about = [r for r in book.worksheets[1].iter_rows(values_only=True) if r and r[0]]
    rule = dict((r[0], r[1]) for r in about if len(r) > 1).get("Piekļuve ratiņkrēslā")
    assert rule and "nav rādīts" in rule and "5" in rule
