"""Stage 4 of a dataset's run: the validated rows into the fact table, with the load's record.

One transaction holds the merge, `meta.load_run`, the DQ results, the alert (status pending,
for the notify task to send) and the quality scores. The lake's copies (the raw manifest's
outcome and the alert's text) are written after the commit. Running it again changes nothing.

The transaction takes the dataset's lock first (`loader.lock`), so two loads of one dataset
run one after the other. When a second, different file replaces a period of a `replace_period`
dataset that another file loaded in the same run or within `CLAIM_WINDOW`, the file loaded last
wins as before, but the load's notes say so and the walidata and the engineers get an alert.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from serasan.alerts import compose as alerts
from serasan.alerts import delivery
from serasan.alerts.freshness import walidata_recipients
from serasan.common.enums import AlertStatus, LoadMode, LoadStatus
from serasan.config.catalog import Dataset
from serasan.ingest.inbox_access import upload_link
from serasan.lake import keys
from serasan.pipeline.handoff import LoadSummary, Validated
from serasan.quality import scores as quality
from serasan.runtime.context import RunContext
from serasan.warehouse import history, loader

log = logging.getLogger(__name__)

UPLOAD_HOURS = 72  # how long the upload link in an alert stays valid
# two different files replacing one period this close together (or in the same run) are told
CLAIM_WINDOW = dt.timedelta(minutes=15)
CLAIM_ALERT = "engineer:claim:%"  # their ids; a load run again keeps its claim alert as it was


class BlockedLoad(Exception):
    """The dataset's policy is `block` and some rows failed: nothing was loaded."""


def load(ctx: RunContext, ds: Dataset, staged: Validated) -> LoadSummary:
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


def prepare_load(ctx: RunContext, ds: Dataset, staged: Validated) -> PreparedLoad:
    alert = None
    if staged.status != LoadStatus.LOADED:
        location = (
            ctx.lake.location(staged.quarantine_key)
            if staged.quarantine_key
            else staged.error or "-"
        )
        inbox = keys.inbox_prefix(ctx.catalog, ds)
        alert = alerts.compose(
            ctx.catalog,
            ds,
            alert_id=staged.load_id,
            filename=staged.filename,
            run_date=ctx.run_date.isoformat(),
            status=staged.status,
            rows_in=staged.rows_in,
            loaded=staged.rows_valid,
            rejected=staged.rows_rejected,
            problems=list(staged.problems),
            examples=list(staged.examples),
            rejected_location=location,
            inbox=ctx.lake.location(inbox),
            upload_url=upload_link(
                ctx.lake, inbox + f"perbaikan-{staged.sha256[:12]}.xlsx", UPLOAD_HOURS
            ),
            upload_hours=UPLOAD_HOURS,
            lang=ctx.settings.lang,
        )
    batch = ctx.lake.get(staged.staging_key) if staged.staging_key else None
    alert_key = keys.alert_key(ctx.catalog, ds, staged.sha256)
    return PreparedLoad(alert=alert, alert_key=alert_key, batch=batch)


def record_load(
    conn: Connection, ctx: RunContext, ds: Dataset, staged: Validated, prepared: PreparedLoad
) -> int:
    """The warehouse part of a load, in the caller's transaction; returns the rows loaded.

    The dataset's lock is taken before anything is read and held until that transaction ends.
    """
    load_id = staged.load_id
    alert, batch = prepared.alert, prepared.batch
    lr, dq, al = ctx.t("meta", "load_run"), ctx.t("meta", "dq_result"), ctx.t("meta", "alert")
    timeout = ctx.settings.load_lock_timeout_s
    loader.lock(conn, ds, f"load {load_id}", timeout)
    loaded = 0
    claims: list[dict[str, Any]] = []
    if batch is not None and staged.rows_valid and staged.status != LoadStatus.BLOCKED:
        # a re-uploaded rejected-rows file holds corrections: upserted whatever the load mode
        mode = LoadMode.UPSERT if staged.fix_file else None
        loaded = loader.merge(conn, ds, batch, load_id, mode=mode, lock_timeout_s=timeout)
        claims = period_claims(conn, ctx, ds, load_id)
    notes = [*staged.notes, *([staged.error] if staged.error else [])]
    if claims:
        notes.append(_claim_note(claims))
        log.warning("%s: %s", load_id, notes[-1])
    for t in (dq, lr):
        conn.execute(t.delete().where(t.c.load_id == load_id))
    conn.execute(al.delete().where(al.c.load_id == load_id, ~al.c.alert_id.like(CLAIM_ALERT)))
    conn.execute(
        lr.insert().values(
            load_id=load_id,
            dataset_id=ds.id,
            regency=ds.regency,
            opd=ds.opd,
            raw_key=staged.raw_key,
            sha256=staged.sha256,
            size_bytes=ctx.lake.size(staged.raw_key),
            dag_id=ctx.dag_id,
            run_id=ctx.run_id,
            logical_date=ctx.run_date,
            status=staged.status,
            rows_in=staged.rows_in,
            rows_loaded=loaded,
            rows_rejected=staged.rows_in - loaded,
            quarantine_key=staged.quarantine_key,
            rows_failing=staged.rows_failing,
            periods=",".join(staged.periods),
            notes="; ".join(notes),
        )
    )
    if staged.dq:
        conn.execute(
            dq.insert(),
            [
                {
                    "load_id": load_id,
                    "seq": d.seq,
                    "dataset_id": ds.id,
                    "expectation_type": d.type,
                    "column_name": d.column,
                    "success": d.success,
                    "unexpected_count": d.unexpected_count,
                    "element_count": d.element_count,
                    "sample": d.sample,
                }
                for d in staged.dq
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
                status=AlertStatus.PENDING,
            )
        )
    if claims:
        _claim_alert(conn, ctx, ds, staged, claims)
    quality.recompute(conn, ds.regency, ds.opd, ctx.run_date)
    return loaded


def period_claims(
    conn: Connection, ctx: RunContext, ds: Dataset, load_id: str
) -> list[dict[str, Any]]:
    """Earlier loads of other files whose periods this `replace_period` load just replaced,
    merged in the same run or within `CLAIM_WINDOW` before it: each with `load_id`,
    `filename`, `merged_at` and the shared `periods`. Empty for an upsert."""
    log_t, lr = history.merge_log_table(conn.dialect.name), ctx.t("meta", "load_run")
    mine = (
        conn.execute(select(log_t).where(log_t.c.dataset_id == ds.id, log_t.c.load_id == load_id))
        .mappings()
        .first()
    )
    if mine is None or mine["mode"] != LoadMode.REPLACE_PERIOD:
        return []
    periods = set(filter(None, (mine["periods"] or "").split(",")))
    since = dt.datetime.fromisoformat(mine["merged_at"]) - CLAIM_WINDOW
    same_run = (
        and_(lr.c.run_id == ctx.run_id, lr.c.dag_id == ctx.dag_id)
        if ctx.run_id is not None
        else None
    )
    recent = log_t.c.merged_at >= since.isoformat(timespec="seconds")
    rows = conn.execute(
        select(
            log_t.c.load_id,
            log_t.c.periods,
            log_t.c.merged_at,
            lr.c.raw_key,
            lr.c.run_id,
            lr.c.dag_id,
        )
        .select_from(log_t.outerjoin(lr, lr.c.load_id == log_t.c.load_id))
        .where(
            log_t.c.dataset_id == ds.id,
            log_t.c.seq < mine["seq"],
            log_t.c.load_id != load_id,
            log_t.c.mode == LoadMode.REPLACE_PERIOD,
            recent if same_run is None else or_(recent, same_run),
        )
        .order_by(log_t.c.seq)
    ).mappings()
    claims = []
    for r in rows:
        shared = sorted(periods & set((r["periods"] or "").split(",")))
        if shared:
            name = (r["raw_key"] or "").rsplit("/", 1)[-1] or "-"
            claims.append(
                {
                    "load_id": r["load_id"],
                    "filename": name,
                    "merged_at": r["merged_at"],
                    "periods": shared,
                    "same_run": ctx.run_id is not None
                    and (r["run_id"], r["dag_id"]) == (ctx.run_id, ctx.dag_id),
                }
            )
    return claims


def _claim_note(claims: list[dict[str, Any]]) -> str:
    return (
        "replaced period(s) another file loaded in this run window: "
        + ", ".join(
            f"{', '.join(c['periods'])} from {c['filename']} (load {c['load_id']})" for c in claims
        )
        + "; the walidata and the engineers were alerted"
    )


def _claim_alert(
    conn: Connection, ctx: RunContext, ds: Dataset, staged: Validated, claims: list[dict[str, Any]]
) -> None:
    """The walidata's and engineers' alert, in the load's transaction (the outbox sends it);
    once per load: the load run again (or reprocessed) leaves the first one as it was."""
    aid = delivery.alert_id("engineer", "claim", staged.load_id)
    al = ctx.t("meta", "alert")
    if conn.execute(select(al.c.alert_id).where(al.c.alert_id == aid)).first() is not None:
        return
    regency = ctx.catalog.regency(ds.regency)
    recipients = list(
        dict.fromkeys([*walidata_recipients(ctx, regency), *delivery.engineers(ctx.settings)])
    )
    minutes = int(CLAIM_WINDOW.total_seconds() // 60)
    why = f"run {ctx.run_id}" if all(c["same_run"] for c in claims) else f"{minutes} min"
    msg = alerts.compose_period_claim(
        ctx.catalog,
        ds,
        alert_id=aid,
        recipients=recipients,
        filename=staged.filename,
        load_id=staged.load_id,
        periods=sorted({p for c in claims for p in c["periods"]}),
        replaced=claims,
        why=why,
        lang=ctx.settings.lang,
    )
    conn.execute(
        al.insert().values(
            alert_id=aid,
            load_id=staged.load_id,
            dataset_id=ds.id,
            regency=ds.regency,
            opd=ds.opd,
            recipients=",".join(msg.recipients),
            subject=msg.subject,
            body=msg.body,
            lake_key="-",
            status=AlertStatus.PENDING,
        )
    )


def finish_load(
    ctx: RunContext, ds: Dataset, staged: Validated, prepared: PreparedLoad, loaded: int
) -> LoadSummary:
    """After the commit: the manifest and the alert in the lake, and the load summary."""
    alert, alert_key = prepared.alert, prepared.alert_key
    _mark_manifest(ctx, ds, staged)
    if alert:
        ctx.lake.put(alert_key, alert.as_text(), "text/plain; charset=utf-8")
    summary = LoadSummary(
        dataset=staged.dataset,
        sha256=staged.sha256,
        load_id=staged.load_id,
        filename=staged.filename,
        status=staged.status,
        rows_in=staged.rows_in,
        rows_loaded=loaded,
        rows_rejected=staged.rows_in - loaded,
        quarantine_key=staged.quarantine_key,
        alert_key=alert_key if alert else None,
        periods=staged.periods,
        error=staged.error,
    )
    if summary.rows_in != summary.rows_loaded + summary.rows_rejected:
        raise AssertionError(f"row accounting does not reconcile for {summary.load_id}: {summary}")
    return summary


def _mark_manifest(ctx: RunContext, ds: Dataset, staged: Validated) -> None:
    """Record the outcome beside the raw bytes (which never change): status, counts, reason."""
    key = keys.manifest_key(ds.id, staged.sha256)
    manifest = json.loads(ctx.lake.get(key)) if ctx.lake.exists(key) else {}
    manifest.update(
        status=staged.status,
        load_id=staged.load_id,
        rows_in=staged.rows_in,
        rows_loaded=staged.rows_valid,
        error=staged.error,
    )
    ctx.lake.put(key, json.dumps(manifest, indent=2).encode(), "application/json")
