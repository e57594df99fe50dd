"""core.dim_region (region codes with validity dates) and ref.bps_kemendagri (BPS crosswalk).

Revision ID: 0006
Revises: 0005

`serasan.warehouse.db.seed` fills both from `warehouse/seed/`: dim_region from wilayah.csv,
valid from 2025-01-01 (Kepmendagri 300.2.2-2430/2025), and the crosswalk from
bps_kemendagri.csv. A later decree adds rows with its own valid_from and closes the codes it
retires by setting their valid_to (exclusive).
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    schema, table = locate("core", "dim_region", dialect)
    op.create_table(
        table,
        sa.Column("kode", sa.String(20), nullable=False),
        sa.Column("nama", sa.String(200), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("kode_induk", sa.String(20)),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.PrimaryKeyConstraint("kode", "valid_from"),
        schema=schema,
    )
    schema, table = locate("ref", "bps_kemendagri", dialect)
    op.create_table(
        table,
        sa.Column("kode_bps", sa.String(20), primary_key=True),
        sa.Column("kode_kemendagri", sa.String(20), nullable=False, index=True),
        sa.Column("level", sa.String(20), nullable=False),
        schema=schema,
    )
