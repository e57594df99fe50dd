"""Initial fixed schema: layers, reference, dimensions, meta and the KPI mart.

Revision ID: 0001
Revises:

Every revision spells out the tables and columns it creates as they were at that revision, and
never reads `warehouse/tables.py` (which is the schema as it is now): meta.load_run is created
here without rows_failing, which 0004 adds.
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import LAYERS, has_schemas, locate

revision = "0001"
down_revision = None


def _create(layer: str, name: str, *items: sa.schema.SchemaItem) -> None:
    schema, table = locate(layer, name, op.get_bind().dialect.name)
    op.create_table(table, *items, schema=schema)


def upgrade() -> None:
    bind = op.get_bind()
    if has_schemas(bind.dialect.name):
        present = set(sa.inspect(bind).get_schema_names())
        for layer in LAYERS:  # usually made already (with their owner) by `upgrade`
            if layer not in present:
                bind.execute(sa.schema.CreateSchema(layer))
    _create(
        "ref",
        "region",
        sa.Column("kode", sa.String(20), primary_key=True),
        sa.Column("nama", sa.String(200), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("kode_induk", sa.String(20)),
        sa.Column("jenis", sa.String(20)),
    )
    _create(
        "core",
        "dim_opd",
        sa.Column("regency", sa.String(10), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200)),
        sa.PrimaryKeyConstraint("regency", "code"),
    )
    _create(
        "core",
        "dim_pillar",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
    )
    _create(
        "core",
        "dim_period",
        sa.Column("period_date", sa.Date, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("quarter", sa.Integer, nullable=False),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("days_in_month", sa.Integer, nullable=False),
    )
    _create(
        "meta",
        "load_run",
        sa.Column("load_id", sa.String(120), primary_key=True),
        sa.Column("dataset_id", sa.String(64), nullable=False, index=True),
        sa.Column("regency", sa.String(10), nullable=False),
        sa.Column("opd", sa.String(40), nullable=False),
        sa.Column("raw_key", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("dag_id", sa.String(250)),
        sa.Column("run_id", sa.String(250)),
        sa.Column("logical_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows_in", sa.Integer, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("quarantine_key", sa.Text),
        sa.Column("periods", sa.Text),
        sa.Column("notes", sa.Text),
    )
    _create(
        "meta",
        "object_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("raw_key", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(250)),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("logical_date", sa.Date, nullable=False),
    )
    _create(
        "meta",
        "dq_result",
        sa.Column("load_id", sa.String(120), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("expectation_type", sa.String(120), nullable=False),
        sa.Column("column_name", sa.String(200)),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("unexpected_count", sa.Integer, nullable=False),
        sa.Column("element_count", sa.Integer, nullable=False),
        sa.Column("sample", sa.Text),
        sa.PrimaryKeyConstraint("load_id", "seq"),
    )
    _create(
        "meta",
        "alert",
        sa.Column("alert_id", sa.String(140), primary_key=True),
        sa.Column("load_id", sa.String(120), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("regency", sa.String(10), nullable=False),
        sa.Column("opd", sa.String(40), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("lake_key", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    _create(
        "meta",
        "export_run",
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("lake_prefix", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "period"),
    )
    _create(
        "mart",
        "kpi_value",
        sa.Column("kpi_code", sa.String(60), nullable=False),
        sa.Column("regency", sa.String(10), nullable=False),
        sa.Column("pillar", sa.String(20), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("kode_wilayah", sa.String(20), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("target", sa.Float),
        sa.Column("achievement_pct", sa.Float),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("satuan", sa.String(40), nullable=False),
        sa.Column("load_ids", sa.Text),
        sa.PrimaryKeyConstraint("kpi_code", "period", "kode_wilayah"),
    )
