"""The hash comparison: which incoming rows have an unchanged twin already loaded, and which
loaded rows a merge may change, from (key hash, row hash) pairs alone (see `rowhash`).

The loaded pairs come back from the server as fixed-width bytes (PostgreSQL) while this thread
hashes the incoming rows; numpy and one pandas hash index compare them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple, cast

import numpy as np
import pyarrow as pa
from sqlalchemy import Select, Table, func, literal_column, select, text
from sqlalchemy.engine import Connection

from serasan.common.enums import LoadMode
from serasan.config.catalog import Dataset
from serasan.warehouse.batches import Source
from serasan.warehouse.facts import KEY_HASH, ROW_HASH
from serasan.warehouse.pgcopy import driver
from serasan.warehouse.rowhash import key_hashes, row_hashes, stable
from serasan.warehouse.sqlutil import quoted


class Hashes(NamedTuple):
    """Key hashes and row hashes of rows, in order: two contiguous int64 arrays, so a lookup
    reads them in place (8 bytes a row each)."""

    kh: np.ndarray
    rh: np.ndarray


_LOADED = np.dtype([("tid", "V6"), ("kh", ">i8"), ("rh", ">i8")])  # tidsend || int8send x2
_LOADED_BLOCKS = 32_768  # table blocks (256 MB) per fetch: one bytea stays far below 1 GB
_LOOKUP_ROWS = 1 << 20  # incoming rows looked up at a time: bounds the lookup's temporaries


def loaded_hashes(
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
    narrow = pcol in ds.primary_key or mode == LoadMode.REPLACE_PERIOD
    if conn.dialect.name != "postgresql":
        q: Select[Any, Any, Any] = select(
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
    raw = driver(conn)
    blocks = int(
        cast(
            int,
            conn.execute(
                text(
                    "SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::bigint"
                ),
                {"t": quoted(conn, fact)},
            ).scalar(),
        )
    )
    tids, khs, rhs = [], [], []
    with raw.cursor(binary=True) as cur:
        for lo in range(0, blocks + 1, _LOADED_BLOCKS):
            cur.execute(stmt, {"lo": lo, "hi": lo + _LOADED_BLOCKS})
            value = cast("tuple[Any]", cur.fetchone())[0]  # an aggregate: one row
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


def incoming(ds: Dataset, src: Source, batches: Iterable[pa.RecordBatch]) -> Hashes:
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


def unchanged(new: Hashes, loaded: Hashes, mode: str) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Compare the hashes of the incoming rows with those already loaded.

    Returns a mask over the incoming rows of those to send (no unchanged twin loaded); the
    indexes of the only loaded rows the merge can change: when periods are replaced, those
    without an incoming twin; for upserts, those sharing a key hash with a row sent (and rows
    without hashes); and whether the exact join can be skipped (see `replace.replace_direct`).
    When the hash function is not `stable`, every row is sent and no loaded row is excluded
    (None).
    """
    if not stable():
        return np.ones(len(new.kh), dtype=bool), None, False
    twin_new, twin_loaded, unique = _twins(new, loaded)
    send = ~twin_new
    if mode == LoadMode.REPLACE_PERIOD:
        return send, np.flatnonzero(~twin_loaded), unique
    hit = np.isin(loaded.kh, new.kh[send])
    return send, np.flatnonzero(hit | (loaded.kh == 0)), False
