"""What a check found, and the report: text for a terminal, or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("ok", "warn", "fail")


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def failed(checks: list[Check]) -> bool:
    return any(c.status == "fail" for c in checks)


def as_json(checks: list[Check]) -> str:
    return json.dumps(
        {"ok": not failed(checks), "checks": [asdict(c) for c in checks]},
        indent=2,
        ensure_ascii=False,
    )


def render(checks: list[Check]) -> str:
    fails = sum(c.status == "fail" for c in checks)
    warns = sum(c.status == "warn" for c in checks)
    head = (
        "serasan doctor: nothing fails" if not fails else f"serasan doctor: {fails} problem(s)"
    ) + (f", {warns} warning(s)" if warns else "")
    width = max(len(c.name) for c in checks)
    label = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    return "\n".join(
        [head] + [f"  {label[c.status]}  {c.name.ljust(width)}  {c.message}" for c in checks]
    )
