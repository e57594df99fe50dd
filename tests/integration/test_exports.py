"""Satu Data exports: complete, standard (Frictionless validates them) and safe.

Data goes in the way production does it (generated OPD files through `run_dataset`), on both
backends; the exports are then read back from the lake and checked against the warehouse, the
catalog and an independent validator.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
import requests
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS
from rdflib.query import ResultRow
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.pipeline import corrections as operations
from serasan.pipeline.run import run_dataset
from serasan.publish import dcat, exports, pii
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from tests.support.fake_ckan import TOKEN, FakeCkan
from tests.support.paths import FIXTURES_DIR
from tests.support.warehouse import RUN_DATE

KEY = "kunci-uji-pseudonim-7d1f"  # the test's HMAC key; a deployment's comes from serasan_pii
DATASETS = ("muba_kelompok_tani_karet", "muba_bank_sampah", "muba_event_sport_tourism")


def _ctx(settings: Settings, catalog: Catalog, key: str | None = KEY) -> RunContext:
    ctx = RunContext(
        settings=dataclasses.replace(settings, pii_key=key),
        catalog=catalog,
        run_date=RUN_DATE,
        dag_id="test",
        run_id="run-1",
    )
    upgrade(ctx.engine, catalog)
    return ctx


def _ingest(ctx: RunContext, ds_id: str, rows: int = 60, seed: int = 3) -> None:
    ds = ctx.catalog.dataset(ds_id)
    gen = generate_dataset(ds, ctx.catalog, rows=rows, defect_rate=0.0, seed=seed)
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + gen.filename, gen.data)
    [summary] = run_dataset(ctx, ds)
    assert summary.status == "loaded", summary


def _lake_state(ctx: RunContext) -> dict[str, str]:
    return {k: hashlib.sha256(ctx.lake.get(k)).hexdigest() for k in ctx.lake.list("exports/")}


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def _periods(ctx: RunContext, ds_id: str) -> dict[str, str]:
    """period -> lake prefix, from meta.export_run."""
    runs = ctx.t("meta", "export_run")
    with ctx.engine.connect() as conn:
        return {
            r.period: r.lake_prefix
            for r in conn.execute(
                select(runs).where(runs.c.dataset_id == ds_id, runs.c.status == "ready")
            )
        }


def _dcat(ctx: RunContext, key: str) -> Graph:
    """A dataset's DCAT record as a harvester reads it: its JSON-LD parsed with rdflib."""
    return Graph().parse(data=ctx.lake.get(key), format="json-ld")


def _select(g: Graph, query: str) -> list[ResultRow]:
    prefixes = (
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/> "
        "PREFIX spdx: <http://spdx.org/rdf/terms#> "
    )
    return [r for r in g.query(prefixes + query) if isinstance(r, ResultRow)]


def _download_urls(g: Graph) -> dict[str, str]:
    """File name -> dcat:downloadURL of every distribution that has one."""
    rows = _select(g, "SELECT ?name ?url WHERE { ?x dct:identifier ?name ; dcat:downloadURL ?url }")
    return {str(r.name): str(r.url) for r in rows}


@pytest.fixture
def loaded(settings: Settings, catalog: Catalog) -> RunContext:
    ctx = _ctx(settings, catalog)
    for ds_id in DATASETS:
        _ingest(ctx, ds_id)
    return ctx


def test_every_period_has_all_files_and_frictionless_validates_them(
    loaded: RunContext, tmp_path: Path
) -> None:
    from frictionless import Package

    ctx = loaded
    result = exports.export_regency(ctx, "16.06")
    assert result["periods_written"] > 0 and result["periods_blocked"] == 0
    for ds_id in DATASETS:
        ds = ctx.catalog.dataset(ds_id)
        periods = _periods(ctx, ds_id)
        assert periods, ds_id
        for period, prefix in periods.items():
            base = f"{ds_id}_{period}"
            names = {f"{base}.csv", f"{base}.json", "metadata.json", "datapackage.json"}
            manifest = json.loads(ctx.lake.get(prefix + "manifest.json"))
            assert set(manifest["files"]) == names
            for name in names:  # the manifest holds the sha256 of every file
                data = ctx.lake.get(prefix + name)
                assert manifest["files"][name] == hashlib.sha256(data).hexdigest()
                (tmp_path / name).write_bytes(data)
            report = Package(str(tmp_path / "datapackage.json")).validate()
            assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
            package = json.loads(ctx.lake.get(prefix + "datapackage.json"))
            key = package["resources"][0]["schema"]["primaryKey"]  # declared, so checked
            assert key == exports.export_key(ds, exports.layout(ds, pseudonyms=True))
            assert len(key) == len(ds.primary_key)
            rows = _csv(ctx.lake.get(prefix + f"{base}.csv"))
            header = list(rows[0])
            assert header[:4] == [
                "kode_provinsi",
                "nama_provinsi",
                "kode_kabupaten_kota",
                "nama_kabupaten_kota",
            ]
            assert header[-2:] == ["satuan", "tahun" if ds.cadence == "yearly" else "periode"]
            assert {r["kode_kabupaten_kota"] for r in rows} == {"16.06"}
            assert {r["kode_bps_kabupaten_kota"] for r in rows} == {"1606"}
            assert {r["satuan"] for r in rows} == {ds.satu_data.satuan}
            level = ds.region.level
            assert all(r[f"kode_{level}"].startswith("16.06.") for r in rows)
            records = json.loads(ctx.lake.get(prefix + f"{base}.json"))
            assert [list(r) for r in records] == [header] * len(records)
            assert [str(r[f"kode_{level}"]) for r in records] == [r[f"kode_{level}"] for r in rows]
            for pii_col in ds.pii_columns:
                assert pii_col not in header
    # the row counts equal the warehouse's
    ds = ctx.catalog.dataset("muba_event_sport_tourism")
    fact = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        n = len(conn.execute(select(fact)).all())
    runs = ctx.t("meta", "export_run")
    with ctx.engine.connect() as conn:
        exported = sum(r.rows for r in conn.execute(select(runs).where(runs.c.dataset_id == ds.id)))
    assert exported == n


def test_metadata_carries_the_satu_data_standard_and_dcat_the_files(loaded: RunContext) -> None:
    ctx = loaded
    exports.export_regency(ctx, "16.06")
    ds = ctx.catalog.dataset("muba_bank_sampah")
    period, prefix = sorted(_periods(ctx, ds.id).items())[0]
    meta = json.loads(ctx.lake.get(prefix + "metadata.json"))
    sd = ds.satu_data
    assert meta["standar_data"] == {
        "konsep": sd.konsep,
        "definisi": sd.definisi,
        "klasifikasi": sd.klasifikasi,
        "ukuran": sd.ukuran,
        "satuan": sd.satuan,
    }
    for f in (
        "produsen_data",
        "walidata",
        "frekuensi",
        "level_penyajian",
        "jadwal_rilis",
        "lisensi",
        "kontak",
    ):
        assert meta[f] == getattr(sd, f)
    header = list(_csv(ctx.lake.get(prefix + f"{ds.id}_{period}.csv"))[0])
    assert [v["nama_variabel"] for v in meta["metadata_variabel"]] == header  # MS-Var per column
    kpis = {k.code for k in ctx.catalog.kpis.values() if ds.id in k.sources}
    assert kpis and {i["kode_indikator"] for i in meta["metadata_indikator"]} == kpis
    assert meta["metadata_belum_lengkap"] == []

    slug = ctx.catalog.regency(ds.regency).slug
    record = _dcat(ctx, f"exports/{slug}/{ds.id}/dcat.jsonld")
    assert dcat.validate(record).conforms
    assert record.value(dcat.dataset_iri(ds), DCTERMS.identifier) == Literal(ds.id)
    dists = {
        str(r.name): r
        for r in _select(
            record,
            """SELECT ?name ?sum ?size ?access ?download WHERE {
                 ?d dcat:distribution ?x . ?x dct:identifier ?name ; dcat:byteSize ?size ;
                   dcat:accessURL ?access ; spdx:checksum/spdx:checksumValue ?sum .
                 OPTIONAL { ?x dcat:downloadURL ?download }
               }""",
        )
    }
    for p, pre in _periods(ctx, ds.id).items():
        manifest = json.loads(ctx.lake.get(pre + "manifest.json"))["files"]
        for name in (f"{ds.id}_{p}.csv", f"{ds.id}_{p}.json"):
            assert str(dists[name].sum) == manifest[name]
            assert int(dists[name].size) == len(ctx.lake.get(pre + name))
            # no public address is configured: the lake location, as an access URL only
            assert dists[name].download is None
            assert str(dists[name].access).startswith(("s3://", "file:///"))
            assert str(dists[name].access).endswith(pre + name)
    changelog = json.loads(ctx.lake.get(f"exports/{slug}/{ds.id}/changelog.json"))
    assert {c["periode"] for c in changelog["perubahan"]} == set(_periods(ctx, ds.id))
    assert {c["perubahan"] for c in changelog["perubahan"]} == {"added"}


def test_dcat_download_urls_are_http_the_ckan_resource_once_published(
    loaded: RunContext,
) -> None:
    """With SERASAN_PUBLIC_LAKE_URL every file has an http(s) download URL in the lake; once the
    portal holds a period's CSV, the CKAN resource is that CSV's download URL, and it serves
    the exported bytes."""
    portal = FakeCkan().start()
    try:
        public = "https://data.example.go.id/lake"
        ctx = _ctx(
            dataclasses.replace(
                loaded.settings, ckan_url=portal.url, ckan_token=TOKEN, public_lake_url=public
            ),
            loaded.catalog,
        )
        ds = ctx.catalog.dataset("muba_bank_sampah")
        key = f"exports/{ctx.catalog.regency(ds.regency).slug}/{ds.id}/dcat.jsonld"
        exports.export_regency(ctx, "16.06", datasets=[ds.id])
        periods = _periods(ctx, ds.id)
        urls = _download_urls(_dcat(ctx, key))
        assert set(urls) == {f"{ds.id}_{p}.{e}" for p in periods for e in ("csv", "json")}
        for name, url in urls.items():
            period = name.removeprefix(f"{ds.id}_").rsplit(".", 1)[0]
            assert url == f"{public}/{periods[period]}{name}"

        assert exports.publish_regency(ctx, "16.06", datasets=[ds.id])[ds.id]["pending"] == []
        exports._dataset_documents(ctx, ds)  # as the next export rewrites it
        record = _dcat(ctx, key)
        assert dcat.validate(record).conforms
        for name, url in _download_urls(record).items():
            period = name.removeprefix(f"{ds.id}_").rsplit(".", 1)[0]
            if name.endswith(".json"):  # never sent to CKAN
                assert url == f"{public}/{periods[period]}{name}"
                continue
            assert url.startswith(f"{portal.url}/dataset/") and url.endswith(f"/download/{name}")
            assert requests.get(url, timeout=10).content == ctx.lake.get(periods[period] + name)
    finally:
        portal.stop()


def test_exporting_unchanged_data_again_writes_nothing(loaded: RunContext) -> None:
    ctx = loaded
    first = exports.export_regency(ctx, "16.06")
    before = _lake_state(ctx)
    again = exports.export_regency(ctx, "16.06")
    assert again["periods_written"] == 0
    assert all(
        r["unchanged"] == first["datasets"][d]["written"] for d, r in again["datasets"].items()
    )
    assert _lake_state(ctx) == before


def test_a_revision_and_a_retraction_are_in_the_changelog(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(settings, catalog)
    ds = catalog.dataset("muaraenim_timbulan_sampah")  # replace_period, monthly
    _ingest(ctx, ds.id, rows=40, seed=1)
    exports.export_regency(ctx, "16.03")
    _ingest(ctx, ds.id, rows=40, seed=2)  # the same months re-sent with other values
    revised = exports.export_dataset(ctx, ds)
    assert revised["written"] > 0
    lr = ctx.t("meta", "load_run")
    with ctx.engine.connect() as conn:
        second = (
            conn.execute(
                select(lr.c.load_id).where(lr.c.dataset_id == ds.id).order_by(lr.c.load_id)
            )
            .scalars()
            .all()
        )
    slug = catalog.regency(ds.regency).slug
    log = json.loads(ctx.lake.get(f"exports/{slug}/{ds.id}/changelog.json"))["perubahan"]
    revisions = [c for c in log if c["perubahan"] == "revised"]
    assert len(revisions) == revised["written"]
    newest = {c["load_id"][0] for c in revisions}
    assert newest <= set(second) and all("data direvisi" in c["alasan"] for c in revisions)

    load_id = revisions[0]["load_id"][0]
    operations.retract(ctx.engine, catalog, load_id, actor="uji", reason="berkas salah kirim")
    after = exports.export_dataset(ctx, ds)
    assert after["written"] > 0
    log = json.loads(ctx.lake.get(f"exports/{slug}/{ds.id}/changelog.json"))["perubahan"]
    latest = log[-after["written"] :]
    assert all("penarikan" in c["alasan"] and "berkas salah kirim" in c["alasan"] for c in latest)


def test_pseudonyms_link_people_and_never_look_like_a_nik(loaded: RunContext) -> None:
    ctx = loaded
    exports.export_regency(ctx, "16.06")
    ds = ctx.catalog.dataset("muba_kelompok_tani_karet")
    fact = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        facts = conn.execute(select(fact)).mappings().all()
    by_group = {(str(r["tahun"]), r["kode_kelompok"]): r["nik_ketua"] for r in facts}
    seen: dict[str, str] = {}
    text = b""
    for period, prefix in _periods(ctx, ds.id).items():
        data = ctx.lake.get(prefix + f"{ds.id}_{period}.csv")
        text += data + ctx.lake.get(prefix + f"{ds.id}_{period}.json")
        for r in _csv(data):
            p = r["nik_ketua_pseudonim"]
            assert re.fullmatch(r"PSN-[A-Z]{20}", p)
            nik = by_group[(period, r["kode_kelompok"])]
            assert seen.setdefault(nik, p) == p  # one person, one pseudonym, every period
            assert p == pii.pseudonym(nik, KEY, "nik_ketua")
    assert len(set(seen.values())) == len(seen)
    for r in facts:  # no NIK, phone or name leaves
        for col in ("nik_ketua", "telepon_ketua", "nama_ketua"):
            if r[col]:
                assert r[col].encode() not in text, col


def test_without_a_key_pseudonym_columns_are_dropped(settings: Settings, catalog: Catalog) -> None:
    ctx = _ctx(settings, catalog, key=None)
    _ingest(ctx, "muba_kelompok_tani_karet")
    exports.export_regency(ctx, "16.06")
    period, prefix = sorted(_periods(ctx, "muba_kelompok_tani_karet").items())[0]
    header = list(_csv(ctx.lake.get(prefix + f"muba_kelompok_tani_karet_{period}.csv"))[0])
    assert not any(h.startswith("nik") for h in header)
    meta = json.loads(ctx.lake.get(prefix + "metadata.json"))
    assert "nik_ketua" in meta["perlindungan_data_pribadi"]["kolom_dihapus"]
    assert "serasan_pii" in meta["perlindungan_data_pribadi"]["catatan"]


def test_small_counts_are_suppressed_at_desa_level(loaded: RunContext) -> None:
    ctx = loaded
    ds = ctx.catalog.dataset("muba_bank_sampah")  # nasabah_aktif: orang, per desa
    fact = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.begin() as conn:  # make some counts small, as a small bank sampah has
        keys = conn.execute(select(*[fact.c[k] for k in ds.primary_key])).all()[:6]
        for i, k in enumerate(keys):
            conn.execute(
                fact.update()
                .where(*[fact.c[c] == v for c, v in zip(ds.primary_key, k, strict=True)])
                .values(nasabah_aktif=i)
            )  # 0..5
    exports.export_dataset(ctx, ds)
    small = {tuple(str(v) for v in k) for k in keys}
    seen = {}
    for period, prefix in _periods(ctx, ds.id).items():
        for r in json.loads(ctx.lake.get(prefix + f"{ds.id}_{period}.json")):
            seen[r["nasabah_aktif"]] = seen.get(r["nasabah_aktif"], 0) + 1
        meta = json.loads(ctx.lake.get(prefix + "metadata.json"))
        assert meta["perlindungan_data_pribadi"]["penekanan_sel_kecil"]["ambang"] == 5
    assert not any(isinstance(v, int) and 0 < v < 5 for v in seen)  # 1-4 never shown
    assert seen.get(None) == 4 and seen.get(0) == 1 and seen.get(5, 0) >= 1
    assert len(small) == 6


def test_personal_data_in_free_text_blocks_the_period_and_alerts_the_walidata(
    settings: Settings, catalog: Catalog
) -> None:
    ctx = _ctx(settings, catalog)
    ds = catalog.dataset("muba_kelompok_tani_karet")
    _ingest(ctx, ds.id)
    fact = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.begin() as conn:  # someone typed a phone number into the group's name
        tahun, kode = conn.execute(select(fact.c.tahun, fact.c.kode_kelompok)).first()
        conn.execute(
            fact.update()
            .where(fact.c.tahun == tahun, fact.c.kode_kelompok == kode)
            .values(nama_kelompok="Tani Maju (hub. 0812-7788-9900)")
        )
    result = exports.export_dataset(ctx, ds)
    assert result["blocked"] == [str(tahun)]
    slug = catalog.regency(ds.regency).slug
    assert not ctx.lake.list(f"exports/{slug}/{ds.id}/{tahun}/")  # nothing written
    found = ctx.t("meta", "pii_finding")
    alert = ctx.t("meta", "alert")
    with ctx.engine.connect() as conn:
        hits = conn.execute(select(found)).mappings().all()
        alerts = conn.execute(select(alert).where(alert.c.dataset_id == ds.id)).mappings().all()
    assert {(h["column_name"], h["kind"]) for h in hits} == {("nama_kelompok", "phone")}
    assert all("7788-9900" not in h["excerpt"] and "77889900" not in h["excerpt"] for h in hits)
    [a] = alerts
    assert catalog.regency(ds.regency).walidata_email in a["recipients"]
    assert "DITAHAN" in a["body"] and "nama_kelompok" in a["body"]
    assert "0812-7788-9900" not in a["body"]
    again = exports.export_dataset(ctx, ds)  # still blocked, and the walidata told once
    assert again["blocked"] == [str(tahun)]
    with ctx.engine.connect() as conn:
        assert len(conn.execute(select(alert).where(alert.c.dataset_id == ds.id)).all()) == 1
    with ctx.engine.begin() as conn:  # fixed at the source
        conn.execute(
            fact.update()
            .where(fact.c.tahun == tahun, fact.c.kode_kelompok == kode)
            .values(nama_kelompok="Tani Maju")
        )
    fixed = exports.export_dataset(ctx, ds)
    assert fixed["blocked"] == [] and fixed["written"] == 1
    assert ctx.lake.list(f"exports/{slug}/{ds.id}/{tahun}/")


def test_the_jakarta_ukm_register_leaves_without_phone_numbers_or_npwp(
    shared_dir: Path, catalog: Catalog, local_settings: Settings
) -> None:
    """A real register full of phone numbers and NPWP: after export, none survives."""
    import yaml

    from serasan.config.catalog import Dataset, Regency
    from serasan.parse.reader import ROW_COL, parse_file

    spec = yaml.safe_load((FIXTURES_DIR / "jakarta" / "ukm_2014.yaml").read_text())
    ds = Dataset.model_validate(spec)
    data = (shared_dir / "samples/jakarta" / ds.source.params["sample"]).read_bytes()
    parsed = parse_file(data, ds.source.params["sample"], ds)
    jakarta = Regency(
        kode=ds.regency,
        slug="jakarta",
        name="Provinsi DKI Jakarta",
        walidata="Diskominfotik DKI Jakarta",
        walidata_email="data@jakarta.go.id",
        opds=[
            {
                "code": ds.opd,
                "name": "DKUKMP",
                "contacts": [{"name": "Data", "email": "data@jakarta.go.id"}],
            }
        ],
    )
    cat = dataclasses.replace(
        catalog,
        regencies={**catalog.regencies, ds.regency: jakarta},
        datasets={**catalog.datasets, ds.id: ds},
    )
    ctx = RunContext(
        settings=dataclasses.replace(local_settings, pii_key=KEY), catalog=cat, run_date=RUN_DATE
    )
    records = [
        {**r, "tahun": 2014, "load_id": "jakarta-ukm"}
        for r in parsed.table.drop_columns([ROW_COL]).to_pylist()
    ]
    pe = exports.build_period(ctx, ds, "2014", records, exports.Regions({}, {}))
    out = pe.files["jakarta_ukm_2014_2014.csv"] + pe.files["jakarta_ukm_2014_2014.json"]
    assert pe.findings == []  # the scanner reads every cell of both files: nothing
    digits_out = re.sub(rb"\D", b"", out)
    survived, checked = [], 0
    for col in ("telepon", "fax", "selular", "npwp"):
        for value in parsed.table.column(col).to_pylist():
            if not value:
                continue
            digits = re.sub(r"\D", "", value)
            if len(digits) < 7:  # '14350', '-': hotlines and dashes that also occur as postcodes
                continue
            if value.encode() in out or (len(digits) >= 9 and digits.encode() in digits_out):
                survived.append((col, value))
            checked += 1
    assert survived == [] and checked > 10_000
    # and the scanner is not blind: the same rows with the personal columns kept are caught
    raw = pa.Table.from_pylist([{c: r.get(c) for c in ("telepon", "npwp")} for r in records])
    raw_csv = exports.csv_bytes(raw.to_pylist(), ["telepon", "npwp"])
    kinds = {f.kind for f in pii.scan_file("mentah.csv", raw_csv)}
    assert kinds >= {"phone", "npwp"}


def test_zero_false_hits_on_the_demo_exports(
    settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    """Every demo dataset exported: the scanner, reading every cell, finds nothing."""
    from contextlib import ExitStack

    from serasan.demo.sources import prepare_database, serve_api

    ctx = _ctx(settings, catalog)
    with ExitStack() as stack, pytest.MonkeyPatch.context() as mp:
        for ds in catalog.datasets.values():
            if ds.source.kind == "api":
                for k, v in stack.enter_context(serve_api(ds, catalog, RUN_DATE, 0.0)).items():
                    mp.setenv(k, v)
                [summary] = run_dataset(ctx, ds)
                assert summary.status == "loaded", summary
            elif ds.source.kind == "database":
                for k, v in prepare_database(ds, catalog, tmp_path, RUN_DATE, 0.0).items():
                    mp.setenv(k, v)
                [summary] = run_dataset(ctx, ds)
                assert summary.status == "loaded", summary
            elif ds.source.kind == "spreadsheet":
                _ingest(ctx, ds.id, rows=80, seed=11)
    for reg in catalog.regencies:
        result = exports.export_regency(ctx, reg)
        assert result["periods_blocked"] == 0, result
    hits = ctx.t("meta", "pii_finding")
    with ctx.engine.connect() as conn:
        assert conn.execute(select(hits)).all() == []
    scanned = 0
    for key in ctx.lake.list("exports/"):
        parts = key.split("/")  # exports/<regency>/<dataset>/<period>/<file>
        if len(parts) == 5 and parts[4].startswith(parts[2]):  # the data files, not metadata
            ds = catalog.dataset(parts[2])
            numeric = [c.name for c in ds.columns if c.type in ("integer", "number")]
            assert (
                pii.scan_file(
                    key,
                    ctx.lake.get(key),
                    numeric_columns=numeric,
                    allow=exports.allowed_contacts(ctx, ds),
                )
                == []
            )
            scanned += 1
    assert scanned > 20


def test_a_key_the_rows_do_not_honour_is_not_declared(loaded: RunContext) -> None:
    """Rows whose exported key repeats (two spellings of one NIK pseudonymise alike) or is
    empty (a region code missing from ref.region): the package then declares no key, which a
    validator would reject, and the metadata says why."""
    ctx = loaded
    ds = ctx.catalog.dataset("muba_bank_sampah")
    regions = exports.read_regions(ctx)
    fact = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        records = [dict(r) for r in conn.execute(select(fact)).mappings()]
    period = exports.period_key(records[0][ds.period.column], ds.cadence)
    mine = [r for r in records if exports.period_key(r[ds.period.column], ds.cadence) == period]
    ok = exports.build_period(ctx, ds, period, mine, regions)
    assert json.loads(ok.files["datapackage.json"])["resources"][0]["schema"]["primaryKey"]
    bad = exports.build_period(ctx, ds, period, [*mine, dict(mine[0])], regions)
    assert "primaryKey" not in json.loads(bad.files["datapackage.json"])["resources"][0]["schema"]
    notes = json.loads(bad.files["metadata.json"])["perlindungan_data_pribadi"]
    assert "kunci_tidak_dinyatakan" in notes


def test_a_catalog_edit_is_a_metadata_change_not_a_revision(loaded: RunContext) -> None:
    ctx = loaded
    ds = ctx.catalog.dataset("muba_event_sport_tourism")
    exports.export_dataset(ctx, ds)
    edited = ds.model_copy(update={"description": ds.description + " (diperbarui)"})
    ctx.catalog.datasets[ds.id] = edited
    try:
        out = exports.export_dataset(ctx, edited)
    finally:
        ctx.catalog.datasets[ds.id] = ds
    assert out["written"] == len(_periods(ctx, ds.id))
    ch = ctx.t("meta", "export_change")
    with ctx.engine.connect() as conn:
        changes = [
            r.change
            for r in conn.execute(select(ch).where(ch.c.dataset_id == ds.id).order_by(ch.c.id))
        ]
    n = out["written"]
    assert changes == ["added"] * n + ["metadata"] * n


# ------------------------------------------------------------------------ `serasan export`


def _deployment(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path, name: str
) -> Settings:
    """Another deployment on the same backend as `settings`: its own lake and warehouse."""
    if settings.lake_url.startswith("s3://"):
        from tests.support.services import fresh_database

        stack = request.getfixturevalue("pg_server_url")
        cm = fresh_database(stack)
        url = cm.__enter__()
        request.addfinalizer(lambda: cm.__exit__(None, None, None))
        return dataclasses.replace(
            settings, lake_url=f"{settings.lake_url}-{name}", warehouse_url=url, pii_key=KEY
        )
    return dataclasses.replace(
        settings,
        lake_url=str(tmp_path / name / "lake"),
        warehouse_url=f"sqlite:///{tmp_path / name / 'warehouse.db'}",
        pii_key=KEY,
    )


def _files(ctx: RunContext) -> dict[str, str]:
    """Every export file's sha256, but the changelog and DCAT record, which carry the moment
    each change was recorded."""
    return {
        k: v
        for k, v in _lake_state(ctx).items()
        if not k.endswith(("changelog.json", "dcat.jsonld"))
    }


def test_serasan_export_writes_what_the_export_task_writes(
    request: pytest.FixtureRequest,
    settings: Settings,
    catalog: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two deployments with the same loads: the export DAG's `export` and `publish` tasks on
    one, `serasan export` on the other, each with nothing but the environment's SERASAN_*."""
    import datetime as dt
    import os
    from types import SimpleNamespace

    from serasan.cli.main import main
    from serasan.common.clock import JAKARTA
    from serasan.operators import tasks

    def use(s: Settings) -> RunContext:
        for k in [k for k in os.environ if k.startswith("SERASAN_")]:
            if not k.startswith("SERASAN_TEST_"):
                monkeypatch.delenv(k)
        for k, v in s.as_env().items():
            monkeypatch.setenv(k, v)
        ctx = _ctx(s, catalog)
        for ds_id in DATASETS:
            _ingest(ctx, ds_id)
        return ctx

    by_task = use(_deployment(request, settings, tmp_path, "task"))
    context = {
        "dag": SimpleNamespace(dag_id="serasan__musibanyuasin__export"),
        "run_id": "manual__2026-11-01",
        "logical_date": dt.datetime.combine(RUN_DATE, dt.time(), tzinfo=JAKARTA),
        "params": {},
    }
    task_result = tasks.export("16.06", context)
    assert tasks.publish("16.06", context) == {"regency": "16.06", "published": {}}

    by_command = use(_deployment(request, settings, tmp_path, "command"))
    capsys.readouterr()  # the loads' own log lines
    date = RUN_DATE.isoformat()
    assert main(["export", "--regency", "musibanyuasin", "--date", date, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["datasets"] == task_result["datasets"]
    assert result["published"] == {}  # no portal configured, as for the task
    written = _files(by_command)
    assert written and written == _files(by_task)
    assert {k.split("/")[2] for k in written} == set(DATASETS)
    # again: nothing changed, nothing written
    assert main(["export", "--regency", "16.06", "--date", date]) == 0
    out = capsys.readouterr().out
    assert "muba_bank_sampah: 0 period(s) written" in out and "not published" in out
    assert _files(by_command) == written


def test_serasan_export_of_one_dataset_and_period(
    local_settings: Settings,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from serasan.cli.main import main

    s = dataclasses.replace(local_settings, pii_key=KEY)
    for k, v in s.as_env().items():
        monkeypatch.setenv(k, v)
    ctx = _ctx(s, catalog)
    for ds_id in DATASETS:
        _ingest(ctx, ds_id)
    ds = catalog.dataset("muba_bank_sampah")
    fact = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        days = sorted({r[0] for r in conn.execute(select(fact.c.periode))})
    period = exports.period_key(days[-1], ds.cadence)
    date = RUN_DATE.isoformat()
    capsys.readouterr()
    args = ["export", "--regency", "musibanyuasin", "--date", date, "--dataset", ds.id]
    assert main([*args, "--period", period, "--no-publish"]) == 0
    out = capsys.readouterr().out
    assert f"{ds.id}: 1 period(s) written, 0 unchanged" in out
    assert "not published (--no-publish)" in out
    keys = set(ctx.lake.list("exports/"))
    assert {k.rsplit("/", 1)[0] for k in keys if k.count("/") == 4} == {
        f"exports/musibanyuasin/{ds.id}/{period}"
    }
    assert _periods(ctx, ds.id) == {period: f"exports/musibanyuasin/{ds.id}/{period}/"}
    # the rest of the dataset follows without the period filter; other datasets stay untouched
    assert main(args) == 0
    assert f"{ds.id}: {len({exports.period_key(d, ds.cadence) for d in days}) - 1} period(s)" in (
        capsys.readouterr().out
    )
    assert not _periods(ctx, "muba_cctv_kita")
    assert main([*args[:-2], "--dataset", "muaraenim_produksi_karet"]) == 2
    assert "not a dataset of 16.06" in capsys.readouterr().err
    assert main([*args, "--period", "2026-13"]) == 2
