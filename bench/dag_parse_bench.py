"""DAG parse time at provincial scale: the DAG files against a generated 1,020-dataset catalog.

The catalog is the 17 kabupaten/kota of Sumatera Selatan (serasan/scale.py: the 12 shipped
dataset shapes cloned across regencies and OPDs), written to a temp folder that
SERASAN_CATALOG_DIR and SERASAN_EXPECTATIONS_DIR point at. Every figure comes from a fresh
process with a throwaway AIRFLOW_HOME and examples off, and times what the DAG processor times:
`DagBag(dag_folder=...)`, i.e. importing the DAG files and building their DAGs. The interpreter
and Airflow's own import (~1.2 s here) are outside it: the processor forks its parsing children
from a process that has Airflow imported already.

Printed side by side:
- full parse of dags/ (median of BENCH_DAG_RUNS runs, default 3) against the 2 s target, with the
  catalog's DAG index cached, as on every parse but the first after a catalog edit; that first
  parse (index rebuilt, every YAML file validated) is shown too;
- one DAG built under Airflow's parsing context (what a worker parses to run one task) against
  0.2 s;
- the straightforward factory (the DAG file before issue 8, embedded below: load_catalog on every
  parse, `@task` closures, every DAG whatever the context) on the same catalog, and the ratio;
- `load_catalog` alone, and serialising every DAG, which the processor does after each parse.
Run: `make bench`, or `.venv/bin/python bench/dag_parse_bench.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags"
RUNS = int(os.environ.get("BENCH_DAG_RUNS", "3"))
FULL_TARGET, ONE_TARGET = 2.0, 0.2

# The DAG file as it was before issue 8, for comparison (dags/serasan_dags.py at that commit),
# with today's tasks (parse and validate for transform, publish after export) and imports, so
# both factories build the same DAGs.
STRAIGHTFORWARD = r'''"""The straightforward factory: serasan_dags.py before issue 8."""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import Asset, AssetAny, dag, task

from serasan.config.catalog import Dataset, Regency, load_catalog
from serasan.operators import tasks
from serasan.operators.notifiers import EngineerAlertNotifier
from serasan.lake.keys import opd_key

START = pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta")
# Retries absorb a source's passing outage; in-process CLI runs set 0 to fail fast instead.
RETRIES = {"retries": int(os.environ.get("SERASAN_TASK_RETRIES", "2")),
           "retry_delay": dt.timedelta(seconds=int(os.environ.get("SERASAN_RETRY_DELAY_SECONDS",
                                                                  "300")))}
# A task that fails after its retries alerts the engineers (never the OPDs). Built once: no I/O.
FAILURE = {"on_failure_callback": [EngineerAlertNotifier()]}
CATALOG = load_catalog()  # suites are read by the tasks, not at parse time


def dataset_asset(ds: Dataset) -> Asset:
    return Asset(name=f"serasan.{ds.id}", uri=f"serasan://warehouse/core/fact_{ds.id}",
                 group="serasan")


def dataset_dag(ds: Dataset):  # noqa: ANN201 - returns an Airflow DAG
    regency = CATALOG.regency(ds.regency)

    @dag(dag_id=f"serasan__{ds.id}", schedule="@daily", start_date=START, catchup=False,
         max_active_runs=1, tags=["serasan", regency.slug, ds.opd, ds.pillar],
         default_args={"owner": opd_key(CATALOG, ds), **RETRIES, **FAILURE},
         params={"force": False}, doc_md=f"**{ds.title}** ({regency.name}, {ds.opd})\n\n"
                                            f"{ds.description}")
    def pipeline() -> None:
        @task
        def extract(**context) -> list[dict]:  # noqa: ANN003
            return tasks.extract(ds.id, context)

        @task
        def parse(objects: list[dict], **context) -> list[dict]:  # noqa: ANN003
            return tasks.parse(ds.id, objects, context)

        @task
        def validate(parsed: list[dict], **context) -> list[dict]:  # noqa: ANN003
            return tasks.validate(ds.id, parsed, context)

        @task(outlets=[dataset_asset(ds)])
        def load(validated: list[dict], **context) -> list[dict]:  # noqa: ANN003
            return tasks.load(ds.id, validated, context)

        # Sends this dataset's alerts after the load, blocked or not. A teardown (all_done, no
        # setup) so it runs whatever happened, and so the run's state stays the load's.
        @task
        def notify(**context) -> dict:  # noqa: ANN003
            return tasks.notify(ds.id, context)

        loaded = load(validate(parse(extract())))
        loaded >> notify().as_teardown()

    return pipeline()


def regency_dags(regency: Regency) -> list:
    assets = [dataset_asset(d) for d in CATALOG.datasets_of(regency.kode)]
    common = {"start_date": START, "catchup": False, "max_active_runs": 1,
              "schedule": AssetAny(*assets),
              "default_args": {"owner": f"{regency.slug}-walidata", **RETRIES, **FAILURE}}

    @dag(dag_id=f"serasan__{regency.slug}__kpi", tags=["serasan", regency.slug, "kpi"], **common)
    def kpis() -> None:
        @task
        def compute(**context) -> dict:  # noqa: ANN003
            return tasks.compute_kpis(regency.kode, context)

        compute()

    @dag(dag_id=f"serasan__{regency.slug}__export", tags=["serasan", regency.slug, "satu-data"],
         **common)
    def satu_data_export() -> None:
        @task
        def export(**context) -> dict:  # noqa: ANN003
            return tasks.export(regency.kode, context)

        @task
        def publish(**context) -> dict:  # noqa: ANN003
            return tasks.publish(regency.kode, context)

        # The month's report reads the KPIs and the export records; it is written even when the
        # export failed, so the compliance page shows what is recorded.
        @task(trigger_rule="all_done")
        def report(**context) -> dict:  # noqa: ANN003
            return tasks.report(regency.kode, context)

        export() >> publish() >> report()

    return [kpis(), satu_data_export()]


for _ds in CATALOG.datasets.values():
    _d = dataset_dag(_ds)
    globals()[_d.dag_id] = _d
for _reg in CATALOG.regencies.values():
    for _d in regency_dags(_reg):
        globals()[_d.dag_id] = _d


@dag(dag_id="serasan__retention", schedule="@daily", start_date=START, catchup=False,
     max_active_runs=1, tags=["serasan", "retention", "pii"],
     default_args={"owner": "serasan-engineers", **RETRIES, **FAILURE},
     doc_md="Deletes raw and quarantined files holding personal data once the catalog's "
            "`retention` has passed (UU 27/2022), each recorded in `meta.retention_audit`.")
def retention_dag() -> None:
    @task
    def retention(**context) -> dict:  # noqa: ANN003
        return tasks.retention(context)

    retention()


serasan__retention = retention_dag()
'''


def child(mode: str, args: list[str]) -> None:
    """In a fresh process: time one thing, print JSON."""
    home = tempfile.mkdtemp(prefix="serasan-bench-airflow-")
    os.environ.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    try:
        if mode == "load":
            from serasan.config.catalog import load_catalog

            start = time.perf_counter()
            cat = load_catalog()
            out = {
                "seconds": time.perf_counter() - start,
                "datasets": len(cat.datasets),
                "regencies": len(cat.regencies),
            }
        else:
            path, dag_id = args[0], (args[1] if len(args) > 1 else None)
            if dag_id:
                os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = dag_id
            import airflow.sdk  # noqa: F401 - already imported in the processor
            from airflow.dag_processing.dagbag import DagBag

            start = time.perf_counter()
            bag = DagBag(dag_folder=path)
            seconds = time.perf_counter() - start
            out = {
                "seconds": seconds,
                "dags": len(bag.dags),
                "tasks": sum(len(d.tasks) for d in bag.dags.values()),
                "errors": {k: v[-500:] for k, v in bag.import_errors.items()},
            }
            if mode == "serialize":
                from airflow.serialization.serialized_objects import DagSerialization

                start = time.perf_counter()
                for dag in bag.dags.values():
                    DagSerialization.to_dict(dag)
                out["serialize"] = time.perf_counter() - start
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(out))


def run(env: dict[str, str], mode: str, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, *args], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} {args} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out.get("errors"):
        raise SystemExit(f"import errors in {args[0]}:\n{json.dumps(out['errors'], indent=1)}")
    return out


def median(env: dict[str, str], mode: str, *args: str) -> tuple[float, dict]:
    outs = [run(env, mode, *args) for _ in range(RUNS)]
    return statistics.median(o["seconds"] for o in outs), outs[-1]


def main() -> None:
    from serasan.demo.province import generate_catalog
    from serasan.runtime.dag_index import dag_index

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="serasan-dagbench-") as tmp:
        tmp_path = Path(tmp)
        print("generating the Sumatera Selatan catalog ...", flush=True)
        cat_dir, exp_dir = generate_catalog(tmp_path / "gen")
        straight = tmp_path / "straightforward"
        straight.mkdir()
        (straight / "serasan_dags.py").write_text(STRAIGHTFORWARD, encoding="utf-8")
        shutil.copyfile(DAGS / "serasan_alerts.py", straight / "serasan_alerts.py")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SERASAN_", "AIRFLOW"))},
            "SERASAN_CATALOG_DIR": str(cat_dir),
            "SERASAN_EXPECTATIONS_DIR": str(exp_dir),
            "SERASAN_CATALOG_CACHE_DIR": str(tmp_path / "cache"),
            "SERASAN_TASK_RETRIES": "2",
            "GX_ANALYTICS_ENABLED": "false",
        }
        dags_file = str(DAGS / "serasan_dags.py")

        load = run(env, "load")
        cold = run(env, "parse", dags_file)  # the first parse: builds the index
        full, last = median(env, "serialize", str(DAGS))
        alone, _ = median(env, "parse", dags_file)
        os.environ["SERASAN_CATALOG_DIR"] = str(cat_dir)
        os.environ["SERASAN_CATALOG_CACHE_DIR"] = str(tmp_path / "cache")
        index = dag_index(cat_dir)
        one_id = f"serasan__{index['datasets'][-1]['id']}"
        kpi_id = f"serasan__{index['regencies'][-1]['slug']}__kpi"
        one, one_out = median(env, "parse", dags_file, one_id)
        kpi, kpi_out = median(env, "parse", dags_file, kpi_id)
        old, old_out = median(env, "serialize", str(straight))
        old_one, _ = median(env, "parse", str(straight / "serasan_dags.py"), one_id)

    def row(label: str, seconds: float, target: float | None = None, note: str = "") -> None:
        verdict = "" if target is None else ("within" if seconds < target else "OVER")
        goal = f"< {target:.1f} s" if target is not None else ""
        print(f"{label:<58}{seconds:>8.2f}  {goal:<9}{verdict:<7}{note}".rstrip())

    print(
        f"\ncatalog: {load['regencies']} regencies, {load['datasets']:,} datasets -> "
        f"{last['dags']:,} DAGs, {last['tasks']:,} tasks in dags/ "
        f"(median of {RUNS} fresh processes each)"
    )
    print(f"{'':<58}{'seconds':>8}  {'target':<9}")
    row(
        "full parse of dags/ (DAG index cached)",
        full,
        FULL_TARGET,
        f"straightforward x{old / full:.1f} slower",
    )
    row("  serasan_dags.py alone", alone)
    row("  first parse after a catalog edit (index rebuilt)", cold["seconds"])
    row(
        f"one DAG, parsing context ({one_out['tasks']} tasks, {one_out['dags']} DAG)",
        one,
        ONE_TARGET,
        f"straightforward x{old_one / one:.0f} slower",
    )
    row(f"one regency KPI DAG, parsing context ({kpi_out['dags']} DAG)", kpi, ONE_TARGET)
    row(f"straightforward factory: full parse ({old_out['dags']:,} DAGs)", old)
    row("straightforward factory: one DAG (it builds all)", old_one)
    row(f"load_catalog alone ({load['datasets']:,} YAML files, no suites)", load["seconds"])
    row(
        "serialise every DAG after the parse (processor)",
        last["serialize"],
        note=f"straightforward: {old_out['serialize']:.2f} s",
    )
    print(
        f"\nratio straightforward/serasan: full parse x{old / full:.1f}, "
        f"one DAG x{old_one / one:.0f}"
    )
    print(
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after: other work on the machine inflates every figure"
    )


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
    else:
        main()
