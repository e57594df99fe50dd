"""Serasan's metrics agree with the warehouse and reach a real StatsD listener on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import socket

import pytest
from sqlalchemy import func, select

from serasan.admin import metrics
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.publish import exports
from serasan.runtime.context import RunContext
from tests.support.warehouse import RUN_DATE, deliver, warehouse_context


def _by(ms: list[metrics.Metric], name: str) -> dict[str, float]:
    return {m.labels.get("dataset", ""): m.value for m in ms if m.name == name}


def test_counts_reconcile_with_the_load_runs(regencies_loaded: RunContext) -> None:
    ctx = regencies_loaded
    ms = metrics.collect(ctx.engine, ctx.catalog, RUN_DATE)
    lr = ctx.t("meta", "load_run")
    with ctx.engine.connect() as conn:
        want = {
            r.dataset_id: r
            for r in conn.execute(
                select(
                    lr.c.dataset_id,
                    func.sum(lr.c.rows_in).label("i"),
                    func.sum(lr.c.rows_loaded).label("l"),
                    func.sum(lr.c.rows_rejected).label("r"),
                ).group_by(lr.c.dataset_id)
            )
        }
    assert set(_by(ms, "rows_loaded")) == set(ctx.catalog.datasets)
    for ds_id, r in want.items():
        assert (
            _by(ms, "rows_in")[ds_id]
            == r.i
            == _by(ms, "rows_loaded")[ds_id] + _by(ms, "rows_rejected")[ds_id]
        )
        assert _by(ms, "rows_loaded")[ds_id] == r.l > 0
    # every dataset was exported after it loaded
    assert set(_by(ms, "export_lag_days").values()) == {0.0}


def test_export_lag_counts_days_since_an_unexported_load(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = warehouse_context(settings, catalog)
    ds = catalog.dataset("muba_bank_sampah")
    [summary] = deliver(ctx, ds.id, rows=40, seed=3)
    assert summary.status == "loaded"
    later = RUN_DATE + dt.timedelta(days=9)
    lag = _by(metrics.collect(ctx.engine, catalog, later), "export_lag_days")
    assert lag[ds.id] == 9.0 and lag["muba_cctv_kita"] == 0.0  # never loaded: nothing waits
    exports.export_regency(
        dataclasses.replace(
            ctx, settings=dataclasses.replace(settings, pii_key="kunci-uji-metrik-77aa")
        ),
        "16.06",
    )
    assert _by(metrics.collect(ctx.engine, catalog, later), "export_lag_days")[ds.id] == 0.0


def test_statsd_gauges_arrive_over_udp(regencies_loaded: RunContext) -> None:
    ms = metrics.collect(regencies_loaded.engine, regencies_loaded.catalog, RUN_DATE)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        n = metrics.send_statsd(ms, "127.0.0.1", server.getsockname()[1])
        received = [server.recv(65535).decode() for _ in range(n)]
    assert all(len(p.encode()) <= 1400 for p in received)
    lines = [line for p in received for line in p.split("\n")]
    assert lines == metrics.statsd_lines(ms)
    pattern = re.compile(r"^serasan\.[a-z_]+:[0-9.e+]+\|g(\|#([a-z_]+:[A-Za-z0-9_.\-/]+,?)+)?$")
    assert all(pattern.match(line) for line in lines), lines[:3]
    loaded = _by(ms, "rows_loaded")
    some = next(iter(sorted(loaded)))
    assert any(
        line.startswith(f"serasan.rows_loaded:{loaded[some]:g}|g|#dataset:{some},")
        for line in lines
    )


def test_prometheus_text_format(regencies_loaded: RunContext) -> None:
    ms = metrics.collect(regencies_loaded.engine, regencies_loaded.catalog, RUN_DATE)
    text = metrics.prometheus(ms)
    assert text.count("# TYPE serasan_rows_loaded gauge") == 1
    sample = re.compile(r'^serasan_[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? [0-9.e+-]+$')
    for line in text.splitlines():
        assert line.startswith("# ") or sample.match(line), line
    hostile = metrics.Metric("x", 1, {"dataset": 'a"b\\c\nd'})
    assert metrics.prometheus([hostile]).splitlines()[-1] == 'serasan_x{dataset="a\\"b\\\\c\\nd"} 1'


def test_publish_goes_to_the_configured_collector(regencies_loaded: RunContext) -> None:
    ctx = regencies_loaded
    assert metrics.publish(ctx.settings, ctx.engine, ctx.catalog, RUN_DATE) == 0  # unset
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        env = {
            **ctx.settings.as_env(),
            "SERASAN_STATSD_HOST": "127.0.0.1",
            "SERASAN_STATSD_PORT": str(server.getsockname()[1]),
        }
        settings = Settings.from_env(env)
        assert Settings.from_env(settings.as_env()) == settings
        n = metrics.publish(settings, ctx.engine, ctx.catalog, RUN_DATE)
        assert n > 0 and server.recv(65535).decode().startswith("serasan.")


def test_metrics_command(
    local_settings: Settings,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    from serasan.cli.main import main

    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    warehouse_context(local_settings, catalog)
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    assert "# TYPE serasan_rows_loaded gauge" in out
    assert 'serasan_rows_loaded{dataset="muba_bank_sampah",opd="dlh",regency="16.06"} 0' in out
    assert main(["metrics", "--send"]) == 2
    assert "SERASAN_STATSD_HOST" in capsys.readouterr().err
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        monkeypatch.setenv("SERASAN_STATSD_HOST", "127.0.0.1")
        monkeypatch.setenv("SERASAN_STATSD_PORT", str(server.getsockname()[1]))
        assert main(["metrics", "--send"]) == 0
        assert b"serasan.rows_loaded:0|g|#dataset:" in server.recv(65535)
