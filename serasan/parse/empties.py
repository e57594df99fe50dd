"""Cells that mean "no value" (`NA`, `N/A`, `...`, `…`) and the dash, read as the catalog says.

Each column gets a `CellReading` from the dataset's and the column's `na_values` and `dash`
(defaults in `serasan.config.reading`): the markers are read as empty, and `-` as empty or as
zero. The reading counts what it met, so that `check` and the alert say which reading was used
(`Tally.notes`). A cell that is not a marker is left to the column's own converter.

- number and integer columns: the markers, and `-` as `dash` says (default: empty);
- date columns: the markers, and `-` as empty (a date has no zero);
- yes/no columns: the markers; `-` stays a value the column cannot read;
- text columns: only markers the dataset or column declares; `-` stays text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from serasan.config.catalog import Column, Dataset
from serasan.config.reading import DASHES, DEFAULT_NA_VALUES


class _NotSpecial:
    def __repr__(self) -> str:
        return "NOT_SPECIAL"


NOT_SPECIAL: Final = _NotSpecial()  # `CellReading.read`: the cell is not a marker


@dataclass
class CellReading:
    """How one column reads empty markers and dashes, and how often it met each."""

    column: str
    header: str
    na: frozenset[str]  # casefolded
    dash: str  # empty | zero | value (left to the column's converter)
    zero: Any = None
    numeric: bool = False  # a number column, where `dash` is a choice
    dashes: int = 0
    markers: Counter[str] = field(default_factory=Counter)

    def read(self, text: str) -> Any:
        """None (empty) or the zero for a marker or dash, else NOT_SPECIAL; `text` is stripped."""
        if text in DASHES and self.dash != "value":
            self.dashes += 1
            return self.zero if self.dash == "zero" else None
        if text.casefold() in self.na:
            self.markers[text] += 1
            return None
        return NOT_SPECIAL

    @property
    def active(self) -> bool:
        """Whether the reading can change anything in this column."""
        return bool(self.na) or self.dash != "value"


def reading_for(ds: Dataset, col: Column) -> CellReading:
    declared = col.na_values if col.na_values is not None else ds.na_values
    if declared is not None:
        na = declared
    else:
        na = [] if col.type == "string" else list(DEFAULT_NA_VALUES)
    markers = frozenset(v.strip().casefold() for v in na if v.strip())
    dash: str
    if col.type in ("integer", "number"):
        dash = col.dash or ds.dash
    elif col.type == "date":
        dash = "empty"
    else:
        dash = "value"
    zero: Any = None
    if dash == "zero":
        zero = 0 if col.type == "integer" else 0.0
    numeric = col.type in ("integer", "number")
    return CellReading(col.name, col.header, markers, dash, zero, numeric)


@dataclass
class Tally:
    """The readings of one file's columns, and the notes saying which were used."""

    readings: dict[str, CellReading]

    @classmethod
    def of(cls, ds: Dataset) -> Tally:
        return cls({c.name: reading_for(ds, c) for c in ds.columns})

    def notes(self) -> list[str]:
        out = []
        for kind in ("empty", "zero"):
            # a date column reads '-' as empty with nothing to choose: no note about it
            used = [r for r in self.readings.values() if r.dashes and r.dash == kind and r.numeric]
            if not used:
                continue
            cols = ", ".join(f"'{r.header}' ({r.dashes})" for r in used)
            if kind == "zero":
                out.append(
                    f"'-' dibaca sebagai 0 (dash: zero) di kolom {cols} "
                    f"('-' read as zero, dash: zero, in column(s) {cols})"
                )
            else:
                out.append(
                    f"'-' dibaca sebagai kosong (dash: empty) di kolom {cols}; bila '-' berarti "
                    f"nol, nyatakan dash: zero ('-' read as empty, dash: empty, in column(s) "
                    f"{cols}; declare dash: zero where '-' means 0)"
                )
        marked = [r for r in self.readings.values() if r.markers]
        if marked:
            cols = "; ".join(
                f"'{r.header}': " + ", ".join(f"{m!r} ({n})" for m, n in sorted(r.markers.items()))
                for r in marked
            )
            out.append(
                f"sel dibaca sebagai kosong (na_values): {cols} "
                f"(cells read as empty, na_values: {cols})"
            )
        return out
