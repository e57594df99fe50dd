"""The lake port behaves the same on a local folder and on a real S3 endpoint."""

from __future__ import annotations

import pytest

from serasan.config.settings import Settings
from serasan.lake.store import LakeError, ObjectExists, open_lake


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
