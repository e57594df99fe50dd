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
    schema, table = locate("meta", "load_run", op.get_bind().dialect.name)
    op.add_column(table, sa.Column("rows_failing", sa.Integer, nullable=True), schema=schema)
