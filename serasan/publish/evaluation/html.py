"""The evaluation pack as one self-contained HTML document in Bahasa Indonesia.

No script, no stylesheet link, no image file, no external URL: the charts are the monthly
report's inline SVG (`serasan.publish.charts`), under an HTML title. Print-ready: A4 pages
(CSS @page) with the pack's name, the as-of date, "tahun belum lengkap" for a partial year and
"Halaman n dari N" in the page margins, and a page break before every section. The same bytes
are printed to PDF (`pdf`) and bundled (`bundle`). Deterministic: the same evidence gives the same
bytes, so a pack is rewritten only when what it says changes.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from serasan.common.clock import date_text
from serasan.config.catalog import PILLARS
from serasan.publish import charts, kpi, report
from serasan.publish.evaluation import voice
from serasan.publish.evaluation.citizen import Voice
from serasan.publish.evaluation.evidence import TOO_FEW_STATUS, KpiEvidence, Pack, PeriodValue
from serasan.publish.report import Figure

TEMPLATE = "evaluation.html.j2"
STATUS_LABEL = {
    "on_track": "Sesuai target",
    "at_risk": "Perlu perhatian",
    "off_track": "Di bawah target",
    "no_target": "Tanpa target",
    "missing": "Data tidak tersedia",
    TOO_FEW_STATUS: "Terlalu sedikit data",
}
TOO_FEW = kpi.TOO_FEW
RESOLUTION_LABEL = {"monthly": "per bulan", "quarterly": "per triwulan"}


def _line(
    points: list[tuple[str, float | None]],
    *,
    title: str,
    unit: str,
    data: str,
    target: list[tuple[str, float | None]] | None = None,
    highlight: str | None = None,
    decimals: int = 1,
) -> Figure:
    """The report's figure (a line, or the value of a one-period series) with its CSV named."""
    fig = report.trend_figure(
        points, title=title, unit=unit, target=target, highlight=highlight, decimals=decimals
    )
    return dataclasses.replace(fig, data=data)


def kpi_figure(k: KpiEvidence) -> Figure:
    trend: list[PeriodValue] = k.trend
    return _line(
        [(p.period, p.value) for p in trend],
        title=f"{k.kpi.name}: tren",
        unit=k.kpi.satuan,
        data="iku_tren.csv",
        target=[(p.period, p.target) for p in trend],
        highlight=k.period,
        decimals=k.decimals,
    )


def voice_figures(code: str, v: Voice) -> list[Figure]:
    """The reviews per month, the sentiment trend (where the minimum is reached) and the rating
    distribution (counts), each with its CSV."""
    out = [
        _line(
            [(p.period, float(p.reviews)) for p in v.months],
            title="Jumlah ulasan dan pengaduan per bulan",
            unit="ulasan",
            data="suara_tren.csv",
            decimals=0,
        )
    ]
    if v.trend_resolution is not None:
        out.append(
            _line(
                [(p.period, p.positive_pct(v.min_reviews)) for p in v.trend],
                title=f"Sentimen positif {RESOLUTION_LABEL[v.trend_resolution]}",
                unit="persen",
                data="suara_tren.csv",
            )
        )
    if v.has_ratings:
        title = "Sebaran rating"
        out.append(
            Figure(
                title,
                "ulasan",
                data="suara_rating.csv",
                svg=charts.bar_chart(
                    [
                        (f"{s} bintang", float(n))
                        for s, n in sorted(v.ratings.items(), reverse=True)
                    ],
                    title=title,
                    unit="ulasan",
                ),
            )
        )
    return out


def _css_string(text: str) -> str:
    """A CSS string literal (for the page margins' content)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _pct(value: float | None, decimals: int = 1) -> str:
    return TOO_FEW if value is None else f"{charts.format_id(value, decimals)} %"


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("serasan.publish", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["id"] = charts.format_id
    env.filters["period"] = charts.period_text
    env.filters["date"] = date_text
    env.filters["pct"] = _pct
    return env


def render(pack: Pack, bundle_files: list[str]) -> str:
    """The document's HTML. `bundle_files`: the files of the evidence bundle, which the
    appendix lists."""
    regency, window = pack.regency, pack.window
    title = f"Evaluasi Smart Regency {regency.name} {window.year}"
    margins = {
        "top_left": _css_string(title),
        "top_right": _css_string(f"Data per {date_text(window.as_of)}"),
        "bottom_left": _css_string(
            f"Tahun {window.year} belum lengkap: data s.d. {date_text(window.end)}"
            if window.partial
            else f"Serasan · {regency.name}"
        ),
    }
    kpi_figures = {k.kpi.code: kpi_figure(k) for k in pack.kpis}
    voice_figs = {
        g.programme.code: voice_figures(g.programme.code, g.voice)
        for g in pack.programmes
        if g.voice is not None
    }
    return (
        _env()
        .get_template(TEMPLATE)
        .render(
            pack=pack,
            regency=regency,
            window=window,
            title=title,
            margins=margins,
            pillar_names=PILLARS,
            kpi_figures=kpi_figures,
            voice_figures=voice_figs,
            status_label=STATUS_LABEL,
            statuses=(*kpi.STATUSES, TOO_FEW_STATUS),
            on_track=kpi.ON_TRACK,
            at_risk=kpi.AT_RISK,
            floor=kpi.ACHIEVEMENT_FLOOR,
            too_few=TOO_FEW,
            resolution_label=RESOLUTION_LABEL,
            sentiment_method=voice.method_text(),
            method=pack.method,
            accuracy=pack.accuracy,
            themes=pack.themes,
            quote_themes=voice.QUOTE_THEMES,
            quote_max=voice.QUOTE_MAX_CHARS,
            bundle_files=bundle_files,
        )
    )
