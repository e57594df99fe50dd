"""Achievement as the report shows it: a lower-is-better KPI far above its target is 0 %, never
the negative percentage SAKIP's formula gives, and the formula's own result stays available to
be written beside it. The report's rendering of it is in tests/integration/test_report_assessor.py.
"""

from __future__ import annotations

import pytest

from serasan.publish import kpi


def test_sakips_negative_indicator_formula_goes_below_zero_past_twice_the_target() -> None:
    # (2 x target - value) / target x 100: 32 CCTV cameras down against a target of 3
    assert kpi.sakip_pct(32.0, 3.0, "lower_is_better") == pytest.approx(-866.6667, abs=1e-4)
    assert kpi.sakip_pct(6.0, 3.0, "lower_is_better") == 0.0  # exactly twice the target
    assert kpi.sakip_pct(0.0, 3.0, "lower_is_better") == 200.0  # the most it can reach
    assert kpi.sakip_pct(250.0, 100.0, "higher_is_better") == 250.0


def test_achievement_is_floored_at_zero_and_has_no_upper_cap() -> None:
    assert kpi.ACHIEVEMENT_FLOOR == 0.0
    assert kpi.status_of(32.0, 3.0, "lower_is_better") == (0.0, "off_track")
    assert kpi.status_of(1000.0, 3.0, "lower_is_better") == (0.0, "off_track")
    assert kpi.status_of(6.0, 3.0, "lower_is_better") == (0.0, "off_track")
    assert kpi.status_of(5.0, 3.0, "lower_is_better")[0] == pytest.approx(100 / 3)
    # no upper cap on either side
    assert kpi.status_of(0.0, 3.0, "lower_is_better") == (200.0, "on_track")
    assert kpi.status_of(250.0, 100.0, "higher_is_better") == (250.0, "on_track")
    assert kpi.bounded(-866.7) == 0.0 and kpi.bounded(412.5) == 412.5
