"""Operators' corrections to the warehouse: withdraw a load, or reprocess a period from raw.

- `retract` undoes one load: its rows leave the fact table and the rows it superseded come back
  from history, exactly as they were before it. A load that later loads built on (they replaced
  or re-sent rows it wrote) is refused, naming those loads: retract them first, newest first.
- `reprocess` runs parse, validate and load again from the raw objects whose loads covered a period,
  after a suite or parser change. The loads (and any later load that built on them) are undone
  newest first, then loaded again in the order their files arrived, all in one transaction.

Each operation is one warehouse transaction, holding the dataset's lock (`loader.lock`) from
before it reads until it commits, so no load of the dataset runs in between; it leaves a row in
`meta.operation` saying who, why, and what changed. KPI marts and exports are recomputed by
their own DAGs on their next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection

from serasan.common.enums import LoadStatus, ObjectAction
from serasan.common.progress import Progress
from serasan.config.catalog import Catalog, Dataset
from serasan.pipeline.handoff import RawObject
from serasan.pipeline.load import finish_load, prepare_load, record_load
from serasan.pipeline.run import transform
from serasan.quality import scores as quality
from serasan.runtime.context import RunContext
from serasan.warehouse import history, loader
from serasan.warehouse.tables import table


class OperationError(Exception):
    """The operation cannot run; nothing was changed."""


class RetractRefused(OperationError):
    """Later loads built on the load: they must be retracted first."""

    def __init__(self, message: str, later: list[str]):
        self.later = later
        super().__init__(message)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _record(
    conn: Connection,
    kind: str,
    ds: Dataset,
    load_id: str | None,
    period: str | None,
    actor: str | None,
    reason: str | None,
    detail: dict[str, Any],
) -> int:
    op = table("meta", "operation", conn.dialect.name)
    key = conn.execute(
        insert(op).values(
            kind=kind,
            dataset_id=ds.id,
            load_id=load_id,
            period=period,
            actor=actor,
            reason=reason,
            detail=json.dumps(detail, default=str, sort_keys=True),
            recorded_at=_now(),
        )
    ).inserted_primary_key
    assert key is not None  # an INSERT of one row always has its key
    return int(key[0])


# ------------------------------------------------------------------------ retract


def retract(
    engine: Engine,
    catalog: Catalog,
    load_id: str,
    actor: str | None,
    reason: str | None,
    lock_timeout_s: float | None = None,
) -> dict[str, Any]:
    """Withdraw one load in one transaction; returns what was removed and restored.

    Waits for a load of the dataset in progress up to `lock_timeout_s` (None: the setting
    SERASAN_LOAD_LOCK_TIMEOUT_S), then fails with `loader.DatasetLocked`.
    """
    lr = table("meta", "load_run", engine.dialect.name)
    with engine.begin() as conn:
        dataset_id = conn.execute(select(lr.c.dataset_id).where(lr.c.load_id == load_id)).scalar()
        if dataset_id is None:
            raise OperationError(f"unknown load {load_id!r}: it is not in meta.load_run")
        ds = catalog.dataset(dataset_id)
        loader.lock(conn, ds, f"retract {load_id}", lock_timeout_s)
        run = conn.execute(select(lr).where(lr.c.load_id == load_id)).mappings().first()
        if run is None:  # read again under the lock
            raise OperationError(f"unknown load {load_id!r}: it is not in meta.load_run")
        if run["status"] == LoadStatus.RETRACTED:
            raise OperationError(f"load {load_id} is already retracted")
        history.ensure_for(conn, ds)
        try:
            undone = loader.unwind(conn, ds, load_id)
        except loader.LoadSuperseded as exc:
            raise RetractRefused(str(exc), exc.later) from None
        conn.execute(update(lr).where(lr.c.load_id == load_id).values(status=LoadStatus.RETRACTED))
        quality.recompute(conn, ds.regency, ds.opd, run["logical_date"])
        detail = {
            "status_before": run["status"],
            "periods": run["periods"] or "",
            "rows_loaded_before": run["rows_loaded"],
            "rows_removed": undone["rows_removed"],
            "rows_restored": undone["rows_restored"],
            "restored_from": undone["restored_from"],
        }
        op_id = _record(conn, "retract", ds, load_id, None, actor, reason, detail)
    return {
        "operation_id": op_id,
        "kind": "retract",
        "dataset": ds.id,
        "load_id": load_id,
        **detail,
    }


# ------------------------------------------------------------------------ reprocess


def covers(periods: str | None, period: str) -> bool:
    """Whether a load's periods ('2026-01-01,2026-02-01') include `period` or fall under it
    ('2026-01' covers every day or month of January 2026, '2026' the whole year)."""
    return any(p == period or p.startswith(period + "-") for p in (periods or "").split(",") if p)


def _plan(conn: Connection, ds: Dataset, period: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The loads to reprocess, in the order their files arrived, and the order to undo them.

    Starting from the loads covering the period, any later load that built on one of them is
    added too, so that every load can be undone before it is loaded again.
    """
    dialect = conn.dialect.name
    lr, ev = table("meta", "load_run", dialect), table("meta", "object_event", dialect)
    log = history.merge_log_table(dialect)
    runs = {
        r["load_id"]: dict(r)
        for r in conn.execute(
            select(lr).where(lr.c.dataset_id == ds.id, lr.c.status != LoadStatus.RETRACTED)
        ).mappings()
    }
    chosen = {k for k, r in runs.items() if covers(r["periods"], period)}
    if not chosen:
        raise OperationError(
            f"no load of {ds.id} covers period {period!r}; see meta.load_run.periods"
        )
    todo = sorted(chosen)
    while todo:
        for later in loader.blockers(conn, ds, todo.pop()):
            if later not in runs:
                raise OperationError(
                    f"load {later} built on a load of period {period} but has no raw object "
                    "recorded in meta.load_run, so it cannot be reprocessed; retract it first"
                )
            if later not in chosen:
                chosen.add(later)
                todo.append(later)
    arrived = dict(
        conn.execute(
            select(ev.c.sha256, func.min(ev.c.id))
            .where(ev.c.dataset_id == ds.id, ev.c.action == ObjectAction.INGESTED)
            .group_by(ev.c.sha256)
        ).all()
    )
    seqs = dict(
        conn.execute(
            select(log.c.load_id, log.c.seq).where(
                log.c.dataset_id == ds.id, log.c.load_id.in_(chosen)
            )
        ).all()
    )
    big = 1 << 62
    replay = sorted(
        (runs[k] for k in chosen),
        key=lambda r: (arrived.get(r["sha256"], big), seqs.get(r["load_id"], big), r["load_id"]),
    )
    undo = sorted(chosen, key=lambda k: seqs.get(k, -1), reverse=True)
    return replay, undo


Track = Callable[[str], AbstractContextManager[Any]]  # opens a progress by its label


def _untracked(_label: str) -> AbstractContextManager[Any]:
    return nullcontext()


def _rows_counted(progress: Progress) -> int:
    """The rows a tracker has been told of so far (its `rows`, which the API does not name)."""
    return int(getattr(progress, "rows", 0))


def reprocess(
    ctx: RunContext,
    dataset_id: str,
    period: str,
    actor: str | None,
    reason: str | None,
    track: Track = _untracked,
) -> dict[str, Any]:
    """Parse, validate and load again, from raw, every load covering `period`; one transaction.

    `ctx.catalog` holds the suites and parsers to apply now. Each load runs again as of its
    original logical date, so rules about dates judge the file as they did the first time.

    `track(label)` opens the progress of each file parsed and validated again, one after the
    other (the CLI passes `serasan.common.progress.stderr_tracking`), labelled with the file's
    place among them ("berkas 2/5"): the parser reports its rows and bytes as it reads, and the
    file's rows are counted in full once it is done.
    """
    ds = ctx.catalog.dataset(dataset_id)
    with ctx.engine.begin() as conn:
        history.ensure_for(conn, ds)
        replay, _ = _plan(conn, ds, period)
    run_id = ctx.run_id or f"reprocess-{_now()}"
    work = []
    # parse and validate again, before the warehouse is touched
    for place, run in enumerate(replay, start=1):
        lctx = dataclasses.replace(
            ctx,
            run_date=run["logical_date"],
            run_id=run_id,
            dag_id=run["dag_id"] or ctx.dag_id,
            force=True,
        )
        name = str(run["raw_key"]).rsplit("/", 1)[-1]
        with track(f"reprocess {ds.id} {period}, berkas {place}/{len(replay)} ({name})") as file:
            staged = transform(
                lctx, ds, RawObject(dataset=ds.id, sha256=run["sha256"], raw_key=run["raw_key"])
            )
            # the file's rows the parser did not report as it read (a small or XLSX file)
            if isinstance(file, Progress) and (unseen := staged.rows_in - _rows_counted(file)) > 0:
                file.advance(unseen)
        work.append((run, lctx, staged, prepare_load(lctx, ds, staged)))
    loads = []
    with ctx.engine.begin() as conn:
        # the plan is checked again, and everything done, under the dataset's lock
        loader.lock(conn, ds, f"reprocess {ds.id} {period}", ctx.settings.load_lock_timeout_s)
        replay_again, undo = _plan(conn, ds, period)
        if [r["load_id"] for r in replay_again] != [r["load_id"] for r, *_ in work]:
            raise OperationError(
                f"loads of {ds.id} changed while reprocessing {period}; run it again"
            )
        undone = {k: loader.unwind(conn, ds, k) for k in undo}
        for run, lctx, staged, prepared in work:
            loaded = record_load(conn, lctx, ds, staged, prepared)
            loads.append(
                {
                    "load_id": run["load_id"],
                    "status_before": run["status"],
                    "status_after": staged.status.value,
                    "rows_loaded_before": run["rows_loaded"],
                    "rows_loaded_after": loaded,
                    "rows_removed": undone[run["load_id"]]["rows_removed"],
                    "rows_restored": undone[run["load_id"]]["rows_restored"],
                }
            )
        detail = {"loads": loads, "undone_order": undo}
        op_id = _record(conn, "reprocess", ds, None, period, actor, reason, detail)
    for (_, lctx, staged, prepared), done in zip(work, loads, strict=True):
        finish_load(lctx, ds, staged, prepared, done["rows_loaded_after"])
    return {
        "operation_id": op_id,
        "kind": "reprocess",
        "dataset": ds.id,
        "period": period,
        **detail,
    }
