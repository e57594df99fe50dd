"""`serasan onboard`: a draft dataset YAML and a draft GX suite from one sample file.

The sample is read the way the parser reads it (`serasan.parse.sniff`'s rows; the reader's cell
conversions for Indonesian numbers, dates and yes/no; title rows above the header and a header
merged over two rows; Jumlah/Total rows left out). Every column gets a type and a nullability,
the region column and its scheme are found by content (every scheme is tried and its count
shown), key candidates are the unique combinations of one to three columns, numbers get a
range and short text columns their allowed values. Each guess carries a YAML comment saying
what it was based on; the draft is validated through the catalog's own loader and then checked
against the sample exactly as `serasan check` would, so what the reviewer reads is what the
pipeline will do.

Nothing is written here: `Draft.write` does that, refusing to overwrite without `force`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import shutil
import tempfile
import typing
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from serasan.common.clock import JAKARTA
from serasan.config.catalog import (
    IDENT,
    PILLARS,
    Catalog,
    CatalogError,
    Dataset,
    RegionSpec,
    load_catalog,
)
from serasan.config.reading import DASHES, DEFAULT_NA_VALUES
from serasan.parse import lost_dot, reader
from serasan.parse.sniff import (
    DATA_SHEET,
    ParseError,
    Sniffed,
    csv_rows,
    sniff,
    xlsx_rows,
    xlsx_sheets,
)
from serasan.quality import rules
from serasan.quality.scaffold import BETWEEN, DEFAULT_MIN_DATE, scaffold_suite
from serasan.quality.suites import check_suite

MAX_ROWS = 200_000  # rows read from a sample; more say nothing new about types
ALLOWED_MAX = 12  # distinct values up to which a short text column gets `allowed`
ALLOWED_LENGTH = 40
KEY_COLUMNS = 10  # columns tried in key combinations (C(10, 3) = 120 combinations)
KEY_CANDIDATES = 5
NA_TEXT = frozenset(v.casefold() for v in DEFAULT_NA_VALUES)
PERIOD_WORDS = re.compile(
    r"(^|_)(tahun|thn|year|periode|period|bulan|month|tanggal|tgl|date|triwulan|quarter)(_|$)"
)
CODE_WORDS = re.compile(r"(^|_)(kode|kd|code|id|nik|nip|nomor|npwp|nib|no_kk|kk)(_|$)")
ROW_NUMBER = {"no", "nomor", "no_urut", "nomor_urut", "urut", "nr", "number"}
PII_WORDS = re.compile(r"(^|_)(nik|no_kk|nomor_kk|nomor_hp|no_hp|telepon|telp|email)(_|$)")
UNIT_IN_HEADER = re.compile(r"\(([^()]{1,20})\)\s*$")
MONEY_UNITS = {"rp": "Rupiah", "rupiah": "Rupiah", "idr": "Rupiah"}
_YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_DOTTED = re.compile(r"^\d{1,2}(\.\d{1,4}){0,3}$")
_ONE_DOT = re.compile(r"^\d{1,3}\.(\d{1,3})$")
FREKUENSI = {
    "daily": "Harian",
    "monthly": "Bulanan",
    "quarterly": "Triwulanan",
    "yearly": "Tahunan",
}
CADENCE = {"day": "daily", "month": "monthly", "quarter": "quarterly", "year": "yearly"}
LEVEL_NAMES = {
    "provinsi": "Provinsi",
    "kabupaten_kota": "Kabupaten/Kota",
    "kecamatan": "Kecamatan",
    "desa_kelurahan": "Desa/Kelurahan",
}


class OnboardError(Exception):
    """The sample or the arguments cannot give a draft; the message says why."""


# ---------------------------------------------------------------- reading the sample


@dataclass
class Sample:
    """The sample as the parser sees it: its header and its data rows (row numbers kept)."""

    filename: str
    header_row: int  # 1-based, the header's last row (two for a merged header)
    merged: bool
    labels: dict[int, str]  # cell position -> header label (merged: upper + lower)
    rows: list[tuple[int, list[Any]]]  # data rows (number, cells), summaries and notes left out
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, why) left out
    truncated: bool = False
    unlabelled: list[int] = field(default_factory=list)  # positions with values but no label
    sheet: str | None = None  # the workbook sheet read, when not the first: declared in the draft
    sheet_why: str = ""


def _rows(data: bytes, filename: str, sheet: str | None = None) -> list[tuple[int, list[Any]]]:
    """Rows as `serasan.parse.reader.iter_rows` yields them, without a dataset to match."""
    sn = sniff(data[:65536], filename, allow_json=False)
    opener = lambda: io.BytesIO(data)  # noqa: E731
    stream: Iterable[tuple[int, list[Any]]]
    if sn.kind == "xlsx":
        stream = xlsx_rows(opener, filename, sheet)
    elif filename.lower().endswith((".xlsx", ".xlsm")):
        raise ParseError(f"{filename}: has an .xlsx name but is not an XLSX workbook")
    else:
        assert isinstance(sn, Sniffed)
        stream = csv_rows(opener, filename, sn)
    out = []
    for number, row in stream:
        out.append((number, row))
        if len(out) > MAX_ROWS:
            break
    return out


def _numberish(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float | dt.date):
        return True
    t = reader._text(v)
    return t is not None and bool(re.fullmatch(r"[-+(]?\s*(rp\.?\s*)?[\d.,\s]+\)?%?", t, re.I))


def _headerish(row: list[Any]) -> tuple[int, int]:
    """(cells with a value, of which text that is not a number)."""
    present = [v for v in row if reader._text(v) is not None]
    return len(present), sum(1 for v in present if not _numberish(v))


def read_sample(data: bytes, filename: str, sheet: str | None = None) -> Sample:
    """The header and the data rows of a sample, found without a catalog entry to match
    (of a workbook, from `sheet`; by default the one the parser reads: Data, else the first)."""
    rows = _rows(data, filename, sheet)
    truncated = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    scan = [(i, r) for i, (_, r) in enumerate(rows[: reader.HEADER_SCAN])]
    widths = {i: _headerish(r) for i, r in scan}
    widest = max((w for w, _ in widths.values()), default=0)
    header = next(
        (
            i
            for i, _ in scan
            if widths[i][0] >= max(2, math.ceil(widest / 2)) and widths[i][1] * 2 >= widths[i][0]
        ),
        None,
    )
    if header is None:
        raise OnboardError(
            f"{filename}: no header row in the first {reader.HEADER_SCAN} rows: expected a row "
            "of column names at least half as wide as the widest row"
        )
    upper = rows[header][1]
    labels = {j: t for j, v in enumerate(upper) if (t := reader._text(v)) is not None}
    merged = False
    if header + 1 < len(rows):
        lower = rows[header + 1][1]
        n, texty = _headerish(lower)
        first = min(labels)
        gaps = [
            j
            for j, v in enumerate(lower)
            if j > first and j not in labels and reader._text(v) is not None
        ]
        if gaps and n >= 2 and texty * 2 >= n and texty >= len(gaps):
            merged = True
            labels = {}
            span = ""
            for j in range(max(len(upper), len(lower))):
                up = reader._text(upper[j]) if j < len(upper) else None
                low = reader._text(lower[j]) if j < len(lower) else None
                span = up or span
                if low:  # the parser's `_merged`: upper span + lower
                    labels[j] = f"{span} {low}".strip() if span else low
                elif up:
                    labels[j] = up
    start = header + 1 + int(merged)
    sample = Sample(filename, rows[header + int(merged)][0], merged, labels, [], [], truncated)
    width_seen: Counter[int] = Counter()
    body = []
    for number, row in rows[start:]:
        cells = {j: reader._text(row[j]) if j < len(row) else None for j in labels}
        present = [j for j, t in cells.items() if t is not None]
        extra = [j for j, v in enumerate(row) if j not in labels and reader._text(v) is not None]
        if not present and not extra:
            continue  # a blank line is not a row
        first_text = cells[min(present)] if present else None
        if (
            first_text
            and reader.SUMMARY_ROW.match(first_text)
            and (reader.SUMMARY_LABEL.match(first_text) or len(present) < len(labels))
        ):
            sample.skipped.append((number, f"summary row ({first_text!r}), as the parser skips"))
            continue
        for j in extra:
            if j not in sample.unlabelled:
                sample.unlabelled.append(j)
        width_seen[len(present)] += 1
        body.append((number, row, len(present)))
    typical = max(width_seen, key=lambda w: (width_seen[w], w)) if width_seen else 0
    for number, row, n in body:
        if n <= 1 < typical:
            text = next((t for v in row if (t := reader._text(v)) is not None), "")
            shown = text if len(text) <= 40 else text[:37] + "..."
            sample.skipped.append((number, f"a note, not data: one cell ({shown!r})"))
        else:
            sample.rows.append((number, row))
    sample.unlabelled.sort()
    return sample


def read_data_sheet(data: bytes, filename: str) -> Sample:
    """`read_sample` of a CSV, or of the workbook sheet with the data: the one named Data when
    there is one (as the parser reads), else the one with the most data rows. A sheet other
    than the first is declared in the draft (`source.sheet`), and its comment says why."""
    if not data.startswith(b"PK\x03\x04"):
        return read_sample(data, filename)
    names = xlsx_sheets(lambda: io.BytesIO(data), filename)
    if DATA_SHEET in names or len(names) < 2:
        sample = read_sample(data, filename)  # the parser's own choice
        if DATA_SHEET in names and names[0] != DATA_SHEET:
            sample.sheet = DATA_SHEET
            sample.sheet_why = (
                f"sheet: the workbook's sheets are {', '.join(map(repr, names))}; the data is "
                f"on {DATA_SHEET!r}, which the parser reads when no sheet is declared"
            )
        return sample
    found: dict[str, Sample] = {}
    failed: dict[str, OnboardError] = {}
    for name in names:
        try:
            found[name] = read_sample(data, filename, name)
        except OnboardError as exc:
            failed[name] = exc
    if not found:
        raise OnboardError(
            f"{filename}: no sheet of the workbook ({', '.join(map(repr, failed))}) has a header "
            f"row in its first {reader.HEADER_SCAN} rows: expected a row of column names at least "
            "half as wide as the widest row"
        )
    best = max(found, key=lambda n: len(found[n].rows))  # the first of equals
    sample = found[best]
    if best != names[0]:
        counts = [
            f"{n!r} ({len(found[n].rows)} data rows)" if n in found else f"{n!r} (no header)"
            for n in names
        ]
        sample.sheet = best
        sample.sheet_why = (
            f"GUESS sheet: the workbook's sheets are {', '.join(counts)}; the data is taken from "
            f"{best!r}, the one with the most data rows. The parser never guesses a sheet: "
            "without this setting it would read the first"
        )
    return sample


# ---------------------------------------------------------------- regions


@dataclass
class SchemeCount:
    scheme: str  # kemendagri | kemendagri_undotted | bps | name
    resolved: int
    levels: Counter[str] = field(default_factory=Counter)
    codes: dict[str, str] = field(default_factory=dict)  # value -> Kemendagri code


@dataclass
class RegionGuess:
    column: str
    distinct: int
    counts: dict[str, SchemeCount]
    scheme: str | None  # the best scheme, if it resolves at least half the distinct values
    level: str | None
    shape_level: str | None = None  # the level the values' shape gives, when none resolve
    shape_parent: str | None = None

    @property
    def best(self) -> SchemeCount | None:
        return self.counts.get(self.scheme) if self.scheme else None

    def summary(self) -> str:
        parts = [f"{k} {c.resolved}" for k, c in self.counts.items()]
        return f"of {self.distinct} distinct values, " + ", ".join(parts) + " resolve"


def _kemendagri(value: str) -> str | None:
    """A dotted Kemendagri-looking value without spaces, each part zero-padded; None when the
    value is not dotted digits (an undotted one is ambiguous with BPS codes: not read here)."""
    v = re.sub(r"\s+", "", value)
    if "." not in v or not _DOTTED.match(v):
        return None
    return reader.normalise_kode(v)


def detect_region(column: str, values: Iterable[str]) -> RegionGuess:
    """How many distinct values each scheme resolves, anywhere in the shipped reference.

    Counted with the parser's own resolvers (`serasan.parse.regions`), so onboarding and the
    parser agree on what resolves. kemendagri: dotted codes (spaces and missing zeros allowed),
    current or superseded; kemendagri_undotted: digits that are a current code once dotted
    (for 10 digits they could also be a BPS village code); bps: BPS codes of the crosswalk;
    name: a region name naming exactly one region of a level in a shipped province.
    """
    from serasan.parse import regions
    from serasan.reference import provinces
    from serasan.reference.versions import Level

    distinct = sorted({v.strip() for v in values if v and v.strip()})
    counts = {s: SchemeCount(s, 0) for s in ("kemendagri", "kemendagri_undotted", "bps", "name")}
    names_at: dict[str, dict[str, str]] = {lv: {} for lv in rules.LEVELS}

    def current(out: regions.Outcome) -> str | None:
        code = out.code if out.ok else None
        return code if code and provinces.current_region(code) is not None else None

    def hit(scheme: str, value: str, code: str) -> None:
        c = counts[scheme]
        c.resolved += 1
        c.codes[value] = code
        region = provinces.current_region(code)
        c.levels[str(region.level) if region is not None else "?"] += 1

    for v in distinct:
        compact = "".join(v.split())
        if compact.isdigit():
            code = current(regions.resolve_kemendagri(v, undotted=True))
            if code and code != compact:
                hit("kemendagri_undotted", v, code)
            bps = (current(regions.resolve_bps(v, lvl)) for lvl in Level)
            if (code := next((c for c in bps if c), None)) is not None:
                hit("bps", v, code)
        elif _kemendagri(v) is not None:
            if (code := current(regions.resolve_kemendagri(v))) is not None:
                hit("kemendagri", v, code)
        else:
            for lv in rules.LEVELS:  # a name counts at each level where it names one region
                found = (
                    current(regions.resolve_name(v, Level(lv), kode, suggest=False))
                    for kode in provinces.SHIPPED
                )
                if (code := next((c for c in found if c), None)) is not None:
                    names_at[lv][v] = code
    level_best = max(rules.LEVELS, key=lambda lv: len(names_at[lv]))
    for v, code in names_at[level_best].items():
        hit("name", v, code)
    best = max(counts.values(), key=lambda c: c.resolved)
    guess = RegionGuess(column, len(distinct), counts, None, None)
    if distinct and best.resolved * 2 >= len(distinct):
        guess.scheme = best.scheme
        guess.level = best.levels.most_common(1)[0][0]
    else:  # nothing resolves: say what the values' shape is, without declaring anything
        shapes = Counter(
            str(shape) for v in distinct if (kd := _kemendagri(v)) and (shape := _level_of(kd))
        )
        if shapes and shapes.most_common(1)[0][1] * 10 >= len(distinct) * 9:
            guess.shape_level = shapes.most_common(1)[0][0]
            parents = {kd[:5] for v in distinct if (kd := _kemendagri(v))}
            guess.shape_parent = next(iter(parents)) if len(parents) == 1 else None
    return guess


def _level_of(code: str) -> str | None:
    from serasan.reference.versions import level_of

    lv = level_of(code)
    return str(lv) if lv else None


# ---------------------------------------------------------------- columns


@dataclass
class ColumnGuess:
    position: int
    label: str
    name: str
    type: str = "string"
    nullable: bool = True
    why: list[str] = field(default_factory=list)  # comment lines: what each guess rests on
    values: list[Any] = field(default_factory=list)  # typed per data row (None: empty)
    low: float | None = None
    high: float | None = None
    allowed: list[str] | None = None
    unit: str | None = None
    thousands_dot_lost: bool = False
    code_like: bool = False
    row_number: bool = False
    pii: bool = False
    granularity: str | None = None  # a period column's
    from_context: bool = False  # the period column is not in the file


def ident(label: str, taken: set[str]) -> str:
    """A catalog column name (`IDENT`) from a header: `Jumlah Penduduk (jiwa)` ->
    `jumlah_penduduk_jiwa`, `00 - 04` -> `k_00_04`; unique among `taken`."""
    ascii_ = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_") or "kolom"
    if not base[0].isalpha():
        base = f"k_{base}"
    if len(base) < 2:
        base = f"kolom_{base}"
    base = base[:63].rstrip("_")
    name, i = base, 2
    while name in taken or not re.match(IDENT, name):
        suffix = f"_{i}"
        name = base[: 63 - len(suffix)].rstrip("_") + suffix
        i += 1
    taken.add(name)
    return name


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _shown(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _convert(values: list[Any], fn: Any) -> list[Any] | None:
    """Each present value through the reader's converter; None when one does not read."""
    out = []
    for v in values:
        try:
            out.append(fn(v))
        except (ValueError, TypeError):
            return None
    return out


def _lost_dot(texts: list[str]) -> bool:
    """Counts whose thousands dot became a decimal point: every value is whole digits or one
    dot with 1-3 digits after it, and most dotted values have exactly three (167.228), which a
    measure with decimals rarely has in every row."""
    dotted = [m for t in texts if (m := _ONE_DOT.match(t))]
    plain = [t for t in texts if t.isdigit()]
    if not dotted or len(dotted) + len(plain) != len(texts):
        return False
    return sum(1 for m in dotted if len(m.group(1)) == 3) * 2 > len(dotted)


def infer_column(g: ColumnGuess, cells: list[Any]) -> None:
    """Type, nullability, range and the reasons, from one column's cells (one per data row)."""
    n = len(cells)
    texts = [reader._text(v) for v in cells]
    present = [v for v, t in zip(cells, texts, strict=True) if t is not None]
    markers = Counter(t for t in texts if t is not None and t.casefold() in NA_TEXT)
    dashes = sum(1 for t in texts if t is not None and t in DASHES)
    values = [
        v
        for v, t in zip(cells, texts, strict=True)
        if t is not None and t.casefold() not in NA_TEXT and t not in DASHES
    ]
    empty = n - len(present)
    g.code_like = bool(CODE_WORDS.search(g.name)) or any(
        isinstance(v, str) and re.fullmatch(r"0\d+", v.strip()) for v in values
    )
    if not values and dashes:
        g.type, g.nullable = "integer", True
        g.why.append(
            f"GUESS integer, optional: its only values are '-' ({dashes} of {n} rows), which "
            "number columns read as empty (dash: empty); declare dash: zero if '-' means 0"
        )
        g.values = [None] * n
        return
    if not values:
        g.type, g.nullable = "string", True
        g.why.append(f"GUESS string, optional: no value in the {n} data rows to tell its type from")
        g.values = [None] * n
        return
    if n and g.name in ROW_NUMBER:
        nums = _convert(values, lambda v: reader._to_integer(v, "id"))
        if nums is not None and sorted(nums) == list(range(1, len(nums) + 1)):
            g.row_number = True
            g.why.append(f"a row number (1 to {len(nums)}): never a key")
    convention = reader._number_convention(values)
    text_values = [t for t in (reader._text(v) for v in values) if t is not None]
    typed: list[Any] | None = None
    if not g.code_like or g.row_number:
        typed = _convert(values, lambda v: reader._to_integer(v, convention))
        if typed is not None:
            g.type = "integer"
            g.why.append(
                f"GUESS integer: every value is a whole number ({_CONVENTION_WORDS[convention]})"
            )
        elif all(isinstance(v, str) for v in values) and _lost_dot(text_values):
            typed = [int(t) if t.isdigit() else lost_dot.thousands_reading(t) for t in text_values]
            g.type, g.thousands_dot_lost = "integer", True
            example = next(t for t in text_values if "." in t)
            g.why.append(
                f"GUESS integer with a lost thousands dot: values such as {example} have one dot "
                "and mostly three digits after it, as counts whose dot became a decimal point "
                "(167.228 = 167,228; 50.36 = 50,360). If they really are decimals, make the "
                "column `number` and remove thousands_dot_lost"
            )
        else:
            typed = _convert(values, lambda v: reader._to_number(v, convention))
            if typed is not None:
                g.type = "number"
                g.why.append(
                    f"GUESS number: every value reads as a number ({_CONVENTION_WORDS[convention]})"
                )
    if typed is None and not g.code_like:
        order = reader._date_order(values)
        if order != "mixed" and not any(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        ):
            typed = _convert(values, lambda v: reader._to_date(v, order or "dmy"))
            if typed is not None:
                g.type = "date"
                g.why.append(f"GUESS date: every value reads as a date ({order or 'dmy'})")
        if typed is None and any(not t.isdigit() for t in text_values):
            typed = _convert(values, reader._to_bool)
            if typed is not None:
                g.type = "boolean"
                g.why.append("GUESS boolean: every value is ya/tidak (or yes/no)")
    if typed is None:
        g.type = "string"
        typed = text_values
        why = "GUESS string"
        if g.code_like:
            why += ": a code (its header or leading zeros say so), kept as text"
        g.why.append(why)
    it = iter(typed)
    g.values = [
        next(it) if t is not None and t.casefold() not in NA_TEXT and t not in DASHES else None
        for t in texts
    ]
    if g.type in ("integer", "number") and typed:
        g.low, g.high = float(min(typed)), float(max(typed))
        g.why.append(f"observed range {_shown(g.low)} to {_shown(g.high)}")
        unit = UNIT_IN_HEADER.search(g.label)
        if unit:
            word = unit.group(1).strip()
            g.unit = MONEY_UNITS.get(word.casefold().rstrip("."), word)
    read_empty = empty + sum(markers.values()) + (dashes if g.type in ("integer", "number") else 0)
    g.nullable = read_empty > 0
    if g.nullable:
        parts = []
        if empty:
            parts.append(f"{_plural(empty, 'empty cell')}")
        if markers:
            parts.append(
                "markers read as empty by default: "
                + ", ".join(f"{m!r} x{k}" for m, k in sorted(markers.items()))
            )
        if dashes and g.type in ("integer", "number"):
            parts.append(
                f"'-' in {_plural(dashes, 'cell')}, read as empty (dash: empty); declare "
                "dash: zero if the source writes zero as '-'"
            )
        g.why.append(f"optional, in {n} rows: {'; '.join(parts)}")
    else:
        g.why.append(f"required: a value in every one of the {n} rows")
    if PII_WORDS.search(g.name) or (
        g.type == "string" and values and all(re.fullmatch(r"\d{16}", t) for t in text_values)
    ):
        g.pii = True
        g.why.append("GUESS personal data (pii): a NIK, KK, phone or e-mail column")


def _period_granularity(values: list[dt.date]) -> str:
    if all(d.day == 1 for d in values):
        if all(d.month == 1 for d in values):
            return "year"
        if all(d.month in (1, 4, 7, 10) for d in values) and len({d.month for d in values}) > 1:
            return "quarter"
        return "month"
    return "day"


def _nice_ceiling(x: float) -> float:
    """Twice `x`, rounded up to two significant digits: a bound with room for growth."""
    if x <= 0:
        return 0.0
    y = 2 * x
    step = 10 ** (math.floor(math.log10(y)) - 1)
    return float(math.ceil(y / step) * step)


# ---------------------------------------------------------------- the draft


@dataclass
class Draft:
    dataset_id: str
    filename: str
    yaml_text: str
    suite: dict[str, Any]
    dataset: Dataset
    sample: Sample
    columns: list[ColumnGuess]
    key: list[str]
    key_candidates: list[tuple[str, ...]]
    key_unique: bool
    region: RegionGuess | None  # the best region column found, declared or not
    region_declared: bool
    notes: list[str]
    check: dict[str, Any] | None = None  # `serasan check` on the sample with the draft
    catalog: Catalog | None = field(default=None, repr=False)  # the catalog with the draft

    def paths(self, catalog_dir: Path, expectations_dir: Path, out: Path | None) -> list[Path]:
        if out is not None:
            return [out / f"{self.dataset_id}.yaml", out / f"{self.dataset_id}.json"]
        return [
            catalog_dir / "datasets" / f"{self.dataset_id}.yaml",
            expectations_dir / f"{self.dataset_id}.json",
        ]

    def write(
        self,
        catalog_dir: Path,
        expectations_dir: Path,
        out: Path | None = None,
        force: bool = False,
    ) -> list[Path]:
        """Write the YAML and the suite; FileExistsError names an existing one unless `force`."""
        yaml_path, suite_path = self.paths(catalog_dir, expectations_dir, out)
        existing = [p for p in (yaml_path, suite_path) if p.exists()]
        if existing and not force:
            raise FileExistsError(
                f"{', '.join(map(str, existing))} already exist(s); --force overwrites"
            )
        yaml_path.parent.mkdir(parents=True, exist_ok=True)
        suite_path.parent.mkdir(parents=True, exist_ok=True)
        yaml_path.write_text(self.yaml_text, encoding="utf-8")
        suite_path.write_text(
            json.dumps(self.suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return [yaml_path, suite_path]


def _q(v: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _flow(items: Sequence[Any]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def _comment(text: str, indent: str) -> list[str]:
    """A comment wrapped at about 100 characters."""
    import textwrap

    width = max(40, 100 - len(indent) - 2)
    return [f"{indent}# {line}" for line in textwrap.wrap(text, width)] or [f"{indent}#"]


def _province_name(kode: str) -> str:
    from serasan.reference import provinces

    p = provinces.province(kode)
    return f"Provinsi {p.name}" if p is not None else kode


def _regency(catalog: Catalog, regency: str) -> str:
    for r in catalog.regencies.values():
        if regency in (r.kode, r.slug):
            return r.kode
    known = ", ".join(f"{r.slug} ({r.kode})" for r in catalog.regencies.values())
    raise OnboardError(f"unknown regency {regency!r}; known: {known}")


def _key_search(
    columns: list[ColumnGuess], n: int, must: list[ColumnGuess], first: ColumnGuess | None
) -> tuple[list[tuple[str, ...]], bool]:
    """The unique combinations of the fewest columns (up to three, those in `must` always
    included, combinations with `first` tried first); the best non-unique one when none is."""
    ordered = sorted(columns, key=lambda c: c is not first)
    eligible = [
        c
        for c in ordered
        if not c.nullable
        and not c.row_number
        and not c.from_context
        and all(c is not m for m in must)
        and (c.type in ("string", "date", "boolean") or c.granularity or c.code_like)
    ][:KEY_COLUMNS]
    fixed = tuple(c.name for c in must)
    found: list[tuple[str, ...]] = []
    best: tuple[int, tuple[str, ...]] | None = None
    for size in range(0 if must else 1, 4 - len(must)):
        for combo in combinations(eligible, size):
            if not combo and not must:
                continue
            cols = [*must, *combo]
            seen = Counter(
                tuple(_shown(c.values[i]) for c in cols if not c.from_context) for i in range(n)
            )
            repeats = sum(k for k in seen.values() if k > 1)
            names = (*fixed, *(c.name for c in combo))
            if not repeats:
                found.append(names)
                if len(found) >= KEY_CANDIDATES:
                    return found, True
            elif best is None or repeats < best[0]:
                best = (repeats, names)
        if found:
            return found, True
    if best is not None:
        return [best[1]], False
    return [fixed or (columns[0].name,)], False


def _pick_region(columns: list[ColumnGuess]) -> tuple[RegionGuess | None, ColumnGuess | None]:
    """The text column whose values resolve best under some scheme (or, failing that, whose
    values are shaped like Kemendagri codes), and that column, kept as text."""
    region: RegionGuess | None = None

    def rank(g: RegionGuess) -> tuple[bool, int, float, bool]:
        # mostly resolving first, then the most detailed level (a desa code column beats the
        # kabupaten code column beside it), then the share resolved
        share = g.best.resolved / g.distinct if g.best and g.distinct else 0.0
        depth = rules.LEVELS.index(g.level) if g.level in rules.LEVELS else -1
        return share >= 0.9, depth, share, bool(g.shape_level)

    for c in columns:
        if c.type != "string" and not c.code_like:
            continue
        guess = detect_region(c.name, [_shown(v) for v in c.values if v is not None])
        if (guess.scheme or guess.shape_level) and (region is None or rank(guess) > rank(region)):
            region = guess
    col = next((c for c in columns if region and c.name == region.column), None)
    if col is not None:
        if col.type != "string":
            col.type = "string"
            col.values = [None if v is None else _shown(v) for v in col.values]
            col.low = col.high = None
            col.unit = None
            col.why = [w for w in col.why if not w.startswith(("GUESS", "observed"))]
            col.why.insert(0, "GUESS string: region codes, kept as text")
        assert region is not None
        col.why.append(f"region values: {region.summary()}")
    return region, col


def _pick_period(
    columns: list[ColumnGuess], filename: str, taken: set[str], n: int
) -> tuple[ColumnGuess, str]:
    """The period column (a date or year column named as one), else a `tahun` column that the
    parser fills from the file name's year (or a constant); and what the period block adds."""
    found: ColumnGuess | None = None
    for c in columns:
        if c.nullable:
            continue
        if c.type == "date":
            if PERIOD_WORDS.search(c.name) or found is None:
                dates = [v for v in c.values if isinstance(v, dt.date)]
                found, c.granularity = c, _period_granularity(dates)
        elif (
            c.type == "integer"
            and PERIOD_WORDS.search(c.name)
            and c.low is not None
            and c.high is not None
            and 1900 <= c.low <= c.high <= 2100
        ):
            found, c.granularity = c, "year"
            break
    if found is not None:
        named = "its header names a period" if PERIOD_WORDS.search(found.name) else "a date column"
        found.why.append(f"GUESS the period column, per {found.granularity}: {named}")
        return found, ""
    year = _YEAR_IN_NAME.findall(Path(filename).stem)
    col = ColumnGuess(-1, "Tahun", ident("tahun", taken), type="integer", nullable=False)
    col.granularity, col.from_context = "year", True
    col.values = [int(year[-1]) if year else None] * n
    columns.append(col)
    if year:
        col.why.append(
            f"GUESS period: no column of the file holds it; its name says {year[-1]}, so the "
            "year is read from the file name (from_filename). Use `constant` for a one-off "
            "file, or give --period to check and ingest"
        )
        return col, r"from_filename: '(?P<year>(?:19|20)\d{2})'"
    col.why.append(
        "GUESS period: neither a column nor the file name holds it; the constant is this year: "
        "set the right one, or give --period to check and ingest"
    )
    return col, f"constant: {_q(str(dt.datetime.now(JAKARTA).year))}"


def _allowed(columns: list[ColumnGuess], skip: list[str], n: int) -> None:
    """Allowed values for short text columns that repeat (not codes, the region or the key)."""
    for c in columns:
        if c.type != "string" or c.code_like or c.from_context or c.pii or c.name in skip:
            continue
        distinct = sorted({v for v in c.values if v is not None})
        if (
            distinct
            and len(distinct) <= ALLOWED_MAX
            and n >= 2 * len(distinct)
            and max(map(len, distinct)) <= ALLOWED_LENGTH
        ):
            c.allowed = distinct
            c.why.append(f"GUESS allowed values: {len(distinct)} distinct in {n} rows")


_CONVENTION_WORDS = {
    "id": "Indonesian numbers: 1.234,5",
    "en": "English numbers: 1,234.5",
}


def _region_lines(
    region: RegionGuess | None,
    values: list[Any],
    kode: str,
    regency_name: str,
    catalog: Catalog,
) -> tuple[list[str], bool]:
    """The region block, and whether it is declared.

    It is declared when the parser's own count (`serasan.parse.regions.detect_scheme`: current
    codes of the level inside the regency, names through the alias table) resolves at least half
    the distinct values under one scheme, and no other reading resolves as many; otherwise it is
    written as a comment saying why not.
    """
    from serasan.parse.regions import detect_scheme

    if region is None:
        return ["# no region column found: no column's values resolve as codes or names"], False
    best = region.best
    if best is None or region.level is None:
        if not region.shape_level:
            return [], False
        lines = _comment(
            f"GUESS region, by shape only: {region.summary()} in the shipped reference, but the "
            f"values of {region.column} look like dotted Kemendagri {region.shape_level} codes"
            + (f" under {region.shape_parent}" if region.shape_parent else "")
            + ". Not declared until the reference holds them",
            "",
        )
        block = f"# region: {{column: {_q(region.column)}, level: {region.shape_level}}}"
        return [*lines, block], False
    allowed_levels = typing.get_args(RegionSpec.model_fields["level"].annotation)
    codes = list(best.codes.values())
    inside = sum(1 for k in codes if k == kode or k.startswith(kode + "."))
    province = kode[:2]
    in_province = sum(1 for k in codes if k.startswith(province + "."))
    lines = _comment(
        f"GUESS region: {region.summary()} (anywhere in the shipped reference); "
        f"{best.resolved} are {region.level} codes under scheme {best.scheme}, {inside} of them "
        f"in {regency_name} ({kode})",
        "",
    )
    scheme = "kemendagri" if best.scheme.startswith("kemendagri") else best.scheme
    reasons = []
    if region.level not in allowed_levels:
        reasons.append(
            f"the catalog's region levels are {', '.join(allowed_levels)}, not {region.level}"
        )
    else:
        strict = detect_scheme(values, kode, region.level, aliases=catalog.aliases)
        lines += _comment(
            f"the parser resolves, as {region.level} of {kode}: "
            + ", ".join(f"{k} {v}" for k, v in strict.items())
            + f" of {region.distinct}",
            "",
        )
        top = max(strict.values(), default=0)
        winners = [k for k, v in strict.items() if v == top]
        if top * 2 < region.distinct:
            reasons.append(f"the parser resolves under half the values inside {regency_name}")
            if "." in kode and in_province * 2 >= region.distinct:
                reasons.append(
                    f"{in_province} lie in province {province}: for a province-wide table, "
                    f"onboard again with --scope {province}"
                )
        elif len(winners) > 1:
            reasons.append(
                f"{' and '.join(winners)} readings resolve as many values: the codes are "
                "ambiguous (each reads as a BPS code and as an undotted Kemendagri one); "
                "choose the scheme"
            )
        else:
            scheme = winners[0]
    block = f"region: {{column: {_q(region.column)}, level: {region.level}"
    if scheme != "kemendagri":
        block += f", scheme: {scheme}"
    if scheme == "kemendagri" and best.scheme == "kemendagri_undotted":
        block += ", undotted: true"
    block += "}"
    if reasons:
        return [*lines, *_comment("not declared: " + "; ".join(reasons), ""), f"# {block}"], False
    return [*lines, block], True


def _column_lines(c: ColumnGuess) -> list[str]:
    lines = [
        *_comment("; ".join(c.why), "  "),
        f"  - name: {_q(c.name)}",
        f"    label: {_q(c.label)}",
        f"    type: {c.type}",
        f"    nullable: {_q(c.nullable)}",
        f"    description: {_q(c.label)}  # TODO: what the column holds",
    ]
    if c.unit:
        lines.append(f"    unit: {_q(c.unit)}")
    if c.allowed:
        lines.append(f"    allowed: {_flow(c.allowed)}")
    if c.thousands_dot_lost:
        lines.append("    thousands_dot_lost: true")
    if c.pii:
        lines.append("    pii: true")
    if c.low is not None and c.high is not None:
        low = int(c.low) if c.type == "integer" else c.low
        high = int(c.high) if c.type == "integer" else c.high
        lines.append(f"    generate: {{min: {_q(low)}, max: {_q(high)}}}  # for serasan generate")
    return lines


@dataclass
class _Found:
    """Everything `draft` decided, for the YAML text."""

    dataset_id: str
    kode: str
    opd: str
    pillar: str
    title: str
    sample: Sample
    columns: list[ColumnGuess]
    key: list[str]
    candidates: list[tuple[str, ...]]
    unique: bool
    period: ColumnGuess
    period_extra: str
    region_lines: list[str]
    region_level: str | None  # declared
    scope: str | None = None  # the rows' area, wider than the regency


def _scope_lines(f: _Found) -> list[str]:
    """`scope`, declared with the region block it needs (commented out while that is not)."""
    if f.scope is None:
        return []
    if f.region_level is None:
        return [
            f"# scope: {_q(f.scope)}  # not declared: a province-wide dataset needs the region "
            "block below declared first"
        ]
    return [f"scope: {_q(f.scope)}  # rows from the whole of this area"]


def _yaml_text(f: _Found, catalog: Catalog) -> str:
    """The draft as YAML text, each guess with a comment saying what it rests on."""
    reg = catalog.regency(f.kode)
    opd = reg.opd(f.opd)
    assert opd is not None
    n, sample = len(f.sample.rows), f.sample
    granularity = f.period.granularity or "year"
    cadence = CADENCE[granularity]
    lines = [
        f"# Draft by `serasan onboard` from {sample.filename}, "
        f"{dt.datetime.now(JAKARTA).date().isoformat()}: {n} data rows under the header on row "
        f"{sample.header_row}{' (merged over two rows)' if sample.merged else ''}.",
        "# Every GUESS says what it was based on; review them (and each TODO) before committing.",
        f"# Then: serasan catalog validate; serasan check --dataset {f.dataset_id} <the file>",
    ]
    lines += [f"# row {number} left out: {why}" for number, why in sample.skipped[:10]]
    if len(sample.skipped) > 10:
        lines.append(f"# ... and {len(sample.skipped) - 10} more rows left out")
    if sample.unlabelled:
        where = ", ".join(str(j + 1) for j in sample.unlabelled)
        lines += _comment(f"cells at column position(s) {where} hold values under no header", "")
    if sample.truncated:
        lines.append(f"# only the first {MAX_ROWS} rows were read")
    lines += [
        f"id: {_q(f.dataset_id)}",
        f"regency: {_q(f.kode)}",
        *_scope_lines(f),
        f"opd: {_q(f.opd)}",
        f"pillar: {_q(f.pillar)}",
        f"title: {_q(f.title)}  # TODO: the title in Bahasa Indonesia",
        f"description: {_q(f.title)}  # TODO: what the data is, who collects it, how",
        *(_comment(sample.sheet_why, "") if sample.sheet else []),
        f"source: {{kind: spreadsheet{f', sheet: {_q(sample.sheet)}' if sample.sheet else ''}}}",
        f"cadence: {cadence}  # GUESS: the period is per {granularity}",
        "columns:",
    ]
    for c in f.columns:
        lines += _column_lines(c)
    if f.unique:
        key_comment = f"GUESS key: unique in the {n} rows"
    else:
        key_comment = (
            f"GUESS key, NOT unique in the {n} rows: no combination of up to three columns is; "
            "the rows that repeat it will be rejected"
        )
    if len(f.candidates) > 1:
        key_comment += "; other candidates: " + ", ".join(_flow(k) for k in f.candidates[1:])
    if f.period.from_context:
        key_comment += f"; {f.period.name} comes from the file name, the constant or --period"
    lines += _comment(key_comment, "")
    lines.append(f"primary_key: {_flow(f.key)}")
    lines += _comment("; ".join(w for w in f.period.why if "period" in w), "")
    block = f"period: {{column: {_q(f.period.name)}, granularity: {granularity}"
    lines.append(block + (f", {f.period_extra}}}" if f.period_extra else "}"))
    lines += f.region_lines
    replace = f.period.name in f.key
    lines += [
        "quality_policy: quarantine  # valid rows load; failing rows go to quarantine/",
        "load_mode: replace_period  # a file replaces its period's rows"
        if replace
        else "load_mode: upsert  # rows are upserted by the key",
    ]
    if any(c.pii for c in f.columns):
        lines.append(
            "retention: {raw_days: 365, quarantine_days: 90}  # TODO: as the regency's "
            "retention policy says (UU 27/2022)"
        )
    unit = next((c.unit for c in f.columns if c.unit), None)
    lines += [
        "satu_data:",
        f"  produsen_data: {_q(opd.name)}",
        f"  walidata: {_q(reg.walidata)}",
        f"  frekuensi: {FREKUENSI[cadence]}",
        f"  satuan: {_q(unit or 'TODO')}  # TODO: the unit of the measures",
        f"  level_penyajian: {_q(LEVEL_NAMES.get(f.region_level or '', 'Kabupaten/Kota'))}",
        "  lisensi: CC-BY-4.0  # TODO: as the walidata decides",
        f"  kontak: {_q(opd.contacts[0].email)}",
    ]
    return "\n".join(lines) + "\n"


def draft(
    data: bytes,
    filename: str,
    catalog: Catalog,
    dataset_id: str,
    regency: str,
    opd: str,
    pillar: str,
    title: str | None = None,
    check: bool = True,
    run_date: dt.date | None = None,
    scope: str | None = None,
) -> Draft:
    """A draft dataset and suite for a sample file; raises OnboardError (or ParseError) when
    the arguments or the file cannot give one.

    `catalog` needs its structure only (no suite is read); the draft is validated in a copy of
    it, through `load_catalog` and `check_suite`, and with `check` run on the sample as
    `serasan check` runs (as of `run_date`, default today).
    """
    if not re.match(IDENT, dataset_id):
        raise OnboardError(
            f"--id {dataset_id!r}: expected lower-case letters, digits and _, starting with a "
            "letter (2 to 63 characters)"
        )
    if pillar not in PILLARS:
        raise OnboardError(f"--pillar {pillar!r}: expected one of {', '.join(PILLARS)}")
    kode = _regency(catalog, regency)
    reg = catalog.regency(kode)
    if scope is not None and not (re.fullmatch(r"\d{2}", scope) and kode.startswith(scope + ".")):
        raise OnboardError(
            f"--scope {scope!r}: expected the province code of {reg.name} ({kode[:2]!r}); "
            "a scope is the area a province-wide table covers"
        )
    area = scope or kode
    area_name = reg.name if scope is None else _province_name(scope)
    if reg.opd(opd) is None:
        raise OnboardError(
            f"--opd {opd!r} is not an OPD of {reg.name}; expected one of "
            f"{', '.join(o.code for o in reg.opds)} (add it to catalog/regencies/{reg.slug}.yaml)"
        )
    sample = read_data_sheet(data, filename)
    n = len(sample.rows)
    if not n:
        raise OnboardError(f"{filename}: no data rows under the header (row {sample.header_row})")
    taken: set[str] = set()
    columns = [ColumnGuess(j, lab, ident(lab, taken)) for j, lab in sorted(sample.labels.items())]
    repeated = {lab for lab, k in Counter(c.label for c in columns).items() if k > 1}
    for c in columns:
        infer_column(
            c, [row[c.position] if c.position < len(row) else None for _, row in sample.rows]
        )
        if c.label in repeated:
            c.why.append(
                f"the header {c.label!r} repeats: the parser matches repeated headers in order; "
                "a label naming its block (e.g. the year) is clearer"
            )
    region, region_col = _pick_region(columns)
    period, period_extra = _pick_period(columns, filename, taken, n)
    # the key: the period, then the fewest columns that are unique (the region's first)
    candidates, unique = _key_search(
        columns, n, [] if period.from_context else [period], region_col
    )
    key = [period.name, *candidates[0]] if period.from_context else list(candidates[0])
    for c in columns:
        if c.name in key and c.nullable:  # nothing better was found: the reviewer decides
            c.nullable = False
            c.why.append("made required: it is in the key")
    _allowed(columns, [*key, *([region_col.name] if region_col else [])], n)
    region_lines, declared = _region_lines(
        region, region_col.values if region_col else [], area, area_name, catalog
    )
    found = _Found(
        dataset_id,
        kode,
        opd,
        pillar,
        title or Path(filename).stem.replace("_", " ").strip(),
        sample,
        columns,
        key,
        candidates,
        unique,
        period,
        period_extra,
        region_lines,
        region.level if declared and region else None,
        scope,
    )
    text = _yaml_text(found, catalog)
    result = _validated(text, found, catalog)
    result.region, result.region_declared = region, declared
    if check:
        assert result.catalog is not None
        result.check = _check(data, filename, result.catalog, result.dataset, run_date)
    return result


def _validated(text: str, f: _Found, catalog: Catalog) -> Draft:
    """The draft loaded by the catalog's own loader (in a copy of the catalog, beside every
    other dataset), its suite scaffolded from what was loaded and checked by `check_suite`."""
    try:
        Dataset.model_validate(yaml.safe_load(text))
    except Exception as exc:  # a bug here, not the user's: show the draft
        raise OnboardError(f"the draft does not load as a dataset ({exc}):\n{text}") from None
    notes = []
    min_date = DEFAULT_MIN_DATE
    dates = [v for v in f.period.values if isinstance(v, dt.date)]
    years = [v for v in f.period.values if isinstance(v, int)]
    first = min(dates) if dates else (dt.date(min(years), 1, 1) if years else None)
    if first is not None and first < dt.date.fromisoformat(DEFAULT_MIN_DATE):
        min_date = first.isoformat()
        notes.append(f"the sample starts in {first}: the suite's period rule starts there too")
    n = len(f.sample.rows)
    with tempfile.TemporaryDirectory(prefix="serasan-onboard-") as tmp:
        root, exp = Path(tmp) / "catalog", Path(tmp) / "expectations"
        shutil.copytree(catalog.root, root)
        exp.mkdir()
        (root / "datasets").mkdir(exist_ok=True)
        (root / "datasets" / f"{f.dataset_id}.yaml").write_text(text, encoding="utf-8")
        try:
            with_draft = load_catalog(root, exp)
        except CatalogError as exc:
            raise OnboardError(
                "the draft does not pass the catalog's checks:\n  " + "\n  ".join(exc.problems)
            ) from None
        ds = with_draft.dataset(f.dataset_id)
        suite = scaffold_suite(with_draft, ds, min_date=min_date)
        _ranges(suite, f.columns)
        suite["meta"]["notes"] = (
            f"Draft by `serasan onboard` from {f.sample.filename} ({n} rows). Review it like "
            "code: each range's top is twice the largest value seen, rounded up."
        )
        suite["meta"]["onboard"] = {
            "file": f.sample.filename,
            "rows": n,
            "observed": {c.name: [c.low, c.high] for c in f.columns if c.high is not None},
        }
        (exp / f"{f.dataset_id}.json").write_text(json.dumps(suite), encoding="utf-8")
        problems = check_suite(ds, exp)
        if problems:
            raise OnboardError("the draft suite does not pass:\n  " + "\n  ".join(problems))
        # the suite travels in memory from here: the folder goes
        with_draft.__dict__["suites"] = {f.dataset_id: suite}
    return Draft(
        f.dataset_id,
        f.sample.filename,
        text,
        suite,
        ds,
        f.sample,
        f.columns,
        f.key,
        f.candidates,
        f.unique,
        None,
        False,
        notes,
        catalog=with_draft,
    )


def _ranges(suite: dict[str, Any], columns: list[ColumnGuess]) -> None:
    """The scaffold's `not negative` rules get an upper bound: twice the largest value seen."""
    by_name = {c.name: c for c in columns}
    for e in suite["expectations"]:
        if e.get("type") != BETWEEN:
            continue
        c = by_name.get(e["kwargs"].get("column"))
        if c is None or c.high is None or c.high <= 0:
            continue
        top = _nice_ceiling(c.high)
        e["kwargs"]["max_value"] = int(top) if c.type == "integer" else top
        shown = _shown(top)
        e["meta"]["pesan"] = (
            f"{e['meta']['pesan'].removesuffix(' tidak boleh negatif')} harus antara 0 dan {shown}"
        )
        e["meta"]["message"] = (
            f"{e['meta']['message'].removesuffix(' must not be negative')} must be between 0 "
            f"and {shown}"
        )


def _check(
    data: bytes, filename: str, catalog: Catalog, ds: Dataset, run_date: dt.date | None
) -> dict[str, Any]:
    """`serasan check` on the sample with the draft: rows in, valid, rejected, and why."""
    from serasan.quality.assess import assess

    day = run_date or dt.datetime.now(JAKARTA).date()
    parsed = reader.parse_file(data, filename, ds)
    a = assess(parsed, ds, catalog.suites[ds.id], day)
    valid = int(a.kept.sum())
    return {
        "rows_in": parsed.rows_in,
        "rows_valid": valid,
        "rows_rejected": parsed.rows_in - valid,
        "problems": [{"problem": p, "rows": k} for p, k in a.problems],
        "notes": parsed.notes,
    }


def render(d: Draft, written: Sequence[Path] = ()) -> str:
    """What onboard found, for the terminal."""
    out = [f"{d.filename}: {len(d.sample.rows)} data rows, header on row {d.sample.header_row}"]
    for c in d.columns:
        flags = [c.type, "optional" if c.nullable else "required"]
        if c.from_context:
            flags.append("from the file name or --period")
        out.append(f"  {c.name:<32} {', '.join(flags)}  ({c.label})")
    if d.region is not None:
        state = "declared" if d.region_declared else "NOT declared (see the YAML)"
        out.append(f"region column {d.region.column}: {d.region.summary()}; {state}")
    else:
        out.append("region column: none found")
    out.append(
        f"key: {', '.join(d.key)}"
        + ("" if d.key_unique else " (NOT unique in the sample)")
        + (
            "; other candidates: " + "; ".join(", ".join(k) for k in d.key_candidates[1:])
            if len(d.key_candidates) > 1
            else ""
        )
    )
    for note in d.notes:
        out.append(f"note: {note}")
    if d.check is not None:
        ck = d.check
        out.append(
            f"check on the sample: {ck['rows_in']} rows, {ck['rows_valid']} valid, "
            f"{ck['rows_rejected']} rejected"
        )
        for p in ck["problems"][:10]:
            out.append(f"  {p['rows']} x {p['problem']}")
    for path in written:
        out.append(f"written: {path} (a draft: review it like code)")
    return "\n".join(out)
