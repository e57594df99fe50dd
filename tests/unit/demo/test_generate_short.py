"""`serasan generate --rows N` says so when a dataset's key space holds fewer than N rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.demo.generate import generate_dataset

DS = "muaraenim_produksi_karet"  # key [tahun, kode_kecamatan]: 3 years x 22 kecamatan


def test_fewer_rows_than_asked_carry_the_reason(catalog: Catalog) -> None:
    gen = generate_dataset(catalog.dataset(DS), catalog, rows=1_000_000, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(gen.data.decode())))
    assert gen.rows == len(rows) == 66
    assert len({(r["tahun"], r["kode_kecamatan"]) for r in rows}) == 66
    assert gen.short == (
        f"{DS}: 1000000 rows asked, 66 written: its primary key tahun (3) x kode_kecamatan "
        "(22) holds only 66 distinct keys, and every row needs its own"
    )
    assert generate_dataset(catalog.dataset(DS), catalog, rows=66, fmt="csv").short is None
    assert generate_dataset(catalog.dataset(DS), catalog, fmt="csv").short is None  # default


def test_generate_tells_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["generate", "--out", str(tmp_path), "--format", "csv", "--rows", "1000000"]
    assert main([*args, "--dataset", DS, "--dataset", "muba_bank_sampah"]) == 0
    out, err = capsys.readouterr()
    assert f"{DS}.csv: 66 rows" in out
    # one line per dataset cut short, each naming the dataset, the rows asked and written
    assert err.splitlines() == [
        f"{DS}: 1000000 rows asked, 66 written: its primary key tahun (3) x kode_kecamatan "
        "(22) holds only 66 distinct keys, and every row needs its own",
        "muba_bank_sampah: 1000000 rows asked, 250 written: its primary key periode (10) x "
        "kode_bank_sampah (25) holds only 250 distinct keys, and every row needs its own",
    ]
    few = ["generate", "--out", str(tmp_path), "--format", "csv", "--rows", "10"]
    assert main([*few, "--dataset", DS]) == 0
    assert capsys.readouterr().err == ""
