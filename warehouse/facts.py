"""Per-dataset fact tables, derived from the catalog so onboarding a dataset stays YAML-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.types import BigInteger, TypeEngine

from serasan.config.catalog import Dataset
from serasan.warehouse.names import fact_name, locate

SQL_TYPES: dict[str, type[TypeEngine[Any]]] = {
    "string": Text,
    "integer": BigInteger,
    "number": Float,
    "date": Date,
    "boolean": Boolean,
}
LOAD_ID = "load_id"
KEY_HASH, ROW_HASH = "key_hash", "row_hash"  # see rowhash.py: a merge skips unchanged rows
HASHES = (KEY_HASH, ROW_HASH)
SYSTEM_COLUMNS = (*HASHES, LOAD_ID)  # every fact table ends with these, in this order


def fact_table(
    ds: Dataset,
    dialect: str,
    metadata: MetaData | None = None,
    layer: str = "core",
    name: str | None = None,
) -> Table:
    """The dataset's table in `layer` (core fact, or a staging copy under another name)."""
    schema, tname = locate(layer, name or fact_name(ds.id), dialect)
    cols = [
        Column(
            c.name,
            SQL_TYPES[c.type],
            nullable=c.nullable or c.name not in ds.primary_key,
            comment=c.description,
        )
        for c in ds.columns
    ]
    cols.append(
        Column(
            KEY_HASH,
            BigInteger,
            nullable=True,
            comment="hash of the primary key (warehouse.rowhash)",
        )
    )
    cols.append(
        Column(
            ROW_HASH,
            BigInteger,
            nullable=True,
            comment="hash of the row's catalog columns (warehouse.rowhash)",
        )
    )
    cols.append(Column(LOAD_ID, String(120), nullable=False))
    extra = [PrimaryKeyConstraint(*ds.primary_key)] if layer == "core" else []
    return Table(tname, metadata or MetaData(), *cols, *extra, schema=schema, comment=ds.title)


def sql_type(type_name: str) -> type[TypeEngine[Any]]:
    return SQL_TYPES[type_name]


__all__ = [
    "fact_table",
    "sql_type",
    "LOAD_ID",
    "KEY_HASH",
    "ROW_HASH",
    "HASHES",
    "SYSTEM_COLUMNS",
    "Integer",
    "String",
]
