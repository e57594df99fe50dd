"""`serasan evaluation`: a regency's smart-city evaluation pack for a year, into the lake."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from serasan.cli._shared import (
    Subparsers,
    add_json,
    checked_date,
    command,
    error,
    load_catalog,
    settings,
)

if TYPE_CHECKING:
    from serasan.config.settings import Settings

REGENCY_HELP = "slug or kode wilayah (musibanyuasin, 16.06)"


def cmd_evaluation(args: argparse.Namespace) -> int:
    """Build the pack (HTML, PDF, evidence ZIP) and write it to the lake unless unchanged."""
    from serasan.publish.evaluation import pack
    from serasan.publish.evaluation.period import Window, default_year
    from serasan.runtime.context import RunContext

    catalog = load_catalog(args)
    kode = next(
        (r.kode for r in catalog.regencies.values() if args.regency in (r.kode, r.slug)), None
    )
    if kode is None:
        known = ", ".join(f"{r.slug} ({r.kode})" for r in catalog.regencies.values())
        return error(f"unknown regency {args.regency!r}; known: {known}")
    date = checked_date(args.date, "--date")
    if date is None:
        return 2
    if args.year is not None and not re.fullmatch(r"\d{4}", args.year):
        return error(f"--year {args.year!r}: expected a year YYYY")
    year = default_year(date) if args.year is None else int(args.year)
    try:
        Window(year, date)
    except ValueError as exc:
        return error(f"--year {year}: {exc}")
    conf = settings()
    if problem := missing_tools(conf):
        return error(problem)
    ctx = RunContext(settings=conf, catalog=catalog, run_date=date)
    try:
        result = pack.write(ctx, kode, year)
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for key in result["keys"].values():
                (out / key.rsplit("/", 1)[-1]).write_bytes(ctx.lake.get(key))
    finally:
        ctx.engine.dispose()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    partial = " (tahun belum lengkap)" if result["partial"] else ""
    state = "written" if result["written"] else "unchanged"
    print(
        f"evaluation pack {result['year']}{partial} for {kode}, as of {result['as_of']}: "
        f"{state}, PDF {result['pdf_bytes']:,} bytes, ZIP {result['zip_bytes']:,} bytes, "
        f"{result['seconds']} s"
    )
    for key in result["keys"].values():
        print(f"  {ctx.lake.location(key)}")
    return 0


def missing_tools(conf: Settings) -> str | None:
    """What the pack cannot be built without, said before any work: the pseudonym key (the
    quotes' row ids) and a Chromium to print the PDF. After `make demo` the demo's own key is
    in SERASAN_HOME; it is pointed to, never read for the user."""
    from serasan.common.paths import DEFAULT_HOME
    from serasan.publish.evaluation.options import chromium

    if not conf.pii_key:
        demo_key = Path(os.environ.get("SERASAN_HOME") or DEFAULT_HOME) / "pii-demo.key"
        hint = (
            f"; the demo's key is in {demo_key}: SERASAN_PII_KEY=$(cat {demo_key})"
            if demo_key.exists()
            else ""
        )
        return (
            "no pseudonym key configured (the quotes' row ids are made with it): set "
            f"SERASAN_PII_KEY or the password of the Airflow connection `serasan_pii`{hint}"
        )
    try:
        chromium()
    except FileNotFoundError as exc:
        return str(exc)
    return None


def register(sub: Subparsers) -> None:
    ev = command(
        sub,
        "evaluation",
        cmd_evaluation,
        help="write a regency's smart-city evaluation pack for a year to the lake",
        description="Write a regency's smart-city evaluation pack (HTML, PDF printed by headless "
        "Chromium, ZIP evidence bundle) for a year to the lake.",
        examples=[
            "serasan evaluation --regency musibanyuasin",
            "serasan evaluation --regency 16.03 --year 2026 --date 2026-11-01 --out /tmp/pack",
        ],
        notes="Written to reports/<slug>/evaluasi/<year>/ in the lake; a pack whose content\n"
        "(the HTML and the CSVs, by sha256) is unchanged is not printed or written again.\n"
        "A year not ended by --date is partial, and every page says so. Needs Chromium\n"
        "(SERASAN_CHROMIUM or `chromium` on the PATH) and, for the quotes' row ids, the\n"
        "pseudonym key (SERASAN_PII_KEY or the Airflow connection serasan_pii).",
    )
    ev.add_argument("--regency", required=True, help=REGENCY_HELP)
    ev.add_argument(
        "--year", help="YYYY (default: the last complete year before --date)", default=None
    )
    ev.add_argument("--date", help="as-of date YYYY-MM-DD (default: today in Asia/Jakarta)")
    ev.add_argument("--out", help="also copy the pack's four files into this folder")
    add_json(ev, "print what was written as JSON")
