"""Serasan run the way production runs it, every process on 127.0.0.1 (issue 8).

PostgreSQL holds Airflow's metadata and the warehouse (two databases), Redis is the Celery
broker, moto_server the S3 lake, aiosmtpd (with AUTH) the SMTP server and the fake CKAN the
Satu Data portal. Airflow's scheduler, dag-processor, api-server and triggerer run beside two
Celery workers, each worker reporting its own hostname. Through the REST API the test unpauses
and triggers Musi Banyuasin's DAGs (five spreadsheet inboxes with defects, one application
database), waits for them, and checks the warehouse, the quarantine, the alerts (outbox and
mailbox), the exports, the report, and that both workers ran tasks. It then SIGKILLs the
worker that is inside a load's warehouse transaction and shows that the run still completes on
the other worker, with the same rows as an uninterrupted run: nothing lost, nothing doubled.
Last, no configured password, key or token appears in any task log or process output.

Scheduling is the test's: `[scheduler] use_job_schedule` is off, so unpausing does not start
today's @daily runs and asset events do not start KPI/export runs behind its back; the test
triggers every run itself, for the logical date the demo uses (2026-11-01, Asia/Jakarta).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from serasan.common.paths import DAGS_DIR
from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.demo.generate import GeneratedFile, generate_dataset
from serasan.demo.sources import prepare_database
from serasan.lake.keys import inbox_prefix, opd_key
from serasan.lake.store import Lake, open_lake
from serasan.pipeline.handoff import load_id_for
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.tables import table
from tests.support.fake_ckan import FakeCkan
from tests.support.mail import SmtpServer
from tests.support.paths import REPO_ROOT
from tests.support.stack import HOSTNAME_ENV, Api, Stack, free_port, wait_for

REDIS_URL = os.environ.get("SERASAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
REGENCY, SLUG = "16.06", "musibanyuasin"
LOGICAL = "2026-11-01T00:00:00+07:00"  # the demo's run date; reports are for 2026-10
KILL_LOGICAL = "2026-11-02T00:00:00+07:00"
RUN_DATE, KILL_DATE = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
WORKERS = {"worker-a": "serasan-worker-a", "worker-b": "serasan-worker-b"}  # process: hostname
HEARTBEAT_TIMEOUT = 20  # [scheduler] task_instance_heartbeat_timeout (300 s by default)
DEFECT_RATE = 0.05
KILL_DATASET = "muba_event_sport_tourism"  # upsert on a sequence key: any number of rows
KILL_ROWS = 300_000  # a load that holds its warehouse transaction open for a few seconds
ADMIN = "serasan-admin"
REPO = REPO_ROOT


# ------------------------------------------------------------------------ services


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """The broker: fails (never skips) when Redis cannot be reached; its db is flushed."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
        error = None
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    if error:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}).\n"
            "The Celery integration test needs it as the broker. Start it (on this machine: "
            "`redis-server --daemonize yes --bind 127.0.0.1 --port 6379`, or "
            "`service redis-server start`) or point SERASAN_TEST_REDIS_URL at a Redis database "
            "this test may flush (redis://host:port/N).",
            pytrace=False,
        )
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@dataclasses.dataclass
class Deployment:
    stack: Stack
    api: Api
    catalog: Catalog
    settings: Settings
    lake: Lake
    engine: Engine
    smtp: SmtpServer
    ckan: FakeCkan
    secrets: dict[str, str]
    inputs: dict[str, GeneratedFile]  # the spreadsheets put in the inbox, by dataset
    db_rows: int  # rows in the application database of the pulled dataset
    home: Path

    @property
    def datasets(self) -> list[Dataset]:
        return sorted(self.catalog.datasets_of(REGENCY), key=lambda d: d.id)


def _create_db(admin: Engine, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return name


def _base_env() -> dict[str, str]:
    """This process's environment without Airflow's or Serasan's settings (conftest set some)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "SERASAN_", "PYTHONPATH"))
    }


@pytest.fixture(scope="module")
def deployment(
    redis_url: str,
    pg_server_url: str,
    s3_endpoint: str,
    catalog: Catalog,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    from cryptography.fernet import Fernet

    home = tmp_path_factory.mktemp("celery-stack")
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    af_db, wh_db = _create_db(admin, "serasan_af"), _create_db(admin, "serasan_wh")
    server = make_url(pg_server_url)
    # Trust auth ignores the password, but every process is given it, so the grep means something.
    secret = {
        name: f"{name}-{secrets.token_urlsafe(18)}"
        for name in (
            "s3-secret",
            "smtp-password",
            "pii-key",
            "ckan-token",
            "warehouse-password",
            "airflow-db-password",
            "airflow-admin-password",
            "jwt-secret",
            "api-secret-key",
        )
    }
    secret["fernet-key"] = Fernet.generate_key().decode()
    smtp = SmtpServer(free_port(), auth=("serasan-alerts", secret["smtp-password"])).start()
    ckan = FakeCkan(token=secret["ckan-token"]).start()
    stack = Stack(home, {})
    engine: Engine | None = None
    api: Api | None = None
    try:
        wh_url = server.set(
            drivername="postgresql", database=wh_db, password=secret["warehouse-password"]
        ).render_as_string(hide_password=False)
        settings = Settings(
            lake_url=f"s3://lake-{uuid.uuid4().hex[:10]}",
            warehouse_url=wh_url,
            s3_endpoint=s3_endpoint,
            s3_access_key="serasan-it",
            s3_secret_key=secret["s3-secret"],
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_user="serasan-alerts",
            smtp_password=secret["smtp-password"],
            smtp_from="serasan@musibanyuasinkab.go.id",
            smtp_starttls=False,  # aiosmtpd here has no certificate; AUTH over loopback
            engineer_email="engineers@serasan.test",
            ckan_url=ckan.url,
            ckan_token=secret["ckan-token"],
            pii_key=secret["pii-key"],
        )
        pulled = [d for d in catalog.datasets_of(REGENCY) if d.source.kind != "spreadsheet"]
        assert [d.source.kind for d in pulled] == ["database"], "Musi Banyuasin's sources changed"
        conn_env = prepare_database(pulled[0], catalog, home / "apps", RUN_DATE, DEFECT_RATE)
        db_rows = (
            len(
                generate_dataset(pulled[0], catalog, fmt="csv", defect_rate=DEFECT_RATE, seed=42)
                .data.decode()
                .splitlines()
            )
            - 1
        )

        api_port = free_port()
        af_url = server.set(
            drivername="postgresql+psycopg2", database=af_db, password=secret["airflow-db-password"]
        )
        (home / "passwords.json").write_text(json.dumps({ADMIN: secret["airflow-admin-password"]}))
        stack.env = {
            **_base_env(),
            **settings.as_env(),
            **conn_env,
            "PYTHONPATH": str(REPO),  # the workers import tests.support.stack for their hostname
            "GX_ANALYTICS_ENABLED": "false",
            "SERASAN_TASK_RETRIES": "2",
            "SERASAN_RETRY_DELAY_SECONDS": "5",
            "SERASAN_REQUIRE_CONNECTIONS": "true",  # as docker/compose.yaml: no embedded defaults
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__FERNET_KEY": secret["fernet-key"],
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": af_url.render_as_string(hide_password=False),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "1",  # 2 cores
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__API__SECRET_KEY": secret["api-secret-key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": secret["jwt-secret"],
            "AIRFLOW__CELERY__BROKER_URL": redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + af_url.render_as_string(hide_password=False),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",  # 2 cores
            # a queue of this run's own, should another stack share the Redis database
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"serasan-it-{uuid.uuid4().hex[:8]}",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
        with stack.explained():
            stack.start("migrate", "db", "migrate")
            # while Airflow migrates: the OPDs' spreadsheets, with defects, into their inboxes
            lake = open_lake(settings)
            inputs = {}
            for ds in catalog.datasets_of(REGENCY):
                if ds.source.kind == "spreadsheet":
                    gen = generate_dataset(ds, catalog, defect_rate=DEFECT_RATE, seed=8)
                    lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
                    inputs[ds.id] = gen
            stack.finish("migrate")
            for name in ("scheduler", "dag-processor", "triggerer"):
                stack.start(name, name)
            stack.start("api-server", "api-server", "--workers", "1")
            queue = stack.env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
            for name, host in WORKERS.items():
                stack.start(
                    name,
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"{host}@%h",
                    "--concurrency",
                    "2",
                    "--queues",
                    queue,
                    env={
                        HOSTNAME_ENV: host,
                        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.support.stack.stack_hostname",
                        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                    },
                )
            api = Api(f"http://127.0.0.1:{api_port}", ADMIN, secret["airflow-admin-password"])

            def healthy() -> bool:
                stack.check_alive()
                got = api.health()
                return all(
                    got.get(c, {}).get("status") == "healthy"
                    for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")
                )

            wait_for(
                "the api-server, scheduler, triggerer and dag-processor to be healthy",
                healthy,
                180,
                every=1,
            )
            for name in WORKERS:
                stack.wait_log(name, " ready.", 120)
            api.login()
            expected = {f"serasan__{d.id}" for d in catalog.datasets_of(REGENCY)} | {
                f"serasan__{SLUG}__kpi",
                f"serasan__{SLUG}__export",
                f"serasan__{SLUG}__report",
                f"serasan__{SLUG}__evaluation",  # yearly: stays paused in this run
            }
            wait_for(
                "the dag-processor to parse Musi Banyuasin's DAGs",
                lambda: set(api.dag_ids(SLUG)) == expected,
                120,
                every=1,
            )
            errors = api.get("/importErrors")
            assert errors["total_entries"] == 0, errors
            engine = make_engine(wh_url)
            yield Deployment(
                stack=stack,
                api=api,
                catalog=catalog,
                settings=settings,
                lake=lake,
                engine=engine,
                smtp=smtp,
                ckan=ckan,
                secrets=secret,
                inputs=inputs,
                db_rows=db_rows,
                home=home,
            )
    finally:
        stack.stop()
        if api is not None:
            api.close()
        if engine is not None:
            engine.dispose()
        smtp.stop()
        ckan.stop()
        with admin.connect() as conn:
            for name in (af_db, wh_db):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ------------------------------------------------------------------------ the regency's run


def _run_id(dag_id: str, tag: str) -> str:
    return f"serasan-it-{tag}-{dag_id.removeprefix('serasan__')}"


@pytest.fixture(scope="module")
def regency_run(deployment: Deployment) -> dict[str, Any]:
    """Unpause and trigger every DAG of the regency through the REST API; wait for each.
    Returns {dag_id: {"run_id", "state", "tis"}}."""
    d = deployment
    api = d.api
    dataset_dags = [f"serasan__{ds.id}" for ds in d.datasets]
    regency_dags = [f"serasan__{SLUG}__kpi", f"serasan__{SLUG}__export", f"serasan__{SLUG}__report"]
    out: dict[str, Any] = {}
    with d.stack.explained():
        for dag_id in dataset_dags + regency_dags:
            api.unpause(dag_id)
        started = time.monotonic()
        for dag_id in dataset_dags:
            api.trigger(dag_id, _run_id(dag_id, "run"), LOGICAL)
        # the KPIs and the exports read every dataset, the report the KPIs: one after another
        stages = [dataset_dags, regency_dags[:2], regency_dags[2:]]
        for i, stage in enumerate(stages):
            if i:
                for dag_id in stage:
                    api.trigger(dag_id, _run_id(dag_id, "run"), LOGICAL)
            states = api.wait_runs([(g, _run_id(g, "run")) for g in stage], 300, d.stack)
            for (dag_id, run_id), state in states.items():
                out[dag_id] = {
                    "run_id": run_id,
                    "state": state,
                    "tis": api.task_instances(dag_id, run_id),
                }
        print(f"\nthe regency's {len(out)} DAG runs took {time.monotonic() - started:.0f} s")
    return out


def test_the_regencys_dags_succeed_through_the_rest_api(
    deployment: Deployment, regency_run: dict[str, Any]
) -> None:
    with deployment.stack.explained():
        failed = {
            dag_id: [(t["task_id"], t["state"]) for t in r["tis"]]
            for dag_id, r in regency_run.items()
            if r["state"] != "success" or any(t["state"] != "success" for t in r["tis"])
        }
        assert failed == {}
        for dag_id, r in regency_run.items():
            want = (
                ["extract", "parse", "validate", "load", "notify"]
                if dag_id.count("__") == 1
                else ["compute"]
                if dag_id.endswith("__kpi")
                else ["report"]
                if dag_id.endswith("__report")
                else ["export", "publish"]
            )
            assert sorted(t["task_id"] for t in r["tis"]) == sorted(want), dag_id
            assert all(
                t["executor"] in (None, "CeleryExecutor") and t["queue"] for t in r["tis"]
            ), r["tis"]
        # each load announced its asset: the KPI and export DAGs are scheduled on these
        for ds in deployment.datasets:
            events = deployment.api.get("/assets/events", source_dag_id=f"serasan__{ds.id}")
            assert events["total_entries"] == 1, (ds.id, events)
        # and the KPI DAG its regency's KPI asset, on which the report DAG is scheduled
        events = deployment.api.get("/assets/events", source_dag_id=f"serasan__{SLUG}__kpi")
        assert events["total_entries"] >= 1, events


def test_tasks_ran_on_both_workers(deployment: Deployment, regency_run: dict[str, Any]) -> None:
    with deployment.stack.explained():
        hosts = [t["hostname"] for r in regency_run.values() for t in r["tis"]]
        assert set(hosts) == set(WORKERS.values()), hosts
        print({h: hosts.count(h) for h in sorted(set(hosts))})


def _load_runs(engine: Engine, dataset_id: str) -> list[dict[str, Any]]:
    lr = table("meta", "load_run", engine.dialect.name)
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(lr).where(lr.c.dataset_id == dataset_id).order_by(lr.c.load_id)
            ).mappings()
        ]


def _count(engine: Engine, t: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()


def test_warehouse_quarantine_alerts_and_exports_hold_what_they_should(
    deployment: Deployment, regency_run: dict[str, Any]
) -> None:
    d = deployment
    engine, lake, catalog = d.engine, d.lake, d.catalog
    dialect = engine.dialect.name
    with d.stack.explained():
        al = table("meta", "alert", dialect)
        dl = table("meta", "alert_delivery", dialect)
        quarantined = 0
        for ds in d.datasets:
            [lr] = _load_runs(engine, ds.id)  # one file each, one load each
            expected_in = d.inputs[ds.id].rows if ds.id in d.inputs else d.db_rows
            assert lr["rows_in"] == expected_in, (ds.id, lr)
            assert lr["rows_in"] == lr["rows_loaded"] + lr["rows_rejected"], lr
            assert lr["dag_id"] == f"serasan__{ds.id}" and lr["logical_date"] == RUN_DATE
            assert lr["run_id"] == regency_run[f"serasan__{ds.id}"]["run_id"]
            fact = fact_table(ds, dialect)
            assert _count(engine, fact) == lr["rows_loaded"] > 0, ds.id
            assert _count(engine, fact, fact.c.load_id == lr["load_id"]) == lr["rows_loaded"]
            if ds.id in d.inputs:
                assert lr["load_id"] == load_id_for(
                    ds, hashlib.sha256(d.inputs[ds.id].data).hexdigest()
                )
            alerts = _count(engine, al, al.c.load_id == lr["load_id"])
            if lr["rows_rejected"]:
                quarantined += 1
                assert lr["status"] == "quarantined", lr
                key = lr["quarantine_key"]
                assert key == f"quarantine/{ds.id}/{lr['sha256']}/ditolak.csv", lr
                assert lake.exists(key) and lake.exists(key.removesuffix(".csv") + ".xlsx")
                rejected = lake.get(key).decode("utf-8-sig").splitlines()
                assert len(rejected) >= 2, rejected[:3]  # a header, then the rows
                assert alerts == 1, ds.id
                assert lake.exists(f"alerts/{opd_key(catalog, ds)}/{ds.id}/{lr['sha256'][:16]}.txt")
            else:
                assert lr["status"] == "loaded" and alerts == 0, lr
        assert quarantined >= 3, "the defects should have sent rows to quarantine"

        # the outbox was drained by each DAG's notify task: every e-mail delivered, once
        with engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    select(dl.c.alert_id, dl.c.channel, dl.c.recipient, dl.c.status).where(
                        dl.c.channel == "email"
                    )
                ).mappings()
            ]
        assert rows and all(r["status"] == "sent" for r in rows), rows
        assert len(d.smtp.box.messages) == len(rows)
        assert {r["recipient"] for r in rows} == {
            a for rcpts, _ in d.smtp.box.messages for a in rcpts
        }

        # KPIs, exports (lake, warehouse, portal) and the month's report
        kv = table("mart", "kpi_value", dialect)
        assert _count(engine, kv, kv.c.value.is_not(None)) > 0
        ex = table("meta", "export_run", dialect)
        with engine.connect() as conn:
            exported = {r.dataset_id for r in conn.execute(select(ex.c.dataset_id).distinct())}
        assert exported and exported <= {ds.id for ds in d.datasets}
        for ds_id in exported:
            keys = lake.list(f"exports/{SLUG}/{ds_id}/")
            assert any(k.endswith("/manifest.json") for k in keys), (ds_id, keys)
            pkg = d.ckan.package(ds_id.replace("_", "-"))
            assert pkg is not None and pkg["resources"], ds_id
        result = next(
            t for t in regency_run[f"serasan__{SLUG}__report"]["tis"] if t["task_id"] == "report"
        )
        assert result["state"] == "success"
        assert lake.exists(f"reports/{SLUG}/2026-10.html")


# ------------------------------------------------------------------------ a worker dies


def _open_transactions(engine: Engine) -> list[dict[str, Any]]:
    """Other sessions inside a transaction on the warehouse database, right now."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text(
                    "SELECT pid, state, backend_xid::text AS xid, left(query, 120) AS query "
                    "FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend' AND xact_start IS NOT NULL "
                    "AND state <> 'idle'"
                )
            ).mappings()
        ]


def _reference(
    catalog: Catalog, ds: Dataset, files: list[tuple[dt.date, GeneratedFile]], work: Path
) -> tuple[list[tuple], tuple]:
    """The same files through the same pipeline in this process, uninterrupted (folder lake,
    SQLite warehouse): the load records and the fact table's totals they should give."""
    settings = Settings(lake_url=str(work / "lake"), warehouse_url=f"sqlite:///{work / 'wh.db'}")
    engine = make_engine(settings.warehouse_url)
    upgrade(engine, catalog)
    for day, gen in files:
        ctx = RunContext(
            settings=settings,
            catalog=catalog,
            run_date=day,
            dag_id="reference",
            run_id=f"reference-{day}",
            _engine=engine,
        )
        ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
        run_dataset(ctx, ds)
    got = _facts(engine, ds), _fact_totals(engine, ds)
    engine.dispose()
    return got


def _facts(engine: Engine, ds: Dataset) -> list[tuple]:
    return [
        (r["sha256"], r["status"], r["rows_in"], r["rows_loaded"], r["rows_rejected"])
        for r in sorted(_load_runs(engine, ds.id), key=lambda r: r["sha256"])
    ]


def _fact_totals(engine: Engine, ds: Dataset) -> tuple:
    fact = fact_table(ds, engine.dialect.name)
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                select(
                    func.count(),
                    func.count(func.distinct(fact.c.kode_event)),
                    func.sum(fact.c.jumlah_peserta),
                    func.sum(fact.c.jumlah_pengunjung),
                )
            ).one()
        )


@pytest.fixture(scope="module")
def killed_run(deployment: Deployment, regency_run: dict[str, Any]) -> dict[str, Any]:
    """A big file for one dataset; its run is triggered, and the worker running its `load` is
    SIGKILLed (its whole process tree) while the load's warehouse transaction is open."""
    d = deployment
    api, stack = d.api, d.stack
    ds = d.catalog.dataset(KILL_DATASET)
    dag_id, run_id = f"serasan__{ds.id}", "serasan-it-kill"
    with stack.explained():
        big = dataclasses.replace(
            generate_dataset(ds, d.catalog, rows=KILL_ROWS, fmt="csv", defect_rate=0.01, seed=31),
            filename="event-besar.csv",
        )
        d.lake.put(inbox_prefix(d.catalog, ds) + big.filename, big.data)
        api.trigger(dag_id, run_id, KILL_LOGICAL)

        def load_ti() -> dict[str, Any]:
            ti = next(t for t in api.task_instances(dag_id, run_id) if t["task_id"] == "load")
            if ti["state"] in ("success", "failed", "upstream_failed"):
                pytest.fail(
                    f"the load finished ({ti['state']}) before it could be killed inside "
                    f"its transaction: raise KILL_ROWS ({KILL_ROWS})",
                    pytrace=False,
                )
            return ti

        def load_running() -> dict[str, Any] | None:
            stack.check_alive()
            ti = load_ti()
            return ti if ti["state"] == "running" and ti["hostname"] else None

        ti = wait_for("the load task to run", load_running, 240, every=0.3)
        host = ti["hostname"]

        def writing() -> list[dict[str, Any]] | None:
            """The load's transaction once it has written to the warehouse (has an xid)."""
            for _ in range(40):
                if txn := [t for t in _open_transactions(d.engine) if t["xid"]]:
                    return txn
                time.sleep(0.05)
            load_ti()  # raises if the load finished without being caught in its transaction
            return None

        txn = wait_for("the load's warehouse transaction to write", writing, 120, every=0)
        victim = next(name for name, h in WORKERS.items() if h == host)
        pids = stack.kill(victim)
        killed_at = time.monotonic()
        print(f"\nSIGKILLed {victim} ({host}), {len(pids)} processes, inside {txn}")
        wait_for(
            "the killed load's transaction to be rolled back",
            lambda: _open_transactions(d.engine) == [],
            30,
        )
        [state] = api.wait_runs([(dag_id, run_id)], HEARTBEAT_TIMEOUT + 240, stack).values()
        print(f"the run finished {time.monotonic() - killed_at:.0f} s after the kill: {state}")
        survivor = next(h for h in WORKERS.values() if h != host)
        return {
            "dag_id": dag_id,
            "run_id": run_id,
            "state": state,
            "big": big,
            "host": host,
            "survivor": survivor,
            "tis": api.task_instances(dag_id, run_id),
            "tries": api.tries(dag_id, run_id, "load"),
        }


def test_a_worker_killed_mid_load_loses_and_doubles_nothing(
    deployment: Deployment, killed_run: dict[str, Any], tmp_path: Path
) -> None:
    d = deployment
    ds = d.catalog.dataset(KILL_DATASET)
    with d.stack.explained():
        assert killed_run["state"] == "success", killed_run["tis"]
        assert all(t["state"] == "success" for t in killed_run["tis"]), killed_run["tis"]
        tries = killed_run["tries"]
        assert len(tries) >= 2, tries
        assert (tries[0]["hostname"], tries[-1]["hostname"]) == (
            killed_run["host"],
            killed_run["survivor"],
        ), tries
        assert tries[0]["state"] != "success" and tries[-1]["state"] == "success", tries
        later = [t for t in killed_run["tis"] if t["task_id"] == "notify"]
        assert [t["hostname"] for t in later] == [killed_run["survivor"]]

        big = killed_run["big"]
        sha = hashlib.sha256(big.data).hexdigest()
        runs = {r["sha256"]: r for r in _load_runs(d.engine, ds.id)}
        assert len(runs) == 2, runs  # the regency run's file and the big one: no third, no twin
        lr = runs[sha]
        assert lr["run_id"] == killed_run["run_id"] and lr["logical_date"] == KILL_DATE
        assert lr["rows_in"] == big.rows == lr["rows_loaded"] + lr["rows_rejected"], lr
        fact = fact_table(ds, d.engine.dialect.name)
        assert _count(d.engine, fact, fact.c.load_id == lr["load_id"]) == lr["rows_loaded"]

        got = _facts(d.engine, ds), _fact_totals(d.engine, ds)
        want = _reference(d.catalog, ds, [(RUN_DATE, d.inputs[ds.id]), (KILL_DATE, big)], tmp_path)
        assert got == want  # the same loads and the same facts as a run nobody interrupted
        count, distinct = got[1][:2]
        assert count == distinct  # the key is unique: nothing doubled


# ------------------------------------------------------------------------ secrets


def test_logs_hold_no_secrets(
    deployment: Deployment, regency_run: dict[str, Any], killed_run: dict[str, Any]
) -> None:
    """Every task log of the run (both workers, every try) and every process's output."""
    d = deployment
    with d.stack.explained():
        task_logs = sorted((d.home / "logs").rglob("*.log"))
        dags = {p.relative_to(d.home / "logs").parts[0] for p in task_logs}
        assert {f"dag_id=serasan__{ds.id}" for ds in d.datasets} <= dags, dags
        assert any("attempt=2" in str(p) for p in task_logs)  # the killed load's retry
        files = task_logs + sorted(d.stack.logs.glob("*.log"))
        values = dict(d.secrets)
        # a password can also travel base64-encoded (SMTP AUTH PLAIN, HTTP basic auth)
        values["smtp-auth-plain"] = base64.b64encode(
            f"\0serasan-alerts\0{d.secrets['smtp-password']}".encode()
        ).decode()
        leaks = []
        for path in files:
            body = path.read_text(errors="replace")
            leaks += [f"{name} in {path}" for name, v in values.items() if v in body]
        assert leaks == []
        assert len(files) > 30 and sum(p.stat().st_size for p in files) > 100_000
        print(f"\n{len(files)} log files, none with any of {len(values)} secret values")
        assert re.search(
            r"serasan-worker-[ab]",
            "".join(p.read_text(errors="replace") for p in d.stack.logs.glob("worker-*.log")),
        )
