"""The PII key that pseudonym columns are exported with."""

from __future__ import annotations

from typing import Any

from serasan.admin.doctor.report import Check
from serasan.config.settings import Settings


def check_pii(settings: Settings, catalog: Any) -> Check:
    from serasan.publish.pii import MIN_KEY_BYTES

    cols = sorted(
        f"{d.id}.{c.name}"
        for d in (catalog.datasets.values() if catalog else [])
        for c in d.columns
        if c.pii and c.pii_export == "pseudonym"
    )
    listed = f" ({', '.join(cols)})" if cols else ""
    info: dict[str, Any] = {"pseudonym_columns": cols}
    if not settings.pii_key:
        return Check(
            "pii",
            "warn",
            f"SERASAN_PII_KEY is not set: pseudonym columns{listed} are "
            "dropped from exports; set a random key of 32 bytes or more (or the "
            "serasan_pii connection's password)",
            info,
        )
    size = len(settings.pii_key.encode("utf-8"))
    info["key_bytes"] = size
    if size < MIN_KEY_BYTES:
        return Check(
            "pii",
            "fail",
            f"SERASAN_PII_KEY has {size} bytes, pseudonyms need at "
            f"least {MIN_KEY_BYTES}, so exports of datasets with pseudonym "
            f"columns{listed} fail: set a random key of 32 bytes or more",
            info,
        )
    return Check(
        "pii",
        "ok",
        f"SERASAN_PII_KEY is set ({size} bytes): pseudonym "
        f"columns{listed} are exported as HMAC pseudonyms",
        info,
    )
