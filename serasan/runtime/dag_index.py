"""The compiled index the DAG file reads, cached by the bytes of the catalog and its code.

- `dag_index` is what dags/serasan_dags.py needs to build its DAGs (ids, tags, owners, docs,
  regencies), compiled once from a fully validated catalog and kept as JSON in a cache keyed by
  the bytes of every catalog YAML file and of the code that validates them. The DAG processor
  re-parses the DAG file every few minutes; with the index it no longer validates 1,000 YAML
  files with pydantic each time, and a stale index is never used: any edit changes the key.

No Airflow imports, and nothing heavy at import: the DAG file imports this module at parse time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from serasan.common.paths import DEFAULT_HOME, catalog_dir

INDEX_VERSION = 1


def _catalog_files(root: Path) -> list[Path]:
    """Every file load_catalog reads (check_suites=False), in a stable order."""
    files = sorted((root / "regencies").glob("*.yaml")) + sorted((root / "datasets").glob("*.yaml"))
    extra = [root / name for name in ("kpis.yaml", "aliases.yaml") if (root / name).exists()]
    return files + extra


def _code_files() -> list[Path]:
    """The code whose rules decide whether a catalog is valid, and how the index is built."""
    here = Path(__file__).resolve().parent
    package = here.parent
    return [
        package / "config" / "catalog.py",
        package / "config" / "source_params.py",
        package / "config" / "regions.py",
        package / "lake" / "keys.py",
        here / "dag_index.py",
    ]


def index_key(root: Path) -> str:
    """sha256 of every catalog file's name and bytes, and of the validating code."""
    h = hashlib.sha256(f"serasan-dag-index-v{INDEX_VERSION}\0".encode())
    for path in (*_code_files(), *_catalog_files(root)):
        data = path.read_bytes()
        h.update(f"{path.parent.name}/{path.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def build_index(root: Path) -> dict[str, Any]:
    """Validate the whole catalog (raises CatalogError) and keep what the DAG file needs."""
    from serasan.config.catalog import load_catalog
    from serasan.lake.keys import opd_key

    catalog = load_catalog(root)  # suites: read by the tasks, not parsing
    return {
        "regencies": [
            {
                "kode": r.kode,
                "slug": r.slug,
                "name": r.name,
                "datasets": [d.id for d in catalog.datasets_of(r.kode)],
            }
            for r in catalog.regencies.values()
        ],
        "datasets": [
            {
                "id": d.id,
                "regency": d.regency,
                "opd": d.opd,
                "pillar": d.pillar,
                "title": d.title,
                "description": d.description,
                "owner": opd_key(catalog, d),
            }
            for d in catalog.datasets.values()
        ],
    }


def cache_dir() -> Path | None:
    """SERASAN_CATALOG_CACHE_DIR, else SERASAN_HOME/cache, else a private folder in the temp dir
    (an installed package's home may not be writable); None when none can be used safely."""
    if os.environ.get("SERASAN_CATALOG_CACHE_DIR"):
        return Path(os.environ["SERASAN_CATALOG_CACHE_DIR"])
    home = DEFAULT_HOME / "cache"
    if os.access(
        home if home.exists() else DEFAULT_HOME if DEFAULT_HOME.exists() else DEFAULT_HOME.parent,
        os.W_OK,
    ):
        return home
    private = Path(tempfile.gettempdir()) / f"serasan-cache-{os.getuid()}"
    try:
        private.mkdir(mode=0o700, exist_ok=True)
        st = private.stat()
    except OSError:
        return None
    # someone else's folder, or one others may write to, is not trusted with the index
    return private if st.st_uid == os.getuid() and not st.st_mode & 0o022 else None


def cache_path(root: Path) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return folder / f"dag-index-{name}.json"


def dag_index(root: Path | None = None) -> dict[str, Any]:
    """The catalog's DAG index: from the cache when its key matches the files, else rebuilt.

    The key is computed from the files on every call, so an edited, added or removed YAML file
    (or a changed validator) always rebuilds, with full validation. An invalid catalog raises
    CatalogError and writes nothing, so its DAG file fails to import, as before. The cache is
    JSON, written atomically (parsers run in parallel), and optional: when its folder cannot be
    written, every parse just validates the catalog.
    """
    root = root or catalog_dir()  # SERASAN_CATALOG_DIR as it is now
    key = index_key(root)
    path = cache_path(root)
    if path is not None:
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            index = cached.get("index")
            if cached.get("key") == key and isinstance(index, dict):
                return index
        except (OSError, ValueError, AttributeError):
            pass  # absent, unreadable or torn: rebuilt below
    index = build_index(root)
    if path is not None:
        _write_atomically(path, {"key": key, "root": str(root), "index": index})
    return index


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
