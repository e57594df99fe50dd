"""The provinces whose region codes Serasan ships, each with its codes, history and crosswalk.

`SHIPPED` lists them: Sumatera Selatan (16, the province of the regencies Serasan serves, whose
files `resolve.shipped_history` also reads) and Jawa Barat (32, for the real Jawa Barat files
the tests resolve). `province("32")` loads one province's data once; the lookups below pick the
province from the first two digits of a code, so a code of a province that is not shipped is
simply not known here (None), never mistaken for another.

* `current_region(code)`: the current (2025) region of a dotted Kemendagri code;
* `resolve_code(code, as_of_year)`: `resolve.resolve` against the code's province;
* `bps_entry(bps_code)`: the BPS crosswalk entry, carried to current codes;
* `regions_under(parent, level)` and `name_index(parent, level)`: for names;
* `area_changed(code, year)`: whether the area behind a current code changed after `year`
  (16.03.03 for data of 2018), for KPIs and exports that compare periods.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources

from serasan.reference.as_of import PastEntry, parse_entries, table_as_of
from serasan.reference.history import CodeHistory, parse_history
from serasan.reference.names import NameIndex, index
from serasan.reference.resolve import (
    CROSSWALK_FILE,
    CURRENT_FILE,
    HISTORY_FILE,
    CrosswalkEntry,
    Resolution,
    parse_crosswalk,
    resolve,
)
from serasan.reference.versions import (
    CURRENT,
    Level,
    Region,
    VersionTable,
    parse_regions,
    version_in_force,
)


@dataclass(frozen=True, slots=True)
class ProvinceFiles:
    """Where one province's data lives in `data/`, and what the crosswalk was cut from."""

    kode: str
    slug: str
    name: str
    history_file: str
    current_file: str
    crosswalk_file: str
    crosswalk_source: str  # the file of ../shared/reference the crosswalk was cut from
    names_file: str  # the (code, name) pairs of earlier versions (`serasan.reference.as_of`)


SHIPPED: dict[str, ProvinceFiles] = {
    "16": ProvinceFiles(
        "16",
        "sumsel",
        "Sumatera Selatan",
        HISTORY_FILE,
        CURRENT_FILE,
        CROSSWALK_FILE,
        "bps_to_kemendagri_sumsel.tsv",
        "names_history_sumsel.csv",
    ),
    "32": ProvinceFiles(
        "32",
        "jabar",
        "Jawa Barat",
        "code_history_jabar.csv",
        "wilayah_jabar_current.csv.gz",
        "bps_kemendagri_current_jabar.csv.gz",
        "bps_to_kemendagri_indonesia.tsv.gz",
        "names_history_jabar.csv",
    ),
}
# the crosswalk's origin, for messages: "what was looked up where"
CROSSWALK_ORIGIN = "kodewilayah/explorer 9549551"


def data_text(name: str) -> str:
    """A file of `data/` as text, gunzipped when its name ends in `.gz`."""
    raw = resources.files("serasan.reference").joinpath("data", name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


@dataclass(frozen=True, eq=False)
class Province:
    """One shipped province: its current codes, their history and the BPS crosswalk."""

    files: ProvinceFiles
    history: CodeHistory
    crosswalk: Mapping[str, CrosswalkEntry]  # by BPS code
    _indexes: dict[tuple[str | None, Level], NameIndex] = field(
        default_factory=dict, init=False, repr=False
    )
    _tables: dict[int, Mapping[str, Region]] = field(default_factory=dict, init=False, repr=False)
    _past_indexes: dict[tuple[str | None, Level, int], NameIndex] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def kode(self) -> str:
        return self.files.kode

    @property
    def name(self) -> str:
        return self.files.name

    @property
    def current(self) -> VersionTable:
        return self.history.current

    def crosswalk_label(self, lang: str = "id") -> str:
        """`crosswalk BPS-Kemendagri Jawa Barat (kodewilayah/explorer 9549551, ...)`."""
        carried = "dibawa ke kode" if lang == "id" else "carried to the codes of"
        return (
            f"crosswalk BPS-Kemendagri {self.name} ({CROSSWALK_ORIGIN}, "
            f"serasan/reference/data/{self.files.crosswalk_file}, {carried} {CURRENT.regulation})"
        )

    def names(self, parent: str | None, level: Level) -> NameIndex:
        key = (parent, level)
        if key not in self._indexes:
            self._indexes[key] = index(self.current.regions.values(), parent, level)
        return self._indexes[key]

    @cached_property
    def past(self) -> tuple[PastEntry, ...]:
        return tuple(parse_entries(data_text(self.files.names_file), self.files.names_file))

    def table_as_of(self, year: int) -> Mapping[str, Region]:
        """The regions of the version in force in `year`, by code."""
        v = version_in_force(year).year
        if v not in self._tables:
            self._tables[v] = table_as_of(self.current, self.past, year)
        return self._tables[v]

    def names_as_of(self, parent: str | None, level: Level, year: int) -> NameIndex:
        """The name index of `level` under `parent` in the version in force in `year`."""
        v = version_in_force(year).year
        key = (parent, level, v)
        if key not in self._past_indexes:
            self._past_indexes[key] = index(self.table_as_of(year).values(), parent, level)
        return self._past_indexes[key]


def _load(files: ProvinceFiles) -> Province:
    if files.kode == "16":  # the files resolve.py reads: one copy in memory
        from serasan.reference.resolve import shipped_crosswalk, shipped_history

        history, entries = shipped_history(), shipped_crosswalk()
    else:
        current = VersionTable(
            CURRENT, parse_regions(data_text(files.current_file), files.current_file)
        )
        history = parse_history(data_text(files.history_file), current, files.history_file)
        entries = tuple(parse_crosswalk(data_text(files.crosswalk_file), files.crosswalk_file))
    return Province(files, history, {e.bps_code: e for e in entries})


@cache
def province(kode: str) -> Province | None:
    """A shipped province by its two-digit code; None for a province Serasan does not ship."""
    files = SHIPPED.get(kode)
    return _load(files) if files is not None else None


def province_of(code: str) -> Province | None:
    """The shipped province of a Kemendagri or BPS code (its first two digits)."""
    return province(code[:2]) if len(code) >= 2 and code[:2].isdigit() else None


def current_region(code: str) -> Region | None:
    """The current region of a dotted Kemendagri code, None if not current or not shipped."""
    p = province_of(code)
    return p.current.get(code) if p is not None else None


def resolve_code(code: str, as_of_year: int | None = None) -> Resolution | None:
    """What a dotted Kemendagri code is now, within its province; None if it is not shipped."""
    p = province_of(code)
    return resolve(code, as_of_year, history=p.history) if p is not None else None


def bps_entry(bps_code: str) -> CrosswalkEntry | None:
    """The crosswalk entry of a BPS code (carried to current codes), None if there is none."""
    p = province_of(bps_code)
    return p.crosswalk.get(bps_code) if p is not None else None


def regions_under(parent: str, level: Level) -> tuple[Region, ...]:
    """The current regions of `level` under `parent` (a province or deeper code)."""
    p = province_of(parent)
    return p.names(parent, level).regions if p is not None else ()


def name_index(parent: str, level: Level) -> NameIndex | None:
    """The name index of `level` under `parent`; None when the province is not shipped."""
    p = province_of(parent)
    return p.names(parent, level) if p is not None else None


def region_as_of(code: str, year: int) -> Region | None:
    """The region a dotted code was in the version in force in `year` (None: not then)."""
    p = province_of(code)
    return p.table_as_of(year).get(code) if p is not None else None


def name_index_as_of(parent: str, level: Level, year: int) -> NameIndex | None:
    """`name_index` in the version in force in `year`."""
    p = province_of(parent)
    return p.names_as_of(parent, level, year) if p is not None else None


def area_changed(code: str, as_of_year: int | None = None) -> bool:
    """The area behind this current code changed after data of `as_of_year` (any change if
    None): a time series across that version must not be compared as if nothing happened."""
    r = resolve_code(code, as_of_year)
    return r is not None and r.current_code == code and r.area_changed
