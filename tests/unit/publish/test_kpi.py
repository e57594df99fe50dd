"""Pillar KPIs without a warehouse: the catalog has at least three per pillar for each regency,
yearly targets, status by polarity, period keys. Computed on both backends in
tests/integration/test_kpis.py."""

from __future__ import annotations

import datetime as dt

from serasan.config.catalog import Catalog
from serasan.publish import kpi

PILLARS = ("governance", "branding", "economy", "living", "society", "environment")


# ------------------------------------------------------------------------ the catalog


def test_at_least_three_kpis_per_pillar_for_each_regency(catalog: Catalog) -> None:
    for kode in catalog.regencies:
        by_pillar = {p: [k for k in catalog.kpis_of(kode) if k.pillar == p] for p in PILLARS}
        assert all(len(ks) >= 3 for ks in by_pillar.values()), {
            p: len(ks) for p, ks in by_pillar.items()
        }
    for k in catalog.kpis.values():
        assert k.konsep and k.definisi and k.rumus and k.satuan and k.sources
    assert any(k.level == "kecamatan" for k in catalog.kpis.values())
    assert any(k.polarity == "lower_is_better" for k in catalog.kpis.values())
    assert any(isinstance(k.target, dict) for k in catalog.kpis.values())


def test_yearly_targets_take_the_latest_earlier_year(catalog: Catalog) -> None:
    base = next(iter(catalog.kpis.values()))
    k = base.model_copy(update={"target": {2025: 90.0, 2027: 95.0}})
    assert [k.target_for(y) for y in (2024, 2025, 2026, 2027, 2030)] == [
        None,
        90.0,
        90.0,
        95.0,
        95.0,
    ]
    assert base.model_copy(update={"target": 7.5}).target_for(1999) == 7.5


def test_status_by_polarity() -> None:
    assert kpi.status_of(120.0, 100.0, "higher_is_better") == (120.0, "on_track")
    assert kpi.status_of(85.0, 100.0, "higher_is_better") == (85.0, "at_risk")
    assert kpi.status_of(50.0, 100.0, "higher_is_better") == (50.0, "off_track")
    # lower is better, measured as SAKIP does: (target - (value - target)) / target
    assert kpi.status_of(80.0, 100.0, "lower_is_better") == (120.0, "on_track")
    assert kpi.status_of(110.0, 100.0, "lower_is_better") == (90.0, "at_risk")
    assert kpi.status_of(0.0, 100.0, "lower_is_better") == (200.0, "on_track")
    assert kpi.status_of(None, 100.0, "higher_is_better") == (None, "missing")
    assert kpi.status_of(5.0, None, "higher_is_better") == (None, "no_target")


def test_period_keys() -> None:
    assert kpi.periods_between("monthly", "2025-11", "2026-02") == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert kpi.periods_between("quarterly", "2025-Q4", "2026-Q2") == [
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
    ]
    assert kpi.period_span("2026-Q1") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert kpi.latest_ended("quarterly", dt.date(2026, 10, 31)) == "2026-Q3"
    assert kpi.latest_ended("monthly", dt.date(2026, 10, 31)) == "2026-10"
    assert kpi.latest_ended("yearly", dt.date(2026, 10, 31)) == "2025"
