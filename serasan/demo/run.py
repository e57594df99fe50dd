"""`serasan demo`: generate OPD files, drop them in the inbox, run every DAG through Airflow, and
print what happened and where to look. Running it twice leaves the warehouse as it was.

The citizen-voice files (reviews, complaints) are generated as collected on the generator's
as-of date: reviews reach back three years and many say when they were written as review sites
do ("3 bulan lalu"). Their DAG runs get that collection date in the run's conf (`collected`, by
the file's sha256), as `serasan ingest --collected-on` gives it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import secrets
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from serasan.common import dag_ids
from serasan.common.clock import JAKARTA
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo import reviews
from serasan.demo.generate import DEFAULT_AS_OF, GeneratedFile, collected_relative, generate
from serasan.demo.sources import prepare_database, serve_api
from serasan.lake.keys import ALERTS, EXPORTS, QUARANTINE, RAW, inbox_prefix, report_key
from serasan.lake.store import open_lake
from serasan.pipeline.handoff import LoadSummary
from serasan.publish.report import default_period
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.tables import table


def _progress(i: int, n: int, dag_id: str, res: dict[str, Any]) -> None:
    load = [LoadSummary.from_xcom(s) for s in (res["tasks"].get("load") or {}).get("result") or []]
    detail = (
        "no new file (already processed)"
        if not load
        else "; ".join(
            f"{s.filename}: {s.status}, {s.rows_in} in, {s.rows_loaded} loaded, "
            f"{s.rows_rejected} rejected"
            for s in load
        )
    )
    if res["tasks"].get("compute"):
        detail = f"{res['tasks']['compute']['result']['values']} KPI values"
    if res["tasks"].get("export"):
        out = res["tasks"]["export"]["result"]
        detail = f"{out['periods_written']} periods exported"
        if out.get("periods_blocked"):
            detail += f", {out['periods_blocked']} held back (personal data found)"
        if published := ((res["tasks"].get("publish") or {}).get("result") or {}).get("published"):
            detail += f", {len(published)} datasets sent to the portal"
    if (res["tasks"].get("report") or {}).get("result"):  # the report DAG, after the KPI DAG
        detail = f"report {res['tasks']['report']['result']['period']}"
    if pack := (res["tasks"].get("evaluation") or {}).get("result"):
        partial = ", tahun belum lengkap" if pack.get("partial") else ""
        state = "written" if pack.get("written") else "unchanged"
        detail = (
            f"evaluation pack {pack['year']}{partial}: {state}, PDF "
            f"{(pack.get('pdf_bytes') or 0) / 1e6:.1f} MB"
        )
    if res["dag_id"] == dag_ids.ALERTS:
        detail = "lateness reminders, digests, outbox drained"
    if res["state"] != "success" and not load:
        detail = (
            "failed: policy 'block' stopped the load (see alert)"
            if res["tasks"].get("load", {}).get("state") == "failed"
            else "failed"
        )
    print(f"[{i:>2}/{n}] {dag_id:<45} {res['state']:<8} {detail}", flush=True)


def demo_pii_key(settings: Settings, home: Path) -> Settings:
    """The demo pseudonymises with a random key kept beside its data (never in the code);
    a deployment sets its own in the `serasan_pii` connection or SERASAN_PII_KEY."""
    if settings.pii_key:
        return settings
    path = home / "pii-demo.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return dataclasses.replace(settings, pii_key=path.read_text().strip())


def run_demo(
    catalog: Catalog,
    settings: Settings,
    airflow_home: Path,
    date: dt.date,
    defect_rate: float,
    workdir: Path,
    verbose: bool = False,
) -> int:
    settings = demo_pii_key(settings, airflow_home.parent)
    os.environ.update(settings.as_env())
    print(
        f"Serasan demo for {date.isoformat()} (Asia/Jakarta)\n{settings.describe()}\n", flush=True
    )
    engine = make_engine(settings.warehouse_url)
    upgrade(engine, catalog)
    lake = open_lake(settings)
    files, confs = generate_uploads(catalog, workdir, defect_rate)
    for f in files:
        ds = catalog.dataset(f.dataset_id)
        assert f.path is not None  # generate() wrote every file it returns
        lake.put(inbox_prefix(catalog, ds) + f.path.name, f.path.read_bytes())
    print(
        f"generated {len(files)} OPD spreadsheets ({sum(f.rows for f in files)} rows, defect "
        f"rate {defect_rate:.0%}) into the inbox",
        flush=True,
    )
    with ExitStack() as stack:
        for ds in catalog.datasets.values():
            if ds.source.kind == "database":
                os.environ.update(
                    prepare_database(
                        ds, catalog, settings_home(settings) / "apps", date, defect_rate
                    )
                )
                print(f"application database for {ds.id}: SQLite stand-in", flush=True)
            elif ds.source.kind == "api":
                os.environ.update(stack.enter_context(serve_api(ds, catalog, date, defect_rate)))
                print(f"application API for {ds.id}: stand-in on 127.0.0.1", flush=True)
        print(flush=True)
        _run_dags(catalog, airflow_home, date, verbose, confs)
    print_summary(catalog, settings, engine, date)
    return 0


def generate_uploads(
    catalog: Catalog, workdir: Path, defect_rate: float, collected: dt.date = DEFAULT_AS_OF
) -> tuple[list[GeneratedFile], dict[str, dict[str, Any]]]:
    """Every spreadsheet dataset's OPD file, and the DAG run conf some of them need: a
    citizen-voice file is generated as collected on `collected` (more rows, reviews over three
    years, relative dates), and its DAG run is told that date by the file's sha256."""
    uploaded = [d for d in catalog.datasets.values() if d.source.kind == "spreadsheet"]
    voice = [d for d in uploaded if reviews.demo_rows(d) is not None]
    files = generate(
        workdir,
        catalog,
        dataset_ids=[d.id for d in uploaded if d not in voice],
        fmt="xlsx",
        defect_rate=defect_rate,
        seed=42,
    )
    confs: dict[str, dict[str, Any]] = {}
    for ds in voice:
        [f] = generate(
            workdir,
            catalog,
            dataset_ids=[ds.id],
            rows=reviews.demo_rows(ds),
            fmt="xlsx",
            defect_rate=defect_rate,
            seed=42,
            collected=collected,
        )
        files.append(f)
        if collected_relative(ds, collected):
            sha = hashlib.sha256(f.data).hexdigest()
            confs[dag_ids.dataset_dag_id(ds.id)] = {"collected": {sha: collected.isoformat()}}
    return sorted(files, key=lambda f: f.dataset_id), confs


def settings_home(settings: Settings) -> Path:
    """Where the demo keeps its stand-in application databases: beside the warehouse file."""
    url = settings.warehouse_url
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).parent
    return Path(tempfile.gettempdir()) / "serasan-demo"


def _run_dags(
    catalog: Catalog,
    airflow_home: Path,
    date: dt.date,
    verbose: bool = False,
    confs: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Every DAG once, a line each; Airflow's own output (a blocked load's task traceback
    among it, which the block policy causes on purpose) goes to a log file unless `verbose`.
    `confs`: a DAG run's conf by DAG id (a file's collection date)."""

    from serasan.operators.runner import Runner

    print("starting Airflow (project-local metadata DB)...", flush=True)
    if not (os.environ.get("SERASAN_SMTP_HOST") or os.environ.get("SERASAN_WEBHOOK_URL")):
        print(
            "alerts are written to the outbox and the lake; none is sent, because neither "
            "SERASAN_SMTP_HOST nor SERASAN_WEBHOOK_URL is set",
            flush=True,
        )
        logging.getLogger("serasan.alerts.delivery").setLevel(logging.ERROR)  # said once, above
    runner = Runner(airflow_home)
    log_file = None
    if not verbose:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        log_file = airflow_home / "logs" / "serasan" / f"demo-{stamp}.log"
        print(f"Airflow task logs: {log_file}", flush=True)
    logical = dt.datetime.combine(date, dt.time(), tzinfo=JAKARTA)
    dataset_dags = [dag_ids.dataset_dag_id(d) for d in sorted(catalog.datasets)]
    regency_dags = [d for r in catalog.regencies.values() for d in dag_ids.regency_dag_ids(r.slug)]
    packs = evaluation_dags(catalog, date)
    confs = {**(confs or {}), **packs}
    all_dags = [*dataset_dags, *regency_dags, dag_ids.ALERTS, *packs]
    for i, dag_id in enumerate(all_dags, 1):
        conf = confs.get(dag_id)
        _progress(i, len(all_dags), dag_id, runner.run(dag_id, logical, conf, log_file=log_file))


def evaluation_dags(catalog: Catalog, date: dt.date) -> dict[str, dict[str, Any]]:
    """Each regency's evaluation DAG with its conf: the pack of the demo's own year, which the
    logical date leaves partial (the generated data are of that year; the default, the last
    complete year, would hold little). None when no Chromium can print the PDF: the demo says
    so and how to get one, rather than failing at its last step."""
    from serasan.publish.evaluation.options import chromium

    try:
        chromium()
    except FileNotFoundError as exc:
        print(f"evaluation packs not built: {exc} (`make browser` installs it)", flush=True)
        return {}
    return {
        dag_ids.evaluation_dag_id(r.slug): {"year": date.year} for r in catalog.regencies.values()
    }


def print_summary(catalog: Catalog, settings: Settings, engine: Any, date: dt.date) -> None:
    dialect = engine.dialect.name
    lr = table("meta", "load_run", dialect)
    al, kv = table("meta", "alert", dialect), table("mart", "kpi_value", dialect)
    ex = table("meta", "export_run", dialect)
    lake = open_lake(settings)
    print("\nSummary (warehouse content after this run)")
    print(
        f"{'dataset':<34} {'status':<12} {'in':>5} {'loaded':>7} {'rejected':>8} "
        f"{'rows in fact table':>18}"
    )
    with engine.connect() as conn:
        for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
            last = (
                conn.execute(select(lr).where(lr.c.dataset_id == ds.id).order_by(lr.c.load_id))
                .mappings()
                .all()
            )
            fact = fact_table(ds, dialect)
            in_fact = conn.execute(select(func.count()).select_from(fact)).scalar()
            status = ",".join(sorted({r["status"] for r in last})) or "-"
            print(
                f"{ds.id:<34} {status:<12} {sum(r['rows_in'] for r in last):>5} "
                f"{sum(r['rows_loaded'] for r in last):>7} "
                f"{sum(r['rows_rejected'] for r in last):>8} {in_fact:>18}"
            )
        n_alerts = conn.execute(select(func.count()).select_from(al)).scalar()
        n_kpi = conn.execute(select(func.count()).select_from(kv)).scalar()
        n_kpi_status = conn.execute(select(kv.c.status, func.count()).group_by(kv.c.status)).all()
        n_exports = conn.execute(select(func.count()).select_from(ex)).scalar()
    export_files = len(lake.list(EXPORTS))
    print(f"\nalerts written: {n_alerts}  ->  {lake.location(ALERTS)}")
    print(f"rejected rows:  {lake.location(QUARANTINE)}")
    print(
        f"KPI values:     {n_kpi} ({', '.join(f'{s} {n}' for s, n in n_kpi_status)}) in "
        f"mart.kpi_value"
    )
    print(
        f"exports:        {n_exports} dataset-periods, {export_files} files  ->  "
        f"{lake.location(EXPORTS)}"
    )
    print(f"raw files:      {lake.location(RAW)}")
    print(f"warehouse:      {settings.describe().splitlines()[1].split(': ', 1)[1]}")
    from serasan.publish.evaluation import pack

    for reg in catalog.regencies.values():  # last: the files people open first
        pdf = f"{pack.prefix(reg, date.year)}{pack.names(reg, date.year)['pdf']}"
        if lake.exists(pdf):
            print(f"evaluation:     {lake.location(pdf)}")
    for reg in catalog.regencies.values():
        key = report_key(reg, default_period(date))
        if lake.exists(key):
            print(f"report:         {lake.location(key)}")
