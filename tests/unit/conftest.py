"""The unit tier: no external service, only SQLite files and local folders (the root conftest's
`catalog`, `local_settings` and `shared_dir`). PostgreSQL, S3, SMTP and loopback servers are
not even visible from here. Every test under this folder is marked `unit`."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.unit)
