"""Hostile or broken uploads: each refused with a message naming the file (and the row or
column), or read correctly when merely unusual, within bounded time and memory.

Parsing cases use `muba_cctv_kita` (labels Periode, Kode Kamera, Kode Kecamatan, Lokasi, Jam
Online; a free-text Lokasi column). Pipeline cases run extract -> transform -> load in-process on
a local-folder lake and a SQLite warehouse, and check that every input row is loaded or rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font
from sqlalchemy import inspect, select, text

from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.parse.reader import ROW_COL, ParseError, ParseResult, parse_file, parse_stream
from serasan.parse.sniff import MAX_COLUMNS
from serasan.pipeline.handoff import LoadSummary
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from tests.support.warehouse import RUN_DATE

CCTV = "muba_cctv_kita"
BANK = "muba_bank_sampah"
HEADER = ["Periode", "Kode Kamera", "Kode Kecamatan", "Lokasi", "Jam Online"]
MB = 2**20


# --- helpers --------------------------------------------------------------------------------


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _good_rows(n: int, start: int = 1) -> list[list[str]]:
    return [
        ["Mei 2026", f"CCTV-{i:03d}", "16.06.01", "Pasar Randik", "600,5"]
        for i in range(start, start + n)
    ]


def _parse(data: bytes, filename: str, ds: Dataset) -> ParseResult:
    """Parse, and keep the invariant: every input row is loaded or rejected."""
    result = parse_file(data, filename, ds)
    assert result.rows_in == result.table.num_rows + len(result.rejects)
    return result


def _refused(data: bytes, filename: str, ds: Dataset) -> str:
    with pytest.raises(ParseError) as info:
        parse_file(data, filename, ds)
    message = str(info.value)
    assert message.startswith(f"{filename}: "), message
    return message


@contextmanager
def _bounded(seconds: float, megabytes: float | None = None) -> Iterator[None]:
    """The block finishes within `seconds` and allocates at most `megabytes` at its peak.

    tracemalloc slows allocation-heavy code a lot: with `megabytes` None only time is measured.
    """
    if megabytes is not None:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if megabytes is not None else 0
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s (limit {seconds} s)"
    if megabytes is not None:
        assert peak < megabytes * MB, f"peak {peak / MB:.1f} MB (limit {megabytes} MB)"


def _xlsx(rows: list[list[Any]], edit: Callable[[Any], None] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in rows:
        ws.append(row)
    if edit:
        edit(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


def _zip_bomb(expanded_mb: int) -> bytes:
    """A zip with `xl/workbook.xml` and a sheet of `expanded_mb` MB of zeros, about 1 KB per MB.

    The deflate stream is one compressed MB repeated (each piece ends with a full flush, so it
    refers to nothing before it), so building it costs no compression of the whole.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(bytes(MB)) + comp.flush(zlib.Z_FULL_FLUSH)
    bomb = piece * expanded_mb + b"\x03\x00"  # + an empty final block
    crc = 0
    for _ in range(expanded_mb):
        crc = zlib.crc32(bytes(MB), crc)
    workbook = b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    members = [
        ("xl/workbook.xml", zlib.crc32(workbook), workbook, len(workbook), 0),
        ("xl/worksheets/sheet1.xml", crc, bomb, expanded_mb * MB, 8),
    ]
    out, central = io.BytesIO(), io.BytesIO()
    for name, crc32, payload, size, method in members:
        offset = out.tell()
        fields = (20, 0, method, 0, 0x21, crc32, len(payload), size, len(name), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + name.encode() + payload)
        central.write(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, offset)
            + name.encode()
        )
    cd_offset, cd = out.tell(), central.getvalue()
    out.write(
        cd
        + struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd), cd_offset, 0
        )
    )
    return out.getvalue()


# --- whole file unusable --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"  \r\n\t \n\n   "],
    ids=["empty", "bom-alone", "utf16-bom-alone", "whitespace"],
)
def test_empty_files_are_refused_as_empty(catalog: Catalog, data: bytes) -> None:
    message = _refused(data, "laporan.csv", catalog.dataset(CCTV))
    assert message == "laporan.csv: file kosong (the file is empty)"


def test_renamed_column_names_the_expected_label(catalog: Catalog) -> None:
    rows = [["Periode", "Kode Kamera", "Kode Kec", "Lokasi", "Jam Online"], *_good_rows(2)]
    message = _refused(_csv(rows).encode(), "cctv.csv", catalog.dataset(CCTV))
    assert "kolom hilang: 'Kode Kecamatan'" in message
    assert "missing column(s) 'Kode Kecamatan'" in message
    # where the parser looked: the best candidate row, with what it holds
    assert "best candidate: row 1: ['Periode', 'Kode Kamera', 'Kode Kec'" in message


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "gambar PNG (PNG image)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "dokumen PDF (PDF document)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "file Excel 97-2003 .xls"),
    ],
    ids=["png", "pdf", "xls"],
)
def test_binary_file_named_csv_is_refused_with_what_it_is(
    catalog: Catalog, data: bytes, what: str
) -> None:
    message = _refused(data, "laporan.csv", catalog.dataset(CCTV))
    assert message.startswith(f"laporan.csv: bukan CSV/XLSX melainkan {what}")


def test_html_error_page_is_refused(catalog: Catalog) -> None:
    page = (
        b"\n  <!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
        b"<body><h1>502 Bad Gateway</h1></body></html>\n"
    )
    message = _refused(page, "laporan.csv", catalog.dataset(CCTV))
    assert "berisi halaman HTML, bukan data" in message


def test_json_for_a_spreadsheet_dataset_is_refused(catalog: Catalog) -> None:
    assert catalog.dataset(CCTV).source.kind == "spreadsheet"
    data = json.dumps([{"periode": "2026-05-01", "kode_kamera": "CCTV-001"}]).encode()
    message = _refused(data, "laporan.csv", catalog.dataset(CCTV))
    assert message == ("laporan.csv: berisi JSON, bukan CSV/XLSX (JSON, expected CSV or XLSX)")


# --- encodings ------------------------------------------------------------------------------

UNICODE_ROWS = [
    HEADER,
    ["Mei 2026", "CCTV-001", "16.06.01", "Jembatan Ampera – Sekayu", "600,5"],
    ["Juni 2026", "CCTV-002", "16.6.2", "Pasar Randik", "1.234,25"],
]


@pytest.mark.parametrize(
    "encoding",
    ["utf-16", "utf-16-le", "utf-16-be"],
    ids=["utf16-with-bom", "utf16le-without-bom", "utf16be-without-bom"],
)
def test_utf16_is_read_with_the_right_values(catalog: Catalog, encoding: str) -> None:
    data = _csv(UNICODE_ROWS).encode(encoding)
    assert data.startswith(b"\xff\xfe") == (encoding == "utf-16")  # BOM only for "utf-16"
    result = _parse(data, "cctv.csv", catalog.dataset(CCTV))
    assert result.rejects == []
    assert result.table.to_pylist() == [
        {
            "periode": dt.date(2026, 5, 1),
            "kode_kamera": "CCTV-001",
            "kode_kecamatan": "16.06.01",
            "lokasi": "Jembatan Ampera – Sekayu",
            "jam_online": 600.5,
            ROW_COL: 2,
        },
        {
            "periode": dt.date(2026, 6, 1),
            "kode_kamera": "CCTV-002",
            "kode_kecamatan": "16.06.02",
            "lokasi": "Pasar Randik",
            "jam_online": 1234.25,
            ROW_COL: 3,
        },
    ]
    assert any("UTF-16" in note for note in result.notes)


def test_cp1252_file_decodes_accented_letters(catalog: Catalog) -> None:
    rows = [HEADER, ["Mei 2026", "CCTV-001", "16.06.01", "Kedai Andrés", "600,5"]]
    data = _csv(rows).encode("cp1252")
    assert b"Andr\xe9s" in data
    result = _parse(data, "cctv.csv", catalog.dataset(CCTV))
    assert result.table.column("lokasi").to_pylist() == ["Kedai Andrés"]
    assert "some bytes are not UTF-8; read as Windows-1252" in result.notes


def test_stray_cp1252_byte_after_100kb_of_utf8(catalog: Catalog) -> None:
    """The sniffer sees only the first 64 KB: the byte comes later and is still read as é."""
    head = _csv([HEADER, *_good_rows(2500)]).encode()
    assert len(head) > 100 * 1024 and head.isascii()
    data = head + b"Mei 2026,CCTV-999,16.06.01,Caf\xe9 Sekayu \xe2\x80\x93 UTF-8 too,1\n"
    result = _parse(data, "cctv.csv", catalog.dataset(CCTV))
    assert result.rejects == []
    last = result.table.slice(result.table.num_rows - 1).to_pylist()[0]
    assert last["lokasi"] == "Café Sekayu – UTF-8 too"  # cp1252 byte and real UTF-8 side by side
    assert last[ROW_COL] == 2502


# --- rows that do not fit -------------------------------------------------------------------


def test_ragged_rows_are_rejected_with_their_row_number(catalog: Catalog) -> None:
    text = _csv([HEADER, *_good_rows(2)])
    text += "Mei 2026,CCTV-010,16.06.01,Pasar Randik,600,catatan lebih\n"  # line 4: 6 cells
    text += "Mei 2026,CCTV-011,16.06.01\n"  # line 5: 3 cells, required up to column 5
    text += "Mei 2026,CCTV-012,16.06.01,Pasar Randik,600,,,\n"  # line 6: trailing empties: fine
    result = _parse(text.encode(), "cctv.csv", catalog.dataset(CCTV))
    assert result.rows_in == 5
    assert result.table.column(ROW_COL).to_pylist() == [2, 3, 6]
    assert result.table.column("jam_online").to_pylist() == [600.5, 600.5, 600.0]
    too_many, too_few = result.rejects
    assert (too_many.row, too_many.kind, too_many.value) == (4, "ragged", "catatan lebih")
    assert too_many.reason_en == (
        "row has 6 cells, more than the 5 header columns; 'catatan lebih' has no header"
    )
    assert "lebih banyak dari 5 kolom judul" in too_many.reason_id
    assert (too_few.row, too_few.kind, too_few.value) == (5, "ragged", None)
    assert too_few.reason_en == ("truncated row: 3 cells, required columns go up to column 5")
    assert dict(too_few.record)["kode_kamera"] == "CCTV-011"


def test_extra_labelled_column_is_ignored_not_a_reason_to_reject(catalog: Catalog) -> None:
    rows = [
        [*HEADER, "Keterangan"],
        [*_good_rows(1)[0], "kamera baru"],
        _good_rows(1, 2)[0],
        [*_good_rows(1, 3)[0], "", "tanpa judul"],
    ]
    result = _parse(_csv(rows).encode(), "cctv.csv", catalog.dataset(CCTV))
    assert result.table.column("kode_kamera").to_pylist() == ["CCTV-001", "CCTV-002"]
    [reject] = result.rejects  # only the cell beyond every label has no header
    assert (reject.row, reject.kind, reject.value) == (4, "ragged", "tanpa judul")
    assert reject.reason_en.startswith("row has 7 cells, more than the 6 header columns")


def test_thousands_of_columns_are_refused_naming_the_row(catalog: Catalog) -> None:
    wide = ["Mei 2026", "CCTV-002", "16.06.01", "Pasar", "1", *(f"x{i}" for i in range(4995))]
    data = _csv([HEADER, *_good_rows(1), wide]).encode()
    with _bounded(seconds=2, megabytes=50):
        message = _refused(data, "cctv.csv", catalog.dataset(CCTV))
    assert message == (
        f"cctv.csv: baris 3 memiliki 5000 kolom (line 3 has 5000 columns; at most {MAX_COLUMNS})"
    )


def test_thousands_of_columns_in_a_workbook_are_refused_naming_the_row(catalog: Catalog) -> None:
    wide = [*_good_rows(1)[0], *(f"x{i}" for i in range(1995))]
    data = _xlsx([HEADER, *_good_rows(1, start=2), wide])
    message = _refused(data, "cctv.xlsx", catalog.dataset(CCTV))
    assert message == (
        f"cctv.xlsx: baris 3 memiliki 2000 kolom (row 3 has 2000 columns; at most {MAX_COLUMNS})"
    )


def test_workbook_with_a_styled_cell_far_right_is_read_fast(catalog: Catalog) -> None:
    """A formatted empty cell at column 16000 once widened every row to 16000 cells."""

    def style(ws: Any) -> None:
        ws.cell(1, 16000).font = Font(bold=True)

    data = _xlsx([HEADER, *_good_rows(4000)], style)
    assert b'<dimension ref="A1:WQJ4001"' in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/worksheets/sheet1.xml"
    )
    plain = _xlsx([HEADER, *_good_rows(4000)])
    # side by side, so machine load cannot decide it: equal (~0.8 s each) when the far cell is
    # ignored, about 5x slower when every row was widened to 16000 cells
    started = time.perf_counter()
    _parse(plain, "cctv.xlsx", catalog.dataset(CCTV))
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    result = _parse(data, "cctv.xlsx", catalog.dataset(CCTV))
    styled = time.perf_counter() - started
    assert styled < 2 * baseline + 0.2, f"{styled:.2f} s against {baseline:.2f} s unstyled"
    assert result.table.num_rows == 4000 and result.rejects == []
    assert result.table.column("kode_kamera")[-1].as_py() == "CCTV-4000"


def test_workbook_with_a_wrong_dimension_loses_no_rows(catalog: Catalog) -> None:
    """Read-only openpyxl trusts <dimension>; a writer that got it wrong must not hide rows."""
    data = _rezip(
        _xlsx([HEADER, *_good_rows(10)]),
        lambda name, body: (
            body.replace(b'<dimension ref="A1:E11"', b'<dimension ref="A1:E3"')
            if name.endswith("sheet1.xml")
            else body
        ),
    )
    result = _parse(data, "cctv.xlsx", catalog.dataset(CCTV))
    assert result.table.column(ROW_COL).to_pylist() == list(range(2, 12))
    assert result.table.column("kode_kamera")[-1].as_py() == "CCTV-010"


# --- malformed text -------------------------------------------------------------------------


def test_nul_byte_near_the_start_names_the_line(catalog: Catalog) -> None:
    data = _csv([HEADER, *_good_rows(3)]).encode()
    data = data.replace(b"CCTV-002", b"CCTV\x00002")
    message = _refused(data, "cctv.csv", catalog.dataset(CCTV))
    assert message.startswith("cctv.csv: baris 3 berisi byte NUL")


def test_nul_byte_after_the_sniffed_head_names_the_line(catalog: Catalog) -> None:
    """Python's csv module reads NUL as data: beyond the sniffer's 64 KB it must still stop."""
    rows = _good_rows(3000)
    data = _csv([HEADER, *rows]).encode()
    assert len(data) > 100 * 1024
    data = data.replace(b"CCTV-2500", b"CCTV\x002500")
    message = _refused(data, "cctv.csv", catalog.dataset(CCTV))
    assert message == (
        "cctv.csv: baris 2501 berisi byte NUL; ini bukan file teks CSV "
        "(line 2501 holds a NUL byte: not a CSV text file)"
    )


def test_unterminated_quote_at_the_end_names_the_line_it_opens(catalog: Catalog) -> None:
    text = _csv([HEADER, *_good_rows(3)]).replace('"600,5"', "600")
    text += 'Mei 2026,"CCTV-009,16.06.01,Pasar,1\n' + "Mei 2026,CCTV-010,16.06.01,Pasar,1\n"
    message = _refused(text.encode(), "cctv.csv", catalog.dataset(CCTV))
    assert message == (
        "cctv.csv: baris 5: tanda kutip yang dibuka di baris ini tidak pernah "
        "ditutup (a quote opened on this line is never closed)"
    )


def test_unterminated_quote_paired_with_a_later_one_names_the_line_it_opens(
    catalog: Catalog,
) -> None:
    text = _csv([HEADER, *_good_rows(3)])  # '"600,5"' is quoted on every good row
    text += 'Mei 2026,"CCTV-009,16.06.01,Pasar,1\n' + _csv(_good_rows(5, start=10))
    message = _refused(text.encode(), "cctv.csv", catalog.dataset(CCTV))
    assert message.startswith("cctv.csv: baris 5: tanda kutip tidak berpasangan")
    assert "(unbalanced quotes: text after a closing quote on line 6)" in message


def test_unterminated_quote_in_a_large_file_stops_at_one_megabyte(catalog: Catalog) -> None:
    text = _csv([HEADER, *_good_rows(2)]).replace('"600,5"', "600")
    text += 'Mei 2026,"CCTV-009,16.06.01,Pasar,1\n'
    text += _csv(_good_rows(60_000, start=10)).replace('"600,5"', "600")  # ~2.6 MB
    with _bounded(seconds=2, megabytes=60):
        message = _refused(text.encode(), "cctv.csv", catalog.dataset(CCTV))
    assert message.startswith(
        "cctv.csv: baris 4: sel lebih dari 1024 KB (a cell over 1 MB); "
        "sel ini berlanjut sampai baris "
    )
    assert "perhaps an unclosed quote" in message


def test_line_of_20_mb_is_refused_without_holding_it(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "cctv.csv"
    with path.open("wb") as fh:
        fh.write(_csv([HEADER, *_good_rows(2)]).encode())
        fh.write(b"Mei 2026,CCTV-003,16.06.01,")
        for _ in range(20):
            fh.write(b"x" * MB)
        fh.write(b",600\n" + _csv(_good_rows(1, start=4)).encode())
    assert path.stat().st_size > 20 * MB
    with _bounded(seconds=2, megabytes=40), pytest.raises(ParseError) as info:
        parse_stream(lambda: path.open("rb"), "cctv.csv", catalog.dataset(CCTV))
    assert str(info.value).startswith("cctv.csv: baris 4 lebih dari 4 juta karakter")


# --- archives -------------------------------------------------------------------------------


def test_truncated_workbook_is_refused(catalog: Catalog) -> None:
    data = generate_dataset(catalog.dataset(CCTV), catalog, rows=40, seed=3).data
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None  # the whole file is fine
    message = _refused(data[: len(data) // 2], "cctv.xlsx", catalog.dataset(CCTV))
    assert message.startswith(
        "cctv.xlsx: file XLSX rusak atau terpotong (a damaged or truncated XLSX"
    )


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("laporan.csv", _csv([HEADER, *_good_rows(2)]))
    return buf.getvalue()


def test_zip_that_is_not_a_workbook_is_refused(catalog: Catalog) -> None:
    for name in ("laporan.xlsx", "laporan.csv"):  # the bytes decide, not the name
        message = _refused(_plain_zip(), name, catalog.dataset(CCTV))
        assert message == (
            f"{name}: file ZIP tetapi bukan workbook XLSX (a zip archive, not an XLSX workbook)"
        )


def test_zip_bomb_is_refused_before_expanding(catalog: Catalog) -> None:
    bomb = _zip_bomb(expanded_mb=1024)
    assert len(bomb) < 2 * MB  # 1 GB of sheet in about 1 MB
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:  # a valid zip: the sizes are not lies
        sheet = zf.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.file_size == 1024 * MB
        with zf.open(sheet) as fh:
            assert fh.read(MB) == bytes(MB)
    with _bounded(seconds=1, megabytes=20):
        message = _refused(bomb, "laporan.xlsx", catalog.dataset(CCTV))
    assert "XLSX mengembang menjadi 1024 MB" in message
    assert "refused as a zip bomb" in message


# --- through the pipeline -------------------------------------------------------------------


def _ctx(settings: Settings, catalog: Catalog) -> RunContext:
    ctx = RunContext(
        settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="test", run_id="run-1"
    )
    upgrade(ctx.engine, catalog)
    return ctx


def _drop(ctx: RunContext, ds: Dataset, data: bytes, name: str) -> None:
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + name, data)


def _fact_rows(ctx: RunContext, ds: Dataset) -> list[dict[str, Any]]:
    t = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(select(t).order_by(*[t.c[k] for k in ds.primary_key])).mappings()
        ]


def _meta(ctx: RunContext, name: str) -> list[dict[str, Any]]:
    with ctx.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(ctx.t("meta", name))).mappings()]


def _reconciles(summary: LoadSummary, ctx: RunContext) -> None:
    """Every input row loaded or rejected, in the summary and in meta.load_run."""
    assert summary.rows_in == summary.rows_loaded + summary.rows_rejected
    [run] = [r for r in _meta(ctx, "load_run") if r["load_id"] == summary.load_id]
    assert run["rows_in"] == run["rows_loaded"] + run["rows_rejected"] == summary.rows_in
    assert run["status"] == summary.status


def _cctv_csv(catalog: Catalog, rows: int, seed: int) -> bytes:
    return generate_dataset(catalog.dataset(CCTV), catalog, rows=rows, fmt="csv", seed=seed).data


def test_file_over_the_dataset_size_limit_is_rejected_and_kept(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog)
    base = catalog.dataset(CCTV)
    small = base.model_copy(
        update={
            "source": base.source.model_copy(
                update={"params": {**base.source.params, "max_bytes": 4096}}
            )
        }
    )
    assert small.id == base.id
    data = _cctv_csv(catalog, rows=400, seed=1)
    assert len(data) > 5 * 4096
    _drop(ctx, small, data, "besar.csv")

    [summary] = run_dataset(ctx, small)

    sha = hashlib.sha256(data).hexdigest()
    assert summary.status == "rejected"
    assert summary.rows_in == summary.rows_loaded == summary.rows_rejected == 0
    assert summary.error.startswith("besar.csv: 0.0 MB, jauh lebih besar dari batas")
    assert "source.params.max_bytes" in summary.error
    _reconciles(summary, ctx)
    assert ctx.lake.get(f"raw/{CCTV}/{sha}/besar.csv") == data  # the bytes stay in the lake
    manifest = json.loads(ctx.lake.get(f"raw/{CCTV}/{sha}/manifest.json"))
    assert (manifest["status"], manifest["sha256"], manifest["size"]) == (
        "rejected",
        sha,
        len(data),
    )
    assert manifest["error"] == summary.error
    [alert] = _meta(ctx, "alert")
    assert alert["load_id"] == summary.load_id and alert["dataset_id"] == CCTV
    assert "besar.csv" in alert["body"]
    assert ctx.lake.exists(alert["lake_key"])
    assert _fact_rows(ctx, base) == []


def test_bad_files_do_not_stop_good_ones(local_settings: Settings, catalog: Catalog) -> None:
    """Unusable files for one dataset, a good one beside them and one for another dataset."""
    ctx = _ctx(local_settings, catalog)
    cctv, bank = catalog.dataset(CCTV), catalog.dataset(BANK)
    bad = {
        "gambar.csv": b"\x89PNG\r\n\x1a\n" + bytes(64),
        "galat.csv": b"<!DOCTYPE html><html><body>500</body></html>",
        "kosong.csv": b"",
        "arsip.xlsx": _plain_zip(),
    }
    for name, data in bad.items():
        _drop(ctx, cctv, data, name)
    good = generate_dataset(cctv, catalog, rows=30, seed=2)
    _drop(ctx, cctv, good.data, good.filename)
    other = generate_dataset(bank, catalog, rows=30, seed=2)
    _drop(ctx, bank, other.data, other.filename)

    summaries = run_dataset(ctx, cctv) + run_dataset(ctx, bank)

    by_name = {s.filename: s for s in summaries}
    assert set(by_name) == {*bad, good.filename, other.filename}
    for name in bad:
        assert by_name[name].status == "rejected", by_name[name]
        assert by_name[name].error.startswith(f"{name}: ")
    assert "gambar PNG" in by_name["gambar.csv"].error
    assert "halaman HTML" in by_name["galat.csv"].error
    assert "file kosong" in by_name["kosong.csv"].error
    assert "bukan workbook XLSX" in by_name["arsip.xlsx"].error
    for gen in (good, other):
        s = by_name[gen.filename]
        assert (s.status, s.rows_in, s.rows_loaded) == ("loaded", 30, 30)
    assert len(_fact_rows(ctx, cctv)) == 30 and len(_fact_rows(ctx, bank)) == 30
    for s in summaries:
        _reconciles(s, ctx)
    assert {a["load_id"] for a in _meta(ctx, "alert")} == {by_name[n].load_id for n in bad}


def test_odd_inbox_names_are_sanitised_and_stay_in_the_lake(
    local_settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    ctx = _ctx(local_settings, catalog)
    ds = catalog.dataset(CCTV)
    inbox = Path(local_settings.lake_url) / inbox_prefix(catalog, ds)
    inbox.mkdir(parents=True)
    names = {  # as uploaded -> as kept in raw/
        "..%2F..%2F..%2Fetc%2Fpasswd.csv": "2F.._2F.._2Fetc_2Fpasswd.csv",
        "..laporan Mei 'final' \"v2\" ü\nbaru.csv": "laporan_Mei_final_v2_baru.csv",
        "...": "file",
        "data ñandú; rm -rf ~.csv": "data_and_rm_-rf_.csv",
    }
    shas = {}
    for seed, name in enumerate(names, 1):
        data = _cctv_csv(catalog, rows=10, seed=seed)
        (inbox / name).write_bytes(data)  # straight onto the disk: lake.put is not the uploader
        shas[name] = hashlib.sha256(data).hexdigest()

    summaries = run_dataset(ctx, ds)

    assert len(summaries) == len(names)
    by_sha = {s.sha256: s for s in summaries}
    for name, kept in names.items():
        s = by_sha[shas[name]]
        assert s.filename == kept
        assert s.status == "loaded" and s.rows_in == s.rows_loaded == 10
        assert ctx.lake.exists(f"raw/{CCTV}/{shas[name]}/{kept}")
        _reconciles(s, ctx)
    lake_root = Path(local_settings.lake_url).resolve()
    for path in tmp_path.rglob("*"):  # nothing escaped the lake folder
        if path.is_file():
            assert path.resolve().is_relative_to(lake_root) or path.name.startswith(
                "warehouse.db"
            ), path
    assert not list(tmp_path.parent.glob("**/passwd.csv"))
    assert not any(inbox.iterdir())  # every upload left the inbox
    for key in ctx.lake.list("raw/"):
        assert all(part not in ("", ".", "..") for part in key.split("/"))
        assert all(ch.isascii() and ch.isprintable() for ch in key)


def test_inbox_name_with_backslashes_is_sanitised_too(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog)
    ds = catalog.dataset(CCTV)
    inbox = Path(local_settings.lake_url) / inbox_prefix(catalog, ds)
    inbox.mkdir(parents=True)
    data = _cctv_csv(catalog, rows=10, seed=1)
    (inbox / "..\\..\\evil.csv").write_bytes(data)
    [summary] = run_dataset(ctx, ds)
    assert (summary.filename, summary.status) == ("evil.csv", "loaded")


def test_sql_in_headers_and_cells_never_reaches_sql(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog)
    ds = catalog.dataset(CCTV)
    with ctx.engine.begin() as conn:
        conn.execute(text("CREATE TABLE x (id INTEGER)"))
        conn.execute(text("INSERT INTO x VALUES (1)"))
    evil = 'kode_kecamatan"; DROP TABLE x; --'
    # 1. the crafted header replaces a required column: the file is refused, naming it
    replaced = _csv([["Periode", "Kode Kamera", evil, "Lokasi", "Jam Online"], *_good_rows(2)])
    _drop(ctx, ds, replaced.encode(), "ganti.csv")
    # 2. the crafted header is an extra column: it is ignored; a cell holds SQL too
    cell = "'); DROP TABLE x; --"
    extra = _csv([[*HEADER, evil], ["Juni 2026", "CCTV-001", "16.06.01", cell, "12", "1"]])
    _drop(ctx, ds, extra.encode(), "tambah.csv")

    summaries = {s.filename: s for s in run_dataset(ctx, ds)}

    assert summaries["ganti.csv"].status == "rejected"
    assert "kolom hilang: 'Kode Kecamatan'" in summaries["ganti.csv"].error
    assert summaries["tambah.csv"].status == "loaded"
    for s in summaries.values():
        _reconciles(s, ctx)
    [row] = _fact_rows(ctx, ds)
    assert row["lokasi"] == cell
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM x")).scalars().all() == [1]
    tables = inspect(ctx.engine).get_table_names()
    fact = fact_table(ds, ctx.engine.dialect.name)
    assert "x" in tables and fact.name in tables
    columns = {c["name"] for c in inspect(ctx.engine).get_columns(fact.name)}
    assert not any("drop" in c.lower() for c in columns)


FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "@SUM(A1)", "-2+3"]


def test_formula_cells_stay_text_and_are_neutralised_in_quarantine(
    local_settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(local_settings, catalog)
    ds = catalog.dataset(CCTV)
    good = [["Mei 2026", f"CCTV-{i}", "16.06.01", f, "600"] for i, f in enumerate(FORMULAS)]
    bad = [
        ["Mei 2026", f"CCTV-{i + 10}", "16.06.99", f, "600"]  # not a kecamatan of 16.06
        for i, f in enumerate(FORMULAS)
    ]
    data = _csv([HEADER, *good, *bad]).encode()
    assert b'"=HYPERLINK(""http://evil"",""x"")"' in data
    _drop(ctx, ds, data, "rumus.csv")

    [summary] = run_dataset(ctx, ds)

    assert (summary.status, summary.rows_in, summary.rows_loaded) == ("quarantined", 8, 4)
    _reconciles(summary, ctx)
    stored = {r["kode_kamera"]: r["lokasi"] for r in _fact_rows(ctx, ds)}
    assert stored == {f"CCTV-{i}": f for i, f in enumerate(FORMULAS)}  # exactly as typed
    rejected = list(
        csv.DictReader(io.StringIO(ctx.lake.get(summary.quarantine_key).decode("utf-8")))
    )
    assert [r["baris"] for r in rejected] == ["6", "7", "8", "9"]
    assert [r["lokasi"] for r in rejected] == ["'" + f for f in FORMULAS]
    assert all(r["kode_kecamatan"] == "16.06.99" for r in rejected)
