"""A CSV read at Arrow speed: pyarrow splits the lines and cells, whole columns convert in
vectorised passes, and only the rows those passes cannot settle take today's per-row path.

The result is the per-row reader's (`serasan.parse.reader.parse_rows`), row for row: the same
table, `_row` numbers, rejects and notes. That is kept by a stated rule, not by hope:

- **A row is fast** when its line has no quote character, holds only printable ASCII (and
  tabs), has the file's usual number of cells, and every cell is one the vectorised pass reads
  exactly as the per-row converter would: a plain number in the column's convention
  (`1234.5` or `1234,5`), an ISO or D/M/Y date, yes/no, text, or empty, with no empty marker,
  no summary word and a region value the rules accept. Any other row (an `Rp 15.382.417`, a
  `1 Februari 2026`, an `NA`, a bad code, a ragged or quoted line, a non-ASCII name) goes
  through `RowParser.take`, which gives it its exact value or reject message.
- **Line numbers are exact** because every record is one line: a line holding a quote is read
  on its own by the csv module, and a file where one would run on to the next line (a quoted
  line break) is left to the per-row reader, which numbers such records as the OPD sees them.
- **Counts kept for the notes** (empty markers, the region rules' aliases and old codes) come
  from the per-row path or, for the region rules, are replayed in the file's order.

A file the fast path cannot take (UTF-16, a quoted line break, a NUL byte, a line too long,
anything sniff refuses) is read by the per-row reader, with the reason logged. Memory stays
bounded: the file is read in blocks of BLOCK bytes cut at line ends.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as _compute
import pyarrow.csv as pacsv

from serasan.common.arrow import ARROW_TYPES
from serasan.common.clock import MONTH_NUMBERS as MONTHS
from serasan.common.progress import current as current_progress
from serasan.config.catalog import Column, Dataset
from serasan.config.reading import DASHES
from serasan.parse import regions
from serasan.parse.period_context import PeriodContext
from serasan.parse.period_context import resolve as resolve_period
from serasan.parse.reader import (
    ROW_COL,
    Evidence,
    Head,
    ParseResult,
    Plan,
    RowParser,
    _date_evidence,
    _number_evidence,
    read_head,
    settle_plan,
)
from serasan.parse.sniff import MAX_COLUMNS, MAX_FIELD, Opener, ParseError, Sniffed, sniff
from serasan.reference.names import AliasTable

log = logging.getLogger(__name__)
# pyarrow-stubs' overloads refuse valid calls here (a str pattern on a string array, a scalar
# beside an array), so the compute functions are used untyped; the arrays they return are typed.
pc: Any = _compute
Arr: TypeAlias = "pa.Array[Any]"
BLOCK = 32 * 1024 * 1024  # bytes read and converted at a time
_ARROW_BLOCK = 2 * 1024 * 1024  # pyarrow's own chunks, parsed in parallel (over MAX_FIELD)
# a control character, a quote, or a word summary rows start with
_NOT_PLAIN = r'[\x00-\x08\x0a-\x1f\x7f"]|(?i:jumlah|total)'
_PLAIN = {"en": r"^-?[0-9]{1,18}(\.[0-9]{1,18})?$", "id": r"^-?[0-9]{1,18}(,[0-9]{1,18})?$"}
_ISO = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_SLASH = r"^(?P<a>[0-9]{1,2})[/.-](?P<b>[0-9]{1,2})[/.-](?P<y>[0-9]{2}|[0-9]{4})$"
_SLASH_EVIDENCE = r"^(?P<a>[0-9]{1,2})[/.-](?P<b>[0-9]{1,2})[/.-](?P<y>[0-9]{2,4})$"
_YES = ["ya", "y", "true", "1", "benar", "ada"]
_NO = ["tidak", "t", "n", "false", "0", "salah", "tidak ada"]
# evidence of a number convention (`reader._number_evidence`), for printable ASCII cells
_CURRENCY = r"(?i)^([-+(]?)[\t ]*(rp\.?|idr)[\t ]*"
_ID_ONLY = r"\.[0-9]+,[0-9]+$|,([0-9]{1,2}|[0-9]{4,})$|[0-9]\.[0-9]{3}\.[0-9]{3}|^[-+]?,[0-9]+$"
_EN_ONLY = r",[0-9]+\.[0-9]+$|\.([0-9]{1,2}|[0-9]{4,})$|[0-9],[0-9]{3},[0-9]{3}|^[-+]?\.[0-9]+$"


class Fallback(Exception):
    """The file is left to the per-row reader; the message says why."""


def parse(
    opener: Opener,
    filename: str,
    ds: Dataset,
    period: str | None = None,
    aliases: AliasTable | None = None,
) -> ParseResult | None:
    """The file parsed at Arrow speed, or None when the per-row reader must take it."""
    try:
        return _parse(opener, filename, ds, period, aliases)
    except pa.ArrowInvalid as exc:
        log.info("%s: read row by row (pyarrow: %s)", filename, exc)
        return None
    except Fallback as why:
        log.info("%s: read row by row (%s)", filename, why)
        return None


# ---------------------------------------------------------------- lines and cells


@dataclass
class _Block:
    first: int  # the line number of the block's first line
    lines: Arr  # every physical line, as text
    cells: list[Arr]  # the cells of the lines in `table_rows`, split at the delimiter
    table_rows: np.ndarray  # indexes (in `lines`) of the lines split into `cells`
    simple: np.ndarray  # per table row: a data line of printable ASCII, no quote, no summary word
    blank: np.ndarray  # per table row: nothing but spaces, tabs and delimiters
    done: int  # bytes of the file read so far


def _read_blocks(opener: Opener, sn: Sniffed, skip_bom: bool) -> Iterator[tuple[bytes, int]]:
    """The file's bytes in pieces that end at a line end, and how far into the file each ends."""
    with opener() as fh:
        rest = b""
        done = 0
        first = True
        while True:
            chunk = fh.read(BLOCK)
            done += len(chunk)
            if first and skip_bom and chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            first = False
            if not chunk:
                if rest:
                    yield rest, done
                return
            data = rest + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                cut = data.rfind(b"\r", 0, len(data) - 1)  # a CR at the very end may be a CRLF
            if cut < 0:
                if len(data) > 4 * MAX_FIELD:
                    raise Fallback("a line longer than the per-row reader's limit")
                rest = data
                continue
            yield data[: cut + 1], done
            rest = data[cut + 1 :]


def _utf8(data: bytes) -> bytes:
    """The bytes as the per-row reader decodes them (UTF-8, stray bytes as Windows-1252)."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="serasan-cp1252").encode("utf-8")


def _lines(data: bytes) -> Arr:
    """Every physical line (CR, LF or CRLF ended) as one string; a line holding the unit
    separator makes pyarrow raise, and the file falls back."""
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=["line"], block_size=_ARROW_BLOCK),
        parse_options=pacsv.ParseOptions(
            delimiter="\x1f",
            quote_char=False,
            double_quote=False,
            escape_char=False,
            ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={"line": pa.string()}, strings_can_be_null=False
        ),
    )
    return table.column("line").combine_chunks()


def _cells(data: bytes, delimiter: str, width: int) -> tuple[list[Arr], int]:
    """The cells of the lines that split into `width` cells (quotes taken literally)."""
    skipped = 0

    def invalid(row: pacsv.InvalidRow) -> Literal["skip"]:
        nonlocal skipped
        skipped += 1
        return "skip"

    names = [f"c{j}" for j in range(width)]
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, block_size=_ARROW_BLOCK),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char=False,
            double_quote=False,
            escape_char=False,
            ignore_empty_lines=True,
            invalid_row_handler=invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    return [table.column(n).combine_chunks() for n in names], table.num_rows


def _blocks(opener: Opener, sn: Sniffed, head: Head) -> Iterator[_Block]:
    first = 1
    for raw, done in _read_blocks(opener, sn, sn.encoding == "utf-8-sig"):
        data = _utf8(raw)
        lines = _lines(data)
        if not len(lines):
            continue
        lengths = pc.binary_length(lines).to_numpy(zero_copy_only=False)
        if lengths.max(initial=0) >= MAX_FIELD:
            raise Fallback("a line over the per-row reader's cell limit")
        if b"\x00" in data:
            raise Fallback("a NUL byte")
        counts = pc.count_substring(lines, sn.delimiter).to_numpy(zero_copy_only=False)
        filled = lengths > 0
        if counts.max(initial=0) + 1 > MAX_COLUMNS:
            raise Fallback("a line with more cells than the per-row reader allows")
        common = np.bincount(counts[filled]).argmax() if filled.any() else 0
        cells, rows = _cells(data, sn.delimiter, int(common) + 1)
        table_rows = np.flatnonzero(filled & (counts == common))
        if rows != len(table_rows):
            raise Fallback("pyarrow split the lines otherwise than counted")
        numbers = first + table_rows
        in_table = lines.take(table_rows) if rows != len(lines) else lines
        simple = (numbers > head.header_number) & _plain_lines(in_table)
        spaces = "[ \t" + re.escape(sn.delimiter) + "]*"
        blank = pc.match_substring_regex(in_table, f"^{spaces}$").to_numpy(zero_copy_only=False)
        yield _Block(first, lines, cells, table_rows, simple, blank, done)
        first += len(lines)


def _plain_lines(lines: Arr) -> np.ndarray:
    """Lines the vectorised pass may read: printable ASCII and tabs, no quote, and no word a
    summary row starts with (a superset of `reader.SUMMARY_ROW`: such lines go row by row)."""
    plain: np.ndarray = ~pc.match_substring_regex(lines, _NOT_PLAIN).to_numpy(zero_copy_only=False)
    return plain


# ---------------------------------------------------------------- vectorised cells


def _trim(cells: Arr) -> Arr:
    """Cells without the spaces and tabs around them: `str.strip` for printable ASCII cells
    (the only ones whose values the vectorised pass keeps)."""
    trimmed: Arr = pc.ascii_trim(cells, characters=" \t")
    return trimmed


def _number_votes(cells: Arr) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the cells that can be read only 1.234,5-style and only 1234.5-style
    (`reader._number_evidence`, in bulk, for printable ASCII cells).

    Most cells are digits with at most one dot: those vote 1234.5 exactly when the dot is not
    followed by three digits, and never 1.234,5. Only the others take the full rules."""
    n = len(cells)
    id_only, en_only = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    # every rule needs a '.' or a ',': cells without one vote nothing
    marked = np.flatnonzero(
        _np(pc.match_substring(cells, ".")) | _np(pc.match_substring(cells, ","))
    )
    if not len(marked):
        return id_only, en_only
    cells = cells.take(marked)
    common = _np(pc.match_substring_regex(cells, r"^-?[0-9]+(\.[0-9]+)?$"))
    en_only[marked] = _np(pc.match_substring_regex(cells, r"^-?[0-9]+\.([0-9]{1,2}|[0-9]{4,})$"))
    rest = np.flatnonzero(~common)
    if not len(rest):
        return id_only, en_only
    other = cells.take(rest)
    s = _trim(other)
    s = pc.replace_substring_regex(s, _CURRENCY, r"\1")
    s = pc.replace_substring(s, " ", "")
    s = pc.utf8_trim(s, characters="()")
    ids = pc.match_substring_regex(s, _ID_ONLY).to_numpy(zero_copy_only=False)
    ens = pc.match_substring_regex(s, _EN_ONLY).to_numpy(zero_copy_only=False)
    id_only[marked[rest]] = ids
    en_only[marked[rest]] = ens & ~ids
    return id_only, en_only


def _date_kinds(cells: Arr) -> set[str]:
    """`reader._date_evidence` of the printable cells, as the set of kinds met."""
    parts = pc.drop_null(pc.extract_regex(_trim(cells), _SLASH_EVIDENCE))
    a_np = _ints(pc.struct_field(parts, "a"))
    b_np = _ints(pc.struct_field(parts, "b"))
    kinds: set[str] = set()
    if ((a_np > 12) & (b_np <= 12)).any():
        kinds.add("dmy")
    if ((b_np > 12) & (a_np <= 12)).any():
        kinds.add("mdy")
    if (~(((a_np > 12) & (b_np <= 12)) | ((b_np > 12) & (a_np <= 12)))).any():
        kinds.add("ambiguous")
    return kinds


def _dates(
    y: np.ndarray, m: np.ndarray, d: np.ndarray, granularity: str
) -> tuple[np.ndarray, np.ndarray]:
    """(days since 1970 truncated to the granularity, valid) for year, month and day arrays."""
    ok = (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1)
    y2, m2, d2 = np.where(ok, y, 2000), np.where(ok, m, 1), np.where(ok, d, 1)
    month = (y2 - 1970) * 12 + (m2 - 1)
    start = month.astype("datetime64[M]").astype("datetime64[D]")
    nxt = (month + 1).astype("datetime64[M]").astype("datetime64[D]")
    ok &= d2 <= (nxt - start).astype(np.int64)
    if granularity == "month":
        out = start
    elif granularity == "quarter":
        out = (month - (m2 - 1) % 3).astype("datetime64[M]").astype("datetime64[D]")
    elif granularity == "year":
        out = (month - (m2 - 1)).astype("datetime64[M]").astype("datetime64[D]")
    else:
        out = start + (d2 - 1)
    return out.astype(np.int64), ok


def _ints(values: Arr) -> np.ndarray:
    ints: np.ndarray = pc.cast(pc.fill_null(values, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    return ints


class _Column:
    """One catalog column's values for the fast rows of a block, which rows it settled, and
    the cells it read as an empty marker or a dash (counted once the rows are kept)."""

    def __init__(
        self,
        values: Arr,
        ok: np.ndarray,
        text: Arr | None = None,
        marker: np.ndarray | None = None,
        dash: np.ndarray | None = None,
    ) -> None:
        self.values, self.ok = values, ok
        self.text, self.marker, self.dash = text, marker, dash


def _np(mask: Any) -> np.ndarray:
    out: np.ndarray = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
    return out


# Python's str.strip removes these too: a cell starting or ending with one goes row by row
_EDGE_SPACE = (
    "[\\x0b\\x0c\\x1c-\\x1f\\x85\\xa0\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"
    "\\x{202f}\\x{205f}\\x{3000}]"
)
_EDGES = f"^{_EDGE_SPACE}|{_EDGE_SPACE}$"  # on cells trimmed of spaces and tabs
_MONTHS = sorted(MONTHS)
_WORDS = r"^(?:(?P<d>[0-9]{1,2})[ \t]+)?(?P<m>[A-Za-z]+)\.?[ \t-]+(?P<y>[0-9]{2,4})$"
_NUMBER_SHAPE = {
    "id": r"^(?i:(rp\.?|idr)[ \t]*)?-?([0-9]{1,3}(\.[0-9]{3})+|[0-9]{1,18})(,[0-9]{1,18})?$",
    "en": r"^(?i:(rp\.?|idr)[ \t]*)?-?([0-9]{1,3}(,[0-9]{3})+|[0-9]{1,18})(\.[0-9]{1,18})?$",
}


def _markers(t: Arr, reading: Any, ascii_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(empty-marker cells, dash cells) as `CellReading.read` sees them: `str.casefold`, which
    is lower case for ASCII and is applied by Python itself to the other cells."""
    n = len(t)
    marker = np.zeros(n, dtype=bool)
    dash = np.zeros(n, dtype=bool)
    if reading.dash != "value":
        dash = _np(pc.is_in(t, pa.array(sorted(DASHES))))
    if reading.na:
        marker = _np(pc.is_in(pc.ascii_lower(t), pa.array(sorted(reading.na)))) & ascii_cells
        others = np.flatnonzero(~ascii_cells)
        if len(others):
            texts = t.take(others).to_pylist()
            marker[others] = [(v or "").casefold() in reading.na for v in texts]
        marker &= ~dash
    return marker, dash


def _number_values(t: Arr, convention: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, plain, shaped) of the cells `reader._number_fn` reads: plain (1234,5 or
    1234.5, read before any marker) or by the column's shape (1.234.567,89, Rp 15.382.417,
    with an optional currency and minus sign, read after the markers)."""
    plain = _np(pc.match_substring_regex(t, _PLAIN[convention]))
    shaped = _np(pc.match_substring_regex(t, _NUMBER_SHAPE[convention])) & ~plain
    text = pc.if_else(pa.array(plain | shaped), t, "0")
    if shaped.any():
        cleaned = pc.replace_substring_regex(text, r"(?i)^(rp\.?|idr)[ \t]*", "")
        cleaned = pc.replace_substring(cleaned, "." if convention == "id" else ",", "")
        text = pc.if_else(pa.array(shaped), cleaned, text)
    if convention == "id":
        text = pc.replace_substring(text, ",", ".")
    num: np.ndarray = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    return num, plain, shaped


def _date_values(
    t: Arr, order: str, granularity: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(days since 1970, ISO read, other read, ISO-shaped) of the cells `reader._date_fn` reads:
    ISO (read before any marker), D/M/Y (or M/D/Y) and month names ('1 Februari 2026',
    'Nop 2025'; after the markers). Each rule looks only at the cells the ones before left."""
    n = len(t)
    days = np.zeros(n, dtype=np.int64)
    iso_shaped = _np(pc.match_substring_regex(t, _ISO))
    iso = np.zeros(n, dtype=bool)
    other = np.zeros(n, dtype=bool)
    at = np.flatnonzero(iso_shaped)
    if len(at):
        sub = t.take(at)
        y = _ints(pc.utf8_slice_codeunits(sub, 0, 4))
        m = _ints(pc.utf8_slice_codeunits(sub, 5, 7))
        d = _ints(pc.utf8_slice_codeunits(sub, 8, 10))
        days[at], iso[at] = _dates(y, m, d, granularity)
    left = np.flatnonzero(~iso_shaped)
    if len(left):
        sub = t.take(left)
        parts = pc.extract_regex(sub, _SLASH)
        hit = _np(pc.is_valid(parts))
        if hit.any():
            got = pc.drop_null(parts)
            a = _ints(pc.struct_field(got, "a"))
            b = _ints(pc.struct_field(got, "b"))
            yy = _ints(pc.struct_field(got, "y"))
            yy = np.where(yy < 100, yy + 2000, yy)
            day, month = (a, b) if order == "dmy" else (b, a)
            rows = left[hit]
            days[rows], other[rows] = _dates(yy, month, day, granularity)
        left = left[~hit]
    if len(left):
        sub = t.take(left)
        parts = pc.extract_regex(sub, _WORDS)
        hit = _np(pc.is_valid(parts))
        if hit.any():
            got = pc.drop_null(parts)
            name = pc.ascii_lower(pc.struct_field(got, "m"))
            found = pc.index_in(name, value_set=pa.array(_MONTHS))
            known = _np(pc.is_valid(found))
            month_of = np.array([MONTHS[k] for k in _MONTHS], dtype=np.int64)
            month = np.where(known, month_of[_np_int(found)], 1)
            day_text = pc.struct_field(got, "d")
            day = _ints(pc.if_else(pc.equal(day_text, ""), "1", day_text))
            yy = _ints(pc.struct_field(got, "y"))
            yy = np.where(yy < 100, yy + 2000, yy)
            rows = left[hit]
            days[rows], valid = _dates(yy, month, day, granularity)
            other[rows] = valid & known
    return days, iso, other, iso_shaped


def _np_int(values: Any) -> np.ndarray:
    out: np.ndarray = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    return out


def _convert(
    col: Column,
    cells: Arr | None,
    n: int,
    plan: Any,
    reading: Any,
    granularity: str,
) -> _Column:
    """A column's cells converted where the stated rules read them exactly as the per-row
    converters do; `ok` marks those (and empty cells). A column of few distinct values (dates,
    codes, categories) is converted once per value."""
    kind = ARROW_TYPES[col.type]
    if cells is None:
        return _Column(pa.nulls(n).cast(kind), np.ones(n, dtype=bool))
    t = _trim(cells)
    encoded = pc.dictionary_encode(t)
    if len(encoded.dictionary) * 2 > n:  # mostly distinct: convert the cells themselves
        values, ok, marker, dash = _convert_values(col, t, plan, reading, granularity)
        return _Column(values, ok, t, marker, dash)
    index = encoded.indices.to_numpy(zero_copy_only=False)
    values, ok, marker, dash = _convert_values(col, encoded.dictionary, plan, reading, granularity)
    return _Column(values.take(index), ok[index], t, marker[index], dash[index])


def _convert_values(
    col: Column, t: Arr, plan: Any, reading: Any, granularity: str
) -> tuple[Arr, np.ndarray, np.ndarray, np.ndarray]:
    """(values, ok, marker, dash) of trimmed cells."""
    kind = ARROW_TYPES[col.type]
    n = len(t)
    empty = _np(pc.equal(t, ""))
    ascii_cells = _np(pc.string_is_ascii(t))
    edges = _np(pc.match_substring_regex(t, _EDGES)) if not ascii_cells.all() else None
    marker, dash = _markers(t, reading, ascii_cells)
    special = marker | dash
    if col.type == "string":
        ok = np.ones(n, dtype=bool) if edges is None else ~edges
        nothing = pa.array(empty | special)
        return pc.if_else(nothing, pa.nulls(n).cast(pa.string()), t), ok, marker, dash
    if col.type == "integer" and col.thousands_dot_lost:
        return pa.nulls(n).cast(kind), empty, marker & False, dash & False
    zero = reading.dash == "zero"
    if col.type in ("integer", "number"):
        num, plain, shaped = _number_values(t, plan.conventions.get(col.name, "id"))
        marker &= ~plain
        dash &= ~plain
        special = marker | dash
        read = plain | (shaped & ~special)
        if zero:
            num = np.where(dash, 0.0, num)
        values_ok = read | (dash & zero)
        if col.type == "number":
            values = pa.array(num, mask=~values_ok, type=kind)
            return values, read | empty | special, marker, dash
        whole = values_ok & (np.floor(num) == num) & (np.abs(num) < 2.0**53)
        ints = np.where(whole, num, 0).astype(np.int64)
        return pa.array(ints, mask=~whole, type=kind), whole | empty | special, marker, dash
    if col.type == "date":
        days, iso, other, iso_shaped = _date_values(
            t, plan.orders.get(col.name, "dmy"), granularity
        )
        marker &= ~iso_shaped
        dash &= ~iso_shaped
        special = marker | dash
        read = iso | (other & ~special)
        values = pa.array(days.astype(np.int32), mask=~read, type=pa.int32()).cast(pa.date32())
        return values, read | empty | special, marker, dash
    low = pc.ascii_lower(t)
    yes = _np(pc.is_in(low, pa.array(_YES))) & ascii_cells & ~special
    no = _np(pc.is_in(low, pa.array(_NO))) & ascii_cells & ~special
    values = pa.array(yes, mask=~(yes | no), type=pa.bool_())
    return values, yes | no | empty | special, marker, dash


def _count_markers(col: _Column, reading: Any, chosen: np.ndarray) -> None:
    """Count the kept rows' markers and dashes as the per-row reader counts them."""
    if col.marker is None or col.dash is None or col.text is None:
        return
    dash = col.dash[chosen]
    reading.dashes += int(dash.sum())
    marked = np.flatnonzero(col.marker[chosen])
    if len(marked):
        texts = col.text.take(chosen[marked])
        counts = pc.value_counts(texts)
        for item in counts.to_pylist():
            reading.markers[item["values"]] += item["counts"]


# ---------------------------------------------------------------- the file


def _parse(
    opener: Opener,
    filename: str,
    ds: Dataset,
    period: str | None,
    aliases: AliasTable | None,
) -> ParseResult:
    with opener() as fh:
        head_bytes = fh.read(64 * 1024)
        size = fh.seek(0, io.SEEK_END) if fh.seekable() else None
    try:
        sn = sniff(head_bytes, filename, allow_json=ds.source.kind == "api")
        if filename.lower().endswith((".xlsx", ".xlsm")) or sn.kind != "csv":
            raise Fallback(f"a {sn.kind} file")
        if sn.encoding not in ("utf-8", "utf-8-sig"):
            raise Fallback(f"{sn.encoding} text")
        context = resolve_period(ds, filename, period)
        head, rest = read_head(opener, filename, ds, context)
        close = getattr(rest, "close", None)
        if close is not None:
            close()
    except ParseError as exc:
        raise Fallback(f"refused: {exc}") from None
    if aliases is None:
        aliases = regions.default_aliases()
    result, final = _read(opener, sn, head, filename, ds, context, aliases, None, size)
    if result is None:
        # the evidence after the first block changed a convention: once more, decided
        log.info("%s: conventions settled after the first block; read again", filename)
        result, _ = _read(opener, sn, head, filename, ds, context, aliases, final, size)
    assert result is not None
    return result


def _read(
    opener: Opener,
    sn: Sniffed,
    head: Head,
    filename: str,
    ds: Dataset,
    context: PeriodContext | None,
    aliases: AliasTable,
    forced: Plan | None,
    size: int | None,
) -> tuple[ParseResult | None, Plan]:
    """One pass over the file. Without a `forced` plan, the conventions are decided from the
    first block's evidence and checked at the end against the whole file's: (None, the final
    plan) when they differ, so the caller reads again with it."""
    votes = _Votes(head)
    plan: Plan | None = forced
    parser: RowParser | None = None
    region = regions.for_dataset(ds, aliases)
    if region is not None:
        region.events = []
    fast_events: list[tuple[int, regions.RowKey, int]] = []
    batches: list[pa.RecordBatch] = []
    rows_fast = 0
    progress = current_progress()
    progress.set_total(size)
    for block in _blocks(opener, sn, head):
        if forced is None:
            votes.gather(block, head, sn)
        if plan is None:
            plan = votes.settle(head, filename, ds, context)
        if parser is None:
            parser = RowParser(ds, plan, context, region)
        fast_batch, fast_rows, fast_ok, blank = _fast(
            block, plan, parser, ds, context, region, fast_events
        )
        rows_fast += fast_rows
        before = parser.rows_in
        _slow(block, head, sn, parser, fast_ok | blank)
        slow_batch = parser.batch()
        parts = [b for b in (fast_batch, slow_batch) if b is not None and b.num_rows]
        if len(parts) == 2:
            merged = pa.Table.from_batches(parts, schema=parser.schema)
            merged = merged.take(pc.sort_indices(merged.column(ROW_COL)))
            batches.extend(merged.combine_chunks().to_batches())
        else:
            batches.extend(parts)
        progress.advance(fast_rows + parser.rows_in - before, block.done)
    if plan is None:  # no data lines at all
        plan = votes.settle(head, filename, ds, context)
    if parser is None:
        parser = RowParser(ds, plan, context, region)
    final = plan if forced is not None else votes.settle(head, filename, ds, context)
    if (final.conventions, final.orders) != (plan.conventions, plan.orders):
        return None, final
    parser.plan = final  # its notes count the whole file's evidence
    if region is not None:
        events = region.events or []
        region.events = None
        region.replay(fast_events + events)
        region.finish(filename)  # a file written in another scheme is refused as a whole
    result = ParseResult(
        table=pa.Table.from_batches(batches, schema=parser.schema),
        rejects=parser.rejects,
        rows_in=rows_fast + parser.rows_in,
        header_row=plan.header_idx + 1,
        notes=parser.notes(),
    )
    return result, final


def _data_lines(block: _Block, head: Head) -> np.ndarray:
    """A mask of the block's lines after the header."""
    numbers = block.first + np.arange(len(block.lines))
    return numbers > head.header_number


def _fast_rows(block: _Block, width: int, needed: int) -> np.ndarray:
    """Indexes (into the block's cells) of the rows the vectorised pass may take."""
    cells = len(block.cells)
    if cells < needed:
        return np.zeros(0, dtype=np.int64)
    ok = block.simple.copy()
    for j in range(width, cells):  # cells beyond the header's must be empty
        ok &= pc.equal(_trim(block.cells[j]), "").to_numpy(zero_copy_only=False)
    return np.flatnonzero(ok)


def _fast(
    block: _Block,
    plan: Plan,
    parser: RowParser,
    ds: Dataset,
    context: PeriodContext | None,
    region: regions.RowResolver | None,
    events: list[tuple[int, regions.RowKey, int]],
) -> tuple[pa.RecordBatch | None, int, np.ndarray, np.ndarray]:
    """The block's fast rows converted: (batch, rows, taken-lines mask, blank-lines mask)."""
    taken = np.zeros(len(block.lines), dtype=bool)
    blank = np.zeros(len(block.lines), dtype=bool)
    rows = _fast_rows(block, parser.width, parser.needed)
    if not len(rows):
        return None, 0, taken, blank
    if len(rows) == len(block.table_rows):  # every row: no copy
        cells = block.cells
    else:
        index = pa.array(rows)
        cells = [c.take(index) for c in block.cells]
    n = len(rows)
    # a row of empty cells is a blank line: not a row at all
    empty = block.blank[rows]
    line_idx = block.table_rows[rows]
    blank[line_idx[empty]] = True
    keep = ~empty
    columns: dict[str, _Column] = {}
    for col in ds.columns:
        pos = plan.positions.get(col.name)
        granularity = ds.period.granularity if col.name == ds.period.column else "day"
        source = cells[pos] if pos is not None and pos < len(cells) else None
        converted = _convert(col, source, n, plan, parser.tally.readings[col.name], granularity)
        if context is not None and col.name == ds.period.column:
            converted = _in_period(converted, col, context)
        columns[col.name] = converted
        keep &= converted.ok
    numbers = (block.first + line_idx).astype(np.int32)
    if region is not None:
        keep &= _regions(region, columns, numbers, keep, ds, events)
    chosen = np.flatnonzero(keep)
    taken[line_idx[chosen]] = True
    if not len(chosen):
        return None, 0, taken, blank
    for col in ds.columns:
        _count_markers(columns[col.name], parser.tally.readings[col.name], chosen)
    if len(chosen) == n:
        arrays = [columns[c.name].values for c in ds.columns]
    else:
        arrays = [columns[c.name].values.take(chosen) for c in ds.columns]
    arrays.append(pa.array(numbers[chosen], type=pa.int32()))
    return pa.RecordBatch.from_arrays(arrays, schema=parser.schema), len(chosen), taken, blank


def _in_period(converted: _Column, col: Column, ctx: PeriodContext) -> _Column:
    """The period column when the period comes from context (`reader._period_fn`)."""
    kind = ARROW_TYPES[col.type]
    expected = pa.scalar(ctx.value, type=kind)
    values = converted.values
    same = pc.fill_null(pc.equal(values, expected), True).to_numpy(zero_copy_only=False)
    filled = pc.fill_null(values, expected)
    # its empty markers and dashes were read (and are counted) before the context filled them
    return _Column(filled, converted.ok & same, converted.text, converted.marker, converted.dash)


_NULL = "\x00"  # a null in a composite key: no line holds a NUL (such files fall back)


def _key_part(values: Arr) -> Arr:
    part: Arr = pc.fill_null(pc.cast(values, pa.string()), _NULL)
    return part


def _regions(
    region: regions.RowResolver,
    columns: dict[str, _Column],
    numbers: np.ndarray,
    keep: np.ndarray,
    ds: Dataset,
    events: list[tuple[int, regions.RowKey, int]],
) -> np.ndarray:
    """Resolve the region values of the rows kept so far, once per distinct (value, parent,
    name, year); a row whose key the rules refuse is left to the per-row path (which writes its
    reject). Codes and the source column are written into `columns`; the rows' counts become
    events for `RowResolver.replay`."""
    spec = region.spec
    raw = columns[spec.column].values
    n = len(raw)
    nulls = pa.nulls(n).cast(pa.string())
    parent = columns[spec.parent_column].values if spec.parent_column else nulls
    name = columns[spec.name_column].values if spec.name_column else nulls
    period = columns.get(ds.period.column)
    years = _years(period.values) if period is not None else pa.nulls(n).cast(pa.int64())
    active = pc.and_(pc.is_valid(raw), pa.array(keep)).to_numpy(zero_copy_only=False)
    ok = np.ones(n, dtype=bool)
    if not active.any():
        return ok
    composite = pc.binary_join_element_wise(
        _key_part(raw), _key_part(parent), _key_part(name), _key_part(years), "\x1f"
    )
    chosen = pa.array(np.flatnonzero(active))
    groups = (
        pa.table({"k": composite.take(chosen), "i": chosen, "row": pa.array(numbers).take(chosen)})
        .group_by("k", use_threads=False)
        .aggregate([("i", "min"), ("row", "min"), ("row", "count")])
    )
    firsts = groups.column("i_min")
    key_lists = [v.take(firsts).to_pylist() for v in (raw, parent, name, years)]
    codes: list[str | None] = []
    for key_raw, key_parent, key_name, key_year, first, count in zip(
        *key_lists,
        groups.column("row_min").to_pylist(),
        groups.column("row_count").to_pylist(),
        strict=True,
    ):
        key: regions.RowKey = (key_raw, key_parent, key_name, key_year)
        out, _ = region.lookup(key)
        codes.append(out.code if out.ok else None)
        if out.ok:
            events.append((first, key, count))
    where = pc.index_in(composite, value_set=groups.column("k"))
    code = pa.array(codes, pa.string()).take(where)
    resolved = pc.and_(pa.array(active), pc.is_valid(code))
    ok[active & ~pc.fill_null(resolved, False).to_numpy(zero_copy_only=False)] = False
    column = columns[spec.column]
    columns[spec.column] = _Column(pc.if_else(resolved, code, raw), column.ok)
    if spec.source_column and spec.source_column in columns:
        source = columns[spec.source_column]
        columns[spec.source_column] = _Column(pc.if_else(resolved, raw, source.values), source.ok)
    return ok


def _years(values: Arr) -> Arr:
    """`regions._year` of the period column: a date's year, or a year-like whole number."""
    if pa.types.is_date(values.type):
        years: Arr = pc.cast(pc.year(values), pa.int64())
        return years
    if pa.types.is_integer(values.type):
        v = pc.cast(values, pa.int64())
        like = pc.and_(pc.greater_equal(v, 1900), pc.less_equal(v, 2200))
        likely: Arr = pc.if_else(like, v, pa.scalar(None, pa.int64()))
        return likely
    return pa.nulls(len(values), pa.int64())


def _slow(block: _Block, head: Head, sn: Sniffed, parser: RowParser, settled: np.ndarray) -> None:
    """Every data line the vectorised pass did not settle, through the per-row parser."""
    todo = np.flatnonzero(_data_lines(block, head) & ~settled)
    if not len(todo):
        return
    texts = block.lines.take(todo).to_pylist()
    for i, text in zip(todo.tolist(), texts, strict=True):
        parser.take(block.first + i, _split(text or "", sn.delimiter))


def _split(text: str, delimiter: str) -> list[str]:
    """One line's cells as the csv module reads them; a quote left open is a record that runs
    on to the next line, which only the per-row reader numbers right."""
    if not text:
        return []
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        raise Fallback(f"a quoted cell runs on past its line ({exc})") from None
    finally:
        csv.field_size_limit(previous)


# ---------------------------------------------------------------- the plan, in bulk


class _Votes:
    """`reader._plan`'s evidence gathered in bulk, block by block: the same votes, in the same
    first-seen order, and the per-row reader's own evidence for the lines not read in bulk."""

    def __init__(self, head: Head) -> None:
        self.per_row = Evidence(head)
        self.first: dict[str, dict[str, int]] = {n: {} for n in head.numeric}
        self.counts: dict[str, Counter[str]] = {n: Counter() for n in head.numeric}
        self.seen: dict[str, set[str]] = {n: set() for n in head.dated}

    def _vote(self, name: str, kind: str, hits: int, row: int) -> None:
        self.counts[name][kind] += hits
        known = self.first[name].get(kind)
        self.first[name][kind] = row if known is None else min(known, row)

    def gather(self, block: _Block, head: Head, sn: Sniffed) -> None:
        if not (head.numeric or head.dated):
            return
        bulk = block.simple
        numbers = block.first + block.table_rows
        for name, pos in head.numeric.items():
            if pos >= len(block.cells):
                continue
            cells = block.cells[pos]
            ascii_cells = _np(pc.string_is_ascii(cells))
            encoded = pc.dictionary_encode(cells)
            if len(encoded.dictionary) * 2 > len(cells):
                id_only, en_only = _number_votes(cells)
            else:  # few distinct values: each judged once
                index = encoded.indices.to_numpy(zero_copy_only=False)
                id_once, en_once = _number_votes(encoded.dictionary)
                id_only, en_only = id_once[index], en_once[index]
            for kind, mask in (("id", id_only & bulk & ascii_cells), ("en", en_only & bulk)):
                hits = np.flatnonzero(mask & ascii_cells)
                if len(hits):
                    self._vote(name, kind, len(hits), int(numbers[hits[0]]))
            others = np.flatnonzero(bulk & ~ascii_cells)  # Unicode spaces and digits: as Python
            for i, value in zip(others.tolist(), cells.take(others).to_pylist(), strict=True):
                if e := _number_evidence(value):
                    self._vote(name, e, 1, int(numbers[i]))
        for name, pos in head.dated.items():
            if pos < len(block.cells):
                cells = block.cells[pos]
                ascii_cells = _np(pc.string_is_ascii(cells))
                read = cells.filter(pa.array(bulk & ascii_cells))
                self.seen[name] |= _date_kinds(pc.unique(read))  # a set: each value once
                others = np.flatnonzero(bulk & ~ascii_cells)
                for value in cells.take(others).to_pylist():
                    if e := _date_evidence(value):
                        self.seen[name].add(e)
        # the data lines not read in bulk: cell by cell, as the per-row reader does
        in_bulk = np.zeros(len(block.lines), dtype=bool)
        in_bulk[block.table_rows[bulk]] = True
        todo = np.flatnonzero(_data_lines(block, head) & ~in_bulk)
        texts = block.lines.take(todo).to_pylist()
        for i, text in zip(todo.tolist(), texts, strict=True):
            row = _split(text or "", sn.delimiter)
            for name, pos in head.numeric.items():
                if pos < len(row) and (e := _number_evidence(row[pos])):
                    self._vote(name, e, 1, block.first + i)
            for name, pos in head.dated.items():
                if pos < len(row) and (e := _date_evidence(row[pos])):
                    self.seen[name].add(e)

    def settle(self, head: Head, filename: str, ds: Dataset, context: PeriodContext | None) -> Plan:
        votes: dict[str, Counter[str]] = {}
        for name in head.numeric:
            ordered: Counter[str] = Counter()
            for kind in sorted(self.first[name], key=self.first[name].__getitem__):
                ordered[kind] = self.counts[name][kind]
            votes[name] = ordered
        try:
            return settle_plan(head, votes, self.seen, filename, ds, context)
        except ParseError as exc:  # mixed date orders: the per-row reader says so in its order
            raise Fallback(f"refused: {exc}") from None
