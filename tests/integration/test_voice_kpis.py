"""Citizen-voice KPIs on a small hand-made set of reviews and complaints, on both backends:
average rating, share of positive reviews and share of complaints followed up per programme,
recomputed by hand from the fact rows; values from fewer reviews than the minimum are withheld
and marked "terlalu sedikit data", in the warehouse and on the report's KPI card."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.publish import kpi, report
from serasan.runtime.context import RunContext
from serasan.warehouse.facts import fact_table
from tests.support.report_html import MONTH, id_number, parse, within
from tests.support.warehouse import warehouse_context

REVIEWS, COMPLAINTS = "muba_ulasan_program", "muba_pengaduan_masyarakat"
COLLECTED = "2026-10-31"
Q3 = "2026-Q3"
VOICE = {
    "muba_layanan_pajak": "GOV",
    "muba_sport_tourism": "BRD",
    "muba_kelompok_tani_karet": "ECO",
    "muba_taman_air": "LIV",
    "muba_cctv_kita": "SOC",
    "muba_bank_sampah": "ENV",
}


def _reviews_csv() -> str:
    """Q3 2026: Taman Air 24 rated reviews (average 4.0, 75 % with 4-5 stars) and 3 without a
    rating, plus 5 dated only by the year ("2 tahun lalu"); Layanan Pajak exactly 20 (the
    minimum); CCTV Kita 8 (too few); nothing about the other programmes."""
    lines = [["id_ulasan", "program", "sumber", "tempat", "rating", "ulasan", "tanggal", "penulis"]]
    rows: list[tuple[str, str, str, str]] = []  # program, sumber, rating, tanggal
    taman = [5] * 12 + [4] * 6 + [3] * 2 + [2] * 2 + [1] * 2
    rows += [("muba_taman_air", "Google Maps", str(s), f"2026-0{7 + i % 3}-1{i % 9}") for i, s in
             enumerate(taman)]  # fmt: skip
    rows += [("muba_taman_air", "Media Sosial", "", "2026-08-02")] * 3
    rows += [("muba_taman_air", "Google Maps", "5", "2 tahun lalu")] * 5
    pajak = [5] * 10 + [4] * 5 + [1] * 5
    rows += [("muba_layanan_pajak", "Play Store", str(s), "2026-09-03") for s in pajak]
    rows += [("muba_cctv_kita", "Play Store", "5", "2026-07-21")] * 8
    for i, (program, sumber, rating, tanggal) in enumerate(rows, 1):
        text = "kolamnya bersih, pak Joko ramah bgt" if rating != "1" else "antre lama bgt"
        lines.append([f"ULS-{i:04d}", program, sumber, "", rating, text, tanggal, f"Warga {i}"])
    return _csv(lines)


def _complaints_csv() -> str:
    """Q3 2026: Taman Air 20 complaints (12 Selesai, 5 Diproses, 3 Belum Diproses: 85 %
    followed up), CCTV Kita 5 (too few), 10 about no programme."""
    lines = [
        "nomor_tiket,tanggal,kode_kecamatan,kategori,program,isi_pengaduan,nama_pelapor,"
        "telepon_pelapor,status".split(",")
    ]
    rows = [("muba_taman_air", s) for s in ["Selesai"] * 12 + ["Diproses"] * 5]
    rows += [("muba_taman_air", "Belum Diproses")] * 3
    rows += [("muba_cctv_kita", "Selesai")] * 5
    rows += [("", "Selesai")] * 10
    for i, (program, status) in enumerate(rows, 1):
        lines.append(
            [f"LPR-{i:04d}", f"2026-08-{1 + i % 28:02d}", "16.06.01", "Lingkungan", program]
            + ["mohon ditindaklanjuti, sudah 2 minggu", f"Pelapor {i}", "", status]
        )
    return _csv(lines)


def _csv(lines: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(lines)
    return buf.getvalue()


def _deliver(ctx: RunContext, dataset_id: str, text: str, collected: str | None = None) -> None:
    ds = ctx.catalog.dataset(dataset_id)
    data = text.encode()
    if collected:  # as `serasan ingest --collected-on` gives it
        ctx.collected = {hashlib.sha256(data).hexdigest(): collected}
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + f"{dataset_id}.csv", data)
    [summary] = run_dataset(ctx, ds)
    assert (summary.status, summary.rows_rejected) == ("loaded", 0), summary


@pytest.fixture
def voiced(settings: Settings, catalog: Catalog) -> RunContext:
    ctx = warehouse_context(settings, catalog)
    _deliver(ctx, REVIEWS, _reviews_csv(), COLLECTED)
    _deliver(ctx, COMPLAINTS, _complaints_csv())
    kpi.compute(ctx, "16.06")
    return ctx


def _rows(ctx: RunContext) -> dict[tuple[str, str], dict[str, Any]]:
    mart = ctx.t("mart", "kpi_value")
    with ctx.engine.connect() as conn:
        got = conn.execute(select(mart).where(mart.c.kpi_code.like("MUBA-%"))).mappings()
        return {(r["kpi_code"], r["period"]): dict(r) for r in got}


def _facts(ctx: RunContext, dataset_id: str) -> pd.DataFrame:
    ds = ctx.catalog.dataset(dataset_id)
    with ctx.engine.connect() as conn:
        frame = pd.read_sql(select(fact_table(ds, ctx.engine.dialect.name)), conn)
    day = pd.to_datetime(frame["tanggal"])
    frame["period"] = day.dt.year.astype(str) + "-Q" + day.dt.quarter.astype(str)
    return frame


def test_voice_kpis_are_computed_and_withheld_below_the_minimum(voiced: RunContext) -> None:
    rows = _rows(voiced)
    # Taman Air, Q3 2026: 24 rated reviews, the 3 without a rating and the 5 dated only by
    # the year left out
    avg, pos, follow = (
        rows[("MUBA-LIV-04", Q3)],
        rows[("MUBA-LIV-05", Q3)],
        rows[("MUBA-LIV-06", Q3)],
    )
    assert (avg["value"], avg["n"], avg["min_n"], avg["status"]) == (4.0, 24, 20, "on_track")
    assert (pos["value"], pos["n"], pos["status"]) == (75.0, 24, "on_track")
    assert (follow["value"], follow["n"], follow["target"]) == (85.0, 20, 90.0)
    assert follow["status"] == "at_risk" and follow["reason"] is None
    # Layanan Pajak: exactly the minimum, so shown
    pajak = rows[("MUBA-GOV-04", Q3)]
    assert (pajak["value"], pajak["n"], pajak["status"]) == (3.75, 20, "at_risk")
    assert rows[("MUBA-GOV-05", Q3)]["value"] == 75.0
    # CCTV Kita: 8 reviews and 5 complaints, under 20: withheld, with the count kept
    for code, n, noun in (("MUBA-SOC-04", 8, "ulasan"), ("MUBA-SOC-05", 8, "ulasan"),
                          ("MUBA-SOC-06", 5, "pengaduan")):  # fmt: skip
        r = rows[(code, Q3)]
        assert (r["value"], r["achievement_pct"], r["status"]) == (None, None, "missing"), code
        assert (r["n"], r["min_n"]) == (n, 20), code
        assert r["reason"] == (
            f"terlalu sedikit data: {n} {noun} pada periode {Q3}, kurang dari minimum 20; "
            "nilai tidak ditampilkan"
        )
        assert kpi.too_few(r)
        assert r["load_ids"]  # the loads it would have been counted from
    # Kelompok Tani Karet: the sources hold Q3, none of their rows is about it: n = 0
    karet = rows[("MUBA-ECO-04", Q3)]
    assert (karet["value"], karet["n"]) == (None, 0) and kpi.too_few(karet)
    # "2 tahun lalu" is 1 January 2024 at year precision: it cannot be placed in a quarter
    old = rows[("MUBA-LIV-04", "2024-Q1")]
    assert (old["value"], old["n"]) == (None, 0) and old["reason"].startswith("terlalu sedikit")
    # a period the sources do not hold at all is missing for the usual reason, not "too few"
    gap = rows[("MUBA-LIV-04", "2025-Q2")]
    assert gap["n"] is None and "belum diterima" in gap["reason"] and not kpi.too_few(gap)
    # KPIs without a minimum keep n and min_n empty
    assert all(r["min_n"] is None for (code, _), r in rows.items() if code.endswith(("-01", "-02")))


def test_voice_kpis_agree_with_the_fact_rows(voiced: RunContext) -> None:
    """Every stored voice value recomputed with pandas from the fact rows, by its definition."""
    reviews, complaints = _facts(voiced, REVIEWS), _facts(voiced, COMPLAINTS)
    assert set(reviews["tanggal_presisi"]) == {"day", "year"}
    rated = reviews[reviews["rating"].between(1, 5) & (reviews["tanggal_presisi"] != "year")]
    done = complaints["status"].isin(voiced.catalog.dataset(COMPLAINTS).voice.followed_up)
    complaints = complaints.assign(done=done)
    rows = _rows(voiced)
    checked = 0
    for programme, pillar in VOICE.items():
        mine = rated[rated["program"] == programme]
        theirs = complaints[complaints["program"] == programme]
        expected: dict[str, dict[str, tuple[float, int]]] = {
            f"MUBA-{pillar}-04": {
                p: (g["rating"].mean(), len(g)) for p, g in mine.groupby("period")
            },
            f"MUBA-{pillar}-05": {
                p: (100.0 * (g["rating"] >= 4).mean(), len(g)) for p, g in mine.groupby("period")
            },
            f"MUBA-{pillar}-06": {
                p: (100.0 * g["done"].mean(), len(g)) for p, g in theirs.groupby("period")
            },
        }
        for code, by_period in expected.items():
            for period, (value, n) in by_period.items():
                r = rows[(code, period)]
                assert r["n"] == n, (code, period)
                if n >= 20:
                    assert r["value"] == pytest.approx(value), (code, period)
                else:
                    assert r["value"] is None, (code, period)
                checked += 1
    assert checked == 8  # Q3: Taman Air and CCTV Kita x 3, Layanan Pajak x 2 (no complaint)
    assert (
        sum(r["value"] is not None for (c, _), r in rows.items() if c[-2:] in ("04", "05", "06"))
        == 5
    )


def test_the_minimum_is_a_setting(voiced: RunContext) -> None:
    ctx = dataclasses.replace(
        voiced, settings=dataclasses.replace(voiced.settings, voice_min_reviews=5)
    )
    kpi.compute(ctx, "16.06")
    rows = _rows(ctx)
    cctv, complaints = rows[("MUBA-SOC-04", Q3)], rows[("MUBA-SOC-06", Q3)]
    assert (cctv["value"], cctv["n"], cctv["min_n"], cctv["reason"]) == (5.0, 8, 5, None)
    assert (complaints["value"], complaints["n"]) == (100.0, 5)
    assert Settings.from_env({}).voice_min_reviews == 20
    assert Settings.from_env({"SERASAN_VOICE_MIN_REVIEWS": "12"}).voice_min_reviews == 12
    assert Settings.from_env({}).as_env()["SERASAN_VOICE_MIN_REVIEWS"] == "20"
    for bad in ("0", "many", "-3"):
        with pytest.raises(ValueError, match="SERASAN_VOICE_MIN_REVIEWS"):
            Settings.from_env({"SERASAN_VOICE_MIN_REVIEWS": bad})


def test_the_report_card_says_too_little_data(voiced: RunContext) -> None:
    report.write(voiced, "16.06")
    els = parse(voiced.lake.get(f"reports/musibanyuasin/{MONTH}.html").decode())
    cards = {e["attrs"]["data-kpi"]: e for e in els if "kpi" in e["classes"]}
    for code, n, noun in (("MUBA-SOC-04", 8, "ulasan"), ("MUBA-SOC-06", 5, "pengaduan")):
        assert cards[code]["attrs"]["data-period"] == Q3
        assert cards[code]["attrs"]["data-status"] == "missing"
        [value] = [e for e in els if "kpi-value" in e["classes"] and within(e, data_kpi=code)]
        assert "too-few" in value["classes"]
        assert value["text"].strip() == "terlalu sedikit data"
        assert (value["attrs"]["data-value"], value["attrs"]["data-n"]) == ("", str(n))
        assert value["attrs"]["data-min-n"] == "20"
        [note] = [e for e in els if "too-few-note" in e["classes"] and within(e, data_kpi=code)]
        words = " ".join(note["text"].split())
        assert f"hanya {n} {noun} pada Triwulan III 2026" in words
        assert f"mulai 20 {noun}" in words
        assert not [e for e in els if "kpi-target" in e["classes"] and within(e, data_kpi=code)]
    # a value counted from enough reviews is shown, with its count
    [value] = [e for e in els if "kpi-value" in e["classes"] and within(e, data_kpi="MUBA-LIV-04")]
    assert "too-few" not in value["classes"] and id_number(value["text"]) == 4.0
    [count] = [e for e in els if "kpi-n" in e["classes"] and within(e, data_kpi="MUBA-LIV-04")]
    assert count["attrs"]["data-n"] == "24"
    assert " ".join(count["text"].split()) == "Dihitung dari 24 ulasan (ditampilkan mulai 20)."
    # a KPI that is missing for want of data keeps the usual wording
    [missing] = [
        e for e in els if "kpi-value" in e["classes"] and within(e, data_kpi="MUBA-GOV-01")
    ]
    assert "too-few" not in missing["classes"] and missing["text"] == "–"
    html = voiced.lake.get(f"reports/musibanyuasin/{MONTH}.html").decode()
    assert html.count('class="figure kpi-value too-few"') == sum(
        kpi.too_few(r) for (c, p), r in _rows(voiced).items() if p == Q3
    )
