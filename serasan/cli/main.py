"""The `serasan` command: catalog checks, demo data, warehouse upgrade, ingest,
and the demo.

Exit codes: 0 success, 1 a check failed, a load was blocked or a service failed
(one line says which; --verbose shows the traceback), 2 unusable arguments or file.
"""

from __future__ import annotations

import argparse
import sys
import time

from serasan.cli import (
    admin,
    catalog,
    demo,
    evaluation,
    failures,
    ingest,
    onboard,
    publish,
    warehouse,
)
from serasan.cli.demo import DEMO_DATE
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR

__all__ = ["DEMO_DATE", "GROUPS", "build_parser", "main"]

# one module per command group, each with register(subparsers); their order is that of --help
GROUPS = (catalog, onboard, ingest, warehouse, publish, evaluation, admin, demo)


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
    p.add_argument(
        "--verbose",
        action="store_true",
        help="show tracebacks and the Airflow task logs on the terminal (default: in a log file "
        "whose path the error line prints)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:  # `ingest` says itself what a Ctrl-C left; other commands this
        print("dihentikan (interrupted)", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line here, the traceback in a log file
        return failures.report(exc, args.verbose)
    if args.command == "demo":
        print(f"done in {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
