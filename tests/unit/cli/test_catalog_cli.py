"""`serasan catalog validate|list`, `generate` and `ingest` as operators use them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset


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
    assert "12 datasets" in capsys.readouterr().out


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


@pytest.fixture
def ingest_env(local_settings: Settings) -> Settings:
    saved = dict(os.environ)
    os.environ.update(local_settings.as_env())
    yield local_settings
    os.environ.clear()
    os.environ.update(saved)


def _ingest(*args: str) -> int:
    return main(
        ["ingest", "--airflow-home", os.environ["AIRFLOW_HOME"], "--date", "2026-11-01", *args]
    )


def test_ingest_exit_codes_and_summary(
    ingest_env: Settings, tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = catalog.dataset("muba_pengunjung_taman_air")
    gen = generate_dataset(ds, catalog, rows=40, defect_rate=0.1, seed=8)
    f = tmp_path / gen.filename
    f.write_bytes(gen.data)
    assert _ingest("--dataset", ds.id, str(f)) == 0
    out = capsys.readouterr().out
    assert f"dataset {ds.id}: quarantined" in out and "rows in 40" in out
    assert "rejected rows:" in out and "alert for the OPD:" in out

    assert _ingest("--dataset", ds.id, str(f)) == 0
    assert "already processed" in capsys.readouterr().out
    assert _ingest("--dataset", ds.id, "--force", str(f)) == 0
    assert "already processed" not in capsys.readouterr().out

    blocked = catalog.dataset("muaraenim_produksi_karet")
    gen = generate_dataset(blocked, catalog, defect_rate=0.3, seed=2)
    (tmp_path / gen.filename).write_bytes(gen.data)
    assert _ingest("--dataset", blocked.id, str(tmp_path / gen.filename)) == 1
    assert "blocked" in capsys.readouterr().out

    assert _ingest("--dataset", ds.id, str(tmp_path / "missing.csv")) == 2
    assert _ingest("--dataset", "no_such_dataset", str(f)) == 2
    junk = tmp_path / "junk.csv"
    junk.write_text("apa,ini\n1,2\n")
    assert _ingest("--dataset", ds.id, str(junk)) == 2
