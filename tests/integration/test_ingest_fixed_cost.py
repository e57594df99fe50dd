"""`serasan ingest`'s fixed cost (issue 17): what it does without Airflow, and what it parses.

- A file whose bytes a finished load already holds is recognised before Airflow starts: the
  command records the re-delivery (a `skipped` object event, as extract records it inside the
  DAG), prints the run that processed it, and imports neither Airflow nor Great Expectations.
- A dataset's task reads its own dataset's entry from the catalog's cached index, and checks its
  own suite only.
- The CLI's Runner parses the one DAG it runs, under Airflow's parsing context.

Against PostgreSQL and a folder lake; each `serasan` process is a real child process where what
it imports matters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from serasan.cli.main import main
from serasan.config.catalog import Catalog, load_catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.lake.store import open_lake
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.tables import table
from tests.support.paths import REPO_ROOT

DS = "muba_bank_sampah"
DATE = "2026-11-01"


@pytest.fixture
def pg_env(pg_url: str, tmp_path: Path) -> Iterator[Settings]:
    """This process's environment on a fresh PostgreSQL database and a folder lake."""
    settings = Settings(lake_url=str(tmp_path / "lake"), warehouse_url=pg_url)
    saved = dict(os.environ)
    os.environ.update(settings.as_env())
    yield settings
    os.environ.clear()
    os.environ.update(saved)


def _sample(catalog: Catalog, tmp_path: Path, seed: int = 5) -> Path:
    gen = generate_dataset(catalog.dataset(DS), catalog, fmt="csv", seed=seed)
    path = tmp_path / f"bank_sampah_{seed}.csv"
    path.write_bytes(gen.data)
    return path


def _events(engine_url: str, sha: str) -> list[dict]:
    engine = make_engine(engine_url)
    ev = table("meta", "object_event", engine.dialect.name)
    with engine.connect() as conn:
        rows = conn.execute(select(ev).where(ev.c.sha256 == sha).order_by(ev.c.id)).mappings()
        out = [dict(r) for r in rows]
    engine.dispose()
    return out


def _load_runs(engine_url: str) -> list[dict]:
    engine = make_engine(engine_url)
    lr = table("meta", "load_run", engine.dialect.name)
    with engine.connect() as conn:
        out = [dict(r) for r in conn.execute(select(lr)).mappings()]
    engine.dispose()
    return out


def test_an_unchanged_file_names_the_run_that_processed_it_and_is_recorded_as_skipped(
    pg_env: Settings, catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _sample(catalog, tmp_path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    home = tmp_path / "airflow"
    args = ["ingest", "--airflow-home", str(home), "--date", DATE, "--dataset", DS, str(path)]
    assert main(args) == 0
    assert f"dataset {DS}: loaded" in capsys.readouterr().out
    [first] = _load_runs(pg_env.warehouse_url)
    logs = sorted((home / "logs" / "serasan").iterdir())

    assert main(args) == 0
    out = capsys.readouterr().out
    assert (
        f"{path.name}: already processed (same sha256 {sha[:12]}) by run {first['run_id']}; "
        "nothing changed" in out
    )
    assert first["run_id"].startswith("manual__")  # the DAG run of the first ingest
    assert f"dataset {DS}: loaded" in out and "rows in 250, loaded 250" in out
    # recorded as extract records it inside the DAG: the same bytes, skipped, on the run's date
    ingested, skipped = _events(pg_env.warehouse_url, sha)
    assert (ingested["action"], skipped["action"]) == ("ingested", "skipped")
    assert skipped["dataset_id"] == DS and str(skipped["logical_date"]) == DATE
    assert skipped["raw_key"] == first["raw_key"] == ingested["raw_key"]
    assert skipped["run_id"].startswith("serasan-ingest__")
    # and nothing else happened: the same one load, no DAG run (no second task log)
    assert _load_runs(pg_env.warehouse_url) == [first]
    assert sorted((home / "logs" / "serasan").iterdir()) == logs
    lake = open_lake(pg_env)
    assert lake.list(inbox_prefix(catalog, catalog.dataset(DS))) == []


CHILD = """
import json, sys
from serasan.cli.main import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"airflow", "great_expectations"})
print("CHILD " + json.dumps({"code": code, "heavy": heavy}))
"""


def _finished_load(settings: Settings, catalog: Catalog, path: Path) -> str:
    """The file loaded by the pipeline's stages in this process (no Airflow): its run id."""
    ctx = RunContext(
        settings=settings,
        catalog=catalog,
        run_date=dt.date.fromisoformat(DATE),
        run_id="first-delivery-run",
    )
    upgrade(ctx.engine, catalog)
    ds = catalog.dataset(DS)
    ctx.lake.put(f"{inbox_prefix(catalog, ds)}{path.name}", path.read_bytes())
    [summary] = run_dataset(ctx, ds)
    assert summary.status == "loaded"
    ctx.engine.dispose()
    return "first-delivery-run"


def test_recognising_an_unchanged_file_imports_neither_airflow_nor_great_expectations(
    pg_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), warehouse_url=pg_url)
    path = _sample(catalog, tmp_path, seed=6)
    run_id = _finished_load(settings, catalog, path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SERASAN_", "AIRFLOW"))},
        **settings.as_env(),
        "SERASAN_HOME": str(tmp_path / "home"),
    }
    argv = ["ingest", "--airflow-home", str(tmp_path / "airflow"), "--date", DATE]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *argv, "--dataset", DS, str(path)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    [line] = [x for x in child.stdout.splitlines() if x.startswith("CHILD ")]
    result = json.loads(line.removeprefix("CHILD "))
    assert result == {"code": 0, "heavy": []}, child.stdout + child.stderr
    assert f"by run {run_id}; nothing changed" in child.stdout
    assert not (tmp_path / "airflow").exists()  # Airflow's home was never even made
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [e["action"] for e in _events(pg_url, sha)] == ["ingested", "skipped"]

    # a file never loaded takes the DAG's path: the same child imports Airflow then
    fresh = _sample(catalog, tmp_path, seed=7)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *argv, "--dataset", DS, str(fresh)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    [line] = [x for x in child.stdout.splitlines() if x.startswith("CHILD ")]
    assert json.loads(line.removeprefix("CHILD ")) == {
        "code": 0,
        "heavy": ["airflow", "great_expectations"],
    }, child.stdout + child.stderr


# ------------------------------------------------------------------ a task's catalog


@pytest.fixture
def catalog_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The shipped catalog and suites in a folder of their own, and a cache folder of its own."""
    root, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(REPO_ROOT / "catalog", root)
    shutil.copytree(REPO_ROOT / "expectations", exp)
    monkeypatch.setenv("SERASAN_CATALOG_CACHE_DIR", str(tmp_path / "cache"))
    return root, exp


def test_a_dataset_task_reads_its_own_entry_and_checks_its_own_suite_only(
    catalog_copy: tuple[Path, Path],
) -> None:
    from serasan.operators.tasks import _catalog_at
    from serasan.runtime.dag_index import entries_path, index_key

    root, exp = catalog_copy
    full = load_catalog(root, exp)
    (exp / "muba_cctv_kita.json").write_text("{ stale", encoding="utf-8")  # another's suite
    _catalog_at.cache_clear()  # kept per process, as a worker keeps it
    mine = _catalog_at(str(root), str(exp), DS)
    assert list(mine.datasets) == [DS]
    assert mine.dataset(DS) == full.dataset(DS)
    assert mine.regencies == full.regencies
    assert mine.aliases.aliases == full.aliases.aliases
    assert mine.suites[DS]["expectations"]  # its suite, read from the suites folder
    # the entry came from the cache: one small file per dataset, under the catalog's key
    folder = entries_path(root, index_key(root))
    assert folder is not None and (folder / f"{DS}.json").is_file()
    assert json.loads((folder / f"{DS}.json").read_text()) == full.dataset(DS).model_dump(
        mode="json"
    )

    # its own broken suite stops it, naming the file
    from serasan.config.catalog import CatalogError

    (exp / f"{DS}.json").write_text("{ broken", encoding="utf-8")
    _catalog_at.cache_clear()
    with pytest.raises(CatalogError, match=f"{DS}.json: not valid JSON"):
        _catalog_at(str(root), str(exp), DS)
    _catalog_at.cache_clear()


def test_an_edited_entry_is_read_fresh_and_a_broken_catalog_still_fails(
    catalog_copy: tuple[Path, Path],
) -> None:
    from serasan.config.catalog import CatalogError
    from serasan.runtime.dag_index import catalog_for

    root, exp = catalog_copy
    assert catalog_for([DS], root, exp).dataset(DS).title != "Judul baru"
    path = root / "datasets" / f"{DS}.yaml"
    text = path.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    path.write_text(text.replace(title, 'title: "Judul baru"'), encoding="utf-8")
    assert catalog_for([DS], root, exp).dataset(DS).title == "Judul baru"
    assert list(catalog_for([DS, "no_such_dataset"], root, exp).datasets) == [DS]

    other = root / "datasets" / "muba_cctv_kita.yaml"  # another dataset, broken
    other.write_text(other.read_text(encoding="utf-8") + "\nbogus_field: 1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="muba_cctv_kita.yaml"):
        catalog_for([DS], root, exp)  # as the DAG file fails to import: the same validation


# ------------------------------------------------------------------ the CLI's parse


def test_the_runner_of_one_dag_parses_that_dag_alone(tmp_path: Path) -> None:
    from airflow.sdk.definitions.context import _AIRFLOW_PARSING_CONTEXT_DAG_ID

    from serasan.operators.runner import Runner

    dag_id = f"serasan__{DS}"
    runner = Runner(Path(os.environ["AIRFLOW_HOME"]), only=dag_id)
    assert runner.dag_ids == [dag_id]  # not the other 20 DAGs of the folder
    assert _AIRFLOW_PARSING_CONTEXT_DAG_ID not in os.environ  # put back as it was
    assert len(Runner(Path(os.environ["AIRFLOW_HOME"])).dag_ids) > 1  # the demo's: every DAG


def test_a_skip_writes_nothing_but_its_event(
    pg_env: Settings, catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fact table keeps its rows, no Airflow home is made, the inbox stays empty."""
    path = _sample(catalog, tmp_path, seed=8)
    run_id = _finished_load(pg_env, catalog, path)
    engine = make_engine(pg_env.warehouse_url)
    fact = fact_table(catalog.dataset(DS), engine.dialect.name)
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(fact)).scalar()
    args = ["ingest", "--airflow-home", str(tmp_path / "af"), "--date", DATE, "--dataset", DS]
    assert main([*args, str(path)]) == 0
    assert f"by run {run_id}" in capsys.readouterr().out
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact)).scalar() == before
    assert not (tmp_path / "af").exists()
    assert open_lake(pg_env).list(inbox_prefix(catalog, catalog.dataset(DS))) == []
    engine.dispose()
