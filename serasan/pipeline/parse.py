"""Stage 2 of a dataset's run: one raw file read into the dataset's typed schema, once.

The rows go to `staging/<dataset>/<sha256>.parsed.parquet` with their `_row` column (the row
number the OPD sees), and the rows parse set aside (unreadable cells, ragged lines, summary
rows) to `staging/<dataset>/<sha256>.rejects.json` with their cells and reason, so validate
never reads the file again. A file that cannot be read at all (too large, not a table, no
header) is a `Parsed` with an `error`. Running it again rewrites the same objects.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from serasan.common.progress import current as current_progress
from serasan.config.catalog import Dataset
from serasan.lake import keys
from serasan.parse.reader import ParseError, ParseResult, Reject, iter_rows, parse_stream
from serasan.pipeline.extract import manifest_collected, manifest_period
from serasan.pipeline.handoff import Parsed, RawObject
from serasan.quality.quarantine import is_fix_file
from serasan.runtime.context import RunContext

DEFAULT_MAX_BYTES = 256 * 2**20  # per file; a dataset may raise it in source.params.max_bytes
PARQUET = "application/vnd.apache.parquet"


def parse(ctx: RunContext, ds: Dataset, obj: RawObject) -> Parsed:
    """Parse one raw object into typed Parquet in staging/; a file parse refuses is rejected."""
    filename = obj.filename
    try:
        size = ctx.lake.size(obj.raw_key)
        limit = int(ds.source.params.get("max_bytes", DEFAULT_MAX_BYTES))
        if size > limit:
            raise ParseError(
                f"{filename}: {size / 2**20:.1f} MB, jauh lebih besar dari batas "
                f"dataset ini {limit / 2**20:.0f} MB (larger than this dataset's "
                f"limit of {limit / 2**20:.0f} MB, source.params.max_bytes)"
            )
        current_progress().set_total(size)  # the bytes a tracker's share is of, if one is open
        period = manifest_period(ctx, ds, obj.sha256)  # given with the file: `--period`
        collected = manifest_collected(ctx, ds, obj.sha256)  # and `--collected-on`
        with ctx.lake.fetch(obj.raw_key) as path:
            result = parse_stream(
                lambda: path.open("rb"),
                filename,
                ds,
                period,
                ctx.catalog.aliases,
                collected=collected,
            )
            fix_file = is_fix_file(
                _header_cells(lambda: path.open("rb"), filename, ds, result.header_row)
            )
    except ParseError as exc:
        return Parsed(dataset=ds.id, sha256=obj.sha256, raw_key=obj.raw_key, error=str(exc))
    rejects = keys.rejects_key(ds.id, obj.sha256)
    ctx.lake.put(rejects, rejects_json(result.rejects), "application/json")
    key = keys.parsed_key(ds.id, obj.sha256)  # last: its key in the hand-off says parse is done
    ctx.lake.put(key, parquet_bytes(result.table), PARQUET)
    return Parsed(
        dataset=ds.id,
        sha256=obj.sha256,
        raw_key=obj.raw_key,
        rows_in=result.rows_in,
        rows_parsed=result.table.num_rows,
        header_row=result.header_row,
        notes=tuple(result.notes),
        fix_file=fix_file,
        parsed_key=key,
        rejects_key=rejects,
    )


def _header_cells(opener: Any, filename: str, ds: Dataset, header_row: int) -> list[Any]:
    """The cells of the header row (1-based), read again from the start of the file."""
    _, rows = iter_rows(opener, filename, ds)
    for i, (_, row) in enumerate(rows, 1):
        if i == header_row:
            return row
    return []


def parquet_bytes(table: pa.Table) -> bytes:
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    return buf.getvalue().to_pybytes()


def rejects_json(rejects: list[Reject]) -> bytes:
    """The set-aside rows as a JSON array, one object per row, as `Reject` has them."""
    return json.dumps([dataclasses.asdict(r) for r in rejects], ensure_ascii=False).encode()


def read_parsed(ctx: RunContext, parsed: Parsed) -> ParseResult:
    """The `ParseResult` parse wrote, as parse had it in memory: table, rejects, counts, notes."""
    if parsed.parsed_key is None or parsed.rejects_key is None:
        raise ValueError(f"{parsed.raw_key} was rejected by parse: there is nothing to read")
    with ctx.lake.fetch(parsed.parsed_key) as path:
        table = pq.ParquetFile(path).read()
    rejects = [
        Reject(**{**r, "record": tuple((name, value) for name, value in r["record"])})
        for r in json.loads(ctx.lake.get(parsed.rejects_key))
    ]
    return ParseResult(
        table=table,
        rejects=rejects,
        rows_in=parsed.rows_in,
        header_row=parsed.header_row,
        notes=list(parsed.notes),
    )
