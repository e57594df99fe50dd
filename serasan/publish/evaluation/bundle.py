"""The evidence bundle: a ZIP of the PDF, the HTML, the CSV behind every chart and table, and a
manifest with the sha256 and size of every other file.

Deterministic: members in name order, each stamped with the pack's as-of date (not the time it
was built), the same permissions and compression, so the same files give the same ZIP bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

MANIFEST = "manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(about: Mapping[str, Any], files: Mapping[str, bytes]) -> bytes:
    """`about` (regency, year, as-of date, ...) and every file's name, size and sha256, as
    UTF-8 JSON with sorted keys."""
    doc = {
        **about,
        "files": [
            {"name": name, "bytes": len(data), "sha256": sha256(data)}
            for name, data in sorted(files.items())
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def zip_bytes(files: Mapping[str, bytes], as_of: dt.date) -> bytes:
    """The files as a ZIP whose bytes depend on their names and contents only."""
    buf = io.BytesIO()
    stamp = (as_of.year, as_of.month, as_of.day, 0, 0, 0)
    with zipfile.ZipFile(buf, "w") as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever builds it
            info.external_attr = 0o644 << 16
            z.writestr(info, files[name], compresslevel=9)
    return buf.getvalue()
