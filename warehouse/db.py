"""Engines and the one upgrade step: migrations for fixed tables, the catalog for fact tables."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.schema import CreateSchema

from serasan.common.paths import SEED_DIR
from serasan.config.catalog import PILLARS, Catalog
from serasan.warehouse.evolution import Change, SchemaChangeRefused, evolve, plan, record
from serasan.warehouse.facts import fact_table
from serasan.warehouse.history import ensure_history_tables, history_table, merge_log_table
from serasan.warehouse.names import LAYERS, locate
from serasan.warehouse.roles import (
    LOADER,
    OWNER,
    READER,
    create_roles,
    current_user_rights,
    ensure_roles,
    role_exists,
)
from serasan.warehouse.tables import table

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
ADVISORY_LOCK_ID = 16_0306  # any constant shared by every Serasan process
KEPMENDAGRI_2025 = dt.date(2025, 1, 1)  # Kepmendagri 300.2.2-2430/2025: the codes in wilayah.csv


def make_engine(url: str, connect_timeout_s: float | None = None) -> Engine:
    """SQLAlchemy engine; bare `postgresql://` URLs use psycopg 3, SQLite gets WAL and FKs.

    A PostgreSQL connect gives up after `connect_timeout_s` (default SERASAN_CONNECT_TIMEOUT_S,
    10 s) unless the URL sets its own `connect_timeout`: a closed or hung server fails the
    command or the task in seconds, and Airflow retries the task."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite") and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        timeout = connect_timeout_s or float(os.environ.get("SERASAN_CONNECT_TIMEOUT_S") or 10)
        connect_args["connect_timeout"] = max(1, round(timeout))
    engine = create_engine(parsed, future=True, connect_args=connect_args)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


class WarehouseNotUpgraded(RuntimeError):
    """The warehouse is behind the code, and the connected user may not change its schema."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the warehouse (env.py takes the connection from it)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, catalog: Catalog, *, roles: bool = True) -> list[Change]:
    """Bring the warehouse to the code's schema; safe to run from many DAGs at once.

    Migrations first, then the fact tables follow the catalog (`evolution.evolve`: additive
    changes applied, breaking ones refused with `SchemaChangeRefused`), then the reference
    tables are seeded. On PostgreSQL the whole step is one transaction under an advisory lock,
    and runs as the owner role (`roles.OWNER`) when the connected user is a superuser or a
    member of it; `ensure_roles` keeps the grants in place. A user that is neither (the loader
    the DAGs connect as, a reader) changes nothing: upgrade checks that the warehouse is
    already at the code's schema and raises `WarehouseNotUpgraded` otherwise. `roles=False`
    leaves roles alone and runs as the connected user. Returns the fact-table changes applied.
    """
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            return _migrate(conn, catalog)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_ID})
        mode = _pg_mode(conn) if roles else "plain"
        if mode == "check":
            _check_current(conn, catalog)
            return []
        if mode == "plain":
            present = set(inspect(conn).get_schema_names())
            for layer in LAYERS:  # the version table lives in meta, so schemas come first
                if layer not in present:  # IF NOT EXISTS still needs CREATE on the database
                    conn.execute(CreateSchema(layer))
            return _migrate(conn, catalog)
        ensure_roles(conn)  # roles and schemas, before the owner can create anything in them
        conn.execute(text(f"SET LOCAL ROLE {_quote(conn, OWNER)}"))
        applied = _migrate(conn, catalog)
        conn.execute(text("RESET ROLE"))
        ensure_roles(conn)  # grants on what the migrations created (default privileges aside)
        return applied


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _migrate(conn: Connection, catalog: Catalog) -> list[Change]:
    command.upgrade(alembic_config(conn), "head")
    applied = evolve(conn, catalog)
    ensure_fact_tables(conn, catalog)
    # history tables and the merge ledger: built here, as the owner, so loads never need DDL
    ensure_history_tables(conn, catalog)
    seed(conn, catalog)
    return applied


def _pg_mode(conn: Connection) -> str:
    """owner: migrate as the owner role; check: verify only; plain: no roles, as the user."""
    rights = current_user_rights(conn, OWNER)
    if rights["superuser"] or rights["owner_member"]:
        return "owner"
    if rights["createrole"]:  # may create the roles; then it needs to be able to SET ROLE
        create_roles(conn, OWNER, LOADER, READER)
        conn.execute(text(f"GRANT {_quote(conn, OWNER)} TO CURRENT_USER"))
        log.warning("warehouse: granted %s to the migrating user", OWNER)
        return "owner"
    if role_exists(conn, OWNER):
        return "check"
    log.warning(
        "warehouse: no %s role and this user may not create it: migrating as the "
        "connected user, without roles",
        OWNER,
    )
    return "plain"


def _check_current(conn: Connection, catalog: Catalog) -> None:
    """For users who may not change the schema: fail clearly when it is behind the code."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    user = conn.execute(text("SELECT current_user")).scalar()
    readable = conn.execute(
        text("SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = 'meta'")
    ).scalar()
    if not readable:  # no warehouse yet, or a user (a reader) that may not see meta
        raise WarehouseNotUpgraded(
            f"{user} may not change the warehouse schema (it is not a member of {OWNER}), and "
            "finds no warehouse version it may read; run `serasan warehouse upgrade` as the "
            "owner"
        )
    problems: list[str] = []
    ctx = MigrationContext.configure(
        conn, opts={"version_table": "alembic_version", "version_table_schema": "meta"}
    )
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    current = set(ctx.get_current_heads())
    if current != heads:
        problems.append(
            f"migrations are at {', '.join(sorted(current)) or 'nothing'}, the "
            f"code needs {', '.join(sorted(heads))}"
        )
    else:
        changes = plan(conn, catalog)
        refused = [c for c in changes if c.refused]
        if refused:
            raise SchemaChangeRefused(refused)
        problems += [c.message for c in changes]
        insp = inspect(conn)
        dialect = conn.dialect.name
        wanted = [merge_log_table(dialect)]
        for ds in catalog.datasets.values():
            wanted += [fact_table(ds, dialect), history_table(ds, dialect)]
        problems += [
            f"table {t.schema}.{t.name} does not exist yet"
            for t in wanted
            if not insp.has_table(t.name, schema=t.schema)
        ]
    if problems:
        raise WarehouseNotUpgraded(
            f"the warehouse is behind the code, and {user} may not change its schema (it is "
            f"not a member of {OWNER}); run `serasan warehouse upgrade` as the owner:\n"
            + "\n".join(problems)
        )


def ensure_fact_tables(conn: Connection, catalog: Catalog) -> None:
    """Create missing fact tables and record their contract; `evolution` changes existing ones."""
    dialect = conn.dialect.name
    insp = inspect(conn)
    for ds in catalog.datasets.values():
        t = fact_table(ds, dialect)
        if not insp.has_table(t.name, schema=t.schema):
            t.create(bind=conn)
            record(conn, ds)


def _upsert_all(conn: Connection, layer: str, name: str, rows: list[dict[str, Any]]) -> None:
    """Replace a small reference table's content (seed data is the source of truth)."""
    t = table(layer, name, conn.dialect.name)
    conn.execute(t.delete())
    if rows:
        conn.execute(t.insert(), rows)


def _read_seed(name: str) -> list[dict[str, str | None]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or None) for k, v in r.items()} for r in csv.DictReader(fh)]


def _seed_dim_region(conn: Connection, regions: list[dict[str, str | None]]) -> None:
    """This decree's rows are replaced; valid_to, set when a later decree retires a code, and
    the rows of other decrees are kept."""
    t = table("core", "dim_region", conn.dialect.name)
    mine = t.c.valid_from == KEPMENDAGRI_2025
    closed = dict(
        conn.execute(select(t.c.kode, t.c.valid_to).where(mine, t.c.valid_to.is_not(None))).all()
    )
    conn.execute(t.delete().where(mine))
    conn.execute(
        t.insert(),
        [
            {
                "kode": r["kode"],
                "nama": r["nama"],
                "level": r["level"],
                "kode_induk": r["kode_induk"],
                "valid_from": KEPMENDAGRI_2025,
                "valid_to": closed.get(r["kode"]),
            }
            for r in regions
        ],
    )


def seed(conn: Connection, catalog: Catalog) -> None:
    regions = _read_seed("wilayah.csv")
    _upsert_all(conn, "ref", "region", regions)
    _seed_dim_region(conn, regions)
    _upsert_all(conn, "ref", "bps_kemendagri", _read_seed("bps_kemendagri.csv"))
    _upsert_all(conn, "core", "dim_pillar", [{"code": k, "name": v} for k, v in PILLARS.items()])
    _upsert_all(
        conn,
        "core",
        "dim_opd",
        [
            {"regency": r.kode, "code": o.code, "name": o.name, "email": o.contacts[0].email}
            for r in catalog.regencies.values()
            for o in r.opds
        ],
    )
    months = [dt.date(y, m, 1) for y in range(2015, 2036) for m in range(1, 13)]
    _upsert_all(
        conn,
        "core",
        "dim_period",
        [
            {
                "period_date": d,
                "year": d.year,
                "quarter": (d.month - 1) // 3 + 1,
                "month": d.month,
                "days_in_month": calendar.monthrange(d.year, d.month)[1],
            }
            for d in months
        ],
    )


def table_exists(conn: Connection, layer: str, name: str) -> bool:
    schema, tname = locate(layer, name, conn.dialect.name)
    return inspect(conn).has_table(tname, schema=schema)
