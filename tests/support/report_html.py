"""Reading the regency report back: its month, its elements, its Indonesian numbers. Shared by
the report tests (integration) and the browser test (system)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

MONTH = "2026-10"  # the month a run on RUN_DATE reports


class Elements(HTMLParser):
    """Every element as (tag, attrs, text directly inside it), in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "path": [e["tag"] for e in self._open]}
        el["classes"] = (el["attrs"].get("class") or "").split()
        el["inside"] = [dict(e["attrs"]) for e in self._open]
        self.items.append(el)
        if tag not in ("meta", "br", "hr", "img", "input", "link"):  # HTML void elements
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1]["text"] += data


def parse(html: str) -> list[dict[str, Any]]:
    p = Elements()
    p.feed(html)
    return p.items


def id_number(text: str) -> float:
    """'1.234,5' -> 1234.5 (read independently of the code that wrote it)."""
    return float(text.strip().replace(".", "").replace(",", "."))


def within(el: dict[str, Any], **attr: str) -> bool:
    return any(all(a.get(k.replace("_", "-")) == v for k, v in attr.items()) for a in el["inside"])
