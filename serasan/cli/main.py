"""The `serasan` command: catalog checks, demo data, warehouse upgrade, ingest,
and the demo.

Exit codes: 0 success, 1 a check failed or a load was blocked, 2 unusable
arguments or file.
"""

from __future__ import annotations

import argparse
import time

from serasan.cli import admin, catalog, demo, ingest, onboard, publish, warehouse
from serasan.cli.demo import DEMO_DATE
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR

__all__ = ["DEMO_DATE", "GROUPS", "build_parser", "main"]

# one module per command group, each with register(subparsers); their order is that of --help
GROUPS = (catalog, onboard, ingest, warehouse, publish, admin, demo)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="serasan",
        description=__doc__,
        epilog="`serasan <command> --help` shows a command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--catalog", default=str(CATALOG_DIR), help="catalog folder (default: %(default)s)"
    )
    p.add_argument(
        "--expectations",
        default=str(EXPECTATIONS_DIR),
        help="GX suites folder (default: %(default)s)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    code: int = args.func(args)
    if args.command == "demo":
        print(f"done in {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
