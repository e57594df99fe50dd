"""Connections that fail, fail (issue 16): a Serasan connection that is configured but cannot be
read or is malformed fails the task, naming it; the embedded defaults apply only where nothing is
configured; `SERASAN_REQUIRE_CONNECTIONS=true` refuses them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from serasan.operators import config
from serasan.operators.config import (
    ConnectionConfigError,
    airflow_connection,
    settings_from_airflow,
)

GOOD_WAREHOUSE = "postgresql://loader:wh-s3cret@db.example:5432/wh"
GOOD_LAKE = json.dumps(
    {
        "conn_type": "aws",
        "login": "AKIA",
        "password": "lake-s3cret",
        "extra": {"endpoint_url": "http://minio:9000", "bucket": "serasan-lake"},
    }
)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """os.environ without any SERASAN_* or AIRFLOW_CONN_* variable; SERASAN_HOME in tmp_path,
    so an embedded default, if one were used, could only land there."""
    saved = dict(os.environ)
    for k in [k for k in os.environ if k.startswith(("SERASAN_", "AIRFLOW_CONN_"))]:
        del os.environ[k]
    os.environ["SERASAN_HOME"] = str(tmp_path)
    yield os.environ  # type: ignore[misc]
    os.environ.clear()
    os.environ.update(saved)


# ---------------------------------------------------------------- configured, and good


def test_configured_and_good_connections_are_used(env: dict[str, str]) -> None:
    env["AIRFLOW_CONN_SERASAN_WAREHOUSE"] = GOOD_WAREHOUSE
    env["AIRFLOW_CONN_SERASAN_LAKE"] = GOOD_LAKE
    env["AIRFLOW_CONN_SERASAN_CKAN"] = "http://:ckan-t0ken@data.muaraenimkab.go.id"
    env["AIRFLOW_CONN_SERASAN_PII"] = "generic://:kunci-pii-2c9d@"
    env["SERASAN_REQUIRE_CONNECTIONS"] = "true"  # satisfied: both are configured
    s = settings_from_airflow()
    assert s.warehouse_url == GOOD_WAREHOUSE
    assert s.lake_url == "s3://serasan-lake" and s.s3_endpoint == "minio:9000"
    assert s.ckan_url == "https://data.muaraenimkab.go.id" and s.ckan_token == "ckan-t0ken"
    assert s.pii_key == "kunci-pii-2c9d"


def test_the_environment_counts_as_configured_when_connections_are_required(
    env: dict[str, str],
) -> None:
    env["SERASAN_REQUIRE_CONNECTIONS"] = "true"
    env["SERASAN_WAREHOUSE_URL"] = GOOD_WAREHOUSE
    env["SERASAN_LAKE_URL"] = "s3://serasan-lake"
    s = settings_from_airflow()
    assert (s.warehouse_url, s.lake_url) == (GOOD_WAREHOUSE, "s3://serasan-lake")


# ---------------------------------------------------------------- configured, but malformed


@pytest.mark.parametrize(
    ("conn_id", "value", "why"),
    [
        (
            "serasan_warehouse",
            '{"conn_type": "postgres", "password": "wh-s3cret"',
            "not valid JSON",
        ),
        (
            "serasan_warehouse",
            '{"conn_typ": "postgres", "password": "wh-s3cret"}',
            "not an Airflow",
        ),
        ("serasan_warehouse", "db.example/wh-s3cret", "neither a connection URI"),
        ("serasan_warehouse", "postgresql://loader:wh-s3cret@db.example:port/wh", "not a valid"),
        ("serasan_warehouse", "aws://loader:wh-s3cret@db.example/wh", "not a database URL"),
        ("serasan_warehouse", "postgresql://loader:wh-s3cret@/wh", "no host"),
        ("serasan_lake", '{"conn_type": "aws", "password": "wh-s3cret", "extra": "{bad"}', "extra"),
        ("serasan_ckan", "http://:wh-s3cret@", "no host"),
        ("serasan_ckan", "http://data.muaraenimkab.go.id", "no password"),
        ("serasan_pii", "generic://", "no password"),
    ],
)
def test_a_configured_but_malformed_connection_fails_naming_it(
    env: dict[str, str], tmp_path: Path, conn_id: str, value: str, why: str
) -> None:
    env[f"AIRFLOW_CONN_{conn_id.upper()}"] = value
    with pytest.raises(ConnectionConfigError) as err:
        settings_from_airflow()
    message = str(err.value)
    assert repr(conn_id) in message and why in message, message
    assert "wh-s3cret" not in message  # the value is never echoed: it may hold a secret
    assert list(tmp_path.iterdir()) == []  # no SQLite warehouse, no lake folder


def test_a_broken_connection_is_not_replaced_by_the_defaults_in_a_task(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The task fails before it opens anything: no SQLite warehouse appears on the worker."""
    from serasan.operators import tasks

    env["AIRFLOW_CONN_SERASAN_WAREHOUSE"] = "{not json"
    context = {"dag": SimpleNamespace(dag_id="serasan__muaraenim__kpi"), "run_id": "r"}
    with pytest.raises(ConnectionConfigError, match="'serasan_warehouse'"):
        tasks.compute_kpis("16.03", context)
    assert not (tmp_path / "warehouse.db").exists()


def test_an_airflow_connection_that_cannot_be_read_fails_naming_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import BaseHook

    def refused(conn_id: str) -> None:
        raise PermissionError(f"vault: permission denied for {conn_id}")

    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(refused))
    with pytest.raises(ConnectionConfigError, match="'serasan_warehouse' could not be read"):
        settings_from_airflow()


def test_a_malformed_airflow_connection_fails_naming_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held by Airflow (not the environment), with an extra that is not JSON: Airflow would log
    it and return an empty extra, so the lake would quietly become the `serasan` bucket."""
    from airflow.sdk import BaseHook, Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    def lookup(conn_id: str) -> Connection:
        if conn_id == "serasan_lake":
            return Connection(conn_id=conn_id, conn_type="aws", extra="{bucket: serasan-lake")
        raise AirflowNotFoundException(conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(lookup))
    with pytest.raises(ConnectionConfigError) as err:
        settings_from_airflow()
    assert "'serasan_lake' (Airflow connection) is malformed" in str(err.value)


def test_a_malformed_source_connection_does_not_fall_back_to_serasan_conn(
    env: dict[str, str],
) -> None:
    env["AIRFLOW_CONN_MUBA_PAJAK_DB"] = "{oops"
    env["SERASAN_CONN_MUBA_PAJAK_DB"] = "sqlite:////tmp/elsewhere.db"
    with pytest.raises(ConnectionConfigError, match="'muba_pajak_db'"):
        airflow_connection("muba_pajak_db")
    del env["AIRFLOW_CONN_MUBA_PAJAK_DB"]  # absent from Airflow: the environment's applies
    assert airflow_connection("muba_pajak_db").schema == "/tmp/elsewhere.db"


def test_a_malformed_delivery_connection_fails_naming_it(env: dict[str, str]) -> None:
    from serasan.operators.notifiers import settings_for_alerts

    env["AIRFLOW_CONN_SERASAN_SMTP"] = json.dumps({"conn_type": "smtp", "port": 587})
    with pytest.raises(ConnectionConfigError, match="'serasan_smtp'.*no host"):
        settings_for_alerts()


# ---------------------------------------------------------------- absent


def test_absent_connections_mean_the_embedded_defaults(env: dict[str, str], tmp_path: Path) -> None:
    s = settings_from_airflow()
    assert s.warehouse_url == f"sqlite:///{tmp_path / 'warehouse.db'}"
    assert s.lake_url == str(tmp_path / "lake")
    assert s.ckan_url is None and s.pii_key is None
    assert config._connection("serasan_warehouse") is None
    env["AIRFLOW_CONN_SERASAN_WAREHOUSE"] = "  "  # blank is not configured (compose's ${X:-})
    assert settings_from_airflow().warehouse_url.startswith("sqlite:///")


@pytest.mark.parametrize("flag", ["true", "TRUE", "1", "yes"])
def test_absent_connections_fail_when_they_are_required(
    env: dict[str, str], tmp_path: Path, flag: str
) -> None:
    env["SERASAN_REQUIRE_CONNECTIONS"] = flag
    with pytest.raises(ConnectionConfigError) as err:
        settings_from_airflow()
    message = str(err.value)
    assert "SERASAN_REQUIRE_CONNECTIONS" in message
    assert "'serasan_warehouse' (or SERASAN_WAREHOUSE_URL)" in message
    assert "'serasan_lake' (or SERASAN_LAKE_URL)" in message
    env["AIRFLOW_CONN_SERASAN_WAREHOUSE"] = GOOD_WAREHOUSE  # one of the two: the other is named
    with pytest.raises(ConnectionConfigError) as err:
        settings_from_airflow()
    assert "serasan_warehouse" not in str(err.value) and "'serasan_lake'" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flag", ["", "false", "0", "no"])
def test_defaults_are_allowed_unless_required(env: dict[str, str], flag: str) -> None:
    env["SERASAN_REQUIRE_CONNECTIONS"] = flag
    assert settings_from_airflow().warehouse_url.startswith("sqlite:///")


def test_a_broken_warehouse_connection_still_lets_the_engineers_be_alerted(
    env: dict[str, str],
) -> None:
    """The failure callback's settings: the delivery part survives the broken connection that
    failed the task (SMTP from the environment here)."""
    from serasan.operators.notifiers import _settings_despite_broken_connections

    env["AIRFLOW_CONN_SERASAN_WAREHOUSE"] = "not a url"
    env["SERASAN_SMTP_HOST"] = "smtp.example"
    env["SERASAN_ENGINEER_EMAIL"] = "data@example.go.id"
    with pytest.raises(ConnectionConfigError):
        settings_from_airflow()
    s = _settings_despite_broken_connections()
    assert (s.smtp_host, s.engineer_email) == ("smtp.example", "data@example.go.id")
