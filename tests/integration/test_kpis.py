"""Pillar KPIs: the catalog's queries on both backends, checked by hand against the fact rows;
missing periods recorded with their reason, never as zero; recomputing a period replaces it.
The catalog's KPIs, statuses and period keys are unit-tested in tests/unit/publish/test_kpi.py."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select, update

from serasan.config.catalog import Catalog, Kpi
from serasan.config.settings import Settings
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.publish import kpi
from serasan.runtime.context import RunContext
from serasan.warehouse.facts import fact_table
from tests.support.warehouse import RUN_DATE, deliver, load_every_dataset, warehouse_context


def _values(ctx: RunContext, code: str | None = None) -> list[dict[str, Any]]:
    mart = ctx.t("mart", "kpi_value")
    q = select(mart).order_by(mart.c.kpi_code, mart.c.period, mart.c.kode_wilayah)
    if code:
        q = q.where(mart.c.kpi_code == code)
    with ctx.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def _facts(ctx: RunContext, ds_id: str) -> pd.DataFrame:
    ds = ctx.catalog.dataset(ds_id)
    with ctx.engine.connect() as conn:
        return pd.read_sql(select(fact_table(ds, ctx.engine.dialect.name)), conn)


def _regency_rows(ctx: RunContext, code: str) -> dict[str, dict[str, Any]]:
    k = ctx.catalog.kpis[code]
    return {r["period"]: r for r in _values(ctx, code) if r["kode_wilayah"] == k.regency}


# ------------------------------------------------------------------------ both backends


def test_every_kpi_has_values_on_both_backends(regencies_loaded: RunContext) -> None:
    ctx = regencies_loaded
    rows = _values(ctx)
    for k in ctx.catalog.kpis.values():
        mine = [r for r in rows if r["kpi_code"] == k.code and r["kode_wilayah"] == k.regency]
        valued = [r for r in mine if r["value"] is not None]
        assert valued, f"{k.code}: no value"
        assert all(r["status"] in kpi.STATUSES for r in mine)
        for r in valued:
            assert kpi.cadence_of(r["period"]) == k.cadence
            assert r["target"] == k.target_for(int(r["period"][:4]))
            assert r["load_ids"], f"{k.code} {r['period']}: no lineage"
            assert r["reason"] is None
        kec = [r for r in rows if r["kpi_code"] == k.code and r["kode_wilayah"] != k.regency]
        if k.level == "kecamatan":
            assert kec, f"{k.code}: level kecamatan without kecamatan rows"
            assert all(r["kode_wilayah"].startswith(k.regency + ".") for r in kec)
            assert all((r["target"] is None) == k.additive for r in kec)
        else:
            assert not kec


def test_sqlite_and_postgresql_agree(
    catalog: Catalog, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> None:
    """The same data through both backends gives the same KPI table."""
    pg = request.getfixturevalue("pg_url")
    work = tmp_path_factory.mktemp("agree")
    out = []
    for settings in (
        Settings(lake_url=str(work / "lake-a"), warehouse_url=f"sqlite:///{work / 'a.db'}"),
        Settings(lake_url=str(work / "lake-b"), warehouse_url=pg),
    ):
        ctx = load_every_dataset(settings, catalog, work / "apps")
        out.append({(r["kpi_code"], r["period"], r["kode_wilayah"]): r for r in _values(ctx)})
        ctx.engine.dispose()
    lite, post = out
    assert lite.keys() == post.keys()
    for key, a in lite.items():
        b = post[key]
        assert (a["status"], a["target"], a["reason"]) == (b["status"], b["target"], b["reason"])
        assert (a["value"] is None) == (b["value"] is None), key
        if a["value"] is not None:
            assert a["value"] == pytest.approx(b["value"], rel=1e-9, abs=1e-9), key


def test_three_kpis_recomputed_by_hand(regencies_loaded: RunContext) -> None:
    ctx = regencies_loaded
    # Tax realisation, % of target, per month
    tax = _facts(ctx, "muba_realisasi_pajak")
    tax["p"] = tax["periode"].astype(str).str[:7]
    for period, row in _regency_rows(ctx, "MUBA-GOV-01").items():
        g = tax[tax["p"] == period]
        assert row["value"] == pytest.approx(100 * g["realisasi_rp"].sum() / g["target_rp"].sum())
    # IKM: mean of the nine elements x 0.111 x 25, per quarter (PermenPAN-RB 14/2017)
    skm = _facts(ctx, "muaraenim_survei_kepuasan")
    day = pd.to_datetime(skm["tanggal"])
    skm["p"] = day.dt.year.astype(str) + "-Q" + ((day.dt.month - 1) // 3 + 1).astype(str)
    units = [f"u{i}" for i in range(1, 10)]
    ikm = _regency_rows(ctx, "ME-GOV-01")
    assert ikm
    for period, row in ikm.items():
        g = skm[skm["p"] == period]
        assert row["value"] == pytest.approx((g[units].sum(axis=1) * 0.111).mean() * 25)
    # CCTV uptime: hours online / (cameras x hours in the month) x 100
    cctv = _facts(ctx, "muba_cctv_kita")
    cctv["p"] = cctv["periode"].astype(str).str[:7]
    uptime = _regency_rows(ctx, "MUBA-SOC-01")
    assert uptime
    for period, row in uptime.items():
        g = cctv[cctv["p"] == period]
        hours = 24 * calendar.monthrange(int(period[:4]), int(period[5:]))[1]
        assert row["value"] == pytest.approx(100 * g["jam_online"].sum() / (len(g) * hours))
        expected = 100 * row["value"] / row["target"]
        assert row["achievement_pct"] == pytest.approx(expected, abs=1e-4)


def test_lineage_names_the_loads_of_each_period(settings: Settings, catalog: Catalog) -> None:
    ctx = warehouse_context(settings, catalog)
    ds = catalog.dataset("muaraenim_timbulan_sampah")  # replace_period, monthly
    [first] = deliver(ctx, ds.id, seed=5)
    # a corrected October, re-sent alone
    facts = _facts(ctx, ds.id)
    october = facts[facts["periode"].astype(str).str.startswith("2026-10")]
    csv = "periode,kode_kecamatan,timbulan_ton,terkelola_ton\n" + "".join(
        f"{r.periode.isoformat()},{r.kode_kecamatan},{r.timbulan_ton + 1:.2f},"
        f"{r.terkelola_ton:.2f}\n"
        for r in october.itertuples()
    )
    ctx.lake.put(inbox_prefix(catalog, ds) + "oktober-revisi.csv", csv.encode())
    [second] = run_dataset(ctx, ds)
    assert second.status == "loaded", second
    kpi.compute(ctx, "16.03")
    rows = _regency_rows(ctx, "ME-ENV-01")
    assert rows["2026-10"]["load_ids"] == second.load_id
    assert rows["2026-09"]["load_ids"] == first.load_id


def test_missing_sources_are_recorded_with_a_reason_never_zero(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = warehouse_context(settings, catalog)
    [blocked] = deliver(ctx, "muaraenim_produksi_karet", defect_rate=0.3, seed=9)  # policy block
    assert blocked.status == "blocked"
    result = kpi.compute(ctx, "16.03")
    rows = _values(ctx)
    assert rows and all(r["status"] == "missing" for r in rows)
    assert all(r["value"] is None and r["achievement_pct"] is None for r in rows)
    assert result["missing"] == len(rows)
    codes = {r["kpi_code"] for r in rows}
    assert codes == {k.code for k in catalog.kpis_of("16.03")}  # every KPI: its due period
    for r in rows:
        assert r["kode_wilayah"] == "16.03"
        k = catalog.kpis[r["kpi_code"]]
        if "muaraenim_produksi_karet" in k.sources:
            assert "ditolak validasi" in r["reason"] and blocked.load_id in r["reason"]
        else:
            assert "belum diterima" in r["reason"] and "tenggat" in r["reason"]
        assert r["period"] == kpi.period_key(k.cadence, _due(k))


def _due(k: Kpi) -> dt.date:
    from serasan.alerts.freshness import due_period

    return due_period(k.cadence, RUN_DATE).start


@pytest.mark.parametrize("regencies_loaded", ["embedded"], indirect=True)
def test_recomputing_a_period_replaces_only_that_period(
    regencies_loaded: RunContext, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On a copy of the shared SQLite warehouse (the SQL is the same on PostgreSQL)."""
    import sqlite3

    src = regencies_loaded
    db = tmp_path_factory.mktemp("recompute") / "wh.db"
    with sqlite3.connect(src.engine.url.database) as a, sqlite3.connect(db) as b:
        a.backup(b)
    ctx = dataclasses.replace(
        src,
        settings=dataclasses.replace(src.settings, warehouse_url=f"sqlite:///{db}"),
        _engine=None,
    )
    mart = ctx.t("mart", "kpi_value")
    with ctx.engine.begin() as conn:
        conn.execute(update(mart).where(mart.c.kpi_code == "MUBA-GOV-01").values(value=-1.0))
    before = _regency_rows(ctx, "MUBA-GOV-01")
    kpi.compute(ctx, "16.06", periods=["2026-03"])
    after = _regency_rows(ctx, "MUBA-GOV-01")
    assert after["2026-03"]["value"] == _regency_rows(src, "MUBA-GOV-01")["2026-03"]["value"]
    assert all(after[p]["value"] == -1.0 for p in before if p != "2026-03")
    kpi.compute(ctx, "16.06")
    assert _values(ctx) == _values(src)  # a full recompute gives the same table back
    ctx.engine.dispose()


def test_a_query_that_breaks_the_region_contract_is_named(regencies_loaded: RunContext) -> None:
    ctx = regencies_loaded
    k = ctx.catalog.kpis["MUBA-GOV-01"]
    wrong = k.model_copy(
        update={"query": k.query.replace("'16.06' AS kode_wilayah", "'16.03' AS kode_wilayah")}
    )
    assert wrong.query != k.query
    with ctx.engine.connect() as conn, pytest.raises(kpi.KpiError, match="MUBA-GOV-01.*16.03"):
        kpi.evaluate(conn, wrong, ctx.catalog, ctx.run_date)
