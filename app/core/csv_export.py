"""CSV downloads that spreadsheets open safely."""

import csv
import io
from collections.abc import Sequence
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = "" if value is None else str(value.value if hasattr(value, "value") else value)
    # A spreadsheet would run a cell starting with these as a formula (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buf.getvalue()


def line(row: Sequence[Any]) -> str:
    """One row as `to_csv` writes it (its line ending included), for a document put together
    from lines written apart: `to_csv(columns, rows) == line(columns) + "".join(map(line,
    rows))`, cells of the header aside."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([cell(v) for v in row])
    return buf.getvalue()
