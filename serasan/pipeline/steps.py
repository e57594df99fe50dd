"""The flow of one dataset: inbox -> raw -> staging Parquet -> GX -> warehouse + quarantine + alert.

Plain Python with plain arguments: the Airflow tasks in `operators/` and the tests call the same
functions. Every step is keyed by dataset and content sha256, so running it again changes nothing.
Each function returns JSON-able dicts, so Airflow can pass them between tasks as XCom.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from serasan.alerts import compose as alerts
from serasan.config.catalog import Dataset
from serasan.ingest.inbox_access import upload_link
from serasan.ingest.sources import pull as pull_source
from serasan.lake.keys import inbox_prefix, opd_key
from serasan.lake.store import LakeError
from serasan.parse.reader import ROW_COL, ParseError, iter_rows, parse_stream
from serasan.quality import datadocs
from serasan.quality import scores as quality
from serasan.quality.assess import assess, cell
from serasan.quality.quarantine import is_fix_file, quarantine_csv, quarantine_xlsx
from serasan.quality.registry import registry_params
from serasan.runtime.context import RunContext
from serasan.warehouse import loader

log = logging.getLogger(__name__)
TERMINAL = ("loaded", "quarantined", "warned", "blocked", "rejected", "retracted")
SAMPLE_KEYS = 20
UPLOAD_HOURS = 72  # how long the upload link in an alert stays valid
DEFAULT_MAX_BYTES = 256 * 2**20  # per file; a dataset may raise it in source.params.max_bytes


class BlockedLoad(Exception):
    """The dataset's policy is `block` and some rows failed: nothing was loaded."""


def safe_name(name: str) -> str:
    """An uploaded file name as a lake key part: odd characters and '..' cannot travel on."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return cleaned[:120]


def load_id_for(ds: Dataset, sha256: str) -> str:
    return f"{ds.id}-{sha256[:16]}"


# ------------------------------------------------------------------------ extract


def extract(ctx: RunContext, ds: Dataset) -> list[dict[str, Any]]:
    """Move new inbox objects into raw/ (immutable, with a manifest) and list what to process.

    An inbox object leaves the inbox only once its raw copy exists. Raw objects ingested earlier
    whose processing never finished are picked up again, so a failed run loses nothing.
    """
    events = ctx.t("meta", "object_event")
    pull_source(ctx, ds)  # databases and APIs write this interval's file into the inbox
    for key in ctx.lake.list(inbox_prefix(ctx.catalog, ds)):
        try:
            data = ctx.lake.get(key)
        except LakeError as exc:  # one odd upload must not block the dataset's other files
            log.error("%s: cannot read inbox object %r: %s", ds.id, key, exc)
            continue
        sha = hashlib.sha256(data).hexdigest()
        filename = safe_name(key.rsplit("/", 1)[-1])
        raw_key = f"raw/{ds.id}/{sha}/{filename}"
        if not ctx.lake.exists(raw_key):
            ctx.lake.put(raw_key, data, overwrite=False)
            manifest = {
                "dataset": ds.id,
                "opd": ds.opd,
                "regency": ds.regency,
                "sha256": sha,
                "size": len(data),
                "filename": filename,
                "origin": ctx.lake.location(key),
                "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "received_for": ctx.run_date.isoformat(),
                "run_id": ctx.run_id,
            }
            ctx.lake.put(
                f"raw/{ds.id}/{sha}/manifest.json",
                json.dumps(manifest, indent=2).encode(),
                "application/json",
            )
        done = _terminal_load(ctx, ds, sha)
        action = "skipped" if done and not ctx.force else "ingested"
        with ctx.engine.begin() as conn:
            conn.execute(
                events.insert().values(
                    dataset_id=ds.id,
                    sha256=sha,
                    raw_key=raw_key,
                    run_id=ctx.run_id,
                    action=action,
                    logical_date=ctx.run_date,
                )
            )
        ctx.lake.delete(key)
        log.info("%s: %s %s (sha256 %s)", ds.id, action, filename, sha[:12])
    return pending(ctx, ds)


def _terminal_load(ctx: RunContext, ds: Dataset, sha: str) -> bool:
    lr = ctx.t("meta", "load_run")
    with ctx.engine.connect() as conn:
        status = conn.execute(
            select(lr.c.status).where(lr.c.load_id == load_id_for(ds, sha))
        ).scalar()
    return status in TERMINAL


def pending(ctx: RunContext, ds: Dataset) -> list[dict[str, Any]]:
    """Raw objects ingested but without a finished load, oldest first; with --force, the
    objects this run ingested, finished or not."""
    ev, lr = ctx.t("meta", "object_event"), ctx.t("meta", "load_run")
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(ev.c.sha256, ev.c.raw_key, ev.c.run_id)
            .where(and_(ev.c.dataset_id == ds.id, ev.c.action == "ingested"))
            .order_by(ev.c.id)
        ).all()
        done = {
            r.load_id: r.status
            for r in conn.execute(select(lr.c.load_id, lr.c.status).where(lr.c.dataset_id == ds.id))
        }
    out: dict[str, dict[str, Any]] = {}
    for sha, raw_key, run_id in rows:
        wanted = (
            run_id == ctx.run_id if ctx.force else done.get(load_id_for(ds, sha)) not in TERMINAL
        )
        if wanted:
            out[sha] = {"dataset": ds.id, "sha256": sha, "raw_key": raw_key}
    return list(out.values())


# ------------------------------------------------------------------------ transform


def transform(ctx: RunContext, ds: Dataset, obj: dict[str, Any]) -> dict[str, Any]:
    """Parse and validate one raw object; write valid rows to staging and failures to quarantine."""
    sha, raw_key = obj["sha256"], obj["raw_key"]
    filename = raw_key.rsplit("/", 1)[-1]
    lang = ctx.settings.lang
    base = {
        "dataset": ds.id,
        "sha256": sha,
        "raw_key": raw_key,
        "filename": filename,
        "load_id": load_id_for(ds, sha),
    }
    try:
        size = ctx.lake.size(raw_key)
        limit = int(ds.source.params.get("max_bytes", DEFAULT_MAX_BYTES))
        if size > limit:
            raise ParseError(
                f"{filename}: {size / 2**20:.1f} MB, jauh lebih besar dari batas "
                f"dataset ini {limit / 2**20:.0f} MB (larger than this dataset's "
                f"limit of {limit / 2**20:.0f} MB, source.params.max_bytes)"
            )
        with ctx.lake.fetch(raw_key) as path:
            parsed = parse_stream(lambda: path.open("rb"), filename, ds)
            fix_file = is_fix_file(
                _header_cells(lambda: path.open("rb"), filename, ds, parsed.header_row)
            )
    except ParseError as exc:
        return {
            **base,
            "status": "rejected",
            "rows_in": 0,
            "rows_valid": 0,
            "rows_rejected": 0,
            "error": str(exc),
            "problems": [[str(exc), 0]],
            "examples": [],
            "dq": [],
            "staging_key": None,
            "quarantine_key": None,
            "periods": [],
            "notes": [],
        }
    suite = ctx.catalog.suites[ds.id]
    a = assess(
        parsed, ds, suite, ctx.run_date, lang, registry_params(ctx.engine, ctx.catalog, suite)
    )
    keep, quarantined, status = a.keep, a.quarantined, a.status
    rows_in = parsed.rows_in
    validation = a.validation
    problems = [[text, n] for text, n in a.problems]

    docs_key = (
        datadocs.write(ctx.lake, ctx.catalog, ds, sha, validation.gx_result, filename)
        if validation.gx_result is not None
        else None
    )
    staging_key = f"staging/{ds.id}/{sha}.parquet"
    buf = pa.BufferOutputStream()
    pq.write_table(keep, buf)
    ctx.lake.put(staging_key, buf.getvalue().to_pybytes(), "application/vnd.apache.parquet")
    quarantine_key = None
    if quarantined:
        quarantine_key = f"quarantine/{ds.id}/{sha}/ditolak.csv"
        ctx.lake.put(quarantine_key, quarantine_csv(quarantined, ds.column_names), "text/csv")
        ctx.lake.put(
            quarantine_key.removesuffix(".csv") + ".xlsx",
            quarantine_xlsx(
                quarantined, ds.column_names, f"Baris ditolak: {ds.title} ({filename})"
            ),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    loaded = keep.num_rows
    dq = [
        {
            "seq": r.seq,
            "type": r.type,
            "column": ",".join(r.columns),
            "success": r.success,
            "unexpected_count": r.unexpected_count,
            "element_count": r.element_count,
            "sample": _sample_keys(ds, parsed.table, r.mask),
        }
        for r in validation.results
    ]
    return {
        **base,
        "status": status,
        "rows_in": rows_in,
        "rows_valid": loaded,
        "rows_rejected": rows_in - loaded,
        "problems": problems,
        "examples": [{k: cell(v) for k, v in q.items()} for q in quarantined[:5]],
        "dq": dq,
        "staging_key": staging_key,
        "quarantine_key": quarantine_key,
        # a blocked file keeps the periods it is about, so reprocessing can find it
        "periods": loader.periods_of(ds, keep if status != "blocked" else parsed.table),
        "notes": parsed.notes,
        "error": None,
        "fix_file": fix_file,
        "rows_failing": len(quarantined),
        "docs_key": docs_key,
    }


def _header_cells(opener: Any, filename: str, ds: Dataset, header_row: int) -> list[Any]:
    """The cells of the header row (1-based), read again from the start of the file."""
    _, rows = iter_rows(opener, filename, ds)
    for i, (_, row) in enumerate(rows, 1):
        if i == header_row:
            return row
    return []


def _sample_keys(ds: Dataset, batch: pa.Table, mask: Any) -> str | None:
    idx = mask.nonzero()[0][:SAMPLE_KEYS]
    if not len(idx):
        return None
    keys = batch.select([*ds.primary_key, ROW_COL]).take(pa.array(idx)).to_pylist()
    return json.dumps([{k: cell(v) for k, v in row.items()} for row in keys])


# ------------------------------------------------------------------------ load


def load(ctx: RunContext, ds: Dataset, staged: dict[str, Any]) -> dict[str, Any]:
    """Merge staged rows into the fact table and record load, DQ results and alert, atomically."""
    prepared = prepare_load(ctx, ds, staged)
    with ctx.engine.begin() as conn:
        loaded = record_load(conn, ctx, ds, staged, prepared)
    return finish_load(ctx, ds, staged, prepared, loaded)


@dataclass
class PreparedLoad:
    """What a load needs before its transaction: the alert, if any, and the staged rows."""

    alert: Any
    alert_key: str
    batch: bytes | None  # the staged Parquet object, read in record batches by the loader


def prepare_load(ctx: RunContext, ds: Dataset, staged: dict[str, Any]) -> PreparedLoad:
    load_id = staged["load_id"]
    alert = None
    if staged["status"] != "loaded":
        location = (
            ctx.lake.location(staged["quarantine_key"])
            if staged["quarantine_key"]
            else staged.get("error") or "-"
        )
        alert = alerts.compose(
            ctx.catalog,
            ds,
            alert_id=load_id,
            filename=staged["filename"],
            run_date=ctx.run_date.isoformat(),
            status=staged["status"],
            rows_in=staged["rows_in"],
            loaded=staged["rows_valid"],
            rejected=staged["rows_rejected"],
            problems=[(p[0], p[1]) for p in staged["problems"]],
            examples=staged["examples"],
            rejected_location=location,
            inbox=ctx.lake.location(inbox_prefix(ctx.catalog, ds)),
            upload_url=upload_link(
                ctx.lake,
                inbox_prefix(ctx.catalog, ds) + f"perbaikan-{staged['sha256'][:12]}.xlsx",
                UPLOAD_HOURS,
            ),
            upload_hours=UPLOAD_HOURS,
            lang=ctx.settings.lang,
        )
    batch = ctx.lake.get(staged["staging_key"]) if staged["staging_key"] else None
    alert_key = f"alerts/{opd_key(ctx.catalog, ds)}/{ds.id}/{staged['sha256'][:16]}.txt"
    return PreparedLoad(alert=alert, alert_key=alert_key, batch=batch)


def record_load(
    conn: Connection, ctx: RunContext, ds: Dataset, staged: dict[str, Any], prepared: PreparedLoad
) -> int:
    """The warehouse part of a load, in the caller's transaction; returns the rows loaded."""
    load_id = staged["load_id"]
    alert, batch = prepared.alert, prepared.batch
    lr, dq, al = ctx.t("meta", "load_run"), ctx.t("meta", "dq_result"), ctx.t("meta", "alert")
    loaded = 0
    if batch is not None and staged["rows_valid"] and staged["status"] != "blocked":
        loaded = loader.merge(
            conn, ds, batch, load_id, mode="upsert" if staged.get("fix_file") else None
        )
    for t in (dq, al, lr):
        conn.execute(t.delete().where(t.c.load_id == load_id))
    conn.execute(
        lr.insert().values(
            load_id=load_id,
            dataset_id=ds.id,
            regency=ds.regency,
            opd=ds.opd,
            raw_key=staged["raw_key"],
            sha256=staged["sha256"],
            size_bytes=ctx.lake.size(staged["raw_key"]),
            dag_id=ctx.dag_id,
            run_id=ctx.run_id,
            logical_date=ctx.run_date,
            status=staged["status"],
            rows_in=staged["rows_in"],
            rows_loaded=loaded,
            rows_rejected=staged["rows_in"] - loaded,
            quarantine_key=staged["quarantine_key"],
            rows_failing=staged.get("rows_failing"),
            periods=",".join(staged["periods"]),
            notes="; ".join(staged["notes"] + ([staged["error"]] if staged["error"] else [])),
        )
    )
    if staged["dq"]:
        conn.execute(
            dq.insert(),
            [
                {
                    "load_id": load_id,
                    "seq": d["seq"],
                    "dataset_id": ds.id,
                    "expectation_type": d["type"],
                    "column_name": d["column"],
                    "success": d["success"],
                    "unexpected_count": d["unexpected_count"],
                    "element_count": d["element_count"],
                    "sample": d["sample"],
                }
                for d in staged["dq"]
            ],
        )
    if alert:
        conn.execute(
            al.insert().values(
                alert_id=alert.alert_id,
                load_id=load_id,
                dataset_id=ds.id,
                regency=ds.regency,
                opd=ds.opd,
                recipients=",".join(alert.recipients),
                subject=alert.subject,
                body=alert.body,
                lake_key=prepared.alert_key,
                status="pending",
            )
        )
    quality.recompute(conn, ds.regency, ds.opd, ctx.run_date)
    return loaded


def finish_load(
    ctx: RunContext, ds: Dataset, staged: dict[str, Any], prepared: PreparedLoad, loaded: int
) -> dict[str, Any]:
    """After the commit: the manifest and the alert in the lake, and the load summary."""
    load_id, alert, alert_key = staged["load_id"], prepared.alert, prepared.alert_key
    _mark_manifest(ctx, ds, staged, load_id)
    if alert:
        ctx.lake.put(
            alert_key,
            f"Subject: {alert.subject}\nTo: {', '.join(alert.recipients)}"
            f"\n\n{alert.body}\n".encode(),
            "text/plain; charset=utf-8",
        )
    summary = {
        k: staged[k]
        for k in ("dataset", "sha256", "filename", "status", "rows_in", "quarantine_key", "periods")
    }
    summary.update(
        load_id=load_id,
        rows_loaded=loaded,
        rows_rejected=staged["rows_in"] - loaded,
        alert_key=alert_key if alert else None,
        error=staged["error"],
    )
    if summary["rows_in"] != summary["rows_loaded"] + summary["rows_rejected"]:
        raise AssertionError(f"row accounting does not reconcile for {load_id}: {summary}")
    return summary


def _mark_manifest(ctx: RunContext, ds: Dataset, staged: dict[str, Any], load_id: str) -> None:
    """Record the outcome beside the raw bytes (which never change): status, counts, reason."""
    key = f"raw/{ds.id}/{staged['sha256']}/manifest.json"
    manifest = json.loads(ctx.lake.get(key)) if ctx.lake.exists(key) else {}
    manifest.update(
        status=staged["status"],
        load_id=load_id,
        rows_in=staged["rows_in"],
        rows_loaded=staged["rows_valid"],
        error=staged["error"],
    )
    ctx.lake.put(key, json.dumps(manifest, indent=2).encode(), "application/json")


def run_dataset(ctx: RunContext, ds: Dataset) -> list[dict[str, Any]]:
    """All three steps for one dataset, in-process (tests and the CLI's quick paths)."""
    return [load(ctx, ds, transform(ctx, ds, obj)) for obj in extract(ctx, ds)]
