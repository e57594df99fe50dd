"""What every tier uses: a throwaway Airflow home and a clean SERASAN_* environment, the shipped
catalog, embedded settings (a folder lake and a SQLite warehouse), and ../shared.

The tiers add their own: tests/unit (no services), tests/integration (PostgreSQL, S3, SMTP,
loopback servers, Airflow runs) and tests/system (compose, Celery, Chromium), each in its
conftest, which also marks its tests `unit`, `integration` or `system`. Helpers the tiers share
(not fixtures) are plain modules in tests/support/.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Airflow reads its configuration at import: give the whole session a throwaway home first.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="serasan-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
for _k in [k for k in os.environ if k.startswith("SERASAN_") and not k.startswith("SERASAN_TEST_")]:
    del os.environ[_k]  # tests choose their lake and warehouse explicitly

import pytest  # noqa: E402

from serasan.config.catalog import Catalog  # noqa: E402
from serasan.config.settings import Settings  # noqa: E402
from serasan.quality.suites import load_validated_catalog  # noqa: E402
from tests.support.paths import REPO_ROOT  # noqa: E402
from tests.support.services import (  # noqa: E402
    SEAWEEDFS_INBOX_BUCKET,
    SeaweedFS,
    inbox_identities,
    moto_server,
    postgresql_server,
    seaweedfs_server,
)
from tests.support.warehouse import loaded_regencies  # noqa: E402


def _shared_candidates() -> list[Path]:
    """Where ../shared may be: SERASAN_SHARED_DIR, beside this checkout, or beside the local
    checkout this one was cloned from (a fresh clone in /tmp has no ../shared of its own)."""
    found = [Path(os.environ["SERASAN_SHARED_DIR"])] if os.environ.get("SERASAN_SHARED_DIR") else []
    found.append(REPO_ROOT.parent / "shared")
    origin = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        found.append(Path(origin).resolve().parent / "shared")
    return found


SHARED_CANDIDATES = _shared_candidates()
SHARED = next((p for p in SHARED_CANDIDATES if (p / "samples").is_dir()), SHARED_CANDIDATES[0])


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_validated_catalog()


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


# ---- services shared by the integration and system tiers (session-scoped, built once per run)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL server the suite uses; fails (never skips) when it is unreachable."""
    return postgresql_server()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on loopback: moto_server, spoken to over HTTP by the minio SDK."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def seaweedfs(catalog: Catalog) -> Iterator[SeaweedFS]:
    """A real S3 server that enforces per-prefix identities: SeaweedFS on loopback, with an admin
    identity for Serasan and one identity per OPD confined to its own inbox folder of the
    `serasan-lake` bucket. Started once, on first use (about 4 s); fails, never skips."""
    with seaweedfs_server(inbox_identities(catalog, SEAWEEDFS_INBOX_BUCKET)) as server:
        yield server


@pytest.fixture(scope="session", params=["embedded", "production"])
def regencies_loaded(
    request: pytest.FixtureRequest, catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Both regencies fully loaded, with KPIs, exports and reports, on each backend pair.
    Shared by the session: tests must not change it (copy what they want to change)."""
    work = tmp_path_factory.mktemp(f"regencies-{request.param}")
    if request.param == "embedded":
        with loaded_regencies("embedded", catalog, work) as ctx:
            yield ctx
        return
    server = request.getfixturevalue("pg_server_url")
    endpoint = request.getfixturevalue("s3_endpoint")
    with loaded_regencies("production", catalog, work, server, endpoint) as ctx:
        yield ctx
