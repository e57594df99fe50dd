"""Satu Data exports: per dataset and period, a tidy CSV with national region columns and a
metadata JSON, under `exports/` in the lake. Personal-data columns never leave: they are dropped.

Files are deterministic (no timestamps inside), so exporting unchanged data again writes nothing:
the manifest's sha256 is compared with `meta.export_run` first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from serasan.catalog import Catalog, Dataset
from serasan.csvsafe import csv_bytes
from serasan.warehouse.facts import fact_table

if TYPE_CHECKING:
    from serasan.pipeline import RunContext

LEVEL_COLUMNS = ("provinsi", "kabupaten_kota", "kecamatan", "desa_kelurahan")


def period_key(value: Any, cadence: str) -> str:
    if isinstance(value, int):
        return str(value)
    d: dt.date = value
    if cadence == "yearly":
        return str(d.year)
    if cadence == "quarterly":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    return f"{d.year}-{d.month:02d}"


def _regions(ctx: RunContext) -> dict[str, dict[str, Any]]:
    ref = ctx.t("ref", "region")
    with ctx.engine.connect() as conn:
        return {r.kode: dict(r._mapping) for r in conn.execute(select(ref))}


def region_columns(kode: str, regions: dict[str, dict[str, Any]]) -> dict[str, str]:
    """kode_provinsi, nama_provinsi, ... down to the code's own level, from ref.region."""
    out: dict[str, str] = {}
    node = regions.get(kode)
    while node:
        out[f"kode_{node['level']}"] = node["kode"]
        out[f"nama_{node['level']}"] = node["nama"]
        node = regions.get(node["kode_induk"] or "")
    return out


def export_columns(ds: Dataset) -> list[str]:
    levels = LEVEL_COLUMNS[: LEVEL_COLUMNS.index(ds.region.level) + 1] if ds.region else \
        LEVEL_COLUMNS[:2]
    region = [f"{p}_{lvl}" for lvl in levels for p in ("kode", "nama")]
    region_col = ds.region.column if ds.region else None
    keep = [c.name for c in ds.columns if not c.pii and c.name != region_col]
    return [*region, *keep, "periode"]


def metadata(catalog: Catalog, ds: Dataset, period: str, rows: int) -> dict[str, Any]:
    sd = ds.satu_data
    return {
        "id": ds.id, "judul": ds.title, "deskripsi": ds.description, "periode": period,
        "kode_wilayah": ds.regency, "wilayah": catalog.regency(ds.regency).name,
        "pilar": ds.pillar, "produsen_data": sd.produsen_data, "walidata": sd.walidata,
        "frekuensi": sd.frekuensi, "satuan": sd.satuan, "level_penyajian": sd.level_penyajian,
        "lisensi": sd.lisensi, "kontak": sd.kontak, "jumlah_baris": rows,
        "variabel": [{"nama": c.name, "label": c.header, "tipe": c.type, "satuan": c.unit,
                      "definisi": c.description} for c in ds.columns if not c.pii],
        "kolom_data_pribadi_dihapus": ds.pii_columns,
    }


def export_dataset(ctx: RunContext, ds: Dataset,
                   regions: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Write changed periods of one dataset; returns counts of periods written and unchanged."""
    fact = fact_table(ds, ctx.engine.dialect.name)
    runs = ctx.t("meta", "export_run")
    with ctx.engine.connect() as conn:
        records = [dict(r._mapping) for r in conn.execute(
            select(fact).order_by(*[fact.c[k] for k in ds.primary_key]))]
        previous = {r.period: r.manifest_sha256 for r in conn.execute(
            select(runs.c.period, runs.c.manifest_sha256).where(runs.c.dataset_id == ds.id))}
    by_period: dict[str, list[dict[str, Any]]] = defaultdict(list)
    columns = export_columns(ds)
    for rec in records:
        key = period_key(rec[ds.period.column], ds.cadence)
        row = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in rec.items()
               if k in columns}
        if ds.region:
            row.update(region_columns(rec[ds.region.column], regions))
        else:
            row.update(region_columns(ds.regency, regions))
        row["periode"] = key
        by_period[key].append(row)
    slug = ctx.catalog.regency(ds.regency).slug
    written = unchanged = 0
    for period, rows in sorted(by_period.items()):
        prefix = f"exports/{slug}/{ds.id}/{period}/"
        files = {
            f"{ds.id}_{period}.csv": csv_bytes(rows, columns),
            "metadata.json": json.dumps(metadata(ctx.catalog, ds, period, len(rows)),
                                        indent=2, ensure_ascii=False).encode("utf-8"),
        }
        shas = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
        manifest = json.dumps({"dataset": ds.id, "periode": period, "files": shas},
                              indent=2).encode()
        manifest_sha = hashlib.sha256(manifest).hexdigest()
        if previous.get(period) == manifest_sha and ctx.lake.exists(prefix + "manifest.json"):
            unchanged += 1
            continue
        for name, data in files.items():
            ctx.lake.put(prefix + name, data, "text/csv" if name.endswith(".csv")
                         else "application/json")
        ctx.lake.put(prefix + "manifest.json", manifest, "application/json")
        with ctx.engine.begin() as conn:
            conn.execute(runs.delete().where((runs.c.dataset_id == ds.id)
                                             & (runs.c.period == period)))
            conn.execute(runs.insert().values(
                dataset_id=ds.id, period=period, manifest_sha256=manifest_sha,
                files=json.dumps(shas), lake_prefix=prefix, rows=len(rows)))
        written += 1
    return {"written": written, "unchanged": unchanged}


def export_regency(ctx: RunContext, regency: str) -> dict[str, Any]:
    regions = _regions(ctx)
    result = {ds.id: export_dataset(ctx, ds, regions) for ds in ctx.catalog.datasets_of(regency)}
    return {"regency": regency, "datasets": result,
            "periods_written": sum(r["written"] for r in result.values())}
