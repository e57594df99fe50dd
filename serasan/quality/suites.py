"""Suites against the catalog: every dataset has a GX suite the validator can run exactly.

Kept out of `serasan.config.catalog` so that configuration never imports validation; the CLI,
the doctor and the tasks load a catalog through `load_validated_catalog` when they need the
suites checked too.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from serasan.common import paths
from serasan.common.paths import EXPECTATIONS_DIR
from serasan.config.catalog import Catalog, Dataset, load_catalog, suite_path
from serasan.quality.rules import SUPPORTED, columns_of
from serasan.quality.rules import problems as rule_problems

# GX options our row masks do not reproduce; a suite using them is refused by `catalog validate`.
UNSUPPORTED_KWARGS = {"mostly", "row_condition", "condition_parser", "ignore_row_if"}


def check_suite(ds: Dataset, expectations_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    """A suite must exist, be GX JSON, use rules the validator supports, on declared columns.

    Serasan's own types (serasan/expectations/custom.py) also have their kwargs checked against
    the dataset: the column's type, the region's level and regency, the period's granularity.
    """
    path = suite_path(ds.id, expectations_dir)
    if not path.exists():
        return [
            f"{path}: missing: dataset {ds.id} needs a GX suite "
            f"(GX JSON with a 'name' and a list of 'expectations')"
        ]
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return [f"{path}: not valid JSON: {exc}"]
    problems = []
    if not isinstance(suite.get("expectations"), list):
        return [f"{path}: expectations: expected a list of GX expectations"]
    names = set(ds.column_names)
    for i, exp in enumerate(suite["expectations"]):
        etype = exp.get("type")
        if etype not in SUPPORTED:
            problems.append(
                f"{path}: expectations[{i}].type: {etype!r} is not supported; "
                f"expected one of {sorted(SUPPORTED)}"
            )
            continue
        unsupported = sorted(set(exp.get("kwargs", {})) & UNSUPPORTED_KWARGS)
        if unsupported:
            problems.append(
                f"{path}: expectations[{i}].kwargs: {', '.join(unsupported)} not "
                f"supported: failing rows must be exactly the rows GX counts"
            )
        missing = [c for c in columns_of(exp.get("kwargs", {})) if c not in names]
        for col in missing:
            problems.append(
                f"{path}: expectations[{i}] ({etype}): column {col!r} "
                f"is not declared in dataset {ds.id}"
            )
        if not missing:  # our own types: their kwargs, against the column and the dataset
            problems += [
                f"{path}: expectations[{i}] ({etype}): {p}" for p in rule_problems(exp, ds)
            ]
    return problems


def load_validated_catalog(
    root: Path | None = None, expectations_dir: Path | None = None
) -> Catalog:
    """The catalog, with every dataset's suite checked too (`serasan catalog validate`); the
    folders default to SERASAN_CATALOG_DIR and SERASAN_EXPECTATIONS_DIR as they are now."""
    exp = expectations_dir or paths.expectations_dir()
    return load_catalog(root or paths.catalog_dir(), exp, lambda ds: check_suite(ds, exp))


def load_catalog_for(
    root: Path | None = None,
    expectations_dir: Path | None = None,
    datasets: Collection[str] = (),
) -> Catalog:
    """The catalog's structure (every YAML file, checked and cross-checked), with the suites of
    `datasets` only: what a command working on one dataset needs.

    `suite scaffold` and `onboard` pass none (the suite they write may not exist yet), `check`
    passes its dataset's; a stale suite of another dataset never blocks them. Only
    `catalog validate` (`load_validated_catalog`) checks every suite.
    """
    wanted = set(datasets)
    exp = expectations_dir or paths.expectations_dir()
    return load_catalog(
        root or paths.catalog_dir(),
        exp,
        lambda ds: check_suite(ds, exp) if ds.id in wanted else [],
    )
