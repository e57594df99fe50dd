"""Do the DAG files still import? Checked from a DAG file that does not load the catalog itself,
so a broken catalog or DAG file reaches the engineers even though its own DAGs are gone.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_SECONDS = 120


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
