"""meta.merge_log, the ledger of merges, now owned by the migrations.

Revision ID: 0009
Revises: 0008

Earlier, `history.ensure_for` created the ledger at the first merge; a warehouse merged into
before this revision already has it, so it is created only where missing.
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    bind = op.get_bind()
    schema, table = locate("meta", "merge_log", bind.dialect.name)
    if sa.inspect(bind).has_table(table, schema=schema):
        return
    op.create_table(
        table,
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("load_id", sa.String(120), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source_sha256", sa.String(64)),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("rows_new", sa.BigInteger),
        sa.Column("rows_superseded", sa.BigInteger),
        sa.Column("periods", sa.Text),
        sa.Column("merged_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("dataset_id", "load_id"),
        schema=schema,
        sqlite_autoincrement=True,
    )
