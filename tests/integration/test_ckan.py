"""Publication to CKAN over real HTTP, against a loopback portal, on SQLite and PostgreSQL.

A real CKAN cannot run here (since 2.10 `package_create` indexes into Solr synchronously and no
Solr can be installed), so `tests/support/fake_ckan.py` implements the actions the publisher
uses with CKAN's validation rules and error envelope. `ckanapi` speaks HTTP to it unmocked; the
state lands in a real `meta.publication`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import NotAuthorized, NotFound, ValidationError
from sqlalchemy import Engine, select

from serasan.config.catalog import Catalog, Dataset
from serasan.publish.ckan import (
    CkanConfigError,
    PeriodFile,
    PublishResult,
    package_dict,
    package_slug,
    pending_periods,
    publish_dataset,
    unpublished,
)
from serasan.warehouse.db import upgrade
from serasan.warehouse.tables import table
from tests.support.fake_ckan import NAME_INVALID, TOKEN, FakeCkan

DS_ID = "muba_kelompok_tani_karet"
SLUG = "muba-kelompok-tani-karet"
ORG = "pemkab-musi-banyuasin"
FAST: dict[str, Any] = {"retries": 2, "backoff": 0.01, "timeout": 5}
SATU_DATA_KEYS = (
    "produsen_data",
    "walidata",
    "frekuensi",
    "satuan",
    "level_penyajian",
    "jadwal_rilis",
    "konsep",
    "definisi",
    "klasifikasi",
    "ukuran",
    "kontak",
)


@pytest.fixture(scope="module")
def ckan() -> Iterator[FakeCkan]:
    server = FakeCkan().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_ckan(ckan: FakeCkan) -> None:
    ckan.reset()


@pytest.fixture
def wh(engine: Engine, catalog: Catalog) -> Engine:
    upgrade(engine, catalog)
    return engine


@pytest.fixture
def ds(catalog: Catalog) -> Dataset:
    return catalog.dataset(DS_ID)


def csv_file(period: str, extra: str = "") -> PeriodFile:
    """A period's CSV with what trips naive multipart handling: CRLF, non-ASCII, a '--' line."""
    text = (
        "kode_provinsi,nama_desa_kelurahan,nama_kelompok,jumlah_anggota,periode\r\n"
        f"16,Sungai Lilin,Karya Makmur,{len(period) + 20},{period}\r\n"
        f"16,Désa Ujung,--Tani Jaya--,31,{period}\r\n{extra}"
    )
    data = text.encode("utf-8")
    return PeriodFile(period, f"{DS_ID}_{period}.csv", data, hashlib.sha256(data).hexdigest())


def export_metadata(ds: Dataset) -> dict[str, Any]:
    """Shaped like the exporter's metadata JSON, with the odd fields it may grow."""
    sd = ds.satu_data
    return {
        "id": ds.id,
        "judul": ds.title,
        "deskripsi": ds.description,
        "periode": "2025",
        "kode_wilayah": ds.regency,
        "pilar": ds.pillar,
        "produsen_data": sd.produsen_data,
        "lisensi": sd.lisensi,
        "jumlah_baris": 2,
        "variabel": [{"nama": "tahun"}],
        "standar_data": {
            "kode_standar": "SD-1606-DISBUN-01",
            "versi": 2,
            "lengkap": True,
            "satuan": "ignored: the catalog says it",
        },
        "catatan": None,
    }


def publish(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset, files: list[PeriodFile], **kw: Any
) -> PublishResult:
    return publish_dataset(
        wh,
        ckan.url,
        kw.pop("token", TOKEN),
        catalog,
        ds,
        export_metadata(ds),
        files,
        **{**FAST, **kw},
    )


def rows(wh: Engine) -> dict[str, dict[str, Any]]:
    pub = table("meta", "publication", wh.dialect.name)
    with wh.connect() as conn:
        return {r.period: dict(r._mapping) for r in conn.execute(select(pub))}


def resources(ckan: FakeCkan) -> dict[str, dict[str, Any]]:
    pkg = ckan.package(SLUG)
    assert pkg is not None
    return {r["periode"]: r for r in pkg["resources"]}


def writes(ckan: FakeCkan) -> list[str]:
    return [r.action for r in ckan.writes()]


def with_org(catalog: Catalog, ckan_org: str | None) -> Catalog:
    reg = catalog.regency("16.06").model_copy(update={"ckan_org": ckan_org})
    return dataclasses.replace(catalog, regencies={**catalog.regencies, "16.06": reg})


# -- names and the package (the rules without a portal: tests/unit/publish/test_ckan_package.py)


def test_slug_is_what_the_portal_accepts(ckan: FakeCkan, catalog: Catalog) -> None:
    """Every catalog dataset's slug passes the portal's own name rules."""
    portal = RemoteCKAN(ckan.url, apikey=TOKEN)
    for dataset_id in catalog.datasets:
        portal.action.package_create(name=package_slug(dataset_id), owner_org=ORG)
    assert len(ckan.packages) == len(catalog.datasets)


def test_package_dict_from_catalog_and_metadata(catalog: Catalog, ds: Dataset) -> None:
    sd = ds.satu_data.model_copy(
        update={"konsep": None, "tags": ["karet", "Karet", "x", "karet/lateks"]}
    )
    pkg = package_dict(catalog, ds.model_copy(update={"satu_data": sd}), export_metadata(ds))
    assert pkg["name"] == SLUG and pkg["owner_org"] == ORG
    assert pkg["title"] == ds.title and pkg["notes"] == ds.description
    assert pkg["license_id"] == "cc-by"
    assert [t["name"] for t in pkg["tags"]] == ["karet", "karet lateks", "Smart Economy"]
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert len(extras) == len(pkg["extras"])  # unique keys
    assert all(isinstance(v, str) and v for v in extras.values())
    assert "konsep" not in extras  # None is left out
    for key in set(SATU_DATA_KEYS) - {"konsep"}:
        assert extras[key] == getattr(ds.satu_data, key)
    assert extras["pilar"] == "Smart Economy"  # the catalog wins over the metadata's "economy"
    assert extras["satuan"] == ds.satu_data.satuan  # and over a nested field
    assert extras["kode_standar"] == "SD-1606-DISBUN-01" and extras["versi"] == "2"
    assert extras["lengkap"] == "ya"
    for not_extra in (
        "id",
        "judul",
        "deskripsi",
        "periode",
        "jumlah_baris",
        "variabel",
        "catatan",
        "standar_data",
    ):
        assert not_extra not in extras


def test_regency_without_ckan_org_is_refused(catalog: Catalog, ds: Dataset) -> None:
    with pytest.raises(CkanConfigError, match=r"musibanyuasin\.yaml: ckan_org") as err:
        package_dict(with_org(catalog, None), ds, {})
    assert "Kabupaten Musi Banyuasin" in str(err.value)


# -- publishing


def test_first_publish_creates_package_and_resources(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    files = [csv_file("2024"), csv_file("2025")]
    result = publish(wh, ckan, catalog, ds, files)
    assert result == PublishResult(SLUG, created=True, resources_created=2)
    assert writes(ckan) == ["package_create", "resource_create", "resource_create"]
    pkg = ckan.package(SLUG)
    assert pkg is not None and pkg["owner_org"] == ckan.org_id(ORG)
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    for key in SATU_DATA_KEYS:
        assert extras[key] == getattr(ds.satu_data, key)
    assert {t["name"] for t in pkg["tags"]} == {
        "perkebunan",
        "karet",
        "kelompok tani",
        "Smart Economy",
    }
    held = resources(ckan)
    state = rows(wh)
    for f in files:
        res = held[f.period]
        assert res["name"] == f.name and res["hash"] == f.sha256 and res["format"] == "CSV"
        assert ckan.uploads[res["id"]] == f.data  # byte for byte through multipart
        assert requests.get(res["url"], timeout=5).content == f.data  # and served back
        row = state[f.period]
        assert (row["status"], row["sha256"], row["resource_id"]) == (
            "published",
            f.sha256,
            res["id"],
        )
        assert row["package_name"] == SLUG and row["attempts"] == 1 and row["last_error"] is None
        assert row["portal"] == ckan.url


def test_republishing_unchanged_data_writes_nothing(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    files = [csv_file("2024"), csv_file("2025")]
    publish(wh, ckan, catalog, ds, files)
    before = rows(wh)
    ckan.clear_log()
    result = publish(wh, ckan, catalog, ds, files)
    assert result == PublishResult(SLUG, unchanged=2)
    assert writes(ckan) == [] and [r.action for r in ckan.requests()] == ["package_show"]
    assert rows(wh) == before


def test_changed_period_replaces_only_its_resource(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    publish(wh, ckan, catalog, ds, [csv_file("2024"), csv_file("2025")])
    ids = {p: r["id"] for p, r in resources(ckan).items()}
    old_2024 = ckan.uploads[ids["2024"]]
    ckan.clear_log()
    revised = csv_file("2025", extra="16,Bayung Lencir,Sido Rukun,44,2025\r\n")
    result = publish(wh, ckan, catalog, ds, [csv_file("2024"), revised])
    assert result == PublishResult(SLUG, resources_updated=1, unchanged=1)
    assert writes(ckan) == ["resource_update"]
    assert ckan.writes()[0].data["id"] == ids["2025"]
    held = resources(ckan)
    assert {p: r["id"] for p, r in held.items()} == ids  # replaced in place
    assert ckan.uploads[ids["2025"]] == revised.data and held["2025"]["hash"] == revised.sha256
    assert ckan.uploads[ids["2024"]] == old_2024
    assert rows(wh)["2025"]["sha256"] == revised.sha256


def test_new_period_only_creates_its_resource(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    publish(wh, ckan, catalog, ds, [csv_file("2024"), csv_file("2025")])
    ckan.clear_log()
    files = [csv_file("2024"), csv_file("2025"), csv_file("2026")]
    result = publish(wh, ckan, catalog, ds, files)
    assert result == PublishResult(SLUG, resources_created=1, unchanged=2)
    assert writes(ckan) == ["resource_create"]
    assert sorted(resources(ckan)) == ["2024", "2025", "2026"]
    assert unpublished(wh, ckan.url, DS_ID, {f.period: f.sha256 for f in files}) == []


def test_metadata_change_updates_package_and_keeps_resources(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    files = [csv_file("2024"), csv_file("2025")]
    publish(wh, ckan, catalog, ds, files)
    ids = {p: r["id"] for p, r in resources(ckan).items()}
    ckan.clear_log()
    renamed = ds.model_copy(update={"title": "Kelompok Tani Karet Binaan"})
    result = publish(wh, ckan, catalog, renamed, files)
    assert result == PublishResult(SLUG, updated=True, unchanged=2)
    assert writes(ckan) == ["package_update"]
    assert ckan.package(SLUG)["title"] == "Kelompok Tani Karet Binaan"  # type: ignore[index]
    assert {p: r["id"] for p, r in resources(ckan).items()} == ids
    assert all(ckan.uploads[ids[f.period]] == f.data for f in files)
    ckan.clear_log()
    publish(wh, ckan, catalog, renamed, files)
    assert writes(ckan) == []


def test_outage_503_leaves_rows_pending_then_publishes(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    files = [csv_file("2024"), csv_file("2025")]
    ckan.fail(503, times=100)
    result = publish(wh, ckan, catalog, ds, files)  # does not raise
    assert result.pending == ["2024", "2025"] and not result.created
    assert "HTTP 503" in result.errors[0] and "after 3 attempts" in result.errors[0]
    assert [r.status for r in ckan.requests()] == [503, 503, 503]  # retries=2: 3 attempts
    for row in rows(wh).values():
        assert row["status"] == "pending" and row["attempts"] == 3
        assert "HTTP 503" in row["last_error"] and row["resource_id"] is None
    shas = {f.period: f.sha256 for f in files}
    assert unpublished(wh, ckan.url, DS_ID, shas) == ["2024", "2025"]
    assert pending_periods(wh, ckan.url, DS_ID) == ["2024", "2025"]

    ckan.heal()
    result = publish(wh, ckan, catalog, ds, files)
    assert result == PublishResult(SLUG, created=True, resources_created=2)
    state = rows(wh)
    assert {r["status"] for r in state.values()} == {"published"}
    assert all(r["attempts"] == 4 and r["last_error"] is None for r in state.values())
    assert (
        unpublished(wh, ckan.url, DS_ID, shas) == [] and pending_periods(wh, ckan.url, DS_ID) == []
    )


def test_retries_back_off(wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset) -> None:
    ckan.fail(503, times=3)  # three failures, then the portal answers
    result = publish(wh, ckan, catalog, ds, [csv_file("2024")], retries=3, backoff=0.05)
    assert result.created and result.pending == []
    shows = [r.at for r in ckan.requests("package_show")]
    gaps = [b - a for a, b in zip(shows, shows[1:], strict=False)]
    assert len(shows) == 4
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # 0.05 s, doubling


def test_connection_refused_loses_nothing(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    publish(wh, ckan, catalog, ds, [csv_file("2024")])
    first = rows(wh)["2024"]
    ckan.down()
    revised = csv_file("2024", extra="16,Sekayu,Maju Bersama,12,2024\r\n")
    files = [revised, csv_file("2025")]
    result = publish(wh, ckan, catalog, ds, files)
    assert result.pending == ["2024", "2025"]
    assert "Connection refused" in result.errors[0]
    state = rows(wh)
    assert state["2024"]["status"] == "pending" and state["2024"]["sha256"] == revised.sha256
    assert state["2024"]["resource_id"] == first["resource_id"]  # still known for the update
    assert "Connection refused" in state["2025"]["last_error"]

    ckan.up()
    ckan.clear_log()
    result = publish(wh, ckan, catalog, ds, files)
    assert result == PublishResult(SLUG, resources_created=1, resources_updated=1)
    assert sorted(writes(ckan)) == ["resource_create", "resource_update"]
    assert ckan.uploads[first["resource_id"]] == revised.data
    assert {r["status"] for r in rows(wh).values()} == {"published"}


def test_outage_during_uploads_stops_waiting(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    """The package is there; the uploads fail: the first exhausts its retries, the rest wait."""
    publish(wh, ckan, catalog, ds, [csv_file("2024")])
    ckan.clear_log()
    ckan.fail(503, times=100, action="resource_create")
    files = [csv_file("2024"), csv_file("2025"), csv_file("2026")]
    result = publish(wh, ckan, catalog, ds, files)
    assert result.pending == ["2025", "2026"] and result.unchanged == 1
    assert len(ckan.requests("resource_create")) == 3  # 2025 only: 2026 not attempted
    state = rows(wh)
    assert state["2025"]["attempts"] == 3 and state["2026"]["attempts"] == 0
    assert state["2026"]["last_error"].startswith("not attempted: resource_create: portal")
    ckan.heal()
    result = publish(wh, ckan, catalog, ds, files)
    assert result == PublishResult(SLUG, resources_created=2, unchanged=1)


def test_lost_answer_is_not_uploaded_twice(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    """The portal created the resource but the answer was a 502: the retry sees it is there."""
    ckan.fail(502, action="resource_create", processed=True)
    result = publish(wh, ckan, catalog, ds, [csv_file("2024")])
    assert result == PublishResult(SLUG, created=True, resources_created=1)
    assert len(ckan.requests("resource_create")) == 1
    assert len(ckan.package(SLUG)["resources"]) == 1  # type: ignore[index]
    assert rows(wh)["2024"]["resource_id"] == resources(ckan)["2024"]["id"]


def test_validation_error_is_recorded_without_retries(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    unknown_org = with_org(catalog, "pemkab-tidak-ada")
    result = publish(wh, ckan, unknown_org, ds, [csv_file("2024"), csv_file("2025")])
    assert result.pending == ["2024", "2025"]
    assert "Organization does not exist" in result.errors[0]
    assert writes(ckan) == ["package_create"]  # refused once, not retried
    for row in rows(wh).values():
        assert row["status"] == "pending" and row["attempts"] == 1
        assert "owner_org: ['Organization does not exist']" in row["last_error"]


def test_refused_upload_does_not_stop_the_others(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    ckan.fail(
        409,
        action="resource_create",
        error={"__type": "Validation Error", "upload": ["File upload too large"]},
    )
    result = publish(wh, ckan, catalog, ds, [csv_file("2024"), csv_file("2025")])
    assert result.pending == ["2024"] and result.resources_created == 1
    assert result.errors == [
        "period 2024: resource_create: CKAN refused it: upload: ['File upload too large']"
    ]
    assert len(ckan.requests("resource_create")) == 2  # one each, no retry
    state = rows(wh)
    assert state["2024"]["status"] == "pending" and "too large" in state["2024"]["last_error"]
    assert state["2025"]["status"] == "published"
    result = publish(wh, ckan, catalog, ds, [csv_file("2024"), csv_file("2025")])
    assert result == PublishResult(SLUG, resources_created=1, unchanged=1)


def test_blocked_periods_are_never_uploaded(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    leaky = csv_file("2025", extra="16,Sekayu,Tani Maju,3171234567890001,2025\r\n")
    result = publish(wh, ckan, catalog, ds, [csv_file("2024"), leaky], blocked={"2025"})
    assert result == PublishResult(SLUG, created=True, resources_created=1, blocked=["2025"])
    assert sorted(resources(ckan)) == ["2024"]
    assert all(leaky.data not in (f[1] for f in r.files.values()) for r in ckan.requests())
    state = rows(wh)
    assert state["2025"]["status"] == "blocked" and state["2025"]["resource_id"] is None
    assert unpublished(wh, ckan.url, DS_ID, {"2025": leaky.sha256}) == ["2025"]
    ckan.clear_log()  # all blocked: the portal is not even asked
    assert publish(wh, ckan, catalog, ds, [leaky], blocked={"2025"}).blocked == ["2025"]
    assert ckan.requests() == []
    result = publish(wh, ckan, catalog, ds, [csv_file("2024")], blocked={"2023"})  # no file
    assert result == PublishResult(SLUG, unchanged=1, blocked=["2023"])
    assert rows(wh)["2023"]["status"] == "blocked"
    clean = csv_file("2025")  # the scanner passes the corrected export
    result = publish(wh, ckan, catalog, ds, [csv_file("2024"), clean])
    assert result == PublishResult(SLUG, resources_created=1, unchanged=1)
    assert ckan.uploads[resources(ckan)["2025"]["id"]] == clean.data


def test_missing_ckan_org_records_pending_then_raises(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset
) -> None:
    with pytest.raises(CkanConfigError, match="ckan_org"):
        publish(wh, ckan, with_org(catalog, None), ds, [csv_file("2024")])
    assert ckan.requests() == []
    row = rows(wh)["2024"]
    assert row["status"] == "pending" and "ckan_org" in row["last_error"]


def test_token_never_in_logs_or_warehouse(
    wh: Engine, ckan: FakeCkan, catalog: Catalog, ds: Dataset, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3's and requests' debug lines included
    wrong = "ckan-token-WRONG-77aa01"
    results = [publish(wh, ckan, catalog, ds, [csv_file("2023")], token=wrong)]  # echoed 403
    ckan.fail(503, times=3)
    results.append(publish(wh, ckan, catalog, ds, [csv_file("2024")]))
    ckan.fail(
        409,
        action="resource_create",  # a portal that echoes the token it was sent
        error={"__type": "Validation Error", "upload": [f"bad upload for {TOKEN}"]},
    )
    results.append(publish(wh, ckan, catalog, ds, [csv_file("2025")]))
    ckan.down()
    results.append(publish(wh, ckan, catalog, ds, [csv_file("2026")]))
    ckan.up()
    results.append(publish(wh, ckan, catalog, ds, [csv_file("2024"), csv_file("2025")]))

    assert "token" in results[0].errors[0] and "***" in results[0].errors[0]
    assert "***" in results[2].errors[0]
    assert results[4].resources_created == 2
    stored = repr(rows(wh))
    for secret in (TOKEN, wrong):
        assert secret not in caplog.text
        assert secret not in stored
        assert all(secret not in repr(r) for r in results)
    assert rows(wh)["2023"]["status"] == "pending"


# -- the fake portal keeps CKAN's rules (what the publisher is tested against)


def _raw(
    ckan: FakeCkan, action: str, body: dict[str, Any], token: str | None = TOKEN
) -> requests.Response:
    headers = {"Authorization": token} if token else {}
    return requests.post(f"{ckan.url}/api/3/action/{action}", json=body, headers=headers, timeout=5)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Muba Karet", NAME_INVALID),
        ("a", "Must be at least 2 characters long"),
        ("k" * 101, "Name must be a maximum of 100 characters long"),
        ("new", "That name cannot be used"),
    ],
)
def test_fake_refuses_bad_names_like_ckan(ckan: FakeCkan, name: str, message: str) -> None:
    answer = _raw(ckan, "package_create", {"name": name, "owner_org": ORG})
    assert answer.status_code == 409
    assert answer.json() == {
        "help": f"{ckan.url}/api/3/action/help_show?name=package_create",
        "success": False,
        "error": {"__type": "Validation Error", "name": [message]},
    }


def test_fake_ckan_rules(ckan: FakeCkan) -> None:
    portal = RemoteCKAN(ckan.url, apikey=TOKEN)
    portal.action.package_create(name="muba-karet", owner_org=ORG)
    with pytest.raises(ValidationError) as err:
        portal.action.package_create(name="muba-karet", owner_org=ORG)
    assert err.value.error_dict["name"] == ["That URL is already in use."]
    with pytest.raises(ValidationError) as err:
        portal.action.package_create(name="muba-sawit")
    assert err.value.error_dict["owner_org"] == ["An organization must be provided"]
    with pytest.raises(ValidationError) as err:
        portal.action.package_create(name="muba-sawit", owner_org="pemkab-lain")
    assert err.value.error_dict["owner_org"] == ["Organization does not exist"]
    with pytest.raises(ValidationError) as err:
        portal.action.package_create(
            name="muba-sawit",
            owner_org=ORG,
            tags=[{"name": "karet"}, {"name": "k"}, {"name": "karet!"}],
        )
    assert err.value.error_dict["tags"] == [
        {},
        {"name": ['Tag "k" length is less than minimum 2']},
        {"name": ['Tag "karet!" must be alphanumeric characters or symbols: -_.']},
    ]
    with pytest.raises(ValidationError) as err:
        portal.action.package_create(
            name="muba-sawit",
            owner_org=ORG,
            extras=[
                {"key": "satuan", "value": "ton"},
                {"key": "satuan", "value": "kg"},
                {"key": "jumlah", "value": 3},
                {"key": "name", "value": "x"},
            ],
        )
    assert err.value.error_dict["extras_validation"] == ['Duplicate key "satuan"']
    assert err.value.error_dict["extras"][2] == {"value": ["Must be a string"]}
    assert err.value.error_dict["extras"][3] == {
        "key": ["There is a schema field with the same name"]
    }
    with pytest.raises(NotFound):
        portal.action.package_show(id="tidak-ada")
    assert _raw(ckan, "package_show", {"id": "tidak-ada"}).status_code == 404
    assert (
        _raw(ckan, "package_create", {"name": "x1", "owner_org": ORG}, token=None).status_code
        == 403
    )
    with pytest.raises(NotAuthorized):
        RemoteCKAN(ckan.url).action.package_create(name="muba-sawit", owner_org=ORG)


def test_fake_package_update_drops_resources_not_passed_back(ckan: FakeCkan) -> None:
    """CKAN's semantics, the reason the publisher passes resources to package_update."""
    portal = RemoteCKAN(ckan.url, apikey=TOKEN)
    pkg = portal.action.package_create(name="muba-karet", owner_org=ORG)
    portal.action.resource_create(package_id=pkg["id"], name="a.csv", url="")
    kept = portal.action.package_update(
        **{**portal.action.package_show(id=pkg["id"]), "title": "Karet"}
    )
    assert len(kept["resources"]) == 1
    gone = portal.action.package_update(id=pkg["id"], name="muba-karet", owner_org=ORG)
    assert gone["resources"] == []
