"""Where the project's own files are: catalog, suites, DAGs, seed data.

`SERASAN_CATALOG_DIR` points a deployment at its own catalog; the suites live beside it
unless `SERASAN_EXPECTATIONS_DIR` says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # serasan/common/paths.py
CATALOG_DIR = Path(os.environ.get("SERASAN_CATALOG_DIR", PROJECT_ROOT / "catalog"))
EXPECTATIONS_DIR = Path(os.environ.get("SERASAN_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations"))
DAGS_DIR = PROJECT_ROOT / "dags"


def catalog_dir() -> Path:
    """SERASAN_CATALOG_DIR as it is now: a DAG run inside `serasan --catalog X ingest` reads X,
    where CATALOG_DIR keeps what the variable said when Serasan was imported."""
    return Path(os.environ.get("SERASAN_CATALOG_DIR", PROJECT_ROOT / "catalog"))


def expectations_dir() -> Path:
    """SERASAN_EXPECTATIONS_DIR as it is now (see `catalog_dir`)."""
    return Path(os.environ.get("SERASAN_EXPECTATIONS_DIR", PROJECT_ROOT / "expectations"))


# The seed ships inside the installed package (editable or not), so find it through the package.
SEED_DIR = PROJECT_ROOT / "warehouse" / "seed"
if not SEED_DIR.is_dir():
    SEED_DIR = Path(__file__).resolve().parents[1] / "warehouse" / "seed"
DEFAULT_HOME = Path(os.environ.get("SERASAN_HOME", PROJECT_ROOT / ".serasan"))
