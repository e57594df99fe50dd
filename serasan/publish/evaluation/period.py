"""The year a pack evaluates, and the window of days its evidence is read from.

`--year` defaults to the last complete year before the as-of (logical) date. A year that has not
ended by the as-of date is partial: its window ends the day before the as-of date, and every page
of the pack says so. The year before is read over the same days, so "a year earlier" compares
like with like.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from serasan.common.clock import date_text, day_month


def default_year(as_of: dt.date) -> int:
    """The last year that ended before `as_of`."""
    return as_of.year - 1


@dataclass(frozen=True)
class Window:
    """The evaluated year as of a date."""

    year: int
    as_of: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(
                f"year {self.year} has no day before the as-of date {self.as_of}: "
                "nothing to evaluate yet"
            )

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        """The last day whose data the pack reads: 31 December, or the day before the as-of
        date in a partial year."""
        return min(dt.date(self.year, 12, 31), self.as_of - dt.timedelta(days=1))

    @property
    def partial(self) -> bool:
        return self.end < dt.date(self.year, 12, 31)

    @property
    def previous(self) -> Window:
        """The same days a year earlier (29 February becomes the 28th)."""
        return Window(self.year - 1, _year_earlier(self.as_of) if self.partial else self.as_of)

    def days(self) -> str:
        """'1 Januari s.d. 31 Oktober': the evaluated days without the year, to compare a year
        with the same days of the one before."""
        return f"{day_month(self.start)} s.d. {day_month(self.end)}"

    def label(self) -> str:
        """'2025', or '2026 (belum lengkap: 1 Januari s.d. 31 Oktober 2026)'."""
        if not self.partial:
            return str(self.year)
        return f"{self.year} (belum lengkap: {date_text(self.start)} s.d. {date_text(self.end)})"


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
