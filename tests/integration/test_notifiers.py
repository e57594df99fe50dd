"""Alerts through Airflow itself (`dag.test()`): the dataset DAGs' `notify` task, the engineers'
failure callback, the daily `serasan__alerts` DAG, and settings from Airflow connections."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from airflow.sdk import DAG
from sqlalchemy import select

from serasan.alerts.freshness import opds_with_datasets
from serasan.config.catalog import Catalog, load_catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.lake.store import open_lake
from serasan.operators.notifiers import (
    EngineerAlertNotifier,
    SerasanEmailNotifier,
    delivery_env,
    failure_info,
    settings_for_alerts,
)
from serasan.operators.runner import Runner
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.tables import table
from tests.support.mail import Mailbox, SmtpServer, deliveries, with_smtp
from tests.support.services import free_port
from tests.support.warehouse import RUN_DATE

JAKARTA = ZoneInfo("Asia/Jakarta")
LOGICAL = dt.datetime.combine(RUN_DATE, dt.time(), tzinfo=JAKARTA)
ENGINEER = "data-eng@serasan.go.id"


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner(Path(os.environ["AIRFLOW_HOME"]))


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Callable[[Settings], None]:
    """Point the DAG runs at these settings through the environment, as a deployment would."""

    def apply(settings: Settings) -> None:
        for key, value in settings.as_env().items():
            monkeypatch.setenv(key, value)

    return apply


def test_dags_notify_after_every_load_and_alert_engineers_on_failure(
    runner: Runner, catalog: Catalog
) -> None:
    for ds in catalog.datasets.values():
        dag = runner.bag.get_dag(f"serasan__{ds.id}")
        assert [t.task_id for t in dag.topological_sort()] == [
            "extract",
            "parse",
            "validate",
            "load",
            "notify",
        ]
        notify = dag.get_task("notify")
        # a teardown with no setup: runs when the load is done, whatever its state, and leaves
        # the run's state to the load (a blocked load still fails the run)
        assert notify.is_teardown and notify.upstream_task_ids == {"load"}
        assert str(notify.trigger_rule) in (
            "all_done_setup_success",
            "TriggerRule.ALL_DONE_SETUP_SUCCESS",
        )
        assert not any(t.is_setup for t in dag.tasks)
    for dag_id in runner.dag_ids:
        for t in runner.bag.get_dag(dag_id).tasks:
            assert any(isinstance(cb, EngineerAlertNotifier) for cb in t.on_failure_callback), (
                dag_id,
                t.task_id,
            )
    alerts = runner.bag.get_dag("serasan__alerts")
    assert {t.task_id for t in alerts.tasks} == {
        "dag_files",
        "freshness",
        "digest",
        "drain",
        "watch_outbox",
    }
    assert alerts.get_task("drain").is_teardown
    assert alerts.get_task("drain").upstream_task_ids == {"dag_files", "freshness", "digest"}
    assert alerts.get_task("watch_outbox").upstream_task_ids == {"drain"}
    assert "alerts" in alerts.tags and alerts.catchup is False


def _quarantine_rows(lake: object, key: str) -> set[int]:
    return {int(r["baris"]) for r in csv.DictReader(io.StringIO(lake.get(key).decode()))}


def test_end_to_end_dataset_dag_quarantines_records_and_alerts_once(
    runner: Runner,
    catalog: Catalog,
    settings: Settings,
    smtp: SmtpServer,
    use: Callable[[Settings], None],
) -> None:
    """The issue's "done when": injected defects are quarantined row for row, the counts are
    recorded, the OPD's alert reaches the SMTP server, and a re-run does not send it again."""
    settings = with_smtp(settings, smtp.port, engineer_email=ENGINEER)
    use(settings)
    ds = catalog.dataset("muaraenim_penerima_bansos")
    gen = generate_dataset(ds, catalog, rows=60, defect_rate=0.2, seed=5, fmt="csv")
    clean = generate_dataset(ds, catalog, rows=60, seed=5, fmt="csv")
    # spreadsheet row numbers (the header is row 1) of the rows the defects changed
    defective = {
        n
        for n, (a, b) in enumerate(
            zip(gen.data.decode().splitlines(), clean.data.decode().splitlines(), strict=True),
            start=1,
        )
        if a != b
    }
    assert defective and "duplicate_key" not in gen.defects
    lake = open_lake(settings)
    lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)

    res = runner.run(f"serasan__{ds.id}", LOGICAL)
    assert res["state"] == "success", res
    [summary] = res["tasks"]["load"]["result"]
    assert summary["status"] == "quarantined"
    assert summary["rows_in"] == gen.rows == summary["rows_loaded"] + summary["rows_rejected"]
    assert _quarantine_rows(lake, summary["quarantine_key"]) == defective  # the right rows
    assert summary["rows_rejected"] == len(defective)
    engine = make_engine(settings.warehouse_url)
    with engine.connect() as conn:
        lr = table("meta", "load_run", engine.dialect.name)
        counts = conn.execute(
            select(lr.c.rows_in, lr.c.rows_loaded, lr.c.rows_rejected, lr.c.run_id)
        ).one()
    engine.dispose()
    assert tuple(counts) == (gen.rows, summary["rows_loaded"], len(defective), res["run_id"])

    assert res["tasks"]["notify"]["state"] == "success"
    assert res["tasks"]["notify"]["result"]["sent"] == 1
    [msg] = smtp.box.to("dinsos@muaraenimkab.go.id")
    assert msg["Subject"] == (
        f"[Serasan] {ds.title}: {len(defective)} dari {gen.rows} baris ditolak (quarantined)"
    )
    body = Mailbox.text(msg)
    assert lake.location(summary["quarantine_key"]) in body
    assert "1603**********" in body  # NIK masked in the examples
    assert smtp.box.to(ENGINEER) == []  # nothing failed

    again = runner.run(f"serasan__{ds.id}", LOGICAL)  # a re-run of the DAG
    assert again["state"] == "success" and again["tasks"]["notify"]["result"]["sent"] == 0
    lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)  # the same file once more
    third = runner.run(f"serasan__{ds.id}", LOGICAL + dt.timedelta(days=1))
    assert third["state"] == "success" and third["tasks"]["load"]["result"] == []
    assert len(smtp.box.messages) == 1


def test_blocked_load_alerts_engineers_but_never_the_opd(
    runner: Runner,
    catalog: Catalog,
    local_settings: Settings,
    smtp: SmtpServer,
    use: Callable[[Settings], None],
) -> None:
    settings = with_smtp(local_settings, smtp.port, engineer_email=ENGINEER)
    use(settings)
    ds = catalog.dataset("muaraenim_produksi_karet")  # policy: block
    gen = generate_dataset(ds, catalog, defect_rate=0.3, seed=9)
    open_lake(settings).put(inbox_prefix(catalog, ds) + gen.filename, gen.data)

    res = runner.run(f"serasan__{ds.id}", LOGICAL)
    assert res["state"] == "failed"  # the load's failure is the run's, notify or not
    assert res["tasks"]["load"]["state"] == "failed"
    assert res["tasks"]["notify"]["state"] == "success"
    assert res["tasks"]["notify"]["result"]["sent"] == 1  # the OPD's data-quality alert

    [eng] = smtp.box.to(ENGINEER)
    assert eng["Subject"] == f"[Serasan] task failed: serasan__{ds.id}.load ({res['run_id']})"
    body = Mailbox.text(eng)
    assert f"DAG:          serasan__{ds.id}" in body and "task:         load" in body
    assert f"run id:       {res['run_id']}" in body
    assert f"/dags/serasan__{ds.id}/runs/" in body and "/tasks/load" in body  # log URL
    assert f"dag_id=serasan__{ds.id}/run_id={res['run_id']}/task_id=load/attempt=" in body
    assert "AirflowFailException" in body and "nothing loaded" in body

    [opd] = smtp.box.to("disbun@muaraenimkab.go.id")
    assert "TIDAK ADA baris yang dimuat" in Mailbox.text(opd)  # the blocked-load alert...
    for rcpts, msg in smtp.box.messages:  # ...and no pipeline error reaches an OPD
        if ENGINEER not in rcpts:
            assert "task failed" not in msg["Subject"]
            assert "/tasks/load" not in Mailbox.text(msg)
    assert all(
        rcpts == [ENGINEER] for rcpts, m in smtp.box.messages if "task failed" in m["Subject"]
    )

    # run again: the file is known (blocked is final until a fix arrives), nothing is resent
    again = runner.run(f"serasan__{ds.id}", LOGICAL)
    assert again["state"] == "success" and again["tasks"]["notify"]["result"]["sent"] == 0
    assert len(smtp.box.to(ENGINEER)) == 1 and len(smtp.box.messages) == 2


def test_failure_callback_with_a_realistic_context(
    local_settings: Settings,
    smtp: SmtpServer,
    use: Callable[[Settings], None],
) -> None:
    """The callback as the task runner calls it: once per task and run, secrets scrubbed."""
    use(with_smtp(local_settings, smtp.port, engineer_email=ENGINEER))
    engine = make_engine(local_settings.warehouse_url)
    upgrade(engine, load_catalog())
    engine.dispose()
    ti = SimpleNamespace(
        dag_id="serasan__muba_cctv_kita",
        task_id="extract",
        run_id="scheduled__2026-11-01T00:00:00+07:00",
        try_number=3,
        map_index=-1,
        log_url="http://airflow:8080/dags/serasan__muba_cctv_kita/"
        "runs/scheduled__2026-11-01/tasks/extract",
    )
    error = RuntimeError("could not reach postgresql://serasan:hunter2@db:5432/app")
    context = {
        "ti": ti,
        "task_instance": ti,
        "dag": DAG(dag_id=ti.dag_id, schedule=None),
        "run_id": ti.run_id,
        "logical_date": LOGICAL,
        "exception": error,
    }
    info = failure_info(context)
    assert info["try_number"] == 3 and info["log_url"] == ti.log_url
    assert info["log_path"].endswith(
        f"dag_id={ti.dag_id}/run_id={ti.run_id}/task_id=extract/attempt=3.log"
    )
    assert "hunter2" not in info["error"] and "serasan:***@db" in info["error"]

    EngineerAlertNotifier()(context)
    EngineerAlertNotifier()(context)  # called again for the same task and run: not resent
    [msg] = smtp.box.to(ENGINEER)
    assert msg["Subject"] == f"[Serasan] task failed: {ti.dag_id}.extract ({ti.run_id})"
    body = Mailbox.text(msg)
    assert ti.log_url in body and "attempt=3.log" in body and "hunter2" not in body
    assert [r for r, _ in smtp.box.messages] == [[ENGINEER]]


def test_alerts_dag_sends_reminders_and_digests_once(
    runner: Runner,
    catalog: Catalog,
    local_settings: Settings,
    smtp: SmtpServer,
    use: Callable[[Settings], None],
) -> None:
    """`serasan__alerts` on 11 November with nothing delivered: every OPD is late and gets its
    digest. October is one day late (the walidata is not told yet); Q3 and 2025 are weeks late,
    so those OPDs' reminders go to the walidata too. A re-run of the day sends nothing."""
    use(with_smtp(local_settings, smtp.port, engineer_email=ENGINEER))
    logical = dt.datetime(2026, 11, 11, tzinfo=JAKARTA)
    res = runner.run("serasan__alerts", logical)
    assert res["state"] == "success", res
    opds = opds_with_datasets(catalog)
    assert len(res["tasks"]["freshness"]["result"]) == len(opds)
    assert len(res["tasks"]["digest"]["result"]) == len(opds)
    overdue = [o for _, o, dss in opds if any(d.cadence != "monthly" for d in dss)]
    assert len(overdue) == 3  # Disbun x 2 (yearly), Ortala (quarterly)
    sent = 2 * len(opds) + len(overdue)
    assert res["tasks"]["drain"]["result"]["sent"] == sent
    subjects = [m["Subject"] for _, m in smtp.box.messages]
    assert sum(s.startswith("[Serasan] Data terlambat: ") for s in subjects) == len(opds) + len(
        overdue
    )
    assert sum(
        s.startswith("[Serasan] Ringkasan harian ") and s.endswith(", 11 November 2026")
        for s in subjects
    ) == len(opds)
    [late] = [
        m for m in smtp.box.to("data.dlh@musibanyuasinkab.go.id") if "terlambat" in m["Subject"]
    ]
    assert (
        "data periode Oktober 2026, batas kirim 10 November 2026, terlambat 1 hari"
        in Mailbox.text(late)
    )
    assert res["tasks"]["watch_outbox"]["result"]["stuck"] == 0
    walidata = smtp.box.to("satudata@muaraenimkab.go.id") + smtp.box.to(
        "satudata@musibanyuasinkab.go.id"
    )  # the regencies' walidata_email in the catalog
    assert sum("walidata (" in Mailbox.text(m) for m in walidata) == len(overdue)
    assert smtp.box.to(ENGINEER) == []

    again = runner.run("serasan__alerts", logical)
    assert again["state"] == "success" and again["tasks"]["drain"]["result"]["sent"] == 0
    assert len(smtp.box.messages) == sent


def test_delivery_settings_from_airflow_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_SERASAN_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "mail.muaraenimkab.go.id",
                "port": 587,
                "login": "serasan",
                "password": "smtp-s3cret",
                "extra": {
                    "from": "serasan@muaraenimkab.go.id",
                    "starttls": True,
                    "engineer_email": ENGINEER,
                },
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_SERASAN_WEBHOOK",
        json.dumps(
            {
                "conn_type": "http",
                "host": "https://wa-gateway.muaraenimkab.go.id/hooks/serasan",
                "password": "hook-t0ken",
            }
        ),
    )
    s = settings_for_alerts({})
    assert (s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password) == (
        "mail.muaraenimkab.go.id",
        587,
        "serasan",
        "smtp-s3cret",
    )
    assert s.smtp_from == "serasan@muaraenimkab.go.id" and s.starttls
    assert s.engineer_email == ENGINEER
    assert s.webhook_url == "https://wa-gateway.muaraenimkab.go.id/hooks/serasan"
    assert s.webhook_token == "hook-t0ken"
    for text in (repr(s), s.describe()):
        assert "smtp-s3cret" not in text and "hook-t0ken" not in text
    # the environment wins over a connection
    env = delivery_env({"SERASAN_SMTP_HOST": "relay.local", "SERASAN_WEBHOOK_URL": "http://x/y"})
    assert env["SERASAN_SMTP_HOST"] == "relay.local" and "SERASAN_SMTP_PASSWORD" not in env
    assert env["SERASAN_WEBHOOK_URL"] == "http://x/y" and "SERASAN_WEBHOOK_TOKEN" not in env


def test_email_notifier_renders_and_sends(
    local_settings: Settings,
    smtp: SmtpServer,
    use: Callable[[Settings], None],
) -> None:
    use(with_smtp(local_settings, smtp.port))
    notifier = SerasanEmailNotifier(
        to="walidata@muaraenimkab.go.id",
        subject="[Serasan] ekspor {{ ds }} selesai",
        body="Run {{ run_id }} selesai.",
    )
    notifier({"run_id": "manual__1", "ds": "2026-11-01"})
    [msg] = smtp.box.to("walidata@muaraenimkab.go.id")
    assert msg["Subject"] == "[Serasan] ekspor 2026-11-01 selesai"
    assert Mailbox.text(msg).strip() == "Run manual__1 selesai."


def test_smtp_down_never_fails_the_dag_run(
    runner: Runner, catalog: Catalog, local_settings: Settings, use: Callable[[Settings], None]
) -> None:
    """Mail down during the run: load and run succeed, the alert waits in the outbox."""
    port = free_port()  # nothing listens
    use(with_smtp(local_settings, port))
    ds = catalog.dataset("muba_bank_sampah")
    gen = generate_dataset(ds, catalog, rows=40, defect_rate=0.2, seed=7)
    open_lake(local_settings).put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    res = runner.run(f"serasan__{ds.id}", LOGICAL)
    assert res["state"] == "success" and res["tasks"]["load"]["state"] == "success"
    assert res["tasks"]["notify"]["state"] == "success"
    notified = res["tasks"]["notify"]["result"]
    assert (notified["sent"], notified["retrying"]) == (0, 1)
    assert f"127.0.0.1:{port}" in notified["errors"][0]
    engine = make_engine(local_settings.warehouse_url)
    [row] = deliveries(engine)
    engine.dispose()
    assert (row["status"], row["attempts"]) == ("pending", 1) and row["last_error"]


def test_a_dag_file_that_fails_to_import_reaches_the_engineers(
    tmp_path: Path, local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Break the catalog: serasan_dags.py no longer imports; the check names file and error."""
    import shutil

    from serasan.admin.dagcheck import check_dag_files
    from serasan.common.paths import CATALOG_DIR, DAGS_DIR

    catalog_copy = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, catalog_copy)
    (catalog_copy / "datasets" / "muba_bank_sampah.yaml").write_text(
        (catalog_copy / "datasets" / "muba_bank_sampah.yaml")
        .read_text()
        .replace("opd: dlh", "opd: nobody")
    )
    monkeypatch.setenv("SERASAN_CATALOG_DIR", str(catalog_copy))
    broken = check_dag_files(DAGS_DIR, skip=("serasan_alerts.py", "serasan_evaluation.py"))
    assert [Path(b.path).name for b in broken] == ["serasan_dags.py"]
    assert "muba_bank_sampah.yaml: opd" in broken[0].error
    monkeypatch.delenv("SERASAN_CATALOG_DIR")
    assert check_dag_files(DAGS_DIR) == []  # the shipped files import
