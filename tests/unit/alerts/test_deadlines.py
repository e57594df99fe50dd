"""Deadlines from the cadence: the period each dataset is due for on a run date, its deadline
(with a clamped override), and whether loaded periods cover it. The reminders and digests these
drive, sent through the outbox, are in tests/integration/test_freshness.py."""

from __future__ import annotations

import datetime as dt

import pytest

from serasan.alerts import freshness
from serasan.config.catalog import Catalog

D = dt.date


@pytest.mark.parametrize(
    ("cadence", "run_date", "start", "end", "deadline"),
    [
        ("monthly", D(2026, 11, 11), D(2026, 10, 1), D(2026, 10, 31), D(2026, 11, 10)),
        (
            "monthly",
            D(2026, 11, 10),
            D(2026, 9, 1),
            D(2026, 9, 30),
            D(2026, 10, 10),
        ),  # still on time
        ("monthly", D(2027, 1, 11), D(2026, 12, 1), D(2026, 12, 31), D(2027, 1, 10)),
        ("quarterly", D(2026, 10, 16), D(2026, 7, 1), D(2026, 9, 30), D(2026, 10, 15)),
        ("quarterly", D(2026, 10, 15), D(2026, 4, 1), D(2026, 6, 30), D(2026, 7, 15)),
        ("yearly", D(2027, 2, 1), D(2026, 1, 1), D(2026, 12, 31), D(2027, 1, 31)),
        ("yearly", D(2027, 1, 31), D(2025, 1, 1), D(2025, 12, 31), D(2026, 1, 31)),
        ("daily", D(2026, 11, 3), D(2026, 11, 1), D(2026, 11, 1), D(2026, 11, 2)),
    ],
)
def test_due_period_and_deadline(
    cadence: str, run_date: dt.date, start: dt.date, end: dt.date, deadline: dt.date
) -> None:
    assert freshness.due_period(cadence, run_date) == freshness.Due(cadence, start, end, deadline)


def test_deadline_day_override_is_clamped() -> None:
    assert freshness.due_period("monthly", D(2026, 11, 6), 5).deadline == D(2026, 11, 5)
    assert freshness.deadline_of("monthly", D(2026, 1, 31), 31) == D(2026, 2, 28)
    assert freshness.deadline_of("yearly", D(2025, 12, 31), 15) == D(2026, 1, 15)


def test_loaded_periods_cover_the_due_period(catalog: Catalog) -> None:
    monthly = catalog.dataset("muba_bank_sampah")  # month granularity
    yearly = catalog.dataset("muba_kelompok_tani_karet")  # year granularity
    oct_ = freshness.due_period("monthly", D(2026, 11, 11))
    assert freshness.covers(monthly, "2026-09-01,2026-10-01", oct_)
    assert not freshness.covers(monthly, "2026-09-01", oct_)
    assert not freshness.covers(monthly, "", oct_) and not freshness.covers(monthly, None, oct_)
    y2025 = freshness.due_period("yearly", D(2026, 11, 11))
    assert freshness.covers(yearly, "2024,2025", y2025) and not freshness.covers(
        yearly, "2024", y2025
    )
