"""A CKAN outage through `serasan export`, as an operator meets it.

The export writes the Satu Data files to the lake, then publishes them to the portal. Before,
a portal on a closed port left the periods pending but the command said "published to
<portal>" and exited 0; a hung one held it for the whole retry schedule once per dataset, at
60 s a request. Now the command ends with one line naming the CKAN portal and its address
within SERASAN_CONNECT_TIMEOUT_S / SERASAN_S3_READ_TIMEOUT_S, waits out the retries once (not
once per dataset), and loses nothing: the export files stay in the lake, every period is
pending in meta.publication, and the next run, with the portal back, publishes them all.

The portal is `tests/support/fake_ckan.py` over real HTTP; the frozen one is a loopback proxy
in front of it (`tests/support/proxy.py`); `serasan` runs as a separate process.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.store import open_lake
from serasan.publish.ckan import package_slug
from serasan.warehouse.db import make_engine
from serasan.warehouse.tables import table
from tests.integration.test_cli_outages import _one_line_error, _serasan
from tests.support.fake_ckan import TOKEN, FakeCkan
from tests.support.proxy import proxy
from tests.support.warehouse import RUN_DATE, deliver, warehouse_context

DATASETS = ("muba_bank_sampah", "muba_pengunjung_taman_air")  # two datasets of Musi Banyuasin
EXPORT = (
    "export",
    "--regency",
    "musibanyuasin",
    "--date",
    RUN_DATE.isoformat(),
    *(a for ds in DATASETS for a in ("--dataset", ds)),
)


@dataclass
class Deployment:
    settings: Settings
    home: Path

    def env(self, ckan_url: str, **extra: str) -> dict[str, str]:
        return {
            "SERASAN_LAKE_URL": self.settings.lake_url,
            "SERASAN_WAREHOUSE_URL": self.settings.warehouse_url,
            "SERASAN_CKAN_URL": ckan_url,
            "SERASAN_CKAN_TOKEN": TOKEN,
            **extra,
        }

    def rows(self, name: str) -> list[dict[str, Any]]:
        engine = make_engine(self.settings.warehouse_url)
        try:
            t = table("meta", name, engine.dialect.name)
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(select(t))]
        finally:
            engine.dispose()

    def exported(self) -> dict[tuple[str, str], str]:
        """(dataset, period) -> sha256 of each exported CSV, read back from the lake."""
        lake = open_lake(self.settings)
        out = {}
        for run in self.rows("export_run"):
            name = f"{run['dataset_id']}_{run['period']}.csv"
            data = lake.get(run["lake_prefix"] + name)
            assert hashlib.sha256(data).hexdigest() == json.loads(run["files"])[name]
            out[(run["dataset_id"], run["period"])] = hashlib.sha256(data).hexdigest()
        return out


@pytest.fixture
def deployment(tmp_path: Path, catalog: Catalog) -> Deployment:
    """Two datasets of Musi Banyuasin loaded into a folder lake and a SQLite warehouse."""
    settings = Settings(
        lake_url=str(tmp_path / "lake"), warehouse_url=f"sqlite:///{tmp_path / 'w.db'}"
    )
    ctx = warehouse_context(settings, catalog)
    for ds_id in DATASETS:
        assert [s.status for s in deliver(ctx, ds_id, rows=40)] == ["loaded"]
    ctx.engine.dispose()
    return Deployment(settings, tmp_path)


@pytest.fixture
def ckan() -> Iterator[FakeCkan]:
    server = FakeCkan().start()
    yield server
    server.stop()


def _nothing_lost(dep: Deployment, portal: str, said: str) -> dict[tuple[str, str], str]:
    """Every exported period is in the lake and pending for `portal` in meta.publication, as
    many as the error line said; returns the exported files' checksums."""
    exported = dep.exported()
    assert {ds for ds, _ in exported} == set(DATASETS)
    pending = {
        (r["dataset_id"], r["period"]): r
        for r in dep.rows("publication")
        if r["portal"] == portal and r["status"] == "pending"
    }
    assert set(pending) == set(exported)
    assert all(r["sha256"] == exported[k] for k, r in pending.items())
    assert f": {len(pending)} period(s) left pending" in said
    # the first dataset waited out the retries (5 attempts); the other was not tried again
    tried = {
        ds: {
            (r["attempts"], r["last_error"].startswith("not attempted: the portal"))
            for k, r in pending.items()
            if k[0] == ds
        }
        for ds in DATASETS
    }
    assert sorted(map(sorted, tried.values())) == [[(0, True)], [(5, False)]], tried
    return exported


def _published(dep: Deployment, ckan: FakeCkan, exported: dict[tuple[str, str], str]) -> None:
    """The portal now holds every exported period's CSV, byte for byte."""
    for ds_id in DATASETS:
        pkg = ckan.package(package_slug(ds_id))
        assert pkg is not None, ds_id
        held = {r["periode"]: r for r in pkg["resources"]}
        periods = {p for d, p in exported if d == ds_id}
        assert set(held) == periods
        for period in periods:
            data = ckan.uploads[held[period]["id"]]
            assert hashlib.sha256(data).hexdigest() == exported[(ds_id, period)]
    assert {r["status"] for r in dep.rows("publication")} == {"published"}


def test_ckan_on_a_closed_port_is_one_line_and_loses_nothing(
    deployment: Deployment, ckan: FakeCkan
) -> None:
    portal = ckan.url
    ckan.down()  # connection refused on its port
    started = time.monotonic()
    run = _serasan(deployment.env(portal), deployment.home, *EXPORT)
    took = time.monotonic() - started
    _one_line_error(run, f"the CKAN portal at {portal} refused the connection")
    [line] = [x for x in run.stderr.splitlines() if x.startswith("error:")]
    assert "exports stay in the lake" in line and TOKEN not in run.stdout + run.stderr
    assert "published to" not in run.stdout  # it never claims what did not happen
    # five attempts of the first dataset (1 + 2 + 4 + 8 s between them), none of the second
    assert took < 60
    exported = _nothing_lost(deployment, portal, line)
    assert ckan.requests() == []

    ckan.up()  # back on the same port: the next run sends everything that waited
    again = _serasan(deployment.env(portal), deployment.home, *EXPORT)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    assert f"published to {portal}" in again.stdout
    _published(deployment, ckan, exported)


def test_a_frozen_ckan_fails_within_the_timeouts_and_loses_nothing(
    deployment: Deployment, ckan: FakeCkan
) -> None:
    limits = {"SERASAN_CONNECT_TIMEOUT_S": "1", "SERASAN_S3_READ_TIMEOUT_S": "2"}
    with proxy("127.0.0.1", ckan.port) as p:
        p.freeze()  # connections accepted, never answered
        portal = f"http://{p.address}"
        started = time.monotonic()
        run = _serasan(deployment.env(portal, **limits), deployment.home, *EXPORT)
        took = time.monotonic() - started
        _one_line_error(run, f"the CKAN portal at {portal} did not answer in time")
        [line] = [x for x in run.stderr.splitlines() if x.startswith("error:")]
        assert re.search(r"SERASAN_CONNECT_TIMEOUT_S / SERASAN_S3_READ_TIMEOUT_S", line)
        # five attempts of 2 s and 15 s between them, once for both datasets (it took minutes
        # before: 60 s a request, five per dataset), plus the interpreter's start
        assert took < 60
        exported = _nothing_lost(deployment, portal, line)
        assert ckan.requests() == []  # nothing reached the portal

        p.frozen = False  # it answers again
        again = _serasan(deployment.env(portal, **limits), deployment.home, *EXPORT)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    _published(deployment, ckan, exported)
