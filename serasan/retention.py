"""Retention: lake objects holding personal data are deleted once the catalog's period has passed,
and every deletion is recorded, with its reason, in `meta.retention_audit`.

This is the only code that deletes anything from the lake; tests/test_retention.py scans the
source tree to keep it so. The one other `lake.delete` is the inbox move in `pipeline.extract`:
the inbox is the OPD's drop folder, and an upload leaves it only after its bytes are stored
under raw/, so consuming it moves data and loses none.

What: for each dataset with `retention` (every dataset with personal data must have one; the
others are never touched), the folders `raw/<dataset>/<sha256>/` (the file and its manifest)
after `raw_days`, and `quarantine/<dataset>/<sha256>/` (the rejected rows, CSV and XLSX) after
`quarantine_days`. A folder goes as a whole. Keys of any other shape are reported, not deleted.

How old: both count from when the file arrived, as `Retention` says: the `received_at` of the raw
manifest of that sha256, as a date in Asia/Jakarta. A quarantine file is written later (and again
on reprocessing) but holds the upload's rows, so its clock starts with the upload. A folder is
due when `received date + days <= as_of`. Without a readable manifest (never written, corrupt,
or the raw folder already deleted), the date of the first `meta.object_event` of that sha256 is
used: the logical date of the run that took the file from the inbox (the Lake port has no object
times, and copies would reset them anyway). Without either, the folder is kept and reported.

Audit before delete: one transaction records every object of a due folder, then they are
deleted, data files first and the manifest last (so an interrupted run can still date what is
left). A delete that fails appends "GAGAL dihapus: <error>" to its row, and the rest of that
folder is kept (their rows say so too); the next run tries again under new rows. A run killed
between the record and the delete leaves unmarked rows for objects still present: the next run
deletes those without recording them again (matched on key and received_at, so a file uploaded
again after its deletion is recorded afresh). So every deletion has a row, none has two, and an
unmarked row's object is gone or goes on the next run. `deleted_at` is when the row was written,
just before the delete.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select, update

from serasan.catalog import Catalog, Dataset
from serasan.lake import Lake, LakeError
from serasan.warehouse.tables import table

log = logging.getLogger(__name__)
JAKARTA = ZoneInfo("Asia/Jakarta")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
FAILED = "GAGAL dihapus"  # marks an audit row whose object is still in the lake
ACTOR_DAG = "retention-dag"


class RetentionIncomplete(Exception):
    """Some due objects could not be deleted; each is marked in meta.retention_audit."""


@dataclass(frozen=True)
class Received:
    """When a file arrived: `at` as recorded, `day` in Asia/Jakarta, and where it came from."""

    at: str
    day: dt.date
    source: str  # manifest | object_event


@dataclass(frozen=True)
class Folder:
    """One `<kind>/<dataset>/<sha256>/` folder: it is kept or deleted as a whole."""

    dataset_id: str
    kind: str  # raw | quarantine
    sha256: str
    keys: tuple[str, ...]  # the manifest, if any, last


@dataclass(frozen=True)
class Due:
    """A folder past its policy, with what its audit rows will say."""

    folder: Folder
    received: Received
    policy_days: int
    deadline: dt.date
    reason: str
    sizes: dict[str, int]
    recorded: dict[str, int]  # key -> id of an earlier unmarked audit row (an interrupted run)


@dataclass
class Plan:
    due: list[Due]
    kept: int  # objects under a retention policy, not yet due
    skipped: list[dict[str, str]]  # objects that cannot be dated or are not in a sha folder


def manifest_key(dataset_id: str, sha256: str) -> str:
    return f"raw/{dataset_id}/{sha256}/manifest.json"


def deadline(received: dt.date, days: int) -> dt.date:
    """The first day on which an object received on `received` is due for deletion."""
    return received + dt.timedelta(days=days)


# ------------------------------------------------------------------------ plan


def _folders(lake: Lake, ds: Dataset, kind: str) -> tuple[list[Folder], list[dict[str, str]]]:
    """The dataset's sha256 folders of one kind; keys of any other shape are reported."""
    prefix = f"{kind}/{ds.id}/"
    grouped: dict[str, list[str]] = {}
    odd = []
    for key in lake.list(prefix):
        sha, _, name = key[len(prefix):].partition("/")
        if SHA256.match(sha) and name:
            grouped.setdefault(sha, []).append(key)
        else:
            odd.append({"key": key, "dataset": ds.id, "kind": kind,
                        "why": f"not in a {prefix}<sha256>/ folder: left alone"})
    folders = [Folder(ds.id, kind, sha, _manifest_last(keys, manifest_key(ds.id, sha)))
               for sha, keys in sorted(grouped.items())]
    return folders, odd


def _manifest_last(keys: list[str], manifest: str) -> tuple[str, ...]:
    """Deleted last, the manifest still dates what an interrupted run left behind."""
    return tuple(sorted(keys, key=lambda k: (k == manifest, k)))


def _from_manifest(lake: Lake, ds: Dataset, sha: str) -> Received | None:
    try:
        at = json.loads(lake.get(manifest_key(ds.id, sha)))["received_at"]
        moment = dt.datetime.fromisoformat(at)
    except (LakeError, ValueError, KeyError, TypeError):  # missing or corrupt: try the events
        return None
    if moment.tzinfo is None:  # the pipeline writes UTC with an offset; assume UTC without one
        moment = moment.replace(tzinfo=dt.UTC)
    return Received(at=at, day=moment.astimezone(JAKARTA).date(), source="manifest")


def _first_events(engine: Engine, ds: Dataset) -> dict[str, dt.date]:
    """sha256 -> the logical date of the run that first saw it in the inbox."""
    ev = table("meta", "object_event", engine.dialect.name)
    with engine.connect() as conn:
        rows = conn.execute(select(ev.c.sha256, func.min(ev.c.logical_date)).where(
            ev.c.dataset_id == ds.id).group_by(ev.c.sha256)).all()
    return {sha: day for sha, day in rows}


def _unmarked_rows(engine: Engine, ds: Dataset) -> dict[tuple[str, str | None], int]:
    """(key, received_at) -> id of audit rows that do not say the delete failed."""
    audit = table("meta", "retention_audit", engine.dialect.name)
    with engine.connect() as conn:
        rows = conn.execute(select(audit.c.id, audit.c.object_key, audit.c.received_at,
                                   audit.c.reason).where(audit.c.dataset_id == ds.id)).all()
    return {(r.object_key, r.received_at): r.id for r in rows if FAILED not in r.reason}


def _reason(kind: str, days: int, received: Received, due: dt.date) -> str:
    text = f"{kind}_days={days} lewat: diterima {received.day}, batas {due}"
    if received.source == "object_event":
        text += " (tanggal dari meta.object_event: manifest tidak ada atau rusak)"
    return text


def plan(lake: Lake, engine: Engine, catalog: Catalog, as_of: dt.date) -> Plan:
    """What is due on `as_of`, what is kept, and what cannot be judged; changes nothing."""
    result = Plan(due=[], kept=0, skipped=[])
    for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
        if ds.retention is None:
            continue
        events = _first_events(engine, ds)
        rows = _unmarked_rows(engine, ds)
        received: dict[str, Received | None] = {}
        for kind, days in (("raw", ds.retention.raw_days),
                           ("quarantine", ds.retention.quarantine_days)):
            folders, odd = _folders(lake, ds, kind)
            result.skipped += odd
            for folder in folders:
                if folder.sha256 not in received:
                    received[folder.sha256] = _received(lake, ds, folder.sha256, events)
                _judge(lake, folder, days, received[folder.sha256], rows, as_of, result)
    return result


def _received(lake: Lake, ds: Dataset, sha: str, events: dict[str, dt.date]) -> Received | None:
    found = _from_manifest(lake, ds, sha)
    if found is None and sha in events:
        found = Received(at=events[sha].isoformat(), day=events[sha], source="object_event")
    return found


def _judge(lake: Lake, folder: Folder, days: int, received: Received | None,
           rows: dict[tuple[str, str | None], int], as_of: dt.date, result: Plan) -> None:
    if received is None:
        result.skipped += [{"key": k, "dataset": folder.dataset_id, "kind": folder.kind,
                            "why": "arrival unknown (no readable manifest, no meta.object_event):"
                                   " kept; check it by hand"} for k in folder.keys]
        return
    due = deadline(received.day, days)
    if due > as_of:
        result.kept += len(folder.keys)
        return
    result.due.append(Due(
        folder=folder, received=received, policy_days=days, deadline=due,
        reason=_reason(folder.kind, days, received, due),
        sizes={k: lake.size(k) for k in folder.keys},
        recorded={k: rows[(k, received.at)] for k in folder.keys if (k, received.at) in rows}))


# ------------------------------------------------------------------------ delete


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _record(engine: Engine, due: Due, keys: list[str], actor: str) -> dict[str, int]:
    """Audit rows for objects about to be deleted, in one transaction; key -> row id."""
    audit = table("meta", "retention_audit", engine.dialect.name)
    now, ids = _now(), {}
    with engine.begin() as conn:
        for key in keys:
            ids[key] = conn.execute(insert(audit).values(
                object_key=key, dataset_id=due.folder.dataset_id, kind=due.folder.kind,
                sha256=due.folder.sha256, size_bytes=due.sizes[key],
                received_at=due.received.at, deleted_at=now, policy_days=due.policy_days,
                reason=due.reason, actor=actor)).inserted_primary_key[0]
    return ids


def _mark_failed(engine: Engine, row_id: int, error: str) -> None:
    audit = table("meta", "retention_audit", engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.id == row_id).values(
            reason=audit.c.reason + f"; {FAILED}: {error}"))


def _try_delete(lake: Lake, key: str) -> str | None:
    """None when the object is gone; else why it is still there."""
    try:
        lake.delete(key)
        return None
    except Exception as exc:  # any backend error: recorded, and tried again on the next run
        error = f"{type(exc).__name__}: {exc}"
    try:
        return error if lake.exists(key) else None  # e.g. a timeout after the delete went through
    except Exception:
        return error


def _delete(lake: Lake, engine: Engine, due: Due, actor: str) -> list[dict[str, Any]]:
    """Record, then delete, one folder; the first failure keeps the rest of it."""
    keys = due.folder.keys
    ids = {**due.recorded, **_record(engine, due, [k for k in keys if k not in due.recorded],
                                     actor)}
    out, failed_on = [], None
    for key in keys:
        if failed_on is None:
            error = _try_delete(lake, key)
            failed_on = key if error else None
        else:
            error = f"tidak dicoba karena {failed_on} gagal dihapus"
        if error:
            _mark_failed(engine, ids[key], error)
            log.error("retention: %s not deleted: %s", key, error)
        out.append(_object(due, key, "failed" if error else "deleted", ids[key], error))
    return out


def _object(due: Due, key: str, status: str, audit_id: int | None,
            error: str | None = None) -> dict[str, Any]:
    return {"key": key, "dataset": due.folder.dataset_id, "kind": due.folder.kind,
            "sha256": due.folder.sha256, "size_bytes": due.sizes[key],
            "received_at": due.received.at, "policy_days": due.policy_days,
            "reason": due.reason, "status": status, "audit_id": audit_id, "error": error}


def run_retention(lake: Lake, engine: Engine, catalog: Catalog, as_of: dt.date, actor: str,
                  dry_run: bool = False) -> dict[str, Any]:
    """Delete (or, dry, list) every object due on `as_of`; a JSON-able summary of what happened.

    Running it again deletes and records nothing new; a dry run writes nothing at all.
    """
    p = plan(lake, engine, catalog, as_of)
    objects: list[dict[str, Any]] = []
    for due in p.due:
        objects += ([_object(due, k, "would_delete", None) for k in due.folder.keys] if dry_run
                    else _delete(lake, engine, due, actor))
    for s in p.skipped:
        log.warning("retention: %s skipped: %s", s["key"], s["why"])
    return {"as_of": as_of.isoformat(), "dry_run": dry_run, "actor": actor,
            "datasets": sorted(d.id for d in catalog.datasets.values() if d.retention),
            "objects": objects, "deleted": sum(o["status"] == "deleted" for o in objects),
            "failed": sum(o["status"] == "failed" for o in objects), "kept": p.kept,
            "skipped": p.skipped}


def render(result: dict[str, Any]) -> str:
    """The summary as the CLI prints it."""
    n = len(result["objects"])
    if result["dry_run"]:
        head = (f"dry run, retention as of {result['as_of']}: {n} object(s) would be deleted; "
                "nothing deleted or recorded")
    else:
        head = (f"retention as of {result['as_of']} by {result['actor']}: {result['deleted']} "
                "object(s) deleted, recorded in meta.retention_audit"
                + (f"; {result['failed']} FAILED (marked '{FAILED}', tried again next run)"
                   if result["failed"] else ""))
    lines = [f"{head}; {result['kept']} kept (not yet due)"]
    for o in result["objects"]:
        lines.append(f"  {o['status']}: {o['key']} ({o['kind']}, {o['size_bytes']} bytes): "
                     f"{o['reason']}" + (f"; {o['error']}" if o["error"] else ""))
    lines += [f"  skipped: {s['key']}: {s['why']}" for s in result["skipped"]]
    return "\n".join(lines)
