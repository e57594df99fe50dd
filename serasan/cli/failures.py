"""What a command says when it fails: one line on the terminal, the traceback in a log file.

An operator who runs `serasan ingest` while MinIO is down should read "the lake's S3 server at
minio:9000 does not answer", not 40 lines of urllib3. `explain` recognises the outages Serasan
meets (S3, the warehouse database, SMTP, CKAN, and a timeout of any of them) by walking the
exception chain, and says which service, at which address (never with a secret), and what to
check; a CKAN portal that stayed down through the retries (`serasan.publish.ckan.PortalDown`)
also says that its periods wait, pending, with the exports in the lake. Any other error is one
line too. The traceback goes to a log file under `SERASAN_HOME/logs/` whose path the line
prints; `--verbose` shows it on the terminal instead.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from serasan.common.paths import DEFAULT_HOME


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _database() -> str:
    """The warehouse's address from SERASAN_WAREHOUSE_URL, without user or password."""
    from sqlalchemy.engine import make_url

    raw = os.environ.get("SERASAN_WAREHOUSE_URL", "")
    try:
        url = make_url(raw)
    except Exception:  # noqa: BLE001 - an unreadable URL is described as such
        return "SERASAN_WAREHOUSE_URL"
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database}"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _s3() -> str:
    return os.environ.get("SERASAN_S3_ENDPOINT") or "SERASAN_S3_ENDPOINT (not set)"


def _host(url: str | None) -> str:
    if not url:
        return "(not set)"
    parts = urlsplit(url if "//" in url else f"//{url}")
    return f"{parts.hostname or ''}:{parts.port}" if parts.port else (parts.hostname or url)


def explain(exc: BaseException) -> str:
    """One line naming the service that failed and what to check; the error itself otherwise."""
    chain = list(_chain(exc))
    names = [f"{type(e).__module__}.{type(e).__name__}" for e in chain]
    timeout = any(
        "Timeout" in n or "timed out" in str(e) for n, e in zip(names, chain, strict=True)
    )
    slow = " did not answer in time (SERASAN_CONNECT_TIMEOUT_S / SERASAN_S3_READ_TIMEOUT_S)"
    down = " does not answer"
    portal = next((e for e in chain if type(e).__name__ == "PortalDown"), None)
    if portal is not None:  # serasan.publish.ckan: every period recorded as pending, then raised
        where = getattr(portal, "portal", None) or _host(os.environ.get("SERASAN_CKAN_URL"))
        how = slow if getattr(portal, "timed_out", False) else f" {getattr(portal, 'outage', '')}"
        pending = sum(len(p) for p in getattr(portal, "pending", {}).values())
        return (
            f"the CKAN portal at {where}{how.rstrip()}: {pending} period(s) left pending, the "
            "exports stay in the lake and the next run sends them; check that the portal runs "
            "and SERASAN_CKAN_URL"
        )
    refused = next((e for e in _chain(exc) if type(e).__name__ == "S3Error"), None)
    if refused is not None:  # the server answered, and said no
        return (
            f"the lake's S3 server at {_s3()} refused: {getattr(refused, 'code', '')} "
            f"{getattr(refused, 'message', '')}".rstrip()
            + ": check SERASAN_S3_ACCESS_KEY / SERASAN_S3_SECRET_KEY and the bucket policy"
        )
    if any(n.startswith("urllib3.") for n in names):
        return (
            f"the lake's S3 server at {_s3()}{slow if timeout else down}: check that it runs and "
            "that SERASAN_S3_ENDPOINT and SERASAN_S3_SECURE point at it"
        )
    if any(n.startswith(("psycopg.", "sqlalchemy.exc.OperationalError")) for n in names):
        first = next(
            e for e in _chain(exc) if type(e).__module__.startswith(("psycopg", "sqlalchemy"))
        )
        reason = str(first).splitlines()[0][:160]
        return (
            f"the warehouse database at {_database()}{slow if timeout else down} ({reason}): "
            "check that PostgreSQL runs and SERASAN_WAREHOUSE_URL"
        )
    if any(n.startswith("smtplib.") for n in names):
        host = os.environ.get("SERASAN_SMTP_HOST", "(not set)")
        return f"the SMTP server at {host}{down}: check SERASAN_SMTP_HOST and SERASAN_SMTP_PORT"
    if any("ckan" in n.lower() for n in names):
        return (
            f"the CKAN portal at {_host(os.environ.get('SERASAN_CKAN_URL'))} failed ({exc}): "
            "check SERASAN_CKAN_URL and SERASAN_CKAN_TOKEN"
        )
    if any(isinstance(e, socket.timeout | TimeoutError) for e in _chain(exc)):
        return f"a service did not answer in time: {exc}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


def log_traceback(exc: BaseException, home: Path | None = None) -> Path | None:
    """Write the traceback to SERASAN_HOME/logs/serasan-<time>.log; None if it cannot be."""
    folder = Path(os.environ.get("SERASAN_HOME", home or DEFAULT_HOME)) / "logs"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"serasan-{stamp}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"serasan {' '.join(sys.argv[1:])}\n\n" + "".join(traceback.format_exception(exc)),
            encoding="utf-8",
        )
    except OSError:
        return None
    return path


def report(exc: BaseException, verbose: bool) -> int:
    """Say what failed in one line (and where the traceback is); the exit code, 1."""
    if verbose:
        traceback.print_exception(exc)
    line = explain(exc)
    path = None if verbose else log_traceback(exc)
    where = f" (traceback: {path})" if path else ""
    print(f"error: {line}{where}", file=sys.stderr)
    return 1
