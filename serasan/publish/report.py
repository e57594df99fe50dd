"""The regency report: one static HTML file per regency and month, written to the lake.

It is what evaluators and the walidata open: for each pillar, every KPI against its target with
a trend over periods and a kecamatan breakdown where the KPI has one; a data-quality page per
OPD (score over time, failing datasets, late submissions); a Satu Data compliance page read
from the export records; and a methods note saying how each figure is reached. Charts are
inline SVG under an HTML title, so the file opens offline and can be mailed; a series of one
period is shown as its value, not as a chart. Every figure comes from the warehouse
(`mart.kpi_value`, `meta.*`); the page only bounds an achievement below at 0 % where a stored
row predates that rule, and says so. A citizen-voice KPI counted from too few reviews or
complaints has its value withheld in the warehouse; its card says "terlalu sedikit data", with
the count and the minimum, instead of a value.

Dates are logical dates, as everywhere in Serasan: a period counts as released on schedule by
the logical date of its release (the newest load in its first export), never by the wall-clock
time the export job happened to run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.engine import Connection

from serasan.alerts import freshness
from serasan.common.clock import date_text
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
    return charts.period_text(key)


# ------------------------------------------------------------------------ figures


@dataclasses.dataclass
class Figure:
    """A chart as the page shows it: its title in the HTML (where it wraps), then the SVG; or,
    for a series of a single period, that period's value written out large with its period."""

    title: str
    unit: str
    svg: str | None = None  # None: a single-period series, shown as `value` for `period`
    period: str | None = None
    value: float | None = None
    target: float | None = None
    decimals: int = 0
    data: str | None = None  # the CSV behind it, where the page ships one (the evaluation pack)

    @property
    def single(self) -> bool:
        return self.svg is None


def trend_figure(
    points: list[tuple[str, float | None]],
    *,
    title: str,
    unit: str,
    target: list[tuple[str, float | None]] | None = None,
    highlight: str | None = None,
    decimals: int | None = None,
) -> Figure:
    """A line chart of the series, or its value when the series holds one period only: a line
    needs two points, and one dot on an axis reads as a chart of nothing."""
    if len(points) == 1:
        [(period, value)] = points
        goal = dict(target or []).get(period)
        shown = charts.decimals_for([value, goal]) if decimals is None else decimals
        return Figure(title, unit, None, period, value, goal, shown)
    svg = charts.line_chart(points, title=title, unit=unit, target=target, highlight=highlight)
    return Figure(title, unit, svg)


# ------------------------------------------------------------------------ KPIs


@dataclasses.dataclass
class KpiView:
    kpi: Kpi
    period: str  # the KPI's latest period ended by the report month
    row: dict[str, Any] | None  # its regency row in mart.kpi_value
    previous_year: float | None
    trend: Figure
    breakdown: list[dict[str, Any]]
    breakdown_figure: Figure | None
    count_noun: str = "data"  # what the row's `n` counts: ulasan, pengaduan...

    @property
    def too_few(self) -> bool:
        """The value was withheld: counted from fewer observations than the minimum (`n` and
        `min_n` of the row say how many, and from how many a value is shown)."""
        return kpi.too_few(self.row)

    @property
    def decimals(self) -> int:
        row = self.row or {}
        return _decimals(self.kpi, [row.get("value"), row.get("target")])

    @property
    def achievement(self) -> float | None:
        """The achievement % shown: the stored one, never below 0 % (a row computed before
        that rule may hold less)."""
        pct: float | None = (self.row or {}).get("achievement_pct")
        return None if pct is None else kpi.bounded(pct)

    @property
    def achievement_formula(self) -> float | None:
        """Where the shown achievement is the 0 % floor, what the formula itself gives (a
        lower-is-better value beyond twice its target goes below zero); otherwise None."""
        row = self.row or {}
        value, target = row.get("value"), row.get("target")
        if value is None or not target:
            return None
        raw = kpi.sakip_pct(value, target, self.kpi.polarity)
        return raw if raw < kpi.ACHIEVEMENT_FLOOR else None

    @property
    def yoy_pct(self) -> float | None:
        value: float | None = self.row.get("value") if self.row else None
        if value is None or not self.previous_year:
            return None
        return 100.0 * (value - self.previous_year) / self.previous_year


def _decimals(k: Kpi, values: list[float | None]) -> int:
    shown = charts.decimals_for(values)
    return max(shown, 1) if k.satuan in ("persen", "indeks", "bintang") else shown


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
        trend = trend_figure(
            points,
            title=f"{k.name}: tren",
            unit=k.satuan,
            target=targets,
            highlight=period,
            decimals=_decimals(k, [v for _, v in points] + [t for _, t in targets]),
        )
        parts = sorted(
            (r for r in mine if r["period"] == period and r["kode_wilayah"] != regency.kode),
            key=lambda r: r["kode_wilayah"],
        )
        breakdown = [{**r, "nama": names.get(r["kode_wilayah"], r["kode_wilayah"])} for r in parts]
        bars_title = f"{k.name} per kecamatan, {period_label(period)}"
        bars = (
            Figure(
                bars_title,
                k.satuan,
                charts.bar_chart(
                    [(b["nama"], b["value"]) for b in breakdown],
                    title=bars_title,
                    unit=k.satuan,
                    target=None if k.additive else k.target_for(int(period[:4])),
                ),
            )
            if breakdown
            else None
        )
        prev = top.get(_shift_year(period))
        prev_value = None if prev is None else prev["value"]
        out[k.pillar].append(
            KpiView(
                k,
                period,
                top.get(period),
                prev_value,
                trend,
                breakdown,
                bars,
                kpi.count_noun(catalog, k),
            )
        )
    return out


# ------------------------------------------------------------------------ data quality


@dataclasses.dataclass
class OpdView:
    code: str
    name: str
    scores: list[dict[str, Any]]
    score: Figure
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
        score = trend_figure(
            [(s["period"], s["score_rows"]) for s in own][-12:],
            title=f"Skor kualitas data {opd.name}",
            unit="%",
            highlight=now,
            decimals=1,
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
        out.append(
            OpdView(opd_key(ctx.catalog, mine[0]), opd.name, own, score, failing, late, mine)
        )
    return out


# ------------------------------------------------------------------------ Satu Data


@dataclasses.dataclass(frozen=True)
class Release:
    """One exported period as the changelog records it, on logical dates.

    `meta.export_run` keeps only the wall-clock time of the latest write (`exported_at`), which
    a backfill, a rerun or a revision moves months past the period it describes. A period's
    release date is the logical date of the export run that first exported it (the `added`
    entry of `meta.export_change`, or the latest one after a withdrawal; its `logical_date`),
    and its data arrived with the oldest load it holds. A change recorded before that column
    existed (migration 0013) has none: its release date is then the logical date of the newest
    load it holds, since the export DAG runs on its regency's dataset Assets and so normally in
    the run of the load that completed the period.
    """

    period: str
    deadline: dt.date  # the period's submission deadline (as the lateness alerts compute it)
    released_on: dt.date | None  # None: no load of the release has a recorded logical date
    arrived_on: dt.date | None

    @property
    def window_end(self) -> dt.date:
        return self.deadline + dt.timedelta(days=RELEASE_DAYS)

    @property
    def on_schedule(self) -> bool:
        return self.released_on is not None and self.released_on <= self.window_end

    @property
    def data_late(self) -> bool:
        """The OPD's data itself came after the release window had closed."""
        return self.arrived_on is not None and self.arrived_on > self.window_end


def _load_dates(ids: str | None, logical: dict[str, dt.date]) -> list[dt.date]:
    return sorted(logical[i] for i in (ids or "").split(",") if i in logical)


def releases(
    conn: Connection, catalog: Catalog, ds: Dataset
) -> tuple[dict[str, Release], list[dt.date]]:
    """Each period's standing release (`Release`), and the logical date of every recorded
    change (the newest load it holds), from the export changelog."""
    dialect = conn.dialect.name
    ch, lr = table("meta", "export_change", dialect), table("meta", "load_run", dialect)
    source = catalog.source_of(ds)
    logical = {
        lid: _as_date(day)
        for lid, day in conn.execute(
            select(lr.c.load_id, lr.c.logical_date).where(lr.c.dataset_id == source.id)
        )
    }
    out: dict[str, Release] = {}
    changed: list[dt.date] = []
    for period, change, load_ids, recorded_on in conn.execute(
        select(ch.c.period, ch.c.change, ch.c.load_ids, ch.c.logical_date)
        .where(ch.c.dataset_id == ds.id)
        .order_by(ch.c.id)
    ):
        dates = _load_dates(load_ids, logical)
        on = _as_date(recorded_on) if recorded_on is not None else (dates[-1] if dates else None)
        if on is not None:
            changed.append(on)
        if change == "withdrawn":
            out.pop(period, None)
        elif change == "added":
            out[period] = Release(
                period, _deadline(catalog, ds, period), on, dates[0] if dates else None
            )
    return out, changed


def _deadline(catalog: Catalog, ds: Dataset, period: str) -> dt.date:
    """The submission deadline of an export period, as the lateness alerts compute it."""
    day = catalog.source_of(ds).source.params.get("deadline_day")
    end = kpi.period_span(period)[1]
    return freshness.deadline_of(ds.cadence, end, int(day) if day else None)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def compliance(
    conn: Connection, catalog: Catalog, regency: Regency, as_of: dt.date
) -> list[dict[str, Any]]:
    """Per dataset the regency exports (its view of a province-scope one included): periods
    released by the as-of date, held back, metadata complete, released on schedule; all by
    logical date (`Release`)."""
    ex = table("meta", "export_run", conn.dialect.name)
    out = []
    for ds in sorted(catalog.export_views(regency.kode), key=lambda d: d.id):
        runs = (
            conn.execute(select(ex).where(ex.c.dataset_id == ds.id).order_by(ex.c.period))
            .mappings()
            .all()
        )
        standing, changed = releases(conn, catalog, ds)
        ready = []
        for r in runs:
            if r["status"] != ExportStatus.READY:
                continue
            rel = standing.get(r["period"])
            if rel is not None and rel.released_on is not None and rel.released_on > as_of:
                continue  # released after the day this report describes
            ready.append(
                rel or Release(r["period"], _deadline(catalog, ds, r["period"]), None, None)
            )
        missing = sorted(
            {
                f
                for r in runs
                if r["status"] == ExportStatus.READY
                for f in (r["metadata_missing"] or "").split(",")
                if f
            }
        )
        on_time = [r for r in ready if r.on_schedule]
        late = [r for r in ready if not r.on_schedule]
        out.append(
            {
                "dataset": ds,
                "periods": len(ready),
                "blocked": sum(r["status"] == ExportStatus.BLOCKED for r in runs),
                "withdrawn": sum(r["status"] == ExportStatus.WITHDRAWN for r in runs),
                "metadata_missing": missing,
                "metadata_complete": bool(ready) and not missing,
                "on_schedule": len(on_time),
                "late": len(late),
                "late_data": sum(r.data_late for r in late),
                "undated": sum(r.released_on is None for r in ready),
                "releases": ready,
                "last_release": max((d for d in changed if d <= as_of), default=None),
            }
        )
    return out


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
    env.filters["date"] = date_text
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
        comp = compliance(conn, ctx.catalog, regency, ctx.run_date)
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
            on_track=kpi.ON_TRACK,
            at_risk=kpi.AT_RISK,
            floor=kpi.ACHIEVEMENT_FLOOR,
            trend=TREND,
            deadline_day=freshness.DEADLINE_DAY,
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
