"""`serasan onboard`: a draft dataset YAML and GX suite from a sample file, to review."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from serasan.cli._shared import Subparsers, checked_date, command, error, load_catalog


def cmd_onboard(args: argparse.Namespace) -> int:
    from serasan.config.catalog import PILLARS
    from serasan.parse.sniff import ParseError
    from serasan.quality.onboard import OnboardError, draft, render

    path = Path(args.file)
    if not path.is_file():
        return error(f"{path}: no such file")
    if args.pillar not in PILLARS:
        return error(f"--pillar {args.pillar!r}: expected one of {', '.join(PILLARS)}")
    run_date = checked_date(args.date, "--date")
    if run_date is None:
        return 2
    # the catalog's structure only: the dataset is new, and no suite, its own or another
    # dataset's, stands in the way of drafting it
    catalog = load_catalog(args, suites=())
    if args.id in catalog.datasets and not args.force:
        return error(
            f"dataset {args.id!r} is already in the catalog ({catalog.files[f'dataset:{args.id}']}); "
            "choose another --id, or --force to draft over it"
        )
    try:
        d = draft(
            path.read_bytes(),
            path.name,
            catalog,
            args.id,
            args.regency,
            args.opd,
            args.pillar,
            title=args.title,
            check=not args.no_check,
            run_date=run_date,
            scope=args.scope,
        )
    except (OnboardError, ParseError) as exc:
        return error(exc)
    out = Path(args.out) if args.out else None
    try:
        written = d.write(Path(args.catalog), Path(args.expectations), out, force=args.force)
    except FileExistsError as exc:
        return error(exc)
    if args.json:
        print(
            json.dumps(
                {
                    "dataset": d.dataset_id,
                    "written": [str(p) for p in written],
                    "rows": len(d.sample.rows),
                    "header_row": d.sample.header_row,
                    "columns": {c.name: c.type for c in d.dataset.columns},
                    "primary_key": d.key,
                    "key_unique": d.key_unique,
                    "key_candidates": [list(k) for k in d.key_candidates],
                    "region": None
                    if d.region is None
                    else {
                        "column": d.region.column,
                        "declared": d.region_declared,
                        "level": d.region.level or d.region.shape_level,
                        "scheme": d.region.scheme,
                        "distinct": d.region.distinct,
                        "resolved": {k: c.resolved for k, c in d.region.counts.items()},
                    },
                    "check": d.check,
                },
                indent=2,
                ensure_ascii=False,
                default=str,
            )
        )
    else:
        print(render(d, written))
        print(
            "next: review both files, then `serasan catalog validate` and "
            f"`serasan check --dataset {d.dataset_id} {path}`"
        )
    return 0


def register(sub: Subparsers) -> None:
    ob = command(
        sub,
        "onboard",
        cmd_onboard,
        help="draft a dataset YAML and GX suite from a sample file",
        description="Draft a dataset's catalog YAML and GX suite from a sample file, to review.",
        examples=[
            "serasan onboard sampah-2026.xlsx --id muba_sampah_desa --regency musibanyuasin \\\n"
            "  --opd dlh --pillar environment",
            "serasan onboard 'Nikah dan Cerai 2022.csv' --id sumsel_nikah_cerai --regency 16.03 \\\n"
            "  --scope 16 --opd dinsos --pillar society --out /tmp/draft --json",
        ],
        notes="The file is read as the parser reads it (title rows, a header merged over two\n"
        "rows, Indonesian numbers and dates). Every column gets a type and nullability, the\n"
        "region column and its scheme are found by content, the key is the fewest columns\n"
        "that are unique, numbers get ranges and short text columns their allowed values;\n"
        "each guess is a YAML comment saying what it rests on. The draft passes `catalog\n"
        "validate`, and onboard reports what `serasan check` gives on the sample with it.\n"
        "Files are written to catalog/datasets/<id>.yaml and expectations/<id>.json (or\n"
        "--out DIR), never over an existing one without --force.",
    )
    ob.add_argument("file", help="the sample file (.xlsx or .csv)")
    ob.add_argument(
        "--id", required=True, help="the new dataset's id (lower_case_with_underscores)"
    )
    ob.add_argument("--regency", required=True, help="slug or kode (musibanyuasin, 16.06)")
    ob.add_argument("--opd", required=True, help="the OPD's code in the regency's YAML")
    ob.add_argument(
        "--scope",
        help="a province code (16) when the file covers the whole province, not one regency",
    )
    ob.add_argument("--pillar", required=True, help="governance, branding, economy, living, ...")
    ob.add_argument("--title", help="the dataset's title (default: from the file name)")
    ob.add_argument("--out", help="write both files into this folder instead")
    ob.add_argument("--force", action="store_true", help="overwrite existing files")
    ob.add_argument("--no-check", action="store_true", help="skip `check` on the sample")
    ob.add_argument("--date", help="as-of date of that check YYYY-MM-DD (default: today)")
    ob.add_argument("--json", action="store_true", help="print what was found as JSON")
