"""Published versions of the Kemendagri region codes, and the typed rows of one version.

A version file is `kode,nama,level` (UTF-8, optionally gzip): `16.06.15.2001,Jirak,
desa_kelurahan`. Codes are dotted, `PP`, `PP.KK`, `PP.KK.CC`, `PP.KK.CC.DDDD`, and their shape
must agree with the level; a file that breaks this is refused with its line number rather than
half read. `VERSIONS` lists the six regulations whose codes ../shared/reference holds, oldest
first, named as the shared README names them; the last is the current one.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Level(StrEnum):
    """A region's level, as the version files write it."""

    PROVINSI = "provinsi"
    KABUPATEN_KOTA = "kabupaten_kota"
    KECAMATAN = "kecamatan"
    DESA_KELURAHAN = "desa_kelurahan"


_SHAPES: dict[Level, re.Pattern[str]] = {
    Level.PROVINSI: re.compile(r"\d{2}"),
    Level.KABUPATEN_KOTA: re.compile(r"\d{2}\.\d{2}"),
    Level.KECAMATAN: re.compile(r"\d{2}\.\d{2}\.\d{2}"),
    Level.DESA_KELURAHAN: re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}"),
}

HEADER = ("kode", "nama", "level")


def level_of(code: str) -> Level | None:
    """The level a dotted code's shape gives, None if it is no Kemendagri code."""
    for level, shape in _SHAPES.items():
        if shape.fullmatch(code):
            return level
    return None


def parent_of(code: str) -> str | None:
    """`16.06.15.2001` -> `16.06.15`; a province has none."""
    return code.rsplit(".", 1)[0] if "." in code else None


def kabupaten_of(code: str) -> str | None:
    """The kabupaten/kota a kecamatan or desa lies in (`16.06`); None above that level."""
    return code[:5] if len(code) > 5 else None


@dataclass(frozen=True, slots=True)
class Region:
    """One row of a version file."""

    code: str
    name: str
    level: Level

    @property
    def parent(self) -> str | None:
        return parent_of(self.code)


@dataclass(frozen=True, slots=True)
class Version:
    """One published set of codes: the year of the file and the regulation behind it."""

    year: int
    regulation: str

    @property
    def regulation_id(self) -> str:
        """The regulation as a Bahasa Indonesia sentence writes it."""
        return self.regulation.replace(", revised by ", ", diubah dengan ")

    def file_name(self, *, national: bool = False) -> str:
        """`wilayah_sumsel_2020.csv`, or `wilayah_kemendagri_2020.csv.gz` for all Indonesia."""
        if national:
            return f"wilayah_kemendagri_{self.year}.csv.gz"
        return f"wilayah_sumsel_{self.year}.csv"


VERSIONS: tuple[Version, ...] = (
    Version(2016, "Permendagri 56/2015"),
    Version(2018, "Permendagri 137/2017"),
    Version(2020, "Permendagri 72/2019, revised by Kepmendagri 146.1-4717/2020"),
    Version(2022, "Permendagri 58/2021, revised by Kepmendagri 050-145/2022"),
    Version(2023, "Kepmendagri 100.1.1-6117/2022"),
    Version(2025, "Kepmendagri 300.2.2-2430/2025"),
)
CURRENT = VERSIONS[-1]


def version(year: int) -> Version:
    """The version published as `year` (2016, 2018, 2020, 2022, 2023, 2025)."""
    for v in VERSIONS:
        if v.year == year:
            return v
    raise KeyError(f"no region-code version {year}; known: {[v.year for v in VERSIONS]}")


def version_in_force(year: int) -> Version:
    """The latest version published in or before `year` (the oldest one for earlier years)."""
    in_force = [v for v in VERSIONS if v.year <= year]
    return in_force[-1] if in_force else VERSIONS[0]


@dataclass(frozen=True, eq=False)
class VersionTable:
    """Every region of one version, by code."""

    version: Version
    regions: Mapping[str, Region]

    def __contains__(self, code: object) -> bool:
        return code in self.regions

    def get(self, code: str) -> Region | None:
        return self.regions.get(code)


def parse_regions(text: str, source: str = "<text>") -> dict[str, Region]:
    """The regions of a version file's text, by code; ValueError naming the line if malformed."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise ValueError(f"{source}: the header must be {','.join(HEADER)}, found {header}")
    regions: dict[str, Region] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(HEADER):
            raise ValueError(f"{source}:{line}: {len(row)} fields, expected {len(HEADER)}")
        code, name, level_text = (cell.strip() for cell in row)
        try:
            level = Level(level_text)
        except ValueError:
            raise ValueError(f"{source}:{line}: unknown level {level_text!r}") from None
        if not _SHAPES[level].fullmatch(code):
            raise ValueError(f"{source}:{line}: code {code!r} is not shaped as a {level}")
        if not name:
            raise ValueError(f"{source}:{line}: code {code} has no name")
        if code in regions:
            raise ValueError(f"{source}:{line}: code {code} appears twice")
        regions[code] = Region(code, name, level)
    return regions


def read_regions(path: Path) -> dict[str, Region]:
    """A version file (`.csv` or `.csv.gz`) by code."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return parse_regions(raw.decode("utf-8"), source=str(path))


def load_version(directory: Path, v: Version, *, national: bool = False) -> VersionTable:
    """Version `v` from `directory` (../shared/reference/wilayah_versions)."""
    path = directory / v.file_name(national=national)
    if not path.is_file():
        raise FileNotFoundError(f"region-code version {v.year} ({v.regulation}) not at {path}")
    return VersionTable(v, read_regions(path))


def load_versions(
    directory: Path, versions: Iterable[Version] = VERSIONS, *, national: bool = False
) -> list[VersionTable]:
    """Every version in `directory`, oldest first."""
    return [
        load_version(directory, v, national=national)
        for v in sorted(versions, key=lambda v: v.year)
    ]


def regions_csv(regions: Iterable[Region]) -> str:
    """Regions as a version file's text (`kode,nama,level`, `\\n` line ends), in the given order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for r in regions:
        writer.writerow((r.code, r.name, r.level.value))
    return buf.getvalue()
