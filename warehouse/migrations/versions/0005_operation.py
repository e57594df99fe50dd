"""meta.operation: operators' retractions and reprocessing, recorded.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    schema, table = locate("meta", "operation", op.get_bind().dialect.name)
    op.create_table(
        table,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("load_id", sa.String(120)),
        sa.Column("period", sa.String(10)),
        sa.Column("actor", sa.String(120)),
        sa.Column("reason", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        schema=schema,
    )
