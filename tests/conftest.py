"""Real services for the suite: PostgreSQL, an S3 endpoint (moto_server) on loopback, Airflow home.

A missing service is an error that says how to provide it, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Airflow reads its configuration at import: give the whole session a throwaway home first.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="serasan-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
for _k in [k for k in os.environ if k.startswith("SERASAN_") and not k.startswith("SERASAN_TEST_")]:
    del os.environ[_k]  # tests choose their lake and warehouse explicitly

import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from serasan.config.catalog import Catalog  # noqa: E402
from serasan.config.settings import Settings  # noqa: E402
from serasan.quality.suites import load_validated_catalog  # noqa: E402

PG_URL = os.environ.get("SERASAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RUN_DATE = dt.date(2026, 11, 1)  # tests fix the date they run for


def _shared_candidates() -> list[Path]:
    """Where ../shared may be: SERASAN_SHARED_DIR, beside this checkout, or beside the local
    checkout this one was cloned from (a fresh clone in /tmp has no ../shared of its own)."""
    import subprocess

    found = [Path(os.environ["SERASAN_SHARED_DIR"])] if os.environ.get("SERASAN_SHARED_DIR") else []
    root = Path(__file__).resolve().parents[1]
    found.append(root.parent / "shared")
    origin = subprocess.run(
        ["git", "-C", str(root), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        found.append(Path(origin).resolve().parent / "shared")
    return found


SHARED_CANDIDATES = _shared_candidates()
SHARED = next((p for p in SHARED_CANDIDATES if (p / "samples").is_dir()), SHARED_CANDIDATES[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_validated_catalog()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL server the suite uses; fails (never skips) when it is unreachable."""
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    try:
        with create_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_URL} ({type(exc).__name__}: {exc}).\n"
            "Start it (on this machine: pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start) or point SERASAN_TEST_PG_URL at a server where "
            "the user may CREATE DATABASE.",
            pytrace=False,
        )
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database per test, dropped afterwards."""
    name = f"serasan_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    yield url
    from sqlalchemy.pool import NullPool  # noqa: F401 - engines in tests are disposed below

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def moto_server(**env: str) -> Iterator[str]:
    """A moto_server on loopback, with extra environment (e.g. INITIAL_NO_AUTH_ACTION_COUNT to
    enforce IAM after setup); yields its `127.0.0.1:port` and stops it afterwards."""
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
        "moto_server"
    )
    if not exe:
        pytest.fail(
            "moto_server not found: run `make test` (it installs requirements-dev.txt, "
            "which pins moto[server])",
            pytrace=False,
        )
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc, "moto_server")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on loopback: moto_server, spoken to over HTTP by the minio SDK."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_settings(s3_endpoint: str, pg_url: str) -> Settings:
    """Production-shaped settings: a fresh bucket on the S3 endpoint and a fresh PG database."""
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    return Settings(
        lake_url=f"s3://{bucket}",
        warehouse_url=pg_url,
        s3_endpoint=s3_endpoint,
        s3_access_key="test",
        s3_secret_key="test",
    )


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    """Embedded defaults: a local-folder lake and a SQLite warehouse."""
    return Settings(
        lake_url=str(tmp_path / "lake"), warehouse_url=f"sqlite:///{tmp_path / 'warehouse.db'}"
    )


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "samples").is_dir():
        pytest.fail(
            "../shared is missing: these tests read shared/samples, looked for in "
            + ", ".join(map(str, SHARED_CANDIDATES))
            + "; set SERASAN_SHARED_DIR to the folder",
            pytrace=False,
        )
    return SHARED


@pytest.fixture(params=["embedded", "production"])
def settings(request: pytest.FixtureRequest) -> Settings:
    """Run a test on both port backends: folder + SQLite, and S3 + PostgreSQL."""
    name = "local_settings" if request.param == "embedded" else "s3_settings"
    return request.getfixturevalue(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty warehouse engine on each backend: a SQLite file, and a fresh PostgreSQL database."""
    from serasan.warehouse.db import make_engine

    url = (
        f"sqlite:///{tmp_path / 'wh.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    eng = make_engine(url)
    yield eng
    eng.dispose()


def warehouse_context(settings: Settings, catalog: Catalog) -> Any:
    """A RunContext for RUN_DATE on an upgraded warehouse."""
    from serasan.runtime.context import RunContext
    from serasan.warehouse.db import upgrade

    ctx = RunContext(settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="t", run_id="r")
    upgrade(ctx.engine, catalog)
    return ctx


def deliver(
    ctx: Any, dataset_id: str, rows: int | None = None, defect_rate: float = 0.0, seed: int = 11
) -> list[dict[str, Any]]:
    """A generated OPD file put in the dataset's inbox, then the dataset's pipeline run on it."""
    from serasan.demo.generate import generate_dataset
    from serasan.lake.keys import inbox_prefix
    from serasan.pipeline.steps import run_dataset

    ds = ctx.catalog.dataset(dataset_id)
    gen = generate_dataset(ds, ctx.catalog, rows=rows, defect_rate=defect_rate, seed=seed)
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + gen.filename, gen.data)
    return run_dataset(ctx, ds)


def _load_every_dataset(settings: Settings, catalog: Catalog, workdir: Path) -> Any:
    """Every dataset of both regencies through `run_dataset`, each by its own source kind
    (spreadsheet inbox, application database, HTTP API), then KPIs, exports and reports."""
    from contextlib import ExitStack

    from serasan.demo.sources import prepare_database, serve_api
    from serasan.pipeline.steps import run_dataset
    from serasan.publish import exports, kpi, report

    ctx = warehouse_context(
        dataclasses.replace(settings, pii_key="kunci-uji-laporan-91ab"), catalog
    )
    saved = dict(os.environ)
    try:
        with ExitStack() as stack:
            for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
                if ds.source.kind == "spreadsheet":
                    summaries = deliver(ctx, ds.id)
                else:
                    if ds.source.kind == "api":
                        os.environ.update(
                            stack.enter_context(serve_api(ds, catalog, RUN_DATE, 0.0))
                        )
                    else:
                        os.environ.update(prepare_database(ds, catalog, workdir, RUN_DATE, 0.0))
                    summaries = run_dataset(ctx, ds)
                assert [s["status"] for s in summaries] == ["loaded"], summaries
    finally:
        os.environ.clear()
        os.environ.update(saved)
    for kode in catalog.regencies:
        kpi.compute(ctx, kode)
        exports.export_regency(ctx, kode)
        report.write(ctx, kode)
    return ctx


@pytest.fixture(scope="session", params=["embedded", "production"])
def regencies_loaded(
    request: pytest.FixtureRequest, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Both regencies fully loaded, with KPIs, exports and reports, on each backend pair.
    Shared by the session: tests must not change it (copy what they want to change)."""
    work = tmp_path_factory.mktemp(f"regencies-{request.param}")
    if request.param == "embedded":
        settings = Settings(
            lake_url=str(work / "lake"), warehouse_url=f"sqlite:///{work / 'warehouse.db'}"
        )
        yield _load_every_dataset(settings, catalog, work / "apps")
        return
    server = request.getfixturevalue("pg_server_url")
    endpoint = request.getfixturevalue("s3_endpoint")
    name = f"serasan_r_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    settings = Settings(
        lake_url=f"s3://lake-{uuid.uuid4().hex[:10]}",
        warehouse_url=url,
        s3_endpoint=endpoint,
        s3_access_key="test",
        s3_secret_key="test",
    )
    ctx = _load_every_dataset(settings, catalog, work / "apps")
    yield ctx
    ctx.engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
