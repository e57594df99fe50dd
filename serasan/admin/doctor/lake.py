"""The lake: the folder writable, or the S3 bucket present and a probe object written and
read back (`PROBE_KEY`, overwritten on every run and never deleted)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from serasan.admin.doctor.report import Check
from serasan.admin.doctor.scrub import Scrubber, first_line, reason
from serasan.config.settings import Settings

PROBE_KEY = "_doctor/probe.txt"


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


def check_lake(settings: Settings, scrub: Scrubber, timeout: float) -> Check:
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
            f"({scrub(first_line(exc))}): give the Serasan user write access to it",
            {"root": str(root)},
        )
    return Check(
        "lake", "ok", f"lake folder {root}: {PROBE_KEY} written and read back", {"root": str(root)}
    )


def _check_s3(settings: Settings, scrub: Scrubber, timeout: float) -> Check:
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
            f"cannot reach S3 at {where} ({scrub(reason(exc))}) while "
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
