"""The XLSX template: what the parser reads back, what the Petunjuk says, the drop-down lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet

from serasan.config.catalog import Catalog
from serasan.ingest.template import region_codes, write_template
from serasan.lake.keys import inbox_prefix
from serasan.parse.reader import parse_file
from serasan.quality import rules
from serasan.quality.engine import suite_params
from serasan.quality.suites import load_validated_catalog

AS_OF = dt.date(2026, 11, 1)
DATASETS = sorted(load_validated_catalog().datasets)


def _validations(ws: Worksheet) -> dict[int, str]:
    """Column index -> formula of the list validation covering that column's data rows."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        for rng in dv.sqref.ranges:
            assert rng.min_row == 5 and rng.max_row >= 1000 and rng.min_col == rng.max_col
            out[rng.min_col] = dv.formula1
    return out


def _listed(wb, formula: str) -> list[str]:
    sheet, cells = formula.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    first, last = cells.replace("$", "").split(":")
    col = column_index_from_string("".join(ch for ch in first if ch.isalpha()))
    rows = range(
        int(first.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
        int(last.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) + 1,
    )
    return [ws.cell(r, col).value for r in rows]


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_template_parses_into_one_valid_row(
    catalog: Catalog, dataset_id: str, tmp_path: Path
) -> None:
    ds = catalog.dataset(dataset_id)
    path = write_template(catalog, ds, tmp_path / "sub" / f"{ds.id}.xlsx", as_of=AS_OF)
    assert path == tmp_path / "sub" / f"{ds.id}.xlsx"
    result = parse_file(path.read_bytes(), path.name, ds)
    assert result.rejects == [] and result.table.num_rows == 1 and result.header_row == 4
    # the example row is valid, not just readable: it passes every rule of the dataset's suite
    params = suite_params(AS_OF)
    for exp in catalog.suites[ds.id]["expectations"]:
        assert not rules.mask(exp, result.table, params).any(), rules.describe(exp, params)
    row = result.table.to_pylist()[0]
    if ds.region:
        assert row[ds.region.column] in region_codes(ds)


@pytest.mark.parametrize("dataset_id", DATASETS)
def test_petunjuk_and_drop_downs(catalog: Catalog, dataset_id: str, tmp_path: Path) -> None:
    ds = catalog.dataset(dataset_id)
    wb = load_workbook(write_template(catalog, ds, tmp_path / "t.xlsx", as_of=AS_OF))
    assert wb.sheetnames[:2] == ["Data", "Petunjuk"]
    guide = [str(v) for r in wb["Petunjuk"].iter_rows(values_only=True) for v in r if v]
    for c in ds.columns:
        row = next(r for r in wb["Petunjuk"].iter_rows(values_only=True) if r[0] == c.header)
        assert row[1] in ("teks", "bilangan bulat", "angka", "tanggal", "ya/tidak")
        assert row[4] == ("boleh kosong" if c.nullable else "wajib")
        assert (row[3] or None) == c.unit and c.description in row[6]
    assert any(inbox_prefix(catalog, ds) in line for line in guide)
    data = wb["Data"]
    assert [data.cell(4, j).value for j in range(1, len(ds.columns) + 1)] == [
        c.header for c in ds.columns
    ]
    lists = _validations(data)
    for j, c in enumerate(ds.columns, 1):
        if c.allowed:
            assert _listed(wb, lists[j]) == c.allowed
    if ds.region:
        j = ds.column_names.index(ds.region.column) + 1
        assert _listed(wb, lists[j]) == region_codes(ds)
    assert set(lists) == {
        j
        for j, c in enumerate(ds.columns, 1)
        if c.allowed or (ds.region and c.name == ds.region.column)
    }
    for ws in wb.worksheets:  # plain values only: no formula anywhere
        for r in ws.iter_rows():
            for cell in r:
                assert cell.data_type in ("s", "n"), (ws.title, cell.coordinate, cell.value)
                assert not (isinstance(cell.value, str) and cell.value.startswith("="))


def test_text_columns_are_formatted_as_text(catalog: Catalog, tmp_path: Path) -> None:
    """So Excel keeps a typed NIK as 16 digits and a typed 05/11/2026 as the OPD meant it."""
    ds = catalog.dataset("muaraenim_penerima_bansos")
    ws = load_workbook(write_template(catalog, ds, tmp_path / "t.xlsx", as_of=AS_OF))["Data"]
    nik = ds.column_names.index("nik") + 1
    assert ws.cell(5, nik).value == "1603011208850001"
    assert ws.cell(5, nik).number_format == "@"
    assert ws.cell(5, 1).value == "Oktober 2026"  # the last complete month before AS_OF


def test_example_period_follows_as_of(catalog: Catalog, tmp_path: Path) -> None:
    ds = catalog.dataset("muaraenim_produksi_karet")  # yearly, integer period
    path = write_template(catalog, ds, tmp_path / "t.xlsx", as_of=dt.date(2027, 3, 9))
    assert parse_file(path.read_bytes(), path.name, ds).table.column("tahun").to_pylist() == [2026]
