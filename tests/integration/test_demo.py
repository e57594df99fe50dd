"""`serasan demo` runs every DAG of both regencies and a second run changes no data table."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from serasan.common import dag_ids
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.run import run_demo
from serasan.lake.store import open_lake
from serasan.publish.evaluation import pack
from serasan.warehouse.db import make_engine


def _tables(settings: Settings) -> dict[str, str]:
    """Checksum of every table's content; object_event is an append-only log of runs."""
    engine = make_engine(settings.warehouse_url)
    out = {}
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            if name in ("meta__object_event",):
                continue
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{name}"')))  # noqa: S608
            out[name] = hashlib.sha256("".join(rows).encode()).hexdigest()
    engine.dispose()
    return out


@pytest.fixture
def demo_env(local_settings: Settings) -> Settings:
    saved = dict(os.environ)
    yield local_settings
    os.environ.clear()
    os.environ.update(saved)


def test_demo_twice_is_idempotent(
    demo_env: Settings, catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = Path(os.environ["AIRFLOW_HOME"])
    date = dt.date(2026, 11, 1)
    assert run_demo(catalog, demo_env, home, date, 0.03, tmp_path / "w1") == 0
    out = capsys.readouterr().out
    # a KPI, an export, a report and an evaluation DAG per regency, + serasan__alerts
    n_dags = len(catalog.datasets) + 4 * len(catalog.regencies) + 1
    assert f"[{n_dags}/{n_dags}]" in out
    # the evaluation pack of the demo's own year, partial as of its date, is built and named
    lake = open_lake(demo_env)
    for reg in catalog.regencies.values():
        assert f"{dag_ids.evaluation_dag_id(reg.slug)}" in out
        pdf = pack.prefix(reg, 2026) + pack.names(reg, 2026)["pdf"]
        assert lake.get(pdf).startswith(b"%PDF-")
        assert f"evaluation:     {lake.location(pdf)}" in out
    assert out.count("evaluation pack 2026, tahun belum lengkap: written") == len(catalog.regencies)
    for ds_id in catalog.datasets:
        assert ds_id in out.split("Summary")[1]
    for label in ("alerts written:", "KPI values:", "exports:", "rejected rows:"):
        assert label in out
    first = _tables(demo_env)

    assert run_demo(catalog, demo_env, home, date, 0.03, tmp_path / "w2") == 0
    out2 = capsys.readouterr().out
    assert out2.count("no new file (already processed)") == len(catalog.datasets)
    assert "0 periods exported" in out2
    assert out2.count("evaluation pack 2026, tahun belum lengkap: unchanged") == len(
        catalog.regencies
    )
    assert _tables(demo_env) == first

    engine = make_engine(demo_env.warehouse_url)
    with engine.connect() as conn:
        loads = conn.execute(
            select(text("status, rows_in, rows_loaded, rows_rejected")).select_from(
                text("meta__load_run")
            )
        ).all()
    engine.dispose()
    assert len(loads) == len(catalog.datasets)
    assert all(r.rows_in == r.rows_loaded + r.rows_rejected for r in loads)
