"""Printing the pack's HTML to PDF with headless Chromium.

`chromium --headless --print-to-pdf` on the HTML written to a temporary folder, with Chromium's
own header and footer off (`--no-pdf-header-footer`): the document's CSS @page rules put the
pack's name, the as-of date, the partial-year note and "Halaman n dari N" in the page margins
(CSS page-margin boxes, which Chromium prints since version 131), and its sections begin on new
pages. No network is used: the HTML has no external reference, and the profile is a throwaway.

Chromium writes the wall-clock time into the PDF's /CreationDate and /ModDate. Both are set to
the pack's as-of date (midnight, Asia/Jakarta) in place, at the same length so the file's cross
references stay valid: the same HTML printed by the same Chromium gives the same bytes. (Whether a
pack is rewritten is decided before printing, by the checksums of its inputs: see `pack`.)
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import tempfile
from pathlib import Path

from serasan.publish.evaluation import options

TIMEOUT_S = 180
_DATE = re.compile(rb"/(CreationDate|ModDate) ?\((D:[0-9]{14}[^)]*)\)")


class PrintError(RuntimeError):
    """Chromium could not print the pack."""


def normalise_dates(data: bytes, as_of: dt.date) -> bytes:
    """/CreationDate and /ModDate set to `as_of` 00:00 +07'00', where they have the length of
    that stamp (Chromium's `D:YYYYMMDDHHmmSS+00'00'`); others are left as they are."""
    stamp = f"D:{as_of:%Y%m%d}000000+07'00'".encode()

    def fix(m: re.Match[bytes]) -> bytes:
        if len(m.group(2)) != len(stamp):
            return m.group(0)
        return m.group(0).replace(m.group(2), stamp)

    return _DATE.sub(fix, data)


def print_pdf(html: bytes, as_of: dt.date, chromium: str | None = None) -> bytes:
    """The PDF of `html` (a self-contained document)."""
    exe = chromium or options.chromium()
    with tempfile.TemporaryDirectory(prefix="serasan-pdf-") as tmp:
        folder = Path(tmp)
        page, out = folder / "pack.html", folder / "pack.pdf"
        page.write_bytes(html)
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",  # workers run as an unprivileged user in a container
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={folder / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise PrintError(f"Chromium did not print the pack within {TIMEOUT_S} s") from None
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise PrintError(
                f"Chromium ({exe}) could not print the pack (exit {proc.returncode}): "
                + " | ".join(tail)
            )
        return normalise_dates(out.read_bytes(), as_of)
