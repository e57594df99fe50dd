"""Programmes and citizen-voice datasets in the catalog, as `catalog validate` checks them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from serasan.config.catalog import CatalogError, load_catalog
from tests.support.paths import REPO_ROOT


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(REPO_ROOT / "catalog", root)
    return root


def _problems(root: Path) -> list[str]:
    with pytest.raises(CatalogError) as err:
        load_catalog(root)
    return err.value.problems


def _edit_yaml(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_programmes_cover_every_pillar_of_both_regencies() -> None:
    catalog = load_catalog()
    for kode in ("16.06", "16.03"):
        mine = [p for p in catalog.programmes.values() if p.regency == kode]
        assert sorted(p.pillar for p in mine) == sorted(
            ["governance", "branding", "economy", "living", "society", "environment"]
        ), kode
        for p in mine:  # each programme's KPIs are its regency's, and it has some
            assert p.kpis and all(catalog.kpis[k].regency == kode for k in p.kpis)
    muba = {p.code: p for p in catalog.programmes.values() if p.regency == "16.06"}
    assert muba["muba_taman_air"].opd == "dlh" and muba["muba_bank_sampah"].opd == "dlh"
    assert muba["muba_cctv_kita"].opd == "diskominfo"
    # Musi Banyuasin, the evaluated regency, has review and complaint datasets of its own
    voice = {s.dataset for p in muba.values() for s in p.voice}
    assert voice == {"muba_ulasan_program", "muba_pengaduan_masyarakat"}
    reviews = catalog.dataset("muba_ulasan_program")
    assert reviews.voice is not None and reviews.voice.kind == "review"
    assert set(reviews.column("program").allowed or []) == set(muba)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d[0].update(opd="disdik"), "[0].opd: 'disdik' is not an OPD of"),
        (lambda d: d[0].update(kpis=["MUBA-GOV-99"]), "[0].kpis[0]: unknown KPI 'MUBA-GOV-99'"),
        (
            lambda d: d[0].update(kpis=["ME-GOV-01"]),
            "[0].kpis[0]: KPI 'ME-GOV-01' belongs to regency 16.03, not 16.06",
        ),
        (
            lambda d: d[0]["voice"].append({"dataset": "muba_bank_sampah"}),
            "'muba_bank_sampah' has no voice block, so it is not a citizen-voice dataset",
        ),
        (
            lambda d: d[0]["voice"].append({"dataset": "muaraenim_pengaduan_masyarakat"}),
            "holds no rows of 16.06",
        ),
        (lambda d: d[0].update(regency="16.99"), "[0].regency: unknown regency '16.99'"),
        (lambda d: d.append(dict(d[0])), "programme 'muba_layanan_pajak' is declared twice"),
    ],
    ids=["opd", "kpi", "kpi-of-other-regency", "not-voice", "other-regency", "regency", "twice"],
)
def test_a_wrong_programme_reference_names_file_field_and_value(
    tmp_path: Path, change: Any, expected: str
) -> None:
    root = _copy(tmp_path)
    _edit_yaml(root / "programmes.yaml", change)
    problems = _problems(root)
    assert any("programmes.yaml" in p and expected in p for p in problems), problems


def test_a_programme_absent_from_the_programme_column_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)

    def rename(d: list[dict[str, Any]]) -> None:
        d[0]["code"] = "muba_layanan_pajak_baru"

    _edit_yaml(root / "programmes.yaml", rename)
    problems = _problems(root)
    assert any(
        "'muba_ulasan_program' column 'program' never holds 'muba_layanan_pajak_baru'" in p
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: next(c for c in d["columns"] if c["name"] == "penulis").update(pii=False),
            "voice.author: 'penulis' identifies the citizen who wrote the row, so it must be "
            "declared personal data (pii: true)",
        ),
        (lambda d: d["voice"].update(text="komentar"), "voice.text: 'komentar' is not a declared"),
        (lambda d: d["voice"].update(rating="ulasan"), "voice.rating: 'ulasan' must be a number"),
        (lambda d: d["voice"].pop("text"), "voice.text: a review dataset names its text column"),
        (
            lambda d: next(c for c in d["columns"] if c["name"] == "rating").update(relative=True),
            "columns.rating.relative: only a date column (got integer)",
        ),
        (
            lambda d: next(c for c in d["columns"] if c["name"] == "tanggal").update(
                precision_column="rating"
            ),
            "columns.tanggal.precision_column: 'rating' must be a declared text column",
        ),
    ],
    ids=["author-not-pii", "text-missing", "rating-text", "no-text", "relative-int", "precision"],
)
def test_a_wrong_voice_block_is_refused(tmp_path: Path, change: Any, expected: str) -> None:
    root = _copy(tmp_path)
    _edit_yaml(root / "datasets" / "muba_ulasan_program.yaml", change)
    problems = _problems(root)
    assert any("muba_ulasan_program.yaml" in p and expected in p for p in problems), problems
