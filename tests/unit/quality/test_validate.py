"""The quality gate: GX (SUMMARY) decides, our row masks must count exactly what GX counted.

Everything here runs GX in-process on small pandas batches; no services are needed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from serasan.demo.generate import generate_dataset
from serasan.parse.reader import ROW_COL, parse_file
from serasan.quality import rules
from serasan.quality.engine import RulesDisagree, Validation, run_gx, suite_params, validate
from serasan.quality.suites import load_validated_catalog

CATALOG = load_validated_catalog()
IDS = sorted(CATALOG.datasets)
RUN_DATE = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 10, 31)
PARAMS = suite_params(RUN_DATE)
NAN = float("nan")

# GX's own regex metric calls str.contains with a grouped pattern; pandas warns, harmlessly.
pytestmark = pytest.mark.filterwarnings("ignore:This pattern is interpreted:UserWarning")

NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
REGEX = "expect_column_values_to_match_regex"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND = "expect_compound_columns_to_be_unique"


def exp(etype: str, meta: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": etype, "kwargs": kwargs}
    if meta is not None:
        out["meta"] = meta
    return out


def suite(*expectations: dict[str, Any]) -> dict[str, Any]:
    return {"name": "test_suite", "expectations": list(expectations)}


def rows_of(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def assert_consistent(v: Validation, table: pa.Table) -> None:
    """What every validation must satisfy, whatever the data."""
    assert v.row_count == table.num_rows
    union = np.zeros(table.num_rows, dtype=bool)
    for r in v.results:
        assert r.mask.dtype == np.bool_ and r.mask.shape == (table.num_rows,)
        assert int(r.mask.sum()) == r.unexpected_count, (r.seq, r.type)
        assert r.success == (not r.mask.any()), (r.seq, r.type, r.unexpected_count)
        assert r.element_count == table.num_rows
        union |= r.mask
    assert np.array_equal(v.failing, union)
    assert v.success == (not union.any())


# ----------------------------------------------------------------- 1. agreement on every dataset


@pytest.mark.parametrize("defect_rate", [0.0, 0.1, 0.4])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("ds_id", IDS)
def test_masks_agree_with_gx_on_generated_data(ds_id: str, seed: int, defect_rate: float) -> None:
    ds = CATALOG.datasets[ds_id]
    gf = generate_dataset(
        ds, CATALOG, rows=60, fmt="csv", defect_rate=defect_rate, seed=seed, as_of=AS_OF
    )
    parsed = parse_file(gf.data, gf.filename, ds)
    table = parsed.table
    assert table.num_rows > 0
    the_suite = CATALOG.suites[ds_id]

    v = validate(table, the_suite, PARAMS)  # raises RulesDisagree on any count mismatch

    assert len(v.results) == len(the_suite["expectations"])
    assert [r.seq for r in v.results] == list(range(len(v.results)))
    assert_consistent(v, table)
    if defect_rate == 0:
        failed = [(r.type, r.columns, r.unexpected_count) for r in v.results if not r.success]
        assert not failed, f"clean data failed its own suite: {failed}"
    elif gf.defects:
        assert not v.success, f"defects {gf.defects} went unnoticed"


# ----------------------------------------------------------------- 2. the masks find the right rows


def _hand_table() -> pa.Table:
    d = dt.date
    return pa.table(
        {
            "kode": pa.array(["T1", "T2", "T2", None, None, "T6", None, None], pa.string()),
            "kecamatan": pa.array(
                ["16.06.01", "16.06.99", None, "16.06.02", "x", "16.06.02", None, None], pa.string()
            ),
            "nilai": pa.array([10.0, -1.0, None, 100.0, 0.0, 100.5, 50.0, 50.0], pa.float64()),
            "jumlah": pa.array([5, None, 0, 10, 1, 9, 3, 3], pa.int64()),
            "tanggal": pa.array(
                [
                    d(2026, 1, 15),
                    d(2026, 11, 1),
                    d(2026, 11, 2),
                    d(2014, 12, 31),
                    d(2015, 1, 1),
                    None,
                    d(2020, 6, 1),
                    d(2020, 6, 1),
                ],
                pa.date32(),
            ),
            "nik": pa.array(
                [
                    "1606011501900001",
                    "160601",
                    None,
                    "16060115019O0001",
                    "1606011501900002",
                    "1606011501900003 ",
                    "1606011501900004",
                    "1606011501900005",
                ],
                pa.string(),
            ),
            ROW_COL: pa.array(range(2, 10), pa.int32()),  # as parse_file adds it; GX never sees it
        }
    )


HAND_CASES = [
    (exp(NOT_NULL, column="kecamatan"), [2, 6, 7]),
    (exp(BETWEEN, column="nilai", min_value=0, max_value=100), [1, 5]),  # bounds inclusive
    (exp(BETWEEN, column="nilai", min_value=0), [1]),
    (exp(BETWEEN, column="nilai", max_value=100, strict_max=True), [3, 5]),
    (
        exp(BETWEEN, column="jumlah", min_value=0, max_value=10, strict_min=True, strict_max=True),
        [2, 3],
    ),
    (
        exp(
            BETWEEN, column="tanggal", min_value="2015-01-01", max_value={"$PARAMETER": "run_date"}
        ),
        [2, 3],
    ),
    (
        exp(
            BETWEEN,
            column="tanggal",
            min_value="2015-01-01",
            max_value={"$PARAMETER": "run_date"},
            strict_min=True,
        ),
        [2, 3, 4],
    ),
    (exp(IN_SET, column="kecamatan", value_set=["16.06.01", "16.06.02"]), [1, 4]),
    (exp(REGEX, column="nik", regex=r"^[0-9]{16}$"), [1, 3, 5]),
    (exp(UNIQUE, column="kode"), [1, 2]),  # nulls are not duplicates of each other
    (exp(UNIQUE, column="tanggal"), [6, 7]),
    # (None, None) rows are all-missing and skipped; (None, "16.06.02") occurs once
    (exp(COMPOUND, column_list=["kode", "kecamatan"]), []),
    # (None, 3) twice: a null key part is equal to a null key part, as in GX (pandas)
    (exp(COMPOUND, column_list=["kode", "jumlah"]), [6, 7]),
    (exp(COMPOUND, column_list=["kode", "tanggal", "nilai"]), [6, 7]),
]


def test_hand_cases_cover_every_supported_type() -> None:
    # Serasan's own types have their hand cases in
    # tests/unit/expectations/test_custom_expectations.py
    assert {e["type"] for e, _ in HAND_CASES} == set(rules.SUPPORTED) - set(rules.CUSTOM_TYPES)


@pytest.mark.parametrize(
    ("expectation", "failing"),
    HAND_CASES,
    ids=[f"{i}-{e['type'].removeprefix('expect_')}" for i, (e, _) in enumerate(HAND_CASES)],
)
def test_mask_finds_exactly_the_failing_rows(
    expectation: dict[str, Any], failing: list[int]
) -> None:
    table = _hand_table()
    assert rows_of(rules.mask(expectation, table, PARAMS)) == failing
    v = validate(table, suite(expectation), PARAMS)  # GX agrees, or this raises
    (r,) = v.results
    assert rows_of(r.mask) == failing
    assert r.unexpected_count == len(failing)
    assert r.success == (not failing)


def test_whole_hand_suite_in_one_run() -> None:
    """GX may reorder results: each one must still land on its own expectation."""
    table = _hand_table()
    v = validate(table, suite(*(e for e, _ in HAND_CASES)), PARAMS)
    assert [rows_of(r.mask) for r in v.results] == [f for _, f in HAND_CASES]
    assert [r.expectation for r in v.results] == [e for e, _ in HAND_CASES]
    assert rows_of(v.failing) == sorted({i for _, f in HAND_CASES for i in f})
    assert_consistent(v, table)


# ----------------------------------------------------------------- 3. subtle pandas/GX semantics


def _edge(
    name: str,
    columns: dict[str, pa.Array],
    expectations: list[dict[str, Any]],
    failing: list[list[int]],
) -> Any:
    return pytest.param(pa.table(columns), expectations, failing, id=name)


F = pa.float64()
I64 = pa.int64()
S = pa.string()
D = pa.date32()
EDGE_CASES = [
    _edge(
        "float-nan-vs-null",
        {"x": pa.array([1.0, None, NAN, -1.0, 5.0, NAN, 1.0], F), "k": pa.array(["a"] * 7)},
        [
            exp(NOT_NULL, column="x"),
            exp(BETWEEN, column="x", min_value=0, max_value=4),
            exp(IN_SET, column="x", value_set=[1.0, 5.0]),  # regression: NaN is missing in GX
            exp(UNIQUE, column="x"),
            exp(REGEX, column="x", regex=r"^1\.0$"),
            # None and NaN are the same missing value to pandas' duplicated()
            exp(COMPOUND, column_list=["x", "k"]),
        ],
        [[1, 2, 5], [3, 4], [3], [0, 6], [3, 4], [0, 1, 2, 5, 6]],
    ),
    _edge(
        "float-only-nan",
        {"x": pa.array([NAN, NAN, None], F), "k": pa.array(["a", "b", "c"])},
        [
            exp(NOT_NULL, column="x"),
            exp(BETWEEN, column="x", min_value=0),
            exp(IN_SET, column="x", value_set=[1.0]),
            exp(UNIQUE, column="x"),
            exp(REGEX, column="x", regex="^1"),
            exp(COMPOUND, column_list=["x", "k"]),
        ],
        [[0, 1, 2], [], [], [], [], []],
    ),
    _edge(
        "empty-table",
        {"x": pa.array([], I64), "s": pa.array([], S), "d": pa.array([], D)},
        [
            exp(NOT_NULL, column="x"),
            exp(BETWEEN, column="x", min_value=0),
            exp(BETWEEN, column="d", min_value="2015-01-01", max_value={"$PARAMETER": "run_date"}),
            exp(IN_SET, column="s", value_set=["a"]),
            exp(REGEX, column="s", regex="^a$"),
            exp(UNIQUE, column="x"),
            exp(COMPOUND, column_list=["x", "s"]),
        ],
        [[]] * 7,
    ),
    _edge(
        "all-null-columns",
        {
            "x": pa.array([None] * 3, I64),
            "f": pa.array([None] * 3, F),
            "s": pa.array([None] * 3, S),
            "d": pa.array([None] * 3, D),
        },
        [
            exp(NOT_NULL, column="s"),
            exp(BETWEEN, column="x", min_value=0),
            exp(BETWEEN, column="f", min_value=0, max_value=1),
            exp(BETWEEN, column="d", min_value="2015-01-01", max_value={"$PARAMETER": "run_date"}),
            exp(IN_SET, column="s", value_set=["a"]),
            exp(IN_SET, column="x", value_set=[1]),
            exp(REGEX, column="s", regex="^a$"),
            exp(REGEX, column="x", regex="^1$"),
            exp(UNIQUE, column="x"),
            exp(UNIQUE, column="s"),
            exp(COMPOUND, column_list=["x", "s", "d"]),
        ],
        [[0, 1, 2]] + [[]] * 10,
    ),
    _edge(
        "date-iso-string-bounds",
        {
            "d": pa.array(
                [
                    dt.date(2014, 12, 31),
                    dt.date(2015, 1, 1),
                    None,
                    dt.date(2026, 11, 1),
                    dt.date(2026, 11, 2),
                ],
                D,
            )
        },
        [
            exp(BETWEEN, column="d", min_value="2015-01-01", max_value="2026-11-01"),
            exp(
                BETWEEN,
                column="d",
                min_value="2015-01-01",
                max_value={"$PARAMETER": "run_date"},
                strict_min=True,
                strict_max=True,
            ),
            exp(BETWEEN, column="d", max_value={"$PARAMETER": "run_date"}),
            # regression: ISO strings are not dates to GX's isin, so nothing matches them
            exp(IN_SET, column="d", value_set=["2015-01-01"]),
            exp(IN_SET, column="d", value_set=[dt.date(2015, 1, 1), dt.date(2026, 11, 1)]),
            exp(REGEX, column="d", regex=r"^2026-11-0[12]$"),
        ],
        [[0, 4], [0, 1, 3, 4], [4], [0, 1, 3, 4], [0, 4], [0, 1]],
    ),
    _edge(
        "integer-with-nulls",
        {"i": pa.array([1, None, -3, 7, None, 7], I64)},
        [
            exp(NOT_NULL, column="i"),
            exp(BETWEEN, column="i", min_value=0),
            exp(BETWEEN, column="i", min_value=1, max_value=7, strict_min=True),
            exp(BETWEEN, column="i", min_value=2015, max_value={"$PARAMETER": "run_year"}),
            exp(IN_SET, column="i", value_set=[1, 7]),
            exp(UNIQUE, column="i"),
            # regression: GX sees float64 (1.0, 7.0) since pandas has no null for int64
            exp(REGEX, column="i", regex=r"^-?[0-9]+$"),
            exp(REGEX, column="i", regex=r"^-?[0-9]+\.0$"),
        ],
        [[1, 4], [2], [0, 2], [0, 2, 3, 5], [2], [3, 5], [0, 2, 3, 5], []],
    ),
    _edge(
        "integer-without-nulls",
        {"i": pa.array([1, 2, 2], I64)},
        [
            exp(REGEX, column="i", regex=r"^[0-9]+$"),
            # regression: Arrow cast the value set to int64, silently turning 2.5 into 2
            exp(IN_SET, column="i", value_set=[1.0, 2.5]),
            exp(UNIQUE, column="i"),
        ],
        [[], [1, 2], [1, 2]],
    ),
    _edge(
        "regex-with-nulls",
        {"s": pa.array(["081234567890", None, "abc", "08123", None, "+6281234567"], S)},
        [
            exp(REGEX, column="s", regex=r"^(\+62|62|0)8[0-9]{7,11}$"),
            exp(REGEX, column="s", regex="b"),  # search, not full match
            exp(NOT_NULL, column="s"),
        ],
        [[2, 3], [0, 3, 5], [1, 4]],
    ),
    _edge(
        "regex-python-semantics",  # regression: GX uses Python `re`, not Arrow's RE2
        {"s": pa.array(["1234", "12\u06634", "0123", "1234\n", "abcd", None], S)},
        [
            exp(REGEX, column="s", regex=r"^\d{4}$"),  # Unicode digits; $ before final \n
            exp(REGEX, column="s", regex=r"^[0-9]{4}$"),
            exp(REGEX, column="s", regex=r"^(?!0)\d+$"),  # a lookahead: RE2 rejects it
            exp(REGEX, column="s", regex=r"(?i)ABC"),
        ],
        [[4], [1, 4], [2, 4], [0, 1, 2, 3]],
    ),
    _edge(
        "regex-on-float-and-bool",  # regression: str() as pandas writes it, "1.0" / "True"
        {"f": pa.array([1.0, 2.5, None], F), "b": pa.array([True, False, None], pa.bool_())},
        [exp(REGEX, column="f", regex=r"^\d+\.\d+$"), exp(REGEX, column="b", regex="^True$")],
        [[], [1]],
    ),
    _edge(
        "compound-one-key-null",
        {
            "periode": pa.array([dt.date(2026, 1, 1)] * 4 + [None, None], D),
            "nik": pa.array(["1", None, None, "2", None, None], S),
            "jenis": pa.array(["A", "B", "B", "A", None, None], S),
        },
        [
            exp(COMPOUND, column_list=["periode", "nik", "jenis"]),
            exp(COMPOUND, column_list=["nik", "jenis"]),
        ],
        # rows 1, 2: same periode and jenis, nik null in both -> duplicates to GX;
        # rows 4, 5: every key part null -> skipped (ignore_row_if all_values_are_missing)
        [[1, 2], [1, 2]],
    ),
    _edge(
        "unique-with-nulls-and-nan",
        {
            "s": pa.array([None, None, "a", "b", "a"], S),
            "f": pa.array([NAN, None, 1.0, NAN, 2.0], F),
        },
        [exp(UNIQUE, column="s"), exp(UNIQUE, column="f")],
        [[2, 4], []],
    ),
]


@pytest.mark.parametrize(("table", "expectations", "failing"), EDGE_CASES)
def test_edge_cases_agree_with_gx(
    table: pa.Table, expectations: list[dict[str, Any]], failing: list[list[int]]
) -> None:
    v = validate(table, suite(*expectations), PARAMS)  # must not raise RulesDisagree
    assert [rows_of(r.mask) for r in v.results] == failing
    assert_consistent(v, table)


def test_date_column_with_datetime_string_bound_is_a_gx_error_not_a_pass() -> None:
    """Regression: GX reads '2015-01-01T00:00:00' as a datetime and cannot compare it with the
    column's dates. It reports that exception nested per metric; it used to be missed, leaving
    a failed rule with 0 failing rows (or a misleading RulesDisagree)."""
    table = pa.table({"d": pa.array([dt.date(2020, 1, 1), dt.date(2021, 1, 1)], D)})
    bad = suite(exp(BETWEEN, column="d", min_value="2015-01-01T00:00:00"))
    (verdict,) = run_gx(table, bad, PARAMS)
    assert "compare" in (verdict["exception"] or "")
    with pytest.raises(RuntimeError, match=r"could not evaluate expectation 0") as err:
        validate(table, bad, PARAMS)
    assert not isinstance(err.value, RulesDisagree)


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        (exp(BETWEEN, column="x", min_value=5, max_value=1), "min_value cannot be greater"),
        (exp(NOT_NULL, column="missing"), "missing"),
    ],
)
def test_gx_errors_stop_the_run_with_gx_message(expectation: dict[str, Any], message: str) -> None:
    table = pa.table({"x": pa.array([1, 3, 5], I64)})
    with pytest.raises(RuntimeError, match="could not evaluate") as err:
        validate(table, suite(expectation), PARAMS)
    assert message in str(err.value)
    assert not isinstance(err.value, RulesDisagree)


def test_empty_suite_validates_without_gx() -> None:
    table = pa.table({"x": pa.array([1, None], I64)})
    v = validate(table, suite(), PARAMS)
    assert v.results == [] and v.success and rows_of(v.failing) == []


# ----------------------------------------------------------------- 4. a wrong mask is caught


def test_wrong_mask_raises_rules_disagree(monkeypatch: pytest.MonkeyPatch) -> None:
    _, msg_id, msg_en = rules.SUPPORTED[NOT_NULL]

    def never_fails(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> np.ndarray:
        return np.zeros(t.num_rows, dtype=bool)

    monkeypatch.setitem(rules.SUPPORTED, NOT_NULL, (never_fails, msg_id, msg_en))
    table = pa.table({"a": pa.array([1, 2, 3], I64), "b": pa.array([None, "x", None], S)})
    the_suite = suite(exp(NOT_NULL, column="a"), exp(NOT_NULL, column="b"))
    with pytest.raises(RulesDisagree) as err:
        validate(table, the_suite, PARAMS)
    text = str(err.value)
    assert "expectation 1" in text and NOT_NULL in text and "'b'" in text
    assert "GX counted 2 failing rows" in text and "row mask 0" in text


def test_mask_counting_too_many_rows_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    _, msg_id, msg_en = rules.SUPPORTED[IN_SET]

    def flags_everything(t: pa.Table, kw: dict[str, Any], p: dict[str, Any]) -> np.ndarray:
        return np.ones(t.num_rows, dtype=bool)

    monkeypatch.setitem(rules.SUPPORTED, IN_SET, (flags_everything, msg_id, msg_en))
    table = pa.table({"s": pa.array(["a", "b", "c", "a"], S)})
    with pytest.raises(RulesDisagree, match=rf"{IN_SET}.*GX counted 2 .*row mask 4"):
        validate(table, suite(exp(IN_SET, column="s", value_set=["a"])), PARAMS)


# ----------------------------------------------------------------- 5. rules in words


def test_describe_is_indonesian_by_default_and_english_on_request() -> None:
    e = exp(NOT_NULL, column="nik")
    assert rules.describe(e, PARAMS) == "kolom 'nik' kosong, padahal wajib diisi"
    assert rules.describe(e, PARAMS, lang="id") == "kolom 'nik' kosong, padahal wajib diisi"
    assert rules.describe(e, PARAMS, lang="en") == "column 'nik' is empty but required"


def test_describe_fills_parameters_and_missing_bounds() -> None:
    e = exp(BETWEEN, column="periode", min_value="2015-01-01", max_value={"$PARAMETER": "run_date"})
    assert rules.describe(e, PARAMS) == "nilai 'periode' harus antara 2015-01-01 dan 2026-11-01"
    assert rules.describe(e, PARAMS, "en") == "'periode' must be between 2015-01-01 and 2026-11-01"
    assert (
        rules.describe(exp(BETWEEN, column="n", min_value=0), PARAMS)
        == "nilai 'n' harus antara 0 dan -"
    )
    c = exp(COMPOUND, column_list=["periode", "nik"])
    assert (
        rules.describe(c, PARAMS) == "kombinasi periode + nik muncul lebih dari sekali (data ganda)"
    )
    assert (
        rules.describe(c, PARAMS, "en")
        == "the combination periode + nik appears more than once (duplicate rows)"
    )


def test_suite_message_overrides_win() -> None:
    e = exp(
        BETWEEN,
        column="nilai_rp",
        min_value=0,
        meta={"pesan": "nilai_rp tidak boleh negatif", "message": "nilai_rp must be >= 0"},
    )
    assert rules.describe(e, PARAMS) == "nilai_rp tidak boleh negatif"
    assert rules.describe(e, PARAMS, "en") == "nilai_rp must be >= 0"
    only_id = exp(NOT_NULL, column="x", meta={"pesan": "x wajib"})
    assert rules.describe(only_id, PARAMS) == "x wajib"
    assert rules.describe(only_id, PARAMS, "en") == "column 'x' is empty but required"


def test_unknown_parameter_raises_key_error_naming_it() -> None:
    e = exp(BETWEEN, column="d", max_value={"$PARAMETER": "tanggal_tutup_buku"})
    with pytest.raises(KeyError, match="tanggal_tutup_buku"):
        rules.describe(e, PARAMS)
    with pytest.raises(KeyError, match="tanggal_tutup_buku"):
        rules.resolve({"$PARAMETER": "tanggal_tutup_buku"}, PARAMS)
    table = pa.table({"d": pa.array([dt.date(2026, 1, 1)], D)})
    with pytest.raises(KeyError, match="tanggal_tutup_buku"):
        rules.mask(e, table, PARAMS)


@pytest.mark.parametrize("ds_id", IDS)
def test_every_catalog_rule_can_be_described(ds_id: str) -> None:
    for e in CATALOG.suites[ds_id]["expectations"]:
        for lang in ("id", "en"):
            text = rules.describe(e, PARAMS, lang)
            assert text and "?" not in text and "{" not in text, (e, lang, text)


# ----------------------------------------------------------------- 6. GX runs with SUMMARY


def test_gx_runs_with_summary_result_format(monkeypatch: pytest.MonkeyPatch) -> None:
    from serasan.quality.engine import _batch_definition

    table = pa.table({"s": pa.array(["a", None, "b", "a"], S)})
    batch_cls = type(
        _batch_definition().get_batch(batch_parameters={"dataframe": table.to_pandas()})
    )
    seen: list[tuple[Any, Any]] = []
    original = batch_cls.validate

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        seen.append((kwargs.get("result_format"), result))
        return result

    monkeypatch.setattr(batch_cls, "validate", spy)
    out = run_gx(table, suite(exp(NOT_NULL, column="s"), exp(UNIQUE, column="s")), PARAMS)

    assert [o["unexpected_count"] for o in out] == [1, 2]
    assert all(set(o) == {"success", "unexpected_count", "element_count", "exception"} for o in out)
    ((result_format, result),) = seen
    assert result_format == "SUMMARY"
    for r in result.results:
        assert "unexpected_index_list" not in (r.result or {})  # only COMPLETE has it
        assert "unexpected_list" not in (r.result or {})
