"""Two small SQL helpers the merge modules share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection


def rowcount(conn: Connection, stmt: Any) -> int:
    """Execute; the number of rows written (SQLAlchemy keeps it for INSERT only on request)."""
    return conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def quoted(conn: Connection, t: Table) -> str:
    prep = conn.dialect.identifier_preparer
    return prep.format_table(t)
