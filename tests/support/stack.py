"""Airflow's processes for the Celery integration test, each on 127.0.0.1 with its own log file.

`Stack` runs `airflow db migrate`, then the scheduler, the dag-processor, the api-server, the
triggerer and any number of Celery workers, each in its own session (process group), with
stdout and stderr in `<logs>/<name>.log`. `stop()` ends them all, task processes included (the
task SDK puts each task in a process group of its own), and `tails()` says what each printed
last, for a failure message. `Api` speaks Airflow's REST API (/api/v2) with a JWT from the
SimpleAuthManager's /auth/token.

Airflow processes import this module by its dotted path (`[core] hostname_callable`), so it
imports nothing outside the standard library at the top.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOSTNAME_ENV = "SERASAN_STACK_HOSTNAME"
TERMINAL_RUN_STATES = ("success", "failed")


def stack_hostname() -> str:
    """`[core] hostname_callable` for the workers: two workers on one host must not both report
    the host's name, or nobody could tell which ran a task. Elsewhere: the host's FQDN."""
    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StackDied(RuntimeError):
    """A process of the stack exited by itself: waiting longer cannot help."""


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Call `check` until it returns something truthy; TimeoutError naming `what` after
    `timeout` seconds. Exceptions from `check` count as "not yet" (the last one is reported)."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except StackDied:
            raise
        except Exception as exc:  # a server still starting, a row not there yet
            last, result = exc, None
        if result:
            return result
        time.sleep(every)
    detail = f" (last error: {type(last).__name__}: {last})" if last else ""
    raise TimeoutError(f"{what}: not within {timeout:.0f} s{detail}")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    env: dict[str, str]
    killed: bool = False  # by `Stack.kill`, on purpose

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


def _tree(pid: int) -> list[Any]:
    """The process and every descendant (psutil objects), gathered before anything is killed."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _signal_tree(procs: list[Any], sig: signal.Signals) -> None:
    """`sig` to every process group in the tree (never our own), then to each process."""
    import psutil

    own = os.getpgid(0)
    groups = set()
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError, psutil.Error):
            groups.add(os.getpgid(p.pid))
    for g in groups - {own}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(g, sig)
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.send_signal(sig)


class Stack:
    """The processes of one Airflow deployment, sharing one environment and one AIRFLOW_HOME."""

    def __init__(self, home: Path, env: dict[str, str]):
        self.home = home
        self.logs = home / "process-logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.airflow = str(Path(sys.executable).parent / "airflow")
        self.procs: dict[str, Proc] = {}
        self.one_offs: set[str] = set()  # commands that end by themselves (`db migrate`)

    def _open_log(self, name: str) -> Any:
        return (self.logs / f"{name}.log").open("ab")

    def finish(self, name: str, timeout: float = 300) -> None:
        """Wait for a one-off command started with `start` (`db migrate`); raise with its log
        tail unless it exited 0."""
        self.one_offs.add(name)
        proc = self.procs[name]
        try:
            code = proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"{name} still running after {timeout:.0f} s:\n" + self.tail(name)
            ) from None
        if code != 0:
            raise RuntimeError(f"{name} exited {code}:\n" + self.tail(name))

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        """Start `airflow <args>` in its own session, output in `<logs>/<name>.log`."""
        penv = {**self.env, **(env or {})}
        with self._open_log(name) as out:
            popen = subprocess.Popen(
                [self.airflow, *args],
                env=penv,
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        proc = Proc(name, popen, self.logs / f"{name}.log", penv)
        self.procs[name] = proc
        return proc

    def check_alive(self) -> None:
        dead = [
            f"{p.name} (exit {p.popen.returncode})"
            for p in self.procs.values()
            if not p.alive() and not p.killed and p.name not in self.one_offs
        ]
        if dead:
            raise StackDied(f"processes exited: {', '.join(dead)}")

    def wait_log(self, name: str, text: str, timeout: float) -> None:
        proc = self.procs[name]

        def seen() -> bool:
            if not proc.alive():
                raise StackDied(f"{name} exited with {proc.popen.returncode}")
            return text in proc.log.read_text(errors="replace")

        try:
            wait_for(f"{name} to log {text!r}", seen, timeout)
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}\n{self.tail(name)}") from None

    def kill(self, name: str) -> list[int]:
        """SIGKILL the process, its whole process group and every descendant's group (the task
        processes the worker forked): what a machine losing power does. Returns the pids."""
        import psutil

        proc = self.procs[name]
        tree = _tree(proc.pid)
        _signal_tree(tree, signal.SIGKILL)
        psutil.wait_procs(tree, timeout=10)
        proc.popen.wait(timeout=10)
        proc.killed = True
        return [p.pid for p in tree]

    def stop(self, grace: float = 10) -> None:
        """SIGTERM every process tree, then SIGKILL whatever is left after `grace` seconds."""
        import psutil

        trees = {name: _tree(p.pid) for name, p in self.procs.items() if p.alive()}
        everything = [p for tree in trees.values() for p in tree]
        _signal_tree(everything, signal.SIGTERM)
        _, alive = psutil.wait_procs(everything, timeout=grace)
        if alive:
            _signal_tree(alive, signal.SIGKILL)
            psutil.wait_procs(alive, timeout=10)
        for p in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.popen.wait(timeout=5)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return f"--- {name}: no log"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {name} ({path}), last {len(text)} lines:\n" + "\n".join(text)

    def tails(self, lines: int = 40) -> str:
        names = sorted({p.stem for p in self.logs.glob("*.log")})
        return "\n".join(self.tail(n, lines) for n in names)

    @contextlib.contextmanager
    def explained(self) -> Iterator[None]:
        """On any failure inside, print the tail of every process log (pytest shows it)."""
        try:
            yield
        except BaseException:
            print("\n===== process logs of the Celery stack =====\n" + self.tails(), flush=True)
            raise


class Api:
    """Airflow's REST API on the api-server, authenticated with a SimpleAuthManager JWT."""

    def __init__(self, base_url: str, username: str, password: str):
        import httpx

        self.base = base_url.rstrip("/")
        self.client = httpx.Client(base_url=self.base, timeout=30)
        self.username, self.password = username, password

    def login(self) -> None:
        resp = self.client.post(
            "/auth/token", json={"username": self.username, "password": self.password}
        )
        if resp.status_code != 201:
            raise RuntimeError(f"POST /auth/token: {resp.status_code} {resp.text[:300]}")
        self.client.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.client.request(method, "/api/v2" + path, **kw)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} /api/v2{path}: {resp.status_code} {resp.text[:500]}")
        return resp.json() if resp.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def health(self) -> dict[str, Any]:
        return self.get("/monitor/health")

    def dag_ids(self, tag: str) -> list[str]:
        return sorted(d["dag_id"] for d in self.get("/dags", tags=tag, limit=100)["dags"])

    def unpause(self, dag_id: str) -> None:
        got = self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        assert got["is_paused"] is False, got

    def trigger(
        self, dag_id: str, run_id: str, logical_date: str, conf: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.request(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": logical_date, "conf": conf or {}},
        )

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        got = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries")
        return sorted(got["task_instances"], key=lambda t: t["try_number"])

    def wait_runs(
        self, runs: list[tuple[str, str]], timeout: float, stack: Stack | None = None
    ) -> dict[tuple[str, str], str]:
        """Poll until every (dag_id, run_id) is success or failed; returns their states."""
        states: dict[tuple[str, str], str] = {}

        def done() -> bool:
            if stack is not None:
                stack.check_alive()
            for key in runs:
                if states.get(key) not in TERMINAL_RUN_STATES:
                    states[key] = self.run(*key)["state"]
            return all(s in TERMINAL_RUN_STATES for s in states.values())

        try:
            wait_for("DAG runs to finish", done, timeout, every=1.0)
        except TimeoutError as exc:
            seen = {f"{d}/{r}": s for (d, r), s in states.items()}
            raise TimeoutError(f"{exc}: {json.dumps(seen)}") from None
        return states
