"""Appending rows, each with its key hash, row hash and load id: COPY on PostgreSQL,
executemany in batches on SQLite; the temporary tables a merge stages into, and `stage`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
from sqlalchemy import BigInteger, Column, MetaData, String, Table, insert
from sqlalchemy.engine import Connection

from serasan.config.catalog import Dataset
from serasan.warehouse.batches import Batches, Source
from serasan.warehouse.facts import HASHES, KEY_HASH, LOAD_ID, ROW_HASH, SQL_TYPES, fact_table
from serasan.warehouse.pgcopy import binary_ok, copy_in
from serasan.warehouse.rowhash import key_hashes, row_hashes


def _hashed(ds: Dataset, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches with their `key_hash` and `row_hash` columns appended."""
    for b in batches:
        kh, rh = key_hashes(b.select(ds.primary_key)), row_hashes(b)
        yield b.append_column(KEY_HASH, pa.array(kh)).append_column(ROW_HASH, pa.array(rh))


def write(
    conn: Connection,
    target: Table,
    ds: Dataset,
    batches: Iterable[pa.RecordBatch],
    load_id: str,
    created: bool = False,
) -> None:
    """Append rows (with their row hash and load id) to `target`: COPY on PostgreSQL,
    executemany in batches elsewhere.

    `created`: the table was just created from the catalog, so its types are known.
    """
    batches = _hashed(ds, batches)
    if conn.dialect.name == "postgresql":
        binary = created or binary_ok(conn, target, ds)
        copy_in(conn, target, [*ds.column_names, *HASHES], batches, load_id, binary)
        return
    stmt = insert(target)
    for b in batches:
        rows = b.to_pylist()
        for r in rows:
            r[LOAD_ID] = load_id
        conn.execute(stmt, rows)


def work_table(ds: Dataset, name: str, extra: list[Column[Any]] | None = None) -> Table:
    """A temporary table with the fact columns (no constraints), dropped at commit at the latest.

    Temporary tables belong to the session: a killed loader leaves none behind.
    """
    cols = [
        *(extra or []),
        *[Column(c.name, SQL_TYPES[c.type]) for c in ds.columns],
        *[Column(h, BigInteger) for h in HASHES],
        Column(LOAD_ID, String(120)),
    ]
    return Table(name, MetaData(), *cols, prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def stage(conn: Connection, ds: Dataset, table: Batches, load_id: str) -> Table:
    """Create `staging.stg_<dataset>_<load>` and fill it (kept after commit, for inspection
    and the SQL validation benchmark); `merge` itself stages into temporary tables."""
    dialect = conn.dialect.name
    suffix = load_id.rsplit("-", 1)[-1][:12].lower()
    stg = fact_table(ds, dialect, MetaData(), layer="staging", name=f"stg_{ds.id}_{suffix}"[:63])
    stg.drop(bind=conn, checkfirst=True)
    stg.create(bind=conn)
    write(conn, stg, ds, Source(table).batches(ds), load_id, created=True)
    return stg
