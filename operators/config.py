"""Adapt Airflow's world (connections, logical dates) into the core's plain arguments.

Connections fail loudly. A connection is *configured* when its `AIRFLOW_CONN_<ID>` variable is set
or Airflow (its metadata DB, a secrets backend) holds it. A configured connection that cannot be
read or is malformed fails the task with an error naming it; it never falls back to the embedded
defaults, which apply only where nothing is configured. `SERASAN_REQUIRE_CONNECTIONS=true`
(serasan.config.settings) refuses those defaults as well: the warehouse and the lake must then be
configured, by `SERASAN_WAREHOUSE_URL`/`SERASAN_LAKE_URL` or by their connection.

Airflow itself hides why a lookup found nothing (a backend's error reads as "not defined"). So an
`AIRFLOW_CONN_<ID>` value is parsed here, where its error can be reported; and a connection in the
metadata DB that a worker cannot fetch is indistinguishable from none, which is what
`SERASAN_REQUIRE_CONNECTIONS` guards against.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from serasan.common.clock import JAKARTA
from serasan.config.settings import Settings, connections_required
from serasan.runtime.connections import ConnInfo, Interval, SourceError, env_connections

WAREHOUSE_CONN_ID = "serasan_warehouse"
LAKE_CONN_ID = "serasan_lake"
CKAN_CONN_ID = "serasan_ckan"  # http connection: host is the portal URL, password the token
PII_CONN_ID = "serasan_pii"  # generic connection: password is the HMAC key for pseudonyms
ENV_PREFIX = "AIRFLOW_CONN_"  # + the id in capitals: Airflow's environment-variable connections
# What a configured connection must hold to be used; one without it is malformed. (The warehouse
# URL is checked whole; serasan_smtp and serasan_webhook are read by serasan.operators.notifiers.)
NEEDS: dict[str, tuple[str, ...]] = {
    CKAN_CONN_ID: ("host", "password"),
    PII_CONN_ID: ("password",),
    "serasan_smtp": ("host",),
    "serasan_webhook": ("host",),
}
# The connections whose absence means an embedded default, and the variables that replace them.
DEFAULTED = {WAREHOUSE_CONN_ID: "SERASAN_WAREHOUSE_URL", LAKE_CONN_ID: "SERASAN_LAKE_URL"}
log = logging.getLogger(__name__)


class ConnectionConfigError(RuntimeError):
    """A configured connection cannot be read or is malformed, or a required one is absent.
    The message names the connection and never shows its secrets."""


def _env_value(conn_id: str) -> tuple[str, str] | None:
    """(variable, value) of `AIRFLOW_CONN_<ID>` when it is set and not blank."""
    name = ENV_PREFIX + conn_id.upper()
    value = os.environ.get(name, "").strip()
    return (name, value) if value else None


def _parse_env(conn_id: str, name: str, value: str) -> None:
    """Parse `AIRFLOW_CONN_<ID>` as Airflow does, to say what is wrong with it (Airflow only logs
    it at debug level and reports the connection as not defined)."""
    from airflow.sdk import Connection

    if value.startswith("{"):
        try:
            Connection.from_json(value, conn_id=conn_id)
        except json.JSONDecodeError as exc:
            raise ConnectionConfigError(
                f"connection {conn_id!r} is malformed: {name} is not valid JSON "
                f"({exc.msg}, at character {exc.pos})"
            ) from None
        except Exception as exc:
            raise ConnectionConfigError(
                f"connection {conn_id!r} is malformed: {name} is JSON that is not an Airflow "
                f"connection ({type(exc).__name__}; expected keys: conn_type, host, port, login, "
                "password, schema, extra)"
            ) from None
        return
    if not urlsplit(value).scheme or "://" not in value:
        raise ConnectionConfigError(
            f"connection {conn_id!r} is malformed: {name} is neither a connection URI "
            "(type://login:password@host:port/schema?extra) nor a JSON document"
        )
    try:
        Connection.from_uri(value, conn_id=conn_id)
    except Exception as exc:
        raise ConnectionConfigError(
            f"connection {conn_id!r} is malformed: {name} is not a valid connection URI "
            f"({type(exc).__name__})"
        ) from None


def _check(conn_id: str, conn: Any, where: str) -> None:
    """A connection Airflow returned, checked for what Serasan reads from it."""
    extra = conn.extra
    if extra:
        try:
            parsed = json.loads(extra) if isinstance(extra, str) else extra
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ConnectionConfigError(
                f"connection {conn_id!r} ({where}) is malformed: its extra is not a JSON object"
            )
    missing = [part for part in NEEDS.get(conn_id, ()) if not getattr(conn, part, None)]
    if missing:
        raise ConnectionConfigError(
            f"connection {conn_id!r} ({where}) is malformed: it has no {' and no '.join(missing)}"
        )


def _connection(conn_id: str) -> Any | None:
    """The Airflow connection `conn_id`; None only when nothing configures it. Raises
    ConnectionConfigError, naming it, when it is configured but unreadable or malformed."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    env = _env_value(conn_id)
    if env is not None:
        _parse_env(conn_id, *env)
    where = env[0] if env is not None else "Airflow connection"
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if env is not None:  # parsed above, yet Airflow could not read it
            raise ConnectionConfigError(
                f"connection {conn_id!r} is set in {env[0]} but Airflow could not read it"
            ) from None
        log.info("no Airflow connection %r configured; the environment or defaults apply", conn_id)
        return None
    except Exception as exc:  # a secrets backend refused or failed: not the same as absent
        raise ConnectionConfigError(
            f"connection {conn_id!r} could not be read: {type(exc).__name__}: {exc}"
        ) from exc
    _check(conn_id, conn, where)
    return conn


def _warehouse_url(conn: Any, where: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    url = str(conn.get_uri()).replace("postgres://", "postgresql://", 1)
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConnectionConfigError(
            f"connection {WAREHOUSE_CONN_ID!r} ({where}) is malformed: not a database URL "
            f"SQLAlchemy can use ({type(exc).__name__}: type {conn.conn_type!r})"
        ) from None
    if not parsed.get_backend_name().startswith("sqlite") and not parsed.host:
        raise ConnectionConfigError(
            f"connection {WAREHOUSE_CONN_ID!r} ({where}) is malformed: it has no host"
        )
    return url


def _where(conn_id: str) -> str:
    env = _env_value(conn_id)
    return env[0] if env is not None else "Airflow connection"


def settings_from_airflow(env: dict[str, str] | None = None) -> Settings:
    """Environment first; where a setting is absent, the Airflow connection supplies it; where
    neither is configured, the embedded defaults, unless `SERASAN_REQUIRE_CONNECTIONS` is true.

    `serasan_warehouse`: any SQLAlchemy-style connection (its URI is used).
    `serasan_lake`: an `aws` connection: login/password are the keys, extra has
    `endpoint_url` (host:port) and `bucket`.
    `serasan_ckan`: the CKAN portal (host, or scheme://host:port) and its API token (password).
    `serasan_pii`: the pseudonym key (password).

    Raises ConnectionConfigError, naming the connection, when one it reads is configured but
    unreadable or malformed, or when a required one is absent.
    """
    env = dict(os.environ if env is None else env)
    if not env.get("SERASAN_WAREHOUSE_URL") and (conn := _connection(WAREHOUSE_CONN_ID)):
        env["SERASAN_WAREHOUSE_URL"] = _warehouse_url(conn, _where(WAREHOUSE_CONN_ID))
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
    if connections_required(env):
        absent = [f"{c!r} (or {var})" for c, var in DEFAULTED.items() if not env.get(var)]
        if absent:
            raise ConnectionConfigError(
                "SERASAN_REQUIRE_CONNECTIONS is set, so the embedded defaults (a SQLite "
                "warehouse, a local-folder lake) are refused, and no connection is configured "
                f"for {' nor '.join(absent)}: define it, or check that this worker can read it"
            )
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
    """Resolve a source's connection from Airflow (then `SERASAN_CONN_<ID>`), secrets included.
    One configured in Airflow but unreadable or malformed fails (ConnectionConfigError)."""
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
