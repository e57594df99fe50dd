"""What the command groups share: the catalog, settings, dates, error exits and parser building.

Kept light on purpose: `serasan --help` imports this module and every group, so the catalog,
the settings (sqlalchemy) and anything heavier are imported only when a handler runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from serasan.common.clock import JAKARTA
from serasan.common.paths import DEFAULT_HOME

if TYPE_CHECKING:
    from serasan.config.catalog import Catalog
    from serasan.config.settings import Settings

Handler = Callable[[argparse.Namespace], int]
# what `ArgumentParser.add_subparsers()` returns; each group's register() adds to it
if TYPE_CHECKING:  # generic in typeshed only; at run time the class takes no parameters
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction

AIRFLOW_HOME = str(DEFAULT_HOME / "airflow")  # default of --airflow-home (ingest, demo)


# -- what handlers use --------------------------------------------------------------------------


def load_catalog(args: argparse.Namespace, suites: Collection[str] | None = None) -> Catalog:
    """The catalog of --catalog checked against the suites of --expectations; exit 1 if broken.

    `suites`: check only these datasets' suites (none: `()`), for commands that work on one
    dataset, so that a stale suite of another never blocks them; None checks every suite.
    """
    from serasan.config.catalog import CatalogError
    from serasan.quality.suites import load_catalog_for, load_validated_catalog

    try:
        if suites is None:
            return load_validated_catalog(Path(args.catalog), Path(args.expectations))
        return load_catalog_for(Path(args.catalog), Path(args.expectations), suites)
    except CatalogError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None


def print_problems(problems: Iterable[str]) -> None:
    problems = list(problems)
    print(f"catalog has {len(problems)} problem(s):", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)


def known(catalog: Catalog, dataset_id: str) -> bool:
    """False, having said why, when the dataset id is not in the catalog (exit 2)."""
    if dataset_id in catalog.datasets:
        return True
    print(f"error: unknown dataset {dataset_id!r}; see `serasan catalog list`", file=sys.stderr)
    return False


def settings() -> Settings:
    """The settings from the environment (SERASAN_*), read when a handler needs them."""
    from serasan.config.settings import Settings

    return Settings.from_env()


def error(message: object, code: int = 2) -> int:
    """Print `error: <message>` to stderr and return the exit code (2: unusable input)."""
    print(f"error: {message}", file=sys.stderr)
    return code


def today() -> dt.date:
    """Today in Asia/Jakarta: the logical date of a run started by hand."""
    return dt.datetime.now(JAKARTA).date()


def date_or_today(value: str | None, default: dt.date | None = None) -> dt.date:
    """A YYYY-MM-DD option, else `default` or today in Asia/Jakarta; ValueError when malformed."""
    return dt.date.fromisoformat(value) if value else default or today()


def checked_date(value: str | None, option: str, default: dt.date | None = None) -> dt.date | None:
    """Like date_or_today, but None after printing what is wrong (the caller exits 2)."""
    try:
        return date_or_today(value, default)
    except ValueError:
        print(f"error: {option} {value!r}: expected a date YYYY-MM-DD", file=sys.stderr)
        return None


def actor(args: argparse.Namespace) -> str:
    """Who runs an operation: --actor, else the login name (recorded in meta.operation)."""
    import getpass

    return args.actor or getpass.getuser()


# -- building the parser ------------------------------------------------------------------------


def _epilog(examples: Iterable[str], notes: str | None) -> str | None:
    lines = [f"  {line}" for e in examples for line in e.splitlines()]
    parts = (["examples:\n" + "\n".join(lines)] if lines else []) + ([notes] if notes else [])
    return "\n\n".join(parts) or None


def command(
    sub: Subparsers,
    name: str,
    func: Handler,
    *,
    help: str,
    description: str,
    examples: Iterable[str] = (),
    notes: str | None = None,
) -> argparse.ArgumentParser:
    """Add a subcommand that runs `func`: `help` is its line in the parent's list, `description`
    one line on top of its own --help, `examples` real command lines in its epilog and `notes`
    (already wrapped) below them."""
    p = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=_epilog(examples, notes),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=func)
    return p


def group(
    sub: Subparsers,
    name: str,
    *,
    help: str,
    description: str,
    examples: Iterable[str] = (),
    dest: str = "action",
) -> Subparsers:
    """Add a command made of subcommands (`serasan <name> <action>`); returns their subparsers."""
    p = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=_epilog(examples, None),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return p.add_subparsers(dest=dest, required=True)


def add_dataset(
    p: argparse.ArgumentParser, help: str = "dataset id, as in `serasan catalog list`"
) -> None:
    p.add_argument("--dataset", required=True, help=help)


def add_json(p: argparse.ArgumentParser, help: str = "print the result as JSON") -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_airflow_home(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--airflow-home",
        default=AIRFLOW_HOME,
        help="Airflow home for the DAG runs and their task logs (default: %(default)s)",
    )
