"""Registry keys from a real warehouse (SQLite and PostgreSQL): `registry_params` reads the
registry dataset's fact table, and the custom IN_REGISTRY expectation catches what is not in it.
The expectations themselves are unit-tested in tests/unit/expectations/test_custom_expectations.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert

from serasan.config.catalog import Catalog, Dataset
from serasan.demo.generate import generate_dataset
from serasan.parse.reader import parse_file
from serasan.quality import rules
from serasan.quality.engine import suite_params, validate
from serasan.quality.registry import (
    RegistryError,
    check_registry_refs,
    registry_params,
    registry_refs,
)
from serasan.quality.suites import load_validated_catalog
from serasan.warehouse.db import make_engine
from serasan.warehouse.facts import fact_table

CATALOG = load_validated_catalog()
RUN_DATE = dt.date(2026, 11, 1)
AS_OF = dt.date(2026, 10, 31)
PARAMS = suite_params(RUN_DATE)
REGISTRY = rules.IN_REGISTRY
REG_PARAM = rules.registry_param("uji_registri_kamera", "kode_kamera")


def exp(etype: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": etype, "kwargs": kwargs}


def suite(*expectations: dict[str, Any]) -> dict[str, Any]:
    return {"name": "uji", "expectations": list(expectations)}


def rows_of(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


# ----------------------------------------------------------------- 6. registry keys, from the wareh


def _registry_dataset() -> Dataset:
    """A test-only registry: the CCTV devices Diskominfo has installed."""
    base = CATALOG.datasets["muba_cctv_kita"].model_dump()
    base.update(
        id="uji_registri_kamera",
        title="Registri Perangkat CCTV (uji)",
        cadence="yearly",
        columns=[
            {
                "name": "kode_kamera",
                "type": "string",
                "nullable": False,
                "description": "Nomor registrasi perangkat",
            },
            {
                "name": "tahun_pasang",
                "type": "integer",
                "nullable": False,
                "description": "Tahun pemasangan",
            },
            {
                "name": "kode_kecamatan",
                "type": "string",
                "nullable": True,
                "description": "Kecamatan lokasi",
            },
        ],
        primary_key=["kode_kamera"],
        period={"column": "tahun_pasang", "granularity": "year"},
        region={"column": "kode_kecamatan", "level": "kecamatan"},
        load_mode="upsert",
    )
    return Dataset.model_validate(base)


def _with_registry() -> Catalog:
    reg = _registry_dataset()
    return Catalog(
        root=CATALOG.root,
        regencies=CATALOG.regencies,
        datasets={**CATALOG.datasets, reg.id: reg},
        kpis=CATALOG.kpis,
    )


CCTV_RULE = exp(
    REGISTRY,
    column="kode_kamera",
    registry="uji_registri_kamera",
    registry_column="kode_kamera",
    value_set={"$PARAMETER": REG_PARAM},
)


@pytest.fixture
def engine(engine):  # noqa: ANN001, ANN201 - extends conftest's engine
    """The shared engine, with the core schema the registry tests write into."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql('CREATE SCHEMA IF NOT EXISTS "core"')
    return engine


def test_registry_params_read_the_warehouse_and_catch_unregistered_cameras(engine: Any) -> None:
    catalog = _with_registry()
    reg = catalog.datasets["uji_registri_kamera"]
    the_suite = {
        "name": "muba_cctv_kita",
        "expectations": [*CATALOG.suites["muba_cctv_kita"]["expectations"], CCTV_RULE, CCTV_RULE],
    }
    with pytest.raises(RegistryError, match="no fact table yet"):
        registry_params(engine, catalog, the_suite)
    table = fact_table(reg, engine.dialect.name)
    table.create(engine)
    assert registry_params(engine, catalog, the_suite) == {REG_PARAM: []}

    registered = [f"CCTV-{i:04d}" for i in range(1, 41)]  # 60 cameras report, 40 are registered
    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [
                {"kode_kamera": k, "tahun_pasang": 2024, "kode_kecamatan": None, "load_id": "uji"}
                for k in reversed(registered)
            ],
        )
    params = registry_params(engine, catalog, the_suite)
    assert params == {REG_PARAM: registered}  # distinct, sorted

    ds = CATALOG.datasets["muba_cctv_kita"]
    gf = generate_dataset(ds, CATALOG, rows=120, fmt="csv", seed=5, as_of=AS_OF)
    batch = parse_file(gf.data, gf.filename, ds).table
    v = validate(batch, the_suite, {**PARAMS, **params})
    *_, first, second = v.results
    expected = [i for i, k in enumerate(batch["kode_kamera"].to_pylist()) if k not in registered]
    assert expected and rows_of(first.mask) == expected == rows_of(second.mask)
    assert rows_of(v.failing) == expected  # clean data: only the unregistered cameras fail


def test_registry_errors_are_plain() -> None:
    with pytest.raises(RegistryError, match="not a dataset of the catalog"):
        registry_params(make_engine("sqlite://"), CATALOG, suite(CCTV_RULE))
    wrong_col = exp(
        REGISTRY,
        column="kode_kamera",
        registry="uji_registri_kamera",
        registry_column="nomor",
        value_set={"$PARAMETER": "x"},
    )
    with pytest.raises(RegistryError, match="no column 'nomor'"):
        registry_params(make_engine("sqlite://"), _with_registry(), suite(wrong_col))
    # a suite without registry rules needs no database at all
    assert registry_params(None, CATALOG, CATALOG.suites["muba_cctv_kita"]) == {}  # type: ignore[arg-type]
    assert registry_refs(suite(CCTV_RULE, CCTV_RULE)) == [
        (REG_PARAM, "uji_registri_kamera", "kode_kamera")
    ]


def test_check_registry_refs_across_datasets() -> None:
    catalog = _with_registry()
    suites = {**CATALOG.suites, "uji_registri_kamera": suite()}
    good = {**suites, "muba_cctv_kita": suite(CCTV_RULE)}
    assert check_registry_refs(catalog, good) == []
    typed = exp(
        REGISTRY,
        column="jam_online",
        registry="uji_registri_kamera",
        registry_column="kode_kamera",
        value_set={"$PARAMETER": REG_PARAM},
    )
    unknown = exp(
        REGISTRY,
        column="kode_kamera",
        registry="muba_registri_kamera_cctv",
        registry_column="kode_kamera",
        value_set={"$PARAMETER": "x"},
    )
    problems = check_registry_refs(catalog, {**suites, "muba_cctv_kita": suite(typed, unknown)})
    assert len(problems) == 2
    assert "'jam_online' is number but uji_registri_kamera.kode_kamera is string" in problems[0]
    assert "'muba_registri_kamera_cctv' is not a dataset of the catalog" in problems[1]
    assert check_registry_refs(CATALOG) == []  # the shipped catalog has no registry rules yet
