"""The warehouse without a database: migrations spell out their own tables, layer names map in
one place. Schema and loads on SQLite and PostgreSQL are in tests/integration/test_warehouse.py;
the region tables, seeded from the reference package (whose crosswalk and history
tests/unit/reference checks against ../shared), in tests/integration/test_region_seed.py."""

from __future__ import annotations

import re

import pytest

from serasan.warehouse.db import MIGRATIONS
from serasan.warehouse.names import locate, qualified


def test_migrations_spell_out_their_own_tables() -> None:
    """A revision must not build its tables from tables.py, which is the schema as it is now."""
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        src = path.read_text(encoding="utf-8")
        assert not re.search(r"warehouse\.tables|fixed_metadata|checkfirst", src), path.name


def test_layer_names_are_mapped_in_one_place() -> None:
    assert locate("core", "fact_x", "postgresql") == ("core", "fact_x")
    assert locate("core", "fact_x", "sqlite") == (None, "core__fact_x")
    assert qualified("mart", "kpi_value", "sqlite") == "mart__kpi_value"
    for bad in ("x; DROP TABLE y", "Fact", "a b"):
        with pytest.raises(ValueError, match="unsafe"):
            locate("core", bad, "postgresql")
