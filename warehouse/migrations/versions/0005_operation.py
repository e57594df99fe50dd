"""meta.operation: operators' retractions and reprocessing, recorded.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from serasan.warehouse.tables import table

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    bind = op.get_bind()
    table("meta", "operation", bind.dialect.name).create(bind=bind, checkfirst=True)
