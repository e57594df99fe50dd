"""What kind of bytes arrived, and their rows as a stream, within bounded time and memory.

OPD uploads are often not what their name says: a PNG called `.csv`, an HTML error page, UTF-16
from an old Excel, a zip bomb. Each is recognised here and refused with a specific message, or
read correctly when it is merely unusual. Rows are yielded lazily, so a 500 MB CSV is never held
in memory as text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

SAMPLE = 64 * 1024
MAX_COLUMNS = 500
MAX_FIELD = 1024 * 1024  # one cell over 1 MB is not data an OPD typed
MAX_LINE = 4 * MAX_FIELD  # characters in one physical CSV line, read in pieces no longer than this
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_RATIO = 200  # compressed -> uncompressed; real workbooks stay far below
BINARY_MAGIC = {
    b"\x89PNG": "gambar PNG (PNG image)",
    b"\xff\xd8\xff": "gambar JPEG (JPEG image)",
    b"GIF8": "gambar GIF (GIF image)",
    b"%PDF": "dokumen PDF (PDF document)",
    b"\xd0\xcf\x11\xe0": "file Excel 97-2003 .xls (legacy Excel); simpan ulang sebagai .xlsx",
    b"\x1f\x8b": "arsip gzip (gzip archive)",
    b"Rar!": "arsip RAR (RAR archive)",
    b"7z\xbc\xaf": "arsip 7z (7z archive)",
}
Opener = Callable[[], IO[bytes]]
DATA_SHEET = "Data"  # read when the catalog declares no sheet and a workbook has one so named
XLSX_READER_ENV = "SERASAN_XLSX_READER"  # calamine (default) or openpyxl, the reference


class ParseError(Exception):
    """The file as a whole cannot be used; the message says why and what was expected."""


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 are read as Windows-1252, the encoding of Indonesian Excel."""
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("cp1252", errors="replace"), err.end


codecs.register_error("serasan-cp1252", _cp1252_fallback)


@dataclass
class Sniffed:
    kind: str  # csv | xlsx | json
    encoding: str = "utf-8"
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)


def _strip_bom(head: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            return head[len(bom) :]
    return head


def _utf16_without_bom(head: bytes) -> str | None:
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.1:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.1:
        return "utf-16-be"
    return None


def sniff(head: bytes, filename: str, allow_json: bool) -> Sniffed:
    """Decide how to read a file from its first bytes; refuse what is not a table."""
    if not _strip_bom(head).strip():
        raise ParseError(f"{filename}: file kosong (the file is empty)")
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("xlsx")
    for magic, what in BINARY_MAGIC.items():
        if head.startswith(magic):
            raise ParseError(f"{filename}: bukan CSV/XLSX melainkan {what}")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc, notes = "utf-16", ["file is UTF-16 text; read as such"]
    elif utf16 := _utf16_without_bom(head):
        enc, notes = utf16, ["file is UTF-16 text without a BOM; read as such"]
    else:
        enc, notes = ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), []
        if b"\x00" in head:
            line = head[: head.index(b"\x00")].count(b"\n") + 1
            raise ParseError(
                f"{filename}: baris {line} berisi byte NUL; ini bukan file teks CSV "
                f"(line {line} holds a NUL byte: not a CSV text file)"
            )
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the sample's end
                notes.append("some bytes are not UTF-8; read as Windows-1252")
    text = (
        head.decode(
            enc if enc != "utf-16" else "utf-16",
            errors="serasan-cp1252" if enc.startswith("utf-8") else "replace",
        )
        .lstrip("\ufeff")
        .lstrip()
    )
    low = text[:512].lower()
    if low.startswith("<") and ("<html" in low or "<!doctype" in low or "<body" in low):
        raise ParseError(
            f"{filename}: berisi halaman HTML, bukan data (an HTML page, perhaps "
            "an error page saved instead of the file)"
        )
    if low.startswith(("{", "[")):
        if allow_json:
            return Sniffed("json", enc, notes=notes)
        raise ParseError(f"{filename}: berisi JSON, bukan CSV/XLSX (JSON, expected CSV or XLSX)")
    lines = [
        ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:30] if ln.strip()
    ]
    delim = max((",", ";", "\t", "|"), key=lambda d: sum(ln.count(d) for ln in lines))
    return Sniffed("csv", enc, delim, notes)


def check_zip(opener: Opener, filename: str) -> None:
    """Refuse zips that are not workbooks or that would expand far beyond a real workbook."""
    try:
        with opener() as fh, zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
    except zipfile.BadZipFile as exc:
        raise ParseError(
            f"{filename}: file XLSX rusak atau terpotong (a damaged or truncated XLSX: {exc})"
        ) from None
    if "xl/workbook.xml" not in names:
        raise ParseError(
            f"{filename}: file ZIP tetapi bukan workbook XLSX (a zip archive, not an XLSX workbook)"
        )
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
        raise ParseError(
            f"{filename}: XLSX mengembang menjadi {total // 2**20} MB (expands to "
            f"{total // 2**20} MB, ratio {total // packed}:1); refused as a zip bomb"
        )


def pick_sheet(names: list[str], sheet: str | int | None, filename: str) -> str:
    """The worksheet to read among `names`: the one the catalog declares (`source.sheet`, a
    name or a position from 1), else the one named Data, else the first. A declared sheet the
    workbook does not have is an error naming the sheets it has: the sheet is never guessed."""
    listed = ", ".join(map(repr, names))
    if not names:
        raise ParseError(f"{filename}: workbook tanpa sheet data (a workbook with no worksheet)")
    if sheet is None:
        return DATA_SHEET if DATA_SHEET in names else names[0]
    if isinstance(sheet, int):
        if 1 <= sheet <= len(names):
            return names[sheet - 1]
        raise ParseError(
            f"{filename}: tidak ada sheet ke-{sheet}; workbook ini punya {len(names)} sheet: "
            f"{listed} (no sheet {sheet}, as source.sheet declares: the workbook has "
            f"{len(names)} sheet(s), {listed})"
        )
    if sheet in names:
        return sheet
    near = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
    hint = f"; perhaps {near[0]!r}, written otherwise" if near else ""
    raise ParseError(
        f"{filename}: tidak ada sheet {sheet!r}; sheet yang ada: {listed} (the workbook has no "
        f"sheet {sheet!r}, as source.sheet declares; its sheets are {listed}{hint})"
    )


def _workbook(opener: Opener, filename: str) -> tuple[IO[bytes], Any]:
    """The open file and its workbook (read-only, cached values); close both."""
    from openpyxl import load_workbook

    check_zip(opener, filename)
    fh = opener()
    try:
        return fh, load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for corrupt workbooks
        fh.close()
        raise ParseError(
            f"{filename}: workbook XLSX tidak dapat dibaca (unreadable workbook: {exc})"
        ) from None


def xlsx_reader() -> str:
    """The XLSX reader: calamine (Rust, the default) or openpyxl (the reference, chosen with
    SERASAN_XLSX_READER=openpyxl). calamine reads a workbook only where it gives openpyxl's
    values (`serasan.parse.xlsx_calamine`); elsewhere openpyxl does, and says so."""
    return "openpyxl" if os.environ.get(XLSX_READER_ENV, "").lower() == "openpyxl" else "calamine"


def xlsx_sheets(opener: Opener, filename: str) -> list[str]:
    """The names of a workbook's worksheets, in the order of its tabs.

    Read by openpyxl's reader without the shared strings and the sheets' cells (fast on large
    workbooks); a workbook that reader refuses, or with a sheet it would have to parse whole
    to size (no <dimension>), is read by `xlsx_sheets_openpyxl`, the reference."""
    if xlsx_reader() == "calamine":
        from serasan.parse.xlsx_calamine import read_book

        check_zip(opener, filename)
        try:
            book = read_book(opener)
        except Exception:  # the reference below gives openpyxl's own refusal
            book = None
        # a sheet without <dimension> openpyxl parses whole on opening (and may refuse)
        if book is not None and all(s.sized for s in book.sheets):
            return book.names
    return xlsx_sheets_openpyxl(opener, filename)


def xlsx_sheets_openpyxl(opener: Opener, filename: str) -> list[str]:
    """`xlsx_sheets` by openpyxl's `load_workbook`: the reference."""
    fh, wb = _workbook(opener, filename)
    try:
        return [ws.title for ws in wb.worksheets]
    finally:
        wb.close()
        fh.close()


def xlsx_rows(
    opener: Opener,
    filename: str,
    sheet: str | int | None = None,
    notes: list[str] | None = None,
) -> Generator[tuple[int, list[Any]], None, None]:
    """The rows of one worksheet: `sheet` as `pick_sheet` reads it (default Data, else the
    first), each as (its row number in the spreadsheet, its cells), from row 1.

    Read by calamine where it gives exactly what `xlsx_rows_openpyxl` gives (values, types, row
    numbers, row widths and refusals), else by openpyxl: that decision is logged and, when
    `notes` is given, added to it."""
    if xlsx_reader() == "openpyxl":
        yield from xlsx_rows_openpyxl(opener, filename, sheet)
        return
    from serasan.parse import xlsx_calamine

    check_zip(opener, filename)
    yield from xlsx_calamine.read(
        opener, filename, sheet, lambda: xlsx_rows_openpyxl(opener, filename, sheet), notes
    )


def xlsx_rows_openpyxl(
    opener: Opener, filename: str, sheet: str | int | None = None
) -> Generator[tuple[int, list[Any]], None, None]:
    """`xlsx_rows` by openpyxl's read-only reader: the reference the calamine path is held
    to (tests/unit/test_xlsx_calamine.py), and the path for what calamine reads otherwise."""
    fh, wb = _workbook(opener, filename)
    try:
        ws = wb[pick_sheet([w.title for w in wb.worksheets], sheet, filename)]
        # The sheet's <dimension> is only a claim, and read-only openpyxl trusts it: one that
        # is too small hides rows and columns, one that is too wide (a styled cell far to the
        # right) pads every row to thousands of cells. Read the cells that are there, and pad
        # rows to the claimed width (at most MAX_COLUMNS) as before.
        width = min(ws.max_column or 0, MAX_COLUMNS)
        ws.reset_dimensions()
        for number, row in enumerate(ws.iter_rows(values_only=True), 1):
            if len(row) > MAX_COLUMNS and any(v is not None for v in row[MAX_COLUMNS:]):
                raise ParseError(
                    f"{filename}: baris {number} memiliki {len(row)} kolom "
                    f"(row {number} has {len(row)} columns; at most {MAX_COLUMNS})"
                )
            cells = list(row[:MAX_COLUMNS])
            cells.extend([None] * (width - len(cells)))
            yield number, cells
    except ParseError:
        raise
    except Exception as exc:  # a truncated sheet surfaces while streaming
        raise ParseError(f"{filename}: workbook XLSX rusak (damaged workbook: {exc})") from None
    finally:
        wb.close()
        fh.close()


def _lines(text: IO[str], filename: str) -> Iterator[str]:
    """Physical lines for the csv module, each held whole only up to MAX_LINE characters.

    Python's csv module reads NUL characters as data, so they are refused here, on any line,
    not only in the sniffed head.
    """
    number = 0
    while line := text.readline(MAX_LINE):
        number += 1
        if "\x00" in line:
            raise ParseError(
                f"{filename}: baris {number} berisi byte NUL; ini bukan file teks "
                f"CSV (line {number} holds a NUL byte: not a CSV text file)"
            )
        if len(line) >= MAX_LINE and not line.endswith("\n"):
            raise ParseError(
                f"{filename}: baris {number} lebih dari {MAX_LINE // 2**20} juta "
                f"karakter tanpa akhir baris (line {number} is over "
                f"{MAX_LINE // 2**20} million characters long)"
            )
        yield line


def csv_rows(opener: Opener, filename: str, sn: Sniffed) -> Iterator[tuple[int, list[Any]]]:
    errors = "serasan-cp1252" if sn.encoding.startswith("utf-8") else "strict"
    raw = opener()
    text = io.TextIOWrapper(raw, encoding=sn.encoding, errors=errors, newline=None)
    reader = csv.reader(_lines(text, filename), delimiter=sn.delimiter, strict=True)
    previous = csv.field_size_limit(MAX_FIELD)
    ended = 0  # the line the last record ended on: the next one starts on the line after it
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                start, line, msg = ended + 1, reader.line_num, str(exc)
                later = (
                    f"; sel ini berlanjut sampai baris {line}, mungkin tanda kutip tidak "
                    f"ditutup (the cell runs on to line {line}: perhaps an unclosed quote)"
                    if line > start
                    else ""
                )
                if "field larger" in msg:
                    why = f"sel lebih dari {MAX_FIELD // 1024} KB (a cell over 1 MB){later}"
                elif "end of data" in msg or "EOF" in msg:
                    why = (
                        "tanda kutip yang dibuka di baris ini tidak pernah ditutup (a quote "
                        "opened on this line is never closed)"
                    )
                elif "expected after" in msg:
                    why = (
                        "tanda kutip tidak berpasangan: ada teks setelah tanda kutip penutup"
                        f"{f' di baris {line}' if line > start else ''} (unbalanced quotes: "
                        f"text after a closing quote{f' on line {line}' if line > start else ''}"
                        ")"
                    )
                elif "NUL" in msg:
                    why = "berisi byte NUL (a NUL byte)"
                else:
                    why = msg
                raise ParseError(f"{filename}: baris {start}: {why}") from None
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"{filename}: bukan teks {sn.encoding} yang valid "
                    f"(not valid {sn.encoding} text: {exc.reason})"
                ) from None
            ended = reader.line_num
            if len(row) > MAX_COLUMNS and any(v.strip() for v in row[MAX_COLUMNS:]):
                raise ParseError(
                    f"{filename}: baris {reader.line_num} memiliki {len(row)} kolom "
                    f"(line {reader.line_num} has {len(row)} columns; at most "
                    f"{MAX_COLUMNS})"
                )
            yield reader.line_num, row[:MAX_COLUMNS]
    finally:
        csv.field_size_limit(previous)
        text.close()


def json_rows(
    opener: Opener, filename: str, columns: list[str], records_path: str = "data"
) -> Iterator[tuple[int, list[Any]]]:
    """JSON pulled from an API: a list of objects (or one under `records_path`) as rows."""
    with opener() as fh:
        try:
            doc = json.load(fh)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ParseError(f"{filename}: JSON tidak valid (invalid JSON: {exc})") from None
    if isinstance(doc, dict):
        for part in records_path.split("."):
            doc = doc.get(part) if isinstance(doc, dict) else None
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise ParseError(f"{filename}: JSON harus berupa daftar objek (expected a list of records)")
    yield 0, list(columns)
    for number, rec in enumerate(doc, 1):
        yield number, [rec.get(c) for c in columns]
