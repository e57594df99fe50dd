"""`serasan check`: what an OPD file would get from the pipeline, checked on a local disk.

The same parsing and the same suite as the DAG, nothing written anywhere, problems listed by row
and column in Bahasa Indonesia (or English), or as JSON for other tools.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from serasan.config.catalog import Catalog, Dataset
from serasan.parse.reader import parse_stream
from serasan.quality import rules
from serasan.quality.assess import assess


def check_file(
    path: Path,
    ds: Dataset,
    catalog: Catalog,
    run_date: dt.date,
    lang: str = "id",
    extra_params: dict[str, Any] | None = None,
    period: str | None = None,
    collected: dt.date | None = None,
) -> dict[str, Any]:
    """Parse and validate a local file; raises ParseError when the file cannot be used.

    `extra_params` carries registry keys read from the warehouse, for suites that check them;
    `period` is the file's period when it has no period column (`--period`).
    """
    parsed = parse_stream(
        lambda: path.open("rb"), path.name, ds, period, catalog.aliases, collected=collected
    )
    a = assess(parsed, ds, catalog.suites[ds.id], run_date, lang, extra_params)
    problems: list[dict[str, Any]] = []
    for rej in parsed.rejects:
        problems.append(
            {"row": rej.row, "column": rej.column, "rule": rej.kind, "message": rej.reason(lang)}
        )
    rows = parsed.table.column("_row").to_pylist()
    for r in a.validation.results:
        for idx in r.shown.nonzero()[0]:
            problems.append(
                {
                    "row": rows[idx],
                    "column": ",".join(r.columns),
                    "rule": r.type,
                    "message": rules.describe(r.expectation, a.params, lang),
                }
            )
    problems.sort(key=lambda p: (p["row"], p["column"] or ""))
    valid = int(a.kept.sum())
    return {
        "file": str(path),
        "dataset": ds.id,
        "status": a.status,
        "rows_in": parsed.rows_in,
        "rows_valid": valid,
        "rows_rejected": parsed.rows_in - valid,
        "problems": problems,
        "notes": parsed.notes,
    }


def render(result: dict[str, Any], lang: str = "id") -> str:
    id_ = lang == "id"
    lines = [
        f"{result['file']} ({result['dataset']}): "
        + (
            f"{result['rows_in']} baris, {result['rows_valid']} valid, "
            f"{result['rows_rejected']} ditolak"
            if id_
            else f"{result['rows_in']} rows, {result['rows_valid']} valid, "
            f"{result['rows_rejected']} rejected"
        )
    ]
    if not result["problems"]:
        lines.append("Tidak ada masalah." if id_ else "No problems.")
    for p in result["problems"]:
        where = (f"baris {p['row']}" if id_ else f"row {p['row']}") + (
            f", kolom {p['column']}"
            if id_ and p["column"]
            else f", column {p['column']}"
            if p["column"]
            else ""
        )
        lines.append(f"  {where}: {p['message']}")
    for note in result["notes"]:
        lines.append(f"  catatan: {note}" if id_ else f"  note: {note}")
    return "\n".join(lines)
