"""Real citizen reviews through `serasan ingest` into PostgreSQL: 4,908 Google Maps reviews of
Alun-Alun Lumajang, review text over several quoted lines, relative dates ("3 months ago")
resolved against the day they were collected (`--collected-on`), keeping their precision."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter

from serasan.parse.relative_dates import read
from tests.integration.test_real_files import Workspace, ws  # noqa: F401 - the fixture

LUMAJANG = "lumajang-alunalun-reviews/reviews_clean.csv"
DATASET = "lumajang_ulasan_alun_alun"
COLLECTED = dt.date(2026, 1, 18)  # the scrape: its unreadable "Edited" dates fell on this day
YAML = """\
id: lumajang_ulasan_alun_alun
regency: "16.06"
opd: dlh
pillar: living
title: Ulasan Alun-Alun (Google Maps)
description: Ulasan warga di Google Maps, diekspor dengan tanggal relatif.
source: {kind: spreadsheet}
cadence: monthly
columns:
  - {name: review_id, type: string, label: review_id, nullable: false, pii: true, description: ID ulasan Google}
  - {name: rating, type: integer, label: rating, nullable: true, description: Bintang 1-5}
  - {name: tanggal, type: date, label: date, nullable: false, relative: true, precision_column: presisi, description: Tanggal ulasan}
  - {name: ulasan, type: string, label: review_text, nullable: true, description: Teks ulasan}
  - {name: presisi, type: string, nullable: true, description: Ketelitian tanggal, allowed: [day, week, month, year]}
primary_key: [review_id]
period: {column: tanggal, granularity: day}
quality_policy: quarantine
load_mode: upsert
voice: {kind: review, text: ulasan, date: tanggal, rating: rating, source_id: review_id}
satu_data:
  produsen_data: DLH
  walidata: Diskominfo
  frekuensi: Bulanan
  satuan: Ulasan
  level_penyajian: Kabupaten
  lisensi: CC-BY-4.0
  kontak: satudata@musibanyuasinkab.go.id
retention: {raw_days: 730, quarantine_days: 90}
"""


def _onboard(ws: Workspace) -> None:  # noqa: F811
    (ws.catalog / "datasets" / f"{DATASET}.yaml").write_text(YAML, encoding="utf-8")
    assert ws.run("suite", "scaffold", "--dataset", DATASET) == 0
    assert ws.run("catalog", "validate") == 0


def test_lumajang_reviews_ingest_whole_with_relative_dates_resolved(ws: Workspace) -> None:  # noqa: F811
    _onboard(ws)
    summary = ws.ingest(DATASET, LUMAJANG, "--collected-on", "2026-01-18")
    with (ws.samples / LUMAJANG).open(encoding="utf-8", newline="") as fh:
        source = list(csv.DictReader(fh))
    resolved = [read(r["date"].removeprefix("Edited "), COLLECTED) for r in source]
    # the warehouse's periods start in 2015 (the suite's default): the 2013-2014 reviews are
    # rejected with that reason, every other one is loaded
    early = sum(1 for d in resolved if d is not None and d[0] < dt.date(2015, 1, 1))
    assert summary["rows_in"] == 4908 and summary["rows_rejected"] == early > 0
    assert summary["rows_loaded"] == 4908 - early
    rejected = ws.rejected(summary)
    assert len(rejected) == early
    assert all("tidak sebelum 1 Januari 2015" in r["alasan"] for r in rejected)
    facts = ws.facts(DATASET)
    assert len(facts) == 4908 - early
    texts = {r["review_id"]: r["review_text"] for r in source}
    assert all(f["ulasan"] == (texts[f["review_id"]] or None) for f in facts)  # whole
    assert sum("\n" in (f["ulasan"] or "") for f in facts) > 150  # line breaks kept
    expected = Counter(d[1] for d in resolved if d is not None and d[0] >= dt.date(2015, 1, 1))
    assert Counter(f["presisi"] for f in facts) == expected
    assert expected["year"] > 4000 and expected["month"] > 200
    # a year is stored as its first day, a month as its first day: never a made-up day
    for f in facts:
        day = f["tanggal"]
        if f["presisi"] == "year":
            assert (day.month, day.day) == (1, 1)
        elif f["presisi"] == "month":
            assert day.day == 1
        assert day <= COLLECTED


def test_without_a_collection_date_the_file_is_refused_naming_the_setting(
    ws: Workspace,  # noqa: F811
    capsys,  # type: ignore[no-untyped-def]  # noqa: ANN001
) -> None:
    _onboard(ws)
    summary = ws.ingest(DATASET, LUMAJANG)
    out = capsys.readouterr()
    assert summary["status"] == "rejected", summary
    assert summary["rows_loaded"] == 0
    text = out.out + out.err
    assert "--collected-on" in text and "source.collected_on" in text
    assert ws.facts(DATASET) == []
