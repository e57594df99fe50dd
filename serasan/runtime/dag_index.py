"""The compiled index the DAG file reads, cached by the bytes of the catalog and its code.

- `dag_index` is what dags/serasan_dags.py needs to build its DAGs (ids, tags, owners, docs,
  regencies), compiled once from a fully validated catalog and kept as JSON in a cache keyed by
  the bytes of every catalog YAML file and of the code that validates them. The DAG processor
  re-parses the DAG file every few minutes; with the index it no longer validates 1,000 YAML
  files with pydantic each time, and a stale index is never used: any edit changes the key.
- `catalog_for` is what a dataset's task needs: the regencies and its own dataset's entry (and
  those it names, such as a registry), compiled by the same validation under the same key and
  kept one JSON file per dataset, so a task reads one small file instead of validating the whole
  catalog (0.68 s at 1,020 datasets). The suites are not in it: the task checks its own.

No Airflow imports, and nothing heavy at import: the DAG file imports this module at parse time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serasan.common.paths import DEFAULT_HOME, catalog_dir, expectations_dir

if TYPE_CHECKING:
    from serasan.config.catalog import Catalog

INDEX_VERSION = 2
REGENCIES = "_regencies.json"  # in an entries folder: the regencies and the dataset ids


def _catalog_files(root: Path) -> list[Path]:
    """Every file load_catalog reads (check_suites=False), in a stable order: the regencies,
    the datasets, and every YAML file beside them (kpis.yaml, aliases.yaml, and any added)."""
    files = sorted((root / "regencies").glob("*.yaml")) + sorted((root / "datasets").glob("*.yaml"))
    return files + sorted(root.glob("*.yaml"))


def _code_files() -> list[Path]:
    """The code whose rules decide whether a catalog is valid, and how the index is built."""
    here = Path(__file__).resolve().parent
    package = here.parent
    return [
        *sorted((package / "config").glob("*.py")),  # catalog.py and every module it uses
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
    return _compile(root)[0]


def _compile(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DAG index and the tasks' entries, from one full validation (raises CatalogError)."""
    from serasan.config.catalog import load_catalog
    from serasan.lake.keys import opd_key

    catalog = load_catalog(root)  # suites: read by the tasks, not parsing
    entries = {
        "regencies": {k: r.model_dump(mode="json") for k, r in catalog.regencies.items()},
        "files": {k: str(p) for k, p in catalog.files.items()},
        "datasets": {i: d.model_dump(mode="json") for i, d in catalog.datasets.items()},
        "extra": _extra_fields(catalog),
    }
    index = {
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
    return index, entries


# Catalog fields beside regencies and datasets that a task's catalog carries too, when the
# catalog has them: small mappings of pydantic models, kept whole
EXTRA_FIELDS = ("programmes",)


def _extra_fields(catalog: Catalog) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in EXTRA_FIELDS:
        values = getattr(catalog, name, None)
        if not isinstance(values, dict):
            continue
        out[name] = {
            k: [f"{type(v).__module__}:{type(v).__qualname__}", v.model_dump(mode="json")]
            for k, v in values.items()
        }
    return out


def _rebuilt_extra(extra: dict[str, Any]) -> dict[str, Any]:
    import importlib

    out: dict[str, Any] = {}
    for name, values in extra.items():
        items = {}
        for k, (where, dump) in values.items():
            module, _, qualname = where.partition(":")
            items[k] = getattr(importlib.import_module(module), qualname).model_validate(dump)
        out[name] = items
    return out


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
    index, entries = _compile(root)
    _store(root, key, index, entries)
    return index


def _store(root: Path, key: str, index: dict[str, Any], entries: dict[str, Any]) -> None:
    """Write the index and the entries of one key (best effort: the cache is optional), unless
    a file changed while they were compiled: they might then not be what `key` says."""
    if index_key(root) != key:
        return
    path = cache_path(root)
    if path is not None:
        _write_atomically(path, {"key": key, "root": str(root), "index": index})
    folder = entries_path(root, key)
    if folder is not None:
        _write_entries(folder, entries)


def entries_path(root: Path, key: str) -> Path | None:
    """The folder of the entries compiled under `key`: one JSON file per dataset."""
    folder = cache_dir()
    if folder is None:
        return None
    name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return folder / f"dag-entries-{name}" / key[:32]


def _write_entries(folder: Path, entries: dict[str, Any]) -> None:
    """One file per dataset and one for the regencies, written in a temporary folder renamed
    into place: a reader sees every file of a key or none. Older keys' folders are removed."""
    tmp = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        head = {
            "regencies": entries["regencies"],
            "files": entries["files"],
            "extra": entries["extra"],
            "datasets": sorted(entries["datasets"]),
        }
        (tmp / REGENCIES).write_text(json.dumps(head, ensure_ascii=False), encoding="utf-8")
        for dataset_id, entry in entries["datasets"].items():
            (tmp / f"{dataset_id}.json").write_text(
                json.dumps(entry, ensure_ascii=False), encoding="utf-8"
            )
        try:
            os.rename(tmp, folder)
            tmp = None
        except OSError:  # another process wrote this key a moment ago: same content
            pass
        for old in folder.parent.iterdir():  # earlier catalogs' entries are never read again
            if old.is_dir() and old.name != folder.name and not old.name.startswith(".tmp-"):
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _read_entries(folder: Path | None, ids: Collection[str]) -> dict[str, Any] | None:
    """The regencies and the entries of `ids` (the known ones) from `folder`; None when it is
    absent or unreadable."""
    if folder is None:
        return None
    try:
        head = json.loads((folder / REGENCIES).read_text(encoding="utf-8"))
        known = set(head["datasets"])
        datasets = {
            i: json.loads((folder / f"{i}.json").read_text(encoding="utf-8"))
            for i in dict.fromkeys(ids)
            if i in known  # never a path from an unknown id
        }
        return {
            "regencies": head["regencies"],
            "files": head["files"],
            "extra": head["extra"],
            "datasets": datasets,
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def dataset_entries(root: Path, ids: Collection[str]) -> dict[str, Any]:
    """The validated regencies, and the entries of the datasets `ids` that the catalog has (an
    unknown id is left out), from the cache when its key matches the files, else compiled from
    a full validation (raises CatalogError), as `dag_index` does."""
    key = index_key(root)
    found = _read_entries(entries_path(root, key), ids)
    if found is not None:
        return found
    index, entries = _compile(root)
    _store(root, key, index, entries)
    return {
        "regencies": entries["regencies"],
        "files": entries["files"],
        "extra": entries["extra"],
        "datasets": {i: entries["datasets"][i] for i in ids if i in entries["datasets"]},
    }


def catalog_for(
    ids: Collection[str], root: Path | None = None, expectations: Path | None = None
) -> Catalog:
    """A catalog holding every regency and only the datasets `ids` (those it has), from the
    cached entries: what a dataset's task needs, without validating every other dataset again.
    No KPIs (the regencies' tasks read the whole catalog), and no suite checked: the caller
    checks the suite it will use."""
    from serasan.config.catalog import Catalog, CatalogError, Dataset, Regency
    from serasan.config.regions import load_aliases

    root = root or catalog_dir()
    entries = dataset_entries(root, ids)
    aliases, problems = load_aliases(root)
    if problems:  # the compile above refused these already, unless the file changed since
        raise CatalogError(problems)
    datasets = {i: Dataset.model_validate(d) for i, d in entries["datasets"].items()}
    files = {
        k: Path(p)
        for k, p in entries["files"].items()
        if k.startswith("regency:") or k.removeprefix("dataset:") in datasets
    }
    return Catalog(
        root=root,
        regencies={k: Regency.model_validate(r) for k, r in entries["regencies"].items()},
        datasets=datasets,
        kpis={},
        files=files,
        expectations_dir=expectations or expectations_dir(),
        aliases=aliases,
        **_rebuilt_extra(entries["extra"]),
    )


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
