"""The integration tier's services: PostgreSQL (a fresh database per test), S3 (moto_server on
loopback), SMTP (aiosmtpd on loopback), warehouse roles, and the settings and engines that run a
test on both backends (folder + SQLite, S3 + PostgreSQL). Every test under this folder is
marked `integration`.

A missing service is an error that says how to provide it, never a skip.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from serasan.config.settings import Settings
from tests.support.mail import SmtpServer
from tests.support.services import free_port, fresh_database

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database per test, dropped afterwards."""
    with fresh_database(pg_server_url) as url:
        yield url


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


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """aiosmtpd on a free loopback port, keeping every message (`smtp.box`)."""
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def login_as(pg_url: str) -> Iterator[Callable[[str], str]]:
    """Make a LOGIN user, member of a group role, with a unique name; returns its URL."""
    admin = create_engine(
        make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    made: list[str] = []
    engines: list[Engine] = []

    def make(group: str) -> str:
        name = f"serasan_t_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            q = conn.dialect.identifier_preparer.quote_identifier
            conn.execute(text(f"CREATE ROLE {q(name)} LOGIN IN ROLE {q(group)}"))
        made.append(name)
        return make_url(pg_url).set(username=name).render_as_string(hide_password=False)

    make.engines = engines  # type: ignore[attr-defined]
    yield make
    for eng in engines:
        eng.dispose()
    with admin.connect() as conn:
        q = conn.dialect.identifier_preparer.quote_identifier
        for name in made:
            conn.execute(text(f"DROP OWNED BY {q(name)}"))  # this database's grants, if any
            conn.execute(text(f"DROP ROLE IF EXISTS {q(name)}"))
    admin.dispose()
