"""`serasan check`: the pipeline's parsing and suite on a local file, problems by row and column.

Expected problems are computed here without the checker: from the CSV rendering of the same
generated data (same dataset, seed and defect rate), by evaluating the suite's rules directly
and by comparing with the clean rendering to find the rows that received a defect.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from serasan.cli.main import main
from serasan.config.catalog import Catalog
from serasan.demo.generate import generate_dataset
from serasan.quality.rules import kode_wilayah

DS = "muba_cctv_kita"
DATE = "2026-11-01"
ROWS, SEED, RATE = 60, 4, 0.3
XLSX_FIRST_ROW = 5  # generated workbooks: title, subtitle, blank, labels on row 4
CSV_FIRST_LINE = 2
LINE = re.compile(r"^  baris (\d+), kolom ([^:]+): (.+)$")
LINE_EN = re.compile(r"^  row (\d+), column ([^:]+): (.+)$")
MESSAGES_ID = {  # what each rule says to the OPD, by the column it is about
    "not_null": "kosong, padahal wajib diisi",
    "kode_kecamatan": "kode_kecamatan bukan kode kecamatan Kemendagri di Kabupaten Musi Banyuasin",
    "jam_online": "jam_online tidak boleh negatif",
    "periode": "periode berada di masa depan atau sebelum 2015",
    "periode,kode_kamera": "baris ganda: kombinasi periode, kode_kamera sudah ada di baris lain",
}


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "--date", DATE, *args])
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _csv_rows(catalog: Catalog, rate: float) -> list[dict[str, str]]:
    gen = generate_dataset(
        catalog.dataset(DS), catalog, rows=ROWS, fmt="csv", seed=SEED, defect_rate=rate
    )
    return list(csv.DictReader(io.StringIO(gen.data.decode("utf-8"))))


def _expected(catalog: Catalog) -> set[tuple[int, str]]:
    """(workbook row, column) of every problem, from the suite's rules applied to the CSV."""
    rows = _csv_rows(catalog, RATE)
    suite = catalog.suites[DS]["expectations"]
    out: set[tuple[int, str]] = set()
    run_date = dt.date.fromisoformat(DATE)

    def problem(i: int, column: str) -> None:
        out.add((i + XLSX_FIRST_ROW, column))

    for exp in suite:
        kind, kw = exp["type"], exp["kwargs"]
        if kind == "expect_column_values_to_not_be_null":
            for i, r in enumerate(rows):
                if r[kw["column"]] == "":
                    problem(i, kw["column"])
        elif kind == "expect_compound_columns_to_be_unique":
            keys = Counter(tuple(r[c] for c in kw["column_list"]) for r in rows)
            for i, r in enumerate(rows):
                if keys[tuple(r[c] for c in kw["column_list"])] > 1:
                    problem(i, ",".join(kw["column_list"]))
        elif kind == "expect_column_values_to_be_valid_kode_wilayah":
            valid = kode_wilayah(kw["level"], kw["parent"])
            for i, r in enumerate(rows):
                if r[kw["column"]] and r[kw["column"]] not in valid:
                    problem(i, kw["column"])
        elif kind == "expect_column_values_to_be_in_period":
            assert kw["max_date"] == {"$PARAMETER": "run_date"} and kw["granularity"] == "month"
            low = dt.date.fromisoformat(kw["min_date"])
            for i, r in enumerate(rows):
                day = dt.date.fromisoformat(r["periode"]) if r["periode"] else None
                if day and not (low <= day <= run_date and day.day == 1):
                    problem(i, "periode")
        elif kind == "expect_column_values_to_be_between":
            assert set(kw) == {"column", "min_value"}
            for i, r in enumerate(rows):
                if r[kw["column"]] and float(r[kw["column"]]) < kw["min_value"]:
                    problem(i, kw["column"])
        else:
            raise AssertionError(f"this test does not know the rule {kind}")
    return out


def _injected(catalog: Catalog) -> tuple[set[int], set[int]]:
    """Workbook rows that received a defect, and clean rows whose key a defect duplicated."""
    clean, dirty = _csv_rows(catalog, 0.0), _csv_rows(catalog, RATE)
    assert len(clean) == len(dirty) == ROWS
    changed = {i for i, (a, b) in enumerate(zip(clean, dirty, strict=True)) if a != b}
    keys = Counter((r["periode"], r["kode_kamera"]) for r in dirty)
    partners = {
        i
        for i, r in enumerate(dirty)
        if i not in changed and keys[(r["periode"], r["kode_kamera"])] > 1
    }
    return ({i + XLSX_FIRST_ROW for i in changed}, {i + XLSX_FIRST_ROW for i in partners})


@pytest.fixture
def defective(catalog: Catalog, tmp_path: Path) -> Path:
    gen = generate_dataset(catalog.dataset(DS), catalog, rows=ROWS, seed=SEED, defect_rate=RATE)
    assert set(gen.defects) == {
        "unknown_region",
        "negative_amount",
        "missing_value",
        "duplicate_key",
        "future_date",
    }
    return _write(tmp_path, gen.filename, gen.data)


def test_clean_file_has_no_problems(
    capsys: pytest.CaptureFixture[str], catalog: Catalog, tmp_path: Path
) -> None:
    gen = generate_dataset(catalog.dataset(DS), catalog, rows=ROWS, seed=SEED)
    path = _write(tmp_path, gen.filename, gen.data)
    code, out, err = _check(capsys, "--dataset", DS, str(path))
    assert code == 0 and err == ""
    assert out.splitlines() == [
        f"{path} ({DS}): 60 baris, 60 valid, 0 ditolak",
        "Tidak ada masalah.",
    ]
    code, out, _ = _check(capsys, "--dataset", DS, str(path), "--lang", "en")
    assert code == 0
    assert out.splitlines() == [f"{path} ({DS}): 60 rows, 60 valid, 0 rejected", "No problems."]


def test_defects_are_listed_by_row_and_column_in_indonesian(
    capsys: pytest.CaptureFixture[str], catalog: Catalog, defective: Path
) -> None:
    code, out, err = _check(capsys, "--dataset", DS, str(defective))
    assert code == 1 and err == ""
    head, *lines = out.splitlines()
    found = []
    for line in lines:
        m = LINE.match(line)
        assert m, f"not a problem line: {line!r}"
        row, column, message = int(m[1]), m[2], m[3]
        found.append((row, column))
        if message.endswith(MESSAGES_ID["not_null"]):
            assert message == f"kolom '{column}' kosong, padahal wajib diisi"
        else:
            assert message == MESSAGES_ID[column]
    assert found == sorted(found), "problems are listed in row order"
    expected = _expected(catalog)
    assert set(found) == expected
    injected, partners = _injected(catalog)
    rows = {r for r, _ in found}
    assert rows == injected | partners  # exactly the defective rows and the rows they copied
    assert partners and partners.isdisjoint(injected)
    assert head == f"{defective} ({DS}): 60 baris, {60 - len(rows)} valid, {len(rows)} ditolak"


def test_json_output(capsys: pytest.CaptureFixture[str], catalog: Catalog, defective: Path) -> None:
    code, out, _ = _check(capsys, "--dataset", DS, str(defective), "--json")
    assert code == 1
    result = json.loads(out)
    assert {"rows_in", "rows_valid", "rows_rejected", "problems"} <= set(result)
    assert result["rows_in"] == ROWS == result["rows_valid"] + result["rows_rejected"]
    assert all(set(p) == {"row", "column", "rule", "message"} for p in result["problems"])
    assert {(p["row"], p["column"]) for p in result["problems"]} == _expected(catalog)
    assert result["rows_rejected"] == len({p["row"] for p in result["problems"]})
    rules = {p["rule"] for p in result["problems"]}
    assert rules == {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_valid_kode_wilayah",
        "expect_column_values_to_be_in_period",
        "expect_column_values_to_be_between",
        "expect_compound_columns_to_be_unique",
    }
    assert any("tidak boleh negatif" in p["message"] for p in result["problems"])


def test_english_output(
    capsys: pytest.CaptureFixture[str], catalog: Catalog, defective: Path
) -> None:
    code, out, _ = _check(capsys, "--dataset", DS, str(defective), "--lang", "en")
    assert code == 1
    head, *lines = out.splitlines()
    assert re.fullmatch(
        rf"{re.escape(str(defective))} \({DS}\): 60 rows, \d+ valid, "
        r"\d+ rejected",
        head,
    )
    matches = [LINE_EN.match(line) for line in lines]
    assert all(matches), lines
    assert {(int(m[1]), m[2]) for m in matches if m} == _expected(catalog)
    text = "\n".join(lines)
    assert "jam_online must not be negative" in text
    assert "is empty but required" in text
    assert "baris" not in text and "kolom" not in text


def test_rows_the_parser_rejects_are_listed_without_a_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = "\n".join(
        [
            "Periode,Kode Kamera,Kode Kecamatan,Lokasi,Jam Online",
            "Mei 2026,CCTV-001,16.06.01,Pasar Randik,600",
            "Mei 2026,CCTV-002,16.06.01,Pasar Randik,600,lebih",
            "Jumlah,,,,1200",
            "",
        ]
    )
    path = _write(tmp_path, "cctv.csv", rows.encode())
    code, out, _ = _check(capsys, "--dataset", DS, str(path))
    assert code == 1  # the ragged row; the summary row alone would not fail the check
    assert out.splitlines()[1:] == [
        "  baris 3: baris berisi 6 sel, lebih banyak dari 5 kolom judul; nilai 'lebih' tidak "
        "punya judul kolom",
        "  baris 4: baris ringkasan (Jumlah/Total) tidak dimuat",
    ]
    path.write_bytes("\n".join(rows.splitlines()[:2] + ["Jumlah,,,,600", ""]).encode())
    code, out, _ = _check(capsys, "--dataset", DS, str(path))
    assert code == 0 and "baris 3: baris ringkasan" in out


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "foto.csv",
            b"\x89PNG\r\n\x1a\n" + bytes(32),
            "error: foto.csv: bukan CSV/XLSX melainkan gambar PNG (PNG image)",
        ),
        ("kosong.csv", b"", "error: kosong.csv: file kosong (the file is empty)"),
        (
            "halaman.csv",
            b"<html><body>Not found</body></html>",
            "error: halaman.csv: berisi halaman HTML, bukan data",
        ),
    ],
    ids=["png", "empty", "html"],
)
def test_unusable_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = _write(tmp_path, name, data)
    code, out, err = _check(capsys, "--dataset", DS, str(path))
    assert code == 2 and out == ""
    assert err.startswith(message)
    code, out, _ = _check(capsys, "--dataset", DS, str(path), "--json")
    assert code == 2
    result = json.loads(out)
    assert result == {"file": str(path), "dataset": DS, "error": result["error"]}
    assert message.removeprefix("error: ") in result["error"]


def test_unknown_dataset_and_missing_file_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(tmp_path, "ada.csv", b"a,b\n1,2\n")
    code, out, err = _check(capsys, "--dataset", "tidak_ada", str(path))
    assert (code, out) == (2, "")
    assert err == "error: unknown dataset 'tidak_ada'; see `serasan catalog list`\n"
    missing = tmp_path / "hilang.xlsx"
    code, out, err = _check(capsys, "--dataset", DS, str(missing))
    assert (code, out) == (2, "")
    assert err == f"error: {missing}: no such file\n"
