"""Parse throughput and peak memory beside pyarrow.csv.read_csv, measured side by side.

Two files, each contender in its own fresh process so its peak RSS is its own:

- clean: a generated OPD CSV (`serasan generate --format csv`) repeated to BENCH_ROWS rows
  (5,000,000 by default, about 530 MB); Serasan's parse against `pyarrow.csv.read_csv` of the
  same file (target <= 4x, peak RSS <= 1.5 GB);
- messy: `serasan.demo.messy` rows of muba_realisasi_pajak (Windows-1252, CR line ends, `;`,
  two title rows, `2.407,4` and `Rp 15.382.417`, '1 Februari 2026', 'Nop 2025', `NA`/`-`,
  region codes dotted, undotted and with lost zeros, each in about 5 % of the rows) repeated to
  BENCH_MESSY_ROWS rows (1,000,000); Serasan's parse against `read_csv` of the same bytes
  decoded to UTF-8 (target <= 6x), and the per-row reader (the reference) beside it.

Run: `make bench`.
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
from pathlib import Path

from serasan.quality.suites import load_validated_catalog

DATASET = "muba_kelompok_tani_karet"  # 10 columns, names and codes: ~100 bytes a row
MESSY = "muba_realisasi_pajak"  # dates, money, counts and a kecamatan code


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


def make_messy(path: Path, utf8_path: Path, rows: int) -> int:
    """A messy export repeated to `rows` data rows, and the same text as UTF-8 (the baseline)."""
    from serasan.demo.messy import messy_file

    catalog = load_validated_catalog()
    messy = messy_file(catalog.dataset(MESSY), catalog, 5000, seed=1)
    lines = messy.data.split(b"\r")
    header_at = next(i for i, ln in enumerate(lines) if ln.startswith(b"Periode"))
    head, body = lines[: header_at + 1], lines[header_at + 1 :]
    data = [ln for ln in body if ln and not ln.startswith((b"Jumlah", b"Sumber"))]
    with path.open("wb") as fh:
        fh.write(b"\r".join(head) + b"\r")
        written = 0
        block = b"\r".join(data) + b"\r"
        while written < rows:
            n = min(len(data), rows - written)
            fh.write(block if n == len(data) else b"\r".join(data[:n]) + b"\r")
            written += n
    # the UTF-8 baseline: the same rows decoded, header first (read_csv cannot skip the titles)
    text = path.read_bytes().decode("cp1252").replace("\r", "\n")
    utf8_path.write_text(text.split("\n", header_at)[-1], encoding="utf-8")
    return written


def run_one(kind: str, path: str, dataset: str) -> None:
    """Child process: parse once, print rows, seconds and peak RSS as JSON."""
    start = time.perf_counter()
    if kind == "pyarrow":
        import pyarrow.csv as pacsv

        delimiter = ";" if dataset == MESSY else ","
        rows = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter)).num_rows
    else:
        from serasan.parse.reader import parse_stream

        ds = load_validated_catalog().dataset(dataset)
        result = parse_stream(
            lambda: open(path, "rb"),  # noqa: SIM115
            Path(path).name,
            ds,
            fast=kind == "serasan",
        )
        rows = result.rows_in
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_bytes": peak}))


def _child(kind: str, path: Path, dataset: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), dataset],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _table(title: str, size: int, results: dict[str, dict], labels: dict[str, str]) -> None:
    mb = size / 2**20
    print(f"\n{title}, {mb:,.0f} MB")
    print(f"{'parser':<34}{'seconds':>9}{'rows/s':>13}{'MB/s':>8}{'peak RSS MB':>13}")
    for kind, label in labels.items():
        r = results[kind]
        print(
            f"{label:<34}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>13,.0f}"
            f"{mb / r['seconds']:>8.1f}{r['peak_bytes'] / 2**20:>13,.0f}"
        )


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "5000000"))
    messy_rows = int(os.environ.get("BENCH_MESSY_ROWS", "1000000"))
    print(f"machine: {machine()}")
    checks: list[tuple[str, float, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="serasan-bench-") as tmp:
        path = Path(tmp) / f"{DATASET}.csv"
        print(f"writing {rows:,} clean rows ...", flush=True)
        make_file(path, rows)
        clean = {k: _child(k, path, DATASET) for k in ("pyarrow", "serasan")}
        _table(
            f"clean: {rows:,} rows of {DATASET}",
            path.stat().st_size,
            clean,
            {"pyarrow": "pyarrow.csv.read_csv", "serasan": "serasan parse_stream"},
        )
        path.unlink()
        messy_path, utf8_path = Path(tmp) / "messy.csv", Path(tmp) / "messy-utf8.csv"
        print(f"\nwriting {messy_rows:,} messy rows ...", flush=True)
        make_messy(messy_path, utf8_path, messy_rows)
        messy = {
            "pyarrow": _child("pyarrow", utf8_path, MESSY),
            "serasan": _child("serasan", messy_path, MESSY),
            "rows": _child("rows", messy_path, MESSY),
        }
        _table(
            f"messy: {messy_rows:,} rows of {MESSY}",
            messy_path.stat().st_size,
            messy,
            {
                "pyarrow": "pyarrow.csv.read_csv (UTF-8 copy)",
                "serasan": "serasan parse_stream",
                "rows": "per-row reader (the reference)",
            },
        )
    c, m = clean["serasan"], messy["serasan"]
    checks = [
        ("clean: serasan / read_csv", c["seconds"] / clean["pyarrow"]["seconds"], "<=", 4.0),
        ("clean: peak RSS GB", c["peak_bytes"] / 2**30, "<=", 1.5),
        (
            "messy: serasan / read_csv of UTF-8",
            m["seconds"] / messy["pyarrow"]["seconds"],
            "<=",
            6.0,
        ),
    ]
    print()
    for name, value, op, target in checks:
        verdict = "met" if value <= target else "MISSED"
        print(f"{name:<40}{value:>7.2f}   target {op} {target:<4} {verdict}")
    speedup = messy["rows"]["seconds"] / m["seconds"]
    print(f"{'messy: per-row reader / serasan':<40}{speedup:>7.2f}   (the speed-up)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        run_one(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
