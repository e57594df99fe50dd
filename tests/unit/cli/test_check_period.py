"""`serasan check --period`: a file without its period column, the period given with it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.demo.generate import generate_dataset

DS = "muaraenim_produksi_karet"  # period: tahun (integer, year); quality_policy: block


def _one_year_without_tahun(catalog: Catalog, tmp_path: Path) -> tuple[Path, int, int]:
    """A generated file cut to one year, its Tahun column dropped: (path, year, rows)."""
    gen = generate_dataset(catalog.dataset(DS), catalog, fmt="csv", seed=3)
    rows = list(csv.reader(io.StringIO(gen.data.decode())))
    header, body = rows[0], rows[1:]
    at = header.index("tahun")
    year = int(body[-1][at])
    kept = [[v for j, v in enumerate(r) if j != at] for r in body if int(r[at]) == year]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([[h for h in header if h != "tahun"], *kept])
    path = tmp_path / "karet.csv"
    path.write_text(buf.getvalue())
    return path, year, len(kept)


def test_check_reads_a_file_without_its_period_column_with_period(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, year, n = _one_year_without_tahun(catalog, tmp_path)
    code = main(["check", "--date", "2026-11-01", "--lang", "en", "--dataset", DS, str(path)])
    assert code == 2
    assert "Tahun" in capsys.readouterr().err  # the missing column is named

    args = ["check", "--date", "2026-11-01", "--json", "--dataset", DS, "--period", str(year)]
    assert main([*args, str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["rows_in"], result["rows_valid"], result["problems"]) == (n, n, [])
    assert any(f"filled with {year} from --period for every row" in s for s in result["notes"])


def test_check_refuses_a_period_of_another_granularity(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, year, _ = _one_year_without_tahun(catalog, tmp_path)
    args = ["check", "--date", "2026-11-01", "--dataset", DS, "--period", f"{year}-03", str(path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--period: '{year}-03' is not a year period" in err and "write it like '2021'" in err
