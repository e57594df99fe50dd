"""Runtime settings from the environment; one place decides which backend each port uses.

Secrets (S3 keys, database, SMTP and webhook passwords, the CKAN token, the PII key) are read
here and never printed: `describe()` masks them and `repr()` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from serasan.common.paths import DEFAULT_HOME

WALIDATA_PREFIX = "SERASAN_WALIDATA_EMAIL_"  # + regency slug, e.g. SERASAN_WALIDATA_EMAIL_MUARAENIM
VOICE_MIN_REVIEWS = 20  # the default of Settings.voice_min_reviews


def connections_required(env: Mapping[str, str]) -> bool:
    """`SERASAN_REQUIRE_CONNECTIONS=true`: a deployment's tasks refuse the embedded defaults (a
    SQLite warehouse, a local-folder lake); the warehouse and the lake must each be configured,
    by the environment or by their Airflow connection (serasan.operators.config)."""
    return (env.get("SERASAN_REQUIRE_CONNECTIONS") or "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Settings:
    lake_url: str
    warehouse_url: str
    s3_endpoint: str | None = None
    s3_access_key: str | None = field(default=None, repr=False)
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    # Serasan's own limits on a slow or hung service, in seconds: a connect that takes longer
    # fails (and Airflow retries the task) instead of blocking for minutes
    connect_timeout_s: float = 10.0  # S3 and the warehouse database
    s3_read_timeout_s: float = 60.0  # waiting for an S3 response once connected
    # a load (or retract, reprocess) waits this long for another one of the same dataset to
    # commit (warehouse.ledger.lock), then fails naming it; Airflow's retry tries again later
    load_lock_timeout_s: float = 300.0
    lang: str = "id"
    # Delivery of alerts (serasan.alerts.delivery): SMTP e-mail and a generic JSON webhook.
    smtp_host: str | None = None
    smtp_port: int | None = None  # default 587 with STARTTLS, else 25; 465 means implicit TLS
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "serasan@localhost"
    smtp_starttls: bool | None = None  # None: on when a user is set (no password in clear)
    webhook_url: str | None = field(default=None, repr=False)  # may carry a token
    webhook_token: str | None = field(default=None, repr=False)
    engineer_email: str | None = None  # comma-separated; pipeline errors go here, never to OPDs
    walidata_emails: tuple[tuple[str, str], ...] = ()  # (regency slug, address(es)); hashable
    late_grace_days: int = 7  # after this many days late, the walidata is told as well
    outbox_max_age_hours: int = 6  # older undelivered alerts are reported to the engineers
    # Satu Data publication (serasan.publish.ckan) and personal data in exports (serasan.publish.pii)
    ckan_url: str | None = None  # the portal's base URL; unset: exports stay in the lake only
    ckan_token: str | None = field(default=None, repr=False)  # a CKAN API token
    pii_key: str | None = field(default=None, repr=False)  # HMAC key for pseudonyms
    # the public HTTP(S) address the lake's keys are served at (`<url>/<key>`): the DCAT records'
    # download URLs (serasan.publish.dcat); unset: the records give the lake location only
    public_lake_url: str | None = None
    # Serasan's own metrics (serasan.admin.metrics) as StatsD gauges; unset: not sent
    statsd_host: str | None = None
    statsd_port: int = 8125
    # a file is refused as written in another region scheme when under `region_match_min` of its
    # distinct region values resolve under the declared scheme and at least `region_other_min`
    # under another one (serasan.parse.regions)
    region_match_min: float = 0.5
    region_other_min: float = 0.9
    # a citizen-voice KPI (`min_count: voice` in catalog/kpis.yaml: an average rating, a share
    # of positive reviews or of complaints followed up) counted from fewer reviews or complaints
    # than this in a period is withheld, and marked "terlalu sedikit data" (serasan.publish.kpi)
    voice_min_reviews: int = VOICE_MIN_REVIEWS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, home: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("SERASAN_HOME", home or DEFAULT_HOME))
        endpoint = env.get("SERASAN_S3_ENDPOINT") or None
        return cls(
            lake_url=env.get("SERASAN_LAKE_URL") or str(home / "lake"),
            warehouse_url=env.get("SERASAN_WAREHOUSE_URL") or f"sqlite:///{home / 'warehouse.db'}",
            s3_endpoint=endpoint,
            s3_access_key=env.get("SERASAN_S3_ACCESS_KEY") or None,
            s3_secret_key=env.get("SERASAN_S3_SECRET_KEY") or None,
            s3_region=env.get("SERASAN_S3_REGION", "us-east-1"),
            s3_secure=env.get("SERASAN_S3_SECURE", "false").lower() in ("1", "true", "yes"),
            connect_timeout_s=float(env.get("SERASAN_CONNECT_TIMEOUT_S") or 10),
            s3_read_timeout_s=float(env.get("SERASAN_S3_READ_TIMEOUT_S") or 60),
            load_lock_timeout_s=float(env.get("SERASAN_LOAD_LOCK_TIMEOUT_S") or 300),
            lang=env.get("SERASAN_LANG", "id"),
            smtp_host=env.get("SERASAN_SMTP_HOST") or None,
            smtp_port=int(env["SERASAN_SMTP_PORT"]) if env.get("SERASAN_SMTP_PORT") else None,
            smtp_user=env.get("SERASAN_SMTP_USER") or None,
            smtp_password=env.get("SERASAN_SMTP_PASSWORD") or None,
            smtp_from=env.get("SERASAN_SMTP_FROM") or "serasan@localhost",
            smtp_starttls=(
                env["SERASAN_SMTP_STARTTLS"].lower() in ("1", "true", "yes")
                if env.get("SERASAN_SMTP_STARTTLS")
                else None
            ),
            webhook_url=env.get("SERASAN_WEBHOOK_URL") or None,
            webhook_token=env.get("SERASAN_WEBHOOK_TOKEN") or None,
            engineer_email=env.get("SERASAN_ENGINEER_EMAIL") or None,
            walidata_emails=tuple(
                sorted(
                    (k.removeprefix(WALIDATA_PREFIX).lower(), v)
                    for k, v in env.items()
                    if k.startswith(WALIDATA_PREFIX) and v
                )
            ),
            late_grace_days=int(env.get("SERASAN_LATE_GRACE_DAYS") or 7),
            outbox_max_age_hours=int(env.get("SERASAN_OUTBOX_MAX_AGE_HOURS") or 6),
            ckan_url=env.get("SERASAN_CKAN_URL") or None,
            ckan_token=env.get("SERASAN_CKAN_TOKEN") or None,
            pii_key=env.get("SERASAN_PII_KEY") or None,
            public_lake_url=_http_url(
                env.get("SERASAN_PUBLIC_LAKE_URL"), "SERASAN_PUBLIC_LAKE_URL"
            ),
            statsd_host=env.get("SERASAN_STATSD_HOST") or None,
            statsd_port=int(env.get("SERASAN_STATSD_PORT") or 8125),
            region_match_min=_share(env, "SERASAN_REGION_MATCH_MIN", 0.5),
            region_other_min=_share(env, "SERASAN_REGION_OTHER_MIN", 0.9),
            voice_min_reviews=_count(env, "SERASAN_VOICE_MIN_REVIEWS", VOICE_MIN_REVIEWS),
        )

    @property
    def starttls(self) -> bool:
        """STARTTLS unless told otherwise whenever we log in: a password never travels in clear."""
        return bool(self.smtp_user) if self.smtp_starttls is None else self.smtp_starttls

    @property
    def smtp_port_or_default(self) -> int:
        return self.smtp_port or (587 if self.starttls else 25)

    def walidata_email(self, regency_slug: str) -> list[str]:
        """The walidata's address(es) for a regency from `SERASAN_WALIDATA_EMAIL_<SLUG>`."""
        found = dict(self.walidata_emails).get(regency_slug.lower(), "")
        return [a.strip() for a in found.split(",") if a.strip()]

    def as_env(self) -> dict[str, str]:
        """The same settings as environment variables, for a child process or a DAG run."""
        env = {
            "SERASAN_LAKE_URL": self.lake_url,
            "SERASAN_WAREHOUSE_URL": self.warehouse_url,
            "SERASAN_S3_REGION": self.s3_region,
            "SERASAN_LANG": self.lang,
            "SERASAN_S3_SECURE": "true" if self.s3_secure else "false",
            "SERASAN_CONNECT_TIMEOUT_S": str(self.connect_timeout_s),
            "SERASAN_S3_READ_TIMEOUT_S": str(self.s3_read_timeout_s),
            "SERASAN_LOAD_LOCK_TIMEOUT_S": str(self.load_lock_timeout_s),
            "SERASAN_LATE_GRACE_DAYS": str(self.late_grace_days),
            "SERASAN_OUTBOX_MAX_AGE_HOURS": str(self.outbox_max_age_hours),
            "SERASAN_REGION_MATCH_MIN": str(self.region_match_min),
            "SERASAN_REGION_OTHER_MIN": str(self.region_other_min),
            "SERASAN_VOICE_MIN_REVIEWS": str(self.voice_min_reviews),
        }
        for key, value in (
            ("SERASAN_S3_ENDPOINT", self.s3_endpoint),
            ("SERASAN_S3_ACCESS_KEY", self.s3_access_key),
            ("SERASAN_S3_SECRET_KEY", self.s3_secret_key),
            ("SERASAN_SMTP_HOST", self.smtp_host),
            ("SERASAN_SMTP_PORT", str(self.smtp_port or "")),
            ("SERASAN_SMTP_USER", self.smtp_user),
            ("SERASAN_SMTP_PASSWORD", self.smtp_password),
            ("SERASAN_WEBHOOK_URL", self.webhook_url),
            ("SERASAN_WEBHOOK_TOKEN", self.webhook_token),
            ("SERASAN_ENGINEER_EMAIL", self.engineer_email),
            ("SERASAN_CKAN_URL", self.ckan_url),
            ("SERASAN_CKAN_TOKEN", self.ckan_token),
            ("SERASAN_PII_KEY", self.pii_key),
            ("SERASAN_PUBLIC_LAKE_URL", self.public_lake_url),
            ("SERASAN_STATSD_HOST", self.statsd_host),
        ):
            if value:
                env[key] = value
        if self.smtp_host:
            env["SERASAN_SMTP_FROM"] = self.smtp_from
            if self.smtp_starttls is not None:
                env["SERASAN_SMTP_STARTTLS"] = "true" if self.smtp_starttls else "false"
        if self.statsd_host:
            env["SERASAN_STATSD_PORT"] = str(self.statsd_port)
        for slug, address in self.walidata_emails:
            env[WALIDATA_PREFIX + slug.upper()] = address
        return env

    def describe(self) -> str:
        """Human summary with the password of the warehouse URL masked."""
        wh = make_url(self.warehouse_url).render_as_string(hide_password=True)
        lake = self.lake_url + (f" via {self.s3_endpoint}" if self.s3_endpoint else "")
        out = f"lake: {lake}\nwarehouse: {wh}"
        if self.smtp_host:
            out += (
                f"\nsmtp: {self.smtp_host}:{self.smtp_port_or_default}"
                f"{' (STARTTLS)' if self.starttls else ''} from {self.smtp_from}"
            )
        if self.webhook_url:
            out += f"\nwebhook: {safe_url(self.webhook_url)}"
        if self.ckan_url:
            out += f"\nckan: {safe_url(self.ckan_url)}"
        return out


def safe_url(url: str) -> str:
    """A URL without its user info, query or fragment: tokens often hide there."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _http_url(raw: str | None, name: str) -> str | None:
    """An http(s) URL, None when unset; ValueError naming the variable otherwise."""
    text = (raw or "").strip()
    if text and not text.lower().startswith(("http://", "https://")):
        raise ValueError(f"{name}={text!r}: expected an http:// or https:// address")
    return text or None


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    """A share between 0 and 1 (`0.5`, or `50%`); ValueError naming the variable otherwise."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected a share such as 0.5 or 50%") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{name}={text!r}: expected a share between 0 and 1 (or 0% and 100%)")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of 1 or more; ValueError naming the variable otherwise."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected a whole number such as 20") from None
    if value < 1:
        raise ValueError(f"{name}={text!r}: expected a whole number of 1 or more")
    return value
