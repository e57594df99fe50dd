"""Inline SVG charts: valid XML, honest about missing data, faithful scales, safe offline."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from serasan.publish.charts import bar_chart, decimals_for, format_id, line_chart, period_text

NS = "http://www.w3.org/2000/svg"
SVG = f"{{{NS}}}"

MONTHS = [
    ("2026-01", 61.5),
    ("2026-02", 64.25),
    ("2026-03", None),
    ("2026-04", 70.0),
    ("2026-05", 72.125),
]
TARGETS = [
    ("2026-01", 65.0),
    ("2026-02", 65.0),
    ("2026-03", 75.0),
    ("2026-04", 75.0),
    ("2026-05", 80.0),
]
KECAMATAN = [("Serasan", 37.5), ("Serasan Timur", None), ("Subi", 150.0), ("Bunguran", 12.5)]


def _root(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root[0].tag == SVG + "title" and root[0].text == root.get("aria-label")
    return root


def _with_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if cls in (e.get("class") or "").split()]


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def _all_outputs() -> list[str]:
    return [
        line_chart(MONTHS, title="Cakupan imunisasi", unit="%"),
        line_chart(MONTHS, title="Cakupan", unit="%", target=TARGETS, highlight="2026-05"),
        line_chart([("2026-01", None)], title="Kosong", unit="%"),
        line_chart([], title="Kosong", unit=""),
        bar_chart(KECAMATAN, title="Per kecamatan", unit="%", target=80.0),
        bar_chart([("A", None)], title="Kosong", unit="%"),
        bar_chart([("Utara", -12.5), ("Selatan", 30.0)], title="Perubahan", unit="%"),
    ]


# --- format_id / decimals_for ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234567.891, 2, "1.234.567,89"),
        (1234567.891, 0, "1.234.568"),
        (-3.5, 1, "-3,5"),
        (-1234567.5, 2, "-1.234.567,50"),
        (0, 2, "0,00"),
        (0.0, 0, "0"),
        (-0.0, 2, "0,00"),
        (-0.001, 2, "0,00"),
        (-0.4, 0, "0"),
        (999.999, 2, "1.000,00"),
        (12, 0, "12"),
        (1e15, 0, "1.000.000.000.000.000"),
        (None, 2, "–"),
        (float("nan"), 2, "–"),
    ],
)
def test_format_id(value: float | None, decimals: int, expected: str) -> None:
    assert format_id(value, decimals) == expected


def test_format_id_never_prints_negative_zero() -> None:
    for v, d in [(-0.0, 2), (-1e-9, 0), (-1e-9, 2), (-0.004, 2), (-0.04, 1), (-0.49, 0)]:
        assert format_id(v, d).lstrip("0,") == "", (v, d)
    assert format_id(-0.49, 1) == "-0,5"  # a real negative keeps its sign


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([150.5, 1234.25, -300.1], 0),
        ([1.0, 2, 3.0, None], 0),
        ([12.5, 45.25], 1),
        ([1.5, 45.25], 2),
        ([0, 250.5], 0),
        ([None], 0),
    ],
)
def test_decimals_for(values: list[float | None], expected: int) -> None:
    assert decimals_for(values) == expected


def test_decimals_for_accepts_an_iterator() -> None:
    assert decimals_for(v for v in (12.5, 20.25)) == 1


# --- line_chart -----------------------------------------------------------------------------


def test_line_chart_points_round_trip_exact_floats() -> None:
    values = [("a", 0.1 + 0.2), ("b", 1 / 3), ("c", None), ("d", 1234567.891), ("e", -2.5)]
    root = _root(line_chart(values, title="T", unit="ha"))
    points = _with_class(root, "circle", "point")
    assert len(points) == 4
    assert [float(p.get("data-value")) for p in points] == [0.1 + 0.2, 1 / 3, 1234567.891, -2.5]
    assert [p.get("data-period") for p in points] == ["a", "b", "d", "e"]
    assert points[2].find(SVG + "title").text == "d: 1.234.567,89 ha"
    assert "line-chart" in root.get("class").split()


def test_line_chart_breaks_the_line_at_missing_values() -> None:
    root = _root(line_chart(MONTHS, title="T", unit="%"))
    series = _with_class(root, "polyline", "series")
    assert [len(s.get("points").split()) for s in series] == [2, 2]
    missing = _with_class(root, "circle", "missing")
    assert len(missing) == 1
    assert missing[0].find(SVG + "title").text == "Maret 2026: tidak ada data"


def test_line_chart_without_gaps_is_one_polyline() -> None:
    root = _root(line_chart([(str(i), float(i)) for i in range(6)], title="T", unit=""))
    assert len(_with_class(root, "polyline", "series")) == 1
    assert not _with_class(root, "circle", "missing")


def test_highlight_marks_only_that_point() -> None:
    root = _root(line_chart(MONTHS, title="T", unit="%", highlight="2026-04"))
    current = [e for e in root.iter() if "current" in (e.get("class") or "").split()]
    assert len(current) == 1 and current[0].get("data-period") == "2026-04"
    assert "point" in current[0].get("class").split()
    no_match = _root(line_chart(MONTHS, title="T", unit="%", highlight="2030-01"))
    assert not [e for e in no_match.iter() if "current" in (e.get("class") or "").split()]


def test_target_series_present_iff_target_given() -> None:
    with_target = _root(line_chart(MONTHS, title="T", unit="%", target=TARGETS))
    targets = _with_class(with_target, "polyline", "target")
    assert targets and all(t.get("stroke-dasharray") for t in targets)
    assert not _with_class(_root(line_chart(MONTHS, title="T", unit="%")), "polyline", "target")


def test_y_axis_covers_values_and_targets() -> None:
    root = _root(line_chart(MONTHS, title="T", unit="%", target=TARGETS))
    axis = _with_class(root, "g", "y-axis")[0]
    top = max([v for _, v in MONTHS if v is not None] + [v for _, v in TARGETS])
    assert float(axis.get("data-max")) >= top
    assert float(axis.get("data-min")) == 0.0
    grid = _with_class(root, "line", "grid")
    assert 3 <= len(grid) <= 5
    height = float(root.get("height"))
    for p in _with_class(root, "circle", "point"):
        assert 0 <= float(p.get("cy")) <= height


def test_y_axis_goes_below_zero_for_negative_values() -> None:
    root = _root(line_chart([("a", -7.5), ("b", 3.0)], title="T", unit=""))
    axis = _with_class(root, "g", "y-axis")[0]
    assert float(axis.get("data-min")) <= -7.5 and float(axis.get("data-max")) >= 3.0
    assert 3 <= len(_with_class(root, "line", "grid")) <= 5


@pytest.mark.parametrize("top", [0.003, 1.0, 7.0, 99.9, 100.0, 101.0, 0.3, 12345.0])
def test_gridline_count_stays_in_range(top: float) -> None:
    root = _root(line_chart([("a", 0.0), ("b", top)], title="T", unit=""))
    assert 3 <= len(_with_class(root, "line", "grid")) <= 5
    assert float(_with_class(root, "g", "y-axis")[0].get("data-max")) >= top


def test_all_missing_says_belum_ada_data() -> None:
    for svg in (
        line_chart([("2026-01", None), ("2026-02", None)], title="T", unit="%"),
        line_chart([], title="T", unit="%"),
    ):
        root = _root(svg)
        assert "Belum ada data" in _texts(root)
        assert not _with_class(root, "circle", "point")


def test_x_labels_are_thinned_beyond_twelve_periods() -> None:
    twelve = _root(line_chart([(f"P{i}", float(i)) for i in range(12)], title="T", unit=""))
    assert len(_with_class(twelve, "text", "x-label")) == 12
    labels = [(f"P{i}", float(i)) for i in range(36)]
    root = _root(line_chart(labels, title="T", unit=""))
    shown = ["".join(t.itertext()) for t in _with_class(root, "text", "x-label")]
    assert 2 <= len(shown) <= 12 and shown[0] == "P0" and shown[-1] == "P35"
    assert len(_with_class(root, "circle", "point")) == 36


# --- bar_chart ------------------------------------------------------------------------------


def test_bar_chart_one_bar_per_present_item() -> None:
    root = _root(bar_chart(KECAMATAN, title="T", unit="%", target=80.0))
    assert "bar-chart" in root.get("class").split()
    bars = _with_class(root, "rect", "bar")
    assert [b.get("data-label") for b in bars] == ["Serasan", "Subi", "Bunguran"]
    assert [float(b.get("data-value")) for b in bars] == [37.5, 150.0, 12.5]
    assert "tidak ada data" in _texts(root)
    assert "37,5" in _texts(root)  # the value is written at the bar end


def test_bar_widths_are_proportional() -> None:
    items = [("a", 37.5), ("b", 150.0), ("c", 1 / 3), ("d", 99.99)]
    bars = _with_class(_root(bar_chart(items, title="T", unit="")), "rect", "bar")
    widths = [float(b.get("width")) for b in bars]
    for (_, v1), w1 in zip(items, widths, strict=True):
        for (_, v2), w2 in zip(items, widths, strict=True):
            assert w1 / w2 == pytest.approx(v1 / v2, rel=1e-6)


def test_bar_target_line_matches_the_scale() -> None:
    root = _root(bar_chart(KECAMATAN, title="T", unit="%", target=80.0))
    line = _with_class(root, "line", "target")
    assert len(line) == 1 and line[0].get("x1") == line[0].get("x2")
    for bar in _with_class(root, "rect", "bar"):
        px_per_unit = float(bar.get("width")) / float(bar.get("data-value"))
        expected = float(bar.get("x")) + 80.0 * px_per_unit
        assert float(line[0].get("x1")) == pytest.approx(expected, abs=1e-4)
    axis = _with_class(root, "g", "x-axis")[0]
    assert float(axis.get("data-max")) >= 150.0


def test_bar_target_beyond_values_widens_the_scale() -> None:
    root = _root(bar_chart([("a", 10.0), ("b", 20.0)], title="T", unit="", target=95.0))
    assert float(_with_class(root, "g", "x-axis")[0].get("data-max")) >= 95.0
    assert float(_with_class(root, "line", "target")[0].get("x1")) <= float(root.get("width"))
    assert not _with_class(_root(bar_chart([("a", 1.0)], title="T", unit="")), "line", "target")


def test_bar_chart_height_grows_with_rows() -> None:
    small = _root(bar_chart([("a", 1.0)] * 2, title="T", unit=""))
    big = _root(bar_chart([("a", 1.0)] * 12, title="T", unit=""))
    assert float(big.get("height")) - float(small.get("height")) == pytest.approx(10 * 22)


def test_bar_chart_negative_values_extend_left_of_zero() -> None:
    root = _root(bar_chart([("Utara", -12.5), ("Selatan", 30.0)], title="T", unit="%"))
    neg, pos = _with_class(root, "rect", "bar")
    assert float(neg.get("x")) + float(neg.get("width")) == pytest.approx(float(pos.get("x")))
    assert float(neg.get("width")) / float(pos.get("width")) == pytest.approx(12.5 / 30.0)


def test_bar_chart_all_missing_says_belum_ada_data() -> None:
    assert "Belum ada data" in _texts(_root(bar_chart([("a", None)], title="T", unit="")))
    assert "Belum ada data" in _texts(_root(bar_chart([], title="T", unit="")))


# --- escaping, determinism, offline safety --------------------------------------------------


NASTY = "Kec. <Bukit> & \"Timur\" 'Lama'"


def test_labels_and_titles_are_escaped_and_round_trip() -> None:
    line = _root(
        line_chart(
            [(NASTY, 5.0), ("b", None)],
            title=NASTY,
            unit="<u>",
            highlight=NASTY,
            target=[(NASTY, 6.0)],
        )
    )
    assert line.get("aria-label") == NASTY and line[0].text == NASTY
    point = _with_class(line, "circle", "point")[0]
    assert point.get("data-period") == NASTY
    assert point.find(SVG + "title").text == f"{NASTY}: 5 <u>"
    assert NASTY in _texts(line)
    bar = _root(bar_chart([(NASTY, 5.0)], title=NASTY, unit="&"))
    assert _with_class(bar, "rect", "bar")[0].get("data-label") == NASTY
    assert bar.get("aria-label") == NASTY


def test_characters_xml_forbids_do_not_break_the_file() -> None:
    _root(line_chart([("a\x00b\x1b", 1.0)], title="x\x01", unit="\x0b"))
    _root(bar_chart([("a\x00b", 1.0)], title="x\x01", unit=""))


def test_output_is_deterministic() -> None:
    assert _all_outputs() == _all_outputs()


def test_outputs_parse_and_stay_offline() -> None:
    for svg in _all_outputs():
        _root(svg)
        assert "http" not in svg.replace(NS, "")
        assert svg.count(NS) == 1
        lowered = svg.lower()
        assert "<script" not in lowered and "url(" not in lowered
        assert "href" not in lowered and "@import" not in lowered
        assert not any(a.startswith("on") for e in ET.fromstring(svg).iter() for a in e.attrib)


# --- what an assessor reads: Indonesian periods, titles left to the page, a legend apart ----

YEAR_OF_MONTHS = [(f"{2025 + (m > 12)}-{(m - 1) % 12 + 1:02d}", float(m)) for m in range(11, 23)]


def _labels(root: ET.Element, cls: str) -> list[tuple[str, str]]:
    return [(e.get("data-period"), e.text) for e in _with_class(root, "text", cls)]


@pytest.mark.parametrize(
    ("key", "long", "short"),
    [
        ("2026-10", "Oktober 2026", "Okt 2026"),
        ("2026-08", "Agustus 2026", "Agu 2026"),
        ("2025-12", "Desember 2025", "Des 2025"),
        ("2026-05", "Mei 2026", "Mei 2026"),
        ("2026-Q3", "Triwulan III 2026", "Tw III 2026"),
        ("2025", "2025", "2025"),
        ("Kec. Sekayu", "Kec. Sekayu", "Kec. Sekayu"),
        ("2026-13", "2026-13", "2026-13"),
    ],
)
def test_period_text_is_indonesian(key: str, long: str, short: str) -> None:
    assert period_text(key) == long
    assert period_text(key, short=True) == short


def test_month_axis_labels_are_indonesian_month_names_with_the_year_under_them() -> None:
    root = _root(line_chart(YEAR_OF_MONTHS, title="T", unit="%", target=TARGETS))
    assert _labels(root, "x-label") == [
        (key, name)
        for key, name in zip(
            [k for k, _ in YEAR_OF_MONTHS],
            ["Nov", "Des", "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt"],
            strict=True,
        )
    ]
    # the year under the first month and under each January, so "Okt" reads as Okt 2026
    assert _labels(root, "x-year") == [("2025-11", "2025"), ("2026-01", "2026")]
    months = {e.get("data-period"): e for e in _with_class(root, "text", "x-label")}
    for year in _with_class(root, "text", "x-year"):
        month = months[year.get("data-period")]
        assert year.get("x") == month.get("x") and float(year.get("y")) > float(month.get("y"))
    assert max(float(e.get("y")) for e in _with_class(root, "text", "x-year")) < float(
        root.get("height")
    )
    assert not [t for t in _texts(root) if re.search(r"\d{4}-(\d{2}|Q\d)", t)]
    [point] = [p for p in _with_class(root, "circle", "point") if p.get("data-period") == "2026-10"]
    assert point.find(SVG + "title").text == "Oktober 2026: 22 %"


def test_quarter_and_year_axis_labels() -> None:
    quarters = [("2025-Q4", 1.0), ("2026-Q1", 2.0), ("2026-Q2", 3.0), ("2026-Q3", 4.0)]
    root = _root(line_chart(quarters, title="T", unit=""))
    assert [t for _, t in _labels(root, "x-label")] == ["Tw IV", "Tw I", "Tw II", "Tw III"]
    assert _labels(root, "x-year") == [("2025-Q4", "2025"), ("2026-Q1", "2026")]
    years = _root(line_chart([("2023", 1.0), ("2024", 2.0), ("2025", 3.0)], title="T", unit=""))
    assert [t for _, t in _labels(years, "x-label")] == ["2023", "2024", "2025"]
    assert not _with_class(years, "text", "x-year")


def test_the_title_is_the_charts_name_but_never_text_drawn_in_it() -> None:
    title = "Rata-rata waktu henti (downtime) kamera CCTV per kecamatan, Oktober 2026"
    for svg in (
        line_chart(YEAR_OF_MONTHS, title=title, unit="jam/kamera", target=TARGETS),
        line_chart([("2026-01", None)], title=title, unit="%"),
        bar_chart(KECAMATAN, title=title, unit="%", target=80.0),
        bar_chart([("A", None)], title=title, unit="%"),
    ):
        root = _root(svg)
        assert root.get("aria-label") == title
        assert not _with_class(root, "text", "chart-title")
        assert not [t for t in _texts(root) if title in t or "jam/kamera" in t]


@pytest.mark.parametrize("kind", ["line", "bar"])
def test_the_legend_has_its_own_band_above_the_plot(kind: str) -> None:
    root = _root(
        line_chart(YEAR_OF_MONTHS, title="T", unit="%", target=TARGETS)
        if kind == "line"
        else bar_chart(KECAMATAN, title="T", unit="%", target=80.0)
    )
    plot_top = min(float(g.get("y1")) for g in _with_class(root, "line", "grid"))
    [legend] = _with_class(root, "g", "legend")
    words = ["".join(t.itertext()) for t in legend.iter(SVG + "text")]
    assert words == (["Nilai", "Target"] if kind == "line" else ["Target"])
    for t in legend.iter(SVG + "text"):
        assert float(t.get("y")) + 3 < plot_top  # the baseline, plus descenders, above the plot
        assert 0 < float(t.get("x")) < float(root.get("width"))
    [target_swatch] = [
        line for g in _with_class(root, "g", "legend-target") for line in g.iter(SVG + "line")
    ]
    assert target_swatch.get("stroke-dasharray")
    plain = _root(line_chart(YEAR_OF_MONTHS, title="T", unit="%"))
    assert not _with_class(plain, "g", "legend")
