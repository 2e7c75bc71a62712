"""Exports: no cell of any CSV runs as a formula, and no other site can start a download
(each writes an audit entry in the signed-in person's name)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select, update

from eventsvc.extensions import db as _db
from eventsvc.models import AuditEntry, Municipality, Registration
from eventsvc.services import registration as rules
from eventsvc.services.spreadsheet import csv_bytes, safe_cell

from . import factories
from .conftest import login

HYPERLINK = '=HYPERLINK("https://evil.example","Click")'


def cells(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.data.startswith("\ufeff".encode())
    text = response.data.decode("utf-8-sig")
    # The totals' CSV is for Latvian Excel (semicolons); the registrations' uses commas.
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    )
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (cell, row)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+37120000000", "'+37120000000"),
        ("-1-1-1-1", "'-1-1-1-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "'-5"),  # text that looks like a number is still text
        ("Anna Bērziņa", "Anna Bērziņa"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),  # a real number is not a formula
        (0.5, 0.5),
        (3, 3),
    ],
)
def test_safe_cell(value, shown):
    assert safe_cell(value) == shown


def test_csv_bytes_quotes_the_header_too_and_keeps_numbers():
    rows = list(csv.reader(io.StringIO(csv_bytes(["=a", "b"], [[-1, "-1"]]).decode("utf-8-sig"))))
    assert rows == [["'=a", "b"], ["-1", "'-1"]]


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=20, title=HYPERLINK)


def test_the_registrations_csv_neutralises_every_column(client, world, event, now):
    registration = rules.register(
        event.id,
        factories.registration_request(
            name="@SUM(1+1)", email="=1+1@example.lv", needs="+ratiņkrēsls"
        ),
        now,
    ).registration
    _db.session.commit()
    # A phone as it was seen stored (written past the form's rules).
    _db.session.execute(
        update(Registration).where(Registration.id == registration.id).values(phone="-1-1-1-1")
    )
    _db.session.commit()
    login(client, world.organiser_a.email)
    rows = cells(client.get(f"/manage/events/{event.id}/registrations.csv"))
    assert_no_formula(rows)
    header, row = rows[0], rows[1]
    assert row[header.index("Vārds, uzvārds")] == "'@SUM(1+1)"
    assert row[header.index("E-pasts")] == "'=1+1@example.lv"
    assert row[header.index("Tālrunis")] == "'-1-1-1-1"
    assert row[0] == str(registration.id)  # numbers stay numbers


def test_the_ministrys_csvs_neutralise_titles_and_names(client, world, event, now):
    rules.register(event.id, factories.registration_request(), now)
    _db.session.commit()
    _db.session.execute(
        update(Municipality).where(Municipality.id == world.tukums.id).values(name="-Tukums")
    )
    _db.session.commit()
    login(client, world.ministry.email)
    events = cells(client.get("/stats/events.csv"))
    assert_no_formula(events)
    assert events[1][0] == "'" + HYPERLINK and events[1][2] == "'-Tukums"
    by_municipality = cells(client.get("/stats/municipality.csv"))
    assert_no_formula(by_municipality)
    assert "'-Tukums" in [row[0] for row in by_municipality]


# --- only from our own pages ---------------------------------------------------------------


def audit_rows() -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count(AuditEntry.id)))


def export_urls(event) -> list[str]:
    return [
        f"/manage/events/{event.id}/registrations.csv",
        f"/manage/events/{event.id}/registrations.csv?separator=comma",
        f"/manage/events/{event.id}/registrations.xlsx",
        f"/manage/events/{event.id}/attendance-sheet",
        "/stats/events.csv",
        "/stats/kind.csv",
        f"/api/v1/events/{event.id}/checkins/offline",
    ]


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
def test_another_site_cannot_start_an_export(client, world, event, site):
    login(client, world.organiser_a.email)
    before = audit_rows()
    for url in export_urls(event):
        response = client.get(url, headers={"Sec-Fetch-Site": site})
        assert response.status_code == 403, url
        if url.startswith("/api/"):
            assert response.json["error"]["code"] == "forbidden"
        else:
            assert "tikai no šīs vietnes lapām" in response.get_data(as_text=True)
    assert audit_rows() == before


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_our_own_pages_bookmarks_and_scripts_still_export(client, world, event, site):
    login(client, world.organiser_a.email)
    headers = {"Sec-Fetch-Site": site} if site else {}
    before = audit_rows()
    for url in export_urls(event):
        assert client.get(url, headers=headers).status_code == 200, url
    assert audit_rows() > before


def test_a_click_downloads_and_another_sites_link_is_refused(
    world, event, now, live_server, browser
):
    rules.register(event.id, factories.registration_request(phone="-1-1-1-1"), now)
    _db.session.commit()
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("#email", world.organiser_a.email)
        page.fill("#password", factories.PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(f"{live_server}/manage/")
        page.goto(f"{live_server}/manage/events/{event.id}/registrations")
        before = audit_rows()
        with page.expect_download() as download:
            page.click(f'a[href$="/manage/events/{event.id}/registrations.csv"]')
        with open(download.value.path(), "rb") as file:
            body = file.read()
        assert body.startswith("\ufeff".encode()) and b"'-1-1-1-1" in body
        assert audit_rows() == before + 1

        # Another site (localhost is another site than 127.0.0.1) links to the same download;
        # the browser still sends the session cookie on a top-level navigation (SameSite=Lax).
        other_site = live_server.replace("127.0.0.1", "localhost")
        page.goto(f"{other_site}/")
        target = f"{live_server}/manage/events/{event.id}/registrations.csv"
        page.evaluate(
            """url => { const a = document.createElement('a'); a.href = url;
                        a.id = 'evil'; a.textContent = 'x'; document.body.append(a); }""",
            target,
        )
        with page.expect_response(target) as answer:
            page.click("#evil")
        assert answer.value.status == 403
        assert audit_rows() == before + 1
    finally:
        context.close()
