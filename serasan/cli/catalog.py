"""`serasan catalog validate|list` and `serasan suite scaffold`: the catalog and its GX suites."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from serasan.cli._shared import (
    Subparsers,
    add_dataset,
    add_json,
    command,
    group,
    known,
    load_catalog,
    print_problems,
)


def cmd_catalog_validate(args: argparse.Namespace) -> int:
    from serasan.publish.kpi import check_queries
    from serasan.quality.registry import check_registry_refs

    catalog = load_catalog(args)
    problems = check_registry_refs(catalog) + check_queries(catalog) + _theme_problems(catalog)
    if problems:
        print_problems(problems)
        return 1
    for ds_id in sorted(catalog.datasets):  # allowed: the always-on checks still run
        if not catalog.suites[ds_id].get("expectations"):
            print(
                f"note: {ds_id}: the suite has no expectations; only the catalog's always-on "
                "checks (key not empty and unique, region codes) run on its files",
                file=sys.stderr,
            )
    print(
        f"catalog OK: {len(catalog.regencies)} regencies, {len(catalog.datasets)} datasets, "
        f"{len(catalog.kpis)} KPIs, {len(catalog.programmes)} programmes"
    )
    return 0


def _theme_problems(catalog: Any) -> list[str]:
    """catalog/themes.yaml reads, and names only programmes the catalog declares."""
    from serasan.voice.themes import ThemeError, load_themes

    path = catalog.root / "themes.yaml"
    if not path.exists():
        return []
    try:
        book = load_themes(path)
    except ThemeError as exc:
        return [str(exc)]
    return [
        f"{path}: programmes.{code}: not a programme of catalog/programmes.yaml"
        for code in book.unknown_programmes(list(catalog.programmes))
    ]


def cmd_catalog_list(args: argparse.Namespace) -> int:
    catalog = load_catalog(args)
    rows = [
        {
            "id": d.id,
            "regency": d.regency,
            "regency_name": catalog.regency(d.regency).name,
            "opd": d.opd,
            "pillar": d.pillar,
            "cadence": d.cadence,
            "quality_policy": d.quality_policy,
            "load_mode": d.load_mode,
        }
        for d in sorted(catalog.datasets.values(), key=lambda d: (d.regency, d.id))
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    cols = ["id", "regency", "opd", "pillar", "cadence"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    return 0


def cmd_suite_scaffold(args: argparse.Namespace) -> int:
    from serasan.config.catalog import suite_path
    from serasan.quality.scaffold import write_suite

    catalog = load_catalog(args, suites=())  # the suite may not exist yet: it is written here
    if not known(catalog, args.dataset):
        return 2
    out = Path(args.out) if args.out else suite_path(args.dataset, Path(args.expectations))
    try:
        write_suite(catalog, catalog.dataset(args.dataset), out, overwrite=args.force)
    except FileExistsError:
        print(f"error: {out} exists; use --force to overwrite it", file=sys.stderr)
        return 2
    print(f"suite written: {out} (review it like code)")
    return 0


def register(sub: Subparsers) -> None:
    cat = group(
        sub,
        "catalog",
        help="check or list the catalog",
        description="Check the catalog (regencies, OPDs, datasets, KPIs) or list its datasets.",
        examples=["serasan catalog validate", "serasan catalog list --json"],
    )
    command(
        cat,
        "validate",
        cmd_catalog_validate,
        help="check schema, references, suites and KPI queries",
        description="Check the catalog's schema, references, suites and KPI queries; "
        "exit 1 if wrong.",
        examples=[
            "serasan catalog validate",
            "serasan --catalog ./catalog --expectations ./expectations catalog validate",
        ],
    )
    lst = command(
        cat,
        "list",
        cmd_catalog_list,
        help="list datasets",
        description="List the catalog's datasets: id, regency, OPD, pillar and cadence.",
        examples=["serasan catalog list", "serasan catalog list --json"],
    )
    add_json(lst, "print every dataset as JSON, with its policy and load mode")

    suite = group(
        sub,
        "suite",
        help="GX suites",
        description="Great Expectations suites, one per dataset, under --expectations.",
        examples=["serasan suite scaffold --dataset muba_bank_sampah --out /tmp/suite.json"],
    )
    scf = command(
        suite,
        "scaffold",
        cmd_suite_scaffold,
        help="write a starting suite from the catalog",
        description="Write a starting GX suite for a dataset from its catalog columns.",
        examples=[
            "serasan suite scaffold --dataset muba_bank_sampah --out /tmp/suite.json",
            "serasan suite scaffold --dataset muba_bank_sampah --force",
        ],
    )
    add_dataset(scf)
    scf.add_argument("--out", help="output file (default expectations/<dataset>.json)")
    scf.add_argument("--force", action="store_true", help="overwrite an existing suite")
