"""Retention on both backends (folder + SQLite, S3 + PostgreSQL): exactly the objects past their
policy leave the lake, each with one audit row; again, or dry, nothing changes; a failed or an
interrupted delete is never lost from the audit. And no other code deletes from the lake.

Backups too, against a second bucket (or folder) as the backup target: warehouse dumps made by
serasan.admin.backup on several days leave the lake and the target once older than
SERASAN_BACKUP_KEEP_DAYS, the newest 7 complete ones always staying; the target's copies of the
personal data retention deletes leave with it, in the same run or a later one.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import make_url

from serasan.admin import backup
from serasan.admin.backup import backup_lake, list_dumps, run_backup, target_settings
from serasan.admin.retention import (
    COPY,
    DUMPS,
    FAILED,
    KEEP_ENV,
    LAKE,
    TARGET,
    Backups,
    RetentionConfigError,
    backup_keep_days,
    backups_from_env,
    manifest_key,
    run_retention,
)
from serasan.cli.main import main
from serasan.common.paths import PROJECT_ROOT
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.store import Lake, LakeError, open_lake
from serasan.pipeline.corrections import OperationError, reprocess
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.tables import table

BANSOS = "muaraenim_penerima_bansos"  # personal data: raw 1825 days, quarantine 180 days
PUBLIC = "muaraenim_timbulan_sampah"  # no personal data, no retention: never touched
AS_OF = dt.date(2026, 11, 1)
OLD = "2020-01-01T03:00:00+00:00"


@pytest.fixture
def wh(settings: Settings, catalog: Catalog) -> Engine:
    engine = make_engine(settings.warehouse_url)
    upgrade(engine, catalog)
    yield engine
    engine.dispose()


def _upload(
    lake: Lake,
    ds: str,
    tag: str,
    received_at: str | None,
    manifest: str = "ok",
    quarantine: bool = True,
) -> dict[str, bytes]:
    """One upload as the pipeline leaves it: raw file, manifest, and its rejected rows."""
    data = f"periode,nik,nama_penerima\n2020-01-01,16030{tag},Nama {tag}\n".encode()
    sha = hashlib.sha256(data).hexdigest()
    objs = {f"raw/{ds}/{sha}/bansos-{tag}.csv": data}
    if manifest == "ok":
        objs[manifest_key(ds, sha)] = json.dumps(
            {"dataset": ds, "sha256": sha, "received_at": received_at}
        ).encode()
    elif manifest == "corrupt":
        objs[manifest_key(ds, sha)] = b"{not json"
    if quarantine:
        objs[f"quarantine/{ds}/{sha}/ditolak.csv"] = f"baris ditolak {tag}\n".encode()
        objs[f"quarantine/{ds}/{sha}/ditolak.xlsx"] = b"PK\x03\x04" + tag.encode() * 7
    for key, value in objs.items():
        lake.put(key, value)
    return objs


def _sha(objs: dict[str, bytes]) -> str:
    return next(iter(objs)).split("/")[2]


def _event(engine: Engine, ds: str, sha: str, day: dt.date) -> None:
    ev = table("meta", "object_event", engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(
            insert(ev).values(
                dataset_id=ds,
                sha256=sha,
                raw_key=f"raw/{ds}/{sha}/x",
                run_id="r0",
                action="ingested",
                logical_date=day,
            )
        )


def _audit(engine: Engine) -> list[dict]:
    audit = table("meta", "retention_audit", engine.dialect.name)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit).order_by(audit.c.id)).mappings()]


def _lake_state(lake: Lake) -> dict[str, bytes]:
    return {k: lake.get(k) for prefix in ("raw/", "quarantine/") for k in lake.list(prefix)}


def _keys(objs: dict[str, bytes], kind: str) -> set[str]:
    return {k for k in objs if k.startswith(kind + "/")}


def _scenario(lake: Lake, engine: Engine) -> dict[str, dict[str, bytes]]:
    """Uploads of every age, and of every way a manifest can be, as of AS_OF."""
    up = {
        "old": _upload(lake, BANSOS, "01", OLD),  # both due
        "half": _upload(lake, BANSOS, "02", "2026-01-10T02:00:00+00:00"),  # quarantine due
        # Jakarta 2026-05-05 00:00: quarantine due exactly on AS_OF (received + days <= as_of)
        "edge": _upload(lake, BANSOS, "03", "2026-05-04T17:00:00+00:00"),
        # UTC date 05-05, but 05-06 in Jakarta: not due yet
        "tz": _upload(lake, BANSOS, "04", "2026-05-05T18:30:00+00:00"),
        "fresh": _upload(lake, BANSOS, "05", "2026-10-01T00:00:00+00:00"),
        "no_manifest": _upload(lake, BANSOS, "06", None, manifest="missing"),
        "corrupt": _upload(lake, BANSOS, "07", None, manifest="corrupt"),
        "public": _upload(lake, PUBLIC, "08", "2019-01-01T00:00:00+00:00"),
    }
    _event(engine, BANSOS, _sha(up["no_manifest"]), dt.date(2020, 2, 1))
    lake.put(f"raw/{BANSOS}/README.txt", b"not a sha folder")
    return up


def _expected(up: dict[str, dict[str, bytes]]) -> dict[str, tuple]:
    """key -> (kind, policy days, reason) of every object due on AS_OF."""
    note = " (tanggal dari meta.object_event: manifest tidak ada atau rusak)"
    want = {}
    for name, kinds in (
        ("old", ("raw", "quarantine")),
        ("half", ("quarantine",)),
        ("edge", ("quarantine",)),
        ("no_manifest", ("raw", "quarantine")),
    ):
        received = {
            "old": "2020-01-01",
            "half": "2026-01-10",
            "edge": "2026-05-05",
            "no_manifest": "2020-02-01",
        }[name]
        for kind in kinds:
            days = 1825 if kind == "raw" else 180
            due = dt.date.fromisoformat(received) + dt.timedelta(days=days)
            reason = f"{kind}_days={days} lewat: diterima {received}, batas {due}" + (
                note if name == "no_manifest" else ""
            )
            want |= {k: (kind, days, reason) for k in _keys(up[name], kind)}
    return want


def test_exactly_the_due_objects_go_each_with_one_audit_row(
    settings: Settings, wh: Engine, catalog: Catalog
) -> None:
    lake = open_lake(settings)
    up = _scenario(lake, wh)
    want = _expected(up)
    assert want[next(iter(_keys(up["old"], "raw")))][2] == (
        "raw_days=1825 lewat: diterima 2020-01-01, batas 2024-12-30"
    )
    before = _lake_state(lake)

    dry = run_retention(lake, wh, catalog, AS_OF, "walidata", dry_run=True)
    assert _lake_state(lake) == before and _audit(wh) == []
    assert {o["key"]: (o["kind"], o["policy_days"], o["reason"]) for o in dry["objects"]} == want
    assert {o["status"] for o in dry["objects"]} == {"would_delete"}

    result = run_retention(lake, wh, catalog, AS_OF, "walidata")
    assert (result["deleted"], result["failed"], result["kept"]) == (len(want), 0, 12)
    assert result["datasets"] == sorted(d.id for d in catalog.datasets.values() if d.retention)
    assert BANSOS in result["datasets"] and PUBLIC not in result["datasets"]
    assert _lake_state(lake) == {k: v for k, v in before.items() if k not in want}
    skipped = {s["key"] for s in result["skipped"]}
    assert skipped == set(up["corrupt"]) | {f"raw/{BANSOS}/README.txt"}

    rows = _audit(wh)
    assert {r["object_key"]: (r["kind"], r["policy_days"], r["reason"]) for r in rows} == want
    assert len(rows) == len(want)
    for r in rows:
        assert r["dataset_id"] == BANSOS and r["actor"] == "walidata"
        assert r["sha256"] == r["object_key"].split("/")[2]
        assert r["size_bytes"] == len(before[r["object_key"]])
        assert dt.datetime.fromisoformat(r["deleted_at"]).utcoffset() == dt.timedelta(0)
    assert {r["received_at"] for r in rows if r["sha256"] == _sha(up["old"])} == {OLD}
    assert {r["received_at"] for r in rows if r["sha256"] == _sha(up["no_manifest"])} == {
        "2020-02-01"
    }
    # the manifest goes last, so an interrupted run can still date what is left
    old_ids = [
        r["object_key"] for r in rows if r["kind"] == "raw" and r["sha256"] == _sha(up["old"])
    ]
    assert old_ids[-1].endswith("/manifest.json")

    again = run_retention(lake, wh, catalog, AS_OF, "walidata")
    assert (again["objects"], again["deleted"], again["kept"]) == ([], 0, 12)
    assert _audit(wh) == rows
    assert run_retention(lake, wh, catalog, AS_OF, "x", dry_run=True)["objects"] == []


class FlakyLake:
    """The real lake, except that deleting `fail_on` raises as a backend would."""

    def __init__(self, lake: Lake, fail_on: str, error: BaseException):
        self._lake, self.fail_on, self.error = lake, fail_on, error

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._lake, name)

    def delete(self, key: str) -> None:
        if key == self.fail_on:
            raise self.error
        self._lake.delete(key)


def test_a_failed_delete_is_marked_and_tried_again(
    settings: Settings, wh: Engine, catalog: Catalog
) -> None:
    lake = open_lake(settings)
    up = {"old": _upload(lake, BANSOS, "01", OLD)}
    raw_file = f"raw/{BANSOS}/{_sha(up['old'])}/bansos-01.csv"
    flaky = FlakyLake(lake, raw_file, LakeError("AccessDenied"))

    result = run_retention(flaky, wh, catalog, AS_OF, "retention-dag")
    assert (result["deleted"], result["failed"]) == (2, 2)  # quarantine gone, raw folder kept
    assert set(lake.list("raw/")) == _keys(up["old"], "raw")
    assert lake.list("quarantine/") == []
    reasons = {r["object_key"]: r["reason"] for r in _audit(wh)}
    assert len(reasons) == 4
    assert f"{FAILED}: LakeError: AccessDenied" in reasons[raw_file]
    assert (
        f"{FAILED}: tidak dicoba karena {raw_file}"
        in reasons[manifest_key(BANSOS, _sha(up["old"]))]
    )
    assert sum(FAILED in r for r in reasons.values()) == 2

    retry = run_retention(lake, wh, catalog, AS_OF, "retention-dag")
    assert (retry["deleted"], retry["failed"]) == (2, 0)
    assert lake.list("raw/") == []
    rows = _audit(wh)
    assert len(rows) == 6  # the failed attempt stays on record; the retry has its own rows
    assert sorted(r["object_key"] for r in rows[4:]) == sorted(_keys(up["old"], "raw"))
    assert all(FAILED not in r["reason"] for r in rows[4:])


class Killed(BaseException):
    """The process dies between writing the audit and deleting (no `except` catches it)."""


def test_an_interrupted_run_is_completed_without_recording_twice(
    settings: Settings, wh: Engine, catalog: Catalog
) -> None:
    lake = open_lake(settings)
    objs = _upload(lake, BANSOS, "01", OLD, quarantine=False)
    raw_file = f"raw/{BANSOS}/{_sha(objs)}/bansos-01.csv"
    with pytest.raises(Killed):
        run_retention(FlakyLake(lake, raw_file, Killed()), wh, catalog, AS_OF, "retention-dag")
    first = _audit(wh)
    assert len(first) == 2 and set(lake.list("raw/")) == set(objs)  # recorded, not yet deleted

    done = run_retention(lake, wh, catalog, AS_OF, "retention-dag")
    assert done["deleted"] == 2 and {o["audit_id"] for o in done["objects"]} == {
        r["id"] for r in first
    }
    assert lake.list("raw/") == [] and _audit(wh) == first

    # the same file sent again later starts a new clock, and its deletion a new record
    again = _upload(lake, BANSOS, "01", "2020-03-01T00:00:00+00:00", quarantine=False)
    assert set(again) == set(objs)
    assert run_retention(lake, wh, catalog, AS_OF, "retention-dag")["deleted"] == 2
    rows = _audit(wh)
    assert len(rows) == 4 and {r["received_at"] for r in rows[2:]} == {"2020-03-01T00:00:00+00:00"}


@pytest.fixture
def env_settings(settings: Settings, wh: Engine, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return settings


def test_cli_dry_run_json_actor_and_exit_codes(
    env_settings: Settings, wh: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = open_lake(env_settings)
    up = _scenario(lake, wh)
    want = _expected(up)
    before = _lake_state(lake)

    assert main(["retention", "--as-of", AS_OF.isoformat(), "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and {o["key"] for o in dry["objects"]} == set(want)
    assert _lake_state(lake) == before and _audit(wh) == []

    assert main(["retention", "--as-of", AS_OF.isoformat(), "--actor", "walidata", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["deleted"] == len(want) and result["actor"] == "walidata"
    assert {r["actor"] for r in _audit(wh)} == {"walidata"}

    assert main(["retention", "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "0 object(s) deleted" in out and "12 kept" in out and "skipped:" in out
    assert len(_audit(wh)) == len(want)

    assert main(["retention", "--as-of", "2026-13-01"]) == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err
    later = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date() + dt.timedelta(days=400)
    assert main(["retention", "--as-of", later.isoformat()]) == 2
    assert "never deletes early" in capsys.readouterr().err
    assert main(["retention", "--as-of", later.isoformat(), "--dry-run"]) == 0
    assert "would be deleted" in capsys.readouterr().out
    assert len(_audit(wh)) == len(want)


def test_reprocess_after_the_raw_file_is_deleted_fails_and_changes_nothing(
    settings: Settings, wh: Engine, catalog: Catalog
) -> None:
    """Lineage survives (meta.load_run keeps raw_key); reprocessing names the missing object."""
    from serasan.demo.generate import generate_dataset
    from serasan.lake.keys import inbox_prefix
    from serasan.pipeline.run import run_dataset
    from serasan.runtime.context import RunContext

    ctx = RunContext(
        settings=settings, catalog=catalog, run_date=AS_OF, dag_id="t", run_id="r1", _engine=wh
    )
    ds = catalog.dataset(BANSOS)
    gen = generate_dataset(ds, catalog, rows=30, defect_rate=0.1, seed=3)
    ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    [summary] = run_dataset(ctx, ds)
    assert summary.status == "quarantined" and summary.quarantine_key
    received = json.loads(ctx.lake.get(manifest_key(BANSOS, summary.sha256)))["received_at"]
    day = dt.datetime.fromisoformat(received).astimezone(ZoneInfo("Asia/Jakarta")).date()

    assert run_retention(ctx.lake, wh, catalog, day + dt.timedelta(days=179), "t")["objects"] == []
    quarantine = run_retention(ctx.lake, wh, catalog, day + dt.timedelta(days=180), "t")
    assert {o["kind"] for o in quarantine["objects"]} == {"quarantine"}
    raw = run_retention(ctx.lake, wh, catalog, day + dt.timedelta(days=1825), "t")
    assert {o["kind"] for o in raw["objects"]} == {"raw"} and raw["deleted"] == 2
    assert ctx.lake.list(f"raw/{BANSOS}/") == ctx.lake.list(f"quarantine/{BANSOS}/") == []

    lr, op = ctx.t("meta", "load_run"), ctx.t("meta", "operation")
    with wh.connect() as conn:
        runs = [dict(r) for r in conn.execute(select(lr)).mappings()]
    assert [r["raw_key"] for r in runs] == [f"raw/{BANSOS}/{summary.sha256}/{gen.filename}"]
    with pytest.raises((LakeError, OperationError), match=summary.sha256):
        reprocess(ctx, BANSOS, summary.periods[0][:7], "walidata", "aturan baru")
    with wh.connect() as conn:
        assert [dict(r) for r in conn.execute(select(lr)).mappings()] == runs
        assert conn.execute(select(op)).all() == []


# ------------------------------------------------------------------------ the only deleter

SCANNED = ("serasan", "operators", "dags", "warehouse")
S3_DELETES = {"remove_object", "remove_objects", "delete_object", "delete_objects"}
FS_DELETES = {"unlink", "rmdir", "rmtree", "remove"}
ALLOWED = {
    ("serasan/lake/store.py", "LocalLake.delete", "unlink"),  # the port's own implementations
    ("serasan/lake/store.py", "S3Lake.delete", "remove_object"),  # every version of the key
    ("serasan/lake/store.py", "LocalLake.delete_version", "delete"),
    ("serasan/lake/store.py", "S3Lake.delete_version", "remove_object"),
    # a write's own temp file, never an object: removed when the write fails part-way
    ("serasan/lake/store.py", "LocalLake.put", "unlink"),
    # the inbox move, one upload (version) at a time: its bytes are in raw/
    ("serasan/pipeline/extract.py", "extract", "delete_version"),
    # every retention delete: the lake's personal data and dumps, the backup target's copies
    ("serasan/admin/retention.py", "_try_delete", "delete"),
}


def _lake_deletes(path: Path, rel: str) -> list[tuple[str, str, str]]:
    """Calls that can delete a lake object: `.delete(key)` (SQLAlchemy's `t.delete()` takes no
    argument) or any `.delete` on something named lake, S3 removals anywhere, and file removals
    in the lake module itself; each as (file, enclosing function, method)."""
    found = []

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, f"{scope}.{child.name}" if scope else child.name)
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                name, receiver = child.func.attr, ast.unparse(child.func.value).lower()
                if (
                    (
                        name in ("delete", "delete_version")
                        and (child.args or child.keywords or "lake" in receiver)
                    )
                    or name in S3_DELETES
                    or (name in FS_DELETES and rel == "serasan/lake/store.py")
                ):
                    found.append((rel, scope, name))
            visit(child, scope)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def test_retention_is_the_only_code_that_deletes_from_the_lake() -> None:
    files = [p for d in SCANNED for p in sorted((PROJECT_ROOT / d).rglob("*.py"))]
    assert len(files) > 40  # the scan really reads the source tree
    found = [
        call for p in files for call in _lake_deletes(p, p.relative_to(PROJECT_ROOT).as_posix())
    ]
    assert sorted(found) == sorted(ALLOWED), (
        "a new way to delete lake objects: route it through serasan.admin.retention (audited)"
    )


def test_the_scan_would_catch_a_stray_delete(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text(
        "def tidy(ctx, store, t):\n    ctx.lake.delete('raw/x')\n"
        "    store.delete('raw/y')\n    store.client.remove_object(bucket_name='b')\n"
        "    conn.execute(t.delete().where(t.c.id == 1))\n"
    )
    assert _lake_deletes(stray, "serasan/stray.py") == [
        ("serasan/stray.py", "tidy", "delete")
    ] * 2 + [("serasan/stray.py", "tidy", "remove_object")]


# ------------------------------------------------------------------------ the DAG


def test_retention_dag_parses_and_runs_through_airflow(
    catalog: Catalog, local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serasan.operators.runner import Runner

    runner = Runner(Path(os.environ["AIRFLOW_HOME"]))
    dag = runner.bag.get_dag("serasan__retention")
    assert dag is not None and {"serasan", "retention", "pii"} <= set(dag.tags)
    assert dag.catchup is False and dag.max_active_runs == 1
    assert [t.task_id for t in dag.tasks] == ["retention"]
    assert all(t.owner == "serasan-engineers" for t in dag.tasks)

    engine = make_engine(local_settings.warehouse_url)
    upgrade(engine, catalog)
    lake = open_lake(local_settings)
    objs = _upload(lake, BANSOS, "01", OLD)
    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    target_dir = Path(local_settings.lake_url).parent / "backup-target"
    monkeypatch.setenv(backup.TARGET_ENV, str(target_dir))  # the DAG finds it as backups do
    target = open_lake(target_settings(local_settings))
    backup_lake(lake, target, day="2026-10-31")
    logical = dt.datetime.combine(AS_OF, dt.time(), tzinfo=ZoneInfo("Asia/Jakarta"))
    res = runner.run("serasan__retention", logical)
    assert res["state"] == "success", res
    result = res["tasks"]["retention"]["result"]
    assert result["deleted"] == 2 * len(objs) and result["backups"]["target"] is not None
    rows = _audit(engine)
    assert {r["object_key"] for r in rows} == set(objs) | {target.location(k) for k in objs}
    assert {r["actor"] for r in rows} == {"retention-dag"}
    assert _lake_state(lake) == _lake_state(target) == {}
    engine.dispose()


# ------------------------------------------------------------------------ backups


def test_backup_keep_days_comes_from_the_environment_and_is_at_least_a_week() -> None:
    assert backup_keep_days({}) == 35 and backup_keep_days({KEEP_ENV: ""}) == 35
    assert backup_keep_days({KEEP_ENV: " 90 "}) == 90 and backup_keep_days({KEEP_ENV: "7"}) == 7
    with pytest.raises(
        RetentionConfigError,
        match=r"SERASAN_BACKUP_KEEP_DAYS=6 is refused: dumps "
        r"are kept at least 7 days",
    ):
        backup_keep_days({KEEP_ENV: "6"})
    with pytest.raises(
        RetentionConfigError,
        match="SERASAN_BACKUP_KEEP_DAYS='2 minggu' is not a whole number of days",
    ):
        backup_keep_days({KEEP_ENV: "2 minggu"})
    refused = backups_from_env(
        LocalLakeStub(), Settings(lake_url="x", warehouse_url="sqlite://"), {KEEP_ENV: "0"}
    )
    assert refused.keep_days is None and refused.target is None
    assert refused.errors == (
        "SERASAN_BACKUP_KEEP_DAYS=0 is refused: dumps are kept at least 7 "
        "days, so that a week of broken backups can still be restored from "
        "an older one; set it to 7 or more, or leave it unset for 35; no "
        "warehouse dump was deleted",
    )


class LocalLakeStub:
    """A lake that is never touched (no backup target is configured)."""

    def location(self, key: str) -> str:
        return f"/nowhere/{key}"


def _target_url(settings: Settings, tmp_path: Path) -> str:
    """A second bucket on the same S3 endpoint, or a folder beside the folder lake."""
    if settings.lake_url.startswith("s3://"):
        return f"s3://backup-{uuid.uuid4().hex[:10]}"
    return str(tmp_path / "backup-target")


def _dumps(store: Lake) -> dict[str, bytes]:
    return {k: store.get(k) for k in store.list("backups/warehouse/")}


def _days(store: Lake) -> list[str]:
    """The days of the complete dumps, as `serasan backup list` shows them."""
    return [d["day"] for d in list_dumps(store)]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


DUMP_DAYS = [
    "2026-08-01",
    "2026-08-15",
    "2026-09-01",
    "2026-09-20",
    "2026-09-27",
    "2026-09-28",
    "2026-10-05",
    "2026-10-10",
    "2026-10-15",
    "2026-10-20",
    "2026-10-30",
    "2026-10-31",
    "2026-11-01",
]


def _dump_reason(day: str, where: str, complete: bool = True) -> str:
    limit = dt.date.fromisoformat(day) + dt.timedelta(days=35)
    return (
        (f"{COPY}: " if where == TARGET else "")
        + f"backup_keep_days=35 lewat: dump {day}, batas {limit}; 7 dump lengkap terbaru "
        "selalu disimpan"
        + ("" if complete else " (tanpa manifest yang terbaca: dump tidak lengkap)")
    )


def test_old_dumps_leave_the_lake_and_the_target_and_the_newest_seven_stay(
    settings: Settings, wh: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    lake = open_lake(settings)
    conf = target_settings(settings, {}, url=_target_url(settings, tmp_path))
    assert conf is not None
    target = open_lake(conf)
    for day in DUMP_DAYS:  # real dumps (pg_dump or SQLite's backup API), copied to the target
        run_backup(settings, target=conf, day=day)
    name = backup.DUMP_NAMES[make_url(settings.warehouse_url).get_backend_name()]
    for store in (lake, target):
        store.put(f"backups/warehouse/2026-06-01/{name}", b"half a dump")
        store.put("backups/warehouse/2026-06-01/manifest.json", b"{broken")
        store.put(f"backups/warehouse/2026-07-01/{name}", b"no manifest: a dump that died")
        store.put(f"backups/warehouse/2026-10-25/{name}", b"no manifest: a dump that died")
    lake.put("backups/warehouse/NOTES.txt", b"not a dump folder")
    before = {LAKE: _dumps(lake), TARGET: _dumps(target)}
    assert before[TARGET].keys() == before[LAKE].keys() - {"backups/warehouse/NOTES.txt"}
    assert len(before[LAKE]) == 2 * len(DUMP_DAYS) + 5
    lake_backups = {k: lake.get(k) for k in lake.list(backup.LAKE_PREFIX)}
    target_backups = {k: target.get(k) for k in target.list(backup.LAKE_PREFIX)}

    b = backups_from_env(lake, settings, {backup.TARGET_ENV: conf.lake_url})
    assert b.keep_days == 35 and b.errors == () and b.target is not None
    assert b.target.location("x") == target.location("x")
    address = {LAKE: lambda k: k, TARGET: target.location}

    def due(days: list[str]) -> set[tuple[str, str]]:
        return {(w, k) for w in (LAKE, TARGET) for k in before[w] if k.split("/")[2] in days}

    # as of AS_OF: older than 35 days (day + 35 <= AS_OF), so 09-27 goes and 09-28 stays; the
    # incomplete 10-25 stays by its age, and counts for nothing among the newest seven
    want = due(
        [
            "2026-06-01",
            "2026-07-01",
            "2026-08-01",
            "2026-08-15",
            "2026-09-01",
            "2026-09-20",
            "2026-09-27",
        ]
    )
    dry = run_retention(lake, wh, catalog, AS_OF, "walidata", dry_run=True, backups=b)
    assert {(o["where"], o["key"]) for o in dry["objects"]} == want
    assert {o["status"] for o in dry["objects"]} == {"would_delete"}
    assert dry["backups"]["dumps_kept"] == {LAKE: 9, TARGET: 9} and dry["failed"] == 0  # 10-25 too
    assert _dumps(lake) == before[LAKE] and _dumps(target) == before[TARGET]
    assert _audit(wh) == []

    # killed after recording the target's first folder, before deleting it
    first = f"backups/warehouse/2026-06-01/{name}"
    with pytest.raises(Killed):
        run_retention(
            lake,
            wh,
            catalog,
            AS_OF,
            "walidata",
            backups=Backups(35, FlakyLake(target, first, Killed())),
        )
    killed = _audit(wh)
    assert {r["object_key"] for r in killed} == {k for w, k in want if w == LAKE} | {
        target.location(first),
        target.location("backups/warehouse/2026-06-01/manifest.json"),
    }
    assert len(killed) == sum(w == LAKE for w, _ in want) + 2 and target.exists(first)

    result = run_retention(lake, wh, catalog, AS_OF, "walidata", backups=b)
    assert result["failed"] == 0 and result["errors"] == []
    assert result["deleted"] == sum(w == TARGET for w, _ in want)  # the lake's went before
    assert _dumps(lake) == {k: v for k, v in before[LAKE].items() if (LAKE, k) not in want}
    assert _dumps(target) == {k: v for k, v in before[TARGET].items() if (TARGET, k) not in want}
    kept = [
        "2026-09-28",
        "2026-10-05",
        "2026-10-10",
        "2026-10-15",
        "2026-10-20",
        "2026-10-30",
        "2026-10-31",
        "2026-11-01",
    ]
    assert _days(lake) == _days(target) == kept
    assert {k: lake.get(k) for k in lake.list(backup.LAKE_PREFIX)} == lake_backups
    assert {k: target.get(k) for k in target.list(backup.LAKE_PREFIX)} == target_backups
    assert lake.exists("backups/warehouse/NOTES.txt")
    assert "backups/warehouse/NOTES.txt" in {s["key"] for s in result["skipped"]}

    rows = _audit(wh)
    assert rows[: len(killed)] == killed  # the killed run's rows were used, not written again
    by_key = {r["object_key"]: r for r in rows}
    assert len(rows) == len(by_key) == len(want)  # one row per deletion
    for w, key in want:
        r = by_key[address[w](key)]
        day, file = key.split("/")[2:]
        folder = f"backups/warehouse/{day}/"
        manifest = before[w].get(folder + "manifest.json")
        complete = day not in ("2026-06-01", "2026-07-01")
        assert (r["kind"], r["dataset_id"], r["policy_days"], r["actor"]) == (
            "backup",
            DUMPS,
            35,
            "walidata",
        )
        assert r["reason"] == _dump_reason(day, w, complete)
        assert r["size_bytes"] == len(before[w][key])
        if file == "manifest.json":
            assert r["sha256"] == _sha256(manifest)
            assert r["id"] > by_key[address[w](folder + name)]["id"]  # the manifest goes last
        else:
            assert r["sha256"] == (_sha256(before[w][key]) if complete else None)
        assert r["received_at"] == (json.loads(manifest)["finished_at"] if complete else day)

    again = run_retention(lake, wh, catalog, AS_OF, "walidata", backups=b)
    assert (again["objects"], again["failed"]) == ([], 0) and _audit(wh) == rows

    # months later every dump is old: the newest seven complete ones still stay, in both places
    later = dt.date(2027, 3, 1)
    then = due(["2026-09-28", "2026-10-25"])
    dry = run_retention(lake, wh, catalog, later, "walidata", dry_run=True, backups=b)
    assert {(o["where"], o["key"]) for o in dry["objects"]} == then
    assert run_retention(lake, wh, catalog, later, "walidata", backups=b)["deleted"] == len(then)
    assert _days(lake) == _days(target) == kept[1:]
    assert run_retention(lake, wh, catalog, later, "walidata", backups=b)["objects"] == []
    assert len(_audit(wh)) == len(want) + len(then)


def test_personal_data_leaves_the_backup_target_with_the_lake(
    settings: Settings, wh: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    lake = open_lake(settings)
    up = _scenario(lake, wh)
    want = _expected(up)
    conf = target_settings(settings, {}, url=_target_url(settings, tmp_path))
    target = open_lake(conf)
    backup_lake(lake, target, day="2026-10-31")
    orphan = f"raw/{BANSOS}/{'f' * 64}/hilang.csv"  # the lake lost it; the backup is all there is
    target.put(orphan, b"periode,nik\n2020-01-01,1603000000000001\n")
    before, before_target = _lake_state(lake), _lake_state(target)
    assert set(want) < set(before_target)
    b = backups_from_env(lake, settings, {backup.TARGET_ENV: conf.lake_url})

    dry = run_retention(lake, wh, catalog, AS_OF, "walidata", dry_run=True, backups=b)
    assert _lake_state(lake) == before and _lake_state(target) == before_target
    assert _audit(wh) == []
    assert {(o["where"], o["key"]) for o in dry["objects"]} == (
        {(LAKE, k) for k in want} | {(TARGET, k) for k in want}
    )
    for o in dry["objects"]:
        kind, days, reason = want[o["key"]]
        assert (o["kind"], o["policy_days"], o["status"]) == (kind, days, "would_delete")
        assert o["reason"] == (
            reason if o["where"] == LAKE else f"{COPY}: aslinya dihapus dari lake; {reason}"
        )

    result = run_retention(lake, wh, catalog, AS_OF, "walidata", backups=b)
    assert (result["deleted"], result["failed"]) == (2 * len(want), 0)
    assert _lake_state(lake) == {k: v for k, v in before.items() if k not in want}
    assert _lake_state(target) == {k: v for k, v in before_target.items() if k not in want}
    assert target.exists(orphan) and target.exists(next(iter(up["public"])))
    skipped = {(s["where"], s["key"]) for s in result["skipped"]}
    assert (TARGET, orphan) in skipped and (LAKE, f"raw/{BANSOS}/README.txt") in skipped
    assert all(w == LAKE for w, _ in skipped - {(TARGET, orphan)})  # the rest is in the lake

    rows = _audit(wh)
    assert len(rows) == 2 * len(want)
    lake_rows = {r["object_key"]: r for r in rows if r["object_key"] in want}
    copy_rows = {r["object_key"]: r for r in rows if r["object_key"] not in want}
    assert set(lake_rows) == set(want)
    assert set(copy_rows) == {target.location(k) for k in want}
    for key, (kind, days, reason) in want.items():
        original, copy = lake_rows[key], copy_rows[target.location(key)]
        assert copy["id"] > original["id"]  # the copy goes after its original
        assert (
            copy["reason"] == f"{COPY}: aslinya dihapus dari lake (audit #{original['id']}); "
            f"{reason}"
        )
        assert (copy["kind"], copy["policy_days"], copy["dataset_id"], copy["actor"]) == (
            kind,
            days,
            BANSOS,
            "walidata",
        )
        assert (copy["received_at"], copy["sha256"]) == (
            original["received_at"],
            original["sha256"],
        )
        assert copy["size_bytes"] == len(before_target[key])

    again = run_retention(lake, wh, catalog, AS_OF, "walidata", backups=b)
    assert (again["objects"], again["deleted"], again["failed"]) == ([], 0, 0)
    assert _audit(wh) == rows
    assert run_retention(lake, wh, catalog, AS_OF, "x", dry_run=True, backups=b)["objects"] == []

    # the backup copies only what the lake holds: nothing retention deleted comes back
    res = backup_lake(lake, target, day="2026-11-01")
    assert set(res["copied"]) & set(want) == set() and res["stale"] == [orphan]
    assert _lake_state(target) == {k: v for k, v in before_target.items() if k not in want}
    manifest = json.loads(target.get("backups/lake/2026-11-01/manifest.json"))
    assert set(manifest["objects"]) & set(want) == set()


class DownLake:
    """A backup target that answered when opened, and then went away."""

    def __init__(self, lake: Lake):
        self._lake = lake

    def location(self, key: str) -> str:
        return self._lake.location(key)

    def __getattr__(self, name: str):  # noqa: ANN204
        def down(*args: object, **kwargs: object) -> None:
            raise ConnectionError(f"{self._lake.location('')}: connection refused")

        return down


def test_a_copy_the_target_kept_goes_later_and_failures_there_are_retried(
    settings: Settings, wh: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    lake = open_lake(settings)
    objs = _upload(lake, BANSOS, "01", OLD)
    conf = target_settings(settings, {}, url=_target_url(settings, tmp_path))
    target = open_lake(conf)
    backup_lake(lake, target, day="2026-10-31")
    raw_file = f"raw/{BANSOS}/{_sha(objs)}/bansos-01.csv"

    down = run_retention(
        lake, wh, catalog, AS_OF, "retention-dag", backups=Backups(35, DownLake(target))
    )
    assert (down["deleted"], down["failed"]) == (len(objs), 1)  # the lake's part is done
    assert down["errors"] == [
        f"backup target {target.location('')} (SERASAN_BACKUP_LAKE_URL) could not be used "
        f"(ConnectionError: {target.location('')}: connection refused): nothing was deleted "
        "there in this run; its old dumps and its copies of what retention deleted from the "
        "lake go on the next run that reaches it"
    ]
    assert _lake_state(lake) == {} and _lake_state(target) == objs
    assert len(_audit(wh)) == len(objs)

    flaky = run_retention(
        lake,
        wh,
        catalog,
        AS_OF,
        "retention-dag",
        backups=Backups(35, FlakyLake(target, raw_file, LakeError("SlowDown"))),
    )
    assert (flaky["deleted"], flaky["failed"]) == (len(objs) - 1, 1) and flaky["errors"] == []
    assert set(target.list("raw/")) | set(target.list("quarantine/")) == {raw_file}
    rows = _audit(wh)
    failed = [r for r in rows if FAILED in r["reason"]]
    assert [r["object_key"] for r in failed] == [target.location(raw_file)]
    assert f"{FAILED}: LakeError: SlowDown" in failed[0]["reason"]

    with pytest.raises(Killed):  # recorded again (the failed row stays failed), then killed
        run_retention(
            lake,
            wh,
            catalog,
            AS_OF,
            "retention-dag",
            backups=Backups(35, FlakyLake(target, raw_file, Killed())),
        )
    recorded = _audit(wh)
    assert len(recorded) == len(rows) + 1 and target.exists(raw_file)

    done = run_retention(lake, wh, catalog, AS_OF, "retention-dag", backups=Backups(35, target))
    assert (done["deleted"], done["failed"]) == (1, 0)
    assert done["objects"][0]["audit_id"] == recorded[-1]["id"]  # no third row for it
    assert _lake_state(target) == {} and _audit(wh) == recorded
    assert len([r for r in recorded if r["object_key"] == target.location(raw_file)]) == 2
    assert (
        run_retention(lake, wh, catalog, AS_OF, "retention-dag", backups=Backups(35, target))[
            "objects"
        ]
        == []
    )


def test_cli_prunes_backups_refuses_a_short_keep_and_survives_an_unreachable_target(
    local_settings: Settings,
    catalog: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.support.services import free_port

    engine = make_engine(local_settings.warehouse_url)
    upgrade(engine, catalog)
    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    target_dir = tmp_path / "backup-target"
    monkeypatch.setenv(backup.TARGET_ENV, str(target_dir))
    lake, target = open_lake(local_settings), open_lake(target_settings(local_settings))
    first = _upload(lake, BANSOS, "01", OLD)
    days = [f"2026-09-{d:02d}" for d in range(1, 9)]  # eight dumps, all over 35 days old
    for day in days:
        run_backup(local_settings, target=target_settings(local_settings), day=day)
    dumps = {"lake": _dumps(lake), "target": _dumps(target)}
    assert len(dumps["lake"]) == len(dumps["target"]) == 16

    monkeypatch.setenv(KEEP_ENV, "6")
    assert main(["retention", "--as-of", AS_OF.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "ERROR: SERASAN_BACKUP_KEEP_DAYS=6 is refused: dumps are kept at least 7 days" in out
    assert "no warehouse dump was deleted" in out
    assert _lake_state(lake) == _lake_state(target) == {}  # personal data went all the same
    assert _dumps(lake) == dumps["lake"] and _dumps(target) == dumps["target"]

    monkeypatch.setenv(KEEP_ENV, "a month")
    assert main(["retention", "--as-of", AS_OF.isoformat(), "--dry-run", "--json"]) == 1
    assert "is not a whole number of days" in json.loads(capsys.readouterr().out)["errors"][0]

    monkeypatch.delenv(KEEP_ENV)
    assert main(["retention", "--as-of", AS_OF.isoformat(), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        "4 object(s) would be deleted" in out
        and "7 kept in the lake, 7 in the backup target" in out
    )
    assert f"would_delete: backups/warehouse/{days[0]}/manifest.json in the backup target" in out
    assert main(["retention", "--as-of", AS_OF.isoformat(), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {(o["where"], o["key"]) for o in result["objects"]} == {
        (w, k) for w in (LAKE, TARGET) for k in dumps["lake"] if days[0] in k
    }
    assert _days(lake) == _days(target) == days[1:]

    # the target is unreachable on the day the lake's copy goes; the next run deletes the copy
    second = _upload(lake, BANSOS, "02", OLD)
    backup_lake(lake, target, day="2026-10-31")
    port = free_port()
    monkeypatch.setenv(backup.TARGET_ENV, "s3://backup-down")
    monkeypatch.setenv("SERASAN_BACKUP_S3_ENDPOINT", f"127.0.0.1:{port}")
    assert main(["retention", "--as-of", AS_OF.isoformat()]) == 1
    out = capsys.readouterr().out
    assert (
        "ERROR: backup target s3://backup-down (SERASAN_BACKUP_LAKE_URL) could not be used" in out
        and "go on the next run that reaches it" in out
    )
    assert "4 object(s) deleted" in out and _lake_state(lake) == {}
    assert _lake_state(target) == second

    monkeypatch.setenv(backup.TARGET_ENV, str(target_dir))
    monkeypatch.delenv("SERASAN_BACKUP_S3_ENDPOINT")
    assert main(["retention", "--as-of", AS_OF.isoformat(), "--json"]) == 0
    later = json.loads(capsys.readouterr().out)
    assert {(o["where"], o["key"]) for o in later["objects"]} == {(TARGET, k) for k in second}
    assert _lake_state(target) == {}
    rows = _audit(engine)
    lake_ids = {r["object_key"]: r["id"] for r in rows if r["object_key"] in second}
    for key in second:
        [copy] = [r for r in rows if r["object_key"] == target.location(key)]
        assert copy["reason"].startswith(
            f"{COPY}: aslinya dihapus dari lake (audit #{lake_ids[key]}); "
        )
    assert len(rows) == 2 * len(first) + 2 * 2 + 2 * len(second)
    engine.dispose()
