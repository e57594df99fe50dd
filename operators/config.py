"""Adapt Airflow's world (connections, logical dates) into the core's plain arguments."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from typing import Any

from serasan.common.clock import JAKARTA
from serasan.config.settings import Settings
from serasan.runtime.connections import ConnInfo, Interval, SourceError, env_connections

WAREHOUSE_CONN_ID = "serasan_warehouse"
LAKE_CONN_ID = "serasan_lake"
CKAN_CONN_ID = "serasan_ckan"  # http connection: host is the portal URL, password the token
PII_CONN_ID = "serasan_pii"  # generic connection: password is the HMAC key for pseudonyms
log = logging.getLogger(__name__)


def _connection(conn_id: str) -> Any | None:
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:  # not defined: the environment or the defaults apply
        log.info("no Airflow connection %r; using environment settings", conn_id)
        return None


def settings_from_airflow(env: dict[str, str] | None = None) -> Settings:
    """Environment first; where a setting is absent, the Airflow connection supplies it.

    `serasan_warehouse`: any SQLAlchemy-style connection (its URI is used).
    `serasan_lake`: an `aws` connection: login/password are the keys, extra has
    `endpoint_url` (host:port) and `bucket`.
    `serasan_ckan`: the CKAN portal (host, or scheme://host:port) and its API token (password).
    `serasan_pii`: the pseudonym key (password).
    """
    env = dict(os.environ if env is None else env)
    if not env.get("SERASAN_WAREHOUSE_URL") and (conn := _connection(WAREHOUSE_CONN_ID)):
        env["SERASAN_WAREHOUSE_URL"] = conn.get_uri().replace("postgres://", "postgresql://", 1)
    if not env.get("SERASAN_LAKE_URL") and (conn := _connection(LAKE_CONN_ID)):
        extra = conn.extra_dejson
        env["SERASAN_LAKE_URL"] = f"s3://{extra.get('bucket', 'serasan')}"
        endpoint = str(extra.get("endpoint_url", ""))
        env["SERASAN_S3_ENDPOINT"] = endpoint.split("://", 1)[-1]
        env["SERASAN_S3_SECURE"] = "true" if endpoint.startswith("https") else "false"
        env["SERASAN_S3_ACCESS_KEY"] = conn.login or ""
        env["SERASAN_S3_SECRET_KEY"] = conn.password or ""
    if not env.get("SERASAN_CKAN_URL") and (conn := _connection(CKAN_CONN_ID)):
        host = conn.host or ""
        if host and "://" not in host:
            host = f"{conn.schema or 'https'}://{host}" + (f":{conn.port}" if conn.port else "")
        env["SERASAN_CKAN_URL"] = host
        env["SERASAN_CKAN_TOKEN"] = conn.password or ""
    if not env.get("SERASAN_PII_KEY") and (conn := _connection(PII_CONN_ID)):
        env["SERASAN_PII_KEY"] = conn.password or ""
    return Settings.from_env(env)


def run_date_of(context: Mapping[str, Any]) -> dt.date:
    """The run's date in Asia/Jakarta: its logical date, or run_after for asset-triggered runs."""
    moment: dt.datetime = context.get("logical_date") or context["dag_run"].run_after
    return moment.astimezone(JAKARTA).date()


def interval_of(context: dict[str, Any]) -> Interval | None:
    """The run's data interval; None for runs without one (manual and asset-triggered)."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or start == end:
        return None
    return Interval(start.astimezone(JAKARTA), end.astimezone(JAKARTA))


def airflow_connection(conn_id: str) -> ConnInfo:
    """Resolve a source's connection from Airflow (then `SERASAN_CONN_<ID>`), secrets included."""
    conn = _connection(conn_id)
    if conn is None:
        try:
            return env_connections(conn_id)
        except SourceError:
            raise SourceError(f"Airflow connection {conn_id!r} is not defined") from None
    return ConnInfo(
        conn_id=conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=conn.extra_dejson,
    )
