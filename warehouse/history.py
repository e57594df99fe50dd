"""Row history, so that a load can be withdrawn: `core.hist_<dataset>` and the merge ledger.

When a merge replaces, updates or deletes fact rows, the old versions move into the dataset's
history table, stamped with the load that superseded them (`superseded_by`) and that merge's
sequence number (`superseded_at_seq`). Retracting a load is then: delete its rows, put back the
rows it superseded. Rows another load superseded later cannot come back without undoing that
later load first; `blockers` names those loads.

`meta.merge_log` is the ledger of merges: one row per load currently applied, with its sequence
number, load mode, the checksum of the rows it merged and the periods they cover. A load merged
again with the same checksum changes nothing; a different checksum (a changed suite or parser)
first undoes the load's earlier merge. The ledger is a fixed table (`tables.py`, migration 0009);
`ensure_for` still creates it in a database that was never upgraded (tests, benchmarks).

Identifiers come only from the catalog, checked by `names.locate`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy.engine import Connection

from serasan.config.catalog import Catalog, Dataset
from serasan.warehouse.facts import HASHES, LOAD_ID, SQL_TYPES
from serasan.warehouse.names import locate
from serasan.warehouse.tables import table as fixed_table

SUPERSEDED_BY = "superseded_by"
SUPERSEDED_SEQ = "superseded_at_seq"
ADVISORY_LOCK_ID = 16_0306  # the same lock as `db.upgrade`: schema changes never race


def hist_name(dataset_id: str) -> str:
    return f"hist_{dataset_id}"


def history_table(ds: Dataset, dialect: str, metadata: MetaData | None = None) -> Table:
    """The dataset's history: the fact columns (all nullable), the load that wrote the version,
    the load that superseded it and when (merge sequence number)."""
    schema, name = locate("core", hist_name(ds.id), dialect)
    cols = [Column(c.name, SQL_TYPES[c.type], nullable=True) for c in ds.columns]
    cols += [
        *[Column(h, BigInteger, nullable=True) for h in HASHES],
        Column(LOAD_ID, String(120), nullable=False),
        Column(SUPERSEDED_BY, String(120), nullable=False),
        Column(SUPERSEDED_SEQ, BigInteger, nullable=False),
    ]
    t = Table(
        name,
        metadata or MetaData(),
        *cols,
        schema=schema,
        comment=f"superseded versions of {ds.id}",
    )
    # History is appended in sequence order: a BRIN index costs almost nothing to maintain.
    Index(f"ix_{name}_seq"[:63], t.c[SUPERSEDED_SEQ], postgresql_using="brin")
    return t


def merge_log_table(dialect: str) -> Table:
    """The ledger of applied merges (one row per dataset and load id), from `tables`."""
    return fixed_table("meta", "merge_log", dialect)


def _missing(conn: Connection, tables: list[Table]) -> list[Table]:
    insp = inspect(conn)
    return [t for t in tables if not insp.has_table(t.name, schema=t.schema)]


def _create(conn: Connection, tables: list[Table]) -> None:
    if not tables:
        return
    if conn.dialect.name == "postgresql":  # two first loads must not create the same table
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_ID})
        tables = _missing(conn, tables)
    for t in tables:
        t.create(bind=conn, checkfirst=True)


def ensure_history_tables(conn: Connection, catalog: Catalog) -> None:
    """Create the merge ledger and every dataset's missing history table."""
    dialect = conn.dialect.name
    wanted = [merge_log_table(dialect)] + [
        history_table(ds, dialect) for ds in catalog.datasets.values()
    ]
    _create(conn, _missing(conn, wanted))


def ensure_for(conn: Connection, ds: Dataset) -> tuple[Table, Table]:
    """The dataset's history table and the ledger, created when missing (first load)."""
    dialect = conn.dialect.name
    hist, log = history_table(ds, dialect), merge_log_table(dialect)
    _create(conn, _missing(conn, [hist, log]))
    return hist, log
