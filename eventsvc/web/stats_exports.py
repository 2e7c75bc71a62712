"""The totals as files for a spreadsheet: CSV as Latvian Excel reads it, and XLSX, written by
the one writer of every export (services/spreadsheet.py).

CSV: the separators of the page's language, because Excel splits and parses a CSV by the
computer's regional settings: in Latvian and Russian a semicolon between fields and a decimal
comma, in English a comma and a decimal point. Counts are plain digits (no thousands
separator, which Excel would take for text). The attendance rate is a percentage with one
decimal ("59,1" in Latvian) in a column whose header says "%"; an empty cell where there is
no rate.

XLSX: the rate a fraction shown as a percentage; a second sheet that names the filters and
defines every column.
"""

from __future__ import annotations

from babel.numbers import format_decimal, get_decimal_symbol
from flask import Response
from flask_babel import get_locale
from flask_babel import gettext as _

from ..services.spreadsheet import COMMA, SEMICOLON, XLSX_TYPE, About, csv_bytes, xlsx_bytes


def attachment(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv(filename: str, header: list[str], rows, rates: set[int]) -> Response:
    """`rates`: the columns that hold a share from 0 to 1 (or None)."""
    locale = get_locale()
    decimal_comma = get_decimal_symbol(locale) == ","

    def cell(i, v):
        if i in rates and v is not None:
            return format_decimal(round(v * 100, 1), format="0.0", locale=locale)
        return v

    body = csv_bytes(
        [f"{h}, %" if i in rates else h for i, h in enumerate(header)],
        ([cell(i, v) for i, v in enumerate(row)] for row in rows),
        delimiter=SEMICOLON if decimal_comma else COMMA,
    )
    return attachment(body, "text/csv", filename)


def xlsx(
    filename: str, title: str, header: list[str], rows, rates: set[int], about: list[str], glossary
) -> Response:
    """`rates` as for csv(); `about` (the title, the filters) and `glossary` (column, what it
    counts) fill the second sheet."""
    body = xlsx_bytes(
        title,
        header,
        rows,
        formats=dict.fromkeys(rates, "0.0%"),
        frozen="B2",
        about=About(
            sheet=_("About"),
            lines=about,
            definitions_header=(_("Column"), _("What it counts")),
            definitions=list(glossary),
        ),
    )
    return attachment(body, XLSX_TYPE, filename)
