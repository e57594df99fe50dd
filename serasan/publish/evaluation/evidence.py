"""Assembling the evaluation pack's evidence from the warehouse: one value per pillar, programme
and KPI, with where it came from. No HTML here; `html` renders what this returns.

- **KPIs** (`mart.kpi_value`): for each of a programme's KPIs, its latest period ended within the
  evaluated days (a yearly KPI in a partial year shows the last complete year, and says so), its
  value against its target and its achievement (never below 0 %, as the monthly report), the
  status of every period of the year, the same period a year earlier, and a trend over this
  year and the one before;
- **lineage** (`meta.load_run`): the loads behind each KPI value, with their logical date,
  status and rows in, loaded and rejected;
- **data quality** (`meta.quality_score`): each source OPD's share of rows passing validation
  over the evaluated months, weighted by rows;
- **citizen voice** (`citizen`): counts, ratings, sentiment, themes and masked quotes;
- **Satu Data compliance per OPD**: the monthly report's logic (`report.compliance`, on logical
  dates), counted over the periods of the evaluated year.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from serasan.config.catalog import PILLARS, Catalog, Kpi, Regency
from serasan.config.voice import Programme
from serasan.publish import charts, kpi, report
from serasan.publish.evaluation import citizen, voice
from serasan.publish.evaluation.period import Window
from serasan.runtime.context import RunContext
from serasan.warehouse.tables import table

TOO_FEW_STATUS = "too_few"  # a period whose value was withheld: counted from too few reviews
TREND_YEARS = {"monthly": 2, "quarterly": 2, "yearly": 5}  # years a KPI trend spans


@dataclass(frozen=True)
class Load:
    """One load behind a number."""

    load_id: str
    dataset_id: str
    dataset_title: str
    opd: str
    logical_date: dt.date
    status: str
    rows_in: int
    rows_loaded: int
    rows_rejected: int

    @property
    def passed_pct(self) -> float | None:
        if not self.rows_in:
            return None
        return 100.0 * (self.rows_in - self.rows_rejected) / self.rows_in


@dataclass(frozen=True)
class Quality:
    """An OPD's data quality over the evaluated months: rows passing validation / rows in."""

    opd: str
    opd_name: str
    months: int
    rows_in: int
    rows_passed: int

    @property
    def score(self) -> float | None:
        return 100.0 * self.rows_passed / self.rows_in if self.rows_in else None


@dataclass(frozen=True)
class PeriodValue:
    period: str
    value: float | None
    target: float | None
    status: str  # 'missing' where the period has no row
    too_few: bool = False  # missing because counted from fewer reviews than the minimum


@dataclass(frozen=True)
class KpiEvidence:
    kpi: Kpi
    period: str  # the latest period ended within the evaluated days
    in_year: bool  # False: the year's own period has not ended (a yearly KPI, partial year)
    value: float | None
    target: float | None
    achievement: float | None  # bounded below at 0 %
    achievement_formula: float | None  # the formula's own result where it is below the floor
    status: str
    reason: str | None
    n: int | None  # the reviews or complaints a citizen-voice KPI's value is counted from
    min_n: int | None  # the minimum it was held to; below it the value is withheld
    count_noun: str  # what n counts: 'ulasan', 'pengaduan', 'komentar' or 'data'
    previous_period: str
    previous_value: float | None
    previous_status: str
    year: list[PeriodValue]  # every period of the evaluated year ended by its end
    trend: list[PeriodValue]  # this year and the one before (5 years for a yearly KPI)
    loads: list[Load]
    quality: list[Quality]

    @property
    def decimals(self) -> int:
        values = [self.value, self.target, self.previous_value]
        shown = charts.decimals_for(values)
        return max(shown, 1) if self.kpi.satuan in ("persen", "indeks", "bintang") else shown

    @property
    def too_few(self) -> bool:
        """The value is withheld: counted from fewer reviews than the minimum."""
        return (
            self.value is None
            and self.n is not None
            and self.min_n is not None
            and (self.n < self.min_n)
        )

    @property
    def status_counts(self) -> dict[str, int]:
        """Periods of the year by status; a value withheld for too few reviews counts under
        TOO_FEW_STATUS, apart from the periods with no data at all."""
        counts = Counter(TOO_FEW_STATUS if p.too_few else p.status for p in self.year)
        return {s: counts.get(s, 0) for s in (*kpi.STATUSES, TOO_FEW_STATUS)}

    @property
    def previous_too_few(self) -> bool:
        """The value a year earlier was withheld: counted from too few reviews."""
        return self.previous_value is None and self.previous_status == TOO_FEW_STATUS

    @property
    def change_pct(self) -> float | None:
        if self.value is None or not self.previous_value:
            return None
        return 100.0 * (self.value - self.previous_value) / abs(self.previous_value)

    @property
    def improved(self) -> bool | None:
        """Whether the value moved the way its polarity wants, against a year earlier."""
        if self.value is None or self.previous_value is None or self.value == self.previous_value:
            return None
        up = self.value > self.previous_value
        return up if self.kpi.polarity == "higher_is_better" else not up


@dataclass(frozen=True)
class ProgrammeEvidence:
    programme: Programme
    opd_name: str
    kpis: list[KpiEvidence]
    voice: citizen.Voice | None
    voice_before: citizen.Voice | None  # the same days a year earlier

    @property
    def on_track(self) -> int:
        return sum(k.status == "on_track" for k in self.kpis)


@dataclass(frozen=True)
class PillarEvidence:
    code: str
    name: str
    programmes: list[ProgrammeEvidence]
    other_kpis: list[KpiEvidence]  # the pillar's KPIs no programme names


@dataclass(frozen=True)
class DatasetCompliance:
    dataset_id: str
    title: str
    opd: str
    periods: int  # periods of the year released by the as-of date
    on_schedule: int
    late: int
    late_data: int  # of the late ones, those whose data arrived after the window
    metadata_missing: list[str]
    last_release: dt.date | None


@dataclass(frozen=True)
class OpdCompliance:
    opd: str
    name: str
    datasets: list[DatasetCompliance]
    quality: Quality

    @property
    def periods(self) -> int:
        return sum(d.periods for d in self.datasets)

    @property
    def on_schedule(self) -> int:
        return sum(d.on_schedule for d in self.datasets)

    @property
    def late(self) -> int:
        return sum(d.late for d in self.datasets)

    @property
    def late_data(self) -> int:
        return sum(d.late_data for d in self.datasets)

    @property
    def metadata_complete(self) -> int:
        return sum(not d.metadata_missing for d in self.datasets)


@dataclass(frozen=True)
class Pack:
    regency: Regency
    window: Window
    pillars: list[PillarEvidence]
    compliance: list[OpdCompliance]
    loads: list[Load]  # every load behind a number of the pack
    min_reviews: int
    release_days: int
    method: voice.Method  # the sentiment method, chosen by measurement on the year's reviews
    themes: list[tuple[str, list[str]]]  # the default themes and their keywords

    @property
    def accuracy(self) -> voice.Accuracy | None:
        return voice.accuracy(self.method)

    @property
    def kpis(self) -> list[KpiEvidence]:
        return [
            k
            for p in self.pillars
            for k in [*[k for g in p.programmes for k in g.kpis], *p.other_kpis]
        ]

    @property
    def programmes(self) -> list[ProgrammeEvidence]:
        return [g for p in self.pillars for g in p.programmes]


# ------------------------------------------------------------------------ reading


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _loads(conn: Connection, catalog: Catalog, regency: Regency) -> dict[str, Load]:
    lr = table("meta", "load_run", conn.dialect.name)
    ids = [d.id for d in catalog.datasets_for(regency.kode)]
    out = {}
    for r in conn.execute(select(lr).where(lr.c.dataset_id.in_(ids))).mappings():
        ds = catalog.datasets.get(r["dataset_id"])
        out[r["load_id"]] = Load(
            load_id=r["load_id"],
            dataset_id=r["dataset_id"],
            dataset_title=ds.title if ds is not None else r["dataset_id"],
            opd=r["opd"],
            logical_date=_as_date(r["logical_date"]),
            status=r["status"],
            rows_in=int(r["rows_in"] or 0),
            rows_loaded=int(r["rows_loaded"] or 0),
            rows_rejected=int(r["rows_rejected"] or 0),
        )
    return out


def _quality(conn: Connection, regency: Regency, window: Window) -> dict[str, tuple[int, int, int]]:
    """OPD -> (months scored, rows in, rows passed) over the submissions of the year's first
    month up to the as-of date's month: a period's data arrives after it ends (December's in
    January), and the monthly report counts scores up to its as-of date the same way."""
    qs = table("meta", "quality_score", conn.dialect.name)
    first, last = f"{window.year}-01", f"{window.as_of.year}-{window.as_of.month:02d}"
    out: dict[str, tuple[int, int, int]] = {}
    for r in conn.execute(
        select(qs).where(qs.c.regency == regency.kode, qs.c.period >= first, qs.c.period <= last)
    ).mappings():
        months, rows_in, passed = out.get(r["opd"], (0, 0, 0))
        out[r["opd"]] = (
            months + 1,
            rows_in + int(r["rows_in"] or 0),
            passed + int(r["rows_passed"] or 0),
        )
    return out


def _quality_of(opd: str, regency: Regency, scores: dict[str, tuple[int, int, int]]) -> Quality:
    found = regency.opd(opd)
    months, rows_in, passed = scores.get(opd, (0, 0, 0))
    return Quality(opd, found.name if found else opd, months, rows_in, passed)


def _shift_year(key: str) -> str:
    return f"{int(key[:4]) - 1}{key[4:]}"


def _trend_periods(k: Kpi, period: str) -> list[str]:
    first_year = int(period[:4]) - TREND_YEARS[k.cadence] + 1
    first = kpi.period_key(k.cadence, dt.date(first_year, 1, 1))
    return kpi.periods_between(k.cadence, first, period)


def kpi_evidence(
    k: Kpi,
    rows: list[dict[str, Any]],
    regency: Regency,
    window: Window,
    loads: dict[str, Load],
    scores: dict[str, tuple[int, int, int]],
    catalog: Catalog,
) -> KpiEvidence:
    """One KPI's evidence from its rows in `mart.kpi_value`."""
    top = {r["period"]: r for r in rows if r["kode_wilayah"] == regency.kode}
    period = kpi.latest_ended(k.cadence, window.end)
    in_year = int(period[:4]) == window.year
    first = kpi.period_key(k.cadence, window.start)
    year_keys = kpi.periods_between(k.cadence, first, period) if in_year else []

    def pv(key: str) -> PeriodValue:
        r = top.get(key)
        if r is None:
            return PeriodValue(key, None, k.target_for(int(key[:4])), "missing")
        return PeriodValue(key, r["value"], r["target"], r["status"], kpi.too_few(r))

    row = top.get(period) or {}
    value, target = row.get("value"), row.get("target", k.target_for(int(period[:4])))
    pct = row.get("achievement_pct")
    formula = None
    if value is not None and target:
        raw = kpi.sakip_pct(value, target, k.polarity)
        formula = raw if raw < kpi.ACHIEVEMENT_FLOOR else None
    prev_key = _shift_year(period)
    prev = top.get(prev_key) or {}
    ids = [i for i in (row.get("load_ids") or "").split(",") if i]
    used = [loads[i] for i in ids if i in loads]
    opds = sorted({catalog.source_of(catalog.dataset(s)).opd for s in k.sources})
    return KpiEvidence(
        kpi=k,
        period=period,
        in_year=in_year,
        value=value,
        target=target,
        achievement=None if pct is None else kpi.bounded(pct),
        achievement_formula=formula,
        status=row.get("status", "missing"),
        reason=row.get("reason"),
        n=row.get("n"),
        min_n=row.get("min_n"),
        count_noun=kpi.count_noun(catalog, k),
        previous_period=prev_key,
        previous_value=prev.get("value"),
        previous_status=TOO_FEW_STATUS if kpi.too_few(prev) else prev.get("status", "missing"),
        year=[pv(p) for p in year_keys],
        trend=[pv(p) for p in _trend_periods(k, period)],
        loads=sorted(used, key=lambda ld: (ld.dataset_id, ld.logical_date, ld.load_id)),
        quality=[_quality_of(o, regency, scores) for o in opds],
    )


def compliance_by_opd(
    conn: Connection,
    catalog: Catalog,
    regency: Regency,
    window: Window,
    scores: dict[str, tuple[int, int, int]],
) -> list[OpdCompliance]:
    """The monthly report's compliance, per dataset, counted over the periods of the evaluated
    year released by the as-of date, grouped by OPD (the regency's OPD order)."""
    per_ds: dict[str, list[DatasetCompliance]] = {}
    for c in report.compliance(conn, catalog, regency, window.as_of):
        ds = c["dataset"]
        mine = [r for r in c["releases"] if int(str(r.period)[:4]) == window.year]
        late = [r for r in mine if not r.on_schedule]
        opd = catalog.source_of(ds).opd
        per_ds.setdefault(opd, []).append(
            DatasetCompliance(
                dataset_id=ds.id,
                title=ds.title,
                opd=opd,
                periods=len(mine),
                on_schedule=len(mine) - len(late),
                late=len(late),
                late_data=sum(r.data_late for r in late),
                metadata_missing=list(c["metadata_missing"]),
                last_release=c["last_release"],
            )
        )
    return [
        OpdCompliance(o.code, o.name, per_ds[o.code], _quality_of(o.code, regency, scores))
        for o in regency.opds
        if o.code in per_ds
    ]


def assemble(ctx: RunContext, regency: Regency, window: Window, min_reviews: int) -> Pack:
    """Every figure of the pack, read in one connection."""
    catalog = ctx.catalog
    key = ctx.settings.pii_key or ""
    mart = table("mart", "kpi_value", ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        by_kpi: dict[str, list[dict[str, Any]]] = {}
        for r in conn.execute(select(mart).where(mart.c.regency == regency.kode)).mappings():
            by_kpi.setdefault(r["kpi_code"], []).append(dict(r))
        loads = _loads(conn, catalog, regency)
        scores = _quality(conn, regency, window)

        def evidence(code: str) -> KpiEvidence:
            k = catalog.kpis[code]
            return kpi_evidence(k, by_kpi.get(code, []), regency, window, loads, scores, catalog)

        mine = sorted(
            (p for p in catalog.programmes.values() if p.regency == regency.kode),
            key=lambda p: p.code,
        )
        named = {c for p in mine for c in p.kpis}
        book = voice.theme_book(catalog.root)
        now = {p.code: citizen.read_rows(conn, catalog, regency, p, window, key) for p in mine}
        before = {
            p.code: citizen.read_rows(conn, catalog, regency, p, window.previous, key) for p in mine
        }
        # one sentiment method for the pack, measured on the year's kept rows of every programme
        pool: dict[str, citizen.Row] = {}
        for rows in now.values():
            pool.update((r.row_id, r) for r in citizen.screen(rows)[0])
        datasets = sorted({r.dataset.id for r in pool.values()})
        method = voice.choose(
            [r.voice_row() for r in pool.values()],
            f"{regency.name}: {', '.join(datasets) or 'tanpa dataset suara warga'}, "
            f"{window.start.isoformat()} s.d. {window.end.isoformat()}",
        )

        def heard(p: Programme, rows: list[citizen.Row], quotes: bool) -> citizen.Voice | None:
            if not p.voice:
                return None
            sources = [catalog.dataset(s.dataset) for s in p.voice]
            themes = voice.programme_themes(book, p.code)
            w = window if quotes else window.previous
            return citizen.analyse(rows, w, min_reviews, sources, method, themes, quotes)

        pillars: list[PillarEvidence] = []
        for code, name in PILLARS.items():
            progs = []
            for p in (p for p in mine if p.pillar == code):
                opd = regency.opd(p.opd)
                progs.append(
                    ProgrammeEvidence(
                        programme=p,
                        opd_name=opd.name if opd else p.opd,
                        kpis=[evidence(c) for c in p.kpis],
                        voice=heard(p, now[p.code], True),
                        voice_before=heard(p, before[p.code], False),
                    )
                )
            others = [
                evidence(k.code)
                for k in sorted(catalog.kpis_of(regency.kode), key=lambda k: k.code)
                if k.pillar == code and k.code not in named
            ]
            pillars.append(PillarEvidence(code, name, progs, others))
        compliance = compliance_by_opd(conn, catalog, regency, window, scores)
    used: dict[str, Load] = {}
    for pillar in pillars:
        for g in pillar.programmes:
            if g.voice is not None:
                used.update((i, loads[i]) for i in g.voice.load_ids if i in loads)
        for k in [*(k for g in pillar.programmes for k in g.kpis), *pillar.other_kpis]:
            used.update((ld.load_id, ld) for ld in k.loads)
    return Pack(
        regency=regency,
        window=window,
        pillars=pillars,
        compliance=compliance,
        loads=sorted(used.values(), key=lambda ld: (ld.dataset_id, ld.logical_date, ld.load_id)),
        min_reviews=min_reviews,
        release_days=report.RELEASE_DAYS,
        method=method,
        themes=[(t.name, [k.text for k in t.keywords]) for t in book.default],
    )
