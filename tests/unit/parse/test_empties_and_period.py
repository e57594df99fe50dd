"""Empty markers (`NA`, `N/A`, `...`, `…`), the dash, lost thousands dots and the period from
context, on small files written here, cell by cell."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from serasan.config.catalog import Dataset
from serasan.parse.reader import ParseError, ParseResult, parse_file

SATU_DATA = dict.fromkeys(
    ("produsen_data", "walidata", "frekuensi", "satuan", "level_penyajian", "lisensi", "kontak"),
    "x",
)


def _ds(columns: list[dict[str, Any]], period: dict[str, Any], **extra: Any) -> Dataset:
    return Dataset.model_validate(
        {
            "id": "uji_baca",
            "regency": "16.06",
            "opd": "dlh",
            "pillar": "environment",
            "title": "t",
            "description": "d",
            "source": {"kind": "spreadsheet"},
            "cadence": "yearly",
            "columns": columns,
            "primary_key": ["kode", period["column"]],
            "period": period,
            "quality_policy": "quarantine",
            "load_mode": "upsert",
            "satu_data": SATU_DATA,
            **extra,
        }
    )


def _col(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "description": name, **extra}


KODE = _col("kode", "string", nullable=False)
TAHUN = _col("tahun", "integer", nullable=False)
YEAR = {"column": "tahun", "granularity": "year"}


def _csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


def _parse(ds: Dataset, rows: list[list[Any]], name: str = "f.csv", **kw: Any) -> ParseResult:
    result = parse_file(_csv(rows), name, ds, **kw)
    assert result.rows_in == result.table.num_rows + len(result.rejects)
    return result


def _values(result: ParseResult, column: str) -> list[Any]:
    return result.table.column(column).to_pylist()


# ------------------------------------------------------------------ empty markers


def test_default_markers_are_empty_in_number_date_and_yes_no_columns() -> None:
    """The bug: 'NA' in a nullable number column was rejected instead of read as empty."""
    ds = _ds(
        [KODE, TAHUN, _col("jumlah", "number"), _col("tanggal", "date"), _col("aktif", "boolean")],
        YEAR,
    )
    markers = ["NA", "N/A", "n/a", "...", "…", "#N/A", "n.a."]
    rows = [["kode", "tahun", "jumlah", "tanggal", "aktif"]]
    rows += [[f"K{i}", 2024, m, m, m] for i, m in enumerate(markers)]
    rows += [["K9", 2024, "1.250,5", "15/01/2024", "ya"]]
    result = _parse(ds, rows)
    assert result.rejects == []
    assert _values(result, "jumlah") == [None] * len(markers) + [1250.5]
    assert _values(result, "tanggal") == [None] * len(markers) + [dt.date(2024, 1, 15)]
    assert _values(result, "aktif") == [None] * len(markers) + [True]
    [note] = result.notes
    assert note.startswith("sel dibaca sebagai kosong (na_values):")
    assert "'jumlah': '#N/A' (1), '...' (1)" in note


def test_text_columns_keep_the_defaults_as_text_unless_declared() -> None:
    rows = [["kode", "tahun", "keterangan"], ["K1", 2024, "N/A"], ["K2", 2024, "-"]]
    plain = _ds([KODE, TAHUN, _col("keterangan", "string")], YEAR)
    assert _values(_parse(plain, rows), "keterangan") == ["N/A", "-"]
    declared = _ds([KODE, TAHUN, _col("keterangan", "string", na_values=["N/A"])], YEAR)
    assert _values(_parse(declared, rows), "keterangan") == [None, "-"]  # '-' stays text


def test_declared_markers_replace_the_defaults_column_over_dataset() -> None:
    ds = _ds(
        [KODE, TAHUN, _col("col_a", "integer"), _col("col_b", "integer", na_values=["x"])],
        YEAR,
        na_values=["tidak ada"],
    )
    rows = [
        ["kode", "tahun", "col_a", "col_b"],
        ["K1", 2024, "Tidak Ada", "X"],
        ["K2", 2024, "NA", 3],
    ]
    result = _parse(ds, rows)
    assert _values(result, "col_a") == [None]  # 'NA' is no longer a marker in col_a
    assert _values(result, "col_b") == [None]
    [reject] = result.rejects
    assert (reject.row, reject.column, reject.value) == (3, "col_a", "NA")


def test_dash_is_empty_by_default_and_zero_when_declared() -> None:
    rows = [["kode", "tahun", "jumlah", "luas", "tanggal"], ["K1", 2024, "-", " - ", "-"]]
    rows += [["K2", 2024, "\u2013", 2, "13/02/2024"]]  # an en dash, as spreadsheets turn '-'
    cols = [KODE, TAHUN, _col("jumlah", "integer"), _col("luas", "number"), _col("tanggal", "date")]
    empty = _parse(_ds(cols, YEAR), rows)
    assert (_values(empty, "jumlah"), _values(empty, "luas")) == ([None, None], [None, 2.0])
    assert (
        "'-' read as empty, dash: empty, in column(s) 'jumlah' (2), 'luas' (1)" in (empty.notes[0])
    )
    zero = _parse(_ds(cols, YEAR, dash="zero"), rows)
    assert (_values(zero, "jumlah"), _values(zero, "luas")) == ([0, 0], [0.0, 2.0])
    assert _values(zero, "tanggal") == [None, dt.date(2024, 2, 13)]  # a date has no zero
    assert "'-' read as zero, dash: zero, in column(s) 'jumlah' (2), 'luas' (1)" in zero.notes[0]
    # no dash in the file, no note about it
    clean = _parse(_ds(cols, YEAR, dash="zero"), [rows[0], ["K3", 2024, 1, 2, "13/02/2024"]])
    assert clean.notes == []


def test_dash_in_a_yes_no_column_is_still_refused() -> None:
    ds = _ds([KODE, TAHUN, _col("aktif", "boolean")], YEAR)
    result = _parse(ds, [["kode", "tahun", "aktif"], ["K1", 2024, "-"]])
    assert [r.column for r in result.rejects] == ["aktif"]


# ------------------------------------------------------------------ lost thousands dot


def test_lost_dot_setting_reads_counts_and_refuses_ambiguous_small_wholes() -> None:
    ds = _ds([KODE, TAHUN, _col("penduduk", "integer", thousands_dot_lost=True)], YEAR)
    cells = ["50.36", "167.228", "5.1", "1.234.567", "0", "2500", "950", "NA", "-", "-12.5"]
    rows = [["kode", "tahun", "penduduk"]] + [[f"K{i}", 2024, v] for i, v in enumerate(cells)]
    result = _parse(ds, rows)
    assert _values(result, "penduduk") == [
        50360,
        167228,
        5100,
        1234567,
        0,
        2500,
        None,
        None,
        -12500,
    ]
    [reject] = result.rejects  # 950: 950 people, or 950.000 that lost '.000'?
    assert reject.value == "950" and "950 could be 950 or 950,000" in reject.reason_en
    assert "950 bisa berarti 950 atau 950.000" in reject.reason_id
    assert any("4 values read with their lost thousands dot" in n for n in result.notes)


def test_without_the_setting_an_integer_column_names_both_readings() -> None:
    ds = _ds([KODE, TAHUN, _col("penduduk", "integer")], YEAR)
    result = _parse(ds, [["kode", "tahun", "penduduk"], ["K1", 2024, "5.1"], ["K2", 2024, "7"]])
    assert _values(result, "penduduk") == [7]
    [reject] = result.rejects
    assert "5.1 could be 5.1 or 5,100" in reject.reason_en
    assert "5.1 bisa berarti 5,1 atau 5.100" in reject.reason_id
    # a number column keeps its decimals: nothing is ambiguous there
    dec = _ds([KODE, TAHUN, _col("luas", "number")], YEAR)
    assert _values(_parse(dec, [["kode", "tahun", "luas"], ["K1", 2024, "5.1"]]), "luas") == [5.1]


# ------------------------------------------------------------------ period from context


NO_PERIOD_ROWS = [["kode", "jumlah"], ["K1", 10], ["K2", 20]]
COLS = [KODE, TAHUN, _col("jumlah", "integer")]


def test_a_file_without_its_period_column_needs_a_period_from_somewhere() -> None:
    with pytest.raises(ParseError, match="tahun"):
        _parse(_ds(COLS, YEAR), NO_PERIOD_ROWS)


def test_period_from_the_catalog_constant() -> None:
    ds = _ds(COLS, {**YEAR, "constant": "2021"})
    result = _parse(ds, NO_PERIOD_ROWS)
    assert _values(result, "tahun") == [2021, 2021]
    assert result.notes == [
        "kolom 'tahun' tidak ada di berkas; diisi 2021 dari katalog (period.constant) untuk "
        "setiap baris (column 'tahun' is absent from the file; filled with 2021 from the "
        "catalog (period.constant) for every row)"
    ]


def test_period_from_the_file_name() -> None:
    ds = _ds(COLS, {**YEAR, "from_filename": r"(?P<year>\d{4})"})
    result = _parse(ds, NO_PERIOD_ROWS, name="penduduk_2019_final.csv")
    assert _values(result, "tahun") == [2019, 2019]
    assert "from the file name (penduduk_2019_final.csv)" in result.notes[0]
    with pytest.raises(ParseError, match="carries no period"):
        _parse(ds, NO_PERIOD_ROWS, name="penduduk.csv")


def test_period_from_the_user_overrides_the_catalog() -> None:
    assert _values(_parse(_ds(COLS, YEAR), NO_PERIOD_ROWS, period="2020"), "tahun") == [2020] * 2
    ds = _ds(COLS, {**YEAR, "from_filename": r"(?P<year>\d{4})"})
    result = _parse(ds, NO_PERIOD_ROWS, name="data_2019.csv", period="2020")
    assert _values(result, "tahun") == [2020, 2020]
    assert "--period, in place of the catalog's period" in result.notes[0]
    with pytest.raises(ParseError, match="--period: '2020-03' is not a year period"):
        _parse(_ds(COLS, YEAR), NO_PERIOD_ROWS, period="2020-03")


def test_month_period_from_the_file_name_in_a_date_column() -> None:
    cols = [KODE, _col("periode", "date", nullable=False), _col("jumlah", "integer")]
    period = {
        "column": "periode",
        "granularity": "month",
        "from_filename": r"(?P<month>[A-Za-z]+)[_ ](?P<year>\d{4})",
    }
    ds = Dataset.model_validate(
        {**_ds(cols, period).model_dump(), "primary_key": ["kode", "periode"]}
    )
    result = _parse(ds, NO_PERIOD_ROWS, name="sampah_Maret_2025.csv")
    assert _values(result, "periode") == [dt.date(2025, 3, 1)] * 2


def test_a_file_that_has_the_column_too_must_agree_with_the_context() -> None:
    ds = _ds(COLS, {**YEAR, "constant": "2021"})
    rows = [["kode", "tahun", "jumlah"], ["K1", 2021, 1], ["K2", "", 2], ["K3", 2019, 3]]
    result = _parse(ds, rows)
    assert _values(result, "tahun") == [2021, 2021]  # the empty cell takes the period
    [reject] = result.rejects
    assert (reject.row, reject.column, reject.value) == (4, "tahun", "2019")
    assert "expected the period 2021 (from the catalog (period.constant))" in reject.reason_en
    assert "rows naming another period are rejected" in result.notes[0]
