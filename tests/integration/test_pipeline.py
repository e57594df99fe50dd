"""The thin path through every stage, on both backends: folder+SQLite and S3+PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from contextlib import ExitStack

import pytest
from sqlalchemy import func, select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.demo.sources import serve_api
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.publish import exports, kpi
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from tests.support.warehouse import RUN_DATE


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


def _drop(ctx: RunContext, ds_id: str, data: bytes, name: str) -> None:
    ds = ctx.catalog.dataset(ds_id)
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + name, data)


def _fact_rows(ctx: RunContext, ds_id: str) -> list[tuple]:
    ds = ctx.catalog.dataset(ds_id)
    t = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(select(t).order_by(*[t.c[k] for k in ds.primary_key]))
        ]


def _checksum(ctx: RunContext, ds_id: str) -> str:
    return hashlib.sha256(repr(_fact_rows(ctx, ds_id)).encode()).hexdigest()


def test_quarantine_policy_end_to_end(settings: Settings, catalog: Catalog) -> None:
    ctx = _ctx(settings, catalog)
    ds_id = "muba_bank_sampah"
    gen = generate_dataset(catalog.dataset(ds_id), catalog, rows=120, defect_rate=0.1, seed=7)
    assert gen.defects, "the generator injected no defect; pick another seed"
    _drop(ctx, ds_id, gen.data, gen.filename)

    [summary] = run_dataset(ctx, catalog.dataset(ds_id))

    sha = hashlib.sha256(gen.data).hexdigest()
    assert summary.status == "quarantined"
    assert summary.rows_in == gen.rows == summary.rows_loaded + summary.rows_rejected
    assert 0 < summary.rows_rejected < gen.rows
    # raw bytes kept untouched, with a manifest; the inbox is emptied
    raw = ctx.lake.get(f"raw/{ds_id}/{sha}/{gen.filename}")
    assert raw == gen.data
    manifest = json.loads(ctx.lake.get(f"raw/{ds_id}/{sha}/manifest.json"))
    assert manifest["sha256"] == sha and manifest["size"] == len(gen.data)
    assert ctx.lake.list(inbox_prefix(catalog, catalog.dataset(ds_id))) == []
    # every rejected row is in the quarantine file with a reason; loaded rows in the fact table
    rejected = list(csv.DictReader(io.StringIO(ctx.lake.get(summary.quarantine_key).decode())))
    assert len(rejected) == summary.rows_rejected
    assert all(r["alasan"] and r["baris"] for r in rejected)
    assert len(_fact_rows(ctx, ds_id)) == summary.rows_loaded
    # the load is recorded with lineage, DQ results and an alert in Bahasa Indonesia
    with ctx.engine.connect() as conn:
        lr = conn.execute(select(ctx.t("meta", "load_run"))).mappings().one()
        dq = conn.execute(select(ctx.t("meta", "dq_result"))).mappings().all()
        alert = conn.execute(select(ctx.t("meta", "alert"))).mappings().one()
    assert lr["sha256"] == sha and lr["raw_key"].endswith(gen.filename)
    assert lr["rows_in"] == lr["rows_loaded"] + lr["rows_rejected"]
    assert len(dq) == len(catalog.suites[ds_id]["expectations"])
    assert sum(1 for d in dq if not d["success"]) >= 1
    assert {r[-1] for r in _fact_rows(ctx, ds_id)} == {lr["load_id"]}
    assert "ditolak" in alert["subject"] and "Yang perlu dilakukan" in alert["body"]
    assert alert["recipients"] == "data.dlh@musibanyuasinkab.go.id"
    assert ctx.lake.get(alert["lake_key"]).decode().count(alert["subject"]) == 1


def test_same_file_again_is_skipped_and_changes_nothing(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(settings, catalog)
    ds_id = "muaraenim_timbulan_sampah"
    gen = generate_dataset(catalog.dataset(ds_id), catalog, rows=60, defect_rate=0.05, seed=3)
    _drop(ctx, ds_id, gen.data, gen.filename)
    run_dataset(ctx, catalog.dataset(ds_id))
    before = _checksum(ctx, ds_id)

    again = _ctx(settings, catalog, run_id="run-2")
    _drop(again, ds_id, gen.data, "same-bytes-other-name.xlsx")
    assert run_dataset(again, catalog.dataset(ds_id)) == []
    assert _checksum(again, ds_id) == before
    with again.engine.connect() as conn:
        ev = again.t("meta", "object_event")
        actions = conn.execute(select(ev.c.run_id, ev.c.action).order_by(ev.c.id)).all()
    assert [tuple(a) for a in actions] == [("run-1", "ingested"), ("run-2", "skipped")]

    forced = _ctx(settings, catalog, run_id="run-3", force=True)
    _drop(forced, ds_id, gen.data, gen.filename)
    [summary] = run_dataset(forced, catalog.dataset(ds_id))
    assert summary.rows_in == gen.rows
    assert _checksum(forced, ds_id) == before  # reprocessing the same bytes is idempotent


def test_block_policy_loads_nothing(local_settings: Settings, catalog: Catalog) -> None:
    ctx = _ctx(local_settings, catalog)
    ds_id = "muaraenim_produksi_karet"
    assert catalog.dataset(ds_id).quality_policy == "block"
    gen = generate_dataset(catalog.dataset(ds_id), catalog, defect_rate=0.2, seed=1)
    _drop(ctx, ds_id, gen.data, gen.filename)
    [summary] = run_dataset(ctx, catalog.dataset(ds_id))
    assert summary.status == "blocked"
    assert summary.rows_loaded == 0 and summary.rows_rejected == gen.rows
    assert _fact_rows(ctx, ds_id) == []
    assert "TIDAK ADA" in ctx.lake.get(summary.alert_key).decode()


def test_warn_policy_loads_all_rows_the_table_can_hold(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog)
    ds_id = "muaraenim_survei_kepuasan"
    assert catalog.dataset(ds_id).quality_policy == "warn"
    gen = generate_dataset(catalog.dataset(ds_id), catalog, rows=150, defect_rate=0.2, seed=5)
    _drop(ctx, ds_id, gen.data, gen.filename)
    [summary] = run_dataset(ctx, catalog.dataset(ds_id))
    assert summary.status == "warned"
    dupes = gen.defects.get("duplicate_key", 0)
    missing_key = 0  # survei's only key column is a generated sequence: never left empty
    # duplicate keys cannot both live in the fact table: both copies are rejected, the rest load
    assert summary.rows_loaded == len(_fact_rows(ctx, ds_id))
    assert summary.rows_loaded >= gen.rows - 2 * dupes - missing_key
    assert summary.rows_loaded > gen.rows - gen.rows * 0.2


def test_unusable_file_is_rejected_with_a_reason(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog)
    ds_id = "muba_bank_sampah"
    _drop(ctx, ds_id, b"nama,alamat\nBudi,Sekayu\n", "salah.csv")
    [summary] = run_dataset(ctx, catalog.dataset(ds_id))
    assert summary.status == "rejected"
    assert "Kode Bank Sampah" in summary.error and "salah.csv" in summary.error
    assert ctx.lake.exists(f"raw/{ds_id}/{summary.sha256}/salah.csv")


def test_alert_examples_mask_personal_data(local_settings: Settings, catalog: Catalog) -> None:
    ctx = _ctx(local_settings, catalog)
    ds_id = "muaraenim_penerima_bansos"
    gen = generate_dataset(catalog.dataset(ds_id), catalog, rows=80, defect_rate=0.3, seed=11)
    _drop(ctx, ds_id, gen.data, gen.filename)
    [summary] = run_dataset(ctx, catalog.dataset(ds_id))
    body = ctx.lake.get(summary.alert_key).decode()
    rejected = list(csv.DictReader(io.StringIO(ctx.lake.get(summary.quarantine_key).decode())))
    niks = [r["nik"] for r in rejected if r["nik"]]
    names = [r["nama_penerima"] for r in rejected if r["nama_penerima"]]
    assert niks and names
    for value in niks + names:
        assert value not in body, f"{value!r} leaked into the alert"
    assert "*" in body


def test_kpis_and_exports_on_loaded_data(
    settings: Settings, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _ctx(settings, catalog)
    with ExitStack() as stack:
        for ds in catalog.datasets_of("16.03"):
            if ds.source.kind == "api":  # SP4N-LAPOR: pulled from a real HTTP server
                env = stack.enter_context(serve_api(ds, catalog, RUN_DATE, 0.0))
                for key, value in env.items():
                    monkeypatch.setenv(key, value)
            else:
                gen = generate_dataset(ds, catalog, rows=40, defect_rate=0.0, seed=2)
                _drop(ctx, ds.id, gen.data, gen.filename)
            [summary] = run_dataset(ctx, ds)
            assert summary.status == "loaded", summary
    result = kpi.compute(ctx, "16.03")
    assert set(result["kpis"]) == {k.code for k in catalog.kpis_of("16.03")}
    assert all(n > 0 for n in result["kpis"].values())
    with ctx.engine.connect() as conn:
        mart = ctx.t("mart", "kpi_value")
        rows = conn.execute(select(mart).where(mart.c.kpi_code == "ME-ENV-01")).mappings().all()
    for r in rows:  # check one KPI against its definition, computed here from the fact rows
        ds = catalog.dataset("muaraenim_timbulan_sampah")
        facts = [f for f in _fact_rows(ctx, ds.id) if f[0].isoformat()[:7] == r["period"]]
        expected = 100 * sum(f[3] for f in facts) / sum(f[2] for f in facts)
        assert r["value"] == pytest.approx(expected)
        assert r["status"] in ("on_track", "at_risk", "off_track")
        assert r["load_ids"]
    again = kpi.compute(ctx, "16.03")
    assert again == result

    first = exports.export_regency(ctx, "16.03")
    assert first["periods_written"] > 0
    keys = ctx.lake.list("exports/muaraenim/muaraenim_penerima_bansos/")
    csv_key = next(k for k in keys if k.endswith(".csv"))
    text = ctx.lake.get(csv_key).decode()
    header = text.splitlines()[0].split(",")
    assert header[:4] == [
        "kode_provinsi",
        "nama_provinsi",
        "kode_kabupaten_kota",
        "nama_kabupaten_kota",
    ]
    assert "nik" not in header and "nama_penerima" not in header
    bansos = catalog.dataset("muaraenim_penerima_bansos")
    with ctx.engine.connect() as conn:
        fact = fact_table(bansos, ctx.engine.dialect.name)
        niks = [r[0] for r in conn.execute(select(fact.c.nik).limit(20))]
    assert niks and not any(n in text for n in niks)
    meta = json.loads(ctx.lake.get(csv_key.rsplit("/", 1)[0] + "/metadata.json"))
    assert meta["produsen_data"] == bansos.satu_data.produsen_data
    second = exports.export_regency(ctx, "16.03")
    assert second["periods_written"] == 0  # unchanged data writes nothing new
    with ctx.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(ctx.t("meta", "export_run"))).scalar()
    assert n == first["periods_written"]
