"""Engines and the one upgrade step: migrations for fixed tables, the catalog for fact tables."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url

from serasan.catalog import PILLARS, Catalog
from serasan.paths import SEED_DIR
from serasan.warehouse.facts import fact_table
from serasan.warehouse.names import LAYERS, locate
from serasan.warehouse.tables import table

MIGRATIONS = Path(__file__).parent / "migrations"
ADVISORY_LOCK_ID = 16_0306  # any constant shared by every Serasan process


def make_engine(url: str) -> Engine:
    """SQLAlchemy engine; bare `postgresql://` URLs use psycopg 3, SQLite gets WAL and FKs."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite") and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, future=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    return engine


def upgrade(engine: Engine, catalog: Catalog) -> None:
    """Bring the warehouse to the code's schema; safe to run from many DAGs at once."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_ID})
            for layer in LAYERS:  # the version table lives in meta, so schemas come first
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{layer}"'))
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        ensure_fact_tables(conn, catalog)
        seed(conn, catalog)


def ensure_fact_tables(conn: Connection, catalog: Catalog) -> None:
    """Create missing fact tables. Changing an existing one is the warehouse issue's job."""
    dialect = conn.dialect.name
    insp = inspect(conn)
    for ds in catalog.datasets.values():
        t = fact_table(ds, dialect)
        if not insp.has_table(t.name, schema=t.schema):
            t.create(bind=conn)


def _upsert_all(conn: Connection, layer: str, name: str, rows: list[dict]) -> None:
    """Replace a small reference table's content (seed data is the source of truth)."""
    t = table(layer, name, conn.dialect.name)
    conn.execute(t.delete())
    if rows:
        conn.execute(t.insert(), rows)


def seed(conn: Connection, catalog: Catalog) -> None:
    with (SEED_DIR / "wilayah.csv").open(encoding="utf-8") as fh:
        regions = [{k: (v or None) for k, v in r.items()} for r in csv.DictReader(fh)]
    _upsert_all(conn, "ref", "region", regions)
    _upsert_all(conn, "core", "dim_pillar", [{"code": k, "name": v} for k, v in PILLARS.items()])
    _upsert_all(conn, "core", "dim_opd", [
        {"regency": r.kode, "code": o.code, "name": o.name, "email": o.contacts[0].email}
        for r in catalog.regencies.values() for o in r.opds])
    months = [dt.date(y, m, 1) for y in range(2015, 2036) for m in range(1, 13)]
    _upsert_all(conn, "core", "dim_period", [
        {"period_date": d, "year": d.year, "quarter": (d.month - 1) // 3 + 1, "month": d.month,
         "days_in_month": calendar.monthrange(d.year, d.month)[1]}
        for d in months])


def table_exists(conn: Connection, layer: str, name: str) -> bool:
    schema, tname = locate(layer, name, conn.dialect.name)
    return inspect(conn).has_table(tname, schema=schema)
