"""Nothing imports the DAG files, and settings come from Airflow connections."""

from __future__ import annotations

import json
import os
import re

import pytest

from serasan.operators.config import settings_from_airflow

# The layers and the Airflow rule are import-linter contracts (pyproject.toml), run by
# `make lint` and proven to bite by tests/unit/test_guards.py. The dags/ folder is no package, so
# import-linter cannot see it: that rule stays here.


def test_nothing_imports_the_dags_folder() -> None:
    from serasan.common.paths import PROJECT_ROOT

    offenders = []
    for folder in ("serasan", "operators", "warehouse", "expectations", "tests"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"^\s*(from|import)\s+(dags|serasan_dags)\b", text, re.MULTILINE):
                offenders.append(str(path))
    assert offenders == []


@pytest.fixture
def clean_env() -> dict[str, str]:
    saved = dict(os.environ)
    for k in [k for k in os.environ if k.startswith(("SERASAN_", "AIRFLOW_CONN_"))]:
        del os.environ[k]
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


def test_settings_come_from_airflow_connections_when_env_is_silent(clean_env) -> None:  # noqa: ANN001
    clean_env["AIRFLOW_CONN_SERASAN_WAREHOUSE"] = "postgresql://loader:pw@db.example:5432/wh"
    clean_env["AIRFLOW_CONN_SERASAN_LAKE"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "AKIA",
            "password": "SECRET",
            "extra": {"endpoint_url": "http://minio:9000", "bucket": "serasan-lake"},
        }
    )
    s = settings_from_airflow()
    assert s.warehouse_url == "postgresql://loader:pw@db.example:5432/wh"
    assert s.lake_url == "s3://serasan-lake" and s.s3_endpoint == "minio:9000"
    assert s.s3_access_key == "AKIA" and s.s3_secret_key == "SECRET" and not s.s3_secure
    assert "pw" not in s.describe() and "SECRET" not in repr(s)


def test_environment_wins_over_connections(clean_env) -> None:  # noqa: ANN001
    clean_env["AIRFLOW_CONN_SERASAN_WAREHOUSE"] = "postgresql://a:b@c/d"
    clean_env["SERASAN_WAREHOUSE_URL"] = "sqlite:////tmp/x.db"
    assert settings_from_airflow().warehouse_url == "sqlite:////tmp/x.db"
