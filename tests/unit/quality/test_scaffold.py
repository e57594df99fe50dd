"""`serasan suite scaffold`: a starting suite from the catalog that is valid, passes clean data,
and catches every kind of generated defect."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from serasan.config.catalog import Dataset
from serasan.demo.generate import applicable_defects, generate_dataset
from serasan.parse.reader import parse_file
from serasan.quality import rules
from serasan.quality.engine import suite_params, validate
from serasan.quality.scaffold import scaffold_suite, write_suite
from serasan.quality.suites import check_suite, load_validated_catalog

CATALOG = load_validated_catalog()
IDS = sorted(CATALOG.datasets)
AS_OF = dt.date(2026, 10, 31)
PARAMS = suite_params(dt.date(2026, 11, 1))
NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND = "expect_compound_columns_to_be_unique"
# which rules each generated defect breaks (one defect per row, so the counts add up exactly)
CATCHES = {
    "unknown_region": {rules.KODE_WILAYAH},
    "malformed_nik": {rules.NIK},
    "future_date": {rules.IN_PERIOD},
    "missing_value": {NOT_NULL},
    "negative_amount": {BETWEEN, rules.MONEY},
}


@pytest.mark.parametrize("ds_id", IDS)
def test_scaffold_is_a_valid_suite_that_passes_clean_data_and_catches_defects(
    ds_id: str, tmp_path: Path
) -> None:
    ds = CATALOG.datasets[ds_id]
    path = write_suite(CATALOG, ds, tmp_path / "suites" / f"{ds_id}.json")
    assert check_suite(ds, tmp_path / "suites") == []
    the_suite = json.loads(path.read_text(encoding="utf-8"))
    assert the_suite == scaffold_suite(CATALOG, ds)

    clean = generate_dataset(ds, CATALOG, rows=80, fmt="csv", seed=3, as_of=AS_OF)
    table = parse_file(clean.data, clean.filename, ds).table
    v = validate(table, the_suite, PARAMS)
    assert not [(r.type, r.columns, r.unexpected_count) for r in v.results if not r.success]

    bad = generate_dataset(ds, CATALOG, rows=80, fmt="csv", defect_rate=0.5, seed=3, as_of=AS_OF)
    table = parse_file(bad.data, bad.filename, ds).table
    v = validate(table, the_suite, PARAMS)  # raises RulesDisagree if a mask miscounts
    counts: dict[str, int] = {}
    for r in v.results:
        counts[r.type] = counts.get(r.type, 0) + r.unexpected_count
    assert set(bad.defects) == set(applicable_defects(ds)), "pick a seed that makes every kind"
    for kind, n in bad.defects.items():
        if kind == "duplicate_key":
            assert counts.get(UNIQUE, 0) + counts.get(COMPOUND, 0) >= n + 1
        else:
            assert sum(counts.get(t, 0) for t in CATCHES[kind]) == n, (kind, counts)


@pytest.mark.parametrize("ds_id", IDS)
def test_scaffold_rules_follow_the_declarations(ds_id: str) -> None:
    ds = CATALOG.datasets[ds_id]
    exps = scaffold_suite(CATALOG, ds)["expectations"]
    on = {(e["type"], e["kwargs"].get("column")): e for e in exps}
    assert {c for t, c in on if t == NOT_NULL} == {c.name for c in ds.columns if not c.nullable}
    if len(ds.primary_key) == 1:
        assert (UNIQUE, ds.primary_key[0]) in on
    else:
        assert any(
            e["type"] == COMPOUND and e["kwargs"]["column_list"] == ds.primary_key for e in exps
        )
    if ds.region:
        assert on[(rules.KODE_WILAYAH, ds.region.column)]["kwargs"] == {
            "column": ds.region.column,
            "level": ds.region.level,
            "parent": ds.regency,
        }
    assert on[(rules.IN_PERIOD, ds.period.column)]["kwargs"] == {
        "column": ds.period.column,
        "granularity": ds.period.granularity,
        "min_date": "2015-01-01",
        "max_date": {"$PARAMETER": "run_date"},
    }
    for c in ds.columns:
        if c.generate.get("kind") == "nik":
            assert (rules.NIK, c.name) in on
        if c.unit == "Rupiah":
            assert (rules.MONEY, c.name) in on and (BETWEEN, c.name) not in on
        if c.allowed:
            assert on[(IN_SET, c.name)]["kwargs"]["value_set"] == c.allowed
    for e in exps:
        meta = e["meta"]
        assert meta["pesan"] and meta["message"] and meta["pesan"] != meta["message"]
        assert rules.describe(e, PARAMS) == meta["pesan"]
        assert rules.describe(e, PARAMS, "en") == meta["message"]


def _dataset(columns: list[dict[str, Any]], **extra: Any) -> Dataset:
    base = CATALOG.datasets["muba_cctv_kita"].model_dump()
    base.update(
        id="uji_scaffold",
        columns=columns,
        primary_key=["tanggal", "kode"],
        period={"column": "tanggal", "granularity": "day"},
        region=None,
        **extra,
    )
    return Dataset.model_validate(base)


def test_scaffold_heuristics() -> None:
    ds = _dataset(
        [
            {"name": "tanggal", "type": "date", "nullable": False, "description": "d"},
            {"name": "kode", "type": "string", "nullable": False, "description": "d"},
            {"name": "nik_ibu", "type": "string", "description": "NIK by name, no generator hint"},
            {"name": "nikah", "type": "string", "description": "not a NIK"},
            {"name": "skor", "type": "integer", "allowed": ["1", "2", "3"], "description": "d"},
            {"name": "biaya", "type": "number", "unit": "rupiah", "description": "money by unit"},
            {"name": "honor", "type": "integer", "generate": {"money": True}, "description": "d"},
            {"name": "lintang", "type": "number", "description": "latitude: signed"},
            {"name": "suhu_c", "type": "number", "generate": {"min": -5}, "description": "signed"},
            {"name": "berat_kg", "type": "number", "unit": "kilogram", "description": "d"},
            {"name": "aktif", "type": "boolean", "description": "d"},
        ]
    )
    exps = scaffold_suite(CATALOG, ds, min_date=None)["expectations"]
    got = [(e["type"], e["kwargs"].get("column")) for e in exps]
    assert got == [
        (NOT_NULL, "tanggal"),
        (NOT_NULL, "kode"),
        (COMPOUND, None),
        (rules.IN_PERIOD, "tanggal"),
        (rules.NIK, "nik_ibu"),
        (IN_SET, "skor"),
        (rules.MONEY, "biaya"),
        (rules.MONEY, "honor"),
        (BETWEEN, "berat_kg"),
    ]
    assert exps[5]["kwargs"]["value_set"] == [1, 2, 3]  # as the parsed integer column holds them
    assert "min_date" not in exps[3]["kwargs"]
    assert exps[3]["meta"]["pesan"] == (
        "kolom tanggal harus tanggal yang sah, dan tidak di masa depan"
    )


def test_scaffold_names_columns_by_their_header_in_both_languages() -> None:
    ds = CATALOG.datasets["muaraenim_penerima_bansos"]
    exps = scaffold_suite(CATALOG, ds)["expectations"]
    nik = next(e for e in exps if e["type"] == rules.NIK)
    assert nik["meta"]["pesan"].startswith("kolom 'NIK Penerima' (nik) bukan NIK yang sah")
    assert nik["meta"]["message"].startswith("column 'NIK Penerima' (nik) is not a valid NIK")
    kode = next(e for e in exps if e["type"] == rules.KODE_WILAYAH)
    assert kode["meta"]["pesan"] == (
        "kolom 'Kode Desa' (kode_desa) bukan kode desa/kelurahan Kemendagri di Kabupaten Muara Enim"
    )
    period = next(e for e in exps if e["type"] == rules.IN_PERIOD)
    assert "tidak sebelum 1 Januari 2015" in period["meta"]["pesan"]
    assert "not before 1 January 2015" in period["meta"]["message"]
    yearly = scaffold_suite(CATALOG, CATALOG.datasets["muaraenim_produksi_karet"])
    period = next(e for e in yearly["expectations"] if e["type"] == rules.IN_PERIOD)
    assert period["meta"]["pesan"] == (
        "kolom 'Tahun' (tahun) harus tahun empat angka "
        "(mis. 2025), tidak sebelum 2015, dan tidak di masa depan"
    )


def test_write_suite_keeps_an_existing_file_unless_told(tmp_path: Path) -> None:
    ds = CATALOG.datasets["muba_cctv_kita"]
    path = tmp_path / "deep" / "muba_cctv_kita.json"
    assert write_suite(CATALOG, ds, path) == path
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(FileExistsError, match="already exists"):
        write_suite(CATALOG, ds, path)
    assert path.read_text(encoding="utf-8") == "{}"
    write_suite(CATALOG, ds, path, overwrite=True)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and json.loads(text)["name"] == "muba_cctv_kita"
