"""The pack's setting of its own, read from the environment like Serasan's others (SERASAN_*):

- `SERASAN_CHROMIUM`: the Chromium that prints the PDF (default: `chromium`, `chromium-browser`
  or `google-chrome` on the PATH; Debian's package `chromium`, which the Docker image installs).

The minimum number of reviews a share is shown for is Serasan's `Settings.voice_min_reviews`
(SERASAN_VOICE_MIN_REVIEWS, default 20), the same the citizen-voice KPIs are held to.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

CHROMIUM_ENV = "SERASAN_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium(env: Mapping[str, str] | None = None) -> str:
    """The Chromium executable; FileNotFoundError saying how to provide one."""
    given = (os.environ if env is None else env).get(CHROMIUM_ENV, "").strip()
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            raise FileNotFoundError(f"{CHROMIUM_ENV}={given!r} is not an executable file")
        return given
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError(
        "no Chromium to print the evaluation pack's PDF: install Debian's package `chromium` "
        f"(the Docker image has it) or set {CHROMIUM_ENV} to its path"
    )
