"""PostgreSQL group roles for the warehouse: who owns it, who loads it, who reads the marts.

- `serasan_owner` owns the five layer schemas and every table in them. Migrations, fact-table
  changes and seeding run as this role (`upgrade` does `SET LOCAL ROLE serasan_owner`).
- `serasan_loader` is what the DAGs connect as: it may create tables in staging, and reads
  and writes rows in staging, core, meta and mart (the KPI and export DAGs write
  mart.kpi_value and meta.export_run). It reads ref (exports name regions from ref.region) and
  only reads meta.alembic_version and meta.fact_column, which belong to the migrations. It owns
  nothing else, so it cannot drop or alter a warehouse table.
- `serasan_reader` reads the marts and nothing else.

The three are NOLOGIN group roles: people and services log in as their own users, members of
one of them (`CREATE ROLE alice LOGIN IN ROLE serasan_reader`). `ensure_roles` is idempotent:
it looks at the catalogs first and only issues the statements that change something, so a second
call issues none. Role, schema and table names are checked and always quoted.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from serasan.warehouse.names import LAYERS, locate

log = logging.getLogger(__name__)

OWNER, LOADER, READER = "serasan_owner", "serasan_loader", "serasan_reader"
WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
READ = ("SELECT",)
# (schema, privileges on the schema, privileges on its tables) per role kind
LOADER_GRANTS = {
    "staging": (("USAGE", "CREATE"), WRITE),
    "core": (("USAGE",), WRITE),
    "meta": (("USAGE",), WRITE),
    "mart": (("USAGE",), WRITE),
    "ref": (("USAGE",), READ),
}
READER_GRANTS = {"mart": (("USAGE",), READ)}
# tables the migrations own outright: the loader reads them, never writes them
LOADER_READ_ONLY = (("meta", "alembic_version"), ("meta", "fact_column"))
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RELKINDS = ["r", "p", "v", "m"]


class RoleError(RuntimeError):
    """The connected user cannot set the roles up; the message says what it lacks."""


def _check(name: str) -> str:
    if not _ROLE.match(name):
        raise ValueError(f"unsafe role name {name!r}")
    return name


def _q(conn: Connection, *parts: str) -> str:
    """A quoted, dotted identifier (schema.table or a role), never formatted unquoted."""
    prep = conn.dialect.identifier_preparer
    return ".".join(prep.quote_identifier(p) for p in parts)


def _do(conn: Connection, done: list[str], stmt: str) -> None:
    conn.execute(text(stmt))
    done.append(stmt)
    log.info("roles: %s", stmt)


def _create_role(conn: Connection, done: list[str], name: str) -> None:
    """CREATE ROLE in a savepoint: another database's upgrade may create it at the same time
    (roles belong to the cluster, the advisory lock to one database)."""
    stmt = f"CREATE ROLE {_q(conn, name)} NOLOGIN"
    try:
        with conn.begin_nested():
            conn.execute(text(stmt))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in ("42710", "23505"):  # exists / racing
            raise
        return
    done.append(stmt)
    log.info("roles: %s", stmt)


def role_exists(conn: Connection, name: str) -> bool:
    return (
        conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
        is not None
    )


def current_user_rights(conn: Connection, owner: str = OWNER) -> dict[str, bool]:
    """What the connected user may do: superuser, createrole, member of the owner role."""
    row = conn.execute(
        text("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    ).one()
    member = False
    if role_exists(conn, owner):
        member = bool(
            conn.execute(
                text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": owner}
            ).scalar()
        )
    return {"superuser": bool(row[0]), "createrole": bool(row[1]), "owner_member": member}


def create_roles(conn: Connection, *names: str) -> list[str]:
    """Create the NOLOGIN group roles that do not exist yet; returns the statements issued."""
    done: list[str] = []
    for name in map(_check, names):
        if not role_exists(conn, name):
            _create_role(conn, done, name)
    return done


def ensure_roles(
    conn: Connection, owner: str = OWNER, loader: str = LOADER, reader: str = READER
) -> list[str]:
    """Create the group roles, hand the layers to the owner, grant the loader and the reader.

    Returns the statements it issued: none when everything was already in place.
    """
    if conn.dialect.name != "postgresql":
        raise RoleError("roles exist on PostgreSQL only")
    done = create_roles(conn, owner, loader, reader)
    _own(conn, done, owner)
    for role, grants in ((loader, LOADER_GRANTS), (reader, READER_GRANTS)):
        for schema, (schema_privs, table_privs) in grants.items():
            _grant_schema(conn, done, role, schema, schema_privs)
            _grant_tables(conn, done, role, schema, table_privs)
            _default_privileges(conn, done, owner, role, schema, "r", table_privs)
            if table_privs == WRITE:  # serial ids: inserting needs the sequence
                _grant_sequences(conn, done, role, schema)
                _default_privileges(conn, done, owner, role, schema, "S", ("USAGE", "SELECT"))
    _read_only_for_loader(conn, done, loader)
    return done


def _own(conn: Connection, done: list[str], owner: str) -> None:
    owners: dict[str, str] = dict(
        conn.execute(
            text(
                "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                "WHERE nspname = ANY(:s)"
            ),
            {"s": list(LAYERS)},
        ).all()
    )
    for layer in LAYERS:
        if layer not in owners:
            _do(conn, done, f"CREATE SCHEMA {_q(conn, layer)} AUTHORIZATION {_q(conn, owner)}")
        elif owners[layer] != owner:
            _do(conn, done, f"ALTER SCHEMA {_q(conn, layer)} OWNER TO {_q(conn, owner)}")
    rows = conn.execute(
        text(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(:s) AND c.relkind = ANY(:k) "
            "AND pg_get_userbyid(c.relowner) <> :o ORDER BY 1, 2"
        ),
        {"s": list(LAYERS), "k": _RELKINDS, "o": owner},
    ).all()
    for schema, name, kind in rows:
        what = {"v": "VIEW", "m": "MATERIALIZED VIEW"}.get(kind, "TABLE")
        _do(conn, done, f"ALTER {what} {_q(conn, schema, name)} OWNER TO {_q(conn, owner)}")


def _grant_schema(
    conn: Connection, done: list[str], role: str, schema: str, privs: tuple[str, ...]
) -> None:
    missing = [
        p
        for p in privs
        if not conn.execute(
            text("SELECT has_schema_privilege(:r, :s, :p)"), {"r": role, "s": schema, "p": p}
        ).scalar()
    ]
    if missing:
        _do(
            conn,
            done,
            f"GRANT {', '.join(missing)} ON SCHEMA {_q(conn, schema)} TO {_q(conn, role)}",
        )


def _grant_tables(
    conn: Connection, done: list[str], role: str, schema: str, privs: tuple[str, ...]
) -> None:
    skip = {name for s, name in LOADER_READ_ONLY if s == schema}
    rows = conn.execute(
        text(
            "SELECT c.relname, p.priv FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN unnest(CAST(:p AS text[])) AS p(priv) "
            "WHERE n.nspname = :s AND c.relkind = ANY(:k) "
            "AND NOT has_table_privilege(:r, c.oid, p.priv) ORDER BY 1"
        ),
        {"p": list(privs), "s": schema, "k": _RELKINDS, "r": role},
    ).all()
    missing: dict[str, list[str]] = {}
    for name, priv in rows:
        if name in skip and priv != "SELECT":
            continue
        missing.setdefault(name, []).append(priv)
    for name, ps in missing.items():
        ordered = [p for p in privs if p in ps]
        _do(
            conn,
            done,
            f"GRANT {', '.join(ordered)} ON TABLE {_q(conn, schema, name)} TO {_q(conn, role)}",
        )


def _grant_sequences(conn: Connection, done: list[str], role: str, schema: str) -> None:
    rows = (
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relkind = 'S' "
                "AND NOT (has_sequence_privilege(:r, c.oid, 'USAGE') "
                "AND has_sequence_privilege(:r, c.oid, 'SELECT')) ORDER BY 1"
            ),
            {"s": schema, "r": role},
        )
        .scalars()
        .all()
    )
    for name in rows:
        _do(
            conn,
            done,
            f"GRANT USAGE, SELECT ON SEQUENCE {_q(conn, schema, name)} TO {_q(conn, role)}",
        )


def _default_privileges(
    conn: Connection,
    done: list[str],
    owner: str,
    role: str,
    schema: str,
    kind: str,
    privs: tuple[str, ...],
) -> None:
    """Tables (kind 'r') and sequences ('S') the owner creates later in `schema` are granted too:
    fact tables for new datasets, and the tables of future revisions."""
    have = set(
        conn.execute(
            text(
                "SELECT a.privilege_type FROM pg_default_acl d "
                "JOIN pg_namespace n ON n.oid = d.defaclnamespace "
                "CROSS JOIN LATERAL aclexplode(d.defaclacl) AS a "
                "WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = :o) "
                "AND n.nspname = :s AND d.defaclobjtype = :k "
                "AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = :r)"
            ),
            {"o": owner, "s": schema, "k": kind, "r": role},
        ).scalars()
    )
    missing = [p for p in privs if p not in have]
    if missing:
        on = "TABLES" if kind == "r" else "SEQUENCES"
        _do(
            conn,
            done,
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_q(conn, owner)} IN SCHEMA "
            f"{_q(conn, schema)} GRANT {', '.join(missing)} ON {on} "
            f"TO {_q(conn, role)}",
        )


def _read_only_for_loader(conn: Connection, done: list[str], loader: str) -> None:
    """Default privileges also cover the migrations' own tables: take the writes back."""
    for layer, name in LOADER_READ_ONLY:
        schema, tname = locate(layer, name, "postgresql")
        assert schema is not None  # PostgreSQL has schemas: locate names one
        oid = conn.execute(text("SELECT to_regclass(:t)"), {"t": _q(conn, schema, tname)}).scalar()
        if oid is None:
            continue
        extra = [
            p
            for p in ("INSERT", "UPDATE", "DELETE")
            if conn.execute(
                text("SELECT has_table_privilege(:r, CAST(:t AS regclass), :p)"),
                {"r": loader, "t": _q(conn, schema, tname), "p": p},
            ).scalar()
        ]
        if extra:
            _do(
                conn,
                done,
                f"REVOKE {', '.join(extra)} ON TABLE {_q(conn, schema, tname)} "
                f"FROM {_q(conn, loader)}",
            )
