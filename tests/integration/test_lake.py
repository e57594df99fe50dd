"""The lake port behaves the same on a local folder and on two S3 servers: moto_server, and
SeaweedFS (a real S3 server, written to with Serasan's own identity)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from serasan.config.settings import Settings
from serasan.lake.store import LakeError, ObjectExists, open_lake
from tests.support.services import SeaweedFS


@pytest.fixture(params=["embedded", "moto", "seaweedfs"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A folder lake, or a fresh bucket on moto_server or on SeaweedFS (the warehouse is unused:
    on moto the shared production-shaped settings, on SeaweedFS a SQLite file)."""
    if request.param == "embedded":
        return request.getfixturevalue("local_settings")
    if request.param == "moto":
        return request.getfixturevalue("s3_settings")
    server: SeaweedFS = request.getfixturevalue("seaweedfs")
    return Settings(
        lake_url=f"s3://lake-{uuid.uuid4().hex[:10]}",
        warehouse_url=f"sqlite:///{tmp_path / 'warehouse.db'}",
        s3_endpoint=server.endpoint,
        s3_access_key=server.admin.access_key,
        s3_secret_key=server.admin.secret_key,
    )


def test_put_get_list_delete(settings: Settings) -> None:
    lake = open_lake(settings)
    lake.put("raw/ds/abc/file.csv", b"a,b\n1,2\n")
    lake.put("raw/ds/abc/manifest.json", b"{}")
    lake.put("raw/other/x.csv", b"x")
    assert lake.get("raw/ds/abc/file.csv") == b"a,b\n1,2\n"
    assert lake.exists("raw/ds/abc/file.csv")
    assert not lake.exists("raw/ds/abc/missing.csv")
    assert lake.list("raw/ds/") == ["raw/ds/abc/file.csv", "raw/ds/abc/manifest.json"]
    lake.delete("raw/ds/abc/file.csv")
    assert lake.list("raw/ds/") == ["raw/ds/abc/manifest.json"]


def test_raw_objects_are_immutable(settings: Settings) -> None:
    lake = open_lake(settings)
    lake.put("raw/ds/sha/file.csv", b"original", overwrite=False)
    with pytest.raises(ObjectExists, match="immutable"):
        lake.put("raw/ds/sha/file.csv", b"changed", overwrite=False)
    assert lake.get("raw/ds/sha/file.csv") == b"original"


def test_missing_object_and_bad_keys_are_clear_errors(settings: Settings) -> None:
    lake = open_lake(settings)
    with pytest.raises(LakeError, match="nope.csv"):
        lake.get("raw/nope.csv")
    for key in ("../etc/passwd", "/abs/key", "a/../../b"):
        with pytest.raises(LakeError, match="invalid lake key"):
            lake.put(key, b"x")


def test_s3_lake_needs_an_endpoint() -> None:
    with pytest.raises(LakeError, match="SERASAN_S3_ENDPOINT"):
        open_lake(Settings(lake_url="s3://bucket", warehouse_url="sqlite://"))
