"""Counts per month, at the resolution the dates support, with what was left out and why.

A row's date comes with its precision (`DatePrecision`): review sites write "3 months ago" or
"2 years ago", which the parser resolves against the collection date and keeps as a month or a
year. A monthly trend counts a row in a month only when the date names that month:

- day or month precision: counted in its month. A date without a stated precision is taken as
  a full date (sources that write dates, such as a Play Store export, give the day);
- week precision ("3 weeks ago", resolved to 21 days before the collection day): the week
  around the date, 3 days either side, must lie inside one month; it is counted there, and
  left out otherwise;
- year precision ("2 years ago"): left out; so is a row without a date.

Every row left out is counted under its reason (`MonthlyTrend.left_out`), so the trend says how
many rows it does not show. Months run from the first to the last month with a row, months
without rows included (zeros), so a chart never skips a month.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from serasan.voice.records import DatePrecision, Polarity, VoiceRow

WEEK_HALF_DAYS = 3

NO_DATE = "tanpa tanggal"
YEAR_ONLY = "hanya tahun yang diketahui"
WEEK_ACROSS_MONTHS = "minggu yang melintasi batas bulan"
REASONS = (NO_DATE, YEAR_ONLY, WEEK_ACROSS_MONTHS)


@dataclass(frozen=True)
class MonthCount:
    """One month: its rows, their ratings and their polarities."""

    month: str  # YYYY-MM
    rows: int
    rated: int  # rows with a rating
    rating_sum: float  # of those ratings (mean = rating_sum / rated)
    positive: int  # polarity positif (from the polarities given)
    negative: int  # polarity negatif

    @property
    def mean_rating(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


@dataclass(frozen=True)
class MonthlyTrend:
    months: tuple[MonthCount, ...]
    counted: int  # rows in some month
    left_out: Mapping[str, int]  # reason -> rows; every reason of REASONS, zeros included

    @property
    def rows(self) -> int:
        return self.counted + sum(self.left_out.values())


def month_of(
    date: dt.date | None, precision: DatePrecision | str | None
) -> tuple[str | None, str | None]:
    """(the month, YYYY-MM, that a date names at its precision, None) or (None, the reason
    it names none)."""
    if date is None:
        return None, NO_DATE
    p = DatePrecision(precision) if precision is not None else DatePrecision.DAY
    if p is DatePrecision.YEAR:
        return None, YEAR_ONLY
    if p is DatePrecision.WEEK:
        early = date - dt.timedelta(days=WEEK_HALF_DAYS)
        late = date + dt.timedelta(days=WEEK_HALF_DAYS)
        if (early.year, early.month) != (late.year, late.month):
            return None, WEEK_ACROSS_MONTHS
    return f"{date.year:04d}-{date.month:02d}", None


def _months_between(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def monthly(
    rows: Sequence[VoiceRow], polarities: Mapping[str, Polarity | None] | None = None
) -> MonthlyTrend:
    """Rows per month (and their ratings, and their polarities by row id where given)."""
    polarities = polarities or {}
    left: Counter[str] = Counter({reason: 0 for reason in REASONS})
    per: dict[str, list[VoiceRow]] = {}
    for row in rows:
        month, reason = month_of(row.date, row.precision)
        if month is None:
            left[reason or NO_DATE] += 1
        else:
            per.setdefault(month, []).append(row)
    months = []
    if per:
        for month in _months_between(min(per), max(per)):
            these = per.get(month, [])
            rated = [r.rating for r in these if r.rating is not None]
            sides = [polarities.get(r.row_id) for r in these]
            months.append(
                MonthCount(
                    month=month,
                    rows=len(these),
                    rated=len(rated),
                    rating_sum=float(sum(rated)),
                    positive=sum(1 for s in sides if s is Polarity.POSITIVE),
                    negative=sum(1 for s in sides if s is Polarity.NEGATIVE),
                )
            )
    return MonthlyTrend(tuple(months), sum(len(v) for v in per.values()), dict(left))
