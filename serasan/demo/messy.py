"""Messy CSV files, written the way real OPD exports arrive.

Why this exists: the generated files of `serasan.demo.generate` carry the catalog's values in
one clean spelling (UTF-8, `,`, ISO dates, `1234.5`). Real exports do not. The vectorised CSV
reader (`serasan.parse.fast_csv`) must give exactly what the per-row reader gives on the files
OPD staff really send, and `make bench` times both on such a file (issue 17's "messy"
baseline: each defect in 5 % of the rows). The differential test
(tests/unit/parse/test_fast_csv_sameness.py) and the benchmark both build their files here,
so both see the same defects.

The rows are the dataset's generated rows (`serasan.demo.generate`'s row builder, same seed,
same values). Only their spelling changes, deterministically from the seed:

File-level options (keyword arguments):
- `encoding`: `cp1252` (Windows-1252 bytes: é, ñ and – are one byte), `utf-8`, `utf-8-sig`;
- `line_end`: `\\r` (CR only, old Mac Excel), `\\r\\n` or `\\n`;
- `delimiter`: `;` (Excel in an Indonesian locale), `,` or a tab;
- `title_rows`: 0, 1 or 2 title rows above the header ("DATA ... KABUPATEN MUSI BANYUASIN
  TAHUN 2026", then the OPD's name), padded with delimiters as Excel pads them.

Every file writes numbers the Indonesian way (`2407,4`; money as plain rupiah `15382417`),
dates D/M/Y (`05/02/2026`), the header as the column labels, a `Jumlah` summary row after the
data and a footnote line (`Sumber: ...`) at the end. Each defect below is in about `rate` of
the rows (one draw per row and kind; the date spellings and the region spellings exclude each
other within a row):

- `accented_name`: a free-text cell (a name when the dataset has one) with é/ñ (`Andrés`);
- `id_number`: the row's measures with thousands dots, `2.407,4` (visible from 1.000 up);
- `money`: the row's money cells as `Rp 15.382.417`;
- `date_words`: the row's dates as `1 Februari 2026`;
- `month_abbrev`: the row's dates with a short month, `Nop 2025` (a month or coarser period)
  or `5 Nop 2025` (a day);
- `empty_marker`: one measure or date cell written `NA` or `-` (a nullable one if any);
- the region column (scheme `kemendagri` only), besides the dotted `16.06.01.2001`:
  `region_undotted` (`160601` for a kecamatan; 10 digits only where the catalog's region block
  says `undotted: true`), `region_old` (a village's code from before a split, `16.06.03.2001`
  for today's 16.06.15.2001, from the shipped code history) and `region_loose` (leading zeros
  lost, `16.6.1`), each where the dataset's level allows it (`applicable`).

`messy_csv` gives the bytes; `messy_file` also says how many rows carry each defect.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from serasan.common.clock import MONTH_NAMES
from serasan.config.catalog import Catalog, Column, Dataset, RegionSpec
from serasan.demo.generate import DEFAULT_AS_OF, _Builder, _decimals, _id_number
from serasan.reference import provinces
from serasan.reference.history import ChangeKind

DEFECTS = (
    "accented_name",
    "id_number",
    "money",
    "date_words",
    "month_abbrev",
    "empty_marker",
    "region_undotted",
    "region_old",
    "region_loose",
)
LINE_ENDS = ("\r", "\r\n", "\n")
DELIMITERS = (";", ",", "\t")
MONTH_SHORT = ("Jan", "Peb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agt", "Sep", "Okt", "Nop", "Des")
ACCENTED_FIRST = ("Andrés", "José", "René", "Iñaki", "Chloé", "Zoë", "Mégawati", "Niño")
ACCENTED_WORDS = ("Andrés", "Café", "Peñaloza", "Señor", "Bélanger", "– Jalan Poros")
MARKERS = ("NA", "-")
DATE_WAYS = ("date_words", "month_abbrev")  # one of them per row, each in `rate` of the rows
REGION_WAYS = ("region_old", "region_undotted", "region_loose")  # likewise


@dataclass(frozen=True)
class MessyFile:
    """One messy file: its bytes, the data rows written, and how many rows carry each defect."""

    dataset_id: str
    filename: str
    data: bytes = field(repr=False)
    rows: int  # data rows (the title rows, header, summary row and footnote aside)
    defects: dict[str, int]  # kind -> rows carrying it, for every applicable kind
    header_line: int  # the header's line number (1-based)


def _region_spec(ds: Dataset) -> RegionSpec | None:
    spec = ds.region
    return spec if spec is not None and spec.scheme == "kemendagri" else None


def _renumbered(ds: Dataset) -> list[tuple[str, str]]:
    """(old, current) village or kecamatan codes of the dataset's regency and level, from the
    shipped code history: codes a file written before the split still carries."""
    spec = _region_spec(ds)
    province = provinces.province(ds.regency[:2]) if spec is not None else None
    if province is None or spec is None:
        return []
    pairs = []
    for change in province.history.changes:
        new = change.new_code
        if (
            change.kind is ChangeKind.RENUMBERED
            and change.level.value == spec.level
            and new is not None
            and new.startswith(ds.regency + ".")
            and change.old_code != new
        ):
            found = provinces.resolve_code(change.old_code)
            if found is not None and not found.unknown and found.current_code == new:
                pairs.append((change.old_code, new))
    return sorted(set(pairs))


def _free_text(ds: Dataset) -> list[Column]:
    """Text columns a person types freely: names first (accents belong there), else any text
    column that is not a key, a code, an `allowed` value or part of the region block."""
    spec = ds.region
    region_cols = (
        {spec.column, spec.parent_column, spec.name_column, spec.source_column} if spec else set()
    )
    cols = [
        c
        for c in ds.columns
        if c.type == "string"
        and c.name not in ds.primary_key
        and c.name not in region_cols
        and not c.allowed
        and c.generate.get("kind") not in ("seq", "nik", "phone")
    ]
    names = [c for c in cols if c.generate.get("kind") in ("person_name", "group_name")]
    return names or cols


def _measures(ds: Dataset) -> list[Column]:
    return [
        c
        for c in ds.columns
        if c.type in ("integer", "number")
        and c.name != ds.period.column
        and c.name not in ds.primary_key
        and not c.thousands_dot_lost
    ]


def _money(c: Column) -> bool:
    return c.type == "number" and bool(c.generate.get("money"))


def applicable(ds: Dataset) -> tuple[str, ...]:
    """The defect kinds this dataset's columns can carry."""
    spec = _region_spec(ds)
    measures = _measures(ds)
    dates = [c for c in ds.columns if c.type == "date"]
    has = {
        "accented_name": bool(_free_text(ds)),
        "id_number": any(not _money(c) for c in measures),
        "money": any(_money(c) for c in measures),
        "date_words": bool(dates),
        "month_abbrev": bool(dates),
        "empty_marker": bool(_marker_columns(ds)),
        "region_undotted": spec is not None
        and (spec.level != "desa_kelurahan" or bool(spec.undotted)),
        "region_old": bool(_renumbered(ds)),
        "region_loose": spec is not None,
    }
    return tuple(k for k in DEFECTS if has[k])


def _marker_columns(ds: Dataset) -> list[Column]:
    cols = [
        c
        for c in ds.columns
        if c.type in ("integer", "number", "date")
        and c.name != ds.period.column
        and c.name not in ds.primary_key
    ]
    nullable = [c for c in cols if c.nullable]
    return nullable or cols


# ---------------------------------------------------------------- spelling one value


def _number(c: Column, value: float | int) -> str:
    """Indonesian, without thousands dots: 2407,4; money as whole rupiah."""
    if c.type == "integer" or isinstance(value, int):
        return str(int(value))
    return f"{value:.{_decimals(c)}f}".replace(".", ",")


def _base(c: Column, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, datetime.date):
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    if c.type in ("integer", "number") and isinstance(value, int | float):
        return _number(c, value)
    return str(value)


def _dotted(c: Column, value: float | int) -> str:
    return _id_number(float(value), 0 if c.type == "integer" else _decimals(c))


def _rupiah(value: float | int) -> str:
    return ("-" if value < 0 else "") + "Rp " + _id_number(abs(float(value)), 0)


def _loose(code: str) -> str:
    """`16.06.01.2001` -> `16.6.1.2001`: the leading zeros a spreadsheet drops."""
    return ".".join(p.lstrip("0") or "0" for p in code.split("."))


# ---------------------------------------------------------------- the file


def _check(encoding: str, line_end: str, delimiter: str, title_rows: int, rate: float) -> None:
    "".encode(encoding)  # LookupError for an unknown codec
    if line_end not in LINE_ENDS:
        raise ValueError(f"line_end must be one of {LINE_ENDS!r} (got {line_end!r})")
    if delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be one of {DELIMITERS!r} (got {delimiter!r})")
    if not 0 <= title_rows <= 2:
        raise ValueError(f"title_rows must be 0, 1 or 2 (got {title_rows!r})")
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be between 0 and 1 (got {rate!r})")


def messy_file(
    ds: Dataset,
    catalog: Catalog,
    rows: int,
    seed: int,
    rate: float = 0.05,
    *,
    encoding: str = "cp1252",
    line_end: str = "\r",
    delimiter: str = ";",
    title_rows: int = 2,
    as_of: datetime.date = DEFAULT_AS_OF,
) -> MessyFile:
    """The dataset's generated rows (at most `rows`: a key made of finite domains caps them, as
    in `generate_dataset`) written as a messy OPD export; same arguments, same bytes."""
    _check(encoding, line_end, delimiter, title_rows, rate)
    if ds.regency not in catalog.regencies:
        raise ValueError(f"dataset {ds.id}: regency {ds.regency!r} is not in the catalog")
    data_rows = _Builder(ds, seed, as_of).rows(rows)
    rng = random.Random(f"{seed}:{ds.id}:messy")
    kinds = set(applicable(ds))
    columns = list(ds.columns)
    index = {c.name: j for j, c in enumerate(columns)}
    free = _free_text(ds)
    measures = _measures(ds)
    plain = [c for c in measures if not _money(c)]
    money = [c for c in measures if _money(c)]
    dates = [c for c in columns if c.type == "date"]
    markers = _marker_columns(ds)
    spec = _region_spec(ds)
    old = _renumbered(ds)
    coarse = ds.period.granularity in ("month", "quarter", "year")
    counts: Counter[str] = Counter()

    def date_text(c: Column, d: datetime.date, kind: str) -> str:
        if kind == "date_words":
            return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"
        short = f"{MONTH_SHORT[d.month - 1]} {d.year}"
        return short if coarse and c.name == ds.period.column else f"{d.day} {short}"

    def region_text(code: str, kind: str) -> str:
        if kind == "region_old":
            return rng.choice(old)[0]
        if kind == "region_undotted":
            return code.replace(".", "")
        return _loose(code)

    def exclusive(group: tuple[str, ...]) -> str | None:
        """One of `group`, each with probability `rate` (one draw), if it applies here."""
        u = rng.random()
        pick = group[min(int(u / rate), len(group) - 1)] if rate and u < rate * len(group) else None
        return pick if pick in kinds else None

    lines: list[list[str]] = []
    for row in data_rows:
        cells = [_base(c, row[c.name]) for c in columns]
        hit: set[str] = set()
        if rng.random() < rate and free:
            c = rng.choice(free)
            value = row[c.name]
            if value:
                if c.generate.get("kind") == "person_name":
                    rest = str(value).split(" ", 1)[1:]
                    cells[index[c.name]] = " ".join([rng.choice(ACCENTED_FIRST), *rest])
                else:
                    cells[index[c.name]] = f"{value} {rng.choice(ACCENTED_WORDS)}"
                hit.add("accented_name")
        # the cell written NA or -, chosen first: the other defects leave it alone
        blank = rng.choice(markers) if rng.random() < rate and markers else None
        if rng.random() < rate and plain:
            for c in plain:
                if row[c.name] is not None and c is not blank:
                    cells[index[c.name]] = _dotted(c, row[c.name])
                    hit.add("id_number")
        if rng.random() < rate and money:
            for c in money:
                if row[c.name] is not None and c is not blank:
                    cells[index[c.name]] = _rupiah(row[c.name])
                    hit.add("money")
        date_kind = exclusive(DATE_WAYS)
        if date_kind is not None:
            for c in dates:
                if isinstance(row[c.name], datetime.date) and c is not blank:
                    cells[index[c.name]] = date_text(c, row[c.name], date_kind)
                    hit.add(date_kind)
        if blank is not None:
            cells[index[blank.name]] = rng.choice(MARKERS)
            hit.add("empty_marker")
        if spec is not None:
            way = exclusive(REGION_WAYS)
            code = row[spec.column]
            if way is not None and code:
                cells[index[spec.column]] = region_text(str(code), way)
                hit.add(way)
        counts.update(hit)
        lines.append(cells)

    width = len(columns)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    regency = catalog.regencies[ds.regency].name
    years = [
        v.year if isinstance(v, datetime.date) else v
        for v in (r[ds.period.column] for r in data_rows)
        if isinstance(v, datetime.date | int)
    ]
    year = max(years) if years else as_of.year
    titles = [
        f"DATA {ds.title.upper()} {regency.upper()} TAHUN {year}",
        catalog.opd_of(ds).name.upper(),
    ][:title_rows]
    for title in titles:
        writer.writerow([title] + [""] * (width - 1))
    writer.writerow([c.header for c in columns])
    writer.writerows(lines)
    writer.writerow(_summary(columns, measures, data_rows))
    writer.writerow([f"Sumber: {catalog.opd_of(ds).name} {regency}"] + [""] * (width - 1))
    return MessyFile(
        dataset_id=ds.id,
        filename=f"{ds.id}_messy.csv",
        data=out.getvalue().encode(encoding),
        rows=len(lines),
        defects={k: counts[k] for k in DEFECTS if k in kinds},
        header_line=len(titles) + 1,
    )


def _summary(
    columns: list[Column], measures: list[Column], data_rows: list[dict[str, Any]]
) -> list[str]:
    """`Jumlah` in the first cell, each measure's total (as the OPD's own formula gives it)."""
    cells = []
    for j, c in enumerate(columns):
        if j == 0:
            cells.append("Jumlah")
        elif c in measures:
            total = sum(v for r in data_rows if isinstance(v := r[c.name], int | float))
            cells.append(_rupiah(total) if _money(c) else _dotted(c, total))
        else:
            cells.append("")
    return cells


def messy_csv(
    ds: Dataset,
    catalog: Catalog,
    rows: int,
    seed: int,
    rate: float = 0.05,
    *,
    encoding: str = "cp1252",
    line_end: str = "\r",
    delimiter: str = ";",
    title_rows: int = 2,
) -> bytes:
    """The bytes of `messy_file` with the same arguments."""
    return messy_file(
        ds,
        catalog,
        rows,
        seed,
        rate,
        encoding=encoding,
        line_end=line_end,
        delimiter=delimiter,
        title_rows=title_rows,
    ).data
