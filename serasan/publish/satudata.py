"""The metadata documents of a Satu Data export, built from the catalog alone.

Three readers, three documents, one source:
- `metadata.json` for Satu Data Indonesia (Perpres 39/2019): the data standard (konsep,
  definisi, klasifikasi, ukuran, satuan), BPS's variable metadata per column (MS-Var) and
  indicator metadata per KPI that reads the dataset (MS-Ind), and who answers for the data;
- `datapackage.json`, a Frictionless data package, so any tool can check the CSV's types and
  key without reading our documentation;
- `dcat.jsonld`, a DCAT record per dataset, which national catalogues harvest: built as RDF
  in `serasan.publish.dcat` (with the licences below).

Everything here is a pure function of the catalog and the export's own columns and files:
no clock, no database, so the same export always yields the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from serasan.config.catalog import PILLARS, Catalog, Dataset

STANDARD = ("konsep", "definisi", "klasifikasi", "ukuran", "satuan")
RESPONSIBLE = (
    "produsen_data",
    "walidata",
    "frekuensi",
    "level_penyajian",
    "jadwal_rilis",
    "lisensi",
    "kontak",
)
LICENCES = {  # catalog licence -> (Frictionless/SPDX name, URL); DCAT uses the URL as its IRI
    "CC-BY-4.0": ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": ("CC-BY-SA-4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC0-1.0": ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODC-BY-1.0": ("ODC-BY-1.0", "https://opendatacommons.org/licenses/by/1-0/"),
    "ODbL-1.0": ("ODbL-1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "PDDL-1.0": ("PDDL-1.0", "https://opendatacommons.org/licenses/pddl/1-0/"),
}


@dataclass(frozen=True)
class ExportColumn:
    """One column of the exported table, and where it came from."""

    name: str
    type: str  # Frictionless type: string, integer, number, date, boolean
    title: str
    description: str
    role: str  # region | measure | pseudonym | satuan | period
    unit: str | None = None
    source: str | None = None  # the catalog column it was derived from


def missing_fields(ds: Dataset) -> list[str]:
    """The Satu Data fields the dataset has not declared (the compliance report lists them); a
    field still reading TODO (an onboarding draft's placeholder) is not declared either."""
    sd = ds.satu_data

    def declared(value: object) -> bool:
        return bool(value) and not str(value).strip().upper().startswith("TODO")

    return [f for f in (*STANDARD, *RESPONSIBLE) if not declared(getattr(sd, f))]


def _ms_var(ds: Dataset, col: ExportColumn) -> dict[str, Any]:
    """BPS MS-Var fields for one exported column."""
    src = ds.column(col.source) if col.source else None
    rules = []
    if src is not None and not src.nullable:
        rules.append("wajib diisi")
    if src is not None and src.allowed:
        rules.append("salah satu dari: " + ", ".join(src.allowed))
    if col.role == "pseudonym":
        rules.append("pseudonim HMAC-SHA256 (awalan PSN-), bukan nilai asli")
    return {
        "nama_variabel": col.name,
        "alias": col.title,
        "konsep": ds.satu_data.konsep if col.role == "measure" else None,
        "definisi": col.description,
        "referensi_waktu": ds.period.granularity,
        "tipe_data": col.type,
        "klasifikasi_isian": src.allowed if src is not None and src.allowed else None,
        "aturan_validasi": "; ".join(rules) or None,
        "satuan": col.unit,
        "dapat_diakses_umum": True,
    }


def _ms_ind(catalog: Catalog, ds: Dataset) -> list[dict[str, Any]]:
    """BPS MS-Ind fields for every KPI computed from this dataset."""
    out = []
    for k in sorted(catalog.kpis.values(), key=lambda k: k.code):
        if catalog.source_of(ds).id not in k.sources or k.regency != ds.regency:
            continue
        out.append(
            {
                "kode_indikator": k.code,
                "nama_indikator": k.name,
                "pilar": PILLARS[k.pillar],
                "konsep": k.konsep,
                "definisi": k.definisi,
                "metode_rumus": k.rumus,
                "satuan": k.satuan,
                "level_estimasi": k.level,
                "periode_penyajian": k.cadence,
                "interpretasi": (
                    "semakin tinggi semakin baik"
                    if k.polarity == "higher_is_better"
                    else "semakin rendah semakin baik"
                ),
                "target_tahunan": (
                    {str(y): v for y, v in sorted(k.target.items())}
                    if isinstance(k.target, dict)
                    else k.target
                ),
                "variabel_pembangun": sorted(k.sources),
                "dapat_diakses_umum": True,
            }
        )
    return out


def satu_data_metadata(
    catalog: Catalog,
    ds: Dataset,
    period: str,
    columns: list[ExportColumn],
    rows: int,
    notes: dict[str, Any],
    areas_changed: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The Satu Data metadata document of one dataset and period; `areas_changed`: its region
    codes whose area changed after the period (`wilayah_berubah`, only when there are some)."""
    sd, reg = ds.satu_data, catalog.regency(ds.regency)
    return {
        "id": ds.id,
        "judul": ds.title,
        "deskripsi": ds.description,
        "periode": period,
        "kode_wilayah": ds.regency,
        "wilayah": reg.name,
        "pilar": PILLARS[ds.pillar],
        "standar_data": {f: getattr(sd, f) for f in STANDARD},
        "produsen_data": sd.produsen_data,
        "walidata": sd.walidata,
        "frekuensi": sd.frekuensi,
        "satuan": sd.satuan,
        "level_penyajian": sd.level_penyajian,
        "jadwal_rilis": sd.jadwal_rilis,
        "lisensi": sd.lisensi,
        "kontak": sd.kontak,
        "jumlah_baris": rows,
        "metadata_variabel": [_ms_var(ds, c) for c in columns],
        "metadata_indikator": _ms_ind(catalog, ds),
        "metadata_belum_lengkap": missing_fields(ds),
        "perlindungan_data_pribadi": notes,
        **({"wilayah_berubah": areas_changed} if areas_changed else {}),
    }


def datapackage(
    catalog: Catalog,
    ds: Dataset,
    period: str,
    columns: list[ExportColumn],
    csv_name: str,
    csv_bytes: bytes,
    csv_sha256: str,
    primary_key: list[str],
) -> dict[str, Any]:
    """A Frictionless data package describing the period's CSV (types, key, licence, hash)."""
    licence, url = LICENCES.get(ds.satu_data.lisensi, (ds.satu_data.lisensi, None))
    schema: dict[str, Any] = {
        "fields": [
            {"name": c.name, "type": c.type, "title": c.title, "description": c.description}
            for c in columns
        ],
        "missingValues": [""],
    }
    if primary_key:
        schema["primaryKey"] = primary_key
    return {
        "name": f"{ds.id}-{period}".lower().replace("_", "-"),
        "title": f"{ds.title} ({period})",
        "description": ds.description,
        "licenses": [{"name": licence, **({"path": url} if url else {})}],
        "sources": [{"title": ds.satu_data.produsen_data}],
        "contributors": [{"title": ds.satu_data.walidata, "role": "publisher"}],
        "keywords": sorted({*ds.satu_data.tags, PILLARS[ds.pillar]}),
        "resources": [
            {
                "name": f"{ds.id}-{period}".lower().replace("_", "-"),
                "path": csv_name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": len(csv_bytes),
                "hash": f"sha256:{csv_sha256}",
                "schema": schema,
            }
        ],
    }
