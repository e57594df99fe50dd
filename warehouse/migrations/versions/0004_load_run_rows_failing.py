"""meta.load_run.rows_failing: rows that broke a rule, loaded or not, for quality scores.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    bind = op.get_bind()
    schema, name = locate("meta", "load_run", bind.dialect.name)
    # 0001 builds tables from warehouse/tables.py as it is now: a fresh database has the column
    if "rows_failing" not in {c["name"] for c in sa.inspect(bind).get_columns(name, schema=schema)}:
        op.add_column(name, sa.Column("rows_failing", sa.Integer(), nullable=True), schema=schema)
