"""Real open-data files (data.jakarta.go.id, in ../shared/samples/jakarta) through the parser.

Each file has a dataset in tests/fixtures/jakarta/*.yaml, built with `Dataset.model_validate`
(these entries are outside the Sumatera Selatan catalog and its regency checks). Expected values
come from reading the files independently: the csv module over the bytes decoded as latin-1,
which keeps every byte and every delimiter where it is, so record counts and line numbers do not
depend on the parser under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from serasan.common.masking import mask_record, mask_value
from serasan.config.catalog import Dataset
from serasan.parse.reader import ROW_COL, ParseResult, parse_file
from tests.support.paths import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "jakarta"
YAMLS = sorted(p.name for p in FIXTURES.glob("*.yaml"))


def _dataset(name: str) -> Dataset:
    return Dataset.model_validate(yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8")))


def _sample(shared_dir: Path, ds: Dataset) -> Path:
    return shared_dir / "samples" / "jakarta" / ds.source.params["sample"]


def _records(data: bytes, encoding: str = "latin-1") -> list[tuple[int, list[str]]]:
    """(line the record ends on, cells) of every record, header included, read without the
    parser: latin-1 maps each byte to one character, so the structure is exact."""
    reader = csv.reader(io.StringIO(data.decode(encoding), newline=""))
    return [(reader.line_num, row) for row in reader]


def _parse(shared_dir: Path, name: str) -> tuple[Dataset, bytes, ParseResult]:
    ds = _dataset(name)
    data = _sample(shared_dir, ds).read_bytes()
    result = parse_file(data, _sample(shared_dir, ds).name, ds)
    assert result.rows_in == result.table.num_rows + len(result.rejects)
    assert result.header_row == 1
    return ds, data, result


def _rows(result: ParseResult) -> list[dict[str, Any]]:
    return result.table.to_pylist()


def _by(result: ParseResult, column: str) -> dict[Any, dict[str, Any]]:
    return {r[column]: r for r in _rows(result)}


# --- the fixtures themselves ----------------------------------------------------------------


def test_there_is_one_fixture_per_sample(shared_dir: Path) -> None:
    samples = {p.name for p in (shared_dir / "samples" / "jakarta").glob("*.csv")}
    assert len(samples) == 7
    assert sorted(_dataset(n).source.params["sample"] for n in YAMLS) == sorted(samples)


@pytest.mark.parametrize("name", YAMLS)
def test_fixture_is_a_consistent_dataset(shared_dir: Path, name: str) -> None:
    ds = _dataset(name)
    assert ds.id.startswith("jakarta_") and ds.region is None
    for key in ds.primary_key:
        assert ds.column(key) is not None and not ds.column(key).nullable, key
    period = ds.column(ds.period.column)
    assert period is not None and period.type in ("date", "integer")
    if ds.load_mode == "replace_period":
        assert ds.period.column in ds.primary_key
    assert _sample(shared_dir, ds).is_file()


@pytest.mark.parametrize("name", YAMLS)
def test_every_record_is_read_and_every_line_accounted_for(shared_dir: Path, name: str) -> None:
    _, data, result = _parse(shared_dir, name)
    records = _records(data)[1:]
    assert result.rows_in == len(records)
    loaded = result.table.column(ROW_COL).to_pylist()
    rejected = [r.row for r in result.rejects]
    assert sorted(loaded + rejected) == [line for line, _ in records]


# --- one file at a time ---------------------------------------------------------------------


def test_penduduk_2014_reads_whole_numbers_written_as_floats(shared_dir: Path) -> None:
    _, data, result = _parse(shared_dir, "penduduk_2014.yaml")
    records = [cells for _, cells in _records(data)[1:]]
    assert data.count(b"\r") == 0 and b"2014.0," in data
    assert result.rejects == [] and result.table.num_rows == 267
    rows = _rows(result)
    assert rows[0] == {
        "tahun": 2014,
        "nama_provinsi": "PROVINSI DKI JAKARTA",
        "nama_kabupaten_kota": "KAB.ADM.KEP.SERIBU",
        "nama_kecamatan": "KEP. SERIBU UTR",
        "nama_kelurahan": "P. PANGGANG",
        "laki_laki_wni": 3266,
        "perempuan_wni": 3092,
        "laki_laki_wna": None,
        "perempuan_wna": None,
        ROW_COL: 2,
    }
    assert rows[-1] == {
        "tahun": 2014,
        "nama_provinsi": "PROVINSI DKI JAKARTA",
        "nama_kabupaten_kota": "JAKARTA TIMUR",
        "nama_kecamatan": "CIPAYUNG",
        "nama_kelurahan": "CEGER",
        "laki_laki_wni": 9915,
        "perempuan_wni": 9407,
        "laki_laki_wna": 1,
        "perempuan_wna": None,
        ROW_COL: 268,
    }
    gambir = _by(result, "nama_kelurahan")["GAMBIR"]
    assert (gambir["laki_laki_wna"], gambir["perempuan_wna"]) == (3, 2)
    assert set(result.table.column("tahun").to_pylist()) == {2014}
    assert (
        sum(result.table.column("laki_laki_wni").to_pylist())
        == sum(int(float(r[5])) for r in records)
        == 5_103_614
    )
    assert result.table.column("laki_laki_wna").null_count == sum(1 for r in records if r[7] == "")


def test_penduduk_bekerja_with_cr_only_line_ends(shared_dir: Path) -> None:
    ds, data, result = _parse(shared_dir, "penduduk_bekerja_2013.yaml")
    assert b"\n" not in data and data.count(b"\r") == 18  # old Mac line ends, none at the end
    assert result.rejects == [] and result.table.num_rows == 18
    rows = _rows(result)
    assert rows[0] == {
        "jenis_industri": "Pertanian",
        "jenis_kelamin": "Laki-laki",
        "jumlah_penduduk": 13895,
        "tahun": None,
        ROW_COL: 2,
    }
    assert rows[-1] == {
        "jenis_industri": "Jasa-jasa",
        "jenis_kelamin": "Perempuan",
        "jumlah_penduduk": 565266,
        "tahun": None,
        ROW_COL: 19,
    }
    assert {r["jenis_kelamin"] for r in rows} == set(ds.column("jenis_kelamin").allowed)
    assert (
        Counter((r["jenis_industri"], r["jenis_kelamin"]) for r in rows).most_common(1)[0][1] == 1
    )  # the key fits
    # the year is only in the file name: the period column is declared, absent, and said so
    assert result.notes == ["column 'tahun' is absent from the file; left empty"]


def test_bencana_mixes_utf8_and_cp1252_bytes(shared_dir: Path) -> None:
    _, data, result = _parse(shared_dir, "bencana_kecelakaan_transportasi.yaml")
    assert b"Jum\x92at" in data and b"Jum\xe2\x80\x99at" in data  # the same word, two ways
    assert result.rejects == [] and result.table.num_rows == 59
    assert result.notes == ["some bytes are not UTF-8; read as Windows-1252"]
    by_no = _by(result, "no")
    assert sorted(by_no) == list(range(1, 60))
    assert all(r[ROW_COL] == r["no"] + 1 for r in by_no.values())
    first = by_no[1]  # the only record with an 11th (empty) cell: not ragged
    assert (first["bencana"], first["tanggal"], first["jam"]) == (
        "Kecelakaan Transportasi",
        dt.date(2014, 1, 19),
        None,
    )
    assert (first["bujur"], first["lintang"]) == (132.748, -5.64085)
    assert first["keterangan"].endswith("melakukan evakuasi para korban")  # 'Keterangan '
    assert (by_no[2]["jam"], by_no[58]["lintang"]) == ("04:05:00+0800", 0.0595602)
    assert by_no[59]["tanggal"] == dt.date(2011, 11, 26)
    # Windows-1252 bytes: 0x92 right quote, 0x95 bullet, 0x96 en dash
    assert "hilang -Jum’at, 08 November" in by_no[13]["keterangan"]
    assert "dalam pendataan • 28 orang" in by_no[4]["korban"]
    assert "Jarak pencarian radius 1 – 2 km" in by_no[36]["keterangan"]
    # ... and real UTF-8 in the same file, untouched
    assert "Hari Jum’at pkl. 06.00" in by_no[30]["keterangan"]
    assert "(Jalur Merak – Bakauheni)" in by_no[25]["lokasi"]
    assert "ketinggian ± 3 meter" in by_no[25]["keterangan"]
    assert not any(
        "\ufffd" in (v or "") for r in by_no.values() for v in r.values() if isinstance(v, str)
    )


def test_kebakaran_reads_month_first_dates(shared_dir: Path) -> None:
    _, data, result = _parse(shared_dir, "kebakaran_2013.yaml")
    records = _records(data)
    header, body = records[0][1], records[1:]
    at = {name: j for j, name in enumerate(header)}
    by_no = _by(result, "no")
    # the file is decided M/D/Y: no value can be read D/M/Y (a 13th month), some only M/D/Y
    assert any(int(c[at["tanggal"]].split("/")[1]) > 12 for _, c in body)
    assert not any(int(c[at["tanggal"]].split("/")[0]) > 12 for _, c in body)
    for _, cells in body:
        no = int(cells[at["no"]])
        if no in by_no:
            m, d, y = map(int, cells[at["tanggal"]].split("/"))
            assert by_no[no]["tanggal"] == dt.date(y, m, d)
    assert by_no[1]["tanggal"] == dt.date(2013, 1, 1)
    assert [r["tanggal"] for r in _rows(result) if r["no"] in (479, 480)] == [
        dt.date(2013, 2, 3)
    ] * 2  # '2/3/2013': 3 February
    assert by_no[1592]["tanggal"] == dt.date(2013, 12, 31)
    first_13th = next(r for r in _rows(result) if r["tanggal"] == dt.date(2013, 1, 13))
    assert body[first_13th["no"] - 1][1][at["tanggal"]] == "1/13/2013"
    # the area column writes 1,000 (thousands) and 0.5 (decimal): read as 1234.5-style
    assert result.notes[0] == (
        "column 'luas_area_kejadian' mixes 1.234,5 and 1234.5 (3 vs 14 values); read as 1234.5"
    )
    # and '-' is read as empty (dash: empty, the default), which the note says
    assert len(result.notes) == 2
    dash_note = result.notes[1]
    assert "'-' read as empty, dash: empty, in column(s) 'luas_area_kejadian' (3)" in dash_note
    assert by_no[1]["luas_area_kejadian"] == 102.0
    assert by_no[14]["luas_area_kejadian"] == 0.5
    assert by_no[18]["luas_area_kejadian"] == 9600.0
    assert by_no[445]["luas_area_kejadian"] == 1000.0
    assert by_no[1265]["luas_area_kejadian"] == 40000.0
    assert by_no[1111]["luas_area_kejadian"] is None  # '-'
    assert by_no[1]["menit_respon"] == 5 and by_no[1]["jumlah_sdm"] == 60
    assert (by_no[86]["rt"], by_no[1265]["rt"]) == ("8/9/2014", "7,8,9")  # text stays text
    # genuinely unusable: free text in a number column, and a decimal comma in a column
    # written with decimal points (read the other way it would be a thousand times off)
    assert [(r.row, r.column, r.value, r.kind) for r in result.rejects] == [
        (14, "luas_area_kejadian", "lantai 1 - 6", "parse"),
        (17, "luas_area_kejadian", "130 (2 Lantai)", "parse"),
        (653, "luas_area_kejadian", "3x3", "parse"),
        (1025, "luas_area_kejadian", "7,5", "parse"),
        (1408, "luas_area_kejadian", "7,5", "parse"),
        (1586, "luas_area_kejadian", "1,5", "parse"),
    ]
    assert result.rejects[0].reason_en == (
        "column 'luas_area_kejadian' holds 'lantai 1 - 6', expected a number such as 1234567.89"
    )
    assert result.rejects[0].reason_id == (
        "kolom 'luas_area_kejadian' berisi 'lantai 1 - 6', seharusnya angka, misalnya 1234567.89"
    )
    for reject in result.rejects:  # each is the record the csv module sees on that line
        line_cells = dict(records)[reject.row]
        assert line_cells[at["luas_area_kejadian"]] == reject.value
        assert dict(reject.record)["no"] == line_cells[at["no"]]
    assert result.table.num_rows == 1592 - 6


def test_kepadatan_with_flattened_merged_header(shared_dir: Path) -> None:
    _, data, result = _parse(shared_dir, "kepadatan_kelurahan_2013.yaml")
    header = _records(data)[0][1]
    assert header[7:19] == [""] * 12 and header[-1] == ">75  Perempuan"
    assert result.rejects == [] and result.table.num_rows == 267
    rows = _rows(result)
    first, last = rows[0], rows[-1]
    assert (first["nama_kelurahan"], first["luas_wilayah_km2"], first["kepadatan_jiwa_km2"]) == (
        "P. PANGGANG",
        0.91,
        6779,
    )  # ' 0.91 '
    assert (first["laki_laki_35_39"], first["perempuan_35_39"]) == (231, 235)
    assert (first["laki_laki_75"], first["perempuan_75"]) == (13, 27)  # '>75  Perempuan'
    assert (last["nama_kelurahan"], last["luas_wilayah_km2"], last["kepadatan_jiwa_km2"]) == (
        "CEGER",
        3.63,
        5492,
    )
    assert (last["laki_laki_75"], last["perempuan_75"], last[ROW_COL]) == (45, 44, 268)
    assert set(result.table.column("tahun").to_pylist()) == {2013}


def test_transportasi_with_every_value_quoted(shared_dir: Path) -> None:
    _, data, result = _parse(shared_dir, "transportasi_darat_2009.yaml")
    lines = data.decode("ascii").split("\r\n")
    assert all(re.fullmatch(r'("[^"]*",)*"[^"]*"', ln) for ln in lines[1:] if ln)
    assert result.rejects == [] and result.table.num_rows == 33
    by_kode = _by(result, "kode_provinsi")
    assert by_kode["1100"] == {
        "kode_provinsi": "1100",
        "nama_provinsi": "Nanggroe Aceh Darussalam",
        "lintang": 5.55,
        "bujur": 95.31667,
        "panjang_jalan": 18682.0,
        "rasio_penduduk": 234,
        "vcr": 0.241,
        "smp": 1319119,
        "rasio_kendaraan": 71,
        "tahun": None,
        ROW_COL: 2,
    }
    assert by_kode["3100"]["vcr"] == 0.82  # '.82'
    assert by_kode["1300"]["lintang"] == -0.95
    assert by_kode["1400"]["panjang_jalan"] == 19297.8
    assert by_kode["8100"]["vcr"] == 0.024
    last = _rows(result)[-1]
    assert (last["nama_provinsi"], last["vcr"], last["smp"], last[ROW_COL]) == (
        "Papua",
        0.147,
        228340,
        34,
    )


def test_ukm_register_with_personal_data(shared_dir: Path) -> None:
    ds, data, result = _parse(shared_dir, "ukm_2014.yaml")
    records = _records(data)
    assert result.rejects == [] and result.table.num_rows == len(records) - 1 == 17952
    rows = _rows(result)
    by_line = {r[ROW_COL]: r for r in rows}
    assert rows[0]["nama"] == "123 UKM" and rows[0]["kota"] == "Jakarta Selatan"
    second = rows[1]
    assert (second["nama"], second["rt"], second["rw"], second["telepon"], second["npwp"]) == (
        "3R ALAM SEJAHTERA, PT",
        "003",
        "005",
        "(021) 8454416",
        "03.015.022.1-009.000",
    )
    assert rows[-1]["nama"] == "ZURIEL, PT" and rows[-1]["npwp"] == "21.829.007.0.18"
    # one address runs over three lines; the records after it keep their own line numbers
    multi = next(r for r in rows if r["nama"] == "PISANGAN MASRUN")
    assert multi["alamat"] == (
        "Jl. Pisangan Lama I  No. 10, RT004/005, Pisangan Timur\n, Pulo Gadung, Jakarta Timur"
    )
    assert multi["kelurahan"] == "Pisangan Timur"
    # businesses whose names begin with TOTAL are data, not summary rows
    totals = {line: cells[0] for line, cells in records if cells[0].startswith("TOTAL ")}
    assert totals == {
        13888: "TOTAL BUAH, PO",
        13889: "TOTAL HEALTH INDONESIA, PT",
        13890: "TOTAL MAKMUR",
    }
    assert {line: by_line[line]["nama"] for line in totals} == totals
    assert Counter(r["ukuran_usaha"] for r in rows) == {
        "Usaha Mikro": 15053,
        "Usaha Kecil": 1632,
        "Usaha Menengah": 881,
        None: 386,
    }
    # the register has no unique key: the same (nama, kota) pairs repeat as in the file
    raw_pairs = Counter((c[0].strip(), c[8].strip()) for _, c in _records(data, "utf-8")[1:])
    parsed_pairs = Counter((r["nama"], r["kota"]) for r in rows)
    assert parsed_pairs == raw_pairs
    assert sum(1 for n in raw_pairs.values() if n > 1) == 14  # (nama, kota) pairs listed twice


def test_ukm_personal_data_is_masked(shared_dir: Path) -> None:
    ds, _, result = _parse(shared_dir, "ukm_2014.yaml")
    assert ds.pii_columns == ["nama", "alamat", "telepon", "fax", "selular", "npwp"]
    second = _rows(result)[1]
    assert mask_value(second["nama"]) == "3*** A*** S*** P***"
    assert mask_value(second["telepon"]) == "0218****16"
    assert mask_value(second["npwp"]) == "0301*********00"
    selular = next(r["selular"] for r in _rows(result) if r["selular"])
    assert selular == "0812-9909913" and mask_value(selular) == "0812*****13"
    masked = mask_record(second, ds.pii_columns)
    assert masked["kota"] == "Jakarta Timur" and masked["rt"] == "003"  # not personal: kept
    assert masked["fax"] == "0218****16" and masked["alamat"].startswith("J*** R*** C***")
    for name in ds.pii_columns:  # every value of every personal column: nothing survives whole
        for value in result.table.column(name).to_pylist():
            if value is None:
                continue
            out = mask_value(value)
            assert out != value and (len(value) == 1 or value not in out)
            digits = re.sub(r"\D", "", value)
            if len(digits) >= 8 and not re.search(r"[A-Za-z]", value):
                assert out == digits[:4] + "*" * (len(digits) - 6) + digits[-2:]
            else:
                assert all(re.fullmatch(r".\*\*\*", w) for w in out.split())
