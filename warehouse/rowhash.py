"""64-bit hashes of fact rows, so a merge finds unchanged rows without sending them again.

Every fact row stores `row_hash`, a hash of all its catalog columns (key included) computed
here when the row is written. A later merge hashes the incoming rows the same way and compares
(key hash, row hash) pairs with those of the rows already loaded: a pair found on both sides is
a row that did not change, and it is neither staged nor rewritten. Everything else (new keys,
changed rows, rows a re-sent period no longer has) is rewritten: through the exact SQL
comparison in `loader`, or, when the loaded key hashes are unique and periods are replaced,
directly, because that comparison would then give the same answer. Calling an
unchanged row changed costs a rewrite; the converse needs two 64-bit collisions at once.

Polars' `hash_rows` does the hashing: vectorised, null-aware (NULL and '' differ), and the
same in every process for fixed seeds. Polars does not promise the same values across its
versions, so `stable()` hashes a fixed probe and compares it with the values recorded here.
When they differ (polars was upgraded and hashes differently), merges skip nothing and compare
every row exactly, as they would without hashes, and say so in the log; update `PROBE` with a
migration that recomputes the stored hashes to get the fast path back.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

ROW_SEEDS = (0x16_06_2026, 0x5A7D_A7A, 0x39_2019, 0x27_2022)
KEY_SEEDS = (0x16_03_2026, 0x5E_1A5A, 0x0B_1A1A, 0x0C_0FFE)


def _hash(data: pa.RecordBatch | pa.Table, seeds: tuple[int, int, int, int]) -> np.ndarray:
    if data.num_rows == 0:
        return np.empty(0, dtype=np.int64)
    frame = pl.from_arrow(
        pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    )
    assert isinstance(frame, pl.DataFrame)  # a Table becomes a DataFrame, never a Series
    a, b, c, d = seeds
    return frame.hash_rows(seed=a, seed_1=b, seed_2=c, seed_3=d).to_numpy().view(np.int64)


def row_hashes(data: pa.RecordBatch | pa.Table) -> np.ndarray:
    """One signed 64-bit hash per row (bigint in the warehouse), over every column given."""
    return _hash(data, ROW_SEEDS)


def key_hashes(data: pa.RecordBatch | pa.Table) -> np.ndarray:
    """One 64-bit hash per row of the key columns given, with seeds of its own."""
    return _hash(data, KEY_SEEDS)


# What ROW_SEEDS / KEY_SEEDS give for the probe below with the pinned polars (requirements.txt).
PROBE = (
    [7598947733099443178, -549372688170293319, -6060178724060917137],
    [-501107627899100880, -7118253576214267552, -4716131716946716816],
)


def _probe() -> pa.RecordBatch:
    columns: dict[str, pa.Array[Any]] = {
        "s": pa.array(["16.06.01", "", None]),
        "i": pa.array([2025, None, -1], pa.int64()),
        "f": pa.array([1.5, None, 0.0]),
        "b": pa.array([True, None, False]),
        "d": pa.array([dt.date(2026, 1, 1), None, dt.date(1970, 1, 1)]),
    }
    return pa.record_batch(columns)


@functools.cache
def stable() -> bool:
    """Whether hashes computed now equal those stored by earlier loads (the probe agrees)."""
    b = _probe()
    ok = (row_hashes(b).tolist(), key_hashes(b.select(["s", "i"])).tolist()) == PROBE
    if not ok:
        logging.getLogger(__name__).warning(
            "row hashes differ from those recorded (polars %s): merges compare every row in "
            "full until the stored hashes are recomputed",
            pl.__version__,
        )
    return ok
