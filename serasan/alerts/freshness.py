"""Is each dataset's data in on time? Lateness reminders and the daily digest per OPD.

A dataset's `cadence` says which period is due when. The deadlines are this table (the day of
the deadline is still on time):

| cadence     | the period due       | deadline                                     |
| ----------- | -------------------- | -------------------------------------------- |
| `daily`     | day D                | D + 1 day                                    |
| `monthly`   | month M              | the 10th of month M + 1                      |
| `quarterly` | quarter Q            | the 15th of the month after Q ends           |
| `yearly`    | year Y               | 31 January of Y + 1                          |

`source.params.deadline_day` replaces the day of the month (monthly, quarterly, yearly; clamped
to the month's length). On a run date R, the due period is the latest one whose deadline is
before R. It is received when a load with rows (`loaded`, `quarantined` or `warned`) whose
periods overlap it has a logical date on or before R; it was on time if that load's logical date
is on or before the deadline. Everything is computed from the run's logical date in Asia/Jakarta,
never the wall clock, so a re-run or a backfill of a day says exactly what that day said.

A due period not yet received is late: the OPD's contacts get one reminder per OPD and day,
listing its late datasets, and after `late_grace_days` the regency's walidata gets it as well.
Every OPD also gets a daily digest of its datasets. Both go through the outbox, keyed by OPD,
date and recipient, so a re-run of the same day sends nothing twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from serasan.alerts import compose as alerts
from serasan.alerts import delivery
from serasan.common.enums import APPLIED
from serasan.config.catalog import Catalog, Dataset, Regency
from serasan.lake.keys import digest_alert_key, inbox_prefix, lateness_alert_key, opd_key
from serasan.runtime.context import RunContext

log = logging.getLogger(__name__)

DEADLINE_DAY = {"monthly": 10, "quarterly": 15, "yearly": 31}  # of the month after the period
DAILY_DEADLINE = dt.timedelta(days=1)
RECEIVED = APPLIED  # loads that put rows in the warehouse


@dataclass(frozen=True)
class Due:
    """The period a dataset must have delivered by now, and its deadline."""

    cadence: str
    start: dt.date
    end: dt.date
    deadline: dt.date


@dataclass(frozen=True)
class Status:
    """A dataset's standing on a run date: its due period, when it arrived, its last load."""

    dataset: Dataset
    due: Due
    as_of: dt.date
    received_on: dt.date | None  # logical date of the first load covering the due period
    last_load: dict[str, Any] | None

    @property
    def missing(self) -> bool:
        return self.received_on is None

    @property
    def days_late(self) -> int:
        """Days past the deadline: as of today when missing, at arrival when received."""
        end = self.as_of if self.received_on is None else self.received_on
        return max((end - self.due.deadline).days, 0)


# ------------------------------------------------------------------------ periods


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: dt.date, n: int) -> dt.date:
    m = day.month - 1 + n
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def period_of(cadence: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The period of this cadence that contains `day`, as (first day, last day)."""
    if cadence == "daily":
        return day, day
    if cadence == "monthly":
        return day.replace(day=1), _month_end(day)
    if cadence == "quarterly":
        start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return start, _month_end(_add_months(start, 2))
    if cadence == "yearly":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    raise ValueError(f"unknown cadence {cadence!r}")


def deadline_of(cadence: str, end: dt.date, deadline_day: int | None = None) -> dt.date:
    """The last on-time day for the period ending on `end` (see the module's table)."""
    if cadence == "daily":
        return end + DAILY_DEADLINE
    month = _add_months(end.replace(day=1), 1)  # for yearly: January of the next year
    day = deadline_day or DEADLINE_DAY[cadence]
    return month.replace(day=min(max(day, 1), calendar.monthrange(month.year, month.month)[1]))


def due_period(cadence: str, run_date: dt.date, deadline_day: int | None = None) -> Due:
    """The latest period whose deadline is before the run date."""
    start, end = period_of(cadence, run_date)
    while deadline_of(cadence, end, deadline_day) >= run_date:
        start, end = period_of(cadence, start - dt.timedelta(days=1))
    return Due(cadence, start, end, deadline_of(cadence, end, deadline_day))


def due_of(ds: Dataset, run_date: dt.date) -> Due:
    day = ds.source.params.get("deadline_day")
    return due_period(ds.cadence, run_date, int(day) if day else None)


def _span(ds: Dataset, period: str) -> tuple[dt.date, dt.date] | None:
    """A loaded period string ('2026-10-01', '2025') as the days it stands for."""
    period = period.strip()
    try:
        if len(period) == 4:
            year = int(period)
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        day = dt.date.fromisoformat(period[:10])
    except ValueError:
        return None
    granularity = {"day": "daily", "month": "monthly", "quarter": "quarterly", "year": "yearly"}
    return period_of(granularity[ds.period.granularity], day)


def covers(ds: Dataset, periods: str | None, due: Due) -> bool:
    """Whether a load's periods overlap the due period."""
    for p in (periods or "").split(","):
        span = _span(ds, p) if p.strip() else None
        if span and span[0] <= due.end and span[1] >= due.start:
            return True
    return False


# ------------------------------------------------------------------------ status


def statuses(ctx: RunContext, datasets: list[Dataset]) -> list[Status]:
    """Each dataset's status as of the run date, from `meta.load_run` up to that date."""
    lr = ctx.t("meta", "load_run")
    ids = [d.id for d in datasets]
    with ctx.engine.connect() as conn:
        runs = (
            conn.execute(
                select(
                    lr.c.dataset_id,
                    lr.c.load_id,
                    lr.c.logical_date,
                    lr.c.status,
                    lr.c.rows_in,
                    lr.c.rows_loaded,
                    lr.c.rows_rejected,
                    lr.c.periods,
                )
                .where(lr.c.dataset_id.in_(ids), lr.c.logical_date <= ctx.run_date)
                .order_by(lr.c.logical_date, lr.c.load_id)
            )
            .mappings()
            .all()
        )
    by_ds: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_ds.setdefault(r["dataset_id"], []).append(dict(r))
    out = []
    for ds in datasets:
        due = due_of(ds, ctx.run_date)
        mine = by_ds.get(ds.id, [])
        arrived = [
            r["logical_date"]
            for r in mine
            if r["status"] in RECEIVED and covers(ds, r["periods"], due)
        ]
        out.append(
            Status(
                dataset=ds,
                due=due,
                as_of=ctx.run_date,
                received_on=min(arrived) if arrived else None,
                last_load=mine[-1] if mine else None,
            )
        )
    return out


def opds_with_datasets(catalog: Catalog) -> list[tuple[Regency, str, list[Dataset]]]:
    """Every (regency, OPD code, its datasets), in catalog order, OPDs without datasets left out."""
    out = []
    for reg in catalog.regencies.values():
        for opd in reg.opds:
            mine = [d for d in catalog.datasets_of(reg.kode) if d.opd == opd.code]
            if mine:
                out.append((reg, opd.code, sorted(mine, key=lambda d: d.id)))
    return out


def walidata_recipients(ctx: RunContext, regency: Regency) -> list[str]:
    """`SERASAN_WALIDATA_EMAIL_<SLUG>` when set (a deployment's override), else the catalog's."""
    return ctx.settings.walidata_email(regency.slug) or [regency.walidata_email]


# ------------------------------------------------------------------------ alerts


def _write(ctx: RunContext, key: str, alert: alerts.Alert) -> None:
    """The lake copy, like a quality alert's; the first of the day stays, as in the outbox."""
    if ctx.lake.exists(key):
        return
    ctx.lake.put(
        key,
        alert.as_text(),
        "text/plain; charset=utf-8",
    )


def check_lateness(ctx: RunContext) -> list[str]:
    """One reminder per OPD with a late dataset, to its contacts and, past the grace, walidata."""
    lang, grace = ctx.settings.lang, ctx.settings.late_grace_days
    day = ctx.run_date.isoformat()
    sent = []
    for reg, opd_code, datasets in opds_with_datasets(ctx.catalog):
        late = [s for s in statuses(ctx, datasets) if s.missing]
        if not late:
            continue
        opd = reg.opd(opd_code)
        assert opd is not None
        escalated = any(s.days_late > grace for s in late)
        recipients = [c.email for c in opd.contacts]
        if escalated:
            recipients += [w for w in walidata_recipients(ctx, reg) if w not in recipients]
        items = [
            alerts.LateItem(
                dataset=s.dataset.id,
                title=s.dataset.title,
                deadline=s.due.deadline,
                period=alerts.period_words(s.due.cadence, s.due.start, lang),
                days_late=s.days_late,
                inbox=ctx.lake.location(inbox_prefix(ctx.catalog, s.dataset)),
            )
            for s in late
        ]
        key = opd_key(ctx.catalog, late[0].dataset)
        aid = delivery.alert_id("late", key, day)
        msg = alerts.compose_late(
            ctx.catalog,
            reg.kode,
            opd_code,
            alert_id=aid,
            run_date=ctx.run_date,
            items=items,
            recipients=recipients,
            escalated=escalated,
            grace_days=grace,
            lang=lang,
        )
        _send(ctx, "late", aid, msg, reg.kode, opd_code, lateness_alert_key(key, day))
        log.info("%s: %d datasets late%s", key, len(late), " (walidata told)" if escalated else "")
        sent.append(aid)
    return sent


def _send(
    ctx: RunContext, kind: str, aid: str, msg: alerts.Alert, regency: str, opd: str, lake_key: str
) -> None:
    """The message beside the other alerts in the lake, and into the outbox for delivery."""
    _write(ctx, lake_key, msg)
    delivery.enqueue(
        ctx.engine,
        ctx.settings,
        delivery.OutboxAlert(
            alert_id=aid,
            kind=kind,
            recipients=msg.recipients,
            subject=msg.subject,
            body=msg.body,
            regency=regency,
            opd=opd,
            lake_key=lake_key,
        ),
    )


def digests(ctx: RunContext) -> list[str]:
    """The daily digest of every OPD with datasets: due period, arrival, last load."""
    lang = ctx.settings.lang
    day = ctx.run_date.isoformat()
    written = []
    for reg, opd_code, datasets in opds_with_datasets(ctx.catalog):
        rows = []
        for s in statuses(ctx, datasets):
            last = s.last_load or {}
            rows.append(
                alerts.DigestRow(
                    dataset=s.dataset.id,
                    title=s.dataset.title,
                    period=alerts.period_words(s.due.cadence, s.due.start, lang),
                    deadline=s.due.deadline,
                    received_late_days=None if s.missing else s.days_late,
                    days_late=s.days_late,
                    last_load_date=last.get("logical_date"),
                    last_load_status=last.get("status"),
                    rows_in=last.get("rows_in"),
                    rows_rejected=last.get("rows_rejected"),
                )
            )
        key = opd_key(ctx.catalog, datasets[0])
        aid = delivery.alert_id("digest", key, day)
        msg = alerts.compose_digest(
            ctx.catalog,
            reg.kode,
            opd_code,
            alert_id=aid,
            run_date=ctx.run_date,
            rows=rows,
            lang=lang,
        )
        _send(ctx, "digest", aid, msg, reg.kode, opd_code, digest_alert_key(key, day))
        written.append(aid)
    return written
