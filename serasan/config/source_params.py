"""`source.params` of pulled datasets: part of the catalog's schema, checked by `catalog validate`.

The connectors in `serasan.ingest.sources` read these models; the catalog validates against them
without importing the connectors (and their database and HTTP clients).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ApiParams(BaseModel):
    """`source.params` of an `api` dataset in the catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conn_id: str = Field(min_length=1)
    path: str = Field(min_length=1)
    records_path: str = "data"  # dotted; "" when the body itself is the list
    pagination: Literal["page", "offset", "cursor", "none"]
    page_param: str = "page"
    size_param: str = "per_page"  # sent with page and cursor pagination
    page_size: int = Field(default=100, ge=1)
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    next_cursor_path: str = "meta.next_cursor"
    since_param: str | None = "updated_since"  # None: the API cannot filter by time
    until_param: str | None = "updated_until"
    fields: dict[str, str] = Field(default_factory=dict)  # catalog column -> record field
    timeout_seconds: float = Field(default=30, gt=0)
    max_retries: int = Field(default=5, ge=0)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_pages: int = Field(default=10_000, ge=1)


class DatabaseParams(BaseModel):
    """`source.params` of a `database` dataset in the catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conn_id: str = Field(min_length=1)
    table: str | None = Field(default=None, min_length=1)
    schema_name: str | None = Field(default=None, min_length=1)
    query: str | None = Field(default=None, min_length=1)  # may use :lower and :upper
    watermark_column: str = Field(min_length=1)
    watermark_type: Literal["timestamp", "date", "integer"] = "timestamp"
    columns: dict[str, str] = Field(default_factory=dict)  # catalog column -> source column
    batch_size: int = Field(default=10_000, ge=1)

    @model_validator(mode="after")
    def _table_or_query(self) -> DatabaseParams:
        if (self.table is None) == (self.query is None):
            raise ValueError(
                "give exactly one of `table` (optionally with `schema_name`) or `query`"
            )
        if self.schema_name is not None and self.table is None:
            raise ValueError("`schema_name` goes with `table`; a `query` names its own tables")
        return self


PARAMS_MODELS: dict[str, type[Any]] = {"api": ApiParams, "database": DatabaseParams}
