"""What the regencies publish: `serasan kpi compute`, `serasan export` and `serasan report`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serasan.cli._shared import (
    Subparsers,
    add_json,
    checked_date,
    command,
    error,
    group,
    load_catalog,
    settings,
)

if TYPE_CHECKING:
    from serasan.config.catalog import Catalog

REGENCY_HELP = "slug or kode wilayah (musibanyuasin, 16.06)"
DATE_HELP = "as-of date YYYY-MM-DD (default: today in Asia/Jakarta)"


def _regency_and_date(args: argparse.Namespace, catalog: Catalog) -> tuple[str, dt.date] | None:
    """The regency (slug or kode) and the as-of date of a KPI or report command; None after
    printing what is wrong."""
    kode = next(
        (r.kode for r in catalog.regencies.values() if args.regency in (r.kode, r.slug)), None
    )
    if kode is None:
        known = ", ".join(f"{r.slug} ({r.kode})" for r in catalog.regencies.values())
        error(f"unknown regency {args.regency!r}; known: {known}")
        return None
    date = checked_date(args.date, "--date")
    return None if date is None else (kode, date)


def _run_context(catalog: Catalog, run_date: dt.date) -> Any:
    from serasan.runtime.context import RunContext

    return RunContext(settings=settings(), catalog=catalog, run_date=run_date)


def cmd_kpi_compute(args: argparse.Namespace) -> int:
    """Recompute a regency's KPIs into mart.kpi_value (all periods, or those given)."""
    from serasan.publish import kpi

    catalog = load_catalog(args)
    picked = _regency_and_date(args, catalog)
    if picked is None:
        return 2
    bad = [p for p in args.period or [] if not re.fullmatch(r"\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?", p)]
    if bad:
        return error(f"--period {bad[0]!r}: expected YYYY, YYYY-Qn or YYYY-MM")
    ctx = _run_context(catalog, picked[1])
    try:
        result = kpi.compute(ctx, picked[0], periods=args.period or None)
    except kpi.KpiError as exc:  # a query that returns what its KPI cannot hold: nothing written
        return error(f"{exc}; nothing was written to mart.kpi_value", 1)
    finally:
        ctx.engine.dispose()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['values']} KPI values for {picked[0]} ({result['missing']} missing) "
            "in mart.kpi_value"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the regency's HTML report for a month to the lake (and optionally a file)."""
    from serasan.publish import report

    catalog = load_catalog(args)
    picked = _regency_and_date(args, catalog)
    if picked is None:
        return 2
    if args.period and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.period):
        return error(f"--period {args.period!r}: expected a month YYYY-MM")
    ctx = _run_context(catalog, picked[1])
    result = report.write(ctx, picked[0], args.period)
    if args.out:
        Path(args.out).write_bytes(ctx.lake.get(result["key"]))
    ctx.engine.dispose()
    print(
        json.dumps(result, indent=2)
        if args.json
        else f"report {result['period']} for {picked[0]}: {result['location']}"
        + ("" if result["written"] else " (unchanged)")
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The regency's Satu Data exports, then their CKAN publication where a portal is set: the
    export DAG's `export` and `publish` tasks, through the same functions."""
    from serasan.publish import exports

    catalog = load_catalog(args)
    picked = _regency_and_date(args, catalog)
    if picked is None:
        return 2
    kode, date = picked
    mine = {d.id for d in catalog.datasets_for(kode)}  # a province-scope one covering it too
    unknown = [d for d in args.dataset or [] if d not in mine]
    if unknown:
        return error(
            f"--dataset {unknown[0]!r} is not a dataset of {kode}; its datasets: "
            + ", ".join(sorted(mine))
        )
    bad = [p for p in args.period or [] if not re.fullmatch(r"\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?", p)]
    if bad:
        return error(f"--period {bad[0]!r}: expected YYYY, YYYY-Qn or YYYY-MM")
    datasets, periods = args.dataset or None, args.period or None
    ctx = _run_context(catalog, date)
    result = exports.export_regency(ctx, kode, datasets, periods)
    publish = bool(ctx.settings.ckan_url) and not args.no_publish
    result["published"] = exports.publish_regency(ctx, kode, datasets) if publish else {}
    ctx.engine.dispose()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        for ds_id, r in result["datasets"].items():
            print(
                f"{ds_id}: {r['written']} period(s) written, {r['unchanged']} unchanged"
                + (
                    f", held back for personal data: {', '.join(r['blocked'])}"
                    if r["blocked"]
                    else ""
                )
                + (f", withdrawn: {', '.join(r['withdrawn'])}" if r["withdrawn"] else "")
            )
        where = ctx.lake.location(f"exports/{catalog.regency(kode).slug}/")
        print(f"exports of {kode} in {where}")
        if publish:
            print(
                f"published to {ctx.settings.ckan_url}: {', '.join(result['published']) or 'none'}"
            )
        elif args.no_publish:
            print("not published (--no-publish)")
        else:
            print("not published: no CKAN portal is configured (SERASAN_CKAN_URL)")
    return 1 if result["periods_blocked"] else 0


def register(sub: Subparsers) -> None:
    kp = group(
        sub,
        "kpi",
        help="pillar KPIs",
        description="The six pillars' KPIs of a regency, in mart.kpi_value.",
        examples=["serasan kpi compute --regency musibanyuasin"],
        dest="kpi_command",
    )
    kc = command(
        kp,
        "compute",
        cmd_kpi_compute,
        help="recompute a regency's KPIs into mart.kpi_value",
        description="Recompute a regency's KPIs into mart.kpi_value: all periods, or those given.",
        examples=[
            "serasan kpi compute --regency musibanyuasin",
            "serasan kpi compute --regency 16.03 --period 2026-Q3 --period 2026-10 --json",
        ],
    )
    kc.add_argument("--regency", required=True, help=REGENCY_HELP)
    kc.add_argument(
        "--period",
        action="append",
        help="YYYY, YYYY-Qn or YYYY-MM; repeat for several (default: all)",
    )
    kc.add_argument("--date", help=DATE_HELP)
    add_json(kc, "print the counts of values computed and missing as JSON")

    ex = command(
        sub,
        "export",
        cmd_export,
        help="write a regency's Satu Data exports and publish them to CKAN",
        description="Write a regency's Satu Data exports to the lake, then publish them to CKAN "
        "where configured.",
        examples=[
            "serasan export --regency musibanyuasin",
            "serasan export --regency 16.03 --dataset muaraenim_produksi_karet --period 2025 "
            "--json",
            "serasan export --regency musibanyuasin --period 2026-10 --no-publish",
        ],
        notes="The export DAG's `export` and `publish` tasks, run through the same functions\n"
        "with the settings of the environment (SERASAN_*). Unchanged periods write nothing.\n"
        "Exit 1 when a period is held back because a cell looks like personal data.",
    )
    ex.add_argument("--regency", required=True, help=REGENCY_HELP)
    ex.add_argument(
        "--dataset", action="append", help="only this dataset (repeatable; default: all)"
    )
    ex.add_argument(
        "--period",
        action="append",
        help="only this period, YYYY, YYYY-Qn or YYYY-MM as the dataset's cadence names it "
        "(repeatable; default: all)",
    )
    ex.add_argument("--date", help=DATE_HELP)
    ex.add_argument("--no-publish", action="store_true", help="write the exports only")
    add_json(ex, "print what was written and published as JSON")

    rp = command(
        sub,
        "report",
        cmd_report,
        help="write a regency's HTML report for a month to the lake",
        description="Write a regency's HTML report for a month to the lake (--out: a file too).",
        examples=[
            "serasan report --regency musibanyuasin",
            "serasan report --regency muaraenim --period 2026-10 --out /tmp/report.html",
        ],
    )
    rp.add_argument("--regency", required=True, help=REGENCY_HELP)
    rp.add_argument("--period", help="month YYYY-MM (default: the last month before --date)")
    rp.add_argument("--date", help=DATE_HELP)
    rp.add_argument("--out", help="also write the HTML to this file")
    add_json(rp, "print where the report went as JSON")
