"""`serasan check` on a long file shows its progress on standard error: rows read, rows per
second and how far through the file, one line per batch when standard error is not a terminal
(a pipe here, a log in a scheduler); the result on standard output is unchanged.

A real child process: SERASAN_PROGRESS_EVERY_S=0 asks for a line per batch instead of one per
two seconds at most, so the lines do not depend on how fast this machine is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from serasan.config.catalog import Catalog
from serasan.demo.generate import generate_dataset
from tests.support.paths import REPO_ROOT

DS = "muba_event_sport_tourism"
ROWS = 30_000
PROGRESS = re.compile(r"^memeriksa (\S+): ([\d,]+) baris, [\d,]+ baris/s, (\d+)%")


def test_check_prints_a_progress_line_per_batch_on_stderr(catalog: Catalog, tmp_path: Path) -> None:
    gen = generate_dataset(catalog.dataset(DS), catalog, rows=ROWS, fmt="csv", seed=3)
    path = tmp_path / "acara.csv"
    path.write_bytes(gen.data)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SERASAN_")},
        "SERASAN_HOME": str(tmp_path / "home"),
        "SERASAN_PROGRESS_EVERY_S": "0",
    }
    run = subprocess.run(
        [sys.executable, "-m", "serasan.cli.main", "check", "--json", "--date", "2026-11-01"]
        + ["--dataset", DS, str(path)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: the suite found problems
    lines = [m for m in map(PROGRESS.match, run.stderr.splitlines()) if m]
    assert len(lines) >= 2, run.stderr  # a line per batch read, and the last one at the end
    assert {m.group(1) for m in lines} == {path.name}
    counts = [int(m.group(2).replace(",", "")) for m in lines]
    assert counts == sorted(counts) and counts[-1] == ROWS  # rows read so far, then all of them
    assert lines[-1].group(3) == "100"  # through the whole file
    result = json.loads(run.stdout)  # the result alone on standard output
    assert result["dataset"] == DS and result["rows_in"] == ROWS
