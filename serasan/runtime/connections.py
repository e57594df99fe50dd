"""Connections and run intervals: what a run gets from Airflow (or the environment) to reach a
source. Plain values, so the core can be run and tested without Airflow.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from pydantic import BaseModel

    from serasan.config.catalog import Dataset

_Params = TypeVar("_Params", bound="BaseModel")


class SourceError(Exception):
    """A source could not be read; the message names the dataset, the source and why."""


@dataclass(frozen=True)
class ConnInfo:
    """A connection's parts, the same shape as an Airflow connection; secrets are not shown."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


ConnectionResolver = Callable[[str], ConnInfo]


def conn_from_uri(conn_id: str, uri: str) -> ConnInfo:
    """Parse an Airflow-style connection URI or JSON document."""
    if uri.lstrip().startswith("{"):
        doc = json.loads(uri)
        extra = doc.get("extra") or {}
        return ConnInfo(
            conn_id,
            doc.get("conn_type"),
            doc.get("host"),
            doc.get("port"),
            doc.get("login"),
            doc.get("password"),
            doc.get("schema"),
            json.loads(extra) if isinstance(extra, str) else extra,
        )
    parts = urlsplit(uri)
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    # sqlite:////abs/app.db keeps its absolute path; other schemes' path is a database name
    path = parts.path[1:] if parts.scheme.startswith("sqlite") else parts.path.lstrip("/")
    return ConnInfo(
        conn_id,
        parts.scheme,
        parts.hostname,
        parts.port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        path or None,
        {k: unquote(v) for k, v in query.items()},
    )


def env_connections(conn_id: str) -> ConnInfo:
    """Connections from `SERASAN_CONN_<ID>` (URI or JSON), for runs outside Airflow."""
    key = f"SERASAN_CONN_{conn_id.upper()}"
    value = os.environ.get(key)
    if not value:
        raise SourceError(
            f"connection {conn_id!r} is not defined: set the Airflow connection "
            f"{conn_id!r} or the environment variable {key}"
        )
    return conn_from_uri(conn_id, value)


@dataclass(frozen=True)
class Interval:
    """The run's data interval, [start, end), timezone-aware."""

    start: dt.datetime
    end: dt.datetime

    @property
    def label(self) -> str:
        return f"{self.start:%Y%m%dT%H%M}-{self.end:%Y%m%dT%H%M}"


def checked_params(ds: Dataset, model: type[_Params], kind: str, mapping: str) -> _Params:
    """A pulled source's params, validated by its connector's model; the column mapping
    (`mapping`: catalog column -> source field) may only name catalog columns."""
    from pydantic import ValidationError

    try:
        params = model.model_validate(ds.source.params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(params)'}: {e['msg']}" for e in exc.errors()
        )
        raise SourceError(f"{ds.id}: source.params for {kind} source: {problems}") from None
    unknown = sorted(set(getattr(params, mapping)) - set(ds.column_names))
    if unknown:
        raise SourceError(
            f"{ds.id}: source.params.{mapping} maps {', '.join(unknown)}, which "
            f"{'is' if len(unknown) == 1 else 'are'} not a column of the dataset"
        )
    return params
