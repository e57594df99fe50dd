"""PostgreSQL's COPY, fed from Arrow: binary COPY tuples built in numpy and Arrow compute (or
CSV written by Arrow when the live column types are not the catalog's), and raw ctids.

psycopg is imported when a COPY runs, never on import: SQLite deployments need none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

from serasan.common.arrow import ARROW_TYPES
from serasan.config.catalog import Dataset
from serasan.warehouse.batches import BATCH_ROWS
from serasan.warehouse.facts import HASHES, LOAD_ID

if TYPE_CHECKING:
    import psycopg

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
_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # binary COPY's signature, flags, extension area


def driver(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy connection to PostgreSQL."""
    return cast("psycopg.Connection[Any]", conn.connection.driver_connection)


def _values(arr: pa.Array[Any]) -> np.ndarray:
    """A fixed-width column without nulls as PostgreSQL's binary values: (rows, width) bytes."""
    fmt = _PG_BINARY[str(arr.type)][1]
    if pa.types.is_date32(arr.type):
        arr = pc.subtract(arr.cast(pa.int32()), _PG_EPOCH)
    values = np.ascontiguousarray(arr.to_numpy(zero_copy_only=False).astype(fmt))
    return values.view(np.uint8).reshape(len(arr), np.dtype(fmt).itemsize)


def _fixed(parts: list[np.ndarray], n: int) -> pa.Array[Any]:
    """Parts of the same width in every row, side by side, as one binary array: each part is
    (rows, width) bytes, or (1, width) bytes repeated in every row."""
    width = sum(p.shape[1] for p in parts)
    block = np.empty((n, width), dtype=np.uint8)
    at = 0
    for p in parts:
        block[:, at : at + p.shape[1]] = p
        at += p.shape[1]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(),
        n,
        [None, pa.py_buffer(offsets), pa.py_buffer(block)],  # type: ignore[arg-type]  # stub: ndarray has the buffer protocol
    )


def _const(value: bytes) -> np.ndarray:
    return np.frombuffer(value, dtype=np.uint8).reshape(1, len(value))


def _nullable(arr: pa.Array[Any]) -> pa.Array[Any]:
    """A fixed-width column with nulls as binary COPY fields: length and value, or -1."""
    filled = arr.fill_null(
        pa.scalar(0 if not pa.types.is_boolean(arr.type) else False, type=arr.type)
    )
    values = _values(filled)
    width = values.shape[1]
    out = _fixed([_const(width.to_bytes(4, "big")), values], len(arr))
    return cast("pa.Array[Any]", pc.if_else(arr.is_valid(), out, pa.scalar(_NULL, pa.binary())))


def _binary_rows(batch: pa.RecordBatch, tail: bytes) -> memoryview:
    """The batch as binary COPY tuples; `tail` holds the one field appended to every row
    (the load id), or nothing.

    Fields of the same width in every row (the field count, a string's length, numbers and
    dates without nulls, the load id) are laid side by side in numpy blocks; one Arrow join
    then puts the blocks and the variable parts (string values, columns with nulls) in row
    order. Each byte is copied once into a block and once by the join.
    """
    n = batch.num_rows
    fields = batch.num_columns + (1 if tail else 0)
    pieces: list[pa.Array[Any]] = []
    run = [_const(fields.to_bytes(2, "big"))]
    for arr in batch.columns:
        if pa.types.is_string(arr.type):
            lengths = pc.binary_length(cast(pa.StringArray, arr)).fill_null(-1)
            run.append(
                lengths.to_numpy(zero_copy_only=False).astype(">i4").view(np.uint8).reshape(n, 4)
            )
            pieces += [_fixed(run, n), arr.cast(pa.binary())]  # a null value joins as b""
            run = []
        elif arr.null_count:
            if run:
                pieces.append(_fixed(run, n))
            pieces.append(_nullable(arr))
            run = []
        else:
            values = _values(arr)
            run += [_const(values.shape[1].to_bytes(4, "big")), values]
    if tail:
        run.append(_const(tail))
    if run:
        pieces.append(_fixed(run, n))
    # stub: null_replacement is typed str, but a binary join takes (and needs) bytes
    rows = pc.binary_join_element_wise(  # type: ignore[call-overload]
        *pieces,
        pa.scalar(b"", pa.binary()),
        null_handling="replace",
        null_replacement=b"",
    )
    offsets = np.frombuffer(
        rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4
    )
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]]


def binary_copy(
    batches: Iterable[pa.RecordBatch], load_id: str | None
) -> Iterator[bytes | memoryview]:
    """The whole binary COPY stream of the batches (then the load id unless None): header,
    one chunk of tuples per batch, trailer. `copy_in` sends exactly this."""
    lid = load_id.encode() if load_id is not None else None
    tail = len(lid).to_bytes(4, "big") + lid if lid is not None else b""
    yield _HEADER
    for b in batches:
        yield _binary_rows(b, tail)
    yield b"\xff\xff"


def binary_ok(conn: Connection, target: Table, ds: Dataset) -> bool:
    """Whether the live table's column types are exactly those binary COPY will send."""
    name = f"{target.schema}.{target.name}" if target.schema else target.name
    live: dict[str, str] = dict(
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


def copy_in(
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

    raw = driver(conn)
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
            for chunk in binary_copy(batches, load_id):
                copy.write(chunk)
            return
        options = pacsv.WriteOptions(include_header=False, batch_size=BATCH_ROWS)
        ids = pa.array([load_id or ""] * BATCH_ROWS, type=pa.string())
        for b in batches:
            if load_id is not None:
                b = b.append_column(LOAD_ID, ids.slice(0, b.num_rows))
            out = pa.BufferOutputStream()
            pacsv.write_csv(b, out, options)
            copy.write(out.getvalue())  # type: ignore[arg-type]  # stub: any buffer works


def copy_tids(conn: Connection, target: Table, tids: np.ndarray) -> None:
    """COPY raw 6-byte ctids into a one-column `tid` table (binary COPY, built in numpy)."""
    from psycopg import sql

    rows = np.empty(len(tids), dtype=[("n", ">i2"), ("len", ">i4"), ("tid", "V6")])
    rows["n"], rows["len"], rows["tid"] = 1, 6, tids
    stmt = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(target.name))
    with driver(conn).cursor() as cur, cur.copy(stmt) as copy:
        copy.write(_HEADER + rows.tobytes() + b"\xff\xff")
