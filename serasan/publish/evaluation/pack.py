"""Building a regency's evaluation pack for a year and putting it in the lake.

    reports/<slug>/evaluasi/<year>/evaluasi-<slug>-<year>.html   the document
    reports/<slug>/evaluasi/<year>/evaluasi-<slug>-<year>.pdf    the same, printed by Chromium
    reports/<slug>/evaluasi/<year>/bukti-<slug>-<year>.zip       PDF, HTML, CSVs, manifest.json
    reports/<slug>/evaluasi/<year>/manifest.json                 the bundle's manifest + the ZIP's sha256

**Rewritten only when its content changes, decided by the inputs' checksums.** The HTML and the
CSVs are deterministic functions of the warehouse, the catalog, the year and the as-of date;
their sha256s, hashed together, are the pack's `inputs_sha256`. When the lake's manifest already
holds the same digest and every object is there, nothing is printed or written. Otherwise the PDF
is printed (its dates set to the as-of date, `pdf.normalise_dates`), the ZIP built with fixed
timestamps (`bundle.zip_bytes`), and the four objects written, the manifest last. A Chromium
upgrade alone therefore does not rewrite a pack whose content is unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from serasan.config.catalog import Regency
from serasan.lake.keys import REPORTS
from serasan.publish.evaluation import bundle, evidence, html, pdf, tables
from serasan.publish.evaluation.period import Window, default_year
from serasan.runtime.context import RunContext

FORMAT = 1  # the manifest's format; bump when its meaning changes

Printer = Callable[[bytes, dt.date], bytes]


def prefix(regency: Regency, year: int) -> str:
    return f"{REPORTS}{regency.slug}/evaluasi/{year}/"


def names(regency: Regency, year: int) -> dict[str, str]:
    stem = f"{regency.slug}-{year}"
    return {
        "html": f"evaluasi-{stem}.html",
        "pdf": f"evaluasi-{stem}.pdf",
        "zip": f"bukti-{stem}.zip",
        "manifest": bundle.MANIFEST,
    }


def inputs_digest(files: dict[str, bytes]) -> str:
    """sha256 over the names and sha256s of the files the PDF and the ZIP are made from."""
    lines = "".join(f"{n}\t{bundle.sha256(files[n])}\n" for n in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def _unchanged(ctx: RunContext, keys: dict[str, str], digest: str) -> dict[str, Any] | None:
    lake = ctx.lake
    if not lake.exists(keys["manifest"]):
        return None
    try:
        old = json.loads(lake.get(keys["manifest"]))
    except ValueError:
        return None
    if old.get("inputs_sha256") != digest or old.get("format") != FORMAT:
        return None
    if not all(lake.exists(keys[k]) for k in ("html", "pdf", "zip")):
        return None
    return dict(old)


def write(
    ctx: RunContext,
    regency_kode: str,
    year: int | None = None,
    printer: Printer = pdf.print_pdf,
) -> dict[str, Any]:
    """Build the pack of `year` (default: the last complete year before the run date) and put
    it in the lake unless its content is unchanged."""
    started = time.monotonic()
    regency = ctx.catalog.regency(regency_kode)
    window = Window(default_year(ctx.run_date) if year is None else year, ctx.run_date)
    pack = evidence.assemble(ctx, regency, window, ctx.settings.voice_min_reviews)
    csvs = tables.tables(pack)
    files = names(regency, window.year)
    listed = sorted([files["html"], files["pdf"], *csvs, bundle.MANIFEST])
    page = html.render(pack, listed).encode()
    sources = {files["html"]: page, **csvs}
    digest = inputs_digest(sources)
    where = prefix(regency, window.year)
    keys = {k: where + n for k, n in files.items()}
    result: dict[str, Any] = {
        "regency": regency.kode,
        "year": window.year,
        "as_of": window.as_of.isoformat(),
        "partial": window.partial,
        "inputs_sha256": digest,
        "keys": keys,
        "location": ctx.lake.location(keys["html"]),
    }
    old = _unchanged(ctx, keys, digest)
    if old is not None:
        result.update(
            written=False,
            pdf_bytes=old.get("pdf_bytes"),
            zip_bytes=old.get("bundle", {}).get("bytes"),
            zip_sha256=old.get("bundle", {}).get("sha256"),
            seconds=round(time.monotonic() - started, 2),
        )
        return result
    printed = printer(page, window.as_of)
    members = {**sources, files["pdf"]: printed}
    about = {
        "format": FORMAT,
        "regency": regency.kode,
        "regency_name": regency.name,
        "year": window.year,
        "as_of": window.as_of.isoformat(),
        "partial": window.partial,
        "window": [window.start.isoformat(), window.end.isoformat()],
        "min_reviews": pack.min_reviews,
        "inputs_sha256": digest,
        "load_ids": [ld.load_id for ld in pack.loads],
    }
    inner = bundle.manifest(about, members)
    archive = bundle.zip_bytes({**members, bundle.MANIFEST: inner}, window.as_of)
    outer = bundle.manifest(
        {
            **about,
            "pdf_bytes": len(printed),
            "bundle": {
                "name": files["zip"],
                "bytes": len(archive),
                "sha256": bundle.sha256(archive),
            },
        },
        members,
    )
    lake = ctx.lake
    lake.put(keys["html"], page, content_type="text/html; charset=utf-8")
    lake.put(keys["pdf"], printed, content_type="application/pdf")
    lake.put(keys["zip"], archive, content_type="application/zip")
    lake.put(keys["manifest"], outer, content_type="application/json")
    result.update(
        written=True,
        pdf_bytes=len(printed),
        zip_bytes=len(archive),
        zip_sha256=bundle.sha256(archive),
        seconds=round(time.monotonic() - started, 2),
    )
    return result
