"""Loading into the warehouse: Serasan's merge beside two COPY floors and a naive pandas load.

All contenders load the same generated rows (10 columns of mixed types, the shape of
`muba_kelompok_tani_karet`: a year, codes, names, a nullable phone, counts and amounts), each in
its own fresh process so its peak RSS is its own, into one PostgreSQL database:

- bare:    COPY of the CSV file into an UNLOGGED table without a key: the floor;
- keyed:   the floor for a durable load: COPY into a LOGGED table built exactly as the loader
           builds the dataset's fact table (`facts.fact_table`: the catalog columns, key hash,
           row hash and load id, the same primary key and indexes), of the same rows with
           their hashes and load id, in the loader's binary COPY format (`pgcopy.binary_copy`),
           prepared before the clock starts;
- serasan: `loader.merge` from the staged Parquet file (read in record batches) into the
           dataset's fact table, with history, in one transaction; for `replace_period` and
           `upsert`, into a fresh table, then over a table holding the previous version of the
           period (10% of rows changed), then the same rows again under another load id, then
           the same load again (what `--force` or a retried task does);
- naive:   pandas.read_csv + DataFrame.to_sql (method=None, default chunks).

Times are the better of BENCH_LOAD_ROUNDS runs (default 2) for bare, keyed and Serasan, one for
naive. Peak RSS is each process's own high-water mark (VmHWM). Fresh-table loads are reported
against both floors; the target for a durable load is set against the keyed one (issue 17). A
round runs the keyed floor and then every Serasan step, so they share the machine's state.
Serasan's processes connect and import before their clock starts, pandas included: pyarrow
imports it on its first conversion, a once-per-process cost that is printed apart.

Run: `python bench/load_bench.py` (BENCH_LOAD_ROWS=1000000 by default; a comma-separated list
such as 1000000,5000000 runs each size in turn). PostgreSQL: SERASAN_TEST_PG_URL, where the user
may CREATE DATABASE; a scratch database is created and dropped.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from serasan.quality.suites import load_validated_catalog

PG_URL = os.environ.get("SERASAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
COLUMNS = (
    "tahun bigint, kode_kelompok text, nama_kelompok text, kode_desa text, "
    "nama_ketua text, nik_ketua text, telepon_ketua text, jumlah_anggota bigint, "
    "luas_kebun_ha double precision, produksi_kg double precision"
)


def _url(database: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database=database).render_as_string(hide_password=False)


def dataset(mode: str) -> dict:
    """`muba_kelompok_tani_karet` under another id, in the given load mode."""

    spec = load_validated_catalog().dataset("muba_kelompok_tani_karet").model_dump()
    return {**spec, "id": f"bench_{mode}", "load_mode": mode}


def make_data(tmp: Path, rows: int) -> dict[str, Path]:
    """v1 as CSV and Parquet, and v2: the same keys with 10% of the amounts changed."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    idx = np.arange(rows)
    names = np.array(
        [
            "KT Bina Karya",
            "KT Mekar Jaya",
            "Poktan Usaha Bersama",
            "Kelompok Tani Sri Rejeki",
            "Kelompok Tani Mulya Abadi",
        ]
    )
    desa = np.array([f"16.06.{k:02d}.{2000 + j}" for k in range(1, 20) for j in range(1, 15)])
    first = np.array(["Joni", "Wulan", "Darmawan", "Dewi", "M.", "Siti", "Budi", "Rina"])
    last = np.array(["Firmansyah", "Wulandari", "Kurniawan", "Maharani", "Rizki", "Aminah"])

    def pick(values: np.ndarray) -> pa.Array:
        return pa.array(values[rng.integers(0, len(values), rows)].tolist())

    def digits(prefix: str, width: int) -> np.ndarray:
        return np.char.add(
            prefix, np.char.zfill(rng.integers(0, 10**width, rows).astype(str), width)
        )

    v1 = pa.table(
        {
            "tahun": pa.array(np.full(rows, 2025, dtype=np.int64)),
            "kode_kelompok": pa.array(
                np.char.add("KT-1606-", np.char.zfill(idx.astype(str), 8)).tolist()
            ),
            "nama_kelompok": pick(names),
            "kode_desa": pick(desa),
            "nama_ketua": pa.array(
                np.char.add(
                    np.char.add(first[rng.integers(0, len(first), rows)], " "),
                    last[rng.integers(0, len(last), rows)],
                ).tolist()
            ),
            "nik_ketua": pa.array(digits("1606", 12).tolist()),
            "telepon_ketua": pa.array(digits("0812", 8).tolist(), mask=rng.random(rows) < 0.1),
            "jumlah_anggota": pa.array(rng.integers(10, 60, rows)),
            "luas_kebun_ha": pa.array(np.round(rng.uniform(8, 120, rows), 2)),
            "produksi_kg": pa.array(np.round(rng.uniform(8000, 160000, rows), 1)),
        }
    )
    amounts = v1["produksi_kg"].to_numpy()
    changed = rng.random(rows) < 0.10
    v2 = v1.set_column(
        v1.schema.get_field_index("produksi_kg"),
        "produksi_kg",
        pa.array(np.where(changed, np.round(amounts + 1.5, 1), amounts)),
    )
    paths = {"csv": tmp / "v1.csv", "v1": tmp / "v1.parquet", "v2": tmp / "v2.parquet"}
    pacsv.write_csv(v1, paths["csv"])
    pq.write_table(v1, paths["v1"])
    pq.write_table(v2, paths["v2"])
    return paths


# ------------------------------------------------------------------------ children


def _peak() -> int:
    """This process's own peak RSS: VmHWM starts afresh at exec, unlike ru_maxrss, which
    Linux carries over from the parent that forked it."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_bare(url: str, csv_path: str) -> dict:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        start = time.perf_counter()
        conn.execute("DROP TABLE IF EXISTS bare")
        conn.execute(f"CREATE UNLOGGED TABLE bare ({COLUMNS})")
        with (
            conn.cursor() as cur,
            cur.copy("COPY bare FROM STDIN (FORMAT csv, HEADER)") as cp,
            open(csv_path, "rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute("DROP TABLE bare")
        conn.commit()
    return {"seconds": seconds, "peak_bytes": _peak()}


def keyed_table(spec: dict[str, Any]) -> Any:
    """The dataset's fact table (columns, primary key and indexes as `fact_table` builds
    them), under another name in `core`."""
    from serasan.config.catalog import Dataset
    from serasan.warehouse.facts import fact_table

    return fact_table(Dataset.model_validate(spec), "postgresql", name="bench_keyed")


def keyed_payload(spec: dict[str, Any], parquet: Path, out: Path, load_id: str) -> None:
    """The binary COPY stream the loader would send for these rows: the catalog columns read
    from the staged Parquet file, the key and row hashes, the load id."""
    from serasan.config.catalog import Dataset
    from serasan.warehouse.batches import Source
    from serasan.warehouse.bulk import _hashed
    from serasan.warehouse.pgcopy import binary_copy

    ds = Dataset.model_validate(spec)
    with open(out, "wb") as fh:
        for chunk in binary_copy(_hashed(ds, Source(parquet).batches(ds)), load_id):
            fh.write(chunk)


def child_keyed(url: str, spec: str, payload: str) -> dict[str, Any]:
    import psycopg
    from psycopg import sql
    from sqlalchemy import create_engine

    from serasan.warehouse.facts import HASHES, LOAD_ID

    info = json.loads(spec)
    table = keyed_table(info)
    engine = create_engine(url)
    with engine.begin() as conn:  # created and committed before the clock, as a fact table is
        table.drop(bind=conn, checkfirst=True)
        table.create(bind=conn)
    engine.dispose()
    columns = [*(c["name"] for c in info["columns"]), *HASHES, LOAD_ID]
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(table.schema, table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
    )
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT 1")
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(stmt) as cp, open(payload, "rb") as fh:
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - start
        rows = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.schema, table.name))
        ).fetchone()
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table.schema, table.name)))
        conn.commit()
    return {"seconds": seconds, "peak_bytes": _peak(), "rows": rows[0] if rows else None}


def child_serasan(url: str, spec: str, parquet: str, load_id: str) -> dict:
    from serasan.config.catalog import Dataset
    from serasan.warehouse import history, loader
    from serasan.warehouse.db import make_engine

    ds = Dataset.model_validate(json.loads(spec))
    engine = make_engine(url)
    with engine.connect() as conn:  # connect and import before the clock starts
        conn.exec_driver_sql("SELECT 1")
    # pyarrow imports pandas on its first conversion (pa.array, pa.scalar, to_numpy): a cost
    # each process pays once, whatever it loads, so it is timed apart, like the other imports
    warm = time.perf_counter()
    import pandas  # noqa: F401

    warm = time.perf_counter() - warm
    start = time.perf_counter()
    with engine.begin() as conn:
        rows = loader.merge(conn, ds, Path(parquet), load_id)
    seconds = time.perf_counter() - start
    log = history.merge_log_table("postgresql")
    with engine.connect() as conn:
        entry = (
            conn.execute(log.select().where(log.c.dataset_id == ds.id, log.c.load_id == load_id))
            .mappings()
            .first()
        )
    return {
        "seconds": seconds,
        "import_seconds": warm,
        "peak_bytes": _peak(),
        "rows": rows,
        "rows_new": entry["rows_new"] if entry else None,
        "rows_superseded": entry["rows_superseded"] if entry else None,
    }


def child_naive(url: str, csv_path: str) -> dict:
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    start = time.perf_counter()
    df = pd.read_csv(csv_path, dtype={"nik_ketua": str, "telepon_ketua": str})
    df.to_sql("naive", engine, if_exists="replace", index=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_bytes": _peak()}


def _child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"contender {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------ parent


def _reset(url: str, spec: dict) -> None:
    """A fresh fact table, history table and ledger for the benchmark dataset."""
    from sqlalchemy import delete

    from serasan.config.catalog import Dataset
    from serasan.warehouse import history
    from serasan.warehouse.db import make_engine
    from serasan.warehouse.facts import fact_table

    ds = Dataset.model_validate(spec)
    engine = make_engine(url)
    with engine.begin() as conn:
        for t in (fact_table(ds, "postgresql"), history.history_table(ds, "postgresql")):
            t.drop(bind=conn, checkfirst=True)
        fact_table(ds, "postgresql").create(bind=conn)
        _, log = history.ensure_for(conn, ds)
        conn.execute(delete(log).where(log.c.dataset_id == ds.id))
    engine.dispose()


def _settle(url: str) -> None:
    """Flush dirty buffers between contenders, so one does not pay for another's writes."""
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        conn.exec_driver_sql("CHECKPOINT")
    engine.dispose()


def run_size(url: str, rows: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="serasan-load-bench-") as tmp:
        print(f"\ngenerating {rows:,} rows ...", flush=True)
        paths = make_data(Path(tmp), rows)
        sizes = {k: p.stat().st_size for k, p in paths.items()}
        res: dict[str, dict] = {}
        rounds = int(os.environ.get("BENCH_LOAD_ROUNDS", "2"))
        bare = []
        for _ in range(rounds):  # the floor: the better of its runs
            _settle(url)
            bare.append(_child("bare", url, str(paths["csv"])))
        res["bare"] = min(bare, key=lambda r: r["seconds"])
        print(f"  bare COPY: {res['bare']['seconds']:.2f} s", flush=True)
        keyed_spec = {**dataset("upsert"), "id": "bench_keyed"}  # the mode plays no part
        paths["keyed"] = Path(tmp) / "v1.pgcopy"
        keyed_payload(keyed_spec, paths["v1"], paths["keyed"], "L1")
        sizes["keyed"] = paths["keyed"].stat().st_size
        modes = os.environ.get("BENCH_LOAD_MODES", "replace_period,upsert").split(",")
        steps = [
            ("fresh", "v1", "L1"),
            ("update", "v2", "L2"),
            ("same-rows", "v2", "L3"),
            ("same-load", "v2", "L3"),
        ]

        def keep(key: str, r: dict[str, Any]) -> None:  # each contender keeps its better run
            if key not in res or r["seconds"] < res[key]["seconds"]:
                res[key] = r

        for _ in range(rounds):  # round by round, so the floor and the loads share the machine
            _settle(url)
            r = _child("keyed", url, json.dumps(keyed_spec), str(paths["keyed"]))
            if r["rows"] != rows:
                raise SystemExit(f"keyed COPY loaded {r['rows']} rows, not {rows}")
            keep("keyed", r)
            print(f"  keyed COPY: {r['seconds']:.2f} s", flush=True)
            for mode in modes:
                spec = dataset(mode)
                _reset(url, spec)
                for step, version, load_id in steps:
                    _settle(url)
                    r = _child("serasan", url, json.dumps(spec), str(paths[version]), load_id)
                    keep(f"{mode}:{step}", r)
                    print(
                        f"  serasan {mode} {step}: {r['seconds']:.2f} s "
                        f"(new {r['rows_new']}, to history {r['rows_superseded']})",
                        flush=True,
                    )
        _settle(url)
        res["naive"] = _child("naive", url, str(paths["csv"]))
        print(f"  naive to_sql: {res['naive']['seconds']:.2f} s", flush=True)
    return {"rows": rows, "sizes": sizes, "results": res}


def report(run: dict) -> None:
    r, rows = run["results"], run["rows"]
    bare, keyed = r["bare"]["seconds"], r["keyed"]["seconds"]
    mb = 2**20
    print(
        f"\n{rows:,} rows, 10 columns: CSV {run['sizes']['csv'] / mb:,.0f} MB, "
        f"staged Parquet {run['sizes']['v1'] / mb:,.0f} MB, "
        f"binary COPY with hashes {run['sizes']['keyed'] / mb:,.0f} MB"
    )
    print(
        f"{'contender':<52}{'seconds':>9}{'x bare':>8}{'x keyed':>9}{'rows/s':>12}"
        f"{'peak RSS MB':>13}"
    )
    labels = [
        ("bare", "bare: COPY csv -> UNLOGGED table, no key"),
        ("keyed", "keyed: binary COPY -> LOGGED fact table, key"),
    ]
    for mode in ("replace_period", "upsert"):
        labels += [
            (f"{mode}:fresh", f"serasan {mode}: fresh table"),
            (f"{mode}:update", f"serasan {mode}: over v1, 10% changed"),
            (f"{mode}:same-rows", f"serasan {mode}: same rows, new load id"),
            (f"{mode}:same-load", f"serasan {mode}: same load again"),
        ]
    labels.append(("naive", "naive: pandas read_csv + to_sql"))
    for key, label in labels:
        x = r[key]
        print(
            f"{label:<52}{x['seconds']:>9.2f}{x['seconds'] / bare:>8.2f}"
            f"{x['seconds'] / keyed:>9.2f}{rows / x['seconds']:>12,.0f}"
            f"{x['peak_bytes'] / mb:>13,.0f}"
        )
    warm = [x["import_seconds"] for k, x in r.items() if ":" in k]
    print(
        f"(not counted above: each serasan process imported pandas before its clock started, "
        f"{min(warm):.2f}-{max(warm):.2f} s; pyarrow's first conversion would)"
    )
    rp, up = r["replace_period:fresh"]["seconds"], r["upsert:fresh"]["seconds"]
    rpu, upu = r["replace_period:update"]["seconds"], r["upsert:update"]["seconds"]
    peak = max(x["peak_bytes"] for k, x in r.items() if ":" in k)
    checks = [
        ("replace_period fresh / bare", rp / bare, "<=", 2.0),
        ("replace_period over v1 / bare", rpu / bare, "<=", 2.0),
        ("upsert fresh / bare", up / bare, "<=", 3.5),
        ("upsert over v1 / bare", upu / bare, "<=", 3.5),
        ("replace_period fresh / keyed", rp / keyed, "<=", 1.25),
        ("upsert fresh / keyed", up / keyed, "<=", 1.25),
        ("naive / serasan replace_period fresh", r["naive"]["seconds"] / rp, ">=", 10),
        ("naive / serasan upsert fresh", r["naive"]["seconds"] / up, ">=", 10),
        (
            "first load / same load again, replace_period",
            rp / r["replace_period:same-load"]["seconds"],
            ">=",
            5,
        ),
        ("first load / same load again, upsert", up / r["upsert:same-load"]["seconds"], ">=", 5),
        ("serasan peak RSS (GB)", peak / 2**30, "<", 1.0),
    ]
    print()
    for name, value, op, target in checks:
        ok = value <= target if op == "<=" else value >= target if op == ">=" else value < target
        print(f"{name:<48}{value:>8.2f}   target {op} {target:<5} {'met' if ok else 'MISSED'}")


def machine() -> str:
    from sqlalchemy import create_engine

    engine = create_engine(_url("postgres"))
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version").scalar()
        settings = dict(
            conn.exec_driver_sql(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'max_wal_size', 'synchronous_commit')"
            ).all()
        )
    engine.dispose()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GB RAM, "
        f"Python {platform.python_version()}, PostgreSQL {version} "
        f"({', '.join(f'{k}={v}' for k, v in sorted(settings.items()))})"
    )


def main() -> None:
    from sqlalchemy import create_engine

    sizes = [int(x) for x in os.environ.get("BENCH_LOAD_ROWS", "1000000").split(",")]
    print(f"machine: {machine()}")
    name = f"serasan_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        from serasan.warehouse.db import make_engine, upgrade

        engine = make_engine(_url(name))
        upgrade(engine, load_validated_catalog())  # schemas and meta tables, as in production
        engine.dispose()
        runs = [run_size(_url(name), rows) for rows in sizes]
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    for run in runs:
        report(run)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, args = sys.argv[2], sys.argv[3:]
        fn = {
            "bare": child_bare,
            "keyed": child_keyed,
            "serasan": child_serasan,
            "naive": child_naive,
        }[kind]
        print(json.dumps(fn(*args)))
    else:
        main()
