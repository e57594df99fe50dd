"""The catalog: loaded, then the same checks as `serasan catalog validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from serasan.admin.doctor.report import Check
from serasan.admin.doctor.scrub import first_line
from serasan.quality.suites import load_validated_catalog


def check_catalog(catalog_dir: Path, expectations_dir: Path) -> tuple[Check, Any]:
    from serasan.config.catalog import CatalogError
    from serasan.publish.kpi import check_queries
    from serasan.quality.registry import check_registry_refs

    try:
        catalog = load_validated_catalog(catalog_dir, expectations_dir)
    except CatalogError as exc:
        return _catalog_fail(catalog_dir, exc.problems), None
    except Exception as exc:  # an unreadable folder, a YAML the loader chokes on
        return _catalog_fail(catalog_dir, [f"{catalog_dir}: {first_line(exc)}"]), None
    problems = check_registry_refs(catalog) + check_queries(catalog)
    if problems:
        return _catalog_fail(catalog_dir, problems), catalog
    return Check(
        "catalog",
        "ok",
        f"catalog OK: {len(catalog.regencies)} regencies, "
        f"{len(catalog.datasets)} datasets, {len(catalog.kpis)} KPIs ({catalog_dir})",
        {"root": str(catalog_dir)},
    ), catalog


def _catalog_fail(root: Path, problems: list[str]) -> Check:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Check(
        "catalog",
        "fail",
        f"catalog at {root} has {len(problems)} problem(s): "
        f"{problems[0]}{more}; fix them (`serasan catalog validate` lists all)",
        {"root": str(root), "problems": problems},
    )
