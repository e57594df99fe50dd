"""Four real files from ../shared/samples/real, onboarded and ingested as a walidata would.

Each goes `serasan onboard` -> the YAML edits a reviewer makes (each one recorded below, with
why) -> `serasan catalog validate` -> `serasan ingest` into PostgreSQL, through the dataset's
DAG. Asserted for each: the counts reconcile (rows in = loaded + rejected, and every rejected
row is in the quarantine file with its reason), and regions resolve to the codes checked by
hand against the Kemendagri reference (`serasan/reference/data`), recorded beside each
assertion. Two of them are province-wide tables (`scope`), so each regency's export of them
holds its own rows only.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.settings import Settings
from serasan.lake.store import open_lake
from serasan.warehouse.db import make_engine
from serasan.warehouse.names import locate
from serasan.warehouse.tables import table

REAL = "samples/real"
NIKAH = "sumsel-bps-tables/Nikah dan Cerai Menurut Kabupaten_Kota di Provinsi Sumatera Selatan, 2022.csv"
KEKERASAN = (
    "sumsel-satudata-xlsx/jumlah-kasus-kekerasan-menurut-kabupatenkota-dan-bentuk-kekerasan-"
    "di-provinsi-sumatera-selatan-.xlsx"
)
BANDUNG = "kabbandung-satudata/penduduk3204.csv"
JABAR = "jabar-dukcapil-desa/gis-dukcapil.csv"

# The catalog's own entry for the regency the Jawa Barat files come from (outside the two we
# serve): the only catalog edit besides the dataset YAMLs.
KABBANDUNG = """\
kode: "32.04"
slug: kabbandung
name: Kabupaten Bandung
walidata: Dinas Komunikasi, Informatika dan Statistik Kabupaten Bandung
walidata_email: satudata@bandungkab.go.id
opds:
  - code: disdukcapil
    name: Dinas Kependudukan dan Pencatatan Sipil
    contacts: [{name: Operator Data Disdukcapil, email: disdukcapil@bandungkab.go.id}]
"""


DIVORCE_KPI = """
- code: MUBA-SOC-99
  regency: "16.06"
  pillar: society
  name: Perceraian per 100 pernikahan
  konsep: Ketahanan keluarga
  definisi: Jumlah perceraian per 100 pernikahan dalam setahun, dari tabel BPS provinsi.
  rumus: jumlah_cerai / nikah x 100
  satuan: per 100 pernikahan
  level: kabupaten_kota
  cadence: yearly
  target: 20
  polarity: lower_is_better
  sources: [sumsel_nikah_cerai]
  query: |
    SELECT CAST(tahun AS TEXT) AS period, kabupaten_kota AS kode_wilayah,
           100.0 * jumlah_cerai / NULLIF(nikah, 0) AS value
    FROM {core.fact_sumsel_nikah_cerai}
    WHERE kabupaten_kota = '16.06'
"""


@dataclass
class Workspace:
    catalog: Path
    expectations: Path
    settings: Settings
    samples: Path

    def run(self, *args: str) -> int:
        try:
            return main(
                ["--catalog", str(self.catalog), "--expectations", str(self.expectations), *args]
            )
        except SystemExit as exc:
            return int(exc.code or 0)

    def onboard(self, sample: str, dataset: str, *args: str) -> Path:
        code = self.run("onboard", str(self.samples / sample), "--id", dataset, *args)
        assert code == 0
        return self.catalog / "datasets" / f"{dataset}.yaml"

    def ingest(self, dataset: str, sample: str, *args: str) -> dict[str, Any]:
        self.run(
            "ingest",
            "--airflow-home",
            os.environ["AIRFLOW_HOME"],
            "--date",
            "2026-12-01",
            "--dataset",
            dataset,
            *args,
            str(self.samples / sample),
        )
        engine = make_engine(self.settings.warehouse_url)
        lr = table("meta", "load_run", engine.dialect.name)
        with engine.connect() as conn:
            row = conn.execute(select(lr).where(lr.c.dataset_id == dataset)).mappings().one()
        engine.dispose()
        return dict(row)

    def facts(self, dataset: str) -> list[dict[str, Any]]:
        engine = make_engine(self.settings.warehouse_url)
        schema, name = locate("core", f"fact_{dataset}", engine.dialect.name)
        from sqlalchemy import MetaData, Table

        fact = Table(name, MetaData(), schema=schema, autoload_with=engine)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(fact)).mappings()]
        engine.dispose()
        return rows

    def rejected(self, summary: dict[str, Any]) -> list[dict[str, str]]:
        key = summary["quarantine_key"]
        if not key:
            return []
        lake = open_lake(self.settings)
        data = lake.get(key).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(data)))

    def export(self, regency: str, dataset: str) -> list[dict[str, str]]:
        """The regency's export of the dataset (regency by slug): its one period's CSV rows."""
        assert self.run("export", "--regency", regency, "--dataset", dataset, "--no-publish") == 0
        lake = open_lake(self.settings)
        [key] = [k for k in lake.list(f"exports/{regency}/{dataset}") if k.endswith(".csv")]
        return list(csv.DictReader(io.StringIO(lake.get(key).decode("utf-8-sig"))))


@pytest.fixture
def ws(tmp_path: Path, pg_url: str, shared_dir: Path) -> Iterator[Workspace]:
    cat, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(CATALOG_DIR, cat)
    shutil.copytree(EXPECTATIONS_DIR, exp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (cat / "regencies" / "kabbandung.yaml").write_text(KABBANDUNG, encoding="utf-8")
    settings = Settings(lake_url=str(tmp_path / "lake"), warehouse_url=pg_url)
    saved = dict(os.environ)
    os.environ.update(settings.as_env())
    yield Workspace(cat, exp, settings, shared_dir / REAL)
    os.environ.clear()
    os.environ.update(saved)


def edit(path: Path, old: str, new: str) -> None:
    """One reviewer's edit of a draft: the text must be there, exactly once."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def reconciles(summary: dict[str, Any], rejected: list[dict[str, str]]) -> None:
    assert summary["rows_in"] == summary["rows_loaded"] + summary["rows_rejected"]
    assert len(rejected) == summary["rows_rejected"]
    assert all(r["alasan"] for r in rejected)


def by_code(rows: list[dict[str, Any]], column: str) -> dict[str, dict[str, Any]]:
    out = {r[column]: r for r in rows}
    assert len(out) == len(rows)
    return out


# ---------------------------------------------------------------------------------------------


def test_sumsel_table_by_kabupaten_name_province_scope(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """BPS Sumatera Selatan's marriages and divorces 2022: kabupaten/kota by name only, a
    province total row, '...' for unknown values, two footnote rows; the year in the file name.
    """
    path = ws.onboard(
        NIKAH,
        "sumsel_nikah_cerai",
        "--regency",
        "16.03",
        "--scope",
        "16",
        "--opd",
        "dinsos",
        "--pillar",
        "society",
    )
    text = path.read_text()
    assert 'scope: "16"' in text
    assert 'region: {column: "kabupaten_kota", level: kabupaten_kota, scheme: name}' in text
    assert "from_filename" in text  # the year comes from the file name
    # no edit needed beyond the TODO texts a reviewer fills in
    edit(path, '  satuan: "TODO"', '  satuan: "peristiwa"')
    assert ws.run("catalog", "validate") == 0

    summary = ws.ingest("sumsel_nikah_cerai", NIKAH)
    rejected = ws.rejected(summary)
    reconciles(summary, rejected)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_rejected"]) == (20, 17, 3)
    # rejected: the province's total (a summary row, not a region of the table) and the two
    # footnote rows, each with what was looked up where
    assert [r["kabupaten_kota"][:16] for r in rejected] == [
        "Sumatera Selatan",
        "Keterangan",
        "1Termasuk bedola",
    ]
    assert "baris total Sumatera Selatan" in rejected[0]["alasan"]
    assert "tidak ada kabupaten/kota bernama 'Keterangan'" in rejected[1]["alasan"]
    assert (
        "catalog/aliases.yaml" in rejected[1]["alasan"]
        and str(ws.catalog) not in (rejected[1]["alasan"])
    )  # the OPD reads this: no server path

    facts = by_code(ws.facts("sumsel_nikah_cerai"), "kabupaten_kota")
    assert len(facts) == 17  # every kabupaten/kota of Sumatera Selatan, once
    # checked by hand in wilayah_sumsel_current.csv: the names and the numbers of the file
    assert (facts["16.03"]["nikah"], facts["16.03"]["jumlah_cerai"]) == (4218, 1059)  # Muara Enim
    assert facts["16.07"]["nikah"] == 6161  # 'Banyu Asin' -> Banyuasin, the space set aside
    assert facts["16.73"]["nikah"] == 1828  # 'Kota Lubuklinggau'
    assert facts["16.12"]["nikah"] == 1236  # 'Penukal Abab Lematang Ilir' (PALI)
    assert facts["16.05"]["cerai_talak"] is None  # Musi Rawas: '...' read as empty
    assert {f["tahun"] for f in facts.values()} == {2022}

    # a Musi Banyuasin KPI reads its own row of the province table: the query filters it, and
    # a query that forgot to would be refused (a row of another regency is no KPI row of 16.06)
    kpis = ws.catalog / "kpis.yaml"
    kpis.write_text(kpis.read_text() + DIVORCE_KPI, encoding="utf-8")
    assert ws.run("catalog", "validate") == 0
    assert ws.run("kpi", "compute", "--regency", "16.06", "--period", "2022") == 0
    engine = make_engine(ws.settings.warehouse_url)
    kv = table("mart", "kpi_value", engine.dialect.name)
    with engine.connect() as conn:
        [value] = conn.execute(
            select(kv.c.kode_wilayah, kv.c.value).where(kv.c.kpi_code == "MUBA-SOC-99")
        ).all()
    engine.dispose()
    assert value.kode_wilayah == "16.06"
    assert value.value == pytest.approx(100 * 896 / 4544)  # Musi Banyuasin: 896 / 4,544
    unfiltered = DIVORCE_KPI.replace("    WHERE kabupaten_kota = '16.06'\n", "")
    kpis.write_text(kpis.read_text().replace(DIVORCE_KPI, unfiltered), encoding="utf-8")
    assert ws.run("kpi", "compute", "--regency", "16.06", "--period", "2022") != 0
    assert "returned kode_wilayah '16.01'" in capsys.readouterr().err

    # each served regency's export holds its own row only
    mine = ws.export("muaraenim", "sumsel_nikah_cerai")
    assert [(r["kode_kabupaten_kota"], r["nikah"]) for r in mine] == [("16.03", "4218")]
    muba = ws.export("musibanyuasin", "sumsel_nikah_cerai")  # as sumsel_nikah_cerai__musibanyuasin
    assert [(r["kode_kabupaten_kota"], r["nikah"]) for r in muba] == [("16.06", "4544")]


def test_sumsel_workbook_dash_as_zero_and_abbreviated_names(ws: Workspace) -> None:
    """Sumatera Selatan Satu Data's violence cases: names with trailing spaces and
    abbreviations ('OKU Selatan', 'Palembang'), a 'Jumlah' row, zeros written '-'."""
    path = ws.onboard(
        KEKERASAN,
        "sumsel_kasus_kekerasan",
        "--regency",
        "16.06",
        "--scope",
        "16",
        "--opd",
        "diskominfo",
        "--pillar",
        "society",
    )
    assert 'region: {column: "unit_instansi", level: kabupaten_kota, scheme: name}' in (
        path.read_text()
    )
    # the reviewer's edits: the source writes zero as '-' (SOURCES.md); the workbook names no
    # year (six unlabelled blocks), so the period is given at ingest, not guessed
    edit(path, 'constant: "2026"}', "}\ndash: zero  # the source writes 0 as '-'")
    assert ws.run("catalog", "validate") == 0

    summary = ws.ingest("sumsel_kasus_kekerasan", KEKERASAN, "--period", "2023")
    rejected = ws.rejected(summary)
    reconciles(summary, rejected)
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_rejected"]) == (18, 17, 1)
    [total] = rejected  # the 'Jumlah' row: counted, reported, not loaded
    assert total["unit_instansi"] == "Jumlah" and "ringkasan" in total["alasan"]
    facts = by_code(ws.facts("sumsel_kasus_kekerasan"), "unit_instansi")
    # checked by hand against the workbook and wilayah_sumsel_current.csv
    assert facts["16.09"]["fisik"] == 15  # 'OKU Selatan' -> Ogan Komering Ulu Selatan (alias)
    assert facts["16.71"]["fisik"] == 50  # 'Palembang' -> Kota Palembang
    assert facts["16.73"]["psikis"] == 14  # 'Lubuk Linggau' -> Kota Lubuklinggau
    assert facts["16.06"]["fisik"] == 0  # Musi Banyuasin: '-' read as zero (dash: zero)
    assert "'-'" in summary["notes"]  # check says which reading it used
    assert len(facts) == 17


def test_bandung_export_with_the_lost_thousands_dot(ws: Workspace) -> None:
    """Kabupaten Bandung's population per kecamatan 2018-2023: codes written '32. 04. 05', and
    167,228 people written 167.228, 50,360 written 50.36."""
    path = ws.onboard(
        BANDUNG,
        "kabbandung_penduduk",
        "--regency",
        "32.04",
        "--opd",
        "disdukcapil",
        "--pillar",
        "society",
    )
    text = path.read_text()
    assert "thousands_dot_lost: true" in text  # proposed by onboard, with the evidence
    # the reviewer's edit: the file names each kecamatan too; check it against the code
    edit(
        path,
        'region: {column: "kode_wilayah", level: kecamatan}',
        'region: {column: "kode_wilayah", level: kecamatan, name_column: "wilayah"}',
    )
    assert ws.run("catalog", "validate") == 0

    summary = ws.ingest("kabbandung_penduduk", BANDUNG)
    reconciles(summary, ws.rejected(summary))
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_rejected"]) == (186, 186, 0)
    facts = {(r["kode_wilayah"], r["tahun"]): r for r in ws.facts("kabbandung_penduduk")}
    population = "data_penduduk_hasil_konsolidasi_bersih"
    # checked by hand: 32.04.05 is Cileunyi and 32.04.07 Cilengkrang in wilayah_jabar_current
    assert facts[("32.04.05", 2018)]["wilayah"] == "CILEUNYI"
    assert facts[("32.04.05", 2018)][population] == 167228  # written 167.228
    assert facts[("32.04.07", 2018)][population] == 50360  # written 50.36
    kecamatan = {k for k, _ in facts}
    assert len(kecamatan) == 31 and all(k.startswith("32.04.") for k in kecamatan)
    assert {y for _, y in facts} == set(range(2018, 2024))  # 31 kecamatan x 6 years = 186


def test_jabar_desa_bps_codes_province_scope(ws: Workspace) -> None:
    """Jawa Barat Dukcapil per desa: 10-digit BPS codes, names spelled otherwise than
    Kemendagri's, no year; a province-wide table owned by Kabupaten Bandung."""
    path = ws.onboard(
        JABAR,
        "jabar_penduduk_desa",
        "--regency",
        "32.04",
        "--scope",
        "32",
        "--opd",
        "disdukcapil",
        "--pillar",
        "society",
    )
    # onboard found the scheme by content: 5,957 of 5,957 as BPS codes, 256 as Kemendagri
    edit(
        path,
        'region: {column: "kode_desa", level: desa_kelurahan, scheme: bps}',
        'region: {column: "kode_desa", level: desa_kelurahan, scheme: bps, '
        'name_column: "kelurahan_desa", source_column: "kode_desa_bps"}',
    )
    # the reviewer's edits: keep the file's BPS code beside the Kemendagri one; no constant year
    edit(
        path,
        '  - name: "kelurahan_desa"',
        '  - name: "kode_desa_bps"\n    label: "Kode desa BPS"\n    type: string\n'
        '    nullable: false\n    description: "Kode desa BPS sebagaimana dikirim"\n'
        '  - name: "kelurahan_desa"',
    )
    edit(path, 'granularity: year, constant: "2026"}', "granularity: year}")
    assert ws.run("catalog", "validate") == 0

    summary = ws.ingest("jabar_penduduk_desa", JABAR, "--period", "2021")
    rejected = ws.rejected(summary)
    reconciles(summary, rejected)
    # 5,850: row 5683 (MEKARMULYA) is the village's name in the codes in force in 2021
    assert (summary["rows_in"], summary["rows_loaded"], summary["rows_rejected"]) == (
        5957,
        5850,
        107,
    )
    # every rejection: the file's name is another village's than the code's (never picked)
    assert all("nama desa/kelurahan lain" in r["alasan"] for r in rejected)
    first = next(r for r in rejected if r["kode_desa"] == "3201090001")
    assert "Pasirbuncir" in first["alasan"] and "Pasirmuncang (32.01.27.2001)" in first["alasan"]

    facts = by_code(ws.facts("jabar_penduduk_desa"), "kode_desa_bps")
    # checked by hand in wilayah_jabar_current.csv and code_history_jabar.csv
    assert facts["3201140005"]["kode_desa"] == "32.01.05.2008"  # Babakan Madang, Babakan Madang
    assert facts["3204050001"]["kode_desa"] == "32.04.31.2005"  # Neglawangi, Kertasari
    # Sambeng: the crosswalk says 32.09.39.2001, renumbered 32.09.21.2016 in 2023
    assert facts["3209171013"]["kode_desa"] == "32.09.21.2016"
    assert {f["tahun"] for f in facts.values()} == {2021}

    # Kabupaten Bandung's export: its own villages, the file's BPS kecamatan code kept apart
    # from the export's Kemendagri kode_kecamatan
    rows = ws.export("kabbandung", "jabar_penduduk_desa")
    assert rows and {r["kode_kabupaten_kota"] for r in rows} == {"32.04"}
    assert len(rows) == sum(1 for f in facts.values() if f["kode_desa"].startswith("32.04."))
    sample = next(r for r in rows if r["kode_desa_kelurahan"] == "32.04.31.2005")  # Neglawangi
    assert sample["kode_kecamatan"] == "32.04.31" and sample["kode_kecamatan_sumber"] == "3204050"
    assert sample["kode_bps_desa_kelurahan"] == "3204050001"  # the file's own BPS code
