"""Where things are, from this file (not from the test module asking): the checkout's root,
tests/, and tests/fixtures (data files the tests read)."""

from __future__ import annotations

from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TESTS_DIR.parent
FIXTURES_DIR = TESTS_DIR / "fixtures"
