"""Run Serasan DAGs through Airflow itself, in this process (`dag.test()`), for the CLI.

Used by `serasan demo` and `serasan ingest`: the same DAGs and task code the scheduler runs,
with a project-local AIRFLOW_HOME and SQLite metadata so no Airflow services are needed.

`serasan ingest` runs one DAG: its Runner parses under Airflow's parsing context for that DAG,
as a worker does to run one task, so the DAG file builds that DAG alone instead of all of them
(dag.test() parses the bundle again on every call, under the same context). Ctrl-C stops a run
at once, also inside a task, where Airflow would otherwise catch it as the task's failure and go
on: `interruptible` remembers it and `run` raises KeyboardInterrupt when dag.test() returns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import os
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from serasan.common.paths import DAGS_DIR

DATASET_DAGS_FILE = "serasan_dags.py"  # builds every dataset's DAG (and the regencies')


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


@contextlib.contextmanager
def parsing_context(dag_id: str | None) -> Iterator[None]:
    """Airflow's parsing context for `dag_id`, as a worker sets it to run one of its tasks: the
    DAG files that honour it (dags/serasan_dags.py) build that DAG alone. None: every DAG. The
    variables are put back as they were, whatever happens (Airflow's own manager leaves them)."""
    if dag_id is None:
        yield
        return
    from airflow.sdk.definitions.context import (
        _AIRFLOW_PARSING_CONTEXT_DAG_ID,
        _AIRFLOW_PARSING_CONTEXT_TASK_ID,
    )

    names = (_AIRFLOW_PARSING_CONTEXT_DAG_ID, _AIRFLOW_PARSING_CONTEXT_TASK_ID)
    saved = {n: os.environ.get(n) for n in names}
    os.environ[_AIRFLOW_PARSING_CONTEXT_DAG_ID] = dag_id
    os.environ.pop(_AIRFLOW_PARSING_CONTEXT_TASK_ID, None)  # every task of the DAG
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _progress_lines() -> Iterator[None]:
    """The progress lines of long tasks (the `serasan.progress` log, INFO: a line per batch of
    rows parsed) in the task log, though Airflow's handler here passes warnings only: written
    to file descriptor 2, which `_output_to` points at the log file the CLI names."""
    progress = logging.getLogger("serasan.progress")
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    level = progress.level
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    try:
        yield
    finally:
        progress.removeHandler(handler)
        progress.setLevel(level)


class Interruption:
    """Whether Ctrl-C came while `interruptible` was active (`hit`)."""

    hit = False


@contextlib.contextmanager
def interruptible() -> Iterator[Interruption]:
    """Ctrl-C (SIGINT) raises KeyboardInterrupt at once, as usual, and is remembered: inside a
    task Airflow catches it as the task's failure and runs the rest of the DAG run (its
    teardown), so the caller raises it again once the run returns. Main thread only (signals
    are); elsewhere nothing changes."""
    seen = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def stop(signum: int, frame: object) -> None:
        seen.hit = True
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, stop)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, before)


class Runner:
    """Migrates the metadata DB once, parses the DAG folder once, then runs DAGs by id.

    `only`: the one DAG this runner will run (`serasan ingest`); it is parsed alone, under
    Airflow's parsing context, as dag.test() then parses the bundle."""

    def __init__(self, home: Path, only: str | None = None):
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
        self.only = only
        # the file that builds the dataset DAGs, or the whole folder
        folder = DAGS_DIR / DATASET_DAGS_FILE if only else DAGS_DIR
        with parsing_context(only):
            self.bag = DagBag(dag_folder=str(folder))
        if self.bag.import_errors:
            errors = "\n".join(f"{k}: {v}" for k, v in self.bag.import_errors.items())
            raise RuntimeError(f"DAG files failed to import:\n{errors}")
        # dag.test() syncs the bundle too, but from Airflow's configured folder, which a
        # process that imported Airflow before configure_airflow() has elsewhere
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
        with (
            interruptible() as stop,
            _output_to(log_file),
            _progress_lines(),
            parsing_context(self.only),
        ):
            dr = dag.test(logical_date=logical_date, run_conf=conf or {})
        if stop.hit:  # caught inside a task by Airflow, which then finished the run's teardown
            raise KeyboardInterrupt
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
