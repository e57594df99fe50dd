"""Load valid rows into a fact table, in the caller's transaction, keeping what they replace.

One merge, all inside the caller's transaction (so a crash at any point leaves the old state):

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
   `_replace_direct`), so the old rows leave by location and the new ones are COPYed straight
   in. Hashes only ever save work: they never make a merge keep a row that differs.

Identifiers come from the catalog (checked as safe names) and are quoted by SQLAlchemy or
psycopg.sql, never formatted from file contents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    Text,
    and_,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import UserDefinedType

from serasan.common.arrow import ARROW_TYPES
from serasan.config.catalog import Dataset
from serasan.warehouse import history
from serasan.warehouse.facts import HASHES, KEY_HASH, LOAD_ID, ROW_HASH, SQL_TYPES, fact_table
from serasan.warehouse.rowhash import key_hashes, row_hashes, stable
from serasan.warehouse.tables import table as fixed_table

log_ = logging.getLogger(__name__)
BATCH_ROWS = 65_536  # rows per record batch: bounded memory, large enough COPY writes
MERGE_WORK_MEM = "256MB"  # lets the diff join hash a period in memory (this transaction only)
MERGE_LOCK_CLASS = 1603  # advisory lock class for merges, keyed by dataset
APPLIED = ("loaded", "quarantined", "warned")  # load_run statuses that put rows in a fact table

Batches = pa.Table | pq.ParquetFile | bytes | str | Path


class LoadSuperseded(Exception):
    """A load cannot be undone: later loads replaced or re-filled rows it wrote."""

    def __init__(self, load_id: str, later: list[str]):
        self.load_id, self.later = load_id, later
        super().__init__(
            f"load {load_id} cannot be undone: later load(s) {', '.join(later)} replaced or "
            f"re-sent rows it wrote. Retract {'that load' if len(later) == 1 else 'those loads'}"
            " first (newest first), or reprocess the period"
        )


# ------------------------------------------------------------------------ batches


def _iso(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


class Source:
    """Rows to merge: an Arrow table, or a Parquet file (bytes, path or ParquetFile) read in
    record batches of the catalog's columns and types, so memory stays flat however many rows.

    `fingerprint` is the sha256 of the Parquet bytes when there are bytes to hash: the same
    staged object merged again is then recognised without decoding it.
    """

    def __init__(self, data: Batches):
        self.fingerprint: str | None = None
        self._table: pa.Table | None = None
        self._file: pq.ParquetFile | None = None
        if isinstance(data, pa.Table):
            self._table = data
        elif isinstance(data, pq.ParquetFile):
            self._file = data
        elif isinstance(data, bytes | bytearray | memoryview):
            self.fingerprint = hashlib.sha256(data).hexdigest()
            self._file = pq.ParquetFile(pa.BufferReader(data), pre_buffer=False)
        elif isinstance(data, str | Path):
            h = hashlib.sha256()
            with open(data, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
            self.fingerprint = h.hexdigest()
            self._file = pq.ParquetFile(data, pre_buffer=False)
        else:
            raise TypeError(f"expected Arrow or Parquet data, got {type(data).__name__}")

    @property
    def num_rows(self) -> int:
        return self._table.num_rows if self._table is not None else self._file.metadata.num_rows

    def batches(self, ds: Dataset, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        cols = columns or ds.column_names
        schema = pa.schema([(c, ARROW_TYPES[ds.column(c).type]) for c in cols])
        if self._table is not None:
            source: Iterable[pa.RecordBatch] = self._table.select(cols).to_batches(
                max_chunksize=BATCH_ROWS
            )
        else:
            source = self._file.iter_batches(batch_size=BATCH_ROWS, columns=cols)
        for b in source:
            if b.num_rows == 0:
                continue
            if b.schema != schema:
                b = pa.RecordBatch.from_arrays(
                    [b.column(i).cast(f.type) for i, f in enumerate(schema)], schema=schema
                )
            yield b

    def periods(self, ds: Dataset) -> list[Any]:
        """Distinct period values (dates or ints), read from the period column alone."""
        found: set[Any] = set()
        for b in self.batches(ds, [ds.period.column]):
            found.update(v for v in pc.unique(b.column(0)).to_pylist() if v is not None)
        return sorted(found)


_FILL = {"int64": 0, "double": 0.0, "date32[day]": dt.date(1970, 1, 1), "bool": False}


class Digest:
    """sha256 of a batch's rows that does not depend on how they are chunked: each column's
    values, its string lengths and the positions of its nulls are three separate streams."""

    def __init__(self, ds: Dataset, mode: str):
        self._head = json.dumps([mode, [(c.name, c.type) for c in ds.columns]]).encode()
        self._values = [hashlib.sha256() for _ in ds.columns]
        self._lengths = [hashlib.sha256() for _ in ds.columns]
        self._nulls = [hashlib.sha256() for _ in ds.columns]
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        for arr, h, hl, hn in zip(
            batch.columns, self._values, self._lengths, self._nulls, strict=True
        ):
            if arr.null_count:
                valid = arr.is_valid().to_numpy(zero_copy_only=False)
                hn.update((np.flatnonzero(~valid) + self.rows).astype("<i8").tobytes())
            if pa.types.is_string(arr.type):
                arr = arr.fill_null("") if arr.null_count else arr
                hl.update(pc.binary_length(arr).to_numpy(zero_copy_only=False).tobytes())
                offsets = np.frombuffer(
                    arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4
                )
                data = arr.buffers()[2]
                if data is not None and offsets[-1] > offsets[0]:
                    h.update(memoryview(data)[offsets[0] : offsets[-1]])
            else:
                if arr.null_count:
                    arr = arr.fill_null(pa.scalar(_FILL[str(arr.type)], type=arr.type))
                h.update(arr.to_numpy(zero_copy_only=False).tobytes())
        self.rows += batch.num_rows

    def feed(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            self.add(b)
            yield b

    def hexdigest(self) -> str:
        top = hashlib.sha256(self._head)
        for h in [*self._values, *self._lengths, *self._nulls]:
            top.update(h.digest())
        return top.hexdigest()


def digest(ds: Dataset, data: Batches, mode: str) -> str:
    """The checksum `merge` records for these rows in this load mode."""
    d = Digest(ds, mode)
    for b in Source(data).batches(ds):
        d.add(b)
    return d.hexdigest()


def periods_of(ds: Dataset, table: pa.Table) -> list[str]:
    """The distinct periods in a batch, as ISO strings (years as 'YYYY')."""
    values = {v for v in table[ds.period.column].to_pylist() if v is not None}
    return sorted(_iso(v) for v in values)


# ------------------------------------------------------------------------ writing rows

# PostgreSQL's binary COPY: the types it may carry, as (type name, numpy big-endian format).
_PG_BINARY = {
    "int64": ("bigint", ">i8"),
    "double": ("double precision", ">f8"),
    "date32[day]": ("date", ">i4"),
    "bool": ("boolean", "u1"),
    "string": ("text", None),
}
_PG_EPOCH = 10_957  # days from 1970-01-01 (Arrow) to 2000-01-01 (PostgreSQL)
_NULL = b"\xff\xff\xff\xff"


def _binary_field(arr: pa.Array) -> pa.Array:
    """One column as binary COPY fields: a 4-byte big-endian length, then the value."""
    n = len(arr)
    if pa.types.is_string(arr.type):
        lengths = pc.binary_length(arr).fill_null(-1).to_numpy(zero_copy_only=False)
        prefix = lengths.astype(">i4").view(np.uint8)
        values = arr.cast(pa.binary())
    else:
        fmt = _PG_BINARY[str(arr.type)][1]
        if pa.types.is_date32(arr.type):
            arr = pc.subtract(arr.cast(pa.int32()), _PG_EPOCH)
        filled = (
            arr.fill_null(
                pa.scalar(0 if not pa.types.is_boolean(arr.type) else False, type=arr.type)
            )
            if arr.null_count
            else arr
        )
        width = np.dtype(fmt).itemsize
        block = np.empty((n, 4 + width), dtype=np.uint8)
        block[:, :4] = np.frombuffer(width.to_bytes(4, "big"), dtype=np.uint8)
        block[:, 4:] = (
            np.ascontiguousarray(filled.to_numpy(zero_copy_only=False).astype(fmt))
            .view(np.uint8)
            .reshape(n, width)
        )
        out = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(4 + width), n, [None, pa.py_buffer(block)]
        ).cast(pa.binary())
        if arr.null_count:
            out = pc.if_else(arr.is_valid(), out, pa.scalar(_NULL, pa.binary()))
        return out
    head = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4), n, [None, pa.py_buffer(prefix)])
    return pc.binary_join_element_wise(
        head.cast(pa.binary()),
        values,
        pa.scalar(b"", pa.binary()),
        null_handling="replace",
        null_replacement=b"",
    )


def _binary_rows(batch: pa.RecordBatch, tail: bytes) -> memoryview:
    """The batch as binary COPY tuples; `tail` holds the one field appended to every row
    (the load id), or nothing."""
    fields = batch.num_columns + (1 if tail else 0)
    head = pa.scalar(fields.to_bytes(2, "big"), pa.binary())
    rows = pc.binary_join_element_wise(
        head,
        *[_binary_field(c) for c in batch.columns],
        pa.scalar(tail, pa.binary()),
        pa.scalar(b"", pa.binary()),
    )
    offsets = np.frombuffer(
        rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4
    )
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]]


def _pg_binary_ok(conn: Connection, target: Table, ds: Dataset) -> bool:
    """Whether the live table's column types are exactly those binary COPY will send."""
    name = f"{target.schema}.{target.name}" if target.schema else target.name
    live = dict(
        conn.execute(
            text(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
            ),
            {"t": name},
        ).all()
    )
    want = {c.name: _PG_BINARY[str(ARROW_TYPES[c.type])][0] for c in ds.columns}
    want.update({h: "bigint" for h in HASHES}, **{LOAD_ID: "character varying"})
    return all(live.get(k) == v for k, v in want.items())


def _copy_in(
    conn: Connection,
    target: Table,
    columns: list[str],
    batches: Iterable[pa.RecordBatch],
    load_id: str | None,
    binary: bool,
) -> None:
    """COPY the batches (their `columns`, then the load id unless None) into `target`.

    Binary COPY when the table's types are the catalog's (PostgreSQL then parses nothing);
    otherwise CSV written by Arrow, which quotes every string and leaves nulls unquoted and
    empty: exactly how PostgreSQL's CSV format tells an empty string from NULL.
    """
    from psycopg import sql
    from psycopg.copy import QueuedLibpqWriter

    raw = conn.connection.driver_connection
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(
        sql.Identifier(*([target.schema] if target.schema else []), target.name),
        sql.SQL(", ").join(
            sql.Identifier(c) for c in [*columns, *([LOAD_ID] if load_id is not None else [])]
        ),
        sql.SQL("binary" if binary else "csv"),
    )
    # A worker thread sends while this one decodes and encodes the next batch: it holds at
    # most psycopg's queue (1024 chunks of 128 kB), so memory stays bounded.
    with raw.cursor() as cur, cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
        if binary:
            lid = load_id.encode() if load_id is not None else None
            tail = len(lid).to_bytes(4, "big") + lid if lid is not None else b""
            copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
            for b in batches:
                copy.write(_binary_rows(b, tail))
            copy.write(b"\xff\xff")
            return
        options = pacsv.WriteOptions(include_header=False, batch_size=BATCH_ROWS)
        ids = pa.array([load_id or ""] * BATCH_ROWS, type=pa.string())
        for b in batches:
            if load_id is not None:
                b = b.append_column(LOAD_ID, ids.slice(0, b.num_rows))
            out = pa.BufferOutputStream()
            pacsv.write_csv(b, out, options)
            copy.write(out.getvalue())


def _hashed(ds: Dataset, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches with their `key_hash` and `row_hash` columns appended."""
    for b in batches:
        kh, rh = key_hashes(b.select(ds.primary_key)), row_hashes(b)
        yield b.append_column(KEY_HASH, pa.array(kh)).append_column(ROW_HASH, pa.array(rh))


def _write(
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
        binary = created or _pg_binary_ok(conn, target, ds)
        _copy_in(conn, target, [*ds.column_names, *HASHES], batches, load_id, binary)
        return
    stmt = insert(target)
    for b in batches:
        rows = b.to_pylist()
        for r in rows:
            r[LOAD_ID] = load_id
        conn.execute(stmt, rows)


def _work_table(ds: Dataset, name: str, extra: list[Column] | None = None) -> Table:
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
    _write(conn, stg, ds, Source(table).batches(ds), load_id, created=True)
    return stg


# ------------------------------------------------------------------------ merge


def merge(
    conn: Connection, ds: Dataset, table: Batches, load_id: str, mode: str | None = None
) -> int:
    """Merge the rows into the fact table, keeping the versions they replace; returns the
    number of rows in the batch.

    `table`: an Arrow table, or the staged Parquet file (bytes, path or ParquetFile), read in
    record batches. `mode` overrides the dataset's load mode: a file of corrected rows is always
    an upsert, so it never replaces the rest of its period. Merging the same load id again with
    the same rows changes nothing; with other rows (reprocessing after a suite or parser change)
    it first undoes its earlier merge, so the load's own rows are replaced, not added to.
    """
    mode = mode or ds.load_mode
    dialect = conn.dialect.name
    started = time.perf_counter()
    fact = fact_table(ds, dialect)
    hist, log = history.ensure_for(conn, ds)
    src = Source(table)
    prev = _ledger_entry(conn, ds, load_id)
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
        _forget_unrecorded(conn, ds, fact, load_id)
    if not src.num_rows:
        return 0
    periods = src.periods(ds)
    seq = conn.execute(
        insert(log).values(
            load_id=load_id,
            dataset_id=ds.id,
            mode=mode,
            digest=checksum or "",
            source_sha256=src.fingerprint,
            rows=src.num_rows,
            periods=",".join(_iso(p) for p in periods),
            merged_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
    ).inserted_primary_key[0]
    hashing = Digest(ds, mode) if checksum is None else None
    batches = src.batches(ds)
    if hashing is not None:  # the checksum is taken while the rows are written
        batches = hashing.feed(batches)
    steps: dict[str, float] = {}
    if _touches_existing(conn, ds, fact, periods, mode):
        new, superseded = _merge_diff(
            conn, ds, fact, hist, src, batches, load_id, seq, periods, mode, steps
        )
    else:
        _write(conn, fact, ds, batches, load_id)
        new, superseded = src.num_rows, 0
    conn.execute(
        update(log)
        .where(log.c.seq == seq)
        .values(digest=checksum or hashing.hexdigest(), rows_new=new, rows_superseded=superseded)
    )
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


def _forget_unrecorded(conn: Connection, ds: Dataset, fact: Table, load_id: str) -> None:
    """Rows of this load merged before the ledger existed: replace them, nothing to restore."""
    lr = fixed_table("meta", "load_run", conn.dialect.name)
    applied = conn.execute(
        select(lr.c.rows_loaded).where(lr.c.load_id == load_id, lr.c.status.in_(APPLIED))
    ).scalar()
    if applied:
        conn.execute(delete(fact).where(fact.c[LOAD_ID] == load_id))


def _touches_existing(
    conn: Connection, ds: Dataset, fact: Table, periods: list[Any], mode: str
) -> bool:
    """Whether any fact row may change: one in the batch's periods (the period is part of the
    key, or whole periods are replaced), else any row at all."""
    pcol = ds.period.column
    q = select(literal(1)).select_from(fact)
    if pcol in ds.primary_key or mode == "replace_period":
        q = q.where(fact.c[pcol].in_(periods))
    return conn.execute(q.limit(1)).first() is not None


class Hashes(NamedTuple):
    """Key hashes and row hashes of rows, in order: two contiguous int64 arrays, so a lookup
    reads them in place (8 bytes a row each)."""

    kh: np.ndarray
    rh: np.ndarray


_LOADED = np.dtype([("tid", "V6"), ("kh", ">i8"), ("rh", ">i8")])  # tidsend || int8send x2
_LOADED_BLOCKS = 32_768  # table blocks (256 MB) per fetch: one bytea stays far below 1 GB
_LOOKUP_ROWS = 1 << 20  # incoming rows looked up at a time: bounds the lookup's temporaries


def _loaded_hashes(
    conn: Connection, ds: Dataset, fact: Table, periods: list[Any], mode: str
) -> tuple[np.ndarray, Hashes]:
    """Where each fact row this merge may change lives, and its two hashes (0 for rows loaded
    before hashes existed: they never look unchanged).

    Returns the locations (raw 6-byte ctids on PostgreSQL, rowids on SQLite) and their
    hashes. The rows are those of the batch's periods when the period is in the key or
    periods are replaced, else all of them. On PostgreSQL each range of blocks comes back as
    one bytea of fixed-width records (a TID range scan, `string_agg`), which numpy splits as
    it arrives: no per-row work in Python, and no copy of the whole answer.
    """
    pcol = ds.period.column
    narrow = pcol in ds.primary_key or mode == "replace_period"
    if conn.dialect.name != "postgresql":
        q = select(
            literal_column("rowid"),
            func.coalesce(fact.c[KEY_HASH], 0),
            func.coalesce(fact.c[ROW_HASH], 0),
        ).select_from(fact)
        if narrow:
            q = q.where(fact.c[pcol].in_(periods))
        rows = conn.execute(q).all()
        return (
            np.array([r[0] for r in rows], dtype=np.int64),
            Hashes(
                np.array([r[1] for r in rows], dtype=np.int64),
                np.array([r[2] for r in rows], dtype=np.int64),
            ),
        )
    from psycopg import sql

    name = sql.Identifier(*([fact.schema] if fact.schema else []), fact.name)
    where = (
        sql.SQL(" AND {} = ANY({})").format(sql.Identifier(pcol), sql.Literal(periods))
        if narrow
        else sql.SQL("")
    )
    stmt = sql.SQL(
        "SELECT string_agg(tidsend(ctid) || int8send(coalesce({kh}, 0)) || "
        "int8send(coalesce({rh}, 0)), ''::bytea) FROM {t} "
        "WHERE ctid >= format('(%%s,0)', %(lo)s::bigint)::tid "
        "AND ctid < format('(%%s,0)', %(hi)s::bigint)::tid{w}"
    ).format(kh=sql.Identifier(KEY_HASH), rh=sql.Identifier(ROW_HASH), t=name, w=where)
    raw = conn.connection.driver_connection
    blocks = int(
        conn.execute(
            text(
                "SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::bigint"
            ),
            {"t": _quoted(conn, fact)},
        ).scalar()
    )
    tids, khs, rhs = [], [], []
    with raw.cursor(binary=True) as cur:
        for lo in range(0, blocks + 1, _LOADED_BLOCKS):
            cur.execute(stmt, {"lo": lo, "hi": lo + _LOADED_BLOCKS})
            value = cur.fetchone()[0]
            if value:
                part = np.frombuffer(value, dtype=_LOADED)
                tids.append(part["tid"].copy())
                khs.append(part["kh"].astype(np.int64))  # big-endian to native
                rhs.append(part["rh"].astype(np.int64))
                del part, value
    if not tids:
        return np.empty(0, dtype="V6"), Hashes(np.empty(0, np.int64), np.empty(0, np.int64))
    return _joined(tids), Hashes(_joined(khs), _joined(rhs))


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate, emptying `parts` as it goes."""
    out = np.empty(sum(len(p) for p in parts), dtype=parts[0].dtype)
    at = 0
    while parts:
        p = parts.pop(0)
        out[at : at + len(p)] = p
        at += len(p)
    return out


def _incoming(ds: Dataset, src: Source, batches: Iterable[pa.RecordBatch]) -> Hashes:
    """The hashes of every incoming row, in order."""
    out = Hashes(np.empty(src.num_rows, dtype=np.int64), np.empty(src.num_rows, dtype=np.int64))
    at = 0
    for b in batches:
        n = b.num_rows
        out.kh[at : at + n] = key_hashes(b.select(ds.primary_key))
        out.rh[at : at + n] = row_hashes(b)
        at += n
    pa.default_memory_pool().release_unused()  # what decoding the file took: give it back
    return Hashes(out.kh[:at], out.rh[:at])


def _twins(new: Hashes, loaded: Hashes) -> tuple[np.ndarray, np.ndarray, bool]:
    """Which incoming and which loaded rows have an identical (kh, rh) twin on the other side.

    One hash index on the loaded key hashes (pandas' Index, about 30 bytes a row, where a hash
    join of millions of rows costs gigabytes) finds the one candidate per key hash; its row
    hash must then agree. Incoming rows are looked up a million at a time. A loaded row is
    twinned exactly when an incoming row found it, so the relation is one-to-one on both
    sides. The third value says whether the loaded key hashes are unique (no 64-bit
    collision, no rows loaded before hashes existed): only then was every candidate looked
    at. When two loaded rows share a key hash only the first is looked at, so a twin can be
    missed, never invented, and a missed twin only means a row is compared in SQL.
    """
    import pandas as pd

    twin_new = np.zeros(len(new.kh), dtype=bool)
    twin_loaded = np.zeros(len(loaded.kh), dtype=bool)
    if not len(loaded.kh) or not len(new.kh):
        return twin_new, twin_loaded, True
    index = pd.Index(loaded.kh, copy=False)
    unique = bool(index.is_unique)
    first = None
    if not unique:
        keep = ~index.duplicated()
        first, index = np.flatnonzero(keep), index[keep]
    for lo in range(0, len(new.kh), _LOOKUP_ROWS):
        at = index.get_indexer(new.kh[lo : lo + _LOOKUP_ROWS])
        found = np.flatnonzero(at >= 0)
        hit = at[found] if first is None else first[at[found]]
        del at
        same = loaded.rh[hit] == new.rh[lo + found]
        twin_new[lo + found[same]] = True
        twin_loaded[hit[same]] = True
    return twin_new, twin_loaded, unique and not (loaded.kh == 0).any()


def _unchanged(
    new: Hashes, loaded: Hashes, mode: str
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Compare the hashes of the incoming rows with those already loaded.

    Returns a mask over the incoming rows of those to send (no unchanged twin loaded); the
    indexes of the only loaded rows the merge can change: when periods are replaced, those
    without an incoming twin; for upserts, those sharing a key hash with a row sent (and rows
    without hashes); and whether the exact join can be skipped (see `_replace_direct`). When
    the hash function is not `stable`, every row is sent and no loaded row is excluded (None).
    """
    if not stable():
        return np.ones(len(new.kh), dtype=bool), None, False
    twin_new, twin_loaded, unique = _twins(new, loaded)
    send = ~twin_new
    if mode == "replace_period":
        return send, np.flatnonzero(~twin_loaded), unique
    hit = np.isin(loaded.kh, new.kh[send])
    return send, np.flatnonzero(hit | (loaded.kh == 0)), False


def _copy_tids(conn: Connection, target: Table, tids: np.ndarray) -> None:
    """COPY raw 6-byte ctids into a one-column `tid` table (binary COPY, built in numpy)."""
    from psycopg import sql

    rows = np.empty(len(tids), dtype=[("n", ">i2"), ("len", ">i4"), ("tid", "V6")])
    rows["n"], rows["len"], rows["tid"] = 1, 6, tids
    stmt = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(target.name))
    with conn.connection.driver_connection.cursor() as cur, cur.copy(stmt) as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8) + rows.tobytes() + b"\xff\xff")


def _selected(batches: Iterable[pa.RecordBatch], mask: np.ndarray) -> Iterator[pa.RecordBatch]:
    """The rows of the batches where `mask` (over all of them, in order) is true."""
    at = 0
    for b in batches:
        part = mask[at : at + b.num_rows]
        at += b.num_rows
        if part.all():
            yield b
        elif part.any():
            yield b.filter(pa.array(part))


def _merge_diff(
    conn: Connection,
    ds: Dataset,
    fact: Table,
    hist: Table,
    src: Source,
    batches: Iterable[pa.RecordBatch],
    load_id: str,
    seq: int,
    periods: list[Any],
    mode: str,
    steps: dict[str, float],
) -> tuple[int, int]:
    """Skip the rows found unchanged by hash, stage the rest, find exactly what differs, move
    the old versions to history, insert the new."""
    clock = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = now - clock[0]
        clock[0] = now

    pg = conn.dialect.name == "postgresql"
    tag = hashlib.sha256(load_id.encode()).hexdigest()[:12]
    key, cols = ds.primary_key, ds.column_names
    nonkey = [c for c in cols if c not in key]

    # 0. rows whose (key hash, row hash) pair is already loaded did not change: drop them here
    if pg:  # no other merge of this dataset moves rows (ctids) until this one commits
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:a, hashtext(:d))"),
            {"a": MERGE_LOCK_CLASS, "d": ds.id},
        )
    with ThreadPoolExecutor(1) as pool:  # the server reads while this thread hashes
        loading = pool.submit(_loaded_hashes, conn, ds, fact, periods, mode)
        new = _incoming(ds, src, batches)  # `batches` feeds the checksum
        refs, loaded = loading.result()
    send, affected, direct = _unchanged(new, loaded, mode)
    del loaded, new
    step("compare")
    if not send.any() and (mode != "replace_period" or not len(affected)):
        return 0, 0
    if direct:
        return _replace_direct(
            conn, ds, fact, hist, src, send, refs[affected], load_id, seq, tag, step
        )

    # where the old row lives: its ctid on PostgreSQL, its rowid on SQLite
    row_ref = literal_column("ctid" if pg else "rowid")
    stg = _work_table(ds, f"stg_{tag}")
    dif = _work_table(
        ds,
        f"dif_{tag}",
        [Column("_old_row", Text if pg else BigInteger), Column("_old_load", String(120))],
    )
    work = [stg, dif]
    aff = None
    if affected is not None:
        aff = Table(
            f"aff_{tag}",
            MetaData(),
            Column("_old_row", _Tid() if pg else BigInteger),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        work.append(aff)
    for t in work:
        t.drop(bind=conn, checkfirst=True)
        t.create(bind=conn)
    if pg:
        conn.execute(text(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'"))
    _write(conn, stg, ds, _selected(src.batches(ds), send), load_id, created=True)
    if aff is not None and len(affected):
        if pg:
            _copy_tids(conn, aff, refs[affected])
        else:
            conn.execute(insert(aff), [{"_old_row": int(r)} for r in refs[affected]])
    if pg:
        for t in (stg, aff):
            if t is not None:
                conn.execute(text(f"ANALYZE {_quoted(conn, t)}"))
    step("stage")

    # 1. what differs, exactly: new or changed rows (and, replacing periods, rows no longer
    # sent); only rows the hashes could not clear take part
    old_rows = select(*fact.c, row_ref.label("_old_row"))
    if aff is not None:  # only the old rows the hashes could not clear (by ctid: TID scan)
        old_rows = old_rows.where(_located(pg, select(aff.c._old_row)))
    elif mode == "replace_period":  # no hashes to trust: every row of the replaced periods
        old_rows = old_rows.where(fact.c[ds.period.column].in_(periods))
    f, s = old_rows.subquery("f"), stg
    same_key = and_(*[s.c[k] == f.c[k] for k in key])
    changed = or_(false(), *[f.c[c].is_distinct_from(s.c[c]) for c in [*nonkey, *HASHES]])
    names = [c.name for c in dif.columns]
    olds = [cast(f.c._old_row, Text) if pg else f.c._old_row, f.c[LOAD_ID]]
    news = [s.c[c] for c in [*cols, *HASHES, LOAD_ID]]
    full = mode == "replace_period" and pg  # SQLite before 3.39 has no FULL JOIN: two steps
    diff = select(*olds, *news).select_from(s.join(f, same_key, isouter=True, full=full))
    diff = diff.where(
        or_(f.c._old_row.is_(None), s.c[LOAD_ID].is_(None), changed)
        if full
        else or_(f.c._old_row.is_(None), changed)
    )
    conn.execute(insert(dif).from_select(names, diff))
    if mode == "replace_period" and not full:
        gone = select(*olds, *[literal(None) for _ in news]).where(
            ~select(literal(1)).where(same_key).exists()
        )
        conn.execute(insert(dif).from_select(names, gone))
    if pg:
        conn.execute(text(f"ANALYZE {_quoted(conn, dif)}"))
    step("diff")

    # 2. the old versions of those rows leave the fact table for history
    located = _located(pg, select(dif.c._old_row).where(dif.c._old_load.is_not(None)))
    superseded = _supersede(conn, ds, fact, hist, located, load_id, seq)
    step("history")

    # 3. the new versions go in
    new = _count(
        conn,
        insert(fact).from_select(
            [*cols, *HASHES, LOAD_ID],
            select(*[dif.c[c] for c in [*cols, *HASHES, LOAD_ID]]).where(
                dif.c[LOAD_ID].is_not(None)
            ),
        ),
    )
    step("insert")
    for t in reversed(work):
        t.drop(bind=conn)
    if pg:
        conn.execute(text("SET LOCAL work_mem TO DEFAULT"))
    return new, superseded


def _supersede(
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
        return _count(conn, insert(hist).from_select(hist_cols, moved).add_cte(gone_rows))
    moved = select(*[fact.c[c] for c in [*cols, *HASHES, LOAD_ID]], *stamp).where(
        located, fact.c[LOAD_ID] != load_id
    )
    superseded = _count(conn, insert(hist).from_select(hist_cols, moved))
    conn.execute(delete(fact).where(located))
    return superseded


def _replace_direct(
    conn: Connection,
    ds: Dataset,
    fact: Table,
    hist: Table,
    src: Source,
    send: np.ndarray,
    old: np.ndarray,
    load_id: str,
    seq: int,
    tag: str,
    step: Any,
) -> tuple[int, int]:
    """Replace periods without the exact join, when the hashes alone give its answer.

    With unique loaded key hashes the twins are one-to-one, and the join (which counts a row
    whose hashes differ as changed) would find exactly this: every row sent is new or changed,
    and every old row of the periods without a twin is changed or gone. So the old rows go to
    history by location and the rows sent are copied straight into the fact table, with no
    staging table. `test_row_hashes` checks that both paths leave the same warehouse.
    """
    pg = conn.dialect.name == "postgresql"
    if len(old):
        aff = Table(
            f"aff_{tag}",
            MetaData(),
            Column("_old_row", _Tid() if pg else BigInteger),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        aff.drop(bind=conn, checkfirst=True)
        aff.create(bind=conn)
        if pg:
            _copy_tids(conn, aff, old)
        else:
            conn.execute(insert(aff), [{"_old_row": int(r)} for r in old])
        step("stage")
        superseded = _supersede(
            conn, ds, fact, hist, _located(pg, select(aff.c._old_row)), load_id, seq
        )
        aff.drop(bind=conn)
    else:
        superseded = 0
    step("history")
    _write(conn, fact, ds, _selected(src.batches(ds), send), load_id)
    step("insert")
    return int(send.sum()), superseded


def _located(pg: bool, refs: Any) -> Any:
    """Rows whose location (ctid as text on PostgreSQL, rowid on SQLite) `refs` selects; on
    PostgreSQL as one tid[] so the planner uses a TID scan, not a join."""
    if not pg:
        return literal_column("rowid").in_(refs)
    sub = refs.subquery()
    tids = select(func.array_agg(list(sub.c)[0]))
    return literal_column("ctid") == func.any(cast(tids.scalar_subquery(), _TidArray()))


class _Tid(UserDefinedType):
    """PostgreSQL's tid: a row's location."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid"


class _TidArray(UserDefinedType):
    """PostgreSQL's tid[]: row locations, for a TID scan instead of a second join."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid[]"


def _count(conn: Connection, stmt: Any) -> int:
    """Execute; the number of rows written (SQLAlchemy keeps it for INSERT only on request)."""
    return conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def _quoted(conn: Connection, t: Table) -> str:
    prep = conn.dialect.identifier_preparer
    return prep.format_table(t)


# ------------------------------------------------------------------------ undoing a load


def _ledger_entry(conn: Connection, ds: Dataset, load_id: str) -> Any:
    log = history.merge_log_table(conn.dialect.name)
    return (
        conn.execute(select(log).where(log.c.dataset_id == ds.id, log.c.load_id == load_id))
        .mappings()
        .first()
    )


def blockers(conn: Connection, ds: Dataset, load_id: str) -> list[str]:
    """Later loads that must be undone before `load_id` can be: they superseded rows it wrote,
    re-filled keys it vacated, or replaced one of its periods again. Oldest first."""
    dialect = conn.dialect.name
    fact, hist = fact_table(ds, dialect), history.history_table(ds, dialect)
    log = history.merge_log_table(dialect)
    entry = _ledger_entry(conn, ds, load_id)
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
            if r.mode == "replace_period" and mine_periods & set((r.periods or "").split(",")):
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
    entry = _ledger_entry(conn, ds, load_id)
    mine = [hist.c[history.SUPERSEDED_BY] == load_id]
    if entry is not None:
        mine.append(hist.c[history.SUPERSEDED_SEQ] == entry["seq"])
    cols = [*ds.column_names, *HASHES, LOAD_ID]
    restored_from = sorted(
        r[0] for r in conn.execute(select(hist.c[LOAD_ID]).where(*mine).distinct())
    )
    removed = conn.execute(delete(fact).where(fact.c[LOAD_ID] == load_id)).rowcount
    restored = _count(
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
