"""The totals as files for a spreadsheet: CSV as Latvian Excel reads it, and XLSX.

CSV: UTF-8 with a byte-order mark (so that Excel shows ā, č, ж …), and the separators of the
page's language, because Excel splits and parses a CSV by the computer's regional settings:
in Latvian and Russian a semicolon between fields and a decimal comma, in English a comma
and a decimal point. Counts are plain digits (no thousands separator, which Excel would take
for text). The attendance rate is a percentage with one decimal ("59,1" in Latvian) in a
column whose header says "%"; an empty cell where there is no rate.

XLSX: numbers are numbers, the rate a fraction shown as a percentage, times as dates; a bold,
frozen header row with filters, column widths to fit, and a second sheet that names the
filters and defines every column.
"""

from __future__ import annotations

import csv as _csv
import io
from datetime import datetime

from babel.numbers import format_decimal, get_decimal_symbol
from flask import Response
from flask_babel import get_locale
from flask_babel import gettext as _

from ..services.spreadsheet import safe_cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv(filename: str, header: list[str], rows, rates: set[int]) -> Response:
    """`rates`: the columns that hold a share from 0 to 1 (or None)."""
    locale = get_locale()
    decimal_comma = get_decimal_symbol(locale) == ","
    out = io.StringIO()
    writer = _csv.writer(out, delimiter=";" if decimal_comma else ",", lineterminator="\r\n")
    writer.writerow([f"{h}, %" if i in rates else h for i, h in enumerate(header)])
    for row in rows:
        writer.writerow([_csv_cell(v, i in rates, locale) for i, v in enumerate(row)])
    return _attachment(("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv", filename)


def _csv_cell(v, rate: bool, locale) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if rate:
        return format_decimal(round(v * 100, 1), format="0.0", locale=locale)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    return safe_cell(v) if isinstance(v, str) else str(v)  # a title is never a formula


def xlsx(
    filename: str, title: str, header: list[str], rows, rates: set[int], about: list[str], glossary
) -> Response:
    """`rates` as for csv(); `about` (the title, the filters) and `glossary` (column, what it
    counts) fill the second sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook opens with one worksheet
    sheet.title = _sheet_title(title)
    sheet.append(list(header))
    widths = [len(str(h)) for h in header]
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            if isinstance(v, bool):
                v = _("yes") if v else _("no")
            cells.append(safe_cell(v))  # an organiser's "=HYPERLINK(…)" title stays text
            widths[i] = max(widths[i], len(_shown(v)))
        sheet.append(cells)
    for i in range(len(header)):
        letter = get_column_letter(i + 1)
        sheet.column_dimensions[letter].width = min(max(widths[i], 6) + 2, 50)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
            if i in rates:
                cell.number_format = "0.0%"
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions

    notes = workbook.create_sheet(_sheet_title(_("About")))
    for line in about:
        notes.append([safe_cell(line)])
    notes["A1"].font = Font(bold=True, size=13)
    notes.append([])
    notes.append([_("Column"), _("What it counts")])
    notes.cell(notes.max_row, 1).font = notes.cell(notes.max_row, 2).font = Font(bold=True)
    for name, definition in glossary:
        notes.append([name, definition])
    notes.column_dimensions["A"].width = 28
    notes.column_dimensions["B"].width = 100

    out = io.BytesIO()
    workbook.save(out)
    return _attachment(out.getvalue(), XLSX_TYPE, filename)


def _shown(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "100.0%"
    if isinstance(v, datetime):
        return "2026-01-01 00:00"
    return str(v)


def _sheet_title(text: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return " ".join(text.split())[:31] or "Sheet"
