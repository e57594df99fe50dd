"""The system tier: the compose files against the code, the Celery stack on loopback, the report
in headless Chromium. Its services are the integration tier's, from the same helpers
(tests/support/); every test under this folder is marked `system`.

A missing service is an error that says how to provide it, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serasan.config.catalog import Catalog
from tests.support.services import moto_server, postgresql_server
from tests.support.warehouse import loaded_regencies

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL server the suite uses; fails (never skips) when it is unreachable."""
    return postgresql_server()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on loopback: moto_server, spoken to over HTTP by the minio SDK."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session", params=["embedded", "production"])
def regencies_loaded(
    request: pytest.FixtureRequest, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Both regencies fully loaded, with KPIs, exports and reports, on each backend pair (what
    the browser opens). Shared by the session: tests must not change it."""
    work = tmp_path_factory.mktemp(f"regencies-{request.param}")
    if request.param == "embedded":
        with loaded_regencies("embedded", catalog, work) as ctx:
            yield ctx
        return
    server = request.getfixturevalue("pg_server_url")
    endpoint = request.getfixturevalue("s3_endpoint")
    with loaded_regencies("production", catalog, work, server, endpoint) as ctx:
        yield ctx
