"""The lake's key layout: the one module that knows where each kind of object lives.

Areas (`LakeArea`): inbox/ (uploads), raw/ (immutable bytes + manifest), staging/ (typed
Parquet), quarantine/ (rejected rows), alerts/, docs/ (Data Docs), exports/, reports/, backups/.
"""

from __future__ import annotations

from serasan.config.catalog import Catalog, Dataset


def opd_key(catalog: Catalog, ds: Dataset) -> str:
    """The OPD's folder (and MinIO user) name: unique across regencies."""
    return f"{catalog.regency(ds.regency).slug}-{ds.opd}"


def inbox_prefix(catalog: Catalog, ds: Dataset) -> str:
    return f"inbox/{opd_key(catalog, ds)}/{ds.id}/"
