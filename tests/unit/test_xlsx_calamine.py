"""Proof of sameness for workbooks (issue 17): calamine's path (`xlsx_rows`, through
`serasan.parse.xlsx_calamine`) against openpyxl's (`xlsx_rows_openpyxl`, the reference).

Rows: for each workbook and sheet both give the same rows, numbered alike from row 1, each
cell equal *with its type* (5 is not 5.0, True is not 1, a datetime is not a date), rows as
long; or both refuse it with the identical ParseError. Whether calamine really read it (no
note) or left it to openpyxl (a note naming why) is asserted too, so a check that sent
everything to openpyxl could not pass for sameness.

Full parses: `parse_file` with either reader (SERASAN_XLSX_READER) gives the identical table,
rejects, counts and notes, or the identical refusal.

The corpus:
- every workbook the suite already reads: each catalog dataset's generated workbook (clean, and
  with every defect kind at 30 %), its XLSX template (every sheet), a quarantine workbook, the
  workbooks of tests/unit/parse (test_bad_input: too many columns, a styled cell far right, a
  wrong <dimension>, a truncated file, a plain zip, a zip bomb; test_sheet_setting's two-sheet
  workbook; test_real_readings' re-saved Bandung workbook) and the real workbooks of
  ../shared/samples/real, every sheet;
- workbooks made here with each kind of cell calamine could read otherwise: a merged header,
  leading blank rows and columns, dates, times and durations stored as numbers (both calendars,
  thousands of random serials, the edges), text that looks like numbers, ints and floats, big and
  exponent numbers, booleans, error cells, formulas with cached values, inline, empty, blank and
  escaped strings, a <dimension> too small, too large or missing, styled empty cells, hidden
  and chart sheets, a Data sheet, sheets by name and position, rows out of order or without
  references, a sparse sheet too large for calamine's grid, and damaged XML.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import random
import re
import weakref
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import openpyxl
import pyarrow as pa
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Border, Font, Side
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from serasan.config.catalog import Dataset
from serasan.demo.generate import applicable_defects, generate_dataset
from serasan.ingest.template import write_template
from serasan.parse import xlsx_calamine
from serasan.parse.reader import ParseResult, parse_file
from serasan.parse.sniff import (
    XLSX_READER_ENV,
    ParseError,
    xlsx_rows,
    xlsx_rows_openpyxl,
    xlsx_sheets,
    xlsx_sheets_openpyxl,
)
from serasan.quality.onboard import draft
from serasan.quality.quarantine import quarantine_xlsx
from serasan.quality.suites import load_validated_catalog
from tests.unit.parse.test_bad_input import HEADER, _good_rows, _rezip, _xlsx, _zip_bomb
from tests.unit.parse.test_real_readings import SUMSEL, _bandung, _bandung_xlsx, _sumsel
from tests.unit.parse.test_sheet_setting import _small
from tests.unit.parse.test_sheet_setting import _workbook as _two_sheets

CATALOG = load_validated_catalog()
IDS = sorted(CATALOG.datasets)
REAL = "samples/real"
BANDUNG = "kabbandung-satudata/penduduk3204.xlsx"
KEKERASAN = SUMSEL.removeprefix(f"{REAL}/")
FALLBACK = "read with openpyxl, not calamine"

Rows = list[tuple[int, list[tuple[str, Any]]]] | tuple[str, str]


@pytest.fixture(autouse=True)
def _default_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """calamine's path is the default: nothing in the environment may choose otherwise."""
    monkeypatch.delenv(XLSX_READER_ENV, raising=False)


# ---------------------------------------------------------------- the comparison


def _rows(read: Callable[[], Iterator[tuple[int, list[Any]]]]) -> Rows:
    """Each row with its number, each cell as (type name, value); or the refusal."""
    try:
        return [(n, [(type(v).__name__, v) for v in row]) for n, row in read()]
    except ParseError as exc:
        return ("ParseError", str(exc))


def _names(read: Callable[[], list[str]]) -> list[str] | tuple[str, str]:
    try:
        return read()
    except ParseError as exc:
        return ("ParseError", str(exc))


def _first_difference(got: Rows, ref: Rows) -> str:
    if isinstance(got, tuple) or isinstance(ref, tuple):
        return f"calamine: {str(got)[:300]}\nopenpyxl: {str(ref)[:300]}"
    for a, b in zip(got, ref, strict=False):
        if a != b:
            return f"calamine: {a}\nopenpyxl: {b}"
    return f"calamine gave {len(got)} rows, openpyxl {len(ref)}"


def assert_same(
    data: bytes,
    filename: str = "t.xlsx",
    sheet: str | int | None = None,
    *,
    calamine: bool = True,
    why: str = "",
) -> Rows:
    """Both readers give the same rows (or refusal); calamine read it (`calamine`) or left it
    to openpyxl with a note holding `why`. Returns the rows."""
    opener = lambda: io.BytesIO(data)  # noqa: E731
    notes: list[str] = []
    got = _rows(lambda: xlsx_rows(opener, filename, sheet, notes=notes))
    ref = _rows(lambda: xlsx_rows_openpyxl(opener, filename, sheet))
    assert got == ref, _first_difference(got, ref)
    assert _names(lambda: xlsx_sheets(opener, filename)) == _names(
        lambda: xlsx_sheets_openpyxl(opener, filename)
    )
    if calamine:
        assert notes == [], notes
    else:
        assert len(notes) == 1 and FALLBACK in notes[0] and why in notes[0], notes
    return ref


# ---------------------------------------------------------------- workbooks made here

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _raw(
    sheets: list[tuple[str, str]],
    strings: tuple[str, ...] = (),
    formats: tuple[tuple[int, str], ...] = (),
    styles: tuple[int, ...] = (0,),
    date1904: bool = False,
    states: dict[str, str] | None = None,
) -> bytes:
    """A workbook written by hand: each sheet (name, the XML inside <worksheet>, e.g. a
    <dimension> and <sheetData>), shared strings (as <si> XML or plain text), custom number
    formats and the numFmtId of each cell style."""
    states = states or {}
    n = len(sheets)
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
        'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
        'styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        f'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>{sheet_types}</Types>'
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?>\r\n<workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
        + ('<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>")
        + "<sheets>"
        + "".join(
            f'<sheet name="{name}" sheetId="{i}"'
            + (f' state="{states[name]}"' if name in states else "")
            + f' r:id="rId{i}"/>'
            for i, (name, _) in enumerate(sheets, 1)
        )
        + "</sheets></workbook>"
    )
    workbook_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        + f'<Relationship Id="rId{n + 1}" Type="{RELS}/styles" Target="styles.xml"/>'
        + f'<Relationship Id="rId{n + 2}" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        + "</Relationships>"
    )
    numfmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{code}"/>' for i, code in formats)
    stylesheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
        + (f'<numFmts count="{len(formats)}">{numfmts}</numFmts>' if formats else "")
        + '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" '
        f'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="{len(styles)}">'
        + "".join(
            f'<xf numFmtId="{f}" fontId="0" fillId="0" borderId="0" xfId="0"/>' for f in styles
        )
        + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )
    shared = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">'
        + "".join(s if s.startswith("<si") else f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship '
            f'Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        zf.writestr("xl/styles.xml", stylesheet)
        zf.writestr("xl/sharedStrings.xml", shared)
        for i, (_, body) in enumerate(sheets, 1):
            if not body.lstrip().startswith("<"):
                body = f"<sheetData>{body}</sheetData>"
            zf.writestr(
                f"xl/worksheets/sheet{i}.xml",
                f'<?xml version="1.0" encoding="UTF-8"?>\r\n<worksheet xmlns="{MAIN}" '
                f'xmlns:r="{RELS}">{body}</worksheet>',
            )
    return buf.getvalue()


def _sheet(rows: dict[int, str]) -> str:
    """<sheetData> of rows given as {row number: the cells' XML}."""
    return (
        "<sheetData>" + "".join(f'<row r="{r}">{c}</row>' for r, c in rows.items()) + "</sheetData>"
    )


def _book(build: Callable[[Any], None], write_only: bool = False) -> bytes:
    """A workbook written by openpyxl: `build` fills it (its active sheet is 'Data')."""
    wb = openpyxl.Workbook(write_only=write_only)
    if not write_only:
        wb.active.title = "Data"
    build(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _merged_header(wb: Any) -> None:
    ws = wb["Data"]
    ws["C3"] = "DATA KUNJUNGAN"
    ws.merge_cells("C3:F3")
    ws["C4"], ws["D4"] = "Kecamatan", "Jumlah"
    ws.merge_cells("D4:E4")
    ws["F4"] = "Tanggal"
    for i in range(5, 40):
        ws.cell(i, 3, f"Kecamatan {i}")
        ws.cell(i, 4, i * 7)
        ws.cell(i, 6, dt.date(2026, 1, 1) + dt.timedelta(days=i))


def _typed(wb: Any) -> None:
    ws = wb["Data"]
    ws.append(["teks", "kode", "bulat", "pecahan", "benar", "tanggal", "waktu", "jam"])
    values = [
        [
            "Pasar Randik",
            "007",
            5,
            5.5,
            True,
            dt.datetime(2026, 3, 1),
            dt.datetime(2026, 3, 1, 13, 5),
        ],
        ["  spasi  ", "1.234,5", -3, 0.1 + 0.2, False, dt.date(2026, 2, 28), dt.time(7, 30)],
        ["baris\nbaru", "16.06.01", 0, 1 / 3, None, dt.datetime(1900, 3, 1), dt.time(0, 0, 1)],
        ["Rp 15.382.417", "0812", 123456789012345, -0.5, True, dt.datetime(2100, 12, 31)],
        ["tab\there", "=SUM(A1)", 10**14, 2.5e-3, None, None, dt.time(23, 59, 59)],
    ]
    for row in values:
        ws.append(row)
    for cell in ws["B"][1:]:
        cell.number_format = "@"
        cell.data_type = "s"
    for cell in ws["H"][1:]:
        cell.number_format = "hh:mm"
    for r in range(2, 7):
        ws.cell(r, 8, r / 24)
    ws["F3"].number_format = "dd/mm/yyyy"
    ws["F4"].number_format = "d mmmm yyyy"
    ws["F5"].number_format = "[$-421]dd mmmm yyyy;@"


def _dates_1904(wb: Any) -> None:
    wb.epoch = CALENDAR_MAC_1904
    ws = wb["Data"]
    ws.append(["tanggal", "waktu", "jam"])
    for i in range(1, 60):
        day = dt.datetime(1904, 1, 1) + dt.timedelta(days=i * 400, minutes=i * 7)
        ws.append([day, day.date(), day.time()])


def _serials(kind: str, date1904: bool) -> bytes:
    """Thousands of random serial numbers, each in four date styles and as a plain number."""
    rng = random.Random(f"{kind}{date1904}")
    if kind == "days":
        values = [rng.randint(1, 999_999) for _ in range(1500)]
    elif kind == "datetimes":
        values = [rng.randint(1, 80_000) + rng.randint(0, 86_399) / 86_400 for _ in range(1500)]
        values += [round(rng.uniform(1, 80_000), 9) for _ in range(1500)]
    else:  # times of day
        values = [round(rng.uniform(0, 0.99999999), 8) for _ in range(2000)]
    values += [1, 2, 59, 60, 61, 0.5, 0.25, 0.001, 0.9999999, 999_999]
    rows = {
        i: "".join(f'<c r="{col}{i}" s="{s}"><v>{v!r}</v></c>' for s, col in enumerate("ABCDE"))
        for i, v in enumerate(values, 1)
        if "e" not in repr(v)
    }
    return _raw(
        [("Data", _sheet(rows))],
        formats=((164, "dd/mm/yyyy hh:mm:ss"),),
        styles=(0, 14, 22, 164, 21),
        date1904=date1904,
    )


def _date_cell(value: str) -> bytes:
    return _raw(
        [("Data", _sheet({1: '<c r="A1"><v>1</v></c>', 2: f'<c r="A2" s="1"><v>{value}</v></c>'}))],
        styles=(0, 14),
    )


def _cached_formulas() -> bytes:
    return _raw(
        [
            (
                "Data",
                _sheet(
                    {
                        1: '<c r="A1"><v>2</v></c><c r="B1"><f>A1*2</f><v>4</v></c>'
                        '<c r="C1" t="str"><f>"x"&amp;A1</f><v>x2</v></c>'
                        '<c r="D1" t="b"><f>A1&gt;1</f><v>1</v></c>',
                        2: '<c r="A2"><f t="shared" ref="A2:A4" si="0">B1+1</f><v>5</v></c>'
                        '<c r="B2"><f>NOW()</f></c><c r="C2" t="str"><f>""</f><v></v></c>'
                        '<c r="D2"><v>0.5</v></c>',
                        3: '<c r="A3"><f t="shared" si="0"/><v>6</v></c>',
                        4: '<c r="A4"><f t="shared" si="0"/><v>7.25</v></c>',
                    }
                ),
            )
        ]
    )


def _strings(*cells: str) -> bytes:
    """One row of shared-string cells, the strings given as <si> XML."""
    row = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(cells)))
    return _raw([("Data", _sheet({1: row, 2: '<c r="A2"><v>1</v></c>'}))], strings=cells)


def _inline(text: str) -> bytes:
    row = f'<c r="A1" t="inlineStr"><is>{text}</is></c><c r="B1"><v>1</v></c>'
    return _raw([("Data", _sheet({1: row}))])


def _values(*cells: str) -> bytes:
    return _raw([("Data", _sheet({1: "".join(cells), 2: '<c r="A2"><v>1</v></c>'}))])


def _dimension(ref: str | None, rows: int = 10, styled_end: str = "") -> bytes:
    """Rows of five values (A:E) under a <dimension> of `ref` (None: no element)."""
    body = {
        r: "".join(f'<c r="{c}{r}"><v>{r * 10 + j}</v></c>' for j, c in enumerate("ABCDE"))
        + (f'<c r="{styled_end}{r}" s="1"/>' if styled_end and r % 3 == 0 else "")
        for r in range(1, rows + 1)
    }
    dim = f'<dimension ref="{ref}"/>' if ref else ""
    return _raw([("Data", dim + _sheet(body))], styles=(0, 0))


def _borders(wb: Any) -> None:
    ws = wb["Data"]
    thin = Side(style="thin")
    for r in range(1, 30):
        for c in range(1, 12):  # a bordered table wider and longer than its values
            ws.cell(r, c).border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for r in range(3, 20):
        ws.cell(r, 2, f"v{r}")
        ws.cell(r, 5, r)


def _sheets(wb: Any) -> None:
    wb["Data"].title = "Metadata"
    wb["Metadata"]["A1"] = "Judul"
    hidden = wb.create_sheet("Arsip")
    hidden.append(["lama", 1])
    hidden.sheet_state = "hidden"
    chart = wb.create_chartsheet("Grafik")
    data = wb.create_sheet("Data")
    data.append(["Kecamatan", "Jumlah"])
    for i in range(1, 8):
        data.append([f"K{i}", i])
    bar = BarChart()
    bar.add_data(Reference(data, min_col=2, min_row=1, max_row=8), titles_from_data=True)
    chart.add_chart(bar)
    very = wb.create_sheet("Rahasia")
    very.append(["x"])
    very.sheet_state = "veryHidden"


def _write_only(wb: Any) -> None:
    ws = wb.create_sheet("Data")
    ws.append(["Kecamatan", "Jumlah", None, "Catatan"])
    for i in range(200):
        ws.append([f"K{i}", i, None, "ok" if i % 2 else None])
    ws.append([])
    ws.append(["Jumlah", 19900])


def _damaged_other_sheet() -> bytes:
    good = _sheet({1: '<c r="A1"><v>1</v></c>'})
    return _raw([("Data", good), ("Lain", '<dimension ref="A1:B2"><sheetData/>')])


def _other_sheet_without_dimension(broken: bool) -> bytes:
    data = '<dimension ref="A1"/>' + _sheet({1: '<c r="A1"><v>1</v></c>'})
    other = _sheet({1: '<c r="A1"><v>2</v></c>' + ("<c r=" if broken else "")})
    return _raw([("Data", data), ("Lain", other)])


def _namespaced() -> bytes:
    data = _raw(
        [("Data", _sheet({1: '<c r="A1"><v>1</v></c><c r="B1" t="s"><v>0</v></c>'}))], ("a",)
    )

    def prefix(name: str, body: bytes) -> bytes:
        if not name.endswith("sheet1.xml"):
            return body
        body = body.replace(f'xmlns="{MAIN}"'.encode(), f'xmlns:x="{MAIN}"'.encode())
        return re.sub(rb"<(/?)(worksheet|sheetData|row|c|v)\b", rb"<\1x:\2", body)

    return _rezip(data, prefix)


def _sparse_empty_text() -> bytes:
    """A formula's empty text in SF17000 (openpyxl: None; calamine: '' in its grid)."""
    far = '<c r="SF17000" t="str"><f>""</f><v></v></c>'
    head = '<dimension ref="A1:SF17000"/>'
    return _raw([("Data", head + _sheet({1: '<c r="A1"><v>1</v></c>', 17000: far}))])


def _far_empty_text() -> bytes:
    """An empty text past column 500: no refusal from openpyxl, a wide grid in calamine."""
    far = '<c r="XFD2" t="str"><f>""</f><v></v></c>'
    return _raw(
        [("Data", _sheet({1: '<c r="A1"><v>1</v></c>', 2: '<c r="A2"><v>2</v></c>' + far}))]
    )


def _sparse() -> bytes:
    """A value in A1 and one in SF17000: 17,000 rows of 500 columns in calamine's grid."""
    return _raw(
        [("Data", _sheet({1: '<c r="A1"><v>1</v></c>', 17000: '<c r="SF17000"><v>2</v></c>'}))]
    )


MADE: list[Any] = [
    # (id, workbook, sheet, calamine reads it, the reason noted otherwise)
    ("merged_header_blank_rows_and_columns", lambda: _book(_merged_header), None, True, ""),
    ("typed_cells", lambda: _book(_typed), None, True, ""),
    ("serial_days", lambda: _serials("days", False), None, True, ""),
    ("serial_datetimes", lambda: _serials("datetimes", False), None, True, ""),
    ("serial_times", lambda: _serials("times", False), None, True, ""),
    ("serial_days_1904", lambda: _serials("days", True), None, True, ""),
    ("serial_datetimes_1904", lambda: _serials("datetimes", True), None, True, ""),
    ("date_negative", lambda: _date_cell("-5.25"), None, False, "date cell"),
    ("date_past_9999", lambda: _date_cell("2958466"), None, False, "date cell"),
    ("date_just_below_1", lambda: _date_cell("0.9999999999"), None, False, "date cell"),
    ("date_exponent", lambda: _date_cell("4.5E4"), None, False, "exponent"),
    (
        "durations",
        lambda: _book(lambda wb: wb["Data"].append([dt.timedelta(hours=30)])),
        None,
        False,
        "duration",
    ),
    ("date_1904_workbook", lambda: _book(_dates_1904), None, True, ""),
    ("formulas_with_cached_values", _cached_formulas, None, True, ""),
    (
        "error_cells",
        lambda: _values(
            '<c r="A1" t="e"><v>#N/A</v></c>', '<c r="B1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        ),
        None,
        False,
        "error cells",
    ),
    (
        "number_written_5_0",
        lambda: _values('<c r="A1"><v>5.0</v></c>'),
        None,
        False,
        "point or exponent",
    ),
    (
        "number_with_exponent",
        lambda: _values('<c r="A1"><v>1E3</v></c>'),
        None,
        False,
        "point or exponent",
    ),
    (
        "number_of_16_digits",
        lambda: _values('<c r="A1"><v>3204123456789012</v></c>'),
        None,
        False,
        "16 digits",
    ),
    ("number_nan", lambda: _values('<c r="A1"><v>NaN</v></c>'), None, False, "NaN"),
    (
        "number_with_blanks",
        lambda: _values('<c r="A1"><v> 7 </v></c>', '<c r="B1" t="s"><v>0 </v></c>'),
        None,
        False,
        "blanks",
    ),
    (
        "numbers_plain",
        lambda: _values(
            *(
                f'<c r="{c}1"><v>{v}</v></c>'
                for c, v in zip(
                    "ABCDEFG",
                    ["-0", "+5", "007", "999999999999999", "1.5", "-2.25", "0.000123"],
                    strict=True,
                )
            )
        ),
        None,
        True,
        "",
    ),
    (
        "boolean_true_word",
        lambda: _values('<c r="A1" t="b"><v>true</v></c>'),
        None,
        False,
        "boolean",
    ),
    (
        "iso_date_cell",
        lambda: _values('<c r="A1" t="d"><v>2026-01-15T00:00:00</v></c>'),
        None,
        False,
        "ISO date",
    ),
    (
        "shared_strings",
        lambda: _strings(
            "<si><t>a</t></si>",
            '<si><t xml:space="preserve">  b  </t></si>',
            "<si><r><t>ri</t></r><r><t>ch</t></r></si>",
            "<si><t>x &amp; y &#10;z</t></si>",
        ),
        None,
        True,
        "",
    ),
    (
        "shared_strings_entities_and_unicode_blanks",
        lambda: _strings(
            "<si><t>a&#13;b</t></si>",
            "<si><t>c&#10;d&#9;e</t></si>",
            "<si><t>&lt;x&gt; &quot;y&quot; &apos;z&apos; &#x1F600; \u00e9</t></si>",
            "<si><t>\u00a0nbsp\u3000</t></si>",
        ),
        None,
        True,
        "",
    ),
    ("shared_string_empty", lambda: _strings("<si><t/></si>"), None, False, "empty"),
    (
        "shared_string_blank_without_preserve",
        lambda: _strings("<si><t> b </t></si>"),
        None,
        False,
        "blanks",
    ),
    ("shared_string_escape", lambda: _strings("<si><t>a_x000D_b</t></si>"), None, False, "_xHHHH_"),
    ("shared_string_x005F", lambda: _strings("<si><t>ax005F_b</t></si>"), None, False, "x005F_"),
    (
        "shared_string_out_of_range",
        lambda: _raw([("Data", _sheet({1: '<c r="A1" t="s"><v>3</v></c>'}))], ("a",)),
        None,
        False,
        "CalamineError",
    ),
    ("inline_strings", lambda: _book(_write_only, write_only=True), None, True, ""),
    ("inline_string_empty", lambda: _inline("<t></t>"), None, False, "empty"),
    ("inline_string_blank", lambda: _inline("<t> x</t>"), None, False, "blanks"),
    (
        "inline_string_carriage_return",
        lambda: _inline("<t>a\r\nb</t>"),
        None,
        False,
        "carriage return",
    ),
    (
        "formula_text_with_blanks",
        lambda: _values('<c r="A1" t="str"><f>A2</f><v>  x  </v></c>'),
        None,
        True,
        "",
    ),
    ("control_character", lambda: _inline("<t>a\x01b</t>"), None, False, "control character"),
    (
        "duplicated_attribute",
        lambda: _values('<c r="A1" r="A1"><v>1</v></c>'),
        None,
        False,
        "duplicated",
    ),
    ("dimension_too_small", lambda: _dimension("A1:B2"), None, True, ""),
    ("dimension_too_large", lambda: _dimension("A1:Z40"), None, True, ""),
    ("dimension_missing", lambda: _dimension(None), None, True, ""),
    ("dimension_one_cell", lambda: _dimension("A1"), None, True, ""),
    (
        "styled_empty_cell_ends_rows_beyond_dimension",
        lambda: _dimension("A1:E10", styled_end="H"),
        None,
        False,
        "empty cell beyond",
    ),
    (
        "styled_empty_cell_within_dimension",
        lambda: _dimension("A1:H10", styled_end="H"),
        None,
        True,
        "",
    ),
    ("bordered_table", lambda: _book(_borders), None, True, ""),
    (
        "rows_out_of_order",
        lambda: _raw(
            [
                (
                    "Data",
                    '<sheetData><row r="3"><c r="A3"><v>3</v></c></row><row r="2"><c r="A2"><v>2</v></c></row></sheetData>',
                )
            ]
        ),
        None,
        False,
        "out of order",
    ),
    (
        "rows_without_reference",
        lambda: _raw(
            [
                (
                    "Data",
                    '<sheetData><row><c r="A1"><v>1</v></c></row><row><c r="A2"><v>2</v></c></row></sheetData>',
                )
            ]
        ),
        None,
        False,
        "no reference",
    ),
    (
        "cells_without_reference",
        lambda: _raw(
            [("Data", '<sheetData><row r="1"><c><v>1</v></c><c><v>2</v></c></row></sheetData>')]
        ),
        None,
        False,
        "no reference",
    ),
    (
        "cell_outside_its_rows",
        lambda: _raw(
            [("Data", '<sheetData><row r="1"><c r="A900000"><v>1</v></c></row></sheetData>')]
        ),
        None,
        False,
        "outside its rows",
    ),
    ("empty_sheet", lambda: _raw([("Data", "<sheetData/>")]), None, True, ""),
    (
        "only_styled_cells",
        lambda: _raw(
            [("Data", '<dimension ref="B2"/>' + _sheet({2: '<c r="B2" s="1"/>', 5: ""}))],
            styles=(0, 0),
        ),
        None,
        True,
        "",
    ),
    (
        "trailing_empty_rows",
        lambda: _raw(
            [
                (
                    "Data",
                    '<dimension ref="B1:C41"/>'
                    + _sheet({1: '<c r="B1"><v>1</v></c>', 40: "", 41: '<c r="C41" s="0"/>'}),
                )
            ]
        ),
        None,
        True,
        "",
    ),
    (
        "trailing_styled_cell_without_dimension",
        lambda: _raw([("Data", _sheet({1: '<c r="B1"><v>1</v></c>', 41: '<c r="C41" s="0"/>'}))]),
        None,
        False,
        "empty cell beyond",
    ),
    ("sparse_beyond_the_grid", _sparse, None, False, "grid cells"),
    ("sparse_empty_text_beyond_the_grid", _sparse_empty_text, None, False, "grid cells"),
    ("empty_text_past_column_500", _far_empty_text, None, False, "past column 500"),
    ("hidden_and_chart_sheets_by_default", lambda: _book(_sheets), None, True, ""),
    ("hidden_sheet_by_name", lambda: _book(_sheets), "Arsip", True, ""),
    ("very_hidden_sheet_by_position", lambda: _book(_sheets), 4, True, ""),
    ("chart_sheet_not_counted", lambda: _book(_sheets), 3, True, ""),
    ("sheet_missing", lambda: _book(_sheets), "Grafik", True, ""),
    ("sheet_position_out_of_range", lambda: _book(_sheets), 5, True, ""),
    ("sheet_name_written_otherwise", lambda: _book(_sheets), "data ", True, ""),
    ("damaged_other_sheet", _damaged_other_sheet, None, False, "openpyxl's reader stops"),
    (
        "other_sheet_without_dimension",
        lambda: _other_sheet_without_dimension(False),
        None,
        False,
        "another sheet has no <dimension>",
    ),
    (
        "other_sheet_without_dimension_broken",
        lambda: _other_sheet_without_dimension(True),
        None,
        False,
        "another sheet has no <dimension>",
    ),
    ("namespace_prefix", _namespaced, None, False, "namespace prefix"),
    (
        "truncated_sheet_xml",
        lambda: _rezip(
            _dimension("A1:E10"), lambda n, b: b[:-200] if n.endswith("sheet1.xml") else b
        ),
        None,
        False,
        "",
    ),
]


@pytest.mark.parametrize(
    ("make", "sheet", "calamine", "why"),
    [pytest.param(*rest, id=name) for name, *rest in MADE],
)
def test_made_workbooks_read_the_same(
    make: Callable[[], bytes], sheet: str | int | None, calamine: bool, why: str
) -> None:
    assert_same(make(), sheet=sheet, calamine=calamine, why=why)


def test_dates_come_as_openpyxl_gives_them() -> None:
    """The conversions calamine's values need, seen on the values themselves."""
    found = assert_same(_book(_typed))
    assert isinstance(found, list)
    rows = dict(found)
    assert rows[2][5] == ("datetime", dt.datetime(2026, 3, 1))  # written as a datetime
    assert rows[3][5] == ("datetime", dt.datetime(2026, 2, 28))  # written as a date
    assert rows[3][6] == ("time", dt.time(7, 30)) and rows[2][7][0] == "time"
    assert rows[2][2] == ("int", 5) and rows[2][3] == ("float", 5.5)
    assert rows[2][1] == ("str", "007") and rows[3][0] == ("str", "  spasi  ")
    assert rows[2][4] == ("bool", True)


def test_row_numbers_and_widths_follow_the_spreadsheet() -> None:
    """Rows from 1 however far the first value, each as wide as the claimed <dimension>."""
    rows = assert_same(_book(_merged_header))
    assert isinstance(rows, list)
    assert [n for n, _ in rows] == list(range(1, 40))
    assert rows[2][1][:4] == [
        ("NoneType", None),
        ("NoneType", None),
        ("str", "DATA KUNJUNGAN"),
        ("NoneType", None),
    ]
    assert {len(r) for _, r in rows} == {6}
    small = assert_same(_dimension("A1:B2"))
    assert isinstance(small, list) and {len(r) for _, r in small} == {5}


def test_the_decision_is_noted_at_each_read_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The parser reads a file twice: the second read takes what the first decided, and the
    reason openpyxl reads it is noted at each read (for the notes of either pass) and logged
    once."""
    data = _values('<c r="A1" t="e"><v>#N/A</v></c>')
    opener = lambda: io.BytesIO(data)  # noqa: E731
    caplog.set_level("INFO", logger="serasan.parse.xlsx_calamine")
    first: list[str] = []
    second: list[str] = []
    assert list(xlsx_rows(opener, "e.xlsx", notes=first)) == list(
        xlsx_rows(opener, "e.xlsx", notes=second)
    )
    why = "it has error cells (calamine reads #N/A, #DIV/0! as empty)"
    assert first == second == [f"workbook read with openpyxl, not calamine: {why}"]
    assert [r.getMessage() for r in caplog.records] == [f"e.xlsx: {first[0]}"]


def _read_with(opener: Callable[[], IO[bytes]]) -> tuple[Rows, Rows]:
    """(calamine's path, openpyxl's) for the file behind `opener`."""
    return (
        _rows(lambda: xlsx_rows(opener, "t.xlsx")),
        _rows(lambda: xlsx_rows_openpyxl(opener, "t.xlsx")),
    )


def test_calamines_sheet_is_kept_for_the_second_read_and_freed_with_the_opener() -> None:
    """The second read of the same opener reuses calamine's sheet; nothing of it is kept once
    the opener is gone (calamine's grid can be hundreds of MB)."""
    files = {"now": _book(_typed)}
    openers = [lambda: io.BytesIO(files["now"])]
    got, ref = _read_with(openers[0])
    kept = xlsx_calamine._DECIDED[openers[0]][1][0]
    assert _read_with(openers[0]) == (ref, ref) and got == ref
    assert xlsx_calamine._DECIDED[openers[0]][1][0] is kept
    files["now"] = _book(_merged_header)  # the same opener now gives another file: read anew
    got, ref = _read_with(openers[0])
    assert got == ref and xlsx_calamine._DECIDED[openers[0]][1][0] is not kept
    plan = weakref.ref(xlsx_calamine._DECIDED[openers[0]][1][1])
    openers.clear()
    gc.collect()
    assert plan() is None


def test_the_environment_chooses_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _values('<c r="A1" t="e"><v>#N/A</v></c>')
    monkeypatch.setenv(XLSX_READER_ENV, "openpyxl")
    notes: list[str] = []
    rows = list(xlsx_rows(lambda: io.BytesIO(data), "e.xlsx", notes=notes))
    assert rows == [(1, ["#N/A"]), (2, [1])] and notes == []


def test_the_grid_bound_follows_the_dimension_or_the_columns_used() -> None:
    """calamine's grid is bounded before it is read: by <dimension> when no cell lies beyond
    it, else by the first of the tried widths that holds every cell."""

    def forty_columns(wb: Any) -> None:
        ws = wb.create_sheet("Data")  # write-only: no <dimension>
        for r in range(3):
            ws.append([r * 100 + c for c in range(40)])

    wide = _book(forty_columns, write_only=True)
    plain = _dimension("A1:E10")
    for data, width, bound in [(wide, 0, 52), (plain, 5, 5), (_dimension("A1:B2"), 2, 26)]:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            scan = xlsx_calamine.scan_sheet(
                zf, "xl/worksheets/sheet1.xml", width, (set(), set(), set())
            )
        assert (scan.reason, scan.max_column) == (None, bound)


# ---------------------------------------------------------------- the regex builders


def test_columns_above_matches_exactly_the_columns_after_n() -> None:
    from openpyxl.utils import get_column_letter

    for n in [0, 1, 25, 26, 27, 51, 52, 103, 104, 200, 499, 500, 701, 702, 703]:
        pattern = re.compile(xlsx_calamine.columns_above(n) + "$")
        above = [c for c in range(1, 1500) if pattern.match(get_column_letter(c))]
        assert above == list(range(n + 1, 1500)), n


def test_numbers_outside_matches_exactly_the_numbers_outside_the_range() -> None:
    for lo, hi in [(1, 1), (1, 9), (5, 95), (10, 10), (99, 1000), (123, 4567), (1000, 1000)]:
        pattern = re.compile(xlsx_calamine.numbers_outside(lo, hi) + "$")
        outside = [n for n in range(1, 20000) if pattern.match(str(n))]
        assert outside == [n for n in range(1, 20000) if not lo <= n <= hi], (lo, hi)
        assert pattern.match("0") and pattern.match(f"0{lo}")


# ---------------------------------------------------------------- the suite's own workbooks


def _generated(ds_id: str, defects: bool) -> bytes:
    ds = CATALOG.dataset(ds_id)
    kinds = applicable_defects(ds) if defects else ()
    rate = 0.3 if kinds else 0.0
    return generate_dataset(ds, CATALOG, rows=120, defect_rate=rate, seed=7).data


@pytest.mark.parametrize("defects", [False, True], ids=["clean", "defects"])
@pytest.mark.parametrize("ds_id", IDS)
def test_generated_workbooks_read_the_same(ds_id: str, defects: bool) -> None:
    assert_same(_generated(ds_id, defects), f"{ds_id}.xlsx")


@pytest.mark.parametrize("ds_id", IDS)
def test_templates_read_the_same_on_every_sheet(ds_id: str, tmp_path: Path) -> None:
    path = write_template(
        CATALOG, CATALOG.dataset(ds_id), tmp_path / "t.xlsx", as_of=dt.date(2026, 11, 1)
    )
    data = path.read_bytes()
    for name in openpyxl.load_workbook(io.BytesIO(data), read_only=True).sheetnames:
        assert_same(data, path.name, name)


def test_quarantine_workbook_reads_the_same() -> None:
    """Every value a text cell (an empty one is not written at all)."""
    rows = [
        {"baris": 5, "alasan": "kode", "kode": "16.06", "nilai": None, "nik": "1606015012900001"}
    ]
    data = quarantine_xlsx(rows, ["kode", "nilai", "nik"], "Baris ditolak")
    assert_same(data, "ditolak.xlsx")


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


BAD_INPUT: list[Any] = [
    (
        "thousands_of_columns",
        lambda: _xlsx(
            [HEADER, *_good_rows(1, start=2), [*_good_rows(1)[0], *(f"x{i}" for i in range(1995))]]
        ),
        False,
        "past column 500",
    ),
    (
        "styled_cell_far_right",
        lambda: _xlsx(
            [HEADER, *_good_rows(400)],
            lambda ws: setattr(ws.cell(1, 16000), "font", Font(bold=True)),
        ),
        True,
        "",
    ),
    (
        "wrong_dimension",
        lambda: _rezip(
            _xlsx([HEADER, *_good_rows(10)]),
            lambda n, b: (
                b.replace(b'<dimension ref="A1:E11"', b'<dimension ref="A1:E3"')
                if n.endswith("sheet1.xml")
                else b
            ),
        ),
        True,
        "",
    ),
    (
        "truncated",
        lambda: _half(
            generate_dataset(CATALOG.dataset("muba_cctv_kita"), CATALOG, rows=40, seed=3).data
        ),
        True,
        "",
    ),
    ("zip_bomb", lambda: _zip_bomb(expanded_mb=600), True, ""),
    ("two_sheets", _two_sheets, True, ""),
    ("two_sheets_data_first", lambda: _two_sheets(data_first=True), True, ""),
    ("two_sheets_named_data", lambda: _two_sheets("Data"), True, ""),
]


def _plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("laporan.csv", "a,b\n1,2\n")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("make", "calamine", "why"), [pytest.param(*rest, id=name) for name, *rest in BAD_INPUT]
)
def test_the_parse_tests_workbooks_read_the_same(
    make: Callable[[], bytes], calamine: bool, why: str
) -> None:
    assert_same(make(), "cctv.xlsx", calamine=calamine, why=why)


def test_a_zip_that_is_not_a_workbook_is_refused_alike() -> None:
    rows = assert_same(_plain_zip(), "laporan.xlsx")
    assert rows == (
        "ParseError",
        "laporan.xlsx: file ZIP tetapi bukan workbook XLSX (a zip archive, not an XLSX workbook)",
    )


def _real(shared_dir: Path) -> list[Path]:
    return sorted((shared_dir / REAL).rglob("*.xlsx"))


def test_real_workbooks_read_the_same_on_every_sheet(shared_dir: Path) -> None:
    found = _real(shared_dir)
    assert {str(p.relative_to(shared_dir / REAL)) for p in found} == {BANDUNG, KEKERASAN}
    for path in found:
        data = path.read_bytes()
        names = openpyxl.load_workbook(io.BytesIO(data), read_only=True).sheetnames
        for sheet in [None, *names, *range(1, len(names) + 1)]:
            assert_same(data, path.name, sheet)
    assert_same(_bandung_xlsx(shared_dir), "penduduk3204.xlsx")  # re-saved by openpyxl


# ---------------------------------------------------------------- full parses, both readers


def _parse(
    monkeypatch: pytest.MonkeyPatch,
    reader: str,
    data: bytes,
    filename: str,
    ds: Dataset,
    period: str | None = None,
) -> ParseResult | ParseError:
    monkeypatch.setenv(XLSX_READER_ENV, reader)
    try:
        return parse_file(data, filename, ds, period)
    except ParseError as exc:
        return exc
    finally:
        monkeypatch.delenv(XLSX_READER_ENV)


def assert_same_parse(
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
    filename: str,
    ds: Dataset,
    period: str | None = None,
) -> ParseResult | ParseError:
    """Identical table (values, types, `_row`), rejects, counts and notes, or refusal."""
    ref = _parse(monkeypatch, "openpyxl", data, filename, ds, period)
    got = _parse(monkeypatch, "calamine", data, filename, ds, period)
    if isinstance(ref, ParseError) or isinstance(got, ParseError):
        assert str(got) == str(ref) and type(got) is type(ref)
        return ref
    assert isinstance(got, ParseResult)
    assert got.table.schema == ref.table.schema
    assert got.table.equals(ref.table), _table_difference(got.table, ref.table)
    assert got.rejects == ref.rejects
    assert (got.rows_in, got.header_row) == (ref.rows_in, ref.header_row)
    assert [n for n in got.notes if FALLBACK not in n] == ref.notes
    return ref


def _table_difference(got: pa.Table, ref: pa.Table) -> str:
    for name in ref.column_names:
        a, b = got.column(name).to_pylist(), ref.column(name).to_pylist()
        if a != b:
            i = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            return f"column {name}, row {i}: calamine {a[i : i + 1]}, openpyxl {b[i : i + 1]}"
    return "tables differ"


@pytest.mark.parametrize("defects", [False, True], ids=["clean", "defects"])
@pytest.mark.parametrize("ds_id", IDS)
def test_generated_workbooks_parse_the_same(
    monkeypatch: pytest.MonkeyPatch, ds_id: str, defects: bool
) -> None:
    result = assert_same_parse(
        monkeypatch, _generated(ds_id, defects), f"{ds_id}.xlsx", CATALOG.dataset(ds_id)
    )
    assert isinstance(result, ParseResult) and result.rows_in > 0


def test_real_workbooks_parse_the_same(monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> None:
    """Each real workbook with the datasets the suite reads it with (tests/unit/parse/
    test_real_readings.py, test_sheet_setting.py; tests/integration/test_real_files.py onboards
    the Sumatera Selatan one)."""
    resaved = _bandung_xlsx(shared_dir)
    for lost in (True, None, False):
        assert_same_parse(monkeypatch, resaved, "penduduk3204.xlsx", _bandung(lost))
    original = (shared_dir / REAL / BANDUNG).read_bytes()
    for sheet in ("Series Row", 3, None):
        ds = _bandung(True)
        ds = ds.model_copy(update={"source": ds.source.model_copy(update={"sheet": sheet})})
        assert_same_parse(monkeypatch, original, "penduduk3204.xlsx", ds)
    sumsel = (shared_dir / SUMSEL).read_bytes()
    for dash in (None, "zero", "empty"):
        result = assert_same_parse(monkeypatch, sumsel, Path(SUMSEL).name, _sumsel(dash))
        assert isinstance(result, ParseResult) and result.table.num_rows > 0
    drafted = draft(
        sumsel,
        Path(SUMSEL).name,
        CATALOG,
        "sumsel_kasus_kekerasan",
        regency="16.06",
        opd="diskominfo",
        pillar="society",
        check=False,
        scope="16",
    ).dataset
    assert_same_parse(monkeypatch, sumsel, Path(SUMSEL).name, drafted, period="2023")


def test_the_suites_workbooks_parse_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cctv = CATALOG.dataset("muba_cctv_kita")
    for name, make, _, _ in BAD_INPUT:
        ds = _small(2) if name.startswith("two_sheets") else cctv
        assert_same_parse(monkeypatch, make(), "cctv.xlsx", ds)
    for sheet in (None, "Tabel", 1, "Data"):
        assert_same_parse(monkeypatch, _two_sheets(), "p.xlsx", _small(sheet))
    for ds_id in IDS:
        ds = CATALOG.dataset(ds_id)
        path = write_template(CATALOG, ds, tmp_path / f"{ds_id}.xlsx", as_of=dt.date(2026, 11, 1))
        assert_same_parse(monkeypatch, path.read_bytes(), path.name, ds)
