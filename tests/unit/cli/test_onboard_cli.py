"""`serasan onboard`, and `suite scaffold` / `check` without the chicken-and-egg problem.

A command working on one dataset checks the catalog's structure and that dataset's suite only:
a dataset with no suite yet can be scaffolded, and a stale suite of another dataset blocks
neither scaffolding nor checking. `catalog validate` still checks every suite.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.catalog import Catalog
from serasan.demo.generate import generate_dataset

NEW = "muba_bank_sampah_kota"


@pytest.fixture
def copy(tmp_path: Path) -> tuple[Path, Path]:
    cat, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(CATALOG_DIR, cat)
    shutil.copytree(EXPECTATIONS_DIR, exp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return cat, exp


def _run(copy: tuple[Path, Path], *args: str) -> int:
    cat, exp = copy
    try:
        return main(["--catalog", str(cat), "--expectations", str(exp), *args])
    except SystemExit as exc:  # load_catalog exits 1 on a broken catalog
        return int(exc.code or 0)


def _new_dataset(cat: Path) -> None:
    """A dataset the catalog did not have, with no suite yet."""
    text = (cat / "datasets" / "muba_bank_sampah.yaml").read_text()
    (cat / "datasets" / f"{NEW}.yaml").write_text(
        text.replace("id: muba_bank_sampah", f"id: {NEW}")
    )


def _break_another_suite(exp: Path) -> None:
    path = exp / "muba_cctv_kita.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "dihapus"}}
    )
    path.write_text(json.dumps(suite))


@pytest.mark.parametrize("stale_elsewhere", [False, True])
def test_scaffold_a_new_dataset_with_no_suite(
    copy: tuple[Path, Path], capsys: pytest.CaptureFixture[str], stale_elsewhere: bool
) -> None:
    cat, exp = copy
    _new_dataset(cat)
    if stale_elsewhere:
        _break_another_suite(exp)
    assert _run(copy, "suite", "scaffold", "--dataset", NEW) == 0
    assert "suite written" in capsys.readouterr().out
    suite = json.loads((exp / f"{NEW}.json").read_text())
    assert suite["name"] == NEW and suite["expectations"]
    # catalog validate still checks every suite: the stale one is named, the new one passes
    code = _run(copy, "catalog", "validate")
    err = capsys.readouterr().err
    if stale_elsewhere:
        assert code == 1 and "muba_cctv_kita.json" in err and "'dihapus'" in err
        assert NEW not in err
    else:
        assert code == 0, err


def test_check_is_not_blocked_by_another_datasets_stale_suite(
    copy: tuple[Path, Path], capsys: pytest.CaptureFixture[str], catalog: Catalog, tmp_path: Path
) -> None:
    cat, exp = copy
    _break_another_suite(exp)
    (exp / "muaraenim_produksi_karet.json").unlink()  # and one missing altogether
    gen = generate_dataset(catalog.dataset("muba_bank_sampah"), catalog, rows=20, fmt="csv")
    path = tmp_path / gen.filename
    path.write_bytes(gen.data)
    assert (
        _run(copy, "check", "--date", "2026-11-01", "--dataset", "muba_bank_sampah", str(path)) == 0
    )
    assert "20 valid, 0 ditolak" in capsys.readouterr().out
    # its own suite is still checked
    (exp / "muba_bank_sampah.json").write_text("{not json")
    assert _run(copy, "check", "--dataset", "muba_bank_sampah", str(path)) == 1
    assert "muba_bank_sampah.json: not valid JSON" in capsys.readouterr().err


def test_an_empty_suite_passes_validate_with_a_note(
    copy: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Allowed on purpose: the key and region checks run whatever the suite says."""
    _, exp = copy
    (exp / "muba_bank_sampah.json").write_text(json.dumps({"name": "x", "expectations": []}))
    assert _run(copy, "catalog", "validate") == 0
    err = capsys.readouterr().err
    assert "muba_bank_sampah: the suite has no expectations" in err and "always-on" in err


def test_onboard_writes_a_draft_that_validates_and_never_overwrites(
    copy: tuple[Path, Path], capsys: pytest.CaptureFixture[str], catalog: Catalog, tmp_path: Path
) -> None:
    cat, exp = copy
    _break_another_suite(exp)  # onboarding reads no suite at all
    gen = generate_dataset(catalog.dataset("muba_bank_sampah"), catalog, rows=60, seed=2)
    sample = tmp_path / "bank_sampah_desa.xlsx"
    sample.write_bytes(gen.data)
    args = [
        "onboard",
        str(sample),
        "--id",
        NEW,
        "--regency",
        "musibanyuasin",
        "--opd",
        "dlh",
        "--pillar",
        "environment",
        "--date",
        "2026-11-01",
        "--json",
    ]
    assert _run(copy, *args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["written"] == [str(cat / "datasets" / f"{NEW}.yaml"), str(exp / f"{NEW}.json")]
    assert out["primary_key"] == ["periode", "kode_bank_sampah"] and out["key_unique"]
    assert out["region"]["column"] == "kode_desa" and out["region"]["declared"]
    assert out["check"]["rows_valid"] == 60 and out["check"]["rows_rejected"] == 0
    assert "# GUESS" in (cat / "datasets" / f"{NEW}.yaml").read_text()
    # the draft is now in the catalog: another run refuses it, --force redrafts it
    assert _run(copy, *args) == 2
    assert "already in the catalog" in capsys.readouterr().err
    assert _run(copy, *args, "--force") == 0
    capsys.readouterr()
    # and it passes catalog validate once the other suite is repaired
    shutil.copy(EXPECTATIONS_DIR / "muba_cctv_kita.json", exp / "muba_cctv_kita.json")
    assert _run(copy, "catalog", "validate") == 0
    shipped = len(list((CATALOG_DIR / "datasets").glob("*.yaml")))
    assert f"{shipped + 1} datasets" in capsys.readouterr().out
    # --out: a folder of its own; an existing draft there is kept without --force
    out_dir = tmp_path / "draft"
    other = [a if a != NEW else "muba_bank_sampah_dua" for a in args[:-1]]
    assert _run(copy, *other, "--out", str(out_dir)) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "muba_bank_sampah_dua.json",
        "muba_bank_sampah_dua.yaml",
    ]
    assert _run(copy, *other, "--out", str(out_dir)) == 2
    assert "--force overwrites" in capsys.readouterr().err
