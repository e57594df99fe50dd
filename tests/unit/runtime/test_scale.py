"""Provincial scale (issue 8), correctness only: timings live in bench/dag_parse_bench.py.

The generated Sumatera Selatan catalog (serasan/scale.py) validates, the DAG file parsed against
it yields every DAG, a parse under Airflow's parsing context builds the one DAG asked for and
builds it exactly as the full parse does, and the cached DAG index follows every catalog edit.
DAG files are parsed in child processes: the catalog folder is read from the environment when
serasan is imported, and nothing imports the DAG files themselves.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from serasan.common.paths import CATALOG_DIR, DAGS_DIR, EXPECTATIONS_DIR, SEED_DIR
from serasan.config.catalog import PILLARS, CatalogError, load_catalog
from serasan.demo.province import generate_catalog
from serasan.quality.suites import load_validated_catalog
from serasan.runtime.dag_index import cache_path, dag_index, index_key

# Parses a DAG folder or file with DagBag, as the DAG processor does, once in full and then once
# per requested dag id under the parsing context; prints what the tests compare, as JSON.
CHILD = r"""
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization

folder, target, wanted = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

def summary(dag):
    cond = getattr(dag.timetable, "asset_condition", None)
    return {"tasks": [t.task_id for t in dag.topological_sort()],
            "teardowns": sorted(t.task_id for t in dag.tasks if t.is_teardown),
            "tags": sorted(dag.tags), "owners": sorted({t.owner for t in dag.tasks}),
            "retries": sorted({t.retries for t in dag.tasks}),
            "callbacks": sorted({len(t.on_failure_callback or []) for t in dag.tasks}),
            "outlets": {t.task_id: [o.name for o in t.outlets] for t in dag.tasks if t.outlets},
            "inlets": {t.task_id: [o.name for o in t.inlets] for t in dag.tasks if t.inlets},
            "timetable": type(dag.timetable).__name__,
            "assets": sorted(a.name for a in getattr(cond, "objects", [cond]))
            if cond is not None
            else None,
            "catchup": dag.catchup, "params": sorted(dag.params), "doc_md": dag.doc_md,
            "file": os.path.basename(dag.fileloc)}

def parse(path, serialize):
    bag = DagBag(dag_folder=path)
    return {"errors": bag.import_errors,
            "dags": {i: summary(d) for i, d in bag.dags.items()},
            "serialized": {i: DagSerialization.to_dict(bag.dags[i])
                           for i in serialize if i in bag.dags}}

out = {"full": parse(folder, wanted) if folder != "-" else None, "one": {}}
for dag_id in wanted:
    os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = dag_id
    out["one"][dag_id] = parse(target, [dag_id])
print(json.dumps(out, default=str))
"""


def parse_dags(
    tmp: Path,
    catalog: Path,
    expectations: Path,
    cache: Path,
    wanted: list[str],
    folder: Path | None = DAGS_DIR,
) -> dict:
    home = tmp / f"airflow-{len(list(tmp.glob('airflow-*')))}"
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERASAN_", "AIRFLOW"))}
    env.update(
        {
            "SERASAN_CATALOG_DIR": str(catalog),
            "SERASAN_EXPECTATIONS_DIR": str(expectations),
            "SERASAN_CATALOG_CACHE_DIR": str(cache),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(folder or "-"),
            str(DAGS_DIR / "serasan_dags.py"),
            json.dumps(wanted),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_catalog(tmp_path_factory.mktemp("sumsel"))


@pytest.fixture(scope="module")
def parsed(province: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The dags folder parsed once in full against the province, and three DAGs by context."""
    tmp = tmp_path_factory.mktemp("parse")
    cat = load_catalog(*province)
    last = list(cat.datasets)[-1]
    slug = cat.regency(cat.dataset(last).regency).slug
    wanted = [
        f"serasan__{last}",
        f"serasan__{slug}__kpi",
        f"serasan__{slug}__export",
        f"serasan__{slug}__report",
        "serasan__retention",
    ]
    return {"wanted": wanted, "catalog": cat, **parse_dags(tmp, *province, tmp / "cache", wanted)}


def test_the_province_catalog_validates_with_its_suites(province: tuple[Path, Path]) -> None:
    cat = load_validated_catalog(*province)
    with (SEED_DIR / "wilayah.csv").open(encoding="utf-8") as fh:
        kab_kota = {
            r["kode"]: r["nama"]
            for r in csv.DictReader(fh)
            if r["level"] == "kabupaten_kota" and r["kode_induk"] == "16"
        }
    assert len(kab_kota) == 17
    assert {k: r.name for k, r in cat.regencies.items()} == kab_kota
    assert len(cat.datasets) >= 1000
    files = sorted((province[0] / "datasets").glob("*.yaml"))
    assert len(files) == len(cat.datasets) == len({p.stem for p in files})  # ids are unique
    assert len({s.name for s in province[1].glob("*.json")}) == len(cat.datasets)
    for kode in cat.regencies:
        assert Counter(d.pillar for d in cat.datasets_of(kode)).keys() == PILLARS.keys(), kode
    owners = Counter(f"{cat.regency(d.regency).slug}-{d.opd}" for d in cat.datasets.values())
    assert len(owners) > 17 * 8  # spread over many OPDs, not one per regency


def test_the_shipped_catalog_is_part_of_it_unchanged(province: tuple[Path, Path]) -> None:
    shipped = load_validated_catalog(CATALOG_DIR, EXPECTATIONS_DIR)
    for ds_id, path in ((d, shipped.files[f"dataset:{d}"]) for d in shipped.datasets):
        assert (province[0] / "datasets" / path.name).read_bytes() == path.read_bytes()
        assert (province[1] / f"{ds_id}.json").read_bytes() == (
            EXPECTATIONS_DIR / f"{ds_id}.json"
        ).read_bytes()
    assert (province[0] / "kpis.yaml").read_bytes() == (CATALOG_DIR / "kpis.yaml").read_bytes()
    cat = load_catalog(*province)
    assert set(cat.kpis) == set(shipped.kpis)
    for kode, reg in shipped.regencies.items():
        assert {o.code for o in reg.opds} <= {o.code for o in cat.regency(kode).opds}
        assert cat.regency(kode).slug == reg.slug


def test_every_dataset_gets_its_dag_and_every_regency_its_three(parsed: dict) -> None:
    cat, full = parsed["catalog"], parsed["full"]
    assert full["errors"] == {}
    expected = {f"serasan__{d}" for d in cat.datasets}
    for reg in cat.regencies.values():
        expected |= {f"serasan__{reg.slug}__{kind}" for kind in ("kpi", "export", "report")}
    mine = {i for i, d in full["dags"].items() if d["file"] == "serasan_dags.py"}
    assert mine == expected | {"serasan__retention"}
    assert "serasan__alerts" in full["dags"]  # the other DAG file parses beside it
    for ds in cat.datasets.values():
        dag = full["dags"][f"serasan__{ds.id}"]
        slug = cat.regency(ds.regency).slug
        assert dag["tasks"] == ["extract", "parse", "validate", "load", "notify"], ds.id
        assert dag["teardowns"] == ["notify"]
        assert dag["outlets"] == {"load": [f"serasan.{ds.id}"]}
        assert set(dag["tags"]) == {"serasan", slug, ds.opd, ds.pillar}
        assert dag["owners"] == [f"{slug}-{ds.opd}"]
        assert dag["callbacks"] == [1] and dag["catchup"] is False
        assert dag["params"] == ["collected", "force", "periods"]  # ingest flags
        assert dag["timetable"] == "CronTriggerTimetable"
        assert dag["doc_md"].startswith(f"**{ds.title}** ({cat.regency(ds.regency).name}, ")
    for reg in cat.regencies.values():
        assets = sorted(f"serasan.{d.id}" for d in cat.datasets_of(reg.kode))
        kpi = full["dags"][f"serasan__{reg.slug}__kpi"]
        exp = full["dags"][f"serasan__{reg.slug}__export"]
        rep = full["dags"][f"serasan__{reg.slug}__report"]
        assert kpi["assets"] == exp["assets"] == assets
        assert kpi["tasks"] == ["compute"] and exp["tasks"] == ["export", "publish"]
        # the report waits for the KPIs it reads, not for the datasets
        assert kpi["outlets"] == {"compute": [f"serasan.kpi.{reg.slug}"]} and exp["outlets"] == {}
        assert rep["assets"] == [f"serasan.kpi.{reg.slug}"] and rep["tasks"] == ["report"]
        assert rep["inlets"] == {"report": [f"serasan.kpi.{reg.slug}"]}
        assert kpi["owners"] == exp["owners"] == rep["owners"] == [f"{reg.slug}-walidata"]
        assert all(d["doc_md"] for d in (kpi, exp, rep))


def test_the_parsing_context_builds_only_that_dag_and_the_same_one(parsed: dict) -> None:
    full = parsed["full"]
    for dag_id in parsed["wanted"]:
        one = parsed["one"][dag_id]
        assert one["errors"] == {}
        assert list(one["dags"]) == [dag_id]
        assert one["dags"][dag_id] == full["dags"][dag_id]
        # the whole serialised DAG, as the scheduler stores it: tasks, schedule, assets, args
        assert one["serialized"][dag_id] == full["serialized"][dag_id]


def test_an_unknown_dag_id_in_the_context_builds_nothing(
    province: tuple[Path, Path], tmp_path: Path
) -> None:
    out = parse_dags(
        tmp_path, *province, tmp_path / "cache", ["serasan__no_such_dataset"], folder=None
    )
    assert out["one"]["serasan__no_such_dataset"] == {"errors": {}, "dags": {}, "serialized": {}}


# --- the DAG index cache, on a copy of the shipped catalog (small, so every rebuild is quick) ---


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path, Path]:
    shutil.copytree(CATALOG_DIR, tmp_path / "catalog")
    return tmp_path / "catalog", EXPECTATIONS_DIR, tmp_path / "cache"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edited_title_reaches_the_dag_doc_and_a_stale_index_is_never_used(
    small: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    root, exp, cache = small
    dag_id = "serasan__muba_bank_sampah"
    yaml_file = root / "datasets" / "muba_bank_sampah.yaml"
    first = parse_dags(tmp_path, root, exp, cache, [dag_id], folder=None)["one"][dag_id]
    doc = first["dags"][dag_id]["doc_md"]
    assert doc.startswith("**Kinerja Bank Sampah** (Kabupaten Musi Banyuasin, dlh)")
    [written] = cache.glob("dag-index-*.json")
    stored = json.loads(written.read_text(encoding="utf-8"))
    assert stored["key"] == index_key(root)

    # A matching key is trusted: prove the parse reads the cache by planting a title in it...
    for ds in stored["index"]["datasets"]:
        if ds["id"] == "muba_bank_sampah":
            ds["title"] = "Judul dari indeks"
    written.write_text(json.dumps(stored), encoding="utf-8")
    planted = parse_dags(tmp_path, root, exp, cache, [dag_id], folder=None)["one"][dag_id]
    assert planted["dags"][dag_id]["doc_md"].startswith("**Judul dari indeks**")

    # ...then edit the YAML: the key no longer matches, so the index is rebuilt from the files.
    title = yaml.safe_load(yaml_file.read_text(encoding="utf-8"))["title"]
    _edit(yaml_file, f"title: {title}", "title: Bank Sampah Unit Desa (judul baru)")
    edited = parse_dags(tmp_path, root, exp, cache, [dag_id], folder=None)["one"][dag_id]
    assert edited["dags"][dag_id]["doc_md"].startswith("**Bank Sampah Unit Desa (judul baru)**")
    assert json.loads(written.read_text(encoding="utf-8"))["key"] == index_key(root)


def test_a_broken_catalog_fails_the_import_even_with_a_cache(
    small: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    root, exp, cache = small
    dag_id = "serasan__muba_bank_sampah"
    ok = parse_dags(tmp_path, root, exp, cache, [dag_id], folder=None)["one"][dag_id]
    assert list(ok["dags"]) == [dag_id]
    _edit(root / "datasets" / "muba_bank_sampah.yaml", "pillar: environment", "pillar: weather")
    broken = parse_dags(tmp_path, root, exp, cache, [dag_id], folder=None)["one"][dag_id]
    assert broken["dags"] == {}
    [error] = broken["errors"].values()
    assert "muba_bank_sampah.yaml: pillar" in error


def test_the_index_follows_added_and_removed_files(
    small: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, cache = small
    monkeypatch.setenv("SERASAN_CATALOG_CACHE_DIR", str(cache))
    ids = [d["id"] for d in dag_index(root)["datasets"]]
    assert len(ids) == len(list((root / "datasets").glob("*.yaml"))) and cache_path(root).exists()
    assert dag_index(root) == json.loads(cache_path(root).read_text(encoding="utf-8"))["index"]

    src = root / "datasets" / "muba_cctv_kita.yaml"
    added = root / "datasets" / "muba_cctv_kita_2.yaml"
    added.write_text(
        src.read_text(encoding="utf-8").replace("id: muba_cctv_kita", "id: muba_cctv_kita_2"),
        encoding="utf-8",
    )
    with_it = dag_index(root)
    assert "muba_cctv_kita_2" in [d["id"] for d in with_it["datasets"]]
    muba = next(r for r in with_it["regencies"] if r["kode"] == "16.06")
    assert "muba_cctv_kita_2" in muba["datasets"]  # so the regency DAGs listen to its Asset

    added.unlink()
    assert [d["id"] for d in dag_index(root)["datasets"]] == ids


def test_an_invalid_catalog_writes_no_index(
    small: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, cache = small
    monkeypatch.setenv("SERASAN_CATALOG_CACHE_DIR", str(cache))
    _edit(root / "regencies" / "muaraenim.yaml", 'kode: "16.03"', 'kode: "1603"')
    with pytest.raises(CatalogError):
        dag_index(root)
    assert not cache_path(root).exists()


def test_an_unwritable_cache_only_costs_time(
    small: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, cache = small
    cache.write_text("not a folder", encoding="utf-8")  # mkdir and the write fail
    monkeypatch.setenv("SERASAN_CATALOG_CACHE_DIR", str(cache))
    assert len(dag_index(root)["datasets"]) == len(list((root / "datasets").glob("*.yaml")))
