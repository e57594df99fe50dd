"""The dataset DAG's stages and what they hand each other: typed hand-offs that survive XCom,
stages that run apart (validate never reads the OPD's file), and the one home of every lake key,
DAG id and stored word."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from serasan.common import dag_ids
from serasan.common.enums import (
    APPLIED,
    TERMINAL,
    ExportStatus,
    LakeArea,
    LoadMode,
    LoadStatus,
    QualityPolicy,
)
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake import keys
from serasan.pipeline.extract import extract
from serasan.pipeline.handoff import (
    DqOutcome,
    LoadSummary,
    Parsed,
    RawObject,
    Validated,
    load_id_for,
)
from serasan.pipeline.load import load
from serasan.pipeline.parse import parse
from serasan.pipeline.run import transform
from serasan.pipeline.validate import validate
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade

RUN_DATE = dt.date(2026, 11, 1)
SHA = "ab" * 32


def _through_xcom(obj: object) -> object:
    """What Airflow does between two tasks: JSON out, JSON in."""
    return type(obj).from_xcom(json.loads(json.dumps(obj.to_xcom())))  # type: ignore[attr-defined]


def test_every_hand_off_survives_xcom_as_plain_json() -> None:
    raw = RawObject(dataset="muba_bank_sampah", sha256=SHA, raw_key=f"raw/x/{SHA}/a b.xlsx")
    parsed = Parsed(
        **dataclasses.asdict(raw),
        rows_in=12,
        rows_parsed=10,
        header_row=3,
        notes=("tanggal dibaca hari-bulan",),
        fix_file=True,
        parsed_key=keys.parsed_key("x", SHA),
        rejects_key=keys.rejects_key("x", SHA),
    )
    rejected = Parsed(**dataclasses.asdict(raw), error="salah.csv: bukan tabel")
    validated = Validated(
        **dataclasses.asdict(raw),
        status=LoadStatus.QUARANTINED,
        rows_in=12,
        rows_valid=9,
        rows_rejected=3,
        problems=(("kolom 'nik' kosong", 2), ("baris ringkasan", 1)),
        examples=({"baris": 4, "nik": None, "jumlah": 1.5, "periode": "2026-10-01"},),
        dq=(DqOutcome(0, "expect_column_values_to_not_be_null", "nik", False, 2, 10, "[]"),),
        staging_key=keys.staging_key("x", SHA),
        quarantine_key=keys.quarantine_key("x", SHA),
        periods=("2026-10-01",),
        notes=("catatan",),
        fix_file=True,
        rows_failing=3,
        docs_key=keys.docs_key("x", SHA),
    )
    summary = LoadSummary(
        dataset="x",
        sha256=SHA,
        load_id=f"x-{SHA[:16]}",
        filename="a b.xlsx",
        status=LoadStatus.BLOCKED,
        rows_in=12,
        rows_loaded=0,
        rows_rejected=12,
        quarantine_key=None,
        alert_key="alerts/k/x/abababababababab.txt",
        periods=(),
        error=None,
    )
    for obj in (raw, parsed, rejected, validated, summary):
        out = obj.to_xcom()
        assert json.loads(json.dumps(out)) == out  # plain JSON types only
        assert type(out.get("status", "")) is str  # an enum travels as its string
        assert _through_xcom(obj) == obj
    assert validated.to_xcom()["problems"] == [["kolom 'nik' kosong", 2], ["baris ringkasan", 1]]
    assert raw.filename == "a b.xlsx" and parsed.load_id == f"muba_bank_sampah-{SHA[:16]}"
    assert rejected.rejected and not parsed.rejected
    assert (
        summary.nothing_loaded and not dataclasses.replace(summary, status="loaded").nothing_loaded
    )


def test_stored_words_are_the_strings_they_always_were() -> None:
    assert [s.value for s in TERMINAL] == [
        "loaded",
        "quarantined",
        "warned",
        "blocked",
        "rejected",
        "retracted",
    ]
    assert APPLIED == ("loaded", "quarantined", "warned")
    assert LoadStatus.BLOCKED == "blocked" and f"{LoadStatus.BLOCKED}" == "blocked"
    assert json.dumps({"s": LoadStatus.WARNED}) == '{"s": "warned"}'
    assert {p.value for p in QualityPolicy} == {"block", "quarantine", "warn"}
    assert {m.value for m in LoadMode} == {"upsert", "replace_period"}
    assert {s.value for s in ExportStatus} == {"ready", "blocked", "withdrawn"}
    assert LakeArea.RAW.prefix == "raw/" and LakeArea.DOCTOR.prefix == "_doctor/"


def test_lake_keys_and_dag_ids_keep_their_spelling(catalog: Catalog) -> None:
    ds = catalog.dataset("muaraenim_timbulan_sampah")
    reg = catalog.regency(ds.regency)
    assert keys.inbox_prefix(catalog, ds) == f"inbox/muaraenim-dlh/{ds.id}/"
    assert keys.opd_inbox_prefix("muaraenim-dlh") == "inbox/muaraenim-dlh/"
    assert keys.raw_key(ds.id, SHA, "f.xlsx") == f"raw/{ds.id}/{SHA}/f.xlsx"
    assert keys.manifest_key(ds.id, SHA) == f"raw/{ds.id}/{SHA}/manifest.json"
    assert keys.staging_key(ds.id, SHA) == f"staging/{ds.id}/{SHA}.parquet"
    assert keys.parsed_key(ds.id, SHA) == f"staging/{ds.id}/{SHA}.parsed.parquet"
    assert keys.rejects_key(ds.id, SHA) == f"staging/{ds.id}/{SHA}.rejects.json"
    assert keys.quarantine_key(ds.id, SHA) == f"quarantine/{ds.id}/{SHA}/ditolak.csv"
    assert keys.quarantine_xlsx_key(ds.id, SHA) == f"quarantine/{ds.id}/{SHA}/ditolak.xlsx"
    assert keys.alert_key(catalog, ds, SHA) == f"alerts/muaraenim-dlh/{ds.id}/{SHA[:16]}.txt"
    assert keys.lateness_alert_key("muaraenim-dlh", "2026-11-01") == (
        "alerts/muaraenim-dlh/terlambat/2026-11-01.txt"
    )
    assert keys.digest_alert_key("muaraenim-dlh", "2026-11-01") == (
        "alerts/muaraenim-dlh/ringkasan/2026-11-01.txt"
    )
    assert keys.docs_key(ds.id, SHA) == f"docs/gx/{ds.id}/{SHA[:16]}.html"
    assert keys.docs_index_key(ds.id) == f"docs/gx/{ds.id}/index.html"
    assert keys.export_prefix(catalog, ds) == f"exports/muaraenim/{ds.id}/"
    assert keys.report_key(reg, "2026-10") == "reports/muaraenim/2026-10.html"
    assert load_id_for(ds, SHA) == f"{ds.id}-{SHA[:16]}"

    assert dag_ids.dataset_dag_id(ds.id) == f"serasan__{ds.id}"
    assert dag_ids.regency_dag_ids("muaraenim") == (
        "serasan__muaraenim__kpi",
        "serasan__muaraenim__export",
        "serasan__muaraenim__report",
    )
    assert (dag_ids.ALERTS, dag_ids.BACKUP, dag_ids.RETENTION) == (
        "serasan__alerts",
        "serasan__backup",
        "serasan__retention",
    )
    assert dag_ids.dataset_of(f"serasan__{ds.id}") == ds.id
    assert dag_ids.dataset_of("serasan__muaraenim__kpi") is None
    assert dag_ids.dataset_of("serasan__muaraenim__report") is None
    assert dag_ids.dataset_of("serasan__alerts") is None


@pytest.fixture
def ctx(local_settings: Settings, catalog: Catalog) -> RunContext:
    c = RunContext(
        settings=local_settings, catalog=catalog, run_date=RUN_DATE, dag_id="t", run_id="r1"
    )
    upgrade(c.engine, catalog)
    return c


def test_stages_run_apart_and_validate_never_reads_the_file(
    ctx: RunContext, catalog: Catalog, tmp_path: Path
) -> None:
    """What the DAG does, task by task with XCom between them: parse writes typed Parquet,
    validate works from it alone (the raw file may be gone), and the result is transform's."""
    ds = catalog.dataset("muba_bank_sampah")
    gen = generate_dataset(ds, catalog, rows=60, defect_rate=0.15, seed=7)
    ctx.lake.put(keys.inbox_prefix(catalog, ds) + gen.filename, gen.data)
    [obj] = [_through_xcom(o) for o in extract(ctx, ds)]

    parsed = _through_xcom(parse(ctx, ds, obj))
    assert isinstance(parsed, Parsed) and parsed.parsed_key == keys.parsed_key(ds.id, obj.sha256)
    assert parsed.rows_in == gen.rows and 0 < parsed.rows_parsed <= gen.rows
    set_aside = json.loads(ctx.lake.get(parsed.rejects_key))
    assert len(set_aside) == parsed.rows_in - parsed.rows_parsed
    raw = ctx.lake.get(obj.raw_key)
    ctx.lake.delete(obj.raw_key)  # validate must not need the OPD's file
    validated = _through_xcom(validate(ctx, ds, parsed))
    ctx.lake.put(obj.raw_key, raw)
    assert isinstance(validated, Validated) and validated.status == LoadStatus.QUARANTINED
    assert validated.rows_in == parsed.rows_in
    assert validated.rows_valid + validated.rows_rejected == validated.rows_in
    staged = ctx.lake.get(validated.staging_key)
    quarantined = ctx.lake.get(validated.quarantine_key)

    # validate again from the same parsed Parquet (a retried task): the same objects
    assert validate(ctx, ds, parsed) == validated
    assert ctx.lake.get(validated.staging_key) == staged
    # the in-process composition gives the same hand-off and the same bytes
    assert transform(ctx, ds, obj) == validated
    assert ctx.lake.get(validated.staging_key) == staged
    assert ctx.lake.get(validated.quarantine_key) == quarantined

    summary = _through_xcom(load(ctx, ds, validated))
    assert isinstance(summary, LoadSummary) and summary.status == LoadStatus.QUARANTINED
    assert summary.rows_loaded == validated.rows_valid and summary.load_id == obj.load_id


def test_a_file_parse_refuses_is_rejected_without_parquet(
    ctx: RunContext, catalog: Catalog
) -> None:
    ds = catalog.dataset("muba_bank_sampah")
    ctx.lake.put(keys.inbox_prefix(catalog, ds) + "salah.csv", b"nama,alamat\nBudi,Sekayu\n")
    [obj] = extract(ctx, ds)
    parsed = parse(ctx, ds, obj)
    assert parsed.rejected and parsed.parsed_key is None and "salah.csv" in parsed.error
    assert not ctx.lake.exists(keys.parsed_key(ds.id, obj.sha256))
    assert parsed.rejects_key is None and not ctx.lake.exists(keys.rejects_key(ds.id, obj.sha256))
    validated = validate(ctx, ds, parsed)
    assert validated.status == LoadStatus.REJECTED and validated.error == parsed.error
    assert validated.problems == ((parsed.error, 0),) and validated.staging_key is None
    summary = load(ctx, ds, validated)
    assert summary.status == "rejected" and summary.nothing_loaded
