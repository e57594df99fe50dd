"""Pillar KPIs: run each catalog KPI query over the warehouse and write `mart.kpi_value`.

One row per KPI, period and region. Every period from the first one its sources hold up to
the period due by the run date gets a row: either a value, with its year's target, the
achievement (never below 0 %) and a status by polarity, or `missing` with the reason in Bahasa Indonesia (no
data received, the load was blocked, nothing to divide by). A missing value is never zero.
Each row names the loads whose rows fall in its period. Recomputing replaces the KPI's rows
(or only the periods asked for), so a rerun gives the same table.

A query may also return `n`, how many observations (reviews, complaints) each value is counted
from; it is stored with the value. A KPI marked `min_count: voice` must return it, and a value
counted from fewer than the minimum (`Settings.voice_min_reviews`, SERASAN_VOICE_MIN_REVIEWS) is
withheld: the row is `missing`, keeps `n` and the minimum it was held to (`min_n`), and its
reason says "terlalu sedikit data". A period whose sources hold rows but none for the KPI (no
review of the programme that quarter) counts as n = 0.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from serasan.alerts import freshness
from serasan.common.enums import NOTHING_LOADED
from serasan.config.catalog import Catalog, Dataset, Kpi
from serasan.config.settings import VOICE_MIN_REVIEWS, Settings
from serasan.warehouse.facts import LOAD_ID, fact_table
from serasan.warehouse.names import qualified
from serasan.warehouse.tables import table

if TYPE_CHECKING:
    from serasan.runtime.context import RunContext

ON_TRACK, AT_RISK = 100.0, 80.0
ACHIEVEMENT_FLOOR = 0.0  # achievement below this is shown and stored as this (no upper cap)
STATUSES = ("on_track", "at_risk", "off_track", "no_target", "missing")
_REF = re.compile(r"\{(\w+)\.(\w+)\}")
BLOCKED = NOTHING_LOADED  # loads that left a due period without rows
TOO_FEW = "terlalu sedikit data"  # what a withheld value is called, in its reason and the report
# what `n` counts, by the voice kind of the KPI's first source (the reason and the report say it)
COUNT_NOUN = {"review": "ulasan", "survey_comment": "komentar", "complaint": "pengaduan"}


class KpiError(ValueError):
    """A KPI query returned rows that break its contract (named KPI, region, period)."""


def render(query: str, dialect: str) -> str:
    """Resolve `{layer.table}` placeholders through the one naming function."""
    return _REF.sub(lambda m: qualified(m.group(1), m.group(2), dialect), query)


def check_queries(catalog: Catalog) -> list[str]:
    """Run every KPI query against an empty in-memory warehouse built by the migrations; one
    problem per broken query, naming the file and the KPI (`serasan catalog validate`)."""
    from serasan.warehouse.db import make_engine, upgrade

    engine = make_engine("sqlite://")
    upgrade(engine, catalog)
    problems = []
    with engine.connect() as conn:
        for k in catalog.kpis.values():
            try:
                cols = set(conn.execute(text(render(k.query, "sqlite"))).keys())
            except Exception as exc:  # any SQL error is a catalog mistake to report
                first = str(exc).splitlines()[0]
                problems.append(f"{catalog.root / 'kpis.yaml'}: {k.code}.query: {first}")
                continue
            missing = {"period", "kode_wilayah", "value"} - cols
            if missing:
                problems.append(
                    f"{catalog.root / 'kpis.yaml'}: {k.code}.query: must return "
                    f"columns period, kode_wilayah, value (missing {sorted(missing)})"
                )
            if k.min_count is not None and "n" not in cols:
                problems.append(
                    f"{catalog.root / 'kpis.yaml'}: {k.code}.query: min_count: {k.min_count} "
                    "needs the query to return n, the number of reviews or complaints behind "
                    "each value"
                )
    engine.dispose()
    return problems


# ------------------------------------------------------------------------ periods


def period_key(cadence: str, day: dt.date) -> str:
    """'2026' (yearly), '2026-Q3' (quarterly) or '2026-09' (monthly) for the period of `day`."""
    if cadence == "yearly":
        return str(day.year)
    if cadence == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def period_span(key: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period key."""
    if len(key) == 4:
        return dt.date(int(key), 1, 1), dt.date(int(key), 12, 31)
    if "-Q" in key:
        year, q = key.split("-Q")
        start = dt.date(int(year), 3 * int(q) - 2, 1)
        return freshness.period_of("quarterly", start)
    return freshness.period_of("monthly", dt.date(int(key[:4]), int(key[5:7]), 1))


def cadence_of(key: str) -> str:
    return "yearly" if len(key) == 4 else "quarterly" if "-Q" in key else "monthly"


def periods_between(cadence: str, first: str, last: str) -> list[str]:
    """Every period key of a cadence from `first` to `last`, both included."""
    out, day, end = [], period_span(first)[0], period_span(last)[0]
    while day <= end:
        out.append(period_key(cadence, day))
        day = period_span(out[-1])[1] + dt.timedelta(days=1)
    return out


def latest_ended(cadence: str, by: dt.date) -> str:
    """The latest period of a cadence that has ended on or before `by`."""
    start, end = freshness.period_of(cadence, by)
    if end > by:
        start, end = freshness.period_of(cadence, start - dt.timedelta(days=1))
    return period_key(cadence, start)


# ------------------------------------------------------------------------ status


def sakip_pct(value: float, target: float, polarity: str) -> float:
    """Achievement % by the formula alone, unbounded. Higher is better: value / target x 100.
    Lower is better, as SAKIP measures a negative indicator: (target - (value - target)) /
    target x 100, which stays finite when the value reaches zero (200 %) and goes below zero
    once the value passes twice the target (32 against a target of 3 gives -866.7 %)."""
    if polarity == "higher_is_better":
        return 100.0 * value / target
    return 100.0 * (2 * target - value) / target


def bounded(pct: float) -> float:
    """The achievement a reader is shown and a status is judged on: never below
    ACHIEVEMENT_FLOOR (0 %). There is no upper cap: a lower-is-better KPI reaches at most 200 %
    (at zero), a higher-is-better one shows how far it passed its target."""
    return max(pct, ACHIEVEMENT_FLOOR)


def status_of(value: float | None, target: float | None, polarity: str) -> tuple[float | None, str]:
    """Achievement % (`sakip_pct`, bounded below at 0 %) and status."""
    if value is None:
        return None, "missing"
    if not target:
        return None, "no_target"
    pct = bounded(sakip_pct(value, target, polarity))
    return pct, "on_track" if pct >= ON_TRACK else "at_risk" if pct >= AT_RISK else "off_track"


# ------------------------------------------------------------------------ sources


@dataclass
class SourceState:
    """What one source dataset holds: its loads per period day, and its load runs."""

    ds: Dataset
    days: dict[dt.date, set[str]]  # first day of each stored period value -> load ids
    runs: list[dict[str, Any]]

    def loads_in(self, start: dt.date, end: dt.date) -> set[str]:
        return {lid for day, ids in self.days.items() if start <= day <= end for lid in ids}

    def first_day(self) -> dt.date | None:
        return min(self.days) if self.days else None

    def why_missing(self, key: str, run_date: dt.date) -> str:
        """Bahasa Indonesia: why this source has no rows for the period."""
        start, end = period_span(key)
        due = freshness.Due(
            cadence_of(key),
            start,
            end,
            freshness.deadline_of(self.ds.cadence, freshness.period_of(self.ds.cadence, end)[1]),
        )
        blocked = [
            r
            for r in self.runs
            if r["status"] in BLOCKED and freshness.covers(self.ds, r["periods"], due)
        ]
        if blocked:
            last = blocked[-1]
            return (
                f"{self.ds.id}: kiriman periode {key} ditolak validasi "
                f"(status {last['status']}, load {last['load_id']}); perbaiki dan kirim ulang"
            )
        if due.deadline >= run_date:
            return f"{self.ds.id}: data periode {key} belum diterima (tenggat {due.deadline})"
        return f"{self.ds.id}: data periode {key} belum diterima; tenggat {due.deadline} terlewati"


def _as_day(value: Any) -> dt.date:
    if isinstance(value, int):
        return dt.date(value, 1, 1)
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value


def has_fact_table(conn: Connection, ds: Dataset) -> bool:
    """Whether the dataset's fact table exists: a dataset never loaded on a warehouse not
    upgraded since it joined the catalog has none, and its KPIs are simply missing."""
    fact = fact_table(ds, conn.dialect.name)
    return inspect(conn).has_table(fact.name, schema=fact.schema)


def source_state(conn: Connection, ds: Dataset, run_date: dt.date) -> SourceState:
    dialect = conn.dialect.name
    fact = fact_table(ds, dialect)
    col = fact.c[ds.period.column]
    days: dict[dt.date, set[str]] = {}
    rows: Iterable[Any] = (
        conn.execute(select(col, fact.c[LOAD_ID]).distinct()) if has_fact_table(conn, ds) else []
    )
    for value, lid in rows:
        if value is not None:
            days.setdefault(_as_day(value), set()).add(lid)
    lr = table("meta", "load_run", dialect)
    runs = (
        conn.execute(
            select(lr.c.load_id, lr.c.status, lr.c.periods)
            .where(lr.c.dataset_id == ds.id, lr.c.logical_date <= run_date)
            .order_by(lr.c.logical_date, lr.c.load_id)
        )
        .mappings()
        .all()
    )
    return SourceState(ds, days, [dict(r) for r in runs])


# ------------------------------------------------------------------------ evaluation


def _check_region(kpi: Kpi, code: str, period: str) -> None:
    if code == kpi.regency:
        return
    if kpi.level == "kecamatan" and re.fullmatch(re.escape(kpi.regency) + r"\.\d{2}", code):
        return
    expected = (
        f"{kpi.regency} or its kecamatan ({kpi.regency}.NN)"
        if kpi.level == "kecamatan"
        else kpi.regency
    )
    raise KpiError(
        f"KPI {kpi.code}: the query returned kode_wilayah {code!r} for period "
        f"{period!r}; expected {expected} (level {kpi.level})"
    )


def minimums(settings: Settings | None = None) -> dict[str, int]:
    """The minimum count of each `min_count` kind, from the settings (defaults without)."""
    return {"voice": VOICE_MIN_REVIEWS if settings is None else settings.voice_min_reviews}


def count_noun(catalog: Catalog, kpi: Kpi) -> str:
    """What a KPI's `n` counts, in Bahasa Indonesia: 'ulasan', 'pengaduan', 'komentar', or
    'data' when its first source is not a citizen-voice dataset."""
    ds = catalog.datasets.get(kpi.sources[0])
    voice = ds.voice if ds is not None else None
    return COUNT_NOUN.get(voice.kind, "data") if voice is not None else "data"


def too_few(row: Mapping[str, Any] | None) -> bool:
    """Whether a mart row's value was withheld for being counted from too few observations."""
    if not row:
        return False
    n, least = row.get("n"), row.get("min_n")
    return row.get("value") is None and n is not None and least is not None and n < least


def evaluate(
    conn: Connection,
    kpi: Kpi,
    catalog: Catalog,
    run_date: dt.date,
    states: dict[str, SourceState] | None = None,
    *,
    min_counts: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The KPI's rows: computed values, and a missing row for every expected period without.
    `min_counts` gives the minimum of each `min_count` kind (default: `minimums()`)."""
    states = states if states is not None else {}
    for src in kpi.sources:
        if src not in states:
            states[src] = source_state(conn, catalog.dataset(src), run_date)
    least = None if kpi.min_count is None else (min_counts or minimums())[kpi.min_count]
    computed: dict[tuple[str, str], float | None] = {}
    counts: dict[tuple[str, str], int | None] = {}
    ready = all(has_fact_table(conn, catalog.dataset(s)) for s in kpi.sources)
    result: Iterable[Any] = (
        conn.execute(text(render(kpi.query, conn.dialect.name))).mappings() if ready else []
    )
    for r in result:
        period, code = str(r["period"]), str(r["kode_wilayah"])
        if cadence_of(period) != kpi.cadence:
            raise KpiError(
                f"KPI {kpi.code}: the query returned period {period!r}, which is "
                f"not a {kpi.cadence} period key"
            )
        _check_region(kpi, code, period)
        if period_span(period)[0] > run_date:  # dated after the run: not a period yet
            continue
        computed[(period, code)] = None if r["value"] is None else float(r["value"])
        n = r.get("n")
        counts[(period, code)] = None if n is None else int(n)
    due = period_key(kpi.cadence, freshness.due_period(kpi.cadence, run_date).start)
    firsts = [d for s in kpi.sources if (d := states[s].first_day())]
    first = period_key(kpi.cadence, min(firsts)) if firsts else due
    keys = set(periods_between(kpi.cadence, first, due)) if first <= due else set()
    keys |= {p for p, _ in computed}
    out = []
    for period in sorted(keys):
        start, end = period_span(period)
        loads = sorted(set().union(*(states[s].loads_in(start, end) for s in kpi.sources)))
        codes = sorted({c for p, c in computed if p == period} | {kpi.regency})
        for code in codes:
            value = computed.get((period, code))
            if code != kpi.regency and value is None and (period, code) not in computed:
                continue
            n = counts.get((period, code))
            reason = None
            if least is not None:
                if n is None and (period, code) in computed:
                    n = 0  # the query returned the row with no count: nothing to count from
                elif n is None and loads:
                    n = 0  # the sources hold the period, none of their rows is the KPI's
                if n is not None and n < least:
                    value = None
                    reason = (
                        f"{TOO_FEW}: {_id_int(n)} {count_noun(catalog, kpi)} pada periode "
                        f"{period}, kurang dari minimum {_id_int(least)}; nilai tidak ditampilkan"
                    )
            if value is None and reason is None:
                reason = _reason(kpi, period, states, run_date)
            row = _row(kpi, period, code, value, loads, reason)
            row["n"], row["min_n"] = n, least
            out.append(row)
    return out


def _id_int(n: int) -> str:
    """1234 -> '1.234', as the report writes counts."""
    return f"{n:,}".replace(",", ".")


def _reason(kpi: Kpi, period: str, states: dict[str, SourceState], run_date: dt.date) -> str:
    start, end = period_span(period)
    empty = [states[s] for s in kpi.sources if not states[s].loads_in(start, end)]
    if empty:
        return "; ".join(s.why_missing(period, run_date) for s in empty)
    return (
        "nilai tidak dapat dihitung dari data yang ada (misalnya pembagi nol atau data "
        "pembanding belum ada)"
    )


def _row(
    kpi: Kpi, period: str, code: str, value: float | None, loads: list[str], reason: str | None
) -> dict[str, Any]:
    breakdown = code != kpi.regency
    target = None if breakdown and kpi.additive else kpi.target_for(int(period[:4]))
    pct, status = status_of(value, target, kpi.polarity)
    return {
        "kpi_code": kpi.code,
        "regency": kpi.regency,
        "pillar": kpi.pillar,
        "period": period,
        "kode_wilayah": code,
        "value": None if value is None else round(value, 6),
        "target": target,
        "achievement_pct": None if pct is None else round(pct, 4),
        "status": status,
        "satuan": kpi.satuan,
        "load_ids": ",".join(loads) or None,
        "reason": reason,
    }


def compute(ctx: RunContext, regency: str, periods: list[str] | None = None) -> dict[str, Any]:
    """Recompute the KPIs of a regency: all their periods, or only `periods` (replaced)."""
    mart = ctx.t("mart", "kpi_value")
    counts: dict[str, int] = {}
    missing = 0
    states: dict[str, SourceState] = {}
    least = minimums(ctx.settings)
    with ctx.engine.begin() as conn:
        for kpi in ctx.catalog.kpis_of(regency):
            rows = evaluate(conn, kpi, ctx.catalog, ctx.run_date, states, min_counts=least)
            where = mart.c.kpi_code == kpi.code
            if periods is not None:
                rows = [r for r in rows if r["period"] in periods]
                where = where & mart.c.period.in_(periods)
            conn.execute(mart.delete().where(where))
            if rows:
                conn.execute(mart.insert(), rows)
            counts[kpi.code] = len(rows)
            missing += sum(r["status"] == "missing" for r in rows)
    return {"regency": regency, "kpis": counts, "values": sum(counts.values()), "missing": missing}
