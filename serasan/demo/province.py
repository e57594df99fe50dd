"""A synthetic province: the shipped catalog cloned across all 17 kabupaten/kota of Sumatera
Selatan (codes and names from warehouse/seed/wilayah.csv), for `make bench` and the scale tests.

The datasets get unique ids and a GX suite each and are valid under `load_validated_catalog()`.
The two shipped regencies keep their shipped datasets and KPIs byte for byte, so the result is
a superset of the shipped catalog.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR, SEED_DIR
from serasan.quality.suites import load_validated_catalog

PROVINCE = "16"  # Sumatera Selatan
# Kemendagri code -> slug (regency slugs are [a-z][a-z0-9]{1,30}); the two shipped keep theirs.
SLUGS = {
    "16.01": "oku",
    "16.02": "oki",
    "16.03": "muaraenim",
    "16.04": "lahat",
    "16.05": "musirawas",
    "16.06": "musibanyuasin",
    "16.07": "banyuasin",
    "16.08": "okutimur",
    "16.09": "okuselatan",
    "16.10": "oganilir",
    "16.11": "empatlawang",
    "16.12": "pali",
    "16.13": "muratara",
    "16.71": "palembang",
    "16.72": "pagaralam",
    "16.73": "lubuklinggau",
    "16.74": "prabumulih",
}
# Dataset id prefixes: the shipped ids of 16.06 are muba_*, those of 16.03 muaraenim_*.
ID_PREFIX = {**SLUGS, "16.06": "muba"}
# OPDs every generated regency has beside the shipped ones; copies of a shape go to these.
EXTRA_OPDS = {
    "bappeda": "Badan Perencanaan Pembangunan, Riset dan Inovasi Daerah",
    "dinkes": "Dinas Kesehatan",
    "disdik": "Dinas Pendidikan",
    "dukcapil": "Dinas Kependudukan dan Pencatatan Sipil",
    "dishub": "Dinas Perhubungan",
    "dpmptsp": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    "bpbd": "Badan Penanggulangan Bencana Daerah",
    "distan": "Dinas Pertanian dan Ketahanan Pangan",
    "disperindag": "Dinas Perindustrian dan Perdagangan",
    "dpupr": "Dinas Pekerjaan Umum dan Penataan Ruang",
}
COPIES = 5  # 17 regencies x 12 shapes x 5 = 1,020 datasets, 10 per pillar per regency


# --- the synthetic catalog --------------------------------------------------------------------


def regencies_of_province(province: str = PROVINCE) -> list[tuple[str, str, str]]:
    """(kode, name, jenis) of the province's kabupaten/kota, from the wilayah seed."""
    with (SEED_DIR / "wilayah.csv").open(encoding="utf-8", newline="") as fh:
        return [
            (r["kode"], r["nama"], r["jenis"])
            for r in csv.DictReader(fh)
            if r["level"] == "kabupaten_kota" and r["kode_induk"] == province
        ]


def _short(name: str) -> str:
    return name.removeprefix("Kabupaten ").removeprefix("Kota ")


def _domain(name: str, jenis: str, slug: str) -> str:
    return f"{slug}{'kota' if jenis == 'kota' else 'kab'}.go.id"


def _walk(value: Any, subs: list[tuple[str, str]], kode: tuple[str, str]) -> Any:
    """Rewrite a shape for another regency: its kode (and codes under it) and its names."""
    if isinstance(value, dict):
        return {k: _walk(v, subs, kode) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, subs, kode) for v in value]
    if isinstance(value, str):
        src, dst = kode
        if value == src or value.startswith(src + "."):
            return dst + value[len(src) :]
        for old, new in subs:
            value = value.replace(old, new)
    return value


def _dump_yaml(data: Any, path: Path) -> None:

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(
        yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )


def generate_catalog(
    dest: Path,
    copies: int = COPIES,
    source: Path = CATALOG_DIR,
    source_expectations: Path = EXPECTATIONS_DIR,
) -> tuple[Path, Path]:
    """Write `dest/catalog` and `dest/expectations` for the province; returns both folders.

    Every regency gets each shipped shape `copies` times (so all six pillars): the first copy
    under the shape's own OPD, the others spread over EXTRA_OPDS. Point SERASAN_CATALOG_DIR and
    SERASAN_EXPECTATIONS_DIR at the two folders to run Serasan on it.
    """

    shipped = load_validated_catalog(source, source_expectations)
    root, exp_dir = dest / "catalog", dest / "expectations"
    for sub in (root / "regencies", root / "datasets", exp_dir):
        sub.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "kpis.yaml", root / "kpis.yaml")  # refers to shipped datasets only

    province = regencies_of_province()
    assert {k for k, _, _ in province} == set(SLUGS), "wilayah.csv and SLUGS disagree"
    reg_docs: dict[str, dict[str, Any]] = {}
    for kode, name, jenis in province:
        slug = SLUGS[kode]
        if kode in shipped.regencies:
            doc = yaml.safe_load(shipped.files[f"regency:{kode}"].read_text(encoding="utf-8"))
            domain = doc["walidata_email"].split("@", 1)[1]
        else:
            domain = _domain(name, jenis, slug)
            walidata = f"Dinas Komunikasi dan Informatika {name}"
            doc = {
                "kode": kode,
                "slug": slug,
                "name": name,
                "walidata": walidata,
                "walidata_email": f"satudata@{domain}",
                "ckan_org": f"{'pemkot' if jenis == 'kota' else 'pemkab'}-{slug}",
                "opds": [],
            }
        have = {o["code"] for o in doc["opds"]}
        wanted = {
            **{ds.opd: shipped.opd_of(ds).name for ds in shipped.datasets.values()},
            **EXTRA_OPDS,
        }
        for code, opd_name in wanted.items():
            if code not in have:
                doc["opds"].append(
                    {
                        "code": code,
                        "name": opd_name,
                        "contacts": [
                            {"name": f"Operator Data {code.upper()}", "email": f"{code}@{domain}"}
                        ],
                    }
                )
        reg_docs[kode] = doc
        _dump_yaml(doc, root / "regencies" / f"{slug}.yaml")

    extras = list(EXTRA_OPDS)
    stems: set[str] = set()
    for s_index, ds in enumerate(shipped.datasets.values()):
        src = shipped.regency(ds.regency)
        src_path = shipped.files[f"dataset:{ds.id}"]
        shape = yaml.safe_load(src_path.read_text(encoding="utf-8"))
        suite = json.loads((source_expectations / f"{ds.id}.json").read_text(encoding="utf-8"))
        stem = ds.id.removeprefix(ID_PREFIX[ds.regency] + "_")
        if stem in stems:  # both regencies ship a shape of this name: the copies say whose
            stem = f"{stem}_{ID_PREFIX[ds.regency]}"
        stems.add(stem)
        src_domain = src.walidata_email.split("@", 1)[1]
        for kode, doc in reg_docs.items():
            subs = [
                (src.name, doc["name"]),
                (_short(src.name), _short(doc["name"])),
                (src_domain, doc["walidata_email"].split("@", 1)[1]),
                (f"-{ds.regency.replace('.', '')}-", f"-{kode.replace('.', '')}-"),
            ]
            for k in range(copies):
                new_id = f"{ID_PREFIX[kode]}_{stem}" + (f"_{k + 1}" if k else "")
                if kode == ds.regency and k == 0:  # the shipped dataset itself, unchanged
                    new_id = ds.id
                    shutil.copyfile(src_path, root / "datasets" / f"{new_id}.yaml")
                    shutil.copyfile(
                        source_expectations / f"{ds.id}.json", exp_dir / f"{new_id}.json"
                    )
                    continue
                opd = ds.opd if k == 0 else extras[(s_index * copies + k) % len(extras)]
                opd_doc = next(o for o in doc["opds"] if o["code"] == opd)
                out = _walk(copy.deepcopy(shape), subs, (ds.regency, kode))
                out["id"], out["regency"], out["opd"] = new_id, kode, opd
                if k:
                    out["title"] = f"{shape['title']} (seri {k + 1})"
                conn = out["source"].get("params", {}).get("conn_id")
                if conn:
                    out["source"]["params"]["conn_id"] = (
                        f"{ID_PREFIX[kode]}_{conn.split('_', 1)[-1]}"
                    )
                out["satu_data"]["produsen_data"] = f"{opd_doc['name']} {doc['name']}"
                out["satu_data"]["kontak"] = opd_doc["contacts"][0]["email"]
                _dump_yaml(out, root / "datasets" / f"{new_id}.yaml")
                new_suite = _walk(copy.deepcopy(suite), subs, (ds.regency, kode))
                new_suite["name"] = new_id
                new_suite.setdefault("meta", {})["dataset"] = new_id
                (exp_dir / f"{new_id}.json").write_text(
                    json.dumps(new_suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
                )
    return root, exp_dir


# --- the compiled index the DAG file parses from ---------------------------------------------
