"""Who may write where in the lake: one MinIO user and IAM policy per OPD, and upload links.

OPD staff upload their files into `inbox/<regency_slug>-<opd_code>/<dataset_id>/`. Each OPD gets
a MinIO user named after that folder, with a policy that lets it write (and read back) only its
own inbox folder: no delete, nothing in raw/, staging/, exports/ or another OPD's folder. MinIO
bucket policies only govern anonymous access, so this has to be a per-user IAM policy.

The policy documents are generated from the catalog and committed under
`docker/minio/policies/`; a test keeps them equal to what the catalog produces and checks their
effect on a real S3 endpoint.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from serasan.common.enums import LakeArea
from serasan.config.catalog import Catalog
from serasan.lake.keys import opd_inbox_prefix
from serasan.lake.store import Lake, S3Lake

POLICY_PREFIX = "serasan-inbox-"
MAX_LINK_HOURS = 7 * 24  # S3 (and MinIO) refuse presigned URLs valid longer than 7 days
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def inbox_user(catalog: Catalog, regency_kode: str, opd_code: str) -> str:
    """The OPD's MinIO user and inbox folder name; same as `pipeline.opd_key` for its datasets."""
    regency = catalog.regency(regency_kode)
    if regency.opd(opd_code) is None:
        raise KeyError(f"{opd_code!r} is not an OPD of {regency.name} ({regency_kode})")
    return f"{regency.slug}-{opd_code}"


def policy_name(user: str) -> str:
    return f"{POLICY_PREFIX}{user}"


def policy_for(catalog: Catalog, regency_kode: str, opd_code: str, bucket: str) -> dict[str, Any]:
    """An IAM policy letting one OPD put (and read back) objects under its own inbox folder only.

    Listing is allowed only with a prefix inside that folder; GetBucketLocation is allowed because
    the MinIO Console and SDKs without a configured region call it before anything else.
    """
    if not _BUCKET.match(bucket):
        raise ValueError(f"invalid bucket name {bucket!r}")
    folder = opd_inbox_prefix(inbox_user(catalog, regency_kode, opd_code))
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListOwnInbox",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{folder}*", folder]}},
            },
            {
                "Sid": "LocateBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
            },
            {
                "Sid": "UploadToOwnInbox",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/{folder}*"],
            },
        ],
    }


def policies(catalog: Catalog, bucket: str) -> dict[str, dict[str, Any]]:
    """One policy per OPD of every regency, keyed by policy name `serasan-inbox-<opd_key>`."""
    out = {}
    for kode, regency in sorted(catalog.regencies.items()):
        for opd in regency.opds:
            out[policy_name(inbox_user(catalog, kode, opd.code))] = policy_for(
                catalog, kode, opd.code, bucket
            )
    return dict(sorted(out.items()))


def policy_json(policy: dict[str, Any]) -> str:
    """The committed form: pretty, sorted keys, trailing newline, so regenerating is a no-op."""
    return json.dumps(policy, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_policies(catalog: Catalog, bucket: str, out_dir: Path) -> list[Path]:
    """Write `<policy name>.json` per OPD and remove policy files of OPDs no longer in the catalog.

    Only files named `serasan-inbox-*.json` are ever removed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{name}.json": policy_json(doc) for name, doc in policies(catalog, bucket).items()}
    for stale in out_dir.glob(f"{POLICY_PREFIX}*.json"):
        if stale.name not in wanted:
            stale.unlink()
    paths = []
    for filename, text in wanted.items():
        path = out_dir / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def apply_minio(
    catalog: Catalog,
    bucket: str,
    endpoint: str,
    admin_access_key: str,
    admin_secret_key: str,
    user_passwords: dict[str, str],
    secure: bool = False,
) -> list[str]:
    """Create or update every OPD policy and user on a MinIO server and attach each policy.

    Idempotent: adding an existing policy replaces it, adding an existing user resets its secret,
    and an already attached policy (XMinioAdminPolicyChangeAlreadyApplied) is not an error.
    `user_passwords` maps each OPD user (`inbox_user`) to its secret; every user needs one and
    nothing is sent to the server unless all are present and at least 8 characters (MinIO's
    minimum). Returns the users set up.

    Not exercised against a server in the test suite (no MinIO can run where it is built): the
    calls are the minio SDK's MinioAdmin `policy_add`, `user_add` and `attach_policy`, made with
    keyword arguments, and a test checks their sequence against a stand-in. The same steps with
    `mc` are in docker/minio/apply-policies.sh.
    """
    from minio.credentials.providers import StaticProvider
    from minio.error import MinioAdminException
    from minio.minioadmin import MinioAdmin

    docs = policies(catalog, bucket)
    users = {name.removeprefix(POLICY_PREFIX): name for name in docs}
    missing = sorted(set(users) - set(user_passwords))
    unknown = sorted(set(user_passwords) - set(users))
    short = sorted(u for u, pw in user_passwords.items() if u in users and len(pw) < 8)
    if missing or unknown or short:
        problems = [
            f"no password for {', '.join(missing)}" if missing else "",
            f"not OPD users of the catalog: {', '.join(unknown)}" if unknown else "",
            f"passwords shorter than 8 characters: {', '.join(short)}" if short else "",
        ]
        raise ValueError("; ".join(p for p in problems if p))

    admin = MinioAdmin(
        endpoint=endpoint,
        secure=secure,
        credentials=StaticProvider(access_key=admin_access_key, secret_key=admin_secret_key),
    )
    for user, name in users.items():
        admin.policy_add(policy_name=name, policy=docs[name])
        admin.user_add(access_key=user, secret_key=user_passwords[user])
        try:
            admin.attach_policy(policies=[name], user=user)
        except MinioAdminException as exc:
            if "XMinioAdminPolicyChangeAlreadyApplied" not in str(exc):
                raise
    return list(users)


def upload_link(lake: Lake, key: str, hours: int = 72) -> str | None:
    """A presigned PUT URL for one inbox key, for OPD staff without a MinIO account.

    None for a local-folder lake, which has no URLs. Only `inbox/` keys are signed: a link into
    raw/ or exports/ would let anyone holding it overwrite pipeline data.
    """
    if not 1 <= hours <= MAX_LINK_HOURS:
        raise ValueError(
            f"hours must be between 1 and {MAX_LINK_HOURS} (7 days, the S3 limit); got {hours}"
        )
    parts = key.split("/")
    if parts[0] != LakeArea.INBOX or len(parts) < 4 or "" in parts or ".." in parts or "\\" in key:
        raise ValueError(
            f"upload links are for inbox keys such as "
            f"inbox/<regency>-<opd>/<dataset>/<file>; got {key!r}"
        )
    if not isinstance(lake, S3Lake):
        return None
    return lake.client.presigned_put_object(
        bucket_name=lake.bucket, object_name=key, expires=timedelta(hours=hours)
    )
