"""Files for spreadsheets: every export writes through csv_bytes() or xlsx_bytes(), so that
no cell of any export can run as a formula, and every export writes times, numbers and text
the same way.

A text cell that starts with =, +, -, @, a tab or a carriage return would be taken by a
spreadsheet for a formula (`=HYPERLINK(…)`, or a phone number `-1-1-1-1`); such a cell gets a
single quote in front (OWASP's advice for CSV injection), emails and phone numbers included.
Numbers (int, float, Decimal) are written as they are: a number is not a formula, and no
export has a column of negative numbers. A number that arrives as text is text, and is
treated like any other text.

CSV: UTF-8 with a byte-order mark (so that Excel shows ā, č, ж …), lines ended by CR LF, and
the separator the caller chooses: Excel splits a CSV by the computer's regional settings, so a
Latvian (or Russian) Excel wants a semicolon (SEMICOLON), other programs a comma (COMMA).
Times are Riga time as "2026-11-16 13:00", which Excel reads as a date in any language.

XLSX: numbers are numbers, times real date cells in Riga time (Excel has no time zones) shown
as "16.11.2026 13:00", yes/no as words; a bold, frozen header row with filters, column widths
that fit the longest value (within reason), and optionally a second sheet that says what the
file is and defines its columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar, overload

from flask_babel import gettext as _

from ..timezones import to_riga

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEMICOLON, COMMA = ";", ","
CSV_DATETIME = "%Y-%m-%d %H:%M"
XLSX_DATETIME = "dd.mm.yyyy hh:mm"
XLSX_DATE = "dd.mm.yyyy"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIN_WIDTH, MAX_WIDTH = 6, 50


_Cell = TypeVar("_Cell")


@overload
def safe_cell(value: str) -> str: ...
@overload
def safe_cell(value: _Cell) -> _Cell: ...
def safe_cell(value: object) -> object:
    """`value` as a spreadsheet should show it: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def riga_wall_clock(moment: datetime) -> datetime:
    """A moment as a naive Riga wall-clock time (a spreadsheet's dates have no zone); a
    naive one is taken to be Riga time already."""
    return to_riga(moment).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return riga_wall_clock(value).strftime(CSV_DATETIME)
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(value)


def csv_bytes(
    header: Iterable[object], rows: Iterable[Iterable[object]], delimiter: str = COMMA
) -> bytes:
    """A CSV file: UTF-8 with a byte-order mark, every cell (the header's too) through
    safe_cell(); `delimiter` SEMICOLON for Latvian Excel, COMMA for everything else."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass
class About:
    """The second sheet of an XLSX, named `sheet`: what the file is (`lines`, the first in
    bold), then each column's name and definition under a header of two words."""

    sheet: str
    lines: Sequence[str] = ()
    definitions_header: tuple[str, str] | None = None
    definitions: Sequence[tuple[str, str]] = field(default_factory=list)


def _xlsx_text(value: str) -> str:
    """Text as a cell may hold it: characters XML cannot carry (control characters, which
    the forms refuse but older rows may hold) removed first, then safe_cell(), so that
    nothing removed can uncover a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


def _xlsx_cell(value: object) -> object:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return riga_wall_clock(value)
    if isinstance(value, str):
        return _xlsx_text(value)
    return value


def _shown_width(value: object) -> int:
    """How many characters wide `value` shows (its longest line)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("16.11.2026 13:00")
    if isinstance(value, date):
        return len("16.11.2026")
    if isinstance(value, float):
        return len("100.0%")
    return max((len(line) for line in str(value).splitlines()), default=0)


def xlsx_bytes(
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    formats: dict[int, str] | None = None,
    frozen: str = "A2",
    about: About | None = None,
) -> bytes:
    """An XLSX workbook: a sheet named `title` (as Excel allows) with `header` and `rows`.
    `formats`: number formats by column index (e.g. "0.0%"), beyond the date format every
    date cell gets; `frozen`: the top-left cell that scrolls (A2: the header row stays, B2:
    the first column too)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    formats = formats or {}
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook opens with one worksheet
    sheet.title = sheet_title(title)
    sheet.append([_xlsx_cell(str(h)) for h in header])
    widths = [_shown_width(h) for h in header]
    for row in rows:
        cells = [_xlsx_cell(v) for v in row]
        sheet.append(cells)
        for i, v in enumerate(cells):
            widths[i] = max(widths[i], _shown_width(v))
    for i in range(len(header)):
        sheet.column_dimensions[get_column_letter(i + 1)].width = (
            min(max(widths[i], MIN_WIDTH), MAX_WIDTH) + 2
        )
        for (cell,) in sheet.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
            if i in formats:
                cell.number_format = formats[i]
            elif isinstance(cell.value, datetime):
                cell.number_format = XLSX_DATETIME
            elif isinstance(cell.value, date):
                cell.number_format = XLSX_DATE
            elif isinstance(cell.value, str) and "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = frozen
    sheet.auto_filter.ref = sheet.dimensions
    sheet.print_title_rows = "1:1"  # printed, the header repeats on every page
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4

    if about is not None:
        notes = workbook.create_sheet(sheet_title(about.sheet))
        for line in about.lines:
            notes.append([_xlsx_text(str(line))])
        notes["A1"].font = Font(bold=True, size=13)
        if about.definitions:
            notes.append([])
            if about.definitions_header:
                notes.append([_xlsx_text(str(h)) for h in about.definitions_header])
                for cell in notes[notes.max_row]:
                    cell.font = Font(bold=True)
            for name, definition in about.definitions:
                notes.append([_xlsx_text(str(name)), _xlsx_text(str(definition))])
        notes.column_dimensions["A"].width = 28
        notes.column_dimensions["B"].width = 100

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_title(text: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return " ".join(text.split())[:31] or "Sheet"
