"""The merge ledger (`meta.merge_log`): recording a merge, and undoing one; and the dataset's
lock, which every load, retract and reprocess holds from before it reads until it commits.

A load's entry says what it merged (mode, checksum, periods, sequence number); `unwind` deletes
a load's rows and puts back the rows it superseded, refused with `LoadSuperseded` while later
loads depend on it (`blockers`).

The lock (`lock`): a merge decides what to do from what the fact table and the ledger hold
(does the period have rows? was this load merged?), so two merges of one dataset must not
overlap, or both decide from the state before either (two files of one `replace_period` period
would both be kept). It is taken first in the caller's transaction and held to its end:

- PostgreSQL: `pg_advisory_xact_lock(MERGE_LOCK_CLASS, hashtext(dataset))`. Everything a load
  writes (COPY included: it runs on the same psycopg connection) is in that one transaction, so
  the server releases the lock exactly at commit or rollback, and when a loader dies. The holder
  names itself in `pg_stat_activity.application_name` (`serasan load <id>`, transaction-local,
  left alone when the deployment set a name of its own); the waiter finds it through `pg_locks`.
  Both live and die with the lock itself: no row to clean up after a crash, and they are seen
  before the holder commits (a row it wrote would not be).
- SQLite: `fcntl.flock` on `<database>-lock-<dataset>`, the holder's name written inside
  (the kernel releases it if the process dies), released as the transaction ends (SQLAlchemy's
  commit or rollback event); then `BEGIN IMMEDIATE`, so the reads that decide are in the same
  write transaction as the writes (pysqlite would begin only at the first write, after the
  reads), and the next holder's BEGIN waits for the previous COMMIT itself.

A second load waits up to `Settings.load_lock_timeout_s` (SERASAN_LOAD_LOCK_TIMEOUT_S), logging
whom it waits for, then fails with `DatasetLocked` naming the holder; nothing was changed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import typing
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, and_, delete, event, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from serasan.common.enums import APPLIED, LoadMode
from serasan.config.catalog import Dataset
from serasan.config.settings import Settings
from serasan.warehouse import history
from serasan.warehouse.batches import Source, iso
from serasan.warehouse.facts import HASHES, LOAD_ID, fact_table
from serasan.warehouse.sqlutil import rowcount
from serasan.warehouse.tables import table as fixed_table

# APPLIED (from serasan.common.enums): load_run statuses that put rows in a fact table

log_ = logging.getLogger(__name__)

MERGE_LOCK_CLASS = 1603  # advisory lock class of loads and corrections, keyed by dataset
HOLDER_PREFIX = "serasan "  # application_name of a session holding a dataset's lock
_NAME_MAX = 63  # PostgreSQL keeps this many bytes of an application_name
_HELD = "serasan_dataset_locks"  # connection info: the SQLite lock files this transaction holds
_LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout ran out


class DatasetLocked(Exception):
    """Another load (or retract, reprocess) of the dataset held its lock for longer than the
    wait allowed; nothing was changed."""

    def __init__(self, dataset_id: str, holder: str, waited_s: float):
        self.dataset_id, self.holder, self.waited_s = dataset_id, holder, waited_s
        super().__init__(
            f"dataset {dataset_id} is locked by {holder}: gave up after waiting {waited_s:.1f} s "
            "(SERASAN_LOAD_LOCK_TIMEOUT_S); nothing was changed. Run it again once that has "
            "committed"
        )


class LoadSuperseded(Exception):
    """A load cannot be undone: later loads replaced or re-filled rows it wrote."""

    def __init__(self, load_id: str, later: list[str]):
        self.load_id, self.later = load_id, later
        super().__init__(
            f"load {load_id} cannot be undone: later load(s) {', '.join(later)} replaced or "
            f"re-sent rows it wrote. Retract {'that load' if len(later) == 1 else 'those loads'}"
            " first (newest first), or reprocess the period"
        )


# ------------------------------------------------------------------------ recording a merge


def ledger_entry(conn: Connection, ds: Dataset, load_id: str) -> Any:
    log = history.merge_log_table(conn.dialect.name)
    return (
        conn.execute(select(log).where(log.c.dataset_id == ds.id, log.c.load_id == load_id))
        .mappings()
        .first()
    )


def record(
    conn: Connection,
    log: Table,
    ds: Dataset,
    load_id: str,
    mode: str,
    checksum: str | None,
    src: Source,
    periods: list[Any],
) -> int:
    """Enter a merge in the ledger before its rows are written; returns its sequence number."""
    key = conn.execute(
        insert(log).values(
            load_id=load_id,
            dataset_id=ds.id,
            mode=mode,
            digest=checksum or "",
            source_sha256=src.fingerprint,
            rows=src.num_rows,
            periods=",".join(iso(p) for p in periods),
            merged_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
    ).inserted_primary_key
    return typing.cast(int, typing.cast(Any, key)[0])


def settle(conn: Connection, log: Table, seq: int, digest: str, new: int, superseded: int) -> None:
    """Complete a merge's entry once its rows are in: the checksum and what changed."""
    conn.execute(
        update(log)
        .where(log.c.seq == seq)
        .values(digest=digest, rows_new=new, rows_superseded=superseded)
    )


def forget_unrecorded(conn: Connection, ds: Dataset, fact: Table, load_id: str) -> None:
    """Rows of this load merged before the ledger existed: replace them, nothing to restore."""
    lr = fixed_table("meta", "load_run", conn.dialect.name)
    applied = conn.execute(
        select(lr.c.rows_loaded).where(lr.c.load_id == load_id, lr.c.status.in_(APPLIED))
    ).scalar()
    if applied:
        conn.execute(delete(fact).where(fact.c[LOAD_ID] == load_id))


# ------------------------------------------------------------------------ undoing a load


def blockers(conn: Connection, ds: Dataset, load_id: str) -> list[str]:
    """Later loads that must be undone before `load_id` can be: they superseded rows it wrote,
    re-filled keys it vacated, or replaced one of its periods again. Oldest first."""
    dialect = conn.dialect.name
    fact, hist = fact_table(ds, dialect), history.history_table(ds, dialect)
    log = history.merge_log_table(dialect)
    entry = ledger_entry(conn, ds, load_id)
    found: set[str] = set()
    mine = [hist.c[LOAD_ID] == load_id, hist.c[history.SUPERSEDED_BY] != load_id]
    if entry is not None:
        mine.append(hist.c[history.SUPERSEDED_SEQ] > entry["seq"])
    found.update(
        r[0] for r in conn.execute(select(hist.c[history.SUPERSEDED_BY]).where(*mine).distinct())
    )
    same_key = and_(*[fact.c[k] == hist.c[k] for k in ds.primary_key])
    found.update(
        r[0]
        for r in conn.execute(
            select(fact.c[LOAD_ID])
            .select_from(fact.join(hist, same_key))
            .where(hist.c[history.SUPERSEDED_BY] == load_id, fact.c[LOAD_ID] != load_id)
            .distinct()
        )
    )
    order: dict[str, int] = {}
    if entry is not None:
        mine_periods = set((entry["periods"] or "").split(","))
        for r in conn.execute(
            select(log.c.load_id, log.c.periods, log.c.mode, log.c.seq).where(
                log.c.dataset_id == ds.id, log.c.seq > entry["seq"]
            )
        ):
            order[r.load_id] = r.seq
            if r.mode == LoadMode.REPLACE_PERIOD and mine_periods & set(
                (r.periods or "").split(",")
            ):
                found.add(r.load_id)
    found.discard(load_id)
    return sorted(found, key=lambda x: (order.get(x, 1 << 62), x))


def unwind(conn: Connection, ds: Dataset, load_id: str) -> dict[str, Any]:
    """Undo a load's merge: delete its rows and put back the rows it superseded (taking them
    out of history). Refused with LoadSuperseded when later loads depend on it. The caller
    holds the dataset's lock (`lock`), taken before it read what made it decide."""
    later = blockers(conn, ds, load_id)
    if later:
        raise LoadSuperseded(load_id, later)
    dialect = conn.dialect.name
    fact, hist = fact_table(ds, dialect), history.history_table(ds, dialect)
    log = history.merge_log_table(dialect)
    entry = ledger_entry(conn, ds, load_id)
    mine = [hist.c[history.SUPERSEDED_BY] == load_id]
    if entry is not None:
        mine.append(hist.c[history.SUPERSEDED_SEQ] == entry["seq"])
    cols = [*ds.column_names, *HASHES, LOAD_ID]
    restored_from = sorted(
        r[0] for r in conn.execute(select(hist.c[LOAD_ID]).where(*mine).distinct())
    )
    removed = conn.execute(delete(fact).where(fact.c[LOAD_ID] == load_id)).rowcount
    restored = rowcount(
        conn, insert(fact).from_select(cols, select(*[hist.c[c] for c in cols]).where(*mine))
    )
    conn.execute(delete(hist).where(hist.c[history.SUPERSEDED_BY] == load_id))
    conn.execute(delete(log).where(log.c.dataset_id == ds.id, log.c.load_id == load_id))
    return {
        "rows_removed": removed,
        "rows_restored": restored,
        "restored_from": restored_from,
        "merge": dict(entry) if entry is not None else None,
    }


# ------------------------------------------------------------------------ the dataset's lock


def lock(conn: Connection, ds: Dataset | str, holder: str, timeout_s: float | None = None) -> float:
    """Take the dataset's lock for the rest of the caller's transaction; returns the seconds
    waited. `holder` says who takes it, as a waiter will read it ("load <id>", "retract <id>").
    Taking it again in the same transaction returns at once.

    Waits up to `timeout_s` (None: SERASAN_LOAD_LOCK_TIMEOUT_S), logging the holder, then
    raises `DatasetLocked` naming it.
    """
    dataset_id = ds if isinstance(ds, str) else ds.id
    timeout = Settings.from_env().load_lock_timeout_s if timeout_s is None else timeout_s
    if conn.dialect.name == "postgresql":
        return _pg_lock(conn, dataset_id, holder, timeout)
    return _sqlite_lock(conn, dataset_id, holder, timeout)


def _waiting(dataset_id: str, holder: str, timeout: float) -> None:
    log_.warning(
        "waiting for the lock on dataset %s held by %s (up to %g s)", dataset_id, holder, timeout
    )


def _got(dataset_id: str, waited: float) -> None:
    log_.info("got the lock on dataset %s after waiting %.1f s", dataset_id, waited)


# PostgreSQL


_PG_KEY = {"c": MERGE_LOCK_CLASS}


def _pg_lock(conn: Connection, dataset_id: str, holder: str, timeout: float) -> float:
    key = {**_PG_KEY, "d": dataset_id}
    got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:c, hashtext(:d))"), key).scalar()
    waited = 0.0
    if not got:
        who = pg_holder(conn, dataset_id)
        if timeout <= 0:
            raise DatasetLocked(dataset_id, who, 0.0)
        _waiting(dataset_id, who, timeout)
        started = time.monotonic()
        before = conn.execute(text("SELECT current_setting('lock_timeout')")).scalar()
        try:
            with conn.begin_nested():  # a timeout undoes this savepoint, not the transaction
                conn.execute(
                    text("SELECT set_config('lock_timeout', :t, true)"),
                    {"t": f"{max(1, round(timeout * 1000))}ms"},
                )
                conn.execute(text("SELECT pg_advisory_xact_lock(:c, hashtext(:d))"), key)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            raise DatasetLocked(
                dataset_id, pg_holder(conn, dataset_id), time.monotonic() - started
            ) from None
        conn.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": before})
        waited = time.monotonic() - started
        _got(dataset_id, waited)
    # name this session as the holder, unless the deployment named it (then the pid tells)
    name = conn.execute(text("SELECT current_setting('application_name')")).scalar()
    if not name or str(name).startswith(HOLDER_PREFIX):
        conn.execute(
            text("SELECT set_config('application_name', :n, true)"), {"n": _pg_name(holder)}
        )
    return waited


def _pg_name(holder: str) -> str:
    return (HOLDER_PREFIX + holder).encode()[:_NAME_MAX].decode(errors="ignore")


def pg_holder(conn: Connection, dataset_id: str) -> str:
    """Who holds the dataset's lock, from `pg_locks` and `pg_stat_activity`."""
    conn.execute(text("SELECT pg_stat_clear_snapshot()"))  # activity is cached per transaction
    row = conn.execute(
        text(
            "SELECT l.pid, a.application_name, a.xact_start FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = :c "
            "AND l.objid::bigint = (hashtext(:d)::bigint + 4294967296) % 4294967296 "
            "AND l.pid <> pg_backend_pid() LIMIT 1"
        ),
        {**_PG_KEY, "d": dataset_id},
    ).first()
    if row is None:
        return "another session (it has just let go)"
    pid, name, since = row
    when = f", since {since.isoformat(timespec='seconds')}" if since is not None else ""
    if name and name.startswith(HOLDER_PREFIX):
        return f"{name[len(HOLDER_PREFIX) :]} (pid {pid}{when})"
    return f"the session with pid {pid} (application_name {name or ''!r}{when})"


# SQLite


def _lock_path(conn: Connection, dataset_id: str) -> Path | None:
    """`<database>-lock-<dataset>`, beside the database's own -wal and -shm files; None for an
    in-memory database."""
    db = conn.engine.url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(f"{db}-lock-{dataset_id}")


def _flock(path: Path, holder: str) -> IO[str] | None:
    """The lock file, locked and naming `holder`; None while another holds it."""
    import fcntl

    fh = open(path, "a+", encoding="utf-8")  # held until the transaction ends
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    _name(fh, holder)
    return fh


def _name(fh: IO[str], holder: str) -> None:
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    fh.seek(0)
    fh.truncate()
    fh.write(f"{holder} (pid {os.getpid()} on {socket.gethostname()}, since {since})\n")
    fh.flush()


def _file_holder(path: Path) -> str:
    try:
        named = path.read_text(encoding="utf-8").strip()
    except OSError:
        named = ""
    return named or "another load (it has not named itself yet)"


def _sqlite_lock(conn: Connection, dataset_id: str, holder: str, timeout: float) -> float:
    held: dict[str, IO[str]] = conn.info.setdefault(_HELD, {})
    if dataset_id in held:
        _name(held[dataset_id], holder)
        return 0.0
    path = _lock_path(conn, dataset_id)
    waited = 0.0
    fh = None
    if path is not None:
        fh = _flock(path, holder)
        if fh is None:
            who = _file_holder(path)
            if timeout <= 0:
                raise DatasetLocked(dataset_id, who, 0.0)
            _waiting(dataset_id, who, timeout)
            started, pause = time.monotonic(), 0.02
            while fh is None:
                left = timeout - (time.monotonic() - started)
                if left <= 0:
                    waited = time.monotonic() - started
                    raise DatasetLocked(dataset_id, _file_holder(path), waited)
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.5)
                fh = _flock(path, holder)
            waited = time.monotonic() - started
            _got(dataset_id, waited)
        held[dataset_id] = fh
        if not event.contains(conn, "commit", _release):
            event.listen(conn, "commit", _release)
            event.listen(conn, "rollback", _release)
        if not event.contains(conn.engine, "checkin", _release_returned):
            event.listen(conn.engine, "checkin", _release_returned)
    raw = conn.connection.dbapi_connection
    if raw is not None and not getattr(raw, "in_transaction", True):
        # the reads that decide belong to the write transaction; other writers (loads of other
        # datasets) are waited for as long as for this dataset's, at least the engine's own wait
        busy = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
        try:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(busy, round(timeout * 1000))}")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except Exception:
            _release(conn)
            raise
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {busy}")
    return waited


def _release(conn: Connection) -> None:
    """The transaction ended: let go of the SQLite lock files it held."""
    for fh in conn.info.pop(_HELD, {}).values():
        fh.close()


def _release_returned(_dbapi: Any, record: Any) -> None:
    """A connection went back to the pool (a safety net: the transaction ended without
    commit or rollback reaching its Connection)."""
    if record is not None:
        for fh in record.info.pop(_HELD, {}).values():
            fh.close()
