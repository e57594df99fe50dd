"""The synthetic generator: deterministic bytes, the parser's file contract, known defects."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import math
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from serasan.common.paths import SEED_DIR
from serasan.config.catalog import Dataset
from serasan.demo.generate import (
    BULAN,
    DEFAULT_AS_OF,
    applicable_defects,
    generate,
    generate_dataset,
)
from serasan.quality.suites import load_validated_catalog

CATALOG = load_validated_catalog()
IDS = sorted(CATALOG.datasets)
ID_NUMBER = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?$")
MONTH_TEXT = re.compile(rf"^({'|'.join(BULAN)}) \d{{4}}$")
DAY_TEXT = re.compile(rf"^\d{{1,2}} ({'|'.join(BULAN)}) \d{{4}}$")
PHONE = re.compile(r"^08\d{9,11}$")

with (SEED_DIR / "wilayah.csv").open(encoding="utf-8", newline="") as _fh:
    WILAYAH = {r["kode"]: r for r in csv.DictReader(_fh)}


def _csv_rows(ds_id: str, **kwargs) -> tuple[object, list[dict[str, str]]]:
    gf = generate_dataset(CATALOG.datasets[ds_id], CATALOG, fmt="csv", **kwargs)
    return gf, list(csv.DictReader(io.StringIO(gf.data.decode("utf-8"))))


def _sheet(ds_id: str, **kwargs):
    gf = generate_dataset(CATALOG.datasets[ds_id], CATALOG, fmt="xlsx", **kwargs)
    return gf, openpyxl.load_workbook(io.BytesIO(gf.data))["Data"]


def _region_codes(ds: Dataset) -> set[str]:
    level = ds.region.level
    return {k for k, r in WILAYAH.items() if r["level"] == level and k.startswith(ds.regency + ".")}


def _period(ds: Dataset, text: str) -> datetime.date | int:
    return int(text) if ds.period.granularity == "year" else datetime.date.fromisoformat(text)


def _is_future(ds: Dataset, text: str, as_of: datetime.date = DEFAULT_AS_OF) -> bool:
    value = _period(ds, text)
    return value > (as_of.year if isinstance(value, int) else as_of)


def _nik_columns(ds: Dataset) -> list[str]:
    return [c.name for c in ds.columns if c.generate.get("kind") == "nik"]


def _detect(ds: Dataset, rows: list[dict[str, str]]) -> list[list[str]]:
    """Every defect a reader can see in each row, independently of the generator's bookkeeping."""
    regions = _region_codes(ds) if ds.region else set()
    numeric = [c.name for c in ds.columns if c.type in ("integer", "number")]
    required = [c.name for c in ds.columns if not c.nullable]
    seen: set[tuple[str, ...]] = set()
    found = []
    for row in rows:
        kinds = []
        if ds.region and row[ds.region.column] and row[ds.region.column] not in regions:
            kinds.append("unknown_region")
        if any(row[c] and float(row[c]) < 0 for c in numeric):
            kinds.append("negative_amount")
        if any(row[c] == "" for c in required):
            kinds.append("missing_value")
        key = tuple(row[k] for k in ds.primary_key)
        if key in seen:
            kinds.append("duplicate_key")
        seen.add(key)
        if any(row[c] and not re.fullmatch(r"\d{16}", row[c]) for c in _nik_columns(ds)):
            kinds.append("malformed_nik")
        if row[ds.period.column] and _is_future(ds, row[ds.period.column]):
            kinds.append("future_date")
        found.append(kinds)
    return found


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_same_arguments_give_identical_bytes(fmt):
    ds = CATALOG.datasets["muba_kelompok_tani_karet"]
    first = generate_dataset(ds, CATALOG, rows=50, fmt=fmt, defect_rate=0.2, seed=7)
    second = generate_dataset(ds, CATALOG, rows=50, fmt=fmt, defect_rate=0.2, seed=7)
    other = generate_dataset(ds, CATALOG, rows=50, fmt=fmt, defect_rate=0.2, seed=8)
    assert first.data == second.data
    assert first.defects == second.defects
    assert other.data != first.data


def test_xlsx_has_no_clock_in_it():
    gf, _ = _sheet("muaraenim_kunjungan_wisata", rows=5)
    with zipfile.ZipFile(io.BytesIO(gf.data)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2026, 1, 1, 0, 0, 0)}
        core = zf.read("docProps/core.xml").decode()
    assert core.count("2026-01-01T00:00:00Z") == 2  # created and modified


def test_bytes_do_not_depend_on_the_process():
    """Hash randomisation and the clock (XLSX zip entry times) must not leak into the files."""
    code = (
        "import hashlib; from serasan.quality.suites import load_validated_catalog; "
        "from serasan.demo.generate import generate_dataset; c = load_validated_catalog(); "
        "print(' '.join(hashlib.sha256(generate_dataset(d, c, rows=20, fmt=f, "
        "defect_rate=0.3).data).hexdigest() for d in c.datasets.values() "
        "for f in ('csv', 'xlsx')))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
    here = [
        hashlib.sha256(
            generate_dataset(d, CATALOG, rows=20, fmt=f, defect_rate=0.3).data
        ).hexdigest()
        for d in CATALOG.datasets.values()
        for f in ("csv", "xlsx")
    ]
    assert digests == {" ".join(here) + "\n"}


def test_defects_leave_the_other_rows_untouched():
    _, clean = _csv_rows("muba_realisasi_pajak", rows=120)
    _, dirty = _csv_rows("muba_realisasi_pajak", rows=120, defect_rate=0.3)
    ds = CATALOG.datasets["muba_realisasi_pajak"]
    flagged = _detect(ds, dirty)
    assert any(flagged)
    assert all(a == b for a, b, f in zip(clean, dirty, flagged, strict=True) if not f)


# --- every dataset, both formats ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("ds_id", IDS)
def test_every_dataset_generates(ds_id, fmt):
    gf = generate_dataset(CATALOG.datasets[ds_id], CATALOG, fmt=fmt, defect_rate=0.1)
    assert gf.filename == f"{ds_id}.{fmt}"
    assert 30 <= gf.rows <= 400
    assert gf.data


def test_default_row_counts_keep_the_demo_small():
    total = sum(generate_dataset(ds, CATALOG, fmt="csv").rows for ds in CATALOG.datasets.values())
    assert total <= 12 * 400


def test_generate_writes_one_file_per_dataset(tmp_path):
    files = generate(tmp_path / "out", CATALOG, fmt="csv", rows=10, defect_rate=0.2)
    assert sorted(f.dataset_id for f in files) == IDS
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{i}.csv" for i in IDS]
    for f in files:
        assert f.path == tmp_path / "out" / f"{f.dataset_id}.csv"
        again = generate_dataset(
            CATALOG.datasets[f.dataset_id], CATALOG, rows=10, fmt="csv", defect_rate=0.2
        )
        assert f.path.read_bytes() == again.data
        assert (f.rows, f.defects) == (again.rows, again.defects)


def test_generate_a_selection_as_xlsx(tmp_path):
    files = generate(tmp_path, CATALOG, dataset_ids=["muba_cctv_kita"], rows=5)
    assert [f.path.name for f in files] == ["muba_cctv_kita.xlsx"]
    assert openpyxl.load_workbook(files[0].path).sheetnames == ["Data"]


# --- CSV contract ---------------------------------------------------------------------------


@pytest.mark.parametrize("ds_id", IDS)
def test_csv_header_is_the_column_names_and_rows_as_asked(ds_id):
    gf, rows = _csv_rows(ds_id, rows=25)
    text = gf.data.decode("utf-8")
    assert not gf.data.startswith(b"\xef\xbb\xbf")
    assert "\r" not in text
    assert next(csv.reader(io.StringIO(text))) == CATALOG.datasets[ds_id].column_names
    assert len(rows) == gf.rows == 25


def test_csv_values_are_plain():
    _, rows = _csv_rows("muba_bank_sampah", rows=40)
    for row in rows:
        datetime.date.fromisoformat(row["periode"])
        assert re.fullmatch(r"\d+\.\d", row["sampah_terkelola_kg"])
        assert re.fullmatch(r"\d+", row["nilai_tabungan_rp"])


def test_zero_rows_gives_a_header_only_file():
    gf, rows = _csv_rows("muba_bank_sampah", rows=0, defect_rate=0.5)
    assert (rows, gf.rows, gf.defects) == ([], 0, {})
    assert gf.data.decode().count("\n") == 1
    _, ws = _sheet("muba_bank_sampah", rows=0)
    assert ws.max_row == 4


def test_rows_are_capped_by_a_finite_key():
    """(tahun, kode_kecamatan): 3 years x 22 kecamatan; more rows would repeat a key."""
    gf, rows = _csv_rows("muaraenim_produksi_karet", rows=1000)
    assert gf.rows == len(rows) == 3 * 22


# --- XLSX contract --------------------------------------------------------------------------


def test_xlsx_layout_and_indonesian_text():
    ds = CATALOG.datasets["muba_bank_sampah"]
    _, ws = _sheet(ds.id, rows=60)
    assert ws["A1"].value == "DATA KINERJA BANK SAMPAH"
    assert ws["A2"].value == "Kabupaten Musi Banyuasin - Dinas Lingkungan Hidup"
    assert all(c.value is None for c in ws[3])
    assert [c.value for c in ws[4]] == [c.header for c in ds.columns]
    data = list(ws.iter_rows(min_row=5, values_only=True))
    assert len(data) == 60
    cols = {c.name: i for i, c in enumerate(ds.columns)}
    for row in data:
        assert MONTH_TEXT.match(row[cols["periode"]])
        assert row[cols["kode_desa"]] in _region_codes(ds)
        assert isinstance(row[cols["nasabah_aktif"]], int)
        assert re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d", row[cols["sampah_terkelola_kg"]])
        assert re.fullmatch(r"Rp \d{1,3}(\.\d{3})+", row[cols["nilai_tabungan_rp"]])
    assert any("." in row[cols["sampah_terkelola_kg"]] for row in data)  # thousands separator


def test_xlsx_day_dates_years_and_codes():
    _, ws = _sheet("muaraenim_pengaduan_masyarakat", rows=30)
    for row in ws.iter_rows(min_row=5, values_only=True):
        assert DAY_TEXT.match(row[1])
        assert isinstance(row[2], str) and row[2].startswith("16.03.")
        assert row[5] is None or PHONE.match(row[5])
    _, ws = _sheet("muba_kelompok_tani_karet", rows=30)
    for row in ws.iter_rows(min_row=5, values_only=True):
        assert isinstance(row[0], int) and 2023 <= row[0] <= 2025
        assert isinstance(row[5], str) and len(row[5]) == 16
        assert ID_NUMBER.match(row[8]) and ID_NUMBER.match(row[9])


def test_xlsx_cells_are_text_or_numbers_never_formulas():
    raw = CATALOG.datasets["muba_event_sport_tourism"].model_dump()
    raw["columns"][1]["generate"] = {"choices": ["=SUM(A1:A9)", "+62 Run"]}
    ds = Dataset.model_validate(raw)
    ws = openpyxl.load_workbook(io.BytesIO(generate_dataset(ds, CATALOG, rows=20).data))["Data"]
    cells = [c for row in ws.iter_rows(min_row=5) for c in row if c.value is not None]
    assert {c.data_type for c in cells} <= {"s", "n"}
    assert {c.value for c in cells if c.column == 2} == {"=SUM(A1:A9)", "+62 Run"}


# --- clean data -----------------------------------------------------------------------------


@pytest.mark.parametrize("ds_id", IDS)
def test_clean_data_passes_every_rule(ds_id):
    ds = CATALOG.datasets[ds_id]
    gf, rows = _csv_rows(ds_id)
    assert gf.defects == {}
    assert not any(_detect(ds, rows))  # includes unique keys and real region codes
    keys = [tuple(r[k] for k in ds.primary_key) for r in rows]
    assert len(set(keys)) == len(keys)
    kecamatan = {
        k.replace(".", "")
        for k, r in WILAYAH.items()
        if r["level"] == "kecamatan" and r["kode_induk"] == ds.regency
    }
    for row in rows:
        if ds.region:
            assert row[ds.region.column] in _region_codes(ds)
        period = _period(ds, row[ds.period.column])
        if isinstance(period, int):
            assert 2023 <= period <= 2025
        else:
            assert datetime.date(2026, 1, 1) <= period <= DEFAULT_AS_OF
            assert ds.period.granularity == "day" or period.day == 1
        for c in ds.columns:
            value = row[c.name]
            assert value or c.nullable
            if not value:
                continue
            if c.allowed or c.generate.get("choices"):
                assert value in (c.allowed or c.generate["choices"])
            if c.type in ("integer", "number"):
                assert c.generate.get("min", 0) <= float(value) <= c.generate.get("max", math.inf)
            if c.generate.get("step"):
                assert float(value) % c.generate["step"] == 0
            if c.generate.get("kind") == "phone":
                assert PHONE.match(value)
            if c.generate.get("kind") == "nik":
                assert re.fullmatch(r"\d{16}", value) and value[:6] in kecamatan
                day = int(value[6:8]) - (40 if int(value[6:8]) > 40 else 0)
                datetime.date(2000 + int(value[10:12]), int(value[8:10]), day)  # a real date


def test_monthly_key_enumerates_combinations():
    """(periode, kode_kecamatan): every kecamatan every month, no key drawn twice."""
    _, rows = _csv_rows("muaraenim_timbulan_sampah")
    assert len(rows) == 10 * 22
    assert Counter(r["periode"] for r in rows) == {f"2026-{m:02d}-01": 22 for m in range(1, 11)}


def test_registry_pool_is_observed_each_month_with_stable_attributes():
    ds = CATALOG.datasets["muba_cctv_kita"]
    _, rows = _csv_rows(ds.id, rows=600)
    assert len(rows) == 600
    assert {r["kode_kamera"] for r in rows} == {f"CCTV-{i:04d}" for i in range(1, 61)}
    places = {(r["kode_kamera"], r["kode_kecamatan"], r["lokasi"]) for r in rows}
    assert len(places) == 60  # a camera does not move between months


def test_sequence_numbers_follow_the_dates():
    _, rows = _csv_rows("muaraenim_pengaduan_masyarakat", rows=80)
    assert [r["nomor_tiket"] for r in rows] == [f"LPR-{i:04d}" for i in range(1, 81)]
    assert [r["tanggal"] for r in rows] == sorted(r["tanggal"] for r in rows)


def test_as_of_bounds_the_periods():
    as_of = datetime.date(2026, 3, 15)
    _, rows = _csv_rows("muaraenim_timbulan_sampah", as_of=as_of)
    assert {r["periode"] for r in rows} == {"2026-01-01", "2026-02-01", "2026-03-01"}
    _, rows = _csv_rows("muba_pengunjung_taman_air", as_of=as_of)
    assert max(r["tanggal"] for r in rows) <= as_of.isoformat()
    assert len(rows) == 31 + 28 + 15


# --- defects --------------------------------------------------------------------------------


@pytest.mark.parametrize("ds_id", IDS)
def test_defects_are_counted_and_detectable(ds_id):
    ds = CATALOG.datasets[ds_id]
    gf, rows = _csv_rows(ds_id, rows=200, defect_rate=0.3)
    found = _detect(ds, rows)
    assert all(len(kinds) <= 1 for kinds in found)  # exactly one defect per defective row
    detected = Counter(k for kinds in found for k in kinds)
    assert detected == Counter(gf.defects)
    assert set(gf.defects) == set(applicable_defects(ds))  # each applicable kind occurs
    assert 0.15 * gf.rows < sum(gf.defects.values()) < 0.45 * gf.rows


def test_applicable_defects_follow_the_columns():
    assert "malformed_nik" in applicable_defects(CATALOG.datasets["muaraenim_penerima_bansos"])
    pengaduan = applicable_defects(CATALOG.datasets["muaraenim_pengaduan_masyarakat"])
    assert "malformed_nik" not in pengaduan
    assert "negative_amount" not in pengaduan  # no measure column


def test_defect_rate_one_breaks_every_row():
    ds = CATALOG.datasets["muba_kelompok_tani_karet"]
    gf, rows = _csv_rows(ds.id, rows=50, defect_rate=1.0)
    assert sum(gf.defects.values()) == 50
    assert all(len(kinds) == 1 for kinds in _detect(ds, rows))


def test_defects_appear_in_xlsx_too():
    _, ws = _sheet("muaraenim_produksi_karet", defect_rate=0.5)
    data = list(ws.iter_rows(min_row=5, values_only=True))
    assert any(r[0] == 2027 for r in data)
    assert any(isinstance(r[2], str) and r[2].startswith("-") for r in data)


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fmt": "xls"},
        {"fmt": "XLSX"},
        {"defect_rate": -0.1},
        {"defect_rate": 1.5},
        {"defect_rate": float("nan")},
        {"rows": -1},
    ],
)
def test_invalid_arguments_are_refused(kwargs, tmp_path):
    with pytest.raises(ValueError):
        generate_dataset(CATALOG.datasets["muba_cctv_kita"], CATALOG, **kwargs)
    with pytest.raises(ValueError):
        generate(tmp_path / "out", CATALOG, **kwargs)
    assert not (tmp_path / "out").exists()


def test_unknown_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no_such_dataset"):
        generate(tmp_path, CATALOG, dataset_ids=["muba_cctv_kita", "no_such_dataset"])
    assert list(Path(tmp_path).iterdir()) == []
