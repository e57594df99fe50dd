"""Retention: lake objects holding personal data are deleted once the catalog's period has passed,
and every deletion is recorded, with its reason, in `meta.retention_audit`.

This is the only code that deletes anything from the lake, or from the backup target (see
Backups below); tests/integration/test_retention.py scans the source tree to keep it so. The one other
`lake.delete` is the inbox move in `pipeline.extract`: the inbox is the OPD's drop folder, and
an upload leaves it only after its bytes are stored under raw/, so consuming it moves data and
loses none.

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

Backups (serasan.admin.backup), by the same code path (record, then delete; GAGAL and retried):

- Warehouse dumps, `backups/warehouse/<YYYY-MM-DD>/` as a whole (the dump first, manifest.json
  last), in the lake and, separately judged, in the backup target (`SERASAN_BACKUP_LAKE_URL`,
  where the backup copies each day's dump). A folder is due when `day + keep_days <= as_of`,
  `keep_days` being `SERASAN_BACKUP_KEEP_DAYS` (default 35; below 7 it is refused, so a week of
  broken backups can still be restored from), except that the newest 7 complete dumps (with a
  readable manifest naming a dump that is there) always stay, whatever their age. Rows: kind
  `backup`, dataset_id `backups/warehouse`, the dump's sha256 from its manifest (when the sizes
  agree) and the manifest's own, received_at the manifest's `finished_at` (the day without one).
- Copies in the backup target of raw and quarantine objects: a key under
  `raw|quarantine/<dataset>/` of a dataset with `retention` that the target holds, the lake
  does not, and that retention recorded deleting from the lake (the newest such row that does
  not say GAGAL) is deleted from the target: in the same run as the lake delete, or in the
  first later one that reaches the target. Its own row has the kind of the lake's (raw or
  quarantine), the lake row's received_at and policy_days, a reason starting "salinan cadangan"
  that quotes the lake row's, and as object_key the copy's full address in the target
  (`s3://bucket/key` or `/folder/key`). That is how every row says where: a bare key is in the
  lake. A key only in the target, with no such row, is the backup doing its job (the lake lost
  it): kept and reported. The backup copies only what the lake holds, so nothing comes back.

A refused SERASAN_BACKUP_KEEP_DAYS or an unreachable target stops that part only (the lake's
personal data is still deleted) and is counted in `failed`, so the CLI exits 1 and the DAG
task fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from serasan.admin import backup
from serasan.common.clock import JAKARTA
from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.lake.keys import QUARANTINE, RAW, manifest_key
from serasan.lake.store import Lake, LakeError
from serasan.warehouse.tables import table

log = logging.getLogger(__name__)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FAILED = "GAGAL dihapus"  # marks an audit row whose object is still there (lake or target)
ACTOR_DAG = "retention-dag"
KEEP_ENV = "SERASAN_BACKUP_KEEP_DAYS"
KEEP_DEFAULT = 35
MIN_KEEP_DAYS = 7  # a broken week of backups must stay restorable
MIN_DUMPS = 7  # the newest complete dumps, kept whatever their age
DUMPS = "backups/warehouse"  # dataset_id of dump rows (no dataset id has a '/')
COPY = "salinan cadangan"  # starts the reason of a row for a copy deleted from the backup target
LAKE, TARGET = "lake", "backup_target"  # where an object is


class RetentionIncomplete(Exception):
    """Some due objects could not be deleted; each is marked in meta.retention_audit."""


class RetentionConfigError(ValueError):
    """A retention setting is refused; the message says which and why."""


@dataclass(frozen=True)
class Received:
    """When a file arrived: `at` as recorded, `day` in Asia/Jakarta, and where it came from."""

    at: str
    day: dt.date
    source: str  # manifest | object_event | folder (a dump's day) | audit (the lake's row)


@dataclass(frozen=True)
class Folder:
    """One `<kind>/<dataset>/<sha256>/` folder (or a dump's `backups/warehouse/<day>/`): it is
    kept or deleted as a whole."""

    dataset_id: str
    kind: str  # raw | quarantine | backup
    sha256: str | None  # the folder's sha256; None for a dump folder
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
    where: str = LAKE  # or TARGET
    addresses: dict[str, str] = field(default_factory=dict)  # key -> object_key, if not the key
    shas: dict[str, str | None] = field(default_factory=dict)  # key -> sha256, if not the folder's

    def address(self, key: str) -> str:
        return self.addresses.get(key, key)

    def sha256(self, key: str) -> str | None:
        return self.shas[key] if key in self.shas else self.folder.sha256


@dataclass
class Plan:
    due: list[Due]
    kept: int  # objects under a retention policy, not yet due
    skipped: list[dict[str, str]]  # objects that cannot be dated or are not in a sha folder


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
        sha, _, name = key[len(prefix) :].partition("/")
        if SHA256.match(sha) and name:
            grouped.setdefault(sha, []).append(key)
        else:
            odd.append(
                _skip(key, ds.id, kind, LAKE, f"not in a {prefix}<sha256>/ folder: left alone")
            )
    folders = [
        Folder(ds.id, kind, sha, _manifest_last(keys, manifest_key(ds.id, sha)))
        for sha, keys in sorted(grouped.items())
    ]
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
        rows = conn.execute(
            select(ev.c.sha256, func.min(ev.c.logical_date))
            .where(ev.c.dataset_id == ds.id)
            .group_by(ev.c.sha256)
        ).all()
    return {sha: day for sha, day in rows}


def _audit_rows(engine: Engine, dataset_id: str) -> list[Any]:
    audit = table("meta", "retention_audit", engine.dialect.name)
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit).where(audit.c.dataset_id == dataset_id).order_by(audit.c.id)
            ).all()
        )


def _unmarked_rows(engine: Engine, dataset_id: str) -> dict[tuple[str, str | None], int]:
    """(object_key, received_at) -> id of audit rows that do not say the delete failed."""
    return {
        (r.object_key, r.received_at): r.id
        for r in _audit_rows(engine, dataset_id)
        if FAILED not in r.reason
    }


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
        rows = _unmarked_rows(engine, ds.id)
        received: dict[str, Received | None] = {}
        for kind, days in (
            ("raw", ds.retention.raw_days),
            ("quarantine", ds.retention.quarantine_days),
        ):
            folders, odd = _folders(lake, ds, kind)
            result.skipped += odd
            for folder in folders:
                sha = folder.sha256
                assert sha is not None  # a raw or quarantine folder is named by its sha256
                if sha not in received:
                    received[sha] = _received(lake, ds, sha, events)
                _judge(lake, folder, days, received[sha], rows, as_of, result)
    return result


def _received(lake: Lake, ds: Dataset, sha: str, events: dict[str, dt.date]) -> Received | None:
    found = _from_manifest(lake, ds, sha)
    if found is None and sha in events:
        found = Received(at=events[sha].isoformat(), day=events[sha], source="object_event")
    return found


def _judge(
    lake: Lake,
    folder: Folder,
    days: int,
    received: Received | None,
    rows: dict[tuple[str, str | None], int],
    as_of: dt.date,
    result: Plan,
) -> None:
    if received is None:
        result.skipped += [
            _skip(
                k,
                folder.dataset_id,
                folder.kind,
                LAKE,
                "arrival unknown (no readable manifest, no meta.object_event): "
                "kept; check it by hand",
            )
            for k in folder.keys
        ]
        return
    due = deadline(received.day, days)
    if due > as_of:
        result.kept += len(folder.keys)
        return
    result.due.append(
        Due(
            folder=folder,
            received=received,
            policy_days=days,
            deadline=due,
            reason=_reason(folder.kind, days, received, due),
            sizes={k: lake.size(k) for k in folder.keys},
            recorded={k: rows[(k, received.at)] for k in folder.keys if (k, received.at) in rows},
        )
    )


# ------------------------------------------------------------------------ backups: settings


def backup_keep_days(env: Mapping[str, str] | None = None) -> int:
    """Days a warehouse dump is kept: `SERASAN_BACKUP_KEEP_DAYS`, default 35, at least 7."""
    env = os.environ if env is None else env
    text = (env.get(KEEP_ENV) or "").strip()
    if not text:
        return KEEP_DEFAULT
    try:
        days = int(text)
    except ValueError:
        raise RetentionConfigError(
            f"{KEEP_ENV}={text!r} is not a whole number of days: set it to {MIN_KEEP_DAYS} or "
            f"more, or leave it unset for {KEEP_DEFAULT}"
        ) from None
    if days < MIN_KEEP_DAYS:
        raise RetentionConfigError(
            f"{KEEP_ENV}={days} is refused: dumps are kept at least {MIN_KEEP_DAYS} days, so "
            f"that a week of broken backups can still be restored from an older one; set it to "
            f"{MIN_KEEP_DAYS} or more, or leave it unset for {KEEP_DEFAULT}"
        )
    return days


@dataclass(frozen=True)
class Backups:
    """How retention treats backups: dumps are kept `keep_days` (None: the setting was refused,
    and no dump is deleted); `target` is the backup target, if any; `errors` what kept either
    from being used."""

    keep_days: int | None = KEEP_DEFAULT
    target: Lake | None = None
    errors: tuple[str, ...] = ()
    target_url: str | None = None  # as configured, even when it could not be opened


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:400]


def _unusable(where: str | None, exc: BaseException) -> str:
    return (
        f"backup target {where} ({backup.TARGET_ENV}) could not be used ({_brief(exc)}): "
        "nothing was deleted there in this run; its old dumps and its copies of what "
        "retention deleted from the lake go on the next run that reaches it"
    )


def backups_from_env(
    lake: Lake, settings: Settings | None = None, env: Mapping[str, str] | None = None
) -> Backups:
    """`SERASAN_BACKUP_KEEP_DAYS` and the backup target (`SERASAN_BACKUP_LAKE_URL`, on the
    endpoint and keys of `settings`, default the environment's, unless its own are set), as
    `serasan.admin.backup` reads them. A problem is returned in `errors`, never raised."""
    env = os.environ if env is None else env
    errors = []
    try:
        keep: int | None = backup_keep_days(env)
    except RetentionConfigError as exc:
        keep = None
        errors.append(f"{exc}; no warehouse dump was deleted")
    target = None
    try:
        target = backup.open_target(lake, settings or Settings.from_env(env), env)
    except backup.BackupError as exc:  # the lake itself
        errors.append(f"{exc}; nothing was deleted in the backup target")
    except Exception as exc:  # unreachable, or no endpoint: the lake's part still runs
        errors.append(_unusable(env.get(backup.TARGET_ENV), exc))
    return Backups(keep, target, tuple(errors), env.get(backup.TARGET_ENV) or None)


# ------------------------------------------------------------------------ backups: plan


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if DAY.match(text) else None
    except ValueError:
        return None


def _day_of(at: str | None) -> dt.date | None:
    """The Asia/Jakarta date of an audit row's received_at (a moment, or already a date)."""
    if at and _day(at):
        return _day(at)
    try:
        moment = dt.datetime.fromisoformat(at or "")
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(JAKARTA).date()


def _skip(key: str, dataset_id: str, kind: str, where: str, why: str) -> dict[str, str]:
    return {"key": key, "dataset": dataset_id, "kind": kind, "where": where, "why": why}


def _addresses(store: Lake, keys: tuple[str, ...], where: str) -> dict[str, str]:
    """What a row's object_key says: the key in the lake, the full address in the target."""
    return {k: store.location(k) for k in keys} if where == TARGET else {}


def _dump_manifest(
    store: Lake, keys: list[str], key: str
) -> tuple[dict[str, Any] | None, bytes | None]:
    """A dump folder's manifest (None unless it is readable and names a dump that is there),
    and its bytes (None when there is no manifest)."""
    if key not in keys:
        return None, None
    data = store.get(key)
    try:
        doc = json.loads(data)
    except ValueError:
        return None, data
    complete = isinstance(doc, dict) and doc.get("key") in keys and doc.get("key") != key
    return (doc if complete else None), data


def _dump_plan(
    store: Lake, engine: Engine, keep_days: int, as_of: dt.date, where: str
) -> tuple[list[Due], int, list[dict[str, str]]]:
    """The dump folders of one store due on `as_of`, how many are kept, and keys of any other
    shape (reported, never deleted)."""
    prefix = backup.WAREHOUSE_PREFIX
    folders: dict[dt.date, list[str]] = {}
    odd = []
    for key in store.list(prefix):
        day, _, name = key[len(prefix) :].partition("/")
        date = _day(day)
        if date and name:
            folders.setdefault(date, []).append(key)
        else:
            odd.append(
                _skip(
                    key,
                    DUMPS,
                    "backup",
                    where,
                    f"not in a {prefix}<YYYY-MM-DD>/ folder: left alone",
                )
            )
    manifests = {
        d: _dump_manifest(store, keys, f"{prefix}{d.isoformat()}/manifest.json")
        for d, keys in folders.items()
    }
    complete = sorted(d for d, (doc, _) in manifests.items() if doc is not None)
    newest = set(complete[-MIN_DUMPS:])
    rows = _unmarked_rows(engine, DUMPS)
    dues, kept = [], 0
    for d in sorted(folders):
        limit = deadline(d, keep_days)
        if d in newest or limit > as_of:
            kept += 1
            continue
        doc, data = manifests[d]
        manifest = f"{prefix}{d.isoformat()}/manifest.json"
        keys = _manifest_last(folders[d], manifest)
        finished = doc.get("finished_at") if doc else None
        at = (
            finished
            if isinstance(finished, str) and len(finished) <= 40 and _day_of(finished)
            else d.isoformat()
        )
        sizes = {k: store.size(k) for k in keys}
        shas: dict[str, str | None] = dict.fromkeys(keys)
        if (
            doc
            and sizes.get(doc["key"]) == doc.get("size_bytes")
            and SHA256.match(str(doc.get("sha256")))
        ):
            shas[doc["key"]] = doc["sha256"]
        if data is not None:
            shas[manifest] = hashlib.sha256(data).hexdigest()
        reason = (
            (f"{COPY}: " if where == TARGET else "")
            + f"backup_keep_days={keep_days} lewat: dump {d}, batas {limit}; {MIN_DUMPS} "
            "dump lengkap terbaru selalu disimpan"
            + ("" if doc else " (tanpa manifest yang terbaca: dump tidak lengkap)")
        )
        addresses = _addresses(store, keys, where)
        dues.append(
            Due(
                folder=Folder(DUMPS, "backup", None, keys),
                received=Received(at=at, day=d, source="manifest" if doc else "folder"),
                policy_days=keep_days,
                deadline=limit,
                reason=reason,
                sizes=sizes,
                recorded={
                    k: rows[(addresses.get(k, k), at)]
                    for k in keys
                    if (addresses.get(k, k), at) in rows
                },
                where=where,
                addresses=addresses,
                shas=shas,
            )
        )
    return dues, kept, odd


@dataclass(frozen=True)
class Gone:
    """What the newest audit row of a lake key deleted by retention says (not GAGAL)."""

    kind: str
    sha256: str | None
    received_at: str | None
    policy_days: int
    reason: str
    audit_id: int | None  # None: deleted from the lake in this (dry) run


def _gone_from_lake(engine: Engine, dataset_id: str) -> dict[str, Gone]:
    out = {}
    for r in _audit_rows(engine, dataset_id):  # oldest first: the newest row wins
        if r.object_key.startswith((RAW, QUARANTINE)) and FAILED not in r.reason:
            out[r.object_key] = Gone(r.kind, r.sha256, r.received_at, r.policy_days, r.reason, r.id)
    return out


def _copy_plan(
    lake: Lake,
    target: Lake,
    engine: Engine,
    catalog: Catalog,
    as_of: dt.date,
    pending: dict[str, Gone],
) -> tuple[list[Due], list[dict[str, str]]]:
    """The target's copies of raw and quarantine objects that retention deleted from the lake;
    `pending`, in a dry run, what it would delete from the lake now. One Due per copy: the
    target is not dated by its manifests, so each copy goes on its own."""
    dues, odd = [], []
    for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
        if ds.retention is None:
            continue
        gone: dict[str, Gone] | None = None
        rows: dict[tuple[str, str | None], int] = {}
        for kind in ("raw", "quarantine"):
            prefix = f"{kind}/{ds.id}/"
            copies = target.list(prefix)
            if not copies:
                continue
            if gone is None:
                gone = {**_gone_from_lake(engine, ds.id), **pending}
                rows = _unmarked_rows(engine, ds.id)
            in_lake = set(lake.list(prefix)) - set(pending)
            for key in sorted(copies, key=lambda k: (k.endswith("/manifest.json"), k)):
                if key in in_lake:
                    continue  # the lake's object governs: its copy follows when it goes
                g = gone.get(key)
                if g is None:
                    odd.append(
                        _skip(
                            key,
                            ds.id,
                            kind,
                            TARGET,
                            "only in the backup target, and retention never deleted it "
                            "from the lake: kept (the backup may be all that is left; "
                            "check it by hand)",
                        )
                    )
                    continue
                address = target.location(key)
                received = Received(
                    at=g.received_at or "", day=_day_of(g.received_at) or as_of, source="audit"
                )
                origin = (
                    f"aslinya dihapus dari lake (audit #{g.audit_id})"
                    if g.audit_id
                    else "aslinya dihapus dari lake"
                )
                dues.append(
                    Due(
                        folder=Folder(ds.id, g.kind, g.sha256, (key,)),
                        received=received,
                        policy_days=g.policy_days,
                        deadline=deadline(received.day, g.policy_days),
                        reason=f"{COPY}: {origin}; {g.reason}",
                        sizes={key: target.size(key)},
                        recorded={key: rows[(address, received.at)]}
                        if (address, received.at) in rows
                        else {},
                        where=TARGET,
                        addresses={key: address},
                    )
                )
    return dues, odd


def _pending(dues: list[Due]) -> dict[str, Gone]:
    """What a dry run would delete from the lake, as the audit would then say it."""
    return {
        k: Gone(d.folder.kind, d.folder.sha256, d.received.at, d.policy_days, d.reason, None)
        for d in dues
        for k in d.folder.keys
    }


# ------------------------------------------------------------------------ delete


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _record(engine: Engine, due: Due, keys: list[str], actor: str) -> dict[str, int]:
    """Audit rows for objects about to be deleted, in one transaction; key -> row id."""
    audit = table("meta", "retention_audit", engine.dialect.name)
    now, ids = _now(), {}
    with engine.begin() as conn:
        for key in keys:
            pk = conn.execute(
                insert(audit).values(
                    object_key=due.address(key),
                    dataset_id=due.folder.dataset_id,
                    kind=due.folder.kind,
                    sha256=due.sha256(key),
                    size_bytes=due.sizes[key],
                    received_at=due.received.at,
                    deleted_at=now,
                    policy_days=due.policy_days,
                    reason=due.reason,
                    actor=actor,
                )
            ).inserted_primary_key
            assert pk is not None  # a single-row INSERT reports the key it wrote
            ids[key] = pk[0]
    return ids


def _mark_failed(engine: Engine, row_id: int, error: str) -> None:
    audit = table("meta", "retention_audit", engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(
            update(audit)
            .where(audit.c.id == row_id)
            .values(reason=audit.c.reason + f"; {FAILED}: {error}")
        )


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


def _delete(store: Lake, engine: Engine, due: Due, actor: str) -> list[dict[str, Any]]:
    """Record, then delete, one folder (in the lake or the target, as `due.where` says); the
    first failure keeps the rest of it."""
    keys = due.folder.keys
    ids = {
        **due.recorded,
        **_record(engine, due, [k for k in keys if k not in due.recorded], actor),
    }
    out, failed_on = [], None
    for key in keys:
        if failed_on is None:
            error = _try_delete(store, key)
            failed_on = key if error else None
        else:
            error = f"tidak dicoba karena {failed_on} gagal dihapus"
        if error:
            _mark_failed(engine, ids[key], error)
            log.error("retention: %s not deleted: %s", due.address(key), error)
        out.append(_object(due, key, "failed" if error else "deleted", ids[key], error))
    return out


def _act(store: Lake, engine: Engine, due: Due, actor: str, dry_run: bool) -> list[dict[str, Any]]:
    if dry_run:
        return [_object(due, k, "would_delete", None) for k in due.folder.keys]
    return _delete(store, engine, due, actor)


def _object(
    due: Due, key: str, status: str, audit_id: int | None, error: str | None = None
) -> dict[str, Any]:
    return {
        "key": key,
        "where": due.where,
        "dataset": due.folder.dataset_id,
        "kind": due.folder.kind,
        "sha256": due.sha256(key),
        "size_bytes": due.sizes[key],
        "received_at": due.received.at,
        "policy_days": due.policy_days,
        "reason": due.reason,
        "status": status,
        "audit_id": audit_id,
        "error": error,
    }


def run_retention(
    lake: Lake,
    engine: Engine,
    catalog: Catalog,
    as_of: dt.date,
    actor: str,
    dry_run: bool = False,
    *,
    backups: Backups | None = None,
) -> dict[str, Any]:
    """Delete (or, dry, list) every object due on `as_of`; a JSON-able summary of what happened.

    First the lake's personal data and old dumps, then, in the backup target, the copies of
    what retention deleted from the lake and the target's old dumps. `backups` defaults to
    `backups_from_env(lake)`. `failed` counts the objects not deleted and the `errors` (a part
    that could not run: a refused SERASAN_BACKUP_KEEP_DAYS, an unusable backup target). Running
    it again deletes and records nothing new; a dry run writes nothing at all.
    """
    b = backups_from_env(lake) if backups is None else backups
    errors = list(b.errors)
    p = plan(lake, engine, catalog, as_of)
    skipped = list(p.skipped)
    dumps_kept: dict[str, int] = {}
    lake_dumps: list[Due] = []
    if b.keep_days is not None:
        lake_dumps, dumps_kept[LAKE], odd = _dump_plan(lake, engine, b.keep_days, as_of, LAKE)
        skipped += odd
    objects: list[dict[str, Any]] = []
    for due in p.due + lake_dumps:
        objects += _act(lake, engine, due, actor, dry_run)
    if b.target is not None:  # after the lake: a copy goes only once its original has gone
        try:
            target_dues, odd = _copy_plan(
                lake, b.target, engine, catalog, as_of, _pending(p.due) if dry_run else {}
            )
            if b.keep_days is not None:
                dumps, dumps_kept[TARGET], more = _dump_plan(
                    b.target, engine, b.keep_days, as_of, TARGET
                )
                target_dues, odd = target_dues + dumps, odd + more
        except SQLAlchemyError:
            raise
        except Exception as exc:  # the target went away: its part waits for the next run
            errors.append(_unusable(b.target.location(""), exc))
        else:
            skipped += odd
            for due in target_dues:
                objects += _act(b.target, engine, due, actor, dry_run)
    for s in skipped:
        log.warning(
            "retention: %s%s skipped: %s",
            s["key"],
            " in the backup target" if s.get("where") == TARGET else "",
            s["why"],
        )
    for e in errors:
        log.error("retention: %s", e)
    return {
        "as_of": as_of.isoformat(),
        "dry_run": dry_run,
        "actor": actor,
        "datasets": sorted(d.id for d in catalog.datasets.values() if d.retention),
        "objects": objects,
        "deleted": sum(o["status"] == "deleted" for o in objects),
        "failed": sum(o["status"] == "failed" for o in objects) + len(errors),
        "kept": p.kept,
        "skipped": skipped,
        "errors": errors,
        "backups": {
            "keep_days": b.keep_days,
            "min_dumps": MIN_DUMPS,
            "target": b.target.location("") if b.target is not None else b.target_url,
            "dumps_kept": dumps_kept,
        },
    }


def render(result: dict[str, Any]) -> str:
    """The summary as the CLI prints it."""
    n = len(result["objects"])
    failed = sum(o["status"] == "failed" for o in result["objects"])
    if result["dry_run"]:
        head = (
            f"dry run, retention as of {result['as_of']}: {n} object(s) would be deleted; "
            "nothing deleted or recorded"
        )
    else:
        head = (
            f"retention as of {result['as_of']} by {result['actor']}: {result['deleted']} "
            "object(s) deleted, recorded in meta.retention_audit"
            + (f"; {failed} FAILED (marked '{FAILED}', tried again next run)" if failed else "")
        )
    lines = [f"{head}; {result['kept']} kept (not yet due)"]
    lines += [f"  ERROR: {e}" for e in result["errors"]]
    bk = result["backups"]
    if bk["keep_days"] is not None:
        kept = bk["dumps_kept"]
        lines.append(
            f"  backups: warehouse dumps kept {bk['keep_days']} days, and the newest "
            f"{bk['min_dumps']} complete ones whatever their age: "
            f"{kept.get(LAKE, 0)} kept in the lake"
            + (f", {kept[TARGET]} in the backup target {bk['target']}" if TARGET in kept else "")
        )
    if bk["target"] is None:
        lines.append(f"  backups: {backup.TARGET_ENV} is not set: no backup target to prune")
    for o in result["objects"]:
        where = " in the backup target" if o["where"] == TARGET else ""
        lines.append(
            f"  {o['status']}: {o['key']}{where} ({o['kind']}, {o['size_bytes']} "
            f"bytes): {o['reason']}" + (f"; {o['error']}" if o["error"] else "")
        )
    lines += [
        f"  skipped: {s['key']}{' in the backup target' if s.get('where') == TARGET else ''}"
        f": {s['why']}"
        for s in result["skipped"]
    ]
    return "\n".join(lines)
