"""Stage 4 of a dataset's run: the validated rows into the fact table, with the load's record.

One transaction holds the merge, `meta.load_run`, the DQ results, the alert (status pending,
for the notify task to send) and the quality scores. The lake's copies (the raw manifest's
outcome and the alert's text) are written after the commit. Running it again changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from serasan.alerts import compose as alerts
from serasan.common.enums import AlertStatus, LoadMode, LoadStatus
from serasan.config.catalog import Dataset
from serasan.ingest.inbox_access import upload_link
from serasan.lake import keys
from serasan.pipeline.handoff import LoadSummary, Validated
from serasan.quality import scores as quality
from serasan.runtime.context import RunContext
from serasan.warehouse import loader

UPLOAD_HOURS = 72  # how long the upload link in an alert stays valid


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
    """The warehouse part of a load, in the caller's transaction; returns the rows loaded."""
    load_id = staged.load_id
    alert, batch = prepared.alert, prepared.batch
    lr, dq, al = ctx.t("meta", "load_run"), ctx.t("meta", "dq_result"), ctx.t("meta", "alert")
    loaded = 0
    if batch is not None and staged.rows_valid and staged.status != LoadStatus.BLOCKED:
        # a re-uploaded rejected-rows file holds corrections: upserted whatever the load mode
        mode = LoadMode.UPSERT if staged.fix_file else None
        loaded = loader.merge(conn, ds, batch, load_id, mode=mode)
    for t in (dq, al, lr):
        conn.execute(t.delete().where(t.c.load_id == load_id))
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
            notes="; ".join([*staged.notes, *([staged.error] if staged.error else [])]),
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
    quality.recompute(conn, ds.regency, ds.opd, ctx.run_date)
    return loaded


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
