"""Airflow notifiers for Serasan: thin adapters over `serasan.alerts.delivery`, which does the sending.

- `EngineerAlertNotifier`: the DAGs' `on_failure_callback`. A task that failed after its retries
  alerts the engineers (dag, task, run id, log location) through the outbox, at once. OPDs never
  receive it. It is built once at parse time and does nothing until a task fails.
- `SerasanEmailNotifier`: a templated e-mail over Serasan's SMTP settings, for any callback.

The SMTP and webhook settings come from the environment (`SERASAN_SMTP_*`, `SERASAN_WEBHOOK_*`)
or, where absent, from the Airflow connections `serasan_smtp` and `serasan_webhook`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from serasan.alerts import delivery
from serasan.config.settings import Settings
from serasan.operators.config import _connection, settings_from_airflow

if TYPE_CHECKING:
    from airflow.sdk import Context

SMTP_CONN_ID = "serasan_smtp"
WEBHOOK_CONN_ID = "serasan_webhook"
log = logging.getLogger(__name__)


def delivery_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment, completed from Airflow connections where a delivery setting is absent.

    `serasan_smtp`: host, port, login, password; extra may hold `from`, `starttls` (bool) and
    `engineer_email`. `serasan_webhook`: host is the full URL (or host + port + extra
    `endpoint`), the password is the bearer token.
    """
    env = dict(os.environ if env is None else env)
    if not env.get("SERASAN_SMTP_HOST") and (conn := _connection(SMTP_CONN_ID)):
        extra = conn.extra_dejson
        env["SERASAN_SMTP_HOST"] = conn.host or ""
        for key, value in (
            ("SERASAN_SMTP_PORT", conn.port),
            ("SERASAN_SMTP_USER", conn.login),
            ("SERASAN_SMTP_PASSWORD", conn.password),
            ("SERASAN_SMTP_FROM", extra.get("from")),
            ("SERASAN_SMTP_STARTTLS", extra.get("starttls")),
        ):
            if value not in (None, "") and not env.get(key):
                env[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if extra.get("engineer_email") and not env.get("SERASAN_ENGINEER_EMAIL"):
            env["SERASAN_ENGINEER_EMAIL"] = str(extra["engineer_email"])
    if not env.get("SERASAN_WEBHOOK_URL") and (conn := _connection(WEBHOOK_CONN_ID)):
        host = conn.host or ""
        if "://" not in host:
            scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
            port = f":{conn.port}" if conn.port else ""
            host = f"{scheme}://{host}{port}{conn.extra_dejson.get('endpoint', '')}"
        env["SERASAN_WEBHOOK_URL"] = host
        if conn.password and not env.get("SERASAN_WEBHOOK_TOKEN"):
            env["SERASAN_WEBHOOK_TOKEN"] = conn.password
    return env


def settings_for_alerts(env: dict[str, str] | None = None) -> Settings:
    """Settings with the delivery part filled in, environment first (as for every setting)."""
    return settings_from_airflow(delivery_env(env))


_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")


def _settings_despite_broken_connections() -> Settings:
    """The alert's settings even when a broken Serasan connection is what failed the task: the
    delivery settings alone then (SMTP, webhook; from the environment where their connection
    is the broken one), so the engineers still hear of it."""
    from serasan.operators.config import ConnectionConfigError

    try:
        return settings_for_alerts()
    except ConnectionConfigError as exc:
        log.error("%s: alerting with the delivery settings alone", exc)
    try:
        return Settings.from_env(delivery_env())
    except ConnectionConfigError as exc:
        log.error("%s: alerting with the environment's delivery settings alone", exc)
        return Settings.from_env()


def _error_text(error: Any) -> str | None:
    if error is None:
        return None
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return _URL_PASSWORD.sub(r"\1***@", text)[:1500]


def _log_path(ti: Any) -> str | None:
    """Where the worker wrote this try's log, from Airflow's own template; None if unknown."""
    try:
        from airflow.configuration import conf
        from jinja2 import Template

        folder = conf.get("logging", "base_log_folder")
        name = Template(conf.get("logging", "log_filename_template")).render(
            ti=ti, try_number=ti.try_number
        )
        return f"{folder.rstrip('/')}/{name}"
    except Exception:  # a custom template we cannot render: the URL is enough
        return None


def failure_info(context: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a failed task an engineer needs, taken from the Airflow context."""
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    logical = context.get("logical_date")
    log_url = None
    try:
        log_url = ti.log_url if ti is not None else None
    except Exception:  # no API base URL configured
        log_url = None
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(dag, "dag_id", "?"),
        "task_id": getattr(ti, "task_id", None) or "?",
        "run_id": context.get("run_id") or getattr(ti, "run_id", None) or "?",
        "logical_date": logical.isoformat() if logical is not None else None,
        "try_number": getattr(ti, "try_number", None),
        "log_url": log_url,
        "log_path": _log_path(ti) if ti is not None else None,
        "error": _error_text(context.get("exception")),
    }


class EngineerAlertNotifier(BaseNotifier):
    """`on_failure_callback`: tell the engineers which task failed and where its log is."""

    def notify(self, context: Context) -> None:
        if isinstance(context.get("exception"), KeyboardInterrupt):  # a person pressed Ctrl-C
            log.warning("task stopped by an interrupt (Ctrl-C): nothing to tell the engineers")
            return
        try:
            settings = _settings_despite_broken_connections()
            info = failure_info(context)
            alert = delivery.task_failure_alert(settings, **info)
            result = delivery.deliver_now(settings, alert)
            log.info("engineers alerted of %s.%s: %s", info["dag_id"], info["task_id"], result)
        except Exception:  # a callback must never mask the task's own failure
            log.exception("could not alert the engineers")


class SerasanEmailNotifier(BaseNotifier):
    """A templated e-mail through Serasan's SMTP settings, sent at once (not via the outbox)."""

    template_fields = ("to", "subject", "body")

    def __init__(self, *, to: str | Sequence[str], subject: str, body: str):
        super().__init__()
        self.to = to
        self.subject = subject
        self.body = body

    def notify(self, context: Context) -> None:
        to = [self.to] if isinstance(self.to, str) else list(self.to)
        delivery.send_email(
            settings_for_alerts(), [a.strip() for a in to if a.strip()], self.subject, self.body
        )
