"""Alert deliveries (outbox per channel and recipient) and per-OPD quality scores.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from serasan.warehouse.tables import table

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    bind = op.get_bind()
    for name in ("alert_delivery", "quality_score"):
        table("meta", name, bind.dialect.name).create(bind=bind, checkfirst=True)
