"""`serasan ingest --period`: a file without its period column, through its dataset's DAG.

The period travels with the file: the CLI passes it in the run's conf keyed by the file's
sha256, extract records it in the raw object's manifest, and parse reads it there (so a retry
or a reprocess reads the same period, and another file in the same inbox is not given it).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake import keys
from serasan.lake.store import open_lake
from serasan.warehouse.db import make_engine

DS = "muaraenim_produksi_karet"  # period: tahun (integer, year); block; replace_period


@pytest.fixture
def ingest_env(local_settings: Settings) -> Iterator[Settings]:
    saved = dict(os.environ)
    os.environ.update(local_settings.as_env())
    yield local_settings
    os.environ.clear()
    os.environ.update(saved)


def _ingest(*args: str) -> int:
    return main(
        ["ingest", "--airflow-home", os.environ["AIRFLOW_HOME"], "--date", "2026-11-01", *args]
    )


def _without_tahun(catalog: Catalog, tmp_path: Path, seed: int, name: str) -> tuple[Path, int]:
    """One year of a generated file, its Tahun column dropped: (path, rows)."""
    gen = generate_dataset(catalog.dataset(DS), catalog, fmt="csv", seed=seed)
    rows = list(csv.reader(io.StringIO(gen.data.decode())))
    at = rows[0].index("tahun")
    year = rows[-1][at]
    body = [[v for j, v in enumerate(r) if j != at] for r in rows[1:] if r[at] == year]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([rows[0][:at] + rows[0][at + 1 :], *body])
    path = tmp_path / name
    path.write_text(buf.getvalue())
    return path, len(body)


def test_ingest_with_period_loads_a_file_without_its_period_column(
    ingest_env: Settings, tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    path, n = _without_tahun(catalog, tmp_path, seed=11, name="karet.csv")
    assert _ingest("--dataset", DS, "--period", "2024-05", str(path)) == 2
    assert "--period: '2024-05' is not a year period" in capsys.readouterr().err

    assert _ingest("--dataset", DS, "--period", "2024", str(path)) == 0
    out = capsys.readouterr().out
    assert f"dataset {DS}: loaded" in out and f"rows in {n}, loaded {n}, rejected 0" in out
    assert "filled with 2024 from --period" in out
    engine = make_engine(ingest_env.warehouse_url)
    with engine.connect() as conn:
        years = conn.execute(
            text("SELECT tahun, count(*) FROM core__fact_muaraenim_produksi_karet GROUP BY tahun")
        ).all()
    assert [tuple(r) for r in years] == [(2024, n)]
    lake = open_lake(ingest_env)
    [manifest] = [k for k in lake.list(f"raw/{DS}/") if k.endswith("/manifest.json")]
    sha = manifest.split("/")[2]
    assert manifest == keys.manifest_key(DS, sha)
    recorded = json.loads(lake.get(manifest))
    assert (recorded["period"], recorded["period_from"]) == ("2024", "--period")

    # another file without the column, sent without --period, is not given the last one's
    other, _ = _without_tahun(catalog, tmp_path, seed=12, name="karet_lain.csv")
    assert _ingest("--dataset", DS, str(other)) == 2
    out = capsys.readouterr().out
    assert f"dataset {DS}: rejected" in out
