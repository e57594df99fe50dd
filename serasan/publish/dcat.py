"""The DCAT record of a dataset's exports (`dcat.jsonld`), built as RDF and checked by SHACL.

The record is an rdflib graph, so every value a harvester reads is what DCAT means it to be:
IRIs for the licence, the update frequency (the EU frequency vocabulary), the media type
(IANA), the file type (the EU file-type vocabulary), the theme and the language; typed dates
(`xsd:dateTime` for `dct:issued`/`dct:modified`, `xsd:date` for the temporal coverage);
the publisher (the regency's walidata), the creator (the OPD) and the region (`dct:spatial`,
the Kemendagri code) as nodes of their own.

Themes: every dataset gets the concept of its Smart City pillar from a small SKOS concept
scheme of our own (`urn:satudata:pilar`, its six concepts written into each record, since
the EU data themes have no place for Smart Branding or Smart Living), and also the EU data
theme where one fits the pillar (governance GOVE, economy ECON, environment ENVI, society SOCI),
so harvesters that filter on the EU themes find it.

Project IRIs are URNs (`urn:satudata:<kode wilayah>:<dataset>` ...): Serasan has no domain of
its own to mint HTTP IRIs under, and a URN never pretends to be dereferenceable.

A distribution's `dcat:downloadURL` is always an HTTP(S) address, given only where one exists:
the CKAN resource when the portal holds this very file (same sha256), else
`SERASAN_PUBLIC_LAKE_URL` + the lake key. Without either the distribution has a
`dcat:accessURL` only: the lake location (`s3://bucket/key`, or `file://` for a folder lake),
which only the deployment itself can read. A lake path is never a download URL.

A licence the vocabulary does not know fails the record (`DcatError`) rather than publishing
it as a literal: a licence is a legal statement that harvesters must be able to read, and the
catalog fix is one line (a known licence id, or the licence's own http(s) URL).

The JSON-LD is deterministic (nodes sorted by `@id`, values sorted, keys sorted, blank nodes
named after what they describe): the same input gives the same bytes, so exports rewrite the
file only when the record changed. Every record is validated against the shapes shipped in
`shapes/dcat_shapes.ttl` before it is written (`DcatError` if it does not conform).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from serasan.common.enums import PublishStatus
from serasan.config.catalog import PILLARS, Catalog, Dataset
from serasan.publish import kpi
from serasan.publish.satudata import LICENCES

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from serasan.config.settings import Settings

SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
FREQUENCY = {  # catalog cadence -> EU frequency vocabulary
    "daily": URIRef(EU + "frequency/DAILY"),
    "monthly": URIRef(EU + "frequency/MONTHLY"),
    "quarterly": URIRef(EU + "frequency/QUARTERLY"),
    "yearly": URIRef(EU + "frequency/ANNUAL"),
}
EU_THEME = {  # pillar -> EU data theme, where one fits
    "governance": URIRef(EU + "data-theme/GOVE"),
    "economy": URIRef(EU + "data-theme/ECON"),
    "environment": URIRef(EU + "data-theme/ENVI"),
    "society": URIRef(EU + "data-theme/SOCI"),
}
FILE_TYPE = {  # media type -> EU file-type vocabulary
    "text/csv": URIRef(EU + "file-type/CSV"),
    "application/json": URIRef(EU + "file-type/JSON"),
}
LANGUAGE = URIRef(EU + "language/IND")  # Bahasa Indonesia
IANA = "https://www.iana.org/assignments/media-types/"
PILLAR_SCHEME = URIRef("urn:satudata:pilar")
LANG = "id"  # the language tag of titles, descriptions and keywords
CONTEXT = {
    "@language": LANG,
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "rdf": str(RDF),
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "vcard": str(VCARD),
    "xsd": str(XSD),
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class DcatError(ValueError):
    """The catalog or the export cannot make a valid DCAT record (the message says why)."""


@dataclass(frozen=True)
class Distribution:
    """One exported file of a ready period, as DCAT describes it."""

    period: str
    name: str
    media_type: str
    size: int
    sha256: str
    location: str  # where it is in the lake (s3://bucket/key or a folder path): never public
    download_url: str | None = None  # an http(s) address, where one is configured
    issued: str | None = None  # ISO date-time its period was first exported
    modified: str | None = None  # ... and last changed


def licence_iri(lisensi: str) -> URIRef:
    """The IRI of a catalog licence: a known id (any case, `satudata.LICENCES`) or an http(s)
    URL given as is. Anything else raises DcatError: see the module's docstring for why."""
    text = lisensi.strip()
    if text.lower().startswith(("http://", "https://")):
        return URIRef(text)
    known = {k.lower(): url for k, (_, url) in LICENCES.items()}
    if text.lower() in known:
        return URIRef(known[text.lower()])
    raise DcatError(
        f"licence {lisensi!r} has no IRI: use one of {', '.join(sorted(LICENCES))} "
        "or the licence's http(s) URL in satu_data.lisensi"
    )


def pillar_iri(pillar: str) -> URIRef:
    """The concept of a Smart City pillar in our SKOS scheme."""
    return URIRef(f"{PILLAR_SCHEME}:{pillar}")


def dataset_iri(ds: Dataset) -> URIRef:
    return URIRef(f"urn:satudata:{ds.regency}:{ds.id}")


def media_type_iri(media_type: str) -> URIRef:
    """The IANA registry's IRI of a media type (`text/csv`, parameters dropped)."""
    base = media_type.split(";")[0].strip().lower()
    if not _MEDIA_TYPE.match(base):
        raise DcatError(f"{media_type!r} is not a media type")
    return URIRef(IANA + base)


def access_iri(location: str) -> URIRef:
    """A lake location as an absolute IRI: `s3://...` as it is, a folder path as `file://`."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location):
        return URIRef(location)
    return URIRef(Path(location).absolute().as_uri())


def _timestamp(text: str) -> Literal:
    """An ISO date-time (or date) as an `xsd:dateTime` (or `xsd:date`) literal."""
    try:
        return Literal(dt.datetime.fromisoformat(text))
    except ValueError:
        return Literal(dt.date.fromisoformat(text))


def _node(*parts: str) -> BNode:
    """A blank node named after what it describes, so the serialization is stable."""
    return BNode(re.sub(r"[^A-Za-z0-9]+", "_", "-".join(parts)).strip("_"))


def graph(
    catalog: Catalog,
    ds: Dataset,
    distributions: list[Distribution],
    issued: str | None = None,
    modified: str | None = None,
) -> Graph:
    """The DCAT record of a dataset with one distribution per exported file of its ready
    periods; `issued`/`modified`: when its first and its latest change were recorded."""
    sd, reg = ds.satu_data, catalog.regency(ds.regency)
    g = Graph()
    for prefix, ns in CONTEXT.items():
        if not prefix.startswith("@"):
            g.bind(prefix, Namespace(ns))
    d = dataset_iri(ds)
    licence = licence_iri(sd.lisensi)

    g.add((d, RDF.type, DCAT.Dataset))
    g.add((d, DCTERMS.identifier, Literal(ds.id)))
    g.add((d, DCTERMS.title, Literal(ds.title, lang=LANG)))
    g.add((d, DCTERMS.description, Literal(ds.description, lang=LANG)))
    g.add((d, DCTERMS.language, LANGUAGE))
    for word in sorted({*sd.tags, PILLARS[ds.pillar]}):
        g.add((d, DCAT.keyword, Literal(word, lang=LANG)))

    concept = pillar_iri(ds.pillar)
    g.add((d, DCAT.theme, concept))
    g.add((concept, RDF.type, SKOS.Concept))
    g.add((concept, SKOS.prefLabel, Literal(PILLARS[ds.pillar], lang=LANG)))
    g.add((concept, SKOS.inScheme, PILLAR_SCHEME))
    g.add((PILLAR_SCHEME, RDF.type, SKOS.ConceptScheme))
    g.add((PILLAR_SCHEME, DCTERMS.title, Literal("Pilar Smart City", lang=LANG)))
    if ds.pillar in EU_THEME:
        g.add((d, DCAT.theme, EU_THEME[ds.pillar]))
        g.add((concept, SKOS.closeMatch, EU_THEME[ds.pillar]))

    publisher = URIRef(f"urn:satudata:{reg.kode}:walidata")
    g.add((d, DCTERMS.publisher, publisher))
    g.add((publisher, RDF.type, FOAF.Organization))
    g.add((publisher, FOAF.name, Literal(reg.walidata, lang=LANG)))
    g.add((publisher, FOAF.mbox, URIRef(f"mailto:{reg.walidata_email}")))
    creator = URIRef(f"urn:satudata:{catalog.source_of(ds).regency}:opd:{ds.opd}")
    g.add((d, DCTERMS.creator, creator))
    g.add((creator, RDF.type, FOAF.Organization))
    g.add((creator, FOAF.name, Literal(sd.produsen_data, lang=LANG)))
    contact = _node("kontak")
    g.add((d, DCAT.contactPoint, contact))
    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.fn, Literal(sd.produsen_data, lang=LANG)))
    g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{sd.kontak}")))

    g.add((d, DCTERMS.license, licence))
    g.add((licence, RDF.type, DCTERMS.LicenseDocument))
    g.add((d, DCTERMS.accrualPeriodicity, FREQUENCY[ds.cadence]))
    area = URIRef(f"urn:satudata:{reg.kode}")
    g.add((d, DCTERMS.spatial, area))
    g.add((area, RDF.type, DCTERMS.Location))
    g.add((area, DCTERMS.identifier, Literal(reg.kode)))
    g.add((area, SKOS.prefLabel, Literal(reg.name, lang=LANG)))
    if issued:
        g.add((d, DCTERMS.issued, _timestamp(issued)))
    if modified:
        g.add((d, DCTERMS.modified, _timestamp(modified)))

    if distributions:  # the time the ready periods cover
        spans = [kpi.period_span(p) for p in {x.period for x in distributions}]
        when = _node("temporal")
        g.add((d, DCTERMS.temporal, when))
        g.add((when, RDF.type, DCTERMS.PeriodOfTime))
        g.add((when, DCAT.startDate, Literal(min(s for s, _ in spans))))
        g.add((when, DCAT.endDate, Literal(max(e for _, e in spans))))

    for x in distributions:
        node = URIRef(f"{d}:{x.name}")
        g.add((d, DCAT.distribution, node))
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCTERMS.identifier, Literal(x.name)))
        g.add((node, DCTERMS.title, Literal(f"{ds.title} ({x.period})", lang=LANG)))
        g.add((node, DCTERMS.license, licence))
        g.add((node, DCAT.mediaType, media_type_iri(x.media_type)))
        if x.media_type in FILE_TYPE:
            g.add((node, DCTERMS.format, FILE_TYPE[x.media_type]))
        g.add((node, DCAT.byteSize, Literal(x.size, datatype=XSD.nonNegativeInteger)))
        if x.download_url:
            if not x.download_url.lower().startswith(("http://", "https://")):
                raise DcatError(f"{x.name}: download URL {x.download_url!r} is not http(s)")
            g.add((node, DCAT.downloadURL, URIRef(x.download_url)))
            g.add((node, DCAT.accessURL, URIRef(x.download_url)))
        else:
            g.add((node, DCAT.accessURL, access_iri(x.location)))
        if not _SHA256.match(x.sha256):
            raise DcatError(f"{x.name}: {x.sha256!r} is not a sha256 in hex")
        checksum = _node(x.name, "sha256")
        g.add((node, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(x.sha256, datatype=XSD.hexBinary)))
        if x.issued:
            g.add((node, DCTERMS.issued, _timestamp(x.issued)))
        if x.modified:
            g.add((node, DCTERMS.modified, _timestamp(x.modified)))
    return g


def _sorted(value: Any) -> Any:
    """JSON-LD with every array in a fixed order: RDF values are sets, so this is lossless."""
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def jsonld(g: Graph) -> bytes:
    """The graph as compact JSON-LD with our context, the same bytes for the same graph."""
    doc = json.loads(g.serialize(format="json-ld", context=CONTEXT))
    return json.dumps(_sorted(doc), indent=2, ensure_ascii=False, sort_keys=True).encode() + b"\n"


@cache
def _shapes_text() -> str:
    return (
        resources.files("serasan.publish")
        .joinpath("shapes", "dcat_shapes.ttl")
        .read_text(encoding="utf-8")
    )


def shapes() -> Graph:
    """The SHACL shapes of what we publish (package data `shapes/dcat_shapes.ttl`)."""
    return Graph().parse(data=_shapes_text(), format="turtle")


@dataclass(frozen=True)
class Report:
    conforms: bool
    text: str  # pyshacl's report: each violation with its focus node, path and message
    results: Graph = field(repr=False)


def validate(g: Graph) -> Report:
    """Check a record against the shapes (no inference: what is written is what is checked)."""
    from pyshacl import validate as shacl

    conforms, results, text = shacl(g, shacl_graph=shapes(), inference="none")
    assert isinstance(results, Graph)
    return Report(bool(conforms), str(text), results)


def record(
    catalog: Catalog,
    ds: Dataset,
    distributions: list[Distribution],
    issued: str | None = None,
    modified: str | None = None,
) -> bytes:
    """`dcat.jsonld`: the dataset's record as JSON-LD, validated against the shapes first
    (DcatError with the violations if it does not conform)."""
    g = graph(catalog, ds, distributions, issued, modified)
    report = validate(g)
    if not report.conforms:
        raise DcatError(f"the DCAT record of {ds.id} does not conform:\n{report.text}")
    return jsonld(g)


# ------------------------------------------------------------------------ download URLs


@dataclass(frozen=True)
class Addresses:
    """Where the public can download a dataset's exported files, if anywhere."""

    public_lake_url: str | None = None  # SERASAN_PUBLIC_LAKE_URL
    # period -> (sha256, URL) of the CSV resource the CKAN portal holds for it
    ckan: dict[str, tuple[str, str]] = field(default_factory=dict)

    def download_url(self, period: str, key: str, sha256: str) -> str | None:
        """The CKAN resource if the portal holds these very bytes, else the public lake URL
        of `key`, else None."""
        held = self.ckan.get(period)
        if held is not None and held[0] == sha256:
            return held[1]
        if self.public_lake_url:
            return f"{self.public_lake_url.rstrip('/')}/{quote(key, safe='/')}"
        return None


def addresses(settings: Settings, engine: Engine, dataset_id: str) -> Addresses:
    """The download addresses configured for a dataset: the public lake URL, and the CKAN
    resources `meta.publication` records as published on the configured portal."""
    ckan_urls: dict[str, tuple[str, str]] = {}
    if settings.ckan_url:
        from serasan.config.settings import safe_url
        from serasan.publish import ckan

        portal = safe_url(settings.ckan_url).rstrip("/")
        state = ckan._state(engine, ckan._portal_key(settings.ckan_url), dataset_id)
        for period, row in sorted(state.items()):
            if row["status"] == PublishStatus.PUBLISHED and row["resource_id"]:
                name = quote(f"{dataset_id}_{period}.csv")
                ckan_urls[period] = (
                    row["sha256"],
                    f"{portal}/dataset/{quote(row['package_name'])}/resource/"
                    f"{quote(row['resource_id'])}/download/{name}",
                )
    return Addresses(settings.public_lake_url, ckan_urls)
