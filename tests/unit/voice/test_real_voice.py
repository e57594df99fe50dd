"""The citizen-voice analyses on the two real review files: spam and duplicates screened (none
found by the stated rules), the Lumajang monthly trend honouring its "N years ago" dates,
themes named, and quotes masked with no personal data left."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest

from serasan.publish.pii import find_in_review, mask_text
from serasan.voice.quotes import representative_quotes
from serasan.voice.records import DatePrecision, Polarity, VoiceRow, rating_polarity
from serasan.voice.screen import screen
from serasan.voice.themes import load_themes, match
from serasan.voice.trends import NO_DATE, WEEK_ACROSS_MONTHS, YEAR_ONLY, monthly

JKN = "samples/real/mobilejkn-playstore-reviews/sentimen_mobileJKN.csv"
LUMAJANG = "samples/real/lumajang-alunalun-reviews/reviews_clean.csv"
# Lumajang's "3 months ago" has date_parsed 2025-10-18: it was collected on 2026-01-18
LUMAJANG_COLLECTED = dt.date(2026, 1, 18)
_AGO = re.compile(r"(?:Edited )?(\d+|an?) (day|week|month|year)s? ago")


def resolve(text: str, collected: dt.date) -> tuple[dt.date, DatePrecision]:
    """A test-local reading of Google's relative dates: the start of the period, its
    precision (the pipeline's own reader is serasan.parse's)."""
    m = _AGO.fullmatch(text)
    assert m, text
    n = 1 if m.group(1) in ("a", "an") else int(m.group(1))
    unit = m.group(2)
    if unit == "day":
        return collected - dt.timedelta(days=n), DatePrecision.DAY
    if unit == "week":
        return collected - dt.timedelta(days=7 * n), DatePrecision.WEEK
    if unit == "month":
        months = collected.year * 12 + collected.month - 1 - n
        return dt.date(months // 12, months % 12 + 1, 1), DatePrecision.MONTH
    return dt.date(collected.year - n, 1, 1), DatePrecision.YEAR


def read_jkn(shared: Path) -> list[VoiceRow]:
    with (shared / JKN).open(encoding="utf-8", newline="") as handle:
        return [
            VoiceRow(str(i), r["content"], int(r["score"]), dt.date.fromisoformat(r["at"][:10]))
            for i, r in enumerate(csv.DictReader(handle), 1)
        ]


def read_lumajang(shared: Path) -> tuple[list[VoiceRow], list[str]]:
    rows, written = [], []
    with (shared / LUMAJANG).open(encoding="utf-8", newline="") as handle:
        for i, r in enumerate(csv.DictReader(handle), 1):
            date, precision = resolve(r["date"], LUMAJANG_COLLECTED)
            rows.append(
                VoiceRow(str(i), r["review_text"] or None, int(r["rating"]), date, precision)
            )
            written.append(r["date"])
    return rows, written


def test_mobile_jkn_has_no_spam_or_duplicates_by_the_stated_rules(shared_dir: Path) -> None:
    rows = read_jkn(shared_dir)
    out = screen(rows)
    assert out.rows_in == len(rows) == 10_000
    # 1,500 rows repeat a short text of the same day and rating: kept, each is a voice
    assert out.excluded == ()
    assert sum(out.counts.values()) == 0


def test_lumajang_keeps_its_ratings_without_text(shared_dir: Path) -> None:
    rows, _ = read_lumajang(shared_dir)
    out = screen(rows)
    assert out.rows_in == 4908
    assert sum(1 for r in out.kept if r.text is None) == 14  # a rating without text is kept
    # seven texts repeat with other authors and other years: not duplicates
    assert out.excluded == ()


def test_lumajang_monthly_trend_leaves_out_its_year_only_dates(shared_dir: Path) -> None:
    rows, written = read_lumajang(shared_dir)
    years = sum(1 for w in written if "year" in w)
    assert years == 4670  # "N years ago": no month to count them in
    trend = monthly(rows)
    assert trend.left_out[YEAR_ONLY] == 4670
    assert trend.left_out[NO_DATE] == 0
    assert trend.counted + trend.left_out[WEEK_ACROSS_MONTHS] == 4908 - 4670
    assert trend.rows == 4908
    assert sum(m.rows for m in trend.months) == trend.counted
    assert trend.months[-1].month <= "2026-01"
    assert trend.months[0].month >= "2025-01"  # "11 months ago" at the earliest


def test_mobile_jkn_monthly_trend_counts_every_row(shared_dir: Path) -> None:
    trend = monthly(read_jkn(shared_dir))
    assert trend.counted == 10_000
    assert [m.month for m in trend.months] == ["2025-03", "2025-04", "2025-05"]
    assert all(m.rated == m.rows for m in trend.months)


def test_the_themes_citizens_name_most_are_the_expected_ones(shared_dir: Path) -> None:
    themes = load_themes().themes()
    rows, _ = read_lumajang(shared_dir)
    park: dict[str, int] = {}
    for r in rows:
        for m in match(r.text, themes):
            park[m.theme] = park.get(m.theme, 0) + 1
    app: dict[str, int] = {}
    for r in read_jkn(shared_dir):
        for m in match(r.text, themes):
            app[m.theme] = app.get(m.theme, 0) + 1
    assert max(park, key=lambda k: park[k]) == "kebersihan"  # a town square
    assert max(app, key=lambda k: app[k]) == "aplikasi dan login"  # an app


@pytest.mark.parametrize("which", ["jkn", "lumajang"])
def test_quotes_of_the_real_files_carry_no_personal_data(shared_dir: Path, which: str) -> None:
    rows = read_jkn(shared_dir) if which == "jkn" else read_lumajang(shared_dir)[0]
    themes = load_themes().themes()
    found = {r.row_id: match(r.text, themes) for r in rows}
    polarity: dict[str, Polarity | None] = {r.row_id: rating_polarity(r.rating) for r in rows}
    quotes = representative_quotes(rows, found, polarity, mask_text)
    assert len(quotes) >= 10
    ids = {r.row_id for r in rows}
    for q in quotes:
        assert q.row_id in ids
        assert find_in_review(q.text) == []
        assert len(q.text) <= 280
