"""Names found as people type them, and the ticket's short booking code (folding.py,
services/checkin.py, services/registration_lists.py), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from eventsvc.extensions import db as _db
from eventsvc.folding import fold, prefix_range, search_terms, search_text
from eventsvc.models import (
    Registration,
    RegistrationSearchTerm,
    RegistrationStatus,
    normalise_booking_code,
)
from eventsvc.models.registrations import BOOKING_CODE_ALPHABET
from eventsvc.services import checkin as door
from eventsvc.services import name_search, registration_lists
from eventsvc.services import registration as rules
from eventsvc.services.checkin import Result
from eventsvc.services.privacy import anonymise_registration, purge

from . import factories
from .conftest import login, post_form

NAMES = (
    "Jānis Bērziņš",
    "Anna Bērziņa",
    "Ilze Liepiņa",
    "Gunārs Ozols",
    "Фёдор Алексеев",
    "Ģirts Ķēniņš",
    "Zane Ozola-Kalniņa",
    "Berzins Pēteris",  # typed without diacritics when registering: found with them too
)


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(1), capacity=100)


@pytest.fixture
def people(event, now):
    registered = {}
    for i, name in enumerate(NAMES):
        registered[name] = rules.register(
            event.id,
            factories.registration_request(name=name, phone=f"+371 2912 34{i:02d}"),
            now,
        ).registration
    _db.session.commit()
    return registered


def found(event, query: str) -> list[str]:
    return [r.name for r, _ in door.door_list(event, query)]


def test_folding_ignores_case_and_diacritics_both_ways():
    assert fold("Bērziņš") == fold("BERZINS") == "berzins"
    assert fold("Фёдор") == fold("ФЕДОР") == "федор"
    assert fold("Ģirts Ķēniņš Łukasz Øystein") == "girts kenins lukasz oystein"
    assert search_text("Anna Anna Bērziņa", "+371 2000-0001", "K7M3QX") == (
        " anna berzina 37120000001 20000001 k7m3qx"
    )
    assert prefix_range("berz") == ("berz", "ber{")
    assert search_terms("  +371 2912 3401 ") == ["37129123401"]
    assert search_terms("50%_off Bē") == ["50", "off", "be"]  # no LIKE wildcards get through


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("berzins", ["Berzins Pēteris", "Jānis Bērziņš"]),
        ("bērziņ", ["Anna Bērziņa", "Berzins Pēteris", "Jānis Bērziņš"]),
        ("BERZINA", ["Anna Bērziņa"]),
        ("liepina", ["Ilze Liepiņa"]),
        ("GUNARS", ["Gunārs Ozols"]),
        ("федор", ["Фёдор Алексеев"]),
        ("Фёд але", ["Фёдор Алексеев"]),
        ("girts ken", ["Ģirts Ķēniņš"]),
        ("kalnina", ["Zane Ozola-Kalniņa"]),  # a word of a double surname
        ("oz", ["Gunārs Ozols", "Zane Ozola-Kalniņa"]),
        ("anna bērz", ["Anna Bērziņa"]),
        ("nna", []),  # words are found by their beginning, not anywhere inside
        ("zzz", []),
    ],
)
def test_door_search_folds_names(db, event, people, query, expected):
    assert sorted(found(event, query)) == expected


def test_door_search_finds_phone_digits_and_booking_codes(db, event, people):
    anna = people["Anna Bērziņa"]  # +371 2912 3401
    for query in ("29123401", "2912 3401", "+371 29123401", "371 2912 34 01", "+37129123401"):
        assert found(event, query) == ["Anna Bērziņa"], query
    assert len(found(event, "2912")) == len(NAMES)  # the beginning of every number
    assert found(event, anna.booking_code.lower()) == ["Anna Bērziņa"]
    assert "Anna Bērziņa" in found(event, anna.booking_code[:4])


def terms_of(registration) -> list[str]:
    return sorted(
        _db.session.scalars(
            select(RegistrationSearchTerm.term).where(
                RegistrationSearchTerm.registration_id == registration.id
            )
        )
    )


def test_search_terms_follow_changes_and_erasure(db, world, event, people, now):
    gunars = people["Gunārs Ozols"]
    code = gunars.booking_code.lower()
    assert terms_of(gunars) == sorted(["gunars", "ozols", "37129123403", "29123403", code])
    gunars.name = "Gunārs Priede"
    gunars.phone = "+371 2777 7777"
    _db.session.commit()
    assert found(event, "priede") == ["Gunārs Priede"] and found(event, "ozols") == []
    assert found(event, "27777777") == ["Gunārs Priede"]
    assert terms_of(gunars) == sorted(["gunars", "priede", "37127777777", "27777777", code])
    # A scan changes the registration, not its words: no work for the search.
    door.check_in_ticket(event, gunars.ticket_secret, world.organiser_a, now)
    _db.session.commit()
    assert terms_of(gunars) == sorted(["gunars", "priede", "37127777777", "27777777", code])
    # Erased through the manage link: found by nothing.
    anonymise_registration(people["Ilze Liepiņa"], now)
    _db.session.commit()
    assert terms_of(people["Ilze Liepiņa"]) == [] and found(event, "liepina") == []
    # Erased by the retention purge (SQL, not the model): the same.
    past = factories.event(world.org_a, now.replace(year=now.year - 1), title="Pagātne")
    old = Registration(
        event_id=past.id,
        status=RegistrationStatus.CONFIRMED,
        name="Vecā Vārdiņa",
        phone="+371 2666 6666",
    )
    _db.session.add(old)
    _db.session.commit()
    assert terms_of(old) == sorted(
        ["veca", "vardina", "37126666666", "26666666", old.booking_code.lower()]
    )
    assert [r.name for r, _ in door.door_list(past, "vardina")] == ["Vecā Vārdiņa"]
    purge(now, retention_days=90)
    _db.session.expire_all()
    assert terms_of(old) == [] and door.door_list(past, "vardina") == []


def test_the_organisers_list_searches_the_same_way(db, world, event, people, now):
    rules.register(
        event.id, factories.registration_request(name="Ilga", email="ilga.x@pasts.lv"), now
    )
    _db.session.commit()

    def listed(query):
        return sorted(
            r.name
            for r in _db.session.scalars(registration_lists.registrations_query(event, query))
        )

    assert listed("berzins") == ["Berzins Pēteris", "Jānis Bērziņš"]
    assert listed("LIEPINA") == ["Ilze Liepiņa"]
    assert listed("федор") == ["Фёдор Алексеев"]
    assert listed("29123403") == ["Gunārs Ozols"]
    assert listed("ilga.x@pasts") == listed("pasts.lv") == ["Ilga"]  # any part of the email


def test_the_page_and_the_api_search_without_diacritics(client, world, event, people):
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}/checkin?q=liepina").get_data(as_text=True)
    assert "Ilze Liepiņa" in page and "Gunārs" not in page
    empty = client.get(f"/manage/events/{event.id}/checkin?q=nav+tada").get_data(as_text=True)
    assert "Nothing found for “nav tada”." in empty or "nekas nav atrasts" in empty
    api = client.get(f"/api/v1/events/{event.id}/attendees?q=GUNARS").json["attendees"]
    assert [a["name"] for a in api] == ["Gunārs Ozols"]


def test_a_word_typed_is_one_range_of_the_search_index(db, event, people):
    """The door's query finds each word typed by its beginning in the (event_id, term) index:
    the matching entries are read, not all of a big event's registrations."""
    (_, condition), *_ = name_search.conditions(event.id, "berz")
    subquery = condition.right.element  # registration ids IN (SELECT … FROM the terms)
    compiled = str(subquery.compile(_db.engine, compile_kwargs={"literal_binds": True}))
    if _db.engine.dialect.name == "sqlite":
        plan = " ".join(
            str(row) for row in _db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
        assert (
            "COVERING INDEX ix_registration_search_terms_event_term (event_id=? AND term>? AND term<?)"
            in plan
        )
    else:
        _db.session.execute(text("SET LOCAL enable_seqscan = off"))  # a few test rows
        plan = " ".join(row[0] for row in _db.session.execute(text(f"EXPLAIN {compiled}")))
        _db.session.rollback()
        assert "ix_registration_search_terms_event_term" in plan
        assert "term >= 'berz'" in plan and "term < 'ber{'" in plan


# --- the booking code -----------------------------------------------------------------------


def test_booking_codes_are_short_unambiguous_and_unique_per_event(db, world, event, people):
    codes = [r.booking_code for r in people.values()]
    assert all(re.fullmatch(f"[{BOOKING_CODE_ALPHABET}]{{6}}", c) for c in codes)
    assert not set("01OIL") & set(BOOKING_CODE_ALPHABET)
    assert len(set(codes)) == len(codes)
    assert normalise_booking_code(" k7m-3qx ") == "K7M3QX"
    assert normalise_booking_code("K7M3Q0") is None  # 0 is never in a code
    # The database itself refuses a second registration with the same code at one event.
    twin = Registration(
        event_id=event.id,
        status=RegistrationStatus.CONFIRMED,
        name="Dvīnis",
        email="dvinis@example.lv",
        booking_code=codes[0],
    )
    _db.session.add(twin)
    with pytest.raises(IntegrityError):
        _db.session.commit()
    _db.session.rollback()


def test_a_drawn_code_the_event_has_already_is_drawn_again(db, event, people, now, monkeypatch):
    taken = people["Anna Bērziņa"].booking_code
    draws = iter([taken, taken, "ABCDEF"])
    monkeypatch.setattr(rules, "new_booking_code", lambda: next(draws))
    late = rules.register(event.id, factories.registration_request(name="Vēlāk"), now)
    _db.session.commit()
    assert late.registration.booking_code == "ABCDEF"


def test_the_door_accepts_a_typed_booking_code(db, world, event, people, in_days, now):
    anna = people["Anna Bērziņa"]
    user = world.organiser_a
    typed = f" {anna.booking_code[:3].lower()}-{anna.booking_code[3:]} "
    first = door.check_in_ticket(event, typed, user, now)
    assert first.result is Result.CHECKED_IN and first.registration.id == anna.id
    assert door.check_in_ticket(event, anna.booking_code, user, now).result is Result.ALREADY
    # A code of another event is not this event's: refused, whoever has it there.
    other = factories.event(world.org_a, in_days(2), title="Cits")
    elsewhere = rules.register(
        other.id, factories.registration_request(name="Citur Esošā"), now
    ).registration
    elsewhere.booking_code = "XYZ234"  # a code this event does not have
    _db.session.commit()
    assert "XYZ234" not in {r.booking_code for r in people.values()}
    refused = door.check_in_ticket(event, "xyz234", user, now)
    assert refused.result is Result.UNKNOWN and "XYZ234" in refused.message()
    assert door.check_in_ticket(other, "xyz234", user, now).result is Result.CHECKED_IN
    assert door.check_in_ticket(event, "K7M3Q0", user, now).result is Result.MALFORMED


def test_the_check_in_api_and_page_accept_a_booking_code(client, world, event, people, in_days):
    anna, janis = people["Anna Bērziņa"], people["Jānis Bērziņš"]
    other = factories.event(world.org_a, in_days(2), title="Cits")
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}/checkin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    url = f"/api/v1/events/{event.id}/checkins"
    ok = client.post(url, json={"code": anna.booking_code.lower()}, headers={"X-CSRFToken": token})
    assert ok.json["result"] == "checked_in" and ok.json["attendee"]["name"] == "Anna Bērziņa"
    # The same code typed at another event's door finds nothing there.
    elsewhere = client.post(
        f"/api/v1/events/{other.id}/checkins",
        json={"code": janis.booking_code},
        headers={"X-CSRFToken": token},
    )
    assert elsewhere.json["result"] == "unknown_ticket" and not elsewhere.json["ok"]
    form = post_form(
        client,
        f"/manage/events/{event.id}/checkin",
        {"action": "code", "code": janis.booking_code},
    ).get_data(as_text=True)
    assert 'class="result result-ok"' in form and "Jānis Bērziņš" in form


def test_the_resident_sees_the_booking_code_on_ticket_manage_page_and_mail(
    client, world, event, now
):
    from eventsvc.models import OutboxMessage
    from eventsvc.services.mailer import compose

    outcome = rules.register(
        event.id, factories.registration_request(name="Anna", email="anna@example.lv"), now
    )
    _db.session.commit()
    r = outcome.registration
    assert r.booking_code in client.get(f"/r/{r.manage_token}").get_data(as_text=True)
    assert r.booking_code in client.get(f"/r/{r.manage_token}/ticket").get_data(as_text=True)
    message = _db.session.scalar(select(OutboxMessage).where(OutboxMessage.registration_id == r.id))
    mail = compose(message)
    assert r.booking_code in mail.body and r.booking_code in mail.html
