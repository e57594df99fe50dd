"""Per-OPD inbox isolation on a real S3 server that enforces it: SeaweedFS with its S3 identities
config (tests/support/services.py: `inbox_identities`), spoken to with the minio SDK.

Each OPD identity may read, write and list only under its own `inbox/<regency>-<opd>/` folder of
the lake bucket, as the per-OPD MinIO policies in serasan/ingest/inbox_access.py intend. moto
cannot show this for listing (it ignores `s3:prefix`: see the expected failure in
test_inbox_access_s3.py); SeaweedFS refuses it for real.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from minio import Minio
from minio.error import S3Error

from tests.support.services import SEAWEEDFS_INBOX_BUCKET as BUCKET
from tests.support.services import S3Identity, SeaweedFS

ME, OTHER = "muaraenim-disbun", "musibanyuasin-disbun"
OWN_KEY = f"inbox/{ME}/muaraenim_produksi_karet/x.csv"
THEIRS = f"inbox/{OTHER}/muba_kelompok_tani_karet/theirs.csv"
DATA = b"tahun,kode\n2025,16.03.01\n"


def _client(server: SeaweedFS, identity: S3Identity | None) -> Minio:
    if identity is None:  # anonymous
        return Minio(endpoint=server.endpoint, secure=False, region="us-east-1")
    return Minio(
        endpoint=server.endpoint,
        access_key=identity.access_key,
        secret_key=identity.secret_key,
        secure=False,
        region="us-east-1",
    )


def _put(client: Minio, key: str, data: bytes = DATA) -> None:
    client.put_object(
        bucket_name=BUCKET,
        object_name=key,
        data=io.BytesIO(data),
        length=len(data),
        content_type="text/csv",
    )


def _get(client: Minio, key: str) -> bytes:
    resp = client.get_object(bucket_name=BUCKET, object_name=key)
    try:
        return resp.read()
    finally:
        resp.close()
        resp.release_conn()


def _list(client: Minio, prefix: str) -> list[str]:
    return [
        o.object_name or ""
        for o in client.list_objects(bucket_name=BUCKET, prefix=prefix, recursive=True)
    ]


@pytest.fixture
def lake(seaweedfs: SeaweedFS) -> SeaweedFS:
    """The lake bucket, with objects in the other areas and in another OPD's inbox, (re)written
    with Serasan's admin identity before each test, so one wrongly allowed change cannot make
    the tests after it fail too."""
    admin = _client(seaweedfs, seaweedfs.admin)
    if not admin.bucket_exists(bucket_name=BUCKET):
        admin.make_bucket(bucket_name=BUCKET)
    for key in ("raw/ds/abc/x.csv", "exports/16.03/ds/2026-10/data.csv", THEIRS):
        _put(admin, key, b"a,b\n1,2\n")
    return seaweedfs


def _me(lake: SeaweedFS) -> Minio:
    return _client(lake, lake.identities[ME])


def test_every_opd_of_the_catalog_has_an_identity(lake: SeaweedFS) -> None:
    assert {ME, OTHER} <= set(lake.identities)
    for name, identity in lake.identities.items():
        scope = f"{BUCKET}/inbox/{name}/*"
        assert identity.actions == (f"Read:{scope}", f"Write:{scope}", f"List:{scope}")


def test_anonymous_and_unknown_keys_are_refused(lake: SeaweedFS) -> None:
    """Without this, the checks below could pass on a server that lets anyone in."""
    anonymous = _client(lake, None)
    stranger = _client(lake, S3Identity("stranger", "stranger-key", "stranger-secret", ()))
    for client, code in ((anonymous, "AccessDenied"), (stranger, "InvalidAccessKeyId")):
        for attempt in (
            lambda c: _list(c, ""),
            lambda c: _get(c, "raw/ds/abc/x.csv"),
            lambda c: _put(c, OWN_KEY),
        ):
            with pytest.raises(S3Error) as err:
                attempt(client)
            assert err.value.code == code


def test_opd_writes_reads_and_lists_its_own_inbox(lake: SeaweedFS) -> None:
    me = _me(lake)
    _put(me, OWN_KEY)
    assert _get(me, OWN_KEY) == DATA
    assert me.stat_object(bucket_name=BUCKET, object_name=OWN_KEY).size == len(DATA)
    assert OWN_KEY in _list(me, f"inbox/{ME}/")
    assert _list(me, f"inbox/{ME}/muaraenim_produksi_karet/") == [OWN_KEY]
    # and Serasan's own identity sees the upload where the pipeline looks for it
    assert OWN_KEY in _list(_client(lake, lake.admin), "inbox/")


DENIED: dict[str, Callable[[Minio], object]] = {
    "put into another OPD's inbox": lambda c: _put(c, f"inbox/{OTHER}/muba_kelompok_tani_karet/x"),
    "put beside the own folder (no trailing slash)": lambda c: _put(
        c, f"inbox/{ME}2/muaraenim_produksi_karet/x.csv"
    ),
    "put into the inbox root": lambda c: _put(c, "inbox/x.csv"),
    "put into raw/": lambda c: _put(c, "raw/ds/abc/x.csv"),
    "put into exports/": lambda c: _put(c, "exports/16.03/ds/2026-10/data.csv"),
    "get from raw/": lambda c: _get(c, "raw/ds/abc/x.csv"),
    "get from exports/": lambda c: _get(c, "exports/16.03/ds/2026-10/data.csv"),
    "get another OPD's upload": lambda c: _get(c, THEIRS),
    "delete another OPD's upload": lambda c: c.remove_object(
        bucket_name=BUCKET, object_name=THEIRS
    ),
    "list another OPD's inbox": lambda c: _list(c, f"inbox/{OTHER}/"),
    "list raw/": lambda c: _list(c, "raw/"),
    "list the inbox root": lambda c: _list(c, "inbox/"),
    "list the whole bucket": lambda c: _list(c, ""),
}


@pytest.mark.parametrize("case", sorted(DENIED))
def test_opd_is_denied_everything_else(lake: SeaweedFS, case: str) -> None:
    me = _me(lake)
    with pytest.raises(S3Error) as err:
        DENIED[case](me)
    assert err.value.code == "AccessDenied"
    admin = _client(lake, lake.admin)
    assert _get(admin, "raw/ds/abc/x.csv") == b"a,b\n1,2\n"  # nothing was overwritten
    assert _get(admin, THEIRS) == b"a,b\n1,2\n"


def test_list_buckets_reveals_no_bucket(lake: SeaweedFS) -> None:
    """SeaweedFS answers an OPD's ListBuckets with an empty list (MinIO: AccessDenied)."""
    assert _me(lake).list_buckets() == []


def test_every_opd_is_confined_to_its_own_folder(lake: SeaweedFS) -> None:
    """All OPD identities of the catalog: each writes its own folder, not its neighbour's."""
    names = sorted(lake.identities)
    for name, neighbour in zip(names, names[1:] + names[:1], strict=True):
        client = _client(lake, lake.identities[name])
        _put(client, f"inbox/{name}/ds/own.csv")
        assert f"inbox/{name}/ds/own.csv" in _list(client, f"inbox/{name}/")
        with pytest.raises(S3Error) as put_err:
            _put(client, f"inbox/{neighbour}/ds/own.csv")
        with pytest.raises(S3Error) as list_err:
            _list(client, f"inbox/{neighbour}/")
        assert put_err.value.code == list_err.value.code == "AccessDenied", (name, neighbour)


def test_static_write_also_deletes_unlike_the_minio_policy(lake: SeaweedFS) -> None:
    """A known difference, stated in docs/operating.md: SeaweedFS's `Write` action includes
    DeleteObject, while the MinIO policy grants put and get only. The committed IAM policy
    documents do deny it on SeaweedFS (test_inbox_access_s3.py, the seaweedfs cases)."""
    me = _me(lake)
    key = f"inbox/{ME}/muaraenim_produksi_karet/to-delete.csv"
    _put(me, key)
    me.remove_object(bucket_name=BUCKET, object_name=key)
    assert key not in _list(me, f"inbox/{ME}/")
