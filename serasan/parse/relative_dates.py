"""Relative dates as review sites write them ("3 months ago", "3 bulan lalu", "setahun yang
lalu", "kemarin"), resolved against the day the file was collected, keeping their precision.

A review scraped on 2026-01-18 that says "3 months ago" was written in October 2025, not on
2025-10-18: the site rounds. So each value keeps the precision its words support, and the date
stored is the start of that period:

| written | date | precision |
| --- | --- | --- |
| today, N minutes/hours ago, hari ini, N jam lalu | the collection day | day |
| yesterday, kemarin, N days ago, N hari lalu | N days before it | day |
| N weeks ago, N minggu lalu | 7N days before it | week |
| N months ago, N bulan lalu | the first of the month N months before | month |
| N years ago, N tahun lalu | 1 January of the year N years before | year |

"a"/"an"/"se-" (sebulan, setahun, seminggu, sehari) mean one. Trends are drawn only at the
resolution the precision allows (`serasan.voice`). Nothing else is read as a relative date.
"""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {
    "minute": "day",
    "minutes": "day",
    "menit": "day",
    "hour": "day",
    "hours": "day",
    "jam": "day",
    "day": "day",
    "days": "day",
    "hari": "day",
    "week": "week",
    "weeks": "week",
    "minggu": "week",
    "pekan": "week",
    "month": "month",
    "months": "month",
    "bulan": "month",
    "year": "year",
    "years": "year",
    "tahun": "year",
}
_DAYS = {"minute": 0, "minutes": 0, "menit": 0, "hour": 0, "hours": 0, "jam": 0}
_ONE = r"(?P<n>\d{1,3}|a|an|one|satu|beberapa)"
_AGO = re.compile(
    rf"^(?:edited\s+|diedit\s+)?{_ONE}\s+(?P<unit>[a-z]+)\s+(?:ago|(?:yang\s+)?lalu)$"
)
_SE = re.compile(
    r"^(?:diedit\s+)?se(?P<unit>menit|jam|hari|minggu|pekan|bulan|tahun)\s+(?:yang\s+)?lalu$"
)
_WORDS = {
    "today": (0, "day"),
    "hari ini": (0, "day"),
    "yesterday": (1, "day"),
    "kemarin": (1, "day"),
}


def read(text: str, collected: dt.date) -> tuple[dt.date, str] | None:
    """(date, precision) of a relative date, None when `text` is not one."""
    t = " ".join(text.strip().lower().split())
    if t in _WORDS:
        days, precision = _WORDS[t]
        return collected - dt.timedelta(days=days), precision
    n: int
    if m := _SE.match(t):
        unit, n = m.group("unit"), 1
    elif m := _AGO.match(t):
        unit, count = m.group("unit"), m.group("n")
        if unit not in _UNITS:
            return None
        if count == "beberapa":  # "a few": only below a day is it still one day
            if _UNITS[unit] != "day" or unit not in _DAYS:
                return None
            count = "0"
        n = 1 if count in ("a", "an", "one", "satu") else int(count)
    else:
        return None
    precision = _UNITS[unit]
    if precision == "day":
        return collected - dt.timedelta(days=0 if unit in _DAYS else n), "day"
    if precision == "week":
        return collected - dt.timedelta(weeks=n), "week"
    if precision == "month":
        months = collected.year * 12 + collected.month - 1 - n
        return dt.date(months // 12, months % 12 + 1, 1), "month"
    return dt.date(collected.year - n, 1, 1), "year"


def looks_relative(text: str) -> bool:
    """Whether a cell is written as a relative date (to refuse it when no collection date is
    known, instead of calling it an unreadable date)."""
    t = " ".join(text.strip().lower().split())
    return t in _WORDS or bool(_SE.match(t) or _AGO.match(t))
