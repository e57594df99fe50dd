"""Alert deliveries (outbox per channel and recipient) and per-OPD quality scores.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    schema, table = locate("meta", "alert_delivery", dialect)
    op.create_table(
        table,
        sa.Column("dedupe_key", sa.String(300), primary_key=True),
        sa.Column("alert_id", sa.String(140), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", sa.String(40)),
        sa.Column("sent_at", sa.String(40)),
        schema=schema,
    )
    schema, table = locate("meta", "quality_score", dialect)
    op.create_table(
        table,
        sa.Column("regency", sa.String(10), nullable=False),
        sa.Column("opd", sa.String(40), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("datasets", sa.Integer, nullable=False),
        sa.Column("rows_in", sa.Integer, nullable=False),
        sa.Column("rows_passed", sa.Integer, nullable=False),
        sa.Column("expectations", sa.Integer, nullable=False),
        sa.Column("expectations_passed", sa.Integer, nullable=False),
        sa.Column("score_rows", sa.Float),
        sa.Column("score_expectations", sa.Float),
        sa.PrimaryKeyConstraint("regency", "opd", "period"),
        schema=schema,
    )
