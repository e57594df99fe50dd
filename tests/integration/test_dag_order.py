"""Issue 16: the report waits for the KPIs it reads, every DAG documents itself and its params,
and a broken warehouse connection fails the DAG instead of loading into SQLite.

The KPI DAG's `compute` updates the regency's KPI Asset, and the report DAG is scheduled on that
Asset alone; the export DAG is scheduled on the datasets, beside the KPI DAG. Checked on the
DagBag, then through Airflow itself (`dag.test()`) on the embedded defaults (folder lake, SQLite
warehouse): two deliveries, each followed by the KPI DAG and then the report DAG, and each report
shows the values its KPI run just wrote.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from serasan.common import dag_ids
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.lake.store import open_lake
from serasan.operators.runner import Runner
from serasan.publish import kpi
from serasan.warehouse.db import make_engine
from serasan.warehouse.tables import table
from tests.support.report_html import MONTH, parse
from tests.support.warehouse import RUN_DATE

LOGICAL = dt.datetime.combine(RUN_DATE, dt.time(), tzinfo=ZoneInfo("Asia/Jakarta"))
REGENCY, SLUG = "16.03", "muaraenim"
DATASET = "muaraenim_timbulan_sampah"  # feeds the ME-ENV KPIs


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner(Path(os.environ["AIRFLOW_HOME"]))


@pytest.fixture
def embedded(local_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The embedded defaults, for the tasks of this process's DAG runs."""
    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    return local_settings


def _scheduled_on(dag: Any) -> set[str]:
    cond = getattr(dag.timetable, "asset_condition", None)
    if cond is None:
        return set()
    # several assets come as a condition over them; one asset (beside a time) as itself
    return {a.name for a in getattr(cond, "objects", [cond])}


# ------------------------------------------------------------------ the DAGs' structure


def test_the_report_dag_is_scheduled_on_the_kpi_asset_the_kpi_dag_updates(
    runner: Runner, catalog: Catalog
) -> None:
    bag = runner.bag
    for reg in catalog.regencies.values():
        kpi_dag, export_dag, report_dag = (
            bag.get_dag(i) for i in dag_ids.regency_dag_ids(reg.slug)
        )
        kpis = f"serasan.kpi.{reg.slug}"
        datasets = {f"serasan.{d.id}" for d in catalog.datasets_of(reg.kode)}
        assert _scheduled_on(kpi_dag) == _scheduled_on(export_dag) == datasets
        assert [o.name for o in kpi_dag.get_task("compute").outlets] == [kpis]
        # the report: its own DAG, on the KPI asset alone, reading it
        assert report_dag.dag_id == f"serasan__{reg.slug}__report"
        assert _scheduled_on(report_dag) == {kpis}
        assert [t.task_id for t in report_dag.tasks] == ["report"]
        assert [i.name for i in report_dag.get_task("report").inlets] == [kpis]
        # the exports neither wait for the KPIs nor run the report
        assert [t.task_id for t in export_dag.topological_sort()] == ["export", "publish"]
        assert not any(t.outlets for t in export_dag.tasks)
    # the KPI DAG is the only producer of a KPI asset, the report DAG its only consumer
    producers = {
        (dag_id, t.task_id, o.name)
        for dag_id in runner.dag_ids
        for t in bag.get_dag(dag_id).tasks
        for o in t.outlets
        if o.name.startswith("serasan.kpi.")
    }
    consumers = {
        (dag_id, name)
        for dag_id in runner.dag_ids
        for name in _scheduled_on(bag.get_dag(dag_id))
        if name.startswith("serasan.kpi.")
    }
    slugs = [r.slug for r in catalog.regencies.values()]
    assert producers == {(f"serasan__{s}__kpi", "compute", f"serasan.kpi.{s}") for s in slugs}
    assert consumers == {(f"serasan__{s}__report", f"serasan.kpi.{s}") for s in slugs} | {
        (f"serasan__{s}__evaluation", f"serasan.kpi.{s}") for s in slugs
    }


def test_every_dag_has_docs_and_every_param_a_type_and_a_description(runner: Runner) -> None:
    for dag_id in runner.dag_ids:
        dag = runner.bag.get_dag(dag_id)
        assert dag.doc_md and dag.doc_md.strip(), dag_id
        for name in dag.params:
            param = dag.params.get_param(name)
            assert param.description and param.description.strip(), (dag_id, name)
            assert param.schema.get("type"), (dag_id, name)
    dataset = runner.bag.get_dag(dag_ids.dataset_dag_id(DATASET))
    assert {n: dataset.params.get_param(n).schema["type"] for n in dataset.params} == {
        "force": "boolean",
        "periods": "object",
        "collected": "object",
    }
    assert dataset.params.validate() == {"force": False, "periods": {}, "collected": {}}
    for doc_word in ("extract", "parse", "validate", "load", "notify", DATASET, "OPD"):
        assert doc_word in dataset.doc_md, doc_word
    report = runner.bag.get_dag(dag_ids.report_dag_id(SLUG))
    assert f"serasan.kpi.{SLUG}" in report.doc_md and "serasan report" in report.doc_md


# ------------------------------------------------------------------ through Airflow


def _deliver(runner: Runner, catalog: Catalog, settings: Settings, seed: int) -> None:
    """A generated OPD file in the dataset's inbox, then the dataset's DAG."""
    ds = catalog.dataset(DATASET)
    gen = generate_dataset(ds, catalog, rows=50, defect_rate=0.0, seed=seed)
    open_lake(settings).put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    res = runner.run(dag_ids.dataset_dag_id(DATASET), LOGICAL)
    assert res["state"] == "success", res
    assert [s["status"] for s in res["tasks"]["load"]["result"]] == ["loaded"]


def _mart(settings: Settings, catalog: Catalog) -> dict[str, float]:
    """The regency's value of each ME-ENV KPI for the period the month's report shows."""
    engine = make_engine(settings.warehouse_url)
    mart = table("mart", "kpi_value", engine.dialect.name)
    month_end = kpi.period_span(MONTH)[1]
    out = {}
    with engine.connect() as conn:
        for k in catalog.kpis_of(REGENCY):
            period = kpi.latest_ended(k.cadence, month_end)
            value = conn.execute(
                select(mart.c.value).where(
                    mart.c.kpi_code == k.code,
                    mart.c.period == period,
                    mart.c.kode_wilayah == REGENCY,
                )
            ).scalar_one_or_none()
            if value is not None:
                out[k.code] = value
    engine.dispose()
    return out


def _reported(settings: Settings) -> dict[str, float]:
    """The value the month's report shows for each KPI that has one."""
    els = parse(open_lake(settings).get(f"reports/{SLUG}/{MONTH}.html").decode())
    return {
        next(a["data-kpi"] for a in reversed(e["inside"]) if "data-kpi" in a): float(
            e["attrs"]["data-value"]
        )
        for e in els
        if "kpi-value" in e["classes"] and e["attrs"].get("data-value")
    }


def _kpi_events(run_id: str) -> list[str]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id == run_id)).all()
        return [e.asset.name for e in events]


def test_the_report_reads_the_kpis_just_computed(
    runner: Runner, catalog: Catalog, embedded: Settings
) -> None:
    seen: list[dict[str, float]] = []
    for seed in (4, 5):  # the second delivery replaces the first file's periods
        _deliver(runner, catalog, embedded, seed)
        computed = runner.run(dag_ids.kpi_dag_id(SLUG), LOGICAL)
        assert computed["state"] == "success", computed
        # the KPI run announced the asset the report DAG is scheduled on
        assert _kpi_events(computed["run_id"]) == [f"serasan.kpi.{SLUG}"]
        values = _mart(embedded, catalog)
        assert {"ME-ENV-01", "ME-ENV-02", "ME-ENV-03"} <= set(values), values

        made = runner.run(dag_ids.report_dag_id(SLUG), LOGICAL)
        assert made["state"] == "success", made
        assert made["tasks"]["report"]["result"]["period"] == MONTH
        assert _reported(embedded) == values  # the values this KPI run wrote, every one
        seen.append(values)
    first, second = seen
    changed = {code for code in first if first[code] != second.get(code)}
    assert changed, "the second delivery should move the KPIs"


def test_a_broken_warehouse_connection_fails_the_dag_instead_of_using_sqlite(
    runner: Runner, embedded: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("SERASAN_HOME", str(home))  # where a default warehouse would appear
    monkeypatch.delenv("SERASAN_WAREHOUSE_URL")
    monkeypatch.setenv("AIRFLOW_CONN_SERASAN_WAREHOUSE", '{"conn_type": "postgres", "host": ')
    res = runner.run(dag_ids.kpi_dag_id(SLUG), LOGICAL)
    assert res["state"] == "failed" and res["tasks"]["compute"]["state"] == "failed", res
    assert not (home / "warehouse.db").exists()

    # nothing configured, and defaults forbidden: the same
    monkeypatch.delenv("AIRFLOW_CONN_SERASAN_WAREHOUSE")
    monkeypatch.setenv("SERASAN_REQUIRE_CONNECTIONS", "true")
    res = runner.run(dag_ids.report_dag_id(SLUG), LOGICAL)
    assert res["state"] == "failed" and res["tasks"]["report"]["state"] == "failed", res
    assert not (home / "warehouse.db").exists()
