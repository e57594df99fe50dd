"""Region names and codes as an earlier version published them, for rows of earlier years.

A 2018 file names its kecamatan as the 2018 version did: "Rambang Dangku" is 16.03.03 then,
and 16.03.03 has been Rambang Niru since 2020. Matching that name against today's names finds
nothing (or, worse, another region). So a row's names are read in the version in force for the
row's year, and what they name is then carried to today's code through the code history.

Only the differences from the current version are shipped: `past_entries` lists every (code,
name) pair that does not hold in every version (codes renamed, codes that no longer exist,
codes that did not exist yet), each with the versions it holds in; `table_as_of` rebuilds the
table in force in a year from the current table and those entries. `tools/build_reference.py`
writes them as `names_history_<province>.csv`: `kode,nama,level,versi` (`versi`: the version
years, `;`-separated).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from serasan.reference.history import normalise_name
from serasan.reference.versions import VERSIONS, Level, Region, VersionTable, version_in_force

HEADER = ("kode", "nama", "level", "versi")
_SEP = ";"


@dataclass(frozen=True, slots=True)
class PastEntry:
    """A (code, name) pair that held in some versions only: those of `years`."""

    code: str
    name: str
    level: Level
    years: tuple[int, ...]


def _key(code: str, name: str, level: Level) -> tuple[str, str]:
    return code, normalise_name(name, level)


def past_entries(tables: Sequence[VersionTable]) -> list[PastEntry]:
    """Every (code, name) pair of `tables` (oldest first, the last current) that does not hold
    in all of them. Names that differ only in case, spaces or punctuation are one name; the
    latest spelling is kept."""
    held: dict[tuple[str, str], list[int]] = {}
    spelling: dict[tuple[str, str], Region] = {}
    for t in tables:
        for r in t.regions.values():
            k = _key(r.code, r.name, r.level)
            held.setdefault(k, []).append(t.version.year)
            spelling[k] = r
    every = len(tables)
    return [
        PastEntry(spelling[k].code, spelling[k].name, spelling[k].level, tuple(years))
        for k, years in sorted(held.items())
        if len(years) < every
    ]


def entries_csv(entries: Sequence[PastEntry]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for e in entries:
        w.writerow([e.code, e.name, e.level.value, _SEP.join(str(y) for y in e.years)])
    return buf.getvalue()


def parse_entries(text: str, source: str = "<text>") -> list[PastEntry]:
    """Entries written by `entries_csv`; ValueError naming the line if one is malformed."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(next(reader, ())) != HEADER:
        raise ValueError(f"{source}: the header must be {','.join(HEADER)}")
    known = {v.year for v in VERSIONS}
    out = []
    for line, row in enumerate(reader, start=2):
        try:
            code, name, level, years = row
            parsed = tuple(int(y) for y in years.split(_SEP))
            if not set(parsed) <= known:
                raise ValueError(f"unknown version year in {years!r}")
            out.append(PastEntry(code, name, Level(level), parsed))
        except ValueError as exc:
            raise ValueError(f"{source}:{line}: {exc}") from None
    return out


def table_as_of(
    current: VersionTable, entries: Sequence[PastEntry], year: int
) -> dict[str, Region]:
    """The regions, by code, of the version in force in `year`."""
    v = version_in_force(year)
    partial = {_key(e.code, e.name, e.level) for e in entries}
    regions = {
        c: r for c, r in current.regions.items() if _key(r.code, r.name, r.level) not in partial
    }
    for e in entries:
        if v.year in e.years:
            regions[e.code] = Region(e.code, e.name, e.level)
    return regions
