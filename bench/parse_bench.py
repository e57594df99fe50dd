"""Parse throughput and peak memory beside pyarrow.csv.read_csv, on the same clean file.

Each contender runs in its own fresh process so its peak RSS is its own. The file is a
generated OPD CSV (`serasan generate --format csv`) repeated to BENCH_ROWS rows.
Run: `make bench` (BENCH_ROWS=5000000 by default, about 500 MB).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serasan.quality.suites import load_validated_catalog

DATASET = "muba_kelompok_tani_karet"  # 10 columns, names and codes: ~100 bytes a row


def make_file(path: Path, rows: int) -> int:
    from serasan.demo.generate import generate_dataset

    catalog = load_validated_catalog()
    gen = generate_dataset(catalog.dataset(DATASET), catalog, rows=1000, fmt="csv", seed=1)
    header, *body = gen.data.decode().splitlines(keepends=True)
    block = "".join(body)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(header)
        written = 0
        while written < rows:
            n = min(len(body), rows - written)
            fh.write(block if n == len(body) else "".join(body[:n]))
            written += n
    return written


def run_one(kind: str, path: str) -> None:
    """Child process: parse once, print rows, seconds and peak RSS as JSON."""
    start = time.perf_counter()
    if kind == "pyarrow":
        import pyarrow.csv as pacsv

        rows = pacsv.read_csv(path).num_rows
    else:
        from serasan.parse.reader import parse_stream

        ds = load_validated_catalog().dataset(DATASET)
        result = parse_stream(lambda: open(path, "rb"), Path(path).name, ds)  # noqa: SIM115
        assert result.rows_in == result.table.num_rows, "a clean file must parse without rejects"
        rows = result.table.num_rows
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_bytes": peak}))


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "5000000"))
    with tempfile.TemporaryDirectory(prefix="serasan-bench-") as tmp:
        path = Path(tmp) / f"{DATASET}.csv"
        print(f"writing {rows:,} rows ...", flush=True)
        make_file(path, rows)
        size = path.stat().st_size
        results = {}
        for kind in ("pyarrow", "serasan"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    mb = size / 2**20
    print(f"\nfile: {rows:,} rows, {mb:,.0f} MB ({DATASET}, clean CSV)")
    print(f"{'parser':<22}{'seconds':>9}{'rows/s':>13}{'MB/s':>8}{'peak RSS MB':>13}")
    for kind, label in (("pyarrow", "pyarrow.csv.read_csv"), ("serasan", "serasan parse_stream")):
        r = results[kind]
        print(
            f"{label:<22}{r['seconds']:>9.1f}{r['rows'] / r['seconds']:>13,.0f}"
            f"{mb / r['seconds']:>8.1f}{r['peak_bytes'] / 2**20:>13,.0f}"
        )
    s, p = results["serasan"], results["pyarrow"]
    print(
        f"\nratio serasan/pyarrow: time x{s['seconds'] / p['seconds']:.1f}, "
        f"peak RSS x{s['peak_bytes'] / p['peak_bytes']:.2f}"
    )
    budget = 1.5 * 2**30
    verdict = "within" if s["peak_bytes"] < budget else "OVER"
    print(f"serasan peak RSS {s['peak_bytes'] / 2**30:.2f} GB: {verdict} the 1.5 GB budget")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        run_one(sys.argv[2], sys.argv[3])
    else:
        main()
