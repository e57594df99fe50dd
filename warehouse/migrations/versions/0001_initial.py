"""Initial fixed schema: layers, reference, dimensions, meta and the KPI mart.

Revision ID: 0001
Revises:
"""

from alembic import op
from sqlalchemy import text

from serasan.warehouse.names import LAYERS, has_schemas
from serasan.warehouse.tables import table

# The tables this revision introduced; later revisions add theirs (and alter with op.*).
TABLES = [("ref", "region"), ("core", "dim_opd"), ("core", "dim_pillar"), ("core", "dim_period"),
          ("meta", "load_run"), ("meta", "object_event"), ("meta", "dq_result"),
          ("meta", "alert"), ("meta", "export_run"), ("mart", "kpi_value")]
revision = "0001"
down_revision = None


def upgrade() -> None:
    bind = op.get_bind()
    if has_schemas(bind.dialect.name):
        for layer in LAYERS:
            bind.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{layer}"'))
    for layer, name in TABLES:
        table(layer, name, bind.dialect.name).create(bind=bind, checkfirst=True)
