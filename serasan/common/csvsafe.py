"""CSV files we write for people (rejected rows, exports) must not run as spreadsheet formulas.

A cell typed by an OPD as `=HYPERLINK(...)` stays data: text cells that a spreadsheet would
evaluate get a leading apostrophe (OWASP's CSV-injection advice). Numbers are left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").replace(".", "", text.count(".") - 1))
    except ValueError:
        return False
    return True


def csv_bytes(rows: Iterable[dict[str, Any]], columns: list[str]) -> bytes:
    """UTF-8 CSV, one header row, `\\n` line ends, formula-like text cells neutralised."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: neutralise(v) for k, v in row.items()})
    return buf.getvalue().encode("utf-8")
