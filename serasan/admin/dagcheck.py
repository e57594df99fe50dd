"""Do the DAG files still import? Checked from a DAG file that does not load the catalog itself,
so a broken catalog or DAG file reaches the engineers even though its own DAGs are gone.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from serasan.config.settings import Settings

TIMEOUT_SECONDS = 120
SKIP = ("serasan_alerts.py",)  # the file this check runs from: it imports, or nothing runs


@dataclass(frozen=True)
class Broken:
    path: str
    error: str


def check_dag_files(folder: Path, skip: tuple[str, ...] = ()) -> list[Broken]:
    """Import each DAG file in a fresh interpreter; report the ones that fail, with the error."""
    broken = []
    for path in sorted(folder.glob("*.py")):
        if path.name in skip or path.name.startswith("_"):
            continue
        code = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='serasan_dag_check')"
        try:
            out = subprocess.run(
                [sys.executable, "-c", code, str(path)],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            broken.append(Broken(str(path), f"import took longer than {TIMEOUT_SECONDS} s"))
            continue
        if out.returncode != 0:
            lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
            broken.append(Broken(str(path), "\n".join(lines[-12:]) or f"exit {out.returncode}"))
    return broken


def alert_broken_dag_files(
    engine: Engine, settings: Settings, day: dt.date, folder: Path | None = None
) -> list[str]:
    """Tell the engineers about DAG files that no longer import, once per file and day (the
    `serasan__alerts` DAG's `dag_files` task and `serasan alerts run`); the broken paths."""
    from serasan.alerts.delivery import OutboxAlert, alert_id, engineers, enqueue
    from serasan.common.paths import DAGS_DIR

    broken = check_dag_files(folder or DAGS_DIR, skip=SKIP)
    for b in broken:
        name = b.path.rsplit("/", 1)[-1]
        enqueue(
            engine,
            settings,
            OutboxAlert(
                alert_id=alert_id("engineer", "dagfile", name, day.isoformat()),
                kind="engineer",
                recipients=engineers(settings),
                subject=f"[Serasan] DAG file {name} fails to import",
                body=f"The DAG file {b.path} no longer imports, so its DAGs are not scheduled.\n\n"
                f"{b.error}\n\nRun `serasan catalog validate` and `python {b.path}` to see "
                "the whole error.",
            ),
        )
    return [b.path for b in broken]
