"""meta.export_change.logical_date: the logical date of the export run that recorded a change,
so that the report judges a period's release by the day it was released, not by the newest
load it holds (an export run delayed past its loads, a paused DAG, a backfill). Rows recorded
before this column keep NULL, and the report infers their date from their loads as before.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    schema, table = locate("meta", "export_change", op.get_bind().dialect.name)
    op.add_column(table, sa.Column("logical_date", sa.Date), schema=schema)


def downgrade() -> None:
    schema, table = locate("meta", "export_change", op.get_bind().dialect.name)
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.drop_column("logical_date")
