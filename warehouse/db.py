"""Engines and the one upgrade step: migrations for fixed tables, the catalog for fact tables."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.schema import CreateSchema

from serasan.common.paths import SEED_DIR
from serasan.config.catalog import PILLARS, Catalog
from serasan.reference.history import Change as CodeChange
from serasan.reference.history import ChangeKind
from serasan.reference.provinces import SHIPPED, Province, province
from serasan.reference.resolve import CrosswalkStatus
from serasan.reference.versions import CURRENT, VERSIONS, Level, Region, Version, parent_of
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
KEPMENDAGRI_2025 = dt.date(2025, 1, 1)  # Kepmendagri 300.2.2-2430/2025: the current codes


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
    """Replace a reference table's content (seed data is the source of truth)."""
    t = table(layer, name, conn.dialect.name)
    conn.execute(t.delete())
    _insert(conn, t, rows)


def _insert(conn: Connection, t: Table, rows: list[dict[str, Any]]) -> None:
    """Insert seed rows; on PostgreSQL through COPY (the region tables are ~10,000 rows each,
    seeded on every upgrade: COPY takes a third of the time of batched INSERTs)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(t.insert(), rows)
        return
    q = conn.dialect.identifier_preparer
    cols = [c.name for c in t.columns]
    sql = f"COPY {q.format_table(t)} ({', '.join(q.quote(c) for c in cols)}) FROM STDIN"
    driver = conn.connection.driver_connection  # psycopg 3 (make_engine)
    assert driver is not None
    with driver.cursor() as cur, cur.copy(sql) as copy:
        for r in rows:
            copy.write_row([r.get(c) for c in cols])


def _read_seed(name: str) -> list[dict[str, str | None]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as fh:
        return [{k: (v or None) for k, v in r.items()} for r in csv.DictReader(fh)]


def version_date(v: Version) -> dt.date:
    """The date a version's codes are valid from: January 1 of its year (no version has a day)."""
    return dt.date(v.year, 1, 1)


def _provinces() -> list[Province]:
    """Every province the reference package ships (`serasan.reference.provinces.SHIPPED`)."""
    found = [province(kode) for kode in sorted(SHIPPED)]
    return [p for p in found if p is not None]


def _jenis(r: Region) -> str | None:
    """kabupaten/kota by the name's prefix, when the code agrees (Kemendagri numbers kota from
    71); desa/kelurahan by the code (Permendagri 72/2019: kelurahan 1001-1999, desa 2001-2999)."""
    if r.level is Level.KABUPATEN_KOTA:
        by_name = next(
            (j for j in ("kota", "kabupaten") if r.name.startswith(f"{j.title()} ")), None
        )
        return by_name if by_name == ("kota" if r.code[3] == "7" else "kabupaten") else None
    if r.level is Level.DESA_KELURAHAN:
        return {"1": "kelurahan", "2": "desa"}.get(r.code[9])
    return None


def region_rows() -> list[dict[str, Any]]:
    """ref.region: every current region of every shipped province; `jenis` as wilayah.csv has
    it (Sumatera Selatan's regencies), else derived (`_jenis`), NULL above kabupaten/kota."""
    known = {r["kode"]: r["jenis"] for r in _read_seed("wilayah.csv")}
    return [
        {
            "kode": r.code,
            "nama": r.name,
            "level": r.level.value,
            "kode_induk": r.parent,
            "jenis": known.get(r.code) or _jenis(r),
        }
        for p in _provinces()
        for r in p.current.regions.values()
    ]


def _joined(codes: Sequence[str]) -> str | None:
    return ";".join(codes) or None


def dim_region_rows() -> list[dict[str, Any]]:
    """core.dim_region from the shipped history (migration 0011 says what each column means):
    current codes valid from the current version; every code the history retired valid from the
    oldest version (the history starts there) to the version that retired it, with the current
    code(s) it became; codes whose area changed flagged with the date of the latest change."""
    oldest, current = version_date(VERSIONS[0]), version_date(CURRENT)
    rows: list[dict[str, Any]] = []
    for p in _provinces():
        area: dict[str, list[CodeChange]] = {}  # current code -> its area changes since in force
        for code in sorted({c.old_code for c in p.history.changes}):
            since: dt.date | None = oldest
            changed: list[CodeChange] = []
            for c in p.history.changes_for(code):  # oldest first
                if not c.supersedes:
                    changed.append(c)
                    continue
                # given up, given to another place and retired again: that meaning is known
                # from the version before the one that retired it
                valid_from = since or version_date(VERSIONS[VERSIONS.index(c.version) - 1])
                rows.append(
                    {
                        "kode": code,
                        "nama": c.old_name,
                        "level": c.level.value,
                        "kode_induk": parent_of(code),
                        "valid_from": valid_from,
                        "valid_to": version_date(c.version),
                        "kode_pengganti": _joined(c.candidates),
                        "perubahan": c.kind.value,
                        "regulasi": c.regulation,
                        **_area_columns(changed),
                    }
                )
                since, changed = None, []
            if changed and code in p.current:
                area[code] = changed
            elif changed:
                log.warning("dim_region: %s changed area but is neither current nor retired", code)
        for r in p.current.regions.values():
            changes = area.get(r.code, [])
            rows.append(
                {
                    "kode": r.code,
                    "nama": r.name,
                    "level": r.level.value,
                    "kode_induk": r.parent,
                    "valid_from": current,
                    "valid_to": None,
                    "kode_pengganti": None,
                    "perubahan": ChangeKind.AREA_CHANGED.value if changes else None,
                    "regulasi": changes[-1].regulation if changes else None,
                    **_area_columns(changes),
                }
            )
    return rows


def _area_columns(changes: Sequence[CodeChange]) -> dict[str, Any]:
    """area_changed_at: the latest change's date; area_changed_into: every current code that
    now holds part of the code's former area (as `resolve` lists them)."""
    if not changes:
        return {"area_changed_at": None, "area_changed_into": None}
    return {
        "area_changed_at": version_date(changes[-1].version),
        "area_changed_into": _joined(sorted({c for ch in changes for c in ch.candidates})),
    }


def crosswalk_rows() -> list[dict[str, Any]]:
    """ref.bps_kemendagri: every shipped province's BPS crosswalk carried to current codes. An
    entry with no single current code (ambiguous, unmatched) is kept, kode_kemendagri NULL."""
    return [
        {
            "kode_bps": e.bps_code,
            "kode_kemendagri": e.kemendagri_code,
            "level": e.level.value,
            "kode_kemendagri_sumber": e.source_code,
            "status": e.status.value,
            "kandidat": _joined(e.candidates) if e.status is CrosswalkStatus.AMBIGUOUS else None,
        }
        for p in _provinces()
        for e in p.crosswalk.values()
    ]


def _seed_dim_region(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """The rows of the versions the reference package holds (valid_from up to the current one)
    are replaced; a valid_to set on a current code (a later decree retired it) and the rows of
    later decrees are kept."""
    t = table("core", "dim_region", conn.dialect.name)
    current = version_date(CURRENT)
    closed = dict(
        conn.execute(
            select(t.c.kode, t.c.valid_to).where(
                t.c.valid_from == current, t.c.valid_to.is_not(None)
            )
        ).all()
    )
    conn.execute(t.delete().where(t.c.valid_from <= current))
    for r in rows:
        if r["valid_from"] == current and r["kode"] in closed:
            r["valid_to"] = closed[r["kode"]]
    _insert(conn, t, rows)


def seed(conn: Connection, catalog: Catalog) -> None:
    _upsert_all(conn, "ref", "region", region_rows())
    _seed_dim_region(conn, dim_region_rows())
    _upsert_all(conn, "ref", "bps_kemendagri", crosswalk_rows())
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
