"""DAG integrity, and one real `dag.test()` run of each kind of DAG on demo data."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from serasan.common.paths import DAGS_DIR
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.lake.store import open_lake
from serasan.operators.runner import Runner
from serasan.runtime.context import RunContext
from serasan.warehouse.db import make_engine
from serasan.warehouse.tables import table
from tests.support.fake_ckan import TOKEN as CKAN_TOKEN
from tests.support.fake_ckan import FakeCkan
from tests.support.warehouse import RUN_DATE

LOGICAL = dt.datetime.combine(RUN_DATE, dt.time(), tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner(Path(os.environ["AIRFLOW_HOME"]))


def test_every_dag_file_imports_without_errors(runner: Runner) -> None:
    assert runner.bag.import_errors == {}
    assert {Path(p).name for p in DAGS_DIR.glob("*.py")} == {
        "serasan_dags.py",
        "serasan_alerts.py",
        "serasan_evaluation.py",
    }


def test_one_dag_per_dataset_and_kpi_export_report_dags_per_regency(
    runner: Runner, catalog: Catalog
) -> None:
    expected = {f"serasan__{d}" for d in catalog.datasets}
    for reg in catalog.regencies.values():
        expected |= {
            f"serasan__{reg.slug}__{kind}" for kind in ("kpi", "export", "report", "evaluation")
        }
    assert set(runner.dag_ids) == expected | {
        "serasan__alerts",
        "serasan__retention",
        "serasan__backup",
    }


def test_dags_have_tags_owners_and_no_cycles(runner: Runner, catalog: Catalog) -> None:
    for dag_id in runner.dag_ids:
        dag = runner.bag.get_dag(dag_id)
        assert "serasan" in dag.tags
        assert all(t.owner and t.owner != "airflow" for t in dag.tasks), dag_id
        assert dag.topological_sort()  # raises on a cycle
        if dag_id.count("__") == 1 and dag_id not in (
            "serasan__alerts",
            "serasan__retention",
            "serasan__backup",
        ):
            ds = catalog.dataset(dag_id.removeprefix("serasan__"))
            assert {catalog.regency(ds.regency).slug, ds.opd, ds.pillar} <= set(dag.tags)
            assert [t.task_id for t in dag.topological_sort()] == [
                "extract",
                "parse",
                "validate",
                "load",
                "notify",
            ]
            assert dag.catchup is False
        if dag_id.endswith("__export"):
            assert [t.task_id for t in dag.topological_sort()] == ["export", "publish"]
        if dag_id.endswith("__report"):
            assert [t.task_id for t in dag.topological_sort()] == ["report"]


def test_regency_dags_are_scheduled_on_their_datasets_assets(
    runner: Runner, catalog: Catalog
) -> None:
    dag = runner.bag.get_dag("serasan__muaraenim__kpi")
    names = {a.name for a in dag.timetable.asset_condition.objects}
    assert names == {f"serasan.{d.id}" for d in catalog.datasets_of("16.03")}
    load = runner.bag.get_dag("serasan__muaraenim_timbulan_sampah").get_task("load")
    assert [o.name for o in load.outlets] == ["serasan.muaraenim_timbulan_sampah"]


def _use(settings: Settings) -> None:
    os.environ.update(settings.as_env())


def test_dag_test_of_each_kind(runner: Runner, catalog: Catalog, s3_settings: Settings) -> None:
    """Dataset, KPI, export and report DAGs through Airflow itself, on S3 + PostgreSQL."""
    _use(s3_settings)
    try:
        ds = catalog.dataset("muaraenim_timbulan_sampah")
        gen = generate_dataset(ds, catalog, rows=50, defect_rate=0.1, seed=4)
        lake = open_lake(s3_settings)
        lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)

        res = runner.run(f"serasan__{ds.id}", LOGICAL)
        assert res["state"] == "success", res
        [summary] = res["tasks"]["load"]["result"]
        assert summary["rows_in"] == gen.rows == summary["rows_loaded"] + summary["rows_rejected"]
        assert summary["status"] == "quarantined"

        kpi = runner.run("serasan__muaraenim__kpi", LOGICAL)
        assert kpi["state"] == "success"
        assert kpi["tasks"]["compute"]["result"]["kpis"]["ME-ENV-01"] > 0
        portal = FakeCkan().start()  # the Satu Data portal, on loopback
        os.environ.update(
            {
                "SERASAN_CKAN_URL": portal.url,
                "SERASAN_CKAN_TOKEN": CKAN_TOKEN,
                "SERASAN_PII_KEY": "kunci-uji-dag-5c2e9a",
            }
        )
        try:
            exp = runner.run("serasan__muaraenim__export", LOGICAL)
        finally:
            portal.stop()
        assert exp["state"] == "success", exp
        result = exp["tasks"]["export"]["result"]
        assert result["datasets"][ds.id]["written"] > 0 and result["periods_blocked"] == 0
        keys = lake.list(f"exports/muaraenim/{ds.id}/")
        names = {k.rsplit("/", 1)[-1] for k in keys}
        assert {
            "changelog.json",
            "dcat.jsonld",
            "metadata.json",
            "datapackage.json",
            "manifest.json",
        } <= names
        periods = {k.split("/")[3] for k in keys if k.endswith("/manifest.json")}
        assert {f"{ds.id}_{p}.{ext}" for p in periods for ext in ("csv", "json")} <= names
        pkg = portal.package(ds.id.replace("_", "-"))
        assert pkg is not None and len(pkg["resources"]) == len(periods)
        assert "published" not in result  # the export task writes files; publish sends them
        published = exp["tasks"]["publish"]["result"]["published"]
        assert exp["tasks"]["publish"]["state"] == "success"
        assert published[ds.id]["pending"] == []
        rep = runner.run("serasan__muaraenim__report", LOGICAL)
        assert rep["state"] == "success", rep
        made = rep["tasks"]["report"]["result"]
        assert made["key"] == "reports/muaraenim/2026-10.html" and lake.exists(made["key"])

        engine = make_engine(s3_settings.warehouse_url)
        with engine.connect() as conn:
            lr = table("meta", "load_run", "postgresql")
            row = conn.execute(select(lr.c.dag_id, lr.c.run_id, lr.c.logical_date)).one()
        engine.dispose()
        assert row.dag_id == f"serasan__{ds.id}" and row.run_id == res["run_id"]
        assert row.logical_date == RUN_DATE
    finally:
        for key in [
            *s3_settings.as_env(),
            "SERASAN_CKAN_URL",
            "SERASAN_CKAN_TOKEN",
            "SERASAN_PII_KEY",
        ]:
            os.environ.pop(key, None)


def test_blocked_load_fails_the_dag_run(
    runner: Runner, catalog: Catalog, local_settings: Settings
) -> None:
    _use(local_settings)
    try:
        ds = catalog.dataset("muaraenim_produksi_karet")
        gen = generate_dataset(ds, catalog, defect_rate=0.3, seed=9)
        open_lake(local_settings).put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
        res = runner.run(f"serasan__{ds.id}", LOGICAL)
        assert res["state"] == "failed"
        assert res["tasks"]["load"]["state"] == "failed"
        assert res["tasks"]["extract"]["state"] == "success"
    finally:
        for key in local_settings.as_env():
            os.environ.pop(key, None)


def test_pulled_sources_run_through_their_dags(
    runner: Runner,
    catalog: Catalog,
    local_settings: Settings,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database DAG pulls from a real PostgreSQL, the API DAG from a real HTTP server."""
    import csv
    import io

    from sqlalchemy import Column, DateTime, MetaData, Table, Text, create_engine, insert

    from serasan.demo.sources import serve_api

    db_ds = catalog.dataset("muba_realisasi_pajak")
    api_ds = catalog.dataset("muaraenim_pengaduan_masyarakat")
    assert (db_ds.source.kind, api_ds.source.kind) == ("database", "api")
    gen = generate_dataset(db_ds, catalog, rows=30, fmt="csv", seed=6)
    rows = list(csv.DictReader(io.StringIO(gen.data.decode())))
    app = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    params = db_ds.source.params
    table = Table(
        params["table"],
        MetaData(),
        *[Column(c, Text) for c in db_ds.column_names],
        Column(params["watermark_column"], DateTime),
    )
    table.create(bind=app)
    yesterday = dt.datetime.combine(RUN_DATE - dt.timedelta(days=1), dt.time(9))
    with app.begin() as conn:
        conn.execute(insert(table), [{**r, params["watermark_column"]: yesterday} for r in rows])
        older = yesterday - dt.timedelta(days=3)
        conn.execute(
            insert(table), [{**rows[0], "jenis_pajak": "BPHTB", params["watermark_column"]: older}]
        )
    app.dispose()
    monkeypatch.setenv(f"SERASAN_CONN_{params['conn_id'].upper()}", pg_url)
    _use(local_settings)
    try:
        res = runner.run(f"serasan__{db_ds.id}", LOGICAL)
        assert res["state"] == "success", res
        [summary] = res["tasks"]["load"]["result"]
        assert summary["rows_in"] == len(rows)  # the older row is outside the interval
        assert summary["rows_loaded"] == len(rows) and summary["status"] == "loaded"

        with serve_api(api_ds, catalog, RUN_DATE, 0.0) as env:
            for key, value in env.items():
                monkeypatch.setenv(key, value)
            res = runner.run(f"serasan__{api_ds.id}", LOGICAL)
        assert res["state"] == "success", res
        [summary] = res["tasks"]["load"]["result"]
        assert summary["filename"].startswith("api-") and summary["rows_loaded"] > 0
        assert summary["rows_in"] == summary["rows_loaded"] + summary["rows_rejected"]
    finally:
        for key in local_settings.as_env():
            os.environ.pop(key, None)


@pytest.mark.parametrize("regencies_loaded", ["embedded"], indirect=True)
def test_kpi_dags_fill_every_kpi_and_report_dags_write_the_reports(
    runner: Runner, regencies_loaded: RunContext, tmp_path: Path
) -> None:
    """`dag.test()` of both regencies' KPI, export and report DAGs on a copy of the demo
    warehouse (every dataset loaded), with mart.kpi_value emptied first."""
    import shutil
    import sqlite3

    src = regencies_loaded
    with sqlite3.connect(src.engine.url.database) as a, sqlite3.connect(tmp_path / "wh.db") as b:
        a.backup(b)
    shutil.copytree(src.settings.lake_url, tmp_path / "lake")
    shutil.rmtree(tmp_path / "lake" / "reports")
    settings = Settings(
        lake_url=str(tmp_path / "lake"), warehouse_url=f"sqlite:///{tmp_path / 'wh.db'}"
    )
    engine = make_engine(settings.warehouse_url)
    mart = table("mart", "kpi_value", "sqlite")
    with engine.begin() as conn:
        conn.execute(mart.delete())
    _use(settings)
    try:
        for reg in src.catalog.regencies.values():
            res = runner.run(f"serasan__{reg.slug}__kpi", LOGICAL)
            assert res["state"] == "success", res
            exp = runner.run(f"serasan__{reg.slug}__export", LOGICAL)
            assert exp["state"] == "success", exp
            made = runner.run(f"serasan__{reg.slug}__report", LOGICAL)
            assert made["state"] == "success", made
            assert made["tasks"]["report"]["result"]["written"] is True
            key = f"reports/{reg.slug}/2026-10.html"
            assert (tmp_path / "lake" / key).read_bytes() == src.lake.get(key)
    finally:
        for key in settings.as_env():
            os.environ.pop(key, None)
    with engine.connect() as conn:
        valued = {
            r.kpi_code
            for r in conn.execute(select(mart.c.kpi_code).where(mart.c.value.is_not(None)))
        }
        got = [
            tuple(r)
            for r in conn.execute(
                select(mart).order_by(mart.c.kpi_code, mart.c.period, mart.c.kode_wilayah)
            )
        ]
    engine.dispose()
    assert valued == set(src.catalog.kpis)
    with src.engine.connect() as conn:
        want = [
            tuple(r)
            for r in conn.execute(
                select(mart).order_by(mart.c.kpi_code, mart.c.period, mart.c.kode_wilayah)
            )
        ]
    assert got == want  # the DAG computes exactly what the core computes
