"""Watermarks of pulled sources (application databases, REST APIs), per run interval.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from serasan.warehouse.tables import table

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    bind = op.get_bind()
    table("meta", "source_pull", bind.dialect.name).create(bind=bind, checkfirst=True)
