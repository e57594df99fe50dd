"""Validation of 1M rows against the dataset's full suite, beside reading the same Parquet file.

Contenders, each in its own process so peak RSS is its own:
- read:     pyarrow.parquet.read_table of the batch (the floor: what loading the data costs);
- gx:       the GX suite alone (result_format SUMMARY), as `validate.run_gx` runs it;
- serasan:  `validate.validate` = GX SUMMARY + the row masks that must agree with it;
- builtin-pandas / builtin-sql: the suite's GX built-in rules only (our custom expectations have
  no SQL implementation), in pandas and in SQL on a PostgreSQL staging table already loaded
  (SERASAN_TEST_PG_URL; loading the table is not timed), to decide where validation runs.
Run: `make bench` (BENCH_VALIDATE_ROWS=1000000 by default).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serasan.quality.suites import load_validated_catalog

DATASET = "muba_bank_sampah"
RUN_DATE = dt.date(2026, 11, 1)


def make_file(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from serasan.demo.generate import generate_dataset
    from serasan.parse.reader import parse_file

    catalog = load_validated_catalog()
    ds = catalog.dataset(DATASET)
    gen = generate_dataset(ds, catalog, rows=250, fmt="csv", defect_rate=0.1, seed=3)
    block = parse_file(gen.data, gen.filename, ds).table
    reps = -(-rows // block.num_rows)
    table = pa.concat_tables([block] * reps).slice(0, rows)
    pq.write_table(table, path)


def run_one(kind: str, path: str) -> None:
    """Child process: imports and GX set-up first, then time read (+ validation)."""
    import pyarrow.parquet as pq

    from serasan.quality.engine import _batch_definition, run_gx, suite_params, validate

    suite = load_validated_catalog().suites[DATASET]
    params = suite_params(RUN_DATE)
    if kind != "read":
        _batch_definition()  # GX import and context: a one-off per worker process
    start = time.perf_counter()
    table = pq.read_table(path)
    if kind.startswith("builtin"):
        builtin = {
            **suite,
            "expectations": [e for e in suite["expectations"] if not e["type"].startswith(CUSTOM)],
        }
        if kind == "builtin-pandas":  # validation only, as for SQL: the batch is at hand
            start = time.perf_counter()
            failing = sum(r["unexpected_count"] for r in run_gx(table, builtin, params))
        else:
            start, failing = _sql_validate(path, table, builtin, params)
    elif kind == "gx":
        failing = sum(r["unexpected_count"] for r in run_gx(table, suite, params))
    elif kind == "serasan":
        failing = int(validate(table, suite, params).failing.sum())
    else:
        failing = 0
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {"rows": table.num_rows, "seconds": seconds, "peak_bytes": peak, "failing": failing}
        )
    )


CUSTOM = (
    "expect_column_values_to_be_valid_",
    "expect_column_values_to_be_in_period",
    "expect_column_values_to_be_non_negative_money",
    "expect_column_values_to_exist_in_registry",
)


def _sql_validate(path: str, table: object, suite: dict, params: dict) -> tuple[float, int]:
    """Load the batch into a PostgreSQL table (not timed), then time GX's SQL engine on it."""
    import great_expectations as gx
    from sqlalchemy import text

    from serasan.warehouse.db import make_engine
    from serasan.warehouse.loader import stage

    url = os.environ.get("SERASAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    engine = make_engine(url)
    ds = load_validated_catalog().dataset(DATASET)
    with engine.begin() as conn:
        stg = stage(conn, ds, table, "bench-0000000000000000")
    ctx = gx.get_context(mode="ephemeral")
    source = ctx.data_sources.add_postgres(name="bench", connection_string=url)
    asset = source.add_table_asset(name="stg", table_name=stg.name, schema_name=stg.schema)
    batch = asset.add_batch_definition_whole_table("all").get_batch()
    start = time.perf_counter()
    result = batch.validate(
        gx.ExpectationSuite(name="b", expectations=suite["expectations"]),
        result_format="SUMMARY",
        expectation_parameters=params,
    )
    failing = sum(int((r.result or {}).get("unexpected_count") or 0) for r in result.results)
    elapsed = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(text(f'DROP TABLE IF EXISTS "{stg.schema}"."{stg.name}"'))
    return time.perf_counter() - elapsed, failing


def main() -> None:
    rows = int(os.environ.get("BENCH_VALIDATE_ROWS", "1000000"))
    with tempfile.TemporaryDirectory(prefix="serasan-bench-") as tmp:
        path = Path(tmp) / f"{DATASET}.parquet"
        print(f"writing {rows:,} rows of {DATASET} (10% defective rows) ...", flush=True)
        make_file(path, rows)
        results = {}
        for kind in ("read", "gx", "serasan", "builtin-pandas", "builtin-sql"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n{'step':<40}{'seconds':>9}{'peak RSS MB':>13}")
    labels = {
        "read": "read Parquet",
        "gx": "read + GX suite (SUMMARY)",
        "serasan": "read + GX + row masks (validate)",
        "builtin-pandas": "built-in rules only, pandas (no read)",
        "builtin-sql": "built-in rules only, SQL (no load)",
    }
    for kind, label in labels.items():
        r = results[kind]
        print(f"{label:<40}{r['seconds']:>9.2f}{r['peak_bytes'] / 2**20:>13,.0f}")
    base = results["read"]["seconds"]
    print(
        f"\nratio to reading the Parquet file: GX x{results['gx']['seconds'] / base:.1f}, "
        f"validate x{results['serasan']['seconds'] / base:.1f}; row masks add "
        f"{results['serasan']['seconds'] - results['gx']['seconds']:.2f} s"
    )
    bp, bs = results["builtin-pandas"], results["builtin-sql"]
    agree = "agree" if bp["failing"] == bs["failing"] else "DISAGREE"
    print(
        f"built-in rules: SQL/pandas time x{bs['seconds'] / bp['seconds']:.2f} "
        f"(unexpected counts {agree}: {bp['failing']} vs {bs['failing']})"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        run_one(sys.argv[2], sys.argv[3])
    else:
        main()
