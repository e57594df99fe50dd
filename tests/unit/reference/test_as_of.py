"""Names and codes as the version in force in a row's year published them.

`serasan.reference.as_of` ships only what differs from the current version; rebuilt, it must
give back each of the six published versions exactly. The parser then reads a 2018 row's
names in the 2018 codes: "Rambang Dangku" is 16.03.03 then (Rambang Niru since 2020, its area
changed when 16.03.26 split off), and the villages of Jirak Jaya are under Sungai Keruh.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from serasan.config.catalog import RegionSpec
from serasan.parse.regions import check_name, resolve_column, resolve_name
from serasan.reference import provinces
from serasan.reference.as_of import entries_csv, parse_entries, past_entries, table_as_of
from serasan.reference.history import normalise_name
from serasan.reference.versions import Level, VersionTable, load_versions


@pytest.fixture
def versions(shared_dir: Path) -> list[VersionTable]:
    return load_versions(shared_dir / "reference" / "wilayah_versions")


def test_the_differences_rebuild_every_published_version(versions: list[VersionTable]) -> None:
    entries = past_entries(versions)
    assert parse_entries(entries_csv(entries)) == entries
    current = versions[-1]
    for table in versions:
        rebuilt = table_as_of(current, entries, table.version.year)
        assert {c: normalise_name(r.name, r.level) for c, r in rebuilt.items()} == {
            c: normalise_name(r.name, r.level) for c, r in table.regions.items()
        }, table.version.year
    # what is shipped is a small share of the six versions
    assert len(entries) < len(current.regions) / 5


def test_shipped_tables_as_of_a_year() -> None:
    assert provinces.region_as_of("16.03.03", 2018).name == "Rambang Dangku"  # type: ignore[union-attr]
    assert provinces.region_as_of("16.03.03", 2021).name == "Rambang Niru"  # type: ignore[union-attr]
    assert provinces.region_as_of("16.03.26", 2018) is None  # split off in 2020
    assert provinces.region_as_of("16.06.03.2001", 2018).name == "Jirak"  # type: ignore[union-attr]
    assert provinces.region_as_of("16.06.03.2001", 2020) is None  # renumbered 16.06.15.2001


def test_a_2018_name_reads_in_the_2018_codes_and_is_flagged() -> None:
    old = resolve_name("Rambang Dangku", Level.KECAMATAN, "16.03", year=2018)
    assert old.code == "16.03.03" and old.how == "former_name" and old.area_changed
    assert "Permendagri 137/2017" in old.why_en and "Rambang Niru" in old.why_en
    # the same name in a 2022 row is no kecamatan of Muara Enim: refused, never guessed
    assert resolve_name("Rambang Dangku", Level.KECAMATAN, "16.03", year=2022).code is None
    assert resolve_name("Rambang Dangku", Level.KECAMATAN, "16.03").code is None
    # today's name in a 2018 file still reads (it names one region)
    assert resolve_name("Rambang Niru", Level.KECAMATAN, "16.03", year=2018).code == "16.03.03"


def test_a_village_named_in_its_old_kecamatan_reaches_its_current_code() -> None:
    spec = RegionSpec(
        column="desa", level="desa_kelurahan", scheme="name", parent_column="kecamatan"
    )
    got = resolve_column(
        ["Jirak", "Jirak"],
        spec,
        "16.06",
        parents=["Sungai Keruh", "Sungai Keruh"],
        years=[2018, 2022],
    )
    assert got.codes[0] == "16.06.15.2001"  # Jirak, under Jirak Jaya since 2020
    assert got.codes[1] is None  # in 2022 Jirak is no village of Sungai Keruh
    assert "Jirak" in got.rejects[0].reason_en and "Sungai Keruh" in got.rejects[0].reason_en
    assert any("earlier names" in n for n in got.notes)


def test_a_name_checked_against_its_code_as_of_the_rows_year() -> None:
    assert check_name("16.03.03", "Rambang Dangku", "Kecamatan", year=2018) is None
    later = check_name("16.03.03", "Rambang Dangku", "Kecamatan", year=2022)
    assert later is not None and later.ok and later.name_differs == "Rambang Dangku"
