"""Row hashes let a merge skip unchanged rows; they must never change what the merge does.

On both backends: the fast path (hashes) and the exact path (every row compared in SQL) leave
the same fact table, history and ledger counts; rows loaded before hashes existed merge
exactly; and `warehouse upgrade` adds the hash columns to tables built without them.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from sqlalchemy import inspect, select, text, update

from serasan.config.catalog import Catalog
from serasan.warehouse import bulk, hashdiff, loader, rowhash
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import HASHES, KEY_HASH, LOAD_ID, ROW_HASH, fact_table
from serasan.warehouse.history import SUPERSEDED_SEQ, history_table, merge_log_table

DS = "muaraenim_timbulan_sampah"  # replace_period; key (periode, kode_kecamatan)
JAN, FEB = dt.date(2026, 1, 1), dt.date(2026, 2, 1)


def _rows(period: dt.date, n: int, bump: set[int] = frozenset(), start: int = 0) -> list[dict]:
    return [
        {
            "periode": period,
            "kode_kecamatan": f"16.03.{i:03d}",
            "timbulan_ton": float(i) + (0.5 if i in bump else 0.0),
            "terkelola_ton": None if i % 7 == 0 else float(i) / 2,
        }
        for i in range(start, n)
    ]


def _batch(ds, rows: list[dict]) -> pa.Table:  # noqa: ANN001
    from serasan.common.arrow import ARROW_TYPES

    schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in ds.columns])
    return pa.Table.from_pylist(rows, schema=schema)


V1 = _rows(JAN, 200) + _rows(FEB, 50)
# January again: 18 values changed (every tenth row below 180), rows 180-199 dropped,
# 200-229 new, the rest identical
V2 = _rows(JAN, 180, bump=set(range(0, 200, 10))) + _rows(JAN, 230, start=200)


def _state(engine, ds) -> tuple[list, list, dict]:  # noqa: ANN001
    d = engine.dialect.name
    fact, hist, log = fact_table(ds, d), history_table(ds, d), merge_log_table(d)
    with engine.connect() as conn:
        f = sorted(tuple(r) for r in conn.execute(select(fact)))
        h = sorted(
            tuple(v for k, v in r._mapping.items() if k != SUPERSEDED_SEQ)
            for r in conn.execute(select(hist))
        )
        ledger = {
            r.load_id: (r.rows_new, r.rows_superseded)
            for r in conn.execute(select(log).where(log.c.dataset_id == ds.id))
        }
    return f, h, ledger


def _load(engine, ds, rows: list[dict], load_id: str, mode: str | None = None) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        loader.merge(conn, ds, _batch(ds, rows), load_id, mode=mode)


def test_the_hash_probe_matches_the_pinned_polars() -> None:
    assert rowhash.stable()
    t = pa.table({"a": ["x", "", None, "y"], "b": pa.array([1, 1, 1, None], pa.int64())})
    whole = rowhash.row_hashes(t)
    parts = [rowhash.row_hashes(b) for b in t.to_batches(max_chunksize=3)]
    assert whole.tolist() == [v for p in parts for v in p.tolist()]  # chunking changes nothing
    assert len(set(whole.tolist())) == 4  # '' and NULL differ


@pytest.mark.parametrize("mode", ["replace_period", "upsert"])
def test_fast_and_exact_paths_leave_the_same_warehouse(
    engine,
    catalog: Catalog,
    mode: str,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upgrade(engine, catalog)
    ds = catalog.dataset(DS)
    _load(engine, ds, V1, "v1", mode)
    _load(engine, ds, V2, "v2", mode)
    fast = _state(engine, ds)
    jan_v1 = {r["kode_kecamatan"] for r in V1 if r["periode"] == JAN}
    kept = {r[1] for r in fast[0] if r[0] == JAN}
    assert kept == ({r["kode_kecamatan"] for r in V2} | (jan_v1 if mode == "upsert" else set()))
    # identical rows were neither staged nor rewritten: they keep v1's load id
    by_code = {r[1]: r for r in fast[0] if r[0] == JAN}
    assert by_code["16.03.001"][-1] == "v1" and by_code["16.03.010"][-1] == "v2"
    assert fast[2]["v2"] == (18 + 30, 18 + (20 if mode == "replace_period" else 0))

    with engine.begin() as conn:
        loader.unwind(conn, ds, "v2")
    monkeypatch.setattr(hashdiff, "stable", lambda: False)  # as if polars hashed differently
    _load(engine, ds, V2, "v2", mode)
    assert _state(engine, ds) == fast


def test_every_written_row_carries_its_hashes(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset(DS)
    _load(engine, ds, V1, "v1")
    _load(engine, ds, V2, "v2")
    fact = fact_table(ds, engine.dialect.name)
    with engine.connect() as conn:
        got = conn.execute(select(fact)).mappings().all()
    table = _batch(ds, [{c: r[c] for c in ds.column_names} for r in got])
    assert [r[ROW_HASH] for r in got] == rowhash.row_hashes(table).tolist()
    assert [r[KEY_HASH] for r in got] == rowhash.key_hashes(table.select(ds.primary_key)).tolist()


def test_rows_loaded_before_hashes_merge_exactly(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset(DS)
    fact = fact_table(ds, engine.dialect.name)
    _load(engine, ds, V1, "v1")
    with engine.begin() as conn:  # what a table built before row hashes holds
        conn.execute(update(fact).values({KEY_HASH: None, ROW_HASH: None}))
    _load(engine, ds, V2, "v2")
    with engine.connect() as conn:
        got = conn.execute(select(fact)).mappings().all()
    want = {(r["periode"], r["kode_kecamatan"]): r for r in V2 + _rows(FEB, 50)}
    assert {
        (r["periode"], r["kode_kecamatan"]): {c: r[c] for c in ds.column_names} for r in got
    } == want
    jan = [r for r in got if r["periode"] == JAN]
    assert all(r[ROW_HASH] is not None and r[LOAD_ID] == "v2" for r in jan)
    # and the next identical load finds them all unchanged
    _load(engine, ds, V2, "v3")
    assert _state(engine, ds)[2]["v3"] == (0, 0)


def test_upgrade_adds_the_hash_columns_to_older_tables(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset(DS)
    d = engine.dialect.name
    fact, hist = fact_table(ds, d), history_table(ds, d)
    prep = engine.dialect.identifier_preparer
    with engine.begin() as conn:
        for t in (fact, hist):
            for col in HASHES:
                conn.execute(text(f"ALTER TABLE {prep.format_table(t)} DROP COLUMN {col}"))
    applied = upgrade(engine, catalog)
    assert {(c.dataset_id, c.column, c.kind) for c in applied} >= {
        (DS, KEY_HASH, "add"),
        (DS, ROW_HASH, "add"),
        (DS, KEY_HASH, "hist_add"),
        (DS, ROW_HASH, "hist_add"),
    }
    insp = inspect(engine)
    for t in (fact, hist):
        assert set(HASHES) <= {c["name"] for c in insp.get_columns(t.name, schema=t.schema)}
    assert upgrade(engine, catalog) == []
    _load(engine, ds, V1, "v1")
    _load(engine, ds, V2, "v2")
    assert _state(engine, ds)[2]["v2"] == (48, 38)


def _without_hashes(state: tuple[list, list, dict], ds) -> tuple:  # noqa: ANN001
    """The state with the hash columns left out (they are the one thing a test changes)."""
    n = len(ds.column_names)
    facts = sorted(r[:n] + r[n + 2 :] for r in state[0])
    hist = sorted(r[:n] + r[n + 2 :] for r in state[1])
    return facts, hist, state[2]


def _merge_steps(caplog: pytest.LogCaptureFixture, load_id: str) -> str:
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == loader.__name__ and r.getMessage().startswith(f"{load_id}: merged")
    ]
    assert lines, f"no merge line logged for {load_id}"
    return lines[-1]


def test_colliding_key_hashes_fall_back_to_the_exact_join(  # noqa: ANN201
    engine,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
    caplog: pytest.LogCaptureFixture,
):
    """With unique key hashes, replace_period skips the join and copies the changed rows
    straight in; when loaded key hashes collide, the exact join decides. Same warehouse."""
    caplog.set_level("INFO", logger=loader.__name__)
    upgrade(engine, catalog)
    ds = catalog.dataset(DS)
    _load(engine, ds, V1, "v1")
    _load(engine, ds, V2, "v2")
    assert " diff " not in _merge_steps(caplog, "v2")  # the direct path was taken
    direct = _without_hashes(_state(engine, ds), ds)
    with engine.begin() as conn:
        loader.unwind(conn, ds, "v2")
        loader.unwind(conn, ds, "v1")
    assert _state(engine, ds) == ([], [], {})

    real = rowhash.key_hashes
    collide = lambda b: real(b) % 3 + 1  # noqa: E731 - 3 values: collisions
    for hashing in (bulk, hashdiff):  # rows written, and rows compared, hash the same way
        monkeypatch.setattr(hashing, "key_hashes", collide)
    _load(engine, ds, V1, "v1")
    _load(engine, ds, V2, "v2")
    assert " diff " in _merge_steps(caplog, "v2")  # the exact join was taken
    assert _without_hashes(_state(engine, ds), ds) == direct
