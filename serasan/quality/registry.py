"""Foreign keys to master data: the keys a registry dataset holds in the warehouse.

A suite checks a column against a registry (e.g. camera codes against the CCTV device
register) with `expect_column_values_to_exist_in_registry`:

    {"type": "expect_column_values_to_exist_in_registry",
     "kwargs": {"column": "kode_kamera", "registry": "muba_registri_kamera_cctv",
                "registry_column": "kode_kamera",
                "value_set": {"$PARAMETER": "registry__muba_registri_kamera_cctv__kode_kamera"}}}

The registry is an ordinary catalog dataset, loaded like any other. Before validating, the
caller reads its keys from `core.fact_<registry>` with `registry_params` and merges them into the
suite parameters, so GX and the row mask both see exactly what the warehouse held at that moment.
An empty registry means every (non-empty) value fails: nothing is registered yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, inspect, select

from serasan.config.catalog import Catalog, Dataset
from serasan.quality import rules
from serasan.warehouse.facts import fact_table


class RegistryError(RuntimeError):
    """A suite's registry cannot be read: unknown dataset or column, or no table yet."""


def registry_refs(suite: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(parameter name, registry dataset id, registry column) for each registry rule, once each."""
    out: dict[str, tuple[str, str, str]] = {}
    for exp in suite.get("expectations", []):
        if exp.get("type") != rules.IN_REGISTRY:
            continue
        kw = exp.get("kwargs", {})
        value_set = kw.get("value_set")
        if isinstance(value_set, dict) and "$PARAMETER" in value_set:  # else: keys given inline
            name = value_set["$PARAMETER"]
            out.setdefault(name, (name, kw["registry"], kw["registry_column"]))
    return list(out.values())


def registry_params(
    engine: Engine, catalog: Catalog, suite: dict[str, Any]
) -> dict[str, list[Any]]:
    """Suite parameters for the suite's registry rules: the distinct non-null keys, sorted.

    Returns {} for a suite without registry rules (and then touches no database).
    """
    refs = registry_refs(suite)
    if not refs:
        return {}
    out: dict[str, list[Any]] = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        for name, registry, column in refs:
            ds = _registry(catalog, registry, column)
            table = fact_table(ds, conn.dialect.name)
            if not insp.has_table(table.name, schema=table.schema):
                raise RegistryError(
                    f"registry {registry!r} has no fact table yet: run "
                    f"`serasan warehouse upgrade` and load the registry first"
                )
            col = table.c[column]
            keys = conn.execute(select(col).where(col.is_not(None)).distinct()).scalars().all()
            out[name] = sorted(keys)
    return out


def _registry(catalog: Catalog, registry: str, column: str) -> Dataset:
    ds = catalog.datasets.get(registry)
    if ds is None:
        raise RegistryError(f"registry {registry!r} is not a dataset of the catalog")
    if ds.column(column) is None:
        raise RegistryError(f"registry {registry!r} has no column {column!r}")
    return ds


def check_registry_refs(
    catalog: Catalog, suites: Mapping[str, dict[str, Any]] | None = None
) -> list[str]:
    """Cross-dataset checks `check_suite` cannot make (it sees one dataset): for
    `catalog validate`. The registry must be another catalog dataset, the column one of its
    columns, and of the same type as the checked column. `suites` defaults to the catalog's."""
    suites = catalog.suites if suites is None else suites
    problems = []
    for ds in catalog.datasets.values():
        for i, exp in enumerate(suites[ds.id].get("expectations", [])):
            if exp.get("type") != rules.IN_REGISTRY:
                continue
            kw = exp.get("kwargs", {})
            where = f"{ds.id}: expectations[{i}] ({rules.IN_REGISTRY})"
            try:
                reg = _registry(catalog, kw.get("registry"), kw.get("registry_column"))
            except RegistryError as exc:
                problems.append(f"{where}: {exc}")
                continue
            mine, theirs = ds.column(kw.get("column")), reg.column(kw["registry_column"])
            if mine is not None and theirs is not None and mine.type != theirs.type:
                problems.append(
                    f"{where}: column {mine.name!r} is {mine.type} but "
                    f"{reg.id}.{theirs.name} is {theirs.type}"
                )
            if reg.id == ds.id:
                problems.append(f"{where}: a dataset cannot be its own registry")
    return problems
