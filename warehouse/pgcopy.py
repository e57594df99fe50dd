"""PostgreSQL's COPY, fed from Arrow: binary COPY tuples built in numpy and Arrow compute (or
CSV written by Arrow when the live column types are not the catalog's), and raw ctids.

psycopg is imported when a COPY runs, never on import: SQLite deployments need none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _binary_field(arr: pa.Array[Any]) -> pa.Array[Any]:
    """One column as binary COPY fields: a 4-byte big-endian length, then the value."""
    n = len(arr)
    if pa.types.is_string(arr.type):
        lengths = (
            pc.binary_length(cast(pa.StringArray, arr)).fill_null(-1).to_numpy(zero_copy_only=False)
        )
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
            pa.binary(4 + width),
            n,
            [None, pa.py_buffer(block)],  # type: ignore[arg-type]  # stub: ndarray has the buffer protocol
        ).cast(pa.binary())
        if arr.null_count:
            out = pc.if_else(arr.is_valid(), out, pa.scalar(_NULL, pa.binary()))
        return out
    head = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4),
        n,
        [None, pa.py_buffer(prefix)],  # type: ignore[arg-type]  # stub: ndarray has the buffer protocol
    )
    # stub: null_replacement is typed str, but a binary join takes (and needs) bytes
    joined = pc.binary_join_element_wise(  # type: ignore[call-overload]
        head.cast(pa.binary()),
        values,
        pa.scalar(b"", pa.binary()),
        null_handling="replace",
        null_replacement=b"",
    )
    return cast("pa.Array[Any]", joined)


def _binary_rows(batch: pa.RecordBatch, tail: bytes) -> memoryview:
    """The batch as binary COPY tuples; `tail` holds the one field appended to every row
    (the load id), or nothing."""
    fields = batch.num_columns + (1 if tail else 0)
    head = pa.scalar(fields.to_bytes(2, "big"), pa.binary())
    # stub: the overloads take all scalars or all arrays; Arrow broadcasts scalars among arrays
    rows = pc.binary_join_element_wise(  # type: ignore[call-overload]
        head,
        *[_binary_field(c) for c in batch.columns],
        pa.scalar(tail, pa.binary()),
        pa.scalar(b"", pa.binary()),
    )
    offsets = np.frombuffer(
        rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4
    )
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]]


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
            lid = load_id.encode() if load_id is not None else None
            tail = len(lid).to_bytes(4, "big") + lid if lid is not None else b""
            copy.write(_HEADER)
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
            copy.write(out.getvalue())  # type: ignore[arg-type]  # stub: any buffer works


def copy_tids(conn: Connection, target: Table, tids: np.ndarray) -> None:
    """COPY raw 6-byte ctids into a one-column `tid` table (binary COPY, built in numpy)."""
    from psycopg import sql

    rows = np.empty(len(tids), dtype=[("n", ">i2"), ("len", ">i4"), ("tid", "V6")])
    rows["n"], rows["len"], rows["tid"] = 1, 6, tids
    stmt = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.Identifier(target.name))
    with driver(conn).cursor() as cur, cur.copy(stmt) as copy:
        copy.write(_HEADER + rows.tobytes() + b"\xff\xff")
