"""A worksheet's rows read by calamine (Rust), as openpyxl reads them, or by openpyxl itself.

`serasan.parse.sniff.xlsx_rows` reads workbooks here. calamine parses a sheet several times
faster than openpyxl in read-only mode, but reads some cells otherwise, and openpyxl stays the
reference (`sniff.xlsx_rows_openpyxl`). What calamine gives is turned into what openpyxl gives
where the value alone tells how:

- an empty cell is '' in calamine, None here;
- a number is a float in calamine; openpyxl gives an int when the XML writes it without a point
  or exponent (`5`), so an integral float becomes an int (the scan below makes sure that no
  integral number was written `5.0` or `1E3` and none has 16 digits or more);
- a date-formatted number without a time of day is a `date` in calamine, a `datetime` here;
- rows: calamine's start at the first column used and all have the used range's width;
  openpyxl's start at column A, are padded to the `<dimension>`'s width (at most MAX_COLUMNS)
  and otherwise end at their last cell; rows come from row 1 to the last `<row>` element.

What the value alone cannot tell is found before calamine reads the sheet, by a scan of the
sheet's XML and the shared strings with RE2 (pyarrow's regex kernels, at memory speed): error
cells (calamine reads `#N/A` as empty), numbers written `5.0`, `1E3`, ` 7 `, `NaN` or with 16
digits, strings that are empty, that keep leading or trailing blanks without
`xml:space="preserve"`, hold `_x000D_` escapes or carriage returns (calamine trims, unescapes or
keeps them; openpyxl does not), dates before 1900, past the year 4637 or a hair before midnight
of day 0, durations (`[h]:mm`, rounded otherwise), ISO dates (`t="d"`), rows or cells without
their reference first, rows out of order, a cell whose reference lies outside the rows around
it, values past column 500, a row ending in an empty cell beyond the `<dimension>` width
(openpyxl widens that row to it), control characters, duplicated attributes and trailing junk
(which openpyxl's XML parser refuses), namespace prefixes, and a sheet whose used cells would
span more than MAX_CELLS (calamine holds the whole grid in memory, and aborts the process when
it cannot allocate it). The workbook's structure (sheet names and order, chart sheets left out,
each sheet's `<dimension>`, date styles, the 1904 calendar) is read by openpyxl's own reader,
without the shared strings or the sheets' cells; how calamine reads each cell style is asked of
calamine itself, on a one-column probe workbook with the same styles. Anything calamine or that
reader refuses, and every doubt above, sends the workbook to openpyxl, with the reason logged
and noted: its values, row numbers and refusals are then openpyxl's by construction.

One difference remains, in malformed files only: a cell whose reference names another row of
the rows around it than its own `<row>`, or that comes after a cell to its right, is placed by
its reference here, and by its position (or dropped) by openpyxl.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import threading
import weakref
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS

from serasan.parse.sniff import MAX_COLUMNS, Opener, ParseError, pick_sheet

log = logging.getLogger(__name__)

MAX_CELLS = 8_000_000  # calamine's grid (32 bytes a cell) for one sheet: about 256 MB
CHUNK = 8 * 2**20  # bytes of XML scanned at once
MAX_RECORD = 64 * 2**20  # one row (or shared string) longer than this is not scanned
MAX_HEAD = 4 * 2**20  # the part of a sheet before <sheetData> that is read for <dimension>
MAX_STYLES = 65_536  # cell styles probed; Excel allows 64,000
PROBE = 45000.5  # 2023-03-15 12:00 in the 1900 calendar: a date with a time of day
EXACT = 2**53  # floats below this are integers exactly
STRINGS = "xl/sharedStrings.xml"


class Unsure(Exception):
    """calamine could read this workbook otherwise than openpyxl; the message says why."""


# ---------------------------------------------------------------- the workbook, by openpyxl


class _HeadSized(ReadOnlyWorksheet):  # type: ignore[misc]
    """openpyxl's read-only sheet, sized from the XML before <sheetData> only.

    openpyxl reads a sheet's <dimension> on opening and stops there; without one it parses
    the whole sheet looking for it. This reads the same <dimension>, but never the cells."""

    def _get_size(self) -> None:
        with self._get_source() as src:
            head = _head(src)
        dims = WorkSheetParser(io.BytesIO(head), []).parse_dimensions()
        self.sized = dims is not None
        if dims is not None:
            self._min_column, self._min_row, self._max_column, self._max_row = dims


def _head(src: IO[bytes]) -> bytes:
    """A worksheet's XML up to <sheetData>, closed: what openpyxl parses to find <dimension>."""
    buf = b""
    while (k := buf.find(b"<sheetData")) < 0:
        piece = src.read(64 * 1024)
        if not piece:
            return buf
        buf += piece
        if len(buf) > MAX_HEAD:
            raise Unsure(f"a sheet has more than {MAX_HEAD // 2**20} MB before its cells")
    root = re.search(rb"<([^?!\s/>][^\s/>]*)", buf)
    if root is None or root.group(1) != b"worksheet":
        raise Unsure("a sheet's XML uses a namespace prefix")
    return buf[:k] + b"</worksheet>"


@dataclass
class Sheet:
    name: str
    part: str  # the zip member, as openpyxl resolves it
    target: str  # the relationship's Target as written (calamine resolves it itself)
    max_column: int | None  # <dimension>'s, as openpyxl reads it
    sized: bool  # the sheet has a <dimension> before its cells (else openpyxl parses it whole)


@dataclass
class Book:
    """What openpyxl's reader makes of a workbook, apart from its cells and shared strings."""

    sheets: list[Sheet]
    strings: str | None  # the shared strings part openpyxl reads
    workbook: str  # the workbook part
    epoch: dt.datetime
    date_styles: set[int]
    duration_styles: set[int]
    styles: bytes | None  # xl/styles.xml, as both readers take it

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sheets]


def read_book(opener: Opener) -> Book:
    """The workbook as `load_workbook(read_only=True, data_only=True)` opens it, step by step,
    with two steps left out: the shared strings are not read, and each worksheet's size is read
    from the XML before its cells. Raises what those steps raise."""
    with opener() as fh:
        reader = ExcelReader(fh, read_only=True, data_only=True)
        reader.read_manifest()
        ct = reader.package.find(SHARED_STRINGS)
        reader.read_workbook()
        reader.read_properties()
        reader.read_custom()
        reader.read_theme()
        apply_stylesheet(reader.archive, reader.wb)
        sheets: list[Sheet] = []
        for sheet, rel in reader.parser.find_sheets():  # as ExcelReader.read_worksheets
            if rel.target not in reader.valid_files:
                continue
            if "chartsheet" in rel.Type:
                reader.read_chartsheet(sheet, rel)
                continue
            rels_path = get_rels_path(rel.target)
            if rels_path in reader.valid_files:
                get_dependents(reader.archive, rels_path)
            ws = _HeadSized(reader.wb, sheet.name, rel.target, [])
            ws.sheet_state = sheet.state
            reader.wb._sheets.append(ws)
            sheets.append(Sheet(sheet.name, rel.target, rel.Target, ws.max_column, ws.sized))
        reader.parser.assign_names()
        wb = reader.wb
        styles = (
            reader.archive.read("xl/styles.xml") if "xl/styles.xml" in reader.valid_files else None
        )
        book = Book(
            sheets=sheets,
            strings=ct.PartName[1:] if ct is not None else None,
            workbook=reader.parser.workbook_part_name,
            epoch=wb.epoch,
            date_styles=set(wb._date_formats),
            duration_styles=set(wb._timedelta_formats),
            styles=styles,
        )
        reader.archive.close()
    return book


# ---------------------------------------------------------------- calamine's reading of styles


def _probe_workbook(styles: bytes, workbook_pr: bytes, count: int) -> bytes:
    """A workbook with `styles`, and one sheet whose cell A<i+1> holds PROBE in style i."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rows = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" s="{i}"><v>{PROBE!r}</v></c></row>' for i in range(count)
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}'
            '/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'.encode()
            + workbook_pr
            + b'<sheets><sheet name="P" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}'
            '/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        zf.writestr("xl/styles.xml", styles)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>{rows}'
            "</sheetData></worksheet>",
        )
    return buf.getvalue()


def style_mismatches(book: Book, workbook_xml: bytes) -> tuple[set[int], set[int], set[int]]:
    """(dates, durations, mismatched): the cell styles both readers read as dates, those
    either reads as a duration, and those they read otherwise (a date for one and a number for
    the other, or another date: the 1904 calendar). calamine is asked on a probe workbook."""
    if book.styles is None:
        return set(), set(), set()
    count = book.styles.count(b"<xf ") + book.styles.count(b"<xf>") + book.styles.count(b"<xf/")
    if count > MAX_STYLES:
        raise Unsure(f"the workbook has {count} cell styles")
    pr = re.search(rb"<workbookPr\b[^>]*/>|<workbookPr\b[^>]*>.*?</workbookPr>", workbook_xml, re.S)
    if pr is None and re.search(rb"<[\w.-]+:workbookPr\b", workbook_xml):
        raise Unsure("the workbook's XML uses a namespace prefix")
    import python_calamine

    probe = _probe_workbook(book.styles, pr.group(0) if pr else b"", count)
    with python_calamine.CalamineWorkbook.from_object(io.BytesIO(probe)) as cw:
        seen = [row[0] for row in cw.get_sheet_by_name("P").to_python(skip_empty_area=False)]
    expected = from_excel(PROBE, book.epoch)
    dates, durations, mismatched = set(), set(), set()
    for i, value in enumerate(seen):
        theirs = (
            "duration"
            if i in book.duration_styles
            else "date"
            if i in book.date_styles
            else "number"
        )
        if isinstance(value, dt.timedelta):
            ours = "duration"
        elif isinstance(value, dt.datetime):
            ours = "date" if value == expected else "other date"
        elif isinstance(value, float):
            ours = "number"
        else:
            ours = type(value).__name__
        if ours == theirs == "date":
            dates.add(i)
        elif "duration" in (ours, theirs):
            durations.add(i)
        elif ours != theirs:
            mismatched.add(i)
    if 0 in dates | durations | mismatched:  # cells without a style are style 0 to openpyxl
        raise Unsure("the workbook's default cell style is a date format")
    return dates, durations, mismatched


# ---------------------------------------------------------------- the scan, as RE2 patterns

AZ = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"


def letters(n: int) -> str:
    """Column number -> letters: 1 -> A, 27 -> AA."""
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = AZ[r] + s
    return s


def _cls(chars: str) -> str:
    return chars if len(chars) == 1 else f"[{chars[0]}-{chars[-1]}]"


def _same_length(s: str, alphabet: str, above: bool, first: str | None = None) -> list[str]:
    """Patterns for the strings as long as `s` over `alphabet` (ordered) that sort above (or
    below) it; `first` restricts the first character (no leading zero)."""
    out = []
    for i, ch in enumerate(s):
        pool = first if (i == 0 and first) else alphabet
        k = pool.find(ch) if ch in pool else -1
        chars = pool[k + 1 :] if above else pool[:k] if k >= 0 else ""
        if chars:
            out.append(re.escape(s[:i]) + _cls(chars) + _cls(alphabet) * (len(s) - i - 1))
    return out


def columns_above(n: int) -> str:
    """RE2 for the column letters of the columns after column n (n = 0: every column)."""
    if n <= 0:
        return "[A-Z]{1,3}"
    s = letters(n)
    alts = [f"[A-Z]{{{k}}}" for k in range(len(s) + 1, 4)]
    return "(?:" + "|".join([*alts, *_same_length(s, AZ, above=True)] or ["$^"]) + ")"


def numbers_outside(lo: int, hi: int) -> str:
    """RE2 for decimal numbers below lo or above hi (and any written with a leading zero)."""
    h, low = str(hi), str(lo)
    alts = ["0[0-9]*", f"[1-9][0-9]{{{len(h)},}}", *_same_length(h, DIGITS, True, first=DIGITS[1:])]
    if len(low) > 1:
        alts.append(f"[1-9][0-9]{{0,{len(low) - 2}}}")
    alts += _same_length(low, DIGITS, False, first=DIGITS[1:])
    return "(?:" + "|".join(alts) + ")"


VALUE = r"(?:<f\b[^>]*/>\s*|<f\b[^>]*>[^<]*</f>\s*)?<v>"  # after a cell's start tag
# after a cell reference's letters: a cell that is not an empty element (<c r="X1" s="2"/>),
# so may hold something calamine puts in its grid (an error, '', a formula's text)
FILLED = r"[0-9]+\"(?:\s*|\s[^>]*[^/>])>"
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
TEXT_CHECKS = [  # strings as calamine reads them otherwise than openpyxl, in <si> or <is>
    ("a string holds an _xHHHH_ escape (calamine unescapes it)", r"_x[0-9A-Fa-f]{4}_"),
    (
        "a string is empty (calamine reads it as an empty cell)",
        r"<t(?:\s[^>]*)?/>|<t(?:\s[^>]*)?></t>",
    ),
    (
        "a string starts or ends with blanks without xml:space (calamine trims them)",
        r"<t>\s|<t>[^<]*\s</t>",
    ),
    ("a string has phonetic runs", r"<rPh\b"),
    ("the XML holds a DOCTYPE, comment or CDATA section", r"<!"),
    ("the XML holds a control character (openpyxl refuses it)", CONTROL),
    (
        "a string holds a carriage return (calamine keeps it, XML reads it as a line end)",
        r"<t(?:\s[^>]*)?>[^<]*\r|<v>[^<]*\r",
    ),
]


def sheet_checks(
    width: int, dates: set[int], durations: set[int], mismatched: set[int]
) -> list[tuple[str, str]]:
    """(reason, RE2) for whatever makes calamine read the sheet otherwise than openpyxl."""

    def styled(ids: set[int]) -> str:
        return r"<c\s[^>]*\bs=[\"'](?:" + "|".join(map(str, sorted(ids))) + r")[\"'][^>]*>\s*"

    checks = [
        ("it has error cells (calamine reads #N/A, #DIV/0! as empty)", r"\bt=[\"']e[\"']"),
        ('it has ISO date cells (t="d")', r"\bt=[\"']d[\"']"),
        ("a boolean cell holds neither 0 nor 1", r"\bt=[\"']b[\"'][^>]*>\s*<v>(?:[^01]|[01][^<])"),
        (
            "a number is written with a point or exponent, or has 16 digits and more, or is NaN",
            # an exponent, unless negative after one digit before the point (1.5E-3: never an
            # integer); a point with only zeros after it; 16 digits; NaN and infinities
            r"<v>(?:[-+]?[0-9.]*[eE]\+?[0-9]|[-+]?(?:0|\.|[0-9]{2})[0-9.]*[eE]-|[-+]?[0-9]*\.0*<"
            r"|[-+]?[0-9]{16}|[-+]?(?i:inf|nan))",
        ),
        ("a value has attributes", r"<v\s"),
        (
            "a number or string index is written with blanks",
            r"<c(?:\s+(?:[a-su-z][\w:]*=\"[^\"]*\"|t=\"[ns]\"))*\s*>\s*"
            + VALUE
            + r"(?:\s|[^<]*\s</v>)",
        ),
        ("an inline string is empty", r"<is\s*/>|<is>\s*</is>"),
        *TEXT_CHECKS,
        ("a row has no reference (r=) first", r"<row(?:>|/>|\s+(?:[^r\s]|r[^=]|r=[^\"]))"),
        ("a cell has no reference (r=) first", r"<c(?:>|/>|\s+(?:[^r\s]|r[^=]|r=[^\"]))"),
        (
            "a row or cell has a duplicated attribute (openpyxl refuses it)",
            r"<(?:c|row)(?:\s[^>]*)?\sr=[^>]*\sr=|<c(?:\s[^>]*)?\ss=[^>]*\ss="
            r"|<c(?:\s[^>]*)?\st=[^>]*\st=",
        ),
        (
            f"a cell past column {MAX_COLUMNS} may hold a value",
            r"<c\s+r=\"" + columns_above(MAX_COLUMNS) + FILLED,
        ),
    ]
    if width < MAX_COLUMNS:  # a row openpyxl sees longer than the claimed width
        checks.append(
            (
                "a row ends in an empty cell beyond the sheet's <dimension>",
                r"<c\s+r=\""
                + columns_above(width)
                + r"[0-9]+\"[^>]*(?:/>|>\s*(?:<f\b[^>]*/>\s*|<f\b[^>]*>[^<]*</f>\s*)?"
                r"(?:<v\s*/>\s*|<v></v>\s*)?</c>)\s*</row>",
            )
        )
    if dates:
        checks.append(
            (
                "a date cell holds a number before 1900, past 9999, or just below 1",
                styled(dates) + VALUE + r"(?:-|0\.99999999[4-9]|[0-9]{7})",
            )
        )
    if durations:
        checks.append(("it has duration cells ([h]:mm)", styled(durations) + VALUE + "[^<]"))
    if mismatched:
        checks.append(
            (
                "a cell's number format is read as a date by one reader only",
                styled(mismatched) + VALUE + "[^<]",
            )
        )
    return checks


STRING_CHECKS = [
    ("a string is empty (calamine reads it as an empty cell)", r"<si\s*/>|<si>\s*</si>"),
    ("a string holds x005F_ (openpyxl drops it)", r"x005F_"),
    *TEXT_CHECKS,
]


def _first_match(chunks: list[bytes], checks: list[tuple[str, str]]) -> str | None:
    """The label of the first check that matches any chunk, or None: one RE2 pass for all of
    them; when one matched, one more for all but the last, then each alone."""
    arr = pa.array(chunks, type=pa.large_binary())

    def hit(patterns: list[str]) -> bool:
        combined = "|".join(f"(?:{p})" for p in patterns)
        return bool(pc.any(pc.match_substring_regex(arr, combined)).as_py())

    patterns = [p for _, p in checks]
    if not hit(patterns):
        return None
    if len(checks) > 1 and not hit(patterns[:-1]):
        return checks[-1][0]
    return next((label for label, p in checks if hit([p])), None)


def _records(src: IO[bytes], end: bytes) -> Iterator[bytes]:
    """The XML in pieces of about CHUNK bytes, each ending just after an `end` tag."""
    tail = b""
    while piece := src.read(CHUNK):
        buf = tail + piece
        k = buf.rfind(end)
        if k < 0:
            if len(buf) > MAX_RECORD:
                raise Unsure(f"one row or string is over {MAX_RECORD // 2**20} MB of XML")
            tail = buf
            continue
        tail = buf[k + len(end) :]
        yield buf[: k + len(end)]
    if tail:
        yield tail


@dataclass
class Scan:
    reason: str | None = None
    last_row: int = 0  # the last <row> element's number (openpyxl yields rows up to it)
    first_row: int = 0
    max_column: int = 0  # a bound on the columns used (for calamine's grid)
    notes: list[str] = field(default_factory=list)


ROW = re.compile(rb"<row\s+r=\"([0-9]+)\"")
WIDER = "cells lie beyond the columns assumed"
# bounds tried, in turn, for the columns of calamine's grid when <dimension> is not one
TIERS = [(n, columns_above(n)) for n in (26, 52, 104, 156, 208, 312, 416)]


def scan_sheet(
    archive: zipfile.ZipFile, part: str, width: int, styles: tuple[set[int], set[int], set[int]]
) -> Scan:
    """Read one sheet's XML once: the first reason to leave it to openpyxl, its rows' range and
    a bound on its columns."""
    out = Scan()
    checks = sheet_checks(width, *styles)
    previous = 0
    used = width
    with archive.open(part) as src:
        for i, chunk in enumerate(_records(src, b"</row>")):
            if i == 0:
                root = re.search(rb"<([^?!\s/>][^\s/>]*)", chunk)
                if root is None or root.group(1) != b"worksheet":
                    return Scan(reason="the sheet's XML uses a namespace prefix")
                decl = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([^\"']*)", chunk)
                if decl and decl.group(1).lower() not in (b"utf-8", b"utf8"):
                    return Scan(
                        reason=f"the sheet is encoded {decl.group(1).decode(errors='replace')}"
                    )
            numbers = [int(n) for n in ROW.findall(chunk)]
            found = list(checks)
            if numbers:
                if numbers[0] <= previous or any(
                    b <= a for a, b in zip(numbers, numbers[1:], strict=False)
                ):
                    return Scan(reason="its rows are out of order or repeated")
                if numbers[-1] > 1_048_576:
                    return Scan(reason="a row number is past 1,048,576")
                out.first_row = out.first_row or numbers[0]
                previous = out.last_row = numbers[-1]
                found.append(
                    (
                        "a cell's reference lies outside its rows",
                        r"<c\s+r=\"[A-Z]{1,3}" + numbers_outside(numbers[0], numbers[-1]) + '"',
                    )
                )
            if used < MAX_COLUMNS:  # last: a reason above wins
                found.append((WIDER, r"<c\s+r=\"" + columns_above(used) + FILLED))
            reason = _first_match([chunk], found)
            if reason == WIDER:  # cells beyond the columns assumed so far: a coarser bound
                used = next(
                    (
                        n
                        for n, p in TIERS
                        if n > used and not _matches(chunk, r"<c\s+r=\"" + p + FILLED)
                    ),
                    MAX_COLUMNS,
                )
            elif reason:
                return Scan(reason=reason)
            if not chunk.endswith(b"</row>") and b"</worksheet>" in chunk:
                rest = chunk[chunk.rindex(b"</worksheet>") + len(b"</worksheet>") :]
                if rest.strip():
                    return Scan(
                        reason="the sheet's XML goes on after its end (openpyxl refuses it)"
                    )
    out.max_column = used
    return out


def _matches(chunk: bytes, pattern: str) -> bool:
    arr = pa.array([chunk], type=pa.large_binary())
    return bool(pc.any(pc.match_substring_regex(arr, pattern)).as_py())


def scan_strings(archive: zipfile.ZipFile, part: str) -> str | None:
    with archive.open(part) as src:
        for i, chunk in enumerate(_records(src, b"</si>")):
            if i == 0:
                root = re.search(rb"<([^?!\s/>][^\s/>]*)", chunk)
                if root is None or root.group(1) != b"sst":
                    return "the shared strings' XML uses a namespace prefix"
            if reason := _first_match([chunk], STRING_CHECKS):
                return f"in the shared strings, {reason}"
    return None


# ---------------------------------------------------------------- reading


def _calamine_path(target: str) -> str:
    """The zip member calamine reads for a sheet relationship's Target."""
    if target.startswith("/xl/"):
        return target[1:]
    return target if target.startswith("xl/") else f"xl/{target}"


@dataclass
class Plan:
    """How one sheet will be read by calamine, once every check passed."""

    sheet: Sheet
    names: list[str]  # the workbook's worksheets, as openpyxl lists them
    width: int  # rows are padded to it (openpyxl's claimed width, at most MAX_COLUMNS)
    last_row: int


def plan(opener: Opener, filename: str, sheet: str | int | None) -> Plan:
    """Everything checked before calamine reads the sheet; raises Unsure to leave the workbook
    to openpyxl (and ParseError for a sheet the catalog declares but the workbook lacks)."""
    try:
        book = read_book(opener)
    except Exception as exc:  # openpyxl refuses it: its reader says how
        raise Unsure(f"openpyxl's reader stops on it ({type(exc).__name__})") from None
    chosen = next(s for s in book.sheets if s.name == pick_sheet(book.names, sheet, filename))
    if any(not s.sized for s in book.sheets if s is not chosen):
        # openpyxl parses such a sheet whole on opening, and refuses the workbook if it is
        # broken: only its reader can say what it makes of it
        raise Unsure("another sheet has no <dimension>")
    if book.workbook != "xl/workbook.xml":
        raise Unsure(f"its workbook part is {book.workbook}")
    with opener() as fh, zipfile.ZipFile(fh) as zf:
        names = set(zf.namelist())
        if book.strings != (STRINGS if STRINGS in names else None):
            raise Unsure("its shared strings are not at xl/sharedStrings.xml")
        if _calamine_path(chosen.target) != chosen.part:
            raise Unsure(f"its sheet's path {chosen.target!r} is resolved otherwise by calamine")
        styles = style_mismatches(book, zf.read(book.workbook))
        width = min(chosen.max_column or 0, MAX_COLUMNS)
        scan = scan_sheet(zf, chosen.part, width, styles)
        if scan.reason is None and book.strings:
            scan.reason = scan_strings(zf, book.strings)
    if scan.reason:
        raise Unsure(scan.reason)
    if scan.last_row:
        cells = (scan.last_row - scan.first_row + 1) * max(scan.max_column, 1)
        if cells > MAX_CELLS:
            raise Unsure(f"its cells span {cells:,} grid cells, more than {MAX_CELLS:,}")
    return Plan(chosen, book.names, width, scan.last_row)


class Switch(Exception):
    """calamine gave a value openpyxl would not: read on with openpyxl from this row."""


def _other(v: Any) -> Any:
    t = type(v)
    if t is dt.date:
        return dt.datetime(v.year, v.month, v.day)
    if t is bool or t is dt.datetime or t is dt.time or t is int:
        return v
    raise Switch(f"calamine gave a {t.__name__}")


def _convert(raw: list[Any]) -> list[Any]:
    """calamine's cells -> openpyxl's: '' -> None, integral floats -> int, date -> datetime."""
    return [
        (v or None)
        if (t := type(v)) is str
        else (int(v) if v.is_integer() and -EXACT < v < EXACT else v)
        if t is float
        else _other(v)
        for v in raw
    ]


def _open(opener: Opener, filename: str, sheet: str | int | None) -> tuple[Any, Plan]:
    """(calamine's sheet, plan) once every check passed; raises Unsure or calamine's error to
    leave the workbook to openpyxl."""
    import python_calamine

    found = plan(opener, filename, sheet)
    with opener() as fh:
        cw = python_calamine.CalamineWorkbook.from_object(fh)
    try:
        worksheets = [
            m.name for m in cw.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        if worksheets != found.names:
            raise Unsure("calamine lists its worksheets otherwise")
        return cw.get_sheet_by_name(found.sheet.name), found  # the sheet outlives the workbook
    finally:
        cw.close()


# What was decided for the workbook behind an opener, so that the parser's second pass over the
# same file (`serasan.parse.reader` reads a file twice) neither checks it nor loads it again:
# calamine's sheet (held only as long as the opener lives) and plan, or the reason openpyxl
# reads it. Keyed by the opener, checked against the sheet asked for and the file's size and
# first and last 64 KB (where a zip keeps the checksums of its members).
_DECIDED: weakref.WeakKeyDictionary[Any, tuple[Any, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _fingerprint(opener: Opener, sheet: str | int | None) -> tuple[Any, ...]:
    with opener() as fh:
        head = fh.read(64 * 1024)
        size = fh.seek(0, io.SEEK_END)
        fh.seek(max(0, size - 64 * 1024))
        tail = fh.read()
    return (sheet, size, hashlib.sha256(head + tail).digest())


def _recall(opener: Opener, key: tuple[Any, ...]) -> Any:
    try:
        with _LOCK:
            seen = _DECIDED.get(opener)
    except TypeError:  # an opener that cannot be weakly referenced is not remembered
        return None
    return seen[1] if seen is not None and seen[0] == key else None


def _remember(opener: Opener, key: tuple[Any, ...], decided: Any) -> None:
    try:
        with _LOCK:
            _DECIDED[opener] = (key, decided)
    except TypeError:
        pass


def _rows(sheet: Any, found: Plan) -> Iterator[tuple[int, list[Any]]]:
    """The sheet's rows by calamine, numbered and widened as openpyxl yields them: from row 1,
    every row up to the last <row> element, each padded to the claimed width and otherwise as
    long as its last value."""
    width = found.width
    start = sheet.start
    number = 0
    if start is not None:
        lead = [None] * start[1]  # calamine's rows begin at the first column used
        for number, raw in enumerate(sheet.iter_rows(), 1):
            cells = lead + _convert(raw) if lead else _convert(raw)
            n = len(cells)
            if n > width and cells[-1] is None:
                n -= 1
                while n > width and cells[n - 1] is None:
                    n -= 1
                del cells[n:]
            elif n < width:
                cells.extend([None] * (width - n))
            yield number, cells
    for after in range(number + 1, found.last_row + 1):
        yield after, [None] * width


def read(
    opener: Opener,
    filename: str,
    sheet: str | int | None,
    fallback: Callable[[], Iterator[tuple[int, list[Any]]]],
    notes: list[str] | None = None,
) -> Iterator[tuple[int, list[Any]]]:
    """The rows of a worksheet by calamine where it reads what openpyxl reads, else by
    `fallback` (openpyxl), with the reason logged and added to `notes`. A sheet the catalog
    declares but the workbook lacks is refused (ParseError) as openpyxl's path refuses it."""

    def note(reason: str, first: bool = True) -> None:
        text = f"workbook read with openpyxl, not calamine: {reason}"
        if first:
            log.info("%s: %s", filename, text)
        if notes is not None:
            notes.append(text)

    key = _fingerprint(opener, sheet)
    decided = _recall(opener, key)
    if isinstance(decided, str):
        note(decided, first=False)
        yield from fallback()
        return
    if decided is not None:
        ws, found = decided
    else:
        try:
            ws, found = _open(opener, filename, sheet)
        except ParseError:
            raise
        except Exception as exc:  # a check's doubt, calamine's refusal, a check that failed
            reason = str(exc) if isinstance(exc, Unsure) else f"{type(exc).__name__}: {exc}"
            _remember(opener, key, reason)
            note(reason)
            yield from fallback()
            return
        _remember(opener, key, (ws, found))
    done = 0
    try:
        for done, row in _rows(ws, found):
            yield done, row
        return
    except (Switch, ValueError, OverflowError) as exc:
        reason = f"{exc} at row {done + 1}"
        _remember(opener, key, reason)
        note(reason)
    for number, row in fallback():
        if number > done:
            yield number, row
