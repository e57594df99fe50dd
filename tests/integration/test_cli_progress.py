"""Progress of `serasan backup` and `serasan reprocess` (issue 17), on both backends.

When standard error is not a terminal (a pipe, a cron mail, a CI log) each command writes a
plain progress line per step to standard error: the backup one per table dumped (with its rows)
and one per lake object, each phase with its own total; reprocess one per file parsed and
validated again, each with its own label ("berkas 1/2") and the parser's rows as it reads.
Standard output keeps the result alone, so `--json` stays parseable.
`LINE_EVERY_S` is set to 0 here so that every step writes its line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from serasan.admin import backup
from serasan.cli.main import main
from serasan.common import progress
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.store import open_lake
from serasan.warehouse.db import make_engine, upgrade
from tests.integration.test_operations import FEB, JAN_V1, JAN_V2, REPLACE, _ctx, _send, _timbulan

OBJECTS = ("raw/a/" + "a" * 64 + "/f.csv", "raw/b/" + "b" * 64 + "/g.csv", "inbox/x/h.csv")


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings in the environment, as the command reads them; one plain line per step."""
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(progress, "LINE_EVERY_S", 0)
    return settings


def _lines(err: str, label: str) -> list[str]:
    return [x for x in err.splitlines() if x.startswith(f"{label}: ")]


def _percent(line: str) -> int:
    found = re.search(r", (\d+)%", line)
    assert found, line
    return int(found.group(1))


def _steps(lines: list[str], total: int) -> None:
    """One line per step, each saying how far out of `total` (rounded), then a closing line."""
    assert len(lines) == total + 1, lines
    for step, line in enumerate(lines[:total], start=1):
        assert abs(_percent(line) - 100 * step / total) <= 1, (step, line)
    assert _percent(lines[-2]) == _percent(lines[-1]) == 100


def test_backup_writes_progress_to_stderr_and_json_alone_to_stdout(
    env: Settings,
    catalog: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = make_engine(env.warehouse_url)
    upgrade(engine, catalog)  # the seeded reference tables give the dump rows
    engine.dispose()
    lake = open_lake(env)
    for key in OBJECTS:
        lake.put(key, key.encode())
    monkeypatch.setenv(backup.TARGET_ENV, str(tmp_path / "backup-target"))
    capsys.readouterr()

    assert main(["backup", "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)  # standard output is the JSON and nothing else
    assert "baris" not in out

    # the warehouse: a line per table, the last with every row of the dump and 100 %
    tables, rows = summary["warehouse"]["tables"], summary["warehouse"]["rows"]
    assert tables > 10 and rows > 0
    dumped = _lines(err, backup.WAREHOUSE_PHASE)
    _steps(dumped, tables)
    assert dumped[-1].startswith(f"{backup.WAREHOUSE_PHASE}: {rows:,} baris, ")
    # the lake: a line per object copied (backups/ is not), out of every object of the lake
    objects = summary["lake"]["objects"]
    assert summary["lake"]["copied"] == objects == len(OBJECTS)
    copied = _lines(err, backup.LAKE_PHASE)
    _steps(copied, objects)
    assert copied[-1].startswith(f"{backup.LAKE_PHASE}: {objects:,} baris, ")
    assert "Traceback" not in err


def test_reprocess_writes_progress_per_file_to_stderr_and_json_alone_to_stdout(
    env: Settings, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _ctx(env, catalog)
    v1 = _send(
        ctx, REPLACE, _timbulan("2026-01-01", JAN_V1) + _timbulan("2026-02-01", FEB), "v1.csv"
    )
    v2 = _send(ctx, REPLACE, _timbulan("2026-01-01", JAN_V2), "v2.csv")
    ctx.engine.dispose()
    capsys.readouterr()

    args = ["reprocess", "--dataset", REPLACE, "--period", "2026-01", "--reason", "tes", "--json"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)  # standard output is the JSON and nothing else
    assert [x["load_id"] for x in result["loads"]] == [v1.load_id, v2.load_id]
    assert "baris" not in out

    # each file its own progress, in order, labelled with its place among them; its last line
    # says all its rows were read
    labels = [
        f"reprocess {REPLACE} 2026-01, berkas {i}/2 ({s.filename})" for i, s in ((1, v1), (2, v2))
    ]
    progress_lines = [x for x in err.splitlines() if x.startswith("reprocess ")]
    assert [x.split(": ", 1)[0] for x in progress_lines] == sorted(
        (x.split(": ", 1)[0] for x in progress_lines), key=labels.index
    )
    for label, s in zip(labels, (v1, v2), strict=True):
        lines = _lines(err, label)
        assert lines and lines[-1].startswith(f"{label}: {s.rows_in} baris, "), lines
    assert "Traceback" not in err
