"""Run Serasan DAGs through Airflow itself, in this process (`dag.test()`), for the CLI.

Used by `serasan demo` and `serasan ingest`: the same DAGs and task code the scheduler runs,
with a project-local AIRFLOW_HOME and SQLite metadata so no Airflow services are needed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
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


@contextlib.contextmanager
def _output_to(path: Path | None) -> Iterator[None]:
    """Send this process's stdout and stderr (the file descriptors, so Airflow's own handlers
    follow) to `path` while the block runs; nothing changes without one."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            with (
                contextlib.redirect_stdout(sys.__stdout__),
                contextlib.redirect_stderr(sys.__stderr__),
            ):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextlib.contextmanager
def exclusive(home: Path) -> Iterator[None]:
    """One CLI run at a time per Airflow metadata database: `dag.test()` keys its run record
    by DAG and logical date, so two ingests of one dataset on one date would fight over it. A
    second command waits here (and says so) instead. The lock is named after the database the
    run will use (the home's own SQLite file unless AIRFLOW__DATABASE__SQL_ALCHEMY_CONN says
    otherwise), so commands with their own homes never wait for each other."""
    home.mkdir(parents=True, exist_ok=True)
    conn = (
        os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or f"sqlite:///{home / 'airflow.db'}"
    )
    name = hashlib.sha256(conn.encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"serasan-airflow-{name}.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another serasan command using {home} ...", file=sys.stderr)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
        self,
        dag_id: str,
        logical_date: dt.datetime,
        conf: dict[str, Any] | None = None,
        log_file: Path | None = None,
    ) -> dict[str, Any]:
        """Run one DAG to completion; returns its state and each task's state and XCom.

        With `log_file`, what Airflow prints while the tasks run (task logs, the traceback of a
        task that fails on purpose, such as a blocked load) goes to that file instead of the
        terminal; the caller prints the outcome and the file's path."""
        dag = self.bag.get_dag(dag_id)
        if dag is None:
            raise KeyError(f"no DAG {dag_id!r}; known: {', '.join(self.dag_ids)}")
        with _output_to(log_file):
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
        log_file: Path | None = None,
    ) -> list[dict[str, Any]]:
        results = []
        for dag_id in dag_ids:
            res = self.run(dag_id, logical_date, log_file=log_file)
            if progress:
                progress(dag_id, res)
            results.append(res)
        return results
