"""Lateness reminders (OPD, then walidata) and the daily digest, sent through the outbox to a
real SMTP server on loopback, on both warehouse backends. The deadlines themselves are
unit-tested in tests/unit/alerts/test_deadlines.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select

from serasan.alerts import delivery, freshness
from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from tests.support.mail import Mailbox, SmtpServer, deliveries, with_smtp

D = dt.date
LATE_DS = "muba_bank_sampah"  # monthly, Musi Banyuasin DLH (which also has the water park)
DLH = "data.dlh@musibanyuasinkab.go.id"
WALIDATA = "satudata@musibanyuasinkab.go.id"  # the catalog's walidata_email


def _ctx(settings: Settings, catalog: Catalog, run_date: dt.date) -> RunContext:
    ctx = RunContext(
        settings=settings,
        catalog=catalog,
        run_date=run_date,
        dag_id="test",
        run_id=f"run-{run_date}",
    )
    upgrade(ctx.engine, catalog)
    return ctx


def _record_load(
    ctx: RunContext,
    ds: Dataset,
    logical: dt.date,
    period: dt.date,
    status: str = "loaded",
    rows_in: int = 10,
    rejected: int = 0,
) -> None:
    """A finished load as `pipeline.load` records it, for a given period and logical date."""
    lr = ctx.t("meta", "load_run")
    col = ds.column(ds.period.column)
    assert col is not None
    periods = str(period.year) if col.type == "integer" else period.isoformat()
    with ctx.engine.begin() as conn:
        conn.execute(
            lr.insert().values(
                load_id=f"{ds.id}-{logical:%Y%m%d}{status[:4]}",
                dataset_id=ds.id,
                regency=ds.regency,
                opd=ds.opd,
                raw_key="raw/x",
                sha256="0" * 64,
                size_bytes=1,
                dag_id="test",
                run_id="r",
                logical_date=logical,
                status=status,
                rows_in=rows_in,
                rows_loaded=rows_in - rejected,
                rows_rejected=rejected,
                periods=periods,
            )
        )


def _all_on_time_but(ctx: RunContext, catalog: Catalog, *missing: str) -> None:
    for ds in catalog.datasets.values():
        if ds.id not in missing:
            due = freshness.due_of(ds, ctx.run_date)
            _record_load(ctx, ds, due.deadline, due.start)  # on the deadline day: on time


def _send(ctx: RunContext) -> dict[str, Any]:
    return delivery.drain(ctx.engine, ctx.settings, now=delivery._now(None))


def test_late_monthly_dataset_alerts_the_opd_then_the_walidata(
    settings: Settings,
    catalog: Catalog,
    smtp: SmtpServer,
) -> None:
    settings = with_smtp(settings, smtp.port)
    ctx = _ctx(settings, catalog, D(2026, 11, 11))  # October was due by 10 November
    _all_on_time_but(ctx, catalog, LATE_DS, "muba_pengunjung_taman_air")
    # the water park delivers October through the real pipeline, on time
    park = catalog.dataset("muba_pengunjung_taman_air")
    gen = generate_dataset(park, catalog, rows=40, seed=3)  # months up to October 2026
    early = _ctx(settings, catalog, D(2026, 11, 2))
    early.lake.put(inbox_prefix(catalog, park) + gen.filename, gen.data)
    [summary] = run_dataset(early, park)
    assert summary.status == "loaded"
    assert any(p.startswith("2026-10-") for p in summary.periods)  # daily visits in October
    # a load with a later logical date, a blocked one and one for an older period do not count
    bank = catalog.dataset(LATE_DS)
    _record_load(ctx, bank, D(2026, 11, 20), D(2026, 10, 1))
    _record_load(ctx, bank, D(2026, 11, 9), D(2026, 10, 1), status="blocked")
    _record_load(ctx, bank, D(2026, 11, 9), D(2026, 9, 1))

    status = {s.dataset.id: s for s in freshness.statuses(ctx, list(catalog.datasets.values()))}
    assert [d for d, s in status.items() if s.missing] == [LATE_DS]
    assert status["muba_pengunjung_taman_air"].received_on == D(2026, 11, 2)
    assert status[LATE_DS].days_late == 1

    [aid] = freshness.check_lateness(ctx)
    assert aid == "late:musibanyuasin-dlh:2026-11-11"
    assert _send(ctx)["sent"] == 1
    [msg] = smtp.box.to(DLH)
    assert len(smtp.box.messages) == 1  # nobody else: every other dataset is on time
    assert msg["Subject"] == "[Serasan] Data terlambat: Dinas Lingkungan Hidup (1 dataset)"
    body = Mailbox.text(msg)
    assert "Yth. Operator Data DLH," in body
    assert "Per 11 November 2026, data berikut belum kami terima" in body
    assert (
        f"{bank.title} ({LATE_DS}): data periode Oktober 2026, batas kirim 10 November "
        f"2026, terlambat 1 hari"
    ) in body
    assert ctx.lake.location(inbox_prefix(catalog, bank)) in body
    assert "walidata (" not in body
    assert ctx.lake.exists("alerts/musibanyuasin-dlh/terlambat/2026-11-11.txt")

    # the same date again (a re-run): nothing new
    assert freshness.check_lateness(ctx) == [aid]
    assert _send(ctx)["sent"] == 0 and len(smtp.box.messages) == 1

    # past the 7-day grace: the OPD again, and the walidata, once each
    later = _ctx(settings, catalog, D(2026, 11, 18))
    freshness.check_lateness(later)
    freshness.check_lateness(later)
    assert _send(later)["sent"] == 2
    assert len(smtp.box.to(DLH)) == 2
    [escalated] = smtp.box.to(WALIDATA)
    assert "terlambat 8 hari" in Mailbox.text(escalated)
    assert (
        "lebih dari 7 hari, pemberitahuan ini juga disampaikan kepada walidata (Dinas "
        "Komunikasi dan Informatika Kabupaten Musi Banyuasin)"
    ) in Mailbox.text(escalated)
    keys = {r["dedupe_key"] for r in deliveries(ctx) if r["kind"] == "late"}
    assert keys == {
        f"late|late:musibanyuasin-dlh:2026-11-11|email|{DLH}",
        f"late|late:musibanyuasin-dlh:2026-11-18|email|{DLH}",
        f"late|late:musibanyuasin-dlh:2026-11-18|email|{WALIDATA}",
    }


def test_no_alert_when_everything_arrived_on_time(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog, D(2026, 11, 11))
    _all_on_time_but(ctx, catalog)
    assert freshness.check_lateness(ctx) == []


def test_walidata_address_from_settings_wins(local_settings: Settings, catalog: Catalog) -> None:
    ctx = _ctx(
        dataclasses.replace(
            local_settings, walidata_emails=(("musibanyuasin", "walidata@musibanyuasinkab.go.id"),)
        ),
        catalog,
        D(2026, 11, 30),
    )
    muba, muaraenim = catalog.regency("16.06"), catalog.regency("16.03")
    assert freshness.walidata_recipients(ctx, muba) == ["walidata@musibanyuasinkab.go.id"]
    assert freshness.walidata_recipients(ctx, muaraenim) == ["satudata@muaraenimkab.go.id"]


def test_daily_digest_per_opd(settings: Settings, catalog: Catalog, smtp: SmtpServer) -> None:
    settings = with_smtp(settings, smtp.port)
    ctx = _ctx(settings, catalog, D(2026, 11, 11))
    park = catalog.dataset("muba_pengunjung_taman_air")
    _all_on_time_but(ctx, catalog, LATE_DS, park.id)
    _record_load(
        ctx, park, D(2026, 11, 10), D(2026, 10, 1), status="quarantined", rows_in=120, rejected=7
    )

    ids = freshness.digests(ctx)
    opds = freshness.opds_with_datasets(catalog)
    assert len(ids) == len(opds) == len({(r.kode, o) for r, o, _ in opds})
    assert freshness.digests(ctx) == ids  # a re-run of the day: same alerts, not new ones
    assert _send(ctx)["sent"] == len(opds)
    assert _send(ctx)["sent"] == 0

    [msg] = smtp.box.to(DLH)
    assert msg["Subject"] == "[Serasan] Ringkasan harian Dinas Lingkungan Hidup, 11 November 2026"
    body = Mailbox.text(msg)
    assert "Berikut ringkasan status data Dinas Lingkungan Hidup per 11 November 2026:" in body
    assert "dataset" in body and "periode wajib" in body and "batas kirim" in body
    lines = {
        line.split("|")[0].strip(): [c.strip() for c in line.split("|")]
        for line in body.splitlines()
        if line.count("|") == 6
    }
    assert lines[LATE_DS][1:4] == ["Oktober 2026", "2026-11-10", "BELUM DIKIRIM, terlambat 1 hari"]
    assert lines[LATE_DS][4:] == ["belum pernah", "-", "-"]
    assert lines[park.id][3:] == ["tepat waktu", "2026-11-10 (sebagian ditolak)", "120", "7"]
    assert "1 dataset belum dikirim untuk periode wajibnya." in body
    # an OPD with everything in
    [ok] = smtp.box.to("disbun@muaraenimkab.go.id")
    assert "Semua dataset sudah dikirim untuk periode wajibnya." in Mailbox.text(ok)
    # the walidata gets no digest of other OPDs, and the next day is a new digest
    assert len(smtp.box.to(DLH)) == 1
    freshness.digests(_ctx(settings, catalog, D(2026, 11, 12)))
    assert _send(ctx)["sent"] == len(opds)
    assert len(smtp.box.to(DLH)) == 2
    digest_keys = [r["dedupe_key"] for r in deliveries(ctx) if r["kind"] == "digest"]
    assert f"digest|digest:musibanyuasin-dlh:2026-11-11|email|{DLH}" in digest_keys
    with ctx.engine.connect() as conn:
        al = ctx.t("meta", "alert")
        lake_key = conn.execute(
            select(al.c.lake_key).where(al.c.alert_id == "digest:musibanyuasin-dlh:2026-11-11")
        ).scalar_one()
    assert ctx.lake.get(lake_key).decode().startswith("Subject: [Serasan] Ringkasan harian")


def test_received_late_shows_in_the_digest_not_as_a_reminder(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog, D(2026, 11, 20))
    _all_on_time_but(ctx, catalog, LATE_DS)
    bank = catalog.dataset(LATE_DS)
    _record_load(ctx, bank, D(2026, 11, 14), D(2026, 10, 1))  # 4 days after the deadline
    assert freshness.check_lateness(ctx) == []
    [s] = freshness.statuses(ctx, [bank])
    assert not s.missing and s.days_late == 4
    freshness.digests(ctx)
    with ctx.engine.connect() as conn:
        al = ctx.t("meta", "alert")
        body = conn.execute(
            select(al.c.body).where(al.c.alert_id == "digest:musibanyuasin-dlh:2026-11-20")
        ).scalar_one()
    assert "diterima terlambat 4 hari" in body
