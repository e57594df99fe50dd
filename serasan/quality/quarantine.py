"""The rejected-rows files an OPD fixes: CSV and XLSX, and recognising a corrected re-upload.

The XLSX stores every value as a text cell, so nothing is re-typed by Excel (NIK stays 16
digits, codes keep their zeros) and nothing becomes a formula. Its first columns (`baris`,
`dimuat`, `aturan`, `alasan`) mark it: when the OPD sends it back with the values corrected, the
pipeline merges those rows by primary key instead of replacing their period.
"""

from __future__ import annotations

import io
from typing import Any

from serasan.common.csvsafe import csv_bytes

MARKER_COLUMNS = ("baris", "dimuat", "aturan", "alasan")
SHEET = "Data"


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def quarantine_columns(column_names: list[str]) -> list[str]:
    return [*MARKER_COLUMNS, *column_names]


def quarantine_csv(rows: list[dict[str, Any]], column_names: list[str]) -> bytes:
    return csv_bytes(
        ({k: _text(v) for k, v in r.items()} for r in rows), quarantine_columns(column_names)
    )


def quarantine_xlsx(rows: list[dict[str, Any]], column_names: list[str], title: str) -> bytes:
    """An XLSX of the rejected rows, every cell a text cell (never a number or a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    cols = quarantine_columns(column_names)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([title])
    ws["A1"].font = Font(bold=True)
    ws.append([])
    ws.append(cols)
    for c in ws[3]:
        c.font = Font(bold=True)
    for r, row in enumerate(rows, start=4):
        for j, name in enumerate(cols, start=1):
            cell = ws.cell(row=r, column=j)
            cell.value = _text(row.get(name))
            cell.data_type = "s"  # text, even for '=...' or digits
            cell.number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def is_fix_file(header: list[Any]) -> bool:
    """True for a re-uploaded rejected-rows file: its header carries our marker columns."""
    names = {str(v).strip().lower() for v in header if v is not None}
    return {"baris", "alasan", "aturan"} <= names
