"""Serasan DAGs, generated from the catalog: one per dataset, and KPI and export DAGs per regency.
(`serasan__alerts` lives in serasan_alerts.py, which does not need the catalog to parse.)

    serasan__<dataset>           extract >> parse >> validate >> load >> notify (teardown)
    serasan__<regency>__kpi      compute
    serasan__<regency>__export   export >> publish >> report
    serasan__retention           retention

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
from airflow.sdk import DAG, Asset, AssetAny, get_parsing_context

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
        # periods: {sha256: "2021"}, the period given with a file (`serasan ingest --period`)
        params={"force": False, "periods": {}},
        doc_md=f"**{ds['title']}** ({regency['name']}, {ds['opd']})\n\n{ds['description']}",
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
    slug, arg = regency["slug"], {"regency": regency["kode"]}
    common = {
        "start_date": START,
        "catchup": False,
        "max_active_runs": 1,
        "schedule": AssetAny(*[dataset_asset(d) for d in regency["datasets"]]),
        "default_args": {"owner": f"{slug}-walidata", **RETRIES, **FAILURE},
    }
    dags = []
    kpi_id, export_id = dag_ids.regency_dag_ids(slug)
    if wanted(kpi_id):
        with DAG(dag_id=kpi_id, tags=["serasan", slug, "kpi"], **common) as kpis:
            PythonOperator(task_id="compute", python_callable=compute, op_kwargs=arg)
        dags.append(kpis)
    if wanted(export_id):
        with DAG(dag_id=export_id, tags=["serasan", slug, "satu-data"], **common) as satu_data:
            # publish sends what export wrote to the CKAN portal (an outage leaves periods
            # pending for the next run). The month's report reads the KPIs and the export
            # records; it is written even when export or publish failed, so the compliance page
            # shows what is recorded.
            (
                PythonOperator(task_id="export", python_callable=export, op_kwargs=arg)
                >> PythonOperator(task_id="publish", python_callable=publish, op_kwargs=arg)
                >> PythonOperator(
                    task_id="report",
                    python_callable=report,
                    op_kwargs=arg,
                    trigger_rule="all_done",
                )
            )
        dags.append(satu_data)
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
        "`retention` has passed (UU 27/2022), each recorded in "
        "`meta.retention_audit`.",
    ) as serasan__retention:
        PythonOperator(task_id="retention", python_callable=retention)
