"""The warehouse without a database: migrations spell out their own tables, the BPS crosswalk
seed is the shared reference's extract, layer names map in one place. Schema and loads on
SQLite and PostgreSQL are in tests/integration/test_warehouse.py."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from serasan.common.paths import SEED_DIR
from serasan.warehouse.db import MIGRATIONS
from serasan.warehouse.names import locate, qualified


def _seed_rows(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_migrations_spell_out_their_own_tables() -> None:
    """A revision must not build its tables from tables.py, which is the schema as it is now."""
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        src = path.read_text(encoding="utf-8")
        assert not re.search(r"warehouse\.tables|fixed_metadata|checkfirst", src), path.name


def test_bps_seed_is_the_reference_extract(shared_dir: Path) -> None:
    """bps_kemendagri.csv = the shared BPS->Kemendagri reference, for the province, its
    kabupaten/kota, and the kecamatan and desa of 16.03 and 16.06, matched rows only: the BPS
    code has a Kemendagri code, and that code is in the 2025 decree (wilayah.csv)."""
    levels = {1: "provinsi", 2: "kabupaten_kota", 3: "kecamatan", 4: "desa_kelurahan"}
    known = {r["kode"]: r for r in _seed_rows("wilayah.csv")}
    tsv = shared_dir / "reference" / "bps_to_kemendagri_sumsel.tsv"
    with tsv.open(encoding="utf-8", newline="") as fh:
        reference = list(csv.DictReader(fh, delimiter="\t"))
    assert {"kode_bps": "1603050", "kode_kemendagri": "16.03.02"} in reference
    in_scope = [
        r
        for r in reference
        if r["kode_kemendagri"]
        and (
            r["kode_kemendagri"].count(".") <= 1
            or r["kode_kemendagri"].startswith(("16.03.", "16.06."))
        )
    ]
    expected = [
        {
            "kode_bps": r["kode_bps"],
            "kode_kemendagri": r["kode_kemendagri"],
            "level": levels[r["kode_kemendagri"].count(".") + 1],
        }
        for r in in_scope
        if r["kode_kemendagri"] in known
    ]
    assert _seed_rows("bps_kemendagri.csv") == expected
    assert all(known[r["kode_kemendagri"]]["level"] == r["level"] for r in expected)
    # what was left out: BPS codes without a match, and matches the 2025 decree does not have
    unmatched = [
        r
        for r in reference
        if not r["kode_kemendagri"] and r["kode_bps"].startswith(("1603", "1606"))
    ]
    assert [r["kode_bps"] for r in unmatched] == ["1603050004", "1603050005", "1603050006"]
    assert len(in_scope) - len(expected) == 34


def test_layer_names_are_mapped_in_one_place() -> None:
    assert locate("core", "fact_x", "postgresql") == ("core", "fact_x")
    assert locate("core", "fact_x", "sqlite") == (None, "core__fact_x")
    assert qualified("mart", "kpi_value", "sqlite") == "mart__kpi_value"
    for bad in ("x; DROP TABLE y", "Fact", "a b"):
        with pytest.raises(ValueError, match="unsafe"):
            locate("core", bad, "postgresql")
