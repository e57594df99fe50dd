"""Fact tables follow the catalog: additive changes are applied, breaking ones are refused.

`evolve` compares each catalog dataset with its live fact table (read with SQLAlchemy's
inspector) and with `meta.fact_column`, the record of what the catalog declared when the table
was built or last changed:

- a new column the catalog declares nullable is added (`ALTER TABLE ... ADD COLUMN`, built by
  Alembic's operations so the name, which comes from the catalog, is always quoted), on SQLite
  and PostgreSQL alike; existing rows keep their data and hold NULL in it. The dataset's
  history table (`core.hist_<dataset>`, superseded row versions) gets the column as well;
- a column that becomes nullable again is just recorded;
- anything else is refused, all at once, with `SchemaChangeRefused`: a column whose type
  changes, a column that leaves the catalog (the table still holds its data), a column that
  becomes NOT NULL (`nullable: false`, or joining the primary key) while existing rows may hold
  NULL, a new column declared NOT NULL, and a changed primary key. Nothing is changed then, for
  any dataset.

A refused change is made with a versioned migration (a revision in `warehouse/migrations/`) that
alters the fact table, moves or backfills the data, and updates `meta.fact_column`; once the
live table matches the catalog, `evolve` has nothing left to refuse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, Table, and_, delete, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeEngine

from serasan.config.catalog import Catalog, Dataset
from serasan.warehouse.facts import HASHES, fact_table
from serasan.warehouse.history import history_table
from serasan.warehouse.tables import table

log = logging.getLogger(__name__)

ADVICE = "write a versioned migration"
_SYNONYMS = {
    "FLOAT": "DOUBLE PRECISION",
    "DOUBLE": "DOUBLE PRECISION",
    "INT8": "BIGINT",
    "BOOL": "BOOLEAN",
    "FLOAT8": "DOUBLE PRECISION",
}


@dataclass(frozen=True)
class Change:
    """One difference between the catalog and a live fact table."""

    dataset_id: str
    column: str | None  # None for the primary key
    # applied: add | hist_add | nullable | record | forget
    # refused: type | drop | not_null | new_not_null | pk
    kind: str
    detail: str
    refused: bool

    @property
    def message(self) -> str:
        what = f"column {self.column} {self.detail}" if self.column else self.detail
        return f"{self.dataset_id}: {what}" + (f"; {ADVICE}" if self.refused else "")


class SchemaChangeRefused(RuntimeError):
    """The catalog changes fact tables in ways that need a versioned migration."""

    def __init__(self, changes: list[Change]):
        self.changes = changes
        lines = [c.message for c in changes]
        super().__init__(
            f"the catalog changes {len({c.dataset_id for c in changes})} fact table(s) in ways "
            "Serasan does not apply by itself; nothing was changed:\n" + "\n".join(lines)
        )


def type_name(t: TypeEngine[Any], conn: Connection) -> str:
    """A type as the database spells it, with synonyms folded (FLOAT is DOUBLE PRECISION)."""
    name = t.compile(dialect=conn.dialect).upper()
    return _SYNONYMS.get(name, name)


def _recorded(conn: Connection) -> dict[str, dict[str, bool]]:
    fc = table("meta", "fact_column", conn.dialect.name)
    out: dict[str, dict[str, bool]] = {}
    for ds_id, col, nullable in conn.execute(
        select(fc.c.dataset_id, fc.c.column_name, fc.c.nullable)
    ):
        out.setdefault(ds_id, {})[col] = bool(nullable)
    return out


def _compare(conn: Connection, ds: Dataset, want: Table, recorded: dict[str, bool]) -> list[Change]:
    insp = inspect(conn)
    live = {c["name"]: c for c in insp.get_columns(want.name, schema=want.schema)}
    live_pk = list(insp.get_pk_constraint(want.name, schema=want.schema)["constrained_columns"])
    declared = {c.name: c.nullable for c in ds.columns}
    out: list[Change] = []

    def add(column: str | None, kind: str, detail: str, refused: bool) -> None:
        out.append(Change(ds.id, column, kind, detail, refused))

    if live_pk != list(ds.primary_key):
        add(
            None,
            "pk",
            f"primary key changes from ({', '.join(live_pk)}) to ({', '.join(ds.primary_key)})",
            True,
        )
    for col in want.columns:
        name = col.name
        if name not in live:
            if name in HASHES:  # tables built before row hashes: NULL means "compare"
                add(
                    name,
                    "add",
                    "is added (BIGINT, NULL in existing rows: they are compared "
                    "in full on their next merge)",
                    False,
                )
            elif col.nullable and declared.get(name, True):
                add(
                    name,
                    "add",
                    f"is added ({type_name(col.type, conn)}, NULL in existing rows)",
                    False,
                )
            else:
                add(
                    name,
                    "new_not_null",
                    "is new and NOT NULL (nullable: false), but the rows "
                    "already loaded have no value for it",
                    True,
                )
            continue
        have, need = type_name(live[name]["type"], conn), type_name(col.type, conn)
        if have != need:
            add(name, "type", f"changes type from {have} to {need}", True)
        was_nullable = bool(live[name]["nullable"])
        if name in declared:
            if name not in recorded:
                add(name, "record", "is recorded in meta.fact_column", False)
            elif recorded[name] != declared[name]:
                if not declared[name] and was_nullable:
                    add(
                        name,
                        "not_null",
                        "changes from nullable to NOT NULL (nullable: false), "
                        "and rows already loaded may hold NULL",
                        True,
                    )
                    continue
                add(
                    name,
                    "nullable",
                    "becomes nullable"
                    if declared[name]
                    else "is declared NOT NULL (nullable: false); the table already refuses NULL "
                    "in it",
                    False,
                )
        if was_nullable and not col.nullable:
            add(
                name,
                "not_null",
                "changes from NULL to NOT NULL, and rows already loaded may hold NULL",
                True,
            )
    for name in live:
        if name not in want.columns:
            add(
                name,
                "drop",
                "is no longer in the catalog, but the fact table still holds it and its data",
                True,
            )
    for name in recorded:
        if name not in want.columns and name not in live:
            add(name, "forget", "is forgotten by meta.fact_column", False)
    hist = history_table(ds, conn.dialect.name)
    if insp.has_table(hist.name, schema=hist.schema):  # superseded rows keep every column too
        kept = {c["name"] for c in insp.get_columns(hist.name, schema=hist.schema)}
        for name in [*(c.name for c in ds.columns), *(hist.c[h].name for h in HASHES)]:
            if name not in kept:
                add(name, "hist_add", f"is added to {hist.name} too", False)
    return out


def plan(conn: Connection, catalog: Catalog) -> list[Change]:
    """Every difference between the catalog and the existing fact tables; changes nothing."""
    dialect = conn.dialect.name
    insp = inspect(conn)
    recorded = _recorded(conn)
    out: list[Change] = []
    for ds in catalog.datasets.values():
        want = fact_table(ds, dialect)
        if insp.has_table(want.name, schema=want.schema):
            out += _compare(conn, ds, want, recorded.get(ds.id, {}))
    return out


def evolve(conn: Connection, catalog: Catalog) -> list[Change]:
    """Apply the additive changes, or refuse them all when any change is breaking.

    Returns the changes applied (columns added, contract recorded).
    """
    changes = plan(conn, catalog)
    refused = [c for c in changes if c.refused]
    if refused:
        raise SchemaChangeRefused(refused)
    if not changes:
        return []
    dialect = conn.dialect.name
    ops = Operations(MigrationContext.configure(conn))
    fc = table("meta", "fact_column", dialect)
    for c in changes:
        ds = catalog.dataset(c.dataset_id)
        key = and_(fc.c.dataset_id == ds.id, fc.c.column_name == c.column)
        if c.kind in ("add", "hist_add"):
            assert c.column is not None  # only a primary key change has none, and it is refused
            want = fact_table(ds, dialect) if c.kind == "add" else history_table(ds, dialect)
            col = want.c[c.column]
            ops.add_column(
                want.name,
                Column(col.name, col.type, nullable=True, comment=col.comment),
                schema=want.schema,
            )
            log.info("%s", c.message)
        if c.kind in ("add", "record", "nullable") and c.column not in HASHES:
            # the change is to one of the dataset's catalog columns (hash columns are not recorded)
            spec = ds.column(c.column) if c.column is not None else None
            assert spec is not None, c
            declared = spec.nullable
            conn.execute(delete(fc).where(key))
            conn.execute(
                insert(fc).values(dataset_id=ds.id, column_name=c.column, nullable=declared)
            )
        elif c.kind == "forget":
            conn.execute(delete(fc).where(key))
    return changes


def record(conn: Connection, ds: Dataset) -> None:
    """Record a freshly created fact table's contract (every catalog column as declared)."""
    fc = table("meta", "fact_column", conn.dialect.name)
    conn.execute(delete(fc).where(fc.c.dataset_id == ds.id))
    conn.execute(
        insert(fc),
        [{"dataset_id": ds.id, "column_name": c.name, "nullable": c.nullable} for c in ds.columns],
    )


__all__ = ["ADVICE", "Change", "SchemaChangeRefused", "evolve", "plan", "record", "type_name"]
