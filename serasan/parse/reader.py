"""Raw bytes (CSV or XLSX as OPD staff send them) -> a typed Arrow table in the catalog's schema.

A file that cannot be used at all (no header, missing required columns) raises ParseError naming
the file and what was expected. A row with a value that cannot be read is not dropped: it becomes
a Reject with its row number, column, value and what was expected, so that every input row ends
up loaded or rejected.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

import pyarrow as pa

from serasan.common.arrow import ARROW_TYPES
from serasan.common.clock import MONTH_NUMBERS as MONTHS
from serasan.common.progress import current as current_progress
from serasan.config.catalog import Column, Dataset
from serasan.config.reading import DASHES
from serasan.parse import lost_dot, regions, relative_dates
from serasan.parse.empties import NOT_SPECIAL, CellReading, Tally
from serasan.parse.period_context import PeriodContext
from serasan.parse.period_context import resolve as resolve_period
from serasan.parse.sniff import (
    DATA_SHEET,
    Opener,
    ParseError,
    csv_rows,
    json_rows,
    pick_sheet,
    sniff,
    xlsx_rows,
    xlsx_sheets,
)
from serasan.reference.names import AliasTable

ROW_COL = "_row"  # source row number as the OPD sees it (spreadsheet row / CSV line)
SUMMARY_ROW = re.compile(r"^\s*(jumlah|total|grand total|sub ?total)\b", re.IGNORECASE)
# the label alone ('Jumlah', 'TOTAL KESELURUHAN:'): a summary row whatever else the row holds
SUMMARY_LABEL = re.compile(
    r"^\s*(jumlah|total|grand total|sub ?total)"
    r"(\s+(keseluruhan|seluruhnya|semua|akhir))?\s*:?\s*$",
    re.IGNORECASE,
)
EXCEL_EPOCH = dt.date(1899, 12, 30)
CHUNK = 50_000  # rows converted per Arrow batch: memory stays bounded on large files
HEADER_SCAN = 30
__all__ = [
    "ParseError",
    "ParseResult",
    "Reject",
    "RowParser",
    "parse_file",
    "parse_rows",
    "parse_stream",
    "read_cells",
]


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


# ---------------------------------------------------------------- reading rows


def iter_rows(
    opener: Opener, filename: str, ds: Dataset
) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """(notes, rows) of a file, each row with the number the OPD sees (spreadsheet row/line)."""
    with opener() as fh:
        head = fh.read(64 * 1024)
    sn = sniff(head, filename, allow_json=ds.source.kind == "api")
    if sn.kind == "xlsx":
        return sn.notes, xlsx_rows(opener, filename, ds.source.sheet, notes=sn.notes)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ParseError(f"{filename}: has an .xlsx name but is not an XLSX workbook")
    if sn.kind == "json":
        path = str(ds.source.params.get("records_path", "data"))
        return sn.notes, json_rows(opener, filename, ds.column_names, path)
    return sn.notes, csv_rows(opener, filename, sn)


def read_cells(data: bytes, filename: str, ds: Dataset | None = None) -> list[list[Any]]:
    """All rows of a small file as Python values (for tools and tests; parsing streams)."""
    from serasan.parse.sniff import Sniffed, check_zip

    opener = lambda: io.BytesIO(data)  # noqa: E731
    if ds is not None:
        return [r for _, r in iter_rows(opener, filename, ds)[1]]
    sn = sniff(data[:65536], filename, allow_json=False)
    if sn.kind == "xlsx":
        check_zip(opener, filename)
        return [r for _, r in xlsx_rows(opener, filename)]
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise ParseError(f"{filename}: has an .xlsx name but is not an XLSX workbook")
    assert isinstance(sn, Sniffed)
    return [r for _, r in csv_rows(opener, filename, sn)]


# ---------------------------------------------------------------- header


def _match(cells: list[str], wanted: dict[str, set[str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for name, aliases in wanted.items():
        for j, cell in enumerate(cells):
            if cell and cell in aliases and j not in found.values():
                found[name] = j
                break
    return found


def _merged(upper: list[Any], lower: list[Any]) -> list[str]:
    """Two header rows as one: the upper cell spans the blank cells after it (merged cells)."""
    out, span = [], ""
    for j in range(max(len(upper), len(lower))):
        up = _norm(upper[j]) if j < len(upper) else ""
        low = _norm(lower[j]) if j < len(lower) else ""
        span = up or span
        out.append("_".join(p for p in (span, low) if p) if low else (up or ""))
    return out


def _find_header(
    rows: list[list[Any]], ds: Dataset, filename: str, optional: frozenset[str] = frozenset()
) -> tuple[int, dict[str, int], bool]:
    """The header row (0-based index of its last row), each catalog column's position, and
    whether the header is merged over two rows.

    One header row is matched by column name or label; a header merged over two rows is matched
    by the combined text (upper + lower), e.g. 'Jumlah Penduduk' over 'Laki-laki'.
    """
    wanted = {c.name: {_norm(c.name), _norm(c.header)} for c in ds.columns}
    best: tuple[int, dict[str, int], bool] = (-1, {}, False)
    for i, row in enumerate(rows[:HEADER_SCAN]):
        candidates = [_match([_norm(v) for v in row], wanted)]
        if i + 1 < len(rows):
            two = _match(_merged(row, rows[i + 1]), wanted)
            if len(two) > len(candidates[0]):
                candidates = [{}, two]
        for offset, found in enumerate(candidates):
            if len(found) > len(best[1]):
                best = (i + offset, found, offset == 1)
    idx, found, merged = best
    required = [c.name for c in ds.columns if not c.nullable and c.name not in optional]
    missing = [n for n in required if n not in found]
    if idx < 0 or missing:
        seen = [str(v) for v in (rows[idx] if idx >= 0 else []) if v not in (None, "")]
        expected = ", ".join(f"{c.header!r}" for c in ds.columns if c.name in missing)
        raise ParseError(
            f"{filename}: baris judul kolom tidak ditemukan atau tidak lengkap; kolom hilang: "
            f"{expected} (header row not found or incomplete; missing column(s) {expected}; "
            f"best candidate: row {idx + 1}: {seen[:20] or 'none'})"
        )
    return idx, found, merged


def _header_elsewhere(
    opener: Opener, filename: str, ds: Dataset, optional: frozenset[str], exc: ParseError
) -> ParseError:
    """A header missing from the workbook sheet read: the error names the workbook's sheets and
    those that hold the header. The sheet is never guessed: `source.sheet` decides."""
    with opener() as fh:
        if fh.read(4) != b"PK\x03\x04":
            return exc  # not a workbook
    names = xlsx_sheets(opener, filename)
    if len(names) < 2:
        return exc
    read = pick_sheet(names, ds.source.sheet, filename)
    holders = [n for n in names if n != read and _holds_header(opener, filename, n, ds, optional)]
    listed = ", ".join(map(repr, names))
    if ds.source.sheet is not None:
        why_id, why_en = "yang dinyatakan source.sheet", "as source.sheet declares"
    elif read == DATA_SHEET:
        why_id, why_en = "yang bernama Data", "the sheet named Data"
    else:
        why_id, why_en = "sheet pertama", "the first sheet"
    if not holders:
        return ParseError(
            f"{exc}; sheet {read!r} ({why_en}) was read, of {listed}, and no other sheet holds "
            "the header either"
        )
    there = " and ".join(map(repr, holders))
    example = f"source: {{kind: spreadsheet, sheet: {json.dumps(holders[0], ensure_ascii=False)}}}"
    return ParseError(
        f"{filename}: judul kolom tidak ada di sheet {read!r} ({why_id}) melainkan di sheet "
        f"{there}; sheet tidak pernah ditebak: nyatakan di katalog, misalnya `{example}` "
        f"(the header is not on sheet {read!r}, {why_en}, but on sheet {there}, of the "
        f"workbook's sheets {listed}; the sheet is never guessed: the dataset's source.sheet "
        f"decides, e.g. `{example}`)"
    )


def _holds_header(
    opener: Opener, filename: str, sheet: str, ds: Dataset, optional: frozenset[str]
) -> bool:
    rows = xlsx_rows(opener, filename, sheet)
    try:
        head = [row for _, row in islice(rows, HEADER_SCAN + 1)]
        _find_header(head, ds, filename, optional)
    except ParseError:
        return False
    finally:
        rows.close()
    return True


# ---------------------------------------------------------------- values


class _Bad(ValueError):
    def __init__(
        self,
        expected_id: str,
        expected_en: str,
        detail: tuple[str, str] | None = None,  # about this value, after the expected kind
    ):
        super().__init__(expected_en)
        self.expected_id, self.expected_en = expected_id, expected_en
        self.detail = detail


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


_CURRENCY = re.compile(r"^([-+(]?)\s*(rp\.?|idr)\s*", re.IGNORECASE)
_PLAIN_DIGITS = re.compile(r"^-?\d+$")


def _clean_number_text(s: str) -> str:
    # the currency may follow a sign or an opening parenthesis: '-Rp 1.000', '(Rp 1.000)'
    s = s.strip()
    if s[:1].isdigit() and s.isascii() and " " not in s:
        return s  # the common case: nothing to clean
    s = _CURRENCY.sub(r"\1", s)
    return s.replace(" ", "").replace("\u00a0", "")


# what a number may look like once cleaned and unsigned, per convention: a value written the
# other way (1.234,5 in a 1234.5 column) is not silently misread as another number
_NUMBER_SHAPE = {
    "id": re.compile(r"^(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$"),
    "en": re.compile(r"^(\d+|\d{1,3}(,\d{3})+)?(\.\d+)?$"),
}


_ID_ONLY = re.compile(r"\.\d+,\d+$|,(\d{1,2}|\d{4,})$|\d\.\d{3}\.\d{3}|^[-+]?,\d+$")
_EN_ONLY = re.compile(r",\d+\.\d+$|\.(\d{1,2}|\d{4,})$|\d,\d{3},\d{3}|^[-+]?\.\d+$")


def _number_evidence(v: Any) -> str | None:
    """'id' if a value can only be 1.234,5-style (dot thousands), 'en' if only 1234.5-style.

    One separator followed by exactly three digits ('1,000', '1.000') reads both ways and is no
    evidence either way; neither is it when both separators agree ('1,234,567' is only 'en').
    """
    if not isinstance(v, str) or _PLAIN_DIGITS.match(v):
        return None  # no separator: no evidence
    s = _clean_number_text(v).strip("()")
    if _ID_ONLY.search(s):
        return "id"
    if _EN_ONLY.search(s):
        return "en"
    return None


def _number_convention(values: Iterable[Any]) -> str:
    """The column's convention from the values that can be read only one way (default 'id')."""
    votes = Counter(e for e in map(_number_evidence, values) if e)
    return "en" if votes["en"] > votes["id"] else "id"


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


INT64_MAX = 2**63 - 1


def _to_integer(v: Any, convention: str) -> int | None:
    try:
        num = _to_number(v, convention)
    except _Bad:
        if (both := lost_dot.both_readings(v)) is not None:  # '50.36' in a 1.234,5 column
            raise _Bad("bilangan bulat", "a whole number", both) from None
        raise
    if num is None:
        return None
    if not float(num).is_integer():
        # 50.36 people: a decimal, or 50.360 whose thousands dot became a decimal point
        raise _Bad("bilangan bulat", "a whole number", lost_dot.both_readings(v))
    whole = int(num)
    if abs(whole) >= 2**53 and isinstance(v, str):  # beyond a float's exact whole numbers
        digits = re.sub(r"[^0-9-]", "", v.split("," if convention == "id" else ".")[0])
        if re.fullmatch(r"-?\d+", digits):
            whole = int(digits)
    if abs(whole) > INT64_MAX:
        raise _Bad(
            "bilangan bulat",
            "a whole number",
            (
                f"terlalu besar untuk disimpan (batasnya {INT64_MAX:,})".replace(",", "."),
                f"too large to store (the limit is {INT64_MAX:,})",
            ),
        )
    return whole


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_SLASH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$")
_WORDS = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]+)\.?[\s-]+(\d{2,4})$")


def _year(y: str) -> int:
    n = int(y)
    return n + 2000 if n < 100 else n


def _date_evidence(v: Any) -> str | None:
    m = _SLASH.match(v.strip()) if isinstance(v, str) else None
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    # 31/12 and 12/31 tell the order; 31/31 is simply not a date
    return "dmy" if a > 12 >= b else "mdy" if b > 12 >= a else "ambiguous"


def _date_order(values: Iterable[Any]) -> str | None:
    """Decide D/M/Y or M/D/Y for the whole file from values that can only be read one way."""
    seen = {e for e in map(_date_evidence, values) if e}
    if {"dmy", "mdy"} <= seen:
        return "mixed"
    return "dmy" if "dmy" in seen else "mdy" if "mdy" in seen else None


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
    raise _Bad(
        "tanggal, misalnya 31/12/2025 atau 5 Januari 2026",
        "a date such as 31/12/2025 or 5 Januari 2026",
    )


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


# ---------------------------------------------------------------- codes

# The region column is read by serasan.parse.regions (schemes, history, names); its
# `normalise_kode` no longer dots a 10-digit value, which may be a BPS code.
normalise_kode = regions.normalise_kode


# ---------------------------------------------------------------- main entry


@dataclass
class Plan:
    header_idx: int
    positions: dict[str, int]
    width: int  # cells under a header label: the file's own extra columns included
    conventions: dict[str, str]
    orders: dict[str, str]
    notes: list[str]


def _decide(votes: Counter[str]) -> str:
    """The majority of values that read only one way; a tie goes to the first seen; else id."""
    if votes["en"] != votes["id"]:
        return "en" if votes["en"] > votes["id"] else "id"
    return next(iter(votes), "id")


@dataclass
class Head:
    """What the first rows of a file tell: the header, where each column sits, and which
    columns carry number and date conventions to decide."""

    notes: list[str]
    rows: list[list[Any]]  # the first records (HEADER_SCAN + 1 of them)
    numbers: list[int]  # their row numbers (the last line of each record)
    header_idx: int
    positions: dict[str, int]
    width: int
    numeric: dict[str, int]  # number/integer columns whose 1.234,5 or 1234.5 is decided
    dated: dict[str, int]  # date columns whose D/M/Y or M/D/Y is decided

    @property
    def header_number(self) -> int:
        """The row number of the header's last row: data rows follow it."""
        return self.numbers[self.header_idx]


def read_head(
    opener: Opener, filename: str, ds: Dataset, period: PeriodContext | None = None
) -> tuple[Head, Iterator[tuple[int, list[Any]]]]:
    """The header of a file, and the rest of its rows (to read on)."""
    notes, rows = iter_rows(opener, filename, ds)
    head: list[list[Any]] = []
    numbers: list[int] = []
    for number, row in rows:
        head.append(row)
        numbers.append(number)
        if len(head) >= HEADER_SCAN + 1:
            break
    # filled here, not read: the period from its context, the region's source column
    optional = frozenset(
        [
            *([ds.period.column] if period else []),
            *([ds.region.source_column] if ds.region and ds.region.source_column else []),
            *[c.precision_column for c in ds.columns if c.precision_column],
        ]
    )
    try:
        header_idx, positions, merged = _find_header(head, ds, filename, optional)
    except ParseError as exc:
        raise _header_elsewhere(opener, filename, ds, optional, exc) from None
    # a labelled column the catalog does not declare is ignored, not a reason to reject rows
    labelled = [
        j
        for row in head[header_idx - int(merged) : header_idx + 1]
        for j, v in enumerate(row)
        if _text(v) is not None
    ]
    width = max([*labelled, *positions.values()]) + 1
    numeric = {
        c.name: positions[c.name]
        for c in ds.columns
        if c.type in ("integer", "number") and c.name in positions and not c.thousands_dot_lost
    }
    dated = {
        c.name: positions[c.name] for c in ds.columns if c.type == "date" and c.name in positions
    }
    found = Head(notes, head, numbers, header_idx, positions, width, numeric, dated)
    return found, rows


def settle_plan(
    head: Head,
    num_votes: dict[str, Counter[str]],
    date_seen: dict[str, set[str]],
    filename: str,
    ds: Dataset,
    period: PeriodContext | None = None,
) -> Plan:
    """The conventions decided from the evidence of every data row (`_plan`'s second half,
    shared with the vectorised reader, which gathers the same evidence in bulk)."""
    notes = list(head.notes)
    positions = head.positions
    conventions = {n: _decide(v) for n, v in num_votes.items()}
    for name, votes in num_votes.items():
        if votes["en"] and votes["id"]:
            notes.append(
                f"column {ds.column(name).header!r} mixes 1.234,5 and 1234.5 "  # type: ignore[union-attr]
                f"({votes['id']} vs {votes['en']} values); read as "
                f"{'1.234,5' if conventions[name] == 'id' else '1234.5'}"
            )
    orders: dict[str, str] = {}
    for name, seen in date_seen.items():
        header = ds.column(name).header  # type: ignore[union-attr]
        if {"dmy", "mdy"} <= seen:
            raise ParseError(
                f"{filename}: kolom {header!r} mencampur format tanggal D/M/Y dan "
                f"M/D/Y (column {header!r} mixes D/M/Y and M/D/Y dates); write "
                "every date the same way, e.g. 31/12/2025"
            )
        orders[name] = "mdy" if "mdy" in seen else "dmy"
        if seen == {"ambiguous"}:
            notes.append(f"column {header!r}: every d/m date is ambiguous; read as D/M/Y")
    for col in ds.columns:
        if period and col.name == ds.period.column:
            notes.append(period.note(col.header, in_file=col.name in positions))
        elif col.name not in positions and not _filled(ds, col.name):
            notes.append(f"column {col.header!r} is absent from the file; left empty")
    return Plan(head.header_idx, positions, head.width, conventions, orders, notes)


class Evidence:
    """The number and date conventions' evidence, gathered row by row."""

    def __init__(self, head: Head) -> None:
        self.numeric, self.dated = head.numeric, head.dated
        self.num_votes: dict[str, Counter[str]] = {n: Counter() for n in head.numeric}
        self.date_seen: dict[str, set[str]] = {n: set() for n in head.dated}

    def observe(self, row: list[Any]) -> None:
        for name, pos in self.numeric.items():
            if pos < len(row) and (e := _number_evidence(row[pos])):
                self.num_votes[name][e] += 1
        for name, pos in self.dated.items():
            if pos < len(row) and (e := _date_evidence(row[pos])):
                self.date_seen[name].add(e)


def _plan(opener: Opener, filename: str, ds: Dataset, period: PeriodContext | None = None) -> Plan:
    """First pass: find the header, then decide number and date conventions per column."""
    head, rows = read_head(opener, filename, ds, period)
    evidence = Evidence(head)
    for row in head.rows[head.header_idx + 1 :]:
        evidence.observe(row)
    for _, row in rows:
        evidence.observe(row)
    return settle_plan(head, evidence.num_votes, evidence.date_seen, filename, ds, period)


class RowParser:
    """Today's per-row conversion of one file, row by row: every cell through the column's
    converter, summary and ragged rows rejected, the region rules applied. The reference the
    vectorised reader (`serasan.parse.fast_csv`) is compared against, and the path it hands
    the rows it cannot settle to, so that those keep their exact reject messages."""

    def __init__(
        self,
        ds: Dataset,
        plan: Plan,
        context: PeriodContext | None,
        region: regions.RowResolver | None,
        collected: dt.date | None = None,
    ) -> None:
        self.ds, self.plan, self.region = ds, plan, region
        self.collected = collected
        # relative date columns whose precision goes to a column of its own
        self.precisions = [
            (c, ds.column_names.index(c.precision_column))
            for c in ds.columns
            if c.relative and c.precision_column
        ]
        self.width = plan.width
        self.needed = (
            max(
                (
                    plan.positions[c.name]
                    for c in ds.columns
                    if not c.nullable and c.name in plan.positions
                ),
                default=0,
            )
            + 1
        )
        self.values: dict[str, list[Any]] = {c.name: [] for c in ds.columns}
        self.column_values = [self.values[c.name] for c in ds.columns]
        self.row_numbers: list[int] = []
        self.rejects: list[Reject] = []
        self.rows_in = 0
        self.tally, self.fixes = Tally.of(ds), lost_dot.Corrections()
        self.converters = _converters(ds, plan, self.tally, self.fixes, context, collected)
        self.columns = [(c.name, plan.positions.get(c.name)) for c in ds.columns]
        self.schema = pa.schema(
            [*[(c.name, ARROW_TYPES[c.type]) for c in ds.columns], (ROW_COL, pa.int32())]
        )

    def record(self, row: list[Any]) -> tuple[tuple[str, str | None], ...]:
        return tuple(
            (name, _text(row[pos]) if pos is not None and pos < len(row) else None)
            for name, pos in self.columns
        )

    def batch(self) -> pa.RecordBatch | None:
        """The rows taken since the last batch, typed; None when there are none."""
        if not self.row_numbers:
            return None
        ds = self.ds
        arrays = [pa.array(self.values[c.name], type=ARROW_TYPES[c.type]) for c in ds.columns]
        arrays.append(pa.array(self.row_numbers, type=pa.int32()))
        for v in self.values.values():
            v.clear()
        self.row_numbers.clear()
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def take(self, number: int, row: list[Any]) -> None:
        """One data row (after the header): loaded into the batch, rejected, or skipped when
        blank."""
        first = next((t for v in row if (t := _text(v)) is not None), None)
        if first is None:  # a blank line is not a row
            return
        self.rows_in += 1
        ds, rejects, column_values, region = self.ds, self.rejects, self.column_values, self.region
        if SUMMARY_ROW.match(first) and _is_summary(row, self.plan.positions, ds):
            rejects.append(
                Reject(
                    number,
                    None,
                    first,
                    "baris ringkasan (Jumlah/Total) tidak dimuat",
                    "summary row (Jumlah/Total) is not loaded",
                    kind="summary",
                    record=self.record(row),
                )
            )
            return
        if len(row) > self.width or len(row) < self.needed:
            ragged = _ragged(row, self.width, self.needed, number)
            if ragged:
                rejects.append(replace(ragged, record=self.record(row)))
                return
        n = len(row)
        kept = len(self.row_numbers)
        try:
            for spec, out in zip(self.converters, column_values, strict=True):
                pos = spec[1]
                out.append(spec[2](row[pos] if pos is not None and pos < n else None))
            for relative, target in self.precisions:
                column_values[target][-1] = self._precision(relative, row)
            if region is not None:
                region.row = number
                miss = region.apply(column_values)
            else:
                miss = None
            if miss is not None:
                spec = (miss.column, self.plan.positions.get(miss.column), None)
                if miss.total_of is not None:  # the whole area's total: a summary row
                    for out in column_values:
                        del out[kept:]
                    rejects.append(
                        Reject(
                            number,
                            None,
                            first,
                            f"baris total {miss.total_of} (seluruh wilayah dataset) tidak dimuat",
                            f"total row of {miss.total_of} (the dataset's whole area) is not "
                            "loaded",
                            kind="summary",
                            record=self.record(row),
                        )
                    )
                    return
                raise _Bad(miss.expected_id, miss.expected_en, miss.detail)
        except _Bad as bad:
            name, pos = spec[0], spec[1]
            for out in column_values:
                del out[kept:]
            col = ds.column(name)
            raw = row[pos] if pos is not None and pos < n else None
            shown = _text(raw)
            header = col.header if col else name
            detail_id, detail_en = (f": {d}" for d in bad.detail) if bad.detail else ("", "")
            rejects.append(
                Reject(
                    number,
                    name,
                    shown,
                    f"kolom '{header}' berisi {shown!r}, seharusnya {bad.expected_id}{detail_id}",
                    f"column '{header}' holds {shown!r}, expected {bad.expected_en}{detail_en}",
                    expected_id=bad.expected_id,
                    expected_en=bad.expected_en,
                    record=self.record(row),
                )
            )
            return
        self.row_numbers.append(number)

    def _precision(self, col: Column, row: list[Any]) -> str | None:
        """day, week, month or year: what a relative date cell's words support."""
        pos = self.plan.positions.get(col.name)
        raw = _text(row[pos]) if pos is not None and pos < len(row) else None
        if raw is None or raw.casefold() in self.tally.readings[col.name].na or raw in DASHES:
            return None
        if self.collected is not None and (got := relative_dates.read(raw, self.collected)):
            return got[1]
        return "day"

    def notes(self) -> list[str]:
        region = self.region
        return (
            self.plan.notes
            + self.tally.notes()
            + self.fixes.notes()
            + (region.notes() if region else [])
        )


def parse_stream(
    opener: Opener,
    filename: str,
    ds: Dataset,
    period: str | None = None,
    aliases: AliasTable | None = None,
    *,
    fast: bool | None = None,
    collected: dt.date | None = None,
) -> ParseResult:
    """Parse one OPD file into the dataset's typed schema, keeping every row accounted for.

    A CSV is read by the vectorised reader (`serasan.parse.fast_csv`) unless `fast` is False
    (or SERASAN_PARSE_FAST=0); files it cannot take come back here, with the reason logged.
    `period` is the one given with the file (`--period`); with it, or the catalog's
    period.constant/from_filename, the file needs no period column
    (`serasan.parse.period_context`). The region column is read as the catalog's region block
    declares (`serasan.parse.regions`), names with `aliases` (the catalog's; by default those
    of SERASAN_CATALOG_DIR).
    """
    if fast is None:
        fast = os.environ.get("SERASAN_PARSE_FAST", "1") not in ("0", "false", "no")
    collected = collected or ds.source.collected_on
    if fast and not any(c.relative for c in ds.columns):  # relative dates: row by row
        from serasan.parse import fast_csv

        done = fast_csv.parse(opener, filename, ds, period, aliases)
        if done is not None:
            return done
    return parse_rows(opener, filename, ds, period, aliases, collected=collected)


def parse_rows(
    opener: Opener,
    filename: str,
    ds: Dataset,
    period: str | None = None,
    aliases: AliasTable | None = None,
    *,
    collected: dt.date | None = None,
) -> ParseResult:
    """Today's per-row reader: two streaming passes over the file (conventions, then
    conversion in batches of CHUNK rows), so memory holds the typed result, not the file's
    text. The reference for the vectorised reader, and the path for what it cannot take."""
    context = resolve_period(ds, filename, period)
    plan = _plan(opener, filename, ds, context)
    _, rows = iter_rows(opener, filename, ds)
    region = regions.for_dataset(ds, regions.default_aliases() if aliases is None else aliases)
    parser = RowParser(ds, plan, context, region, collected or ds.source.collected_on)
    batches: list[pa.RecordBatch] = []
    progress = current_progress()
    for index, (number, row) in enumerate(rows):
        if index <= plan.header_idx:
            continue
        parser.take(number, row)
        if len(parser.row_numbers) >= CHUNK:
            progress.advance(CHUNK)
            batches.append(parser.batch())  # type: ignore[arg-type]
    if (last := parser.batch()) is not None:
        batches.append(last)
    if region is not None:
        region.finish(filename)  # a file written in another scheme is refused as a whole
    return ParseResult(
        table=pa.Table.from_batches(batches, schema=parser.schema),
        rejects=parser.rejects,
        rows_in=parser.rows_in,
        header_row=plan.header_idx + 1,
        notes=parser.notes(),
    )


def parse_file(
    data: bytes,
    filename: str,
    ds: Dataset,
    period: str | None = None,
    aliases: AliasTable | None = None,
    *,
    fast: bool | None = None,
    collected: dt.date | None = None,
) -> ParseResult:
    """`parse_stream` over bytes already in memory."""
    return parse_stream(
        lambda: io.BytesIO(data), filename, ds, period, aliases, fast=fast, collected=collected
    )


def _filled(ds: Dataset, column: str) -> bool:
    """Columns the parser fills rather than reads: the region's source column, and the
    precision of relative dates."""
    return regions.fills(ds, column) or any(c.precision_column == column for c in ds.columns)


def _is_summary(row: list[Any], positions: dict[str, int], ds: Dataset) -> bool:
    """A row whose first cell says Jumlah/Total: a summary row, unless it is a complete record.

    'Jumlah' or 'TOTAL KESELURUHAN' alone is always a summary label. Longer text starting with
    the word ('TOTAL MAKMUR', a business) is data when it sits in a text column and every
    required column of the row has a value; a summary row leaves its key columns empty.
    """
    index, first = next((j, t) for j, v in enumerate(row) if (t := _text(v)) is not None)
    if SUMMARY_LABEL.match(first):
        return True
    column = next((c for c in ds.columns if positions.get(c.name) == index), None)
    if column is None or column.type != "string":
        return True
    required = [positions.get(c.name) for c in ds.columns if not c.nullable]
    return not required or any(
        p is None or p >= len(row) or _text(row[p]) is None for p in required
    )


def _ragged(row: list[Any], width: int, needed: int, number: int) -> Reject | None:
    extra = [v for v in row[width:] if _text(v) is not None]
    if extra and len(row) > width:
        return Reject(
            number,
            None,
            _text(extra[0]),
            f"baris berisi {len(row)} sel, lebih banyak dari {width} kolom judul; "
            f"nilai {_text(extra[0])!r} tidak punya judul kolom",
            f"row has {len(row)} cells, more than the {width} header columns; "
            f"{_text(extra[0])!r} has no header",
            kind="ragged",
        )
    if len(row) < needed:
        return Reject(
            number,
            None,
            None,
            f"baris terpotong: hanya {len(row)} sel, kolom wajib sampai kolom ke-{needed}",
            f"truncated row: {len(row)} cells, required columns go up to column {needed}",
            kind="ragged",
        )
    return None


_PLAIN_EN = re.compile(r"^-?\d+(\.\d+)?$")
_PLAIN_ID = re.compile(r"^-?\d+(,\d+)?$")
_PLAIN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _converters(
    ds: Dataset,
    plan: Plan,
    tally: Tally,
    fixes: lost_dot.Corrections,
    period: PeriodContext | None = None,
    collected: dt.date | None = None,
) -> list[tuple[str, int | None, Any]]:
    """One function per catalog column, built once per file (the hot loop calls them).

    Plain values take a fast path (`1234.5`, `1234,5`, `2026-01-05`) that gives exactly what
    the general converters give for them; anything else goes through the general ones, after
    the column's empty markers and dash (`serasan.parse.empties`).
    """
    out = []
    for col in ds.columns:
        pos = plan.positions.get(col.name)
        reading = tally.readings[col.name]
        fn: Callable[[Any], object]
        if col.type == "string":
            fn = _text  # the region column: resolved per row by serasan.parse.regions
            fn = _with_markers(fn, reading)
        elif col.type == "integer" and col.thousands_dot_lost:
            fn = _lost_dot_fn(col.header, reading, fixes)
        elif col.type in ("integer", "number"):
            fn = _number_fn(col.type, plan.conventions.get(col.name, "id"), reading)
        elif col.type == "date":
            granularity = ds.period.granularity if col.name == ds.period.column else "day"
            fn = _date_fn(plan.orders.get(col.name, "dmy"), granularity, reading)
            if col.relative:
                fn = _relative_fn(fn, col.header, granularity, collected)
        else:
            fn = _with_markers(_to_bool, reading)
        if period is not None and col.name == ds.period.column:
            fn = _period_fn(fn, period)
        out.append((col.name, pos, fn))
    return out


def _with_markers(fn: Callable[[Any], object], reading: CellReading) -> Callable[[Any], object]:
    """`fn` after the column's empty markers (text and yes/no columns)."""
    if not reading.active:
        return fn

    def convert(v: Any) -> object:
        if type(v) is str and (got := reading.read(v.strip())) is not NOT_SPECIAL:
            return got
        return fn(v)

    return convert


def _lost_dot_fn(header: str, reading: CellReading, fixes: lost_dot.Corrections) -> Any:
    """An integer column declaring thousands_dot_lost: 50.36 -> 50360 (`serasan.parse.lost_dot`)."""

    def convert(v: Any) -> Any:
        if v is None:
            return None
        if type(v) is str:
            t = v.strip()
            if not t:
                return None
            if (got := reading.read(t)) is not NOT_SPECIAL:
                return got
            if (n := lost_dot.intact(t)) is not None:
                return n
        if (n := lost_dot.thousands_reading(v)) is not None:
            fixes.add(header, v, n)
            return n
        whole = _to_integer(v, "id")
        if whole is not None and (both := lost_dot.whole_is_ambiguous(whole)):
            raise _Bad(
                "bilangan bulat yang titik ribuannya hilang",
                "a count whose thousands dot was lost",
                both,
            )
        return whole

    return convert


def _relative_fn(
    fn: Callable[[Any], object], header: str, granularity: str, collected: dt.date | None
) -> Any:
    """A date column that may say "3 bulan lalu" (`serasan.parse.relative_dates`): resolved
    against the collection date; without one, the file is refused, naming the setting."""

    def convert(v: Any) -> Any:
        if type(v) is str and relative_dates.looks_relative(v):
            if collected is None:
                raise ParseError(
                    f"kolom {header!r} berisi tanggal relatif {v.strip()!r}, padahal tanggal "
                    "pengumpulan file tidak diketahui: nyatakan source.collected_on di katalog "
                    "atau berikan --collected-on (column {header!r} holds the relative date "
                    f"{v.strip()!r} but the file's collection date is unknown: declare "
                    "source.collected_on in the catalog or pass --collected-on)"
                )
            got = relative_dates.read(v, collected)
            if got is not None:
                return _truncate(got[0], granularity)
        return fn(v)

    return convert


def _period_fn(fn: Callable[[Any], object], ctx: PeriodContext) -> Any:
    """The period column when the period comes from context: empty (or absent) takes it, and
    a row naming another period is rejected."""

    def convert(v: Any) -> Any:
        got = fn(v)
        if got is None:
            return ctx.value
        if got != ctx.value:
            raise _Bad(
                f"periode {ctx.text} (dari {ctx.source_id})",
                f"the period {ctx.text} (from {ctx.source_en})",
            )
        return got

    return convert


def _number_fn(kind: str, convention: str, reading: CellReading | None = None) -> Any:
    plain = _PLAIN_EN if convention == "en" else _PLAIN_ID
    slow = _to_integer if kind == "integer" else _to_number

    def convert(v: Any) -> Any:
        if type(v) is str:
            t = v.strip()
            if plain.match(t):
                num = float(t.replace(",", ".")) if convention == "id" else float(t)
                if kind == "number":
                    return num
                if num.is_integer() and abs(num) < 2**53:
                    return int(num)
            elif reading is not None and (got := reading.read(t)) is not NOT_SPECIAL:
                return got
        return slow(v, convention)

    return convert


def _date_fn(order: str, granularity: str, reading: CellReading | None = None) -> Any:
    def convert(v: Any) -> Any:
        if type(v) is str:
            if _PLAIN_ISO.match(t := v.strip()):
                try:
                    return _truncate(dt.date.fromisoformat(t), granularity)
                except ValueError:
                    pass
            elif reading is not None and (got := reading.read(t)) is not NOT_SPECIAL:
                return got
        return _truncate(_to_date(v, order), granularity)

    return convert
