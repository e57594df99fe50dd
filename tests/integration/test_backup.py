"""Backups against the real services: pg_dump of a loaded PostgreSQL warehouse restored into an
empty database and found equal table by table (rows and content, meta/core/ref/mart/staging and
the Alembic version); the same with SQLite's backup API; the lake copied incrementally from S3
into a second bucket and a folder; the CLI and the daily DAG.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from serasan.admin import backup
from serasan.admin.backup import BackupError, backup_lake, dump_warehouse, restore, target_settings
from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.store import Lake, open_lake
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.names import LAYERS
from serasan.warehouse.roles import OWNER

# the newest migration: revisions are numbered by their file names (0001_..., 0002_...)
HEAD = max(
    p.name[:4]
    for p in (Path(__file__).parents[2] / "warehouse" / "migrations" / "versions").glob("0*.py")
)

PG = pytest.mark.parametrize("regencies_loaded", ["production"], indirect=True)
SQLITE = pytest.mark.parametrize("regencies_loaded", ["embedded"], indirect=True)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------ independent comparison


def _pg_content(url: str) -> dict[str, Any]:
    """Every table of the five layers: rows and md5 of its rows sorted as text; every sequence's
    state; computed here, in SQL, independently of serasan.admin.backup."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    out: dict[str, Any] = {}
    try:
        with engine.connect() as conn:
            for stmt in (
                "SET TimeZone = 'UTC'",
                "SET DateStyle = 'ISO, YMD'",
                "SET extra_float_digits = 3",
            ):
                conn.execute(text(stmt))
            tables = conn.execute(
                text("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(:s)"),
                {"s": list(LAYERS)},
            ).all()
            for schema, name in tables:
                out[f"{schema}.{name}"] = tuple(
                    conn.execute(
                        text(
                            f"SELECT count(*), md5(coalesce(string_agg(x::text, E'\\n' "  # noqa: S608
                            f'ORDER BY x::text), \'\')) FROM "{schema}"."{name}" AS x'
                        )
                    ).one()
                )
            seqs = conn.execute(
                text(
                    "SELECT schemaname, sequencename, last_value FROM pg_sequences "
                    "WHERE schemaname = ANY(:s)"
                ),
                {"s": list(LAYERS)},
            ).all()
            out |= {f"seq {s}.{n}": v for s, n, v in seqs}
            out["columns"] = sorted(
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT table_schema, table_name, ordinal_position, column_name, data_type, "
                        "is_nullable FROM information_schema.columns WHERE table_schema = ANY(:s)"
                    ),
                    {"s": list(LAYERS)},
                )
            )
    finally:
        engine.dispose()
    return out


def _sqlite_content(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        out: dict[str, Any] = {
            n: sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{n}"'))  # noqa: S608
            for n in names
        }
        out["schema"] = sorted(r for r in conn.execute("SELECT type, name, sql FROM sqlite_master"))
    finally:
        conn.close()
    return out


def _fresh_lake(settings: Settings, tmp_path: Path) -> Settings:
    """The same warehouse with a lake of its own: the shared fixture's lake stays as it is."""
    if settings.lake_url.startswith("s3://"):
        return dataclasses.replace(settings, lake_url=f"s3://bk-{uuid.uuid4().hex[:10]}")
    return dataclasses.replace(settings, lake_url=str(tmp_path / "bk-lake"))


# ------------------------------------------------------------------------ PostgreSQL


@PG
def test_postgresql_dump_restores_into_an_empty_database_equal(
    regencies_loaded: Any, pg_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    src_url = regencies_loaded.settings.warehouse_url
    before = _pg_content(src_url)
    settings = _fresh_lake(regencies_loaded.settings, tmp_path)
    lake = open_lake(settings)
    m = dump_warehouse(settings, lake)
    day = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    assert m["key"] == f"backups/warehouse/{day}/warehouse.dump"
    data = lake.get(m["key"])
    assert data[:5] == b"PGDMP"  # pg_dump's custom format
    assert m["sha256"] == _sha(data) and m["size_bytes"] == len(data)
    stored = json.loads(lake.get(f"backups/warehouse/{day}/manifest.json"))
    assert stored == m
    assert m["tool"].startswith("pg_dump (PostgreSQL) 15") and m["alembic_revision"] == HEAD
    assert m["started_at"] <= m["finished_at"] and m["backend"] == "postgresql"
    assert m["user"] == "postgres" and "roles" in m["not_included"]
    facts = {t: v for t, v in m["tables"].items() if t.startswith("core.fact_")}
    assert len(facts) == len(catalog.datasets) and all(v["rows"] > 0 for v in facts.values())
    assert {t: v["rows"] for t, v in m["tables"].items()} == {
        t: v[0] for t, v in before.items() if "." in t and not t.startswith("seq ")
    }
    assert {t.split(".")[0] for t in m["tables"]} >= {"meta", "core", "ref", "mart"}

    result = restore(day, pg_url, lake=lake)
    assert result["equal"], result["differences"]
    assert result["alembic_revision"] == HEAD and result["tables"] == len(m["tables"])
    after = _pg_content(pg_url)
    assert after == before  # every table's rows and content, sequences, columns
    assert after["meta.alembic_version"][0] == 1
    assert sum(v[0] for k, v in after.items() if k.startswith("mart.")) > 0
    assert _pg_content(src_url) == before  # the backup changed nothing

    # roles and grants are not restored (--no-owner --no-privileges): the tables belong to the
    # restoring user until `serasan warehouse upgrade` hands them back to serasan_owner
    restored = make_engine(pg_url)
    with restored.connect() as conn:
        owners = set(
            conn.execute(
                text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'core'")
            ).scalars()
        )
    assert owners == {"postgres"}
    assert upgrade(restored, catalog) == []  # no fact-table change: the schema is the code's
    with restored.connect() as conn:
        owners = set(
            conn.execute(
                text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = ANY(:s)"),
                {"s": list(LAYERS)},
            ).scalars()
        )
    restored.dispose()
    assert owners == {OWNER}


@PG
def test_restore_refuses_a_database_that_is_not_empty_and_a_damaged_dump(
    regencies_loaded: Any, pg_url: str, catalog: Catalog, tmp_path: Path
) -> None:
    settings = _fresh_lake(regencies_loaded.settings, tmp_path)
    lake = open_lake(settings)
    m = dump_warehouse(settings, lake, day="2026-11-02")
    target = make_engine(pg_url)
    upgrade(target, catalog)
    target.dispose()
    with pytest.raises(BackupError, match=r"is not empty \(schema core"):
        restore("2026-11-02", pg_url, lake=lake)
    with pytest.raises(BackupError, match="no warehouse dump at"):
        restore("2026-11-03", pg_url, lake=lake)
    data = bytearray(lake.get(m["key"]))
    data[-1] ^= 0xFF
    lake.put(m["key"], bytes(data))
    with pytest.raises(BackupError, match="the dump is damaged"):
        restore(m["key"], pg_url, lake=lake)
    with pytest.raises(BackupError, match="is of a postgresql warehouse"):
        restore(m["key"], f"sqlite:///{tmp_path / 'x.db'}", lake=lake)
    lake.put(m["key"], bytes(data[:-1] + bytes([data[-1] ^ 0xFF])))  # mended
    missing = make_url(pg_url).set(database=f"serasan_nope_{uuid.uuid4().hex[:8]}")
    with pytest.raises(
        BackupError,
        match=r"cannot connect to postgresql 127\.0\.0\.1:5432/"
        r"serasan_nope_.*createdb it first",
    ):
        restore(m["key"], missing.render_as_string(hide_password=False), lake=lake)


def test_an_unreachable_warehouse_fails_clearly(local_settings: Settings) -> None:
    from tests.support.services import free_port

    port = free_port()
    dead = dataclasses.replace(
        local_settings, warehouse_url=f"postgresql://postgres:Rahasia-77@127.0.0.1:{port}/wh"
    )
    with pytest.raises(
        BackupError, match=f"cannot read the warehouse postgresql 127.0.0.1:{port}/wh: "
    ) as exc:
        dump_warehouse(dead, open_lake(dead))
    assert "Rahasia-77" not in str(exc.value)
    assert open_lake(dead).list("backups/") == []


def test_pg_dump_missing_fails_clearly(
    pg_url: str, local_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    settings = dataclasses.replace(local_settings, warehouse_url=pg_url)
    with pytest.raises(
        BackupError, match="pg_dump not found on PATH: install the PostgreSQL client tools"
    ):
        dump_warehouse(settings, open_lake(settings))
    assert open_lake(settings).list("backups/") == []


def test_password_goes_by_environment_never_on_the_command_line(tmp_path: Path) -> None:
    """What pg_dump and pg_restore are given: the conninfo has no password, the env has it."""
    conninfo, env = backup._pg_connection(
        make_url("postgresql://loader:Rahasia-pg-3c1f@db.example:6543/gudang?sslmode=require")
    )
    assert "Rahasia" not in conninfo and env["PGPASSWORD"] == "Rahasia-pg-3c1f"
    assert "host=db.example" in conninfo and "port=6543" in conninfo
    assert "sslmode=require" in conninfo and "dbname=gudang" in conninfo


# ------------------------------------------------------------------------ SQLite


@SQLITE
def test_sqlite_backup_restores_equal(regencies_loaded: Any, tmp_path: Path) -> None:
    src = Path(make_url(regencies_loaded.settings.warehouse_url).database)
    before = _sqlite_content(src)
    settings = _fresh_lake(regencies_loaded.settings, tmp_path)
    lake = open_lake(settings)
    m = dump_warehouse(settings, lake, day="2026-11-01")
    assert m["key"] == "backups/warehouse/2026-11-01/warehouse.sqlite"
    assert m["sha256"] == _sha(lake.get(m["key"])) and m["alembic_revision"] == HEAD
    assert m["tables"]["meta__alembic_version"]["rows"] == 1
    assert all(v["rows"] > 0 for t, v in m["tables"].items() if t.startswith("core__fact_"))

    into = tmp_path / "restored" / "warehouse.db"
    result = restore("2026-11-01", f"sqlite:///{into}", lake=lake)
    assert result["equal"], result["differences"]
    assert _sqlite_content(into) == before
    assert _sqlite_content(src) == before
    with pytest.raises(BackupError, match="restore only into a new SQLite file"):
        restore("2026-11-01", f"sqlite:///{into}", lake=lake)


# ------------------------------------------------------------------------ lake


def _state(lake: Lake, skip: str = "backups/") -> dict[str, str]:
    return {k: _sha(lake.get(k)) for k in lake.list("") if not k.startswith(skip)}


def _fill(lake: Lake) -> None:
    lake.put("raw/muba_bank_sampah/" + "a" * 64 + "/bank.csv", b"periode,berat\n2026-10,12\n")
    lake.put("raw/muba_bank_sampah/" + "a" * 64 + "/manifest.json", b'{"received_at": "x"}')
    lake.put("exports/musibanyuasin/muba_bank_sampah/2026-10/data.csv", b"x" * 1000)
    lake.put("inbox/musibanyuasin-dlh/muba_bank_sampah/upload.xlsx", b"PK\x03\x04zip")
    lake.put("staging/big.parquet", os.urandom(6 * 1024 * 1024 + 17))  # multipart on S3
    lake.put("reports/musibanyuasin/2026-10.html", b"<h1>Laporan</h1>")
    lake.put("backups/warehouse/2026-11-01/warehouse.dump", b"PGDMP...")  # not copied
    lake.put("_doctor/probe.txt", b"probe")  # not copied


@pytest.mark.parametrize("kind", ["bucket", "folder"])
def test_lake_backup_is_incremental_and_the_target_equals_the_source(
    kind: str, s3_endpoint: str, tmp_path: Path
) -> None:
    source_settings = Settings(
        lake_url=f"s3://lake-{uuid.uuid4().hex[:8]}",
        warehouse_url="sqlite://",
        s3_endpoint=s3_endpoint,
        s3_access_key="test",
        s3_secret_key="test",
    )
    source = open_lake(source_settings)
    _fill(source)
    url = f"s3://backup-{uuid.uuid4().hex[:8]}" if kind == "bucket" else str(tmp_path / "bk")
    target_conf = target_settings(source_settings, {backup.TARGET_ENV: url})
    assert target_conf is not None and target_conf.lake_url == url
    target = open_lake(target_conf)
    mirrored = _state(source)
    assert "_doctor/probe.txt" in mirrored
    mirrored.pop("_doctor/probe.txt")

    first = backup_lake(source, target, day="2026-11-01")
    assert sorted(first["copied"]) == sorted(mirrored) and first["unchanged"] == 0
    assert _state(target, skip="backups/") == mirrored
    manifest = json.loads(target.get("backups/lake/2026-11-01/manifest.json"))
    assert {k: o["sha256"] for k, o in manifest["objects"].items()} == mirrored
    assert json.loads(source.get("backups/lake/2026-11-01/manifest.json")) == manifest

    again = backup_lake(source, target, day="2026-11-02")
    assert again["copied"] == [] and again["unchanged"] == len(mirrored)

    changed = "exports/musibanyuasin/muba_bank_sampah/2026-10/data.csv"
    added = "raw/muba_bank_sampah/" + "b" * 64 + "/bank2.csv"
    source.put(changed, b"y" * 1000)  # same size, other bytes
    source.put(added, b"periode,berat\n2026-11,7\n")
    third = backup_lake(source, target, day="2026-11-03")
    assert sorted(third["copied"]) == sorted([changed, added])
    assert third["unchanged"] == len(mirrored) - 1 and third["copied_bytes"] == 1000 + 24
    want = {**mirrored, changed: _sha(b"y" * 1000), added: _sha(b"periode,berat\n2026-11,7\n")}
    assert _state(target, skip="backups/") == want
    manifest = json.loads(target.get("backups/lake/2026-11-03/manifest.json"))
    assert {k: o["sha256"] for k, o in manifest["objects"].items()} == want

    # the target changed behind our back: found by its fingerprint, and copied again
    target.put(added, b"rusak")
    fourth = backup_lake(source, target, day="2026-11-04")
    assert fourth["copied"] == [added] and _state(target, skip="backups/") == want

    # the backup itself never deletes: an object gone from the lake stays in the target, listed
    # as stale, until retention deletes that copy (tests/integration/test_retention.py)
    source.delete(changed)
    fifth = backup_lake(source, target, day="2026-11-05")
    assert fifth["copied"] == [] and fifth["stale"] == [changed]
    assert target.exists(changed)

    # without the index everything is compared afresh (by sha256), and nothing copied
    full = backup_lake(source, target, day="2026-11-06", full=True)
    assert full["copied"] == [] and full["unchanged"] == len(want) - 1


def test_the_target_may_not_be_the_lake(
    s3_endpoint: str, tmp_path: Path, local_settings: Settings
) -> None:
    s = Settings(lake_url="s3://lake-self", warehouse_url="sqlite://", s3_endpoint=s3_endpoint)
    with pytest.raises(BackupError, match="is the lake itself"):
        backup.run_backup(s, lake_only=True, target=target_settings(s, url="s3://lake-self"))
    inside = target_settings(local_settings, url=str(Path(local_settings.lake_url) / "bk"))
    with pytest.raises(BackupError, match="or inside it"):
        backup.run_backup(local_settings, target=inside)
    assert open_lake(local_settings).list("") == []  # refused before the dump was written


# ------------------------------------------------------------------------ CLI and DAG


@pytest.fixture
def local_env(
    local_settings: Settings, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, Path]:
    engine = make_engine(local_settings.warehouse_url)
    upgrade(engine, catalog)
    engine.dispose()
    open_lake(local_settings).put("raw/x/" + "c" * 64 + "/f.csv", b"a,b\n1,2\n")
    target = tmp_path / "backup-target"
    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(backup.TARGET_ENV, str(target))
    return local_settings, target


def test_cli_backup_list_and_restore(
    local_env: tuple[Settings, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, target = local_env
    assert main(["backup", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    key = summary["warehouse"]["key"]
    day = summary["day"]
    assert key == f"backups/warehouse/{day}/warehouse.sqlite"
    assert summary["lake"]["copied"] == 1 and summary["lake"]["copied_keys"] == [
        "raw/x/" + "c" * 64 + "/f.csv"
    ]
    lake = open_lake(settings)
    assert (target / key).read_bytes() == lake.get(key)  # the dump is in the target too
    assert (target / key).parent.joinpath("manifest.json").is_file()

    assert main(["backup"]) == 0
    out = capsys.readouterr().out
    assert "warehouse: " in out and "0 copied" in out and "1 unchanged" in out

    assert main(["backup", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["key"] == key and listed["sha256"] == _sha(lake.get(key))

    into = tmp_path / "restored.db"
    assert main(["backup", "restore", "--dump", day, "--into", f"sqlite:///{into}"]) == 0
    assert "every table equals the dump's manifest" in capsys.readouterr().out
    assert main(["backup", "restore", "--dump", day, "--into", f"sqlite:///{into}"]) == 2
    assert "restore only into a new SQLite file" in capsys.readouterr().err

    out_dir = tmp_path / "out"
    assert main(["backup", "--out", str(out_dir), "--no-lake"]) == 0
    dumped = out_dir / key
    assert dumped.is_file() and "lake: not asked for (--no-lake)" in capsys.readouterr().out
    into2 = tmp_path / "restored2.db"
    assert main(["backup", "restore", "--dump", str(dumped), "--into", f"sqlite:///{into2}"]) == 0


def test_backup_dag_parses_and_runs_through_airflow(local_env: tuple[Settings, Path]) -> None:
    from serasan.operators.runner import Runner

    settings, target = local_env
    runner = Runner(Path(os.environ["AIRFLOW_HOME"]))
    dag = runner.bag.get_dag("serasan__backup")
    assert dag is not None and {"serasan", "backup"} <= set(dag.tags)
    assert dag.catchup is False and dag.max_active_runs == 1
    assert [t.task_id for t in dag.tasks] == ["backup"]
    assert all(t.owner == "serasan-engineers" for t in dag.tasks)
    logical = dt.datetime(2026, 11, 1, 3, tzinfo=ZoneInfo("Asia/Jakarta"))
    res = runner.run("serasan__backup", logical)
    assert res["state"] == "success", res
    result = res["tasks"]["backup"]["result"]
    key = result["warehouse"]["key"]
    assert open_lake(settings).exists(key) and (target / key).is_file()
    assert result["lake"]["copied"] == 1
    manifest = json.loads(open_lake(settings).get(key.rsplit("/", 1)[0] + "/manifest.json"))
    assert manifest["logical_date"] == "2026-11-01"
