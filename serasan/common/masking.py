"""Masking of personal data (NIK, phone numbers, names) before anything leaves the OPD's hands.

These mask whole cells of columns the catalog marks `pii` (alert examples). Personal data
inside free text (reviews, complaints) is masked by `serasan.publish.pii.mask_text`, beside the
scanner whose detection it shares.
"""

from __future__ import annotations

import re


def mask_value(value: object) -> str:
    """Keep just enough to recognise a row: NIK 1606**********12, 0812****7890, S*** A***."""
    if value is None:
        return ""
    s = str(value).strip()
    digits = re.sub(r"\D", "", s)
    if len(digits) >= 8 and not re.search(r"[A-Za-z]", s):  # NIK, phone, account numbers
        keep_head = 4
        return digits[:keep_head] + "*" * (len(digits) - keep_head - 2) + digits[-2:]
    return " ".join(w[0] + "***" for w in s.split() if w)


def mask_record(record: dict[str, object], pii_columns: list[str]) -> dict[str, object]:
    return {
        k: (mask_value(v) if k in pii_columns and v not in (None, "") else v)
        for k, v in record.items()
    }
