"""Per-OPD inbox access: the committed policies, applying them to MinIO (a stand-in admin
client, the apply script with a fake `mc`), the limits of upload links. What the policies
allow on a real S3 endpoint with IAM enforced is in tests/integration/test_inbox_access_s3.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from minio.error import MinioAdminException

from serasan.config.catalog import Catalog
from serasan.ingest import inbox_access
from serasan.ingest.inbox_access import (
    apply_minio,
    inbox_user,
    policies,
    policy_for,
    policy_json,
    upload_link,
    write_policies,
)
from serasan.lake.keys import inbox_prefix, opd_key
from serasan.lake.store import LocalLake
from serasan.quality.suites import load_validated_catalog
from tests.support.paths import REPO_ROOT

PROJECT = REPO_ROOT
POLICY_DIR = PROJECT / "docker" / "minio" / "policies"
APPLY_SCRIPT = PROJECT / "docker" / "minio" / "apply-policies.sh"
BUCKET = "serasan-lake"


# ------------------------------------------------------------------ the committed documents


def test_committed_policies_equal_the_catalog(catalog: Catalog) -> None:
    expected = {
        f"{name}.json": policy_json(doc)
        for name, doc in policies(load_validated_catalog(), BUCKET).items()
    }
    committed = {p.name: p.read_text(encoding="utf-8") for p in POLICY_DIR.glob("*.json")}
    assert committed == expected, (
        "docker/minio/policies/ drifted from the catalog; regenerate with "
        "serasan.ingest.inbox_access.write_policies(load_validated_catalog(), 'serasan-lake', "
        "Path('docker/minio/policies'))"
    )


def test_every_opd_has_exactly_one_policy(catalog: Catalog) -> None:
    docs = policies(catalog, BUCKET)
    users = [
        inbox_user(catalog, kode, opd.code)
        for kode, reg in catalog.regencies.items()
        for opd in reg.opds
    ]
    assert len(users) == len(set(users))
    assert sorted(docs) == sorted(f"serasan-inbox-{u}" for u in users)
    for ds in catalog.datasets.values():  # the user name is the pipeline's inbox folder
        user = inbox_user(catalog, ds.regency, ds.opd)
        assert user == opd_key(catalog, ds)
        assert inbox_prefix(catalog, ds).startswith(f"inbox/{user}/")
        objects = docs[f"serasan-inbox-{user}"]["Statement"][-1]["Resource"]
        assert objects == [f"arn:aws:s3:::{BUCKET}/inbox/{user}/*"]


def test_policy_grants_nothing_beyond_the_own_inbox(catalog: Catalog) -> None:
    doc = policy_for(catalog, "16.06", "bapenda", BUCKET)
    assert doc["Version"] == "2012-10-17"
    grants = {(a, r) for s in doc["Statement"] for a in s["Action"] for r in s["Resource"]}
    assert all(s["Effect"] == "Allow" for s in doc["Statement"])
    folder = f"arn:aws:s3:::{BUCKET}/inbox/musibanyuasin-bapenda/*"
    assert grants == {
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}"),
        ("s3:GetBucketLocation", f"arn:aws:s3:::{BUCKET}"),
        ("s3:PutObject", folder),
        ("s3:GetObject", folder),
        ("s3:AbortMultipartUpload", folder),
    }
    listing = next(s for s in doc["Statement"] if s["Action"] == ["s3:ListBucket"])
    assert listing["Condition"] == {
        "StringLike": {
            "s3:prefix": ["inbox/musibanyuasin-bapenda/*", "inbox/musibanyuasin-bapenda/"]
        }
    }
    with pytest.raises(KeyError, match="not an OPD"):
        policy_for(catalog, "16.06", "ortala", BUCKET)  # an OPD of the other regency
    with pytest.raises(ValueError, match="bucket"):
        policy_for(catalog, "16.06", "bapenda", "Bad_Bucket")


def test_write_policies_is_deterministic_and_drops_stale_files(
    catalog: Catalog, tmp_path: Path
) -> None:
    (tmp_path / "serasan-inbox-gone-opd.json").write_text("{}\n")
    (tmp_path / "README.md").write_text("kept\n")
    first = {p.name: p.read_bytes() for p in write_policies(catalog, BUCKET, tmp_path)}
    second = {p.name: p.read_bytes() for p in write_policies(catalog, BUCKET, tmp_path)}
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*first, "README.md"])
    text = next(iter(first.values())).decode()
    assert text.endswith("}\n") and json.loads(text)["Version"] == "2012-10-17"


# ------------------------------------------------------------------ applying to MinIO


class FakeAdmin:
    """Stands in for minio's MinioAdmin: records keyword calls, refuses a second attach."""

    calls: list[tuple[str, dict[str, Any]]] = []
    attached: set[tuple[str, str]] = set()

    def __init__(self, **kwargs: Any) -> None:
        FakeAdmin.calls.append(("__init__", kwargs))

    def policy_add(self, **kw: Any) -> str:
        FakeAdmin.calls.append(("policy_add", kw))
        return ""

    def user_add(self, **kw: Any) -> str:
        FakeAdmin.calls.append(("user_add", kw))
        return ""

    def attach_policy(self, **kw: Any) -> str:
        FakeAdmin.calls.append(("attach_policy", kw))
        pair = (kw["policies"][0], kw["user"])
        if pair in FakeAdmin.attached:
            raise MinioAdminException("400", '{"Code":"XMinioAdminPolicyChangeAlreadyApplied"}')
        FakeAdmin.attached.add(pair)
        return ""


def test_apply_minio_sets_up_every_opd_and_can_run_again(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import minio.minioadmin

    monkeypatch.setattr(minio.minioadmin, "MinioAdmin", FakeAdmin)
    FakeAdmin.calls, FakeAdmin.attached = [], set()
    docs = policies(catalog, BUCKET)
    passwords = {n.removeprefix("serasan-inbox-"): f"pw-{n}" for n in docs}
    for _ in range(2):  # the second run meets existing policies, users and attachments
        users = apply_minio(catalog, BUCKET, "minio:9000", "admin", "admin-secret", passwords)
    assert sorted(users) == sorted(passwords)
    init = FakeAdmin.calls[0][1]
    assert init["endpoint"] == "minio:9000" and init["secure"] is False
    assert init["credentials"].retrieve().secret_key == "admin-secret"
    added = {kw["policy_name"]: kw["policy"] for op, kw in FakeAdmin.calls if op == "policy_add"}
    assert added == docs
    assert {
        kw["access_key"]: kw["secret_key"] for op, kw in FakeAdmin.calls if op == "user_add"
    } == passwords
    assert FakeAdmin.attached == {(f"serasan-inbox-{u}", u) for u in passwords}


def test_apply_minio_checks_passwords_before_calling_the_server(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import minio.minioadmin

    monkeypatch.setattr(minio.minioadmin, "MinioAdmin", FakeAdmin)
    FakeAdmin.calls = []
    with pytest.raises(ValueError, match="no password for .*muaraenim-dinsos"):
        apply_minio(catalog, BUCKET, "minio:9000", "a", "b", {"muaraenim-dlh": "long-enough"})
    every = {
        u: "long-enough"
        for u in (n.removeprefix("serasan-inbox-") for n in policies(catalog, BUCKET))
    }
    with pytest.raises(ValueError, match="not OPD users of the catalog: nobody"):
        apply_minio(catalog, BUCKET, "minio:9000", "a", "b", {**every, "nobody": "long-enough"})
    with pytest.raises(ValueError, match="shorter than 8 characters: muaraenim-dlh"):
        apply_minio(catalog, BUCKET, "minio:9000", "a", "b", {**every, "muaraenim-dlh": "short"})
    assert FakeAdmin.calls == []


def test_apply_minio_raises_other_admin_errors(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import minio.minioadmin

    class Refusing(FakeAdmin):
        def attach_policy(self, **kw: Any) -> str:
            raise MinioAdminException("403", '{"Code":"AccessDenied"}')

    monkeypatch.setattr(minio.minioadmin, "MinioAdmin", Refusing)
    every = {n.removeprefix("serasan-inbox-"): "long-enough" for n in policies(catalog, BUCKET)}
    with pytest.raises(MinioAdminException, match="AccessDenied"):
        apply_minio(catalog, BUCKET, "minio:9000", "a", "b", every)


FAKE_MC = """#!/usr/bin/env bash
# records each call (argv and stdin); attach fails like older mc once a policy is attached
log="$FAKE_MC_LOG"
stdin=""
if [ "$1" = alias ] || [ "$2 $3" = "user add" ]; then stdin="$(cat)"; fi
printf '%s\\t%s\\n' "$*" "${stdin//$'\\n'/|}" >> "$log"
if [ "$2 $3" = "policy attach" ]; then
  mark="$FAKE_MC_STATE/$5-$7"
  if [ -e "$mark" ]; then
    echo "mc: <ERROR> Unable to make user/group policy association." \\
         "The specified policy change is already in effect." >&2
    exit 1
  fi
  touch "$mark"
fi
"""


def _password_var(user: str) -> str:
    return "SERASAN_INBOX_PASSWORD_" + user.upper().replace("-", "_")


def test_apply_script_uses_env_credentials_on_stdin_and_can_run_again(tmp_path: Path) -> None:
    fake = tmp_path / "mc"
    fake.write_text(FAKE_MC)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "state").mkdir()
    users = sorted(p.stem.removeprefix("serasan-inbox-") for p in POLICY_DIR.glob("*.json"))
    secret = {u: f"s3cret-{uuid.uuid4().hex[:8]}" for u in users}
    env = {
        "PATH": os.environ["PATH"],
        "MC": str(fake),
        "FAKE_MC_LOG": str(tmp_path / "log"),
        "FAKE_MC_STATE": str(tmp_path / "state"),
        "MINIO_URL": "http://minio:9000",
        "MINIO_ROOT_USER": "admin",
        "MINIO_ROOT_PASSWORD": "root-secret",
        **{_password_var(u): pw for u, pw in secret.items()},
    }
    for _ in range(2):
        run = subprocess.run(
            ["bash", str(APPLY_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stderr
    calls = [line.split("\t") for line in (tmp_path / "log").read_text().splitlines()]
    argv = [c[0] for c in calls]
    assert all("secret" not in a.lower() and "s3cret" not in a for a in argv)  # never argv
    assert ["alias set serasan-admin http://minio:9000", "admin|root-secret"] in calls
    for u in users:
        name = f"serasan-inbox-{u}"
        assert (
            argv.count(f"admin policy create serasan-admin {name} {POLICY_DIR / (name + '.json')}")
            == 2
        )
        assert [f"admin user add serasan-admin {u}", secret[u]] in calls
        assert argv.count(f"admin policy attach serasan-admin {name} --user {u}") == 2


def test_apply_script_refuses_to_start_without_every_password(tmp_path: Path) -> None:
    fake = tmp_path / "mc"
    fake.write_text('#!/bin/sh\necho called >> "$0.log"\n')
    fake.chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "MC": str(fake),
        "MINIO_URL": "http://minio:9000",
        "MINIO_ROOT_USER": "admin",
        "MINIO_ROOT_PASSWORD": "root-secret",
        _password_var("muaraenim-dlh"): "short",
    }
    run = subprocess.run(
        ["bash", str(APPLY_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert "SERASAN_INBOX_PASSWORD_MUARAENIM_DINSOS is not set" in run.stderr
    assert "SERASAN_INBOX_PASSWORD_MUARAENIM_DLH is shorter than 8 characters" in run.stderr
    assert not (tmp_path / "mc.log").exists()


# ------------------------------------------------------------------ presigned upload links


def test_upload_link_limits(tmp_path: Path) -> None:
    key = "inbox/muaraenim-disbun/muaraenim_produksi_karet/x.csv"
    assert upload_link(LocalLake(tmp_path), key) is None
    with pytest.raises(ValueError, match="7 days"):
        upload_link(LocalLake(tmp_path), key, hours=7 * 24 + 1)
    with pytest.raises(ValueError, match="between 1"):
        upload_link(LocalLake(tmp_path), key, hours=0)
    for bad in ("raw/ds/sha/x.csv", "inbox/x.csv", "inbox/opd/../../raw/x.csv"):
        with pytest.raises(ValueError, match="inbox keys"):
            upload_link(LocalLake(tmp_path), bad)
    assert inbox_access.MAX_LINK_HOURS == 168
