"""Satu Data exports: per dataset and period, the files the central portals and ministries load.

Under `exports/<regency>/<dataset>/<period>/` in the lake:
- `<dataset>_<period>.csv`: tidy, UTF-8, one header row; the national region columns first
  (`kode_provinsi, nama_provinsi, kode_kabupaten_kota, nama_kabupaten_kota`, then kecamatan and
  desa where the dataset has them, then the BPS codes from the crosswalk), the measures,
  `satuan`, and `tahun` or `periode`. Text a spreadsheet would run as a formula is neutralised;
- `<dataset>_<period>.json`: the same rows as a JSON array of records (typed, not neutralised);
- `metadata.json` (Satu Data), `datapackage.json` (Frictionless), see `satudata`;
- `manifest.json`: the sha256 of every file above, recorded in `meta.export_run`.
And per dataset: `changelog.json` (from `meta.export_change`) and `dcat.jsonld`.

Personal data never leaves: a PII column is dropped, or replaced by a keyed pseudonym
(`pii.pseudonym`, the key from the `serasan_pii` connection) where the catalog asks for
linkage; counts of people below `min_cell_count` are suppressed in desa-level data. Then the
scanner (`pii.scan_file`) reads every cell of the data files: any hit blocks the period (its
files are not written, nothing is published), is recorded in `meta.pii_finding` (masked) and
the walidata is alerted.

Files are deterministic (no clock inside), so exporting unchanged data again writes nothing:
the manifest's sha256 is compared with `meta.export_run` first. Nothing here deletes from the
lake: a period whose rows were all withdrawn is marked `withdrawn` in the changelog.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from serasan.common.csvsafe import csv_bytes
from serasan.common.enums import ExportStatus
from serasan.config.catalog import Catalog, Dataset
from serasan.lake.keys import export_prefix
from serasan.publish import dcat, kpi, pii, satudata
from serasan.publish.satudata import ExportColumn
from serasan.reference import provinces
from serasan.warehouse.facts import LOAD_ID, fact_table

if TYPE_CHECKING:
    from serasan.runtime.context import RunContext

log = logging.getLogger(__name__)
LEVEL_COLUMNS = ("provinsi", "kabupaten_kota", "kecamatan", "desa_kelurahan")
PEOPLE_UNITS = {"orang", "jiwa", "kk", "keluarga", "rumah tangga", "anggota"}
_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "date": "date",
    "boolean": "boolean",
}


def period_key(value: Any, cadence: str) -> str:
    """The export period of a period-column value: a year as it is, a date by the KPI keys."""
    return str(value) if isinstance(value, int) else kpi.period_key(cadence, value)


# ------------------------------------------------------------------------ regions


@dataclass(frozen=True)
class Regions:
    """ref.region (Kemendagri codes and their parents) and the BPS crosswalk, read once."""

    nodes: dict[str, dict[str, Any]]
    bps: dict[str, str]  # Kemendagri code -> its one BPS code (none where several map to it)

    def columns(self, kode: str) -> dict[str, str | None]:
        """kode_/nama_/kode_bps_<level> from the province down to the code's own level."""
        out: dict[str, str | None] = {}
        node = self.nodes.get(kode)
        while node:
            out[f"kode_{node['level']}"] = node["kode"]
            out[f"nama_{node['level']}"] = node["nama"]
            out[f"kode_bps_{node['level']}"] = self.bps.get(node["kode"])
            node = self.nodes.get(node["kode_induk"] or "")
        return out


def read_regions(ctx: RunContext) -> Regions:
    ref, cw = ctx.t("ref", "region"), ctx.t("ref", "bps_kemendagri")
    with ctx.engine.connect() as conn:
        nodes = {r.kode: dict(r._mapping) for r in conn.execute(select(ref))}
        found: dict[str, set[str]] = defaultdict(set)
        for r in conn.execute(select(cw)):
            found[r.kode_kemendagri].add(r.kode_bps)
    # where several BPS codes map to one Kemendagri code, a reverse lookup cannot say which one
    # a row had: it gets none (a dataset with region.scheme bps carries its own, `bps_source`)
    bps = {kode: next(iter(codes)) for kode, codes in found.items() if len(codes) == 1}
    return Regions(nodes, bps)


_BPS_WIDTHS = {"provinsi": 2, "kabupaten_kota": 4, "kecamatan": 7, "desa_kelurahan": 10}


def bps_source(ds: Dataset) -> str | None:
    """The column keeping the BPS code each row was sent with (region.scheme bps with a
    source_column): the export's BPS codes come from it, not from a reverse crosswalk lookup."""
    r = ds.region
    return r.source_column if r is not None and r.scheme == "bps" else None


def bps_columns(code: str, levels: tuple[str, ...]) -> dict[str, str | None]:
    """kode_bps_<level> of a BPS code and its parents: BPS codes nest (PP KK CCC DDD)."""
    return {f"kode_bps_{lvl}": code[: _BPS_WIDTHS[lvl]] for lvl in levels}


# ------------------------------------------------------------------------ layout


def _levels(ds: Dataset) -> tuple[str, ...]:
    level = ds.region.level if ds.region else "kabupaten_kota"
    return LEVEL_COLUMNS[: LEVEL_COLUMNS.index(level) + 1]


def layout(ds: Dataset, pseudonyms: bool) -> list[ExportColumn]:
    """The exported columns, in order. `pseudonyms`: a key is configured, so PII columns the
    catalog marks `pseudonym` leave as pseudonyms; without one they are dropped too."""
    cols: list[ExportColumn] = []
    for lvl in _levels(ds):
        words = lvl.replace("_", "/")
        cols += [
            ExportColumn(
                f"kode_{lvl}",
                "string",
                f"Kode {words}",
                f"Kode wilayah {words} (Kemendagri)",
                "region",
            ),
            ExportColumn(f"nama_{lvl}", "string", f"Nama {words}", f"Nama {words}", "region"),
        ]
    cols += [
        ExportColumn(
            f"kode_bps_{lvl}",
            "string",
            f"Kode BPS {lvl.replace('_', '/')}",
            "Kode wilayah BPS sebagaimana dikirim sumber data"
            if bps_source(ds)
            else "Kode wilayah BPS dari tabel padanan BPS-Kemendagri",
            "region",
        )
        for lvl in _levels(ds)
    ]
    if ds.voice is not None and pseudonyms:  # in place of the source's id, which is personal
        cols.append(
            ExportColumn(
                pii.ROW_ID_COLUMN,
                "string",
                "ID baris",
                "ID baris Serasan (HMAC berkunci atas kunci utama baris), pengganti ID sumber",
                "row_id",
            )
        )
    region_col = ds.region.column if ds.region else None
    taken = {c.name for c in cols} | {"satuan", "tahun", "periode"}
    for c in ds.columns:
        if c.name in (region_col, bps_source(ds)):  # the source's BPS code: kode_bps_<level>
            continue
        if c.name == ds.period.column and ds.period.granularity != "day":
            continue
        # a column of the file named like one of the export's own (its own kode_kecamatan,
        # in BPS codes) leaves as <name>_sumber, so the export's name keeps one meaning
        out_name = f"{c.name}_sumber" if c.name in taken else c.name
        if c.pii:
            if c.pii_export == "pseudonym" and pseudonyms:
                cols.append(
                    ExportColumn(
                        f"{c.name}_pseudonim",
                        "string",
                        f"{c.header} (pseudonim)",
                        f"Pseudonim {c.description.lower()}: sama untuk orang "
                        "yang sama, tidak dapat dikembalikan",
                        "pseudonym",
                        source=c.name,
                    )
                )
            continue
        cols.append(
            ExportColumn(
                out_name,
                _TYPES[c.type],
                c.header,
                c.description,
                "measure",
                unit=c.unit,
                source=c.name,
            )
        )
    cols.append(ExportColumn("satuan", "string", "Satuan", "Satuan data", "satuan"))
    if ds.cadence == "yearly":
        cols.append(ExportColumn("tahun", "integer", "Tahun", "Tahun data", "period"))
    else:
        cols.append(
            ExportColumn("periode", "string", "Periode", f"Periode data ({ds.cadence})", "period")
        )
    return cols


def export_key(ds: Dataset, columns: list[ExportColumn]) -> list[str]:
    """The exported table's primary key, when every key column is exported."""
    by_source = {c.source: c.name for c in columns if c.source}
    out = []
    for k in ds.primary_key:
        if ds.region and k == ds.region.column:
            out.append(f"kode_{ds.region.level}")
        elif k == ds.period.column and ds.period.granularity != "day":
            out.append("tahun" if ds.cadence == "yearly" else "periode")
        elif k in by_source:
            out.append(by_source[k])
        elif any(c.role == "row_id" for c in columns):
            return [pii.ROW_ID_COLUMN]  # one per primary key, so as unique as the key
        else:
            return []  # a key column was personal data and is not exported
    return out


def _checked_key(
    ds: Dataset, key: list[str], rows: list[dict[str, Any]], notes: dict[str, Any]
) -> list[str]:
    """The key, if the exported rows honour it (unique, no empty cell): a region code missing
    from ref.region, or two spellings of one NIK that pseudonymise alike, would otherwise
    make a validator reject the whole file. When they do not, the key is left out, and why."""
    if not key:
        return key
    seen = set()
    for r in rows:
        value = tuple(r.get(k) for k in key)
        if any(v is None or v == "" for v in value) or value in seen:
            notes["kunci_tidak_dinyatakan"] = (
                f"kolom {', '.join(key)} tidak unik atau ada yang kosong pada ekspor ini"
            )
            log.warning(
                "%s: exported key %s is not unique or has empty cells: datapackage "
                "declares no primary key",
                ds.id,
                key,
            )
            return []
        seen.add(value)
    return key


def _small_count_columns(ds: Dataset) -> list[str]:
    """Counts of people in desa-level data: the cells small enough to identify someone."""
    if not ds.region or ds.region.level != "desa_kelurahan":
        return []
    return [
        c.name
        for c in ds.columns
        if c.type == "integer"
        and not c.pii
        and c.name not in ds.primary_key
        and (c.unit or "").lower() in PEOPLE_UNITS
    ]


# ------------------------------------------------------------------------ rows


@dataclass
class Shaped:
    """The period's rows as exported, and what protecting them took."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    suppressed: int = 0
    load_ids: set[str] = field(default_factory=set)


def _shape(
    ctx: RunContext,
    ds: Dataset,
    records: list[dict[str, Any]],
    period: str,
    columns: list[ExportColumn],
    regions: Regions,
) -> Shaped:
    key = ctx.settings.pii_key
    small = set(_small_count_columns(ds))
    floor = ds.satu_data.min_cell_count
    out = Shaped()
    wanted = [c.name for c in columns]
    for rec in records:
        out.load_ids.add(rec[LOAD_ID])
        rec = pii.mask_voice_record(ds, rec)  # a citizen-voice text, masked; others unchanged
        row: dict[str, Any] = dict(
            regions.columns(rec[ds.region.column]) if ds.region else regions.columns(ds.regency)
        )
        if (source := bps_source(ds)) is not None and rec.get(source):
            row.update(bps_columns(str(rec[source]), _levels(ds)))
        for c in columns:
            if c.role == "measure":
                value = rec[c.source or c.name]
                if isinstance(value, float) and math.isnan(value):
                    value = None  # JSON has no NaN; an empty cell in the CSV
                if (c.source or c.name) in small and value is not None and 0 < value < floor:
                    value = None
                    out.suppressed += 1
                row[c.name] = value.isoformat() if isinstance(value, dt.date) else value
            elif c.role == "pseudonym":
                assert c.source is not None  # `layout` names the column a pseudonym stands for
                row[c.name] = pii.pseudonym(rec[c.source], key or "", c.source or c.name)
            elif c.role == "row_id":
                row[c.name] = pii.row_id(ds, rec, key or "")
        row["satuan"] = ds.satu_data.satuan
        if ds.cadence == "yearly":
            row["tahun"] = int(period)
        else:
            row["periode"] = period
        out.rows.append({k: row.get(k) for k in wanted})
    return out


def _json_bytes(rows: list[dict[str, Any]]) -> bytes:
    """A JSON array, one record per line: diffable, and streamable by line-oriented tools."""
    body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    return f"[\n{body}\n]\n".encode() if rows else b"[]\n"


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------------ one dataset


def dataset_prefix(catalog: Catalog, ds: Dataset) -> str:
    """Where a dataset's exports live in the lake: `exports/<regency slug>/<dataset>/`."""
    return export_prefix(catalog, ds)


def allowed_contacts(ctx: RunContext, ds: Dataset) -> set[str]:
    """Addresses the catalog publishes on purpose: never a finding."""
    reg = ctx.catalog.regency(ds.regency)
    out = {reg.walidata_email, ds.satu_data.kontak, *ctx.settings.walidata_email(reg.slug)}
    out |= {c.email for o in reg.opds for c in o.contacts}
    return {a for a in out if a}


@dataclass
class PeriodExport:
    period: str
    files: dict[str, bytes]
    manifest: bytes
    rows: int
    findings: list[pii.Finding]
    load_ids: set[str]
    prefix: str

    @property
    def manifest_sha(self) -> str:
        return _sha(self.manifest)


def build_period(
    ctx: RunContext, ds: Dataset, period: str, records: list[dict[str, Any]], regions: Regions
) -> PeriodExport:
    """Every file of one period, scanned for personal data; nothing is written here."""
    key = ctx.settings.pii_key
    columns = layout(ds, pseudonyms=bool(key))
    shaped = _shape(ctx, ds, records, period, columns, regions)
    names = [c.name for c in columns]
    base = f"{ds.id}_{period}"
    data_csv = csv_bytes(shaped.rows, names)
    data_json = _json_bytes(shaped.rows)
    dropped = [c.name for c in ds.columns if c.pii and not (c.pii_export == "pseudonym" and key)]
    notes = {
        "kolom_dihapus": dropped,
        "kolom_pseudonim": [c.name for c in columns if c.role == "pseudonym"],
        "penekanan_sel_kecil": {
            "ambang": ds.satu_data.min_cell_count,
            "kolom": _small_count_columns(ds),
            "jumlah_sel_ditekan": shaped.suppressed,
        },
    }
    if ds.voice is not None:
        notes["kolom_teks_disamarkan"] = pii.masked_text_columns(ds)
        notes["id_baris"] = [pii.ROW_ID_COLUMN] if key else []
    if not key and any(c.pii_export == "pseudonym" for c in ds.columns if c.pii):
        notes["catatan"] = (
            "kunci pseudonim belum diatur (koneksi serasan_pii): kolom pseudonim ikut dihapus"
        )
    key_columns = _checked_key(ds, export_key(ds, columns), shaped.rows, notes)
    files = {
        f"{base}.csv": data_csv,
        f"{base}.json": data_json,
        "metadata.json": _dump(
            satudata.satu_data_metadata(
                ctx.catalog,
                ds,
                period,
                columns,
                len(shaped.rows),
                notes,
                _areas_changed(ds, period, records),
            )
        ),
        "datapackage.json": _dump(
            satudata.datapackage(
                ctx.catalog,
                ds,
                period,
                columns,
                f"{base}.csv",
                data_csv,
                _sha(data_csv),
                key_columns,
            )
        ),
    }
    shas = {name: _sha(data) for name, data in sorted(files.items())}
    manifest = _dump({"dataset": ds.id, "periode": period, "files": shas})
    numeric = [c.name for c in columns if c.type in ("integer", "number")]
    allow = allowed_contacts(ctx, ds)
    findings = [
        f
        for name in (f"{base}.csv", f"{base}.json")
        for f in pii.scan_file(name, files[name], allow=allow, numeric_columns=numeric)
    ]
    return PeriodExport(
        period=period,
        files=files,
        manifest=manifest,
        rows=len(shaped.rows),
        findings=findings,
        load_ids=shaped.load_ids,
        prefix=f"{dataset_prefix(ctx.catalog, ds)}{period}/",
    )


def _areas_changed(ds: Dataset, period: str, records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The period's region codes whose area changed after it (16.03.03 in 2018 data: 16.03.26
    split off in 2020): a time series across that change must not be read as comparable."""
    if ds.region is None:
        return []
    year = int(period[:4])
    out = []
    for code in sorted({str(r[ds.region.column]) for r in records if r[ds.region.column]}):
        if provinces.area_changed(code, year):
            r = provinces.resolve_code(code, year)
            out.append({"kode": code, "keterangan": r.message_id if r is not None else ""})
    return out


def _records_by_period(ctx: RunContext, ds: Dataset) -> dict[str, list[dict[str, Any]]]:
    """The fact rows of each export period; a regency's view of a province-scope dataset gets
    the rows inside the regency only (a bound prefix match, never SQL built from a value)."""
    source = ctx.catalog.source_of(ds)
    fact = fact_table(source, ctx.engine.dialect.name)
    query = select(fact).order_by(*[fact.c[k] for k in ds.primary_key])
    if source.wide and ds.region is not None:
        col = fact.c[ds.region.column]
        query = query.where((col == ds.regency) | col.startswith(ds.regency + ".", autoescape=True))
    by_period: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with ctx.engine.connect() as conn:
        for r in conn.execute(query):
            rec = dict(r._mapping)
            by_period[period_key(rec[ds.period.column], ds.cadence)].append(rec)
    return by_period


def _reason(
    ctx: RunContext,
    ds: Dataset,
    period: str,
    change: str,
    load_ids: set[str],
    before: dict[str, Any] | None,
) -> str:
    """Why a period changed, in words the walidata and the ministries read."""
    op = ctx.t("meta", "operation")
    since = (before or {}).get("exported_at") or ""
    earlier = set(((before or {}).get("load_ids") or "").split(",")) - {""}
    new = sorted(load_ids - earlier)
    gone = earlier - load_ids  # loads whose rows left the period: a retraction says why
    with ctx.engine.connect() as conn:
        ops = [
            o
            for o in conn.execute(
                select(op.c.kind, op.c.load_id, op.c.reason, op.c.period, op.c.recorded_at)
                .where(op.c.dataset_id == ctx.catalog.source_of(ds).id)
                .order_by(op.c.id)
            )
            if (o.kind == "retract" and o.load_id in gone)
            or (
                o.kind == "reprocess"
                and since
                and o.recorded_at >= since
                and period_covers(o.period, period)
            )
        ]
    parts = []
    if change == "added":
        parts.append("periode baru")
    elif change == "metadata":
        parts.append("hanya metadata berubah (katalog atau tabel wilayah), datanya tetap")
    elif change == "withdrawn":
        parts.append("semua baris periode ini ditarik")
    else:
        parts.append("data direvisi")
    if new:
        parts.append("muatan baru: " + ", ".join(new))
    for o in ops:
        word = {"retract": "penarikan", "reprocess": "pemrosesan ulang"}.get(o.kind, o.kind)
        parts.append(f"{word} {o.load_id or o.period or ''}: {o.reason or '-'}")
    return "; ".join(parts)


def period_covers(op_period: str | None, period: str) -> bool:
    """Whether an operation's period ('2026', '2026-01', '2026-01-15') falls in an export
    period ('2026', '2026-Q1', '2026-01')."""
    if not op_period:
        return False
    if "-Q" in period:
        year, q = period.split("-Q")
        months = {f"{year}-{m:02d}" for m in range(3 * int(q) - 2, 3 * int(q) + 1)}
        return op_period == year or op_period[:7] in months
    return op_period.startswith(period) or period.startswith(op_period)


def _changes(ctx: RunContext, ds: Dataset) -> list[dict[str, Any]]:
    """The dataset's changelog rows, oldest first."""
    ch = ctx.t("meta", "export_change")
    with ctx.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(ch).where(ch.c.dataset_id == ds.id).order_by(ch.c.id)
            ).mappings()
        ]


def _change(
    ds: Dataset, pe: PeriodExport, before: dict[str, Any] | None, last: dict[str, Any] | None
) -> str:
    """added (first time, or back after a withdrawal), revised, or metadata (same rows)."""
    if last is None or last["change"] == "withdrawn":
        return "added"
    data_name = f"{ds.id}_{pe.period}.csv"
    earlier = json.loads((before or {}).get("files") or "{}")
    if earlier.get(data_name) == json.loads(pe.manifest)["files"][data_name]:
        return "metadata"  # the rows are as they were: only the documents changed
    return "revised"


def _record(
    ctx: RunContext,
    ds: Dataset,
    pe: PeriodExport,
    status: str,
    before: dict[str, Any] | None,
    last: dict[str, Any] | None,
) -> None:
    runs, ch = ctx.t("meta", "export_run"), ctx.t("meta", "export_change")
    now = _now()
    shas = json.loads(pe.manifest)["files"]
    change = _change(ds, pe, before, last) if status == ExportStatus.READY else None
    reason = (
        _reason(ctx, ds, pe.period, change, pe.load_ids, {**(before or {}), **(last or {})})
        if change
        else None
    )
    with ctx.engine.begin() as conn:
        conn.execute(
            runs.delete().where((runs.c.dataset_id == ds.id) & (runs.c.period == pe.period))
        )
        conn.execute(
            runs.insert().values(
                dataset_id=ds.id,
                period=pe.period,
                manifest_sha256=pe.manifest_sha,
                files=json.dumps(shas),
                lake_prefix=pe.prefix,
                rows=pe.rows,
                status=status,
                metadata_missing=",".join(satudata.missing_fields(ds)) or None,
                scan_hits=len(pe.findings),
                exported_at=now,
            )
        )
        if change:
            conn.execute(
                ch.insert().values(
                    dataset_id=ds.id,
                    period=pe.period,
                    change=change,
                    reason=reason,
                    load_ids=",".join(sorted(pe.load_ids)),
                    manifest_sha256=pe.manifest_sha,
                    rows=pe.rows,
                    recorded_at=now,
                    logical_date=ctx.run_date,
                )
            )


def _record_findings(ctx: RunContext, ds: Dataset, pe: PeriodExport) -> None:
    tbl = ctx.t("meta", "pii_finding")
    now = _now()
    with ctx.engine.begin() as conn:
        conn.execute(tbl.delete().where((tbl.c.dataset_id == ds.id) & (tbl.c.period == pe.period)))
        if pe.findings:
            conn.execute(
                tbl.insert(),
                [
                    {
                        "dataset_id": ds.id,
                        "period": pe.period,
                        "file": f.file,
                        "row": f.row,
                        "column_name": f.column,
                        "kind": f.kind,
                        "excerpt": f.excerpt,
                        "found_at": now,
                    }
                    for f in pe.findings
                ],
            )


def _alert_blocked(ctx: RunContext, ds: Dataset, pe: PeriodExport) -> None:
    """Tell the walidata that a period was held back, and where the personal data is."""
    from serasan.alerts import delivery

    reg = ctx.catalog.regency(ds.regency)
    recipients = ctx.settings.walidata_email(reg.slug) or [reg.walidata_email]
    lines = [
        f"Ekspor Satu Data {ds.title} ({ds.id}) periode {pe.period} DITAHAN: pemindai "
        f"menemukan {len(pe.findings)} sel yang tampak berisi data pribadi.",
        "Berkas tidak ditulis ke exports/ dan tidak dipublikasikan ke portal.",
        "",
        "berkas | baris | kolom | jenis | cuplikan (disamarkan)",
    ]
    lines += [f"{f.file} | {f.row} | {f.column} | {f.kind} | {f.excerpt}" for f in pe.findings[:50]]
    if len(pe.findings) > 50:
        lines.append(f"... dan {len(pe.findings) - 50} lainnya (meta.pii_finding).")
    lines += [
        "",
        "Yang perlu dilakukan: tandai kolom itu `pii: true` di katalog "
        f"(catalog/datasets/{ds.id}.yaml), atau minta {ds.opd} memperbaiki sumbernya. "
        "Ekspor berikutnya memeriksa lagi.",
        "",
        f"Salam,\nSerasan - {reg.walidata}",
    ]
    aid = delivery.alert_id("privacy", ds.id, pe.period, pe.manifest_sha[:16])
    delivery.enqueue(
        ctx.engine,
        ctx.settings,
        delivery.OutboxAlert(
            alert_id=aid,
            kind="privacy",
            recipients=recipients,
            subject=f"[Serasan] Ekspor ditahan: data pribadi di {ds.id} {pe.period}",
            body="\n".join(lines),
            dataset_id=ds.id,
            regency=reg.kode,
            opd=ds.opd,
            lake_key=pe.prefix,
        ),
    )


def _put_if_changed(ctx: RunContext, key: str, data: bytes, content_type: str) -> bool:
    if ctx.lake.exists(key) and _sha(ctx.lake.get(key)) == _sha(data):
        return False
    ctx.lake.put(key, data, content_type)
    return True


def _content_type(name: str) -> str:
    if name.endswith(".csv"):
        return "text/csv; charset=utf-8"
    return "application/ld+json" if name.endswith(".jsonld") else "application/json"


def export_dataset(
    ctx: RunContext,
    ds: Dataset,
    regions: Regions | None = None,
    periods: Collection[str] | None = None,
) -> dict[str, Any]:
    """Write the changed periods of one dataset (only `periods`, as the export names them:
    2026, 2026-Q3, 2026-10, when given); returns what happened to each."""
    regions = regions or read_regions(ctx)
    runs = ctx.t("meta", "export_run")
    with ctx.engine.connect() as conn:
        previous = {
            r.period: dict(r._mapping)
            for r in conn.execute(select(runs).where(runs.c.dataset_id == ds.id))
        }
    last = {c["period"]: c for c in _changes(ctx, ds)}  # the latest change of each period
    by_period = _records_by_period(ctx, ds)
    if periods is not None:
        wanted = set(periods)
        by_period = {p: r for p, r in by_period.items() if p in wanted}
        previous = {p: r for p, r in previous.items() if p in wanted}
    out: dict[str, Any] = {"written": 0, "unchanged": 0, "blocked": [], "withdrawn": []}
    recorded = 0  # periods whose export_run row changed: the dataset documents follow them
    for period, records in sorted(by_period.items()):
        pe = build_period(ctx, ds, period, records, regions)
        before = previous.get(period)
        status = ExportStatus.BLOCKED if pe.findings else ExportStatus.READY
        if (
            before is not None
            and before["manifest_sha256"] == pe.manifest_sha
            and before["status"] == status
            and (status == ExportStatus.BLOCKED or ctx.lake.exists(pe.prefix + "manifest.json"))
        ):
            out["unchanged"] += 1
            if status == ExportStatus.BLOCKED:
                out["blocked"].append(period)
            continue
        _record_findings(ctx, ds, pe)
        recorded += 1
        if status == ExportStatus.BLOCKED:
            log.warning(
                "%s %s: export held back, %d cells look like personal data",
                ds.id,
                period,
                len(pe.findings),
            )
            _alert_blocked(ctx, ds, pe)  # first: the alert id is stable, so a rerun no-ops
            _record(ctx, ds, pe, status, before, last.get(period))
            out["blocked"].append(period)
            continue
        for name, data in pe.files.items():
            ctx.lake.put(pe.prefix + name, data, _content_type(name))
        ctx.lake.put(pe.prefix + "manifest.json", pe.manifest, "application/json")
        _record(ctx, ds, pe, status, before, last.get(period))
        out["written"] += 1
    for period in sorted(set(previous) - set(by_period)):
        change = last.get(period)
        if change is not None and change["change"] != "withdrawn":  # it was published
            _withdraw(ctx, ds, period, previous[period], change)
            out["withdrawn"].append(period)
            recorded += 1
    if recorded or (last and not ctx.lake.exists(dataset_prefix(ctx.catalog, ds) + "dcat.jsonld")):
        _dataset_documents(ctx, ds)
    return out


def _withdraw(
    ctx: RunContext, ds: Dataset, period: str, before: dict[str, Any], last: dict[str, Any] | None
) -> None:
    """Every row of an exported period was retracted: say so; the lake keeps the old files."""
    runs, ch = ctx.t("meta", "export_run"), ctx.t("meta", "export_change")
    now = _now()
    reason = _reason(ctx, ds, period, "withdrawn", set(), {**before, **(last or {})})
    with ctx.engine.begin() as conn:
        conn.execute(
            runs.update()
            .where((runs.c.dataset_id == ds.id) & (runs.c.period == period))
            .values(status=ExportStatus.WITHDRAWN, exported_at=now)
        )
        conn.execute(
            ch.insert().values(
                dataset_id=ds.id,
                period=period,
                change="withdrawn",
                reason=reason,
                load_ids=None,
                manifest_sha256=None,
                rows=0,
                recorded_at=now,
                logical_date=ctx.run_date,
            )
        )


def _dataset_documents(ctx: RunContext, ds: Dataset) -> None:
    """The dataset's changelog and DCAT record, rewritten only when their bytes change."""
    runs = ctx.t("meta", "export_run")
    changes = _changes(ctx, ds)
    with ctx.engine.connect() as conn:
        ready = (
            conn.execute(
                select(runs)
                .where(runs.c.dataset_id == ds.id, runs.c.status == ExportStatus.READY)
                .order_by(runs.c.period)
            )
            .mappings()
            .all()
        )
    if not changes and not ready:
        return
    base = dataset_prefix(ctx.catalog, ds)
    log_doc = {
        "dataset": ds.id,
        "judul": ds.title,
        "perubahan": [
            {
                "periode": c["period"],
                "perubahan": c["change"],
                "alasan": c["reason"],
                "load_id": (c["load_ids"] or "").split(",") if c["load_ids"] else [],
                "jumlah_baris": c["rows"],
                "manifest_sha256": c["manifest_sha256"],
                "dicatat": c["recorded_at"],
            }
            for c in changes
        ],
    }
    stamps: dict[str, list[str]] = defaultdict(list)  # period -> when its changes were recorded
    for c in changes:
        stamps[c["period"]].append(c["recorded_at"])
    where = dcat.addresses(ctx.settings, ctx.engine, ds.id)
    dists = []
    for r in ready:
        files = json.loads(r["files"])
        for name in sorted(files):
            if name.endswith((".csv", ".json")) and name.startswith(ds.id):
                key = r["lake_prefix"] + name
                size = ctx.lake.size(key) if ctx.lake.exists(key) else 0
                dists.append(
                    dcat.Distribution(
                        period=r["period"],
                        name=name,
                        size=size,
                        sha256=files[name],
                        media_type="text/csv" if name.endswith(".csv") else "application/json",
                        location=ctx.lake.location(key),
                        download_url=where.download_url(r["period"], key, files[name]),
                        issued=min(stamps[r["period"]], default=None),
                        modified=max(stamps[r["period"]], default=None),
                    )
                )
    issued = changes[0]["recorded_at"] if changes else None
    modified = changes[-1]["recorded_at"] if changes else None
    _put_if_changed(ctx, base + "changelog.json", _dump(log_doc), "application/json")
    _put_if_changed(
        ctx,
        base + "dcat.jsonld",
        dcat.record(ctx.catalog, ds, dists, issued, modified),
        "application/ld+json",
    )


# ------------------------------------------------------------------------ a regency


def export_regency(
    ctx: RunContext,
    regency: str,
    datasets: Collection[str] | None = None,
    periods: Collection[str] | None = None,
) -> dict[str, Any]:
    """Export every dataset of the regency, each province-scope dataset covering it as the
    regency's own rows (or those of `datasets`; only `periods`, when given). Publication to CKAN is `publish_regency`'s (the export DAG's next task), so an
    export never waits on the portal. The DAG's task and `serasan export` both call this."""
    regions = read_regions(ctx)
    result = {
        ds.id: export_dataset(ctx, ds, regions, periods)
        for ds in ctx.catalog.export_views(regency)
        if datasets is None or ds.id in datasets or ds.view_source in datasets
    }
    out: dict[str, Any] = {
        "regency": regency,
        "datasets": result,
        "periods_written": sum(r["written"] for r in result.values()),
        "periods_blocked": sum(len(r["blocked"]) for r in result.values()),
    }
    return out


def publish_regency(
    ctx: RunContext,
    regency: str,
    datasets: Collection[str] | None = None,
    *,
    fail_on_outage: bool | None = None,
) -> dict[str, Any]:
    """Send every dataset's ready periods (or those of `datasets`) to the CKAN portal;
    unchanged ones are no-ops.

    Each request is bounded by SERASAN_CONNECT_TIMEOUT_S (connecting) and
    SERASAN_S3_READ_TIMEOUT_S (waiting for the answer). When the portal stays unavailable
    through one dataset's retries, the other datasets' periods are left pending without
    waiting again. Then, with `fail_on_outage` (default: outside a DAG run, when no next run
    comes back for the pending periods by itself), `ckan.PortalDown` is raised once everything
    is recorded; in a DAG run the result says it and the next run sends them.
    """
    from serasan.publish import ckan

    portal = ckan.configured_portal(ctx.settings)
    if portal is None:
        return {}
    url, token = portal
    timeout = (ctx.settings.connect_timeout_s, ctx.settings.s3_read_timeout_s)
    outage: str | None = None
    runs = ctx.t("meta", "export_run")
    out: dict[str, Any] = {}
    for ds in ctx.catalog.export_views(regency):
        if datasets is not None and ds.id not in datasets and ds.view_source not in datasets:
            continue
        with ctx.engine.connect() as conn:
            rows = (
                conn.execute(select(runs).where(runs.c.dataset_id == ds.id).order_by(runs.c.period))
                .mappings()
                .all()
            )
        if not rows:
            continue
        blocked = {r["period"] for r in rows if r["status"] == ExportStatus.BLOCKED}
        ready = [r for r in rows if r["status"] == ExportStatus.READY]
        files = []
        for r in ready:
            name = f"{ds.id}_{r['period']}.csv"
            files.append(
                ckan.PeriodFile(
                    period=r["period"],
                    name=name,
                    data=ctx.lake.get(r["lake_prefix"] + name),
                    sha256=json.loads(r["files"])[name],
                )
            )
        # the package's extras come from the newest period's metadata
        meta = json.loads(ctx.lake.get(ready[-1]["lake_prefix"] + "metadata.json")) if ready else {}
        res = ckan.publish_dataset(
            ctx.engine,
            url,
            token,
            ctx.catalog,
            ds,
            meta,
            files,
            blocked=blocked,
            timeout=timeout,
            down=outage,
        )
        outage = outage or res.outage
        out[ds.id] = dataclasses.asdict(res)
        # the DCAT record now gives the portal's resource URLs as download URLs (rewritten
        # only when its bytes change)
        _dataset_documents(ctx, ds)
    if outage is not None and (ctx.dag_id is None if fail_on_outage is None else fail_on_outage):
        pending = {k: r["pending"] for k, r in out.items() if r["pending"]}
        raise ckan.PortalDown(url, outage, pending)
    return out
