"""The closed sets of words Serasan stores and passes around, one `StrEnum` each.

Every value is the string stored in the warehouse, the lake, the catalog's YAML and XCom, so a
member compares, hashes, formats and serialises (json, SQLAlchemy, psycopg) exactly as its
string does: `LoadStatus.BLOCKED == "blocked"`, `f"{LoadStatus.BLOCKED}" == "blocked"`. Nothing
stored needs a migration; code that reads a plain string back can compare it to a member.
"""

from __future__ import annotations

from enum import StrEnum


class LoadStatus(StrEnum):
    """`meta.load_run.status`: what happened to one raw file."""

    LOADED = "loaded"  # every row loaded
    QUARANTINED = "quarantined"  # valid rows loaded, the others in quarantine/ (policy quarantine)
    WARNED = "warned"  # every row loaded that the fact table can hold, the OPD told (policy warn)
    BLOCKED = "blocked"  # some rows failed, so none loaded (policy block)
    REJECTED = "rejected"  # the file could not be read at all
    RETRACTED = "retracted"  # an operator withdrew the load (`serasan warehouse retract`)


# Loads whose outcome is final: their raw object is not picked up again (but by --force).
TERMINAL = (
    LoadStatus.LOADED,
    LoadStatus.QUARANTINED,
    LoadStatus.WARNED,
    LoadStatus.BLOCKED,
    LoadStatus.REJECTED,
    LoadStatus.RETRACTED,
)
# Loads that put rows into a fact table.
APPLIED = (LoadStatus.LOADED, LoadStatus.QUARANTINED, LoadStatus.WARNED)
# Loads that put nothing into a fact table although the file arrived.
NOTHING_LOADED = (LoadStatus.BLOCKED, LoadStatus.REJECTED)


class QualityPolicy(StrEnum):
    """A dataset's `quality_policy` in the catalog: what failing rows do to a file."""

    BLOCK = "block"  # any failing row: nothing loads
    QUARANTINE = "quarantine"  # failing rows go to quarantine/, the others load
    WARN = "warn"  # every row loads (but those the fact table cannot hold); the OPD is told


class LoadMode(StrEnum):
    """A dataset's `load_mode` in the catalog: how a file's rows merge into the fact table."""

    UPSERT = "upsert"  # by primary key; rows not in the file stay
    REPLACE_PERIOD = "replace_period"  # the file replaces every row of the periods it covers


class LakeArea(StrEnum):
    """The lake's top-level folders; `serasan.lake.keys` builds every key under them."""

    INBOX = "inbox"  # uploads, per OPD and dataset, until extract moves them to raw/
    RAW = "raw"  # the immutable bytes of each file, and its manifest
    STAGING = "staging"  # typed Parquet: parsed rows, then the rows that passed validation
    QUARANTINE = "quarantine"  # rejected rows (CSV and XLSX) for the OPD to fix
    ALERTS = "alerts"  # the text of every alert sent to an OPD
    DOCS = "docs"  # Great Expectations Data Docs
    EXPORTS = "exports"  # Satu Data exports, per regency and dataset
    REPORTS = "reports"  # monthly HTML reports, per regency
    BACKUPS = "backups"  # warehouse dumps and the lake's backup index
    DOCTOR = "_doctor"  # `serasan doctor`'s scratch objects

    @property
    def prefix(self) -> str:
        """The folder as a key prefix: 'raw/'."""
        return f"{self.value}/"


class ObjectAction(StrEnum):
    """`meta.object_event.action`: what extract did with an inbox object."""

    INGESTED = "ingested"  # copied to raw/, to be processed
    SKIPPED = "skipped"  # the same bytes were processed before


class ExportStatus(StrEnum):
    """`meta.export_run.status`: one dataset-period's Satu Data export."""

    READY = "ready"  # files written under exports/
    BLOCKED = "blocked"  # held back: cells look like personal data
    WITHDRAWN = "withdrawn"  # every row of the period was retracted


class PublishStatus(StrEnum):
    """The CKAN portal state of one exported period's file."""

    PUBLISHED = "published"
    PENDING = "pending"  # not sent yet (portal outage): the next run tries again
    BLOCKED = "blocked"  # held back by the personal-data scan


class AlertStatus(StrEnum):
    """`meta.alert.status` and its deliveries'."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
