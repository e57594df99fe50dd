"""Two `serasan ingest` commands at the same moment, as two OPD staff might run them.

The probe lost a delivery: two different files both named like `data.csv`, ingested together,
and only one was ever loaded (the other was overwritten in the inbox), while both commands said
"not processed". Two ingests of one dataset also fought over one Airflow run record. Here two
processes start together (a barrier file releases both), sharing one Airflow home or each with
its own, against one PostgreSQL warehouse and one lake: both files are loaded, each command
reports its own file truthfully and exits 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.demo.generate import generate_dataset
from serasan.warehouse.db import make_engine
from serasan.warehouse.tables import table
from tests.support.paths import REPO_ROOT

DS = "muba_bank_sampah"

# waits for the barrier file, then runs the CLI: both processes start their work together
STARTER = """
import os, sys, time
gate = sys.argv[1]
while not os.path.exists(gate):
    time.sleep(0.01)
from serasan.cli.main import main
raise SystemExit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("shared_home", [True, False], ids=["shared-home", "own-homes"])
def test_two_files_of_one_name_ingested_at_once_are_both_loaded(
    tmp_path: Path, pg_url: str, catalog: Catalog, shared_home: bool
) -> None:
    files = []
    for seed in (1, 2):
        folder = tmp_path / f"staff{seed}"
        folder.mkdir()
        gen = generate_dataset(catalog.dataset(DS), catalog, fmt="csv", seed=seed)
        (folder / "data.csv").write_bytes(gen.data)  # the same name, different contents
        files.append(folder / "data.csv")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SERASAN_")},
        "SERASAN_HOME": str(tmp_path),
        "SERASAN_LAKE_URL": str(tmp_path / "lake"),
        "SERASAN_WAREHOUSE_URL": pg_url,
    }
    subprocess.run(  # the schema first, so the two runs race on the loads, not on creating it
        [sys.executable, "-m", "serasan.cli.main", "warehouse", "upgrade"],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    gate = tmp_path / "go"
    procs = []
    for i, path in enumerate(files):
        home = tmp_path / ("airflow" if shared_home else f"airflow{i}")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    STARTER,
                    str(gate),
                    "ingest",
                    "--airflow-home",
                    str(home),
                    "--date",
                    "2026-11-01",
                    "--dataset",
                    DS,
                    str(path),
                ],
                env=env,
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    gate.write_text("go")
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, out + err
        assert "Traceback" not in out + err
        assert f"dataset {DS}: loaded" in out, out + err

    engine = make_engine(pg_url)
    lr = table("meta", "load_run", engine.dialect.name)
    with engine.connect() as conn:
        runs = conn.execute(select(lr.c.sha256, lr.c.status, lr.c.rows_in)).all()
    engine.dispose()
    import hashlib

    shas = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert {r.sha256 for r in runs} == shas  # both deliveries, each loaded once
    assert all(r.status == "loaded" for r in runs)
