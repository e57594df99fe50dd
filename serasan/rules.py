"""Row masks for the GX expectation types our suites may use, and what each means in words.

GX (SUMMARY) is the authority on whether a suite passes and how many rows fail each rule.
Asking GX for the failing row indices is far too slow on large batches, so the same rules are
computed here as pyarrow/pandas masks; `validate` checks that every mask counts exactly what GX
counted, and stops the run if they ever disagree.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Mask = np.ndarray  # bool, one entry per row: True = the row breaks the rule


def columns_of(kwargs: dict[str, Any]) -> list[str]:
    """The columns an expectation reads."""
    if "column" in kwargs:
        return [kwargs["column"]]
    return list(kwargs.get("column_list", []))


def resolve(value: Any, params: dict[str, Any]) -> Any:
    """Substitute a GX suite parameter (`{"$PARAMETER": name}`) with its run value."""
    if isinstance(value, dict) and "$PARAMETER" in value:
        name = value["$PARAMETER"]
        if name not in params:
            raise KeyError(f"suite parameter {name!r} has no value for this run")
        return params[name]
    return value


def _np(arr: pa.ChunkedArray | pa.Array) -> Mask:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def _present(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Non-missing values. GX sees the batch in pandas, where a float NaN is missing like null."""
    return pc.invert(pc.is_null(col, nan_is_null=True))


def _scalar_for(col: pa.ChunkedArray, value: Any) -> Any:
    if value is None:
        return None
    if pa.types.is_date(col.type):
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            value = value.date()
        return pa.scalar(value, type=col.type)
    return value


def _not_null(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    return _np(pc.is_null(t[kw["column"]], nan_is_null=True))


def _between(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    col = t[kw["column"]]
    lo = _scalar_for(col, resolve(kw.get("min_value"), p))
    hi = _scalar_for(col, resolve(kw.get("max_value"), p))
    bad = pa.chunked_array([pa.array(np.zeros(len(col), dtype=bool))])
    if lo is not None:
        bad = pc.or_(bad, (pc.less_equal if kw.get("strict_min") else pc.less)(col, lo))
    if hi is not None:
        bad = pc.or_(bad, (pc.greater_equal if kw.get("strict_max") else pc.greater)(col, hi))
    return _np(pc.fill_null(pc.and_(_present(col), bad), False))


def _in_set(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    # GX's own test, `Series.isin` on the pandas column: Arrow would cast the value set to the
    # column's type (2.5 becomes 2 for an integer column, ISO strings fail for a date column).
    s = t[kw["column"]].to_pandas()
    return (s.notna() & ~s.isin(list(resolve(kw["value_set"], p)))).to_numpy(dtype=bool)


def _regex(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    # GX (pandas) matches Python `re` (search) against str() of each non-missing value of the
    # pandas column. Arrow's RE2 differs: `\d`/`\w` are ASCII only, `$` does not match before a
    # final newline, lookarounds are rejected; and Arrow writes 1.0 as "1" and True as "true",
    # where pandas writes "1.0" (an integer column with nulls is float64 there) and "True".
    s = t[kw["column"]].to_pandas()
    present = s.notna().to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    if present.any():
        with warnings.catch_warnings():  # "has match groups": we only want a yes/no
            warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
            ok = s[present].astype(str).str.contains(resolve(kw["regex"], p), regex=True)
        out[present] = ~ok.to_numpy(dtype=bool)
    return out


def _unique(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    s = t[kw["column"]].to_pandas()
    present = s.notna().to_numpy()
    dup = s.duplicated(keep=False).to_numpy()
    return present & dup


def _compound_unique(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    cols = list(kw["column_list"])
    df = t.select(cols).to_pandas()
    all_missing = df.isna().all(axis=1).to_numpy()
    dup = df.duplicated(keep=False).to_numpy()
    return dup & ~all_missing


MaskFn = Callable[[pa.Table, dict[str, Any], dict[str, Any]], Mask]

# type -> (mask, message in Bahasa Indonesia, message in English)
SUPPORTED: dict[str, tuple[MaskFn, str, str]] = {
    "expect_column_values_to_not_be_null": (
        _not_null, "kolom '{column}' kosong, padahal wajib diisi",
        "column '{column}' is empty but required"),
    "expect_column_values_to_be_between": (
        _between, "nilai '{column}' harus antara {min_value} dan {max_value}",
        "'{column}' must be between {min_value} and {max_value}"),
    "expect_column_values_to_be_in_set": (
        _in_set, "nilai '{column}' tidak termasuk nilai yang diizinkan",
        "'{column}' is not one of the allowed values"),
    "expect_column_values_to_match_regex": (
        _regex, "format '{column}' tidak sesuai",
        "'{column}' does not have the expected format"),
    "expect_column_values_to_be_unique": (
        _unique, "nilai '{column}' muncul lebih dari sekali",
        "'{column}' appears more than once"),
    "expect_compound_columns_to_be_unique": (
        _compound_unique, "kombinasi {column_list} muncul lebih dari sekali (data ganda)",
        "the combination {column_list} appears more than once (duplicate rows)"),
}


def mask(expectation: dict[str, Any], table: pa.Table, params: dict[str, Any]) -> Mask:
    fn = SUPPORTED[expectation["type"]][0]
    return fn(table, expectation.get("kwargs", {}), params)


def describe(expectation: dict[str, Any], params: dict[str, Any], lang: str = "id") -> str:
    """The rule in plain words; a suite may override it with meta.pesan / meta.message."""
    meta = expectation.get("meta") or {}
    custom = meta.get("pesan" if lang == "id" else "message")
    if custom:
        return str(custom)
    _, msg_id, msg_en = SUPPORTED[expectation["type"]]
    kwargs = {k: resolve(v, params) for k, v in expectation.get("kwargs", {}).items()}
    kwargs.setdefault("min_value", "-")
    kwargs.setdefault("max_value", "-")
    if "column_list" in kwargs:
        kwargs["column_list"] = " + ".join(kwargs["column_list"])
    return (msg_id if lang == "id" else msg_en).format_map(_Default(kwargs))


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "?"
