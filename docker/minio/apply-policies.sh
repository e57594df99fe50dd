#!/usr/bin/env bash
# Create or update one MinIO policy and one user per OPD from the committed policies/*.json, and
# attach each policy to its user: each OPD may then write only into inbox/<regency>-<opd>/.
# The same steps as serasan.inbox_access.apply_minio, with the MinIO client `mc`; safe to rerun
# (a policy or user that exists is replaced, an attached policy stays attached).
#
# Everything secret comes from the environment and is passed to mc on stdin, never as arguments:
#   MINIO_URL                            the server, e.g. http://minio:9000
#   MINIO_ROOT_USER, MINIO_ROOT_PASSWORD an admin of that server
#   SERASAN_INBOX_PASSWORD_<USER>        one per OPD user; USER is the policy file name without
#                                        "serasan-inbox-", upper-cased, "-" as "_", e.g.
#                                        SERASAN_INBOX_PASSWORD_MUARAENIM_DINSOS (8+ characters)
# Optional: POLICY_DIR (default: policies/ beside this script), MC (default: mc).
set -euo pipefail

POLICY_DIR="${POLICY_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/policies}"
MC="${MC:-mc}"
ALIAS=serasan-admin

shopt -s nullglob
files=("$POLICY_DIR"/serasan-inbox-*.json)
if [ ${#files[@]} -eq 0 ]; then
  echo "apply-policies: no serasan-inbox-*.json in $POLICY_DIR" >&2
  exit 2
fi

password_var() {  # serasan-inbox-muaraenim-dinsos.json -> SERASAN_INBOX_PASSWORD_MUARAENIM_DINSOS
  local user
  user="$(basename "$1" .json)"
  user="${user#serasan-inbox-}"
  printf 'SERASAN_INBOX_PASSWORD_%s' "$(printf '%s' "$user" | tr 'a-z-' 'A-Z_')"
}

# Check everything before changing anything on the server.
problems=()
for var in MINIO_URL MINIO_ROOT_USER MINIO_ROOT_PASSWORD; do
  [ -n "${!var:-}" ] || problems+=("$var is not set")
done
for file in "${files[@]}"; do
  var="$(password_var "$file")"
  value="${!var:-}"
  if [ -z "$value" ]; then
    problems+=("$var is not set")
  elif [ "${#value}" -lt 8 ]; then
    problems+=("$var is shorter than 8 characters")
  fi
done
if [ ${#problems[@]} -gt 0 ]; then
  printf 'apply-policies: %s\n' "${problems[@]}" >&2
  exit 2
fi

# A throwaway mc configuration, so the admin credentials are not left in ~/.mc.
MC_CONFIG_DIR="$(mktemp -d)"
export MC_CONFIG_DIR
trap 'rm -rf "$MC_CONFIG_DIR"' EXIT
printf '%s\n%s\n' "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" | "$MC" alias set "$ALIAS" "$MINIO_URL" >/dev/null

for file in "${files[@]}"; do
  name="$(basename "$file" .json)"
  user="${name#serasan-inbox-}"
  var="$(password_var "$file")"
  "$MC" admin policy create "$ALIAS" "$name" "$file"
  printf '%s\n' "${!var}" | "$MC" admin user add "$ALIAS" "$user"
  # older mc answer "already in effect" when the policy is attached already: that is success
  if ! out="$("$MC" admin policy attach "$ALIAS" "$name" --user "$user" 2>&1)"; then
    if ! grep -q -e 'already in effect' -e 'PolicyChangeAlreadyApplied' <<<"$out"; then
      printf '%s\n' "$out" >&2
      exit 1
    fi
  fi
  printf '%s\n' "$out"
done
echo "apply-policies: ${#files[@]} OPD users can now upload to their own inbox/ folder only"
