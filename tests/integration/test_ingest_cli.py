"""`serasan ingest` as operators use it: a local file through its dataset's DAG, run by Airflow
itself (`dag.test()`) on a folder lake and SQLite; exit codes and the printed summary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset


@pytest.fixture
def ingest_env(local_settings: Settings) -> Settings:
    saved = dict(os.environ)
    os.environ.update(local_settings.as_env())
    yield local_settings
    os.environ.clear()
    os.environ.update(saved)


def _ingest(*args: str) -> int:
    return main(
        ["ingest", "--airflow-home", os.environ["AIRFLOW_HOME"], "--date", "2026-11-01", *args]
    )


def test_ingest_exit_codes_and_summary(
    ingest_env: Settings, tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = catalog.dataset("muba_pengunjung_taman_air")
    gen = generate_dataset(ds, catalog, rows=40, defect_rate=0.1, seed=8)
    f = tmp_path / gen.filename
    f.write_bytes(gen.data)
    assert _ingest("--dataset", ds.id, str(f)) == 0
    out = capsys.readouterr().out
    assert f"dataset {ds.id}: quarantined" in out and "rows in 40" in out
    assert "rejected rows:" in out and "alert for the OPD:" in out

    assert _ingest("--dataset", ds.id, str(f)) == 0
    assert "already processed" in capsys.readouterr().out
    assert _ingest("--dataset", ds.id, "--force", str(f)) == 0
    assert "already processed" not in capsys.readouterr().out

    blocked = catalog.dataset("muaraenim_produksi_karet")
    gen = generate_dataset(blocked, catalog, defect_rate=0.3, seed=2)
    (tmp_path / gen.filename).write_bytes(gen.data)
    assert _ingest("--dataset", blocked.id, str(tmp_path / gen.filename)) == 1
    assert "blocked" in capsys.readouterr().out

    assert _ingest("--dataset", ds.id, str(tmp_path / "missing.csv")) == 2
    assert _ingest("--dataset", "no_such_dataset", str(f)) == 2
    junk = tmp_path / "junk.csv"
    junk.write_text("apa,ini\n1,2\n")
    assert _ingest("--dataset", ds.id, str(junk)) == 2
