"""Time as the regencies keep it: Asia/Jakarta (WIB), and Indonesian month names.

One home for both, so parsing, alerts, KPIs and reports agree on what "today" and "Okt" mean.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")

# Full names, January first: axis labels, alerts, templates and generated data.
MONTH_NAMES: tuple[str, ...] = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

# The same in English, for messages in English (SERASAN_LANG=en).
MONTH_NAMES_EN: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Every spelling an OPD file uses for a month (Indonesian and English, full and short).
MONTH_NUMBERS: dict[str, int] = {
    "januari": 1,
    "jan": 1,
    "februari": 2,
    "feb": 2,
    "pebruari": 2,
    "peb": 2,
    "maret": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "agustus": 8,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "nop": 11,
    "desember": 12,
    "des": 12,
    "dec": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "june": 6,
    "july": 7,
    "august": 8,
    "october": 10,
    "december": 12,
}


def date_text(day: date) -> str:
    """'1 November 2026': a date as Indonesian readers write it in a document."""
    return f"{day_month(day)} {day.year}"


def day_month(day: date) -> str:
    """'1 November'."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]}"
