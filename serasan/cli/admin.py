"""Running the platform: `serasan doctor`, `backup [list|restore]`, `metrics` and
`alerts drain|status`."""

from __future__ import annotations

import argparse
import json
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
    today,
)

if TYPE_CHECKING:
    from serasan.config.catalog import Catalog


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the catalog, lake, warehouse, SMTP, CKAN, PII key and backups; 1 when one fails."""
    from serasan.admin.doctor import as_json, failed, render, run_doctor

    checks = run_doctor(
        s := settings(),
        Path(args.catalog),
        Path(args.expectations),
        timeout=args.timeout or s.connect_timeout_s,
    )
    print(as_json(checks) if args.json else render(checks))
    return 1 if failed(checks) else 0


def cmd_metrics(args: argparse.Namespace) -> int:
    """Print Serasan's metrics (Prometheus text or JSON), or send them to StatsD with --send."""
    from serasan.admin import metrics
    from serasan.warehouse.db import make_engine

    catalog = load_catalog(args)
    s = settings()
    engine = make_engine(s.warehouse_url)
    ms = metrics.collect(engine, catalog, today())
    engine.dispose()
    if args.send:
        if not s.statsd_host:
            return error("--send needs SERASAN_STATSD_HOST (and SERASAN_STATSD_PORT, default 8125)")
        n = metrics.send_statsd(ms, s.statsd_host, s.statsd_port)
        print(f"{len(ms)} gauges in {n} datagram(s) to {s.statsd_host}:{s.statsd_port}")
    elif args.json:
        print(
            json.dumps(
                [{"name": m.name, "value": m.value, "labels": m.labels} for m in ms], indent=2
            )
        )
    else:
        print(metrics.prometheus(ms), end="")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Dump the warehouse into the lake (or --out DIR) and copy the lake to the backup target;
    each phase's progress on standard error (a bar on a terminal, else a line per step)."""
    from serasan.admin.backup import BackupError, render, run_backup, target_settings
    from serasan.common.progress import stderr_tracking
    from serasan.lake.store import LakeError

    s = settings()
    try:
        summary = run_backup(
            s,
            out=Path(args.out) if args.out else None,
            target=target_settings(s, url=args.target),
            lake_only=args.lake_only,
            no_lake=args.no_lake,
            full=args.full,
            track=stderr_tracking,
        )
    except (BackupError, LakeError) as exc:
        return error(exc, 1)
    print(json.dumps(summary, indent=2, ensure_ascii=False) if args.json else render(summary))
    return 0


def cmd_backup_list(args: argparse.Namespace) -> int:
    from serasan.admin.backup import list_dumps
    from serasan.lake.store import LocalLake, open_lake

    lake = LocalLake(args.out) if args.out else open_lake(settings())
    dumps = list_dumps(lake)
    if args.json:
        print(json.dumps(dumps, indent=2))
        return 0
    for d in dumps:
        print(
            f"{d['day']}  {d['key']}  {d['size_bytes']} bytes  revision "
            f"{d['alembic_revision']}  sha256 {d['sha256'][:12]}"
        )
    if not dumps:
        print(f"no warehouse dump in {lake.location('backups/warehouse/')}")
    return 0


def cmd_backup_restore(args: argparse.Namespace) -> int:
    """Restore a dump into an empty database and compare every table with its manifest."""
    from serasan.admin.backup import BackupError, restore
    from serasan.lake.store import LakeError, open_lake

    try:
        lake = None if Path(args.dump).is_file() else open_lake(settings())
        result = restore(args.dump, args.into, lake=lake)
    except (BackupError, LakeError) as exc:
        return error(exc)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"restored {result['dump']} into {result['into']}: {result['tables']} tables, "
            f"{result['rows']} rows, revision {result['alembic_revision']}; "
            + (
                "every table equals the dump's manifest"
                if result["equal"]
                else "DIFFERENT from the manifest:"
            )
        )
        for d in result["differences"]:
            print(f"  {d}")
        if result["next"]:
            print(f"  next: {result['next']}")
    return 0 if result["equal"] else 1


def _phones(catalog: Catalog) -> dict[str, str]:
    return {
        c.email: c.phone
        for r in catalog.regencies.values()
        for o in r.opds
        for c in o.contacts
        if c.phone
    }


def cmd_alerts_drain(args: argparse.Namespace) -> int:
    """Send what waits in the outbox now (the DAGs do this on their own; this is for operators)."""
    from serasan.alerts import delivery
    from serasan.warehouse.db import make_engine

    catalog = load_catalog(args)
    s = settings()
    if not delivery.channels(s):
        return error("no channel configured: set SERASAN_SMTP_HOST or SERASAN_WEBHOOK_URL")
    result = delivery.drain(
        make_engine(s.warehouse_url), s, dataset_id=args.dataset, phones=_phones(catalog)
    )
    print(json.dumps(result, indent=2, default=str))
    return 1 if result.get("failed") else 0


def cmd_alerts_run(args: argparse.Namespace) -> int:
    """The `serasan__alerts` DAG's daily run, task by task through the same functions: DAG files
    that no longer import, lateness reminders, OPD digests, the whole outbox drained, and the
    outbox watched. 1 when the outbox has waited too long or a DAG file is broken."""
    from serasan.admin.dagcheck import alert_broken_dag_files
    from serasan.alerts import delivery, freshness
    from serasan.common.dag_ids import ALERTS
    from serasan.runtime.context import RunContext
    from serasan.warehouse.db import upgrade

    catalog = load_catalog(args)
    day = checked_date(args.date, "--date")
    if day is None:
        return 2
    ctx = RunContext(settings=settings(), catalog=catalog, run_date=day, dag_id=ALERTS)
    upgrade(ctx.engine, ctx.catalog)  # as the DAG's freshness and digest tasks do
    result: dict[str, Any] = {
        "dag_files_broken": alert_broken_dag_files(ctx.engine, ctx.settings, day),
        "reminders": freshness.check_lateness(ctx),
        "digests": freshness.digests(ctx),
        "drained": delivery.drain(ctx.engine, ctx.settings, phones=_phones(catalog)),
        "outbox": delivery.watch_outbox(ctx.engine, ctx.settings, day),
    }
    ctx.engine.dispose()
    if args.json:
        print(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    else:
        drained = result["drained"]
        print(f"alerts run as of {day}:")
        print(f"  DAG files that fail to import: {len(result['dag_files_broken'])}")
        print(
            f"  lateness reminders: {len(result['reminders'])}, digests: {len(result['digests'])}"
        )
        print(
            f"  outbox: {drained.get('sent', 0)} sent, {drained.get('retrying', 0)} retrying, "
            f"{drained.get('failed', 0)} failed"
        )
        for err in drained.get("errors", [])[:3]:  # an SMTP or webhook outage, said once
            print(f"  not delivered: {err}")
        stuck = result["outbox"]["stuck"]
        print(f"  deliveries waiting too long: {stuck}" + (" (engineers told)" if stuck else ""))
    return 1 if result["dag_files_broken"] or result["outbox"]["stuck"] else 0


def cmd_alerts_status(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from serasan.alerts import delivery
    from serasan.warehouse.db import make_engine
    from serasan.warehouse.tables import table

    s = settings()
    engine = make_engine(s.warehouse_url)
    dl = table("meta", "alert_delivery", engine.dialect.name)
    with engine.connect() as conn:
        rows = conn.execute(select(dl.c.status, func.count()).group_by(dl.c.status)).all()
        counts: dict[str, int] = {status: n for status, n in rows}
    late = delivery.backlog(engine, s)
    print(f"deliveries: {', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none'}")
    for row in late:
        print(
            f"  waiting: {row.get('dedupe_key')} attempts={row.get('attempts')} "
            f"last_error={row.get('last_error')}"
        )
    return 1 if late else 0


def register(sub: Subparsers) -> None:
    doc = command(
        sub,
        "doctor",
        cmd_doctor,
        help="check catalog, lake, warehouse, SMTP, CKAN, PII key "
        "and backups with the current settings; exit 1 when one fails",
        description="Check catalog, lake, warehouse, SMTP, CKAN, PII key, backups; 1 on a failure.",
        examples=["serasan doctor", "serasan doctor --json --timeout 10"],
    )
    add_json(doc, "print every check as JSON")
    doc.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per network call (default: SERASAN_CONNECT_TIMEOUT_S, 10, as every "
        "other command uses)",
    )

    bk = command(
        sub,
        "backup",
        cmd_backup,
        help="dump the warehouse into the lake and copy the lake to "
        "SERASAN_BACKUP_LAKE_URL; `backup list`, `backup restore`",
        description="Dump the warehouse into the lake and copy the lake to the backup target.",
        examples=[
            "serasan backup",
            "serasan backup --no-lake --out /var/backups/serasan --json",
            "serasan backup list",
            "serasan backup restore --dump 2026-11-01 --into sqlite:////tmp/restored.db",
        ],
    )
    bk.add_argument("--out", help="write the warehouse dump under this folder, not the lake")
    bk.add_argument("--target", help="lake backup target (default $SERASAN_BACKUP_LAKE_URL)")
    bk.add_argument("--no-lake", action="store_true", help="only the warehouse dump")
    bk.add_argument("--lake-only", action="store_true", help="only the lake copy")
    bk.add_argument(
        "--full",
        action="store_true",
        help="read and hash every object again instead of trusting the index",
    )
    add_json(bk, "print what was dumped and copied as JSON")
    bks = bk.add_subparsers(dest="backup_command", required=False)
    bkl = command(
        bks,
        "list",
        cmd_backup_list,
        help="the warehouse dumps in the lake (or --out DIR)",
        description="List the warehouse dumps in the lake (or in a folder given to "
        "`backup --out`).",
        examples=["serasan backup list", "serasan backup list --out /var/backups/serasan --json"],
    )
    bkl.add_argument("--out", help="a folder given to `serasan backup --out`")
    add_json(bkl, "print the dumps as JSON")
    bkr = command(
        bks,
        "restore",
        cmd_backup_restore,
        help="restore a dump into an empty database, then compare "
        "every table with the dump's manifest (exit 1 when one differs)",
        description="Restore a dump into an empty database and compare every table with "
        "its manifest.",
        examples=[
            "serasan backup restore --dump 2026-11-01 --into sqlite:////tmp/restored.db",
            "serasan backup restore --dump 2026-11-01 \\\n"
            "  --into postgresql://owner@db/serasan_restore --json",
        ],
    )
    bkr.add_argument(
        "--dump",
        required=True,
        help="a day (YYYY-MM-DD), a lake key, or a dump file with its manifest.json",
    )
    bkr.add_argument(
        "--into",
        required=True,
        help="SQLAlchemy URL of an empty database "
        "(PostgreSQL: createdb it first) or a new SQLite file",
    )
    add_json(bkr, "print the comparison as JSON")

    met = command(
        sub,
        "metrics",
        cmd_metrics,
        help="rows loaded and rejected, alerts pending, export lag: "
        "Prometheus text, --json, or --send to StatsD",
        description="Rows loaded and rejected, alerts pending, export lag, for monitoring.",
        examples=["serasan metrics", "SERASAN_STATSD_HOST=statsd serasan metrics --send"],
    )
    add_json(met, "print the gauges as JSON")
    met.add_argument("--send", action="store_true", help="send to SERASAN_STATSD_HOST")

    alerts = group(
        sub,
        "alerts",
        help="the alert outbox",
        description="The outbox of alerts to OPDs (email, webhook); the DAGs drain it "
        "on their own.",
        examples=["serasan alerts status", "serasan alerts drain"],
    )
    drn = command(
        alerts,
        "drain",
        cmd_alerts_drain,
        help="send the alerts waiting in the outbox now",
        description="Send the alerts waiting in the outbox now, and print what happened as JSON.",
        examples=["serasan alerts drain", "serasan alerts drain --dataset muba_bank_sampah"],
    )
    drn.add_argument("--dataset", help="only this dataset's alerts")
    run = command(
        alerts,
        "run",
        cmd_alerts_run,
        help="what the serasan__alerts DAG does daily: DAG files, reminders, digests, drain",
        description="Run the serasan__alerts DAG's tasks: broken DAG files, lateness reminders, "
        "digests, the outbox drained and watched.",
        examples=["serasan alerts run", "serasan alerts run --date 2026-11-01 --json"],
        notes="The same functions as the DAG's tasks, with the settings of the environment\n"
        "(SERASAN_*). Reminders and digests are sent once per period and day: running it\n"
        "again the same day sends nothing new.",
    )
    run.add_argument("--date", help="as-of date YYYY-MM-DD (default: today in Asia/Jakarta)")
    add_json(run, "print every task's result as JSON")
    command(
        alerts,
        "status",
        cmd_alerts_status,
        help="deliveries by status, and those waiting too long",
        description="Count deliveries by status and list those waiting too long (exit 1 when any).",
        examples=["serasan alerts status"],
    )
