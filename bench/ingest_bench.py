"""The fixed cost of `serasan ingest`, and the marginal cost of rows through it (issue 17).

Measured side by side in one run, each in a fresh process, against one scratch PostgreSQL
database, a folder lake and a project-local Airflow home (migrated, and the catalog's index
cached, by a warm-up ingest that is not counted):

  (a) the import floor: `python -c 'import airflow.sdk, great_expectations'`
  (b) `serasan ingest` of a 250-row generated file, new each round (a whole DAG run, in-process
      through Airflow's dag.test(), as the command runs it)
  (c) `serasan ingest` of the same file again: recognised by its sha256, no DAG run
  (d) one task as a Celery worker runs it: `airflow tasks test <dag> extract <date>` (the whole
      Airflow command), and the worker's own share in a fresh process that has imported
      airflow.sdk (as the worker's task process has): parsing the DAG file under Airflow's
      parsing context for that DAG, then the task body (catalog entry from the cached index,
      warehouse upgrade, extract)
  (e) the marginal cost of rows: `serasan ingest` of BENCH_INGEST_ROWS rows (default 200,000;
      the issue's figure is 1,000,000: `BENCH_INGEST_ROWS=1000000`) minus that of 100 rows,
      against a bare COPY of the same CSV into an UNLOGGED table of text columns without a key

Targets: (b)/(a) <= 1.5, (c) <= 2 s wall, (e) <= 5x the bare COPY.
Run: `make bench`, or `.venv/bin/python bench/ingest_bench.py [--rows N] [--rounds R]`.
PostgreSQL: SERASAN_TEST_PG_URL (the user may CREATE DATABASE); the scratch database is dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("SERASAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SMALL_DS = "muba_bank_sampah"  # 250 rows, its key's whole domain
BIG_DS = "muba_event_sport_tourism"  # no key domain: as many rows as asked
DATE = "2026-11-01"
FLOOR = "import airflow.sdk, great_expectations"

WORKER_SHARE = r"""
import datetime as dt, json, os, sys, time
from types import SimpleNamespace
import airflow.sdk  # the worker's task process has Airflow imported before it parses
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
from serasan.operators.runner import parsing_context
dag_id, folder = sys.argv[1], sys.argv[2]
with parsing_context(dag_id):
    bag = DagBag(dag_folder=folder)
assert list(bag.dag_ids) == [dag_id], bag.dag_ids
t1 = time.perf_counter()
from serasan.common.clock import JAKARTA
from serasan.operators import tasks
context = {
    "dag": SimpleNamespace(dag_id=dag_id),
    "run_id": "bench__worker",
    "logical_date": dt.datetime(2026, 11, 1, tzinfo=JAKARTA),
    "params": {},
}
tasks.extract(sys.argv[3], context)
t2 = time.perf_counter()
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"great_expectations"})
print(json.dumps({"parse": t1 - t0, "task": t2 - t1, "heavy": heavy}))
"""


def _url(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    import psycopg

    conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)


def _timed(cmd: list[str], env: dict[str, str], expect: str | None = None) -> float:
    started = time.perf_counter()
    run = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if run.returncode != 0 or (expect is not None and expect not in run.stdout):
        log = re.search(r"task log: (\S+)", run.stdout + run.stderr)
        detail = Path(log.group(1)).read_text()[-4000:] if log else ""
        raise SystemExit(
            f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stdout}{run.stderr}{detail}"
        )
    return took


def _generate(dataset: str, rows: int | None, seed: int, out: Path) -> Path:
    from serasan.demo.generate import generate_dataset
    from serasan.quality.suites import load_validated_catalog

    catalog = load_validated_catalog()
    gen = generate_dataset(catalog.dataset(dataset), catalog, rows=rows, fmt="csv", seed=seed)
    out.write_bytes(gen.data)
    return out


def _bare_copy(url: str, csv_path: Path) -> float:
    """COPY of the CSV into an UNLOGGED table of text columns without a key: the floor."""
    import psycopg

    header = csv_path.open(encoding="utf-8").readline().strip().split(",")
    cols = ", ".join(f'"{c}" text' for c in header)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare")
        conn.execute(f"CREATE UNLOGGED TABLE bench_bare ({cols})")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY bench_bare FROM STDIN (FORMAT csv, HEADER)") as cp,
            csv_path.open("rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        conn.commit()
        took = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare")
        conn.commit()
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("BENCH_INGEST_ROWS", "200000")),
        help="rows of the large file for the marginal cost (default 200,000; 1,000,000 as in "
        "the issue takes a few minutes)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("BENCH_INGEST_ROUNDS", "3")),
        help="rounds of (a) to (d), each figure their median (default 3)",
    )
    args = p.parse_args()
    database = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    _admin(f"CREATE DATABASE {database}")
    try:
        with tempfile.TemporaryDirectory(prefix="serasan-ingest-bench-") as tmp:
            run(Path(tmp), _url(database), args.rows, args.rounds)
    finally:
        _admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def run(tmp: Path, url: str, rows: int, rounds: int) -> None:
    home, airflow_home = tmp / "home", tmp / "airflow"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SERASAN_", "AIRFLOW"))},
        "SERASAN_HOME": str(home),
        "SERASAN_LAKE_URL": str(tmp / "lake"),
        "SERASAN_WAREHOUSE_URL": url,
        "GX_ANALYTICS_ENABLED": "false",
    }
    py = sys.executable
    ingest = [py, "-m", "serasan.cli.main", "ingest", "--airflow-home", str(airflow_home)]
    ingest += ["--date", DATE]

    # warm-up, not counted: Airflow's metadata DB migrated, the catalog's index cached
    _timed(
        [*ingest, "--dataset", SMALL_DS, str(_generate(SMALL_DS, None, 100, tmp / "w.csv"))], env
    )

    floor, fresh, skip = [], [], []
    for i in range(rounds):
        floor.append(_timed([py, "-c", FLOOR], env))
        f = _generate(SMALL_DS, None, 200 + i, tmp / f"small{i}.csv")
        fresh.append(_timed([*ingest, "--dataset", SMALL_DS, str(f)], env, "rows in 250"))
        skip.append(_timed([*ingest, "--dataset", SMALL_DS, str(f)], env, "already processed"))

    airflow_env = {
        **env,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "SERASAN_TASK_RETRIES": "0",
        "SERASAN_CATALOG_DIR": str(ROOT / "catalog"),
        "SERASAN_EXPECTATIONS_DIR": str(ROOT / "expectations"),
    }
    dag_id = f"serasan__{SMALL_DS}"
    tasks_test, share_parse, share_task = [], [], []
    for _ in range(rounds):
        tasks_test.append(
            _timed(
                [str(Path(py).parent / "airflow"), "tasks", "test", dag_id, "extract", DATE],
                airflow_env,
            )
        )
        out = subprocess.run(
            [py, "-c", WORKER_SHARE, dag_id, str(ROOT / "dags" / "serasan_dags.py"), SMALL_DS],
            env=airflow_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        share = json.loads(out.strip().splitlines()[-1])
        share_parse.append(share["parse"])
        share_task.append(share["task"])

    small = _generate(BIG_DS, 100, 1, tmp / "rows100.csv")
    big = _generate(BIG_DS, rows, 2, tmp / f"rows{rows}.csv")
    t_small = _timed([*ingest, "--dataset", BIG_DS, str(small)], env, "rows in 100")
    t_big = _timed([*ingest, "--dataset", BIG_DS, str(big)], env, f"rows in {rows}")
    bare = min(_bare_copy(url, big) for _ in range(2))

    a, b, c = (statistics.median(x) for x in (floor, fresh, skip))
    d = statistics.median(tasks_test)
    dp, dt_ = statistics.median(share_parse), statistics.median(share_task)
    marginal = t_big - t_small
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"medians of {rounds} rounds")
    print(f"(a) import floor ({FLOOR})         {a:6.2f} s")
    print(
        f"(b) serasan ingest, 250 new rows                       {b:6.2f} s   (b)/(a) = "
        f"{b / a:.2f}x   (target <= 1.5x)"
    )
    print(
        f"(c) serasan ingest, the same file again (skip)         {c:6.2f} s   "
        f"{'meets' if c <= 2.0 else 'misses'} the 2 s target"
    )
    print(f"(d) airflow tasks test {dag_id} extract  {d:6.2f} s   (d)/(a) = {d / a:.2f}x")
    print(f"    the worker's share: parse one DAG {dp:.2f} s, extract task body {dt_:.2f} s")
    print(
        f"(e) serasan ingest of {rows:,} rows {t_big:.2f} s, of 100 rows {t_small:.2f} s: "
        f"marginal {marginal:.2f} s"
    )
    print(
        f"    bare COPY of the same CSV {bare:.2f} s: marginal/bare = {marginal / bare:.1f}x "
        "(target <= 5x)"
    )


if __name__ == "__main__":
    main()
