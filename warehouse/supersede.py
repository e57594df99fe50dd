"""Rows by location, and moving them to history: the old versions a merge replaces leave the
fact table for `core.hist_<dataset>`, found by ctid on PostgreSQL (a TID scan) or rowid on
SQLite, stamped with the load and merge sequence number that superseded them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import UserDefinedType

from serasan.config.catalog import Dataset
from serasan.warehouse import history
from serasan.warehouse.facts import HASHES, LOAD_ID
from serasan.warehouse.sqlutil import rowcount


class Tid(UserDefinedType[Any]):
    """PostgreSQL's tid: a row's location."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid"


class _TidArray(UserDefinedType[Any]):
    """PostgreSQL's tid[]: row locations, for a TID scan instead of a second join."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid[]"


def tid_table(name: str, pg: bool) -> Table:
    """A temporary one-column table of row locations (`_old_row`: tid, or rowid on SQLite)."""
    return Table(
        name,
        MetaData(),
        Column("_old_row", Tid() if pg else BigInteger),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


def located(pg: bool, refs: Any) -> Any:
    """Rows whose location (ctid as text on PostgreSQL, rowid on SQLite) `refs` selects; on
    PostgreSQL as one tid[] so the planner uses a TID scan, not a join."""
    if not pg:
        return literal_column("rowid").in_(refs)
    sub = refs.subquery()
    tids = select(func.array_agg(list(sub.c)[0]))
    return literal_column("ctid") == func.any(cast(tids.scalar_subquery(), _TidArray()))


def supersede(
    conn: Connection, ds: Dataset, fact: Table, hist: Table, located: Any, load_id: str, seq: int
) -> int:
    """Move the fact rows `located` selects to history, stamped with this load and merge
    sequence number (rows this same load wrote are dropped, not kept); returns how many moved."""
    cols = ds.column_names
    stamp = [literal(load_id, String(120)), literal(seq, BigInteger())]
    hist_cols = [*cols, *HASHES, LOAD_ID, history.SUPERSEDED_BY, history.SUPERSEDED_SEQ]
    if conn.dialect.name == "postgresql":  # one statement, rows found by ctid: no second join
        gone_rows = delete(fact).where(located).returning(*fact.c).cte("gone")
        moved = select(*[gone_rows.c[c] for c in [*cols, *HASHES, LOAD_ID]], *stamp).where(
            gone_rows.c[LOAD_ID] != load_id
        )
        return rowcount(conn, insert(hist).from_select(hist_cols, moved).add_cte(gone_rows))
    moved = select(*[fact.c[c] for c in [*cols, *HASHES, LOAD_ID]], *stamp).where(
        located, fact.c[LOAD_ID] != load_id
    )
    superseded = rowcount(conn, insert(hist).from_select(hist_cols, moved))
    conn.execute(delete(fact).where(located))
    return superseded
