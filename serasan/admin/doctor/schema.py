"""The warehouse's schema: Alembic at head, and the fact tables as the catalog wants them."""

from __future__ import annotations

from typing import Any

from serasan.admin.doctor.report import Check
from serasan.admin.doctor.scrub import first_line


def schema_state(conn: Any, catalog: Any, where: str, info: dict[str, Any]) -> Check:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    from serasan.warehouse.db import alembic_config
    from serasan.warehouse.evolution import plan
    from serasan.warehouse.facts import fact_table
    from serasan.warehouse.history import history_table, merge_log_table
    from serasan.warehouse.names import has_schemas

    dialect = conn.dialect.name
    opts = (
        {"version_table": "alembic_version", "version_table_schema": "meta"}
        if has_schemas(dialect)
        else {"version_table": "meta__alembic_version"}
    )
    script = ScriptDirectory.from_config(alembic_config())
    heads = sorted(script.get_heads())
    try:
        current = sorted(MigrationContext.configure(conn, opts=opts).get_current_heads())
    except DBAPIError as exc:
        return Check(
            "warehouse",
            "fail",
            f"{where}: cannot read the Alembic version "
            f"({first_line(exc.orig or exc)}): the connected user needs to read "
            "meta.alembic_version",
            info,
        )
    info = {**info, "revision": current, "head": heads}
    if not current:
        return Check(
            "warehouse",
            "fail",
            f"{where} has no Alembic version (an empty "
            "database): run `serasan warehouse upgrade` as a member of serasan_owner",
            info,
        )
    if current != heads:
        unknown = [r for r in current if _revision(script, r) is None]
        if unknown:
            return Check(
                "warehouse",
                "fail",
                f"{where} is at revision {', '.join(unknown)}, "
                f"which this code does not know (its head is {', '.join(heads)}): it "
                "was migrated by a newer Serasan; deploy that version",
                info,
            )
        return Check(
            "warehouse",
            "fail",
            f"{where} is at revision {', '.join(current)}, the "
            f"code needs {', '.join(heads)}: run `serasan warehouse upgrade` as a "
            "member of serasan_owner",
            info,
        )
    if catalog is None:
        return Check(
            "warehouse",
            "warn",
            f"{where} is at revision {', '.join(current)} "
            "(head); fact tables not checked because the catalog does not load",
            info,
        )
    try:
        changes = plan(conn, catalog)
        insp = inspect(conn)
        wanted = [merge_log_table(dialect)]
        for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
            wanted += [fact_table(ds, dialect), history_table(ds, dialect)]
        missing = [
            f"{t.schema}.{t.name}" if t.schema else t.name
            for t in wanted
            if not insp.has_table(t.name, schema=t.schema)
        ]
    except DBAPIError as exc:
        return Check(
            "warehouse",
            "fail",
            f"{where}: cannot read the fact tables' contract ({first_line(exc.orig or exc)})",
            info,
        )
    refused = [c.message for c in changes if c.refused]
    pending = [c.message for c in changes if not c.refused]
    info = {**info, "refused": refused, "pending": pending, "missing_tables": missing}
    if refused:
        return Check(
            "warehouse",
            "fail",
            f"{where}: the catalog changes fact tables in ways "
            f"that need a versioned migration: {refused[0]}"
            + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""),
            info,
        )
    if missing or pending:
        first = f"table {missing[0]} does not exist" if missing else pending[0]
        n = len(missing) + len(pending)
        return Check(
            "warehouse",
            "fail",
            f"{where} is at revision {', '.join(current)} but "
            f"behind the catalog ({first}{f', and {n - 1} more' if n > 1 else ''}): "
            "run `serasan warehouse upgrade` as a member of serasan_owner",
            info,
        )
    return Check(
        "warehouse",
        "ok",
        f"{where} is at revision {', '.join(current)} (head), and "
        f"its {len(catalog.datasets)} fact tables match the catalog",
        info,
    )


def _revision(script: Any, rev: str) -> Any:
    try:
        return script.get_revision(rev)
    except Exception:  # alembic raises for an id it has never seen
        return None
