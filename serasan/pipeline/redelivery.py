"""Bytes processed before: how a delivery is recognised by its sha256 and recorded.

extract (inside the dataset's DAG) records every inbox object it takes in `meta.object_event`:
`ingested` when it will be processed, `skipped` when a finished load of the same bytes exists
(and no --force). `serasan ingest` recognises such a file before starting Airflow at all, and
records the same `skipped` event: no Airflow, no Great Expectations, no catalog validation, so
saying "already processed" takes well under a second instead of a DAG run.

Light on purpose (SQLAlchemy and the table definitions): the CLI imports it on that path.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import Engine, inspect, select

from serasan.common.enums import TERMINAL, ObjectAction
from serasan.warehouse.tables import table

CLI_RUN_PREFIX = "serasan-ingest__"  # run_id of an event `serasan ingest` records without a run


def safe_name(name: str) -> str:
    """An uploaded file name as a lake key part: odd characters and '..' cannot travel on."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return cleaned[:120]


def load_id(dataset_id: str, sha256: str) -> str:
    """The id of a file's load (`handoff.load_id_for`): the dataset and the file's content."""
    return f"{dataset_id}-{sha256[:16]}"


def finished_load(engine: Engine, dataset_id: str, sha256: str) -> dict[str, Any] | None:
    """The dataset's finished load of these bytes (a TERMINAL `meta.load_run` row), or None:
    never loaded, still unfinished, or a warehouse without its tables yet."""
    lr = table("meta", "load_run", engine.dialect.name)
    with engine.connect() as conn:
        if not inspect(conn).has_table(lr.name, schema=lr.schema):
            return None
        row = (
            conn.execute(select(lr).where(lr.c.load_id == load_id(dataset_id, sha256)))
            .mappings()
            .first()
        )
    return dict(row) if row is not None and row["status"] in TERMINAL else None


def record_event(
    engine: Engine,
    dataset_id: str,
    sha256: str,
    raw_key: str,
    run_id: str | None,
    action: ObjectAction,
    logical_date: dt.date,
) -> None:
    """One `meta.object_event` row: what became of one delivery of these bytes."""
    events = table("meta", "object_event", engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(
            events.insert().values(
                dataset_id=dataset_id,
                sha256=sha256,
                raw_key=raw_key,
                run_id=run_id,
                action=action,
                logical_date=logical_date,
            )
        )


def cli_run_id(now: dt.datetime | None = None) -> str:
    """The run id `serasan ingest` records for a re-delivery it recognised without a DAG run."""
    return CLI_RUN_PREFIX + (now or dt.datetime.now(dt.UTC)).isoformat()
