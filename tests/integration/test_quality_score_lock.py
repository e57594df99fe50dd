"""The per-OPD quality score under concurrent loads, on a real PostgreSQL.

Two loads of different datasets of one OPD hold different dataset locks, so both can reach the
score recompute together, each with its own `meta.load_run` row not yet committed. Without a
lock, each computes the score from its own load only and the one committing last wins (or
fails on the primary key). `serasan.quality.scores.recompute` takes a transaction-level
advisory lock per (regency, OPD) first: the second waits for the first to commit, then reads
both loads.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from serasan.config.catalog import Catalog
from serasan.quality import scores
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.ledger import MERGE_LOCK_CLASS
from serasan.warehouse.tables import table

REGENCY, OPD = "16.06", "dlh"
DATASETS = ("muba_bank_sampah", "muba_pengunjung_taman_air")  # the two datasets of 16.06 dlh
DAY = dt.date(2026, 10, 1)
# (rows in, rows failing, expectations passed of 3) per load
LOADS = {"muba_bank_sampah": (200, 20, 2), "muba_pengunjung_taman_air": (300, 0, 3)}


@pytest.fixture
def wh(pg_url: str, catalog: Catalog) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    upgrade(engine, catalog)
    yield engine
    engine.dispose()


def _record_load(conn: Connection, dataset_id: str) -> None:
    """What a load writes before it recomputes the score: its load_run and DQ results."""
    rows_in, failing, passed = LOADS[dataset_id]
    lr, dq = table("meta", "load_run", "postgresql"), table("meta", "dq_result", "postgresql")
    load_id = f"{dataset_id}-{'0' * 16}"
    conn.execute(
        lr.insert().values(
            load_id=load_id,
            dataset_id=dataset_id,
            regency=REGENCY,
            opd=OPD,
            raw_key=f"raw/{dataset_id}/x/file.csv",
            sha256="0" * 64,
            size_bytes=1,
            logical_date=DAY,
            status="quarantined" if failing else "loaded",
            rows_in=rows_in,
            rows_loaded=rows_in - failing,
            rows_rejected=failing,
            rows_failing=failing,
        )
    )
    conn.execute(
        dq.insert(),
        [
            {
                "load_id": load_id,
                "seq": seq,
                "dataset_id": dataset_id,
                "expectation_type": "expect_column_values_to_not_be_null",
                "success": seq < passed,
                "unexpected_count": 0 if seq < passed else failing,
                "element_count": rows_in,
            }
            for seq in range(3)
        ],
    )


def _stored(wh: Engine) -> list[dict[str, Any]]:
    qs = table("meta", "quality_score", "postgresql")
    with wh.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(qs))]


def _waiting_for_score_lock(wh: Engine) -> bool:
    """A session waits (not granted) for an advisory lock of the score's class."""
    with wh.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted AND classid::bigint = :c"
                ),
                {"c": scores.SCORE_LOCK_CLASS},
            ).scalar()
        )


def _until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not seen in {timeout} s: {what}"
        time.sleep(0.02)


def test_two_recomputes_of_one_opd_end_as_the_sequential_result(wh: Engine) -> None:
    barrier = threading.Barrier(2)
    first_scored, release = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}
    seen: dict[str, dict[str, Any]] = {}

    def load(dataset_id: str, first: bool) -> None:
        try:
            with wh.begin() as conn:
                _record_load(conn, dataset_id)
                barrier.wait(timeout=30)  # both loads recorded, neither committed
                if not first:  # the other holds the OPD's lock and has not committed
                    assert first_scored.wait(30)
                seen[dataset_id] = scores.recompute(conn, REGENCY, OPD, DAY)
                if first:
                    first_scored.set()
                    assert release.wait(30), "never released"
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors[dataset_id] = exc
            barrier.abort()
            first_scored.set()

    a, b = DATASETS
    threads = [
        threading.Thread(target=load, args=(a, True), name="A"),
        threading.Thread(target=load, args=(b, False), name="B"),
    ]
    for t in threads:
        t.start()
    assert first_scored.wait(30)
    # B is blocked on the OPD's score lock while A's transaction is open
    _until(lambda: _waiting_for_score_lock(wh), "B waiting for the OPD's score lock")
    assert b not in seen
    release.set()
    for t in threads:
        t.join(60)
    assert errors == {}, errors

    # A scored its own load only (B's was not committed); B, after waiting, scored both
    assert seen[a]["datasets"] == 1 and seen[b]["datasets"] == 2
    [stored] = _stored(wh)
    rows_in = sum(v[0] for v in LOADS.values())
    rows_passed = sum(v[0] - v[1] for v in LOADS.values())
    passed = sum(v[2] for v in LOADS.values())
    assert stored == {
        "regency": REGENCY,
        "opd": OPD,
        "period": "2026-10",
        "datasets": 2,
        "rows_in": rows_in,
        "rows_passed": rows_passed,
        "expectations": 6,
        "expectations_passed": passed,
        "score_rows": round(100.0 * rows_passed / rows_in, 2),
        "score_expectations": round(100.0 * passed / 6, 2),
    }
    # and it is what a recompute after both commits (the sequential order) gives
    with wh.begin() as conn:
        assert scores.recompute(conn, REGENCY, OPD, DAY) == stored
    assert _stored(wh) == [stored]


def test_the_lock_key_is_per_regency_and_opd(wh: Engine) -> None:
    keys = {
        scores.lock_key(REGENCY, OPD),
        scores.lock_key(REGENCY, "disbun"),
        scores.lock_key("16.03", OPD),
    }
    assert len(keys) == 3
    with wh.connect() as conn:
        hashed = {conn.execute(text("SELECT hashtext(:k)"), {"k": k}).scalar() for k in keys}
    assert len(hashed) == 3
    # while one session holds 16.06 dlh's lock, another takes 16.06 disbun's and 16.03 dlh's at
    # once, and waits for 16.06 dlh's until its lock_timeout runs out
    with wh.connect() as holder, holder.begin():
        scores.lock(holder, REGENCY, OPD)
        with wh.connect() as other, other.begin():
            other.execute(text("SET LOCAL lock_timeout = '500ms'"))
            scores.lock(other, REGENCY, "disbun")
            scores.lock(other, "16.03", OPD)
            started = time.monotonic()
            with pytest.raises(OperationalError) as waited:
                scores.lock(other, REGENCY, OPD)
            assert getattr(waited.value.orig, "sqlstate", None) == "55P03"  # lock_not_available
            assert time.monotonic() - started >= 0.4
    # its class is not the dataset lock's: a score never waits for a load of a dataset whose
    # name hashes alike
    assert scores.SCORE_LOCK_CLASS != MERGE_LOCK_CLASS
    # released at the end of the holder's transaction
    with wh.connect() as again, again.begin():
        again.execute(text("SET LOCAL lock_timeout = '500ms'"))
        scores.lock(again, REGENCY, OPD)
