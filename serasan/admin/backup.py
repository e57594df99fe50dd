"""Backups: the warehouse into the lake, the lake into a second bucket or folder, and restoring a
warehouse dump into an empty database, checked table by table against its manifest.

Warehouse. On PostgreSQL, `pg_dump --format=custom` of the five layer schemas (ref, staging,
core, mart, meta), run on PATH with the connection from the settings URL; the password goes in
the child's `PGPASSWORD`, never on its command line. The dump is taken inside a REPEATABLE READ
transaction whose snapshot pg_dump imports (`--snapshot`), and the manifest's row count and
content checksum of every table are computed in that same snapshot: they describe exactly the
rows in the dump, even while DAGs load. On SQLite, the sqlite3 backup API copies the file, and
the counts and checksums are computed on the copy. Either way the dump goes to
`backups/warehouse/<YYYY-MM-DD>/warehouse.dump` (or `warehouse.sqlite`), the date being the day
the dump was taken in Asia/Jakarta (a rerun that day replaces it), and then, last, its
`manifest.json`: sha256, size, started/finished, pg_dump and server versions, the Alembic
revision, and per table the rows and checksum. A manifest therefore means a complete dump.

Not in a warehouse dump: roles, their passwords and memberships (they belong to the cluster,
not the database), and, since `restore` runs `pg_restore --no-owner --no-privileges`, object
ownership and grants. After a restore, `serasan warehouse upgrade`, run as a superuser or a
member of serasan_owner, hands every schema and table back to serasan_owner and grants the
loader and the reader again (`roles.ensure_roles`). The Airflow metadata database is not part
of it either.

Lake. Every object outside `backups/` (and the doctor's `_doctor/` probe) is copied to the
backup target (`SERASAN_BACKUP_LAKE_URL`: `s3://bucket`, on the lake's endpoint unless
`SERASAN_BACKUP_S3_ENDPOINT` and `SERASAN_BACKUP_S3_ACCESS_KEY`/`_SECRET_KEY` say otherwise, or
a folder) under the same key, incrementally: an object is copied only when the target lacks it
or holds other bytes (size, then sha256). To avoid reading the whole lake every day, the target
keeps `backups/lake/index.json`: each key's sha256 and size with the source's and the target's
fingerprint (S3 ETag, or a file's mtime and size) when it was last compared; an object whose
fingerprints have not moved is not read again (`full=True` reads and hashes everything). The
day's warehouse dump and manifest are copied too, so the target alone can rebuild both. Each
run writes `backups/lake/<YYYY-MM-DD>/manifest.json` (every key with its sha256 and size, what
was copied, what the target holds that the lake no longer does) to the target and to the lake.

Progress: `table_stats` advances the tracked progress (`serasan.common.progress.current()`)
once per table with its rows, and `backup_lake` once per object; `run_backup` opens each phase
with the `track` it is given (the CLI's `stderr_tracking`; nothing in a DAG), so each phase
has its own label, total and time left.

Nothing here deletes anything, in the lake or the target: retention (serasan.admin.retention) is the
only code that deletes, and it prunes both, each deletion audited: warehouse dumps older than
`SERASAN_BACKUP_KEEP_DAYS` (the newest 7 complete ones always stay), in the lake and in the
target, and the target's copies of the raw and quarantine objects it deleted from the lake.
Until it has, such a copy is listed as `stale` in the manifest. The copy here reads only what
the lake holds, so it never brings a deleted object back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.engine import URL, Connection, make_url

from serasan.common.clock import JAKARTA
from serasan.common.progress import current as current_progress
from serasan.config.settings import Settings
from serasan.lake.store import Lake, LakeError, LocalLake, S3Lake, open_lake
from serasan.warehouse.names import LAYERS

WAREHOUSE_PREFIX = "backups/warehouse/"
LAKE_PREFIX = "backups/lake/"
INDEX_KEY = "backups/lake/index.json"  # in the target
NOT_MIRRORED = ("backups/", "_doctor/")
TARGET_ENV = "SERASAN_BACKUP_LAKE_URL"
DUMP_NAMES = {"postgresql": "warehouse.dump", "sqlite": "warehouse.sqlite"}
NOT_INCLUDED = (
    "roles, their passwords and memberships; object ownership and grants "
    "(restored with --no-owner --no-privileges: run `serasan warehouse upgrade` as "
    "an owner member afterwards); the Airflow metadata database"
)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CHUNK = 1 << 20
# the progress of each phase, as a person reads it: rows per table, then one "row" per object
WAREHOUSE_PHASE = "backup gudang data (per tabel)"
LAKE_PHASE = "backup lake (1 baris = 1 objek)"
Track = Callable[[str], AbstractContextManager[Any]]  # opens a phase's progress by its label


def _untracked(_label: str) -> AbstractContextManager[Any]:
    return nullcontext()


class BackupError(Exception):
    """A backup or restore could not be made; the message says what to fix."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def today() -> str:
    return dt.datetime.now(JAKARTA).date().isoformat()


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _put_file(lake: Lake, key: str, path: Path) -> None:
    """Store a local file under `key`, streamed where the backend allows it."""
    if isinstance(lake, S3Lake):
        lake.client.fput_object(bucket_name=lake.bucket, object_name=key, file_path=str(path))
    elif isinstance(lake, LocalLake):
        dest = Path(lake.location(key))
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        os.close(fd)
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest)
    else:
        lake.put(key, path.read_bytes())


def _put_json(lake: Lake, key: str, doc: Any) -> None:
    lake.put(
        key,
        json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True).encode(),
        content_type="application/json",
    )


# ------------------------------------------------------------------------ settings


def target_settings(
    settings: Settings, env: Mapping[str, str] | None = None, url: str | None = None
) -> Settings | None:
    """The backup target as lake settings: `url` or `SERASAN_BACKUP_LAKE_URL`; None if unset."""
    env = os.environ if env is None else env
    url = url or env.get(TARGET_ENV) or None
    if not url:
        return None
    secure = env.get("SERASAN_BACKUP_S3_SECURE")
    return dataclasses.replace(
        settings,
        lake_url=url,
        s3_endpoint=env.get("SERASAN_BACKUP_S3_ENDPOINT") or settings.s3_endpoint,
        s3_access_key=env.get("SERASAN_BACKUP_S3_ACCESS_KEY") or settings.s3_access_key,
        s3_secret_key=env.get("SERASAN_BACKUP_S3_SECRET_KEY") or settings.s3_secret_key,
        s3_secure=(secure.lower() in ("1", "true", "yes")) if secure else settings.s3_secure,
    )


def open_target(
    source: Lake, settings: Settings, env: Mapping[str, str] | None = None
) -> Lake | None:
    """The backup target of `settings` (`SERASAN_BACKUP_LAKE_URL`), opened; None when unset.

    Raises BackupError when it is `source` itself or overlaps it, and what `open_lake` raises
    when it cannot be reached.
    """
    conf = target_settings(settings, env)
    if conf is None:
        return None
    target = open_lake(conf)
    _check_target(source, target)
    return target


def _overlap(a: Lake, b: Lake) -> bool:
    """The same bucket on the same server, or folders one inside the other."""
    if isinstance(a, S3Lake) and isinstance(b, S3Lake):
        return (a.endpoint, a.bucket) == (b.endpoint, b.bucket)
    if isinstance(a, LocalLake) and isinstance(b, LocalLake):
        return a.root == b.root or a.root in b.root.parents or b.root in a.root.parents
    return False


def _check_target(source: Lake, target: Lake) -> None:
    if _overlap(source, target):
        raise BackupError(
            f"the backup target {target.location('')} is the lake itself, or "
            f"inside it (or the lake inside it): point {TARGET_ENV} at a second "
            "bucket or a folder elsewhere"
        )


# ------------------------------------------------------------------------ table checksums


def table_stats(conn: Connection) -> dict[str, dict[str, Any]]:
    """Rows and an order-independent content checksum of every warehouse table.

    PostgreSQL: the sum of the first 64 bits of md5(row as text), with the session's output
    settings fixed so the text does not depend on them; keys are `schema.table`. SQLite: the
    same sum over sha256 of each row's Python repr; keys are table names.
    """
    out: dict[str, dict[str, Any]] = {}
    progress = current_progress()  # one advance per table, with its rows
    if conn.dialect.name == "postgresql":
        for stmt in (
            "SET LOCAL TimeZone = 'UTC'",
            "SET LOCAL DateStyle = 'ISO, YMD'",
            "SET LOCAL IntervalStyle = 'postgres'",
            "SET LOCAL extra_float_digits = 3",
            "SET LOCAL bytea_output = 'hex'",
        ):
            conn.execute(sa.text(stmt))
        names = conn.execute(
            sa.text(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(:s) "
                "ORDER BY 1, 2"
            ),
            {"s": list(LAYERS)},
        ).all()
        progress.set_total(len(names))
        for done, (schema, name) in enumerate(names, start=1):
            t = sa.table(name, schema=schema).alias("t")
            md5 = sa.func.md5(sa.cast(sa.literal_column("t"), sa.Text))
            h = sa.cast(
                sa.cast(sa.literal("x", sa.Text) + sa.func.substr(md5, 1, 16), BIT(64)),
                sa.BigInteger,
            )
            rows, total = conn.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(h), 0)).select_from(t)
            ).one()
            out[f"{schema}.{name}"] = {"rows": int(rows), "checksum": str(total)}
            progress.advance(int(rows), done)
        return out
    tables = (
        conn.execute(
            sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        )
        .scalars()
        .all()
    )
    progress.set_total(len(tables))
    for done, name in enumerate(tables, start=1):
        rows = total = 0
        result: sa.CursorResult[Any] = conn.execute(
            sa.select(sa.literal_column("*")).select_from(sa.table(name))
        )
        for row in result:
            rows += 1
            total += int.from_bytes(hashlib.sha256(repr(tuple(row)).encode()).digest()[:8], "big")
        out[name] = {"rows": rows, "checksum": str(total)}
        progress.advance(rows, done)
    return out


def _revision(conn: Connection) -> str | None:
    name = "meta.alembic_version" if conn.dialect.name == "postgresql" else "meta__alembic_version"
    schema, _, table = name.rpartition(".")
    try:
        with conn.begin_nested():
            return conn.execute(
                sa.select(sa.literal_column("version_num")).select_from(
                    sa.table(table, schema=schema or None)
                )
            ).scalar()
    except sa.exc.DBAPIError:
        return None


# ------------------------------------------------------------------------ PostgreSQL tools


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client tools of the "
            "server's major version or newer (Debian: apt-get install "
            "postgresql-client-15)"
        )
    return found


def _pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the child's environment with it."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {k: v for k, v in url.query.items() if isinstance(v, str)}
    params.update(
        {
            k: v
            for k, v in (
                ("host", url.host),
                ("port", url.port),
                ("user", url.username),
                ("dbname", url.database),
            )
            if v
        }
    )
    params.setdefault("connect_timeout", "10")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return make_conninfo(**params), env


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"sqlite {url.database}"
    return f"postgresql {url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _run(cmd: list[str], env: dict[str, str], what: str, secret: str | None) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip()
        if secret:
            err = err.replace(secret, "***")
        raise BackupError(f"{what} failed (exit {proc.returncode}): {err[:2000]}")


def _pg_dump(url: URL, out: Path) -> dict[str, Any]:
    from serasan.warehouse.db import make_engine

    pg_dump = _tool("pg_dump")
    version = subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout
    conninfo, env = _pg_connection(url)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as c:
            conn = c.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
                facts = {
                    "server_version": conn.execute(sa.text("SHOW server_version")).scalar(),
                    "user": conn.execute(sa.text("SELECT current_user")).scalar(),
                    "alembic_revision": _revision(conn),
                    "tables": table_stats(conn),
                }
                cmd = [
                    pg_dump,
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={out}",
                    *[f"--schema={s}" for s in LAYERS],
                    f"--dbname={conninfo}",
                ]
                _run(cmd, env, f"pg_dump of {_where(url)}", url.password)
    finally:
        engine.dispose()
    return {**facts, "tool": version.strip()}


def _sqlite_dump(url: URL, out: Path) -> dict[str, Any]:
    db = Path(url.database or "")
    if not db.is_file():
        raise BackupError(f"SQLite warehouse {db} does not exist: nothing to back up")
    src = sqlite3.connect(db, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    engine = sa.create_engine(f"sqlite:///{out}")
    try:
        with engine.connect() as conn:
            facts = {"alembic_revision": _revision(conn), "tables": table_stats(conn)}
    finally:
        engine.dispose()
    return {
        **facts,
        "tool": f"sqlite3 backup API (SQLite {sqlite3.sqlite_version})",
        "server_version": sqlite3.sqlite_version,
    }


# ------------------------------------------------------------------------ warehouse backup


def dump_warehouse(
    settings: Settings, lake: Lake, *, day: str | None = None, logical_date: str | None = None
) -> dict[str, Any]:
    """Dump the warehouse into `lake` (the dump, then its manifest); returns the manifest."""
    url = make_url(settings.warehouse_url)
    backend = url.get_backend_name()
    if backend not in DUMP_NAMES:
        raise BackupError(f"cannot back up a {backend} warehouse: PostgreSQL or SQLite only")
    day = day or today()
    prefix = f"{WAREHOUSE_PREFIX}{day}/"
    key = prefix + DUMP_NAMES[backend]
    started = _now()
    with tempfile.TemporaryDirectory(prefix="serasan-backup-") as tmp:
        path = Path(tmp) / DUMP_NAMES[backend]
        try:
            facts = _pg_dump(url, path) if backend == "postgresql" else _sqlite_dump(url, path)
        except (sa.exc.DBAPIError, sqlite3.Error) as exc:
            raise BackupError(
                f"cannot read the warehouse {_where(url)}: {_db_error(exc, url)}"
            ) from None
        sha, size = _sha_file(path), path.stat().st_size
        _put_file(lake, key, path)
    manifest = {
        "kind": "warehouse",
        "backend": backend,
        "day": day,
        "logical_date": logical_date,
        "key": key,
        "location": lake.location(key),
        "sha256": sha,
        "size_bytes": size,
        "format": "pg_dump custom" if backend == "postgresql" else "sqlite database file",
        "schemas": list(LAYERS) if backend == "postgresql" else None,
        "database": _where(url),
        "started_at": started,
        "finished_at": _now(),
        "not_included": NOT_INCLUDED,
        **facts,
    }
    _put_json(lake, prefix + "manifest.json", manifest)
    return manifest


# ------------------------------------------------------------------------ lake backup


def _fingerprints(lake: Lake) -> dict[str, tuple[int, str | None]]:
    """key -> (size, fingerprint) of every object; the fingerprint changes on every write."""
    if isinstance(lake, S3Lake):
        return {
            o.object_name: (int(o.size or 0), (o.etag or "").strip('"') or None)
            for o in lake.client.list_objects(bucket_name=lake.bucket, recursive=True)
            if o.object_name and not o.is_dir
        }
    if isinstance(lake, LocalLake):
        out: dict[str, tuple[int, str | None]] = {}
        for key in lake.list(""):
            st = Path(lake.location(key)).stat()
            out[key] = (st.st_size, f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}")
        return out
    return {k: (lake.size(k), None) for k in lake.list("")}


def _fingerprint(lake: Lake, key: str) -> str | None:
    if isinstance(lake, S3Lake):
        stat = lake.client.stat_object(bucket_name=lake.bucket, object_name=key)
        return (stat.etag or "").strip('"') or None
    if isinstance(lake, LocalLake):
        st = Path(lake.location(key)).stat()
        return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"
    return None


def _sha_of(lake: Lake, key: str) -> str:
    with lake.fetch(key) as path:
        return _sha_file(path)


def _read_index(target: Lake) -> dict[str, dict[str, Any]]:
    try:
        doc = json.loads(target.get(INDEX_KEY))
        return doc["objects"] if isinstance(doc.get("objects"), dict) else {}
    except (LakeError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # no index yet, or unreadable: everything is compared afresh


def _mirrored(key: str) -> bool:
    return not key.startswith(NOT_MIRRORED)


def backup_lake(
    source: Lake, target: Lake, *, day: str | None = None, full: bool = False
) -> dict[str, Any]:
    """Copy every object outside backups/ that the target lacks or holds differently.

    Returns what was copied (keys), how many were unchanged, the target's `stale` keys (gone
    from the lake, kept in the backup) and `vanished` ones (listed, then gone before copying:
    an inbox upload moved to raw/ meanwhile); the manifest, with every key's sha256, is written
    to both sides.
    """
    _check_target(source, target)
    day = day or today()
    started = _now()
    src = {k: v for k, v in _fingerprints(source).items() if _mirrored(k)}
    tgt = _fingerprints(target)
    index = _read_index(target)
    objects: dict[str, dict[str, Any]] = {}
    new_index: dict[str, dict[str, Any]] = {}
    copied: list[str] = []
    vanished: list[str] = []
    unchanged = copied_bytes = 0
    progress = current_progress()  # one advance per object, copied or found unchanged
    progress.set_total(len(src))
    for done, key in enumerate(sorted(src), start=1):
        size, src_fp = src[key]
        entry = index.get(key) or {}
        known = entry.get("size") == size and entry.get("sha256")
        trusted = bool(not full and known and src_fp and entry.get("source_fp") == src_fp)
        have = tgt.get(key)
        if have is None or have[0] != size:
            target_sha = None
        elif not full and known and have[1] and entry.get("target_fp") == have[1]:
            target_sha = entry["sha256"]
        else:
            target_sha = _sha_of(target, key)
        if trusted and target_sha == entry["sha256"]:
            sha, target_fp = entry["sha256"], have[1] if have else None
            unchanged += 1
        else:
            try:
                with source.fetch(key) as path:
                    sha = _sha_file(path)
                    if sha != target_sha:
                        _put_file(target, key, path)
            except Exception:  # LakeError, OSError or minio's S3Error
                if source.exists(key):
                    raise
                vanished.append(key)  # deleted since the listing (an inbox upload moved)
                progress.advance(1, done)
                continue
            if sha != target_sha:
                copied.append(key)
                copied_bytes += size
                target_fp = _fingerprint(target, key)
            else:
                unchanged += 1
                target_fp = have[1] if have else None
        objects[key] = {"sha256": sha, "size": size}
        new_index[key] = {"sha256": sha, "size": size, "source_fp": src_fp, "target_fp": target_fp}
        progress.advance(1, done)
    stale = sorted(k for k in tgt if _mirrored(k) and k not in src)
    for key in stale:
        if key in index:
            new_index[key] = index[key]
    manifest_key = f"{LAKE_PREFIX}{day}/manifest.json"
    result = {
        "kind": "lake",
        "day": day,
        "source": source.location(""),
        "target": target.location(""),
        "started_at": started,
        "finished_at": _now(),
        "full": full,
        "objects": len(objects),
        "bytes": sum(o["size"] for o in objects.values()),
        "copied": copied,
        "copied_bytes": copied_bytes,
        "unchanged": unchanged,
        "stale": stale,
        "vanished": vanished,
        "manifest": manifest_key,
    }
    _put_json(target, INDEX_KEY, {"updated_at": _now(), "objects": new_index})
    manifest = {**result, "objects": objects}
    _put_json(target, manifest_key, manifest)
    _put_json(source, manifest_key, manifest)
    return result


def copy_keys(source: Lake, target: Lake, keys: list[str]) -> None:
    for key in keys:
        with source.fetch(key) as path:
            _put_file(target, key, path)


# ------------------------------------------------------------------------ the job


def run_backup(
    settings: Settings,
    *,
    out: Path | None = None,
    target: Settings | None = None,
    lake_only: bool = False,
    no_lake: bool = False,
    full: bool = False,
    day: str | None = None,
    logical_date: str | None = None,
    track: Track = _untracked,
) -> dict[str, Any]:
    """The daily job: the warehouse dump (into the lake, or the folder `out`), then the lake
    into `target`, with the day's dump; a summary small enough for an XCom. `lake_only` skips
    the dump, `no_lake` the copy. `track(label)` opens the progress of each phase (the CLI
    passes `serasan.common.progress.stderr_tracking`)."""
    day = day or today()
    lake = open_lake(settings)
    summary: dict[str, Any] = {"day": day}
    dump_lake: Lake = LocalLake(out) if out is not None else lake
    backup_target = open_lake(target) if target is not None and not no_lake else None
    if backup_target is not None:
        _check_target(lake, backup_target)  # before anything is written
    if not lake_only:
        with track(WAREHOUSE_PHASE):
            m = dump_warehouse(settings, dump_lake, day=day, logical_date=logical_date)
        summary["warehouse"] = {
            k: m[k]
            for k in (
                "key",
                "location",
                "sha256",
                "size_bytes",
                "alembic_revision",
                "backend",
                "tool",
            )
        }
        summary["warehouse"]["tables"] = len(m["tables"])
        summary["warehouse"]["rows"] = sum(t["rows"] for t in m["tables"].values())
    if no_lake:
        summary["lake"] = {"skipped": "not asked for (--no-lake)"}
        return summary
    if backup_target is None:
        summary["lake"] = {"skipped": f"{TARGET_ENV} is not set: the lake was not backed up"}
        return summary
    with track(LAKE_PHASE):
        res = backup_lake(lake, backup_target, day=day, full=full)
    if not lake_only:
        dumped = summary["warehouse"]["key"]
        copy_keys(dump_lake, backup_target, [dumped, dumped.rsplit("/", 1)[0] + "/manifest.json"])
    summary["lake"] = {
        **{k: v for k, v in res.items() if k not in ("copied", "stale", "vanished")},
        "copied": len(res["copied"]),
        "stale": len(res["stale"]),
        "vanished": len(res["vanished"]),
        "copied_keys": res["copied"][:50],
    }
    return summary


def render(summary: dict[str, Any]) -> str:
    lines = []
    if w := summary.get("warehouse"):
        lines.append(
            f"warehouse: {w['location']} ({w['size_bytes']} bytes, sha256 "
            f"{w['sha256'][:12]}, revision {w['alembic_revision']}, {w['tables']} "
            f"tables, {w['rows']} rows)"
        )
    lake = summary["lake"]
    if "skipped" in lake:
        lines.append(f"lake: {lake['skipped']}")
    else:
        lines.append(
            f"lake: {lake['source']} -> {lake['target']}: {lake['copied']} copied "
            f"({lake['copied_bytes']} bytes), {lake['unchanged']} unchanged, "
            f"{lake['stale']} only in the backup, {lake['vanished']} vanished; "
            f"manifest {lake['manifest']}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------ listing, restore


def list_dumps(lake: Lake) -> list[dict[str, Any]]:
    """Every complete warehouse dump (one with a manifest), oldest first."""
    out = []
    for key in lake.list(WAREHOUSE_PREFIX):
        if key.endswith("/manifest.json"):
            try:
                m = json.loads(lake.get(key))
            except (LakeError, ValueError):
                continue
            out.append(
                {
                    k: m.get(k)
                    for k in (
                        "day",
                        "key",
                        "backend",
                        "size_bytes",
                        "sha256",
                        "alembic_revision",
                        "finished_at",
                    )
                }
            )
    return sorted(out, key=lambda m: (m["day"] or "", m["finished_at"] or ""))


def _locate(lake: Lake | None, dump: str) -> tuple[bytes | None, Path | None, dict[str, Any]]:
    """(bytes, or a local path) and the manifest of a dump given as a file, a key or a day."""
    path = Path(dump)
    if path.is_file():
        manifest_path = path.parent / "manifest.json"
        if not manifest_path.is_file():
            raise BackupError(
                f"{path}: no manifest.json beside it; restore needs it to check the dump"
            )
        return None, path, json.loads(manifest_path.read_text(encoding="utf-8"))
    if lake is None:
        raise BackupError(f"{dump}: no such file")
    prefix = f"{WAREHOUSE_PREFIX}{dump}/" if _DAY.match(dump) else dump.rsplit("/", 1)[0] + "/"
    try:
        manifest = json.loads(lake.get(prefix + "manifest.json"))
    except LakeError:
        raise BackupError(
            f"no warehouse dump at {lake.location(prefix)} (no manifest.json); "
            "see `serasan backup list`"
        ) from None
    return lake.get(manifest["key"]), None, manifest


def _db_error(exc: BaseException, url: URL) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return text.replace(str(url.password), "***") if url.password else text


def _pg_empty(url: URL) -> list[str]:
    """What the database already holds (schemas and tables besides an empty public)."""
    from serasan.warehouse.db import make_engine

    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        try:
            conn = engine.connect()  # connects now
        except sa.exc.DBAPIError as exc:
            raise BackupError(
                f"cannot connect to {_where(url)} ({_db_error(exc, url)}): restore "
                "into an existing, empty database (createdb it first)"
            ) from None
        with conn:
            schemas = (
                conn.execute(
                    sa.text(
                        "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                        "AND nspname NOT IN ('public', 'information_schema') ORDER BY 1"
                    )
                )
                .scalars()
                .all()
            )
            tables = (
                conn.execute(
                    sa.text(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
                        "ORDER BY 1"
                    )
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    return [f"schema {s}" for s in schemas] + [f"table public.{t}" for t in tables]


def _stats_of(url: URL) -> tuple[dict[str, dict[str, Any]], str | None]:
    from serasan.warehouse.db import make_engine

    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn, conn.begin():
            return table_stats(conn), _revision(conn)
    finally:
        engine.dispose()


def restore(dump: str, into_url: str, lake: Lake | None = None) -> dict[str, Any]:
    """Restore a dump (a file, a lake key or a day) into an empty database, then compare every
    table's rows and checksum with the dump's manifest; `equal` says whether all match.

    PostgreSQL: `pg_restore --no-owner --no-privileges --single-transaction --exit-on-error`
    into an existing, empty database (`createdb` it first): roles and grants are not part of
    it, see the module's docstring. SQLite: the file is copied to a path that must not exist.
    """
    data, path, manifest = _locate(lake, dump)
    url = make_url(into_url)
    backend = url.get_backend_name()
    if backend != manifest["backend"]:
        raise BackupError(
            f"the dump is of a {manifest['backend']} warehouse, and {_where(url)} is {backend}"
        )
    with tempfile.TemporaryDirectory(prefix="serasan-restore-") as tmp:
        if path is None:
            path = Path(tmp) / DUMP_NAMES[backend]
            path.write_bytes(data or b"")
        sha = _sha_file(path)
        if sha != manifest["sha256"]:
            raise BackupError(
                f"{manifest['key']}: sha256 {sha[:12]} is not the manifest's "
                f"{manifest['sha256'][:12]}: the dump is damaged"
            )
        if backend == "postgresql":
            held = _pg_empty(url)
            if held:
                raise BackupError(
                    f"{_where(url)} is not empty ({', '.join(held[:5])}): restore "
                    "only into an empty database (createdb a new one)"
                )
            conninfo, env = _pg_connection(url)
            _run(
                [
                    _tool("pg_restore"),
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-password",
                    f"--dbname={conninfo}",
                    str(path),
                ],
                env,
                f"pg_restore into {_where(url)}",
                url.password,
            )
        else:
            dest = Path(url.database or "")
            if not url.database or (dest.exists() and dest.stat().st_size > 0):
                raise BackupError(f"{dest} exists: restore only into a new SQLite file")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
    stats, revision = _stats_of(url)
    want = manifest["tables"]
    differences = [f"{t}: missing after restore" for t in sorted(set(want) - set(stats))]
    differences += [f"{t}: not in the dump's manifest" for t in sorted(set(stats) - set(want))]
    differences += [
        f"{t}: {want[t]['rows']} rows in the dump, {stats[t]['rows']} restored"
        if want[t]["rows"] != stats[t]["rows"]
        else f"{t}: content differs"
        for t in sorted(set(want) & set(stats))
        if want[t] != stats[t]
    ]
    if revision != manifest["alembic_revision"]:
        differences.append(
            f"Alembic revision {revision}, the dump has {manifest['alembic_revision']}"
        )
    return {
        "dump": manifest["key"],
        "sha256": sha,
        "into": _where(url),
        "alembic_revision": revision,
        "tables": len(stats),
        "rows": sum(t["rows"] for t in stats.values()),
        "equal": not differences,
        "differences": differences,
        "next": "run `serasan warehouse upgrade` against it as an owner member to restore "
        "ownership and grants"
        if backend == "postgresql"
        else None,
    }
