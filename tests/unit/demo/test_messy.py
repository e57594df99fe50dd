"""The messy CSV generator (`serasan.demo.messy`): the same bytes for the same arguments, the
file-level options written as asked, each defect in about its share of the rows (counted in
the bytes, not taken from the generator's word), and every messy value still readable."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest

from serasan.common.clock import MONTH_NAMES
from serasan.config.catalog import Dataset
from serasan.demo.messy import DEFECTS, MONTH_SHORT, MessyFile, applicable, messy_csv, messy_file
from serasan.parse.reader import parse_file
from serasan.parse.regions import normalise_kode, resolve_kemendagri
from serasan.quality.suites import load_validated_catalog

CATALOG = load_validated_catalog()
ADUAN = "muaraenim_pengaduan_masyarakat"  # day dates, kecamatan codes, names
BANSOS = "muaraenim_penerima_bansos"  # money, desa codes (old pre-split codes), names
PAJAK = "muba_realisasi_pajak"  # money, a nullable integer, kecamatan codes
EVENT = "muba_event_sport_tourism"  # day dates, integers, event names
WORDS = re.compile(rf"^\d{{1,2}} ({'|'.join(MONTH_NAMES)}) \d{{4}}$")
SHORT = re.compile(rf"^(\d{{1,2}} )?({'|'.join(MONTH_SHORT)}) \d{{4}}$")


def _records(m: MessyFile, encoding: str, delimiter: str) -> list[list[str]]:
    """The data rows of a messy file (between the header and the Jumlah row), read back."""
    text = m.data.decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return rows[m.header_line : m.header_line + m.rows]


def _rows_with(records: list[list[str]], j: int | None, check: Callable[[str], bool]) -> int:
    """Rows with a (non-empty) cell that passes `check`: any cell, or the one at `j`."""
    return sum(1 for r in records if any(check(v) for v in (r if j is None else [r[j]]) if v != ""))


def test_same_arguments_give_the_same_bytes_and_the_seed_matters() -> None:
    ds = CATALOG.dataset(PAJAK)
    one = messy_csv(ds, CATALOG, 300, seed=4)
    assert one == messy_csv(ds, CATALOG, 300, seed=4)
    assert one != messy_csv(ds, CATALOG, 300, seed=5)
    assert one == messy_file(ds, CATALOG, 300, seed=4).data


@pytest.mark.parametrize("title_rows", [0, 1, 2])
@pytest.mark.parametrize(
    ("encoding", "line_end", "delimiter"),
    [("cp1252", "\r", ";"), ("cp1252", "\r\n", "\t"), ("utf-8", "\n", ",")],
)
def test_file_level_options_are_written_as_asked(
    encoding: str, line_end: str, delimiter: str, title_rows: int
) -> None:
    ds = CATALOG.dataset(BANSOS)
    m = messy_file(
        ds,
        CATALOG,
        400,
        seed=2,
        rate=0.1,
        encoding=encoding,
        line_end=line_end,
        delimiter=delimiter,
        title_rows=title_rows,
    )
    assert m.defects["accented_name"] > 0
    if encoding == "cp1252":  # é and ñ are one byte, and not UTF-8
        with pytest.raises(UnicodeDecodeError):
            m.data.decode("utf-8")
        assert re.search(rb"[\xe9\xf1\xeb]", m.data)
    else:
        assert "é" in m.data.decode("utf-8") or "ñ" in m.data.decode("utf-8")
    lines = m.data.decode(encoding).split(line_end)
    assert lines[-1] == ""  # every line ends with the line end, the last one too
    other = {"\r": "\n", "\r\n": None, "\n": "\r"}[line_end]
    if other is not None:
        assert other.encode() not in m.data
    else:
        assert m.data.count(b"\r") == m.data.count(b"\n") == m.data.count(b"\r\n")
    assert m.header_line == title_rows + 1
    assert lines[title_rows].split(delimiter) == [c.header for c in ds.columns]
    if title_rows:
        assert lines[0].startswith("DATA PENERIMA BANTUAN SOSIAL DAERAH KABUPATEN MUARA ENIM")
    assert lines[-3].split(delimiter)[0] == "Jumlah"
    assert lines[-2].startswith("Sumber: ")
    assert len(lines) == title_rows + 1 + m.rows + 2 + 1


@pytest.mark.parametrize(("ds_id", "rows"), [(ADUAN, 2000), (BANSOS, 2000), (PAJAK, 980)])
def test_each_defect_is_in_about_its_share_of_the_rows(ds_id: str, rows: int) -> None:
    ds = CATALOG.dataset(ds_id)
    rate = 0.05
    m = messy_file(ds, CATALOG, rows, seed=9, rate=rate, encoding="utf-8", delimiter=";")
    assert m.rows == rows
    assert set(m.defects) == set(applicable(ds)) and set(m.defects) <= set(DEFECTS)
    for kind, count in m.defects.items():
        assert 0.5 * rate * rows <= count <= 1.6 * rate * rows, (kind, count)
    # and the bytes hold what the counts say
    records = _records(m, "utf-8", ";")
    names = [c.name for c in ds.columns]
    region = names.index(ds.region.column)  # type: ignore[union-attr]
    dates = [j for j, c in enumerate(ds.columns) if c.type == "date"]
    seen = {
        "accented_name": _rows_with(records, None, lambda v: not v.isascii()),
        "money": _rows_with(records, None, lambda v: v.lstrip("-").startswith("Rp ")),
        "empty_marker": _rows_with(records, None, lambda v: v in ("NA", "-")),
        "region_undotted": _rows_with(records, region, str.isdigit),
        "region_old": _rows_with(
            records, region, lambda v: resolve_kemendagri(v, 2026).how == "superseded"
        ),
        "region_loose": _rows_with(records, region, lambda v: "." in v and normalise_kode(v) != v),
    }
    for kind, count in seen.items():
        assert count == m.defects.get(kind, 0), kind
    # dates: '5 Mei 2026' is both spellings (Mei has no shorter form), so those rows count
    # for either one
    spelled = [[r[j] for j in dates] for r in records]
    words = sum(1 for r in spelled if any(WORDS.match(v) and not SHORT.match(v) for v in r))
    short = sum(1 for r in spelled if any(SHORT.match(v) and not WORDS.match(v) for v in r))
    both = sum(1 for r in spelled if any(WORDS.match(v) and SHORT.match(v) for v in r))
    told = m.defects.get("date_words", 0), m.defects.get("month_abbrev", 0)
    assert words + short + both == sum(told)
    assert words <= told[0] <= words + both and short <= told[1] <= short + both


def test_the_region_is_written_in_the_ways_the_catalog_allows() -> None:
    bank = CATALOG.dataset("muba_bank_sampah")  # desa codes, no `undotted: true`
    assert {"region_old", "region_loose"} <= set(applicable(bank))
    assert "region_undotted" not in applicable(bank)
    data = bank.model_dump()
    data["region"]["undotted"] = True
    undotted = Dataset.model_validate(data)
    assert "region_undotted" in applicable(undotted)
    m = messy_file(undotted, CATALOG, 250, seed=1, rate=0.1, encoding="utf-8", delimiter=";")
    codes = [r[2] for r in _records(m, "utf-8", ";")]
    assert any(len(c) == 10 and c.isdigit() for c in codes)
    kec = CATALOG.dataset(PAJAK)  # kecamatan codes: 160601 is always read; no old codes
    assert {"region_undotted", "region_loose"} <= set(applicable(kec))
    assert "region_old" not in applicable(kec)


@pytest.mark.parametrize("ds_id", [ADUAN, BANSOS, PAJAK, EVENT, "muba_bank_sampah"])
def test_every_messy_value_is_readable(ds_id: str) -> None:
    """Parsed by the per-row reader: only the Jumlah row (a summary) and the footnote line may
    be rejected; every other row loads."""
    ds = CATALOG.dataset(ds_id)
    m = messy_file(ds, CATALOG, 600, seed=3, rate=0.2)
    result = parse_file(m.data, m.filename, ds, aliases=CATALOG.aliases, fast=False)
    jumlah = m.header_line + m.rows + 1
    assert result.header_row == m.header_line
    assert result.rows_in == m.rows + 2
    assert {r.row for r in result.rejects} <= {jumlah, jumlah + 1}
    assert [r.kind for r in result.rejects if r.row == jumlah] == ["summary"]


def test_options_out_of_range_are_refused() -> None:
    ds = CATALOG.dataset(PAJAK)
    for bad in ({"line_end": "\n\r"}, {"delimiter": "|"}, {"title_rows": 3}):
        with pytest.raises(ValueError):
            messy_file(ds, CATALOG, 10, seed=1, **bad)
    with pytest.raises(LookupError):
        messy_file(ds, CATALOG, 10, seed=1, encoding="no-such-codec")
    with pytest.raises(ValueError):
        messy_file(ds, CATALOG, 10, seed=1, rate=1.5)
