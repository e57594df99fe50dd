"""Decide, for one parsed batch, which rows load and why the others do not.

Shared by the pipeline's transform step and `serasan check`, so an OPD checking a file on
their desk sees exactly what the DAG would do with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from serasan.common.enums import LoadStatus, QualityPolicy
from serasan.config.catalog import Dataset
from serasan.parse.reader import ROW_COL, ParseResult, Reject
from serasan.quality import rules
from serasan.quality.engine import Validation, suite_params, validate

KEY_RULES = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
)


def cell(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


@dataclass
class Assessment:
    parsed: ParseResult
    validation: Validation
    kept: np.ndarray
    status: LoadStatus  # loaded | quarantined | warned | blocked
    quarantined: list[dict[str, Any]]  # one per failing input row, in row order
    problems: list[tuple[str, int]]  # plain-words reason, number of rows
    params: dict[str, Any]

    @property
    def keep(self) -> pa.Table:
        return self.parsed.table.filter(pa.array(self.kept))


def assess(
    parsed: ParseResult,
    ds: Dataset,
    suite: dict[str, Any],
    run_date: dt.date,
    lang: str = "id",
    extra_params: dict[str, Any] | None = None,
) -> Assessment:
    """`extra_params`: run values for the suite beyond the date, e.g. registry keys."""
    params = {**suite_params(run_date), **(extra_params or {})}
    validation = validate(parsed.table, suite, params, ds)  # + the catalog's always-on checks
    failing = validation.failing
    if ds.quality_policy == QualityPolicy.WARN:
        # Even under `warn`, rows the fact table cannot hold (duplicate or empty key) are rejected.
        kept = ~_key_breakers(ds, validation)
    else:
        kept = ~failing
    unreadable = [r for r in parsed.rejects if r.kind != "summary"]
    if ds.quality_policy == QualityPolicy.BLOCK and (failing.any() or unreadable):
        kept = kept & False
    problems = [
        (rules.describe(r.expectation, params, lang), int(r.shown.sum()))
        for r in validation.results
        if r.shown.any()
    ]
    by_problem: dict[str, int] = {}
    for rej in parsed.rejects:
        by_problem[rej.problem(lang)] = by_problem.get(rej.problem(lang), 0) + 1
    problems += list(by_problem.items())
    if not failing.any() and not unreadable:
        status = LoadStatus.LOADED  # summary rows alone are not a problem to alert about
    elif ds.quality_policy == QualityPolicy.BLOCK:
        status = LoadStatus.BLOCKED
    elif ds.quality_policy == QualityPolicy.WARN:
        status = LoadStatus.WARNED
    else:
        status = LoadStatus.QUARANTINED
    quarantined = _quarantine_rows(parsed.rejects, parsed.table, validation, kept, params, lang)
    return Assessment(parsed, validation, kept, status, quarantined, problems, params)


def _quarantine_rows(
    parsed_rejects: list[Reject],
    batch: pa.Table,
    validation: Validation,
    kept: Any,
    params: dict[str, Any],
    lang: str,
) -> list[dict[str, Any]]:
    """One row per failing input row: row number, loaded or not, rules, reasons, then values."""
    yes, no = ("ya", "tidak") if lang == "id" else ("yes", "no")
    out = []
    for rej in parsed_rejects:
        out.append(
            {
                "baris": rej.row,
                "dimuat": no,
                "aturan": rej.kind,
                "alasan": rej.reason(lang),
                **dict(rej.record),
            }
        )
    failing = validation.failing.nonzero()[0]
    if len(failing):
        records = batch.take(failing).to_pylist()
        for idx, rec in zip(failing, records, strict=True):
            broken = [r for r in validation.results if r.shown[idx]]
            out.append(
                {
                    "baris": rec.pop(ROW_COL),
                    "dimuat": yes if kept[idx] else no,
                    "aturan": ", ".join(r.type.removeprefix("expect_") for r in broken),
                    "alasan": "; ".join(
                        rules.describe(r.expectation, params, lang) for r in broken
                    ),
                    **{k: cell(v) for k, v in rec.items()},
                }
            )
    return sorted(out, key=lambda r: r["baris"])


def _key_breakers(ds: Dataset, validation: Validation) -> Any:
    """Rows failing a rule on the primary key: uniqueness of the key, or an empty key column."""
    key = set(ds.primary_key)
    out = validation.failing & False
    for r in validation.results:
        if set(r.columns) <= key and r.type in KEY_RULES:
            out |= r.mask
    return out
