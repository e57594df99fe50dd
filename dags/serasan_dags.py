"""Serasan DAGs, generated from the catalog: one per dataset, and KPI, export and report DAGs per
regency. (`serasan__alerts` lives in serasan_alerts.py, which does not need the catalog to parse.)

    serasan__<dataset>           extract >> parse >> validate >> load >> notify (teardown)
    serasan__<regency>__kpi      compute                 on the regency's dataset Assets
    serasan__<regency>__export   export >> publish       on the regency's dataset Assets
    serasan__<regency>__report   report                  on the regency's KPI Asset
    serasan__retention           retention

Each load updates its dataset's Asset; the KPI and export DAGs of its regency are scheduled on
those Assets, side by side (an export neither waits for the KPIs nor fails with them). The KPI
DAG's `compute` updates the regency's KPI Asset, on which the report DAG is scheduled: the report
runs once the KPIs it reads are computed, on whatever worker, never on the last run's KPIs.

A dataset's stages hand each other the dataclasses of serasan/pipeline/handoff.py, as XCom; the
rows themselves travel through the lake (raw/, then staging/), so each stage can be retried on
its own and none reads the OPD's file twice.

Thin on purpose: no business logic, and no I/O at parse time beyond the catalog's DAG index.
Task bodies live in serasan.operators.tasks, imported when a task runs; the core below them has
no Airflow imports.

Built to parse fast at provincial scale (17 regencies, 1,000+ datasets; `make bench`):
- the catalog comes as its DAG index (serasan.runtime.dag_index): validated in full once, then cached
  under a key made of every catalog file's bytes, so a parse reads JSON instead of validating
  1,000 YAML files, and any edit rebuilds it;
- a worker that parses this file to run one task (Airflow's parsing context) builds that DAG only;
- tasks are plain PythonOperators on module-level functions: the same tasks, XComs and Assets
  as `@task`, at about half the construction cost, which counts at 5,000 tasks a parse; each
  dataset's Asset is built once, for its load's outlet and its regency DAGs' schedule.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import Any

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset, AssetAny, Param, get_parsing_context

from serasan.common import dag_ids
from serasan.operators.notifiers import EngineerAlertNotifier
from serasan.runtime.dag_index import dag_index

START = pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta")
# Retries absorb a source's passing outage; in-process CLI runs set 0 to fail fast instead.
RETRIES = {
    "retries": int(os.environ.get("SERASAN_TASK_RETRIES", "2")),
    "retry_delay": dt.timedelta(seconds=int(os.environ.get("SERASAN_RETRY_DELAY_SECONDS", "300"))),
}
# A task that fails after its retries alerts the engineers (never the OPDs). Built once: no I/O.
FAILURE = {"on_failure_callback": [EngineerAlertNotifier()]}
INDEX = dag_index()  # the validated catalog, as much of it as DAGs need; raises CatalogError
REGENCIES = {r["kode"]: r for r in INDEX["regencies"]}
# Set when a worker parses this file to run one task of one DAG; None for the DAG processor.
ONLY = get_parsing_context().dag_id


def wanted(dag_id: str) -> bool:
    return ONLY is None or ONLY == dag_id


def _tasks():  # noqa: ANN202 - the task bodies' module, imported at run time, not parse time
    from serasan.operators import tasks

    return tasks


# The task callables: module-level, shared by every DAG; the dataset or regency is an op_kwarg.
def extract(dataset_id: str, **context: Any) -> list[dict]:
    return _tasks().extract(dataset_id, context)


def parse(dataset_id: str, objects: list[dict], **context: Any) -> list[dict]:
    return _tasks().parse(dataset_id, objects, context)


def validate(dataset_id: str, parsed: list[dict], **context: Any) -> list[dict]:
    return _tasks().validate(dataset_id, parsed, context)


def load(dataset_id: str, validated: list[dict], **context: Any) -> list[dict]:
    return _tasks().load(dataset_id, validated, context)


def notify(dataset_id: str, **context: Any) -> dict:
    return _tasks().notify(dataset_id, context)


def compute(regency: str, **context: Any) -> dict:
    return _tasks().compute_kpis(regency, context)


def export(regency: str, **context: Any) -> dict:
    return _tasks().export(regency, context)


def publish(regency: str, **context: Any) -> dict:
    return _tasks().publish(regency, context)


def report(regency: str, **context: Any) -> dict:
    return _tasks().report(regency, context)


def retention(**context: Any) -> dict:
    return _tasks().retention(context)


@functools.cache  # one Asset per dataset: the load's outlet and its regency DAGs' schedule
def dataset_asset(dataset_id: str) -> Asset:
    return Asset(
        name=f"serasan.{dataset_id}",
        uri=f"serasan://warehouse/core/fact_{dataset_id}",
        group="serasan",
    )


@functools.cache  # one Asset per regency: the KPI DAG's outlet and the report DAG's schedule
def kpi_asset(regency_slug: str) -> Asset:
    return Asset(
        name=f"serasan.kpi.{regency_slug}",
        uri=f"serasan://warehouse/mart/kpi_value/{regency_slug}",
        group="serasan",
    )


def dataset_params() -> dict[str, Param]:
    """A dataset DAG's params, typed and described for the trigger form (fresh per DAG)."""
    return {
        "force": Param(
            False,
            type="boolean",
            title="Force",
            description="Process the inbox's files again even when a file of the same content "
            "(sha256) was already loaded; without it such a file is recorded as skipped. "
            "`serasan ingest --force` sets it.",
        ),
        "periods": Param(
            {},
            type="object",
            additionalProperties={"type": "string"},
            title="Periods",
            description="The period a file holds, by the file's sha256, for files whose name "
            'and content do not say it: {"<sha256>": "2025"} (or "2026-Q3", "2026-10", as the '
            "dataset's cadence names its periods). `serasan ingest --period` sets it.",
        ),
        "collected": Param(
            {},
            type="object",
            additionalProperties={"type": "string", "format": "date"},
            title="Collected on",
            description="The day a file was collected, by the file's sha256, for files whose "
            'relative dates ("3 bulan lalu") are read against it: {"<sha256>": "2026-01-18"}. '
            "`serasan ingest --collected-on` sets it.",
        ),
    }


def dataset_doc(ds: dict[str, str], regency: dict[str, Any]) -> str:
    did = ds["id"]
    return (
        f"**{ds['title']}** ({regency['name']}, {ds['opd']})\n\n{ds['description']}\n\n"
        f"Dataset `{did}` of OPD `{ds['opd']}`, {regency['name']} ({regency['kode']}), pillar "
        f"`{ds['pillar']}`; its rows go to the warehouse table `core.fact_{did}`.\n\n"
        "1. **extract**: new files from the OPD's inbox (or the pulled source) into the lake's "
        "`raw/`, each recognised by its sha256 so none is processed twice;\n"
        "2. **parse**: each file into typed Parquet in `staging/` (or rejected, with the reason "
        "in Bahasa Indonesia);\n"
        "3. **validate**: the dataset's Great Expectations suite; failing rows to "
        "`quarantine/`, the Data Docs updated;\n"
        "4. **load**: the valid rows into the warehouse; a blocked or rejected file fails the "
        f"run. On success it updates the Asset `serasan.{did}`, which triggers "
        f"`{dag_ids.kpi_dag_id(regency['slug'])}` and `{dag_ids.export_dag_id(regency['slug'])}`;"
        "\n"
        "5. **notify** (teardown, runs whatever happened): sends this dataset's alerts (the "
        "OPD's messages among them) and Serasan's metrics.\n\n"
        "Params: `force` (process already-loaded files again), `periods` (the period of a file "
        "that does not say it). Same as `serasan ingest --dataset ID FILE`."
    )


def dataset_dag(ds: dict[str, str]) -> DAG:
    regency = REGENCIES[ds["regency"]]
    arg = {"dataset_id": ds["id"]}
    with DAG(
        dag_id=dag_ids.dataset_dag_id(ds["id"]),
        schedule="@daily",
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["serasan", regency["slug"], ds["opd"], ds["pillar"]],
        default_args={"owner": ds["owner"], **RETRIES, **FAILURE},
        params=dataset_params(),
        doc_md=dataset_doc(ds, regency),
    ) as pipeline:
        # Each stage's XCom is the next one's argument, which also sets the dependency.
        extracted = PythonOperator(task_id="extract", python_callable=extract, op_kwargs=arg)
        parsed = PythonOperator(
            task_id="parse",
            python_callable=parse,
            op_kwargs={**arg, "objects": extracted.output},
        )
        validated = PythonOperator(
            task_id="validate",
            python_callable=validate,
            op_kwargs={**arg, "parsed": parsed.output},
        )
        loaded = PythonOperator(
            task_id="load",
            python_callable=load,
            op_kwargs={**arg, "validated": validated.output},
            outlets=[dataset_asset(ds["id"])],
        )
        # Sends this dataset's alerts after the load, blocked or not. A teardown (all_done, no
        # setup) so it runs whatever happened, and so the run's state stays the load's.
        (
            loaded
            >> PythonOperator(task_id="notify", python_callable=notify, op_kwargs=arg).as_teardown()
        )
    return pipeline


def regency_dags(regency: dict[str, Any]) -> list[DAG]:
    slug, name, arg = regency["slug"], regency["name"], {"regency": regency["kode"]}
    common = {
        "start_date": START,
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {"owner": f"{slug}-walidata", **RETRIES, **FAILURE},
    }
    datasets = AssetAny(*[dataset_asset(d) for d in regency["datasets"]])
    kpis_done = kpi_asset(slug)
    kpi_id, export_id, report_id = dag_ids.regency_dag_ids(slug)
    dags = []
    if wanted(kpi_id):
        with DAG(
            dag_id=kpi_id,
            schedule=datasets,
            tags=["serasan", slug, "kpi"],
            doc_md=f"Recomputes the smart-regency KPIs of {name} ({regency['kode']}) from its "
            "datasets' warehouse tables into `mart.kpi_value`, every period of every KPI in "
            "`catalog/kpis.yaml` (a KPI whose sources are not loaded is recorded as missing, "
            "with the reason).\n\n"
            f"Runs when any of the regency's {len(regency['datasets'])} dataset Assets updates "
            f"(a dataset DAG's load). On success `compute` updates the Asset "
            f"`{kpis_done.name}`, which triggers `{report_id}`. Same as "
            f"`serasan kpi compute --regency {slug}`.",
            **common,
        ) as kpis:
            PythonOperator(
                task_id="compute", python_callable=compute, op_kwargs=arg, outlets=[kpis_done]
            )
        dags.append(kpis)
    if wanted(export_id):
        with DAG(
            dag_id=export_id,
            schedule=datasets,
            tags=["serasan", slug, "satu-data"],
            doc_md=f"The Satu Data Indonesia exports of {name}: `export` writes each dataset's "
            f"periods (CSV, JSON, metadata, DCAT, manifest) to `exports/{slug}/` in the lake, "
            "only periods whose files changed (`meta.export_run`), personal data screened; "
            "`publish` sends them to the CKAN portal when one is configured (an outage leaves "
            "periods pending for the next run).\n\n"
            "Runs when any of the regency's dataset Assets updates, beside the KPI DAG: it "
            f"neither waits for the KPIs nor fails with them. Same as "
            f"`serasan export --regency {slug}`.",
            **common,
        ) as satu_data:
            (
                PythonOperator(task_id="export", python_callable=export, op_kwargs=arg)
                >> PythonOperator(task_id="publish", python_callable=publish, op_kwargs=arg)
            )
        dags.append(satu_data)
    if wanted(report_id):
        with DAG(
            dag_id=report_id,
            schedule=[kpis_done],  # AssetAll of the one Asset
            tags=["serasan", slug, "report"],
            doc_md=f"The monthly report of {name}: `reports/{slug}/<YYYY-MM>.html` in the lake, "
            "for the last month before the run's date. The KPIs from `mart.kpi_value` per "
            "pillar, each OPD's data quality, and the Satu Data compliance page from the export "
            "records (`meta.export_run`) as they stand when it runs. Unchanged bytes are not "
            "written again.\n\n"
            f"Scheduled on the Asset `{kpis_done.name}`, which `{kpi_id}` updates when its "
            "KPIs are computed: the report reads the KPIs just computed. Same as "
            f"`serasan report --regency {slug}`.",
            **common,
        ) as monthly:
            PythonOperator(
                task_id="report", python_callable=report, op_kwargs=arg, inlets=[kpis_done]
            )
        dags.append(monthly)
    return dags


for _ds in INDEX["datasets"]:
    if wanted(dag_ids.dataset_dag_id(_ds["id"])):
        _d = dataset_dag(_ds)
        globals()[_d.dag_id] = _d
for _reg in INDEX["regencies"]:
    for _d in regency_dags(_reg):
        globals()[_d.dag_id] = _d

if wanted(dag_ids.RETENTION):
    with DAG(
        dag_id=dag_ids.RETENTION,
        schedule="@daily",
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["serasan", "retention", "pii"],
        default_args={"owner": "serasan-engineers", **RETRIES, **FAILURE},
        doc_md="Deletes raw and quarantined files holding personal data once the catalog's "
        "`retention` has passed (UU 27/2022), and warehouse backups older than "
        "`SERASAN_BACKUP_KEEP_DAYS`, each recorded in `meta.retention_audit`. Same as "
        "`serasan retention`.",
    ) as serasan__retention:
        PythonOperator(task_id="retention", python_callable=retention)
