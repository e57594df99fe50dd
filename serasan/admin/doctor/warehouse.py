"""The warehouse: reachable, then its schema (`schema`) and, on PostgreSQL, the role
connected (`role`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from serasan.admin.doctor.report import Check
from serasan.admin.doctor.role import role_check
from serasan.admin.doctor.schema import schema_state
from serasan.admin.doctor.scrub import Scrubber, first_line
from serasan.config.settings import Settings


def check_warehouse(
    settings: Settings, catalog: Any, scrub: Scrubber, timeout: float
) -> list[Check]:
    from sqlalchemy.exc import DBAPIError

    from serasan.warehouse.db import make_engine

    url = make_url(settings.warehouse_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database or ""
        where = f"SQLite {db or '(in memory)'}"
        if not db or db == ":memory:":
            return [
                Check(
                    "warehouse",
                    "fail",
                    "SERASAN_WAREHOUSE_URL is an in-memory SQLite "
                    "database, which keeps nothing: give a file path",
                )
            ]
        if not Path(db).is_file():
            return [
                Check(
                    "warehouse",
                    "fail",
                    f"SQLite warehouse {db} does not exist: run "
                    "`serasan warehouse upgrade` to create it, or fix "
                    "SERASAN_WAREHOUSE_URL",
                    {"database": db},
                )
            ]
        engine = make_engine(settings.warehouse_url)
    elif backend == "postgresql":
        host, port, name = url.host or "localhost", url.port or 5432, url.database
        where = f"PostgreSQL {host}:{port}/{name}"
        timed = url.update_query_dict({"connect_timeout": str(max(1, int(timeout)))})
        engine = make_engine(timed.render_as_string(hide_password=False))
    else:
        return [
            Check(
                "warehouse",
                "fail",
                f"SERASAN_WAREHOUSE_URL uses {backend}: Serasan supports PostgreSQL and SQLite",
            )
        ]
    info = {"database": make_url(settings.warehouse_url).render_as_string(hide_password=True)}
    try:
        with engine.connect() as conn:  # separate sessions: one failed query spoils no other
            checks = [schema_state(conn, catalog, where, info)]
        if backend == "postgresql":
            with engine.connect() as conn:
                checks.append(role_check(conn, where))
        return checks
    except DBAPIError as exc:
        return [
            Check(
                "warehouse",
                "fail",
                _pg_problem(url, scrub(first_line(exc.orig or exc)), where),
                info,
            )
        ]
    finally:
        engine.dispose()


def _pg_problem(url: Any, error: str, where: str) -> str:
    user, name = url.username or "(default user)", url.database
    host, port = url.host or "localhost", url.port or 5432
    low = error.lower()
    if f'database "{name}" does not exist' in low:
        return (
            f"database {name} does not exist on {host}:{port}: create it (createdb -h "
            f"{host} -p {port} {name}) and run `serasan warehouse upgrade`, or fix "
            "SERASAN_WAREHOUSE_URL"
        )
    if (
        "password authentication failed" in low
        or "no pg_hba.conf entry" in low
        or ("role" in low and "does not exist" in low)
    ):
        return (
            f"{host}:{port} refused user {user} for database {name} ({error}): check the "
            "user and password in SERASAN_WAREHOUSE_URL"
        )
    if "refused" in low or "timeout" in low or "timed out" in low or "could not" in low:
        return (
            f"cannot connect to PostgreSQL at {host}:{port} ({error}): is the server "
            "running there, and is SERASAN_WAREHOUSE_URL right?"
        )
    return f"{where}: {error}"
