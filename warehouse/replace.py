"""`replace_period` without the exact join, when the hashes alone give its answer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from serasan.config.catalog import Dataset
from serasan.warehouse.batches import Source, selected
from serasan.warehouse.bulk import write
from serasan.warehouse.pgcopy import copy_tids
from serasan.warehouse.supersede import located, supersede, tid_table


def replace_direct(
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
    step: Callable[[str], None],
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
        aff = tid_table(f"aff_{tag}", pg)
        aff.drop(bind=conn, checkfirst=True)
        aff.create(bind=conn)
        if pg:
            copy_tids(conn, aff, old)
        else:
            conn.execute(insert(aff), [{"_old_row": int(r)} for r in old])
        step("stage")
        superseded = supersede(
            conn, ds, fact, hist, located(pg, select(aff.c._old_row)), load_id, seq
        )
        aff.drop(bind=conn)
    else:
        superseded = 0
    step("history")
    write(conn, fact, ds, selected(src.batches(ds), send), load_id)
    step("insert")
    return int(send.sum()), superseded
