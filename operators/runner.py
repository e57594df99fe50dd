"""Run Serasan DAGs through Airflow itself, in this process (`dag.test()`), for the CLI.

Used by `serasan demo` and `serasan ingest`: the same DAGs and task code the scheduler runs,
with a project-local AIRFLOW_HOME and SQLite metadata so no Airflow services are needed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from serasan.common.paths import DAGS_DIR


def configure_airflow(home: Path) -> None:
    """Point Airflow at a project-local home before it is imported anywhere in this process."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # dag.test() would sit out a retry delay; a person at the terminal wants the error now
    os.environ.setdefault("SERASAN_TASK_RETRIES", "0")


class Runner:
    """Migrates the metadata DB once, parses the DAG folder once, then runs DAGs by id."""

    def __init__(self, home: Path):
        configure_airflow(home)
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
        from airflow.utils.db import initdb

        logging.getLogger("airflow").setLevel(logging.WARNING)
        # Third-party deprecation chatter drowns the progress lines people need to read.
        for category in (DeprecationWarning, FutureWarning, UserWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("ignore", message=".*uselist=False.*")
        if not (home / "airflow.db").exists() or not (home / ".migrated").exists():
            initdb()
            (home / ".migrated").write_text("ok\n")
        self.bag = DagBag(dag_folder=str(DAGS_DIR))
        if self.bag.import_errors:
            errors = "\n".join(f"{k}: {v}" for k, v in self.bag.import_errors.items())
            raise RuntimeError(f"DAG files failed to import:\n{errors}")
        DagBundlesManager().sync_bundles_to_db()  # the DAG rows reference their bundle
        sync_bag_to_db(self.bag, "dags-folder", None)

    @property
    def dag_ids(self) -> list[str]:
        return sorted(self.bag.dag_ids)

    def run(
        self, dag_id: str, logical_date: dt.datetime, conf: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run one DAG to completion; returns its state and each task's state and XCom."""
        dag = self.bag.get_dag(dag_id)
        if dag is None:
            raise KeyError(f"no DAG {dag_id!r}; known: {', '.join(self.dag_ids)}")
        dr = dag.test(logical_date=logical_date, run_conf=conf or {})
        tasks = {}
        for ti in dr.get_task_instances():
            tasks[ti.task_id] = {
                "state": str(ti.state),
                "result": ti.xcom_pull(task_ids=ti.task_id),
            }
        return {"dag_id": dag_id, "state": str(dr.state), "run_id": dr.run_id, "tasks": tasks}

    def run_many(
        self,
        dag_ids: Iterable[str],
        logical_date: dt.datetime,
        progress: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        results = []
        for dag_id in dag_ids:
            res = self.run(dag_id, logical_date)
            if progress:
                progress(dag_id, res)
            results.append(res)
        return results
