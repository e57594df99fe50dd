"""Task bodies for the DAGs: build a RunContext from Airflow's context, call the core.

Each task imports what it uses when it runs, not at import: a worker runs one task per process,
and extract needs neither Great Expectations nor the report's charts. A dataset's task reads its
own dataset's entry from the catalog's cached index (`serasan.runtime.dag_index.catalog_for`)
and checks its own suite only; the regencies' and the alerts' tasks read the whole catalog.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serasan.common.paths import catalog_dir, expectations_dir

if TYPE_CHECKING:
    from serasan.config.catalog import Catalog
    from serasan.pipeline.handoff import XCom
    from serasan.runtime.context import RunContext

log = logging.getLogger(__name__)


def _catalog(dataset_id: str | None = None) -> Catalog:
    """For a dataset's task, the regencies and that dataset's entry (with the registries its
    suite reads), its suite checked: another dataset's stale suite or entry never stops it. For
    a regency's or the alerts' tasks (none), the whole catalog of SERASAN_CATALOG_DIR."""
    return _catalog_at(str(catalog_dir()), str(expectations_dir()), dataset_id)


@lru_cache(maxsize=8)  # a worker runs many datasets' tasks: keep a few, not one per dataset
def _catalog_at(root: str, expectations: str, dataset_id: str | None) -> Catalog:
    from serasan.config.catalog import CatalogError, read_suite
    from serasan.quality.registry import registry_refs
    from serasan.quality.suites import check_suite, load_catalog_for
    from serasan.runtime.dag_index import catalog_for

    if dataset_id is None:
        return load_catalog_for(Path(root), Path(expectations), ())
    catalog = catalog_for((dataset_id,), Path(root), Path(expectations))
    problems = check_suite(catalog.dataset(dataset_id), Path(expectations))
    if problems:
        raise CatalogError(problems)
    registries = [r for _, r, _ in registry_refs(read_suite(dataset_id, Path(expectations)))]
    if registries:  # the registries' entries, for their fact tables' columns
        catalog = catalog_for((dataset_id, *registries), Path(root), Path(expectations))
    return catalog


def _ctx(
    context: dict[str, Any], alerts: bool = False, dataset_id: str | None = None
) -> RunContext:
    from serasan.operators.config import (
        airflow_connection,
        interval_of,
        run_date_of,
        settings_from_airflow,
    )
    from serasan.operators.notifiers import settings_for_alerts
    from serasan.runtime.context import RunContext

    settings = settings_for_alerts() if alerts else settings_from_airflow()
    return RunContext(
        settings=settings,
        catalog=_catalog(dataset_id),
        run_date=run_date_of(context),
        dag_id=context["dag"].dag_id,
        run_id=context["run_id"],
        interval=interval_of(context),
        connections=airflow_connection,
        force=bool((context.get("params") or {}).get("force", False)),
        periods=dict((context.get("params") or {}).get("periods") or {}),
        collected=dict((context.get("params") or {}).get("collected") or {}),
    )


# The dataset DAG's stages. Each takes and returns XCom (plain JSON, see pipeline/handoff.py):
# the hand-offs are converted here, at the task boundary, and nowhere else.


def extract(dataset_id: str, context: dict[str, Any]) -> list[XCom]:
    """New inbox objects into raw/; the raw objects to process, as `RawObject`s."""
    from serasan.pipeline.extract import extract as _extract
    from serasan.warehouse.db import upgrade

    ctx = _ctx(context, dataset_id=dataset_id)
    upgrade(ctx.engine, ctx.catalog)  # the DAGs run the same upgrade before they load
    return [o.to_xcom() for o in _extract(ctx, ctx.catalog.dataset(dataset_id))]


def parse(dataset_id: str, objects: list[XCom], context: dict[str, Any]) -> list[XCom]:
    """Each raw object into typed Parquet in staging/ (or rejected), as `Parsed`s. The task log
    shows a line per batch of rows read (`serasan.common.progress`)."""
    from serasan.common.progress import tracking
    from serasan.pipeline.handoff import RawObject
    from serasan.pipeline.parse import parse as _parse

    ctx = _ctx(context, dataset_id=dataset_id)
    ds = ctx.catalog.dataset(dataset_id)
    out = []
    for o in objects:
        raw = RawObject.from_xcom(o)
        with tracking(f"membaca {raw.filename}", None, stream=None):  # parse sets the total
            out.append(_parse(ctx, ds, raw).to_xcom())
    return out


def validate(dataset_id: str, parsed: list[XCom], context: dict[str, Any]) -> list[XCom]:
    """The suite on each parsed file: staging, quarantine, Data Docs, as `Validated`s."""
    from serasan.pipeline.handoff import Parsed
    from serasan.pipeline.validate import validate as _validate

    ctx = _ctx(context, dataset_id=dataset_id)
    ds = ctx.catalog.dataset(dataset_id)
    return [_validate(ctx, ds, Parsed.from_xcom(p)).to_xcom() for p in parsed]


def load(dataset_id: str, validated: list[XCom], context: dict[str, Any]) -> list[XCom]:
    """Load every validated file; a blocked or rejected one fails the task (no retry) after all
    are recorded, so the run shows it. Returns `LoadSummary`s."""
    from airflow.sdk.exceptions import AirflowFailException

    from serasan.pipeline.handoff import Validated
    from serasan.pipeline.load import BlockedLoad
    from serasan.pipeline.load import load as _load

    ctx = _ctx(context, dataset_id=dataset_id)
    ds = ctx.catalog.dataset(dataset_id)
    summaries = [_load(ctx, ds, Validated.from_xcom(v)) for v in validated]
    blocked = [s for s in summaries if s.nothing_loaded]
    if blocked:
        detail = "; ".join(
            f"{s.filename}: {s.status}, {s.rows_rejected} rows rejected ({s.alert_key or s.error})"
            for s in blocked
        )
        raise AirflowFailException(f"{dataset_id}: nothing loaded from {detail}") from BlockedLoad()
    return [s.to_xcom() for s in summaries]


def compute_kpis(regency: str, context: dict[str, Any]) -> dict[str, Any]:
    from serasan.publish import kpi
    from serasan.warehouse.db import upgrade

    ctx = _ctx(context)
    upgrade(ctx.engine, ctx.catalog)
    return kpi.compute(ctx, regency)


def export(regency: str, context: dict[str, Any]) -> dict[str, Any]:
    """The regency's Satu Data files into exports/; publication is the next task's."""
    from serasan.publish import exports

    ctx = _ctx(context)
    return exports.export_regency(ctx, regency)


def publish(regency: str, context: dict[str, Any]) -> dict[str, Any]:
    """The exported periods to the CKAN portal, when one is configured. A portal outage leaves
    the periods pending (the next run sends them) and does not fail the task."""
    from serasan.publish import exports

    ctx = _ctx(context)
    published = exports.publish_regency(ctx, regency) if ctx.settings.ckan_url else {}
    return {"regency": regency, "published": published}


def report(regency: str, context: dict[str, Any]) -> dict[str, Any]:
    """The report for the last month before the run's logical date."""
    from serasan.publish import report as report_

    return report_.write(_ctx(context), regency)


# ------------------------------------------------------------------------ alerts


def _phones(catalog: Catalog) -> dict[str, str]:
    return {
        c.email: c.phone
        for reg in catalog.regencies.values()
        for o in reg.opds
        for c in o.contacts
        if c.phone
    }


def notify(dataset_id: str, context: dict[str, Any]) -> dict[str, Any]:
    """Drain this dataset's alerts. Never fails: a delivery error is recorded and retried later,
    by the next run or the daily `serasan__alerts` DAG. The contacts come from the regencies of
    the dataset's own catalog entry; the metrics, when a collector is set, cover every dataset."""
    from serasan.admin import metrics
    from serasan.alerts import delivery

    try:
        ctx = _ctx(context, alerts=True, dataset_id=dataset_id)
        result = delivery.drain(
            ctx.engine, ctx.settings, dataset_id=dataset_id, phones=_phones(ctx.catalog)
        )
        try:  # metrics are best effort: a missing collector never fails the run
            everything = _catalog() if ctx.settings.statsd_host else ctx.catalog
            result["metrics_datagrams"] = metrics.publish(
                ctx.settings, ctx.engine, everything, ctx.run_date
            )
        except OSError as exc:
            log.warning("metrics not sent to %s: %s", ctx.settings.statsd_host, exc)
        return result
    except Exception as exc:  # the warehouse itself: the alerts wait in the outbox
        log.exception("%s: alerts not drained now; they stay in the outbox", dataset_id)
        return {"sent": 0, "retrying": 0, "failed": 0, "errors": [type(exc).__name__]}


def check_dag_files(context: dict[str, Any]) -> list[str]:
    """Tell the engineers about DAG files that no longer import (once per file and day)."""
    from serasan.admin.dagcheck import alert_broken_dag_files
    from serasan.operators.config import run_date_of, settings_from_airflow
    from serasan.warehouse.db import make_engine

    settings = settings_from_airflow()
    engine = make_engine(settings.warehouse_url)
    try:
        return alert_broken_dag_files(engine, settings, run_date_of(context))
    finally:
        engine.dispose()


def check_freshness(context: dict[str, Any]) -> list[str]:
    from serasan.alerts import freshness
    from serasan.warehouse.db import upgrade

    ctx = _ctx(context, alerts=True)
    upgrade(ctx.engine, ctx.catalog)
    return freshness.check_lateness(ctx)


def digests(context: dict[str, Any]) -> list[str]:
    from serasan.alerts import freshness
    from serasan.warehouse.db import upgrade

    ctx = _ctx(context, alerts=True)
    upgrade(ctx.engine, ctx.catalog)
    return freshness.digests(ctx)


def drain_outbox(context: dict[str, Any]) -> dict[str, Any]:
    """Drain every pending alert; like `notify`, a delivery error never fails the task."""
    from serasan.alerts import delivery

    try:
        ctx = _ctx(context, alerts=True)
        return delivery.drain(ctx.engine, ctx.settings, phones=_phones(ctx.catalog))
    except Exception as exc:
        log.exception("outbox not drained now; the alerts wait for the next drain")
        return {"sent": 0, "retrying": 0, "failed": 0, "errors": [type(exc).__name__]}


def watch_outbox(context: dict[str, Any]) -> dict[str, Any]:
    """Tell the engineers when deliveries have waited longer than `outbox_max_age_hours`."""
    from serasan.alerts import delivery

    ctx = _ctx(context, alerts=True)
    return delivery.watch_outbox(ctx.engine, ctx.settings, ctx.run_date)


def retention(context: dict[str, Any]) -> dict[str, Any]:
    """Delete what the catalog's retention says is due on the run's date. A failed delete fails
    the task after every other object was handled, so it is retried and the engineers hear."""
    from serasan.admin.retention import (
        ACTOR_DAG,
        RetentionIncomplete,
        backups_from_env,
        run_retention,
    )
    from serasan.warehouse.db import upgrade

    ctx = _ctx(context)
    upgrade(ctx.engine, ctx.catalog)
    result = run_retention(
        ctx.lake,
        ctx.engine,
        ctx.catalog,
        ctx.run_date,
        ACTOR_DAG,
        backups=backups_from_env(ctx.lake, ctx.settings),
    )
    if result["failed"]:
        keys = ", ".join(o["key"] for o in result["objects"] if o["status"] == "failed")
        errors = "; ".join(result.get("errors") or [])
        raise RetentionIncomplete(
            f"{result['failed']} failure(s); not deleted: {keys or '-'}"
            + (f"; {errors}" if errors else "")
        )
    return result


# ------------------------------------------------------------------------ backups


def backup(context: dict[str, Any]) -> dict[str, Any]:
    """The warehouse dump into the lake, then the lake into `SERASAN_BACKUP_LAKE_URL`. Needs no
    catalog and runs no upgrade, so it backs up even a deployment whose catalog is broken."""
    from serasan.admin.backup import run_backup, target_settings
    from serasan.operators.config import run_date_of, settings_from_airflow

    settings = settings_from_airflow()
    target = target_settings(settings)
    if target is None:
        log.warning("SERASAN_BACKUP_LAKE_URL is not set: only the warehouse is backed up")
    return run_backup(settings, target=target, logical_date=run_date_of(context).isoformat())
