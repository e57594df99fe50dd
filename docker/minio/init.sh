#!/usr/bin/env bash
# One-shot MinIO set-up for the stack (the compose service minio-init); safe to rerun.
#   1. the lake bucket, LAKE_BUCKET (the bucket the committed policies name: serasan-lake), and
#      the backup bucket, BACKUP_BUCKET (the stack's SERASAN_BACKUP_LAKE_URL, where the
#      serasan__backup DAG copies the lake; default serasan-backup);
#   2. the pipeline's own user, PIPELINE_ACCESS_KEY / PIPELINE_SECRET_KEY (the stack's
#      SERASAN_S3_ACCESS_KEY / SERASAN_S3_SECRET_KEY), with pipeline-policy.json: read, write,
#      list and delete inside the lake bucket, read, write and list (no delete) inside the
#      backup bucket, and nothing else (no admin, no other bucket);
#   3. one user and policy per OPD, by apply-policies.sh beside this file (policies/*.json,
#      SERASAN_INBOX_PASSWORD_<USER> per OPD).
# Secrets come from the environment and reach mc on stdin, never as arguments:
#   MINIO_URL, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD, PIPELINE_ACCESS_KEY, PIPELINE_SECRET_KEY
# Optional: LAKE_BUCKET (default serasan-lake), BACKUP_BUCKET (default serasan-backup),
# MC (default mc).
# Needs only bash, coreutils and mc: it runs in the minio/mc image, which has no grep.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MC="${MC:-mc}"
LAKE_BUCKET="${LAKE_BUCKET:-serasan-lake}"
BACKUP_BUCKET="${BACKUP_BUCKET:-serasan-backup}"
ALIAS=serasan-admin
PIPELINE_POLICY=serasan-pipeline

problems=()
for var in MINIO_URL MINIO_ROOT_USER MINIO_ROOT_PASSWORD PIPELINE_ACCESS_KEY \
           PIPELINE_SECRET_KEY; do
  [ -n "${!var:-}" ] || problems+=("$var is not set")
done
if [ -n "${PIPELINE_ACCESS_KEY:-}" ] && [ "${#PIPELINE_ACCESS_KEY}" -lt 3 ]; then
  problems+=("PIPELINE_ACCESS_KEY is shorter than 3 characters")
fi
if [ -n "${PIPELINE_SECRET_KEY:-}" ] && [ "${#PIPELINE_SECRET_KEY}" -lt 8 ]; then
  problems+=("PIPELINE_SECRET_KEY is shorter than 8 characters")
fi
if [ "${PIPELINE_ACCESS_KEY:-}" = "${MINIO_ROOT_USER:-}" ]; then
  problems+=("PIPELINE_ACCESS_KEY must differ from MINIO_ROOT_USER: the pipeline is not an admin")
fi
for var in MINIO_ROOT_PASSWORD PIPELINE_ACCESS_KEY PIPELINE_SECRET_KEY \
           $(compgen -v SERASAN_INBOX_PASSWORD_ || true); do
  if [[ "${!var:-}" == *change-me* ]]; then
    problems+=("$var is still the placeholder of .env.example")
  fi
done
policy_text="$(<"$HERE/pipeline-policy.json")"
for bucket in "$LAKE_BUCKET" "$BACKUP_BUCKET"; do
  if [[ "$policy_text" != *"\"arn:aws:s3:::$bucket\""* ]]; then
    problems+=("pipeline-policy.json does not name the bucket $bucket")
  fi
done
if [ "$BACKUP_BUCKET" = "$LAKE_BUCKET" ]; then
  problems+=("BACKUP_BUCKET must differ from LAKE_BUCKET: a backup inside the lake is none")
fi
if [ ${#problems[@]} -gt 0 ]; then
  printf 'minio init: %s\n' "${problems[@]}" >&2
  exit 2
fi

MC_CONFIG_DIR="$(mktemp -d)"
export MC_CONFIG_DIR
trap 'rm -rf "$MC_CONFIG_DIR"' EXIT
printf '%s\n%s\n' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" | "$MC" alias set "$ALIAS" "$MINIO_URL" >/dev/null

"$MC" mb --ignore-existing "$ALIAS/$LAKE_BUCKET"
# versions: two OPD uploads under one name are two versions, and extract takes both; the
# pipeline deletes every version of what it deletes (inbox after ingest, retention), and other
# overwritten versions (exports, staging) expire after 30 days
"$MC" version enable "$ALIAS/$LAKE_BUCKET"
"$MC" ilm rule add --noncurrent-expire-days 30 "$ALIAS/$LAKE_BUCKET" >/dev/null 2>&1 || \
  echo "note: could not add the noncurrent-version expiry rule (mc ilm); old versions are kept"
"$MC" mb --ignore-existing "$ALIAS/$BACKUP_BUCKET"
"$MC" admin policy create "$ALIAS" "$PIPELINE_POLICY" "$HERE/pipeline-policy.json"
printf '%s\n' "$PIPELINE_SECRET_KEY" | "$MC" admin user add "$ALIAS" "$PIPELINE_ACCESS_KEY"
# current mc skips a policy that is attached already; older ones answer "already in effect"
if ! out="$("$MC" admin policy attach "$ALIAS" "$PIPELINE_POLICY" --user "$PIPELINE_ACCESS_KEY" 2>&1)"; then
  if [[ "$out" != *"already in effect"* && "$out" != *"PolicyChangeAlreadyApplied"* ]]; then
    printf '%s\n' "$out" >&2
    exit 1
  fi
fi
printf '%s\n' "$out"
echo "minio init: buckets $LAKE_BUCKET and $BACKUP_BUCKET and their pipeline user are ready"

bash "$HERE/apply-policies.sh"
