"""Changing what the warehouse and lake hold: `serasan warehouse upgrade`, `retract`,
`reprocess` and `retention`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from serasan.cli._shared import (
    Subparsers,
    actor,
    add_dataset,
    add_json,
    checked_date,
    command,
    error,
    group,
    known,
    load_catalog,
    settings,
    today,
)

REASON_HELP = "why (recorded in meta.operation)"
ACTOR_HELP = "who (default: the login name)"


def cmd_warehouse_upgrade(args: argparse.Namespace) -> int:
    from serasan.warehouse.db import WarehouseNotUpgraded, make_engine, upgrade
    from serasan.warehouse.evolution import SchemaChangeRefused

    s = settings()
    try:
        changes = upgrade(make_engine(s.warehouse_url), load_catalog(args))
    except (SchemaChangeRefused, WarehouseNotUpgraded) as exc:
        return error(exc, 1)
    for change in changes or []:
        print(f"applied: {change}")
    print(f"warehouse upgraded\n{s.describe()}")
    return 0


def _print_operation(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        return
    print(
        f"operation {result['operation_id']} ({result['kind']}) on {result['dataset']}, "
        "recorded in meta.operation"
    )
    if result["kind"] == "retract":
        print(
            f"  load {result['load_id']} withdrawn: {result['rows_removed']} row(s) removed, "
            f"{result['rows_restored']} restored"
            + (f" from {', '.join(result['restored_from'])}" if result["restored_from"] else "")
        )
    else:
        print(
            f"  period {result['period']}: {len(result['loads'])} load(s) reprocessed "
            f"(undone newest first: {', '.join(result['undone_order'])})"
        )
        for x in result["loads"]:
            print(
                f"  {x['load_id']}: {x['status_before']} -> {x['status_after']}, rows loaded "
                f"{x['rows_loaded_before']} -> {x['rows_loaded_after']}"
            )
    print("  KPIs and exports follow on their DAGs' next run")


def _operation(args: argparse.Namespace, run: Callable[[], dict[str, Any]]) -> int:
    """Run a warehouse operation; 1 when refused (later loads first), 2 when it cannot run.
    Either way nothing changed."""
    from serasan.lake.store import LakeError
    from serasan.parse.reader import ParseError
    from serasan.pipeline.corrections import OperationError, RetractRefused

    try:
        result = run()
    except RetractRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except (OperationError, ParseError, KeyError) as exc:
        return error(exc)
    except LakeError as exc:  # e.g. the raw file is gone: retention deleted it (its audit says)
        return error(
            f"{exc}; if the retention job deleted it, meta.retention_audit records when and why"
        )
    _print_operation(result, args.json)
    return 0


def cmd_retract(args: argparse.Namespace) -> int:
    """Withdraw a load by its id: its rows leave, the rows it replaced come back."""
    from serasan.pipeline.corrections import retract
    from serasan.warehouse.db import make_engine

    catalog = load_catalog(args)
    engine = make_engine(settings().warehouse_url)
    return _operation(
        args, lambda: retract(engine, catalog, args.load_id, actor(args), args.reason)
    )


def cmd_reprocess(args: argparse.Namespace) -> int:
    """Transform and load a dataset's period again from its raw objects (after a suite or
    parser change); one warehouse transaction. Its progress, file by file, on standard error."""
    from serasan.common.progress import stderr_tracking
    from serasan.pipeline.corrections import reprocess
    from serasan.runtime.context import RunContext

    catalog = load_catalog(args)
    if not known(catalog, args.dataset):
        return 2
    # each load runs again as of its own logical date; run_date is only the fallback
    ctx = RunContext(settings=settings(), catalog=catalog, run_date=today(), dag_id="serasan-cli")
    return _operation(
        args,
        lambda: reprocess(
            ctx, args.dataset, args.period, actor(args), args.reason, track=stderr_tracking
        ),
    )


def cmd_retention(args: argparse.Namespace) -> int:
    """Delete raw and quarantined objects holding personal data once their retention has
    passed, each recorded in meta.retention_audit; 1 when some delete failed."""
    from serasan.admin.retention import render, run_retention
    from serasan.lake.store import open_lake
    from serasan.warehouse.db import make_engine

    catalog = load_catalog(args)
    now = today()
    as_of = checked_date(args.as_of, "--as-of", default=now)
    if as_of is None:
        return 2
    if as_of > now and not args.dry_run:
        return error(
            f"--as-of {as_of} is after today ({now} in Asia/Jakarta): retention "
            "never deletes early; use --dry-run to preview"
        )
    s = settings()
    engine = make_engine(s.warehouse_url)
    result = run_retention(open_lake(s), engine, catalog, as_of, actor(args), dry_run=args.dry_run)
    engine.dispose()
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else render(result))
    return 1 if result["failed"] else 0


def register(sub: Subparsers) -> None:
    wh = group(
        sub,
        "warehouse",
        help="warehouse schema",
        description="The warehouse schema: migrations, roles and one fact table per dataset.",
        examples=["serasan warehouse upgrade"],
    )
    command(
        wh,
        "upgrade",
        cmd_warehouse_upgrade,
        help="apply migrations and catalog fact tables",
        description="Apply the migrations, roles and the catalog's fact tables (as an owner).",
        examples=[
            "serasan warehouse upgrade",
            "SERASAN_WAREHOUSE_URL=postgresql://owner@db/serasan serasan warehouse upgrade",
        ],
    )

    ret = command(
        sub,
        "retract",
        cmd_retract,
        help="withdraw a load by its id, restoring the state before it",
        description="Withdraw a load by its id: its rows leave, the rows it replaced come back.",
        examples=[
            "serasan retract muba_bank_sampah-3f9a1c2b7d4e5f60 --reason 'wrong month'",
            "serasan retract muba_bank_sampah-3f9a1c2b7d4e5f60 --reason duplicate \\\n"
            "  --actor budi --json",
        ],
    )
    ret.add_argument("load_id", help="as in meta.load_run.load_id (<dataset>-<sha256[:16]>)")
    ret.add_argument("--reason", required=True, help=REASON_HELP)
    ret.add_argument("--actor", help=ACTOR_HELP)
    add_json(ret, "print the operation's record as JSON")

    rep = command(
        sub,
        "reprocess",
        cmd_reprocess,
        help="parse, validate and load a dataset's period again from its raw objects",
        description="Parse, validate and load again, from its raw objects, every load of a period.",
        examples=[
            "serasan reprocess --dataset muba_bank_sampah --period 2026-10 --reason fix",
            "serasan reprocess --dataset muaraenim_produksi_karet --period 2025 \\\n"
            "  --reason 'parser change' --json",
        ],
    )
    add_dataset(rep)
    rep.add_argument(
        "--period", required=True, help="YYYY, YYYY-MM or YYYY-MM-DD: every load covering it"
    )
    rep.add_argument("--reason", required=True, help=REASON_HELP)
    rep.add_argument("--actor", help=ACTOR_HELP)
    add_json(rep, "print the operation's record as JSON")

    rtn = command(
        sub,
        "retention",
        cmd_retention,
        help="delete raw and quarantined personal data past the "
        "catalog's retention, recording each in meta.retention_audit",
        description="Delete raw and quarantined personal data past retention, and old dumps.",
        examples=[
            "serasan retention --dry-run",
            "serasan retention --as-of 2026-11-01 --actor budi --json",
        ],
    )
    rtn.add_argument("--dry-run", action="store_true", help="list what is due; change nothing")
    rtn.add_argument("--as-of", help="reference date YYYY-MM-DD (default: today in Asia/Jakarta)")
    rtn.add_argument("--actor", help=ACTOR_HELP)
    add_json(rtn, "print what was (or would be) deleted as JSON")
