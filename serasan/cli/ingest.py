"""Getting OPD files in: `serasan ingest`, `check`, `template` and `inbox policies|apply`."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serasan.cli._shared import (
    Subparsers,
    add_airflow_home,
    add_dataset,
    add_json,
    command,
    date_or_today,
    error,
    group,
    known,
    load_catalog,
    print_problems,
    settings,
)
from serasan.common.clock import JAKARTA

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from serasan.config.catalog import Catalog, Dataset
    from serasan.config.settings import Settings

DATE_HELP = "logical date YYYY-MM-DD (default: today in Asia/Jakarta)"
PERIOD_HELP = (
    "the file's period when it has no period column, as the dataset's granularity writes it: "
    "2021, 2021-Q1, 2021-03 or 2021-03-31"
)
BUCKET = "serasan-lake"


def _logical(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(), tzinfo=JAKARTA)


COLLECTED_HELP = (
    "the day the file was collected (YYYY-MM-DD), for relative dates such as '3 bulan lalu' "
    "in review exports; default: the dataset's source.collected_on"
)


def _day(text: str) -> dt.date:
    """A YYYY-MM-DD argument."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _period_problem(ds: Any, period: str | None) -> str | None:
    """Why `--period` does not fit the dataset, or None."""
    from serasan.config.reading import parse_period

    if period is None:
        return None
    try:
        parse_period(period, ds.period.granularity)
    except ValueError as exc:
        return f"--period: {exc} (dataset {ds.id} is per {ds.period.granularity})"
    return None


def _prepare(settings: Settings, args: argparse.Namespace) -> None:
    """Export the settings, --catalog and --expectations so the DAG run in this process sees
    the same lake, warehouse and catalog."""
    os.environ.update(settings.as_env())
    os.environ["SERASAN_CATALOG_DIR"] = str(Path(args.catalog).resolve())
    os.environ["SERASAN_EXPECTATIONS_DIR"] = str(Path(args.expectations).resolve())


def _dataset_catalog(args: argparse.Namespace) -> Catalog:
    """The regencies and --dataset's entry, from the catalog's cached index (validated in full
    when it was compiled; no other dataset is validated again); exit 1, listing the problems,
    when the catalog is broken."""
    from serasan.config.catalog import CatalogError
    from serasan.runtime.dag_index import catalog_for

    try:
        return catalog_for((args.dataset,), Path(args.catalog), Path(args.expectations))
    except CatalogError as exc:
        print_problems(exc.problems)
        raise SystemExit(1) from None


def _check_suite(args: argparse.Namespace, ds: Dataset) -> None:
    """The dataset's own suite, as its validate task will check it; exit 1 when it is broken."""
    from serasan.quality.suites import check_suite

    if problems := check_suite(ds, Path(args.expectations)):
        print_problems(problems)
        raise SystemExit(1)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Put the file in its inbox and run the dataset's DAG once; a file whose bytes were already
    processed is recognised first, without Airflow (see `_already_processed`)."""
    path = Path(args.file)
    catalog = _dataset_catalog(args)
    if not known(catalog, args.dataset):
        return 2
    if not path.is_file():
        return error(f"{path}: no such file")
    if path.suffix.lower() not in (".csv", ".xlsx", ".txt"):
        return error(f"{path}: expected a .csv or .xlsx file")
    ds = catalog.dataset(args.dataset)
    if problem := _period_problem(ds, args.period):
        return error(problem)
    s = settings()
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    date = date_or_today(args.date)
    if not args.force and (code := _already_processed(s, ds.id, path, sha, date)) is not None:
        return code
    _check_suite(args, ds)  # the run validates with it: say now if it is broken
    _prepare(s, args)
    return _run(args, s, catalog, ds, path, data, sha, date)


def _already_processed(
    s: Settings, dataset_id: str, path: Path, sha: str, date: dt.date
) -> int | None:
    """The file's bytes have a finished load: record the re-delivery as extract does (a
    `skipped` object event), say so and print that load; None when they have none. Needs
    neither Airflow nor Great Expectations: only the warehouse."""
    from serasan.common.enums import ObjectAction
    from serasan.pipeline.redelivery import cli_run_id, finished_load, record_event
    from serasan.warehouse.db import make_engine

    engine = make_engine(s.warehouse_url, s.connect_timeout_s)
    try:
        done = finished_load(engine, dataset_id, sha)
        if done is None:
            return None
        # the event names the raw copy of these bytes, which extract made the first time
        record_event(
            engine, dataset_id, sha, done["raw_key"], cli_run_id(), ObjectAction.SKIPPED, date
        )
        summary = _load_summary(s, done["load_id"], engine)
    finally:
        engine.dispose()
    assert summary is not None
    print(
        f"{path.name}: already processed (same sha256 {sha[:12]}) by run {summary['run_id']}; "
        "nothing changed. Use --force to reprocess it."
    )
    _print_load(summary, s)
    return _exit_code(summary["status"])


def _exit_code(status: str) -> int:
    from serasan.common.enums import LoadStatus

    return {LoadStatus.BLOCKED: 1, LoadStatus.REJECTED: 2}.get(LoadStatus(status), 0)


def _run(
    args: argparse.Namespace,
    s: Settings,
    catalog: Catalog,
    ds: Dataset,
    path: Path,
    data: bytes,
    sha: str,
    date: dt.date,
) -> int:
    """The DAG run, through Airflow. Ctrl-C stops it with nothing half-done (`_interrupted`)."""
    from serasan.common.dag_ids import dataset_dag_id
    from serasan.lake.keys import inbox_prefix
    from serasan.lake.store import open_lake
    from serasan.pipeline.handoff import load_id_for

    lake = open_lake(s)
    # a folder of its own per content: two files that share a name, sent at the same moment,
    # never overwrite each other in the inbox (extract reads the file name from the last part)
    inbox_key = f"{inbox_prefix(catalog, ds)}{sha[:16]}/{path.name}"
    home = Path(args.airflow_home)
    conf: dict[str, Any] = {"force": args.force}
    if args.period is not None:  # recorded in the file's manifest by extract, read by parse
        conf["periods"] = {sha: args.period.strip()}
    if args.collected_on is not None:  # likewise
        conf["collected"] = {sha: args.collected_on.isoformat()}
    log_file = None if args.verbose else _run_log(home, ds.id)
    try:
        lake.put(inbox_key, data)
        from serasan.operators.runner import Runner, exclusive

        with exclusive(home):
            runner = Runner(home, only=dataset_dag_id(ds.id))
            res = runner.run(dataset_dag_id(ds.id), _logical(date), conf=conf, log_file=log_file)
    except KeyboardInterrupt:
        return _interrupted(s, ds, path, sha, lake, inbox_key, data)
    summary = _load_summary(s, load_id_for(ds, sha))
    where = f"; task log: {log_file}" if log_file else ""
    if summary is None:
        print(f"{path.name}: not processed (DAG run {res['state']}){where}", file=sys.stderr)
        return 1
    if summary["run_id"] != res["run_id"] and not args.force:
        print(
            f"{path.name}: already processed (same sha256 {sha[:12]}) by run {summary['run_id']}; "
            "nothing changed. Use --force to reprocess it."
        )
    _print_load(summary, s)
    code = _exit_code(summary["status"])
    if code and log_file:
        print(f"  task log: {log_file}")
    return code


INTERRUPTED = "dihentikan: {what}; tidak ada yang dimuat setengah{then} ({english})"


def _interrupted(
    s: Settings, ds: Dataset, path: Path, sha: str, lake: Any, inbox_key: str, data: bytes
) -> int:
    """Ctrl-C during the run. A load is one transaction, so the warehouse holds the whole file or
    none of it; the dataset's lock goes with its transaction or its process. Say which in one
    line, and leave the file where the next run takes it: its inbox (put back there when extract
    had moved it to raw/ already). Exit 130, as a shell does for Ctrl-C."""
    from serasan.pipeline.redelivery import finished_load
    from serasan.warehouse.db import make_engine

    try:
        engine = make_engine(s.warehouse_url, s.connect_timeout_s)
        try:
            done = finished_load(engine, ds.id, sha)
        finally:
            engine.dispose()
        if done is None and not lake.exists(inbox_key):
            lake.put(inbox_key, data)
    except Exception:  # noqa: BLE001 - the warehouse or the lake is what was slow: say so
        print(
            INTERRUPTED.format(
                what=f"{path.name} mungkin belum dimuat (gudang data atau lake tidak menjawab)",
                then="; jalankan lagi perintah yang sama",
                english="interrupted: a load is all or nothing; run the same command again",
            ),
            file=sys.stderr,
        )
        return 130
    if done is not None:
        line = INTERRUPTED.format(
            what=f"{path.name} sudah dimuat utuh sebelum dihentikan "
            f"({done['status']}, load {done['load_id']})",
            then="; tidak perlu dijalankan lagi",
            english="interrupted after the load had committed; nothing to run again",
        )
    else:
        line = INTERRUPTED.format(
            what=f"{path.name} belum dimuat",
            then=", berkasnya menunggu di inbox; jalankan lagi perintah yang sama",
            english="interrupted: nothing was loaded, the file waits in the inbox; "
            "run the same command again",
        )
    print(line, file=sys.stderr)
    return 130


def _run_log(home: Path, dataset_id: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return home / "logs" / "serasan" / f"ingest-{dataset_id}-{stamp}.log"


def _load_summary(
    settings: Settings, load_id: str, engine: Engine | None = None
) -> dict[str, Any] | None:
    from sqlalchemy import select

    from serasan.warehouse.db import make_engine
    from serasan.warehouse.tables import table

    engine = engine or make_engine(settings.warehouse_url)
    lr, al = (
        table("meta", "load_run", engine.dialect.name),
        table("meta", "alert", engine.dialect.name),
    )
    with engine.connect() as conn:
        row = conn.execute(select(lr).where(lr.c.load_id == load_id)).mappings().first()
        alert = conn.execute(select(al.c.lake_key).where(al.c.load_id == load_id)).scalar()
    return {**row, "alert_key": alert} if row else None


def _print_load(s: dict[str, Any], settings: Settings) -> None:
    from serasan.lake.store import location

    print(f"dataset {s['dataset_id']}: {s['status']}")
    print(f"  rows in {s['rows_in']}, loaded {s['rows_loaded']}, rejected {s['rows_rejected']}")
    if s.get("quarantine_key"):
        print(f"  rejected rows: {location(settings, s['quarantine_key'])}")
    if s.get("alert_key"):
        print(f"  alert for the OPD: {location(settings, s['alert_key'])}")
    if s.get("notes"):
        print(f"  notes: {s['notes']}")


def cmd_check(args: argparse.Namespace) -> int:
    from serasan.common.progress import stderr_tracking
    from serasan.parse.reader import ParseError
    from serasan.quality.check import check_file, render
    from serasan.quality.registry import registry_params, registry_refs

    catalog = load_catalog(args, suites=(args.dataset,))  # another dataset's suite never blocks
    if not known(catalog, args.dataset):
        return 2
    path = Path(args.file)
    if not path.is_file():
        return error(f"{path}: no such file")
    lang = args.lang or settings().lang
    date = date_or_today(args.date)
    extra = {}
    if registry_refs(catalog.suites[args.dataset]):  # keys live in the warehouse
        from serasan.warehouse.db import make_engine

        extra = registry_params(
            make_engine(settings().warehouse_url), catalog, catalog.suites[args.dataset]
        )
    if problem := _period_problem(catalog.dataset(args.dataset), args.period):
        return error(problem)
    try:  # progress on standard error: a bar on a terminal, else a line per batch
        with stderr_tracking(f"memeriksa {path.name}", path.stat().st_size):
            result = check_file(
                path,
                catalog.dataset(args.dataset),
                catalog,
                date,
                lang,
                extra,
                period=args.period,
                collected=args.collected_on,
            )
    except ParseError as exc:
        if args.json:
            print(json.dumps({"file": str(path), "dataset": args.dataset, "error": str(exc)}))
            return 2
        return error(exc)
    print(
        json.dumps(result, indent=2, ensure_ascii=False, default=str)
        if args.json
        else render(result, lang)
    )
    return 1 if any(p["rule"] != "summary" for p in result["problems"]) else 0


def cmd_template(args: argparse.Namespace) -> int:
    from serasan.ingest.template import write_template

    catalog = load_catalog(args)
    if not known(catalog, args.dataset):
        return 2
    out = Path(args.out or f"template-{args.dataset}.xlsx")
    write_template(catalog, catalog.dataset(args.dataset), out)
    print(f"template written: {out}")
    return 0


def cmd_inbox_policies(args: argparse.Namespace) -> int:
    from serasan.ingest.inbox_access import write_policies

    paths = write_policies(load_catalog(args), args.bucket, Path(args.out))
    print(f"{len(paths)} policies written to {args.out}")
    return 0


def cmd_inbox_apply(args: argparse.Namespace) -> int:
    """Create each OPD's MinIO user and policy; secrets come from the environment only."""
    from serasan.ingest.inbox_access import apply_minio, inbox_user

    catalog = load_catalog(args)
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
        return error("set these environment variables first: " + ", ".join(missing))
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


def register(sub: Subparsers) -> None:
    ing = command(
        sub,
        "ingest",
        cmd_ingest,
        help="put a file in a dataset's inbox and run its DAG once",
        description="Put an OPD file in its dataset's inbox, run that DAG once, print the load.",
        examples=[
            "serasan ingest --dataset muba_bank_sampah /tmp/opd/muba_bank_sampah.xlsx",
            "serasan ingest --dataset muba_bank_sampah --force --date 2026-11-01 a.xlsx",
            "serasan ingest --dataset muaraenim_produksi_karet --period 2021 karet.csv",
        ],
    )
    add_dataset(ing, "the dataset the file belongs to, as in `serasan catalog list`")
    ing.add_argument("file", help="the OPD's file (.xlsx, .csv or .txt)")
    ing.add_argument("--force", action="store_true", help="reprocess an already processed file")
    ing.add_argument("--date", help=DATE_HELP)
    ing.add_argument("--period", help=PERIOD_HELP)
    ing.add_argument("--collected-on", type=_day, help=COLLECTED_HELP)
    add_airflow_home(ing)

    chk = command(
        sub,
        "check",
        cmd_check,
        help="parse and validate a local file; nothing is loaded",
        description="Parse and validate a local file as its DAG would; nothing is loaded.",
        examples=[
            "serasan check --dataset muba_bank_sampah /tmp/opd/muba_bank_sampah.xlsx",
            "serasan check --dataset muba_bank_sampah --json --lang en sampah.csv",
            "serasan check --dataset muaraenim_produksi_karet --period 2021 karet.csv",
        ],
    )
    add_dataset(chk, "the dataset whose suite checks the file, as in `serasan catalog list`")
    chk.add_argument("file", help="the file to check (.xlsx, .csv or .txt)")
    add_json(chk, "machine-readable output")
    chk.add_argument("--lang", choices=["id", "en"], help="message language (default id)")
    chk.add_argument("--date", help=DATE_HELP)
    chk.add_argument("--period", help=PERIOD_HELP)
    chk.add_argument("--collected-on", type=_day, help=COLLECTED_HELP)

    tpl = command(
        sub,
        "template",
        cmd_template,
        help="write the XLSX template OPD staff fill in",
        description="Write the XLSX template OPD staff fill in for a dataset.",
        examples=[
            "serasan template --dataset muba_bank_sampah",
            "serasan template --dataset muaraenim_penerima_bansos --out /tmp/bansos.xlsx",
        ],
    )
    add_dataset(tpl)
    tpl.add_argument("--out", help="output file (default template-<dataset>.xlsx)")

    inbox = group(
        sub,
        "inbox",
        help="per-OPD upload access in MinIO",
        description="Per-OPD upload access to the lake's inbox in MinIO.",
        examples=["serasan inbox policies", "serasan inbox apply --secure"],
    )
    pol = command(
        inbox,
        "policies",
        cmd_inbox_policies,
        help="write one IAM policy JSON per OPD",
        description="Write one IAM policy JSON per OPD, allowing uploads to its inbox only.",
        examples=[
            "serasan inbox policies",
            "serasan inbox policies --bucket serasan-lake --out /tmp/policies",
        ],
    )
    pol.add_argument("--bucket", default=BUCKET, help="the lake's bucket (default: %(default)s)")
    pol.add_argument(
        "--out", default="docker/minio/policies", help="output folder (default: %(default)s)"
    )
    app = command(
        inbox,
        "apply",
        cmd_inbox_apply,
        help="create OPD users and attach their policies "
        "(SERASAN_MINIO_* and SERASAN_INBOX_PASSWORD_<USER> from the env)",
        description="Create each OPD's MinIO user and attach its inbox policy.",
        examples=["serasan inbox apply", "serasan inbox apply --bucket serasan-lake --secure"],
        notes="Secrets come from the environment only: SERASAN_MINIO_ENDPOINT,\n"
        "SERASAN_MINIO_ROOT_USER, SERASAN_MINIO_ROOT_PASSWORD, and one\n"
        "SERASAN_INBOX_PASSWORD_<USER> per OPD user (<regency>-<opd>, upper-cased,\n"
        "'-' as '_'), e.g. SERASAN_INBOX_PASSWORD_MUARAENIM_DINSOS.",
    )
    app.add_argument("--bucket", default=BUCKET, help="the lake's bucket (default: %(default)s)")
    app.add_argument("--secure", action="store_true", help="talk to MinIO over HTTPS")
