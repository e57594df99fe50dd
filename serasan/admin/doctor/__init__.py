"""`serasan doctor`: check, with the current settings, everything a deployment needs, and say
plainly what is wrong and how to fix it.

Checks, in order: the catalog (loaded, then the same checks as `serasan catalog validate`), the
lake (folder writable, or S3 bucket present and a probe object written and read back), the
warehouse (reachable, Alembic at head, fact tables as the catalog wants them) and, on
PostgreSQL, the role connected (can it write meta and core, can it upgrade), SMTP (connect,
EHLO, STARTTLS or implicit TLS as `delivery` does, login; no mail is sent), CKAN (status_show,
the regencies' organizations, and whether the token may create datasets in them), the PII key,
and backups (the last warehouse dump and lake copy).

Each check is ok, warn or fail with one sentence naming what (host:port, bucket, revision) and
the fix. Nothing is changed: no bucket or database is created, no migration runs. One object is
written: the lake probe `_doctor/probe.txt`, overwritten on every run and never deleted, since
retention is the only code that deletes from the lake (tests/integration/test_retention.py holds it to that).
Every network call has a short timeout, so a dead service answers in seconds.

Secrets never appear in the output: messages are built from host names, ports, user names,
bucket names and revisions only, and every error text from a library is scrubbed of each
secret in the settings before it is used (a CKAN portal may echo a refused token back).

One module per concern: `report` (the `Check` result, the text and JSON report), `scrub`
(secrets out of error texts), `runner` (`run_doctor`: every check, in order), and one module per
thing checked: `catalog`, `lake`, `warehouse` (with `schema` and `role`), `smtp`, `ckan`, `pii`,
`backups`. Libraries a check needs (minio, alembic, ckanapi, requests) are imported when it
runs. Every public name stays importable from `serasan.admin.doctor`.
"""

from __future__ import annotations

from serasan.admin.doctor.backups import BACKUP_MAX_AGE_DAYS, check_backups
from serasan.admin.doctor.catalog import check_catalog
from serasan.admin.doctor.ckan import check_ckan
from serasan.admin.doctor.lake import PROBE_KEY, check_lake
from serasan.admin.doctor.pii import check_pii
from serasan.admin.doctor.report import STATUSES, Check, as_json, failed, render
from serasan.admin.doctor.runner import TIMEOUT, run_doctor
from serasan.admin.doctor.smtp import LOOPBACK, check_smtp
from serasan.admin.doctor.warehouse import check_warehouse

__all__ = [
    "BACKUP_MAX_AGE_DAYS",
    "LOOPBACK",
    "PROBE_KEY",
    "STATUSES",
    "TIMEOUT",
    "Check",
    "as_json",
    "check_backups",
    "check_catalog",
    "check_ckan",
    "check_lake",
    "check_pii",
    "check_smtp",
    "check_warehouse",
    "failed",
    "render",
    "run_doctor",
]
