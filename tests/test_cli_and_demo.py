"""`flask users …` and `flask demo`: the newcomer's first minutes."""

from __future__ import annotations

from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Event, Role, User
from eventsvc.services.demo import DEMO_PASSWORD

from .conftest import login


def test_users_create_and_list(runner, world):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Jana@Cesis.lv",
            "--name",
            "Jana",
            "--role",
            "organiser",
            "--organisation",
            "tukums-sd",
            "--organisation",
            "daugavpils-sd",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = _db.session.scalar(select(User).where(User.email == "jana@cesis.lv"))
    assert user.role is Role.ORGANISER
    assert {o.slug for o in user.organisations} == {"tukums-sd", "daugavpils-sd"}
    assert user.check_password("long enough pw")
    listing = runner.invoke(args=["users", "list"])
    assert (
        "jana@cesis.lv" in listing.output
        and "daugavpils-sd,tukums-sd" in listing.output.replace(", ", ",")
    )


def test_users_create_refuses_bad_input_clearly(runner, world):
    cases = [
        (
            ["--email", "a@example.lv", "--role", "admin", "--password", "long enough pw"],
            "already exists",
        ),
        (
            ["--email", "x@example.lv", "--role", "organiser", "--password", "long enough pw"],
            "organisation",
        ),
        (["--email", "x@example.lv", "--role", "admin", "--password", "short"], "10"),
        (
            [
                "--email",
                "x@example.lv",
                "--role",
                "organiser",
                "--organisation",
                "nowhere",
                "--password",
                "long enough pw",
            ],
            "nowhere",
        ),
    ]
    for args, expected in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0, args
        assert expected in result.output, (args, result.output)
    assert _db.session.scalar(select(User).where(User.email == "x@example.lv")) is None


def test_demo_loads_once_and_shows_tume_and_krizi(runner, client):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "ministrija@demo.eventsvc.lv" in result.output and DEMO_PASSWORD in result.output
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    assert runner.invoke(args=["demo"]).exit_code != 0

    calendar = client.get("/").get_data(as_text=True)
    assert "Sociālais darbs kopienā – kā kopā iet tālāk" in calendar
    assert "Križu apkaimes pagalma svētki" in calendar
    assert "Kopienas satikšanās pie kamīna" not in calendar  # the Cēsis draft

    tume = _db.session.scalar(select(Event).where(Event.title.like("Sociālais darbs kopienā%")))
    page = client.get(f"/events/{tume.id}").get_data(as_text=True)
    for name in (
        "Linda Medne",
        "Inga Priede",
        "Ina Balgalve",
        "Ārija Martukāne",
        "Inese Šubēvica",
        "Aivars Damroze",
        "Liesma Ose",
    ):
        assert name in page
    assert "Reģistrācija atvērta līdz" in page and "(ieskaitot)" in page
    assert "Tumes kultūras nams" in page

    festival = _db.session.scalar(
        select(Event).where(Event.title == "Križu apkaimes pagalma svētki")
    )
    assert [a.capacity for a in festival.activities if a.kind.value == "workshop"] == [8, 20, 12]
    assert {a.kind.value for a in festival.activities} == {"workshop", "contest", "concert"}
    # Russian and English text for both, the festival's activities and the panel's titles.
    for event in (tume, festival):
        for name in event.TRANSLATED:
            assert event.text(name, "ru").lang == "ru" and event.text(name, "en").lang == "en"
    assert all(a.title_ru and a.title_en for a in festival.activities)
    assert all(s.title_ru and s.title_en for s in tume.speakers)
    russian = client.get(f"/events/{tume.id}", headers={"Accept-Language": "ru"})
    assert '<h1 lang="ru">Социальная работа в общине: как идти дальше вместе</h1>' in (
        russian.get_data(as_text=True)
    )
    formats = {
        e.format.value
        for e in _db.session.scalars(select(Event).where(Event.title.like("Mācības%")))
    }
    assert formats == {"in_person", "online"}

    # Residents have registered already, so organisers' lists and the mailbox are not empty.
    from eventsvc.services.registration import availability

    places = availability(tume)
    assert (places.confirmed_people, places.online_people) == (
        10,
        3,
    )  # watching online takes no seat
    card_workshop = availability(festival).activities[festival.activities[0].id]
    # Full, with a party waiting for it that keeps its place at the festival.
    assert (card_workshop.taken, card_workshop.left, card_workshop.waiting_parties) == (8, 0, 1)
    assert availability(festival).places_left == 200 - 13

    login(client, "tukums-sd@demo.eventsvc.lv", DEMO_PASSWORD)  # every printed login works
    assert client.get("/manage/").status_code == 200


def test_demo_refuses_in_production(app, runner):
    app.config["ENV_NAME"] = "production"
    try:
        result = runner.invoke(args=["demo"])
    finally:
        app.config["ENV_NAME"] = "development"
    assert result.exit_code != 0 and "production" in result.output
    assert _db.session.scalar(select(Event.id)) is None
