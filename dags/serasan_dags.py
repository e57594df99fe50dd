"""Serasan DAGs, generated from the catalog: one per dataset, and KPI and export (+ report) DAGs per
regency.
(`serasan__alerts` lives in serasan_alerts.py, which does not need the catalog to parse.)

Thin on purpose: no business logic and no I/O beyond reading the catalog YAML at parse time.
Task bodies live in serasan.operators.tasks; the core below them has no Airflow imports.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import Asset, AssetAny, dag, task

from serasan.catalog import Dataset, Regency, load_catalog
from serasan.operators import tasks
from serasan.operators.notifiers import EngineerAlertNotifier
from serasan.pipeline import opd_key

START = pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta")
# Retries absorb a source's passing outage; in-process CLI runs set 0 to fail fast instead.
RETRIES = {"retries": int(os.environ.get("SERASAN_TASK_RETRIES", "2")),
           "retry_delay": dt.timedelta(seconds=int(os.environ.get("SERASAN_RETRY_DELAY_SECONDS",
                                                                  "300")))}
# A task that fails after its retries alerts the engineers (never the OPDs). Built once: no I/O.
FAILURE = {"on_failure_callback": [EngineerAlertNotifier()]}
CATALOG = load_catalog(check_suites=False)  # suites are read by the tasks, not at parse time


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
        def transform(objects: list[dict], **context) -> list[dict]:  # noqa: ANN003
            return tasks.transform(ds.id, objects, context)

        @task(outlets=[dataset_asset(ds)])
        def load(staged: list[dict], **context) -> list[dict]:  # noqa: ANN003
            return tasks.load(ds.id, staged, context)

        # Sends this dataset's alerts after the load, blocked or not. A teardown (all_done, no
        # setup) so it runs whatever happened, and so the run's state stays the load's.
        @task
        def notify(**context) -> dict:  # noqa: ANN003
            return tasks.notify(ds.id, context)

        loaded = load(transform(extract()))
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

        # The month's report reads the KPIs and the export records; it is written even when the
        # export failed, so the compliance page shows what is recorded.
        @task(trigger_rule="all_done")
        def report(**context) -> dict:  # noqa: ANN003
            return tasks.report(regency.kode, context)

        export() >> report()

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
