"""Every check, in order, each kept from breaking the others; the report scrubbed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from serasan.admin.doctor.backups import check_backups
from serasan.admin.doctor.catalog import check_catalog
from serasan.admin.doctor.ckan import check_ckan
from serasan.admin.doctor.lake import check_lake
from serasan.admin.doctor.pii import check_pii
from serasan.admin.doctor.report import Check
from serasan.admin.doctor.scrub import Scrubber, first_line
from serasan.admin.doctor.smtp import check_smtp
from serasan.admin.doctor.warehouse import check_warehouse
from serasan.config.settings import Settings

TIMEOUT = 4.0  # seconds, per network call


def run_doctor(
    settings: Settings,
    catalog_dir: Path | None = None,
    expectations_dir: Path | None = None,
    *,
    timeout: float = TIMEOUT,
    env: Any = None,
) -> list[Check]:
    """Every check, in order; nothing raises for a broken service."""
    from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR

    scrub = Scrubber(settings)
    catalog_check, catalog = check_catalog(
        Path(catalog_dir or CATALOG_DIR), Path(expectations_dir or EXPECTATIONS_DIR)
    )
    checks = [catalog_check]
    lake_ok = [False]

    def lake() -> list[Check]:
        found = check_lake(settings, scrub, timeout)
        lake_ok[0] = found.status == "ok"
        return [found]

    for name, run in (
        ("lake", lake),
        ("warehouse", lambda: check_warehouse(settings, catalog, scrub, timeout)),
        ("smtp", lambda: [check_smtp(settings, scrub, timeout)]),
        ("ckan", lambda: [check_ckan(settings, catalog, scrub, timeout)]),
        ("pii", lambda: [check_pii(settings, catalog)]),
        ("backups", lambda: [check_backups(settings, lake_ok[0], env)]),
    ):
        try:
            checks += run()
        except Exception as exc:  # a check's own bug must not hide the others
            checks.append(
                Check(
                    name,
                    "fail",
                    f"the {name} check crashed: {type(exc).__name__}: {scrub(first_line(exc))}",
                )
            )
    for c in checks:
        c.message = scrub(c.message)
        c.details = json.loads(scrub(json.dumps(c.details, default=str)))
    return checks
