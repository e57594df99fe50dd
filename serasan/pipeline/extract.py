"""Stage 1 of a dataset's run: new inbox objects into raw/, and the raw objects still to process.

Keyed by dataset and content sha256, so running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from sqlalchemy import and_, select

from serasan.common.enums import TERMINAL, ObjectAction
from serasan.config.catalog import Dataset
from serasan.ingest.sources import pull as pull_source
from serasan.lake import keys
from serasan.lake.store import LakeError, ObjectExists
from serasan.pipeline.handoff import RawObject, load_id_for
from serasan.pipeline.redelivery import finished_load, record_event, safe_name
from serasan.runtime.context import RunContext

__all__ = ["extract", "manifest_period", "pending", "safe_name"]

log = logging.getLogger(__name__)


def extract(ctx: RunContext, ds: Dataset) -> list[RawObject]:
    """Move new inbox objects into raw/ (immutable, with a manifest) and list what to process.

    An inbox object leaves the inbox only once its raw copy exists. Raw objects ingested earlier
    whose processing never finished are picked up again, so a failed run loses nothing.
    """
    pull_source(ctx, ds)  # databases and APIs write this interval's file into the inbox
    # every version of every inbox key: two uploads under one name are both taken
    for key, version in ctx.lake.versions(keys.inbox_prefix(ctx.catalog, ds)):
        try:
            data = ctx.lake.get_version(key, version)
        except LakeError as exc:  # one odd upload must not block the dataset's other files
            log.error("%s: cannot read inbox object %r: %s", ds.id, key, exc)
            continue
        sha = hashlib.sha256(data).hexdigest()
        filename = safe_name(key.rsplit("/", 1)[-1])
        raw_key = keys.raw_key(ds.id, sha, filename)
        if not ctx.lake.exists(raw_key):
            try:
                ctx.lake.put(raw_key, data, overwrite=False)
            except ObjectExists:  # another run took the same bytes a moment ago: one copy
                log.info("%s: %s is in raw/ already (another run)", ds.id, filename)
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
                keys.manifest_key(ds.id, sha),
                json.dumps(manifest, indent=2).encode(),
                "application/json",
            )
        done = finished_load(ctx.engine, ds.id, sha) is not None
        action = ObjectAction.SKIPPED if done and not ctx.force else ObjectAction.INGESTED
        if action == ObjectAction.INGESTED and sha in ctx.periods:
            _record_period(ctx, ds, sha, ctx.periods[sha])
        if action == ObjectAction.INGESTED and sha in ctx.collected:
            _record_given(ctx, ds, sha, collected_on=ctx.collected[sha])
        record_event(ctx.engine, ds.id, sha, raw_key, ctx.run_id, action, ctx.run_date)
        ctx.lake.delete_version(key, version)
        log.info("%s: %s %s (sha256 %s)", ds.id, action, filename, sha[:12])
    return pending(ctx, ds)


def _record_period(ctx: RunContext, ds: Dataset, sha: str, period: str) -> None:
    """The period given with the file (`--period`), in its manifest: parse reads it there, so a
    retry or a reprocess reads the file with the same period."""
    _record_given(ctx, ds, sha, period=period, period_from="--period")


def _record_given(ctx: RunContext, ds: Dataset, sha: str, **given: str) -> None:
    """Values given with the file at ingest (`--collected-on`), in its manifest, so a retry or a
    reprocess reads the file with them."""
    key = keys.manifest_key(ds.id, sha)
    manifest = json.loads(ctx.lake.get(key)) if ctx.lake.exists(key) else {}
    manifest.update(given)
    ctx.lake.put(key, json.dumps(manifest, indent=2).encode(), "application/json")


def manifest_collected(ctx: RunContext, ds: Dataset, sha: str) -> dt.date | None:
    """The collection date recorded with a raw object (`--collected-on`), if one was given."""
    key = keys.manifest_key(ds.id, sha)
    if not ctx.lake.exists(key):
        return None
    value = json.loads(ctx.lake.get(key)).get("collected_on")
    return dt.date.fromisoformat(value) if value else None


def manifest_period(ctx: RunContext, ds: Dataset, sha: str) -> str | None:
    """The period recorded with a raw object (`--period`), if one was given."""
    key = keys.manifest_key(ds.id, sha)
    if not ctx.lake.exists(key):
        return None
    period = json.loads(ctx.lake.get(key)).get("period")
    return str(period) if period is not None else None


def pending(ctx: RunContext, ds: Dataset) -> list[RawObject]:
    """Raw objects ingested but without a finished load, oldest first; with --force, the
    objects this run ingested, finished or not."""
    ev, lr = ctx.t("meta", "object_event"), ctx.t("meta", "load_run")
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(ev.c.sha256, ev.c.raw_key, ev.c.run_id)
            .where(and_(ev.c.dataset_id == ds.id, ev.c.action == ObjectAction.INGESTED))
            .order_by(ev.c.id)
        ).all()
        done = {
            r.load_id: r.status
            for r in conn.execute(select(lr.c.load_id, lr.c.status).where(lr.c.dataset_id == ds.id))
        }
    out: dict[str, RawObject] = {}
    for sha, raw_key, run_id in rows:
        wanted = (
            run_id == ctx.run_id if ctx.force else done.get(load_id_for(ds, sha)) not in TERMINAL
        )
        if wanted:
            out[sha] = RawObject(dataset=ds.id, sha256=sha, raw_key=raw_key)
    return list(out.values())
