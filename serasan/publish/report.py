"""The regency report: one static HTML file per regency and month, written to the lake.

It is what evaluators and the walidata open: for each pillar, every KPI against its target with
a trend over periods and a kecamatan breakdown where the KPI has one; a data-quality page per
OPD (score over time, failing datasets, late submissions); and a Satu Data compliance page read
from the export records. Charts are inline SVG, so the file opens offline and can be mailed.
Every figure comes from the warehouse (`mart.kpi_value`, `meta.*`); the page computes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import RowMapping, select
from sqlalchemy.engine import Connection

from serasan.alerts import freshness
from serasan.common.clock import MONTH_NAMES as MONTHS
from serasan.common.enums import NOTHING_LOADED, ExportStatus, LoadStatus
from serasan.config.catalog import PILLARS, Catalog, Dataset, Kpi, Regency
from serasan.lake.keys import opd_key, report_key
from serasan.publish import charts, kpi
from serasan.runtime.context import RunContext
from serasan.warehouse.tables import table

TREND = {"monthly": 12, "quarterly": 8, "yearly": 5}  # periods shown in a trend chart
RELEASE_DAYS = 30  # a period is released on schedule within this many days of its deadline
STATUS_LABEL = {
    "on_track": "Sesuai target",
    "at_risk": "Perlu perhatian",
    "off_track": "Di bawah target",
    "no_target": "Tanpa target",
    "missing": "Data tidak tersedia",
}
LOAD_LABEL = {
    LoadStatus.BLOCKED: "diblokir",
    LoadStatus.REJECTED: "ditolak",
    LoadStatus.QUARANTINED: "sebagian dikarantina",
    LoadStatus.WARNED: "dimuat dengan peringatan",
    LoadStatus.LOADED: "dimuat",
}


def default_period(run_date: dt.date) -> str:
    """The month a run reports on: the last month that ended before the run date."""
    return kpi.latest_ended("monthly", run_date - dt.timedelta(days=1))


def period_label(key: str) -> str:
    """'2026-10' -> 'Oktober 2026', '2026-Q3' -> 'Triwulan III 2026', '2025' -> '2025'."""
    if kpi.cadence_of(key) == "monthly":
        return f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"
    if kpi.cadence_of(key) == "quarterly":
        return f"Triwulan {('I', 'II', 'III', 'IV')[int(key[-1]) - 1]} {key[:4]}"
    return key


# ------------------------------------------------------------------------ KPIs


@dataclasses.dataclass
class KpiView:
    kpi: Kpi
    period: str  # the KPI's latest period ended by the report month
    row: dict[str, Any] | None  # its regency row in mart.kpi_value
    previous_year: float | None
    trend_svg: str
    breakdown: list[dict[str, Any]]
    breakdown_svg: str | None

    @property
    def decimals(self) -> int:
        row = self.row or {}
        shown = charts.decimals_for([row.get("value"), row.get("target")])
        return max(shown, 1) if self.kpi.satuan in ("persen", "indeks") else shown

    @property
    def yoy_pct(self) -> float | None:
        value: float | None = self.row.get("value") if self.row else None
        if value is None or not self.previous_year:
            return None
        return 100.0 * (value - self.previous_year) / self.previous_year


def _shift_year(key: str) -> str:
    return f"{int(key[:4]) - 1}{key[4:]}"


def kpi_views(
    conn: Connection, catalog: Catalog, regency: Regency, month: str, names: dict[str, str]
) -> dict[str, list[KpiView]]:
    kv = table("mart", "kpi_value", conn.dialect.name)
    rows = conn.execute(select(kv).where(kv.c.regency == regency.kode)).mappings().all()
    by_kpi: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_kpi.setdefault(r["kpi_code"], []).append(dict(r))
    month_end = kpi.period_span(month)[1]
    out: dict[str, list[KpiView]] = {p: [] for p in PILLARS}
    for k in sorted(catalog.kpis_of(regency.kode), key=lambda k: k.code):
        mine = by_kpi.get(k.code, [])
        period = kpi.latest_ended(k.cadence, month_end)
        top = {r["period"]: r for r in mine if r["kode_wilayah"] == regency.kode}
        shown = kpi.periods_between(k.cadence, min([*top, period]), period)[-TREND[k.cadence] :]
        points = [(p, top[p]["value"] if p in top else None) for p in shown]
        targets = [(p, top[p]["target"] if p in top else k.target_for(int(p[:4]))) for p in shown]
        trend = charts.line_chart(
            points, title=f"{k.name}: tren", unit=k.satuan, target=targets, highlight=period
        )
        parts = sorted(
            (r for r in mine if r["period"] == period and r["kode_wilayah"] != regency.kode),
            key=lambda r: r["kode_wilayah"],
        )
        breakdown = [{**r, "nama": names.get(r["kode_wilayah"], r["kode_wilayah"])} for r in parts]
        bars = (
            charts.bar_chart(
                [(b["nama"], b["value"]) for b in breakdown],
                title=f"{k.name} per kecamatan, {period_label(period)}",
                unit=k.satuan,
                target=None if k.additive else k.target_for(int(period[:4])),
            )
            if breakdown
            else None
        )
        prev = top.get(_shift_year(period))
        prev_value = None if prev is None else prev["value"]
        out[k.pillar].append(
            KpiView(k, period, top.get(period), prev_value, trend, breakdown, bars)
        )
    return out


# ------------------------------------------------------------------------ data quality


@dataclasses.dataclass
class OpdView:
    code: str
    name: str
    scores: list[dict[str, Any]]
    score_svg: str
    failing: list[dict[str, Any]]
    late: list[dict[str, Any]]
    datasets: list[Dataset]


def opd_views(ctx: RunContext, conn: Connection, regency: Regency) -> list[OpdView]:
    """Counted up to the run date: a month's submissions arrive after it ends."""
    dialect = conn.dialect.name
    qs, lr = table("meta", "quality_score", dialect), table("meta", "load_run", dialect)
    as_of = ctx.run_date
    now = kpi.period_key("monthly", as_of)
    scores = (
        conn.execute(
            select(qs).where(qs.c.regency == regency.kode, qs.c.period <= now).order_by(qs.c.period)
        )
        .mappings()
        .all()
    )
    runs = (
        conn.execute(
            select(lr)
            .where(lr.c.regency == regency.kode, lr.c.logical_date <= as_of)
            .order_by(lr.c.logical_date, lr.c.load_id)
        )
        .mappings()
        .all()
    )
    datasets = ctx.catalog.datasets_of(regency.kode)
    lateness = {s.dataset.id: s for s in freshness.statuses(ctx, datasets)}
    out = []
    for opd in regency.opds:
        mine = [d for d in datasets if d.opd == opd.code]
        if not mine:
            continue
        ids = {d.id for d in mine}
        own = [dict(s) for s in scores if s["opd"] == opd.code]
        svg = charts.line_chart(
            [(s["period"], s["score_rows"]) for s in own][-12:],
            title=f"Skor kualitas data {opd.name}",
            unit="%",
            highlight=now,
        )
        latest: dict[str, dict[str, Any]] = {}
        for r in runs:
            if r["dataset_id"] in ids:
                latest[r["dataset_id"]] = dict(r)
        failing = [
            {
                "dataset": ctx.catalog.dataset(i),
                **r,
                "status_label": LOAD_LABEL.get(r["status"], r["status"]),
            }
            for i, r in sorted(latest.items())
            if r["status"] in NOTHING_LOADED or (r["rows_rejected"] or 0) > 0
        ]
        late = [
            {
                "dataset": s.dataset,
                "due": s.due,
                "received_on": s.received_on,
                "days_late": s.days_late,
                "missing": s.missing,
            }
            for i, s in sorted(lateness.items())
            if i in ids and (s.missing or s.days_late)
        ]
        out.append(OpdView(opd_key(ctx.catalog, mine[0]), opd.name, own, svg, failing, late, mine))
    return out


# ------------------------------------------------------------------------ Satu Data


def compliance(conn: Connection, catalog: Catalog, regency: Regency) -> list[dict[str, Any]]:
    """Per dataset the regency exports (its view of a province-scope one included): exported
    periods, held back, metadata complete, released on schedule."""
    ex = table("meta", "export_run", conn.dialect.name)
    out = []
    for ds in sorted(catalog.export_views(regency.kode), key=lambda d: d.id):
        runs = (
            conn.execute(select(ex).where(ex.c.dataset_id == ds.id).order_by(ex.c.period))
            .mappings()
            .all()
        )
        ready = [r for r in runs if r["status"] == ExportStatus.READY]
        missing = sorted({f for r in ready for f in (r["metadata_missing"] or "").split(",") if f})
        on_time = [r for r in ready if _on_schedule(ds, r)]
        out.append(
            {
                "dataset": ds,
                "periods": len(ready),
                "blocked": sum(r["status"] == ExportStatus.BLOCKED for r in runs),
                "withdrawn": sum(r["status"] == ExportStatus.WITHDRAWN for r in runs),
                "metadata_missing": missing,
                "metadata_complete": bool(ready) and not missing,
                "on_schedule": len(on_time),
                "late": len(ready) - len(on_time),
                "last_export": max((r["exported_at"] or "" for r in ready), default=""),
            }
        )
    return out


def _on_schedule(ds: Dataset, run: RowMapping) -> bool:
    if not run["exported_at"]:
        return False
    end = kpi.period_span(run["period"])[1]
    deadline = freshness.deadline_of(ds.cadence, end) + dt.timedelta(days=RELEASE_DAYS)
    return dt.date.fromisoformat(run["exported_at"][:10]) <= deadline


# ------------------------------------------------------------------------ the page


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
    env.filters["period"] = period_label
    return env


def build(ctx: RunContext, regency: Regency, month: str) -> str:
    """The report's HTML for a regency and month ('YYYY-MM')."""
    if kpi.cadence_of(month) != "monthly":
        raise ValueError(f"report period must be a month like 2026-10, got {month!r}")
    dialect = ctx.engine.dialect.name
    ref = table("ref", "region", dialect)
    with ctx.engine.connect() as conn:
        names = dict(
            conn.execute(
                select(ref.c.kode, ref.c.nama).where(ref.c.kode.like(f"{regency.kode}%"))
            ).all()
        )
        pillars = kpi_views(conn, ctx.catalog, regency, month, names)
        opds = opd_views(ctx, conn, regency)
        comp = compliance(conn, ctx.catalog, regency)
    views = [v for vs in pillars.values() for v in vs]
    counts = {
        s: sum((v.row or {}).get("status", "missing") == s for v in views) for s in kpi.STATUSES
    }
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            regency=regency,
            month=month,
            as_of=ctx.run_date,
            pillars=pillars,
            pillar_names=PILLARS,
            opds=opds,
            compliance=comp,
            counts=counts,
            status_label=STATUS_LABEL,
            release_days=RELEASE_DAYS,
            names=names,
        )
    )


def write(ctx: RunContext, regency_kode: str, month: str | None = None) -> dict[str, Any]:
    """Build the report and put it in the lake (unchanged bytes are not written again)."""
    regency = ctx.catalog.regency(regency_kode)
    month = month or default_period(ctx.run_date)
    html = build(ctx, regency, month).encode()
    key = report_key(regency, month)
    sha = hashlib.sha256(html).hexdigest()
    lake = ctx.lake
    unchanged = lake.exists(key) and hashlib.sha256(lake.get(key)).hexdigest() == sha
    if not unchanged:
        lake.put(key, html, content_type="text/html; charset=utf-8")
    return {
        "regency": regency.kode,
        "period": month,
        "key": key,
        "sha256": sha,
        "bytes": len(html),
        "written": not unchanged,
        "location": lake.location(key),
    }
