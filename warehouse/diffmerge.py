"""The merge into a fact table that already has rows the batch may touch: skip the rows the
hashes find unchanged, stage the rest in temporary tables, let one join decide exactly what
differs (new keys, changed rows and, for `replace_period`, rows of those periods the batch no
longer has), move the old versions to history and insert the new. Upserts and
`replace_period` share this path; `replace_period` with unique loaded key hashes skips the
join (`replace.replace_direct`)."""

from __future__ import annotations

import hashlib
import time
import typing
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Column,
    String,
    Table,
    Text,
    and_,
    cast,
    false,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnClause

from serasan.common.enums import LoadMode
from serasan.config.catalog import Dataset
from serasan.warehouse.batches import Source, selected
from serasan.warehouse.bulk import work_table, write
from serasan.warehouse.facts import HASHES, LOAD_ID
from serasan.warehouse.hashdiff import incoming, loaded_hashes, unchanged
from serasan.warehouse.pgcopy import copy_tids
from serasan.warehouse.replace import replace_direct
from serasan.warehouse.sqlutil import quoted, rowcount
from serasan.warehouse.supersede import located, supersede, tid_table

MERGE_WORK_MEM = "256MB"  # lets the diff join hash a period in memory (this transaction only)


def merge_diff(
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

    # 0. rows whose (key hash, row hash) pair is already loaded did not change: drop them here.
    # `merge` holds the dataset's lock (`ledger.lock`): no other merge of this dataset moves
    # rows (ctids) until this one commits
    with ThreadPoolExecutor(1) as pool:  # the server reads while this thread hashes
        loading = pool.submit(loaded_hashes, conn, ds, fact, periods, mode)
        new = incoming(ds, src, batches)  # `batches` feeds the checksum
        refs, loaded = loading.result()
    send, affected, direct = unchanged(new, loaded, mode)
    del loaded, new
    step("compare")
    # `affected` is None only when every row is sent (hashes not `stable`)
    if not send.any() and (
        mode != LoadMode.REPLACE_PERIOD or not len(typing.cast(np.ndarray, affected))
    ):
        return 0, 0
    if direct:
        return replace_direct(
            conn, ds, fact, hist, src, send, refs[affected], load_id, seq, tag, step
        )

    # where the old row lives: its ctid on PostgreSQL, its rowid on SQLite
    row_ref: ColumnClause[Any] = literal_column("ctid" if pg else "rowid")
    stg = work_table(ds, f"stg_{tag}")
    dif = work_table(
        ds,
        f"dif_{tag}",
        [Column("_old_row", Text if pg else BigInteger), Column("_old_load", String(120))],
    )
    work = [stg, dif]
    aff = None
    if affected is not None:
        aff = tid_table(f"aff_{tag}", pg)
        work.append(aff)
    for t in work:
        t.drop(bind=conn, checkfirst=True)
        t.create(bind=conn)
    if pg:
        conn.execute(text(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'"))
    write(conn, stg, ds, selected(src.batches(ds), send), load_id, created=True)
    if aff is not None and len(typing.cast(np.ndarray, affected)):
        if pg:
            copy_tids(conn, aff, refs[affected])
        else:
            conn.execute(insert(aff), [{"_old_row": int(r)} for r in refs[affected]])
    if pg:
        for analysed in (stg, aff):
            if analysed is not None:
                conn.execute(text(f"ANALYZE {quoted(conn, analysed)}"))
    step("stage")

    # 1. what differs, exactly: new or changed rows (and, replacing periods, rows no longer
    # sent); only rows the hashes could not clear take part
    old_rows = select(*fact.c, row_ref.label("_old_row"))
    if aff is not None:  # only the old rows the hashes could not clear (by ctid: TID scan)
        old_rows = old_rows.where(located(pg, select(aff.c._old_row)))
    elif mode == LoadMode.REPLACE_PERIOD:  # no hashes to trust: every row of the replaced periods
        old_rows = old_rows.where(fact.c[ds.period.column].in_(periods))
    f, s = old_rows.subquery("f"), stg
    same_key = and_(*[s.c[k] == f.c[k] for k in key])
    changed = or_(false(), *[f.c[c].is_distinct_from(s.c[c]) for c in [*nonkey, *HASHES]])
    names = [c.name for c in dif.columns]
    olds = [cast(f.c._old_row, Text) if pg else f.c._old_row, f.c[LOAD_ID]]
    news = [s.c[c] for c in [*cols, *HASHES, LOAD_ID]]
    full = mode == LoadMode.REPLACE_PERIOD and pg  # SQLite before 3.39 has no FULL JOIN: two steps
    diff = select(*olds, *news).select_from(s.join(f, same_key, isouter=True, full=full))
    diff = diff.where(
        or_(f.c._old_row.is_(None), s.c[LOAD_ID].is_(None), changed)
        if full
        else or_(f.c._old_row.is_(None), changed)
    )
    conn.execute(insert(dif).from_select(names, diff))
    if mode == LoadMode.REPLACE_PERIOD and not full:
        gone = select(*olds, *[literal(None) for _ in news]).where(
            ~select(literal(1)).where(same_key).exists()
        )
        conn.execute(insert(dif).from_select(names, gone))
    if pg:
        conn.execute(text(f"ANALYZE {quoted(conn, dif)}"))
    step("diff")

    # 2. the old versions of those rows leave the fact table for history
    moving = located(pg, select(dif.c._old_row).where(dif.c._old_load.is_not(None)))
    superseded = supersede(conn, ds, fact, hist, moving, load_id, seq)
    step("history")

    # 3. the new versions go in
    inserted = rowcount(
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
    return inserted, superseded
