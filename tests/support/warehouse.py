"""Data in a warehouse the way production puts it there: the run date tests fix, a RunContext on
an upgraded warehouse, a generated OPD file delivered through its dataset's pipeline, and both
regencies loaded end to end (the `regencies_loaded` fixtures wrap `loaded_regencies`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.pipeline.handoff import LoadSummary
from tests.support.services import fresh_database

RUN_DATE = dt.date(2026, 11, 1)  # tests fix the date they run for


def warehouse_context(settings: Settings, catalog: Catalog) -> Any:
    """A RunContext for RUN_DATE on an upgraded warehouse."""
    from serasan.runtime.context import RunContext
    from serasan.warehouse.db import upgrade

    ctx = RunContext(settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="t", run_id="r")
    upgrade(ctx.engine, catalog)
    return ctx


def deliver(
    ctx: Any, dataset_id: str, rows: int | None = None, defect_rate: float = 0.0, seed: int = 11
) -> list[LoadSummary]:
    """A generated OPD file put in the dataset's inbox, then the dataset's pipeline run on it."""
    from serasan.demo.generate import generate_dataset
    from serasan.lake.keys import inbox_prefix
    from serasan.pipeline.run import run_dataset

    ds = ctx.catalog.dataset(dataset_id)
    gen = generate_dataset(ds, ctx.catalog, rows=rows, defect_rate=defect_rate, seed=seed)
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + gen.filename, gen.data)
    return run_dataset(ctx, ds)


def load_every_dataset(settings: Settings, catalog: Catalog, workdir: Path) -> Any:
    """Every dataset of both regencies through `run_dataset`, each by its own source kind
    (spreadsheet inbox, application database, HTTP API), then KPIs, exports and reports."""
    from serasan.demo.sources import prepare_database, serve_api
    from serasan.pipeline.run import run_dataset
    from serasan.publish import exports, kpi, report

    ctx = warehouse_context(
        dataclasses.replace(settings, pii_key="kunci-uji-laporan-91ab"), catalog
    )
    saved = dict(os.environ)
    try:
        with ExitStack() as stack:
            for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
                if ds.source.kind == "spreadsheet":
                    summaries = deliver(ctx, ds.id)
                else:
                    if ds.source.kind == "api":
                        os.environ.update(
                            stack.enter_context(serve_api(ds, catalog, RUN_DATE, 0.0))
                        )
                    else:
                        os.environ.update(prepare_database(ds, catalog, workdir, RUN_DATE, 0.0))
                    summaries = run_dataset(ctx, ds)
                assert [s.status for s in summaries] == ["loaded"], summaries
    finally:
        os.environ.clear()
        os.environ.update(saved)
    for kode in catalog.regencies:
        kpi.compute(ctx, kode)
        exports.export_regency(ctx, kode)
        report.write(ctx, kode)
    return ctx


@contextmanager
def loaded_regencies(
    backend: str,
    catalog: Catalog,
    work: Path,
    pg_server_url: str | None = None,
    s3_endpoint: str | None = None,
) -> Iterator[Any]:
    """Both regencies fully loaded, with KPIs, exports and reports: on a folder lake and SQLite
    ("embedded"), or on S3 and a fresh PostgreSQL database ("production")."""
    if backend == "embedded":
        settings = Settings(
            lake_url=str(work / "lake"), warehouse_url=f"sqlite:///{work / 'warehouse.db'}"
        )
        yield load_every_dataset(settings, catalog, work / "apps")
        return
    assert pg_server_url and s3_endpoint, "production needs PostgreSQL and S3"
    with fresh_database(pg_server_url, prefix="serasan_r_") as url:
        settings = Settings(
            lake_url=f"s3://lake-{uuid.uuid4().hex[:10]}",
            warehouse_url=url,
            s3_endpoint=s3_endpoint,
            s3_access_key="test",
            s3_secret_key="test",
        )
        ctx = load_every_dataset(settings, catalog, work / "apps")
        try:
            yield ctx
        finally:
            ctx.engine.dispose()
