"""The lake's key layout: the one module that knows where each kind of object lives.

Areas (`LakeArea`): inbox/ (uploads), raw/ (immutable bytes + manifest), staging/ (typed
Parquet), quarantine/ (rejected rows), alerts/, docs/ (Data Docs), exports/, reports/, backups/.

    inbox/<regency>-<opd>/<dataset>/<file>                 an OPD's upload, until extract
    raw/<dataset>/<sha256>/<file>                          the file's bytes, never changed
    raw/<dataset>/<sha256>/manifest.json                   where it came from, what became of it
    staging/<dataset>/<sha256>.parsed.parquet              every parsed row (parse -> validate)
    staging/<dataset>/<sha256>.rejects.json                the rows parse set aside, and why
    staging/<dataset>/<sha256>.parquet                     the rows that load (validate -> load)
    quarantine/<dataset>/<sha256>/ditolak.csv|.xlsx        the rejected rows, for the OPD
    alerts/<regency>-<opd>/<dataset>/<sha256[:16]>.txt     the alert about one file
    alerts/<regency>-<opd>/terlambat|ringkasan/<day>.txt   lateness reminder, daily digest
    docs/gx/<dataset>/<sha256[:16]>.html, index.html       Great Expectations Data Docs
    exports/<regency>/<dataset>/<period>/...               Satu Data files of one period
    reports/<regency>/<YYYY-MM>.html                       the monthly report
    backups/warehouse/<day>/, backups/lake/                backups (serasan.admin.backup)

Every key is a plain string; the functions only spell it, they never touch the lake.
"""

from __future__ import annotations

from serasan.common.enums import LakeArea
from serasan.config.catalog import Catalog, Dataset, Regency

INBOX, RAW, STAGING = LakeArea.INBOX.prefix, LakeArea.RAW.prefix, LakeArea.STAGING.prefix
QUARANTINE, ALERTS = LakeArea.QUARANTINE.prefix, LakeArea.ALERTS.prefix
DOCS, EXPORTS, REPORTS = LakeArea.DOCS.prefix, LakeArea.EXPORTS.prefix, LakeArea.REPORTS.prefix
BACKUPS = LakeArea.BACKUPS.prefix

DATA_DOCS = f"{DOCS}gx"  # Great Expectations' pages, one folder per dataset
MANIFEST = "manifest.json"
QUARANTINE_CSV = "ditolak.csv"  # 'rejected' in Bahasa Indonesia: the OPD opens this file
QUARANTINE_XLSX = "ditolak.xlsx"


# ------------------------------------------------------------------------ inbox


def opd_key(catalog: Catalog, ds: Dataset) -> str:
    """The OPD's folder (and MinIO user) name: unique across regencies."""
    return f"{catalog.regency(ds.regency).slug}-{ds.opd}"


def opd_inbox_prefix(opd_user: str) -> str:
    """An OPD's whole inbox folder (its MinIO policy covers this and nothing else)."""
    return f"{INBOX}{opd_user}/"


def inbox_prefix(catalog: Catalog, ds: Dataset) -> str:
    """Where a dataset's uploads land."""
    return f"{opd_inbox_prefix(opd_key(catalog, ds))}{ds.id}/"


# ------------------------------------------------------------------------ raw


def raw_prefix(dataset_id: str, sha256: str) -> str:
    """One raw object's folder: its bytes and its manifest."""
    return f"{RAW}{dataset_id}/{sha256}/"


def raw_key(dataset_id: str, sha256: str, filename: str) -> str:
    return f"{raw_prefix(dataset_id, sha256)}{filename}"


def manifest_key(dataset_id: str, sha256: str) -> str:
    return f"{raw_prefix(dataset_id, sha256)}{MANIFEST}"


# ------------------------------------------------------------------------ staging


def parsed_key(dataset_id: str, sha256: str) -> str:
    """Every row parse read from the file, typed, with `_row`; validate reads it."""
    return f"{STAGING}{dataset_id}/{sha256}.parsed.parquet"


def rejects_key(dataset_id: str, sha256: str) -> str:
    """The rows parse could not type (or that were summary rows), with their cells and reason;
    validate puts them in quarantine beside the rows the suite rejects."""
    return f"{STAGING}{dataset_id}/{sha256}.rejects.json"


def staging_key(dataset_id: str, sha256: str) -> str:
    """The rows validate kept; load merges them into the fact table."""
    return f"{STAGING}{dataset_id}/{sha256}.parquet"


# ------------------------------------------------------------------------ quarantine


def quarantine_prefix(dataset_id: str, sha256: str) -> str:
    return f"{QUARANTINE}{dataset_id}/{sha256}/"


def quarantine_key(dataset_id: str, sha256: str) -> str:
    """The rejected rows as CSV; the XLSX copy is `quarantine_xlsx_key`."""
    return f"{quarantine_prefix(dataset_id, sha256)}{QUARANTINE_CSV}"


def quarantine_xlsx_key(dataset_id: str, sha256: str) -> str:
    return f"{quarantine_prefix(dataset_id, sha256)}{QUARANTINE_XLSX}"


# ------------------------------------------------------------------------ alerts


def alert_key(catalog: Catalog, ds: Dataset, sha256: str) -> str:
    """The alert about one file, in its OPD's folder."""
    return f"{ALERTS}{opd_key(catalog, ds)}/{ds.id}/{sha256[:16]}.txt"


def lateness_alert_key(opd: str, day: str) -> str:
    """An OPD's lateness reminder of one day (`opd` as `opd_key`)."""
    return f"{ALERTS}{opd}/terlambat/{day}.txt"


def digest_alert_key(opd: str, day: str) -> str:
    """An OPD's daily digest (`opd` as `opd_key`)."""
    return f"{ALERTS}{opd}/ringkasan/{day}.txt"


# ------------------------------------------------------------------------ docs


def docs_prefix(dataset_id: str) -> str:
    return f"{DATA_DOCS}/{dataset_id}/"


def docs_key(dataset_id: str, sha256: str) -> str:
    """The Data Docs page of one file's validation."""
    return f"{docs_prefix(dataset_id)}{sha256[:16]}.html"


def docs_index_key(dataset_id: str) -> str:
    return f"{docs_prefix(dataset_id)}index.html"


# ------------------------------------------------------------------------ exports, reports


def export_prefix(catalog: Catalog, ds: Dataset) -> str:
    """A dataset's Satu Data folder: changelog, DCAT record, one folder per period."""
    return f"{EXPORTS}{catalog.regency(ds.regency).slug}/{ds.id}/"


def report_key(regency: Regency, period: str) -> str:
    """A regency's monthly report (`period` YYYY-MM)."""
    return f"{REPORTS}{regency.slug}/{period}.html"
