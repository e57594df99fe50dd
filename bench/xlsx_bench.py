"""A 100k-row workbook: Serasan's parse against the Rust reader alone, and against openpyxl.

Contenders, each in its own fresh process (so its peak RSS is its own), on the same file:
- `rust`: python-calamine's rows made into a pyarrow table, column by column, with nothing
  converted beyond '' -> null (the floor any reader built on calamine stands on);
- `fastexcel`, when it is installed (it is not a dependency): calamine's cells made into Arrow
  inside Rust, typed per column; printed for comparison;
- `rows calamine` / `rows openpyxl`: `xlsx_rows` by each reader, rows only, as the parser gets
  them (`serasan.parse.sniff`);
- `serasan calamine` / `serasan openpyxl`: `parse_file` with each reader (SERASAN_XLSX_READER).

The file is a generated OPD workbook (`serasan generate`, the catalog's column types: years,
codes, names, NIK and phone numbers as text, counts, and measures written `1.234,5`) repeated
to BENCH_XLSX_ROWS rows (default 100,000) with openpyxl's write-only writer. Run: `make bench`.
Target (issue 17): Serasan's parse <= 2x the Rust reader alone.
"""

from __future__ import annotations

import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serasan.quality.suites import load_validated_catalog

DATASET = "muba_kelompok_tani_karet"  # 10 columns: the same dataset as parse_bench.py
KINDS = ("rust", "rows calamine", "rows openpyxl", "serasan calamine", "serasan openpyxl")
# fastexcel (calamine -> Arrow inside Rust), when installed: not a project dependency
OPTIONAL = ("fastexcel",)


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {model}, Python {platform.python_version()}"


def make_file(path: Path, rows: int) -> int:
    """The dataset's generated workbook (title, blank row, header on row 4, 1,000 rows), its
    data rows repeated to `rows`."""
    from openpyxl import Workbook, load_workbook

    from serasan.demo.generate import generate_dataset

    catalog = load_validated_catalog()
    gen = generate_dataset(catalog.dataset(DATASET), catalog, rows=1000, seed=1)
    sheet = load_workbook(io.BytesIO(gen.data), read_only=True)["Data"]
    head, body = [], []
    for i, row in enumerate(sheet.iter_rows(values_only=True)):
        (head if i < 4 else body).append(list(row))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    for row in head:
        ws.append(row)
    for i in range(rows):
        ws.append(body[i % len(body)])
    wb.save(path)
    return rows


def rust_alone(path: str) -> int:
    """calamine -> Arrow: the rows under the header streamed into columns, '' as null, types as
    they come (a column holding text and numbers becomes text)."""
    import pyarrow as pa
    import python_calamine

    with python_calamine.CalamineWorkbook.from_path(path) as wb:
        sheet = wb.get_sheet_by_name("Data")
    rows = sheet.iter_rows()
    for _ in range(3):
        next(rows)
    header = next(rows)
    columns: list[list[object]] = [[] for _ in header]
    appends = [c.append for c in columns]
    for row in rows:
        for append, v in zip(appends, row, strict=True):
            append(None if v == "" else v)
    arrays = []
    for values in columns:
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in values]))
    table = pa.Table.from_arrays(arrays, names=[str(h) for h in header])
    return int(table.num_rows)


def run_one(kind: str, path: str) -> None:
    """Child process: read once, print rows, seconds and peak RSS as JSON. Imports, pyarrow's
    first-use setup and the catalog are loaded before the clock starts, for every contender."""
    import pyarrow as pa
    import python_calamine  # noqa: F401

    from serasan.parse import reader, sniff, xlsx_calamine  # noqa: F401

    pa.array([1.5, None]).cast(pa.string())
    ds = load_validated_catalog().dataset(DATASET)
    reader_name = kind.split()[-1]
    if reader_name in ("calamine", "openpyxl"):
        os.environ["SERASAN_XLSX_READER"] = reader_name
    start = time.perf_counter()
    if kind == "rust":
        rows = rust_alone(path)
    elif kind == "fastexcel":
        import fastexcel

        sheet = fastexcel.read_excel(path).load_sheet_by_name("Data", header_row=3)
        rows = sheet.to_arrow().num_rows
    elif kind.startswith("rows"):
        rows = sum(1 for _ in sniff.xlsx_rows(lambda: open(path, "rb"), Path(path).name))  # noqa: SIM115
    else:
        result = reader.parse_stream(lambda: open(path, "rb"), Path(path).name, ds)  # noqa: SIM115
        assert result.rows_in == result.table.num_rows, "a clean file must parse without rejects"
        rows = result.table.num_rows
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if reader_name == "calamine":  # calamine really read it (openpyxl would say why not)
        notes: list[str] = []
        next(sniff.xlsx_rows(lambda: open(path, "rb"), Path(path).name, notes=notes))  # noqa: SIM115
        assert not notes, notes
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_bytes": peak}))


def main() -> None:
    rows = int(os.environ.get("BENCH_XLSX_ROWS", "100000"))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="serasan-bench-") as tmp:
        path = Path(tmp) / f"{DATASET}.xlsx"
        print(f"writing {rows:,} rows ...", flush=True)
        make_file(path, rows)
        size = path.stat().st_size
        results = {}
        for kind in (*KINDS, *OPTIONAL):
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, str(path)],
                capture_output=True,
                text=True,
                check=kind not in OPTIONAL,
            )
            if out.returncode == 0:
                results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\nfile: {rows:,} rows, {size / 2**20:,.1f} MB ({DATASET}, XLSX, inline strings)")
    print(f"{'reader':<20}{'seconds':>9}{'rows/s':>12}{'peak RSS MB':>13}{'x rust':>8}")
    rust = results["rust"]["seconds"]
    for kind in [k for k in (*KINDS, *OPTIONAL) if k in results]:
        r = results[kind]
        print(
            f"{kind:<20}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>12,.0f}"
            f"{r['peak_bytes'] / 2**20:>13,.0f}{r['seconds'] / rust:>8.1f}"
        )
    fast, slow = results["serasan calamine"]["seconds"], results["serasan openpyxl"]["seconds"]
    verdict = "meets" if fast <= 2 * rust else "misses"
    print(
        f"\nratio serasan (calamine) / rust reader alone: x{fast / rust:.1f} "
        f"({verdict} the <= 2x target)"
    )
    print(f"ratio serasan (openpyxl) / serasan (calamine): x{slow / fast:.1f}")
    if "fastexcel" in results:
        print(
            f"ratio serasan (calamine) / fastexcel: x{fast / results['fastexcel']['seconds']:.1f}"
        )
    rows_fast, rows_slow = results["rows calamine"]["seconds"], results["rows openpyxl"]["seconds"]
    print(f"ratio rows (openpyxl) / rows (calamine): x{rows_slow / rows_fast:.1f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        run_one(sys.argv[2], sys.argv[3])
    else:
        main()
