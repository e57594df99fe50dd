"""`serasan catalog validate|list` and `generate` as operators use them (`ingest`, which runs
a DAG through Airflow, is in tests/integration/test_ingest_cli.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.catalog import Catalog, load_catalog


@pytest.fixture
def broken(tmp_path: Path) -> tuple[Path, Path]:
    cat, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(CATALOG_DIR, cat)
    shutil.copytree(EXPECTATIONS_DIR, exp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return cat, exp


def _validate(cat: Path, exp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--catalog", str(cat), "--expectations", str(exp), "catalog", "validate"])
    out = capsys.readouterr()
    return code, out.out + out.err


def _edit(path: Path, fn) -> None:  # noqa: ANN001
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_shipped_catalog_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "validate"]) == 0
    shipped = len(list((CATALOG_DIR / "datasets").glob("*.yaml")))
    catalog = load_catalog()
    expected = f"{shipped} datasets, {len(catalog.kpis)} KPIs, {len(catalog.programmes)} programmes"
    assert expected in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(opd="bappeda"), ["muba_bank_sampah.yaml", "opd", "bappeda"]),
        (
            lambda d: d["columns"][3].update(type="float"),
            ["muba_bank_sampah.yaml", "columns[3].type"],
        ),
        (
            lambda d: d.update(primary_key=["periode", "kode_bs"]),
            ["muba_bank_sampah.yaml", "primary_key[1]", "kode_bs"],
        ),
        (lambda d: d.update(pillar="smart"), ["muba_bank_sampah.yaml", "pillar"]),
        (lambda d: d.pop("satu_data"), ["muba_bank_sampah.yaml", "satu_data", "Field required"]),
    ],
)
def test_broken_dataset_is_named_with_its_field(
    broken: tuple[Path, Path],
    mutate,
    expected,  # noqa: ANN001
    capsys: pytest.CaptureFixture[str],
) -> None:
    cat, exp = broken
    _edit(cat / "datasets" / "muba_bank_sampah.yaml", mutate)
    with pytest.raises(SystemExit) as exc:
        _validate(cat, exp, capsys)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    for text in expected:
        assert text in err, (text, err)


def test_suite_on_an_undeclared_column_is_named(
    broken: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cat, exp = broken
    path = exp / "muba_cctv_kita.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append(
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "uptime"}}
    )
    suite["expectations"].append({"type": "expect_table_row_count_to_equal", "kwargs": {}})
    path.write_text(json.dumps(suite))
    (exp / "muba_bank_sampah.json").unlink()
    with pytest.raises(SystemExit):
        _validate(cat, exp, capsys)
    err = capsys.readouterr().err
    n = len(suite["expectations"])
    assert f"muba_cctv_kita.json: expectations[{n - 2}]" in err and "'uptime'" in err
    assert f"expectations[{n - 1}].type" in err and "not supported" in err
    assert "muba_bank_sampah.json: missing" in err


def test_kpi_query_errors_are_named(
    broken: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cat, exp = broken
    kpis = yaml.safe_load((cat / "kpis.yaml").read_text())
    kpis[0]["query"] = kpis[0]["query"].replace("realisasi_rp", "realisasi")
    (cat / "kpis.yaml").write_text(yaml.safe_dump(kpis, allow_unicode=True, sort_keys=False))
    code, out = _validate(cat, exp, capsys)
    assert code == 1
    assert "kpis.yaml: MUBA-GOV-01.query" in out and "realisasi" in out


def test_catalog_list_json(capsys: pytest.CaptureFixture[str], catalog: Catalog) -> None:
    assert main(["catalog", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in rows} == set(catalog.datasets)
    assert {"id", "regency", "opd", "pillar", "cadence"} <= set(rows[0])
    pillars = [r["pillar"] for r in rows]
    assert all(
        pillars.count(p) >= 2
        for p in ("governance", "branding", "economy", "living", "society", "environment")
    )


def test_generate_command_writes_one_file_per_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], catalog: Catalog
) -> None:
    assert main(["generate", "--out", str(tmp_path), "--format", "csv", "--rows", "10"]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.csv")) == sorted(catalog.datasets)
    assert main(["generate", "--out", str(tmp_path), "--dataset", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
