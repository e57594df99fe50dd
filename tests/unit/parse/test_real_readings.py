"""Real files from ../shared/samples/real/ (see its SOURCES.md), read as the catalog declares.

- The Kabupaten Bandung population export, whose thousands dot became a decimal point on the
  way (167,228 people written 167.228, 50,360 written 50.36): read right only under
  `thousands_dot_lost: true`, and otherwise refused naming both readings.
- The Sumatera Selatan Satu Data workbook that writes zero as `-` in one block: `-` read as
  empty or as zero as `dash` declares, with the note saying which; its period (no year column)
  from the catalog.

Expected values were read by hand from the files (a text editor for the CSV, a spreadsheet for
the workbooks) and are written out here.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from serasan.config.catalog import Dataset
from serasan.parse.reader import ParseResult, parse_file

BANDUNG = "samples/real/kabbandung-satudata"
SUMSEL = (
    "samples/real/sumsel-satudata-xlsx/jumlah-kasus-kekerasan-menurut-kabupatenkota-dan-"
    "bentuk-kekerasan-di-provinsi-sumatera-selatan-.xlsx"
)
SATU_DATA = {
    k: "x"
    for k in (
        "produsen_data",
        "walidata",
        "frekuensi",
        "satuan",
        "level_penyajian",
        "lisensi",
        "kontak",
    )
}
# The Bandung workbook's own "Series Column" sheet: the regency's population per year, written
# with intact thousands dots ('3.535.992'). The kecamatan rows must add up to these.
BANDUNG_TOTALS = {
    2018: 3_535_992,
    2019: 3_561_679,
    2020: 3_583_056,
    2021: 3_633_437,
    2022: 3_708_344,
    2023: 3_449_868,
}
# (line in the CSV = row in the workbook, kecamatan, year, as written, people)
BANDUNG_BY_HAND = [
    (2, "CILEUNYI", 2018, "167.228", 167_228),
    (4, "CILENGKRANG", 2018, "50.36", 50_360),
    (6, "MARGAHAYU", 2018, "118.04", 118_040),
    (187, "KUTAWARINGIN", 2023, "110.095", 110_095),
]


def _dataset(ds_id: str, columns: list[dict[str, Any]], **extra: Any) -> Dataset:
    return Dataset.model_validate(
        {
            "id": ds_id,
            "regency": "32.04",
            "opd": "disdukcapil",
            "pillar": "society",
            "title": "t",
            "description": "d",
            "source": {"kind": "spreadsheet"},
            "cadence": "yearly",
            "columns": columns,
            "quality_policy": "quarantine",
            "load_mode": "upsert",
            "satu_data": SATU_DATA,
            **extra,
        }
    )


def _bandung(lost: bool | None) -> Dataset:
    count: dict[str, Any] = {
        "name": "jumlah_penduduk",
        "type": "integer",
        "label": "DATA PENDUDUK HASIL KONSOLIDASI BERSIH",
        "description": "penduduk",
    }
    if lost is not None:
        count["thousands_dot_lost"] = lost
    return _dataset(
        "kabbandung_penduduk",
        [
            {
                "name": "kode_wilayah",
                "type": "string",
                "label": "Kode Wilayah",
                "nullable": False,
                "description": "kode",
            },
            {"name": "wilayah", "type": "string", "label": "Wilayah", "description": "nama"},
            {
                "name": "tahun",
                "type": "integer",
                "label": "Tahun",
                "nullable": False,
                "description": "tahun",
            },
            count,
        ],
        primary_key=["tahun", "kode_wilayah"],
        period={"column": "tahun", "granularity": "year"},
    )


def _bandung_xlsx(shared_dir: Path) -> bytes:
    """The real workbook, its data sheet ('Series Row') renamed 'Data' so the reader takes it
    rather than the first sheet (Metadata); cells and their types are untouched."""
    wb = openpyxl.load_workbook(shared_dir / BANDUNG / "penduduk3204.xlsx")
    wb["Series Row"].title = "Data"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _read(data: bytes, name: str, ds: Dataset, period: str | None = None) -> ParseResult:
    result = parse_file(data, name, ds, period)
    assert result.rows_in == result.table.num_rows + len(result.rejects)
    return result


def _by_row(result: ParseResult) -> dict[int, dict[str, Any]]:
    return {r["_row"]: r for r in result.table.to_pylist()}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bandung_lost_thousands_dot_is_restored_under_the_column_setting(
    shared_dir: Path, fmt: str
) -> None:
    data = (
        (shared_dir / BANDUNG / "penduduk3204.csv").read_bytes()
        if fmt == "csv"
        else _bandung_xlsx(shared_dir)
    )
    result = _read(data, f"penduduk3204.{fmt}", _bandung(True))
    assert (result.rows_in, result.table.num_rows, result.rejects) == (186, 186, [])
    rows = _by_row(result)
    for line, name, year, _, people in BANDUNG_BY_HAND:
        assert (rows[line]["wilayah"], rows[line]["tahun"]) == (name, year)
        assert rows[line]["jumlah_penduduk"] == people, name
    # every year's kecamatan add up to the regency total the workbook gives beside them
    totals: dict[int, int] = defaultdict(int)
    for r in rows.values():
        totals[r["tahun"]] += r["jumlah_penduduk"]
    assert dict(totals) == BANDUNG_TOTALS
    if fmt == "xlsx":  # the totals sheet itself, to be sure they were copied right
        wb = openpyxl.load_workbook(shared_dir / BANDUNG / "penduduk3204.xlsx", read_only=True)
        years, values = list(wb["Series Column"].iter_rows(values_only=True))[:2]
        assert {
            int(y): int(str(v).replace(".", "")) for y, v in zip(years[1:], values[1:], strict=True)
        } == BANDUNG_TOTALS
    [note] = result.notes
    assert "186 values read with their lost thousands dot" in note
    assert "50.36 -> 50,360" in note and "50.36 -> 50.360" in note


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("lost", [None, False])
def test_bandung_without_the_setting_is_refused_naming_both_readings(
    shared_dir: Path, fmt: str, lost: bool | None
) -> None:
    data = (
        (shared_dir / BANDUNG / "penduduk3204.csv").read_bytes()
        if fmt == "csv"
        else _bandung_xlsx(shared_dir)
    )
    result = _read(data, f"penduduk3204.{fmt}", _bandung(lost))
    # every value has a dot: none is taken for a whole number of people
    assert result.table.num_rows == 0 and len(result.rejects) == 186
    by_row = {r.row: r for r in result.rejects}
    cileunyi, cilengkrang = by_row[2], by_row[4]
    assert cilengkrang.column == "jumlah_penduduk" and cilengkrang.value == "50.36"
    assert "50.36 bisa berarti 50,36 atau 50.360" in cilengkrang.reason_id
    assert "50.36 could be 50.36 or 50,360" in cilengkrang.reason_en
    assert "thousands_dot_lost: true" in cilengkrang.reason_en
    assert "167.228 bisa berarti 167,228 atau 167.228" in cileunyi.reason_id
    # counted as one kind of problem, not one per value
    assert len({r.problem("en") for r in result.rejects}) == 1


def _sumsel(dash: str | None = None, column_dash: dict[str, str] | None = None) -> Dataset:
    forms = ["Fisik", "Psikis", "Seksual", "Eksploitasi", "Trafficking", "Penelantaran", "Lainnya"]
    columns: list[dict[str, Any]] = [
        {
            "name": "kabupaten_kota",
            "type": "string",
            "label": "Unit / Instansi",
            "nullable": False,
            "description": "kabupaten/kota",
        },
        {
            "name": "tahun",
            "type": "integer",
            "label": "Tahun",
            "nullable": False,
            "description": "tahun",
        },
    ]
    for form in forms:
        col: dict[str, Any] = {
            "name": form.lower(),
            "type": "integer",
            "label": form,
            "description": form,
        }
        if column_dash and form in column_dash:
            col["dash"] = column_dash[form]
        columns.append(col)
    extra: dict[str, Any] = {"dash": dash} if dash else {}
    return _dataset(
        "sumsel_kasus_kekerasan",
        columns,
        primary_key=["tahun", "kabupaten_kota"],
        # the sheet has no year column: the six blocks' years sit in merged cells above
        period={"column": "tahun", "granularity": "year", "constant": "2018"},
        **extra,
    )


# First block of the sheet (columns B:H), read by hand: row -> (Fisik, Psikis, Eksploitasi)
SUMSEL_BY_HAND = {
    2: ("Ogan Komering Ulu", 25, 18, "-"),
    3: ("Ogan Komering Ilir", 3, "-", "-"),
    7: ("Musi Banyuasin", "-", 1, "-"),
}


@pytest.mark.parametrize("dash", [None, "empty", "zero"])
def test_sumsel_dash_is_read_as_declared_and_the_note_says_which(
    shared_dir: Path, dash: str | None
) -> None:
    result = _read((shared_dir / SUMSEL).read_bytes(), Path(SUMSEL).name, _sumsel(dash))
    # 17 kabupaten/kota rows; the 'Jumlah' row is set aside as a summary row
    assert (result.rows_in, result.table.num_rows) == (18, 17)
    assert [r.kind for r in result.rejects] == ["summary"]
    rows = _by_row(result)
    dash_is = 0 if dash == "zero" else None
    for row, (name, fisik, psikis, eksploitasi) in SUMSEL_BY_HAND.items():
        got = rows[row]
        assert got["kabupaten_kota"] == name  # trailing spaces trimmed
        assert got["tahun"] == 2018  # from the catalog's period.constant
        assert got["fisik"] == (dash_is if fisik == "-" else fisik)
        assert got["psikis"] == (dash_is if psikis == "-" else psikis)
        assert got["eksploitasi"] == (dash_is if eksploitasi == "-" else eksploitasi)
    # the whole Eksploitasi column of this block is '-'
    assert {r["eksploitasi"] for r in rows.values()} == {dash_is}
    dash_notes = [n for n in result.notes if "'-'" in n]
    assert len(dash_notes) == 1
    if dash == "zero":
        assert "'-' read as zero, dash: zero" in dash_notes[0]
    else:
        assert "'-' read as empty, dash: empty" in dash_notes[0]
        assert "declare dash: zero where '-' means 0" in dash_notes[0]
    assert "'Eksploitasi' (17)" in dash_notes[0]
    assert any("filled with 2018 from the catalog" in n for n in result.notes)


def test_sumsel_column_dash_overrides_the_dataset(shared_dir: Path) -> None:
    ds = _sumsel("zero", column_dash={"Eksploitasi": "empty"})
    result = _read((shared_dir / SUMSEL).read_bytes(), Path(SUMSEL).name, ds)
    rows = _by_row(result)
    assert rows[2]["eksploitasi"] is None and rows[2]["trafficking"] == 0
    notes = [n for n in result.notes if "'-'" in n]
    assert len(notes) == 2  # one note per reading used
    assert any("dash: empty, in column(s) 'Eksploitasi' (17)" in n for n in notes)
    assert any("dash: zero, in column(s) 'Fisik' (1)" in n for n in notes)
