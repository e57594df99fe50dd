"""Pulled sources: application databases and REST APIs, fetched into the dataset's inbox.

Spreadsheets reach the inbox by upload. Pulled sources are written there by `pull()` as one file
per run interval, so from the inbox on every source takes the same path (raw, parse, validate,
load) and the same sha256 rule: pulling the same interval again yields the same bytes and is
recognised as already processed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset
    from serasan.runtime.context import RunContext


def pull(ctx: RunContext, ds: Dataset) -> list[str]:
    """Fetch the run interval of a pulled source into the inbox; returns the keys written."""
    kind = ds.source.kind
    if kind == "spreadsheet":
        return []
    if kind == "database":
        from serasan.ingest.sources import database

        return database.pull(ctx, ds)
    from serasan.ingest.sources import api

    return api.pull(ctx, ds)
