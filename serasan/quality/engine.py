"""Run a dataset's GX suite on a batch and find the failing rows fast.

GX 1.x runs here, inside our own task, with result_format SUMMARY (bounded). The failing rows
come from `rules.mask`, and each mask's count must equal GX's unexpected_count: if they ever
differ, RulesDisagree stops the load instead of quarantining the wrong rows.

Suites may use Serasan's own GX expectations (serasan/expectations/custom.py: kode wilayah, NIK,
period, money, registry keys), which `load_expectations` registers with GX first. A registry rule
needs its keys as a suite parameter: merge `serasan.quality.registry.registry_params(...)` into `params`.

Given the dataset, `validate` also runs the catalog's `always_on` checks (key not empty and
unique, region codes inside the regency) after the suite, whatever the suite says.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

import numpy as np
import pyarrow as pa

from serasan.config.catalog import Dataset
from serasan.parse.reader import ROW_COL
from serasan.quality import rules

log = logging.getLogger(__name__)


class RulesDisagree(RuntimeError):
    """Our row mask and GX counted a different number of failing rows for one expectation."""


@dataclass
class RuleResult:
    seq: int
    expectation: dict[str, Any]
    success: bool
    unexpected_count: int
    element_count: int
    mask: np.ndarray  # the rows GX counted
    # the rows reported under this rule: the mask, less rows another rule already says more
    # plainly about (an empty key column is not also a duplicate key); see `_report_once`
    reported: np.ndarray | None = field(default=None, repr=False)
    always_on: bool = False  # one of the catalog's own checks (`always_on`), not the suite's

    @property
    def shown(self) -> np.ndarray:
        """The rows to report under this rule (what `check`, alerts and quarantine list)."""
        return self.mask if self.reported is None else self.reported

    @property
    def type(self) -> str:
        return cast(str, self.expectation["type"])

    @property
    def columns(self) -> list[str]:
        return rules.columns_of(self.expectation.get("kwargs", {}))


@dataclass
class Validation:
    results: list[RuleResult]
    row_count: int
    gx_result: Any = None  # GX's ExpectationSuiteValidationResult, for Data Docs

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def failing(self) -> np.ndarray:
        out = np.zeros(self.row_count, dtype=bool)
        for r in self.results:
            out |= r.mask
        return out


def suite_params(run_date: dt.date) -> dict[str, Any]:
    """Values for the suite parameters our suites use, from the run's logical date."""
    return {"run_date": run_date, "run_year": run_date.year}


@cache
def load_expectations() -> None:
    """Import GX and our own expectations, which GX registers by type name as they are defined.

    GX's ExpectationSuite drops (with a logged error) an expectation whose type it does not know,
    so this must run before any suite using our types is built.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from great_expectations.expectations.registry import get_expectation_impl

    import serasan.expectations.custom  # noqa: F401  (registers the classes)

    for etype in rules.SUPPORTED:
        get_expectation_impl(etype)  # raises ExpectationNotFoundError for a rule GX lacks


@cache
def _batch_definition() -> Any:
    load_expectations()
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # older/newer GX shapes: progress bars are cosmetic
        log.debug("could not disable GX progress bars", exc_info=True)
    source = ctx.data_sources.add_pandas("serasan")
    asset = source.add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole")


def run_gx(table: pa.Table, suite: dict[str, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
    """GX's verdict per expectation: success, unexpected_count, element_count (SUMMARY)."""
    return _run_gx(table, suite, params)[0]


def _run_gx(
    table: pa.Table, suite: dict[str, Any], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], Any]:
    """The verdicts and GX's own validation result (rendered into Data Docs)."""
    load_expectations()
    import great_expectations as gx

    frame = table.drop_columns([c for c in (ROW_COL,) if c in table.column_names])
    df = frame.to_pandas()  # dates stay datetime.date: GX turns ISO strings in suites into dates
    # GX may report results in another order than the suite's: tag each one with its position.
    tagged = [
        {**e, "meta": {**(e.get("meta") or {}), "serasan_seq": i}}
        for i, e in enumerate(suite["expectations"])
    ]
    gx_suite = gx.ExpectationSuite(name=suite.get("name", "suite"), expectations=tagged)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(gx_suite, result_format="SUMMARY", expectation_parameters=params)
    out: list[dict[str, Any]] = [{} for _ in tagged]
    for r in result.results:
        res = r.result or {}
        exception = _exception_message(r.exception_info)
        if not r.success and res.get("unexpected_count") is None and not exception:
            raise RuntimeError(
                f"GX failed {r.expectation_config.type} without counting rows: "
                f"{r.expectation_config.kwargs}"
            )
        out[int(r.expectation_config.meta["serasan_seq"])] = {
            "success": bool(r.success),
            "unexpected_count": int(res.get("unexpected_count") or 0),
            "element_count": int(res.get("element_count") or table.num_rows),
            "exception": exception,
        }
    if any(not o for o in out):
        raise RuntimeError("GX returned no result for some expectations of the suite")
    return out, result


def _exception_message(info: dict[str, Any] | None) -> str | None:
    """GX's exception for one result, if it raised one.

    GX 1.x gives either one flat dict ({"raised_exception": False, "exception_message": None,
    ...}) or, when a metric raised, one such dict per metric keyed by the metric's id, with no
    top-level "exception_message" at all.
    """
    if not info:
        return None
    if "raised_exception" in info or "exception_message" in info:
        flat = [info]
    else:
        flat = [v for v in info.values() if isinstance(v, dict)]
    messages = [
        str(e.get("exception_message") or "GX raised an exception")
        for e in flat
        if e.get("raised_exception") or e.get("exception_message")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def validate(
    table: pa.Table,
    suite: dict[str, Any],
    params: dict[str, Any],
    ds: Dataset | None = None,
) -> Validation:
    """GX's verdict on the suite, with a row mask per expectation that counts what GX counted.

    With `ds`, the catalog's `always_on` checks follow the suite's results: masks only (they
    are ours; GX does not run them), numbered after the suite's expectations.
    """
    expectations = suite["expectations"]
    verdicts, gx_result = _run_gx(table, suite, params) if expectations else ([], None)
    results = []
    for seq, (exp, verdict) in enumerate(zip(expectations, verdicts, strict=True)):
        if verdict["exception"]:
            raise RuntimeError(
                f"GX could not evaluate expectation {seq} ({exp['type']}): {verdict['exception']}"
            )
        mask = rules.mask(exp, table, params)
        if int(mask.sum()) != verdict["unexpected_count"]:
            raise RulesDisagree(
                f"expectation {seq} ({exp['type']} on {rules.columns_of(exp.get('kwargs', {}))}): "
                f"GX counted {verdict['unexpected_count']} failing rows, the row mask "
                f"{int(mask.sum())}; refusing to split the batch"
            )
        results.append(
            RuleResult(
                seq,
                exp,
                verdict["success"],
                verdict["unexpected_count"],
                verdict["element_count"],
                mask,
            )
        )
    if ds is not None:
        for exp in always_on(ds, suite):
            mask = rules.mask(exp, table, params)
            n = int(mask.sum())
            results.append(
                RuleResult(len(results), exp, not n, n, table.num_rows, mask, always_on=True)
            )
    _report_once(results)
    _region_once(results)
    return Validation(results=results, row_count=table.num_rows, gx_result=gx_result)


NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE_RULES = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")


def _report_once(results: list[RuleResult]) -> None:
    """A row whose key column is empty is reported as empty, not also as a duplicate.

    GX counts rows that share a key with an empty part ((2024, -) twice) as duplicates, and the
    masks must agree with GX's counts; so the masks stay, and what is reported under a
    uniqueness rule leaves out the rows a not-null rule on one of its columns already reports.
    The rows fail either way: only the report changes.
    """
    empty = {r.columns[0]: r.mask for r in results if r.type == NOT_NULL and r.columns}
    for r in results:
        if r.type in UNIQUE_RULES:
            covered = [empty[c] for c in r.columns if c in empty]
            if covered:
                r.reported = r.mask & ~np.logical_or.reduce(covered)


def always_on(ds: Dataset, suite: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks the catalog itself makes on every load, whatever the suite says.

    Each key column is not empty, the key is unique, and the region column holds current
    Kemendagri codes of the declared level inside the dataset's area (regency or scope). A
    check the suite already makes at least as strictly is left to the suite: the same rule on the same column,
    uniqueness of the key or of part of it, the region column checked at the declared level
    within that area. So an empty suite can no longer hide a broken key or wrong codes, and
    the shipped suites, which make all of them, run exactly as before.
    """
    from serasan.quality import scaffold

    exps = [e for e in suite.get("expectations") or [] if isinstance(e, dict)]

    def on(e: dict[str, Any]) -> list[str]:
        return rules.columns_of(e.get("kwargs") or {})

    key = list(ds.primary_key)
    out = [
        scaffold.not_null_rule(col)
        for name in key
        if (col := ds.column(name)) is not None
        and not any(e.get("type") == NOT_NULL and on(e) == [name] for e in exps)
    ]
    if not any(e.get("type") in UNIQUE_RULES and on(e) and set(on(e)) <= set(key) for e in exps):
        out.append(scaffold.key_rule(ds))
    region = ds.region
    if region is not None and ds.column(region.column) is not None:
        covered = any(
            e.get("type") == rules.KODE_WILAYAH
            and on(e) == [region.column]
            and (e.get("kwargs") or {}).get("level") == region.level
            and _within(ds.area, (e.get("kwargs") or {}).get("parent"))
            for e in exps
        )
        if not covered:
            name = rules.wilayah().get(ds.area, ("", ds.area))[1]
            out.append(scaffold.region_rule(ds, name))
    for e in out:
        e["meta"]["always_on"] = True
    return out


def _within(regency: str, parent: Any) -> bool:
    return isinstance(parent, str) and (parent == regency or parent.startswith(regency + "."))


def _region_once(results: list[RuleResult]) -> None:
    """An always-on region check reports only the rows the suite's own kode wilayah rule on the
    same column (a looser one: another parent or none) does not already report."""
    suite_rule: dict[str, np.ndarray] = {}
    for r in results:
        if r.type == rules.KODE_WILAYAH and not r.always_on and r.columns:
            col = r.columns[0]
            suite_rule[col] = suite_rule.get(col, np.zeros_like(r.mask)) | r.mask
    for r in results:
        if r.always_on and r.type == rules.KODE_WILAYAH and r.columns[0] in suite_rule:
            r.reported = r.shown & ~suite_rule[r.columns[0]]
