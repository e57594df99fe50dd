"""Withdrawing a load and reprocessing a period, on both backends (folder+SQLite, S3+PostgreSQL).

Every comparison is of whole table contents: the fact table (with its load ids), the history
table, and the load records.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.corrections import OperationError, RetractRefused, reprocess, retract
from serasan.pipeline.handoff import LoadSummary
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.history import ensure_history_tables, history_table, merge_log_table
from tests.support.warehouse import RUN_DATE

REPLACE = "muaraenim_timbulan_sampah"  # replace_period, monthly, quarantine policy
UPSERT = "muba_pengunjung_taman_air"  # upsert on `tanggal`, quarantine policy


def _ctx(settings: Settings, catalog: Catalog, run_id: str = "r1") -> RunContext:
    ctx = RunContext(
        settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="t", run_id=run_id
    )
    upgrade(ctx.engine, catalog)
    with ctx.engine.begin() as conn:  # until `upgrade` creates them itself
        ensure_history_tables(conn, catalog)
    return ctx


def _send(ctx: RunContext, ds_id: str, rows: list[str], name: str) -> LoadSummary:
    """An OPD uploads a CSV (header + rows); the dataset's pipeline runs once."""
    ds = ctx.catalog.dataset(ds_id)
    header = ",".join(ds.column_names)
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + name, "\n".join([header, *rows, ""]).encode())
    [summary] = run_dataset(ctx, ds)
    return summary


def _rows(ctx: RunContext, t) -> list[tuple]:  # noqa: ANN001
    with ctx.engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(select(t))), key=repr)


def _fact(ctx: RunContext, ds_id: str) -> list[tuple]:
    return _rows(ctx, fact_table(ctx.catalog.dataset(ds_id), ctx.engine.dialect.name))


def _hist(ctx: RunContext, ds_id: str) -> list[tuple]:
    return _rows(ctx, history_table(ctx.catalog.dataset(ds_id), ctx.engine.dialect.name))


def _operations(ctx: RunContext) -> list[dict]:
    with ctx.engine.connect() as conn:
        op = ctx.t("meta", "operation")
        return [dict(r) for r in conn.execute(select(op).order_by(op.c.id)).mappings()]


def _load_run(ctx: RunContext, load_id: str) -> dict:
    with ctx.engine.connect() as conn:
        lr = ctx.t("meta", "load_run")
        return dict(conn.execute(select(lr).where(lr.c.load_id == load_id)).mappings().one())


def _timbulan(period: str, values: dict[str, tuple[float, float]]) -> list[str]:
    return [f"{period},{kec},{a},{b}" for kec, (a, b) in values.items()]


JAN_V1 = {
    "16.03.01": (10.5, 5.25),
    "16.03.02": (20.0, 6.0),
    "16.03.03": (30.0, 7.0),
    "16.03.04": (40.0, 8.0),
    "16.03.06": (50.0, 9.0),
}
# the corrected January: two values changed, 16.03.06 dropped, 16.03.07 added, two identical
JAN_V2 = {
    "16.03.01": (10.5, 5.25),
    "16.03.02": (21.0, 6.5),
    "16.03.03": (30.0, 7.0),
    "16.03.04": (44.0, 8.0),
    "16.03.07": (70.0, 1.0),
}
FEB = {"16.03.01": (11.0, 4.0), "16.03.02": (12.0, 3.0)}


def test_retract_a_replace_period_correction_restores_the_state_before_it(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(settings, catalog)
    v1 = _send(
        ctx,
        REPLACE,
        _timbulan("2026-01-01", JAN_V1) + _timbulan("2026-02-01", FEB),
        "timbulan-v1.csv",
    )
    assert v1.status == "loaded" and v1.rows_loaded == 7
    after_v1 = _fact(ctx, REPLACE)
    assert _hist(ctx, REPLACE) == []

    v2 = _send(ctx, REPLACE, _timbulan("2026-01-01", JAN_V2), "timbulan-v2.csv")
    assert v2.status == "loaded" and v2.rows_loaded == 5
    after_v2 = _fact(ctx, REPLACE)
    jan = {r[1]: r for r in after_v2 if r[0].isoformat() == "2026-01-01"}
    assert set(jan) == set(JAN_V2)
    # identical rows were not rewritten: they still carry the load that wrote them
    assert jan["16.03.01"][-1] == jan["16.03.03"][-1] == v1.load_id
    assert jan["16.03.02"][-1] == jan["16.03.07"][-1] == v2.load_id
    # the three January rows v2 changed or dropped are in history, stamped with v2
    hist = _hist(ctx, REPLACE)
    assert sorted(h[1] for h in hist) == ["16.03.02", "16.03.04", "16.03.06"]
    assert {(h[-3], h[-2]) for h in hist} == {(v1.load_id, v2.load_id)}

    # v1 cannot go while v2 built on it
    with pytest.raises(RetractRefused, match=v2.load_id) as refused:
        retract(ctx.engine, catalog, v1.load_id, "tester", "wrong file")
    assert refused.value.later == [v2.load_id]
    assert _fact(ctx, REPLACE) == after_v2

    done = retract(ctx.engine, catalog, v2.load_id, "walidata", "sent by mistake")
    assert done["rows_removed"] == 3 and done["rows_restored"] == 3
    assert done["restored_from"] == [v1.load_id]
    assert _fact(ctx, REPLACE) == after_v1  # exactly the state after v1, load ids included
    assert _hist(ctx, REPLACE) == []
    assert _load_run(ctx, v2.load_id)["status"] == "retracted"
    with pytest.raises(OperationError, match="already retracted"):
        retract(ctx.engine, catalog, v2.load_id, "walidata", "again")

    # now v1 can go too, and the table is empty again
    retract(ctx.engine, catalog, v1.load_id, "walidata", "whole upload withdrawn")
    assert _fact(ctx, REPLACE) == [] and _hist(ctx, REPLACE) == []
    ops = _operations(ctx)
    assert [(o["kind"], o["load_id"], o["actor"]) for o in ops] == [
        ("retract", v2.load_id, "walidata"),
        ("retract", v1.load_id, "walidata"),
    ]
    assert ops[0]["reason"] == "sent by mistake" and ops[0]["dataset_id"] == REPLACE
    detail = json.loads(ops[0]["detail"])
    assert detail["rows_removed"] == 3 and detail["rows_restored"] == 3
    assert detail["status_before"] == "loaded"

    # a retracted file sent again is recognised and skipped, unless forced
    again = _ctx(settings, catalog, "r3")
    ds = catalog.dataset(REPLACE)
    header = ",".join(ds.column_names)
    again.lake.put(
        inbox_prefix(catalog, ds) + "same.csv",
        "\n".join([header, *_timbulan("2026-01-01", JAN_V2), ""]).encode(),
    )
    assert run_dataset(again, ds) == []
    assert _fact(again, REPLACE) == []


def _visits(days: dict[int, tuple[int, int]]) -> list[str]:
    return [f"2026-03-{d:02d},16.06.01,{n},{rp}" for d, (n, rp) in days.items()]


VISITS_V1 = {d: (100 + d, 1_000_000 + d) for d in range(1, 11)}
VISITS_V2 = {
    **{d: VISITS_V1[d] for d in range(6, 11)},  # five days sent again unchanged
    3: (999, 9_990_000),
    4: (400, 4_000_000),
    5: (0, 0),  # three corrected
    11: (111, 1_100_000),
    12: (112, 1_200_000),
}  # two new


def test_retract_an_upsert_correction_restores_the_state_before_it(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(settings, catalog)
    v1 = _send(ctx, UPSERT, _visits(VISITS_V1), "visits-v1.csv")
    assert v1.status == "loaded" and v1.rows_loaded == 10
    after_v1 = _fact(ctx, UPSERT)
    v2 = _send(ctx, UPSERT, _visits(VISITS_V2), "visits-v2.csv")
    assert v2.status == "loaded"
    after_v2 = _fact(ctx, UPSERT)
    assert len(after_v2) == 12
    by_day = {r[0].day: r for r in after_v2}
    assert {d for d, r in by_day.items() if r[-1] == v2.load_id} == {3, 4, 5, 11, 12}
    assert sorted(h[0].day for h in _hist(ctx, UPSERT)) == [3, 4, 5]

    with pytest.raises(RetractRefused, match=v2.load_id):
        retract(ctx.engine, catalog, v1.load_id, "tester", None)
    assert _fact(ctx, UPSERT) == after_v2

    done = retract(ctx.engine, catalog, v2.load_id, "tester", "double upload")
    assert (done["rows_removed"], done["rows_restored"]) == (5, 3)
    assert _fact(ctx, UPSERT) == after_v1
    assert _hist(ctx, UPSERT) == []
    assert [o["kind"] for o in _operations(ctx)] == ["retract"]


def test_unchanged_rows_touch_nothing(settings: Settings, catalog: Catalog) -> None:
    """The same rows in another file (another load id) rewrite nothing and add no history."""
    ctx = _ctx(settings, catalog)
    _send(ctx, UPSERT, _visits(VISITS_V1), "visits.csv")
    _send(ctx, REPLACE, _timbulan("2026-01-01", JAN_V1), "timbulan.csv")
    before = (_fact(ctx, UPSERT), _fact(ctx, REPLACE))
    # same rows, other order: other bytes, so another load id
    again_upsert = _send(ctx, UPSERT, list(reversed(_visits(VISITS_V1))), "visits-again.csv")
    again_replace = _send(
        ctx, REPLACE, list(reversed(_timbulan("2026-01-01", JAN_V1))), "timbulan-again.csv"
    )
    assert again_upsert.rows_loaded == 10 and again_replace.rows_loaded == 5
    assert (_fact(ctx, UPSERT), _fact(ctx, REPLACE)) == before
    assert _hist(ctx, UPSERT) == [] and _hist(ctx, REPLACE) == []
    with ctx.engine.connect() as conn:
        log = merge_log_table(ctx.engine.dialect.name)
        ledger = {r.load_id: (r.rows_new, r.rows_superseded) for r in conn.execute(select(log))}
    assert ledger[again_upsert.load_id] == (0, 0)
    assert ledger[again_replace.load_id] == (0, 0)


def _without_rule(catalog: Catalog, ds_id: str, column: str) -> Catalog:
    """A copy of the catalog whose suite for `ds_id` no longer checks `column` for a minimum."""
    suite = copy.deepcopy(catalog.suites[ds_id])
    kept = [
        e
        for e in suite["expectations"]
        if not (
            e["type"] == "expect_column_values_to_be_between"
            and e["kwargs"].get("column") == column
        )
    ]
    assert len(kept) == len(suite["expectations"]) - 1
    suite["expectations"] = kept
    changed = dataclasses.replace(catalog)
    changed.__dict__["suites"] = {**catalog.suites, ds_id: suite}  # cached_property's slot
    return changed


def test_reprocess_after_a_suite_change_loads_the_rows_it_rejected(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(settings, catalog)
    v1_jan = {**JAN_V1, "16.03.08": (12.0, -1.0)}  # a negative amount: rejected
    v1 = _send(
        ctx, REPLACE, _timbulan("2026-01-01", v1_jan) + _timbulan("2026-02-01", FEB), "v1.csv"
    )
    assert v1.status == "quarantined" and v1.rows_rejected == 1
    v2_jan = {**JAN_V2, "16.03.09": (3.0, -2.0)}
    v2 = _send(ctx, REPLACE, _timbulan("2026-01-01", v2_jan), "v2.csv")
    assert v2.status == "quarantined" and v2.rows_loaded == 5
    fact_before, hist_before = _fact(ctx, REPLACE), _hist(ctx, REPLACE)

    # the same suite again changes nothing (history rows get a new sequence number only)
    same = reprocess(ctx, REPLACE, "2026-01", "tester", "no-op")
    assert [x["load_id"] for x in same["loads"]] == [v1.load_id, v2.load_id]
    assert same["undone_order"] == [v2.load_id, v1.load_id]
    assert _fact(ctx, REPLACE) == fact_before
    assert [h[:-1] for h in _hist(ctx, REPLACE)] == [h[:-1] for h in hist_before]

    # the money rule is dropped: the negative amounts are now loaded, in load order
    relaxed = dataclasses.replace(ctx, catalog=_without_rule(catalog, REPLACE, "terkelola_ton"))
    result = reprocess(relaxed, REPLACE, "2026-01", "data-engineer", "suite v2: no minimum")
    assert [(x["load_id"], x["status_after"], x["rows_loaded_after"]) for x in result["loads"]] == [
        (v1.load_id, "loaded", 8),
        (v2.load_id, "loaded", 6),
    ]
    facts = _fact(ctx, REPLACE)
    jan = {r[1]: r[2:] for r in facts if r[0].isoformat() == "2026-01-01"}
    feb = {r[1]: r[2:] for r in facts if r[0].isoformat() == "2026-02-01"}
    assert {k: v[:2] for k, v in jan.items()} == v2_jan  # v2 replaced January again
    assert jan["16.03.09"][-1] == v2.load_id
    assert {k: v[:2] for k, v in feb.items()} == FEB and {v[-1] for v in feb.values()} == {
        v1.load_id
    }
    assert "16.03.08" in {h[1] for h in _hist(ctx, REPLACE)}  # v1's rejected row, now loaded
    assert _load_run(ctx, v1.load_id)["rows_loaded"] == 8
    assert _load_run(ctx, v2.load_id)["status"] == "loaded"
    ops = _operations(ctx)
    assert [(o["kind"], o["period"], o["actor"]) for o in ops] == [
        ("reprocess", "2026-01", "tester"),
        ("reprocess", "2026-01", "data-engineer"),
    ]
    assert json.loads(ops[1]["detail"])["loads"][0]["rows_loaded_before"] == 7

    # and the reprocessed loads can still be withdrawn, newest first
    retract(ctx.engine, catalog, v2.load_id, "tester", "undo")
    assert {r[1] for r in _fact(ctx, REPLACE) if r[0].isoformat() == "2026-01-01"} == set(v1_jan)
    with pytest.raises(OperationError, match="no load"):
        reprocess(ctx, REPLACE, "2025-12", "tester", None)
