"""Rejected rows an OPD can fix: text-only XLSX, corrected re-uploads merged by key, scores."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from tests.support.warehouse import RUN_DATE

DS = "muaraenim_timbulan_sampah"  # replace_period, quarantine policy


def _ctx(settings: Settings, catalog: Catalog, run_id: str) -> RunContext:
    ctx = RunContext(
        settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="t", run_id=run_id
    )
    upgrade(ctx.engine, catalog)
    return ctx


def _facts(ctx: RunContext) -> dict[tuple, tuple]:
    ds = ctx.catalog.dataset(DS)
    t = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        return {
            (r.periode, r.kode_kecamatan): (r.timbulan_ton, r.terkelola_ton)
            for r in conn.execute(select(t))
        }


def test_fixed_rejected_rows_merge_without_replacing_their_period(
    settings: Settings, catalog: Catalog
) -> None:
    ds = catalog.dataset(DS)
    assert ds.load_mode == "replace_period"
    ctx = _ctx(settings, catalog, "r1")
    gen = generate_dataset(ds, catalog, rows=80, defect_rate=0.15, seed=21)
    ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    [first] = run_dataset(ctx, ds)
    assert first.status == "quarantined"
    before = _facts(ctx)

    # the XLSX of rejected rows: every cell text, marker columns first
    xlsx_key = first.quarantine_key.removesuffix(".csv") + ".xlsx"
    wb = load_workbook(io.BytesIO(ctx.lake.get(xlsx_key)))
    ws = wb["Data"]
    header = [c.value for c in ws[3]]
    assert header[:4] == ["baris", "dimuat", "aturan", "alasan"]
    body = list(ws.iter_rows(min_row=4))
    assert len(body) == first.rows_rejected
    assert all(c.data_type == "s" for row in body for c in row if c.value not in (None, ""))

    # the OPD fixes only the negative amounts and sends the same file back
    col = {name: i for i, name in enumerate(header)}
    fixed = 0
    for row in body:
        for name in ("timbulan_ton", "terkelola_ton"):
            cell = row[col[name]]
            if cell.value and cell.value.startswith("-"):
                cell.value = cell.value.lstrip("-")
                fixed += 1
    assert fixed, "seed 21 should inject a negative amount"
    buf = io.BytesIO()
    wb.save(buf)
    again = _ctx(settings, catalog, "r2")
    again.lake.put(inbox_prefix(catalog, ds) + "perbaikan.xlsx", buf.getvalue())
    [second] = run_dataset(again, ds)

    after = _facts(again)
    assert second.rows_loaded >= 1
    # nothing that was loaded before disappeared: the fix file was merged, not a period replace
    assert set(before) <= set(after)
    for key, values in before.items():
        assert after[key] == values
    assert len(after) == len(before) + second.rows_loaded


def test_quality_score_per_opd_and_month(local_settings: Settings, catalog: Catalog) -> None:
    ds = catalog.dataset(DS)
    ctx = _ctx(local_settings, catalog, "r1")
    gen = generate_dataset(ds, catalog, rows=60, defect_rate=0.2, seed=5)
    ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    [summary] = run_dataset(ctx, ds)
    with ctx.engine.connect() as conn:
        row = conn.execute(select(ctx.t("meta", "quality_score"))).mappings().one()
        dq = conn.execute(select(ctx.t("meta", "dq_result"))).mappings().all()
    assert (row["regency"], row["opd"], row["period"]) == ("16.03", "dlh", "2026-11")
    assert row["rows_in"] == summary.rows_in
    assert row["rows_passed"] == summary.rows_in - summary.rows_rejected
    assert row["expectations"] == len(dq)
    assert row["expectations_passed"] == sum(1 for d in dq if d["success"])
    assert row["score_rows"] == round(100 * row["rows_passed"] / row["rows_in"], 2)


def test_gx_data_docs_are_built_into_the_lake(local_settings: Settings, catalog: Catalog) -> None:
    ds = catalog.dataset(DS)
    ctx = _ctx(local_settings, catalog, "r1")
    gen = generate_dataset(ds, catalog, rows=40, defect_rate=0.2, seed=5)
    ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    from serasan.pipeline.extract import extract
    from serasan.pipeline.run import transform

    [obj] = extract(ctx, ds)
    staged = transform(ctx, ds, obj)
    page = ctx.lake.get(staged.docs_key).decode()
    assert "Great Expectations" in page and ds.id in page
    failed = [d for d in staged.dq if not d.success]
    assert failed and "expect_column_values_to" in page
    index = ctx.lake.get(f"docs/gx/{ds.id}/index.html").decode()
    assert staged.docs_key.rsplit("/", 1)[-1] in index
