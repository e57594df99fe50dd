"""`serasan doctor`: check, with the current settings, everything a deployment needs, and say
plainly what is wrong and how to fix it.

Checks, in order: the catalog (loaded, then the same checks as `serasan catalog validate`), the
lake (folder writable, or S3 bucket present and a probe object written and read back), the
warehouse (reachable, Alembic at head, fact tables as the catalog wants them) and, on
PostgreSQL, the role connected (can it write meta and core, can it upgrade), SMTP (connect,
EHLO, STARTTLS or implicit TLS as `delivery` does, login; no mail is sent), CKAN (status_show,
the regencies' organizations, and whether the token may create datasets in them), the PII key,
and backups (the last warehouse dump and lake copy).

Each check is ok, warn or fail with one sentence naming what (host:port, bucket, revision) and
the fix. Nothing is changed: no bucket or database is created, no migration runs. One object is
written: the lake probe `_doctor/probe.txt`, overwritten on every run and never deleted, since
retention is the only code that deletes from the lake (tests/test_retention.py holds it to that).
Every network call has a short timeout, so a dead service answers in seconds.

Secrets never appear in the output: messages are built from host names, ports, user names,
bucket names and revisions only, and every error text from a library is scrubbed of each
secret in the settings before it is used (a CKAN portal may echo a refused token back).
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from serasan.common.clock import JAKARTA
from serasan.config.settings import Settings, safe_url
from serasan.quality.suites import load_validated_catalog

TIMEOUT = 4.0  # seconds, per network call
PROBE_KEY = "_doctor/probe.txt"
STATUSES = ("ok", "warn", "fail")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
BACKUP_MAX_AGE_DAYS = 2  # the backup DAG runs daily: older than this, it has stopped


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class _Scrubber:
    """Removes every secret of the settings from a text."""

    def __init__(self, settings: Settings):
        url = make_url(settings.warehouse_url)
        found = [
            settings.s3_secret_key,
            settings.smtp_password,
            settings.ckan_token,
            settings.webhook_token,
            settings.pii_key,
            url.password,
        ]
        self.secrets = sorted({str(s) for s in found if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


# ------------------------------------------------------------------------ catalog


def check_catalog(catalog_dir: Path, expectations_dir: Path) -> tuple[Check, Any]:
    from serasan.config.catalog import CatalogError
    from serasan.publish.kpi import check_queries
    from serasan.quality.registry import check_registry_refs

    try:
        catalog = load_validated_catalog(catalog_dir, expectations_dir)
    except CatalogError as exc:
        return _catalog_fail(catalog_dir, exc.problems), None
    except Exception as exc:  # an unreadable folder, a YAML the loader chokes on
        return _catalog_fail(catalog_dir, [f"{catalog_dir}: {_first_line(exc)}"]), None
    problems = check_registry_refs(catalog) + check_queries(catalog)
    if problems:
        return _catalog_fail(catalog_dir, problems), catalog
    return Check(
        "catalog",
        "ok",
        f"catalog OK: {len(catalog.regencies)} regencies, "
        f"{len(catalog.datasets)} datasets, {len(catalog.kpis)} KPIs ({catalog_dir})",
        {"root": str(catalog_dir)},
    ), catalog


def _catalog_fail(root: Path, problems: list[str]) -> Check:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Check(
        "catalog",
        "fail",
        f"catalog at {root} has {len(problems)} problem(s): "
        f"{problems[0]}{more}; fix them (`serasan catalog validate` lists all)",
        {"root": str(root), "problems": problems},
    )


# ------------------------------------------------------------------------ lake


def _minio(settings: Settings, timeout: float) -> Any:
    """A minio client like the lake's (keyword arguments), with short timeouts, no retries."""
    import urllib3
    from minio import Minio

    kwargs: dict[str, Any] = {}
    try:
        import certifi

        kwargs = {"cert_reqs": "CERT_REQUIRED", "ca_certs": certifi.where()}
    except ImportError:
        pass
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        retries=urllib3.Retry(total=0),
        **kwargs,
    )
    return Minio(
        endpoint=settings.s3_endpoint or "",
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        region=settings.s3_region,
        secure=settings.s3_secure,
        http_client=http,
    )


def _probe_bytes() -> bytes:
    return f"serasan doctor {uuid.uuid4().hex} {dt.datetime.now(dt.UTC).isoformat()}\n".encode()


def check_lake(settings: Settings, scrub: _Scrubber, timeout: float) -> Check:
    if settings.lake_url.startswith("s3://"):
        return _check_s3(settings, scrub, timeout)
    from serasan.lake.store import LocalLake

    root = Path(settings.lake_url.removeprefix("file://"))
    if not root.exists():
        return Check(
            "lake",
            "warn",
            f"lake folder {root} does not exist yet (it is created on "
            "first use); if data was loaded before, SERASAN_LAKE_URL points at the "
            "wrong place",
            {"root": str(root)},
        )
    if not root.is_dir():
        return Check(
            "lake",
            "fail",
            f"lake path {root} is a file, not a folder: fix SERASAN_LAKE_URL",
            {"root": str(root)},
        )
    try:
        lake = LocalLake(root)
        data = _probe_bytes()
        lake.put(PROBE_KEY, data)
        if lake.get(PROBE_KEY) != data:
            raise OSError("the probe read back differs from what was written")
    except OSError as exc:
        return Check(
            "lake",
            "fail",
            f"lake folder {root} is not writable "
            f"({scrub(_first_line(exc))}): give the Serasan user write access to it",
            {"root": str(root)},
        )
    return Check(
        "lake", "ok", f"lake folder {root}: {PROBE_KEY} written and read back", {"root": str(root)}
    )


def _check_s3(settings: Settings, scrub: _Scrubber, timeout: float) -> Check:
    import io

    from minio.error import S3Error

    bucket = settings.lake_url.removeprefix("s3://").split("/", 1)[0]
    info = {"bucket": bucket, "endpoint": settings.s3_endpoint}
    if not settings.s3_endpoint:
        return Check(
            "lake",
            "fail",
            f"SERASAN_LAKE_URL={settings.lake_url} needs SERASAN_S3_ENDPOINT (host:port of MinIO)",
            info,
        )
    where = f"{'https' if settings.s3_secure else 'http'}://{settings.s3_endpoint}"
    client = _minio(settings, timeout)
    step = "looking for the bucket"
    try:
        if not client.bucket_exists(bucket_name=bucket):
            return Check(
                "lake",
                "fail",
                f"bucket {bucket} does not exist on {where}: create "
                f"it (mc mb <alias>/{bucket}) or fix SERASAN_LAKE_URL",
                info,
            )
        data = _probe_bytes()
        step = f"writing {PROBE_KEY}"
        client.put_object(
            bucket_name=bucket,
            object_name=PROBE_KEY,
            data=io.BytesIO(data),
            length=len(data),
            content_type="text/plain",
        )
        step = f"reading {PROBE_KEY}"
        resp = client.get_object(bucket_name=bucket, object_name=PROBE_KEY)
        try:
            back = resp.read()
        finally:
            resp.close()
            resp.release_conn()
    except S3Error as exc:
        if exc.code in (
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "AccessDenied",
            "InvalidToken",
        ):
            fix = (
                "check SERASAN_S3_ACCESS_KEY and SERASAN_S3_SECRET_KEY, and that the user's "
                f"policy allows get and put on {bucket}"
            )
        else:
            fix = "see the MinIO server log"
        return Check(
            "lake",
            "fail",
            f"S3 at {where} answered {exc.code} while {step} in bucket {bucket}: {fix}",
            info,
        )
    except Exception as exc:  # urllib3: refused, timed out, TLS
        return Check(
            "lake",
            "fail",
            f"cannot reach S3 at {where} ({scrub(_reason(exc))}) while "
            f"{step}: is MinIO running there, and is SERASAN_S3_ENDPOINT "
            f"({'HTTPS' if settings.s3_secure else 'HTTP'}) right?",
            info,
        )
    if back != data:
        return Check(
            "lake",
            "fail",
            f"bucket {bucket} on {where} returned other bytes for "
            f"{PROBE_KEY} than were written: check the server or proxy",
            info,
        )
    return Check(
        "lake", "ok", f"bucket {bucket} on {where}: {PROBE_KEY} written and read back", info
    )


def _reason(exc: BaseException) -> str:
    """The innermost cause of a connection error, in a few words."""
    inner: BaseException = exc
    while True:
        nxt = getattr(inner, "reason", None) or inner.__cause__ or inner.__context__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    text = _first_line(inner)
    for known in (
        "Connection refused",
        "timed out",
        "Name or service not known",
        "No route to host",
        "certificate verify failed",
    ):
        if known.lower() in text.lower():
            return known.lower()
    return f"{type(inner).__name__}: {text}"[:300]


# ------------------------------------------------------------------------ warehouse


def check_warehouse(
    settings: Settings, catalog: Any, scrub: _Scrubber, timeout: float
) -> list[Check]:
    from sqlalchemy.exc import DBAPIError

    from serasan.warehouse.db import make_engine

    url = make_url(settings.warehouse_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database or ""
        where = f"SQLite {db or '(in memory)'}"
        if not db or db == ":memory:":
            return [
                Check(
                    "warehouse",
                    "fail",
                    "SERASAN_WAREHOUSE_URL is an in-memory SQLite "
                    "database, which keeps nothing: give a file path",
                )
            ]
        if not Path(db).is_file():
            return [
                Check(
                    "warehouse",
                    "fail",
                    f"SQLite warehouse {db} does not exist: run "
                    "`serasan warehouse upgrade` to create it, or fix "
                    "SERASAN_WAREHOUSE_URL",
                    {"database": db},
                )
            ]
        engine = make_engine(settings.warehouse_url)
    elif backend == "postgresql":
        host, port, name = url.host or "localhost", url.port or 5432, url.database
        where = f"PostgreSQL {host}:{port}/{name}"
        timed = url.update_query_dict({"connect_timeout": str(max(1, int(timeout)))})
        engine = make_engine(timed.render_as_string(hide_password=False))
    else:
        return [
            Check(
                "warehouse",
                "fail",
                f"SERASAN_WAREHOUSE_URL uses {backend}: Serasan supports PostgreSQL and SQLite",
            )
        ]
    info = {"database": make_url(settings.warehouse_url).render_as_string(hide_password=True)}
    try:
        with engine.connect() as conn:  # separate sessions: one failed query spoils no other
            checks = [_schema_state(conn, catalog, where, info)]
        if backend == "postgresql":
            with engine.connect() as conn:
                checks.append(_role(conn, where))
        return checks
    except DBAPIError as exc:
        return [
            Check(
                "warehouse",
                "fail",
                _pg_problem(url, scrub(_first_line(exc.orig or exc)), where),
                info,
            )
        ]
    finally:
        engine.dispose()


def _pg_problem(url: Any, error: str, where: str) -> str:
    user, name = url.username or "(default user)", url.database
    host, port = url.host or "localhost", url.port or 5432
    low = error.lower()
    if f'database "{name}" does not exist' in low:
        return (
            f"database {name} does not exist on {host}:{port}: create it (createdb -h "
            f"{host} -p {port} {name}) and run `serasan warehouse upgrade`, or fix "
            "SERASAN_WAREHOUSE_URL"
        )
    if (
        "password authentication failed" in low
        or "no pg_hba.conf entry" in low
        or ("role" in low and "does not exist" in low)
    ):
        return (
            f"{host}:{port} refused user {user} for database {name} ({error}): check the "
            "user and password in SERASAN_WAREHOUSE_URL"
        )
    if "refused" in low or "timeout" in low or "timed out" in low or "could not" in low:
        return (
            f"cannot connect to PostgreSQL at {host}:{port} ({error}): is the server "
            "running there, and is SERASAN_WAREHOUSE_URL right?"
        )
    return f"{where}: {error}"


def _schema_state(conn: Any, catalog: Any, where: str, info: dict[str, Any]) -> Check:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    from serasan.warehouse.db import alembic_config
    from serasan.warehouse.evolution import plan
    from serasan.warehouse.facts import fact_table
    from serasan.warehouse.history import history_table, merge_log_table
    from serasan.warehouse.names import has_schemas

    dialect = conn.dialect.name
    opts = (
        {"version_table": "alembic_version", "version_table_schema": "meta"}
        if has_schemas(dialect)
        else {"version_table": "meta__alembic_version"}
    )
    script = ScriptDirectory.from_config(alembic_config())
    heads = sorted(script.get_heads())
    try:
        current = sorted(MigrationContext.configure(conn, opts=opts).get_current_heads())
    except DBAPIError as exc:
        return Check(
            "warehouse",
            "fail",
            f"{where}: cannot read the Alembic version "
            f"({_first_line(exc.orig or exc)}): the connected user needs to read "
            "meta.alembic_version",
            info,
        )
    info = {**info, "revision": current, "head": heads}
    if not current:
        return Check(
            "warehouse",
            "fail",
            f"{where} has no Alembic version (an empty "
            "database): run `serasan warehouse upgrade` as a member of serasan_owner",
            info,
        )
    if current != heads:
        unknown = [r for r in current if _revision(script, r) is None]
        if unknown:
            return Check(
                "warehouse",
                "fail",
                f"{where} is at revision {', '.join(unknown)}, "
                f"which this code does not know (its head is {', '.join(heads)}): it "
                "was migrated by a newer Serasan; deploy that version",
                info,
            )
        return Check(
            "warehouse",
            "fail",
            f"{where} is at revision {', '.join(current)}, the "
            f"code needs {', '.join(heads)}: run `serasan warehouse upgrade` as a "
            "member of serasan_owner",
            info,
        )
    if catalog is None:
        return Check(
            "warehouse",
            "warn",
            f"{where} is at revision {', '.join(current)} "
            "(head); fact tables not checked because the catalog does not load",
            info,
        )
    try:
        changes = plan(conn, catalog)
        insp = inspect(conn)
        wanted = [merge_log_table(dialect)]
        for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
            wanted += [fact_table(ds, dialect), history_table(ds, dialect)]
        missing = [
            f"{t.schema}.{t.name}" if t.schema else t.name
            for t in wanted
            if not insp.has_table(t.name, schema=t.schema)
        ]
    except DBAPIError as exc:
        return Check(
            "warehouse",
            "fail",
            f"{where}: cannot read the fact tables' contract ({_first_line(exc.orig or exc)})",
            info,
        )
    refused = [c.message for c in changes if c.refused]
    pending = [c.message for c in changes if not c.refused]
    info = {**info, "refused": refused, "pending": pending, "missing_tables": missing}
    if refused:
        return Check(
            "warehouse",
            "fail",
            f"{where}: the catalog changes fact tables in ways "
            f"that need a versioned migration: {refused[0]}"
            + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""),
            info,
        )
    if missing or pending:
        first = f"table {missing[0]} does not exist" if missing else pending[0]
        n = len(missing) + len(pending)
        return Check(
            "warehouse",
            "fail",
            f"{where} is at revision {', '.join(current)} but "
            f"behind the catalog ({first}{f', and {n - 1} more' if n > 1 else ''}): "
            "run `serasan warehouse upgrade` as a member of serasan_owner",
            info,
        )
    return Check(
        "warehouse",
        "ok",
        f"{where} is at revision {', '.join(current)} (head), and "
        f"its {len(catalog.datasets)} fact tables match the catalog",
        info,
    )


def _revision(script: Any, rev: str) -> Any:
    try:
        return script.get_revision(rev)
    except Exception:  # alembic raises for an id it has never seen
        return None


def _role(conn: Any, where: str) -> Check:
    from sqlalchemy import text

    from serasan.warehouse.roles import LOADER, LOADER_READ_ONLY, OWNER, READER

    user, superuser = conn.execute(
        text("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
    ).one()
    groups = [
        r
        for r in (OWNER, LOADER, READER)
        if conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :r) "
                "AND pg_has_role(current_user, :r, 'MEMBER')"
            ),
            {"r": r},
        ).scalar()
    ]
    blocked = conn.execute(
        text(
            "SELECT n.nspname, c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('meta', 'core') AND c.relkind IN ('r', 'p') "
            "AND NOT (has_schema_privilege(n.oid, 'USAGE') "
            "AND has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE') "
            "AND has_table_privilege(c.oid, 'DELETE')) ORDER BY 1, 2"
        )
    ).all()
    blocked = [f"{s}.{t}" for s, t in blocked if (s, t) not in LOADER_READ_ONLY]
    upgrades = bool(superuser) or OWNER in groups
    who = (
        f"{user} (superuser)"
        if superuser
        else f"{user} (member of {', '.join(groups)})"
        if groups
        else f"{user} (member of no serasan role)"
    )
    info = {
        "user": user,
        "superuser": bool(superuser),
        "member_of": groups,
        "cannot_write": blocked,
        "can_upgrade": upgrades,
    }
    if blocked:
        schemas = sorted({b.split(".")[0] for b in blocked})
        return Check(
            "warehouse role",
            "fail",
            f"{where}: connected as {who}, which may not "
            f"write {len(blocked)} table(s) in {' and '.join(schemas)} (e.g. "
            f"{blocked[0]}): the DAGs need a login in {LOADER} (GRANT {LOADER} TO "
            f"{user})",
            info,
        )
    can = f"may write meta and core{', and may upgrade' if upgrades else ''}"
    if superuser:
        return Check(
            "warehouse role",
            "warn",
            f"{where}: connected as {who}: it {can}, but the "
            f"DAGs should log in as a member of {LOADER} (least privilege)",
            info,
        )
    return Check("warehouse role", "ok", f"{where}: connected as {who}: it {can}", info)


# ------------------------------------------------------------------------ SMTP


def check_smtp(settings: Settings, scrub: _Scrubber, timeout: float) -> Check:
    if not settings.smtp_host:
        also = " (the webhook still gets them)" if settings.webhook_url else ""
        return Check(
            "smtp",
            "warn",
            "SERASAN_SMTP_HOST is not set: alert e-mails wait in the "
            f"outbox (meta.alert_delivery) until it is{also}",
        )
    host, port = settings.smtp_host, settings.smtp_port_or_default
    where = f"SMTP {host}:{port}"
    info = {
        "host": host,
        "port": port,
        "user": settings.smtp_user,
        "tls": "implicit" if port == 465 else "starttls" if settings.starttls else "none",
    }
    tls = ssl.create_default_context()
    try:
        conn: smtplib.SMTP = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls)
            if port == 465
            else smtplib.SMTP(host, port, timeout=timeout)
        )
    except (OSError, smtplib.SMTPException) as exc:
        return Check(
            "smtp",
            "fail",
            f"cannot connect to {where} ({scrub(_reason(exc))}): alert "
            "e-mails wait in the outbox until it answers; check SERASAN_SMTP_HOST and "
            "SERASAN_SMTP_PORT",
            info,
        )
    steps = ["implicit TLS"] if port == 465 else []
    try:
        code, _ = conn.ehlo()
        if code != 250:
            return Check("smtp", "fail", f"{where} answered EHLO with {code}: see its log", info)
        steps.append("EHLO")
        if port != 465 and settings.starttls:
            try:
                conn.starttls(context=tls)
                conn.ehlo()
            except smtplib.SMTPNotSupportedError:
                return Check(
                    "smtp",
                    "fail",
                    f"{where} does not offer STARTTLS: use port 465 "
                    "(implicit TLS), or set SERASAN_SMTP_STARTTLS=false only on a "
                    "trusted network",
                    info,
                )
            except ssl.SSLError as exc:
                return Check(
                    "smtp",
                    "fail",
                    f"TLS with {where} failed ({scrub(_first_line(exc))})"
                    f": its certificate must be valid for {host}",
                    info,
                )
            steps.append("STARTTLS")
        if settings.smtp_user:
            try:
                conn.login(settings.smtp_user, settings.smtp_password or "")
            except smtplib.SMTPAuthenticationError as exc:
                said = (
                    exc.smtp_error.decode(errors="replace")
                    if isinstance(exc.smtp_error, bytes)
                    else str(exc.smtp_error)
                )
                return Check(
                    "smtp",
                    "fail",
                    f"{where} refused the login of "
                    f"{settings.smtp_user} ({exc.smtp_code} {scrub(said).strip()}): "
                    "check SERASAN_SMTP_USER and SERASAN_SMTP_PASSWORD",
                    info,
                )
            except smtplib.SMTPNotSupportedError:
                return Check(
                    "smtp",
                    "fail",
                    f"{where} offers no AUTH (before TLS, servers "
                    "often hide it): enable STARTTLS or unset SERASAN_SMTP_USER",
                    info,
                )
            steps.append(f"login as {settings.smtp_user}")
    except (OSError, smtplib.SMTPException) as exc:
        return Check(
            "smtp",
            "fail",
            f"{where} dropped the session ({scrub(_reason(exc))}): see its log",
            info,
        )
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
    done = f"{where}: {', '.join(steps)} ok; no mail was sent (from {settings.smtp_from})"
    if settings.smtp_user and info["tls"] == "none" and host not in LOOPBACK:
        return Check(
            "smtp",
            "warn",
            f"{done}, but the password travels in clear: set "
            "SERASAN_SMTP_STARTTLS=true or use port 465",
            info,
        )
    return Check("smtp", "ok", done, info)


# ------------------------------------------------------------------------ CKAN


def check_ckan(settings: Settings, catalog: Any, scrub: _Scrubber, timeout: float) -> Check:
    if not settings.ckan_url:
        return Check(
            "ckan",
            "warn",
            "SERASAN_CKAN_URL is not set: exports stay in the lake "
            "(exports/<regency>/...) and nothing is published to a CKAN portal",
        )
    portal = safe_url(settings.ckan_url).rstrip("/")
    info: dict[str, Any] = {"portal": portal}
    if not settings.ckan_token:
        return Check(
            "ckan",
            "fail",
            f"SERASAN_CKAN_TOKEN is not set, so publishing to {portal} "
            "is refused: give the API token (or the serasan_ckan connection's "
            "password)",
            info,
        )
    import requests
    from ckanapi import RemoteCKAN
    from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound

    ckan = RemoteCKAN(
        settings.ckan_url.rstrip("/"), apikey=settings.ckan_token, session=requests.Session()
    )
    orgs = (
        sorted({r.ckan_org for r in catalog.regencies.values() if r.ckan_org})
        if catalog is not None
        else []
    )
    action = "status_show"
    try:
        status = ckan.call_action("status_show", {}, requests_kwargs={"timeout": timeout})
        info["ckan_version"] = status.get("ckan_version") if isinstance(status, dict) else None
        if catalog is None:
            return Check(
                "ckan",
                "warn",
                f"CKAN {info['ckan_version']} answers at {portal}; "
                "organizations not checked because the catalog does not load",
                info,
            )
        action = "organization_list"
        found = set(
            ckan.call_action(
                "organization_list", {"organizations": orgs}, requests_kwargs={"timeout": timeout}
            )
            or []
        )
        action = "organization_list_for_user"
        mine = (
            ckan.call_action(
                "organization_list_for_user",
                {"permission": "create_dataset"},
                requests_kwargs={"timeout": timeout},
            )
            or []
        )
    except NotAuthorized as exc:
        return Check(
            "ckan",
            "fail",
            f"CKAN at {portal} rejected the token on {action} "
            f"({scrub(_ckan_message(exc))}): set a valid SERASAN_CKAN_TOKEN (or the "
            "serasan_ckan connection's password)",
            info,
        )
    except NotFound:
        return Check(
            "ckan",
            "fail",
            f"{portal} has no CKAN action API ({action} not found): "
            "SERASAN_CKAN_URL must be the portal's base URL",
            info,
        )
    except requests.RequestException as exc:
        return Check(
            "ckan",
            "fail",
            f"cannot reach CKAN at {portal} ({scrub(_reason(exc))}): "
            "exports stay in the lake and publications stay pending until it answers; "
            "check SERASAN_CKAN_URL",
            info,
        )
    except CKANAPIError as exc:
        return Check(
            "ckan",
            "fail",
            f"CKAN at {portal} failed {action} "
            f"({scrub(_ckan_message(exc))}): check SERASAN_CKAN_URL and the portal",
            info,
        )
    names = {o.get("name") if isinstance(o, dict) else o for o in mine}
    info.update(
        {
            "organizations": orgs,
            "missing": sorted(set(orgs) - found),
            "not_editor": sorted(set(orgs) - names),
        }
    )
    unset = sorted(r.slug for r in catalog.regencies.values() if not r.ckan_org)
    if unset:
        return Check(
            "ckan",
            "fail",
            f"regency {', '.join(unset)} has no ckan_org in the "
            "catalog, so its datasets cannot be published: add it to "
            "catalog/regencies/",
            info,
        )
    if info["missing"]:
        return Check(
            "ckan",
            "fail",
            f"organization(s) {', '.join(info['missing'])} do not exist "
            f"on {portal}: create them there, or fix ckan_org in catalog/regencies/",
            info,
        )
    if info["not_editor"]:
        return Check(
            "ckan",
            "fail",
            f"the token's user may not create datasets in "
            f"{', '.join(info['not_editor'])} on {portal}: make it an editor of "
            "them (or the token is not valid and CKAN treats it as anonymous)",
            info,
        )
    return Check(
        "ckan",
        "ok",
        f"CKAN {info['ckan_version']} at {portal}: the token may publish into {', '.join(orgs)}",
        info,
    )


def _ckan_message(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    if isinstance(arg, dict):
        arg = arg.get("message") or arg.get("__type") or json.dumps(arg)[:200]
    return str(arg).splitlines()[0][:300] if str(arg) else type(exc).__name__


# ------------------------------------------------------------------------ PII key, backups


def check_pii(settings: Settings, catalog: Any) -> Check:
    from serasan.publish.pii import MIN_KEY_BYTES

    cols = sorted(
        f"{d.id}.{c.name}"
        for d in (catalog.datasets.values() if catalog else [])
        for c in d.columns
        if c.pii and c.pii_export == "pseudonym"
    )
    listed = f" ({', '.join(cols)})" if cols else ""
    info = {"pseudonym_columns": cols}
    if not settings.pii_key:
        return Check(
            "pii",
            "warn",
            f"SERASAN_PII_KEY is not set: pseudonym columns{listed} are "
            "dropped from exports; set a random key of 32 bytes or more (or the "
            "serasan_pii connection's password)",
            info,
        )
    size = len(settings.pii_key.encode("utf-8"))
    info["key_bytes"] = size
    if size < MIN_KEY_BYTES:
        return Check(
            "pii",
            "fail",
            f"SERASAN_PII_KEY has {size} bytes, pseudonyms need at "
            f"least {MIN_KEY_BYTES}, so exports of datasets with pseudonym "
            f"columns{listed} fail: set a random key of 32 bytes or more",
            info,
        )
    return Check(
        "pii",
        "ok",
        f"SERASAN_PII_KEY is set ({size} bytes): pseudonym "
        f"columns{listed} are exported as HMAC pseudonyms",
        info,
    )


def check_backups(settings: Settings, lake_ok: bool, env: Any = None) -> Check:

    from serasan.admin import backup
    from serasan.lake.store import open_lake

    if not lake_ok:
        return Check("backups", "warn", "backups not checked: the lake cannot be used")
    lake = open_lake(settings)
    today = dt.datetime.now(JAKARTA).date()
    dumps = backup.list_dumps(lake)
    target = backup.target_settings(settings, env)
    lake_days = sorted(
        k.split("/")[2] for k in lake.list(backup.LAKE_PREFIX) if k.endswith("/manifest.json")
    )
    info = {
        "last_dump": dumps[-1] if dumps else None,
        "last_lake_backup": lake_days[-1] if lake_days else None,
        "target": safe_url(target.lake_url)
        if target and "://" in target.lake_url
        else target.lake_url
        if target
        else None,
    }
    problems = []
    if not dumps:
        problems.append(
            "no warehouse dump in the lake yet (run `serasan backup`, and switch on "
            "the serasan__backup DAG)"
        )
    elif (today - dt.date.fromisoformat(dumps[-1]["day"])).days > BACKUP_MAX_AGE_DAYS:
        problems.append(
            f"the last warehouse dump is from {dumps[-1]['day']}: is the "
            "serasan__backup DAG running?"
        )
    if target is None:
        problems.append(
            f"{backup.TARGET_ENV} is not set, so the lake's objects are not backed up anywhere"
        )
    elif not lake_days or (today - dt.date.fromisoformat(lake_days[-1])).days > BACKUP_MAX_AGE_DAYS:
        problems.append(
            f"the lake was last copied to {info['target']} on "
            f"{lake_days[-1] if lake_days else 'no day yet'}"
        )
    if problems:
        return Check("backups", "warn", "; ".join(problems), info)
    return Check(
        "backups",
        "ok",
        f"last warehouse dump {dumps[-1]['day']} "
        f"({dumps[-1]['key']}, {dumps[-1]['size_bytes']} bytes); lake copied to "
        f"{info['target']} on {lake_days[-1]}",
        info,
    )


# ------------------------------------------------------------------------ all of it


def run_doctor(
    settings: Settings,
    catalog_dir: Path | None = None,
    expectations_dir: Path | None = None,
    *,
    timeout: float = TIMEOUT,
    env: Any = None,
) -> list[Check]:
    """Every check, in order; nothing raises for a broken service."""
    from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR

    scrub = _Scrubber(settings)
    catalog_check, catalog = check_catalog(
        Path(catalog_dir or CATALOG_DIR), Path(expectations_dir or EXPECTATIONS_DIR)
    )
    checks = [catalog_check]
    lake_ok = [False]

    def lake() -> list[Check]:
        found = check_lake(settings, scrub, timeout)
        lake_ok[0] = found.status == "ok"
        return [found]

    for name, run in (
        ("lake", lake),
        ("warehouse", lambda: check_warehouse(settings, catalog, scrub, timeout)),
        ("smtp", lambda: [check_smtp(settings, scrub, timeout)]),
        ("ckan", lambda: [check_ckan(settings, catalog, scrub, timeout)]),
        ("pii", lambda: [check_pii(settings, catalog)]),
        ("backups", lambda: [check_backups(settings, lake_ok[0], env)]),
    ):
        try:
            checks += run()
        except Exception as exc:  # a check's own bug must not hide the others
            checks.append(
                Check(
                    name,
                    "fail",
                    f"the {name} check crashed: {type(exc).__name__}: {scrub(_first_line(exc))}",
                )
            )
    for c in checks:
        c.message = scrub(c.message)
        c.details = json.loads(scrub(json.dumps(c.details, default=str)))
    return checks


def failed(checks: list[Check]) -> bool:
    return any(c.status == "fail" for c in checks)


def as_json(checks: list[Check]) -> str:
    return json.dumps(
        {"ok": not failed(checks), "checks": [asdict(c) for c in checks]},
        indent=2,
        ensure_ascii=False,
    )


def render(checks: list[Check]) -> str:
    fails = sum(c.status == "fail" for c in checks)
    warns = sum(c.status == "warn" for c in checks)
    head = (
        "serasan doctor: nothing fails" if not fails else f"serasan doctor: {fails} problem(s)"
    ) + (f", {warns} warning(s)" if warns else "")
    width = max(len(c.name) for c in checks)
    label = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    return "\n".join(
        [head] + [f"  {label[c.status]}  {c.name.ljust(width)}  {c.message}" for c in checks]
    )
