"""CSV files for Excel: every export writes through csv_bytes(), so that no cell of any
export can run as a formula.

A text cell that starts with =, +, -, @, a tab or a carriage return would be taken by a
spreadsheet for a formula (`=HYPERLINK(…)`, or a phone number `-1-1-1-1`); such a cell gets a
single quote in front (OWASP's advice for CSV injection), emails and phone numbers included.
Numbers (int, float, Decimal) are written as they are: a number is not a formula, and no
export has a column of negative numbers. A number that arrives as text is text, and is
treated like any other text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TypeVar, overload

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def csv_bytes(header: Iterable[object], rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows Latvian letters; every cell (the
    header's too) through safe_cell()."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
