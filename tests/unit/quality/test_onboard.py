"""`serasan onboard`'s drafts: real files from ../shared/samples/real and generated ones.

What each real file's draft must say was checked by hand against the file (recorded in the
assertions); the region column's scheme is asserted as far as the shipped reference resolves
it. Every draft must load through the catalog's own loader and, on its own sample, leave in
only what is data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.catalog import Catalog, RegionSpec, load_catalog
from serasan.demo.generate import generate_dataset
from serasan.quality.onboard import Draft, OnboardError, draft, ident
from serasan.reference.resolve import shipped_crosswalk

RUN = dt.date(2026, 11, 1)
SUMSEL_CSV = "sumsel-bps-tables/Nikah dan Cerai Menurut Kabupaten_Kota di Provinsi Sumatera Selatan, 2022.csv"
SUMSEL_XLSX = (
    "sumsel-satudata-xlsx/jumlah-kasus-kekerasan-menurut-kabupatenkota-dan-bentuk-kekerasan-di-"
    "provinsi-sumatera-selatan-.xlsx"
)
BANDUNG_CSV = "kabbandung-satudata/penduduk3204.csv"


def _draft(path: Path, dataset_id: str, catalog: Catalog, **kw: object) -> Draft:
    args = {"regency": "musibanyuasin", "opd": "dlh", "pillar": "society", "run_date": RUN}
    return draft(path.read_bytes(), path.name, catalog, dataset_id, **(args | kw))  # type: ignore[arg-type]


def _col(d: Draft, name: str):  # noqa: ANN202
    return next(c for c in d.dataset.columns if c.name == name)


def _validates(d: Draft, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The draft, written into a copy of the catalog, passes `serasan catalog validate`."""
    cat, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(CATALOG_DIR, cat)
    shutil.copytree(EXPECTATIONS_DIR, exp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    d.write(cat, exp)
    code = main(["--catalog", str(cat), "--expectations", str(exp), "catalog", "validate"])
    out = capsys.readouterr()
    assert code == 0, out.err
    shipped = len(list((CATALOG_DIR / "datasets").glob("*.yaml")))
    assert f"{shipped + 1} datasets" in out.out


@pytest.fixture(scope="module")
def structure() -> Catalog:
    return load_catalog()  # no suite read: what onboard itself needs


def test_names_become_identifiers_and_stay_unique() -> None:
    taken: set[str] = set()
    assert ident("Kabupaten/Kota", taken) == "kabupaten_kota"
    assert ident("00 - 04", taken) == "k_00_04"
    assert ident("Fisik", taken) == "fisik"
    assert ident("Fisik", taken) == "fisik_2"
    assert ident("Jumlah Penduduk (jiwa) ", taken) == "jumlah_penduduk_jiwa"
    assert ident("Kepercayaan terhadap Tuhan YME" * 4, taken).startswith("kepercayaan_")
    assert all(len(n) <= 63 for n in taken)


def test_sumsel_bps_table_by_kabupaten_name(
    shared_dir: Path, structure: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """18 data rows (17 kabupaten/kota and the province total), two note rows below them, no
    period column (2022 is in the file name), '...' for "not available" in three columns."""
    path = shared_dir / "samples" / "real" / SUMSEL_CSV
    d = _draft(path, "muba_nikah_cerai_sumsel", structure)
    assert d.sample.header_row == 1 and len(d.sample.rows) == 18
    assert [n for n, _ in d.sample.skipped] == [21, 22]  # 'Keterangan' and the footnote
    ds = d.dataset
    assert [(c.name, c.type, c.nullable) for c in ds.columns] == [
        ("kabupaten_kota", "string", False),
        ("nikah", "integer", False),
        ("cerai_talak", "integer", True),  # '...' in 5 rows: read as empty by default
        ("cerai_gugat", "integer", True),
        ("jumlah_cerai", "integer", True),
        ("tahun", "integer", False),  # not in the file: from its name
    ]
    assert _col(d, "kabupaten_kota").label == "Kabupaten/Kota"  # the parser matches the header
    assert ds.period.column == "tahun" and ds.period.granularity == "year"
    assert ds.period.from_filename is not None
    assert ds.primary_key == ["tahun", "kabupaten_kota"] and d.key_unique
    assert ds.cadence == "yearly" and ds.load_mode == "replace_period"
    # the region column is found by its names: 17 of 18 name a kabupaten/kota of Sumatera
    # Selatan (Banyu Asin and Kota Lubuklinggau included); the 18th is the province itself
    assert d.region is not None and d.region.column == "kabupaten_kota"
    assert d.region.scheme == "name" and d.region.level == "kabupaten_kota"
    assert d.region.counts["name"].resolved == 17 and d.region.distinct == 18
    assert d.region.counts["name"].codes["Banyu Asin"] == "16.07"
    assert d.region.counts["name"].codes["Kota Lubuklinggau"] == "16.73"
    # a kabupaten_kota region cannot be declared (yet): the draft says so instead
    levels = RegionSpec.model_fields["level"].annotation
    if "kabupaten_kota" not in str(levels):
        assert ds.region is None and not d.region_declared
        assert '# region: {column: "kabupaten_kota", level: kabupaten_kota' in d.yaml_text
    comments = " ".join(line.strip().lstrip("#").strip() for line in d.yaml_text.splitlines())
    assert "GUESS" in d.yaml_text and "observed range 1092 to 57888" in comments
    # `check` on the sample with the draft: the 18 data rows pass, the two note rows do not
    assert d.check is not None
    assert (d.check["rows_valid"], d.check["rows_rejected"]) == (18, 2)
    _validates(d, tmp_path, capsys)


def test_sumsel_satu_data_workbook_with_repeated_headers(
    shared_dir: Path, structure: Catalog
) -> None:
    """A workbook: seven headers repeated five times, '-' and 0 for zero, a Jumlah row, a used
    range far below its 17 rows of data."""
    path = shared_dir / "samples" / "real" / SUMSEL_XLSX
    d = _draft(path, "muba_kekerasan_sumsel", structure)
    assert len(d.sample.rows) == 17
    assert [why for _, why in d.sample.skipped] == ["summary row ('Jumlah'), as the parser skips"]
    names = d.dataset.column_names
    assert names[:3] == ["unit_instansi", "fisik", "psikis"]
    assert names.count("fisik") == 1 and "fisik_5" in names and "fisik_6" not in names
    assert _col(d, "fisik_2").label == "Fisik"
    # 'Eksploitasi' holds only '-' in the first block: a number column reading '-' as empty
    assert _col(d, "eksploitasi").type == "integer" and _col(d, "eksploitasi").nullable
    assert "declare dash: zero" in d.yaml_text
    assert d.region is not None and d.region.column == "unit_instansi"
    assert d.region.level == "kabupaten_kota" and d.region.scheme == "name"
    assert d.region.counts["name"].resolved >= 15  # OKU Selatan, OKU Timur: aliases, not names
    assert d.check is not None and d.check["rows_valid"] == 17
    assert d.check["rows_rejected"] == 1  # the Jumlah row, as a summary


def test_kabupaten_bandung_export_with_lost_thousands_dots(
    shared_dir: Path, structure: Catalog
) -> None:
    """`;`-separated, four empty trailing columns, codes written `32. 04. 05`, and the
    population's thousands dot turned into a decimal point (167.228, 50.36)."""
    path = shared_dir / "samples" / "real" / BANDUNG_CSV
    d = _draft(path, "muba_penduduk_bandung", structure)
    assert len(d.sample.rows) == 186
    cols = {c.name: c for c in d.dataset.columns}
    assert list(cols) == [
        "no",
        "kode_wilayah",
        "wilayah",
        "tahun",
        "data_penduduk_hasil_konsolidasi_bersih",
    ]
    assert cols["kode_wilayah"].type == "string"
    pop = cols["data_penduduk_hasil_konsolidasi_bersih"]
    assert pop.type == "integer" and pop.thousands_dot_lost
    assert d.dataset.period.column == "tahun" and d.dataset.period.granularity == "year"
    assert d.dataset.primary_key == ["tahun", "kode_wilayah"]  # never the row number `no`
    guess = next(c for c in d.columns if c.name == "no")
    assert guess.row_number
    observed = d.suite["meta"]["onboard"]["observed"]["data_penduduk_hasil_konsolidasi_bersih"]
    assert observed[1] == 270306  # the largest kecamatan, 270.306 in the file
    # the codes are kecamatan of Kabupaten Bandung (32.04): never declared for a Musi
    # Banyuasin dataset
    assert d.region is not None and d.region.column == "kode_wilayah"
    assert (d.region.level or d.region.shape_level) == "kecamatan"
    assert d.dataset.region is None
    assert d.check is not None and d.check["rows_valid"] == 186


def test_bps_village_codes_are_drafted_as_bps_never_as_other_villages(
    structure: Catalog, tmp_path: Path
) -> None:
    """Ten-digit BPS village codes of Musi Banyuasin: some would be real Kemendagri codes of
    other villages once dotted; the draft declares scheme bps."""
    entries = sorted(
        (e for e in shipped_crosswalk() if e.kemendagri_code and len(e.bps_code) == 10),
        key=lambda e: e.bps_code,
    )
    mine = [e for e in entries if e.kemendagri_code.startswith("16.06.")][:40]  # type: ignore[union-attr]
    path = tmp_path / "penduduk_desa_2024.csv"
    path.write_text(
        "Kode Desa,Jumlah Penduduk\n"
        + "".join(f"{e.bps_code},{1000 + i}\n" for i, e in enumerate(mine))
    )
    d = _draft(path, "muba_penduduk_desa", structure)
    assert d.region is not None and d.region.scheme == "bps"
    assert d.region.counts["bps"].resolved == 40
    if "scheme" in RegionSpec.model_fields:
        assert d.dataset.region is not None
        assert (d.dataset.region.scheme, d.dataset.region.level) == ("bps", "desa_kelurahan")
        assert d.check is not None and d.check["rows_valid"] == 40


@pytest.fixture(scope="module")
def cctv(structure: Catalog, tmp_path_factory: pytest.TempPathFactory) -> tuple[Draft, Path]:
    """A draft from a clean generated workbook (title rows above the header)."""
    from serasan.quality.suites import load_validated_catalog

    shipped = load_validated_catalog()
    gen = generate_dataset(shipped.dataset("muba_cctv_kita"), shipped, rows=120, seed=4)
    path = tmp_path_factory.mktemp("cctv") / "cctv_sampel.xlsx"
    path.write_bytes(gen.data)
    d = _draft(path, "muba_cctv_baru", structure, opd="diskominfo")
    return d, path


def test_generated_workbook_gives_the_catalogs_own_declarations(
    cctv: tuple[Draft, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d, _ = cctv
    shipped = load_catalog().dataset("muba_cctv_kita")
    assert d.sample.header_row == 4  # title, subtitle, blank, then the labels
    assert [(c.name, c.type) for c in d.dataset.columns] == [
        (c.name, c.type) for c in shipped.columns
    ]
    assert d.dataset.primary_key == shipped.primary_key
    assert d.dataset.period == shipped.period
    assert d.dataset.region is not None and d.region_declared
    assert (d.dataset.region.column, d.dataset.region.level) == ("kode_kecamatan", "kecamatan")
    assert d.dataset.cadence == shipped.cadence
    types = Counter(e["type"] for e in d.suite["expectations"])
    assert types["expect_column_values_to_be_valid_kode_wilayah"] == 1
    between = next(
        e for e in d.suite["expectations"] if e["type"] == "expect_column_values_to_be_between"
    )
    assert between["kwargs"]["min_value"] == 0 and between["kwargs"]["max_value"] > 0
    assert d.check is not None and d.check["rows_rejected"] == 0
    _validates(d, tmp_path, capsys)


def test_check_with_the_draft_rejects_only_the_rows_that_are_wrong(
    cctv: tuple[Draft, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same generated data with defects: `serasan check` with the draft rejects exactly the
    rows that received one, and the rows whose key a defect duplicated."""
    d, _ = cctv
    cat, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(CATALOG_DIR, cat)
    shutil.copytree(EXPECTATIONS_DIR, exp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    d.write(cat, exp)
    shipped = load_catalog()
    ds = shipped.dataset("muba_cctv_kita")
    rows = {
        rate: list(
            csv.DictReader(
                io.StringIO(
                    generate_dataset(
                        ds, shipped, rows=120, fmt="csv", seed=4, defect_rate=rate
                    ).data.decode()
                )
            )
        )
        for rate in (0.0, 0.2)
    }
    clean, dirty = rows[0.0], rows[0.2]
    changed = {i for i, (a, b) in enumerate(zip(clean, dirty, strict=True)) if a != b}
    keys = Counter((r["periode"], r["kode_kamera"]) for r in dirty)
    partners = {i for i, r in enumerate(dirty) if keys[(r["periode"], r["kode_kamera"])] > 1}
    expected = {i + 2 for i in changed | partners}  # CSV line numbers
    gen = generate_dataset(ds, shipped, rows=120, fmt="csv", seed=4, defect_rate=0.2)
    assert gen.defects  # there is something to find
    path = tmp_path / "cctv_cacat.csv"
    path.write_bytes(gen.data)
    argv = ["--catalog", str(cat), "--expectations", str(exp), "check", "--date", "2026-11-01"]
    code = main([*argv, "--dataset", "muba_cctv_baru", "--json", str(path)])
    result = yaml.safe_load(capsys.readouterr().out)  # JSON is YAML
    assert code == 1
    rejected = {p["row"] for p in result["problems"]}
    assert rejected == expected
    assert result["rows_rejected"] == len(expected)


def test_onboard_refuses_what_it_cannot_draft(structure: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("A,B\n1,2\n")
    with pytest.raises(OnboardError, match="not an OPD of"):
        _draft(path, "muba_x", structure, opd="nope")
    with pytest.raises(OnboardError, match="unknown regency"):
        _draft(path, "muba_x", structure, regency="bandung")
    with pytest.raises(OnboardError, match="--id"):
        _draft(path, "Muba X", structure)
    title_only = tmp_path / "judul.csv"
    title_only.write_text("Laporan Bulanan\n")
    with pytest.raises(OnboardError, match="no header row"):
        _draft(title_only, "muba_x", structure)
