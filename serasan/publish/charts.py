"""Inline SVG charts for the static KPI reports, which must open offline: no JS, no web fonts.

Output is deterministic (same input, same bytes) so rebuilt reports diff cleanly. Numbers follow
Indonesian convention (`1.234,5`) because the reports are read by regency staff in Bahasa Indonesia.
A missing period is drawn as a gap with a hollow marker, never as an invented value.

A chart's title is not drawn in the SVG: text there has a width guessed without a browser, so a
long title ran under the legend or off the card. The page puts the title in its HTML, above the
chart, where it wraps; the SVG keeps it only as its accessible name (`aria-label`, `<title>`).
Period keys on the x axis are written with Indonesian month names: `Okt` over `2026`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TypeGuard
from xml.sax.saxutils import escape, quoteattr

from serasan.common.clock import MONTH_NAMES

_NS = "http://www.w3.org/2000/svg"
_VALUE, _TARGET, _GRID, _TEXT, _MUTED = "#1f6feb", "#d1242f", "#d0d7de", "#24292f", "#57606a"
_FONT = "system-ui, sans-serif"
_CHAR_W = 6.5  # rough advance of an 11px glyph: text cannot be measured without a browser
_ROW = 22  # bar chart row height
_MAX_X_LABELS = 12
_LEGEND_BAND = 26  # the top band of a chart with a legend; nothing else is drawn there
_LINE_GAP = 13  # between the two lines of an x-axis label (month, then year)
# Characters XML 1.0 forbids even when escaped; an OPD label containing one must not break the file.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MONTH_KEY = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_QUARTER_KEY = re.compile(r"(\d{4})-Q([1-4])")
_YEAR_KEY = re.compile(r"\d{4}")
_ROMAN = ("I", "II", "III", "IV")


def period_parts(key: str, short: bool = True) -> tuple[str, str] | None:
    """A period key in Indonesian as (period within the year, year): '2026-10' ->
    ('Okt', '2026') or, not short, ('Oktober', '2026'); '2026-Q3' -> ('Tw III', '2026') or
    ('Triwulan III', '2026'); '2025' -> ('', '2025'). None for a label that is no period key."""
    if m := _MONTH_KEY.fullmatch(key):
        name = MONTH_NAMES[int(m.group(2)) - 1]
        return (name[:3] if short else name), m.group(1)
    if m := _QUARTER_KEY.fullmatch(key):
        roman = _ROMAN[int(m.group(2)) - 1]
        return f"{'Tw' if short else 'Triwulan'} {roman}", m.group(1)
    if _YEAR_KEY.fullmatch(key):
        return "", key
    return None


def period_text(key: str, short: bool = False) -> str:
    """'2026-10' -> 'Oktober 2026' ('Okt 2026' short), '2026-Q3' -> 'Triwulan III 2026'
    ('Tw III 2026'), '2025' -> '2025'; any other label as it is."""
    parts = period_parts(key, short)
    return key if parts is None else " ".join(p for p in parts if p)


def format_id(value: float | None, decimals: int = 2) -> str:
    """`1.234.567,89`: the Indonesian reading of a number; `–` for missing or non-finite."""
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value:,.{max(decimals, 0)}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # -0.001 rounds to zero; a signed zero only confuses readers
    return text.translate(str.maketrans(",.", ".,"))


def decimals_for(values: Iterable[float | None]) -> int:
    """Decimals worth showing: none for whole or large numbers, fewer as magnitudes grow.

    Zeros are ignored for the magnitude test, so `[0, 250.5]` still shows no decimals.
    """
    mags = [abs(v) for v in values if _finite(v)]
    nonzero = [m for m in mags if m]
    if all(float(m).is_integer() for m in mags) or all(m >= 100 for m in nonzero):
        return 0
    return 1 if all(m >= 10 for m in nonzero) else 2


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str,
    target: Sequence[tuple[str, float | None]] | None = None,
    highlight: str | None = None,
    width: int = 560,
    height: int = 220,
) -> str:
    """Trend of one KPI over periods, in the given order; the line breaks where data is missing.

    Target values are matched to periods by label; target labels not among `points` still widen
    the y axis but are not drawn. `title` is the chart's accessible name only (the page shows it
    above the chart). Period keys are labelled in Indonesian ('Okt', with the year under the
    first label and under each January); other labels are written as they are.
    """
    present = [float(v) for _, v in points if _finite(v)]
    if not present:
        return _empty("line-chart", title, width, height)
    goals = {str(label): v for label, v in (target or [])}
    lo, hi, ticks, tick_dec = _scale(present + [float(v) for v in goals.values() if _finite(v)])
    dec = decimals_for(present)
    tick_text = [format_id(t, tick_dec) for t in ticks]
    left = 10 + _CHAR_W * max(len(s) for s in tick_text)
    labels = [str(label) for label, _ in points]
    n = len(points)
    shown_labels = _axis_labels(labels, _label_indices(n))
    two_lines = any(head and year for _, head, year in shown_labels)
    top = _LEGEND_BAND if target is not None else 10
    right, bottom = 12, 22 + (_LINE_GAP if two_lines else 0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (i + 0.5) * plot_w / n

    def y(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    out = []
    grid = []
    for t, s in zip(ticks, tick_text, strict=True):
        grid.append(
            _tag(
                "line",
                {
                    "class": "grid",
                    "x1": left,
                    "x2": width - right,
                    "y1": y(t),
                    "y2": y(t),
                    "stroke": _GRID,
                    "stroke-width": 1,
                },
            )
        )
        grid.append(_tag("text", {"x": left - 6, "y": y(t) + 4, "text-anchor": "end"}, escape(s)))
    out.append(
        _tag("g", {"class": "y-axis", "data-min": repr(lo), "data-max": repr(hi)}, "".join(grid))
    )
    label_y = height - bottom + 16
    for i, head, year in shown_labels:
        if head:
            out.append(
                _tag(
                    "text",
                    {
                        "class": "x-label",
                        "x": x(i),
                        "y": label_y,
                        "text-anchor": "middle",
                        "data-period": labels[i],
                    },
                    _text(head),
                )
            )
        if year:
            out.append(
                _tag(
                    "text",
                    {
                        "class": "x-year" if head else "x-label",
                        "x": x(i),
                        "y": label_y + (_LINE_GAP if head else 0),
                        "text-anchor": "middle",
                        "data-period": labels[i],
                        **({"fill": _MUTED} if head else {}),
                    },
                    _text(year),
                )
            )
    if target is not None:
        half = plot_w / n / 2  # a step line: each period's target spans that period's slot
        steps = [
            (px, goals.get(lbl))
            for i, lbl in enumerate(labels)
            for px in (x(i) - half, x(i) + half)
        ]
        for run in _runs(steps, y):
            out.append(
                _tag(
                    "polyline",
                    {
                        "class": "target",
                        "points": run,
                        "fill": "none",
                        "stroke": _TARGET,
                        "stroke-width": 1.5,
                        "stroke-dasharray": "5 3",
                    },
                    _title("Target"),
                )
            )
        out.append(_legend(width - right, series=True))
    for run in _runs([(x(i), v) for i, (_, v) in enumerate(points)], y):
        out.append(
            _tag(
                "polyline",
                {
                    "class": "series",
                    "points": run,
                    "fill": "none",
                    "stroke": _VALUE,
                    "stroke-width": 2,
                },
            )
        )
    for i, (label, (_, v)) in enumerate(zip(labels, points, strict=True)):
        current = " current" if highlight is not None and label == str(highlight) else ""
        if _finite(v):
            attrs: dict[str, str | float] = {
                "class": "point" + current,
                "cx": x(i),
                "cy": y(v),
                "r": 4.5 if current else 3,
                "fill": _VALUE,
                "stroke": "#ffffff",
                "stroke-width": 1,
                "data-period": label,
                "data-value": repr(float(v)),
            }
            tip = _tip(period_text(label), format_id(v, dec), unit)
        else:
            attrs = {
                "class": "missing" + current,
                "cx": x(i),
                "cy": y(0.0),
                "r": 3.5,
                "fill": "#ffffff",
                "stroke": _MUTED,
                "stroke-width": 1.5,
                "data-period": label,
            }
            tip = f"{period_text(label)}: tidak ada data"
        out.append(_tag("circle", attrs, _title(tip)))
    return _svg("line-chart", title, width, height, "".join(out))


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str,
    target: float | None = None,
    width: int = 560,
) -> str:
    """One horizontal bar per area (e.g. kecamatan), in the given order; height follows the rows.
    `title` is the chart's accessible name only (the page shows it above the chart)."""
    goal = float(target) if _finite(target) else None
    top, bottom = (_LEGEND_BAND if goal is not None else 8), 22
    height = top + max(len(items), 1) * _ROW + bottom
    present = [float(v) for _, v in items if _finite(v)]
    if not present:
        return _empty("bar-chart", title, width, height)
    lo, hi, ticks, tick_dec = _scale(present + ([goal] if goal is not None else []))
    dec = decimals_for(present)
    value_w = 8 + _CHAR_W * max(len(format_id(v, dec)) for v in present)
    label_w = min(8 + _CHAR_W * max(len(str(label)) for label, _ in items), width * 0.35)
    left = label_w + 8 + (value_w if lo < 0 else 0)
    plot_w = width - left - value_w - 8
    rows_bottom = top + len(items) * _ROW

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / (hi - lo)

    out = []
    grid = []
    for t in ticks:
        grid.append(
            _tag(
                "line",
                {
                    "class": "grid",
                    "x1": x(t),
                    "x2": x(t),
                    "y1": top,
                    "y2": rows_bottom,
                    "stroke": _GRID,
                    "stroke-width": 1,
                },
            )
        )
        grid.append(
            _tag(
                "text",
                {"x": x(t), "y": rows_bottom + 14, "text-anchor": "middle"},
                escape(format_id(t, tick_dec)),
            )
        )
    out.append(
        _tag("g", {"class": "x-axis", "data-min": repr(lo), "data-max": repr(hi)}, "".join(grid))
    )
    max_chars = max(int((label_w - 4) / _CHAR_W), 2)
    for i, (raw_label, v) in enumerate(items):
        label, row_y = str(raw_label), top + i * _ROW
        shown = label if len(label) <= max_chars else label[: max_chars - 1] + "…"
        out.append(
            _tag(
                "text",
                {"class": "label", "x": label_w, "y": row_y + 15, "text-anchor": "end"},
                _title(label) + _text(shown),
            )
        )
        if v is None or not _finite(v):
            out.append(
                _tag(
                    "text",
                    {
                        "class": "missing",
                        "x": x(0.0) + 4,
                        "y": row_y + 15,
                        "fill": _MUTED,
                        "font-style": "italic",
                    },
                    "tidak ada data",
                )
            )
            continue
        v = float(v)
        bar_w = plot_w * abs(v) / (hi - lo)
        out.append(
            _tag(
                "rect",
                {
                    "class": "bar",
                    "x": x(min(v, 0.0)),
                    "y": row_y + 4,
                    "width": bar_w,
                    "height": 14,
                    "fill": _VALUE,
                    "data-label": label,
                    "data-value": repr(v),
                },
                _title(_tip(label, format_id(v, dec), unit)),
            )
        )
        end: dict[str, str | float] = (
            {"x": x(v) + 4, "text-anchor": "start"}
            if v >= 0
            else {"x": x(v) - 4, "text-anchor": "end"}
        )
        out.append(
            _tag("text", {"class": "value", **end, "y": row_y + 15}, escape(format_id(v, dec)))
        )
    if goal is not None:
        out.append(
            _tag(
                "line",
                {
                    "class": "target",
                    "x1": x(goal),
                    "x2": x(goal),
                    "y1": top - 4,
                    "y2": rows_bottom,
                    "stroke": _TARGET,
                    "stroke-width": 1.5,
                    "stroke-dasharray": "4 3",
                },
                _title(_tip("Target", format_id(goal, dec), unit)),
            )
        )
        out.append(_legend(width - 8, series=False))
    return _svg("bar-chart", title, width, height, "".join(out))


def _finite(v: float | None) -> TypeGuard[float]:
    return v is not None and math.isfinite(v)


def _scale(values: list[float]) -> tuple[float, float, list[float], int]:
    """Axis from 0 (or the negative minimum) to a round maximum: the smallest round step
    (1, 2, 2.5 or 5 x 10^k) that needs at most 4 intervals, which gives 3-5 gridlines.

    Returns (axis min, axis max, tick values, decimals the tick labels need).
    """
    lo, hi = min([0.0, *values]), max([0.0, *values])
    if hi == lo:
        hi = lo + 1.0
    exp0 = math.floor(math.log10((hi - lo) / 4))
    for exp, mant in ((e, m) for e in (exp0, exp0 + 1, exp0 + 2) for m in (1.0, 2.0, 2.5, 5.0)):
        step = mant * 10.0**exp
        n_lo, n_hi = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
        if n_hi - n_lo <= 4:
            break
    ticks = [k * step for k in range(n_lo, n_hi + 1)]
    decimals = max(0, -exp + (mant == 2.5))
    # float noise may leave a round tick a hair inside the data; never let a value overflow
    return min(ticks[0], lo), max(ticks[-1], hi), ticks, decimals


def _label_indices(n: int) -> list[int]:
    """Every period up to 12; beyond that every k-th, always ending on the latest period."""
    if n <= _MAX_X_LABELS:
        return list(range(n))
    k = math.ceil(n / _MAX_X_LABELS)
    picked = list(range(0, n, k))
    picked[-1] = n - 1  # the gap before it stays >= k, so the last two labels never collide
    return picked


def _axis_labels(labels: list[str], picked: list[int]) -> list[tuple[int, str, str]]:
    """(index, period within the year, year) of each shown x label. A period key's year is
    written under the first shown label and wherever it changes; other labels are one line."""
    out, last_year = [], None
    for i in picked:
        parts = period_parts(labels[i])
        if parts is None:
            out.append((i, labels[i], ""))
            continue
        head, year = parts
        out.append((i, head, year if (year != last_year or not head) else ""))
        last_year = year
    return out


def _runs(xv: list[tuple[float, float | None]], y: Callable[[float], float]) -> list[str]:
    """SVG `points` strings for each unbroken stretch of present values."""
    runs, run = [], []
    for px, v in xv:
        if _finite(v):
            run.append(f"{_n(px)},{_n(y(float(v)))}")
        elif run:
            runs.append(" ".join(run))
            run = []
    if run:
        runs.append(" ".join(run))
    return runs


def _n(x: float) -> str:
    """Coordinates to 6 decimals: exact enough for proportions, stable across runs."""
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _clean(s: str) -> str:
    return _BAD_XML.sub("", s)


def _text(s: str) -> str:
    return escape(_clean(s))


def _title(s: str) -> str:
    return f"<title>{_text(s)}</title>"


def _tip(label: str, value: str, unit: str) -> str:
    return f"{label}: {value} {unit}".rstrip()


def _tag(name: str, attrs: dict[str, str | float], body: str | None = None) -> str:
    """One element; `body` is markup already escaped by the caller."""
    parts = [name] + [
        f"{k}={quoteattr(_clean(v) if isinstance(v, str) else _n(v))}" for k, v in attrs.items()
    ]
    head = " ".join(parts)
    return f"<{head}/>" if body is None else f"<{head}>{body}</{name}>"


def _legend(x_right: float, series: bool) -> str:
    """The key, right-aligned in the chart's top band: a dashed red line for the target, and
    for a line chart a blue line for the values before it."""
    entries = [("Target", _TARGET, "5 3", "legend-target")]
    if series:
        entries.insert(0, ("Nilai", _VALUE, "", "legend-value"))
    parts, x_end, mid = [], x_right, _LEGEND_BAND / 2
    for text, colour, dash, cls in reversed(entries):
        x_text = x_end - _CHAR_W * len(text)
        swatch: dict[str, str | float] = {
            "x1": x_text - 22,
            "x2": x_text - 4,
            "y1": mid,
            "y2": mid,
            "stroke": colour,
            "stroke-width": 2,
        }
        if dash:
            swatch["stroke-dasharray"] = dash
        parts.append(
            _tag(
                "g",
                {"class": cls},
                _tag("line", swatch) + _tag("text", {"x": x_text, "y": mid + 4}, _text(text)),
            )
        )
        x_end = x_text - 34
    return _tag("g", {"class": "legend"}, "".join(reversed(parts)))


def _empty(kind: str, title: str, width: int, height: int) -> str:
    body = _tag(
        "text",
        {
            "class": "empty",
            "x": width / 2,
            "y": height / 2 + 4,
            "text-anchor": "middle",
            "fill": _MUTED,
        },
        "Belum ada data",
    )
    return _svg(kind, title, width, height, body)


def _svg(kind: str, title: str, width: int, height: int, body: str) -> str:
    w, h = _n(width), _n(height)
    head = (
        f'<svg xmlns="{_NS}" role="img" aria-label={quoteattr(_clean(title))} '
        f'class="chart {kind}" viewBox="0 0 {w} {h}" width="{w}" height="{h}">'
    )
    group = _tag("g", {"font-family": _FONT, "font-size": 11, "fill": _TEXT}, body)
    return f"{head}{_title(title)}{group}</svg>"
