"""GX Data Docs in the lake: one HTML page per validated file, and an index per regency.

Rendered with GX's own renderer and page view from the validation result of our in-task run,
so the pages are the Data Docs people know, without a file-backed GX project to keep.
"""

from __future__ import annotations

import html
from typing import Any, cast

from serasan.config.catalog import Catalog, Dataset
from serasan.lake import keys
from serasan.lake.store import Lake

PREFIX = keys.DATA_DOCS


def render(result: Any) -> str:
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    page = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(result))
    return cast(str, page)


def page_key(ds: Dataset, sha256: str) -> str:
    return keys.docs_key(ds.id, sha256)


def write(
    lake: Lake, catalog: Catalog, ds: Dataset, sha256: str, result: Any, filename: str
) -> str:
    """Write the file's Data Docs page and refresh the dataset's index; returns the page key."""
    key = page_key(ds, sha256)
    lake.put(key, render(result).encode("utf-8"), "text/html; charset=utf-8")
    pages = sorted(k for k in lake.list(keys.docs_prefix(ds.id)) if not k.endswith("index.html"))
    items = "\n".join(
        f'<li><a href="{html.escape(k.rsplit("/", 1)[-1])}">'
        f"{html.escape(k.rsplit('/', 1)[-1])}</a></li>"
        for k in pages
    )
    index = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(ds.title)}"
        f"</title></head><body><h1>{html.escape(ds.title)}</h1>"
        f"<p>{html.escape(catalog.regency(ds.regency).name)} - {html.escape(ds.opd)}; "
        f"latest file: {html.escape(filename)}</p><ul>{items}</ul></body></html>"
    )
    lake.put(keys.docs_index_key(ds.id), index.encode("utf-8"), "text/html; charset=utf-8")
    return key
