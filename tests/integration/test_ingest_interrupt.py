"""Ctrl-C during a long `serasan ingest`: nothing half-done, one line saying so, exit 130.

A real `serasan` process ingests a generated file of 200,000 rows into PostgreSQL. The test
waits until the run is at the chosen stage, seen from outside as an operator could see it:
`parse` once extract has moved the file into the lake's raw/ folder, `load` once the loading
session names itself as the holder of the dataset's lock in `pg_stat_activity`. Then SIGINT,
as Ctrl-C sends it. Afterwards the warehouse holds no row and no load record of the file, no
session holds a lock, the file waits in its inbox, and the same command loads it all.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake import keys
from serasan.lake.store import open_lake
from serasan.warehouse.db import make_engine
from serasan.warehouse.facts import fact_table
from serasan.warehouse.ledger import MERGE_LOCK_CLASS
from serasan.warehouse.tables import table
from tests.support.paths import REPO_ROOT

DS = "muba_event_sport_tourism"  # no key domain: as many rows as asked
ROWS = 200_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    gen = generate_dataset(catalog.dataset(DS), catalog, rows=ROWS, fmt="csv", seed=17)
    path = tmp_path_factory.mktemp("big") / "event_besar.csv"
    path.write_bytes(gen.data)
    return path


def _start(env: dict[str, str], home: Path, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "serasan.cli.main", "ingest", "--airflow-home", str(home)]
        + ["--date", "2026-11-01", "--dataset", DS, str(path)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _loading(engine: Engine) -> bool:
    """A session holds the dataset's lock and names itself `serasan load ...`."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
                    "'serasan load %' AND datname = current_database()"
                )
            ).scalar()
        )


def _wait_for(stage: str, proc: subprocess.Popen[str], engine: Engine, raw: str, lake_dir: Path):
    """Poll until the run is at `stage` (never a blind sleep); fail if the run ends first."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended before its {stage} stage was seen:\n{out}{err}")
        if stage == "parse" and (lake_dir / raw).is_file():
            return
        if stage == "load" and _loading(engine):
            return
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"the run never reached its {stage} stage")


@pytest.mark.parametrize("stage", ["parse", "load"])
def test_ctrl_c_leaves_nothing_half_done_and_the_same_command_then_loads_it(
    stage: str, big_file: Path, pg_url: str, tmp_path: Path, catalog: Catalog
) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), warehouse_url=pg_url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SERASAN_")},
        **settings.as_env(),
        "SERASAN_HOME": str(tmp_path / "home"),
    }
    home = tmp_path / "airflow"
    ds = catalog.dataset(DS)
    sha = hashlib.sha256(big_file.read_bytes()).hexdigest()
    raw = keys.raw_key(DS, sha, big_file.name)
    engine = make_engine(pg_url)

    proc = _start(env, home, big_file)
    _wait_for(stage, proc, engine, raw, tmp_path / "lake")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    [line] = [x for x in err.splitlines() if x.strip()]  # one line, and only that
    assert line.startswith(f"dihentikan: {big_file.name} belum dimuat;"), line
    assert "tidak ada yang dimuat setengah" in line and "jalankan lagi" in line, line

    fact = fact_table(ds, engine.dialect.name)
    lr = table("meta", "load_run", engine.dialect.name)
    with engine.connect() as conn:
        if conn.dialect.has_table(conn, fact.name, schema=fact.schema):
            assert conn.execute(select(func.count()).select_from(fact)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(lr)).scalar() == 0
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :c "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"c": MERGE_LOCK_CLASS},
        ).scalar()
        assert held == 0  # no session keeps the dataset's lock
        assert not _loading(engine)
    inbox = open_lake(settings).list(keys.inbox_prefix(catalog, ds))
    assert [k.rsplit("/", 1)[-1] for k in inbox] == [big_file.name]  # waiting to be taken

    again = _start(env, home, big_file)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err
    assert f"dataset {DS}: loaded" in out and f"rows in {ROWS:,}".replace(",", "") in out
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact)).scalar() == ROWS
        [status] = conn.execute(select(lr.c.status)).scalars().all()
        assert status == "loaded"
    assert open_lake(settings).list(keys.inbox_prefix(catalog, ds)) == []
    engine.dispose()
