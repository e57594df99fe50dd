"""Every DAG action has a command that runs it through the same functions, without Airflow
settings typed by hand; `--help` and docs/operating.md show each with an example.

(`serasan export` against the export DAG's tasks: tests/integration/test_exports.py.)
"""

from __future__ import annotations

import argparse
import json

import pytest
from sqlalchemy import func, select

from serasan.cli.main import build_parser, main
from serasan.common.paths import PROJECT_ROOT
from serasan.config.settings import Settings
from serasan.warehouse.db import make_engine
from serasan.warehouse.tables import table

# DAG task -> the command that runs the same function
ACTIONS = {
    "serasan__<regency>__kpi: compute": "kpi compute",
    "serasan__<regency>__export: export, publish": "export",
    "serasan__<regency>__report: report": "report",
    "serasan__retention: retention": "retention",
    "serasan__backup: backup": "backup",
    "serasan__alerts: dag_files, freshness, digest, drain, watch_outbox": "alerts run",
    "serasan__<dataset>: extract, parse, validate, load, notify": "ingest",
}


def _subparser(words: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for word in words.split():
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[word]
    return parser


@pytest.mark.parametrize("words", sorted(set(ACTIONS.values())))
def test_each_dag_action_has_a_command_with_an_example(words: str) -> None:
    help_text = _subparser(words).format_help()
    assert "examples:" in help_text and f"serasan {words}" in help_text


def test_operating_guide_maps_every_dag_action_to_its_command() -> None:
    text = (PROJECT_ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    section = text.split("## Commands for what the DAGs do", 1)[1].split("\n## ", 1)[0]
    for words in set(ACTIONS.values()):
        assert f"`serasan {words}" in section, words
    for action in ACTIONS:  # the table's rows name each DAG and its tasks as ACTIONS does
        dag, _, tasks = action.partition(": ")
        assert f"| `{dag}`: {tasks} |" in section, action


def test_alerts_run_does_what_the_alerts_dag_does(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k, v in local_settings.as_env().items():
        monkeypatch.setenv(k, v)
    assert main(["alerts", "run", "--date", "2026-11-01", "--json"]) == 0
    first = json.loads(_json(capsys))
    assert first["dag_files_broken"] == []
    # nothing was loaded: every OPD with datasets is late, and each gets its digest
    assert first["reminders"] and len(first["digests"]) == len(first["reminders"])
    assert first["outbox"]["stuck"] == 0
    engine = make_engine(local_settings.warehouse_url)
    alerts = table("meta", "alert", engine.dialect.name)

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(alerts)).scalar_one())

    before = count()
    assert main(["alerts", "run", "--date", "2026-11-01"]) == 0  # the same day: nothing new
    assert count() == before
    engine.dispose()


def _json(capsys: pytest.CaptureFixture[str]) -> str:
    """The JSON document printed last (log lines may come before it)."""
    out = capsys.readouterr().out
    return out[out.index("{\n") :]


def test_onboard_and_export_are_top_level_commands() -> None:
    top = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert {"onboard", "export"} <= set(top.choices)
