"""Satu Data exports, CKAN publication, PII findings and retention, recorded in `meta`.

Revision ID: 0008
Revises: 0007

- export_run gains what the export found: missing metadata fields, scanner hits, its status
  (`ready` to publish, or `blocked` by personal data found in a file) and when it ran;
- export_change: the changelog, one row per period added, revised or withdrawn, and why;
- publication: per portal, dataset and period, the checksum last published to CKAN, so a
  re-publish of unchanged data is a no-op and an outage leaves `pending` rows to retry;
- pii_finding: what the scanner found (file, row, column, kind, a masked excerpt);
- retention_audit: every lake object the retention job deleted, when, and under which policy.
"""

import sqlalchemy as sa
from alembic import op

from serasan.warehouse.names import locate

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    schema, table = locate("meta", "export_run", dialect)
    with op.batch_alter_table(table, schema=schema) as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="ready"))
        batch.add_column(sa.Column("metadata_missing", sa.Text))
        batch.add_column(sa.Column("scan_hits", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("exported_at", sa.String(40)))

    schema, table = locate("meta", "export_change", dialect)
    op.create_table(
        table,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("load_ids", sa.Text),
        sa.Column("manifest_sha256", sa.String(64)),
        sa.Column("rows", sa.Integer),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        schema=schema,
    )

    schema, table = locate("meta", "publication", dialect)
    op.create_table(
        table,
        sa.Column("portal", sa.String(200), nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("package_name", sa.String(100), nullable=False),
        sa.Column("resource_id", sa.String(100)),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("portal", "dataset_id", "period"),
        schema=schema,
    )

    schema, table = locate("meta", "pii_finding", dialect)
    op.create_table(
        table,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("column_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False),
        sa.Column("found_at", sa.String(40), nullable=False),
        schema=schema,
    )

    schema, table = locate("meta", "retention_audit", dialect)
    op.create_table(
        table,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("object_key", sa.Text, nullable=False),
        sa.Column("dataset_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("received_at", sa.String(40)),
        sa.Column("deleted_at", sa.String(40), nullable=False),
        sa.Column("policy_days", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        schema=schema,
    )
