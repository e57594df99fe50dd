"""The CSV behind every chart and table of the pack, for the evidence bundle.

One file per kind of table, one row per figure, machine-readable (dots for decimals, ISO dates,
empty for missing; shares empty below the minimum of reviews, with the minimum beside them).
Text cells a spreadsheet would run as a formula are neutralised (`csvsafe`). Quotes are the
masked texts with Serasan's row ids, as in the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from serasan.common.csvsafe import csv_bytes
from serasan.publish.evaluation.evidence import KpiEvidence, Pack


def _n(value: float | None, digits: int = 6) -> float | str:
    return "" if value is None else round(float(value), digits)


def _csv(rows: Iterable[dict[str, Any]], columns: list[str]) -> bytes:
    return csv_bytes(rows, columns)


def _programme_of(pack: Pack) -> dict[str, str]:
    return {k.kpi.code: g.programme.code for g in pack.programmes for k in g.kpis}


def _kpi_rows(pack: Pack) -> list[tuple[str, KpiEvidence]]:
    owner = _programme_of(pack)
    return [(owner.get(k.kpi.code, ""), k) for k in pack.kpis]


def tables(pack: Pack) -> dict[str, bytes]:
    """File name -> CSV bytes."""
    out: dict[str, bytes] = {}
    kpis = _kpi_rows(pack)
    out["ringkasan.csv"] = _csv(
        (
            {
                "pilar": p.code,
                "program": g.programme.code,
                "nama_program": g.programme.name,
                "opd": g.programme.opd,
                "sejak": g.programme.since,
                "iku": len(g.kpis),
                "iku_sesuai_target": g.on_track,
                "ulasan": "" if g.voice is None else g.voice.reviews,
                "rating_rata_rata": "" if g.voice is None else _n(g.voice.average_rating),
                "sentimen_positif_persen": "" if g.voice is None else _n(g.voice.positive_pct),
            }
            for p in pack.pillars
            for g in p.programmes
        ),
        [
            "pilar",
            "program",
            "nama_program",
            "opd",
            "sejak",
            "iku",
            "iku_sesuai_target",
            "ulasan",
            "rating_rata_rata",
            "sentimen_positif_persen",
        ],
    )
    out["iku.csv"] = _csv(
        (
            {
                "program": prog,
                "pilar": k.kpi.pillar,
                "kode": k.kpi.code,
                "nama": k.kpi.name,
                "satuan": k.kpi.satuan,
                "periode": k.period,
                "periode_dalam_tahun": "ya" if k.in_year else "tidak",
                "nilai": _n(k.value),
                "target": _n(k.target),
                "capaian_persen": _n(k.achievement),
                "hasil_rumus_persen": _n(k.achievement_formula),
                "status": k.status,
                "periode_tahun_lalu": k.previous_period,
                "nilai_tahun_lalu": _n(k.previous_value),
                "status_tahun_lalu": k.previous_status,
                "n": "" if k.n is None else k.n,
                "n_minimum": "" if k.min_n is None else k.min_n,
                "load_ids": ",".join(ld.load_id for ld in k.loads),
                "alasan": k.reason or "",
            }
            for prog, k in kpis
        ),
        [
            "program",
            "pilar",
            "kode",
            "nama",
            "satuan",
            "periode",
            "periode_dalam_tahun",
            "nilai",
            "target",
            "capaian_persen",
            "hasil_rumus_persen",
            "status",
            "periode_tahun_lalu",
            "nilai_tahun_lalu",
            "status_tahun_lalu",
            "n",
            "n_minimum",
            "load_ids",
            "alasan",
        ],
    )
    out["iku_tren.csv"] = _csv(
        (
            {
                "kode": k.kpi.code,
                "periode": p.period,
                "nilai": _n(p.value),
                "target": _n(p.target),
                "status": p.status,
                "tahun_evaluasi": "ya" if int(p.period[:4]) == pack.window.year else "tidak",
            }
            for _, k in kpis
            for p in k.trend
        ),
        ["kode", "periode", "nilai", "target", "status", "tahun_evaluasi"],
    )
    out["iku_sumber.csv"] = _csv(
        (
            {
                "kode": k.kpi.code,
                "periode": k.period,
                "load_id": ld.load_id,
                "dataset": ld.dataset_id,
                "tanggal_logis": ld.logical_date.isoformat(),
                "status": ld.status,
                "baris_diterima": ld.rows_in,
                "baris_dimuat": ld.rows_loaded,
                "baris_ditolak": ld.rows_rejected,
            }
            for _, k in kpis
            for ld in k.loads
        ),
        [
            "kode",
            "periode",
            "load_id",
            "dataset",
            "tanggal_logis",
            "status",
            "baris_diterima",
            "baris_dimuat",
            "baris_ditolak",
        ],
    )
    out["iku_kualitas.csv"] = _csv(
        (
            {
                "kode": k.kpi.code,
                "opd": q.opd,
                "bulan_dinilai": q.months,
                "baris_diterima": q.rows_in,
                "baris_lolos": q.rows_passed,
                "skor_persen": _n(q.score),
            }
            for _, k in kpis
            for q in k.quality
        ),
        ["kode", "opd", "bulan_dinilai", "baris_diterima", "baris_lolos", "skor_persen"],
    )
    voiced = [(g.programme.code, g.voice) for g in pack.programmes if g.voice is not None]
    out["suara_warga.csv"] = _csv(
        (
            {
                "program": code,
                "ulasan": v.reviews,
                "dengan_teks": v.with_text,
                "berating": v.rated,
                "rating_rata_rata": _n(v.average_rating),
                "berpolaritas": v.judged,
                "positif": v.positive,
                "negatif": v.negative,
                "sentimen_positif_persen": _n(v.positive_pct),
                "pengaduan": v.complaints,
                "ditindaklanjuti": v.followed_up,
                "ditindaklanjuti_persen": _n(v.followed_up_pct),
                "dikecualikan": len(v.excluded),
                "tanpa_bulan": sum(v.left_out.values()),
                "ambang_ulasan": v.min_reviews,
                "load_ids": ",".join(v.load_ids),
            }
            for code, v in voiced
        ),
        [
            "program",
            "ulasan",
            "dengan_teks",
            "berating",
            "rating_rata_rata",
            "berpolaritas",
            "positif",
            "negatif",
            "sentimen_positif_persen",
            "pengaduan",
            "ditindaklanjuti",
            "ditindaklanjuti_persen",
            "dikecualikan",
            "tanpa_bulan",
            "ambang_ulasan",
            "load_ids",
        ],
    )
    out["suara_rating.csv"] = _csv(
        (
            {
                "program": code,
                "bintang": star,
                "ulasan": n,
                "bagian_persen": _n(v.rating_pct(star)),
            }
            for code, v in voiced
            for star, n in sorted(v.ratings.items(), reverse=True)
        ),
        ["program", "bintang", "ulasan", "bagian_persen"],
    )
    out["suara_tren.csv"] = _csv(
        (
            {
                "program": code,
                "resolusi": resolution,
                "periode": p.period,
                "ulasan": p.reviews,
                "berpolaritas": p.judged,
                "positif": p.positive,
                "sentimen_positif_persen": _n(p.positive_pct(v.min_reviews)),
            }
            for code, v in voiced
            for resolution, points in (
                ("bulanan", v.months),
                *([("triwulanan", v.trend)] if v.trend_resolution == "quarterly" else []),
            )
            for p in points
        ),
        [
            "program",
            "resolusi",
            "periode",
            "ulasan",
            "berpolaritas",
            "positif",
            "sentimen_positif_persen",
        ],
    )
    out["suara_tema.csv"] = _csv(
        ({"program": code, "tema": t, "ulasan": n} for code, v in voiced for t, n in v.themes),
        ["program", "tema", "ulasan"],
    )
    out["suara_kutipan.csv"] = _csv(
        (
            {
                "program": code,
                "id_baris": q.row_id,
                "dataset": q.dataset_id,
                "tema": q.theme or "",
                "sentimen": q.polarity or "",
                "kutipan": q.text,
            }
            for code, v in voiced
            for q in v.quotes
        ),
        ["program", "id_baris", "dataset", "tema", "sentimen", "kutipan"],
    )
    out["suara_dikecualikan.csv"] = _csv(
        (
            {
                "program": code,
                "dataset": e.dataset_id,
                "id_baris": e.row_id,
                "sama_dengan": e.kept_row_id,
                "aturan": e.rule,
            }
            for code, v in voiced
            for e in v.excluded
        ),
        ["program", "dataset", "id_baris", "sama_dengan", "aturan"],
    )
    out["kepatuhan_opd.csv"] = _csv(
        (
            {
                "opd": o.opd,
                "nama": o.name,
                "dataset": len(o.datasets),
                "kualitas_persen": _n(o.quality.score),
                "periode_dirilis": o.periods,
                "tepat_jadwal": o.on_schedule,
                "terlambat": o.late,
                "terlambat_data_opd": o.late_data,
                "metadata_lengkap": o.metadata_complete,
            }
            for o in pack.compliance
        ),
        [
            "opd",
            "nama",
            "dataset",
            "kualitas_persen",
            "periode_dirilis",
            "tepat_jadwal",
            "terlambat",
            "terlambat_data_opd",
            "metadata_lengkap",
        ],
    )
    out["kepatuhan_dataset.csv"] = _csv(
        (
            {
                "opd": o.opd,
                "dataset": d.dataset_id,
                "periode_dirilis": d.periods,
                "tepat_jadwal": d.on_schedule,
                "terlambat": d.late,
                "terlambat_data_opd": d.late_data,
                "metadata_belum_lengkap": ",".join(d.metadata_missing),
                "rilis_terakhir": d.last_release.isoformat() if d.last_release else "",
            }
            for o in pack.compliance
            for d in o.datasets
        ),
        [
            "opd",
            "dataset",
            "periode_dirilis",
            "tepat_jadwal",
            "terlambat",
            "terlambat_data_opd",
            "metadata_belum_lengkap",
            "rilis_terakhir",
        ],
    )
    out["sumber.csv"] = _csv(
        (
            {
                "load_id": ld.load_id,
                "dataset": ld.dataset_id,
                "opd": ld.opd,
                "tanggal_logis": ld.logical_date.isoformat(),
                "status": ld.status,
                "baris_diterima": ld.rows_in,
                "baris_dimuat": ld.rows_loaded,
                "baris_ditolak": ld.rows_rejected,
            }
            for ld in pack.loads
        ),
        [
            "load_id",
            "dataset",
            "opd",
            "tanggal_logis",
            "status",
            "baris_diterima",
            "baris_dimuat",
            "baris_ditolak",
        ],
    )
    return out
