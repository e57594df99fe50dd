"""One load per dataset at a time: the dataset's lock (warehouse.ledger.lock), on both backends.

An adversarial probe started two loads of two different files of the same period of a
`replace_period` dataset together: both found the period empty and both committed, so the
period held the rows of both files (or, where the keys overlap, the second load failed on the
primary key). Here the same two loads run in two threads, each with its own engine (as two
Airflow workers would), aligned with a `threading.Barrier` either as they start or just after
each has looked at the period (the probe's worst case: without the lock both look before
either writes). The period must then hold exactly one file's rows, never a mix, and both loads
must succeed. A load that finds the lock taken logs whom it waits for; with a tiny timeout it
fails naming the holder, as do retract and reprocess. A second file replacing a period another
file loaded in the same run is recorded in the load's notes and alerted to the walidata and
the engineers.

Files are generated (serasan.demo.generate) as CSV, so each test can split them by key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.pipeline import load as load_stage
from serasan.pipeline.corrections import reprocess, retract
from serasan.pipeline.extract import extract
from serasan.pipeline.handoff import LoadSummary, Validated
from serasan.pipeline.load import load
from serasan.pipeline.run import transform
from serasan.quality import scores
from serasan.runtime.context import RunContext
from serasan.warehouse import loader
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.history import merge_log_table
from tests.support.warehouse import RUN_DATE

DATASET = "muaraenim_timbulan_sampah"  # replace_period, monthly: periode x kode_kecamatan
WAITING = "waiting for the lock on dataset " + DATASET
ENGINEERS = "eng@example.org"


@pytest.fixture(params=["sqlite", "postgresql"])
def lock_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A local-folder lake with a SQLite warehouse, or with a fresh PostgreSQL database."""
    url = (
        f"sqlite:///{tmp_path / 'warehouse.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    return Settings(lake_url=str(tmp_path / "lake"), warehouse_url=url, engineer_email=ENGINEERS)


@pytest.fixture
def ctx(lock_settings: Settings, catalog: Catalog) -> Iterator[RunContext]:
    c = RunContext(
        settings=lock_settings, catalog=catalog, run_date=RUN_DATE, dag_id="t", run_id="r"
    )
    upgrade(c.engine, catalog)
    yield c
    c.engine.dispose()


def _file(catalog: Catalog, seed: int, keep: Callable[[int], bool]) -> tuple[str, set[tuple]]:
    """A generated file of every month the generator covers, keeping the kecamatan whose index
    `keep` accepts; returns its CSV text and its rows as the fact table will hold them."""
    gen = generate_dataset(catalog.dataset(DATASET), catalog, fmt="csv", seed=seed)
    header, *lines = gen.data.decode().splitlines()
    kept = [ln for ln in lines if keep(int(ln.split(",")[1].rsplit(".", 1)[1]))]
    rows = {
        (p, k, f"{float(a):.2f}", f"{float(b):.2f}")
        for p, k, a, b in (ln.split(",") for ln in kept)
    }
    return "\n".join([header, *kept, ""]), rows


def _stage(ctx: RunContext, files: dict[str, str]) -> dict[str, Validated]:
    """The files put in the inbox and taken through extract, parse and validate (not load)."""
    ds = ctx.catalog.dataset(DATASET)
    for name, data in files.items():
        ctx.lake.put(inbox_prefix(ctx.catalog, ds) + name, data.encode())
    staged = {s.filename: s for s in (transform(ctx, ds, obj) for obj in extract(ctx, ds))}
    assert sorted(staged) == sorted(files)
    assert all(s.status == "loaded" for s in staged.values()), staged
    return staged


def _fact(ctx: RunContext) -> tuple[set[tuple], set[str]]:
    """The fact table's rows (as the files write them) and the load ids they carry."""
    t = fact_table(ctx.catalog.dataset(DATASET), ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        found = conn.execute(select(t)).all()
    rows = {(r[0].isoformat(), r[1], f"{r[2]:.2f}", f"{r[3]:.2f}") for r in found}
    return rows, {r[-1] for r in found}


def _merged(ctx: RunContext) -> list[str]:
    log = merge_log_table(ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(log.c.load_id).order_by(log.c.seq)).scalars())


def _load_run(ctx: RunContext) -> dict[str, dict[str, Any]]:
    lr = ctx.t("meta", "load_run")
    with ctx.engine.connect() as conn:
        return {r["load_id"]: dict(r) for r in conn.execute(select(lr)).mappings()}


def _alerts(ctx: RunContext) -> dict[str, dict[str, Any]]:
    al = ctx.t("meta", "alert")
    with ctx.engine.connect() as conn:
        return {r["alert_id"]: dict(r) for r in conn.execute(select(al)).mappings()}


def _worker(ctx: RunContext, **settings: Any) -> RunContext:
    """The same run on its own engine (another Airflow worker), with other settings if given."""
    return dataclasses.replace(
        ctx, settings=dataclasses.replace(ctx.settings, **settings), _engine=None
    )


class Threads:
    """Loads in named threads, keeping each one's result or exception."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.results: dict[str, Any] = {}
        self.errors: dict[str, BaseException] = {}

    def start(self, name: str, fn: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                self.results[name] = fn()
            except BaseException as exc:  # reported by the test
                self.errors[name] = exc

        t = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(t)
        t.start()

    def join(self, timeout: float = 120) -> None:
        for t in self.threads:
            t.join(timeout)
            assert not t.is_alive(), f"{t.name} did not finish"


def _load(ctx: RunContext, staged: Validated) -> LoadSummary:
    c = _worker(ctx)
    try:
        return load(c, ctx.catalog.dataset(DATASET), staged)
    finally:
        c.engine.dispose()


@pytest.mark.parametrize("keys", ["disjoint", "overlapping"])
@pytest.mark.parametrize("align", ["start", "after_check"])
def test_two_files_of_one_period_loaded_together_leave_one_file(
    ctx: RunContext,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    keys: str,
    align: str,
) -> None:
    """Two different files of the same periods, loaded at once: both loads succeed, one after
    the other, and every period holds exactly the rows of the file loaded last."""
    if keys == "disjoint":  # the probe's mix: file A even kecamatan, file B odd ones
        a, rows_a = _file(catalog, 1, lambda i: i % 2 == 0)
        b, rows_b = _file(catalog, 2, lambda i: i % 2 == 1)
    else:  # the same keys, other values: without the lock the second fails on the key
        a, rows_a = _file(catalog, 1, lambda i: True)
        b, rows_b = _file(catalog, 2, lambda i: True)
    staged = _stage(ctx, {"timbulan-a.csv": a, "timbulan-b.csv": b})
    sa, sb = staged["timbulan-a.csv"], staged["timbulan-b.csv"]
    assert sa.periods == sb.periods and len(sa.periods) > 1  # the same periods, every one

    barrier = threading.Barrier(2)
    if align == "after_check":
        # both loads meet just after deciding from the period's state, as the probe's did:
        # under the lock the second cannot get there, so the first goes on after a second
        looked = loader._touches_existing

        def meet(*args: Any, **kwargs: Any) -> bool:
            found = looked(*args, **kwargs)
            try:
                barrier.wait(timeout=1.0)
            except threading.BrokenBarrierError:
                pass
            return found

        monkeypatch.setattr(loader, "_touches_existing", meet)

    def go(s: Validated) -> LoadSummary:
        if align == "start":
            barrier.wait(timeout=30)
        return _load(ctx, s)

    threads = Threads()
    threads.start("A", lambda: go(sa))
    threads.start("B", lambda: go(sb))
    threads.join()
    assert threads.errors == {}, threads.errors
    assert {threads.results[n].status for n in "AB"} == {"loaded"}

    # one serial order: the period holds every row of the file merged last, nothing else
    first, last = _merged(ctx)
    assert {first, last} == {sa.load_id, sb.load_id}
    rows, load_ids = _fact(ctx)
    assert rows == (rows_b if last == sb.load_id else rows_a)
    assert load_ids == {last}
    assert rows != rows_a | rows_b

    # whichever arrived last won, but not silently: its notes and an alert say so
    runs = _load_run(ctx)
    assert "replaced period(s) another file loaded in this run window" in runs[last]["notes"]
    assert first not in (runs[first]["notes"] or "")
    claims = {k: v for k, v in _alerts(ctx).items() if k.startswith("engineer:claim:")}
    assert list(claims) == [f"engineer:claim:{last}"]
    alert = claims[f"engineer:claim:{last}"]
    winner, loser = (sb, sa) if last == sb.load_id else (sa, sb)
    assert winner.filename in alert["body"] and loser.filename in alert["body"]
    assert first in alert["body"] and last in alert["body"]
    recipients = alert["recipients"].split(",")
    walidata = catalog.regency(catalog.dataset(DATASET).regency).walidata_email
    assert walidata in recipients and ENGINEERS in recipients


class Hold:
    """Keeps a load's transaction open (after its merge, before its commit) until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, thread: str) -> None:
        self.held, self.release = threading.Event(), threading.Event()
        recompute = scores.recompute

        def held(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name == thread:
                self.held.set()
                assert self.release.wait(60), "never released"
            return recompute(*args, **kwargs)

        monkeypatch.setattr(scores, "recompute", held)
        assert load_stage.quality.recompute is held


def _logged(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in list(caplog.records):
            if text in r.getMessage():
                return r.getMessage()
        time.sleep(0.02)
    raise AssertionError(f"nothing logged with {text!r}")


def test_a_second_load_waits_for_the_first_and_logs_whom_it_waits_for(
    ctx: RunContext,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="serasan")
    a, _ = _file(catalog, 1, lambda i: i % 2 == 0)
    b, rows_b = _file(catalog, 2, lambda i: i % 2 == 1)
    staged = _stage(ctx, {"timbulan-a.csv": a, "timbulan-b.csv": b})
    sa, sb = staged["timbulan-a.csv"], staged["timbulan-b.csv"]
    hold = Hold(monkeypatch, "A")
    threads = Threads()
    threads.start("A", lambda: _load(ctx, sa))
    assert hold.held.wait(60)  # A has merged and holds the lock
    threads.start("B", lambda: _load(ctx, sb))
    message = _logged(caplog, WAITING)
    assert f"held by load {sa.load_id}" in message
    assert _merged(ctx) == []  # nothing of A is visible yet; B has not merged either
    hold.release.set()
    threads.join()
    assert threads.errors == {}, threads.errors
    assert _merged(ctx) == [sa.load_id, sb.load_id]
    rows, load_ids = _fact(ctx)
    assert rows == rows_b and load_ids == {sb.load_id}
    _logged(caplog, "got the lock on dataset " + DATASET)


def test_with_a_tiny_timeout_the_second_load_fails_naming_the_holder(
    ctx: RunContext, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, rows_a = _file(catalog, 1, lambda i: i % 2 == 0)
    b, _ = _file(catalog, 2, lambda i: i % 2 == 1)
    staged = _stage(ctx, {"timbulan-a.csv": a, "timbulan-b.csv": b})
    sa, sb = staged["timbulan-a.csv"], staged["timbulan-b.csv"]
    hold = Hold(monkeypatch, "A")
    threads = Threads()
    threads.start("A", lambda: _load(ctx, sa))
    assert hold.held.wait(60)
    impatient = _worker(ctx, load_lock_timeout_s=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(loader.DatasetLocked) as failed:
            load(impatient, catalog.dataset(DATASET), sb)
    finally:
        impatient.engine.dispose()
        hold.release.set()
    assert time.monotonic() - started < 20
    assert failed.value.dataset_id == DATASET
    assert f"load {sa.load_id}" in failed.value.holder
    assert f"locked by load {sa.load_id}" in str(failed.value)
    threads.join()
    assert threads.errors == {}, threads.errors
    # A committed; B changed nothing, not even its load record
    assert _merged(ctx) == [sa.load_id]
    assert set(_load_run(ctx)) == {sa.load_id}
    rows, load_ids = _fact(ctx)
    assert rows == rows_a and load_ids == {sa.load_id}


def test_retract_and_reprocess_wait_for_a_load_and_fail_naming_it(
    ctx: RunContext, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, rows_a = _file(catalog, 1, lambda i: i % 2 == 0)
    b, _ = _file(catalog, 2, lambda i: i % 2 == 1)
    sa = _stage(ctx, {"timbulan-a.csv": a})["timbulan-a.csv"]
    assert _load(ctx, sa).status == "loaded"
    sb = _stage(ctx, {"timbulan-b.csv": b})["timbulan-b.csv"]
    hold = Hold(monkeypatch, "B")
    threads = Threads()
    threads.start("B", lambda: _load(ctx, sb))
    assert hold.held.wait(60)
    monkeypatch.setenv("SERASAN_LOAD_LOCK_TIMEOUT_S", "0.3")  # retract's default: the setting
    try:
        with pytest.raises(loader.DatasetLocked, match=f"locked by load {sb.load_id}"):
            retract(ctx.engine, catalog, sa.load_id, "tester", "while B loads")
        impatient = _worker(ctx, load_lock_timeout_s=0.3)
        try:
            with pytest.raises(loader.DatasetLocked, match=f"locked by load {sb.load_id}"):
                reprocess(impatient, DATASET, sa.periods[0][:7], "tester", "while B loads")
        finally:
            impatient.engine.dispose()
    finally:
        hold.release.set()
    threads.join()
    assert threads.errors == {}, threads.errors
    assert _merged(ctx) == [sa.load_id, sb.load_id]
    assert _load_run(ctx)[sa.load_id]["status"] == "loaded"  # the retract changed nothing
    # once B has committed, retract waits for nothing (and is refused: B built on A)
    monkeypatch.setenv("SERASAN_LOAD_LOCK_TIMEOUT_S", "300")
    done = retract(ctx.engine, catalog, sb.load_id, "tester", "B was wrong")
    assert done["rows_restored"] == len(rows_a)
    rows, load_ids = _fact(ctx)
    assert rows == rows_a and load_ids == {sa.load_id}


def test_the_same_file_again_or_another_period_is_no_claim(
    ctx: RunContext, catalog: Catalog
) -> None:
    """Only a different file replacing a period another file loaded recently is alerted."""
    gen = generate_dataset(catalog.dataset(DATASET), catalog, fmt="csv", seed=1)
    header, *lines = gen.data.decode().splitlines()
    months = sorted({ln.split(",")[0] for ln in lines})
    first = [ln for ln in lines if ln.startswith(months[0])]
    second = [ln for ln in lines if ln.startswith(months[1])]
    s1 = _stage(ctx, {"jan.csv": "\n".join([header, *first, ""])})["jan.csv"]
    assert _load(ctx, s1).status == "loaded"
    assert _load(ctx, s1).status == "loaded"  # the same load again: nothing changes
    s2 = _stage(ctx, {"feb.csv": "\n".join([header, *second, ""])})["feb.csv"]
    assert _load(ctx, s2).status == "loaded"
    assert not [k for k in _alerts(ctx) if k.startswith("engineer:claim:")]
    assert not any("replaced period" in (r["notes"] or "") for r in _load_run(ctx).values())


def test_a_claim_is_a_period_replaced_in_the_same_run_or_shortly_after(
    ctx: RunContext, catalog: Catalog
) -> None:
    """Files of one period in other runs are told only within CLAIM_WINDOW of each other."""
    a, _ = _file(catalog, 1, lambda i: True)
    b, _ = _file(catalog, 2, lambda i: True)
    c, rows_c = _file(catalog, 3, lambda i: True)
    sa = _stage(ctx, {"a.csv": a})["a.csv"]
    assert _load(ctx, sa).status == "loaded"
    log = merge_log_table(ctx.engine.dialect.name)
    with ctx.engine.begin() as conn:  # A was merged long ago, in another run
        conn.execute(log.update().values(merged_at="2026-01-01T00:00:00+00:00"))
    r2 = dataclasses.replace(ctx, run_id="r2", _engine=None)
    try:
        sb = _stage(r2, {"b.csv": b})["b.csv"]
        assert _load(r2, sb).status == "loaded"  # replaces A: long after, not told
        sc = _stage(r2, {"c.csv": c})["c.csv"]
        assert _load(r2, sc).status == "loaded"  # replaces B in the same run: told
    finally:
        r2.engine.dispose()
    claims = {k: v for k, v in _alerts(ctx).items() if k.startswith("engineer:claim:")}
    assert list(claims) == [f"engineer:claim:{sc.load_id}"]
    body = claims[f"engineer:claim:{sc.load_id}"]["body"]
    assert sb.load_id in body and sa.load_id not in body
    runs = _load_run(ctx)
    assert "replaced period" not in (runs[sb.load_id]["notes"] or "")
    assert f"from b.csv (load {sb.load_id})" in runs[sc.load_id]["notes"]
    assert _fact(ctx) == (rows_c, {sc.load_id})
    # C loaded again from another run, long after: its alert stays exactly as it was
    with ctx.engine.begin() as conn:
        conn.execute(log.update().values(merged_at="2026-01-01T00:00:00+00:00"))
    r9 = dataclasses.replace(ctx, run_id="r9", _engine=None)
    try:
        assert _load(r9, sc).status == "loaded"
    finally:
        r9.engine.dispose()
    assert {k: v for k, v in _alerts(ctx).items() if k.startswith("engineer:claim:")} == claims
    with ctx.engine.begin() as conn:  # as it was, for what follows
        conn.execute(log.update().values(merged_at=dt.datetime.now(dt.UTC).isoformat()))

    # a different run a moment later is told too (the window), naming the file it replaced
    r3 = dataclasses.replace(ctx, run_id="r3", _engine=None)
    try:
        sa3 = _stage(r3, {"a-again.csv": a.replace("\n", "\r\n")})["a-again.csv"]
        assert _load(r3, sa3).status == "loaded"
    finally:
        r3.engine.dispose()
    assert f"engineer:claim:{sa3.load_id}" in _alerts(ctx)
    assert f"from c.csv (load {sc.load_id})" in _load_run(ctx)[sa3.load_id]["notes"]
