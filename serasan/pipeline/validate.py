"""Stage 3 of a dataset's run: the dataset's suite on the rows parse wrote, never the file again.

Writes the file's Data Docs page, the staging Parquet of the rows that load, and the quarantine
files (CSV and XLSX) of the rows that do not; returns what load records. Running it again
rewrites the same objects.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from serasan.common.enums import LoadStatus
from serasan.config.catalog import Dataset
from serasan.lake import keys
from serasan.parse.reader import ROW_COL
from serasan.pipeline.handoff import DqOutcome, Parsed, Validated
from serasan.pipeline.parse import PARQUET, read_parsed
from serasan.quality import datadocs
from serasan.quality.assess import assess, cell
from serasan.quality.quarantine import quarantine_csv, quarantine_xlsx
from serasan.quality.registry import registry_params
from serasan.runtime.context import RunContext
from serasan.warehouse import loader

SAMPLE_KEYS = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def validate(ctx: RunContext, ds: Dataset, parsed: Parsed) -> Validated:
    """Validate one parsed file; write valid rows to staging and failures to quarantine."""
    if parsed.error is not None:  # the file itself was refused: nothing to validate
        return Validated(
            dataset=ds.id,
            sha256=parsed.sha256,
            raw_key=parsed.raw_key,
            status=LoadStatus.REJECTED,
            error=parsed.error,
            problems=((parsed.error, 0),),
        )
    result = read_parsed(ctx, parsed)
    sha, filename = parsed.sha256, parsed.filename
    suite = ctx.catalog.suites[ds.id]
    a = assess(
        result,
        ds,
        suite,
        ctx.run_date,
        ctx.settings.lang,
        registry_params(ctx.engine, ctx.catalog, suite),
    )
    keep, quarantined, status = a.keep, a.quarantined, LoadStatus(a.status)
    validation = a.validation

    docs_key = (
        datadocs.write(ctx.lake, ctx.catalog, ds, sha, validation.gx_result, filename)
        if validation.gx_result is not None
        else None
    )
    staging_key = keys.staging_key(ds.id, sha)
    buf = pa.BufferOutputStream()
    pq.write_table(keep, buf)
    ctx.lake.put(staging_key, buf.getvalue().to_pybytes(), PARQUET)
    quarantine_key = None
    if quarantined:
        quarantine_key = keys.quarantine_key(ds.id, sha)
        ctx.lake.put(quarantine_key, quarantine_csv(quarantined, ds.column_names), "text/csv")
        ctx.lake.put(
            keys.quarantine_xlsx_key(ds.id, sha),
            quarantine_xlsx(
                quarantined, ds.column_names, f"Baris ditolak: {ds.title} ({filename})"
            ),
            XLSX,
        )
    loaded = keep.num_rows
    return Validated(
        dataset=ds.id,
        sha256=sha,
        raw_key=parsed.raw_key,
        status=status,
        rows_in=result.rows_in,
        rows_valid=loaded,
        rows_rejected=result.rows_in - loaded,
        problems=tuple((text, n) for text, n in a.problems),
        examples=tuple({k: cell(v) for k, v in q.items()} for q in quarantined[:5]),
        dq=tuple(
            DqOutcome(
                seq=r.seq,
                type=r.type,
                column=",".join(r.columns),
                success=r.success,
                unexpected_count=r.unexpected_count,
                element_count=r.element_count,
                sample=_sample_keys(ds, result.table, r.mask),
            )
            for r in validation.results
        ),
        staging_key=staging_key,
        quarantine_key=quarantine_key,
        # a blocked file keeps the periods it is about, so reprocessing can find it
        periods=tuple(
            loader.periods_of(ds, keep if status != LoadStatus.BLOCKED else result.table)
        ),
        notes=parsed.notes,
        fix_file=parsed.fix_file,
        rows_failing=len(quarantined),
        docs_key=docs_key,
    )


def _sample_keys(ds: Dataset, batch: pa.Table, mask: Any) -> str | None:
    idx = mask.nonzero()[0][:SAMPLE_KEYS]
    if not len(idx):
        return None
    rows = batch.select([*ds.primary_key, ROW_COL]).take(pa.array(idx)).to_pylist()
    return json.dumps([{k: cell(v) for k, v in row.items()} for row in rows])
