"""The Ministry sees totals and never a person: every route walked as the ministry user."""

from __future__ import annotations

import csv
import io
import re

import jsonschema

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, Registration, Speaker
from eventsvc.web.api.openapi import SPEC

from .conftest import login
from .test_stats import fixture  # noqa: F401  (the hand-computed fixture)

PERSONAL = re.compile(
    r"Ilze|Pēteris|Marija|Aija|Gunārs|Olga|Inta|Rasma|@example\.lv|\+37120000000|needs of"
)
# Reached only with a resident's private link, which the Ministry never holds.
PRIVATE_LINK_ROUTES = {
    "registration.manage",
    "registration.cancel",
    "registration.ticket",
    "registration.ticket_qr",
    "registration.registered",
    "registration.erase",
    "api.get_registration",
    "feedback.form",
    "registration.certificate",
    "static",
}


def readable(response) -> str:
    """A response's text; for a spreadsheet (a zip of XML), the text of all its parts."""
    if response.mimetype.startswith("application/vnd.openxmlformats"):
        import zipfile

        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    return response.get_data(as_text=True)


def test_every_route_walked_as_the_ministry_shows_no_person(app, client, world, fixture):  # noqa: F811
    e1, _e2 = fixture
    registration = _db.session.query(Registration).filter_by(name="Ilze").one()
    e1.speakers.append(Speaker(name="Linda Medne"))
    e1.activities.append(Activity(title="Darbnīca", starts_at=e1.starts_at, ends_at=e1.ends_at))
    _db.session.commit()
    values = {
        "event_id": e1.id,
        "registration_id": registration.id,
        "speaker_id": e1.speakers[0].id,
        "activity_id": e1.activities[0].id,
        "checkin_id": 1,
        "message_id": 1,
        "token_id": 1,
        "code": "en",
        "size": "large",
        "group": "municipality",
        "name": "00000001",
        "index": 0,
        "user_id": world.admin.id,
        "organisation_id": world.org_a.id,
    }
    login(client, world.ministry.email)
    walked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in PRIVATE_LINK_ROUTES:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(values[arg]), url)
        for query in ("", "?q=ilze&status=confirmed"):
            response = client.get(url + query)
            body = readable(response)
            assert response.status_code < 500, url
            assert not PERSONAL.search(body), (url, PERSONAL.search(body).group(0))
            walked += 1
    assert walked > 50


def test_the_dashboard_and_its_csv(client, world, fixture):  # noqa: F811
    login(client, world.ministry.email)
    page = client.get("/stats/").get_data(as_text=True)
    for heading in (
        "Pa pašvaldībām",
        "Pa kampaņām un pilotprojektiem",
        "Pa pasākumu veidiem",
        "Pa mērķa grupām",
        "Pa mēnešiem",
    ):
        assert heading in page
    assert "<svg" in page and "Tukuma novads" in page
    filtered = client.get(f"/stats/?municipality={world.tukums.id}").get_data(as_text=True)
    assert (
        "Daugavpils valstspilsēta"
        not in filtered.split('id="table-municipality"')[1].split("</section>")[0]
    )
    # Latvian Excel: semicolons between fields, a decimal comma, the rate in per cent.
    rows = list(
        csv.reader(
            io.StringIO(client.get("/stats/municipality.csv").data.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    header = rows[0]
    assert header[0] == "Pašvaldība"
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Tukuma novads"][header.index("Reģistrējušies")] == "9"
    assert by_name["Tukuma novads"][header.index("Apmeklētība, %")] == "40,0"
    assert by_name["Daugavpils valstspilsēta"][header.index("Apmeklētība, %")] == "100,0"
    behind = client.get(f"/stats/events?municipality={world.tukums.id}").get_data(as_text=True)
    assert "Tumes diskusija" in behind and "Križu svētki" not in behind
    lines = list(
        csv.reader(
            io.StringIO(client.get("/stats/events.csv").data.decode("utf-8-sig")), delimiter=";"
        )
    )
    assert [line[0] for line in lines[1:]] == ["Tumes diskusija", "Križu svētki"]
    assert lines[1][1] == "2026-09-10 12:00"  # Riga time


def test_the_json_endpoint_for_reporting_tools(client, runner, world, fixture):  # noqa: F811
    token = runner.invoke(args=["users", "token", world.ministry.email]).output.strip()
    response = client.get(
        "/api/v1/stats/attendance?group_by=month", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    schema = SPEC["paths"]["/stats/attendance"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    jsonschema.validate(response.json, {**schema, "components": SPEC["components"]})
    assert response.json["totals"]["people_registered"] == 12
    assert [(g["key"], g["people_checked_in"]) for g in response.json["groups"]] == [
        ("2026-09", 3),
        ("2026-10", 3),
    ]
    bad = client.get(
        "/api/v1/stats/attendance?group_by=person", headers={"Authorization": f"Bearer {token}"}
    )
    assert bad.status_code == 400
    assert client.get("/api/v1/stats/attendance").status_code == 401


def test_organisers_get_their_own_totals_residents_none(client, world, fixture):  # noqa: F811
    login(client, world.organiser_b.email)
    data = client.get("/api/v1/stats/attendance").json
    assert data["totals"]["events"] == 1 and data["totals"]["people_registered"] == 3
    anonymous = client.application.test_client()
    assert anonymous.get("/stats/").status_code == 302
