"""Relative dates ("3 months ago", "3 bulan lalu") resolved against the collection date with
their precision, and reviews spread over several quoted lines, on generated and real files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from serasan.config.catalog import Dataset
from serasan.parse.reader import ParseError, parse_file
from serasan.parse.relative_dates import read
from serasan.quality.suites import load_validated_catalog

LUMAJANG = Path("/work/shared/samples/real/lumajang-alunalun-reviews/reviews_clean.csv")
COLLECTED = dt.date(2026, 1, 18)


@pytest.mark.parametrize(
    ("text", "date", "precision"),
    [
        ("3 months ago", dt.date(2025, 10, 1), "month"),
        ("3 bulan lalu", dt.date(2025, 10, 1), "month"),
        ("3 bulan yang lalu", dt.date(2025, 10, 1), "month"),
        ("sebulan lalu", dt.date(2025, 12, 1), "month"),
        ("a month ago", dt.date(2025, 12, 1), "month"),
        ("12 months ago", dt.date(2025, 1, 1), "month"),
        ("2 years ago", dt.date(2024, 1, 1), "year"),
        ("setahun yang lalu", dt.date(2025, 1, 1), "year"),
        ("Edited 2 years ago", dt.date(2024, 1, 1), "year"),
        ("2 weeks ago", dt.date(2026, 1, 4), "week"),
        ("seminggu lalu", dt.date(2026, 1, 11), "week"),
        ("6 days ago", dt.date(2026, 1, 12), "day"),
        ("kemarin", dt.date(2026, 1, 17), "day"),
        ("yesterday", dt.date(2026, 1, 17), "day"),
        ("5 jam lalu", dt.date(2026, 1, 18), "day"),
        ("an hour ago", dt.date(2026, 1, 18), "day"),
    ],
)
def test_each_wording_keeps_its_precision(text: str, date: dt.date, precision: str) -> None:
    assert read(text, COLLECTED) == (date, precision)


@pytest.mark.parametrize("text", ["3 bulan", "ago", "2026-01-05", "tiga bulan lalu", "3 eons ago"])
def test_other_text_is_not_a_relative_date(text: str) -> None:
    assert read(text, COLLECTED) is None


def _reviews(rows: list[str]) -> bytes:
    header = "ID Ulasan,Program,Sumber,Tempat,Rating,Ulasan,Tanggal,Penulis"
    return ("\n".join([header, *rows]) + "\n").encode()


def test_a_review_file_resolves_relative_dates_and_keeps_quoted_lines_whole() -> None:
    catalog = load_validated_catalog()
    ds = catalog.dataset("muba_ulasan_program")
    data = _reviews(
        [
            "G1,muba_taman_air,Google Maps,Taman Air,5,mantap bgt,3 bulan lalu,Rina",
            'G2,muba_taman_air,Google Maps,Taman Air,2,"kolam kotor\nparkir mahal",2 years ago,',
            "G3,muba_cctv_kita,Survei,,,cctv sering mati,2025-12-05,",
            "G4,muba_bank_sampah,Google Maps,,4,,2 weeks ago,Budi",
        ]
    )
    result = parse_file(data, "ulasan.csv", ds, collected=COLLECTED)
    assert result.rejects == []
    rows = result.table.to_pylist()
    got = {r["id_ulasan"]: (r["tanggal"], r["tanggal_presisi"], r["_row"]) for r in rows}
    assert got == {
        "G1": (dt.date(2025, 10, 1), "month", 2),
        # the review runs over two lines: one row, numbered by the line it ends on
        "G2": (dt.date(2024, 1, 1), "year", 4),
        "G3": (dt.date(2025, 12, 5), "day", 5),  # an absolute date: a day
        "G4": (dt.date(2026, 1, 4), "week", 6),
    }
    assert next(r for r in rows if r["id_ulasan"] == "G2")["ulasan"] == "kolam kotor\nparkir mahal"


def test_relative_dates_without_a_collection_date_refuse_the_file_naming_the_setting() -> None:
    ds = load_validated_catalog().dataset("muba_ulasan_program")
    data = _reviews(["G1,muba_taman_air,Google Maps,,5,bagus,3 bulan lalu,"])
    with pytest.raises(ParseError) as err:
        parse_file(data, "ulasan.csv", ds)
    assert "'3 bulan lalu'" in str(err.value)
    assert "source.collected_on" in str(err.value) and "--collected-on" in str(err.value)


def _lumajang_dataset() -> Dataset:
    col: dict[str, Any] = {"nullable": True, "description": "d"}
    return Dataset.model_validate(
        {
            "id": "lumajang_ulasan_alun_alun",
            "regency": "16.06",
            "opd": "dlh",
            "pillar": "living",
            "title": "Ulasan Alun-Alun",
            "description": "d",
            "source": {"kind": "spreadsheet"},
            "cadence": "monthly",
            "columns": [
                {**col, "name": "review_id", "type": "string", "nullable": False, "pii": True},
                {**col, "name": "rating", "type": "integer"},
                {
                    **col,
                    "name": "date",
                    "type": "date",
                    "nullable": False,
                    "relative": True,
                    "precision_column": "presisi",
                },
                {**col, "name": "review_text", "type": "string"},
                {**col, "name": "presisi", "type": "string"},
            ],
            "primary_key": ["review_id"],
            "period": {"column": "date", "granularity": "day"},
            "quality_policy": "quarantine",
            "load_mode": "upsert",
            "satu_data": {
                "produsen_data": "x",
                "walidata": "x",
                "frekuensi": "x",
                "satuan": "x",
                "level_penyajian": "x",
                "lisensi": "x",
                "kontak": "x",
            },
            "retention": {"raw_days": 30, "quarantine_days": 30},
        }
    )


def test_the_real_lumajang_reviews_resolve_as_their_own_scrape_did() -> None:
    """4,908 Google Maps reviews scraped 2026-01-18: every row read (192 span several lines),
    and each resolved date agrees with the scraper's own `date_parsed` at our precision."""
    data = LUMAJANG.read_bytes()
    result = parse_file(data, LUMAJANG.name, _lumajang_dataset(), collected=COLLECTED)
    with LUMAJANG.open(encoding="utf-8", newline="") as fh:
        source = {r["review_id"]: r for r in csv.DictReader(fh)}
    assert result.rows_in == len(source) == 4908 and result.rejects == []
    rows = result.table.to_pylist()
    assert sum("\n" in (r["review_text"] or "") for r in rows) == 192
    precisions: dict[str, int] = {}
    edited = 0
    for r in rows:
        theirs = dt.datetime.fromisoformat(source[r["review_id"]]["date_parsed"]).date()
        written = source[r["review_id"]]["date"]
        p = r["presisi"]
        precisions[p] = precisions.get(p, 0) + 1
        if written.startswith("Edited "):
            # the scraper could not read these and left them at the scrape day; the words say
            # when the review was last edited
            edited += 1
            assert theirs == COLLECTED
            assert (r["date"], p) == read(written.removeprefix("Edited "), COLLECTED)
        elif p in ("day", "week"):
            assert r["date"] == theirs, r
        elif p == "month":
            assert (r["date"].year, r["date"].month) == (theirs.year, theirs.month), r
        else:
            assert r["date"].year == theirs.year and r["date"] == dt.date(theirs.year, 1, 1), r
        assert r["review_text"] == (source[r["review_id"]]["review_text"] or None)
    assert precisions == {"year": 4670, "month": 221, "week": 15, "day": 2}
    assert edited == sum(r["date"].startswith("Edited ") for r in source.values()) > 0
