"""The services the integration and system tiers run against: PostgreSQL (found, never started),
an S3 endpoint (moto_server on loopback), and free loopback ports. Plain helpers: the fixtures
that use them live in tests/integration/conftest.py and tests/system/conftest.py.

A missing service is an error that says how to provide it, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("SERASAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def postgresql_server() -> str:
    """The PostgreSQL server the suite uses (psycopg URL); fails (never skips) when unreachable."""
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


@contextmanager
def fresh_database(server_url: str, prefix: str = "serasan_t_") -> Iterator[str]:
    """A new, empty database on the server, dropped (connections and all) afterwards."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
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
    port = free_port()
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc, "moto_server")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
