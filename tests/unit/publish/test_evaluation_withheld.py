"""A citizen-voice KPI value withheld for too few reviews, as the evaluation pack reads it: the
year's status counts it apart from a period with no data, and the comparison with a year
earlier knows the earlier value was withheld, not absent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from serasan.config.catalog import Catalog
from serasan.publish import kpi
from serasan.publish.evaluation import evidence
from serasan.publish.evaluation.period import Window

CODE = "MUBA-LIV-04"  # average rating of Taman Air Muba's reviews, quarterly, min_count: voice


def _row(period: str, value: float | None, n: int, status: str) -> dict[str, Any]:
    return {
        "kpi_code": CODE,
        "period": period,
        "kode_wilayah": "16.06",
        "value": value,
        "target": 4.0,
        "achievement_pct": None if value is None else 100.0 * value / 4.0,
        "status": status,
        "reason": None if value is not None else f"{kpi.TOO_FEW}: {n} ulasan",
        "load_ids": "",
        "n": n,
        "min_n": 20,
    }


def test_withheld_periods_are_counted_and_named_apart(catalog: Catalog) -> None:
    k = catalog.kpis[CODE]
    assert k.min_count == "voice" and k.cadence == "quarterly"
    rows = [
        _row("2025-Q3", None, 7, "missing"),  # a year earlier: withheld
        _row("2026-Q1", None, 12, "missing"),  # withheld
        _row("2026-Q2", 4.2, 31, "on_track"),
        _row("2026-Q3", 3.9, 44, "at_risk"),
    ]
    regency = catalog.regency("16.06")
    found = evidence.kpi_evidence(
        k, rows, regency, Window(2026, dt.date(2026, 11, 1)), {}, {}, catalog
    )
    assert found.period == "2026-Q3" and found.value == 3.9 and not found.too_few
    assert found.n == 44 and found.count_noun == "ulasan"
    assert found.previous_value is None and found.previous_too_few
    assert found.previous_status == evidence.TOO_FEW_STATUS
    counts = found.status_counts
    assert counts[evidence.TOO_FEW_STATUS] == 1  # 2026-Q1
    assert counts["missing"] == 0  # withheld is not "no data"
    assert counts["on_track"] == 1 and counts["at_risk"] == 1
    assert [p.too_few for p in found.year] == [True, False, False]


def test_a_period_without_any_row_is_missing_not_withheld(catalog: Catalog) -> None:
    k = catalog.kpis[CODE]
    rows = [_row("2026-Q3", 3.9, 44, "at_risk")]
    found = evidence.kpi_evidence(
        k, rows, catalog.regency("16.06"), Window(2026, dt.date(2026, 11, 1)), {}, {}, catalog
    )
    assert not found.previous_too_few and found.previous_status == "missing"
    assert found.status_counts["missing"] == 2 and found.status_counts[evidence.TOO_FEW_STATUS] == 0
