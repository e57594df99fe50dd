"""Serasan's own GX expectations: kode wilayah, NIK, period, money, registry keys.

Each is a GX custom ColumnMapExpectation (pandas) with a pyarrow row mask in serasan.quality.rules; the
hand-built tables below name the exact failing rows, and `validate` proves that GX counts them
too. Registry keys read from a real warehouse (SQLite and PostgreSQL) are in
tests/integration/test_registry_params.py.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from serasan.config.catalog import Dataset
from serasan.demo.generate import generate_dataset
from serasan.parse.reader import parse_file
from serasan.quality import rules
from serasan.quality.engine import Validation, load_expectations, suite_params, validate
from serasan.quality.suites import check_suite, load_validated_catalog

CATALOG = load_validated_catalog()
IDS = sorted(CATALOG.datasets)
RUN_DATE = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 10, 31)
PARAMS = suite_params(RUN_DATE)
NAN = float("nan")
INF = float("inf")
S, I64, F, D = pa.string(), pa.int64(), pa.float64(), pa.date32()

KODE, NIK, PERIOD, MONEY, REGISTRY = (
    rules.KODE_WILAYAH,
    rules.NIK,
    rules.IN_PERIOD,
    rules.MONEY,
    rules.IN_REGISTRY,
)
REG_PARAM = rules.registry_param("uji_registri_kamera", "kode_kamera")


def exp(etype: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": etype, "kwargs": kwargs}


def suite(*expectations: dict[str, Any]) -> dict[str, Any]:
    return {"name": "uji", "expectations": list(expectations)}


def rows_of(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def assert_consistent(v: Validation, table: pa.Table) -> None:
    for r in v.results:
        assert int(r.mask.sum()) == r.unexpected_count, (r.seq, r.type)
        assert r.success == (not r.mask.any())
        assert r.element_count == table.num_rows


# ----------------------------------------------------------------- 1. GX knows our types


def test_custom_types_are_registered_in_gx_and_build_from_json() -> None:
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    from serasan.expectations import custom

    load_expectations()
    assert set(rules.CUSTOM_TYPES) <= set(rules.SUPPORTED)
    assert {c.expectation_type for c in custom.EXPECTATIONS} == set(rules.CUSTOM_TYPES)
    for cls in custom.EXPECTATIONS:
        assert get_expectation_impl(cls.expectation_type) is cls
    as_json = json.loads(json.dumps(suite(*[e for e, _ in HAND_CASES]), default=str))
    built = gx.ExpectationSuite(name="uji", expectations=as_json["expectations"])
    assert [e.expectation_type for e in built.expectations] == [e["type"] for e, _ in HAND_CASES]


# ----------------------------------------------------------------- 2. exact failing rows

KODE_TABLE = {
    "kec": pa.array(
        [
            "16.06.01",
            "16.06.99",
            "16.03.01",
            "160601",
            " 16.06.01",
            None,
            "16.06",
            "16.06.01.2001",
            "16.06.15",
        ],
        S,
    ),
    "desa": pa.array(
        [
            "16.06.01.1009",
            "16.06.01.2999",
            "16.06.02.2001",
            "16.03.01.2011",
            None,
            "16.06.01",
            "16.06.01.1009 ",
            "16.06.01.1010",
            "16.06.15.2001",
        ],
        S,
    ),
    "kab": pa.array(["16.01", "16.71", "16.74", "16.75", "16", "31.71", None, "16.13", "16.06"], S),
    "num": pa.array([1606.01, None, 16.06, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], F),
}
NIK_CASES = [  # (value, valid with check_kecamatan, valid without)
    ("1606011501900001", True, True),  # Sekayu, man born 15-01-1990
    ("1606015501900001", True, True),  # woman: day 15 + 40
    ("1606014101900001", True, True),  # woman born on the 1st
    ("1606017112900001", True, True),  # woman born on the 31st, December
    ("1606010001900001", False, False),  # day 00
    ("1606013201900001", False, False),  # day 32
    ("1606014001900001", False, False),  # day 40: neither a man's nor a woman's
    ("1606017201900001", False, False),  # day 72
    ("1606011513900001", False, False),  # month 13
    ("1606011500900001", False, False),  # month 00
    ("0006011501900001", False, False),  # province 00
    ("9906011501900001", False, False),  # province 99
    ("2006011501900001", False, False),  # province 20 does not exist
    ("1606991501900001", False, True),  # 16.06.99: no such kecamatan in Musi Banyuasin
    ("1603051501900001", False, True),  # 16.03.05: moved to PALI, not in the reference
    ("1614011501900001", False, False),  # 16.14: no such kabupaten in Sumatera Selatan
    (
        "1601991501900001",
        False,
        True,
    ),  # 16.01.99: no such kecamatan in OKU (every Sumsel one is known)
    ("1601081501900001", True, True),  # 16.01.08 Pengandonan, OKU
    (
        "3204051501900001",
        True,
        True,
    ),  # 32.04.05 Cileunyi, Kabupaten Bandung (Jawa Barat is shipped)
    ("3204991501900001", False, True),  # 32.04.99: no such kecamatan in Kabupaten Bandung
    ("1671011501900001", True, True),  # Kota Palembang
    ("3174991501900001", True, True),  # DKI: not checked against the Sumsel reference
    ("1799991501900001", True, True),  # Bengkulu: province code only
    ("9601011501900001", True, True),  # Papua Barat Daya (since 2022)
    ("160601150190001", False, False),  # 15 digits
    ("16060115019000011", False, False),  # 17 digits
    ("16060115019O0001", False, False),  # letter O for zero
    ("1606 011501900001", False, False),  # a space
    ("1606011501900001\n", False, False),  # Python's $ would allow this newline; RE2 does not
    (
        "\u0661\u0666\u0660\u0666\u0660\u0661\u0661\u0665\u0660\u0661\u0669\u0660"
        "\u0660\u0660\u0660\u0661",
        False,
        False,
    ),  # Arabic-Indic digits: \d, not [0-9]
    ("", False, False),
    (None, False, False),  # missing: neither expected nor unexpected
]
NIK_TABLE = {
    "nik": pa.array([v for v, _, _ in NIK_CASES], S),
    "nik_int": pa.array([1606011501900001] * (len(NIK_CASES) - 1) + [None], I64),
}
NIK_STRICT = [i for i, (v, ok, _) in enumerate(NIK_CASES) if v is not None and not ok]
NIK_LOOSE = [i for i, (v, _, ok) in enumerate(NIK_CASES) if v is not None and not ok]

d = dt.date
PERIOD_TABLE = {
    "bulan": pa.array(
        [
            d(2026, 10, 1),
            d(2026, 10, 2),
            d(2026, 11, 1),
            d(2026, 12, 1),
            d(2014, 12, 1),
            d(2015, 1, 1),
            None,
            d(2020, 2, 29),
        ],
        D,
    ),
    "hari": pa.array(
        [
            d(2026, 11, 1),
            d(2026, 11, 2),
            d(2015, 1, 1),
            d(2014, 12, 31),
            None,
            d(2020, 2, 29),
            d(2026, 1, 1),
            d(2019, 7, 17),
        ],
        D,
    ),
    "triwulan": pa.array(
        [
            d(2026, 4, 1),
            d(2026, 5, 1),
            d(2026, 7, 2),
            d(2026, 10, 1),
            d(2027, 1, 1),
            None,
            d(2015, 1, 1),
            d(2014, 10, 1),
        ],
        D,
    ),
    "tahun": pa.array([2015, 2014, 2026, 2027, None, 999, 10000, 2020], I64),
    "tahun_tgl": pa.array(
        [
            d(2026, 1, 1),
            d(2026, 2, 1),
            d(2026, 1, 2),
            d(2027, 1, 1),
            None,
            d(2015, 1, 1),
            d(2014, 1, 1),
            d(2020, 1, 1),
        ],
        D,
    ),
    "tahun_f": pa.array([2020.0, 2020.5, NAN, None, 2026.0, 2027.0, INF, -2020.0], F),
    "teks": pa.array(["2026-10-01", None, "2026", "x", "", "2026-01-01", None, "1"], S),
}
MONEY_TABLE = {
    "rp": pa.array([0.0, -1.0, 1e15, 1e15 + 1, INF, -INF, NAN, None, 150000.5, -0.0], F),
    "rp_int": pa.array([0, -1, 10**15, 10**15 + 1, None, 5, 7, 9, -(10**16), 12], I64),
    "flag": pa.array([True, False, None, True, True, False, False, True, True, True], pa.bool_()),
    "teks": pa.array(["1000", None, "0", "", "x", None, None, None, None, None], S),
    # no nulls: int64 in pandas too, compared exactly (2**62 + 1 is no float64)
    "rp_bulat": pa.array([0, -1, 10**15, 10**15 + 1, 2**62 + 1, -(2**62) - 1, 7, 8, 9, 10], I64),
    # decimals reach GX as Python Decimal objects
    "rp_desimal": pa.array(
        [
            Decimal("0.00"),
            Decimal("-0.01"),
            None,
            Decimal("1e16"),
            Decimal("150000.50"),
            None,
            None,
            None,
            None,
            Decimal("1e15"),
        ],
        pa.decimal128(20, 2),
    ),
}
REGISTRY_TABLE = {
    "kamera": pa.array(["CCTV-0001", "CCTV-0002", "CCTV-9999", None, "cctv-0001", "CCTV-0001 "], S),
    "tahun": pa.array([2024, None, 2025, 2023, 2024, 1], I64),
    "tanggal": pa.array(
        [d(2026, 1, 1), d(2026, 1, 2), None, d(2026, 1, 1), d(2025, 1, 1), d(2026, 1, 1)], D
    ),
}
PERIOD_PARAM = {"$PARAMETER": "run_date"}

HAND_CASES = [
    # kode wilayah: the right level, under the parent, text with dots, exactly
    (exp(KODE, column="kec", level="kecamatan", parent="16.06"), [1, 2, 3, 4, 6, 7]),
    (exp(KODE, column="kec", level="kecamatan"), [1, 3, 4, 6, 7]),  # any kecamatan of the seed
    (exp(KODE, column="desa", level="desa_kelurahan", parent="16.06"), [1, 3, 5, 6]),
    (exp(KODE, column="desa", level="desa_kelurahan", parent="16.06.01"), [1, 2, 3, 5, 6, 8]),
    (exp(KODE, column="kab", level="kabupaten_kota", parent="16"), [3, 4, 5]),
    (exp(KODE, column="kec", level="kecamatan", parent="16.99"), [0, 1, 2, 3, 4, 6, 7, 8]),
    (exp(KODE, column="num", level="kecamatan", parent="16.06"), [0, 2, 3, 4, 5, 6, 7, 8]),
    # NIK
    (exp(NIK, column="nik"), NIK_STRICT),
    (exp(NIK, column="nik", check_kecamatan=False), NIK_LOOSE),
    (exp(NIK, column="nik_int"), list(range(len(NIK_CASES) - 1))),  # a NIK is text
    # period
    (
        exp(
            PERIOD,
            column="bulan",
            granularity="month",
            min_date="2015-01-01",
            max_date=PERIOD_PARAM,
        ),
        [1, 3, 4, 7],
    ),
    (exp(PERIOD, column="bulan", granularity="month"), [1, 7]),
    (
        exp(PERIOD, column="hari", granularity="day", min_date="2015-01-01", max_date=PERIOD_PARAM),
        [1, 3],
    ),
    (exp(PERIOD, column="hari", granularity="day", max_date="2020-12-31"), [0, 1, 6]),
    (
        exp(
            PERIOD,
            column="triwulan",
            granularity="quarter",
            min_date="2015-01-01",
            max_date=PERIOD_PARAM,
        ),
        [1, 2, 4, 7],
    ),
    (
        exp(
            PERIOD, column="tahun", granularity="year", min_date="2015-01-01", max_date=PERIOD_PARAM
        ),
        [1, 3, 5, 6],
    ),
    (exp(PERIOD, column="tahun", granularity="year", max_date=PERIOD_PARAM), [3, 5, 6]),
    (
        exp(PERIOD, column="tahun", granularity="year", min_date="2015-06-01", max_date=2025),
        [0, 1, 2, 3, 5, 6],
    ),  # 1 Jan 2015 is before 1 Jun 2015
    (
        exp(PERIOD, column="tahun", granularity="month", max_date=PERIOD_PARAM),
        [0, 1, 2, 3, 5, 6, 7],
    ),  # an integer is a year, never a month
    (
        exp(
            PERIOD,
            column="tahun_tgl",
            granularity="year",
            min_date="2015-01-01",
            max_date=PERIOD_PARAM,
        ),
        [1, 2, 3, 6],
    ),
    (exp(PERIOD, column="tahun_f", granularity="year", max_date=PERIOD_PARAM), [1, 5, 6, 7]),
    (exp(PERIOD, column="teks", granularity="day"), [0, 2, 3, 4, 5, 7]),
    # money
    (exp(MONEY, column="rp"), [1, 3, 4, 5]),
    (exp(MONEY, column="rp", max_value=100000), [1, 2, 3, 4, 5, 8]),
    (exp(MONEY, column="rp_int"), [1, 3, 8]),
    (exp(MONEY, column="rp_bulat"), [1, 3, 4, 5]),
    (exp(MONEY, column="rp_bulat", max_value=8.5), [1, 2, 3, 4, 5, 8, 9]),
    (exp(MONEY, column="rp_desimal"), [1, 3]),
    (exp(MONEY, column="flag"), [0, 1, 3, 4, 5, 6, 7, 8, 9]),  # a boolean is no amount
    (exp(MONEY, column="teks"), [0, 2, 3, 4]),  # nor is text, even "1000"
    # registry keys, from the suite parameter
    (
        exp(
            REGISTRY,
            column="kamera",
            registry="uji_registri_kamera",
            registry_column="kode_kamera",
            value_set={"$PARAMETER": REG_PARAM},
        ),
        [2, 4, 5],
    ),
    (
        exp(
            REGISTRY,
            column="tahun",
            registry="uji_registri_tahun",
            registry_column="tahun",
            value_set=[2023, 2024],
        ),
        [2, 5],
    ),
    (
        exp(
            REGISTRY,
            column="tanggal",
            registry="uji_registri_tanggal",
            registry_column="tanggal",
            value_set=[d(2026, 1, 1)],
        ),
        [1, 4],
    ),
    (
        exp(
            REGISTRY,
            column="kamera",
            registry="uji_registri_kamera",
            registry_column="kode_kamera",
            value_set=[],
        ),
        [0, 1, 2, 4, 5],
    ),
]
TABLES = {
    "kec": KODE_TABLE,
    "desa": KODE_TABLE,
    "kab": KODE_TABLE,
    "num": KODE_TABLE,
    "nik": NIK_TABLE,
    "nik_int": NIK_TABLE,
    "kamera": REGISTRY_TABLE,
    "tanggal": REGISTRY_TABLE,
}
PARAMS_WITH_REGISTRY = {**PARAMS, REG_PARAM: ["CCTV-0001", "CCTV-0002", "CCTV-0003"]}


def _table_for(e: dict[str, Any]) -> pa.Table:
    col = e["kwargs"]["column"]
    if e["type"] == PERIOD:
        return pa.table(PERIOD_TABLE)
    if e["type"] == MONEY:
        return pa.table(MONEY_TABLE)
    if e["type"] == REGISTRY:
        return pa.table(REGISTRY_TABLE)
    return pa.table(TABLES[col])


def test_hand_cases_cover_every_custom_type() -> None:
    assert {e["type"] for e, _ in HAND_CASES} == set(rules.CUSTOM_TYPES)


@pytest.mark.parametrize(
    ("expectation", "failing"),
    HAND_CASES,
    ids=[
        f"{i}-{e['type'].removeprefix('expect_column_values_to_')}-{e['kwargs']['column']}"
        for i, (e, _) in enumerate(HAND_CASES)
    ],
)
def test_custom_rule_finds_exactly_the_failing_rows(
    expectation: dict[str, Any], failing: list[int]
) -> None:
    table = _table_for(expectation)
    assert rows_of(rules.mask(expectation, table, PARAMS_WITH_REGISTRY)) == failing
    v = validate(table, suite(expectation), PARAMS_WITH_REGISTRY)  # GX agrees, or this raises
    (r,) = v.results
    assert rows_of(r.mask) == failing and r.unexpected_count == len(failing)
    assert r.success == (not failing)


def test_all_custom_rules_in_one_gx_run() -> None:
    for tables in (KODE_TABLE, NIK_TABLE, PERIOD_TABLE, MONEY_TABLE, REGISTRY_TABLE):
        table = pa.table(tables)
        cases = [
            (e, f)
            for e, f in HAND_CASES
            if e["kwargs"]["column"] in tables and _table_for(e).schema == table.schema
        ]
        v = validate(table, suite(*(e for e, _ in cases)), PARAMS_WITH_REGISTRY)
        assert [rows_of(r.mask) for r in v.results] == [f for _, f in cases]
        assert_consistent(v, table)


def test_nulls_are_ignored_like_gx_does() -> None:
    """Missing values (None, NaN) are neither expected nor unexpected; a column of them passes."""
    table = pa.table(
        {
            "s": pa.array([None, None], S),
            "f": pa.array([NAN, None], F),
            "d": pa.array([None, None], D),
            "i": pa.array([None, None], I64),
        }
    )
    rules_ = [
        exp(KODE, column="s", level="kecamatan", parent="16.06"),
        exp(NIK, column="s"),
        exp(PERIOD, column="d", granularity="month", max_date=PERIOD_PARAM),
        exp(PERIOD, column="i", granularity="year", min_date="2015-01-01"),
        exp(MONEY, column="f"),
        exp(REGISTRY, column="s", registry="r", registry_column="k", value_set=[]),
    ]
    v = validate(table, suite(*rules_), PARAMS)
    assert v.success and [r.unexpected_count for r in v.results] == [0] * len(rules_)


def test_empty_table() -> None:
    table = pa.table({"s": pa.array([], S), "d": pa.array([], D), "f": pa.array([], F)})
    v = validate(
        table,
        suite(
            exp(KODE, column="s", level="kecamatan", parent="16.06"),
            exp(NIK, column="s"),
            exp(MONEY, column="f"),
            exp(PERIOD, column="d", granularity="day", max_date=PERIOD_PARAM),
        ),
        PARAMS,
    )
    assert v.success and v.row_count == 0


def test_missing_registry_parameter_is_named() -> None:
    e = HAND_CASES[-4][0]
    assert e["type"] == REGISTRY
    with pytest.raises(KeyError, match=REG_PARAM):
        rules.mask(e, pa.table(REGISTRY_TABLE), PARAMS)


# ----------------------------------------------------------------- 3. rules in words


@pytest.mark.parametrize(
    ("expectation", "pesan", "message"),
    [
        (
            exp(KODE, column="kode_desa", level="desa_kelurahan", parent="16.06"),
            "'kode_desa' bukan kode desa/kelurahan Kemendagri di Kabupaten Musi Banyuasin (16.06)",
            "'kode_desa' is not a Kemendagri village (desa/kelurahan) code in Kabupaten Musi Banyuasin "
            "(16.06)",
        ),
        (
            exp(NIK, column="nik"),
            "'nik' bukan NIK yang sah: harus 16 angka, dengan kode wilayah, tanggal lahir (perempuan "
            "ditambah 40) dan bulan lahir yang benar",
            "'nik' is not a valid NIK: it must be 16 digits with a real region code, day of birth "
            "(plus 40 for women) and month of birth",
        ),
        (
            exp(
                PERIOD,
                column="periode",
                granularity="month",
                min_date="2015-01-01",
                max_date=PERIOD_PARAM,
            ),
            "'periode' harus tanggal 1 suatu bulan, antara 2015-01-01 dan 2026-11-01",
            "'periode' must be the first day of a month, between 2015-01-01 and 2026-11-01",
        ),
        (
            exp(
                PERIOD,
                column="tahun",
                granularity="year",
                min_date="2015-01-01",
                max_date=PERIOD_PARAM,
            ),
            "'tahun' harus sebuah tahun (mis. 2025), antara 2015 dan 2026",
            "'tahun' must be a year (e.g. 2025), between 2015 and 2026",
        ),
        (
            exp(PERIOD, column="tanggal", granularity="day", max_date=PERIOD_PARAM),
            "'tanggal' harus tanggal yang sah, tidak setelah 2026-11-01",
            "'tanggal' must be a valid date, not after 2026-11-01",
        ),
        (
            exp(MONEY, column="nilai_rp"),
            "'nilai_rp' harus jumlah rupiah dari 0 sampai 1.000.000.000.000.000",
            "'nilai_rp' must be a rupiah amount from 0 to 1,000,000,000,000,000",
        ),
        (
            exp(
                REGISTRY,
                column="kode_kamera",
                registry="muba_registri_kamera_cctv",
                registry_column="kode_kamera",
                value_set={"$PARAMETER": "registry__muba_registri_kamera_cctv__kode_kamera"},
            ),
            "'kode_kamera' tidak terdaftar di muba_registri_kamera_cctv (kolom kode_kamera)",
            "'kode_kamera' is not registered in muba_registri_kamera_cctv (column kode_kamera)",
        ),
    ],
)
def test_custom_rules_in_both_languages(
    expectation: dict[str, Any], pesan: str, message: str
) -> None:
    # the registry's keys are not needed to say what the rule is
    assert rules.describe(expectation, PARAMS) == pesan
    assert rules.describe(expectation, PARAMS, "en") == message


@pytest.mark.parametrize("ds_id", IDS)
def test_shipped_suites_use_the_custom_rules_with_both_messages(ds_id: str) -> None:
    ds = CATALOG.datasets[ds_id]
    the_suite = CATALOG.suites[ds_id]
    by_col = {(e["type"], e["kwargs"].get("column")): e for e in the_suite["expectations"]}
    types = {e["type"] for e in the_suite["expectations"]}
    assert "expect_column_values_to_be_in_set" not in types or all(
        e["kwargs"]["column"] != (ds.region.column if ds.region else None)
        for e in the_suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set"
    )
    if ds.region:
        kode = by_col[(KODE, ds.region.column)]
        assert kode["kwargs"] == {
            "column": ds.region.column,
            "level": ds.region.level,
            "parent": ds.regency,
        }
    period = by_col[(PERIOD, ds.period.column)]
    assert period["kwargs"]["granularity"] == ds.period.granularity
    assert period["kwargs"]["max_date"] == {"$PARAMETER": "run_date"}
    for c in ds.columns:
        if c.generate.get("kind") == "nik":
            assert (NIK, c.name) in by_col
        if c.unit == "Rupiah":
            assert (MONEY, c.name) in by_col
    assert "expect_column_values_to_match_regex" not in {
        e["type"]
        for e in the_suite["expectations"]
        if (ds.column(e["kwargs"].get("column") or "") or ds.columns[0]).generate.get("kind")
        == "nik"
    }
    for e in the_suite["expectations"]:
        if e["type"] in rules.CUSTOM_TYPES:
            meta = e["meta"]
            assert meta["pesan"] and meta["message"] and meta["pesan"] != meta["message"]
            assert rules.describe(e, PARAMS) == meta["pesan"]
            assert rules.describe(e, PARAMS, "en") == meta["message"]


# ----------------------------------------------------------------- 4. every shipped dataset


@pytest.mark.parametrize("ds_id", IDS)
def test_shipped_suites_agree_and_count_each_defect_exactly(ds_id: str) -> None:
    """Generated defects each break exactly one custom rule: their counts must match."""
    ds = CATALOG.datasets[ds_id]
    gf = generate_dataset(ds, CATALOG, rows=80, fmt="csv", defect_rate=0.5, seed=11, as_of=AS_OF)
    table = parse_file(gf.data, gf.filename, ds).table
    v = validate(table, CATALOG.suites[ds_id], PARAMS)  # raises RulesDisagree on any mismatch
    assert_consistent(v, table)
    counts: dict[str, int] = {}
    for r in v.results:
        counts[r.type] = counts.get(r.type, 0) + r.unexpected_count
    if ds.region:
        assert counts[KODE] == gf.defects.get("unknown_region", 0)
    assert counts[PERIOD] == gf.defects.get("future_date", 0)
    assert counts.get(NIK, 0) == gf.defects.get("malformed_nik", 0)
    assert gf.defects, "the generator injected nothing: pick another seed"


# ----------------------------------------------------------------- 5. catalog validate


def _suite_problems(tmp_path: Path, ds: Dataset, *expectations: dict[str, Any]) -> list[str]:
    (tmp_path / f"{ds.id}.json").write_text(json.dumps(suite(*expectations)), encoding="utf-8")
    return check_suite(ds, tmp_path)


@pytest.mark.parametrize(
    ("expectation", "problem"),
    [
        (exp(KODE, column="kode_kecamatan", level="desa", parent="16.06"), "level: 'desa'"),
        (
            exp(KODE, column="kode_kecamatan", level="desa_kelurahan", parent="16.06"),
            "holds kecamatan codes",
        ),
        (
            exp(KODE, column="kode_kecamatan", level="kecamatan", parent="16.03"),
            "under the dataset's area 16.06",
        ),
        (exp(KODE, column="kode_kecamatan", level="kecamatan"), "under the dataset's area"),
        (
            exp(KODE, column="kode_kecamatan", level="kecamatan", parent="16.06.01"),
            "is a kecamatan, not above kecamatan",
        ),
        (
            exp(KODE, column="kode_kecamatan", level="kecamatan", parent="99.99"),
            "is not a current Kemendagri code Serasan ships",
        ),
        (
            exp(KODE, column="jam_online", level="kecamatan", parent="16.06"),
            "of type number; this rule needs string",
        ),
        (exp(KODE, column="kode_kecamatan", parent="16.06"), "missing kwarg 'level'"),
        (exp(NIK, column="jam_online"), "needs string"),
        (exp(NIK, column="lokasi", check_kecamatan="ya"), "check_kecamatan"),
        (exp(NIK, column="lokasi", mostly=0.9), "mostly"),
        (exp(PERIOD, column="periode", granularity="day"), "period is per month"),
        (exp(PERIOD, column="periode", granularity="monthly"), "granularity: 'monthly'"),
        (exp(PERIOD, column="periode", granularity="month", max_date="kemarin"), "max_date"),
        (
            exp(
                PERIOD,
                column="periode",
                granularity="month",
                min_date="2026-01-01",
                max_date="2025-01-01",
            ),
            "min_date is after max_date",
        ),
        (
            exp(PERIOD, column="periode", granularity="month", cadence="monthly"),
            "unknown kwarg 'cadence'",
        ),
        (exp(MONEY, column="lokasi"), "needs integer or number"),
        (exp(MONEY, column="jam_online", max_value=-5), "max_value"),
        (
            exp(
                REGISTRY,
                column="kode_kamera",
                registry="muba_registri_kamera_cctv",
                registry_column="kode_kamera",
                value_set={"$PARAMETER": "registri_kamera"},
            ),
            "registry__muba_registri_kamera_cctv__kode_kamera",
        ),
        (
            exp(
                REGISTRY,
                column="kode_kamera",
                registry="muba_cctv_kita",
                registry_column="kode_kamera",
                value_set={"$PARAMETER": "registry__muba_cctv_kita__kode_kamera"},
            ),
            "its own registry",
        ),
        (
            exp(
                REGISTRY,
                column="kode_kamera",
                registry="Registri Kamera",
                registry_column="kode_kamera",
                value_set=[],
            ),
            "expected a dataset id",
        ),
    ],
)
def test_check_suite_reports_mistakes_in_custom_rules(
    tmp_path: Path, expectation: dict[str, Any], problem: str
) -> None:
    problems = _suite_problems(tmp_path, CATALOG.datasets["muba_cctv_kita"], expectation)
    assert problems and any(problem in p for p in problems), problems
    assert all("expectations[0]" in p for p in problems)


def test_check_suite_accepts_well_formed_custom_rules(tmp_path: Path) -> None:
    ds = CATALOG.datasets["muba_kelompok_tani_karet"]
    assert (
        _suite_problems(
            tmp_path,
            ds,
            exp(KODE, column="kode_desa", level="desa_kelurahan", parent="16.06"),
            exp(KODE, column="kode_desa", level="desa_kelurahan", parent="16.06.01"),
            exp(NIK, column="nik_ketua", check_kecamatan=False),
            exp(PERIOD, column="tahun", granularity="year", min_date=2015, max_date=PERIOD_PARAM),
            exp(MONEY, column="produksi_kg", max_value=1e9),
            exp(
                REGISTRY,
                column="kode_kelompok",
                registry="muba_registri_kelompok_tani",
                registry_column="kode_kelompok",
                value_set={"$PARAMETER": "registry__muba_registri_kelompok_tani__kode_kelompok"},
            ),
        )
        == []
    )
