"""The alert outbox against real servers on loopback: aiosmtpd for SMTP, an HTTP server for the
webhook. Both warehouse backends (folder + SQLite, S3 + PostgreSQL) where it matters.

The SMTP server is tests/support/mail.py's, as the `smtp` fixture of tests/integration/conftest.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from serasan.alerts import delivery
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import make_engine, upgrade
from tests.support.mail import Mailbox, SmtpServer, deliveries, with_smtp
from tests.support.services import free_port
from tests.support.warehouse import RUN_DATE

T0 = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)  # drains take `now`: retries are testable


class Webhook:
    """A JSON webhook on loopback that answers with the statuses it is told, then 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status == 200 else b'{"error": "down"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/serasan"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def _ctx(
    settings: Settings, catalog: Catalog, run_id: str = "run-1", force: bool = False
) -> RunContext:
    ctx = RunContext(
        settings=settings,
        catalog=catalog,
        run_date=RUN_DATE,
        dag_id="test",
        run_id=run_id,
        force=force,
    )
    upgrade(ctx.engine, catalog)
    return ctx


def _load_bansos(ctx: RunContext, catalog: Catalog) -> tuple[dict[str, Any], Any]:
    ds = catalog.dataset("muaraenim_penerima_bansos")
    gen = generate_dataset(ds, catalog, rows=80, defect_rate=0.2, seed=11)
    ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    [summary] = run_dataset(ctx, ds)
    return summary, gen


# ------------------------------------------------------------------------ keys and backoff


def test_keys_kinds_and_backoff() -> None:
    assert delivery.kind_of("muba_bank_sampah-0123456789abcdef") == "quality"
    assert delivery.kind_of(delivery.alert_id("late", "musibanyuasin-dlh", "2026-11-11")) == "late"
    assert delivery.kind_of("digest:muaraenim-dlh:2026-11-01") == "digest"
    key = delivery.dedupe_key("quality", "x-1", "email", " A@B.go.id ")
    assert key == "quality|x-1|email|a@b.go.id"
    long = delivery.alert_id("engineer", "d" * 100, "t" * 50, "r" * 50)
    assert len(long) == delivery.MAX_ID and delivery.kind_of(long) == "engineer"
    assert [delivery.backoff_total(n) // dt.timedelta(minutes=1) for n in range(5)] == [
        0,
        5,
        15,
        35,
        75,
    ]
    assert delivery.backoff_total(20) - delivery.backoff_total(19) == delivery.BACKOFF_CAP
    stamp = delivery.stamp(T0 + delivery.backoff_total(3))
    assert delivery.enqueued_at(stamp, 3) == T0


# ------------------------------------------------------------------------ e-mail


def test_quality_alert_is_emailed_once(
    settings: Settings, catalog: Catalog, smtp: SmtpServer
) -> None:
    """The OPD gets the Bahasa Indonesia alert with masked examples and the rejected-rows file,
    once: not again on a second drain, nor after the same file is processed again."""
    settings = with_smtp(settings, smtp.port)
    ctx = _ctx(settings, catalog)
    summary, gen = _load_bansos(ctx, catalog)
    assert summary.status == "quarantined" and summary.rows_rejected > 0

    result = delivery.drain(ctx.engine, settings, dataset_id="muaraenim_penerima_bansos", now=T0)
    assert result == {"sent": 1, "retrying": 0, "failed": 0, "errors": []}
    [msg] = smtp.box.to("dinsos@muaraenimkab.go.id")
    assert len(smtp.box.messages) == 1
    assert msg["To"] == "dinsos@muaraenimkab.go.id"
    assert msg["From"] == "serasan@muaraenimkab.go.id"
    ds = catalog.dataset("muaraenim_penerima_bansos")
    assert msg["Subject"] == (
        f"[Serasan] {ds.title}: {summary.rows_rejected} dari "
        f"{summary.rows_in} baris ditolak (quarantined)"
    )
    body = Mailbox.text(msg)
    assert "Yth. Operator Data Dinsos," in body
    assert "Contoh baris (data pribadi disamarkan):" in body
    assert re.search(r"\b16\d{2}\*{10}\d{2}\b", body), body  # NIK masked: 1603**********12
    assert not re.search(r"\b16\d{14}\b", body)  # and never in clear
    assert ctx.lake.location(summary.quarantine_key) in body
    assert "Daftar lengkap baris yang ditolak" in body

    [row] = deliveries(ctx)
    assert row["dedupe_key"] == (f"quality|{summary.load_id}|email|dinsos@muaraenimkab.go.id")
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
    assert row["sent_at"]

    # a second drain sends nothing
    assert delivery.drain(ctx.engine, settings, now=T0 + dt.timedelta(hours=1))["sent"] == 0
    # the same file processed again (forced): the alert is rewritten, not resent
    ctx2 = _ctx(settings, catalog, run_id="run-2", force=True)
    ctx2.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    [again] = run_dataset(ctx2, ds)
    assert again.load_id == summary.load_id
    assert delivery.drain(ctx2.engine, settings, now=T0 + dt.timedelta(hours=2))["sent"] == 0
    assert len(smtp.box.messages) == 1
    al = delivery._t(ctx.engine, "alert")
    with ctx.engine.connect() as conn:
        assert conn.execute(select(al.c.status)).scalar_one() == "sent"


def test_smtp_outage_delays_but_never_loses(settings: Settings, catalog: Catalog) -> None:
    """SMTP down: the load succeeds, the delivery waits with attempts and the error; SMTP up:
    the next due drain sends it exactly once."""
    port = free_port()  # nothing listens here yet
    settings = with_smtp(settings, port)
    ctx = _ctx(settings, catalog)
    summary, _ = _load_bansos(ctx, catalog)
    assert summary.status == "quarantined"  # the load never waits for mail

    down = delivery.drain(ctx.engine, settings, now=T0)
    assert (down["sent"], down["retrying"]) == (0, 1)
    assert "Connection refused" in down["errors"][0] or "ConnectionRefused" in down["errors"][0]
    [row] = deliveries(ctx)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert f"127.0.0.1:{port}" in row["last_error"]
    assert row["next_attempt_at"] == delivery.stamp(T0 + delivery.BACKOFF_BASE)
    # not yet due: a drain a minute later does not even try
    assert delivery.drain(ctx.engine, settings, now=T0 + dt.timedelta(minutes=1)) == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
        "errors": [],
    }
    assert deliveries(ctx)[0]["attempts"] == 1

    server = SmtpServer(port).start()
    try:
        up = delivery.drain(ctx.engine, settings, now=T0 + dt.timedelta(minutes=6))
        assert up["sent"] == 1
        assert delivery.drain(ctx.engine, settings, now=T0 + dt.timedelta(days=1))["sent"] == 0
        assert len(server.box.to("dinsos@muaraenimkab.go.id")) == 1
        [row] = deliveries(ctx)
        assert (row["status"], row["attempts"]) == ("sent", 2)
    finally:
        server.stop()


def test_secrets_stay_out_of_errors_logs_and_repr(
    local_settings: Settings, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused login is retried later; the password is in no error, log line or summary."""
    server = SmtpServer(free_port(), auth=("serasan", "right-pass")).start()
    try:
        secret = "Sup3r-s3cret-pw"
        settings = with_smtp(
            local_settings,
            server.port,
            smtp_user="serasan",
            smtp_password=secret,
            smtp_starttls=False,
            webhook_url="http://127.0.0.1:9/h?token=" + secret,
            webhook_token=secret,
        )
        engine = make_engine(settings.warehouse_url)
        upgrade(engine, catalog)
        alert = delivery.OutboxAlert(
            alert_id=delivery.alert_id("engineer", "x", "y", "z"),
            kind="engineer",
            recipients=["eng@example.org"],
            subject="s",
            body="b",
        )
        delivery.enqueue(engine, settings, alert, now=T0)
        with caplog.at_level(logging.DEBUG):
            result = delivery.drain(engine, settings, now=T0)
        assert result["retrying"] == 2  # e-mail (auth refused) and webhook (nothing listens)
        rows = deliveries(engine)
        assert all(r["status"] == "pending" and r["attempts"] == 1 for r in rows)
        assert any("535" in r["last_error"] or "Authentication" in r["last_error"] for r in rows)
        for text in [
            *(r["last_error"] for r in rows),
            caplog.text,
            repr(settings),
            settings.describe(),
            json.dumps(result),
        ]:
            assert secret not in text
        assert "smtp: 127.0.0.1" in settings.describe()

        fixed = dataclasses.replace(settings, smtp_password="right-pass", webhook_url=None)
        assert delivery.drain(engine, fixed, now=T0 + dt.timedelta(hours=1))["sent"] == 1
        assert len(server.box.to("eng@example.org")) == 1
        engine.dispose()
    finally:
        server.stop()


def test_settings_from_environment() -> None:
    s = Settings.from_env(
        {
            "SERASAN_SMTP_HOST": "mail.go.id",
            "SERASAN_SMTP_USER": "u",
            "SERASAN_SMTP_PASSWORD": "p",
            "SERASAN_WEBHOOK_URL": "https://gw/x",
            "SERASAN_WEBHOOK_TOKEN": "tok",
            "SERASAN_ENGINEER_EMAIL": "a@x, b@x",
            "SERASAN_WALIDATA_EMAIL_MUARAENIM": "walidata@muaraenimkab.go.id",
            "SERASAN_OUTBOX_MAX_AGE_HOURS": "3",
        }
    )
    assert s.starttls and s.smtp_port_or_default == 587  # a login is never sent in clear
    assert delivery.channels(s) == ["email", "webhook"]
    assert delivery.engineers(s) == ["a@x", "b@x"]
    assert s.walidata_email("muaraenim") == ["walidata@muaraenimkab.go.id"]
    assert s.outbox_max_age_hours == 3 and s.late_grace_days == 7
    assert Settings.from_env(s.as_env()) == s
    plain = Settings.from_env({"SERASAN_SMTP_HOST": "relay"})
    assert not plain.starttls and plain.smtp_port_or_default == 25
    assert delivery.channels(Settings.from_env({})) == []


# ------------------------------------------------------------------------ webhook


def test_webhook_payload_token_and_retry(
    settings: Settings, catalog: Catalog, webhook: Webhook
) -> None:
    """POST JSON with the bearer token; a 500 is retried later, then it is delivered once."""
    settings = dataclasses.replace(settings, webhook_url=webhook.url, webhook_token="t0ken-123")
    ctx = _ctx(settings, catalog)
    summary, _ = _load_bansos(ctx, catalog)
    webhook.statuses = [500]

    first = delivery.drain(
        ctx.engine, settings, now=T0, phones={"dinsos@muaraenimkab.go.id": "0812"}
    )
    assert (first["sent"], first["retrying"]) == (0, 1) and "HTTP 500" in first["errors"][0]
    [row] = deliveries(ctx)
    assert (row["channel"], row["status"], row["attempts"]) == ("webhook", "pending", 1)
    assert "HTTP 500" in row["last_error"]

    second = delivery.drain(
        ctx.engine,
        settings,
        now=T0 + dt.timedelta(minutes=10),
        phones={"dinsos@muaraenimkab.go.id": "0812"},
    )
    assert second["sent"] == 1
    assert delivery.drain(ctx.engine, settings, now=T0 + dt.timedelta(days=2))["sent"] == 0
    assert len(webhook.requests) == 2  # the failed try and the delivery, nothing after
    req = webhook.requests[-1]
    assert req["path"] == "/hooks/serasan"
    assert req["headers"]["Authorization"] == "Bearer t0ken-123"
    assert req["headers"]["Idempotency-Key"] == row["dedupe_key"]
    assert req["headers"]["Content-Type"] == "application/json"
    payload = req["json"]
    assert payload["kind"] == "quality" and payload["alert_id"] == summary.load_id
    assert payload["recipient"] == "dinsos@muaraenimkab.go.id" and payload["phone"] == "0812"
    assert payload["dataset"] == "muaraenim_penerima_bansos"
    assert (payload["regency"], payload["opd"]) == ("16.03", "dinsos")
    assert payload["subject"].startswith("[Serasan] ") and "Yth. " in payload["body"]
    assert payload["lake_key"].startswith("alerts/muaraenim-dinsos/")
    assert payload["id"] == row["dedupe_key"]


def test_two_channels_and_a_channel_added_later(
    local_settings: Settings, catalog: Catalog, smtp: SmtpServer, webhook: Webhook
) -> None:
    """Each channel and recipient is its own delivery; enabling a channel later sends only on
    that channel, never again on the first."""
    engine = make_engine(local_settings.warehouse_url)
    upgrade(engine, catalog)
    alert = delivery.OutboxAlert(
        alert_id=delivery.alert_id("digest", "muaraenim-dlh", "d1"),
        kind="digest",
        recipients=["a@x.go.id", "b@x.go.id", "A@x.go.id"],
        subject="s",
        body="b",
        regency="16.03",
        opd="dlh",
    )
    email_only = with_smtp(local_settings, smtp.port)
    delivery.enqueue(engine, email_only, alert, now=T0)
    delivery.enqueue(engine, email_only, alert, now=T0)  # a second enqueue changes nothing
    assert len(deliveries(engine)) == 2  # a@ and A@ are one recipient
    assert delivery.drain(engine, email_only, now=T0)["sent"] == 2

    both = dataclasses.replace(email_only, webhook_url=webhook.url)
    al = delivery._t(engine, "alert")
    with engine.begin() as conn:  # what a re-run of the producer does: the alert is pending again
        conn.execute(al.update().values(status="pending"))
    assert delivery.drain(engine, both, now=T0 + dt.timedelta(hours=1))["sent"] == 2
    assert len(smtp.box.messages) == 2 and len(webhook.requests) == 2
    assert {r["channel"] for r in deliveries(engine)} == {"email", "webhook"}
    engine.dispose()


def test_concurrent_drains_send_each_delivery_once(
    local_settings: Settings, catalog: Catalog, smtp: SmtpServer
) -> None:
    settings = with_smtp(local_settings, smtp.port)
    engine = make_engine(settings.warehouse_url)
    upgrade(engine, catalog)
    for i in range(12):
        delivery.enqueue(
            engine,
            settings,
            delivery.OutboxAlert(
                alert_id=delivery.alert_id("digest", f"opd{i}", "d"),
                kind="digest",
                recipients=[f"opd{i}@x.go.id"],
                subject=f"s{i}",
                body="b",
            ),
            now=T0,
        )
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: results.append(delivery.drain(engine, settings, now=T0)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 12
    assert len(smtp.box.messages) == 12
    assert len({m["Message-ID"] for _, m in smtp.box.messages}) == 12
    engine.dispose()


# ------------------------------------------------------------------------ engineers


def test_outbox_that_does_not_drain_alerts_the_engineers(
    settings: Settings, catalog: Catalog
) -> None:
    """Deliveries pending longer than N hours: one message a day to the engineer address,
    never to the OPD; the stuck alert itself still goes out when SMTP is back."""
    port = free_port()
    settings = with_smtp(
        settings, port, engineer_email="data-eng@serasan.go.id", outbox_max_age_hours=6
    )
    ctx = _ctx(settings, catalog)
    summary, _ = _load_bansos(ctx, catalog)
    delivery.drain(ctx.engine, settings, now=T0)  # SMTP down: pending
    assert (
        delivery.watch_outbox(ctx.engine, settings, RUN_DATE, now=T0 + dt.timedelta(hours=5))[
            "stuck"
        ]
        == 0
    )

    server = SmtpServer(port).start()
    try:
        later = T0 + dt.timedelta(hours=7)
        watched = delivery.watch_outbox(ctx.engine, settings, RUN_DATE, now=later)
        assert watched["stuck"] == 1 and watched["delivery"]["sent"] == 1
        [msg] = server.box.to("data-eng@serasan.go.id")
        assert msg["Subject"] == "[Serasan] outbox not draining: 1 alerts undelivered"
        body = Mailbox.text(msg)
        assert summary.load_id in body and "dinsos@muaraenimkab.go.id" in body
        assert "7.0" in body  # its age in hours
        assert server.box.to("dinsos@muaraenimkab.go.id") == []  # OPDs never get this
        # the same day again: not repeated
        delivery.watch_outbox(ctx.engine, settings, RUN_DATE, now=later + dt.timedelta(hours=1))
        assert len(server.box.to("data-eng@serasan.go.id")) == 1
        # the alert itself is still there, and goes out on the next drain
        assert delivery.drain(ctx.engine, settings, now=later)["sent"] == 1
        assert len(server.box.to("dinsos@muaraenimkab.go.id")) == 1
        assert delivery.backlog(ctx.engine, settings, now=later) == []
    finally:
        server.stop()


def test_deliver_now_without_a_warehouse_sends_directly(tmp_path: Any, smtp: SmtpServer) -> None:
    """A failure callback whose warehouse is the problem still reaches the engineers."""
    settings = with_smtp(
        Settings(
            lake_url=str(tmp_path / "lake"), warehouse_url=f"sqlite:///{tmp_path / 'none' / 'w.db'}"
        ),
        smtp.port,
        engineer_email="eng@serasan.go.id",
    )
    alert = delivery.task_failure_alert(
        settings,
        dag_id="serasan__x",
        task_id="load",
        run_id="manual__1",
        error="OperationalError: no table",
    )
    result = delivery.deliver_now(settings, alert)
    assert result["sent"] == 1
    [msg] = smtp.box.to("eng@serasan.go.id")
    assert "serasan__x" in msg["Subject"] and "manual__1" in Mailbox.text(msg)


def test_alerts_cli_drains_and_reports(
    local_settings: Settings,
    catalog: Catalog,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from serasan.cli.main import main

    ctx = _ctx(local_settings, catalog)
    _load_bansos(ctx, catalog)
    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    assert main(["alerts", "status"]) == 0
    monkeypatch.setenv("SERASAN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SERASAN_SMTP_PORT", str(smtp.port))
    assert main(["alerts", "drain"]) == 0
    assert '"sent": 1' in capsys.readouterr().out
    assert len(smtp.box.messages) == 1
    assert main(["alerts", "drain"]) == 0  # nothing twice
    assert len(smtp.box.messages) == 1
    assert main(["alerts", "status"]) == 0
    assert "sent 1" in capsys.readouterr().out
