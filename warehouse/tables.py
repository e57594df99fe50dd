"""The fixed part of the warehouse schema (reference, dimensions, meta, marts) as SQLAlchemy Core.

Migrations create these tables, each revision with its own explicit columns as they were at
that revision (they never import this module). `tests/integration/test_warehouse.py` checks that after
`upgrade` the live database matches this module exactly, from an empty database and from one
built at an earlier revision, so code and migrations cannot drift apart: a change here needs a
new revision in `warehouse/migrations/versions/`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.schema import SchemaItem

from serasan.warehouse.names import locate


def _t(md: MetaData, dialect: str, layer: str, name: str, *cols: SchemaItem, **kw: Any) -> Table:
    schema, table = locate(layer, name, dialect)
    return Table(table, md, *cols, schema=schema, **kw)


@cache
def fixed_metadata(dialect: str) -> MetaData:
    md = MetaData()
    _t(
        md,
        dialect,
        "ref",
        "region",
        Column("kode", String(20), primary_key=True),
        Column("nama", String(200), nullable=False),
        Column("level", String(20), nullable=False),
        Column("kode_induk", String(20)),
        Column("jenis", String(20)),
    )
    _t(
        md,
        dialect,
        "ref",
        "bps_kemendagri",  # BPS (statistics) code -> Kemendagri code
        Column("kode_bps", String(20), primary_key=True),
        Column("kode_kemendagri", String(20), index=True),  # current; NULL: ambiguous/unmatched
        Column("level", String(20), nullable=False),
        Column("kode_kemendagri_sumber", String(20)),  # what the source gave (2018 version)
        Column("status", String(20)),  # unchanged | moved | ambiguous | unmatched
        Column("kandidat", Text),  # ambiguous: the `;`-separated current codes it could be
    )
    _t(
        md,
        dialect,
        "core",
        "dim_region",  # one row per code and decree it is valid under
        Column("kode", String(20), nullable=False),
        Column("nama", String(200), nullable=False),
        Column("level", String(20), nullable=False),
        Column("kode_induk", String(20)),
        Column("valid_from", Date, nullable=False),
        Column("valid_to", Date),  # exclusive; NULL while the code is in force
        Column("kode_pengganti", Text),  # retired: the current code(s) it became, `;`-separated
        Column("perubahan", String(20)),  # renumbered | ambiguous | removed | area_changed
        Column("regulasi", String(120)),  # the regulation of that change
        Column("area_changed_at", Date),  # its area changed from this date on (migration 0011)
        Column("area_changed_into", Text),  # the current codes now holding its former area
        PrimaryKeyConstraint("kode", "valid_from"),
    )
    _t(
        md,
        dialect,
        "core",
        "dim_opd",
        Column("regency", String(10), nullable=False),
        Column("code", String(40), nullable=False),
        Column("name", String(200), nullable=False),
        Column("email", String(200)),
        PrimaryKeyConstraint("regency", "code"),
    )
    _t(
        md,
        dialect,
        "core",
        "dim_pillar",
        Column("code", String(20), primary_key=True),
        Column("name", String(60), nullable=False),
    )
    _t(
        md,
        dialect,
        "core",
        "dim_period",
        Column("period_date", Date, primary_key=True),
        Column("year", Integer, nullable=False),
        Column("quarter", Integer, nullable=False),
        Column("month", Integer, nullable=False),
        Column("days_in_month", Integer, nullable=False),
    )
    _t(
        md,
        dialect,
        "meta",
        "load_run",
        Column("load_id", String(120), primary_key=True),
        Column("dataset_id", String(64), nullable=False, index=True),
        Column("regency", String(10), nullable=False),
        Column("opd", String(40), nullable=False),
        Column("raw_key", Text, nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("size_bytes", Integer, nullable=False),
        Column("dag_id", String(250)),
        Column("run_id", String(250)),
        Column("logical_date", Date, nullable=False),
        Column("status", String(20), nullable=False),
        Column("rows_in", Integer, nullable=False),
        Column("rows_loaded", Integer, nullable=False),
        Column("rows_rejected", Integer, nullable=False),
        Column("rows_failing", Integer),  # rows breaking a rule, loaded or not (warn loads them)
        Column("quarantine_key", Text),
        Column("periods", Text),
        Column("notes", Text),
    )
    _t(
        md,
        dialect,
        "meta",
        "object_event",
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("dataset_id", String(64), nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("raw_key", Text, nullable=False),
        Column("run_id", String(250)),
        Column("action", String(20), nullable=False),
        Column("logical_date", Date, nullable=False),
    )
    _t(
        md,
        dialect,
        "meta",
        "dq_result",
        Column("load_id", String(120), nullable=False),
        Column("seq", Integer, nullable=False),
        Column("dataset_id", String(64), nullable=False),
        Column("expectation_type", String(120), nullable=False),
        Column("column_name", String(200)),
        Column("success", Boolean, nullable=False),
        Column("unexpected_count", Integer, nullable=False),
        Column("element_count", Integer, nullable=False),
        Column("sample", Text),
        PrimaryKeyConstraint("load_id", "seq"),
    )
    _t(
        md,
        dialect,
        "meta",
        "alert",
        Column("alert_id", String(140), primary_key=True),
        Column("load_id", String(120), nullable=False),
        Column("dataset_id", String(64), nullable=False),
        Column("regency", String(10), nullable=False),
        Column("opd", String(40), nullable=False),
        Column("recipients", Text, nullable=False),
        Column("subject", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("lake_key", Text, nullable=False),
        Column("status", String(20), nullable=False),
    )
    _t(
        md,
        dialect,
        "meta",
        "export_run",
        Column("dataset_id", String(64), nullable=False),
        Column("period", String(10), nullable=False),
        Column("manifest_sha256", String(64), nullable=False),
        Column("files", Text, nullable=False),
        Column("lake_prefix", Text, nullable=False),
        Column("rows", Integer, nullable=False),
        Column("status", String(20), nullable=False, server_default="ready"),  # ready | blocked
        Column("metadata_missing", Text),  # comma-separated Satu Data fields not declared
        Column("scan_hits", Integer, nullable=False, server_default="0"),
        Column("exported_at", String(40)),
        PrimaryKeyConstraint("dataset_id", "period"),
    )
    _t(
        md,
        dialect,
        "meta",
        "export_change",  # the changelog of every dataset's exports
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("dataset_id", String(64), nullable=False),
        Column("period", String(10), nullable=False),
        Column("change", String(20), nullable=False),  # added | revised | metadata | withdrawn
        Column("reason", Text, nullable=False),
        Column("load_ids", Text),
        Column("manifest_sha256", String(64)),
        Column("rows", Integer),
        Column("recorded_at", String(40), nullable=False),
        # the logical date of the export run that recorded the change (migration 0013; NULL
        # before it: the report then infers it from the loads)
        Column("logical_date", Date),
    )
    _t(
        md,
        dialect,
        "meta",
        "publication",  # what each CKAN portal holds, per period
        Column("portal", String(200), nullable=False),
        Column("dataset_id", String(64), nullable=False),
        Column("period", String(10), nullable=False),
        Column("package_name", String(100), nullable=False),
        Column("resource_id", String(100)),
        Column("sha256", String(64), nullable=False),
        Column("status", String(20), nullable=False),  # published | pending | blocked
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text),
        Column("updated_at", String(40), nullable=False),
        PrimaryKeyConstraint("portal", "dataset_id", "period"),
    )
    _t(
        md,
        dialect,
        "meta",
        "pii_finding",  # personal data the scanner found in an export
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("dataset_id", String(64), nullable=False),
        Column("period", String(10), nullable=False),
        Column("file", Text, nullable=False),
        Column("row", Integer, nullable=False),
        Column("column_name", String(200), nullable=False),
        Column("kind", String(20), nullable=False),  # nik | phone | email | npwp
        Column("excerpt", Text, nullable=False),  # masked
        Column("found_at", String(40), nullable=False),
    )
    _t(
        md,
        dialect,
        "meta",
        "retention_audit",  # every lake object retention deleted
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("object_key", Text, nullable=False),
        Column("dataset_id", String(64), nullable=False),
        Column("kind", String(20), nullable=False),  # raw | quarantine
        Column("sha256", String(64)),
        Column("size_bytes", BigInteger),
        Column("received_at", String(40)),
        Column("deleted_at", String(40), nullable=False),
        Column("policy_days", Integer, nullable=False),
        Column("reason", Text, nullable=False),
        Column("actor", String(120), nullable=False),
    )
    _t(
        md,
        dialect,
        "meta",
        "merge_log",  # the ledger of merges (warehouse.history)
        Column(
            "seq",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("load_id", String(120), nullable=False),
        Column("dataset_id", String(64), nullable=False),
        Column("mode", String(20), nullable=False),  # upsert | replace_period
        Column("digest", String(64), nullable=False),  # sha256 of the merged rows
        Column("source_sha256", String(64)),  # sha256 of the staged Parquet object, if any
        Column("rows", BigInteger, nullable=False),  # rows in the batch
        Column("rows_new", BigInteger),  # rows written to the fact table
        Column("rows_superseded", BigInteger),  # old versions moved to history
        Column("periods", Text),  # comma-separated ISO periods of the batch
        Column("merged_at", String(40), nullable=False),
        UniqueConstraint("dataset_id", "load_id"),
        sqlite_autoincrement=True,
    )
    _t(
        md,
        dialect,
        "meta",
        "source_pull",
        Column("dataset_id", String(64), nullable=False),
        Column("interval_start", String(40), nullable=False),
        Column("interval_end", String(40), nullable=False),
        Column("lower_bound", Text),
        Column("upper_bound", Text),
        Column("rows", Integer, nullable=False),
        Column("inbox_key", Text),
        Column("sha256", String(64)),
        PrimaryKeyConstraint("dataset_id", "interval_start", "interval_end"),
    )
    _t(
        md,
        dialect,
        "meta",
        "alert_delivery",
        Column("dedupe_key", String(300), primary_key=True),  # same failure, same recipient: once
        Column("alert_id", String(140), nullable=False, index=True),
        Column("kind", String(20), nullable=False),  # quality | late | digest | engineer
        Column("channel", String(20), nullable=False),  # email | webhook
        Column("recipient", Text, nullable=False),
        Column("status", String(20), nullable=False),  # pending | sent | failed
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text),
        Column("next_attempt_at", String(40)),
        Column("sent_at", String(40)),
    )
    _t(
        md,
        dialect,
        "meta",
        "quality_score",
        Column("regency", String(10), nullable=False),
        Column("opd", String(40), nullable=False),
        Column("period", String(10), nullable=False),
        Column("datasets", Integer, nullable=False),
        Column("rows_in", Integer, nullable=False),
        Column("rows_passed", Integer, nullable=False),
        Column("expectations", Integer, nullable=False),
        Column("expectations_passed", Integer, nullable=False),
        Column("score_rows", Float),
        Column("score_expectations", Float),
        PrimaryKeyConstraint("regency", "opd", "period"),
    )
    _t(
        md,
        dialect,
        "meta",
        "operation",
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(20), nullable=False),  # retract | reprocess
        Column("dataset_id", String(64), nullable=False),
        Column("load_id", String(120)),
        Column("period", String(10)),
        Column("actor", String(120)),
        Column("reason", Text),
        Column("detail", Text),  # JSON: rows restored/removed, loads reprocessed
        Column("recorded_at", String(40), nullable=False),
    )
    _t(
        md,
        dialect,
        "meta",
        "fact_column",  # the catalog contract each fact table was built to
        Column("dataset_id", String(64), nullable=False),
        Column("column_name", String(200), nullable=False),
        Column("nullable", Boolean, nullable=False),  # as the catalog declared it
        PrimaryKeyConstraint("dataset_id", "column_name"),
    )
    _t(
        md,
        dialect,
        "mart",
        "kpi_value",
        Column("kpi_code", String(60), nullable=False),
        Column("regency", String(10), nullable=False),
        Column("pillar", String(20), nullable=False),
        Column("period", String(10), nullable=False),
        Column("kode_wilayah", String(20), nullable=False),
        Column("value", Float),
        Column("target", Float),
        Column("achievement_pct", Float),
        Column("status", String(20), nullable=False),
        Column("satuan", String(40), nullable=False),
        Column("load_ids", Text),  # the loads whose rows fall in the period, comma-separated
        Column("reason", Text),  # why the value is missing (Bahasa Indonesia)
        Column("n", Integer),  # the reviews, complaints... a value is counted from, if given
        Column("min_n", Integer),  # the minimum `n` a `min_count` KPI's value is shown from
        PrimaryKeyConstraint("kpi_code", "period", "kode_wilayah"),
    )
    return md


def table(layer: str, name: str, dialect: str) -> Table:
    schema, tname = locate(layer, name, dialect)
    key = f"{schema}.{tname}" if schema else tname
    return fixed_metadata(dialect).tables[key]
