"""How the catalog says cells are read: empty markers, `-`, lost thousands dots, a period
taken from context (a constant, the file name, or `--period`), and the workbook sheet to read.

The catalog's fields (`na_values`, `dash`, `thousands_dot_lost`, `period.constant`,
`period.from_filename`, `source.sheet`) are declared on its models; their defaults and the
checks `catalog validate` runs on them live here, below the parser that applies them
(`serasan.parse.empties`, `serasan.parse.lost_dot`, `serasan.parse.period_context`,
`serasan.parse.sniff.pick_sheet`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

from serasan.common.clock import MONTH_NUMBERS

if TYPE_CHECKING:
    from serasan.config.catalog import Column, Dataset

# What an empty cell looks like beyond a blank one, when neither the dataset nor the column
# says otherwise. Compared case-insensitively, after trimming spaces. They apply to number,
# date and yes/no columns; a text column keeps them as text unless na_values is declared.
DEFAULT_NA_VALUES: tuple[str, ...] = ("NA", "N/A", "#N/A", "n.a.", "...", "…")
# `-` and the dashes spreadsheets turn it into: empty or zero, as `dash` says (never in na_values)
DASHES: frozenset[str] = frozenset({"-", "\u2013", "\u2014"})
DASH_READINGS = ("empty", "zero")

GROUPS = {  # the named groups a file-name pattern must have, per granularity
    "year": ("year",),
    "quarter": ("year", "quarter"),
    "month": ("year", "month"),
    "day": ("year", "month", "day"),
}
_FORMATS = {
    "year": (re.compile(r"^(\d{4})$"), "2021"),
    "quarter": (re.compile(r"^(\d{4})-?[Qq]([1-4])$"), "2021-Q1"),
    "month": (re.compile(r"^(\d{4})-(\d{1,2})$"), "2021-03"),
    "day": (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "2021-03-31"),
}


def period_example(granularity: str) -> str:
    return _FORMATS[granularity][1]


def parse_period(text: str, granularity: str) -> dt.date:
    """A period written as the catalog and `--period` write it, as the first day of the period.

    `2021` (year), `2021-Q1` (quarter), `2021-03` (month), `2021-03-31` (day); anything else, or
    a period of another granularity, raises ValueError saying what was expected.
    """
    pattern, example = _FORMATS[granularity]
    m = pattern.match(str(text).strip())
    if m is None:
        raise ValueError(f"{text!r} is not a {granularity} period; write it like {example!r}")
    year = int(m.group(1))
    try:
        if granularity == "year":
            return dt.date(year, 1, 1)
        if granularity == "quarter":
            return dt.date(year, (int(m.group(2)) - 1) * 3 + 1, 1)
        if granularity == "month":
            return dt.date(year, int(m.group(2)), 1)
        return dt.date(year, int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a real {granularity}; write it like {example!r}"
        ) from None


def format_period(day: dt.date, granularity: str) -> str:
    """A period as `parse_period` reads it: 2021, 2021-Q1, 2021-03, 2021-03-31."""
    if granularity == "year":
        return str(day.year)
    if granularity == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if granularity == "month":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def period_from_groups(groups: dict[str, str | None], granularity: str) -> dt.date:
    """The period a file-name match names: its `year`, `quarter`, `month` (a number or an
    Indonesian month name or abbreviation) and `day` groups. ValueError when they do not."""
    year = int(groups.get("year") or "")
    if len(str(year)) != 4:
        raise ValueError(f"year {groups.get('year')!r} is not a four-digit year")
    if granularity == "year":
        return dt.date(year, 1, 1)
    if granularity == "quarter":
        q = int(str(groups.get("quarter") or "").upper().lstrip("Q") or 0)
        if not 1 <= q <= 4:
            raise ValueError(f"quarter {groups.get('quarter')!r} is not 1 to 4")
        return dt.date(year, (q - 1) * 3 + 1, 1)
    raw = str(groups.get("month") or "").strip()
    month = int(raw) if raw.isdigit() else MONTH_NUMBERS.get(raw.lower().rstrip("."), 0)
    if not 1 <= month <= 12:
        raise ValueError(f"month {raw!r} is not a month number or name")
    day = int(groups.get("day") or 1) if granularity == "day" else 1
    return dt.date(year, month, day)


def column_problems(col: Column, path: Path) -> list[str]:
    """Reading settings a column cannot have: a dash read as zero in a column that holds no
    numbers, a lost thousands dot outside an integer column, `-` among the empty markers."""
    where = f"{path}: columns.{col.name}"
    problems = []
    if col.dash == "zero" and col.type not in ("integer", "number"):
        problems.append(
            f"{where}.dash: only a number column can read '-' as zero (got type {col.type})"
        )
    if col.thousands_dot_lost and col.type != "integer":
        problems.append(
            f"{where}.thousands_dot_lost: only an integer column (a count) can declare a lost "
            f"thousands dot (got type {col.type})"
        )
    problems += _na_problems(col.na_values, f"{where}.na_values")
    return problems


def _na_problems(values: list[str] | None, where: str) -> list[str]:
    bad = [v for v in values or [] if v.strip() in DASHES or not v.strip()]
    if bad:
        return [
            f"{where}: {bad!r} cannot be an empty marker: a blank cell is always empty, and "
            "'-' is read as `dash` says (dash: empty | zero)"
        ]
    return []


def sheet_problems(ds: Dataset, path: Path) -> list[str]:
    """`source.sheet`: a sheet name or a position from 1, and only on a spreadsheet source."""
    sheet, where = ds.source.sheet, f"{path}: source.sheet"
    if sheet is None:
        if ds.source.kind == "spreadsheet" and "sheet" in ds.source.params:
            return [
                f"{path}: source.params.sheet: the sheet is declared on the source itself: "
                f"source: {{kind: spreadsheet, sheet: {ds.source.params['sheet']!r}}}"
            ]
        return []
    if ds.source.kind != "spreadsheet":
        return [
            f"{where}: only a spreadsheet source has sheets; source.kind {ds.source.kind} is "
            f"pulled as records (got {sheet!r})"
        ]
    if isinstance(sheet, int) and sheet < 1:
        return [f"{where}: a sheet's position counts from 1, the first sheet (got {sheet})"]
    if isinstance(sheet, str) and not sheet.strip():
        return [f"{where}: give the sheet's name as the workbook's tab shows it (got {sheet!r})"]
    return []


def dataset_problems(ds: Dataset, path: Path) -> list[str]:
    """The dataset's reading settings and its period's source, as `catalog validate` checks them."""
    problems = _na_problems(ds.na_values, f"{path}: na_values") + sheet_problems(ds, path)
    for col in ds.columns:
        problems += column_problems(col, path)
    spec = ds.period
    if spec.constant is not None and spec.from_filename is not None:
        problems.append(
            f"{path}: period: give the period by one of column (the file's own), constant or "
            "from_filename, not both constant and from_filename"
        )
    if spec.constant is not None:
        try:
            parse_period(spec.constant, spec.granularity)
        except ValueError as exc:
            problems.append(f"{path}: period.constant: {exc} (granularity {spec.granularity})")
    if spec.from_filename is not None:
        try:
            pattern = re.compile(spec.from_filename)
        except re.error as exc:
            problems.append(f"{path}: period.from_filename: not a regular expression: {exc}")
        else:
            missing = [g for g in GROUPS[spec.granularity] if g not in pattern.groupindex]
            if missing:
                problems.append(
                    f"{path}: period.from_filename: a {spec.granularity} period needs the "
                    f"named group(s) {', '.join(f'(?P<{g}>...)' for g in missing)}"
                )
    return problems
