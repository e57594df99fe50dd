"""`source.sheet`: the workbook sheet that holds the data, when it is not the first.

- The real Kabupaten Bandung export (../shared/samples/real/kabbandung-satudata), whose first
  sheet is its Metadata and whose rows are on 'Series Row': read under the setting, by name or
  by position, it gives the 186 rows and values of its CSV twin. Without it the file is refused,
  the message naming the sheets, the one with the header and the setting.
- A small generated workbook of the same shape (metadata first, data on the second sheet).
- `serasan onboard` declaring the sheet it read, and `catalog validate` checking the setting.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.catalog import Catalog, Dataset, load_catalog
from serasan.parse.reader import ParseError, parse_file
from serasan.quality.onboard import draft
from tests.unit.parse.test_real_readings import BANDUNG, _bandung, _dataset, _read

SHEETS = "'Metadata', 'Series Column', 'Series Row'"  # the Bandung workbook's, in tab order


def _on_sheet(ds: Dataset, sheet: str | int | None) -> Dataset:
    return ds.model_copy(update={"source": ds.source.model_copy(update={"sheet": sheet})})


def _bandung_file(shared_dir: Path, ext: str) -> bytes:
    return (shared_dir / BANDUNG / f"penduduk3204.{ext}").read_bytes()


# ---------------------------------------------------------------- the real Bandung workbook


@pytest.mark.parametrize("sheet", ["Series Row", 3])
def test_bandung_declared_sheet_reads_the_rows_and_values_of_the_csv(
    shared_dir: Path, sheet: str | int
) -> None:
    ds = _on_sheet(_bandung(True), sheet)
    xlsx = _read(_bandung_file(shared_dir, "xlsx"), "penduduk3204.xlsx", ds)
    # the CSV has no sheets: the same dataset, setting and all, reads it as it is
    csv = _read(_bandung_file(shared_dir, "csv"), "penduduk3204.csv", ds)
    assert (xlsx.rows_in, xlsx.table.num_rows, xlsx.rejects) == (186, 186, [])
    assert (csv.rows_in, csv.table.num_rows, csv.rejects) == (186, 186, [])
    # every row, value and row number alike: the sheet's row 2 is the CSV's line 2
    assert xlsx.table.to_pylist() == csv.table.to_pylist()
    rows = {r["_row"]: r for r in xlsx.table.to_pylist()}
    assert rows[4] == {
        "kode_wilayah": "32. 04. 07",
        "wilayah": "CILENGKRANG",
        "tahun": 2018,
        "jumlah_penduduk": 50_360,  # 50.36 in both files
        "_row": 4,
    }
    assert xlsx.header_row == 1 and xlsx.notes == csv.notes


def test_bandung_without_the_setting_is_refused_naming_the_sheets(shared_dir: Path) -> None:
    with pytest.raises(ParseError) as err:
        _read(_bandung_file(shared_dir, "xlsx"), "penduduk3204.xlsx", _bandung(True))
    msg = str(err.value)
    assert msg.startswith("penduduk3204.xlsx: judul kolom tidak ada di sheet 'Metadata'")
    assert "melainkan di sheet 'Series Row'" in msg
    assert (
        "the header is not on sheet 'Metadata', the first sheet, but on sheet 'Series Row', of "
        f"the workbook's sheets {SHEETS}; the sheet is never guessed: the dataset's "
        'source.sheet decides, e.g. `source: {kind: spreadsheet, sheet: "Series Row"}`'
    ) in msg
    # 'Series Column' has a Tahun cell, but not the required Kode Wilayah: not named
    assert "'Series Column' and" not in msg and "and 'Series Column'" not in msg


@pytest.mark.parametrize(
    ("sheet", "expected"),
    [
        (
            "Data",
            f"the workbook has no sheet 'Data', as source.sheet declares; its sheets are {SHEETS})",
        ),
        (
            "series row",
            f"its sheets are {SHEETS}; perhaps 'Series Row', written otherwise)",
        ),
        (
            4,
            f"no sheet 4, as source.sheet declares: the workbook has 3 sheet(s), {SHEETS})",
        ),
    ],
)
def test_bandung_declared_sheet_that_does_not_exist_names_the_sheets(
    shared_dir: Path, sheet: str | int, expected: str
) -> None:
    ds = _on_sheet(_bandung(True), sheet)
    with pytest.raises(ParseError) as err:
        _read(_bandung_file(shared_dir, "xlsx"), "penduduk3204.xlsx", ds)
    assert str(err.value).startswith("penduduk3204.xlsx: tidak ada sheet")
    assert expected in str(err.value)


def test_bandung_declared_sheet_without_the_header_names_the_one_with_it(
    shared_dir: Path,
) -> None:
    ds = _on_sheet(_bandung(True), "Metadata")
    with pytest.raises(ParseError, match="not on sheet 'Metadata', as source.sheet declares, "):
        _read(_bandung_file(shared_dir, "xlsx"), "penduduk3204.xlsx", ds)


# ---------------------------------------------------------------- a generated workbook

COLUMNS: list[dict[str, Any]] = [
    {
        "name": "kecamatan",
        "type": "string",
        "label": "Kecamatan",
        "nullable": False,
        "description": "kecamatan",
    },
    {"name": "tahun", "type": "integer", "label": "Tahun", "nullable": False, "description": "t"},
    {"name": "jumlah", "type": "integer", "label": "Jumlah Penduduk", "description": "orang"},
]
DATA = [
    ("Cileunyi", 2024, "167.228"),
    ("Cimenyan", 2024, 106373),
    ("Cilengkrang", 2024, "50.360"),
    ("Bojongsoang", 2024, 132_000),
    ("Margahayu", 2024, "118.040"),
    ("Jumlah", None, 673_001),
]
EXPECTED = [
    {"kecamatan": "Cileunyi", "tahun": 2024, "jumlah": 167_228, "_row": 3},
    {"kecamatan": "Cimenyan", "tahun": 2024, "jumlah": 106_373, "_row": 4},
    {"kecamatan": "Cilengkrang", "tahun": 2024, "jumlah": 50_360, "_row": 5},
    {"kecamatan": "Bojongsoang", "tahun": 2024, "jumlah": 132_000, "_row": 6},
    {"kecamatan": "Margahayu", "tahun": 2024, "jumlah": 118_040, "_row": 7},
]


def _workbook(data_title: str = "Tabel", metadata: bool = True, data_first: bool = False) -> bytes:
    """A metadata sheet (merged title, key: value lines, a 'Tahun' among them) and a data sheet
    (a title row, the header on row 2, five kecamatan and a Jumlah row)."""
    wb = openpyxl.Workbook()
    meta = wb.active
    meta.title = "Metadata"
    meta["A1"] = "Metadata Dataset Jumlah Penduduk"
    meta.merge_cells("A1:D1")
    for i, (key, value) in enumerate(
        [
            ("Judul", "Jumlah Penduduk per Kecamatan"),
            ("Produsen Data", "Disdukcapil"),
            ("Tahun", 2024),
            ("Satuan", "Jiwa"),
        ],
        3,
    ):
        meta.cell(i, 1, key)
        meta.cell(i, 2, value)
    if not metadata:
        wb.remove(meta)
    data = wb.create_sheet(data_title, 0 if data_first else None)
    data["A1"] = "JUMLAH PENDUDUK MENURUT KECAMATAN"
    data.append(["Kecamatan", "Tahun", "Jumlah Penduduk"])
    for row in DATA:
        data.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _small(sheet: str | int | None = None) -> Dataset:
    source: dict[str, Any] = {"kind": "spreadsheet"}
    if sheet is not None:
        source["sheet"] = sheet
    return _dataset(
        "bandung_penduduk",
        COLUMNS,
        primary_key=["tahun", "kecamatan"],
        period={"column": "tahun", "granularity": "year"},
        source=source,
    )


@pytest.mark.parametrize("sheet", ["Tabel", 2])
def test_generated_workbook_reads_the_declared_second_sheet(sheet: str | int) -> None:
    result = _read(_workbook(), "penduduk.xlsx", _small(sheet))
    assert result.table.to_pylist() == EXPECTED
    assert [(r.row, r.kind) for r in result.rejects] == [(8, "summary")]
    assert result.header_row == 2


def test_generated_workbook_without_the_setting_is_refused_naming_the_sheets() -> None:
    with pytest.raises(ParseError) as err:
        parse_file(_workbook(), "penduduk.xlsx", _small())
    assert str(err.value) == (
        "penduduk.xlsx: judul kolom tidak ada di sheet 'Metadata' (sheet pertama) melainkan di "
        "sheet 'Tabel'; sheet tidak pernah ditebak: nyatakan di katalog, misalnya `source: "
        "{kind: spreadsheet, sheet: \"Tabel\"}` (the header is not on sheet 'Metadata', the "
        "first sheet, but on sheet 'Tabel', of the workbook's sheets 'Metadata', 'Tabel'; the "
        "sheet is never guessed: the dataset's source.sheet decides, e.g. `source: {kind: "
        'spreadsheet, sheet: "Tabel"}`)'
    )


def test_without_the_setting_the_well_defined_choices_stay() -> None:
    # the first sheet holds the header: read, whatever the other sheets hold
    assert _read(_workbook(data_first=True), "p.xlsx", _small()).table.to_pylist() == EXPECTED
    # a sheet named Data is read when none is declared, as before
    assert _read(_workbook("Data"), "p.xlsx", _small()).table.to_pylist() == EXPECTED
    # one sheet: it is the data
    assert _read(_workbook(metadata=False), "p.xlsx", _small()).table.num_rows == 5


def test_no_sheet_with_the_header_keeps_the_missing_columns_and_names_the_sheets() -> None:
    area = {"name": "luas", "type": "number", "label": "Luas Wilayah", "nullable": False}
    ds = _dataset(
        "bandung_luas",
        [*COLUMNS[:2], {**area, "description": "km2"}],
        primary_key=["tahun", "kecamatan"],
        period={"column": "tahun", "granularity": "year"},
    )
    with pytest.raises(ParseError) as err:
        parse_file(_workbook(), "penduduk.xlsx", ds)
    msg = str(err.value)
    assert "header row not found or incomplete" in msg
    assert msg.endswith(
        "; sheet 'Metadata' (the first sheet) was read, of 'Metadata', 'Tabel', and no other "
        "sheet holds the header either"
    )


# ---------------------------------------------------------------- onboard


@pytest.fixture(scope="module")
def structure() -> Catalog:
    return load_catalog()


def _comments(text: str) -> str:
    """A draft's comment lines as one text, to read a comment wrapped over several lines."""
    return " ".join(line.removeprefix("# ") for line in text.splitlines() if line.startswith("#"))


def _draft(data: bytes, name: str, structure: Catalog) -> Any:
    return draft(
        data, name, structure, "muba_penduduk", "musibanyuasin", "dlh", "society", check=True
    )


def test_onboard_declares_the_sheet_it_read_and_says_why(
    shared_dir: Path, structure: Catalog
) -> None:
    d = _draft(_bandung_file(shared_dir, "xlsx"), "penduduk3204.xlsx", structure)
    assert d.dataset.source.sheet == "Series Row"
    assert len(d.sample.rows) == 186
    assert 'source: {kind: spreadsheet, sheet: "Series Row"}' in d.yaml_text
    assert (
        "GUESS sheet: the workbook's sheets are 'Metadata' (7 data rows), 'Series Column' (no "
        "header), 'Series Row' (186 data rows); the data is taken from 'Series Row', the one "
        "with the most data rows. The parser never guesses a sheet: without this setting it "
        "would read the first"
    ) in _comments(d.yaml_text)
    # what `serasan check` gives with the draft: every row, from the declared sheet
    assert d.check is not None and d.check["rows_valid"] == 186


def test_onboard_declares_a_data_sheet_that_is_not_first_and_nothing_otherwise(
    structure: Catalog,
) -> None:
    d = _draft(_workbook("Data"), "penduduk.xlsx", structure)
    assert d.dataset.source.sheet == "Data"
    assert 'source: {kind: spreadsheet, sheet: "Data"}' in d.yaml_text
    assert (
        "sheet: the workbook's sheets are 'Metadata', 'Data'; the data is on 'Data', which the "
        "parser reads when no sheet is declared"
    ) in _comments(d.yaml_text)
    d = _draft(_workbook(), "penduduk.xlsx", structure)
    assert d.dataset.source.sheet == "Tabel" and d.check["rows_valid"] == 5
    for data in (_workbook(data_first=True), _workbook(metadata=False)):
        d = _draft(data, "penduduk.xlsx", structure)
        assert d.dataset.source.sheet is None
        assert "source: {kind: spreadsheet}" in d.yaml_text


# ---------------------------------------------------------------- catalog validate

SPREADSHEET = "muaraenim_produksi_karet"
API = "muaraenim_pengaduan_masyarakat"


def _validate(
    tmp_path: Path,
    ds_id: str,
    mutate: Callable[[dict[str, Any]], None],
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    cat, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(CATALOG_DIR, cat)
    shutil.copytree(EXPECTATIONS_DIR, exp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = cat / "datasets" / f"{ds_id}.yaml"
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    try:
        code = main(["--catalog", str(cat), "--expectations", str(exp), "catalog", "validate"])
    except SystemExit as exc:  # a catalog that does not load exits at once
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def _sheet(value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["source"].update(sheet=value)


@pytest.mark.parametrize(
    ("ds_id", "mutate", "expected"),
    [
        (
            API,
            _sheet("Data"),
            "source.sheet: only a spreadsheet source has sheets; source.kind api is pulled as "
            "records (got 'Data')",
        ),
        (SPREADSHEET, _sheet(0), "source.sheet: a sheet's position counts from 1"),
        (SPREADSHEET, _sheet(" "), "source.sheet: give the sheet's name as the workbook's tab"),
        (SPREADSHEET, _sheet(True), "source.sheet"),
        (SPREADSHEET, _sheet(1.5), "source.sheet"),
        (
            SPREADSHEET,
            lambda d: d["source"].setdefault("params", {}).update(sheet="Data"),
            "source.params.sheet: the sheet is declared on the source itself: source: "
            "{kind: spreadsheet, sheet: 'Data'}",
        ),
    ],
)
def test_catalog_validate_refuses_a_wrong_sheet_setting(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    ds_id: str,
    mutate: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    code, out = _validate(tmp_path, ds_id, mutate, capsys)
    assert code == 1
    assert f"{ds_id}.yaml" in out and expected in out, out


@pytest.mark.parametrize("value", ["Series Row", 2])
def test_catalog_validate_accepts_a_sheet_name_or_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str | int
) -> None:
    code, out = _validate(tmp_path, SPREADSHEET, _sheet(value), capsys)
    assert code == 0, out
