"""Counts per month at the resolution the dates support: year-only dates and weeks that straddle
two months are left out of the monthly trend, counted under their reason."""

from __future__ import annotations

import datetime as dt

from serasan.voice.records import DatePrecision, Polarity, VoiceRow
from serasan.voice.trends import (
    NO_DATE,
    WEEK_ACROSS_MONTHS,
    YEAR_ONLY,
    month_of,
    monthly,
)

D = dt.date
DAY, WEEK, MONTH, YEAR = (
    DatePrecision.DAY,
    DatePrecision.WEEK,
    DatePrecision.MONTH,
    DatePrecision.YEAR,
)


def row(
    i: int, date: dt.date | None, precision: DatePrecision | None, rating: int | None = None
) -> VoiceRow:
    return VoiceRow(str(i), f"ulasan {i}", rating, date, precision)


def test_day_and_month_precision_name_their_month() -> None:
    assert month_of(D(2026, 3, 31), DAY) == ("2026-03", None)
    assert month_of(D(2026, 3, 1), MONTH) == ("2026-03", None)
    assert month_of(D(2026, 3, 31), None) == ("2026-03", None)  # a full date


def test_year_precision_and_no_date_name_no_month() -> None:
    assert month_of(D(2024, 1, 1), YEAR) == (None, YEAR_ONLY)
    assert month_of(None, None) == (None, NO_DATE)


def test_a_week_names_its_month_only_when_the_week_around_it_stays_inside() -> None:
    assert month_of(D(2026, 3, 15), WEEK) == ("2026-03", None)
    assert month_of(D(2026, 3, 4), WEEK) == ("2026-03", None)  # 1..7 March
    assert month_of(D(2026, 3, 3), WEEK) == (None, WEEK_ACROSS_MONTHS)  # 28 Feb..6 Mar
    assert month_of(D(2026, 3, 29), WEEK) == (None, WEEK_ACROSS_MONTHS)  # 26 Mar..1 Apr
    assert month_of(D(2026, 3, 15), "week") == ("2026-03", None)  # precision as stored


def test_the_trend_counts_month_precise_rows_and_says_what_it_left_out() -> None:
    rows = [
        row(1, D(2026, 1, 5), DAY, 5),
        row(2, D(2026, 1, 1), MONTH, 4),
        row(3, D(2026, 3, 20), DAY, 1),
        row(4, D(2026, 3, 15), WEEK, None),
        row(5, D(2026, 3, 30), WEEK, 2),  # the week runs into April
        row(6, D(2024, 1, 1), YEAR, 5),  # "2 years ago"
        row(7, D(2023, 1, 1), YEAR, 5),
        row(8, None, None, 3),
    ]
    polarity = {
        "1": Polarity.POSITIVE,
        "2": Polarity.POSITIVE,
        "3": Polarity.NEGATIVE,
        "4": Polarity.NEGATIVE,
    }
    trend = monthly(rows, polarity)
    assert [m.month for m in trend.months] == ["2026-01", "2026-02", "2026-03"]
    jan, feb, mar = trend.months
    assert (jan.rows, jan.rated, jan.mean_rating, jan.positive, jan.negative) == (2, 2, 4.5, 2, 0)
    assert (feb.rows, feb.rated, feb.mean_rating) == (0, 0, None)  # a month without rows is shown
    assert (mar.rows, mar.rated, mar.mean_rating, mar.positive, mar.negative) == (2, 1, 1.0, 0, 2)
    assert trend.counted == 4
    assert trend.left_out == {NO_DATE: 1, YEAR_ONLY: 2, WEEK_ACROSS_MONTHS: 1}
    assert trend.rows == len(rows)


def test_every_reason_is_listed_even_at_zero() -> None:
    trend = monthly([row(1, D(2026, 5, 2), DAY)])
    assert trend.left_out == {NO_DATE: 0, YEAR_ONLY: 0, WEEK_ACROSS_MONTHS: 0}
    assert [(m.month, m.rows) for m in trend.months] == [("2026-05", 1)]


def test_months_run_across_a_year_end() -> None:
    trend = monthly([row(1, D(2025, 11, 30), DAY), row(2, D(2026, 2, 1), DAY)])
    assert [m.month for m in trend.months] == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_a_trend_of_year_only_rows_has_no_months() -> None:
    # Lumajang: most dates are "N years ago"
    trend = monthly([row(i, D(2020, 1, 1), YEAR) for i in range(5)])
    assert trend.months == ()
    assert trend.counted == 0
    assert trend.left_out[YEAR_ONLY] == 5
