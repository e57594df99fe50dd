"""Demo data: `serasan generate` (synthetic OPD files) and `serasan demo` (every DAG on them)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from serasan.cli._shared import (
    Subparsers,
    add_airflow_home,
    command,
    error,
    load_catalog,
    settings,
)

DEMO_DATE = dt.date(2026, 11, 1)  # the demo and the tests run "as of" this logical date


def cmd_generate(args: argparse.Namespace) -> int:
    from serasan.demo.generate import generate

    catalog = load_catalog(args)
    try:
        files = generate(
            Path(args.out),
            catalog,
            dataset_ids=args.dataset or None,
            rows=args.rows,
            fmt=args.format,
            defect_rate=args.defect_rate,
            seed=args.seed,
        )
    except ValueError as exc:
        return error(exc)
    for f in files:
        defects = ", ".join(f"{k}={v}" for k, v in sorted(f.defects.items()) if v) or "none"
        print(f"{f.path}: {f.rows} rows, defects: {defects}")
        if f.short:
            print(f.short, file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from serasan.demo.run import run_demo

    return run_demo(
        load_catalog(args),
        settings(),
        Path(args.airflow_home),
        date=dt.date.fromisoformat(args.date),
        defect_rate=args.defect_rate,
        workdir=Path(tempfile.mkdtemp(prefix="serasan-demo-")),
        verbose=args.verbose,
    )


def register(sub: Subparsers) -> None:
    gen = command(
        sub,
        "generate",
        cmd_generate,
        help="write synthetic OPD files for the demo and tests",
        description="Write synthetic OPD files, defects at a chosen rate, for the demo and tests.",
        examples=[
            "serasan generate --out /tmp/opd",
            "serasan generate --out /tmp/opd --dataset muba_bank_sampah --format csv \\\n"
            "  --rows 200 --defect-rate 0.05",
        ],
    )
    gen.add_argument("--out", required=True, help="folder to write the files into")
    gen.add_argument("--dataset", action="append", help="dataset id (repeatable; default all)")
    gen.add_argument(
        "--rows", type=int, help="rows per file (default: a realistic size per dataset)"
    )
    gen.add_argument(
        "--format",
        choices=["xlsx", "csv"],
        default="xlsx",
        help="file format (default: %(default)s)",
    )
    gen.add_argument(
        "--defect-rate",
        type=float,
        default=0.0,
        help="share of rows given a defect, 0 to 1 (default: %(default)s)",
    )
    gen.add_argument(
        "--seed",
        type=int,
        default=42,
        help="random seed; same seed, same files (default: %(default)s)",
    )

    demo = command(
        sub,
        "demo",
        cmd_demo,
        help="run every DAG of both regencies on demo data",
        description="Generate OPD files, put them in the inboxes, run every DAG of both regencies.",
        examples=["serasan demo", "serasan demo --date 2026-11-01 --defect-rate 0.1"],
    )
    demo.add_argument(
        "--date",
        default=DEMO_DATE.isoformat(),
        help="logical date YYYY-MM-DD of the runs (default: %(default)s)",
    )
    demo.add_argument(
        "--defect-rate",
        type=float,
        default=0.03,
        help="share of generated rows given a defect, 0 to 1 (default: %(default)s)",
    )
    add_airflow_home(demo)
