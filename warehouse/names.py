"""The one place that maps a warehouse layer + table name onto the database.

PostgreSQL gets one schema per layer (`core.fact_x`). SQLite has no schemas, so the demo keeps
one file and prefixes the layer (`core__fact_x`): views and foreign keys then work across
layers, and Alembic needs no schema translation.
"""

from __future__ import annotations

import re

LAYERS = ("ref", "staging", "core", "mart", "meta")
_SAFE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def has_schemas(dialect: str) -> bool:
    return dialect == "postgresql"


def locate(layer: str, name: str, dialect: str) -> tuple[str | None, str]:
    """(schema, table) for this dialect; names are checked so they are safe as identifiers."""
    if layer not in LAYERS:
        raise ValueError(f"unknown warehouse layer {layer!r}; expected one of {LAYERS}")
    if not _SAFE.match(name):
        raise ValueError(f"unsafe table name {name!r}")
    return (layer, name) if has_schemas(dialect) else (None, f"{layer}__{name}")


def qualified(layer: str, name: str, dialect: str) -> str:
    """Dotted name for hand-written SQL (KPI queries); both parts come from `locate`."""
    schema, table = locate(layer, name, dialect)
    return f"{schema}.{table}" if schema else table


def fact_name(dataset_id: str) -> str:
    return f"fact_{dataset_id}"
