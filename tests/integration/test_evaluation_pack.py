"""The evaluation pack on PostgreSQL and S3: every section there, its numbers the warehouse's,
no personal data in the document or its CSVs, a manifest whose sha256s hold, and no rewrite while
the inputs are unchanged; the yearly DAG's `dag.test()` writes the same pack as the command.

Both regencies are loaded end to end (`load_every_dataset`, as the report tests do), and then a
review export of Musi Banyuasin's Taman Air is delivered through the pipeline: reviews written as
citizens write, some with a phone number, an e-mail address, a NIK, a name after an honorific or
the author's own name in the text, and an exact duplicate.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from minio.versioningconfig import ENABLED, VersioningConfig
from sqlalchemy import select

from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.keys import inbox_prefix
from serasan.lake.store import S3Lake, open_lake
from serasan.pipeline.run import run_dataset
from serasan.publish import kpi, pii
from serasan.publish.evaluation import bundle, pack
from serasan.publish.evaluation.period import Window
from serasan.runtime.context import RunContext
from serasan.voice import lexicon
from serasan.voice.text import normalised
from serasan.warehouse.facts import fact_table
from tests.support.report_html import id_number, parse, within
from tests.support.services import fresh_database
from tests.support.warehouse import RUN_DATE, load_every_dataset

SLUG, KODE, YEAR = "musibanyuasin", "16.06", 2026  # 2026 is partial as of RUN_DATE
PILLARS = ("governance", "branding", "economy", "living", "society", "environment")
PII_KEY = "kunci-uji-evaluasi-7f3c2d"
REVIEWS = "muba_ulasan_program"
PROGRAMME = "muba_taman_air"
SECRETS = (  # what the crafted reviews hold that must never leave the warehouse
    "Budi Santoso",
    "0812-3456-7890",
    "siti.rahma@gmail.com",
    "1606014501900003",
    "Rahmat",
    "Wulandari",
)


FIRST = ("Andi", "Yuni", "Fajar", "Lina", "Hendra", "Ratna", "Joko", "Maya", "Taufik")
LAST = ("Saputra", "Kartika", "Nugroho", "Marlina", "Gunawan", "Anggraini", "Susilo")


def crafted_reviews() -> list[dict[str, Any]]:
    """Reviews of Taman Air Muba as a Google Maps export holds them: 28 rows, 22 of them in
    June 2026 (a month that reaches the minimum of 20), personal data in some texts, and one
    exact duplicate (same author, same words once normalised)."""
    texts = [
        ("Tempatnya bersih dan nyaman, anak2 senang bgt", 5),
        ("Parkir mahal banget, petugasnya jutek", 1),
        ("Toilet kotor dan bau, tolong diperbaiki", 2),
        ("Wahana kolamnya seru, tiket murah", 5),
        ("Pak Budi Santoso petugas tiketnya ramah sekali", 5),
        ("Hubungi saya di 0812-3456-7890 kalau ada promo, tempatnya bagus", 4),
        ("email saya siti.rahma@gmail.com, jam bukanya tidak jelas", 2),
        ("KTP saya NIK 1606014501900003 hilang di taman, petugas tidak membantu", 1),
        ("Saya Rahmat, tamannya indah dan asri", 5),
        ("Mantap, tempatnya bersih dan nyaman sekali!", 5),
        ("mantap tempatnya bersih dan nyaman sekali", 5),  # the same author, delivered twice
        ("Antrean tiket lama sekali, panas", 2),
        ("Keren, cocok buat keluarga", 5),
        ("Lumayan bagus tapi kurang teduh", 3),
        ("Bagus, tapi sampah di mana-mana", 2),
        ("Aman dan nyaman, ada satpam", 5),
        ("Fasilitas rusak tidak diperbaiki", 1),
        ("Murah meriah, mantul", 5),
        ("Pelayanan ramah, tempat bersih", 5),
        ("Kolamnya kotor, kecewa", 1),
        ("Tempat bagus buat foto", 4),
        ("Kurang bersih, toilet jorok", 2),
        ("Sangat puas, recommended", 5),
        ("Jelek, tidak terawat", 1),
        ("Bagus sekali pemandangannya", 5),
        ("Mahal tapi sepadan, bersih", 4),
        ("Wulandari di sini jualan, enak", 4),  # the author's own name in the text
        ("Lampu taman mati, gelap dan rawan", 1),
    ]
    rows = []
    for i, (text, rating) in enumerate(texts, start=1):
        june = i <= 24
        day = dt.date(2026, 6, min(i, 28)) if june else dt.date(2026, 8, i - 20)
        author = {10: "Dewi Lestari", 11: "Dewi Lestari", 9: "Rahmat Hidayat"}.get(i)
        if i == 27:
            author = "Sri Wulandari"
        rows.append(
            {
                "id_ulasan": f"ChdDSUhNMG9nS0VJQ0FnSUR{i:04d}",  # a Google review id
                "program": PROGRAMME,
                "sumber": "Google Maps",
                "tempat": "Taman Air Sekayu",
                "rating": rating,
                "ulasan": text,
                "tanggal": day.isoformat(),
                "penulis": author or f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}",
            }
        )
    return rows


def deliver_reviews(ctx: RunContext, catalog: Catalog) -> None:
    ds = catalog.dataset(REVIEWS)
    buf = io.StringIO()
    rows = crafted_reviews()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    ctx.lake.put(
        inbox_prefix(catalog, ds) + "ulasan-google-maps-taman-air.csv", buf.getvalue().encode()
    )
    [summary] = run_dataset(ctx, ds)
    assert summary.status == "loaded" and summary.rows_loaded == len(rows), summary


@pytest.fixture(scope="module")
def loaded(
    catalog: Catalog,
    pg_server_url: str,
    s3_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunContext]:
    """Both regencies loaded on PostgreSQL and S3 (a versioned bucket), with the crafted reviews;
    the settings in the environment, as the command and the DAG read them."""
    work = tmp_path_factory.mktemp("evaluation")
    with fresh_database(pg_server_url, prefix="serasan_e_") as url:
        settings = Settings(
            lake_url=f"s3://lake-{uuid.uuid4().hex[:10]}",
            warehouse_url=url,
            s3_endpoint=s3_endpoint,
            s3_access_key="test",
            s3_secret_key="test",
            pii_key=PII_KEY,
        )
        ctx = load_every_dataset(settings, catalog, work / "apps")
        ctx = dataclasses.replace(ctx, settings=settings)
        lake = ctx.lake
        assert isinstance(lake, S3Lake)
        lake.client.set_bucket_versioning(bucket_name=lake.bucket, config=VersioningConfig(ENABLED))
        deliver_reviews(ctx, catalog)
        saved = dict(os.environ)
        os.environ.update(settings.as_env())
        try:
            yield ctx
        finally:
            os.environ.clear()
            os.environ.update(saved)
            ctx.engine.dispose()


@pytest.fixture(scope="module")
def built(loaded: RunContext) -> dict[str, Any]:
    """The command's pack of 2026 for Musi Banyuasin, as of RUN_DATE; its lake objects."""
    code = main(
        ["evaluation", "--regency", SLUG, "--year", str(YEAR), "--date", RUN_DATE.isoformat()]
    )
    assert code == 0
    keys = {k: v for k, v in pack.names(loaded.catalog.regency(KODE), YEAR).items()}
    where = pack.prefix(loaded.catalog.regency(KODE), YEAR)
    return {k: loaded.lake.get(where + name) for k, name in keys.items()}


def _texts(html: str) -> str:
    """The document's words as a reader sees them (tags and the style sheet dropped)."""
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_every_section_is_there_and_the_year_is_marked_partial(
    built: dict[str, Any], loaded: RunContext
) -> None:
    html = built["html"].decode()
    els = parse(html)
    ids = [e["attrs"].get("id") for e in els if e["tag"] == "section"]
    assert ids == ["ringkasan", *[f"pilar-{p}" for p in PILLARS], "kepatuhan", "metode"]
    lines = [e["attrs"]["data-pillar"] for e in els if "summary-line" in e["classes"]]
    assert lines == list(PILLARS)  # the executive summary: six pillars, one line each
    programmes = {e["attrs"]["data-programme"] for e in els if e["tag"] == "article"}
    mine = {p.code for p in loaded.catalog.programmes.values() if p.regency == KODE}
    assert programmes == mine and len(mine) == 6
    for code in mine:
        heads = [e["text"] for e in els if e["tag"] == "h4" and within(e, data_programme=code)]
        assert heads == ["Bukti kinerja (IKU)", "Suara warga", "Perubahan sejak tahun lalu"]
        assert any("voice" in e["classes"] for e in els if within(e, data_programme=code)) or any(
            e["attrs"].get("data-programme") == code and "voice" in e["classes"] for e in els
        )
    # partial: said in every section, and in the margin of every printed page
    partial = [e for e in els if "partial" in e["classes"]]
    assert len(partial) == 1 + len(ids)  # the cover and each section
    assert re.search(r"@bottom-left \{ content: \"Tahun 2026 belum lengkap", html)
    assert 'counter(page) " dari " counter(pages)' in html
    assert "<script" not in html and "<link" not in html and " src=" not in html
    assert re.findall(r"https?://[^\s\"'<>]+", html) == ["http://www.w3.org/2000/svg"] * html.count(
        "http://www.w3.org/2000/svg"
    )
    # the methods appendix names the sentiment method chosen and its accuracy, measured on the
    # year's rated reviews (the lexicon, or a model cross-validated on them)
    [choice] = [e for e in els if "sentiment-choice" in e["classes"]]
    assert choice["attrs"]["data-method"] in ("leksikon", "model")
    [accuracy] = [e for e in els if "sentiment-accuracy" in e["classes"]]
    measured = float(accuracy["attrs"]["data-value"])
    [shown] = [
        e["text"] for e in els if e["tag"] == "strong" and e["inside"][-1] == accuracy["attrs"]
    ]
    assert id_number(shown.rstrip(" %")) == pytest.approx(100 * measured, abs=0.05)
    low, high = (id_number(x) for x in re.findall(r"(\d+,\d)", accuracy["text"])[:2])
    assert low <= 100 * measured + 0.05 and 100 * measured - 0.05 <= high
    # as-of date and the load ids behind the numbers
    doc = next(e for e in els if "doc" in e["classes"])
    assert (
        doc["attrs"]["data-as-of"] == RUN_DATE.isoformat()
        and doc["attrs"]["data-partial"] == "true"
    )


def test_kpi_numbers_equal_the_warehouse(built: dict[str, Any], loaded: RunContext) -> None:
    els = parse(built["html"].decode())
    mart = loaded.t("mart", "kpi_value")
    lr = loaded.t("meta", "load_run")
    with loaded.engine.connect() as conn:
        rows = {
            (r.kpi_code, r.period): r
            for r in conn.execute(select(mart).where(mart.c.kode_wilayah == KODE))
        }
        logical = {r.load_id: r.logical_date for r in conn.execute(select(lr))}
    window = Window(YEAR, RUN_DATE)
    cards = [e for e in els if "kpi" in e["classes"] and e["tag"] == "div"]
    assert {c["attrs"]["data-kpi"] for c in cards} == {k.code for k in loaded.catalog.kpis_of(KODE)}
    for card in cards:
        code, period = card["attrs"]["data-kpi"], card["attrs"]["data-period"]
        k = loaded.catalog.kpis[code]
        assert period == kpi.latest_ended(k.cadence, window.end)
        row = rows[(code, period)]
        assert card["attrs"]["data-status"] == row.status

        def cell(cls: str, code: str = code) -> dict[str, Any]:
            [found] = [e for e in els if cls in e["classes"] and within(e, data_kpi=code)]
            return found

        def number(cls: str, code: str = code) -> float | None:
            raw = cell(cls, code)["attrs"]["data-value"]
            return None if raw == "" else float(raw)

        value = cell("kpi-value")
        assert number("kpi-value") == row.value
        assert number("kpi-target") == row.target
        if row.value is None:  # a missing value is never zero, and the card says why
            assert value["text"].strip() == "–" and row.status == "missing"
            [reason] = [e for e in els if "reason" in e["classes"] and within(e, data_kpi=code)]
            if kpi.too_few(row._mapping):  # withheld: counted from fewer reviews than the minimum
                assert (int(reason["attrs"]["data-n"]), int(reason["attrs"]["data-min"])) == (
                    row.n,
                    row.min_n,
                )
            else:
                assert reason["text"] == row.reason
        else:
            shown = value["text"].split()[0]
            assert id_number(shown) == pytest.approx(round(row.value, len(shown.partition(",")[2])))
        achieved = number("kpi-achievement")
        assert achieved == (
            None if row.achievement_pct is None else pytest.approx(max(row.achievement_pct, 0.0))
        )
        previous = rows.get((code, f"{int(period[:4]) - 1}{period[4:]}"))
        assert cell("kpi-previous")["attrs"]["data-value"] == (
            "" if previous is None else str(previous.value)
        )
        # the load ids behind the value, each with its logical date
        shown_loads = [
            e["attrs"]["data-load"]
            for e in els
            if "source" in e["classes"] and within(e, data_kpi=code)
        ]
        assert sorted(shown_loads) == sorted(
            (row.load_ids or "").split(",") if row.load_ids else []
        )
        assert all(logical[i] <= RUN_DATE for i in shown_loads)


def _rows_of(ctx: RunContext, dataset_id: str, window: Window) -> dict[str, dict[str, Any]]:
    """Serasan row id -> row, of the programme's rows of a voice dataset in the window."""
    ds = ctx.catalog.dataset(dataset_id)
    fact = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(fact).where(
                fact.c.program == PROGRAMME,
                fact.c.tanggal >= window.start,
                fact.c.tanggal <= window.end,
            )
        ).mappings()
        return {pii.row_id(ds, dict(r), PII_KEY): dict(r) for r in rows}


def test_voice_numbers_equal_the_warehouse(built: dict[str, Any], loaded: RunContext) -> None:
    els = parse(built["html"].decode())
    window = Window(YEAR, RUN_DATE)
    reviews = _rows_of(loaded, REVIEWS, window)
    lapor = _rows_of(loaded, "muba_pengaduan_masyarakat", window)
    texts = {
        **{i: r["ulasan"] for i, r in reviews.items()},
        **{i: r["isi_pengaduan"] for i, r in lapor.items()},
    }
    authors = {
        **{i: r["penulis"] for i, r in reviews.items()},
        **{i: r["nama_pelapor"] for i, r in lapor.items()},
    }

    def inside(cls: str) -> list[dict[str, Any]]:
        return [e for e in els if cls in e["classes"] and within(e, data_programme=PROGRAMME)]

    # spam and exact duplicates are excluded by the stated rules and listed, with the row they
    # repeat where they repeat one
    listed = [
        e
        for e in els
        if e["tag"] == "tr" and "data-row-id" in e["attrs"] and within(e, data_programme=PROGRAMME)
    ]
    excluded: dict[str, tuple[str, str]] = {}
    for e in listed:
        rid = e["attrs"]["data-row-id"]
        codes = [c["text"] for c in els if c["tag"] == "code" and within(c, data_row_id=rid)]
        cells = [c["text"] for c in els if c["tag"] == "td" and within(c, data_row_id=rid)]
        excluded[rid] = (codes[1] if len(codes) > 1 else "", cells[-1])
    first = next(
        i for i, r in reviews.items() if (r["ulasan"] or "").startswith("Mantap, tempatnya")
    )
    second = next(
        i for i, r in reviews.items() if (r["ulasan"] or "").startswith("mantap tempatnya")
    )
    kept_one, dropped = sorted([first, second])  # the smaller row id is the one kept
    assert excluded[dropped] == (kept_one, "duplikat persis") and kept_one not in excluded
    for rid, (same_as, rule) in excluded.items():
        if rule == "duplikat persis":
            assert normalised(texts[rid]) == normalised(texts[same_as])
            assert authors[rid] == authors[same_as]
            rating = {**reviews, **lapor}
            assert rating[rid].get("rating") == rating[same_as].get("rating")
    kept_reviews = [r for i, r in reviews.items() if i not in excluded]
    kept_lapor = [r for i, r in lapor.items() if i not in excluded]
    [count] = inside("voice-reviews")
    assert int(count["attrs"]["data-value"]) == len(kept_reviews) + len(kept_lapor)
    assert int(count["text"]) == len(reviews) + len(lapor) - len(excluded)
    ratings = [r["rating"] for r in kept_reviews if r["rating"] is not None]
    [average] = inside("voice-average")
    assert float(average["attrs"]["data-value"]) == pytest.approx(sum(ratings) / len(ratings))
    stars = {int(e["attrs"]["data-star"]): int(e["attrs"]["data-value"]) for e in inside("rating")}
    assert stars == {s: ratings.count(s) for s in range(1, 6)}
    # sentiment: a row's rating where it is 1-2 or 4-5 stars, else the chosen method on its text
    [choice] = [e for e in els if "sentiment-choice" in e["classes"]]
    rated_pos = sum(r["rating"] in (4, 5) for r in kept_reviews)
    rated_neg = sum(r["rating"] in (1, 2) for r in kept_reviews)
    unrated = [r["ulasan"] for r in kept_reviews if r["rating"] not in (1, 2, 4, 5) and r["ulasan"]]
    unrated += [r["isi_pengaduan"] for r in kept_lapor if r["isi_pengaduan"]]
    [share] = inside("voice-positive")
    judged, positive = int(share["attrs"]["data-judged"]), int(share["attrs"]["data-positive"])
    assert judged == rated_pos + rated_neg + len(unrated) >= 20
    if choice["attrs"]["data-method"] == "leksikon":
        read = sum(lexicon.score(t).polarity.value == "positif" for t in unrated)
        assert positive == rated_pos + read
    else:  # the model trained on the year's rated reviews read the unrated texts
        assert rated_pos <= positive <= rated_pos + len(unrated)
    assert float(share["attrs"]["data-value"]) == pytest.approx(100 * positive / judged)
    # June 2026 reaches the minimum of 20: the sentiment trend is monthly
    captions = [
        e["text"] for e in els if e["tag"] == "figcaption" and within(e, data_programme=PROGRAMME)
    ]
    assert any(c.startswith("Sentimen positif per bulan") for c in captions)
    # complaints followed up, from the channel's status column
    followed = sum(r["status"] in ("Selesai", "Diproses") for r in kept_lapor)
    [f] = inside("voice-followed")
    assert f"({followed} dari {len(kept_lapor)})" in f["text"]
    # every programme: a share from the minimum up, "terlalu sedikit data" below it
    for code in {e["attrs"]["data-programme"] for e in els if e["tag"] == "article"}:
        [other] = [
            e for e in els if "voice-positive" in e["classes"] and within(e, data_programme=code)
        ]
        too_few = [
            x["text"]
            for x in els
            if "insufficient" in x["classes"]
            and within(x, data_value="", data_judged=other["attrs"]["data-judged"])
            and within(x, data_programme=code)
        ]
        if int(other["attrs"]["data-judged"]) < 20:
            assert other["attrs"]["data-value"] == "" and too_few == ["terlalu sedikit data"]
        else:
            assert float(other["attrs"]["data-value"]) >= 0 and not too_few
    # themes with their counts, and quotes that carry Serasan's row id, never the source's
    shown = [(e["attrs"]["data-theme"], int(e["attrs"]["data-value"])) for e in inside("theme")]
    with zipfile.ZipFile(io.BytesIO(built["zip"])) as z:
        table = csv.DictReader(io.StringIO(z.read("suara_tema.csv").decode()))
        counted = [(r["tema"], int(r["ulasan"])) for r in table if r["program"] == PROGRAMME]
    assert shown == counted[:5]  # the top five on the page, every theme in the CSV
    themes = dict(counted)
    # the fixture's reviews are about cleanliness above all, and name staff and toilets too
    assert themes["kebersihan"] >= 8 and themes["petugas"] >= 1 and themes["toilet"] >= 1
    quotes = [e for e in els if e["tag"] == "blockquote" and within(e, data_programme=PROGRAMME)]
    assert 1 <= len(quotes) <= 6  # one per top theme (3) and polarity (2)
    for q in quotes:
        assert re.fullmatch(r"SRS-[A-Z]{16}", q["attrs"]["data-row-id"])
        assert q["attrs"]["data-row-id"] in texts


def test_what_changed_compares_the_same_days_and_names_withheld_values(
    built: dict[str, Any], loaded: RunContext
) -> None:
    """'Perubahan sejak tahun lalu': a KPI value withheld for too few reviews is called so, in
    the comparison and in the year's status counts, never a bare dash; the citizen-voice count
    compares the same days of both years."""
    els = parse(built["html"].decode())
    mart = loaded.t("mart", "kpi_value")
    with loaded.engine.connect() as conn:
        rows = {
            (r["kpi_code"], r["period"]): dict(r)
            for r in conn.execute(select(mart).where(mart.c.kode_wilayah == KODE)).mappings()
        }
    window = Window(YEAR, RUN_DATE)
    withheld = 0
    for line in (e for e in els if "change" in e["classes"] and e["attrs"].get("data-kpi")):
        k = loaded.catalog.kpis[line["attrs"]["data-kpi"]]
        period = kpi.latest_ended(k.cadence, window.end)
        before = f"{int(period[:4]) - 1}{period[4:]}"
        now, then = rows.get((k.code, period)), rows.get((k.code, before))
        said = line["text"].count(kpi.TOO_FEW)
        assert said == kpi.too_few(now) + kpi.too_few(then), (k.code, line["text"])
        withheld += said
        cells = [e for e in els if "kpi-previous" in e["classes"] and within(e, data_kpi=k.code)]
        for cell in cells:  # the card's "a year earlier" says it too
            assert (kpi.TOO_FEW in cell["text"]) == kpi.too_few(then), (k.code, cell["text"])
        [year] = [
            e["text"] for e in els if "kpi-year" in e["classes"] and within(e, data_kpi=k.code)
        ] or [""]
        periods = kpi.periods_between(k.cadence, kpi.period_key(k.cadence, window.start), period)
        few = sum(kpi.too_few(rows.get((k.code, p))) for p in periods)
        assert (f"{few} terlalu sedikit data" in year) == (few > 0), (k.code, year)
        withheld += few
    assert withheld > 0  # the fixture's quarters of few reviews: the rule is exercised
    counts = [e for e in els if e["attrs"].get("data-voice") == "reviews"]
    assert counts
    for line in counts:
        m = re.fullmatch(
            r"Ulasan dan pengaduan \(1 Januari s\.d\. 31 Oktober\): (\d+|–) pada 2025 "
            r"menjadi (\d+) pada 2026\.",
            " ".join(line["text"].split()),
        )
        assert m, line["text"]


def test_no_personal_data_in_the_document_or_its_csvs(
    built: dict[str, Any], loaded: RunContext
) -> None:
    html = built["html"].decode()
    text = _texts(html)
    assert pii.find_in_text(text) == []  # no NIK, phone, e-mail or NPWP anywhere
    for secret in SECRETS:
        assert secret not in html, secret
    window = Window(YEAR, RUN_DATE)
    reviews = _rows_of(loaded, REVIEWS, window)
    lapor = _rows_of(loaded, "muba_pengaduan_masyarakat", window)
    authors = {
        **{i: r["penulis"] for i, r in reviews.items()},
        **{i: r["nama_pelapor"] for i, r in lapor.items()},
    }
    private = [*authors.values(), *(r["telepon_pelapor"] for r in lapor.values())]
    private += [r["id_ulasan"] for r in reviews.values()]  # a source review id leads to its author
    private += [r["nomor_tiket"] for r in lapor.values()]  # a LAPOR ticket opens its complaint
    for value in private:
        assert not value or not re.search(rf"\b{re.escape(value)}\b", html), value
    els = parse(html)
    quoted = {
        e["attrs"]["data-row-id"]: e
        for e in els
        if e["tag"] == "blockquote" and within(e, data_programme=PROGRAMME)
    }
    texts = {
        **{i: r["ulasan"] for i, r in reviews.items()},
        **{i: r["isi_pengaduan"] for i, r in lapor.items()},
    }
    assert quoted
    for rid, q in quoted.items():  # each quote is its row's text as mask_text leaves it
        shown = q_text(els, q)
        assert (
            shown
            == "\u201c" + " ".join(pii.mask_text(texts[rid], [authors[rid]]).split()) + "\u201d"
        )
        assert pii.find_in_review(shown, [authors[rid]]) == []
    with zipfile.ZipFile(io.BytesIO(built["zip"])) as z:
        csvs = [n for n in z.namelist() if n.endswith(".csv")]
        assert len(csvs) >= 10
        for name in csvs:
            data = z.read(name)
            assert pii.scan_file(name, data) == [], name
            for secret in SECRETS:
                assert secret.encode() not in data, (name, secret)
            for value in private:  # authors, phones, source review ids and LAPOR tickets
                assert not value or not re.search(rb"\b%s\b" % re.escape(value.encode()), data)
        quotes = list(csv.DictReader(io.StringIO(z.read("suara_kutipan.csv").decode())))
        for q in quotes:
            if q["id_baris"] in authors:
                assert pii.find_in_review(q["kutipan"], [authors[q["id_baris"]]]) == []


def q_text(els: list[dict[str, Any]], quote: dict[str, Any]) -> str:
    rid = quote["attrs"]["data-row-id"]
    return "".join(e["text"] for e in els if e["tag"] == "p" and within(e, data_row_id=rid))


def test_the_manifest_holds_and_the_bundle_has_every_table(built: dict[str, Any]) -> None:
    with zipfile.ZipFile(io.BytesIO(built["zip"])) as z:
        names = set(z.namelist())
        inner = json.loads(z.read(bundle.MANIFEST))
        listed = {f["name"]: f for f in inner["files"]}
        assert set(listed) == names - {bundle.MANIFEST}
        for name, f in listed.items():
            data = z.read(name)
            assert bundle.sha256(data) == f["sha256"] and len(data) == f["bytes"], name
        assert z.read(f"evaluasi-{SLUG}-{YEAR}.pdf") == built["pdf"]
        assert z.read(f"evaluasi-{SLUG}-{YEAR}.html") == built["html"]
        for info in z.infolist():  # timestamps are the as-of date, never the build time
            assert info.date_time == (2026, 11, 1, 0, 0, 0)
    outer = json.loads(built["manifest"])
    assert outer["bundle"]["sha256"] == bundle.sha256(built["zip"])
    assert outer["as_of"] == "2026-11-01" and outer["partial"] is True
    assert outer["inputs_sha256"] == inner["inputs_sha256"]
    assert outer["load_ids"] and all(i in built["html"].decode() for i in outer["load_ids"])
    # every chart names its CSV, and the CSV is in the bundle
    for data in set(re.findall(r"data: ([a-z_]+\.csv)", built["html"].decode())):
        assert data in names
    assert built["pdf"].startswith(b"%PDF-")
    assert b"/CreationDate (D:20261101000000+07'00')" in built["pdf"]


def test_unchanged_inputs_do_not_rewrite_and_changed_ones_do(
    built: dict[str, Any], loaded: RunContext
) -> None:
    regency = loaded.catalog.regency(KODE)
    where = pack.prefix(regency, YEAR)
    lake = loaded.lake
    before = lake.versions(where)
    assert len(before) == 4
    again = pack.write(loaded, KODE, YEAR)
    assert again["written"] is False
    assert lake.versions(where) == before  # no new object version
    for kind, name in pack.names(regency, YEAR).items():
        assert lake.get(where + name) == built[kind]
    fewer = dataclasses.replace(  # a lower minimum of reviews: what the document says changes
        loaded, settings=dataclasses.replace(loaded.settings, voice_min_reviews=5)
    )
    changed = pack.write(fewer, KODE, YEAR)
    assert changed["written"] is True and changed["inputs_sha256"] != again["inputs_sha256"]
    assert len(lake.versions(where)) == 8
    back = pack.write(loaded, KODE, YEAR)  # as it was: the same bytes as the first time
    assert back["written"] is True
    for kind, name in pack.names(regency, YEAR).items():
        assert lake.get(where + name) == built[kind], kind


def test_default_year_and_the_commands_errors(
    loaded: RunContext, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["evaluation", "--regency", "nowhere"]) == 2
    assert "unknown regency 'nowhere'" in capsys.readouterr().err
    assert main(["evaluation", "--regency", SLUG, "--year", "26"]) == 2
    assert "expected a year YYYY" in capsys.readouterr().err
    assert main(["evaluation", "--regency", SLUG, "--year", "2027", "--date", "2026-11-01"]) == 2
    assert "nothing to evaluate yet" in capsys.readouterr().err
    # what the pack needs is said before any work: the pseudonym key (pointing to the demo's
    # key file where there is one) and a Chromium
    home = tmp_path / "home"
    home.mkdir()
    (home / "pii-demo.key").write_text("kunci-demo-uji-0123456789")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SERASAN_PII_KEY", raising=False)
        mp.setenv("SERASAN_HOME", str(home))
        assert main(["evaluation", "--regency", SLUG, "--date", "2026-11-01"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: no pseudonym key configured") and err.count("\n") == 1
        assert f"SERASAN_PII_KEY=$(cat {home / 'pii-demo.key'})" in err
        assert "kunci-demo-uji" not in err  # pointed to, never printed
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SERASAN_CHROMIUM", str(tmp_path / "no-chromium"))
        assert main(["evaluation", "--regency", SLUG, "--date", "2026-11-01"]) == 2
        err = capsys.readouterr().err
        missing = str(tmp_path / "no-chromium")
        assert err == f"error: SERASAN_CHROMIUM={missing!r} is not an executable file\n"
    assert main(["evaluation", "--regency", "16.03", "--date", "2026-11-01", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["year"] == 2025 and result["partial"] is False  # the last complete year
    assert result["keys"]["pdf"] == "reports/muaraenim/evaluasi/2025/evaluasi-muaraenim-2025.pdf"
    html = loaded.lake.get(result["keys"]["html"]).decode()
    assert 'data-partial="false"' in html and "Tahun 2025 belum lengkap" not in html
    assert not [e for e in parse(html) if "partial" in e["classes"]]


def test_the_yearly_dag_writes_the_same_pack_as_the_command(
    loaded: RunContext, capsys: pytest.CaptureFixture[str]
) -> None:
    from serasan.operators.runner import Runner

    assert main(["evaluation", "--regency", SLUG, "--date", RUN_DATE.isoformat(), "--json"]) == 0
    by_command = json.loads(capsys.readouterr().out)
    other = dataclasses.replace(loaded.settings, lake_url=f"s3://lake-{uuid.uuid4().hex[:10]}")
    saved = dict(os.environ)
    os.environ.update(other.as_env())
    try:
        runner = Runner(Path(os.environ["AIRFLOW_HOME"]))
        logical = dt.datetime.combine(RUN_DATE, dt.time(), tzinfo=ZoneInfo("Asia/Jakarta"))
        res = runner.run(f"serasan__{SLUG}__evaluation", logical)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert res["state"] == "success", res
    by_dag = res["tasks"]["evaluation"]["result"]
    assert by_dag["written"] is True and by_dag["year"] == by_command["year"] == 2025
    assert by_dag["inputs_sha256"] == by_command["inputs_sha256"]
    theirs = open_lake(other)
    for key in by_command["keys"].values():
        assert theirs.get(key) == loaded.lake.get(key), key
