"""The parser: OPD CSV/XLSX bytes -> typed table in the catalog's schema, plus per-row rejects."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
import pyarrow as pa
import pytest

from serasan.common.arrow import ARROW_TYPES
from serasan.config.catalog import Dataset
from serasan.demo.generate import generate_dataset
from serasan.parse.reader import ROW_COL, ParseError, ParseResult, parse_file
from serasan.quality.suites import load_validated_catalog

CATALOG = load_validated_catalog()
IDS = sorted(CATALOG.datasets)
FORMATS = ("xlsx", "csv")
TITLE = [["LAPORAN BULANAN OPD"], ["Kabupaten Musi Banyuasin"], []]  # header on row 4

Cells = list[list[Any]]


# --- helpers --------------------------------------------------------------------------------


def _ds(ds_id: str) -> Dataset:
    return CATALOG.datasets[ds_id]


def _labels(ds_id: str) -> list[str]:
    return [c.header for c in _ds(ds_id).columns]


def _csv(
    rows: Cells, delim: str = ",", newline: str = "\n", encoding: str = "utf-8", bom: bool = False
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delim, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    text = buf.getvalue().replace("\n", newline)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def _xlsx(rows: Cells) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for i, row in enumerate(rows, 1):
        for j, value in enumerate(row, 1):
            if value is not None and value != "":
                ws.cell(i, j, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _file(rows: Cells, fmt: str) -> bytes:
    return _xlsx(rows) if fmt == "xlsx" else _csv(rows)


def _parse(data: bytes, filename: str, ds_id: str) -> ParseResult:
    """Parse, and check the invariant every result must keep: each input row loaded or rejected."""
    result = parse_file(data, filename, _ds(ds_id))
    assert result.rows_in == result.table.num_rows + len(result.rejects)
    return result


def _col(result: ParseResult, name: str) -> list[Any]:
    return result.table.column(name).to_pylist()


def _norm(text: str) -> str:
    """A header as the test sees it: letters and digits only."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


# --- 1. round trip with the generator -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("ds_id", IDS)
def test_generated_file_parses_without_rejects(ds_id, fmt):
    ds = _ds(ds_id)
    gf = generate_dataset(ds, CATALOG, fmt=fmt, seed=7)
    result = _parse(gf.data, gf.filename, ds_id)

    assert gf.rows > 0
    assert result.rows_in == gf.rows
    assert result.rejects == []
    assert result.table.num_rows == gf.rows
    assert result.table.column_names == [*ds.column_names, ROW_COL]
    for c in ds.columns:
        assert result.table.schema.field(c.name).type == ARROW_TYPES[c.type], c.name
    first = 5 if fmt == "xlsx" else 2  # xlsx: labels on row 4; csv: names on line 1
    assert result.header_row == first - 1
    assert _col(result, ROW_COL) == list(range(first, first + gf.rows))


@pytest.mark.parametrize("ds_id", IDS)
def test_xlsx_and_csv_of_the_same_seed_agree_value_for_value(ds_id):
    ds = _ds(ds_id)
    tables = {}
    for fmt in FORMATS:
        gf = generate_dataset(ds, CATALOG, fmt=fmt, seed=11)
        tables[fmt] = _parse(gf.data, gf.filename, ds_id).table.drop_columns([ROW_COL])
    xlsx, plain = tables["xlsx"].to_pylist(), tables["csv"].to_pylist()
    assert len(xlsx) == len(plain) > 0
    for i, (a, b) in enumerate(zip(xlsx, plain, strict=True)):
        assert a == b, f"row {i}: xlsx {a} != csv {b}"
    if ds.period.granularity == "month":  # 'Mei 2026' and '2026-05-01' both land on the 1st
        assert {d.day for d in tables["csv"].column(ds.period.column).to_pylist()} == {1}


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_only_file_gives_an_empty_typed_table(fmt):
    ds = _ds("muba_realisasi_pajak")
    gf = generate_dataset(ds, CATALOG, rows=0, fmt=fmt)
    result = _parse(gf.data, gf.filename, ds.id)
    assert (result.rows_in, result.table.num_rows, result.rejects) == (0, 0, [])
    assert result.table.column_names == [*ds.column_names, ROW_COL]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("ds_id", IDS)
def test_generated_defects_are_readable_values_not_parse_rejects(ds_id, fmt):
    """Defects are for the quality gate: '-Rp 350.000' must load as a negative amount."""
    ds = _ds(ds_id)
    gf = generate_dataset(ds, CATALOG, fmt=fmt, defect_rate=0.3, seed=3)
    result = _parse(gf.data, gf.filename, ds_id)
    assert result.rows_in == gf.rows
    assert result.rejects == []
    measures = [c.name for c in ds.columns if c.type in ("integer", "number")]
    negative_rows = sum(
        any(v is not None and v < 0 for v in (row[m] for m in measures))
        for row in result.table.to_pylist()
    )
    assert negative_rows == gf.defects.get("negative_amount", 0)


# --- 2. and 3. numbers ----------------------------------------------------------------------

PAJAK = "muba_realisasi_pajak"  # periode, kode_kecamatan, jenis_pajak, target_rp, realisasi_rp,
# jumlah_wajib_pajak (integer, nullable)


def test_indonesian_number_formats():
    rows = [
        _labels(PAJAK),
        ["Mei 2026", "16.06.01", "PBB-P2", "1.234.567,89", "Rp 1.000.000", "2014.0"],
        ["Mei 2026", "16.06.02", "PBB-P2", "Rp 1.250.000", "Rp1.000.000", "-"],
        ["Mei 2026", "16.06.03", "PBB-P2", "Rp. 500.000", "-Rp 350.000", "15"],
        ["Mei 2026", "16.06.04", "PBB-P2", "-1.234,5", "IDR 2.000", ""],
        ["Mei 2026", "16.06.05", "PBB-P2", "(1.000)", "(Rp 1.000)", "7.0"],
        ["Mei 2026", "16.06.06", "PBB-P2", "-", "1 250 000", "20"],
    ]
    result = _parse(_csv(rows), "pajak.csv", PAJAK)
    assert result.rejects == []
    assert _col(result, "target_rp") == [1234567.89, 1250000.0, 500000.0, -1234.5, -1000.0, None]
    assert _col(result, "realisasi_rp") == [1e6, 1e6, -350000.0, 2000.0, -1000.0, 1250000.0]
    assert _col(result, "jumlah_wajib_pajak") == [2014, None, 15, None, 7, 20]
    assert result.table.schema.field("jumlah_wajib_pajak").type == pa.int64()


SAMPAH = "muaraenim_timbulan_sampah"  # periode, kode_kecamatan, timbulan_ton, terkelola_ton


def test_number_convention_is_decided_per_column():
    """The same text '1.234' is 1.234 in a dot-decimal column and 1234 in an Indonesian one."""
    rows = [
        _labels(SAMPAH),
        ["Mei 2026", "16.03.01", "1234.5", "1.234,5"],
        ["Mei 2026", "16.03.02", "1.234", "1.234"],
        ["Mei 2026", "16.03.03", "1,234.75", "12.345.678"],
        ["Mei 2026", "16.03.04", "600", "250"],
    ]
    result = _parse(_csv(rows), "sampah.csv", SAMPAH)
    assert result.rejects == []
    assert _col(result, "timbulan_ton") == [1234.5, 1.234, 1234.75, 600.0]
    assert _col(result, "terkelola_ton") == [1234.5, 1234.0, 12345678.0, 250.0]


@pytest.mark.parametrize(
    ("timbulan", "terkelola", "column", "hint"),
    [
        ("1.234,5", "1.234,5", "timbulan_ton", "1234567.89"),  # Indonesian text in a dot column
        ("600", "12.5", "terkelola_ton", "1.234.567,89"),  # dot decimal in an Indonesian column
        ("600", "nan", "terkelola_ton", "1.234.567,89"),  # float() would take it; it is no number
    ],
)
def test_a_value_written_against_its_column_convention_is_rejected_not_misread(
    timbulan, terkelola, column, hint
):
    rows = [
        _labels(SAMPAH),
        ["Mei 2026", "16.03.01", "512.5", "1.200,25"],
        ["Mei 2026", "16.03.02", timbulan, terkelola],
    ]
    result = _parse(_csv(rows), "sampah.csv", SAMPAH)
    assert _col(result, "timbulan_ton") == [512.5]
    assert _col(result, "terkelola_ton") == [1200.25]
    [rej] = result.rejects
    assert (rej.row, rej.column, rej.kind) == (3, column, "parse")
    assert hint in rej.reason_en


# --- 4. dates -------------------------------------------------------------------------------

ADUAN = "muaraenim_pengaduan_masyarakat"  # nomor_tiket, tanggal (day), kode_kecamatan,
# kategori, nama_pelapor, telepon_pelapor, status


def _aduan(dates: list[Any], fmt: str = "csv") -> ParseResult:
    rows: Cells = [_labels(ADUAN)]
    for i, d in enumerate(dates, 1):
        rows.append([f"LPR-{i:04d}", d, "16.03.01", "Kesehatan", "Siti", "", "Selesai"])
    return _parse(_file(rows, fmt), f"aduan.{fmt}", ADUAN)


def test_indonesian_month_names_and_iso_dates():
    texts = {
        "5 Januari 2026": dt.date(2026, 1, 5),
        "5 Agt 2026": dt.date(2026, 8, 5),
        "17 Agustus 2026": dt.date(2026, 8, 17),
        "1 Pebruari 2026": dt.date(2026, 2, 1),
        "2 Peb 2026": dt.date(2026, 2, 2),
        "09 Mei 2026": dt.date(2026, 5, 9),
        "3 Okt. 2026": dt.date(2026, 10, 3),
        "10 Nop 2026": dt.date(2026, 11, 10),
        "25 Des 2026": dt.date(2026, 12, 25),
        "2026-03-15": dt.date(2026, 3, 15),
    }
    result = _aduan(list(texts))
    assert result.rejects == []
    assert _col(result, "tanggal") == list(texts.values())


def test_month_period_accepts_a_month_name_and_truncates_to_the_first():
    rows = [
        _labels(SAMPAH),
        ["Mei 2026", "16.03.01", "1", "1"],
        ["Agt 2026", "16.03.02", "1", "1"],
        ["15 Juni 2026", "16.03.03", "1", "1"],
        ["2026-07-20", "16.03.04", "1", "1"],
        ["20/09/2026", "16.03.05", "1", "1"],
    ]
    result = _parse(_csv(rows), "sampah.csv", SAMPAH)
    assert result.rejects == []
    assert _col(result, "periode") == [dt.date(2026, m, 1) for m in (5, 8, 6, 7, 9)]


def test_excel_serial_numbers_and_date_cells_in_xlsx():
    result = _aduan(
        [46027, 46027.75, dt.datetime(2026, 1, 6, 8, 30), dt.date(2026, 1, 7), "8 Januari 2026"],
        fmt="xlsx",
    )
    assert result.rejects == []
    assert _col(result, "tanggal") == [
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 6),
        dt.date(2026, 1, 7),
        dt.date(2026, 1, 8),
    ]


def test_a_day_over_twelve_makes_the_file_day_first():
    result = _aduan(["13/02/2026", "03/04/2026", "5/6/26"])
    assert result.rejects == []
    assert _col(result, "tanggal") == [
        dt.date(2026, 2, 13),
        dt.date(2026, 4, 3),
        dt.date(2026, 6, 5),
    ]
    assert not any("ambiguous" in n for n in result.notes)


def test_a_second_field_over_twelve_makes_the_file_month_first():
    result = _aduan(["02/13/2026", "03/04/2026", "5/6/26"])
    assert result.rejects == []
    assert _col(result, "tanggal") == [
        dt.date(2026, 2, 13),
        dt.date(2026, 3, 4),
        dt.date(2026, 5, 6),
    ]


def test_a_file_mixing_day_first_and_month_first_is_refused_naming_the_column():
    with pytest.raises(ParseError) as err:
        _aduan(["13/02/2026", "03/04/2026", "02/13/2026"])
    assert "Tanggal Masuk" in str(err.value)
    assert "aduan.csv" in str(err.value)


def test_an_all_ambiguous_file_is_read_day_first_and_says_so():
    result = _aduan(["03/04/2026", "05/06/2026", "2026-07-08"])
    assert result.rejects == []
    assert _col(result, "tanggal") == [
        dt.date(2026, 4, 3),
        dt.date(2026, 6, 5),
        dt.date(2026, 7, 8),
    ]
    [note] = [n for n in result.notes if "D/M/Y" in n]
    assert "Tanggal Masuk" in note and "ambiguous" in note


def test_a_date_impossible_both_ways_is_one_reject_not_a_file_failure():
    """'13/13/2026' is no evidence of M/D/Y; it must not turn a D/M/Y file into a mixed one."""
    result = _aduan(["13/02/2026", "13/13/2026", "03/04/2026"])
    assert _col(result, "tanggal") == [dt.date(2026, 2, 13), dt.date(2026, 4, 3)]
    [rej] = result.rejects
    assert (rej.row, rej.column, rej.value) == (3, "tanggal", "13/13/2026")


# --- 5. encodings, line endings, delimiters -------------------------------------------------


def _aduan_rows(name: str = "Siti Aminah") -> Cells:
    return [
        ["Rekap Pengaduan"],
        _labels(ADUAN),
        ["LPR-0001", "5 Januari 2026", "16.03.01", "Kesehatan", name, "081234567890", "Selesai"],
        [],
        ["LPR-0002", "6 Januari 2026", "16.03.02", "Pendidikan", "", "", "Diproses"],
    ]


@pytest.mark.parametrize(
    ("label", "encode"),
    [
        ("utf-8", lambda rows: _csv(rows)),
        ("utf-8 with BOM", lambda rows: _csv(rows, bom=True)),
        ("cp1252", lambda rows: _csv(rows, encoding="cp1252")),
        ("CR only", lambda rows: _csv(rows, newline="\r")),
        ("CRLF", lambda rows: _csv(rows, newline="\r\n")),
        (
            "semicolon, cp1252, CRLF",
            lambda rows: _csv(rows, delim=";", encoding="cp1252", newline="\r\n"),
        ),
        ("tab", lambda rows: _csv(rows, delim="\t")),
    ],
)
def test_encodings_line_endings_and_delimiters(label, encode):
    data = encode(_aduan_rows("Andrés Situmorang"))
    result = _parse(data, "aduan.csv", ADUAN)
    assert result.rejects == [], label
    assert result.header_row == 2
    assert _col(result, ROW_COL) == [3, 5]  # line numbers as an editor shows them
    assert _col(result, "nomor_tiket") == ["LPR-0001", "LPR-0002"]  # BOM not glued to it
    assert _col(result, "nama_pelapor") == ["Andrés Situmorang", None]
    assert _col(result, "tanggal") == [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]


def test_cp1252_bytes_are_really_cp1252():
    data = _csv(_aduan_rows("Andrés"), encoding="cp1252")
    assert b"Andr\xe9s" in data  # not valid UTF-8: the parser must fall back
    assert _col(_parse(data, "aduan.csv", ADUAN), "nama_pelapor")[0] == "Andrés"


def test_semicolon_delimiter_with_indonesian_decimals():
    rows = [
        _labels(SAMPAH),
        ["Mei 2026", "16.03.01", "1.234,5", "600,25"],
        ["Mei 2026", "16.03.02", "512,75", "300"],
    ]
    data = "\n".join(";".join(r) for r in rows).encode()  # unquoted: commas are decimals here
    result = _parse(data, "sampah.csv", SAMPAH)
    assert result.rejects == []
    assert _col(result, "timbulan_ton") == [1234.5, 512.75]
    assert _col(result, "terkelola_ton") == [600.25, 300.0]


# --- 6. header ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        [
            "Nomor Tiket",
            "Tanggal Masuk",
            "Kode Kecamatan",
            "Kategori",
            "Nama Pelapor",
            "No. HP Pelapor",
            "Status",
        ],
        [
            "nomor_tiket",
            "tanggal",
            "kode_kecamatan",
            "kategori",
            "nama_pelapor",
            "telepon_pelapor",
            "status",
        ],
        [
            "  NOMOR  TIKET ",
            "tanggal masuk",
            "Kode-Kecamatan",
            "KATEGORI",
            "nama pelapor",
            "No HP Pelapor",
            "STATUS ",
        ],
        [
            "Status",
            "kategori",
            "Nomor Tiket",
            "TANGGAL",
            "Kode Kecamatan",
            "Nama_Pelapor",
            "No. HP Pelapor",
        ],
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_header_found_below_title_rows_by_label_or_name(header, fmt):
    value = {
        "nomor_tiket": "LPR-0009",
        "tanggal": "5 Januari 2026",
        "kode_kecamatan": "16.03.01",
        "kategori": "Kesehatan",
        "nama_pelapor": "Budi",
        "telepon_pelapor": "081111111",
        "status": "Selesai",
    }
    names = {_norm(h): c.name for c in _ds(ADUAN).columns for h in (c.name, c.header)}
    order = [names[_norm(h)] for h in header]
    rows = [*TITLE, header, [value[n] for n in order]]
    result = _parse(_file(rows, fmt), f"aduan.{fmt}", ADUAN)
    assert result.header_row == 4
    assert result.rejects == []
    [row] = result.table.to_pylist()
    assert row == {**value, "tanggal": dt.date(2026, 1, 5), ROW_COL: 5}


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_required_column_names_the_label_and_the_file(fmt):
    labels = [h for h in _labels(ADUAN) if h != "Kode Kecamatan"]
    rows = [*TITLE, labels, ["LPR-0001", "5 Januari 2026", "Kesehatan", "", "", "Selesai"]]
    with pytest.raises(ParseError) as err:
        _parse(_file(rows, fmt), f"pengaduan_mei.{fmt}", ADUAN)
    message = str(err.value)
    assert "Kode Kecamatan" in message
    assert f"pengaduan_mei.{fmt}" in message


def test_missing_optional_column_is_left_empty_with_a_note():
    labels = [h for h in _labels(ADUAN) if h != "No. HP Pelapor"]
    rows = [labels, ["LPR-0001", "5 Januari 2026", "16.03.01", "Kesehatan", "Siti", "Selesai"]]
    result = _parse(_csv(rows), "aduan.csv", ADUAN)
    assert result.rejects == []
    assert _col(result, "telepon_pelapor") == [None]
    assert any("No. HP Pelapor" in n for n in result.notes)


def test_file_without_any_header_is_refused():
    with pytest.raises(ParseError, match="catatan.csv"):
        _parse(b"apa saja\nbukan data\n", "catatan.csv", ADUAN)


@pytest.mark.parametrize(
    "data",
    [
        b"Nomor Tiket,Tanggal Masuk\nLPR-0001,5 Januari 2026\n",  # a CSV renamed .xlsx
        b"PK\x03\x04 this zip is cut short",  # a damaged workbook
    ],
)
def test_xlsx_named_file_that_is_not_a_workbook_is_refused(data):
    with pytest.raises(ParseError, match=r"laporan\.xlsx"):
        _parse(data, "laporan.xlsx", ADUAN)


# --- 7. summary rows and blank lines --------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_summary_rows_are_rejected_as_summary_and_blank_lines_are_not_rows(fmt):
    rows = [
        ["LAPORAN TIMBULAN SAMPAH"],  # 1
        _labels(SAMPAH),  # 2
        ["Mei 2026", "16.03.01", "512,5", "200,25"],  # 3
        [],  # 4
        ["Mei 2026", "16.03.02", "600", "250"],  # 5
        ["Jumlah", "", "1.112,5", "450,25"],  # 6
        ["", "", "", ""],  # 7
        ["", "TOTAL KESELURUHAN", "1.112,5", "450,25"],  # 8
    ]
    result = _parse(_file(rows, fmt), f"sampah.{fmt}", SAMPAH)
    assert result.rows_in == 4
    assert result.table.num_rows == 2
    assert _col(result, ROW_COL) == [3, 5]
    assert _col(result, "timbulan_ton") == [512.5, 600.0]
    assert [(r.row, r.kind, r.column, r.value) for r in result.rejects] == [
        (6, "summary", None, "Jumlah"),
        (8, "summary", None, "TOTAL KESELURUHAN"),
    ]
    assert dict(result.rejects[0].record)["timbulan_ton"] == "1.112,5"


# --- 8. bad values --------------------------------------------------------------------------

PAJAK_ROWS: Cells = [
    *TITLE,  # rows 1-3
    [
        "Periode",
        "Kode Kecamatan",
        "Jenis Pajak",
        "Target (Rp)",
        "Realisasi (Rp)",
        "Jumlah Wajib Pajak",
    ],  # row 4
    ["Mei 2026", "16.06.01", "PBB-P2", "Rp 1.000.000", "Rp 900.000", "15"],  # 5
    ["Mei 2026", "16.06.02", "BPHTB", "abc", "Rp 900.000", "16"],  # 6
    ["Mei 2026", "16.06.03", "Pajak Hotel", "Rp 1.000.000", "Rp 900.000", "17"],  # 7
    [],  # 8
    ["Mei 2026", "16.06.04", "Pajak Reklame", "Rp 2.000.000", "Rp 1.500.000", "12,5"],  # 9
    ["31/02/2026", "16.06.05", "Pajak Restoran", "Rp 3.000.000", "Rp 2.500.000", "18"],  # 10
    ["Jun 2026", "16.06.06", "PBB-P2", "Rp 3.000.000", "Rp 2.500.000", "19"],  # 11
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_values_become_rejects_with_row_column_value_and_reason(fmt):
    result = _parse(_file(PAJAK_ROWS, fmt), f"pajak.{fmt}", PAJAK)
    assert result.rows_in == 6
    assert _col(result, ROW_COL) == [5, 7, 11]
    assert _col(result, "kode_kecamatan") == ["16.06.01", "16.06.03", "16.06.06"]
    assert _col(result, "periode") == [dt.date(2026, 5, 1)] * 2 + [dt.date(2026, 6, 1)]

    got = {r.row: r for r in result.rejects}
    assert sorted(got) == [6, 9, 10]
    expected = {
        6: ("target_rp", "abc", "Target (Rp)", "angka"),
        9: ("jumlah_wajib_pajak", "12,5", "Jumlah Wajib Pajak", "bilangan bulat"),
        10: ("periode", "31/02/2026", "Periode", "tanggal"),
    }
    for row, (column, value, label, expected_id) in expected.items():
        rej = got[row]
        assert rej.kind == "parse"
        assert (rej.column, rej.value) == (column, value)
        assert label in rej.reason_id and label in rej.reason_en
        assert value in rej.reason_id and value in rej.reason_en
        assert rej.reason("id") == rej.reason_id and rej.reason("en") == rej.reason_en
        assert expected_id in rej.expected_id
        # problem(): the reason without the row's value, so rows can be counted per problem
        assert column in rej.problem("en") and value not in rej.problem("en")
        assert rej.expected_id in rej.problem("id") and value not in rej.problem("id")

    record = dict(got[6].record)
    assert list(record) == _ds(PAJAK).column_names
    assert record == {
        "periode": "Mei 2026",
        "kode_kecamatan": "16.06.02",
        "jenis_pajak": "BPHTB",
        "target_rp": "abc",
        "realisasi_rp": "Rp 900.000",
        "jumlah_wajib_pajak": "16",
    }
    assert dict(got[10].record)["kode_kecamatan"] == "16.06.05"


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        ("jumlah_peserta", "banyak"),
        ("jumlah_peserta", "12,5"),
        ("tanggal", "30/02/2026"),
        ("tanggal", "besok"),
        ("jumlah_pengunjung", "1.5e3"),
    ],
)
def test_one_bad_cell_in_a_generated_file_rejects_exactly_that_row(column, bad):
    ds_id = "muba_event_sport_tourism"
    gf = generate_dataset(_ds(ds_id), CATALOG, rows=8, fmt="csv", seed=5)
    rows = list(csv.reader(io.StringIO(gf.data.decode())))
    rows[4][_ds(ds_id).column_names.index(column)] = bad  # line 5 of the file
    result = _parse(_csv(rows), gf.filename, ds_id)
    assert result.rows_in == 8
    assert [(r.row, r.column, r.value) for r in result.rejects] == [(5, column, bad)]
    assert 5 not in _col(result, ROW_COL)
    assert dict(result.rejects[0].record)["kode_event"] == rows[4][0]


# --- 9. codes stay text ---------------------------------------------------------------------

BANSOS = "muaraenim_penerima_bansos"  # periode, nik, nama_penerima, kode_desa, jenis_bantuan,
# nilai_rp


@pytest.mark.parametrize("fmt", FORMATS)
def test_codes_keep_leading_zeros_and_dots(fmt):
    aduan = _parse(
        _file(
            [
                _labels(ADUAN),
                [
                    "LPR-0001",
                    "5 Januari 2026",
                    "16.06.01",
                    "Kesehatan",
                    "Siti",
                    "081234567890",
                    "Selesai",
                ],
                [
                    "0042",
                    "6 Januari 2026",
                    "16.03.10",
                    "Kesehatan",
                    "",
                    "0812-3456-7890",
                    "Selesai",
                ],
            ],
            fmt,
        ),
        f"aduan.{fmt}",
        ADUAN,
    )
    assert aduan.rejects == []
    assert _col(aduan, "kode_kecamatan") == ["16.06.01", "16.03.10"]
    assert _col(aduan, "telepon_pelapor") == ["081234567890", "0812-3456-7890"]
    assert _col(aduan, "nomor_tiket") == ["LPR-0001", "0042"]

    bansos = _parse(
        _file(
            [
                _labels(BANSOS),
                [
                    "Mei 2026",
                    "1603014501900001",
                    "Siti",
                    "16.03.01.2011",  # a current code (16.03.01.2001 was renumbered)
                    "Santunan Lansia",
                    "Rp 300.000",
                ],
            ],
            fmt,
        ),
        f"bansos.{fmt}",
        BANSOS,
    )
    assert bansos.rejects == []
    assert bansos.table.to_pylist()[0]["nik"] == "1603014501900001"
    assert bansos.table.to_pylist()[0]["kode_desa"] == "16.03.01.2011"
    assert bansos.table.schema.field("nik").type == pa.string()
