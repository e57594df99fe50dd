"""Load valid rows into a fact table: staging table, then one merge, in the caller's transaction.

PostgreSQL gets COPY into staging; SQLite takes the same path with executemany. Identifiers come
from the catalog (checked as safe names) and are always quoted by SQLAlchemy or psycopg.sql,
never formatted from file contents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pyarrow as pa
from sqlalchemy import MetaData, Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from serasan.catalog import Dataset
from serasan.warehouse.facts import LOAD_ID, fact_table


def _rows(table: pa.Table, columns: list[str], load_id: str) -> Iterable[tuple]:
    cols = [table[c].to_pylist() for c in columns]
    for values in zip(*cols, strict=True):
        yield (*values, load_id)


def _copy_in(conn: Connection, target: Table, rows: Iterable[tuple]) -> None:
    from psycopg import sql

    raw = conn.connection.driver_connection
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*([target.schema] if target.schema else []), target.name),
        sql.SQL(", ").join(sql.Identifier(c.name) for c in target.columns),
    )
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)


def stage(conn: Connection, ds: Dataset, table: pa.Table, load_id: str) -> Table:
    """Create this load's staging table and fill it; the name is unique to the load."""
    dialect = conn.dialect.name
    suffix = load_id.rsplit("-", 1)[-1][:12].lower()
    stg = fact_table(ds, dialect, MetaData(), layer="staging", name=f"stg_{ds.id}_{suffix}"[:63])
    stg.drop(bind=conn, checkfirst=True)
    stg.create(bind=conn)
    rows = _rows(table, ds.column_names, load_id)
    if dialect == "postgresql":
        _copy_in(conn, stg, rows)
    else:
        names = [c.name for c in stg.columns]
        batch = [dict(zip(names, r, strict=True)) for r in rows]
        if batch:
            conn.execute(insert(stg), batch)
    return stg


def merge(conn: Connection, ds: Dataset, table: pa.Table, load_id: str,
          mode: str | None = None) -> int:
    """Stage and merge `table` into the fact table; returns the number of rows merged.

    `mode` overrides the dataset's load mode: a file of corrected rows is always an upsert, so it
    never replaces the rest of its period.
    """
    dialect = conn.dialect.name
    fact = fact_table(ds, dialect)
    stg = stage(conn, ds, table, load_id)
    cols = [*ds.column_names, LOAD_ID]
    source = select(*[stg.c[c] for c in cols])
    if (mode or ds.load_mode) == "replace_period":
        pcol = ds.period.column
        conn.execute(delete(fact).where(fact.c[pcol].in_(select(stg.c[pcol]).distinct())))
        conn.execute(insert(fact).from_select(cols, source))
    else:
        if dialect == "sqlite":
            # SQLite needs a WHERE on INSERT ... SELECT ... ON CONFLICT to parse it.
            source = source.where(True)
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(fact)
        stmt = ins.from_select(cols, source)
        updates = {c: stmt.excluded[c] for c in cols if c not in ds.primary_key}
        conn.execute(stmt.on_conflict_do_update(index_elements=ds.primary_key, set_=updates))
    stg.drop(bind=conn)
    return table.num_rows


def periods_of(ds: Dataset, table: pa.Table) -> list[str]:
    """The distinct periods in a batch, as ISO strings (years as 'YYYY')."""
    values = {v for v in table[ds.period.column].to_pylist() if v is not None}
    return sorted(v.isoformat() if isinstance(v, dt.date) else str(v) for v in values)
