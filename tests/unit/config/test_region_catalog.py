"""The catalog's region block (scheme, undotted, parent/name/source columns) and
catalog/aliases.yaml, as `catalog validate` checks them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from serasan.config.catalog import CatalogError, load_catalog
from serasan.config.regions import parse_aliases
from serasan.reference.versions import Level
from tests.support.paths import REPO_ROOT


def _catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(REPO_ROOT / "catalog", root)
    return root


def _edit(root: Path, ds_id: str, region: dict[str, Any], columns: list[dict[str, Any]]) -> None:
    path = root / "datasets" / f"{ds_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["region"] = {**data["region"], **region}
    data["columns"] += columns
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(root: Path) -> list[str]:
    with pytest.raises(CatalogError) as err:
        load_catalog(root)
    return err.value.problems


def test_the_shipped_aliases_load_and_resolve() -> None:
    catalog = load_catalog()
    assert len(catalog.aliases) >= 9
    assert catalog.aliases.source.endswith("catalog/aliases.yaml")
    (oku,) = catalog.aliases.lookup("oku  selatan", "16", Level.KABUPATEN_KOTA)
    assert oku.kode == "16.09"
    assert catalog.aliases.lookup("OKU Selatan", "16.06", Level.KECAMATAN) == ()


def test_a_valid_region_block_with_every_field_passes(tmp_path: Path) -> None:
    root = _catalog_copy(tmp_path)
    _edit(
        root,
        "muba_bank_sampah",
        {"scheme": "bps", "name_column": "nama_desa", "source_column": "kode_desa_bps"},
        [
            {"name": "nama_desa", "type": "string", "description": "Nama desa"},
            {"name": "kode_desa_bps", "type": "string", "description": "Kode BPS desa"},
        ],
    )
    ds = load_catalog(root).dataset("muba_bank_sampah")
    assert ds.region is not None and ds.region.scheme == "bps"
    assert ds.region.source_column == "kode_desa_bps"


def test_region_fields_are_checked_with_clear_messages(tmp_path: Path) -> None:
    root = _catalog_copy(tmp_path)
    _edit(
        root,
        "muba_bank_sampah",
        {
            "scheme": "bps",
            "undotted": True,
            "parent_column": "kecamatan",
            "name_column": "nasabah_aktif",
            "source_column": "kode_asli",
        },
        [],
    )
    _edit(root, "muba_cctv_kita", {"scheme": "kode"}, [])
    path = root / "datasets" / "muba_bank_sampah.yaml"
    problems = _problems(root)
    undotted = "region.undotted: only scheme kemendagri has undotted codes (scheme is bps)"
    assert f"{path}: {undotted}" in problems
    assert (
        f"{path}: region.parent_column: only scheme name looks a region up within a parent "
        "column (scheme is bps)"
    ) in problems
    assert f"{path}: region.parent_column: 'kecamatan' is not a declared column" in problems
    name_column = "region.name_column: 'nasabah_aktif' must be of type string, got integer"
    assert f"{path}: {name_column}" in problems
    assert f"{path}: region.source_column: 'kode_asli' is not a declared column" in problems
    (cctv,) = [p for p in problems if "muba_cctv_kita.yaml: region.scheme" in p]
    assert "'kemendagri', 'bps' or 'name'" in cctv


def test_the_source_column_is_not_the_key_nor_the_region_column(tmp_path: Path) -> None:
    root = _catalog_copy(tmp_path)
    _edit(root, "muba_bank_sampah", {"source_column": "kode_desa", "name_column": "kode_desa"}, [])
    problems = _problems(root)
    assert any(
        "region.source_column: 'kode_desa' is the region column itself" in p for p in problems
    )
    assert any("region.name_column: 'kode_desa' is the region column itself" in p for p in problems)


def test_aliases_are_checked_against_the_reference(tmp_path: Path) -> None:
    path = Path("aliases.yaml")
    table, problems = parse_aliases(
        [
            {"alias": "OKU Sel.", "kode": "16.09", "nama": "Kabupaten Ogan Komering Ulu Selatan"},
            {"alias": "Sungai Lilin", "kode": "16.06.02", "nama": "Lais"},
            {"alias": "Kota X", "kode": "33.01", "nama": "Kabupaten Cilacap"},
            {"alias": "OKU Sel", "kode": "16.08", "nama": "Kabupaten Ogan Komering Ulu Timur"},
            {"alias": "Lais", "kode": "16.06.99", "nama": "Lais"},
            {"alias": "x", "kode": "16.09", "nama": "y", "typo": 1},
        ],
        path,
    )
    assert problems == [
        "aliases.yaml: [1].alias: 'Sungai Lilin' is the name of Sungai Lilin (16.06.07) "
        "already; an alias cannot give a real name to another region",
        "aliases.yaml: [2].kode: 33.01: Serasan ships no region codes of province 33 (shipped: "
        "16 Sumatera Selatan, 32 Jawa Barat; tools/build_reference.py adds one)",
        "aliases.yaml: [3].alias: 'OKU Sel' already means 16.09 under 16; one spelling cannot "
        "mean two regions",
        "aliases.yaml: [4].kode: 16.06.99 is not a current Kemendagri code",
        "aliases.yaml: [5].typo: Extra inputs are not permitted",
    ]
    assert [a.kode for a in table.aliases][:2] == ["16.09", "16.06.02"]


def test_a_broken_alias_file_fails_catalog_validate(tmp_path: Path) -> None:
    root = _catalog_copy(tmp_path)
    (root / "aliases.yaml").write_text(
        "- {alias: OKU Selatan, kode: '16.09', nama: Kabupaten Ogan Ilir}\n", encoding="utf-8"
    )
    assert _problems(root) == [
        f"{root / 'aliases.yaml'}: [0].nama: 16.09 is 'Kabupaten Ogan Komering Ulu Selatan', "
        "not 'Kabupaten Ogan Ilir'"
    ]
