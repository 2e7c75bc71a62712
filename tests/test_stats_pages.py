"""The totals as people read them: real column headers, captions that name the filters, a year
and month picker, numbers in the page's language, CSV for Latvian Excel and XLSX with numbers
as numbers."""

from __future__ import annotations

import csv
import io
import re

import pytest

from .conftest import login
from .test_stats import fixture  # noqa: F401  (the hand-computed fixture)


def _page(client, url):
    return re.sub(r"\s+", " ", client.get(url).get_data(as_text=True))


def test_every_table_has_real_column_headers(client, world, fixture):  # noqa: F811
    login(client, world.ministry.email)
    page = _page(client, "/stats/")
    firsts = re.findall(r'<thead><tr> <th scope="col">([^<]*)</th>', page)
    assert firsts == [
        "Pašvaldība",
        "Kampaņa vai pilotprojekts",
        "Pasākuma veids",
        "Mērķa grupa",
        "Mēnesis",
    ]
    headers = re.findall(r'<th scope="col" class="num">([^<]*)', page.split('id="table-kind"')[1])
    assert headers[:3] == ["Pasākumi", "Notikuši", "Reģistrējušies"]
    # Each cell carries its column's name for the narrow (card) layout.
    assert 'data-label="Apmeklētība*"' in page  # * only events that have ended


def test_a_filter_is_named_in_the_subtitle_and_every_caption(client, world, fixture):  # noqa: F811
    login(client, world.ministry.email)
    everything = _page(client, "/stats/")
    assert "Visu pašvaldību kopsummas." in everything
    page = _page(client, f"/stats/?municipality={world.daugavpils.id}&kind=festival")
    assert "Visu pašvaldību" not in page
    assert "Kopsummas: Daugavpils valstspilsēta · Svētki." in page
    captions = re.findall(r'<caption id="caption-[a-z_]+">([^<]*)</caption>', page)
    assert captions and all(c.endswith(": Daugavpils valstspilsēta · Svētki") for c in captions)
    assert captions[0] == "Pa pašvaldībām: Daugavpils valstspilsēta · Svētki"


def test_a_year_and_a_month_can_be_picked(client, runner, world, fixture):  # noqa: F811
    login(client, world.ministry.email)
    september = _page(client, "/stats/?year=2026&month=9")
    assert "Kopsummas: septembris 2026." in september
    table = september.split('id="table-municipality"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert "Tukuma novads" in table and "Daugavpils" not in table
    year = _page(client, "/stats/?year=2026")
    table = year.split('id="table-month"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert "2026-09" in table and "2026-10" in table
    # A month alone is no period: said next to the field, not a 500 nor a silent "all".
    response = client.get("/stats/?month=9")
    assert response.status_code == 400  # a query not understood, as every filter
    assert "Izvēlieties arī mēneša gadu." in response.get_data(as_text=True)
    # The month rows link to their month's events.
    assert 'href="/stats/events?year=2026&amp;month=9"' in _page(client, "/stats/")
    token = runner.invoke(args=["users", "token", world.ministry.email]).output.strip()
    api = client.get(
        "/api/v1/stats/attendance?year=2026&month=10", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200 and api.json["totals"]["people_registered"] == 3


@pytest.mark.parametrize(
    "language, rate, delimiter, decimal",
    [("lv", "62%", ";", ","), ("ru", "62\xa0%", ";", ","), ("en", "62%", ",", ".")],
)
def test_numbers_in_the_page_language_and_csv_for_its_excel(
    client,
    world,
    fixture,  # noqa: F811
    language,
    rate,
    delimiter,
    decimal,
):
    client.set_cookie("lang", language)
    login(client, world.ministry.email)
    page = client.get("/stats/").get_data(as_text=True)
    assert f'<dd class="figure">{rate}</dd>' in page  # 5 of 8 in person came (62.5 %)
    raw = client.get("/stats/kind.csv").data
    assert raw.startswith("\ufeff".encode())  # UTF-8 with a BOM: Excel shows ā, ж
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter))
    header = rows[0]
    column = next(i for i, h in enumerate(header) if h.endswith(", %"))
    assert {row[0]: row[column] for row in rows[1:]} == {
        {"lv": "Diskusija", "ru": "Дискуссия", "en": "Discussion"}[language]: f"40{decimal}0",
        {"lv": "Svētki", "ru": "Праздник", "en": "Festival"}[language]: f"100{decimal}0",
    }


def test_the_xlsx_has_numbers_as_numbers(client, world, fixture):  # noqa: F811
    from openpyxl import load_workbook

    login(client, world.ministry.email)
    response = client.get(f"/stats/municipality.xlsx?municipality={world.tukums.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[0] == "Pašvaldība" and "Apmeklētība" in header and "Reģistrējušies" in header
    assert all(c.font.bold for c in sheet[1])
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["Pašvaldība"].value == "Tukuma novads"
    assert row["Reģistrējušies"].value == 9 and row["Reģistrējušies"].data_type == "n"
    assert isinstance(row["Reģistrējušies"].value, int)
    rate = row["Apmeklētība"]
    assert rate.data_type == "n" and rate.value == pytest.approx(0.4)
    assert rate.number_format == "0.0%"
    assert sheet.max_row == 2  # the filter applies
    assert sheet.column_dimensions["A"].width >= len("Tukuma novads")
    assert sheet.freeze_panes == "B2"
    about = book.worksheets[1]
    texts = [r[0] for r in about.iter_rows(values_only=True) if r and r[0]]
    assert "Tukuma novads" in texts and "Apmeklētība" in texts

    events = load_workbook(io.BytesIO(client.get("/stats/events.xlsx").data)).worksheets[0]
    starts = events.cell(2, 2)
    assert starts.is_date and starts.value.strftime("%Y-%m-%d %H:%M") == "2026-09-10 12:00"
