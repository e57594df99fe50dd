"""Row masks for the GX expectation types our suites may use, and what each means in words.

GX (SUMMARY) is the authority on whether a suite passes and how many rows fail each rule.
Asking GX for the failing row indices is far too slow on large batches, so the same rules are
computed here as pyarrow/pandas masks; `validate` checks that every mask counts exactly what GX
counted, and stops the run if they ever disagree.

Our own expectation types (kode wilayah, NIK, period, money, registry keys) are GX custom
expectations in `serasan.expectations.custom`, written in pandas; their masks here are written
again in pyarrow, so the agreement check compares two independent implementations. Both read the
same reference data, defined here: the current Kemendagri codes of the provinces Serasan ships
(`serasan.reference`, read once) and the province codes a NIK may start with.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from serasan.reference import provinces

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset

Mask = np.ndarray  # bool, one entry per row: True = the row breaks the rule
# A column, or a compute result over one. pyarrow-stubs type most compute results as Array even
# for a ChunkedArray input (which yields a ChunkedArray at run time), so both are allowed. They
# also take only Arrow scalars as operands: Python numbers are wrapped in `pa.scalar` here, which
# is what pyarrow does with them itself.
Arrowish: TypeAlias = "pa.ChunkedArray[Any] | pa.Array[Any]"


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


def _np(arr: Arrowish) -> Mask:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def _present(col: Arrowish) -> Arrowish:
    """Non-missing values. GX sees the batch in pandas, where a float NaN is missing like null."""
    return pc.invert(pc.is_null(col, nan_is_null=True))


def _scalar_for(col: Arrowish, value: Any) -> Any:
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
    bad: Arrowish = pa.chunked_array([pa.array(np.zeros(len(col), dtype=bool))])
    if lo is not None:
        bad = pc.or_(bad, (pc.less_equal if kw.get("strict_min") else pc.less)(col, lo))
    if hi is not None:
        bad = pc.or_(bad, (pc.greater_equal if kw.get("strict_max") else pc.greater)(col, hi))
    return _np(pc.and_(_present(col), bad).fill_null(False))


def _in_set(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    # GX's own test, `Series.isin` on the pandas column: Arrow would cast the value set to the
    # column's type (2.5 becomes 2 for an integer column, ISO strings fail for a date column).
    s = t[kw["column"]].to_pandas()
    return cast(Mask, (s.notna() & ~s.isin(list(resolve(kw["value_set"], p)))).to_numpy(dtype=bool))


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
    return cast(Mask, present & dup)


def _compound_unique(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    cols = list(kw["column_list"])
    df = t.select(cols).to_pandas()
    all_missing = df.isna().all(axis=1).to_numpy()
    dup = df.duplicated(keep=False).to_numpy()
    return dup & ~all_missing


# ----------------------------------------------------------------- reference data


KODE_WILAYAH = "expect_column_values_to_be_valid_kode_wilayah"
NIK = "expect_column_values_to_be_valid_nik"
IN_PERIOD = "expect_column_values_to_be_in_period"
MONEY = "expect_column_values_to_be_non_negative_money"
IN_REGISTRY = "expect_column_values_to_exist_in_registry"
CUSTOM_TYPES = (KODE_WILAYAH, NIK, IN_PERIOD, MONEY, IN_REGISTRY)  # serasan.expectations.custom

LEVELS = ("provinsi", "kabupaten_kota", "kecamatan", "desa_kelurahan")  # top to bottom
# The 38 provinces' Kemendagri codes (Kepmendagri 300.2.2-2430/2025): Sumatera 11-19,
# Kepulauan Riau 21, Jawa 31-36, Bali and Nusa Tenggara 51-53, Kalimantan 61-65,
# Sulawesi 71-76, Maluku 81-82, Papua 91-96 (93-96 since 2022). A NIK starts with one of them.
NIK_PROVINCES = frozenset(
    str(n)
    for n in (
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 97),
    )
)
NIK_DAYS = frozenset(f"{d:02d}" for d in (*range(1, 32), *range(41, 72)))  # women: day + 40
NIK_MONTHS = frozenset(f"{m:02d}" for m in range(1, 13))
NIK_PATTERN = r"^[0-9]{16}$"  # ASCII digits only, in Python `re` and in RE2 alike
GRANULARITIES = ("day", "month", "quarter", "year")
QUARTER_MONTHS = (1, 4, 7, 10)
YEAR_RANGE = (1000, 9999)  # an integer period is a four-digit year
MONEY_MAX = 1e15  # Rp 1.000 triliun: no regency row comes near it; larger is a typo


@cache
def wilayah() -> dict[str, tuple[str, str]]:
    """Kemendagri code -> (level, name): the current codes of every province Serasan ships
    (`serasan.reference.provinces.SHIPPED`), read once."""
    out: dict[str, tuple[str, str]] = {}
    for kode in provinces.SHIPPED:
        p = provinces.province(kode)
        assert p is not None
        out.update((r.code, (str(r.level), r.name)) for r in p.current.regions.values())
    return out


@cache
def kode_wilayah(level: str, parent: str | None = None) -> frozenset[str]:
    """The reference's codes of one level, under `parent` (any ancestor code) when given."""
    return frozenset(
        k
        for k, (lv, _) in wilayah().items()
        if lv == level and (parent is None or k.startswith(parent + "."))
    )


@cache
def nik_reference() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """What a NIK's region digits are checked against, as undotted digit strings.

    (provinces whose kabupaten/kota the reference lists, those kabupaten/kota (4 digits),
    kabupaten/kota whose kecamatan the reference lists, those kecamatan (6 digits)). With the
    shipped reference: provinces 16 and 32, all their kabupaten/kota and kecamatan; a NIK from
    any other province is checked for its province code only.
    """
    kab = kode_wilayah("kabupaten_kota")
    kec = kode_wilayah("kecamatan")
    return (
        frozenset(k[:2] for k in kab),
        frozenset(k.replace(".", "") for k in kab),
        frozenset(k[:5].replace(".", "") for k in kec),
        frozenset(k.replace(".", "") for k in kec),
    )


def period_bound(value: Any, end: bool = False) -> dt.date | None:
    """A period bound as a date: a date, an ISO string, or a year (its first or last day)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.date(value, 12, 31) if end else dt.date(value, 1, 1)
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    raise ValueError(f"not a date or a year: {value!r}")


def integer_ceiling(top: float) -> int:
    """The largest integer <= top, within int64: integer amounts compare exactly with it."""
    return min(math.floor(top), 2**63 - 1)


def registry_param(dataset_id: str, column: str) -> str:
    """The suite parameter holding a registry's keys.

    GX parses a parameter name as an expression variable: letters, digits, `_` and `$` only.
    """
    return f"registry__{dataset_id}__{column}"


# ----------------------------------------------------------------- masks of our own expectations
# Written in pyarrow, independently of the pandas code GX runs (serasan/expectations/custom.py).


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _broken(col: Arrowish, ok: Any) -> Mask:
    """Present values that are not ok (a null `ok` counts as not ok)."""
    return _np(pc.and_(_present(col), pc.invert(pc.fill_null(ok, False))))


def _in(values: Any, allowed: frozenset[Any] | list[Any], typ: pa.DataType) -> Any:
    return pc.is_in(values, value_set=pa.array(sorted(allowed), type=typ))


def _kode_wilayah(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    col = t[kw["column"]]
    if not _is_text(col.type):
        return _np(_present(col))
    valid = kode_wilayah(resolve(kw["level"], p), resolve(kw.get("parent"), p))
    return _broken(col, _in(col, valid, col.type))


def _nik(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    col = t[kw["column"]]
    if not _is_text(col.type):
        return _np(_present(col))
    provinces, kab, kab_with_kec, kec = nik_reference()

    def part(start: int, stop: int) -> Any:
        return pc.utf8_slice_codeunits(col, start, stop)

    ok = pc.match_substring_regex(col, NIK_PATTERN)
    ok = pc.and_(ok, _in(part(0, 2), NIK_PROVINCES, col.type))
    ok = pc.and_(ok, _in(part(6, 8), NIK_DAYS, col.type))
    ok = pc.and_(ok, _in(part(8, 10), NIK_MONTHS, col.type))
    ok = pc.and_(
        ok, pc.or_(pc.invert(_in(part(0, 2), provinces, col.type)), _in(part(0, 4), kab, col.type))
    )
    if resolve(kw.get("check_kecamatan", True), p):
        ok = pc.and_(
            ok,
            pc.or_(
                pc.invert(_in(part(0, 4), kab_with_kec, col.type)), _in(part(0, 6), kec, col.type)
            ),
        )
    return _broken(col, ok)


def _in_period(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    col = t[kw["column"]]
    gran = resolve(kw["granularity"], p)
    lo = period_bound(resolve(kw.get("min_date"), p))
    hi = period_bound(resolve(kw.get("max_date"), p), end=True)
    typ = col.type
    if pa.types.is_date(typ):
        ok = pc.is_valid(col)
        if gran in ("month", "quarter", "year"):
            ok = pc.and_(ok, pc.equal(pc.day(col), pa.scalar(1)))
        if gran == "quarter":
            ok = pc.and_(
                ok, pc.is_in(pc.month(col), value_set=pa.array(QUARTER_MONTHS, pa.int64()))
            )
        if gran == "year":
            ok = pc.and_(ok, pc.equal(pc.month(col), pa.scalar(1)))
        if lo is not None:
            ok = pc.and_(ok, pc.greater_equal(col, pa.scalar(lo, typ)))
        if hi is not None:
            ok = pc.and_(ok, pc.less_equal(col, pa.scalar(hi, typ)))
        return _broken(col, ok)
    if gran != "year" or not (pa.types.is_integer(typ) or pa.types.is_floating(typ)):
        return _np(_present(col))  # only a date, or an integer year, is a period
    ok = pc.and_(
        pc.greater_equal(col, pa.scalar(YEAR_RANGE[0])),
        pc.less_equal(col, pa.scalar(YEAR_RANGE[1])),
    )
    if pa.types.is_floating(typ):  # an integer column with nulls reaches GX as float64
        ok = pc.and_(ok, pc.equal(pc.floor(col), col))
    if lo is not None:  # the year's first day must not be before min_date
        first_year = lo.year + (lo != dt.date(lo.year, 1, 1))
        ok = pc.and_(ok, pc.greater_equal(col, pa.scalar(first_year)))
    if hi is not None:
        ok = pc.and_(ok, pc.less_equal(col, pa.scalar(hi.year)))
    return _broken(col, ok)


def _money(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    col = t[kw["column"]]
    top = float(resolve(kw.get("max_value", MONEY_MAX), p))
    if pa.types.is_decimal(col.type):
        col = pc.cast(col, pa.float64())
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        return _np(_present(col))
    if pa.types.is_floating(col.type):
        ok = pc.and_(
            pc.is_finite(col),
            pc.and_(pc.greater_equal(col, pa.scalar(0.0)), pc.less_equal(col, pa.scalar(top))),
        )
    else:  # integers compare with an integer: Arrow refuses int64 -> double beyond 2**53
        ok = pc.and_(
            pc.greater_equal(col, pa.scalar(0)),
            pc.less_equal(col, pa.scalar(integer_ceiling(top))),
        )
    return _broken(col, ok)


def _in_registry(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> Mask:
    # GX's test is `Series.isin` on the pandas column, as for in_set (see `_in_set` for why
    # Arrow's is_in, which casts the keys to the column's type, would count differently).
    s = t[kw["column"]].to_pandas()
    return cast(Mask, (s.notna() & ~s.isin(list(resolve(kw["value_set"], p)))).to_numpy(dtype=bool))


MaskFn = Callable[[pa.Table, dict[str, Any], dict[str, Any]], Mask]

# type -> (mask, message in Bahasa Indonesia, message in English)
SUPPORTED: dict[str, tuple[MaskFn, str, str]] = {
    "expect_column_values_to_not_be_null": (
        _not_null,
        "kolom '{column}' kosong, padahal wajib diisi",
        "column '{column}' is empty but required",
    ),
    "expect_column_values_to_be_between": (
        _between,
        "nilai '{column}' harus antara {min_value} dan {max_value}",
        "'{column}' must be between {min_value} and {max_value}",
    ),
    "expect_column_values_to_be_in_set": (
        _in_set,
        "nilai '{column}' tidak termasuk nilai yang diizinkan",
        "'{column}' is not one of the allowed values",
    ),
    "expect_column_values_to_match_regex": (
        _regex,
        "format '{column}' tidak sesuai",
        "'{column}' does not have the expected format",
    ),
    "expect_column_values_to_be_unique": (
        _unique,
        "nilai '{column}' muncul lebih dari sekali",
        "'{column}' appears more than once",
    ),
    "expect_compound_columns_to_be_unique": (
        _compound_unique,
        "kombinasi {column_list} muncul lebih dari sekali (data ganda)",
        "the combination {column_list} appears more than once (duplicate rows)",
    ),
    KODE_WILAYAH: (
        _kode_wilayah,
        "'{column}' bukan kode {level_id} Kemendagri di {parent_id}",
        "'{column}' is not a Kemendagri {level_en} code in {parent_en}",
    ),
    NIK: (
        _nik,
        "'{column}' bukan NIK yang sah: harus 16 angka, dengan kode wilayah, tanggal lahir "
        "(perempuan ditambah 40) dan bulan lahir yang benar",
        "'{column}' is not a valid NIK: it must be 16 digits with a real region code, day of "
        "birth (plus 40 for women) and month of birth",
    ),
    IN_PERIOD: (
        _in_period,
        "'{column}' harus {period_id}{bounds_id}",
        "'{column}' must be {period_en}{bounds_en}",
    ),
    MONEY: (
        _money,
        "'{column}' harus jumlah rupiah dari 0 sampai {max_id}",
        "'{column}' must be a rupiah amount from 0 to {max_en}",
    ),
    IN_REGISTRY: (
        _in_registry,
        "'{column}' tidak terdaftar di {registry} (kolom {registry_column})",
        "'{column}' is not registered in {registry} (column {registry_column})",
    ),
}


def mask(expectation: dict[str, Any], table: pa.Table, params: dict[str, Any]) -> Mask:
    fn = SUPPORTED[expectation["type"]][0]
    return fn(table, expectation.get("kwargs", {}), params)


# ----------------------------------------------------------------- rules in words


def describe(expectation: dict[str, Any], params: dict[str, Any], lang: str = "id") -> str:
    """The rule in plain words; a suite may override it with meta.pesan / meta.message."""
    meta = expectation.get("meta") or {}
    custom = meta.get("pesan" if lang == "id" else "message")
    if custom:
        return str(custom)
    _, msg_id, msg_en = SUPPORTED[expectation["type"]]
    # parameters are resolved when the message shows them (a registry's keys never are)
    kwargs = _Kwargs(expectation.get("kwargs", {}), params)
    kwargs.setdefault("min_value", "-")
    kwargs.setdefault("max_value", "-")
    if "column_list" in kwargs:
        kwargs["column_list"] = " + ".join(kwargs["column_list"])
    words = _WORDS.get(expectation["type"])
    if words:
        kwargs.update(words(kwargs))
    return (msg_id if lang == "id" else msg_en).format_map(kwargs)


class _Kwargs(dict[str, Any]):
    def __init__(self, raw: dict[str, Any], params: dict[str, Any]):
        super().__init__(raw)
        self.params = params

    def __getitem__(self, key: str) -> Any:
        return resolve(super().__getitem__(key), self.params)

    def __missing__(self, key: str) -> str:
        return "?"

    def get(self, key: str, default: Any = None) -> Any:  # dict.get skips __getitem__
        return self[key] if key in self else default


LEVEL_WORDS = {
    "provinsi": ("provinsi", "province"),
    "kabupaten_kota": ("kabupaten/kota", "regency/city"),
    "kecamatan": ("kecamatan", "district (kecamatan)"),
    "desa_kelurahan": ("desa/kelurahan", "village (desa/kelurahan)"),
}
PERIOD_WORDS = {
    "day": ("tanggal yang sah", "a valid date"),
    "month": ("tanggal 1 suatu bulan", "the first day of a month"),
    "quarter": (
        "tanggal 1 awal triwulan (1 Januari, 1 April, 1 Juli, 1 Oktober)",
        "the first day of a quarter (1 January, 1 April, 1 July, 1 October)",
    ),
    "year": ("sebuah tahun (mis. 2025)", "a year (e.g. 2025)"),
}


def _kode_words(kw: dict[str, Any]) -> dict[str, str]:
    level = str(kw["level"])
    parent = kw.get("parent")
    level_id, level_en = LEVEL_WORDS.get(level, (level, level))
    if parent is None:
        where_id, where_en = "wilayah referensi", "the reference"
    else:
        name = wilayah().get(str(parent), ("", str(parent)))[1]
        where_id = where_en = f"{name} ({parent})" if name != str(parent) else str(parent)
    return {
        "level_id": level_id,
        "level_en": level_en,
        "parent_id": where_id,
        "parent_en": where_en,
    }


def _period_words(kw: dict[str, Any]) -> dict[str, str]:
    gran = str(kw["granularity"])
    period_id, period_en = PERIOD_WORDS.get(gran, (gran, gran))
    first, last = period_bound(kw.get("min_date")), period_bound(kw.get("max_date"), end=True)
    lo: int | str | None
    hi: int | str | None
    if gran == "year":  # in years: the first and last years whose 1 January is within bounds
        lo = None if first is None else first.year + (first != dt.date(first.year, 1, 1))
        hi = None if last is None else last.year
    else:
        lo = None if first is None else first.isoformat()
        hi = None if last is None else last.isoformat()
    if lo is not None and hi is not None:
        bounds = (f", antara {lo} dan {hi}", f", between {lo} and {hi}")
    elif hi is not None:
        bounds = (f", tidak setelah {hi}", f", not after {hi}")
    elif lo is not None:
        bounds = (f", tidak sebelum {lo}", f", not before {lo}")
    else:
        bounds = ("", "")
    return {
        "period_id": period_id,
        "period_en": period_en,
        "bounds_id": bounds[0],
        "bounds_en": bounds[1],
    }


def _money_words(kw: dict[str, Any]) -> dict[str, str]:
    top = kw.get("max_value")
    top = MONEY_MAX if top in (None, "-") else float(top)
    en = f"{top:,.0f}"
    return {"max_id": en.replace(",", "."), "max_en": en}


_WORDS: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    KODE_WILAYAH: _kode_words,
    IN_PERIOD: _period_words,
    MONEY: _money_words,
}


# ----------------------------------------------------------------- what `catalog validate` checks

_KWARGS: dict[str, tuple[set[str], set[str]]] = {  # type -> (required, optional) kwargs
    KODE_WILAYAH: ({"column", "level"}, {"parent"}),
    NIK: ({"column"}, {"check_kecamatan"}),
    IN_PERIOD: ({"column", "granularity"}, {"min_date", "max_date"}),
    MONEY: ({"column"}, {"max_value"}),
    IN_REGISTRY: ({"column", "registry", "registry_column", "value_set"}, set()),
}
_COLUMN_TYPES = {
    KODE_WILAYAH: ("string",),
    NIK: ("string",),
    IN_PERIOD: ("date", "integer"),
    MONEY: ("integer", "number"),
}
_IDENT = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


def problems(expectation: dict[str, Any], ds: Dataset) -> list[str]:
    """Mistakes in one of our own expectations' kwargs, for `catalog validate`.

    Built-in GX types are left to GX; here our types are checked against the dataset: known
    kwargs, the column's type, the region and period specs, and the registry parameter's name.
    """
    etype = expectation.get("type")
    if etype not in _KWARGS:
        return []
    kw = expectation.get("kwargs") or {}
    required, optional = _KWARGS[etype]
    out = [f"missing kwarg {k!r}" for k in sorted(required - set(kw))]
    out += [
        f"unknown kwarg {k!r}; expected {sorted(required | optional)}"
        for k in sorted(
            set(kw) - required - optional - {"result_format", "catch_exceptions", "meta"}
        )
    ]
    if out:
        return out
    col = ds.column(kw["column"]) if isinstance(kw["column"], str) else None
    if col is not None and etype in _COLUMN_TYPES and col.type not in _COLUMN_TYPES[etype]:
        out.append(
            f"column {col.name!r} is of type {col.type}; this rule needs "
            f"{' or '.join(_COLUMN_TYPES[etype])}"
        )
    check = {
        KODE_WILAYAH: _kode_problems,
        NIK: _nik_problems,
        IN_PERIOD: _period_problems,
        MONEY: _money_problems,
        IN_REGISTRY: _registry_problems,
    }[etype]
    return out + check(kw, ds)


def _kode_problems(kw: dict[str, Any], ds: Dataset) -> list[str]:
    level, parent = kw["level"], kw.get("parent")
    if level not in LEVELS:
        return [f"level: {level!r} is not one of {list(LEVELS)}"]
    out = []
    if parent is not None:
        known = wilayah().get(str(parent))
        if known is None:
            out.append(f"parent: {parent!r} is not a current Kemendagri code Serasan ships")
        elif LEVELS.index(known[0]) >= LEVELS.index(level):
            out.append(f"parent: {parent} is a {known[0]}, not above {level}")
    if ds.region is not None and kw["column"] == ds.region.column:
        if level != ds.region.level:
            out.append(
                f"level: the region column {ds.region.column!r} holds "
                f"{ds.region.level} codes (got {level!r})"
            )
        if parent is None or not (parent == ds.area or str(parent).startswith(ds.area + ".")):
            out.append(
                f"parent: the region column must be checked under the dataset's area "
                f"{ds.area} (got {parent!r})"
            )
    return out


def _nik_problems(kw: dict[str, Any], ds: Dataset) -> list[str]:
    flag = kw.get("check_kecamatan", True)
    return (
        []
        if isinstance(flag, bool)
        else [f"check_kecamatan: expected true or false (got {flag!r})"]
    )


def _period_problems(kw: dict[str, Any], ds: Dataset) -> list[str]:
    gran = kw["granularity"]
    if gran not in GRANULARITIES:
        return [f"granularity: {gran!r} is not one of {list(GRANULARITIES)}"]
    out = []
    col = ds.column(kw["column"])
    if col is not None and col.type == "integer" and gran != "year":
        out.append(
            f"granularity: an integer column is a year, so granularity must be 'year' "
            f"(got {gran!r})"
        )
    if kw["column"] == ds.period.column and gran != ds.period.granularity:
        out.append(
            f"granularity: the dataset's period is per {ds.period.granularity} (got {gran!r})"
        )
    bounds: dict[str, dt.date] = {}
    for key in ("min_date", "max_date"):
        value = kw.get(key)
        if value is None or (isinstance(value, dict) and "$PARAMETER" in value):
            continue
        try:
            bound = period_bound(value, end=key == "max_date")
        except ValueError:
            out.append(
                f'{key}: expected an ISO date, a year or {{"$PARAMETER": ...}} (got {value!r})'
            )
        else:
            assert bound is not None  # only a None value has no bound, and it was skipped
            bounds[key] = bound
    if len(bounds) == 2 and bounds["min_date"] > bounds["max_date"]:
        out.append("min_date is after max_date")
    return out


def _money_problems(kw: dict[str, Any], ds: Dataset) -> list[str]:
    top = kw.get("max_value", MONEY_MAX)
    if isinstance(top, bool) or not isinstance(top, int | float) or not top > 0:
        return [f"max_value: expected a positive number (got {top!r})"]
    return []


def _registry_problems(kw: dict[str, Any], ds: Dataset) -> list[str]:
    registry, rcol = kw["registry"], kw["registry_column"]
    out = []
    if not (isinstance(registry, str) and _IDENT.match(registry)):
        out.append(f"registry: expected a dataset id (got {registry!r})")
    elif registry == ds.id:
        out.append("registry: a dataset cannot be its own registry")
    if not (isinstance(rcol, str) and _IDENT.match(rcol)):
        out.append(f"registry_column: expected a column name (got {rcol!r})")
    if not out:
        want = {"$PARAMETER": registry_param(registry, rcol)}
        if kw["value_set"] != want:
            out.append(
                f"value_set: must be {want}, filled from the warehouse before validation "
                f"(serasan.quality.registry.registry_params)"
            )
    return out
