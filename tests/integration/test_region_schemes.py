"""Region schemes through the whole pipeline (issue 15), on both backends: a file of BPS village
codes is refused as a whole under the default scheme (nothing loads as another village), loads
under `scheme: bps` with the code as sent kept beside the current Kemendagri code, and its Satu
Data export carries that BPS code rather than a reverse lookup of the crosswalk."""

from __future__ import annotations

import csv
import dataclasses
import io

from sqlalchemy import select

from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.handoff import LoadSummary
from serasan.pipeline.run import run_dataset
from serasan.publish import exports
from serasan.reference import provinces
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from tests.support.warehouse import RUN_DATE

DS = "muba_bank_sampah"


def _bps_villages() -> dict[str, str]:
    """BPS code -> current Kemendagri code of 40 Musi Banyuasin villages, Jirak's twelve (all
    renumbered since the crosswalk was made) among them."""
    p = provinces.province("16")
    assert p is not None
    mapped = {
        b: e.kemendagri_code
        for b, e in sorted(p.crosswalk.items())
        if b.startswith("1606") and len(b) == 10 and e.kemendagri_code
    }
    jirak = {b: k for b, k in mapped.items() if b.startswith("1606031")}
    others = {b: k for b, k in mapped.items() if not b.startswith("1606031")}
    return {**dict(list(others.items())[:28]), **jirak}


def _file(codes: list[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "Periode",
            "Kode Bank Sampah",
            "Kode Desa",
            "Nasabah Aktif",
            "Sampah Terkelola (kg)",
            "Nilai Tabungan (Rp)",
        ]
    )
    for i, code in enumerate(codes):
        writer.writerow(["Mei 2026", f"BS-1606-{i:03d}", code, 20 + i, "150,5", "Rp 350.000"])
    return buf.getvalue().encode()


def _bps_dataset(catalog: Catalog) -> Dataset:
    data = catalog.dataset(DS).model_dump()
    data["columns"].append(
        {
            "name": "kode_desa_bps",
            "type": "string",
            "label": "Kode Desa BPS",
            "description": "Kode desa BPS sebagaimana dikirim OPD",
        }
    )
    data["region"] = {
        "column": "kode_desa",
        "level": "desa_kelurahan",
        "scheme": "bps",
        "source_column": "kode_desa_bps",
    }
    return Dataset.model_validate(data)


def _ctx(settings: Settings, catalog: Catalog) -> RunContext:
    ctx = RunContext(settings=settings, catalog=catalog, run_date=RUN_DATE, run_id="regions-1")
    upgrade(ctx.engine, catalog)
    return ctx


def _run(ctx: RunContext, data: bytes) -> LoadSummary:
    ds = ctx.catalog.dataset(DS)
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + "bank_sampah_bps.csv", data)
    [summary] = run_dataset(ctx, ds)
    return summary


def _facts(ctx: RunContext) -> list[dict[str, object]]:
    fact = fact_table(ctx.catalog.dataset(DS), ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(fact))]


def test_bps_codes_under_the_default_scheme_load_nothing(
    settings: Settings, catalog: Catalog
) -> None:
    villages = _bps_villages()
    ctx = _ctx(settings, catalog)
    summary = _run(ctx, _file(list(villages)))
    assert summary.nothing_loaded and summary.rows_loaded == 0
    assert summary.error is not None
    assert f"dari {len(villages)} nilai berbeda" in summary.error
    assert "`scheme: bps`" in summary.error
    assert _facts(ctx) == []


def test_bps_codes_under_scheme_bps_load_right_and_export_as_sent(
    settings: Settings, catalog: Catalog
) -> None:
    villages = _bps_villages()
    ds = _bps_dataset(catalog)
    ctx = _ctx(settings, dataclasses.replace(catalog, datasets={**catalog.datasets, DS: ds}))
    summary = _run(ctx, _file(list(villages)))
    assert (summary.status, summary.rows_loaded, summary.rows_rejected) == ("loaded", 40, 0)
    facts = _facts(ctx)
    assert {f["kode_desa_bps"]: f["kode_desa"] for f in facts} == villages
    assert villages["1606031007"] == "16.06.15.2001"  # Jirak: 16.06.03.2001 in the crosswalk

    result = exports.export_dataset(ctx, ds)
    assert result["written"] == 1, result
    runs = ctx.t("meta", "export_run")
    with ctx.engine.connect() as conn:
        prefix = conn.execute(select(runs.c.lake_prefix).where(runs.c.dataset_id == DS)).scalar()
    rows = list(csv.DictReader(io.StringIO(ctx.lake.get(f"{prefix}{DS}_2026-05.csv").decode())))
    assert len(rows) == 40
    by_bps = {r["kode_bps_desa_kelurahan"]: r for r in rows}
    assert set(by_bps) == set(villages)  # every BPS code as sent, none looked up backwards
    jirak = by_bps["1606031007"]
    assert (
        jirak["kode_desa_kelurahan"] == "16.06.15.2001" and jirak["nama_desa_kelurahan"] == "Jirak"
    )
    assert (jirak["kode_bps_kecamatan"], jirak["kode_bps_kabupaten_kota"]) == ("1606031", "1606")
    assert "kode_desa_bps" not in rows[0]  # carried once, as kode_bps_desa_kelurahan
