"""`serasan retract` and `serasan reprocess` as an operator runs them, on both backends.

The operations themselves are tested in test_operations.py; here the commands must reach them
with the environment's settings, record who and why, print what changed, and exit 0 (done),
1 (refused: later loads first) or 2 (unknown load, dataset or period) without changing anything
when they do not run.
"""

from __future__ import annotations

import json

import pytest

from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from tests.integration.test_operations import (
    FEB,
    JAN_V1,
    JAN_V2,
    REPLACE,
    _ctx,
    _fact,
    _operations,
    _send,
    _timbulan,
)


@pytest.fixture
def env_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    return settings


def _two_loads(settings: Settings, catalog: Catalog) -> tuple:  # noqa: ANN001
    ctx = _ctx(settings, catalog)
    v1 = _send(
        ctx, REPLACE, _timbulan("2026-01-01", JAN_V1) + _timbulan("2026-02-01", FEB), "v1.csv"
    )
    after_v1 = _fact(ctx, REPLACE)
    v2 = _send(ctx, REPLACE, _timbulan("2026-01-01", JAN_V2), "v2.csv")
    assert (v1.status, v2.status) == ("loaded", "loaded")
    return ctx, v1, v2, after_v1


def test_retract_command_withdraws_the_newest_load_and_records_it(
    env_settings: Settings, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx, v1, v2, after_v1 = _two_loads(env_settings, catalog)
    after_v2 = _fact(ctx, REPLACE)

    # the older load is refused, naming the one to retract first; nothing changes
    assert main(["retract", v1.load_id, "--reason", "salah unggah"]) == 1
    assert v2.load_id in capsys.readouterr().err
    assert _fact(ctx, REPLACE) == after_v2 and _operations(ctx) == []

    assert main(["retract", v2.load_id, "--reason", "dikirim dua kali", "--actor", "walidata"]) == 0
    out = capsys.readouterr().out
    assert v2.load_id in out and "3 row(s) removed, 3 restored" in out
    assert _fact(ctx, REPLACE) == after_v1
    [op] = _operations(ctx)
    assert (op["kind"], op["load_id"], op["actor"], op["reason"]) == (
        "retract",
        v2.load_id,
        "walidata",
        "dikirim dua kali",
    )

    # again: already retracted; an unknown id: unknown; both change nothing
    assert main(["retract", v2.load_id, "--reason", "lagi"]) == 2
    assert "already retracted" in capsys.readouterr().err
    assert main(["retract", "no-such-load", "--reason", "x"]) == 2
    assert "unknown load" in capsys.readouterr().err
    assert len(_operations(ctx)) == 1 and _fact(ctx, REPLACE) == after_v1


def test_retract_requires_a_reason(
    env_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["retract", "some-load"])
    assert exc.value.code == 2 and "--reason" in capsys.readouterr().err


def test_reprocess_command_reloads_a_period_and_prints_json(
    env_settings: Settings, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx, v1, v2, _ = _two_loads(env_settings, catalog)
    before = _fact(ctx, REPLACE)
    assert (
        main(
            [
                "reprocess",
                "--dataset",
                REPLACE,
                "--period",
                "2026-01",
                "--reason",
                "parser diperbaiki",
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert [x["load_id"] for x in result["loads"]] == [v1.load_id, v2.load_id]
    assert result["undone_order"] == [v2.load_id, v1.load_id]
    assert _fact(ctx, REPLACE) == before  # same suite and parser: the same rows
    [op] = _operations(ctx)
    assert (op["kind"], op["period"], op["reason"]) == ("reprocess", "2026-01", "parser diperbaiki")
    assert op["actor"]  # the login name when --actor is not given

    assert main(["reprocess", "--dataset", REPLACE, "--period", "2025-12", "--reason", "x"]) == 2
    assert "no load" in capsys.readouterr().err
    assert (
        main(["reprocess", "--dataset", "no_such_dataset", "--period", "2026-01", "--reason", "x"])
        == 2
    )
    assert "unknown dataset" in capsys.readouterr().err
    assert len(_operations(ctx)) == 1
