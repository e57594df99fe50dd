"""meta.fact_column: the catalog contract (columns, declared nullability) of each fact table.

Revision ID: 0007
Revises: 0006

`serasan.warehouse.evolution` compares the catalog with the live fact tables and with this
record: a fact table holds NULL in every column outside its primary key (the `warn` policy loads
such rows), so only this record tells that a column was declared nullable before.
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    schema, table = locate("meta", "fact_column", op.get_bind().dialect.name)
    op.create_table(
        table,
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(200), nullable=False),
        sa.Column("nullable", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "column_name"),
        schema=schema,
    )
