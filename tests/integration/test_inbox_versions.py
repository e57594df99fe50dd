"""Two OPD staff upload a file under the same name before the DAG runs: both are loaded.

OPD staff choose their keys when they upload with their own S3 users, so two uploads of
`data.csv` land on one key. With the lake bucket versioned (docker/minio/init.sh), they are two
versions of it, and extract takes every version; a folder lake keeps the second beside the
first. Deleting what the pipeline deletes removes every version (retention must remove
personal data for real, not hide it behind a delete marker).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

from minio import Minio
from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake import keys
from serasan.lake.store import LocalLake, S3Lake, open_lake
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade

DS = "muba_bank_sampah"


def _files(catalog: Catalog) -> list[bytes]:
    ds = catalog.dataset(DS)
    return [generate_dataset(ds, catalog, fmt="csv", seed=s).data for s in (21, 22)]


def test_two_uploads_under_one_name_in_a_versioned_bucket_are_both_loaded(
    s3_settings: Settings, catalog: Catalog
) -> None:
    lake = open_lake(s3_settings)
    assert isinstance(lake, S3Lake)
    lake.client.set_bucket_versioning(bucket_name=lake.bucket, config=VersioningConfig(ENABLED))
    ds = catalog.dataset(DS)
    key = keys.inbox_prefix(catalog, ds) + "data.csv"
    first, second = _files(catalog)
    staff = Minio(  # two people, one key, one after the other
        endpoint=s3_settings.s3_endpoint or "",
        access_key="test",
        secret_key="test",
        secure=False,
        region="us-east-1",
    )
    for data in (first, second):
        staff.put_object(
            bucket_name=lake.bucket, object_name=key, data=io.BytesIO(data), length=len(data)
        )
    assert len(lake.versions(keys.inbox_prefix(catalog, ds))) == 2

    ctx = RunContext(
        settings=s3_settings, catalog=catalog, run_date=dt.date(2026, 11, 1), dag_id="t", run_id="r"
    )
    upgrade(ctx.engine, catalog)
    loads = run_dataset(ctx, ds)
    assert sorted(s.status for s in loads) == ["loaded", "loaded"]
    assert {s.sha256 for s in loads} == {_sha(first), _sha(second)}
    # the inbox is empty: every version was taken, none left behind a delete marker
    assert lake.versions(keys.inbox_prefix(catalog, ds)) == []
    ctx.engine.dispose()


def test_delete_removes_every_version(s3_settings: Settings) -> None:
    lake = open_lake(s3_settings)
    assert isinstance(lake, S3Lake)
    lake.client.set_bucket_versioning(bucket_name=lake.bucket, config=VersioningConfig(ENABLED))
    for text in (b"one", b"two"):
        lake.put("quarantine/x/ditolak.csv", text)
    assert len(lake.versions("quarantine/x/")) == 2
    lake.delete("quarantine/x/ditolak.csv")
    listed = lake.client.list_objects(
        bucket_name=lake.bucket, prefix="quarantine/x/", include_version=True
    )
    assert list(listed) == []  # no version and no delete marker is left


def test_a_folder_lake_keeps_both_uploads(tmp_path: Path, catalog: Catalog) -> None:
    lake = LocalLake(tmp_path)
    ds = catalog.dataset(DS)
    key = keys.inbox_prefix(catalog, ds) + "data.csv"
    first, second = _files(catalog)
    lake.put(key, first)
    lake.put(key, second)
    lake.put(key, second)  # the same bytes again: nothing new
    stored = sorted(lake.get(k) for k in lake.list(keys.inbox_prefix(catalog, ds)))
    assert stored == sorted([first, second])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
