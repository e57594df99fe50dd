"""The system tier: the compose files against the code, the Celery stack on loopback, the report
in headless Chromium. Its services (PostgreSQL, S3, the loaded regencies) are session fixtures of the root
conftest, shared with the integration tier; every test under this folder is marked `system`.

A missing service is an error that says how to provide it, never a skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.system)
