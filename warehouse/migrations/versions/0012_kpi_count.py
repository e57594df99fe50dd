"""mart.kpi_value.n and min_n: how many observations (reviews, complaints) a KPI value is counted
from, and the minimum it was held to. A citizen-voice KPI (`min_count: voice`) counted from fewer
than SERASAN_VOICE_MIN_REVIEWS is withheld: its value is NULL, `n` and `min_n` say why, and the
report writes "terlalu sedikit data".

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    schema, table = locate("mart", "kpi_value", op.get_bind().dialect.name)
    op.add_column(table, sa.Column("n", sa.Integer), schema=schema)
    op.add_column(table, sa.Column("min_n", sa.Integer), schema=schema)


def downgrade() -> None:
    schema, table = locate("mart", "kpi_value", op.get_bind().dialect.name)
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.drop_column("min_n")
        batch.drop_column("n")
