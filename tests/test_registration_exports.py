"""An event's registrations for Excel: an XLSX with real dates in Riga time, numbers as
numbers, a bold frozen header and widths that fit; a CSV for Latvian Excel (semicolons) and a
plain one (commas), both UTF-8 with a BOM; in both, check-ins, activities, needs, and
language, status and source as words of the organiser's language. No cell runs as a formula."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, AuditEntry, Registration, RegistrationSource
from eventsvc.services import checkin as door
from eventsvc.services import registration as rules
from eventsvc.services.registration_lists import EXPORT_COLUMNS
from eventsvc.services.spreadsheet import XLSX_DATETIME, xlsx_bytes
from eventsvc.timezones import to_riga

from . import factories
from .conftest import login

HYPERLINK = '=HYPERLINK("https://evil.example","Klikšķini")'
NEEDS = "ratiņkrēsls, iebrauc pa sētas vārtiem\nasistents nāk līdzi"
CODES = {"lv", "ru", "en", "web", "api", "organiser", "walk_in", "confirmed", "waitlisted"}


@pytest.fixture
def scene(world, in_days, now):
    """A festival for 4 people with a workshop: a Latvian party let in at the door, a Russian
    one registered by phone, one on the waiting list, one cancelled, one whose name is a
    formula."""
    event = factories.event(world.org_a, in_days(7), capacity=4)
    workshop = Activity(title="Zīmēšana", starts_at=event.starts_at, ends_at=event.ends_at)
    event.activities.append(workshop)
    _db.session.commit()

    def register(name, **fields):
        source = fields.pop("source", RegistrationSource.WEB)
        by_user = world.organiser_a if source is RegistrationSource.ORGANISER else None
        request = factories.registration_request(name=name, **fields)
        return rules.register(event.id, request, now, source, by_user=by_user).registration

    anna = register(
        "Anna Bērziņa",
        party_size=2,
        activity_ids=[workshop.id],
        needs=NEEDS,
    )
    olga = register(
        "Ольга Петрова",
        phone="+371 20000000",
        email=None,
        language="ru",
        source=RegistrationSource.ORGANISER,
    )
    formula = register(HYPERLINK, email="=1+1@example.lv")
    waiting = register("Zane Kalniņa", party_size=3)
    gone = register("Pēteris Ozols")  # waits too, and is cancelled
    _db.session.commit()
    rules.cancel_registration(gone, now)
    _db.session.commit()
    let_in_at = now - timedelta(minutes=5)
    door.check_in_registration(
        event, anna.id, world.organiser_a, now, people=1, scanned_at=let_in_at
    )
    _db.session.commit()
    return event, {
        "anna": anna.id,
        "olga": olga.id,
        "formula": formula.id,
        "waiting": waiting.id,
        "gone": gone.id,
        "let_in_at": let_in_at,
    }


def workbook(client, event, language="lv"):
    client.set_cookie("lang", language)
    response = client.get(f"/manage/events/{event.id}/registrations.xlsx")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "registrations-event-" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def rows_by_id(sheet) -> tuple[list[str], dict[int, dict]]:
    header = [c.value for c in sheet[1]]
    rows = {}
    for row in sheet.iter_rows(min_row=2):
        cells = dict(zip(header, row, strict=True))
        rows[cells["Nr."].value] = cells
    return header, rows


def test_the_xlsx_has_dates_numbers_words_and_a_header_that_stays(client, world, scene, now):
    event, ids = scene
    login(client, world.organiser_a.email)
    sheet = workbook(client, event).worksheets[0]
    header, rows = rows_by_id(sheet)
    assert header == [
        "Nr.",
        "Vārds, uzvārds",
        "Statuss",
        "Vieta rindā",
        "Cilvēki",
        "Dalība",
        "Ieradušies cilvēki",
        "Ierašanās laiks",
        "E-pasts",
        "Tālrunis",
        "Aktivitātes",
        "Piekļūstamības vajadzības",
        "Valoda",
        "Reģistrēts caur",
        "Reģistrēts",
        "Atcelšanas laiks",
    ]
    assert len(header) == len(EXPORT_COLUMNS)
    # A bold header row that stays in view, with the number and the name.
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == sheet.dimensions
    # Confirmed first, then the waiting list in its order, then the cancelled.
    assert [c.value for c in sheet["A"][1:]] == [
        ids["anna"],
        ids["olga"],
        ids["formula"],
        ids["waiting"],
        ids["gone"],
    ]

    anna = rows[ids["anna"]]
    for column in ("Nr.", "Cilvēki", "Ieradušies cilvēki"):
        assert anna[column].data_type == "n" and isinstance(anna[column].value, int), column
    assert (anna["Cilvēki"].value, anna["Ieradušies cilvēki"].value) == (2, 1)
    # Real date cells, in Riga's wall-clock time (Excel has no zones), shown as 16.11.2026 13:00.
    for column, moment in (("Reģistrēts", now), ("Ierašanās laiks", ids["let_in_at"])):
        cell = anna[column]
        assert cell.is_date and isinstance(cell.value, datetime), column
        assert cell.number_format == XLSX_DATETIME == "dd.mm.yyyy hh:mm"
        riga = to_riga(moment).replace(tzinfo=None)
        assert abs(cell.value - riga) < timedelta(seconds=1), (cell.value, riga)
    assert anna["Atcelšanas laiks"].value is None and anna["Vieta rindā"].value is None
    assert anna["Aktivitātes"].value == "Zīmēšana"
    assert anna["Piekļūstamības vajadzības"].value == NEEDS
    assert anna["Piekļūstamības vajadzības"].alignment.wrap_text

    olga = rows[ids["olga"]]
    assert (olga["Valoda"].value, olga["Statuss"].value, olga["Dalība"].value) == (
        "krievu",
        "Apstiprināta",
        "Klātienē",
    )
    assert olga["Reģistrēts caur"].value == "pieteica rīkotājs (piem., pa tālruni)"
    assert olga["Tālrunis"].value == "'+371 20000000"  # a leading + would start a formula
    assert olga["Ieradušies cilvēki"].value == 0 and olga["Ierašanās laiks"].value is None

    waiting = rows[ids["waiting"]]
    assert waiting["Statuss"].value == "Rindas saraksts"
    assert waiting["Vieta rindā"].value == 1 and waiting["Vieta rindā"].data_type == "n"
    gone = rows[ids["gone"]]
    assert gone["Statuss"].value == "Atcelts" and gone["Atcelšanas laiks"].is_date

    # Formula injection: text that Excel would run is quoted, and stays text.
    formula = rows[ids["formula"]]
    assert formula["Vārds, uzvārds"].value == "'" + HYPERLINK
    assert formula["Vārds, uzvārds"].data_type == "s"
    assert formula["E-pasts"].value == "'=1+1@example.lv"
    for row in sheet.iter_rows(min_row=1, values_only=True):
        for value in row:
            assert not (isinstance(value, str) and value.startswith(("=", "+", "-", "@"))), value
            assert value not in CODES, value

    # Widths that fit: the longest name, the needs' longest line, a date; none absurd.
    widths = {h: sheet.column_dimensions[chr(ord("A") + i)].width for i, h in enumerate(header)}
    assert widths["Vārds, uzvārds"] >= len("'" + HYPERLINK)
    assert widths["Piekļūstamības vajadzības"] == len(NEEDS.split("\n")[0]) + 2  # its longest line
    assert widths["Reģistrēts"] >= len("16.11.2026 13:00")
    assert all(8 <= w <= 52 for w in widths.values()), widths


def test_the_xlsx_speaks_the_organisers_language(client, world, scene):
    event, ids = scene
    login(client, world.organiser_a.email)
    book = workbook(client, event, "ru")
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["№", "Имя", "Статус"]
    olga = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == ids["olga"])
    assert olga[header.index("Язык")] == "русский"
    english = workbook(client, event, "en").worksheets[0]
    header = [c.value for c in english[1]]
    olga = next(r for r in english.iter_rows(min_row=2, values_only=True) if r[0] == ids["olga"])
    assert olga[header.index("Language")] == "Russian"
    assert olga[header.index("Registered via")] == "by the organiser (e.g. by phone)"
    # The second sheet says what the file is.
    about = [r[0] for r in book.worksheets[1].iter_rows(values_only=True) if r and r[0]]
    assert event.title in about


def test_a_stored_control_character_neither_breaks_the_xlsx_nor_uncovers_a_formula(
    client, world, scene
):
    """The forms refuse control characters, but an older row may hold one; XML cannot."""
    event, ids = scene
    _db.session.execute(
        update(Registration)
        .where(Registration.id == ids["anna"])
        .values(needs="\x0b=HYPERLINK(1)", name="Anna\x1bBērziņa")
    )
    _db.session.commit()
    login(client, world.organiser_a.email)
    sheet = workbook(client, event).worksheets[0]
    _, rows = rows_by_id(sheet)
    assert rows[ids["anna"]]["Piekļūstamības vajadzības"].value == "'=HYPERLINK(1)"
    assert rows[ids["anna"]]["Vārds, uzvārds"].value == "AnnaBērziņa"


def test_the_writer_takes_aware_and_naive_times_as_riga_and_bools_as_words(app):
    from datetime import UTC

    with app.test_request_context():
        body = xlsx_bytes(
            "Tests: [a/b]?",
            ["when", "naive", "yes"],
            [[datetime(2026, 7, 1, 10, 0, tzinfo=UTC), datetime(2026, 7, 1, 13, 0), True]],
        )
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    assert sheet.title == "Tests a b"  # as Excel allows
    when, naive, yes = sheet[2]
    assert when.value == datetime(2026, 7, 1, 13, 0)  # 10:00 UTC is 13:00 in Riga in summer
    assert naive.value == datetime(2026, 7, 1, 13, 0)
    assert yes.value == "jā"


def test_the_csv_for_latvian_excel_has_semicolons_a_bom_and_words(client, world, scene, now):
    event, ids = scene
    login(client, world.organiser_a.email)
    client.set_cookie("lang", "lv")
    response = client.get(f"/manage/events/{event.id}/registrations.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel shows ā and ж
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    first_line = text.split("\r\n", 1)[0]
    assert first_line.startswith("Nr.;Vārds, uzvārds;Statuss;")  # a semicolon between columns
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    assert len(header) == len(EXPORT_COLUMNS) and all(len(r) == len(header) for r in rows)
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    anna, olga = by_id[ids["anna"]], by_id[ids["olga"]]
    assert anna["Ieradušies cilvēki"] == "1" and anna["Cilvēki"] == "2"
    assert anna["Ierašanās laiks"] == to_riga(ids["let_in_at"]).strftime("%Y-%m-%d %H:%M")
    assert anna["Reģistrēts"] == to_riga(now).strftime("%Y-%m-%d %H:%M")
    assert anna["Aktivitātes"] == "Zīmēšana"
    assert anna["Piekļūstamības vajadzības"] == NEEDS
    assert (olga["Valoda"], olga["Statuss"]) == ("krievu", "Apstiprināta")
    assert olga["Reģistrēts caur"] == "pieteica rīkotājs (piem., pa tālruni)"
    assert by_id[ids["waiting"]]["Vieta rindā"] == "1"
    assert by_id[ids["formula"]]["Vārds, uzvārds"] == "'" + HYPERLINK
    for row in rows:
        for cell in row:
            assert cell not in CODES, cell
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_the_plain_csv_has_commas(client, world, scene):
    event, ids = scene
    login(client, world.organiser_a.email)
    client.set_cookie("lang", "en")
    raw = client.get(f"/manage/events/{event.id}/registrations.csv?separator=comma").data
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.startswith("No.,Name,Status,")
    rows = list(csv.reader(io.StringIO(text)))
    olga = next(r for r in rows if r[0] == str(ids["olga"]))
    header = rows[0]
    assert olga[header.index("Language")] == "Russian"
    assert olga[header.index("Status")] == "Confirmed"


@pytest.mark.parametrize("value", ["tab", "", ";", "comma\r\n", "\x00", "x" * 500])
def test_an_unknown_separator_gets_latvian_excels(client, world, scene, value):
    event, _ = scene
    login(client, world.organiser_a.email)
    response = client.get(
        f"/manage/events/{event.id}/registrations.csv", query_string={"separator": value}
    )
    assert response.status_code in (200, 400)  # 400: bytes refused before the view
    if response.status_code == 200:
        assert response.data.decode("utf-8-sig").startswith("Nr.;")


def test_the_page_offers_both_csvs_and_says_what_they_are(client, world, scene):
    event, _ = scene
    login(client, world.organiser_a.email)
    client.set_cookie("lang", "lv")
    page = client.get(f"/manage/events/{event.id}/registrations").get_data(as_text=True)
    for href in (
        f"/manage/events/{event.id}/registrations.xlsx",
        f"/manage/events/{event.id}/registrations.csv",
        f"/manage/events/{event.id}/registrations.csv?separator=comma",
    ):
        assert f'href="{href}"' in page, href
    assert "semikols starp kolonnām, UTF-8 ar BOM" in page
    assert "komats starp kolonnām" in page


def test_each_download_is_audited_with_its_kind(client, world, scene):
    event, _ = scene
    login(client, world.organiser_a.email)
    for query in ("", "?separator=comma"):
        client.get(f"/manage/events/{event.id}/registrations.csv{query}")
    client.get(f"/manage/events/{event.id}/registrations.xlsx")
    entries = _db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "export.registrations_csv")
        .order_by(AuditEntry.id)
    ).all()
    assert [json.loads(e.detail) for e in entries] == [
        [{"m": "file: %(kind)s", "a": {"kind": kind}}, {"m": "rows: %(n)d", "a": {"n": 5}}]
        for kind in ("CSV (;)", "CSV", "XLSX")
    ]


def test_another_organisation_cannot_download(client, world, scene):
    event, _ = scene
    login(client, world.organiser_b.email)
    for url in ("registrations.xlsx", "registrations.csv", "registrations.csv?separator=comma"):
        assert client.get(f"/manage/events/{event.id}/{url}").status_code == 404
