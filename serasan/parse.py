"""Raw bytes (CSV or XLSX as OPD staff send them) -> a typed Arrow table in the catalog's schema.

A file that cannot be used at all (no header, missing required columns) raises ParseError naming
the file and what was expected. A row with a value that cannot be read is not dropped: it becomes
a Reject with its row number, column, value and what was expected, so that every input row ends
up loaded or rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from serasan.catalog import Column, Dataset

ROW_COL = "_row"  # source row number as the OPD sees it (spreadsheet row / CSV line)
ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
               "date": pa.date32(), "boolean": pa.bool_()}
MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "pebruari": 2, "peb": 2, "maret": 3,
    "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12, "dec": 12,
    "january": 1, "february": 2, "march": 3, "june": 6, "july": 7, "august": 8,
    "october": 10, "december": 12,
}
SUMMARY_ROW = re.compile(r"^\s*(jumlah|total|grand total|sub ?total)\b", re.IGNORECASE)
EXCEL_EPOCH = dt.date(1899, 12, 30)


class ParseError(Exception):
    """The file as a whole cannot be used; the message says why and what was expected."""


@dataclass(frozen=True)
class Reject:
    row: int
    column: str | None
    value: str | None
    reason_id: str
    reason_en: str
    kind: str = "parse"  # parse | summary
    record: tuple[tuple[str, str | None], ...] = ()  # the row's cells as text, by column name
    expected_id: str = ""
    expected_en: str = ""

    def reason(self, lang: str = "id") -> str:
        return self.reason_id if lang == "id" else self.reason_en

    def problem(self, lang: str = "id") -> str:
        """The reason without the row's own value, to count rows per kind of problem."""
        if self.kind == "summary" or self.column is None:
            return self.reason(lang)
        if lang == "id":
            return f"kolom '{self.column}' tidak dapat dibaca, seharusnya {self.expected_id}"
        return f"column '{self.column}' cannot be read, expected {self.expected_en}"


@dataclass
class ParseResult:
    table: pa.Table
    rejects: list[Reject]
    rows_in: int
    header_row: int
    notes: list[str] = field(default_factory=list)  # decisions taken per file, e.g. date order


def _norm(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text or "").strip().lower()).strip("_")


# ---------------------------------------------------------------- reading cells


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb["Data"] if "Data" in wb.sheetnames else wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> list[list[Any]]:
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    sample = [ln for ln in text.split("\n")[:30] if ln.strip()]
    delim = max((",", ";", "\t", "|"), key=lambda d: sum(ln.count(d) for ln in sample))
    return [list(r) for r in csv.reader(io.StringIO(text), delimiter=delim)]


def read_cells(data: bytes, filename: str) -> list[list[Any]]:
    """All rows of the file's first (or `Data`) sheet as Python values."""
    if data[:4] == b"PK\x03\x04":
        try:
            return _read_xlsx(data)
        except Exception as exc:  # openpyxl raises many kinds for corrupt files
            raise ParseError(f"{filename}: not a readable XLSX workbook ({exc})") from exc
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ParseError(f"{filename}: has an .xlsx name but is not an XLSX workbook")
    return _read_csv(data)


# ---------------------------------------------------------------- header


def _find_header(rows: list[list[Any]], ds: Dataset, filename: str) -> tuple[int, dict[str, int]]:
    wanted = {c.name: {_norm(c.name), _norm(c.header)} for c in ds.columns}
    best: tuple[int, dict[str, int]] = (-1, {})
    for i, row in enumerate(rows[:30]):
        cells = [_norm(v) for v in row]
        found = {}
        for name, aliases in wanted.items():
            for j, cell in enumerate(cells):
                if cell and cell in aliases:
                    found[name] = j
                    break
        if len(found) > len(best[1]):
            best = (i, found)
    idx, found = best
    required = [c.name for c in ds.columns if not c.nullable]
    missing = [n for n in required if n not in found]
    if idx < 0 or missing:
        seen = [str(v) for v in (rows[idx] if idx >= 0 else []) if v not in (None, "")]
        expected = ", ".join(f"{c.header!r}" for c in ds.columns if c.name in missing)
        raise ParseError(
            f"{filename}: header row not found or incomplete; missing column(s) {expected} "
            f"(best candidate: row {idx + 1}: {seen or 'none'})"
        )
    return idx, found


# ---------------------------------------------------------------- values


class _Bad(ValueError):
    def __init__(self, expected_id: str, expected_en: str):
        super().__init__(expected_en)
        self.expected_id, self.expected_en = expected_id, expected_en


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def _clean_number_text(s: str) -> str:
    # the currency may follow a sign or an opening parenthesis: '-Rp 1.000', '(Rp 1.000)'
    s = re.sub(r"^([-+(]?)\s*(rp\.?|idr)\s*", r"\1", s.strip(), flags=re.IGNORECASE)
    return s.replace(" ", "").replace("\u00a0", "")


# what a number may look like once cleaned and unsigned, per convention: a value written the
# other way (1.234,5 in a 1234.5 column) is not silently misread as another number
_NUMBER_SHAPE = {
    "id": re.compile(r"^(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$"),
    "en": re.compile(r"^(\d+|\d{1,3}(,\d{3})+)?(\.\d+)?$"),
}


def _number_convention(values: Iterable[Any]) -> str:
    """'id' when the column writes 1.234,5 (dot thousands); 'en' when it writes 1234.5."""
    for v in values:
        if isinstance(v, str):
            s = _clean_number_text(v)
            if re.search(r",\d+$", s) or re.search(r"\d\.\d{3}\.\d{3}", s):
                return "id"
            if re.search(r"\.\d{1,2}$|\.\d{4,}$", s):
                return "en"
    return "id"


def _to_number(v: Any, convention: str) -> float | None:
    if v is None or isinstance(v, bool):
        if isinstance(v, bool):
            raise _Bad("angka", "a number")
        return None
    if isinstance(v, int | float):
        return float(v)
    s = _clean_number_text(str(v))
    if s in ("", "-"):
        return None
    neg = s.startswith("(") and s.endswith(")")
    s = s[1:-1] if neg else s
    if s.startswith(("-", "+")):
        neg, s = neg != (s[0] == "-"), s[1:]
    if not s or not _NUMBER_SHAPE[convention].match(s):
        if convention == "en":
            raise _Bad("angka, misalnya 1234567.89", "a number such as 1234567.89")
        raise _Bad("angka, misalnya 1.234.567,89", "a number such as 1.234.567,89")
    if convention == "id":
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", "")
    try:
        out = float(s)
    except ValueError:
        raise _Bad("angka, misalnya 1.234.567,89", "a number such as 1.234.567,89") from None
    return -out if neg else out


def _to_integer(v: Any, convention: str) -> int | None:
    num = _to_number(v, convention)
    if num is None:
        return None
    if not float(num).is_integer():
        raise _Bad("bilangan bulat", "a whole number")
    return int(num)


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_SLASH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$")
_WORDS = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]+)\.?[\s-]+(\d{2,4})$")


def _year(y: str) -> int:
    n = int(y)
    return n + 2000 if n < 100 else n


def _date_order(values: Iterable[Any]) -> str | None:
    """Decide D/M/Y or M/D/Y for the whole file from values that can only be read one way."""
    dm = md = False
    for v in values:
        m = _SLASH.match(v.strip()) if isinstance(v, str) else None
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            dm |= a > 12 >= b  # 31/12 and 12/31 tell the order; 31/31 is simply not a date
            md |= b > 12 >= a
    if dm and md:
        return "mixed"
    return "dmy" if dm else "mdy" if md else None


def _to_date(v: Any, order: str) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        if 20000 <= v <= 80000:  # Excel serial day number (1954..2119)
            return EXCEL_EPOCH + dt.timedelta(days=int(v))
        raise _Bad("tanggal", "a date")
    s = str(v).strip()
    if s in ("", "-"):
        return None
    try:
        if m := _ISO.match(s):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _SLASH.match(s):
            a, b, y = int(m.group(1)), int(m.group(2)), _year(m.group(3))
            return dt.date(y, b, a) if order == "dmy" else dt.date(y, a, b)
        if m := _WORDS.match(s):
            month = MONTHS.get(m.group(2).lower())
            if month:
                return dt.date(_year(m.group(3)), month, int(m.group(1) or 1))
    except ValueError:
        pass
    raise _Bad("tanggal, misalnya 31/12/2025 atau 5 Januari 2026",
               "a date such as 31/12/2025 or 5 Januari 2026")


def _to_bool(v: Any) -> bool | None:
    s = _text(v)
    if s is None:
        return None
    low = s.lower()
    if low in ("ya", "y", "true", "1", "benar", "ada"):
        return True
    if low in ("tidak", "t", "n", "false", "0", "salah", "tidak ada"):
        return False
    raise _Bad("ya atau tidak", "ya or tidak (yes/no)")


def _truncate(d: dt.date | None, granularity: str) -> dt.date | None:
    if d is None:
        return None
    if granularity == "month":
        return d.replace(day=1)
    if granularity == "quarter":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    if granularity == "year":
        return d.replace(month=1, day=1)
    return d


# ---------------------------------------------------------------- main entry


def parse_file(data: bytes, filename: str, ds: Dataset) -> ParseResult:
    """Parse one OPD file into the dataset's typed schema, keeping every row accounted for."""
    rows = read_cells(data, filename)
    header_idx, positions = _find_header(rows, ds, filename)
    body = [(i + 1, r) for i, r in enumerate(rows) if i > header_idx]
    body = [(n, r) for n, r in body if any(_text(v) is not None for v in r)]

    notes: list[str] = []
    conventions: dict[str, str] = {}
    orders: dict[str, str] = {}
    for col in ds.columns:
        if col.name not in positions:
            notes.append(f"column {col.header!r} is absent from the file; left empty")
            continue
        cells = [r[positions[col.name]] if positions[col.name] < len(r) else None for _, r in body]
        if col.type in ("integer", "number"):
            conventions[col.name] = _number_convention(cells)
        if col.type == "date":
            order = _date_order(cells)
            if order == "mixed":
                raise ParseError(
                    f"{filename}: column {col.header!r} mixes D/M/Y and M/D/Y dates; "
                    "write every date the same way, e.g. 31/12/2025")
            orders[col.name] = order or "dmy"
            if order is None and any(isinstance(c, str) and _SLASH.match(c.strip())
                                     for c in cells):
                notes.append(f"column {col.header!r}: every d/m date is ambiguous; read as D/M/Y")

    values: dict[str, list[Any]] = {c.name: [] for c in ds.columns}
    row_numbers: list[int] = []
    rejects: list[Reject] = []
    for number, row in body:
        first = next((_text(v) for v in row if _text(v) is not None), "")
        record = tuple((c.name, _text(row[positions[c.name]]) if positions.get(c.name, 1 << 30)
                        < len(row) else None) for c in ds.columns)
        if SUMMARY_ROW.match(first or ""):
            rejects.append(Reject(number, None, first,
                                  "baris ringkasan (Jumlah/Total) tidak dimuat",
                                  "summary row (Jumlah/Total) is not loaded",
                                  kind="summary", record=record))
            continue
        converted, bad = _convert_row(row, positions, ds, conventions, orders, number)
        if bad:
            rejects.append(replace(bad, record=record))
            continue
        row_numbers.append(number)
        for name, value in converted.items():
            values[name].append(value)

    arrays = [pa.array(values[c.name], type=ARROW_TYPES[c.type]) for c in ds.columns]
    arrays.append(pa.array(row_numbers, type=pa.int32()))
    table = pa.Table.from_arrays(arrays, names=[*ds.column_names, ROW_COL])
    return ParseResult(table=table, rejects=rejects, rows_in=len(body),
                       header_row=header_idx + 1, notes=notes)


def _convert_row(row: list[Any], positions: dict[str, int], ds: Dataset,
                 conventions: dict[str, str], orders: dict[str, str],
                 number: int) -> tuple[dict[str, Any], Reject | None]:
    out: dict[str, Any] = {}
    for col in ds.columns:
        pos = positions.get(col.name)
        raw = row[pos] if pos is not None and pos < len(row) else None
        try:
            out[col.name] = _convert(raw, col, ds, conventions, orders)
        except _Bad as bad:
            shown = _text(raw)
            return out, Reject(
                number, col.name, shown,
                f"kolom '{col.header}' berisi {shown!r}, seharusnya {bad.expected_id}",
                f"column '{col.header}' holds {shown!r}, expected {bad.expected_en}",
                expected_id=bad.expected_id, expected_en=bad.expected_en)
    return out, None


def _convert(raw: Any, col: Column, ds: Dataset, conventions: dict[str, str],
             orders: dict[str, str]) -> Any:
    if col.type == "string":
        return _text(raw)
    if col.type == "integer":
        return _to_integer(raw, conventions.get(col.name, "id"))
    if col.type == "number":
        return _to_number(raw, conventions.get(col.name, "id"))
    if col.type == "date":
        d = _to_date(raw, orders.get(col.name, "dmy"))
        return _truncate(d, ds.period.granularity) if col.name == ds.period.column else d
    return _to_bool(raw)
