"""`serasan__alerts`, daily: lateness reminders, OPD digests, the whole outbox drained, and the
engineers told when the outbox does not drain or a DAG file no longer imports. And
`serasan__backup`, daily at 03:00 WIB: the warehouse dump into the lake, and the lake into the
backup target.

Kept apart from serasan_dags.py and free of the catalog at parse time, so that it still runs
(and reports) when the catalog or the other DAG file is broken.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import dag, task

from serasan.common import dag_ids
from serasan.operators.notifiers import EngineerAlertNotifier


def _tasks():  # noqa: ANN202 - imported when a task runs, not at each parse (0.4 s)
    from serasan.operators import tasks

    return tasks


START = pendulum.datetime(2026, 1, 1, tz="Asia/Jakarta")
DEFAULTS = {
    "owner": "serasan-engineers",
    "retries": int(os.environ.get("SERASAN_TASK_RETRIES", "2")),
    "retry_delay": dt.timedelta(seconds=int(os.environ.get("SERASAN_RETRY_DELAY_SECONDS", "300"))),
    "on_failure_callback": [EngineerAlertNotifier()],
}


@dag(
    dag_id=dag_ids.ALERTS,
    schedule="@daily",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["serasan", "alerts"],
    default_args=DEFAULTS,
    doc_md="Lateness reminders and daily digests per OPD (Bahasa Indonesia), the whole alert "
    "outbox drained, and the engineers told when it does not drain or a DAG file "
    "fails to import.",
)
def alerts() -> None:
    @task
    def dag_files(**context) -> list[str]:  # noqa: ANN003
        return _tasks().check_dag_files(context)

    @task
    def freshness(**context) -> list[str]:  # noqa: ANN003
        return _tasks().check_freshness(context)

    @task
    def digest(**context) -> list[str]:  # noqa: ANN003
        return _tasks().digests(context)

    @task
    def drain(**context) -> dict:  # noqa: ANN003
        return _tasks().drain_outbox(context)

    @task(trigger_rule="all_done")
    def watch_outbox(**context) -> dict:  # noqa: ANN003
        return _tasks().watch_outbox(context)

    sent = drain().as_teardown()  # runs even if a check failed; the run keeps its failure
    [dag_files(), freshness(), digest()] >> sent >> watch_outbox()


alerts()


@dag(
    dag_id=dag_ids.BACKUP,
    schedule="0 3 * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["serasan", "backup"],
    default_args=DEFAULTS,
    doc_md="Daily at 03:00 WIB: the warehouse dumped (pg_dump, or SQLite's backup API) to "
    "`backups/warehouse/<date>/` in the lake with a manifest, then every lake object "
    "outside `backups/` copied incrementally to `SERASAN_BACKUP_LAKE_URL`. Restore with "
    "`serasan backup restore`.",
)
def backup_dag() -> None:
    @task
    def backup(**context) -> dict:  # noqa: ANN003
        return _tasks().backup(context)

    backup()


backup_dag()
