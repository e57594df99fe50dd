"""Retention on both backends (folder + SQLite, S3 + PostgreSQL): exactly the objects past their
policy leave the lake, each with one audit row; again, or dry, nothing changes; a failed or an
interrupted delete is never lost from the audit. And no other code deletes from the lake.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select

from serasan.catalog import Catalog
from serasan.cli import main
from serasan.lake import Lake, LakeError, open_lake
from serasan.operations import OperationError, reprocess
from serasan.paths import PROJECT_ROOT
from serasan.retention import FAILED, manifest_key, run_retention
from serasan.settings import Settings
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


def _upload(lake: Lake, ds: str, tag: str, received_at: str | None, manifest: str = "ok",
            quarantine: bool = True) -> dict[str, bytes]:
    """One upload as the pipeline leaves it: raw file, manifest, and its rejected rows."""
    data = f"periode,nik,nama_penerima\n2020-01-01,16030{tag},Nama {tag}\n".encode()
    sha = hashlib.sha256(data).hexdigest()
    objs = {f"raw/{ds}/{sha}/bansos-{tag}.csv": data}
    if manifest == "ok":
        objs[manifest_key(ds, sha)] = json.dumps({"dataset": ds, "sha256": sha,
                                                  "received_at": received_at}).encode()
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
        conn.execute(insert(ev).values(dataset_id=ds, sha256=sha, raw_key=f"raw/{ds}/{sha}/x",
                                       run_id="r0", action="ingested", logical_date=day))


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
    for name, kinds in (("old", ("raw", "quarantine")), ("half", ("quarantine",)),
                        ("edge", ("quarantine",)), ("no_manifest", ("raw", "quarantine"))):
        received = {"old": "2020-01-01", "half": "2026-01-10", "edge": "2026-05-05",
                    "no_manifest": "2020-02-01"}[name]
        for kind in kinds:
            days = 1825 if kind == "raw" else 180
            due = dt.date.fromisoformat(received) + dt.timedelta(days=days)
            reason = (f"{kind}_days={days} lewat: diterima {received}, batas {due}"
                      + (note if name == "no_manifest" else ""))
            want |= {k: (kind, days, reason) for k in _keys(up[name], kind)}
    return want


def test_exactly_the_due_objects_go_each_with_one_audit_row(settings: Settings, wh: Engine,
                                                            catalog: Catalog) -> None:
    lake = open_lake(settings)
    up = _scenario(lake, wh)
    want = _expected(up)
    assert want[next(iter(_keys(up["old"], "raw")))][2] == (
        "raw_days=1825 lewat: diterima 2020-01-01, batas 2024-12-30")
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
        "2020-02-01"}
    # the manifest goes last, so an interrupted run can still date what is left
    old_ids = [r["object_key"] for r in rows if r["kind"] == "raw"
               and r["sha256"] == _sha(up["old"])]
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


def test_a_failed_delete_is_marked_and_tried_again(settings: Settings, wh: Engine,
                                                   catalog: Catalog) -> None:
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
    assert f"{FAILED}: tidak dicoba karena {raw_file}" in reasons[
        manifest_key(BANSOS, _sha(up["old"]))]
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


def test_an_interrupted_run_is_completed_without_recording_twice(settings: Settings, wh: Engine,
                                                                 catalog: Catalog) -> None:
    lake = open_lake(settings)
    objs = _upload(lake, BANSOS, "01", OLD, quarantine=False)
    raw_file = f"raw/{BANSOS}/{_sha(objs)}/bansos-01.csv"
    with pytest.raises(Killed):
        run_retention(FlakyLake(lake, raw_file, Killed()), wh, catalog, AS_OF, "retention-dag")
    first = _audit(wh)
    assert len(first) == 2 and set(lake.list("raw/")) == set(objs)  # recorded, not yet deleted

    done = run_retention(lake, wh, catalog, AS_OF, "retention-dag")
    assert done["deleted"] == 2 and {o["audit_id"] for o in done["objects"]} == {
        r["id"] for r in first}
    assert lake.list("raw/") == [] and _audit(wh) == first

    # the same file sent again later starts a new clock, and its deletion a new record
    again = _upload(lake, BANSOS, "01", "2020-03-01T00:00:00+00:00", quarantine=False)
    assert set(again) == set(objs)
    assert run_retention(lake, wh, catalog, AS_OF, "retention-dag")["deleted"] == 2
    rows = _audit(wh)
    assert len(rows) == 4 and {r["received_at"] for r in rows[2:]} == {
        "2020-03-01T00:00:00+00:00"}


@pytest.fixture
def env_settings(settings: Settings, wh: Engine, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return settings


def test_cli_dry_run_json_actor_and_exit_codes(env_settings: Settings, wh: Engine,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    lake = open_lake(env_settings)
    up = _scenario(lake, wh)
    want = _expected(up)
    before = _lake_state(lake)

    assert main(["retention", "--as-of", AS_OF.isoformat(), "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and {o["key"] for o in dry["objects"]} == set(want)
    assert _lake_state(lake) == before and _audit(wh) == []

    assert main(["retention", "--as-of", AS_OF.isoformat(), "--actor", "walidata",
                 "--json"]) == 0
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
        settings: Settings, wh: Engine, catalog: Catalog) -> None:
    """Lineage survives (meta.load_run keeps raw_key); reprocessing names the missing object."""
    from serasan.generate import generate_dataset
    from serasan.pipeline import RunContext, inbox_prefix, run_dataset

    ctx = RunContext(settings=settings, catalog=catalog, run_date=AS_OF, dag_id="t",
                     run_id="r1", _engine=wh)
    ds = catalog.dataset(BANSOS)
    gen = generate_dataset(ds, catalog, rows=30, defect_rate=0.1, seed=3)
    ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
    [summary] = run_dataset(ctx, ds)
    assert summary["status"] == "quarantined" and summary["quarantine_key"]
    received = json.loads(ctx.lake.get(manifest_key(BANSOS, summary["sha256"])))["received_at"]
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
    assert [r["raw_key"] for r in runs] == [f"raw/{BANSOS}/{summary['sha256']}/{gen.filename}"]
    with pytest.raises((LakeError, OperationError), match=summary["sha256"]):
        reprocess(ctx, BANSOS, summary["periods"][0][:7], "walidata", "aturan baru")
    with wh.connect() as conn:
        assert [dict(r) for r in conn.execute(select(lr)).mappings()] == runs
        assert conn.execute(select(op)).all() == []


# ------------------------------------------------------------------------ the only deleter

SCANNED = ("serasan", "operators", "dags", "warehouse")
S3_DELETES = {"remove_object", "remove_objects", "delete_object", "delete_objects"}
FS_DELETES = {"unlink", "rmdir", "rmtree", "remove"}
ALLOWED = {
    ("serasan/lake.py", "LocalLake.delete", "unlink"),  # the port's own implementations
    ("serasan/lake.py", "S3Lake.delete", "remove_object"),
    ("serasan/pipeline.py", "extract", "delete"),  # the inbox move: the bytes are in raw/
    ("serasan/retention.py", "_try_delete", "delete"),
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
                if ((name == "delete" and (child.args or child.keywords or "lake" in receiver))
                        or name in S3_DELETES
                        or (name in FS_DELETES and rel == "serasan/lake.py")):
                    found.append((rel, scope, name))
            visit(child, scope)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def test_retention_is_the_only_code_that_deletes_from_the_lake() -> None:
    files = [p for d in SCANNED for p in sorted((PROJECT_ROOT / d).rglob("*.py"))]
    assert len(files) > 40  # the scan really reads the source tree
    found = [call for p in files
             for call in _lake_deletes(p, p.relative_to(PROJECT_ROOT).as_posix())]
    assert sorted(found) == sorted(ALLOWED), "a new way to delete lake objects: route it " \
                                             "through serasan.retention (audited)"


def test_the_scan_would_catch_a_stray_delete(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text("def tidy(ctx, store, t):\n    ctx.lake.delete('raw/x')\n"
                     "    store.delete('raw/y')\n    store.client.remove_object(bucket_name='b')\n"
                     "    conn.execute(t.delete().where(t.c.id == 1))\n")
    assert _lake_deletes(stray, "serasan/stray.py") == [
        ("serasan/stray.py", "tidy", "delete")] * 2 + [
        ("serasan/stray.py", "tidy", "remove_object")]


# ------------------------------------------------------------------------ the DAG


def test_retention_dag_parses_and_runs_through_airflow(catalog: Catalog, local_settings: Settings,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from serasan.operators.runner import Runner

    runner = Runner(Path(os.environ["AIRFLOW_HOME"]))
    dag = runner.bag.get_dag("serasan__retention")
    assert dag is not None and {"serasan", "retention", "pii"} <= set(dag.tags)
    assert dag.catchup is False and dag.max_active_runs == 1
    assert [t.task_id for t in dag.tasks] == ["retention"]
    assert all(t.owner == "serasan-engineers" for t in dag.tasks)

    engine = make_engine(local_settings.warehouse_url)
    upgrade(engine, catalog)
    objs = _upload(open_lake(local_settings), BANSOS, "01", OLD)
    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    logical = dt.datetime.combine(AS_OF, dt.time(), tzinfo=ZoneInfo("Asia/Jakarta"))
    res = runner.run("serasan__retention", logical)
    assert res["state"] == "success", res
    assert res["tasks"]["retention"]["result"]["deleted"] == len(objs)
    rows = _audit(engine)
    assert {r["object_key"] for r in rows} == set(objs)
    assert {r["actor"] for r in rows} == {"retention-dag"}
    engine.dispose()
