"""Watermarks of pulled sources (application databases, REST APIs), per run interval.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    schema, table = locate("meta", "source_pull", op.get_bind().dialect.name)
    op.create_table(
        table,
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("interval_start", sa.String(40), nullable=False),
        sa.Column("interval_end", sa.String(40), nullable=False),
        sa.Column("lower_bound", sa.Text),
        sa.Column("upper_bound", sa.Text),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("inbox_key", sa.Text),
        sa.Column("sha256", sa.String(64)),
        sa.PrimaryKeyConstraint("dataset_id", "interval_start", "interval_end"),
        schema=schema,
    )
