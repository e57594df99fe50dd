"""Initial fixed schema: layers, reference, dimensions, meta and the KPI mart.

Revision ID: 0001
Revises:
"""

from alembic import op
from sqlalchemy import text

from serasan.warehouse.names import LAYERS, has_schemas
from serasan.warehouse.tables import fixed_metadata

revision = "0001"
down_revision = None


def upgrade() -> None:
    bind = op.get_bind()
    if has_schemas(bind.dialect.name):
        for layer in LAYERS:
            bind.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{layer}"'))
    fixed_metadata(bind.dialect.name).create_all(bind=bind)
