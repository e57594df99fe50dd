"""Publishing Satu Data exports to a CKAN portal, with `ckanapi`.

One CKAN package per dataset (named by `package_slug`, owned by the regency's `ckan_org`), one
resource per period (`<dataset_id>_<period>.csv`, uploaded as multipart, its sha256 in the
resource's `hash` and the period in `periode`). What each portal holds is recorded per
(portal, dataset, period) in `meta.publication`, so:

- re-publishing unchanged data makes no write call: one `package_show`, then nothing; a
  resource is replaced only when its checksum changed, the package updated only when its
  metadata did (with its resources passed back, since `package_update` deletes the others);
- an outage (connection refused, timeout, HTTP 5xx or 429) is retried with exponential backoff
  (`retries` more attempts, `backoff` seconds doubling); if the portal stays down the periods
  are left `pending` with the error, reported in `PublishResult.pending` (and the outage in
  `PublishResult.outage`), and the call does not raise: nothing is lost, and the next call
  publishes what is pending or has changed (`unpublished` tells the exporter which periods to
  read back from the lake). A caller that already met the outage passes it as `down`: the
  periods are left pending without waiting out the retries again. Whoever publishes by hand
  (`serasan export`) is told with `PortalDown`, raised once everything is recorded;
- CKAN's refusals (ValidationError, NotAuthorized, other API errors) are not retried: they are
  recorded on the pending rows with CKAN's message and reported in `PublishResult.errors`;
- a period the PII scanner blocked is never uploaded, its row is `blocked`;
- a catalog that cannot be published (a regency without `ckan_org`, an invalid name) raises
  `CkanConfigError`, after recording the periods as pending so they are not forgotten.

The token is sent only in headers: it is never logged, and every message stored or raised is
scrubbed of it (portals and proxies have been known to echo it back).

A real CKAN cannot run where this is built: since 2.10 `package_create` indexes into Solr
synchronously, and no Solr can be installed. The tests therefore run against a loopback server
(`tests/support/fake_ckan.py`) that implements these actions over real HTTP with CKAN's
validation rules and error envelope.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import (
    CKANAPIError,
    NotAuthorized,
    NotFound,
    ServerIncompatibleError,
    ValidationError,
)
from sqlalchemy import Engine, select

from serasan.common.enums import PublishStatus
from serasan.config.catalog import PILLARS, Catalog, Dataset
from serasan.config.settings import Settings, safe_url
from serasan.warehouse.tables import table

log = logging.getLogger(__name__)

NAME_MIN, NAME_MAX = 2, 100  # CKAN's package name rules (ckan.logic.validators.name_validator)
NAME_RE = re.compile(r"^[a-z0-9_-]+$")
RESERVED_NAMES = frozenset({"new", "edit", "search"})
TAG_MIN, TAG_MAX = 2, 100  # CKAN's tag rules: word characters, spaces, - _ .
TAG_ILLEGAL = re.compile(r"[^\w \-.]+")
# catalog licence strings (SPDX-like, any case, version dropped) -> CKAN's default licence ids
LICENSES = {
    "cc-by": "cc-by",
    "cc-by-sa": "cc-by-sa",
    "cc0": "cc-zero",
    "cc-zero": "cc-zero",
    "cc-by-nc": "cc-nc",
    "cc-nc": "cc-nc",
    "odc-by": "odc-by",
    "odbl": "odc-odbl",
    "odc-odbl": "odc-odbl",
    "pddl": "odc-pddl",
    "odc-pddl": "odc-pddl",
    "gfdl": "gfdl",
    "ogl-uk": "uk-ogl",
    "uk-ogl": "uk-ogl",
    "other-open": "other-open",
    "other-pd": "other-pd",
    "other-at": "other-at",
    "other-nc": "other-nc",
    "other-closed": "other-closed",
    "notspecified": "notspecified",
}
# Satu Data metadata carried as package extras, in this order (None values are left out)
SATU_DATA_EXTRAS = (
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
    "lisensi",
)
# export metadata keys that are not package extras: per period, or title/notes already
NOT_EXTRAS = frozenset(
    {"judul", "deskripsi", "periode", "jumlah_baris", "variabel", "kolom_data_pribadi_dihapus"}
)
# CKAN refuses extras named like a root field of the package schema
ROOT_FIELDS = frozenset(
    {
        "id",
        "name",
        "title",
        "author",
        "author_email",
        "maintainer",
        "maintainer_email",
        "license_id",
        "notes",
        "url",
        "version",
        "state",
        "type",
        "owner_org",
        "private",
        "tags",
        "tag_string",
        "extras",
        "resources",
        "groups",
        "organization",
        "metadata_created",
        "metadata_modified",
        "creator_user_id",
        "num_tags",
        "num_resources",
        "log_message",
    }
)
COMPARED = ("title", "notes", "license_id", "author", "maintainer", "maintainer_email")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MESSAGE_MAX = 1000  # last_error is for people: CKAN's errors, or the start of an HTML page


class CkanConfigError(ValueError):
    """The catalog or settings cannot be published as they are; the message says what to fix."""


@dataclass(frozen=True)
class PeriodFile:
    """One period's export file, as the exporter hands it over."""

    period: str  # e.g. "2025-01" or "2025"
    name: str  # file name, e.g. "muba_bank_sampah_2025-01.csv"
    data: bytes  # the CSV bytes to upload
    sha256: str


@dataclass
class PublishResult:
    """What one call did: counts, and the periods left pending or blocked."""

    package_name: str
    created: bool = False
    updated: bool = False
    resources_created: int = 0
    resources_updated: int = 0
    unchanged: int = 0
    pending: list[str] = field(default_factory=list)  # periods still to publish (retried later)
    errors: list[str] = field(default_factory=list)  # why, one message per failure
    blocked: list[str] = field(default_factory=list)  # periods the PII scanner held back
    # the portal stayed unavailable (refused, timed out, 5xx/429) after the retries: in a few
    # words ("refused the connection", "did not answer in time", "answered HTTP 503"); None
    # when it answered, even with a refusal of CKAN's own
    outage: str | None = None

    @property
    def ok(self) -> bool:
        return not self.pending and not self.errors


# -- names, licences, tags, extras


def validate_package_name(name: str) -> str:
    """Return `name` if CKAN accepts it as a package name, else raise CkanConfigError."""
    if name in RESERVED_NAMES:
        raise CkanConfigError(f"CKAN package name {name!r} is reserved by CKAN")
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise CkanConfigError(
            f"CKAN package name {name!r} must be {NAME_MIN}-{NAME_MAX} "
            f"characters long (it has {len(name)})"
        )
    if not NAME_RE.match(name):
        raise CkanConfigError(
            f"CKAN package name {name!r} may only hold lowercase a-z, 0-9, '-' and '_'"
        )
    return name


def package_slug(dataset_id: str) -> str:
    """The package name of a dataset: its id in lowercase with `-` for `_`, as CKAN URLs read."""
    return validate_package_name(dataset_id.lower().replace("_", "-"))


def license_id(lisensi: str) -> str:
    """CKAN's licence id for a catalog licence ("CC-BY-4.0" -> "cc-by").

    An unknown licence keeps a sanitised form of itself (CKAN stores any id) and is logged, so
    the walidata can add it to the portal's licence list or fix the catalog.
    """
    key = re.sub(r"[^a-z0-9]+", "-", lisensi.strip().lower()).strip("-")
    base = re.sub(r"(-\d+(-\d+)*)+$", "", key)  # "cc-by-sa-4-0" -> "cc-by-sa"
    found = LICENSES.get(base) or LICENSES.get(key)
    if found:
        return found
    log.warning("licence %r has no CKAN id; publishing it as %r", lisensi, key or "notspecified")
    return key or "notspecified"


def clean_tag(raw: str) -> str | None:
    """A tag CKAN accepts (illegal characters become spaces, at most 100), or None if too short."""
    tag = re.sub(r"\s+", " ", TAG_ILLEGAL.sub(" ", raw)).strip()[:TAG_MAX].strip()
    return tag if len(tag) >= TAG_MIN else None


def package_tags(ds: Dataset) -> list[dict[str, str]]:
    """The dataset's Satu Data tags and its pillar, cleaned and without repeats (any case)."""
    seen: dict[str, str] = {}
    for raw in [*ds.satu_data.tags, PILLARS[ds.pillar]]:
        tag = clean_tag(raw)
        if tag is None:
            log.warning("dataset %s: tag %r is too short for CKAN; left out", ds.id, raw)
        elif tag.lower() not in seen:
            seen[tag.lower()] = tag
    return [{"name": t} for t in seen.values()]


def _flat(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Scalar fields of the export metadata, one level of nested objects flattened in."""
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if isinstance(value, Mapping):
            out.update({k: v for k, v in _flat(value).items() if k not in out})
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out.setdefault(str(key), str(value))
        elif isinstance(value, bool):
            out.setdefault(str(key), "ya" if value else "tidak")
    return out


def package_extras(
    catalog: Catalog, ds: Dataset, metadata: Mapping[str, Any]
) -> list[dict[str, str]]:
    """Satu Data metadata as CKAN extras: string values, unique keys, catalog values first."""
    sd = ds.satu_data
    extras: dict[str, str] = {k: v for k in SATU_DATA_EXTRAS if (v := getattr(sd, k)) is not None}
    extras.update(
        {
            "kode_wilayah": ds.regency,
            "wilayah": catalog.regency(ds.regency).name,
            "pilar": PILLARS[ds.pillar],
            "opd": catalog.opd_of(ds).name,
            "serasan_dataset_id": ds.id,
        }
    )
    for key, value in _flat(metadata).items():
        if key not in extras and key not in NOT_EXTRAS and key not in ROOT_FIELDS and value:
            extras[key] = value
    return [{"key": k, "value": v} for k, v in extras.items()]


def _owner_org(catalog: Catalog, ds: Dataset) -> str:
    reg = catalog.regency(ds.regency)
    if reg.ckan_org is None:
        where = catalog.files.get(f"regency:{reg.kode}", f"catalog/regencies/{reg.slug}.yaml")
        raise CkanConfigError(
            f"{where}: ckan_org: {reg.name} has no CKAN organization, so dataset {ds.id} cannot "
            "be published; set ckan_org to the organization's name on the portal"
        )
    return reg.ckan_org


def package_dict(catalog: Catalog, ds: Dataset, metadata: dict[str, Any]) -> dict[str, Any]:
    """The CKAN package for a dataset, built from the catalog; `metadata` (the export's
    metadata JSON) adds extras for flat fields the catalog does not already give."""
    sd = ds.satu_data
    pkg: dict[str, Any] = {
        "name": package_slug(ds.id),
        "owner_org": _owner_org(catalog, ds),
        "title": ds.title,
        "notes": ds.description,
        "license_id": license_id(sd.lisensi),
        "author": sd.produsen_data,
        "maintainer": sd.walidata,
        "tags": package_tags(ds),
        "extras": package_extras(catalog, ds, metadata),
    }
    if EMAIL_RE.match(sd.kontak):
        pkg["maintainer_email"] = sd.kontak
    return pkg


def configured_portal(settings: Settings) -> tuple[str, str] | None:
    """(url, token) of the configured portal, None when publication is off (no URL)."""
    if not settings.ckan_url:
        return None
    if not settings.ckan_token:
        raise CkanConfigError(
            f"CKAN portal {safe_url(settings.ckan_url)} has no API token: set "
            "SERASAN_CKAN_TOKEN or the password of the serasan_ckan connection"
        )
    return settings.ckan_url, settings.ckan_token


# -- talking to the portal


class PortalUnavailable(requests.RequestException):
    """The portal answered 5xx or 429: an outage, worth retrying."""


class PortalDown(Exception):
    """The portal stayed unavailable through the retries: every period to publish was left
    `pending` in meta.publication (the export files stay in the lake), for the next run."""

    def __init__(self, portal_url: str, outage: str, pending: Mapping[str, list[str]]) -> None:
        self.portal = _portal_key(portal_url)  # no user info, query or token
        self.outage, self.pending = outage, dict(pending)
        periods = sum(len(p) for p in self.pending.values())
        super().__init__(
            f"the CKAN portal at {self.portal} {outage}: {periods} period(s) of "
            f"{len(self.pending)} dataset(s) left pending in meta.publication; the exports stay "
            "in the lake and the next `serasan export` or export DAG run sends them"
        )

    @property
    def timed_out(self) -> bool:
        return self.outage == TIMED_OUT


TIMED_OUT = "did not answer in time"


def outage_words(exc: BaseException) -> str:
    """An outage in a few words, without the URL or the token."""
    if isinstance(exc, requests.Timeout):
        return TIMED_OUT
    if isinstance(exc, PortalUnavailable):
        return f"answered {str(exc).split(' from ', 1)[0]}"
    if "refused" in str(exc).lower():
        return "refused the connection"
    return "could not be reached"


def _raise_on_outage(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
    """A response hook: ckanapi would turn a 503 page into a plain API error; we retry it."""
    if response.status_code >= 500 or response.status_code == 429:
        raise PortalUnavailable(f"HTTP {response.status_code} from {safe_url(response.url)}")


TRANSIENT = (requests.ConnectionError, requests.Timeout, PortalUnavailable)


class _Failed(Exception):
    """A call that did not succeed: after all retries (`transient`, the outage in `outage`), or
    refused by CKAN."""

    def __init__(
        self, message: str, attempts: int, transient: bool, outage: str | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.attempts, self.transient = message, attempts, transient
        self.outage = outage


def _describe(exc: Exception) -> str:
    """A one-line reason, CKAN's field errors spelled out."""
    if isinstance(exc, ValidationError) and isinstance(getattr(exc, "error_dict", None), dict):
        fields = {k: v for k, v in exc.error_dict.items() if k != "__type"}
        return "CKAN refused it: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
    if isinstance(exc, NotAuthorized):
        return (
            f"CKAN refused the token ({exc}): check SERASAN_CKAN_TOKEN or the serasan_ckan "
            "connection"
        )
    return f"{type(exc).__name__}: {exc}"


class _Portal:
    """One session with a portal: outages retried, CKAN's refusals not, the token scrubbed."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        retries: int,
        backoff: float,
        timeout: float | tuple[float, float],
    ) -> None:
        session = requests.Session()
        session.hooks["response"].append(_raise_on_outage)
        self.ckan = RemoteCKAN(url.rstrip("/"), apikey=token, session=session)
        self.token, self.retries, self.backoff, self.timeout = token, retries, backoff, timeout

    def close(self) -> None:
        self.ckan.close()

    def scrub(self, text: str) -> str:
        text = text.replace(self.token, "***") if self.token else text
        return text if len(text) <= MESSAGE_MAX else text[:MESSAGE_MAX] + "..."

    def once(self, action: str, data: dict[str, Any], upload: PeriodFile | None = None) -> Any:
        files = {"upload": (upload.name, io.BytesIO(upload.data), "text/csv")} if upload else None
        return self.ckan.call_action(
            action, data, files=files, requests_kwargs={"timeout": self.timeout}
        )

    def call(
        self,
        action: str,
        data: dict[str, Any],
        upload: PeriodFile | None = None,
        *,
        missing_ok: bool = False,
        already_done: Callable[[], Any] | None = None,
    ) -> tuple[Any, int]:
        """The action's result and the attempts it took; `already_done` is asked before a
        retry whether a lost answer had in fact succeeded (so a retry creates no duplicate)."""
        reason, outage = "", "could not be reached"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                if attempt and already_done is not None and (done := already_done()) is not None:
                    return done, attempt + 1
                return self.once(action, data, upload), attempt + 1
            except TRANSIENT as exc:
                reason = self.scrub(f"portal unavailable: {exc}")
                outage = outage_words(exc)
                log.warning(
                    "CKAN %s: attempt %d of %d failed: %s",
                    action,
                    attempt + 1,
                    self.retries + 1,
                    reason,
                )
            except NotFound:
                if missing_ok:
                    return None, attempt + 1
                raise _Failed(
                    self.scrub(f"{action}: not found on the portal"), attempt + 1, transient=False
                ) from None
            except (CKANAPIError, ServerIncompatibleError) as exc:
                raise _Failed(
                    self.scrub(f"{action}: {_describe(exc)}"), attempt + 1, transient=False
                ) from None
        raise _Failed(
            f"{action}: {reason} (after {self.retries + 1} attempts)",
            self.retries + 1,
            transient=True,
            outage=outage,
        )


def _resource_of(pkg: Mapping[str, Any], f: PeriodFile) -> dict[str, Any] | None:
    """The package's resource for a period: by `periode`, else by file name."""
    resources = pkg.get("resources") or []
    return next((r for r in resources if r.get("periode") == f.period), None) or next(
        (r for r in resources if r.get("name") == f.name), None
    )


def _package_differs(pkg: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    org = pkg.get("organization") or {}
    if wanted["owner_org"] not in (pkg.get("owner_org"), org.get("name")):
        return True
    if any((pkg.get(k) or "") != (wanted.get(k) or "") for k in COMPARED):
        return True
    if {t.get("name") for t in pkg.get("tags") or []} != {t["name"] for t in wanted["tags"]}:
        return True
    have = {e.get("key"): e.get("value") for e in pkg.get("extras") or []}
    return have != {e["key"]: e["value"] for e in wanted["extras"]}


def _ensure_package(
    portal: _Portal, wanted: dict[str, Any], result: PublishResult
) -> dict[str, Any]:
    """The package as the portal now holds it: created, updated or left as it was."""
    pkg, _ = portal.call("package_show", {"id": wanted["name"]}, missing_ok=True)
    if pkg is None:
        pkg, _ = portal.call("package_create", wanted, already_done=lambda: _shown(portal, wanted))
        result.created = True
        log.info("CKAN: created package %s", wanted["name"])
    elif _package_differs(pkg, wanted):
        # package_update replaces the package: its resources must be passed back or they go
        data = {**wanted, "id": pkg["id"], "resources": pkg.get("resources") or []}
        pkg, _ = portal.call("package_update", data)
        result.updated = True
        log.info("CKAN: updated the metadata of package %s", wanted["name"])
    return cast(dict[str, Any], pkg)


def _shown(portal: _Portal, wanted: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        return cast(dict[str, Any], portal.once("package_show", {"id": wanted["name"]}))
    except NotFound:
        return None


def _resource_fields(ds: Dataset, f: PeriodFile) -> dict[str, str]:
    return {
        "name": f.name,
        "periode": f.period,
        "hash": f.sha256,
        "format": "CSV",
        "mimetype": "text/csv",
        "description": f"{ds.title}, periode {f.period}",
    }


def _upload(
    portal: _Portal,
    pkg: Mapping[str, Any],
    ds: Dataset,
    f: PeriodFile,
    existing: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], int]:
    """Create or replace the period's resource with the file's bytes."""
    data = {"package_id": pkg["id"], **_resource_fields(ds, f)}
    if existing is not None:
        return portal.call("resource_update", {**data, "id": existing["id"]}, f)

    def already_done() -> dict[str, Any] | None:
        res = _resource_of(portal.once("package_show", {"id": pkg["id"]}), f)
        return res if res is not None and res.get("hash") == f.sha256 else None

    return portal.call("resource_create", data, f, already_done=already_done)


# -- meta.publication


def _portal_key(portal_url: str) -> str:
    return safe_url(portal_url).rstrip("/")[:200]


def _state(engine: Engine, portal: str, dataset_id: str) -> dict[str, dict[str, Any]]:
    pub = table("meta", "publication", engine.dialect.name)
    with engine.connect() as conn:
        rows = conn.execute(
            select(pub).where((pub.c.portal == portal) & (pub.c.dataset_id == dataset_id))
        )
        return {r.period: dict(r._mapping) for r in rows}


def _save(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Upsert rows of meta.publication, in one transaction."""
    if not rows:
        return
    pub = table("meta", "publication", engine.dialect.name)
    with engine.begin() as conn:
        for row in rows:
            where = (
                (pub.c.portal == row["portal"])
                & (pub.c.dataset_id == row["dataset_id"])
                & (pub.c.period == row["period"])
            )
            if conn.execute(pub.update().where(where).values(**row)).rowcount == 0:
                conn.execute(pub.insert().values(**row))


class _Recorder:
    """Builds the meta.publication rows of one call from what happened to each period."""

    def __init__(
        self, portal: str, dataset_id: str, package_name: str, state: dict[str, dict[str, Any]]
    ) -> None:
        self.portal, self.dataset_id, self.package_name = portal, dataset_id, package_name
        self.state = state
        self.rows: list[dict[str, Any]] = []

    def _prior_attempts(self, f: PeriodFile) -> int:
        """Attempts already spent on this checksum (a new checksum starts again at 0)."""
        old = self.state.get(f.period)
        return old["attempts"] if old and old["sha256"] == f.sha256 else 0

    def add(
        self,
        f: PeriodFile,
        status: PublishStatus,
        *,
        attempts: int = 0,
        resource_id: str | None = None,
        error: str | None = None,
    ) -> None:
        old = self.state.get(f.period) or {}
        self.rows.append(
            {
                "portal": self.portal,
                "dataset_id": self.dataset_id,
                "period": f.period,
                "package_name": self.package_name,
                "resource_id": resource_id or old.get("resource_id"),
                "sha256": f.sha256,
                "status": status,
                "attempts": self._prior_attempts(f) + attempts,
                "last_error": error,
                "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
        )

    def published(self, f: PeriodFile, resource_id: str, attempts: int) -> None:
        old = self.state.get(f.period)
        if (
            attempts == 0
            and old
            and old["status"] == PublishStatus.PUBLISHED
            and old["sha256"] == f.sha256
            and old["resource_id"] == resource_id
        ):
            return  # already recorded as it is
        self.add(f, PublishStatus.PUBLISHED, attempts=attempts, resource_id=resource_id)


# -- the public entry points


def publish_dataset(
    engine: Engine,
    portal_url: str,
    token: str,
    catalog: Catalog,
    ds: Dataset,
    metadata: dict[str, Any],
    files: list[PeriodFile],
    *,
    retries: int = 4,
    backoff: float = 1.0,
    blocked: Collection[str] = frozenset(),
    timeout: float | tuple[float, float] = 60.0,
    down: str | None = None,
) -> PublishResult:
    """Create or update the dataset's package and one resource per period of `files`.

    Never raises for an outage or a refusal: those periods are left `pending` in
    meta.publication and listed in the result (an outage also in `result.outage`). Raises
    CkanConfigError (after recording) when the catalog cannot be published. `retries` more
    attempts follow a failed one, waiting `backoff` seconds, doubled each time; `timeout`
    bounds each HTTP request (seconds, or (connect, read)). `down`: an outage the caller met
    already; the portal is not called, the periods it lacks are left pending.
    """
    if len({f.period for f in files}) != len(files):
        raise ValueError(f"dataset {ds.id}: more than one file for the same period")
    # the slug unvalidated: a bad name must still be recorded (package_dict refuses it below)
    portal_key, name = _portal_key(portal_url), ds.id.lower().replace("_", "-")[:NAME_MAX]
    rec = _Recorder(portal_key, ds.id, name, _state(engine, portal_key, ds.id))
    result = PublishResult(package_name=name)
    todo = _hold_back_blocked(files, blocked, rec, result)
    try:
        wanted = package_dict(catalog, ds, metadata)
    except CkanConfigError as exc:
        for f in todo:
            rec.add(f, PublishStatus.PENDING, error=str(exc))
        _save(engine, rec.rows)
        raise
    if todo and down is not None:
        result.outage = down
        for f in todo:
            if _recorded_as_published(f, rec):
                result.unchanged += 1
            else:
                _left_pending(f, rec, result, f"not attempted: the portal {down}", 0)
    elif todo:
        portal = _Portal(portal_url, token, retries=retries, backoff=backoff, timeout=timeout)
        try:
            _publish_files(portal, ds, wanted, todo, rec, result)
        finally:
            portal.close()
    _save(engine, rec.rows)
    return result


def _hold_back_blocked(
    files: list[PeriodFile], blocked: Collection[str], rec: _Recorder, result: PublishResult
) -> list[PeriodFile]:
    """Record the blocked periods; return the others, in period order.

    A blocked period may come with its file or without (the exporter need not read it back):
    without, the row keeps the checksum last recorded for the period.
    """
    given = {f.period: f for f in files}
    for period in sorted(blocked):
        old = rec.state.get(period) or {}
        f = given.get(period) or PeriodFile(
            period, f"{rec.dataset_id}_{period}.csv", b"", old.get("sha256", "")
        )
        result.blocked.append(period)
        if old.get("status") == PublishStatus.BLOCKED and old.get("sha256") == f.sha256:
            continue  # recorded already
        if old.get("status") == PublishStatus.PUBLISHED:
            log.warning(
                "dataset %s period %s is blocked by the PII scanner; the portal still "
                "holds its earlier version (resource %s)",
                rec.dataset_id,
                period,
                old.get("resource_id"),
            )
        rec.add(f, PublishStatus.BLOCKED, error="blocked: personal data found in the export")
    return sorted((f for f in files if f.period not in blocked), key=lambda f: f.period)


def _publish_files(
    portal: _Portal,
    ds: Dataset,
    wanted: dict[str, Any],
    todo: list[PeriodFile],
    rec: _Recorder,
    result: PublishResult,
) -> None:
    try:
        pkg = _ensure_package(portal, wanted, result)
    except _Failed as exc:
        log.warning("CKAN: package %s: %s", wanted["name"], exc.message)
        result.errors.append(f"package {wanted['name']}: {exc.message}")
        result.outage = exc.outage
        for f in todo:  # the portal was not seen: what meta.publication says it has, it has
            if _recorded_as_published(f, rec):
                result.unchanged += 1
            else:
                _left_pending(f, rec, result, exc.message, exc.attempts)
        return
    outage: str | None = None
    for f in todo:
        existing = _resource_of(pkg, f)
        if existing is not None and existing.get("hash") == f.sha256:
            result.unchanged += 1
            rec.published(f, existing["id"], attempts=0)
        elif outage is not None:  # the portal is down: do not wait out the retries again
            _left_pending(f, rec, result, f"not attempted: {outage}", 0)
        else:
            outage = _publish_one(portal, pkg, ds, f, existing, rec, result)


def _publish_one(
    portal: _Portal,
    pkg: Mapping[str, Any],
    ds: Dataset,
    f: PeriodFile,
    existing: Mapping[str, Any] | None,
    rec: _Recorder,
    result: PublishResult,
) -> str | None:
    """Upload one period; return the outage's message if the portal stayed down."""
    try:
        res, attempts = _upload(portal, pkg, ds, f, existing)
    except _Failed as exc:
        log.warning("CKAN: %s period %s: %s", ds.id, f.period, exc.message)
        result.errors.append(f"period {f.period}: {exc.message}")
        _left_pending(f, rec, result, exc.message, exc.attempts)
        result.outage = result.outage or exc.outage
        return exc.message if exc.transient else None
    rec.published(f, res["id"], attempts)
    if existing is None:
        result.resources_created += 1
    else:
        result.resources_updated += 1
    log.info(
        "CKAN: %s resource %s of %s", "replaced" if existing else "created", f.name, pkg.get("name")
    )
    return None


def _recorded_as_published(f: PeriodFile, rec: _Recorder) -> bool:
    old = rec.state.get(f.period)
    return bool(old and old["status"] == PublishStatus.PUBLISHED and old["sha256"] == f.sha256)


def _left_pending(
    f: PeriodFile, rec: _Recorder, result: PublishResult, error: str, attempts: int
) -> None:
    """A period that could not be published this time: pending, with why, for the next call."""
    rec.add(f, PublishStatus.PENDING, attempts=attempts, error=error)
    result.pending.append(f.period)


def unpublished(
    engine: Engine, portal_url: str, dataset_id: str, shas: Mapping[str, str]
) -> list[str]:
    """Of `shas` (period -> CSV sha256), the periods the portal does not hold yet: new, changed,
    pending or blocked. The exporter reads only these back from the lake to publish them."""
    state = _state(engine, _portal_key(portal_url), dataset_id)
    return sorted(
        p
        for p, sha in shas.items()
        if not (row := state.get(p))
        or row["status"] != PublishStatus.PUBLISHED
        or row["sha256"] != sha
    )


def pending_periods(engine: Engine, portal_url: str, dataset_id: str) -> list[str]:
    """Periods left pending by an outage or a refusal, whatever their checksum."""
    state = _state(engine, _portal_key(portal_url), dataset_id)
    return sorted(p for p, row in state.items() if row["status"] == PublishStatus.PENDING)
