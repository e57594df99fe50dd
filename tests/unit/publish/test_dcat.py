"""`dcat.jsonld` is RDF that means what DCAT says: IRIs from the vocabularies, typed dates, an
http(s) download URL or none, and our SHACL shapes accept it and reject broken records.

The records are built for real catalog datasets, serialized, parsed back with rdflib from the
bytes a harvester would read, and queried with SPARQL.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib import namespace as ns
from rdflib.query import ResultRow
from sqlalchemy import insert

from serasan.config.catalog import Catalog, Dataset, view_of
from serasan.config.settings import Settings
from serasan.publish import dcat
from serasan.publish.dcat import EU, IANA, SPDX
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.tables import table

ROOT = Path(__file__).resolve().parents[3]
DS = "muaraenim_produksi_karet"  # yearly, pillar economy, CC-BY-4.0, Kabupaten Muara Enim
PUBLIC = "https://data.muaraenimkab.go.id/lake"
ISSUED, MODIFIED = "2026-01-05T02:00:00+00:00", "2026-03-01T09:30:00+00:00"
PREFIXES = """
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX spdx: <http://spdx.org/rdf/terms#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def _sha(period: str, ext: str) -> str:
    return (period.replace("-", "") + ext).encode().hex().ljust(64, "0")[:64]


def distributions(
    ds: Dataset, periods: tuple[str, ...] = ("2022", "2023"), where: dcat.Addresses | None = None
) -> list[dcat.Distribution]:
    where = where or dcat.Addresses()
    out = []
    for p in periods:
        for ext, media in (("csv", "text/csv"), ("json", "application/json")):
            name = f"{ds.id}_{p}.{ext}"
            key = f"exports/muaraenim/{ds.id}/{p}/{name}"
            out.append(
                dcat.Distribution(
                    period=p,
                    name=name,
                    media_type=media,
                    size=1000 + len(name),
                    sha256=_sha(p, ext),
                    location=f"/srv/serasan/lake/{key}",
                    download_url=where.download_url(p, key, _sha(p, ext)),
                    issued=ISSUED,
                    modified=MODIFIED,
                )
            )
    return out


def parsed(data: bytes) -> Graph:
    """The record as a harvester reads it: the JSON-LD bytes, parsed by rdflib."""
    return Graph().parse(data=data, format="json-ld")


def _rows(g: Graph, query: str) -> list[ResultRow]:
    """The rows a SPARQL SELECT finds (with the prefixes above)."""
    return [r for r in g.query(PREFIXES + query) if isinstance(r, ResultRow)]


def _one(g: Graph, query: str) -> ResultRow:
    rows = _rows(g, query)
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def ds(catalog: Catalog) -> Dataset:
    return catalog.dataset(DS)


@pytest.fixture
def published(catalog: Catalog, ds: Dataset) -> Graph:
    data = dcat.record(
        catalog, ds, distributions(ds, where=dcat.Addresses(PUBLIC)), ISSUED, MODIFIED
    )
    return parsed(data)


def test_the_record_gives_iris_and_typed_dates(published: Graph, ds: Dataset) -> None:
    g = published
    d = dcat.dataset_iri(ds)
    assert (d, ns.RDF.type, ns.DCAT.Dataset) in g
    licence, freq, publisher, name, spatial, code, modified, issued = _one(
        g,
        """SELECT ?licence ?freq ?publisher ?name ?spatial ?code ?modified ?issued WHERE {
             ?d a dcat:Dataset ; dct:license ?licence ; dct:accrualPeriodicity ?freq ;
                dct:publisher ?publisher ; dct:spatial ?spatial ;
                dct:modified ?modified ; dct:issued ?issued .
             ?publisher a foaf:Organization ; foaf:name ?name .
             ?spatial a dct:Location ; dct:identifier ?code .
           }""",
    )
    assert licence == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert freq == URIRef(EU + "frequency/ANNUAL")
    assert publisher == URIRef("urn:satudata:16.03:walidata")
    assert str(name).startswith("Dinas Komunikasi, Informatika, Statistik dan Persandian")
    assert spatial == URIRef("urn:satudata:16.03") and str(code) == "16.03"
    assert isinstance(modified, Literal) and modified.datatype == ns.XSD.dateTime
    assert isinstance(issued, Literal) and issued.datatype == ns.XSD.dateTime
    assert str(modified) == MODIFIED and str(issued) == ISSUED
    themes = set(g.objects(d, ns.DCAT.theme))
    assert themes == {URIRef("urn:satudata:pilar:economy"), URIRef(EU + "data-theme/ECON")}
    assert all(isinstance(t, URIRef) for t in themes)
    assert g.value(d, ns.DCTERMS.language) == URIRef(EU + "language/IND")
    start, end = _one(
        g,
        "SELECT ?s ?e WHERE { ?d dct:temporal [ dcat:startDate ?s ; dcat:endDate ?e ] }",
    )
    assert isinstance(start, Literal) and start.datatype == ns.XSD.date
    assert (str(start), str(end)) == ("2022-01-01", "2023-12-31")


def test_every_distribution_has_a_media_type_iri_an_http_url_and_its_checksum(
    published: Graph, ds: Dataset
) -> None:
    rows = _rows(
        published,
        """SELECT ?name ?media ?format ?url ?access ?algo ?sum ?size ?modified WHERE {
             ?d dcat:distribution ?x .
             ?x a dcat:Distribution ; dct:identifier ?name ; dcat:mediaType ?media ;
                dct:format ?format ; dcat:downloadURL ?url ; dcat:accessURL ?access ;
                dcat:byteSize ?size ; dct:modified ?modified ;
                spdx:checksum [ spdx:algorithm ?algo ; spdx:checksumValue ?sum ] .
           }""",
    )
    found = {str(r[0]): r for r in rows}
    assert set(found) == {d.name for d in distributions(ds)}
    for name, (_, media, fmt, url, access, algo, digest, size, modified) in found.items():
        ext = name.rsplit(".", 1)[1]
        assert media == URIRef(IANA + ("text/csv" if ext == "csv" else "application/json"))
        assert fmt == URIRef(EU + f"file-type/{ext.upper()}")
        period = name.removeprefix(f"{ds.id}_").split(".")[0]
        assert url == URIRef(f"{PUBLIC}/exports/muaraenim/{ds.id}/{period}/{name}")
        assert access == url
        assert algo == SPDX.checksumAlgorithm_sha256
        assert isinstance(digest, Literal) and digest.datatype == ns.XSD.hexBinary
        assert str(digest) == _sha(period, ext)
        assert isinstance(size, Literal) and size.datatype == ns.XSD.nonNegativeInteger
        assert isinstance(modified, Literal) and modified.datatype == ns.XSD.dateTime


def test_the_record_conforms_to_the_shapes(published: Graph) -> None:
    report = dcat.validate(published)
    assert report.conforms, report.text


def test_without_a_public_address_there_is_an_access_url_only(
    catalog: Catalog, ds: Dataset
) -> None:
    g = parsed(dcat.record(catalog, ds, distributions(ds), ISSUED, MODIFIED))
    assert not list(g.subject_objects(ns.DCAT.downloadURL))
    access = {str(o) for _, o in g.subject_objects(ns.DCAT.accessURL)}
    assert len(access) == 4 and all(a.startswith("file:///srv/serasan/lake/") for a in access)
    assert dcat.validate(g).conforms

    s3 = dataclasses.replace(distributions(ds)[0], location="s3://serasan-lake/exports/x.csv")
    g = parsed(dcat.record(catalog, ds, [s3], ISSUED, MODIFIED))
    assert [str(o) for _, o in g.subject_objects(ns.DCAT.accessURL)] == [
        "s3://serasan-lake/exports/x.csv"
    ]


def test_a_ckan_resource_is_the_download_url_only_for_the_bytes_it_holds() -> None:
    resource = "https://satudata.example.go.id/dataset/x/resource/r1/download/x_2023.csv"
    where = dcat.Addresses(PUBLIC, {"2023": ("a" * 64, resource)})
    assert where.download_url("2023", "exports/m/x/2023/x_2023.csv", "a" * 64) == resource
    # a revised file the portal does not hold yet, and the JSON (never on CKAN): the lake's
    assert where.download_url("2023", "exports/m/x/2023/x_2023.csv", "b" * 64) == (
        f"{PUBLIC}/exports/m/x/2023/x_2023.csv"
    )
    assert where.download_url("2023", "k/x_2023.json", "c" * 64) == f"{PUBLIC}/k/x_2023.json"
    assert (
        dcat.Addresses(None, {"2023": ("a" * 64, resource)}).download_url("2023", "k", "b" * 64)
        is None
    )


def test_published_ckan_resources_are_read_from_meta_publication(
    catalog: Catalog, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    try:
        upgrade(engine, catalog)
        pub = table("meta", "publication", engine.dialect.name)
        row = {
            "portal": "https://satudata.example.go.id",
            "dataset_id": DS,
            "package_name": "muaraenim-produksi-karet",
            "attempts": 1,
            "updated_at": ISSUED,
        }
        with engine.begin() as conn:
            conn.execute(
                insert(pub),
                [
                    {
                        **row,
                        "period": "2022",
                        "resource_id": "r-22",
                        "sha256": "a" * 64,
                        "status": "published",
                    },
                    {
                        **row,
                        "period": "2023",
                        "resource_id": None,
                        "sha256": "b" * 64,
                        "status": "pending",
                    },
                ],
            )
        settings = Settings(
            lake_url=str(tmp_path / "lake"),
            warehouse_url=f"sqlite:///{tmp_path / 'wh.db'}",
            ckan_url="https://satudata.example.go.id/",
        )
        where = dcat.addresses(settings, engine, DS)
        assert where.ckan == {
            "2022": (
                "a" * 64,
                "https://satudata.example.go.id/dataset/muaraenim-produksi-karet/resource/r-22"
                f"/download/{DS}_2022.csv",
            )
        }
        assert where.public_lake_url is None
        no_portal = dataclasses.replace(settings, ckan_url=None, public_lake_url=PUBLIC)
        assert dcat.addresses(no_portal, engine, DS) == dcat.Addresses(PUBLIC)
    finally:
        engine.dispose()


def test_the_public_lake_url_setting_must_be_http() -> None:
    env = {"SERASAN_PUBLIC_LAKE_URL": PUBLIC + "/"}
    assert Settings.from_env(env).public_lake_url == PUBLIC + "/"
    assert Settings.from_env(env).as_env()["SERASAN_PUBLIC_LAKE_URL"] == PUBLIC + "/"
    assert Settings.from_env({}).public_lake_url is None
    with pytest.raises(ValueError, match="SERASAN_PUBLIC_LAKE_URL"):
        Settings.from_env({"SERASAN_PUBLIC_LAKE_URL": "/srv/serasan/lake"})


def test_same_input_same_bytes(catalog: Catalog, ds: Dataset) -> None:
    dists = distributions(ds, ("2021", "2022", "2023"), dcat.Addresses(PUBLIC))
    first = dcat.record(catalog, ds, dists, ISSUED, MODIFIED)
    assert dcat.record(catalog, ds, list(reversed(dists)), ISSUED, MODIFIED) == first
    doc = json.loads(first)
    assert doc["@context"]["dcat"] == str(ns.DCAT)
    assert [n["@id"] for n in doc["@graph"]] == sorted(n["@id"] for n in doc["@graph"])


def test_same_bytes_in_another_process(catalog: Catalog, ds: Dataset) -> None:
    """Another interpreter (another string hash seed, so other set orders) writes the same
    bytes: the exports compare them to decide whether to rewrite the file."""
    script = (
        "import sys; from tests.unit.publish import test_dcat as t; "
        "from serasan.quality.suites import load_validated_catalog; "
        "from serasan.publish import dcat; c = load_validated_catalog(); d = c.dataset(t.DS); "
        "sys.stdout.buffer.write(dcat.record(c, d, t.distributions(d, where=dcat.Addresses("
        "t.PUBLIC)), t.ISSUED, t.MODIFIED))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, check=True
    ).stdout
    here = dcat.record(
        catalog, ds, distributions(ds, where=dcat.Addresses(PUBLIC)), ISSUED, MODIFIED
    )
    assert out == here


def test_every_catalog_dataset_makes_a_conforming_record(catalog: Catalog) -> None:
    """The shipped catalog's licences, cadences and pillars all map to IRIs; the regencies'
    views of province-scope datasets included."""
    for reg in catalog.regencies.values():
        for ds in catalog.datasets_for(reg.kode):
            view = view_of(ds, reg)
            g = dcat.graph(catalog, view, distributions(view), ISSUED, MODIFIED)
            report = dcat.validate(g)
            assert report.conforms, (view.id, report.text)


def test_a_dataset_whose_periods_were_all_withdrawn_has_no_distribution(
    catalog: Catalog, ds: Dataset
) -> None:
    g = parsed(dcat.record(catalog, ds, [], ISSUED, MODIFIED))
    assert not list(g.objects(None, ns.DCAT.distribution))
    assert not list(g.objects(None, ns.DCTERMS.temporal))
    assert dcat.validate(g).conforms


def test_licences(catalog: Catalog, ds: Dataset) -> None:
    assert dcat.licence_iri("cc-by-4.0") == URIRef("https://creativecommons.org/licenses/by/4.0/")
    url = "https://jdih.example.go.id/lisensi-data-terbuka"
    assert dcat.licence_iri(url) == URIRef(url)
    unknown = ds.model_copy(
        update={"satu_data": ds.satu_data.model_copy(update={"lisensi": "Lisensi Pemda"})}
    )
    with pytest.raises(dcat.DcatError, match="'Lisensi Pemda' has no IRI"):
        dcat.record(catalog, unknown, distributions(ds), ISSUED, MODIFIED)


def _break_literal_licence(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((d, ns.DCTERMS.license, Literal("CC-BY-4.0")))


def _break_path_download(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((x, ns.DCAT.downloadURL, URIRef("/srv/serasan/lake/exports/x.csv")))


def _break_literal_download(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((x, ns.DCAT.downloadURL, Literal("https://data.example.go.id/x.csv")))


def _break_no_address(g: Graph, d: URIRef, x: URIRef) -> None:
    g.remove((x, ns.DCAT.downloadURL, None))
    g.remove((x, ns.DCAT.accessURL, None))


def _break_untyped_modified(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((x, ns.DCTERMS.modified, Literal("2026-03-01T09:30:00+00:00")))


def _break_untyped_dataset_modified(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((d, ns.DCTERMS.modified, Literal("2026-03-01")))


def _break_literal_media_type(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((x, ns.DCAT.mediaType, Literal("text/csv")))


def _break_literal_frequency(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((d, ns.DCTERMS.accrualPeriodicity, Literal("yearly")))


def _break_literal_theme(g: Graph, d: URIRef, x: URIRef) -> None:
    g.remove((d, ns.DCAT.theme, None))
    g.add((d, ns.DCAT.theme, Literal("Smart Economy")))


def _break_literal_publisher(g: Graph, d: URIRef, x: URIRef) -> None:
    g.set((d, ns.DCTERMS.publisher, Literal("Diskominfo")))


def _break_no_spatial(g: Graph, d: URIRef, x: URIRef) -> None:
    g.remove((d, ns.DCTERMS.spatial, None))


def _break_no_checksum(g: Graph, d: URIRef, x: URIRef) -> None:
    g.remove((x, SPDX.checksum, None))


def _break_bad_checksum(g: Graph, d: URIRef, x: URIRef) -> None:
    node = g.value(x, SPDX.checksum)
    assert node is not None
    g.set((node, SPDX.checksumValue, Literal("ABCD", datatype=ns.XSD.hexBinary)))


def _break_no_distribution(g: Graph, d: URIRef, x: URIRef) -> None:
    for node in list(g.objects(d, ns.DCAT.distribution)):
        g.remove((d, ns.DCAT.distribution, node))
        g.remove((node, None, None))


def _break_no_title(g: Graph, d: URIRef, x: URIRef) -> None:
    g.remove((d, ns.DCTERMS.title, None))


@pytest.mark.parametrize(
    ("breaks", "message"),
    [
        (_break_literal_licence, "the licence is one http(s) IRI, not a literal"),
        (_break_path_download, "a download URL is an http(s) IRI, never a lake path"),
        (_break_literal_download, "a download URL is an http(s) IRI, never a lake path"),
        (_break_no_address, "a distribution has an http(s) download URL or an access URL"),
        (_break_untyped_modified, "dct:modified is an xsd:dateTime or xsd:date"),
        (_break_untyped_dataset_modified, "dct:modified is an xsd:dateTime or xsd:date"),
        (_break_literal_media_type, "the media type is an IANA media-types IRI"),
        (_break_literal_frequency, "an IRI of the EU frequency vocabulary"),
        (_break_literal_theme, "one theme is the dataset's Smart City pillar"),
        (_break_literal_publisher, "the publisher is one organisation (the walidata)"),
        (_break_no_spatial, "the region is a dct:Location IRI"),
        (_break_no_checksum, "a distribution carries its sha256 as an spdx:Checksum"),
        (_break_bad_checksum, "Value does not match pattern '^[0-9a-f]{64}$'"),
        (_break_no_distribution, "a dataset with ready periods (dct:temporal) has at least one"),
        (_break_no_title, "a dataset has a title, with its language"),
    ],
)
def test_the_shapes_reject_a_broken_record(
    catalog: Catalog, ds: Dataset, breaks: Callable[[Graph, URIRef, URIRef], None], message: str
) -> None:
    g = dcat.graph(catalog, ds, distributions(ds, where=dcat.Addresses(PUBLIC)), ISSUED, MODIFIED)
    d = dcat.dataset_iri(ds)
    x = URIRef(f"{d}:{ds.id}_2023.csv")
    assert (x, ns.RDF.type, ns.DCAT.Distribution) in g
    assert dcat.validate(g).conforms  # the record as built ...
    breaks(g, d, x)
    report = dcat.validate(g)  # ... broken in one way
    assert not report.conforms
    assert message in report.text, report.text


def test_a_record_that_does_not_conform_is_never_written(catalog: Catalog, ds: Dataset) -> None:
    untitled = ds.model_copy(update={"title": ""})
    with pytest.raises(dcat.DcatError, match="does not conform"):
        dcat.record(catalog, untitled, distributions(ds), ISSUED, MODIFIED)
    one = distributions(ds)[0]
    with pytest.raises(dcat.DcatError, match="not http"):
        dcat.record(catalog, ds, [dataclasses.replace(one, download_url="s3://lake/x.csv")], ISSUED)
    with pytest.raises(dcat.DcatError, match="not a sha256"):
        dcat.record(catalog, ds, [dataclasses.replace(one, sha256="not-a-sha256")], ISSUED)


def test_the_shapes_ship_as_package_data() -> None:
    from importlib import resources

    shapes = resources.files("serasan.publish").joinpath("shapes", "dcat_shapes.ttl")
    assert shapes.is_file()
    g = dcat.shapes()
    assert (URIRef("urn:satudata:shapes:DatasetShape"), ns.RDF.type, None) in g
    assert ns.FOAF.Organization in set(g.objects())
