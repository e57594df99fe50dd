"""Serasan's own Great Expectations: kode wilayah, NIK, period, money and registry keys.

Each is a GX 1.x `ColumnMapExpectation` backed by its own `ColumnMapMetricProvider`, with a pandas
implementation (`column_condition_partial(engine=PandasExecutionEngine)`), built like GX's own
`ExpectColumnValuesToMatchRegex`. GX registers an expectation class under the snake_case of its
name when the class is defined, so this module must be imported before a suite using these
types is built (`serasan.quality.engine` does it). From GX JSON they read like any core type:

    {"type": "expect_column_values_to_be_valid_kode_wilayah",
     "kwargs": {"column": "kode_desa", "level": "desa_kelurahan", "parent": "16.06"}}

As for GX's own map expectations, missing values (None, NaN) are not checked: they are neither
expected nor unexpected. Every rule here is written a second time, in pyarrow, as a row mask in
`serasan.quality.rules`; `serasan.quality.engine` proves on every batch that both count the same rows. The two
share only the reference data (`serasan.quality.rules.wilayah`, `nik_reference`, `NIK_PROVINCES`, ...).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any, ClassVar, Literal, TypeAlias

import numpy as np
import pandas as pd
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from serasan.quality import rules

_LIBRARY = {
    "maturity": "experimental",
    "tags": ["serasan", "indonesia", "column map expectation"],
    "contributors": ["@serasan"],
}


def _flags(column: pd.Series, ok: Any) -> pd.Series:
    """A boolean Series on the column's index (GX negates it with `~`: it must be bool)."""
    return pd.Series(np.asarray(ok, dtype=bool), index=column.index)


def _each(column: pd.Series, test: Any) -> pd.Series:
    return _flags(column, [bool(test(v)) for v in column.tolist()])


# ----------------------------------------------------------------- kode wilayah


class ColumnValuesValidKodeWilayah(ColumnMapMetricProvider):
    condition_metric_name = "column_values.serasan_valid_kode_wilayah"
    condition_value_keys = ("level", "parent")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(
        cls, column: pd.Series, level: str, parent: str | None = None, **kwargs: Any
    ) -> pd.Series:
        # only text can equal a code: isin never matches 1606.0 or a date with "16.06"
        return _flags(column, column.isin(list(rules.kode_wilayah(level, parent))))


class ExpectColumnValuesToBeValidKodeWilayah(ColumnMapExpectation):
    """Expect each value to be a Kemendagri kode wilayah of `level`, under `parent`.

    The reference is `warehouse/seed/wilayah.csv` (read once). `level` is one of provinsi,
    kabupaten_kota, kecamatan, desa_kelurahan; `parent` is any ancestor code, e.g. "16.06" for
    the kecamatan or desa of Kabupaten Musi Banyuasin (without it: any code of that level in the
    reference). Values must be text written with dots, e.g. "16.06.01" or "16.06.01.2001".
    """

    level: Literal["provinsi", "kabupaten_kota", "kecamatan", "desa_kelurahan"]
    parent: str | None = None

    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY
    map_metric = "column_values.serasan_valid_kode_wilayah"
    success_keys = ("level", "parent", "mostly")
    args_keys = ("column", "level", "parent")


# ----------------------------------------------------------------- NIK

_NIK = re.compile(r"[0-9]{16}")  # fullmatch: as rules.NIK_PATTERN in RE2, ASCII digits only


def nik_is_valid(value: Any, check_kecamatan: bool = True) -> bool:
    """One NIK: 16 ASCII digits PP KK CC DD MM YY NNNN, checked as far as the reference knows.

    PP a province code; DD the day of birth, 01-31, or 41-71 for women; MM the month, 01-12.
    Where the reference lists a province's kabupaten/kota (16, Sumatera Selatan), PPKK must be
    one of them, and where it lists a kabupaten's kecamatan (16.03, 16.06), PPKKCC must be one of
    those (unless `check_kecamatan` is false). A NIK of any other province is not checked
    against the Sumatera Selatan reference.
    """
    if not isinstance(value, str) or not _NIK.fullmatch(value):
        return False
    provinces, kab, kab_with_kec, kec = rules.nik_reference()
    if (
        value[:2] not in rules.NIK_PROVINCES
        or value[6:8] not in rules.NIK_DAYS
        or value[8:10] not in rules.NIK_MONTHS
    ):
        return False
    if value[:2] in provinces and value[:4] not in kab:
        return False
    return not (check_kecamatan and value[:4] in kab_with_kec and value[:6] not in kec)


class ColumnValuesValidNik(ColumnMapMetricProvider):
    condition_metric_name = "column_values.serasan_valid_nik"
    condition_value_keys = ("check_kecamatan",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, check_kecamatan: bool = True, **kwargs: Any) -> pd.Series:
        return _each(column, lambda v: nik_is_valid(v, check_kecamatan))


class ExpectColumnValuesToBeValidNik(ColumnMapExpectation):
    """Expect each value to be a plausible NIK (Nomor Induk Kependudukan): see `nik_is_valid`.

    `check_kecamatan: false` skips the kecamatan digits: a NIK keeps the kecamatan where it was
    first issued, so a resident of a kecamatan since moved to another kabupaten (pemekaran) has
    a code the current reference no longer lists.
    """

    check_kecamatan: bool = True

    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY
    map_metric = "column_values.serasan_valid_nik"
    success_keys = ("check_kecamatan", "mostly")
    args_keys = ("column",)


# ----------------------------------------------------------------- period

# GX's SuiteParameterDict is a bare `dict` alias: {"$PARAMETER": name} in a suite's kwargs
SuiteParameter: TypeAlias = SuiteParameterDict[Any, Any]
Bound = SuiteParameter | dt.date | str | int | None


def period_start(value: Any, granularity: str) -> dt.date | None:
    """The first day of the period a value names, or None when it names none.

    A date names a day; for month, quarter and year it must be the period's first day. An integer
    (also 2024.0, as pandas shows an integer column with nulls) names a year, 1000-9999, and only
    for granularity year. Timestamps, text and booleans name no period.
    """
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        if granularity in ("month", "quarter", "year") and value.day != 1:
            return None
        if granularity == "quarter" and value.month not in rules.QUARTER_MONTHS:
            return None
        if granularity == "year" and value.month != 1:
            return None
        return value
    if isinstance(value, bool | np.bool_) or granularity != "year":
        return None
    if isinstance(value, int | np.integer):
        year = int(value)
    elif isinstance(value, float | np.floating) and math.isfinite(value) and value == int(value):
        year = int(value)
    else:
        return None
    return dt.date(year, 1, 1) if rules.YEAR_RANGE[0] <= year <= rules.YEAR_RANGE[1] else None


class ColumnValuesInPeriod(ColumnMapMetricProvider):
    condition_metric_name = "column_values.serasan_in_period"
    condition_value_keys = ("granularity", "min_date", "max_date")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        column: pd.Series,
        granularity: str,
        min_date: Any = None,
        max_date: Any = None,
        **kwargs: Any,
    ) -> pd.Series:
        lo = rules.period_bound(min_date)
        hi = rules.period_bound(max_date, end=True)

        def ok(v: Any) -> bool:
            start = period_start(v, granularity)
            return start is not None and (lo is None or start >= lo) and (hi is None or start <= hi)

        return _each(column, ok)


class ExpectColumnValuesToBeInPeriod(ColumnMapExpectation):
    """Expect each value to name one period of `granularity`, starting within the bounds.

    granularity: day, month (the 1st), quarter (1 Jan/Apr/Jul/Oct) or year (an integer year, or
    1 January). min_date and max_date (inclusive) bound the period's first day; they take an ISO
    date, a year, or a suite parameter, e.g. `{"$PARAMETER": "run_date"}` so that no period lies
    after the run's logical date.
    """

    granularity: Literal["day", "month", "quarter", "year"]
    min_date: Bound = None
    max_date: Bound = None

    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY
    map_metric = "column_values.serasan_in_period"
    success_keys = ("granularity", "min_date", "max_date", "mostly")
    args_keys = ("column", "granularity", "min_date", "max_date")


# ----------------------------------------------------------------- money


def money_is_valid(value: Any, max_value: float = rules.MONEY_MAX) -> bool:
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | Decimal | np.number
    ):
        return False
    if isinstance(value, int | np.integer):  # exact, as Python compares int with float
        return 0 <= int(value) <= rules.integer_ceiling(max_value)
    number = float(value)
    return math.isfinite(number) and 0 <= number <= max_value


class ColumnValuesNonNegativeMoney(ColumnMapMetricProvider):
    condition_metric_name = "column_values.serasan_non_negative_money"
    condition_value_keys = ("max_value",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(
        cls, column: pd.Series, max_value: Any = rules.MONEY_MAX, **kwargs: Any
    ) -> pd.Series:
        top = float(rules.MONEY_MAX if max_value is None else max_value)
        if pd.api.types.is_bool_dtype(column):
            return _flags(column, np.zeros(len(column), dtype=bool))
        if pd.api.types.is_integer_dtype(column):  # exact: no rounding through float64
            values = column.to_numpy()
            return _flags(column, (values >= 0) & (values <= rules.integer_ceiling(top)))
        if pd.api.types.is_numeric_dtype(column):
            values = column.to_numpy(dtype=float)
            return _flags(column, np.isfinite(values) & (values >= 0) & (values <= top))
        return _each(column, lambda v: money_is_valid(v, top))


class ExpectColumnValuesToBeNonNegativeMoney(ColumnMapExpectation):
    """Expect each value to be an amount of rupiah: a finite number from 0 to `max_value`.

    `max_value` defaults to 1e15 (Rp 1.000 triliun), far above any regency's row: anything larger
    is a typo or a unit mistake.
    """

    max_value: SuiteParameter | float | int = rules.MONEY_MAX

    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY
    map_metric = "column_values.serasan_non_negative_money"
    success_keys = ("max_value", "mostly")
    args_keys = ("column", "max_value")


# ----------------------------------------------------------------- registry keys


class ColumnValuesExistInRegistry(ColumnMapMetricProvider):
    condition_metric_name = "column_values.serasan_exist_in_registry"
    condition_value_keys = ("value_set",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, value_set: list[Any], **kwargs: Any) -> pd.Series:
        return _flags(column, column.isin(list(value_set)))


class ExpectColumnValuesToExistInRegistry(ColumnMapExpectation):
    """Expect each value to be a key of a registry dataset (a foreign key to master data).

    `registry` is the id of a catalog dataset and `registry_column` its key column. The keys are
    what the warehouse holds (`core.fact_<registry>`), passed as the suite parameter
    `registry__<registry>__<registry_column>` that `serasan.quality.registry.registry_params` fills in
    before validation: `value_set` is `{"$PARAMETER": "registry__<registry>__<column>"}`.
    """

    registry: str
    registry_column: str
    value_set: SuiteParameter | list[Any]

    library_metadata: ClassVar[dict[str, Any]] = _LIBRARY
    map_metric = "column_values.serasan_exist_in_registry"
    success_keys = ("value_set", "mostly")
    args_keys = ("column", "registry", "registry_column", "value_set")


EXPECTATIONS = (
    ExpectColumnValuesToBeValidKodeWilayah,
    ExpectColumnValuesToBeValidNik,
    ExpectColumnValuesToBeInPeriod,
    ExpectColumnValuesToBeNonNegativeMoney,
    ExpectColumnValuesToExistInRegistry,
)
