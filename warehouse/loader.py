"""Load valid rows into a fact table, in the caller's transaction, keeping what they replace.

One merge, all inside the caller's transaction (so a crash at any point leaves the old state):

0. The dataset's lock (`ledger.lock`) is taken before anything is read, and held until the
   caller's transaction ends: two loads of one dataset never decide from the same state (two
   files of one `replace_period` period would otherwise both be kept). A second load waits
   (SERASAN_LOAD_LOCK_TIMEOUT_S), then fails with `DatasetLocked` naming the holder.
1. The merge ledger (`meta.merge_log`) says whether this load id was merged before. If so, the
   same staged object (sha256 of its bytes) or the same rows (a checksum independent of
   chunking) change nothing at all; other rows (a suite or parser changed) first undo the
   load's earlier merge (`unwind`). For a new load the checksum is taken while rows are read.
2. When no fact row can be affected (no row in the batch's periods, or an empty table), the rows
   go straight into the fact table: binary COPY on PostgreSQL (CSV when the live column types
   are not the catalog's), executemany on SQLite. The batch (an Arrow table, or a Parquet file
   read in record batches) is streamed, so memory stays flat. Every row is written with its
   key hash and row hash (`rowhash`).
3. Otherwise the (key hash, row hash) pairs of the incoming rows are compared with those of the
   loaded rows (fetched as fixed-width bytes while this thread hashes): a pair found on both
   sides is a row that did not change, and it is neither sent nor touched (it keeps the load
   id that wrote it). The rest go to a temporary staging table, and one join against only the
   loaded rows the hashes could not clear (found by ctid/rowid) decides exactly what differs:
   new keys, changed rows and, for `replace_period`, rows of those periods the batch no longer
   has. The old versions of the rows that change move to `core.hist_<dataset>` (one DELETE ...
   RETURNING into INSERT on PostgreSQL), stamped with this load id and merge sequence number,
   and the new versions are inserted. For `replace_period` with unique loaded key hashes the
   join's answer is known without running it (every row sent, every old row not cleared:
   `replace.replace_direct`), so the old rows leave by location and the new ones are COPYed
   straight in. Hashes only ever save work: they never make a merge keep a row that differs.

Identifiers come from the catalog (checked as safe names) and are quoted by SQLAlchemy or
psycopg.sql, never formatted from file contents.

This module is the entry point (`merge`) and keeps the loader's public names; the work is done
in modules with one job each:

- `batches`: the rows read (`Source`, `Batches`), their checksum (`Digest`, `digest`),
  `periods_of`
- `ledger`: the merge ledger, `unwind`, `blockers`, `LoadSuperseded`; the dataset's `lock`,
  `DatasetLocked`
- `bulk`: appending rows (COPY or executemany), temporary work tables, `stage`
- `pgcopy`: PostgreSQL's binary and CSV COPY, raw ctids
- `hashdiff`: the (key hash, row hash) comparison with the loaded rows
- `diffmerge`: the staged diff join, for upserts and `replace_period` (step 3)
- `replace`: `replace_period` without the join (`replace_direct`)
- `supersede`: rows by location (ctid or rowid), moved to history
"""

from __future__ import annotations

import logging
import time
import typing
from typing import Any

from sqlalchemy import Table, literal, select
from sqlalchemy.engine import Connection

from serasan.common.enums import APPLIED, LoadMode
from serasan.config.catalog import Dataset
from serasan.warehouse import history
from serasan.warehouse.batches import BATCH_ROWS, Batches, Digest, Source, digest, periods_of
from serasan.warehouse.bulk import stage, write
from serasan.warehouse.diffmerge import MERGE_WORK_MEM, merge_diff
from serasan.warehouse.facts import fact_table
from serasan.warehouse.hashdiff import Hashes
from serasan.warehouse.ledger import (
    MERGE_LOCK_CLASS,
    DatasetLocked,
    LoadSuperseded,
    blockers,
    forget_unrecorded,
    ledger_entry,
    lock,
    record,
    settle,
    unwind,
)

__all__ = [
    "APPLIED",
    "BATCH_ROWS",
    "MERGE_LOCK_CLASS",
    "MERGE_WORK_MEM",
    "Batches",
    "DatasetLocked",
    "Digest",
    "Hashes",
    "LoadSuperseded",
    "Source",
    "blockers",
    "digest",
    "lock",
    "merge",
    "periods_of",
    "stage",
    "unwind",
]

log_ = logging.getLogger(__name__)


def merge(
    conn: Connection,
    ds: Dataset,
    table: Batches,
    load_id: str,
    mode: str | None = None,
    lock_timeout_s: float | None = None,
) -> int:
    """Merge the rows into the fact table, keeping the versions they replace; returns the
    number of rows in the batch.

    `table`: an Arrow table, or the staged Parquet file (bytes, path or ParquetFile), read in
    record batches. `mode` overrides the dataset's load mode: a file of corrected rows is always
    an upsert, so it never replaces the rest of its period. Merging the same load id again with
    the same rows changes nothing; with other rows (reprocessing after a suite or parser change)
    it first undoes its earlier merge, so the load's own rows are replaced, not added to.

    The dataset's lock is taken first (waiting up to `lock_timeout_s`, None: the setting) and
    held to the end of the caller's transaction; a caller that reads first takes it itself.
    """
    lock(conn, ds, f"load {load_id}", lock_timeout_s)
    mode = mode or ds.load_mode
    dialect = conn.dialect.name
    started = time.perf_counter()
    fact = fact_table(ds, dialect)
    hist, log = history.ensure_for(conn, ds)
    src = Source(table)
    prev = ledger_entry(conn, ds, load_id)
    checksum = None
    if prev is not None:
        if src.fingerprint and prev["source_sha256"] == src.fingerprint and prev["mode"] == mode:
            return int(prev["rows"])  # this very object was merged: nothing to do
        rehash = Digest(ds, mode)
        for b in src.batches(ds):
            rehash.add(b)
        checksum = rehash.hexdigest()
        if checksum == prev["digest"]:
            return int(prev["rows"])  # the same rows were merged: nothing to do
        unwind(conn, ds, load_id)
    else:
        forget_unrecorded(conn, ds, fact, load_id)
    if not src.num_rows:
        return 0
    periods = src.periods(ds)
    seq = record(conn, log, ds, load_id, mode, checksum, src, periods)
    hashing = Digest(ds, mode) if checksum is None else None
    batches = src.batches(ds)
    if hashing is not None:  # the checksum is taken while the rows are written
        batches = hashing.feed(batches)
    steps: dict[str, float] = {}
    if _touches_existing(conn, ds, fact, periods, mode):
        new, superseded = merge_diff(
            conn, ds, fact, hist, src, batches, load_id, seq, periods, mode, steps
        )
    else:
        write(conn, fact, ds, batches, load_id)
        new, superseded = src.num_rows, 0
    # `hashing` is None only when `checksum` was taken above
    settle(conn, log, seq, checksum or typing.cast(Digest, hashing).hexdigest(), new, superseded)
    log_.info(
        "%s: merged %d rows (%s): %d new, %d to history, %.2f s %s",
        load_id,
        src.num_rows,
        mode,
        new,
        superseded,
        time.perf_counter() - started,
        " ".join(f"{k} {v:.2f}" for k, v in steps.items()),
    )
    return src.num_rows


def _touches_existing(
    conn: Connection, ds: Dataset, fact: Table, periods: list[Any], mode: str
) -> bool:
    """Whether any fact row may change: one in the batch's periods (the period is part of the
    key, or whole periods are replaced), else any row at all."""
    pcol = ds.period.column
    q = select(literal(1)).select_from(fact)
    if pcol in ds.primary_key or mode == LoadMode.REPLACE_PERIOD:
        q = q.where(fact.c[pcol].in_(periods))
    return conn.execute(q.limit(1)).first() is not None
