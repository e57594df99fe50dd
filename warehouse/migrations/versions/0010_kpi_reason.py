"""mart.kpi_value.reason: why a KPI has no value for a period (a missing source, a blocked
load, a zero divisor), so a missing value is recorded as missing and never as zero.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    schema, table = locate("mart", "kpi_value", op.get_bind().dialect.name)
    op.add_column(table, sa.Column("reason", sa.Text), schema=schema)


def downgrade() -> None:
    schema, table = locate("mart", "kpi_value", op.get_bind().dialect.name)
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.drop_column("reason")
