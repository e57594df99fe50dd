"""The shipped provinces: Jawa Barat (32) beside Sumatera Selatan, cut from the national
versions and crosswalk of ../shared/reference by tools/build_reference.py (read through the
root conftest's `shared_dir`, which fails, never skips, without ../shared)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

from serasan.reference import provinces
from serasan.reference.resolve import CrosswalkStatus
from serasan.reference.versions import Level
from tests.support.paths import REPO_ROOT

DATA_DIR = REPO_ROOT / "serasan" / "reference" / "data"
SCRIPT = REPO_ROOT / "tools" / "build_reference.py"


def _text(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")


def test_every_shipped_file_is_what_the_build_script_makes(
    shared_dir: Path, tmp_path: Path
) -> None:
    reference = shared_dir / "reference"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), str(reference), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Jawa Barat: 6612 current codes" in run.stdout
    for files in provinces.SHIPPED.values():
        for name in (files.history_file, files.current_file, files.crosswalk_file):
            assert _text(tmp_path / name) == _text(DATA_DIR / name), f"{name} is stale"
    check = subprocess.run(
        [sys.executable, str(SCRIPT), str(reference), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    shipped = sum((DATA_DIR / n).stat().st_size for n in _jabar_files())
    assert shipped < 200_000  # gzipped: the province's codes stay small in the wheel


def _jabar_files() -> tuple[str, ...]:
    f = provinces.SHIPPED["32"]
    return (f.history_file, f.current_file, f.crosswalk_file)


def test_jawa_barat_codes_names_and_crosswalk() -> None:
    jabar = provinces.province("32")
    assert jabar is not None and jabar.history.scope_name == "Jawa Barat"
    kecamatan = provinces.regions_under("32.04", Level.KECAMATAN)
    assert len(kecamatan) == 31 and provinces.current_region("32.04.05").name == "Cileunyi"  # type: ignore[union-attr]
    # the Jawa Barat Dukcapil file's first row: BPS 3201140005 is Babakan Madang, 32.01.05.2008
    entry = provinces.bps_entry("3201140005")
    assert entry is not None and entry.status is CrosswalkStatus.UNCHANGED
    assert entry.kemendagri_code == "32.01.05.2008"
    moved = [e for e in jabar.crosswalk.values() if e.status is CrosswalkStatus.MOVED]
    assert [(e.bps_code, e.kemendagri_code) for e in moved] == [
        ("3209171013", "32.09.21.2016"),
        ("3209171014", "32.09.21.2017"),
        ("3216100002", "32.16.01.1007"),
    ]
    assert provinces.province("33") is None and provinces.current_region("33.01") is None
    assert provinces.resolve_code("16.06.03.2001").current_code == "16.06.15.2001"  # type: ignore[union-attr]
