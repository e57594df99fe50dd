"""The yearly smart-city evaluation pack of each regency (`serasan__<regency>__evaluation`).

    serasan__<regency>__evaluation   evaluation   on 1 February 06:00 WIB, or when the KPIs change

Each regency's DAG builds the pack of the last complete year before the run's date (the `year`
param picks another) into `reports/<slug>/evaluasi/<year>/` in the lake: the HTML document, its
PDF printed by headless Chromium, and the ZIP evidence bundle. Same as `serasan evaluation
--regency <slug>`.

Scheduled after the KPIs: once a year, on 1 February (December's data are due in January and the
KPI DAG has run on them), and whenever the regency's KPI Asset updates, so late data, corrections
and retractions reach the pack. A run whose pack content is unchanged (the checksums of its HTML
and CSVs) prints and writes nothing, so the frequent runs cost little.

Thin on purpose: the task body is `serasan.publish.evaluation.pack.write`, imported when the task
runs. The KPI Asset is the one `serasan_dags.py` declares (the same name and URI).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param

from serasan.common.dag_ids import evaluation_dag_id
from serasan.operators.notifiers import EngineerAlertNotifier
from serasan.runtime.dag_index import dag_index

START = pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta")
YEARLY = CronTriggerTimetable("0 6 1 2 *", timezone="Asia/Jakarta")  # 1 February, 06:00 WIB
RETRIES = {
    "retries": int(os.environ.get("SERASAN_TASK_RETRIES", "2")),
    "retry_delay": dt.timedelta(seconds=int(os.environ.get("SERASAN_RETRY_DELAY_SECONDS", "300"))),
}
FAILURE = {"on_failure_callback": [EngineerAlertNotifier()]}


def kpi_asset(slug: str) -> Asset:
    """The regency's KPI Asset, as serasan_dags.py declares it (the KPI DAG's outlet)."""
    return Asset(
        name=f"serasan.kpi.{slug}",
        uri=f"serasan://warehouse/mart/kpi_value/{slug}",
        group="serasan",
    )


def evaluation(regency: str, **context: Any) -> dict[str, Any]:
    from serasan.operators.tasks import _ctx
    from serasan.publish.evaluation import pack

    year = (context.get("params") or {}).get("year")
    return pack.write(_ctx(context), regency, int(year) if year else None)


def evaluation_dag(regency: dict[str, Any]) -> DAG:
    slug, name = regency["slug"], regency["name"]
    kpis = kpi_asset(slug)
    with DAG(
        dag_id=evaluation_dag_id(slug),
        schedule=AssetOrTimeSchedule(timetable=YEARLY, assets=kpis),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["serasan", slug, "evaluation"],
        default_args={"owner": f"{slug}-walidata", **RETRIES, **FAILURE},
        params={
            "year": Param(
                None,
                type=["null", "integer"],
                title="Year",
                description="The year to evaluate; empty: the last complete year before the "
                "run's date. A year not ended by then is marked partial on every page. "
                "`serasan evaluation --year` sets it.",
            )
        },
        doc_md=f"The smart-city evaluation pack of {name} ({regency['kode']}): "
        f"`reports/{slug}/evaluasi/<year>/` in the lake, an HTML document in Bahasa Indonesia, "
        "its PDF (headless Chromium) and a ZIP evidence bundle (PDF, the CSV behind every chart "
        "and table, a manifest with each file's sha256), for the last complete year before the "
        "run's date.\n\n"
        f"Runs on 1 February at 06:00 WIB and whenever `{kpis.name}` updates (the KPI DAG's "
        "compute). A pack whose content is unchanged is not printed or written again. Same as "
        f"`serasan evaluation --regency {slug}`.",
    ) as dag:
        PythonOperator(
            task_id="evaluation",
            python_callable=evaluation,
            op_kwargs={"regency": regency["kode"]},
            inlets=[kpis],
        )
    return dag


for _reg in dag_index()["regencies"]:
    _d = evaluation_dag(_reg)
    globals()[_d.dag_id] = _d
