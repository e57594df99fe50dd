"""The lake port: a local folder (demo) or an S3/MinIO bucket (production), same interface.

Keys are POSIX-style (`raw/<dataset>/<sha256>/<file>`). Raw objects are written once and never
rewritten; `put(..., overwrite=False)` enforces that for callers that need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from serasan.common.enums import LakeArea
from serasan.config.settings import Settings


class LakeError(Exception):
    """A lake operation failed; the message names the key and the lake."""


class ObjectExists(LakeError):
    """Refused to overwrite an object that must stay immutable."""


def _check_key(key: str) -> str:
    """Keys are relative POSIX paths: no leading '/', no '..' segment, no NUL.

    A backslash is an ordinary character here (in S3 and on POSIX filesystems), so an upload
    named `..\\x.csv` is read like any other and its raw copy gets a sanitised name.
    """
    if not key or key.startswith("/") or ".." in key.split("/") or "\x00" in key:
        raise LakeError(f"invalid lake key {key!r}: must be a relative path without '..'")
    return key


# (key, version id) pairs; the version is None where the store keeps one version per key
Versions = list[tuple[str, str | None]]


class Lake(Protocol):
    def put(
        self, key: str, data: bytes, content_type: str = ..., overwrite: bool = ...
    ) -> None: ...

    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> list[str]: ...
    def delete(self, key: str) -> None: ...
    # every stored version of the keys under `prefix`, oldest first (None: the only one)
    def versions(self, prefix: str) -> Versions: ...
    def get_version(self, key: str, version: str | None) -> bytes: ...
    def delete_version(self, key: str, version: str | None) -> None: ...
    def location(self, key: str) -> str: ...
    def size(self, key: str) -> int: ...
    def fetch(self, key: str) -> contextlib.AbstractContextManager[Path]: ...


class LocalLake:
    """A folder on disk; writes go through a temp file and rename, so readers never see halves."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        overwrite: bool = True,
    ) -> None:
        path = self._path(key)
        if not overwrite and path.exists():
            raise ObjectExists(f"{self.location(key)} already exists and is immutable")
        if key.startswith(LakeArea.INBOX.prefix) and path.is_file() and path.read_bytes() != data:
            # an upload never replaces another one waiting in the inbox (a folder has no
            # object versions): the second lands in a folder of its own, as `serasan ingest`
            # puts every file
            sha = hashlib.sha256(data).hexdigest()[:16]
            path = path.parent / sha / path.name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:  # a full disk, Ctrl-C: no half-written temp file stays behind
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise LakeError(f"{self.location(key)} does not exist") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix if prefix else self.root
        start = base if base.is_dir() else base.parent
        if not start.exists():
            return []
        keys = []
        for p in start.rglob("*"):
            if p.is_file() and not p.name.startswith(".tmp-"):
                key = p.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def versions(self, prefix: str) -> Versions:
        return [(k, None) for k in self.list(prefix)]

    def get_version(self, key: str, version: str | None) -> bytes:
        return self.get(key)

    def delete_version(self, key: str, version: str | None) -> None:
        self.delete(key)

    def location(self, key: str) -> str:
        return str(self.root / key)

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise LakeError(f"{self.location(key)} does not exist") from None

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        """A local path to read the object from (the file itself: nothing is copied)."""
        if not self.exists(key):
            raise LakeError(f"{self.location(key)} does not exist")
        yield self._path(key)


class S3Lake:
    """A MinIO (or any S3) bucket through the `minio` SDK, called with keyword arguments."""

    def __init__(
        self,
        bucket: str,
        endpoint: str,
        access_key: str | None,
        secret_key: str | None,
        region: str = "us-east-1",
        secure: bool = False,
        create_bucket: bool = True,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
    ):
        import urllib3
        from minio import Minio

        self.bucket = bucket
        self.endpoint = endpoint
        # our own timeouts and a short retry: a hung endpoint fails in seconds, not minutes
        # (the SDK's default pool waits 5 minutes per read and retries five times)
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
            retries=urllib3.Retry(
                total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)
            ),
        )
        self.client = Minio(
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            secure=secure,
            http_client=http,
        )
        if create_bucket and not self.client.bucket_exists(bucket_name=bucket):
            self.client.make_bucket(bucket_name=bucket)

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        overwrite: bool = True,
    ) -> None:
        _check_key(key)
        if not overwrite and self.exists(key):
            raise ObjectExists(f"{self.location(key)} already exists and is immutable")
        self.client.put_object(
            bucket_name=self.bucket,
            object_name=key,
            data=io.BytesIO(data),
            length=len(data),
            content_type=content_type,
        )

    def get(self, key: str) -> bytes:
        return self.get_version(key, None)

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(bucket_name=self.bucket, object_name=_check_key(key))
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise

    def list(self, prefix: str) -> list[str]:
        objs = self.client.list_objects(bucket_name=self.bucket, prefix=prefix, recursive=True)
        return sorted(o.object_name for o in objs if o.object_name and not o.is_dir)

    def delete(self, key: str) -> None:
        """The key and every earlier version of it: in a versioned bucket a plain delete would
        only hide the object, and retention must really remove personal data."""
        _check_key(key)
        found = [
            o.version_id
            for o in self.client.list_objects(
                bucket_name=self.bucket, prefix=key, include_version=True
            )
            if o.object_name == key and o.version_id not in (None, "null")
        ]
        for version in found or [None]:
            self.client.remove_object(bucket_name=self.bucket, object_name=key, version_id=version)

    def versions(self, prefix: str) -> Versions:
        """Every version of every key under `prefix`, oldest first: with versioning on (as
        `serasan inbox apply` sets it), two uploads under one name are two versions, and both
        are taken. Delete markers are not objects."""
        objs = self.client.list_objects(
            bucket_name=self.bucket, prefix=prefix, recursive=True, include_version=True
        )
        found = [
            (o.last_modified, o.object_name, o.version_id)
            for o in objs
            if o.object_name and not o.is_dir and not o.is_delete_marker
        ]
        found.sort(key=lambda t: (t[1], t[0] or datetime.min.replace(tzinfo=UTC)))
        return [(name, None if vid in (None, "null") else vid) for _, name, vid in found]

    def get_version(self, key: str, version: str | None) -> bytes:
        from minio.error import S3Error

        try:
            resp = self.client.get_object(
                bucket_name=self.bucket, object_name=_check_key(key), version_id=version
            )
        except S3Error as exc:
            which = f" (version {version})" if version else ""
            raise LakeError(f"{self.location(key)}{which}: {exc.code}") from None
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def delete_version(self, key: str, version: str | None) -> None:
        self.client.remove_object(
            bucket_name=self.bucket, object_name=_check_key(key), version_id=version
        )

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def size(self, key: str) -> int:
        from minio.error import S3Error

        try:
            stat = self.client.stat_object(bucket_name=self.bucket, object_name=_check_key(key))
        except S3Error as exc:
            raise LakeError(f"{self.location(key)}: {exc.code}") from None
        return int(stat.size or 0)

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        """Download to a temporary file, so large objects are streamed, not held in memory."""
        with tempfile.TemporaryDirectory(prefix="serasan-") as tmp:
            path = Path(tmp) / "object"
            self.client.fget_object(
                bucket_name=self.bucket, object_name=_check_key(key), file_path=str(path)
            )
            yield path

    def presigned_get(self, key: str, hours: int = 24) -> str:
        return self.client.presigned_get_object(
            bucket_name=self.bucket, object_name=key, expires=timedelta(hours=hours)
        )


def open_lake(settings: Settings) -> Lake:
    """Pick the backend from `SERASAN_LAKE_URL`: `s3://bucket` or a folder path."""
    url = settings.lake_url
    if url.startswith("s3://"):
        bucket = urlparse(url).netloc
        if not settings.s3_endpoint:
            raise LakeError(f"SERASAN_LAKE_URL={url} needs SERASAN_S3_ENDPOINT (host:port)")
        return S3Lake(
            bucket=bucket,
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
            secure=settings.s3_secure,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.s3_read_timeout_s,
        )
    return LocalLake(url.removeprefix("file://"))


def location(settings: Settings, key: str) -> str:
    """Where `key` is in the lake of `settings`, as that lake's `location` says it, without
    opening the lake (no client, no network): for a command that only names objects."""
    url = settings.lake_url
    if url.startswith("s3://"):
        return f"s3://{urlparse(url).netloc}/{key}"
    return str(Path(url.removeprefix("file://")).resolve() / key)
