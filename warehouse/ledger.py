"""The merge ledger (`meta.merge_log`): recording a merge, and undoing one.

A load's entry says what it merged (mode, checksum, periods, sequence number); `unwind` deletes
a load's rows and puts back the rows it superseded, refused with `LoadSuperseded` while later
loads depend on it (`blockers`).
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from serasan.common.enums import APPLIED, LoadMode
from serasan.config.catalog import Dataset
from serasan.warehouse import history
from serasan.warehouse.batches import Source, iso
from serasan.warehouse.facts import HASHES, LOAD_ID, fact_table
from serasan.warehouse.sqlutil import rowcount
from serasan.warehouse.tables import table as fixed_table

# APPLIED (from serasan.common.enums): load_run statuses that put rows in a fact table


class LoadSuperseded(Exception):
    """A load cannot be undone: later loads replaced or re-filled rows it wrote."""

    def __init__(self, load_id: str, later: list[str]):
        self.load_id, self.later = load_id, later
        super().__init__(
            f"load {load_id} cannot be undone: later load(s) {', '.join(later)} replaced or "
            f"re-sent rows it wrote. Retract {'that load' if len(later) == 1 else 'those loads'}"
            " first (newest first), or reprocess the period"
        )


# ------------------------------------------------------------------------ recording a merge


def ledger_entry(conn: Connection, ds: Dataset, load_id: str) -> Any:
    log = history.merge_log_table(conn.dialect.name)
    return (
        conn.execute(select(log).where(log.c.dataset_id == ds.id, log.c.load_id == load_id))
        .mappings()
        .first()
    )


def record(
    conn: Connection,
    log: Table,
    ds: Dataset,
    load_id: str,
    mode: str,
    checksum: str | None,
    src: Source,
    periods: list[Any],
) -> int:
    """Enter a merge in the ledger before its rows are written; returns its sequence number."""
    key = conn.execute(
        insert(log).values(
            load_id=load_id,
            dataset_id=ds.id,
            mode=mode,
            digest=checksum or "",
            source_sha256=src.fingerprint,
            rows=src.num_rows,
            periods=",".join(iso(p) for p in periods),
            merged_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
    ).inserted_primary_key
    return typing.cast(int, typing.cast(Any, key)[0])


def settle(conn: Connection, log: Table, seq: int, digest: str, new: int, superseded: int) -> None:
    """Complete a merge's entry once its rows are in: the checksum and what changed."""
    conn.execute(
        update(log)
        .where(log.c.seq == seq)
        .values(digest=digest, rows_new=new, rows_superseded=superseded)
    )


def forget_unrecorded(conn: Connection, ds: Dataset, fact: Table, load_id: str) -> None:
    """Rows of this load merged before the ledger existed: replace them, nothing to restore."""
    lr = fixed_table("meta", "load_run", conn.dialect.name)
    applied = conn.execute(
        select(lr.c.rows_loaded).where(lr.c.load_id == load_id, lr.c.status.in_(APPLIED))
    ).scalar()
    if applied:
        conn.execute(delete(fact).where(fact.c[LOAD_ID] == load_id))


# ------------------------------------------------------------------------ undoing a load


def blockers(conn: Connection, ds: Dataset, load_id: str) -> list[str]:
    """Later loads that must be undone before `load_id` can be: they superseded rows it wrote,
    re-filled keys it vacated, or replaced one of its periods again. Oldest first."""
    dialect = conn.dialect.name
    fact, hist = fact_table(ds, dialect), history.history_table(ds, dialect)
    log = history.merge_log_table(dialect)
    entry = ledger_entry(conn, ds, load_id)
    found: set[str] = set()
    mine = [hist.c[LOAD_ID] == load_id, hist.c[history.SUPERSEDED_BY] != load_id]
    if entry is not None:
        mine.append(hist.c[history.SUPERSEDED_SEQ] > entry["seq"])
    found.update(
        r[0] for r in conn.execute(select(hist.c[history.SUPERSEDED_BY]).where(*mine).distinct())
    )
    same_key = and_(*[fact.c[k] == hist.c[k] for k in ds.primary_key])
    found.update(
        r[0]
        for r in conn.execute(
            select(fact.c[LOAD_ID])
            .select_from(fact.join(hist, same_key))
            .where(hist.c[history.SUPERSEDED_BY] == load_id, fact.c[LOAD_ID] != load_id)
            .distinct()
        )
    )
    order: dict[str, int] = {}
    if entry is not None:
        mine_periods = set((entry["periods"] or "").split(","))
        for r in conn.execute(
            select(log.c.load_id, log.c.periods, log.c.mode, log.c.seq).where(
                log.c.dataset_id == ds.id, log.c.seq > entry["seq"]
            )
        ):
            order[r.load_id] = r.seq
            if r.mode == LoadMode.REPLACE_PERIOD and mine_periods & set(
                (r.periods or "").split(",")
            ):
                found.add(r.load_id)
    found.discard(load_id)
    return sorted(found, key=lambda x: (order.get(x, 1 << 62), x))


def unwind(conn: Connection, ds: Dataset, load_id: str) -> dict[str, Any]:
    """Undo a load's merge: delete its rows and put back the rows it superseded (taking them
    out of history). Refused with LoadSuperseded when later loads depend on it."""
    later = blockers(conn, ds, load_id)
    if later:
        raise LoadSuperseded(load_id, later)
    dialect = conn.dialect.name
    fact, hist = fact_table(ds, dialect), history.history_table(ds, dialect)
    log = history.merge_log_table(dialect)
    entry = ledger_entry(conn, ds, load_id)
    mine = [hist.c[history.SUPERSEDED_BY] == load_id]
    if entry is not None:
        mine.append(hist.c[history.SUPERSEDED_SEQ] == entry["seq"])
    cols = [*ds.column_names, *HASHES, LOAD_ID]
    restored_from = sorted(
        r[0] for r in conn.execute(select(hist.c[LOAD_ID]).where(*mine).distinct())
    )
    removed = conn.execute(delete(fact).where(fact.c[LOAD_ID] == load_id)).rowcount
    restored = rowcount(
        conn, insert(fact).from_select(cols, select(*[hist.c[c] for c in cols]).where(*mine))
    )
    conn.execute(delete(hist).where(hist.c[history.SUPERSEDED_BY] == load_id))
    conn.execute(delete(log).where(log.c.dataset_id == ds.id, log.c.load_id == load_id))
    return {
        "rows_removed": removed,
        "rows_restored": restored,
        "restored_from": restored_from,
        "merge": dict(entry) if entry is not None else None,
    }
