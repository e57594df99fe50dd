"""The catalog's key and region column are checked on every load, whatever the suite says.

An empty suite no longer lets a broken key or wrong codes through; a suite that already makes
a check as strictly runs alone (the shipped ones: nothing is added), and a looser one is
completed without reporting a row twice for the same reason.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from serasan.common.enums import LoadStatus, QualityPolicy
from serasan.config.catalog import Catalog, Dataset
from serasan.parse.reader import ROW_COL, ParseResult
from serasan.quality import rules
from serasan.quality.assess import assess
from serasan.quality.engine import always_on, validate

DS = "muba_bank_sampah"  # key [periode, kode_bank_sampah], region kode_desa (desa, 16.06)
RUN = dt.date(2026, 11, 1)
EMPTY: dict[str, Any] = {"name": DS, "expectations": []}


def _desa(catalog: Catalog) -> list[str]:
    return sorted(rules.kode_wilayah("desa_kelurahan", "16.06"))


def _batch(catalog: Catalog, rows: list[dict[str, Any]]) -> ParseResult:
    ds = catalog.dataset(DS)
    base = {
        "periode": dt.date(2026, 9, 1),
        "nasabah_aktif": 20,
        "sampah_terkelola_kg": 150.0,
        "nilai_tabungan_rp": 300000.0,
    }
    full = [{**base, **r, ROW_COL: i + 2} for i, r in enumerate(rows)]
    schema = pa.schema(
        [
            ("periode", pa.date32()),
            ("kode_bank_sampah", pa.string()),
            ("kode_desa", pa.string()),
            ("nasabah_aktif", pa.int64()),
            ("sampah_terkelola_kg", pa.float64()),
            ("nilai_tabungan_rp", pa.float64()),
            (ROW_COL, pa.int32()),
        ]
    )
    assert [f.name for f in schema][:-1] == ds.column_names
    table = pa.Table.from_pylist(full, schema=schema)
    return ParseResult(table=table, rejects=[], rows_in=len(rows), header_row=1)


def _rows(catalog: Catalog) -> list[dict[str, Any]]:
    desa = _desa(catalog)
    elsewhere = min(rules.kode_wilayah("desa_kelurahan", "16.03"))  # Muara Enim's
    return [
        {"kode_bank_sampah": "BS-1", "kode_desa": desa[0]},  # 2: fine
        {"kode_bank_sampah": "BS-2", "kode_desa": desa[1]},  # 3: duplicate key with 4
        {"kode_bank_sampah": "BS-2", "kode_desa": desa[2]},  # 4: duplicate key with 3
        {"kode_bank_sampah": None, "kode_desa": desa[3]},  # 5: empty key
        {"kode_bank_sampah": None, "kode_desa": desa[4]},  # 6: empty key, same period as 5
        {"kode_bank_sampah": "BS-7", "kode_desa": elsewhere},  # 7: another regency's
        {"kode_bank_sampah": "BS-8", "kode_desa": "99.99.99.9999"},  # 8: no code at all
        {"kode_bank_sampah": "BS-9", "kode_desa": desa[5]},  # 9: fine
    ]


def _reasons(a: Any) -> dict[int, list[str]]:
    return {q["baris"]: q["alasan"].split("; ") for q in a.quarantined}


def test_an_empty_suite_still_rejects_a_broken_key_and_wrong_codes(catalog: Catalog) -> None:
    ds = catalog.dataset(DS)
    a = assess(_batch(catalog, _rows(catalog)), ds, EMPTY, RUN, lang="en")
    assert a.status == LoadStatus.QUARANTINED
    reasons = _reasons(a)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    dup = "duplicate key periode, kode_bank_sampah: the combination is in another row"
    empty = "column 'Kode Bank Sampah' (kode_bank_sampah) is required and must not be empty"
    region = (
        "column 'Kode Desa' (kode_desa) is not a Kemendagri village (desa/kelurahan) code of "
        "Kabupaten Musi Banyuasin"
    )
    assert reasons[3] == reasons[4] == [dup]
    # an empty key is reported once, as empty, though the two rows share (periode, empty)
    assert reasons[5] == reasons[6] == [empty]
    assert reasons[7] == reasons[8] == [region]
    assert a.keep.column(ROW_COL).to_pylist() == [2, 9]
    assert dict(a.problems) == {dup: 2, empty: 2, region: 2}
    # the always-on checks are recorded after the suite's expectations, marked as such
    assert [r.seq for r in a.validation.results] == [0, 1, 2, 3]  # 2 not null, key, region
    assert all(r.always_on and r.expectation["meta"]["always_on"] for r in a.validation.results)
    assert a.validation.gx_result is None  # GX had nothing to run


def test_the_shipped_suites_already_make_every_always_on_check(catalog: Catalog) -> None:
    for ds in catalog.datasets.values():
        assert always_on(ds, catalog.suites[ds.id]) == [], ds.id
        made = {e["type"] for e in always_on(ds, EMPTY)}
        assert "expect_column_values_to_not_be_null" in made, ds.id
        # the region check wherever there is a region column (reviews of a programme have none)
        assert (rules.KODE_WILAYAH in made) == (ds.region is not None), ds.id


def test_a_check_the_suite_makes_is_not_made_twice(catalog: Catalog) -> None:
    ds = catalog.dataset(DS)
    suite = copy.deepcopy(catalog.suites[DS])
    a = assess(_batch(catalog, _rows(catalog)), ds, suite, RUN, lang="en")
    assert not any(r.always_on for r in a.validation.results)
    for reasons in _reasons(a).values():
        assert len(reasons) == len(set(reasons))


@pytest.mark.parametrize("parent", [None, "16"])
def test_a_looser_region_rule_is_completed_without_double_reports(
    catalog: Catalog, parent: str | None
) -> None:
    """The suite checks codes anywhere (or in the province): the always-on check adds the
    regency, and reports only the rows the suite's rule let through."""
    ds = catalog.dataset(DS)
    loose = {
        "type": rules.KODE_WILAYAH,
        "kwargs": {"column": "kode_desa", "level": "desa_kelurahan"}
        | ({"parent": parent} if parent else {}),
    }
    suite = {"name": DS, "expectations": [loose]}
    batch = _batch(catalog, _rows(catalog))
    v = validate(batch.table, suite, {"run_date": RUN}, ds)
    kinds = [(r.type, r.always_on) for r in v.results]
    assert (rules.KODE_WILAYAH, True) in kinds and (rules.KODE_WILAYAH, False) in kinds
    mine = next(r for r in v.results if r.always_on and r.type == rules.KODE_WILAYAH)
    theirs = next(r for r in v.results if not r.always_on)
    rows = batch.table.column(ROW_COL).to_pylist()
    assert [rows[i] for i in theirs.shown.nonzero()[0]] == [8]  # no code at all: the suite's
    assert [rows[i] for i in mine.shown.nonzero()[0]] == [7]  # real, but another regency's
    assert mine.mask.sum() == 2  # it fails both rows; row 8 is reported by the suite alone


def test_warn_still_refuses_rows_the_fact_table_cannot_hold(catalog: Catalog) -> None:
    ds: Dataset = catalog.dataset(DS).model_copy(update={"quality_policy": QualityPolicy.WARN})
    a = assess(_batch(catalog, _rows(catalog)), ds, EMPTY, RUN, lang="en")
    assert a.status == LoadStatus.WARNED
    # duplicate and empty keys are refused; wrong codes load under `warn`, reported
    assert a.keep.column(ROW_COL).to_pylist() == [2, 7, 8, 9]
