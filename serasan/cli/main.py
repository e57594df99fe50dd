"""The `serasan` command: catalog checks, demo data, warehouse upgrade, ingest, and the demo.

Exit codes: 0 success, 1 a check failed or a load was blocked, 2 unusable arguments or file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from serasan.common.clock import JAKARTA
from serasan.common.paths import CATALOG_DIR, DEFAULT_HOME, EXPECTATIONS_DIR
from serasan.config.catalog import Catalog, CatalogError
from serasan.config.settings import Settings
from serasan.quality.suites import load_validated_catalog

DEMO_DATE = dt.date(2026, 11, 1)  # the demo and the tests run "as of" this logical date


def _catalog(args: argparse.Namespace) -> Catalog:
    try:
        return load_validated_catalog(Path(args.catalog), Path(args.expectations))
    except CatalogError as exc:
        print(f"catalog has {len(exc.problems)} problem(s):", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        raise SystemExit(1) from None


def _known(catalog: Catalog, dataset_id: str) -> bool:
    """False, having said why, when the dataset id is not in the catalog (exit 2)."""
    if dataset_id in catalog.datasets:
        return True
    print(f"error: unknown dataset {dataset_id!r}; see `serasan catalog list`", file=sys.stderr)
    return False


def cmd_catalog_validate(args: argparse.Namespace) -> int:
    from serasan.publish.kpi import check_queries
    from serasan.quality.registry import check_registry_refs

    catalog = _catalog(args)
    problems = check_registry_refs(catalog) + check_queries(catalog)
    if problems:
        print(f"catalog has {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(
        f"catalog OK: {len(catalog.regencies)} regencies, {len(catalog.datasets)} datasets, "
        f"{len(catalog.kpis)} KPIs"
    )
    return 0


def cmd_catalog_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    rows = [
        {
            "id": d.id,
            "regency": d.regency,
            "regency_name": catalog.regency(d.regency).name,
            "opd": d.opd,
            "pillar": d.pillar,
            "cadence": d.cadence,
            "quality_policy": d.quality_policy,
            "load_mode": d.load_mode,
        }
        for d in sorted(catalog.datasets.values(), key=lambda d: (d.regency, d.id))
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    cols = ["id", "regency", "opd", "pillar", "cadence"]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from serasan.demo.generate import generate

    catalog = _catalog(args)
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
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for f in files:
        defects = ", ".join(f"{k}={v}" for k, v in sorted(f.defects.items()) if v) or "none"
        print(f"{f.path}: {f.rows} rows, defects: {defects}")
    return 0


def cmd_warehouse_upgrade(args: argparse.Namespace) -> int:
    from serasan.warehouse.db import WarehouseNotUpgraded, make_engine, upgrade
    from serasan.warehouse.evolution import SchemaChangeRefused

    settings = Settings.from_env()
    try:
        changes = upgrade(make_engine(settings.warehouse_url), _catalog(args))
    except (SchemaChangeRefused, WarehouseNotUpgraded) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for change in changes or []:
        print(f"applied: {change}")
    print(f"warehouse upgraded\n{settings.describe()}")
    return 0


def _logical(date: dt.date) -> dt.datetime:

    return dt.datetime.combine(date, dt.time(), tzinfo=JAKARTA)


def _prepare(settings: Settings) -> None:
    """Export the settings so DAG tasks in this process see the same lake and warehouse."""
    os.environ.update(settings.as_env())


def cmd_ingest(args: argparse.Namespace) -> int:
    from serasan.lake.keys import inbox_prefix
    from serasan.lake.store import open_lake
    from serasan.pipeline.steps import load_id_for

    catalog = _catalog(args)
    path = Path(args.file)
    if not _known(catalog, args.dataset):
        return 2
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    if path.suffix.lower() not in (".csv", ".xlsx", ".txt"):
        print(f"error: {path}: expected a .csv or .xlsx file", file=sys.stderr)
        return 2
    ds = catalog.dataset(args.dataset)
    settings = Settings.from_env()
    _prepare(settings)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    lake = open_lake(settings)
    lake.put(inbox_prefix(catalog, ds) + path.name, data)
    from serasan.operators.runner import Runner

    runner = Runner(Path(args.airflow_home))
    date = dt.date.fromisoformat(args.date) if args.date else _today()
    res = runner.run(f"serasan__{ds.id}", _logical(date), conf={"force": args.force})
    summary = _load_summary(settings, load_id_for(ds, sha))
    skipped = not res["tasks"].get("extract", {}).get("result")
    if summary is None:
        print(
            f"{path.name}: not processed (DAG run {res['state']}); see the Airflow task log in "
            f"{args.airflow_home}",
            file=sys.stderr,
        )
        return 1
    if skipped:
        print(
            f"{path.name}: already processed (same sha256 {sha[:12]}); nothing changed. "
            "Use --force to reprocess it."
        )
    _print_load(summary, lake)
    return {"blocked": 1, "rejected": 2}.get(summary["status"], 0)


def _load_summary(settings: Settings, load_id: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    from serasan.warehouse.db import make_engine
    from serasan.warehouse.tables import table

    engine = make_engine(settings.warehouse_url)
    lr, al = (
        table("meta", "load_run", engine.dialect.name),
        table("meta", "alert", engine.dialect.name),
    )
    with engine.connect() as conn:
        row = conn.execute(select(lr).where(lr.c.load_id == load_id)).mappings().first()
        alert = conn.execute(select(al.c.lake_key).where(al.c.load_id == load_id)).scalar()
    return {**row, "alert_key": alert} if row else None


def _print_load(s: dict[str, Any], lake: Any) -> None:
    print(f"dataset {s['dataset_id']}: {s['status']}")
    print(f"  rows in {s['rows_in']}, loaded {s['rows_loaded']}, rejected {s['rows_rejected']}")
    if s.get("quarantine_key"):
        print(f"  rejected rows: {lake.location(s['quarantine_key'])}")
    if s.get("alert_key"):
        print(f"  alert for the OPD: {lake.location(s['alert_key'])}")
    if s.get("notes"):
        print(f"  notes: {s['notes']}")


def cmd_check(args: argparse.Namespace) -> int:
    from serasan.parse.reader import ParseError
    from serasan.quality.check import check_file, render
    from serasan.quality.registry import registry_params, registry_refs

    catalog = _catalog(args)
    if not _known(catalog, args.dataset):
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    lang = args.lang or Settings.from_env().lang
    date = dt.date.fromisoformat(args.date) if args.date else _today()
    extra = {}
    if registry_refs(catalog.suites[args.dataset]):  # keys live in the warehouse
        from serasan.warehouse.db import make_engine

        extra = registry_params(
            make_engine(Settings.from_env().warehouse_url), catalog, catalog.suites[args.dataset]
        )
    try:
        result = check_file(path, catalog.dataset(args.dataset), catalog, date, lang, extra)
    except ParseError as exc:
        if args.json:
            print(json.dumps({"file": str(path), "dataset": args.dataset, "error": str(exc)}))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps(result, indent=2, ensure_ascii=False, default=str)
        if args.json
        else render(result, lang)
    )
    return 1 if any(p["rule"] != "summary" for p in result["problems"]) else 0


def _today() -> dt.date:
    """Today in Asia/Jakarta: the logical date of a run started by hand."""

    return dt.datetime.now(JAKARTA).date()


def cmd_suite_scaffold(args: argparse.Namespace) -> int:
    from serasan.config.catalog import suite_path
    from serasan.quality.scaffold import write_suite

    catalog = _catalog(args)
    if not _known(catalog, args.dataset):
        return 2
    out = Path(args.out) if args.out else suite_path(args.dataset, Path(args.expectations))
    try:
        write_suite(catalog, catalog.dataset(args.dataset), out, overwrite=args.force)
    except FileExistsError:
        print(f"error: {out} exists; use --force to overwrite it", file=sys.stderr)
        return 2
    print(f"suite written: {out} (review it like code)")
    return 0


def cmd_alerts_drain(args: argparse.Namespace) -> int:
    """Send what waits in the outbox now (the DAGs do this on their own; this is for operators)."""
    from serasan.alerts import delivery
    from serasan.warehouse.db import make_engine

    catalog = _catalog(args)
    settings = Settings.from_env()
    if not delivery.channels(settings):
        print(
            "error: no channel configured: set SERASAN_SMTP_HOST or SERASAN_WEBHOOK_URL",
            file=sys.stderr,
        )
        return 2
    phones = {
        c.email: c.phone
        for r in catalog.regencies.values()
        for o in r.opds
        for c in o.contacts
        if c.phone
    }
    result = delivery.drain(
        make_engine(settings.warehouse_url), settings, dataset_id=args.dataset, phones=phones
    )
    print(json.dumps(result, indent=2, default=str))
    return 1 if result.get("failed") else 0


def cmd_alerts_status(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from serasan.alerts import delivery
    from serasan.warehouse.db import make_engine
    from serasan.warehouse.tables import table

    settings = Settings.from_env()
    engine = make_engine(settings.warehouse_url)
    dl = table("meta", "alert_delivery", engine.dialect.name)
    with engine.connect() as conn:
        counts = dict(conn.execute(select(dl.c.status, func.count()).group_by(dl.c.status)).all())
    late = delivery.backlog(engine, settings)
    print(f"deliveries: {', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none'}")
    for row in late:
        print(
            f"  waiting: {row.get('dedupe_key')} attempts={row.get('attempts')} "
            f"last_error={row.get('last_error')}"
        )
    return 1 if late else 0


def cmd_template(args: argparse.Namespace) -> int:
    from serasan.ingest.template import write_template

    catalog = _catalog(args)
    if not _known(catalog, args.dataset):
        return 2
    out = Path(args.out or f"template-{args.dataset}.xlsx")
    write_template(catalog, catalog.dataset(args.dataset), out)
    print(f"template written: {out}")
    return 0


def cmd_inbox_policies(args: argparse.Namespace) -> int:
    from serasan.ingest.inbox_access import write_policies

    paths = write_policies(_catalog(args), args.bucket, Path(args.out))
    print(f"{len(paths)} policies written to {args.out}")
    return 0


def cmd_inbox_apply(args: argparse.Namespace) -> int:
    """Create each OPD's MinIO user and policy; secrets come from the environment only."""
    from serasan.ingest.inbox_access import apply_minio, inbox_user

    catalog = _catalog(args)
    env = os.environ
    missing = [
        k
        for k in (
            "SERASAN_MINIO_ENDPOINT",
            "SERASAN_MINIO_ROOT_USER",
            "SERASAN_MINIO_ROOT_PASSWORD",
        )
        if not env.get(k)
    ]
    users = [
        inbox_user(catalog, r.kode, o.code) for r in catalog.regencies.values() for o in r.opds
    ]
    passwords = {
        u: env.get(f"SERASAN_INBOX_PASSWORD_{u.upper().replace('-', '_')}", "") for u in users
    }
    missing += [
        f"SERASAN_INBOX_PASSWORD_{u.upper().replace('-', '_')}"
        for u, p in passwords.items()
        if not p
    ]
    if missing:
        print(
            "error: set these environment variables first: " + ", ".join(missing), file=sys.stderr
        )
        return 2
    done = apply_minio(
        catalog,
        args.bucket,
        env["SERASAN_MINIO_ENDPOINT"],
        env["SERASAN_MINIO_ROOT_USER"],
        env["SERASAN_MINIO_ROOT_PASSWORD"],
        passwords,
        secure=args.secure,
    )
    print(f"{len(done)} OPD users have their inbox policy")
    return 0


def _actor(args: argparse.Namespace) -> str:
    """Who runs an operation: --actor, else the login name (recorded in meta.operation)."""
    import getpass

    return args.actor or getpass.getuser()


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


def _operation(args: argparse.Namespace, run: Any) -> int:
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
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LakeError as exc:  # e.g. the raw file is gone: retention deleted it (its audit says)
        print(
            f"error: {exc}; if the retention job deleted it, meta.retention_audit records "
            "when and why",
            file=sys.stderr,
        )
        return 2
    _print_operation(result, args.json)
    return 0


def cmd_retract(args: argparse.Namespace) -> int:
    """Withdraw a load by its id: its rows leave, the rows it replaced come back."""
    from serasan.pipeline.corrections import retract
    from serasan.warehouse.db import make_engine

    catalog = _catalog(args)
    engine = make_engine(Settings.from_env().warehouse_url)
    return _operation(
        args, lambda: retract(engine, catalog, args.load_id, _actor(args), args.reason)
    )


def cmd_reprocess(args: argparse.Namespace) -> int:
    """Transform and load a dataset's period again from its raw objects (after a suite or
    parser change); one warehouse transaction."""
    from serasan.pipeline.corrections import reprocess
    from serasan.runtime.context import RunContext

    catalog = _catalog(args)
    if not _known(catalog, args.dataset):
        return 2
    # each load runs again as of its own logical date; run_date is only the fallback
    ctx = RunContext(
        settings=Settings.from_env(), catalog=catalog, run_date=_today(), dag_id="serasan-cli"
    )
    return _operation(
        args, lambda: reprocess(ctx, args.dataset, args.period, _actor(args), args.reason)
    )


def cmd_retention(args: argparse.Namespace) -> int:
    """Delete raw and quarantined objects holding personal data once their retention has
    passed, each recorded in meta.retention_audit; 1 when some delete failed."""
    from serasan.admin.retention import render, run_retention
    from serasan.lake.store import open_lake
    from serasan.warehouse.db import make_engine

    catalog = _catalog(args)
    today = _today()
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else today
    except ValueError:
        print(f"error: --as-of {args.as_of!r}: expected a date YYYY-MM-DD", file=sys.stderr)
        return 2
    if as_of > today and not args.dry_run:
        print(
            f"error: --as-of {as_of} is after today ({today} in Asia/Jakarta): retention "
            "never deletes early; use --dry-run to preview",
            file=sys.stderr,
        )
        return 2
    settings = Settings.from_env()
    engine = make_engine(settings.warehouse_url)
    result = run_retention(
        open_lake(settings), engine, catalog, as_of, _actor(args), dry_run=args.dry_run
    )
    engine.dispose()
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else render(result))
    return 1 if result["failed"] else 0


def _regency_and_date(args: argparse.Namespace, catalog: Catalog) -> tuple[str, dt.date] | None:
    """The regency (slug or kode) and the as-of date of a KPI or report command; None after
    printing what is wrong."""
    kode = next(
        (r.kode for r in catalog.regencies.values() if args.regency in (r.kode, r.slug)), None
    )
    if kode is None:
        known = ", ".join(f"{r.slug} ({r.kode})" for r in catalog.regencies.values())
        print(f"error: unknown regency {args.regency!r}; known: {known}", file=sys.stderr)
        return None
    try:
        return kode, dt.date.fromisoformat(args.date) if args.date else _today()
    except ValueError:
        print(f"error: --date {args.date!r}: expected a date YYYY-MM-DD", file=sys.stderr)
        return None


def _run_context(catalog: Catalog, run_date: dt.date) -> Any:
    from serasan.runtime.context import RunContext

    return RunContext(settings=Settings.from_env(), catalog=catalog, run_date=run_date)


def cmd_kpi_compute(args: argparse.Namespace) -> int:
    """Recompute a regency's KPIs into mart.kpi_value (all periods, or those given)."""
    from serasan.publish import kpi

    catalog = _catalog(args)
    picked = _regency_and_date(args, catalog)
    if picked is None:
        return 2
    bad = [p for p in args.period or [] if not re.fullmatch(r"\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?", p)]
    if bad:
        print(f"error: --period {bad[0]!r}: expected YYYY, YYYY-Qn or YYYY-MM", file=sys.stderr)
        return 2
    ctx = _run_context(catalog, picked[1])
    result = kpi.compute(ctx, picked[0], periods=args.period or None)
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

    catalog = _catalog(args)
    picked = _regency_and_date(args, catalog)
    if picked is None:
        return 2
    if args.period and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.period):
        print(f"error: --period {args.period!r}: expected a month YYYY-MM", file=sys.stderr)
        return 2
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


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the catalog, lake, warehouse, SMTP, CKAN, PII key and backups; 1 when one fails."""
    from serasan.admin.doctor import as_json, failed, render, run_doctor

    checks = run_doctor(
        Settings.from_env(), Path(args.catalog), Path(args.expectations), timeout=args.timeout
    )
    print(as_json(checks) if args.json else render(checks))
    return 1 if failed(checks) else 0


def cmd_metrics(args: argparse.Namespace) -> int:
    """Print Serasan's metrics (Prometheus text or JSON), or send them to StatsD with --send."""
    from serasan.admin import metrics
    from serasan.warehouse.db import make_engine

    catalog = _catalog(args)
    settings = Settings.from_env()
    engine = make_engine(settings.warehouse_url)
    ms = metrics.collect(engine, catalog, _today())
    engine.dispose()
    if args.send:
        if not settings.statsd_host:
            print(
                "error: --send needs SERASAN_STATSD_HOST (and SERASAN_STATSD_PORT, default 8125)",
                file=sys.stderr,
            )
            return 2
        n = metrics.send_statsd(ms, settings.statsd_host, settings.statsd_port)
        print(
            f"{len(ms)} gauges in {n} datagram(s) to {settings.statsd_host}:{settings.statsd_port}"
        )
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
    """Dump the warehouse into the lake (or --out DIR) and copy the lake to the backup target."""
    from serasan.admin.backup import BackupError, render, run_backup, target_settings
    from serasan.lake.store import LakeError

    settings = Settings.from_env()
    try:
        summary = run_backup(
            settings,
            out=Path(args.out) if args.out else None,
            target=target_settings(settings, url=args.target),
            lake_only=args.lake_only,
            no_lake=args.no_lake,
            full=args.full,
        )
    except (BackupError, LakeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, ensure_ascii=False) if args.json else render(summary))
    return 0


def cmd_backup_list(args: argparse.Namespace) -> int:
    from serasan.admin.backup import list_dumps
    from serasan.lake.store import LocalLake, open_lake

    lake = LocalLake(args.out) if args.out else open_lake(Settings.from_env())
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
        lake = None if Path(args.dump).is_file() else open_lake(Settings.from_env())
        result = restore(args.dump, args.into, lake=lake)
    except (BackupError, LakeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
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


def cmd_demo(args: argparse.Namespace) -> int:
    from serasan.demo.run import run_demo

    return run_demo(
        _catalog(args),
        Settings.from_env(),
        Path(args.airflow_home),
        date=dt.date.fromisoformat(args.date),
        defect_rate=args.defect_rate,
        workdir=Path(tempfile.mkdtemp(prefix="serasan-demo-")),
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="serasan", description=__doc__)
    p.add_argument("--catalog", default=str(CATALOG_DIR), help="catalog folder")
    p.add_argument("--expectations", default=str(EXPECTATIONS_DIR), help="GX suites folder")
    sub = p.add_subparsers(dest="command", required=True)

    cat = sub.add_parser("catalog", help="check or list the catalog").add_subparsers(
        dest="action", required=True
    )
    cat.add_parser(
        "validate", help="check schema, references, suites and KPI queries"
    ).set_defaults(func=cmd_catalog_validate)
    lst = cat.add_parser("list", help="list datasets")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_catalog_list)

    gen = sub.add_parser("generate", help="write synthetic OPD files for the demo and tests")
    gen.add_argument("--out", required=True)
    gen.add_argument("--dataset", action="append", help="dataset id (repeatable; default all)")
    gen.add_argument("--rows", type=int)
    gen.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    gen.add_argument("--defect-rate", type=float, default=0.0)
    gen.add_argument("--seed", type=int, default=42)
    gen.set_defaults(func=cmd_generate)

    wh = sub.add_parser("warehouse", help="warehouse schema").add_subparsers(
        dest="action", required=True
    )
    wh.add_parser("upgrade", help="apply migrations and catalog fact tables").set_defaults(
        func=cmd_warehouse_upgrade
    )

    home = str(DEFAULT_HOME / "airflow")
    ing = sub.add_parser("ingest", help="put a file in a dataset's inbox and run its DAG once")
    ing.add_argument("--dataset", required=True)
    ing.add_argument("file")
    ing.add_argument("--force", action="store_true", help="reprocess an already processed file")
    ing.add_argument("--date", help="logical date YYYY-MM-DD (default: today in Asia/Jakarta)")
    ing.add_argument("--airflow-home", default=home)
    ing.set_defaults(func=cmd_ingest)

    chk = sub.add_parser("check", help="parse and validate a local file; nothing is loaded")
    chk.add_argument("--dataset", required=True)
    chk.add_argument("file")
    chk.add_argument("--json", action="store_true", help="machine-readable output")
    chk.add_argument("--lang", choices=["id", "en"], help="message language (default id)")
    chk.add_argument("--date", help="logical date YYYY-MM-DD (default: today in Asia/Jakarta)")
    chk.set_defaults(func=cmd_check)

    suite = sub.add_parser("suite", help="GX suites").add_subparsers(dest="action", required=True)
    scf = suite.add_parser("scaffold", help="write a starting suite from the catalog")
    scf.add_argument("--dataset", required=True)
    scf.add_argument("--out", help="output file (default expectations/<dataset>.json)")
    scf.add_argument("--force", action="store_true", help="overwrite an existing suite")
    scf.set_defaults(func=cmd_suite_scaffold)

    alerts = sub.add_parser("alerts", help="the alert outbox").add_subparsers(
        dest="action", required=True
    )
    drn = alerts.add_parser("drain", help="send the alerts waiting in the outbox now")
    drn.add_argument("--dataset", help="only this dataset's alerts")
    drn.set_defaults(func=cmd_alerts_drain)
    alerts.add_parser(
        "status", help="deliveries by status, and those waiting too long"
    ).set_defaults(func=cmd_alerts_status)

    tpl = sub.add_parser("template", help="write the XLSX template OPD staff fill in")
    tpl.add_argument("--dataset", required=True)
    tpl.add_argument("--out", help="output file (default template-<dataset>.xlsx)")
    tpl.set_defaults(func=cmd_template)

    inbox = sub.add_parser("inbox", help="per-OPD upload access in MinIO").add_subparsers(
        dest="action", required=True
    )
    pol = inbox.add_parser("policies", help="write one IAM policy JSON per OPD")
    pol.add_argument("--bucket", default="serasan-lake")
    pol.add_argument("--out", default="docker/minio/policies")
    pol.set_defaults(func=cmd_inbox_policies)
    app = inbox.add_parser(
        "apply",
        help="create OPD users and attach their policies "
        "(SERASAN_MINIO_* and SERASAN_INBOX_PASSWORD_<USER> from the env)",
    )
    app.add_argument("--bucket", default="serasan-lake")
    app.add_argument("--secure", action="store_true")
    app.set_defaults(func=cmd_inbox_apply)

    ret = sub.add_parser("retract", help="withdraw a load by its id, restoring the state before it")
    ret.add_argument("load_id", help="as in meta.load_run.load_id (<dataset>-<sha256[:16]>)")
    ret.add_argument("--reason", required=True, help="why (recorded in meta.operation)")
    ret.add_argument("--actor", help="who (default: the login name)")
    ret.add_argument("--json", action="store_true")
    ret.set_defaults(func=cmd_retract)

    rep = sub.add_parser(
        "reprocess", help="parse, validate and load a dataset's period again from its raw objects"
    )
    rep.add_argument("--dataset", required=True)
    rep.add_argument(
        "--period", required=True, help="YYYY, YYYY-MM or YYYY-MM-DD: every load covering it"
    )
    rep.add_argument("--reason", required=True, help="why (recorded in meta.operation)")
    rep.add_argument("--actor", help="who (default: the login name)")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_reprocess)

    rtn = sub.add_parser(
        "retention",
        help="delete raw and quarantined personal data past the "
        "catalog's retention, recording each in meta.retention_audit",
    )
    rtn.add_argument("--dry-run", action="store_true", help="list what is due; change nothing")
    rtn.add_argument("--as-of", help="reference date YYYY-MM-DD (default: today in Asia/Jakarta)")
    rtn.add_argument("--actor", help="who (default: the login name)")
    rtn.add_argument("--json", action="store_true")
    rtn.set_defaults(func=cmd_retention)

    kp = sub.add_parser("kpi", help="pillar KPIs").add_subparsers(dest="kpi_command", required=True)
    kc = kp.add_parser("compute", help="recompute a regency's KPIs into mart.kpi_value")
    kc.add_argument("--regency", required=True, help="slug or kode wilayah (musibanyuasin, 16.06)")
    kc.add_argument(
        "--period",
        action="append",
        help="YYYY, YYYY-Qn or YYYY-MM; repeat for several (default: all)",
    )
    kc.add_argument("--date", help="as-of date YYYY-MM-DD (default: today in Asia/Jakarta)")
    kc.add_argument("--json", action="store_true")
    kc.set_defaults(func=cmd_kpi_compute)

    rp = sub.add_parser("report", help="write a regency's HTML report for a month to the lake")
    rp.add_argument("--regency", required=True, help="slug or kode wilayah (musibanyuasin, 16.06)")
    rp.add_argument("--period", help="month YYYY-MM (default: the last month before --date)")
    rp.add_argument("--date", help="as-of date YYYY-MM-DD (default: today in Asia/Jakarta)")
    rp.add_argument("--out", help="also write the HTML to this file")
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(func=cmd_report)

    doc = sub.add_parser(
        "doctor",
        help="check catalog, lake, warehouse, SMTP, CKAN, PII key "
        "and backups with the current settings; exit 1 when one fails",
    )
    doc.add_argument("--json", action="store_true")
    doc.add_argument("--timeout", type=float, default=4.0, help="seconds per network call")
    doc.set_defaults(func=cmd_doctor)

    met = sub.add_parser(
        "metrics",
        help="rows loaded and rejected, alerts pending, export lag: "
        "Prometheus text, --json, or --send to StatsD",
    )
    met.add_argument("--json", action="store_true")
    met.add_argument("--send", action="store_true", help="send to SERASAN_STATSD_HOST")
    met.set_defaults(func=cmd_metrics)

    bk = sub.add_parser(
        "backup",
        help="dump the warehouse into the lake and copy the lake to "
        "SERASAN_BACKUP_LAKE_URL; `backup list`, `backup restore`",
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
    bk.add_argument("--json", action="store_true")
    bk.set_defaults(func=cmd_backup)
    bks = bk.add_subparsers(dest="backup_command", required=False)
    bkl = bks.add_parser("list", help="the warehouse dumps in the lake (or --out DIR)")
    bkl.add_argument("--out", help="a folder given to `serasan backup --out`")
    bkl.add_argument("--json", action="store_true")
    bkl.set_defaults(func=cmd_backup_list)
    bkr = bks.add_parser(
        "restore",
        help="restore a dump into an empty database, then compare "
        "every table with the dump's manifest (exit 1 when one differs)",
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
    bkr.add_argument("--json", action="store_true")
    bkr.set_defaults(func=cmd_backup_restore)

    demo = sub.add_parser("demo", help="run every DAG of both regencies on demo data")
    demo.add_argument("--date", default=DEMO_DATE.isoformat())
    demo.add_argument("--defect-rate", type=float, default=0.03)
    demo.add_argument("--airflow-home", default=home)
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    code = args.func(args)
    if args.command == "demo":
        print(f"done in {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
