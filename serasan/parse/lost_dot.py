"""Counts whose thousands dot became a decimal point on the way (`167.228`, `50.36`).

Some portals export `167.228` people (167,228) through a tool that read the dot as a decimal
point, so the file holds 167.228, and `50.360` as 50.36. Whether a value is 50.36 or 50,360
cannot be told from the value: the parser corrects it only in an integer column that declares
`thousands_dot_lost: true`, and elsewhere an integer column rejects such a value naming both
readings. Under the setting, a whole number below 1,000 (`950`) is as ambiguous (950, or 950,000
that lost `.000` entirely) and is rejected too; zero and whole numbers from 1,000 up are read as
they are.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_ONE_DOT = re.compile(r"^([-+]?)(\d{1,3})\.(\d{1,3})$")
_INTACT = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+$")  # 1.234.567: dots still thousands


def thousands_reading(v: Any) -> int | None:
    """The whole number `v` means if its thousands dot became a decimal point, or None when
    it cannot mean one (no dot, more than three decimals, or 1,000 and more before the dot)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, float):
        if not math.isfinite(v) or v.is_integer() or abs(v) >= 1000:
            return None
        x = v * 1000
        r = round(x)
        return int(r) if abs(x - r) < 1e-6 else None
    if isinstance(v, str):
        m = _ONE_DOT.match(v.strip())
        if m is None:
            return None
        n = int(m.group(2)) * 1000 + int(m.group(3).ljust(3, "0"))
        return -n if m.group(1) == "-" else n
    return None


def _id(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def both_readings(v: Any) -> tuple[str, str] | None:
    """(Indonesian, English) words naming both readings of a value that may have lost its
    thousands dot, e.g. '50.36 bisa berarti 50,36 atau 50.360'; None when it cannot have."""
    n = thousands_reading(v)
    if n is None:
        return None
    shown = repr(v) if isinstance(v, float) else str(v).strip()
    return (
        f"{shown} bisa berarti {shown.replace('.', ',')} atau {_id(n)} (titik ribuan yang "
        "hilang); bila berkas ini kehilangan titik ribuannya, nyatakan thousands_dot_lost: true "
        "pada kolom ini",
        f"{shown} could be {shown} or {n:,} (a thousands dot that became a decimal point); if "
        "the file lost its thousands dots, declare thousands_dot_lost: true on this column",
    )


def whole_is_ambiguous(n: int) -> tuple[str, str] | None:
    """Under thousands_dot_lost: a whole number below 1,000 may be itself or n,000."""
    if n == 0 or abs(n) >= 1000:
        return None
    return (
        f"{n} bisa berarti {n} atau {_id(n * 1000)} (thousands_dot_lost: ribuan yang "
        "kehilangan '.000'); tulis angkanya lengkap",
        f"{n} could be {n} or {n * 1000:,} (thousands_dot_lost: a thousand that lost its "
        "'.000'); write the number in full",
    )


def intact(text: str) -> int | None:
    """`1.234.567`: a count whose thousands dots survived, as a whole number."""
    t = text.strip()
    if not _INTACT.match(t) or _ONE_DOT.match(t):
        return None
    return int(t.replace(".", ""))


@dataclass
class Corrections:
    """How many values each column read with its lost thousands dot restored, for the note."""

    counts: Counter[str] = field(default_factory=Counter)
    example: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(self, header: str, v: Any, n: int) -> None:
        self.counts[header] += 1
        shown = repr(v) if isinstance(v, float) else str(v).strip()
        # the example shows a value whose digits move (50.36 -> 50.360), where there is one
        if header not in self.example or len(self.example[header][0].rsplit(".", 1)[-1]) == 3:
            self.example[header] = (shown, n)

    def notes(self) -> list[str]:
        out = []
        for header, count in self.counts.items():
            shown, n = self.example[header]
            out.append(
                f"kolom '{header}': {count} nilai dibaca dengan titik ribuan yang hilang "
                f"(thousands_dot_lost), misalnya {shown} -> {_id(n)} (column '{header}': "
                f"{count} values read with their lost thousands dot, e.g. {shown} -> {n:,})"
            )
        return out
