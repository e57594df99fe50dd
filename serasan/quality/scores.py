"""Per-OPD data-quality score per period: the share of rows and of expectations that pass.

The period is the month of the runs' logical dates (when the OPD submitted). Recomputed from
`meta.load_run` and `meta.dq_result` after every load, so it is always derivable and a rerun
gives the same numbers.

Two loads of different datasets of one OPD hold different dataset locks, so they can reach the
recompute together. Each reads `meta.load_run` without the other's uncommitted row and then
replaces the score row: the one committing last would leave a score that misses the other's
load (or fail on the primary key). On PostgreSQL the recompute therefore takes a
transaction-level advisory lock per (regency, OPD) first, `pg_advisory_xact_lock(
SCORE_LOCK_CLASS, hashtext('<regency>/<opd>'))`, held until the load's transaction ends: the
second waits for the first to commit, and its reads (each statement a fresh snapshot under READ
COMMITTED) then include the first's load. Locks are always taken dataset first, OPD second, so
they cannot deadlock. On SQLite the write transaction (`BEGIN IMMEDIATE`, taken with the
dataset's lock) already lets one writer in at a time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.engine import Connection

from serasan.common.enums import LoadStatus
from serasan.warehouse.tables import table

SCORED = tuple(s for s in LoadStatus if s != LoadStatus.RETRACTED)  # a retracted load never was
# advisory lock class of the score recompute, keyed by (regency, OPD); loads and corrections
# use 1603 (serasan.warehouse.ledger.MERGE_LOCK_CLASS), keyed by dataset
SCORE_LOCK_CLASS = 1604


def lock_key(regency: str, opd: str) -> str:
    """The text hashed into the advisory lock's key: one per (regency, OPD)."""
    return f"{regency}/{opd}"


def lock(conn: Connection, regency: str, opd: str) -> None:
    """Serialise score recomputes of one OPD until the caller's transaction ends (PostgreSQL;
    on SQLite the single writer already does). Taking it again in a transaction is a no-op."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        text("SELECT pg_advisory_xact_lock(:c, hashtext(:k))"),
        {"c": SCORE_LOCK_CLASS, "k": lock_key(regency, opd)},
    )


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def recompute(conn: Connection, regency: str, opd: str, day: dt.date) -> dict[str, Any]:
    """Recompute the score of one OPD for the month containing `day`; returns the row.

    Takes the OPD's score lock first (`lock`), so what it reads includes every load of the OPD
    committed before, and none commits a score in between."""
    lock(conn, regency, opd)
    dialect = conn.dialect.name
    lr, dq = table("meta", "load_run", dialect), table("meta", "dq_result", dialect)
    qs = table("meta", "quality_score", dialect)
    start, end = month_bounds(day)
    where = and_(
        lr.c.regency == regency,
        lr.c.opd == opd,
        lr.c.status.in_(SCORED),
        lr.c.logical_date >= start,
        lr.c.logical_date < end,
    )
    loads = conn.execute(
        select(
            func.count(func.distinct(lr.c.dataset_id)),
            func.coalesce(func.sum(lr.c.rows_in), 0),
            func.coalesce(
                func.sum(lr.c.rows_in - func.coalesce(lr.c.rows_failing, lr.c.rows_rejected)), 0
            ),
        ).where(where)
    ).one()
    exps = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(func.cast(dq.c.success, _int())), 0),
        )
        .select_from(dq.join(lr, dq.c.load_id == lr.c.load_id))
        .where(where)
    ).one()
    period = start.strftime("%Y-%m")
    row: dict[str, Any] = {
        "regency": regency,
        "opd": opd,
        "period": period,
        "datasets": int(loads[0]),
        "rows_in": int(loads[1]),
        "rows_passed": int(loads[2]),
        "expectations": int(exps[0]),
        "expectations_passed": int(exps[1]),
    }
    row["score_rows"] = (
        round(100.0 * row["rows_passed"] / row["rows_in"], 2) if row["rows_in"] else None
    )
    row["score_expectations"] = (
        round(100.0 * row["expectations_passed"] / row["expectations"], 2)
        if row["expectations"]
        else None
    )
    conn.execute(
        qs.delete().where(and_(qs.c.regency == regency, qs.c.opd == opd, qs.c.period == period))
    )
    if row["datasets"]:
        conn.execute(qs.insert().values(**row))
    return row


def _int() -> Any:
    from sqlalchemy import Integer

    return Integer()
