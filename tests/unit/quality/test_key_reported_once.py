"""A row with an empty key column is reported once, as empty, and not also as a duplicate.

GX counts rows that share a key with an empty part ((2026-01, empty) twice) as duplicates of
each other; the row masks must keep agreeing with GX's counts, so only the report changes:
`check`, the alert's problem counts and the quarantine file name the empty key alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from serasan.config.catalog import Catalog
from serasan.demo.generate import generate_dataset
from serasan.parse.reader import parse_file
from serasan.quality.assess import assess
from serasan.quality.check import check_file

DS = "muaraenim_timbulan_sampah"  # key [periode, kode_kecamatan], quarantine
RUN = dt.date(2026, 11, 1)
DUPLICATE = "duplicate key periode, kode_kecamatan"
EMPTY = "column 'kode_kecamatan' is empty but required"


def _file(catalog: Catalog, tmp_path: Path) -> tuple[Path, int, int, int]:
    """A clean generated file with two rows of one period whose kode is emptied and a third
    row copied whole from another (a real duplicate): (path, empty rows' line numbers...)."""
    gen = generate_dataset(catalog.dataset(DS), catalog, rows=30, fmt="csv", seed=5)
    rows = list(csv.reader(io.StringIO(gen.data.decode())))
    at = rows[0].index("kode_kecamatan")
    rows[3][at] = ""
    same_period = next(i for i in range(4, len(rows)) if rows[i][0] == rows[3][0])
    rows[same_period][at] = ""
    rows.append(list(rows[10]))  # a whole row twice: a true duplicate key
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path = tmp_path / "sampah.csv"
    path.write_text(buf.getvalue())
    # CSV line numbers: the header is line 1
    return path, 4, same_period + 1, len(rows)


def test_an_empty_key_is_reported_once(catalog: Catalog, tmp_path: Path) -> None:
    path, first, second, copy = _file(catalog, tmp_path)
    result = check_file(path, catalog.dataset(DS), catalog, RUN, "en")
    by_row: dict[int, list[str]] = {}
    for p in result["problems"]:
        by_row.setdefault(p["row"], []).append(p["message"])
    assert by_row[first] == [EMPTY]
    assert by_row[second] == [EMPTY]
    assert by_row[11] == [DUPLICATE] and by_row[copy] == [DUPLICATE]  # still a duplicate
    assert set(by_row) == {first, second, 11, copy}
    assert result["rows_valid"] == result["rows_in"] - 4  # the rows fail all the same


def test_alert_counts_and_quarantine_name_the_empty_key_alone(
    catalog: Catalog, tmp_path: Path
) -> None:
    path, first, second, copy = _file(catalog, tmp_path)
    ds = catalog.dataset(DS)
    parsed = parse_file(path.read_bytes(), path.name, ds)
    a = assess(parsed, ds, catalog.suites[DS], RUN, "en")
    assert dict(a.problems) == {EMPTY: 2, DUPLICATE: 2}
    quarantined = {q["baris"]: q for q in a.quarantined}
    assert quarantined[first]["aturan"] == "column_values_to_not_be_null"
    assert quarantined[second]["alasan"] == EMPTY
    assert quarantined[copy]["aturan"] == "compound_columns_to_be_unique"
    # GX's own count, recorded in meta.dq_result, is unchanged: 4 rows share a key
    [unique] = [r for r in a.validation.results if r.type.endswith("compound_columns_to_be_unique")]
    assert unique.unexpected_count == 4 and int(unique.shown.sum()) == 2
