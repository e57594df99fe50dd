"""The flow of one dataset, in-process: inbox -> raw -> parsed Parquet -> suite -> warehouse.

    extract (extract.py)   inbox objects into raw/, the raw objects still to process
    parse (parse.py)       one raw file into typed Parquet in staging/, or rejected
    validate (validate.py) the suite on the parsed rows: staging, quarantine, Data Docs
    load (load.py)         the warehouse merge, load record, DQ results and alert, atomically

The dataset DAG runs each stage as its own task (operators/tasks.py), passing the hand-offs of
handoff.py as XCom; the functions here chain the same stages in one process, for the CLI's
quick paths, `corrections.reprocess` and the tests. Plain Python with plain arguments, keyed by
dataset and content sha256, so running any of it again changes nothing.
"""

from __future__ import annotations

from serasan.config.catalog import Dataset
from serasan.pipeline.extract import extract
from serasan.pipeline.handoff import LoadSummary, RawObject, Validated
from serasan.pipeline.load import load
from serasan.pipeline.parse import parse
from serasan.pipeline.validate import validate
from serasan.runtime.context import RunContext


def transform(ctx: RunContext, ds: Dataset, obj: RawObject) -> Validated:
    """Parse then validate one raw object: what the DAG's parse and validate tasks do."""
    return validate(ctx, ds, parse(ctx, ds, obj))


def run_dataset(ctx: RunContext, ds: Dataset) -> list[LoadSummary]:
    """Every stage for one dataset, in-process (tests and the CLI's quick paths)."""
    return [load(ctx, ds, transform(ctx, ds, obj)) for obj in extract(ctx, ds)]
