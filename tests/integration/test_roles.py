"""Warehouse roles on the real PostgreSQL: the owner migrates, the loader loads, the reader reads.

Roles belong to the whole cluster. `upgrade` creates the three group roles with their fixed
names (NOLOGIN, and harmless once a test database is dropped); the LOGIN users these tests
connect as get unique names and are dropped afterwards, as are the uniquely named group roles
of the idempotence test.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from serasan.config.catalog import Catalog, Column
from serasan.config.settings import Settings
from serasan.demo.generate import generate_dataset
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.publish import exports, kpi
from serasan.runtime.context import RunContext
from serasan.warehouse.db import WarehouseNotUpgraded, make_engine, upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.names import LAYERS
from serasan.warehouse.roles import LOADER, OWNER, READER, create_roles, ensure_roles
from serasan.warehouse.tables import table
from tests.support.warehouse import RUN_DATE

DENIED = "42501"  # insufficient_privilege


@pytest.fixture
def owner_engine(pg_url: str, catalog: Catalog) -> Iterator[Engine]:
    """The warehouse, upgraded by the superuser the suite connects as (so: as serasan_owner)."""
    eng = make_engine(pg_url)
    upgrade(eng, catalog)
    yield eng
    eng.dispose()


def _engine(login_as: Callable[[str], str], group: str) -> Engine:
    eng = make_engine(login_as(group))
    login_as.engines.append(eng)  # type: ignore[attr-defined]
    return eng


def _denied(eng: Engine, stmt: object) -> str:
    with pytest.raises(DBAPIError) as exc, eng.begin() as conn:
        conn.execute(stmt if not isinstance(stmt, str) else text(stmt))
    assert exc.value.orig.sqlstate == DENIED, exc.value
    return str(exc.value.orig)


def _kpi_row(code: str = "ME-ENV-01") -> dict:
    return {
        "kpi_code": code,
        "regency": "16.03",
        "pillar": "environment",
        "period": "2026-01",
        "kode_wilayah": "16.03",
        "value": 51.0,
        "target": 60.0,
        "achievement_pct": 85.0,
        "status": "at_risk",
        "satuan": "persen",
        "load_ids": "l1",
    }


def test_the_owner_role_owns_the_layers_and_every_table(owner_engine: Engine) -> None:
    with owner_engine.connect() as conn:
        schemas = dict(
            conn.execute(
                text(
                    "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                    "WHERE nspname = ANY(:s)"
                ),
                {"s": list(LAYERS)},
            ).all()
        )
        tables = conn.execute(
            text(
                "SELECT schemaname || '.' || tablename, tableowner FROM pg_tables "
                "WHERE schemaname = ANY(:s)"
            ),
            {"s": list(LAYERS)},
        ).all()
        roles = conn.execute(
            text("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(:r) ORDER BY 1"),
            {"r": [OWNER, LOADER, READER]},
        ).all()
    assert schemas == dict.fromkeys(LAYERS, OWNER)
    assert len(tables) > 20 and {owner for _, owner in tables} == {OWNER}
    assert [tuple(r) for r in roles] == [(LOADER, False), (OWNER, False), (READER, False)]


def test_the_reader_reads_marts_and_nothing_else(
    owner_engine: Engine, catalog: Catalog, login_as
) -> None:  # noqa: ANN001
    mart = table("mart", "kpi_value", "postgresql")
    with owner_engine.begin() as conn:
        conn.execute(insert(mart).values(**_kpi_row()))
    reader = _engine(login_as, READER)
    with reader.connect() as conn:
        assert conn.execute(select(mart.c.kpi_code, mart.c.value)).all() == [("ME-ENV-01", 51.0)]
    assert "kpi_value" in _denied(reader, insert(mart).values(**_kpi_row("ME-ENV-02")))
    fact = fact_table(catalog.dataset("muaraenim_timbulan_sampah"), "postgresql")
    assert "core" in _denied(reader, select(func.count()).select_from(fact))
    assert "meta" in _denied(reader, select(table("meta", "load_run", "postgresql")))
    assert "ref" in _denied(reader, select(table("ref", "region", "postgresql")))
    with pytest.raises(WarehouseNotUpgraded, match="serasan warehouse upgrade"):
        upgrade(reader, catalog)  # and a reader has no business upgrading


def test_the_loader_loads_computes_and_exports_but_cannot_drop(
    owner_engine: Engine, catalog: Catalog, login_as, tmp_path: Path
) -> None:  # noqa: ANN001
    loader = _engine(login_as, LOADER)
    assert upgrade(loader, catalog) == []  # the DAGs' extract step: a check, nothing to do
    settings = Settings(
        lake_url=str(tmp_path / "lake"),
        warehouse_url=loader.url.render_as_string(hide_password=False),
    )
    ctx = RunContext(
        settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="test", run_id="run-1"
    )
    loaded = {}
    for ds_id in ("muaraenim_timbulan_sampah", "muaraenim_survei_kepuasan"):
        ds = catalog.dataset(ds_id)
        gen = generate_dataset(ds, catalog, rows=40, defect_rate=0.0, seed=2)
        ctx.lake.put(inbox_prefix(catalog, ds) + gen.filename, gen.data)
        [summary] = run_dataset(ctx, ds)
        assert summary.status == "loaded", summary
        loaded[ds_id] = summary.rows_loaded
    assert kpi.compute(ctx, "16.03")["kpis"]  # writes mart.kpi_value
    assert exports.export_regency(ctx, "16.03")["periods_written"] > 0  # meta.export_run
    with owner_engine.connect() as conn:
        for ds_id, n in loaded.items():
            fact = fact_table(catalog.dataset(ds_id), "postgresql")
            assert conn.execute(select(func.count()).select_from(fact)).scalar() == n > 0
        assert (
            conn.execute(
                select(func.count()).select_from(table("meta", "load_run", "postgresql"))
            ).scalar()
            == 2
        )
        leftovers = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'")
        ).scalar()
    assert leftovers == 0
    assert "must be owner" in _denied(loader, "DROP TABLE core.fact_muaraenim_timbulan_sampah")
    assert "must be owner" in _denied(loader, "ALTER TABLE core.dim_region ADD COLUMN x int")
    _denied(loader, "DELETE FROM meta.alembic_version")
    _denied(loader, "CREATE TABLE core.mine (x int)")


def test_the_loader_changes_no_schema_and_says_who_can(
    owner_engine: Engine, catalog: Catalog, login_as
) -> None:  # noqa: ANN001
    ds = catalog.dataset("muba_bank_sampah")
    new = ds.model_copy(
        update={
            "columns": [*ds.columns, Column(name="catatan", type="string", description="Catatan")]
        }
    )
    changed = dataclasses.replace(catalog, datasets={**catalog.datasets, ds.id: new})
    loader = _engine(login_as, LOADER)
    with pytest.raises(
        WarehouseNotUpgraded,
        match=r"(?s)serasan_owner.*muba_bank_sampah: "
        r"column catatan is added",
    ):
        upgrade(loader, changed)
    # a member of the owner role applies it, and what it creates belongs to serasan_owner
    owner_member = _engine(login_as, OWNER)
    applied = upgrade(owner_member, changed)
    assert [(c.dataset_id, c.column, c.kind) for c in applied] == [
        (ds.id, "catatan", "add"),
        (ds.id, "catatan", "hist_add"),
    ]
    assert upgrade(loader, changed) == []
    with owner_engine.connect() as conn:
        owners = {
            r[0]
            for r in conn.execute(
                text("SELECT tableowner FROM pg_tables WHERE schemaname = ANY(:s)"),
                {"s": list(LAYERS)},
            )
        }
    assert owners == {OWNER}


def test_new_fact_tables_are_granted_to_the_loader(
    owner_engine: Engine, catalog: Catalog, login_as
) -> None:  # noqa: ANN001
    ds = catalog.dataset("muba_bank_sampah")
    twin = ds.model_copy(update={"id": "muba_bank_sampah_induk"})
    upgrade(
        owner_engine, dataclasses.replace(catalog, datasets={**catalog.datasets, twin.id: twin})
    )
    loader = _engine(login_as, LOADER)
    fact = fact_table(twin, "postgresql")
    with loader.begin() as conn:  # default privileges cover tables created after the grants
        conn.execute(fact.delete())
        assert conn.execute(select(func.count()).select_from(fact)).scalar() == 0


def _acl_snapshot(conn, names: list[str]) -> list:  # noqa: ANN001
    return [
        conn.execute(
            text("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(:r) ORDER BY 1"),
            {"r": names},
        ).all(),
        conn.execute(
            text(
                "SELECT nspname, nspowner::regrole::text, nspacl::text "
                "FROM pg_namespace WHERE nspname = ANY(:s) ORDER BY 1"
            ),
            {"s": list(LAYERS)},
        ).all(),
        conn.execute(
            text(
                "SELECT c.oid::regclass::text, c.relowner::regrole::text, "
                "c.relacl::text FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = ANY(:s) ORDER BY 1"
            ),
            {"s": list(LAYERS)},
        ).all(),
        conn.execute(
            text(
                "SELECT defaclrole::regrole::text, defaclnamespace::regnamespace::text,"
                " defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3"
            )
        ).all(),
    ]


def test_ensure_roles_twice_is_a_no_op(owner_engine: Engine) -> None:
    with owner_engine.begin() as conn:  # upgrade has put the standard roles in place
        before = _acl_snapshot(conn, [OWNER, LOADER, READER])
        assert ensure_roles(conn) == []
        assert _acl_snapshot(conn, [OWNER, LOADER, READER]) == before
    tag = uuid.uuid4().hex[:8]  # and from nothing, with names no other test uses
    names = {"owner": f"t{tag}_owner", "loader": f"t{tag}_loader", "reader": f"t{tag}_reader"}
    try:
        with owner_engine.begin() as conn:
            first = ensure_roles(conn, **names)
        assert any("CREATE ROLE" in s for s in first)
        assert any("ALTER TABLE" in s and "OWNER TO" in s for s in first)
        with owner_engine.begin() as conn:
            before = _acl_snapshot(conn, list(names.values()))
            assert ensure_roles(conn, **names) == []
            assert _acl_snapshot(conn, list(names.values())) == before
    finally:
        with owner_engine.connect() as conn:
            there = (
                conn.execute(
                    text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"),
                    {"r": list(names.values())},
                )
                .scalars()
                .all()
            )
        # one statement and role at a time, owner last: DROP OWNED BY a, b trips over default
        # privileges that name both (PostgreSQL 15)
        ordered = [n for n in (names["loader"], names["reader"], names["owner"]) if n in there]
        stmts = [f'REASSIGN OWNED BY "{n}" TO CURRENT_USER' for n in ordered]
        stmts += [f'DROP OWNED BY "{n}"' for n in ordered]
        stmts += [f'DROP ROLE "{n}"' for n in ordered]
        for stmt in stmts:
            with owner_engine.begin() as conn:
                conn.execute(text(stmt))


def test_a_loader_never_builds_a_warehouse(pg_url: str, catalog: Catalog, login_as) -> None:  # noqa: ANN001
    admin = make_engine(pg_url)
    with admin.begin() as conn:  # the group roles exist (cluster-wide), this database is empty
        create_roles(conn, OWNER, LOADER, READER)
    admin.dispose()
    loader = _engine(login_as, LOADER)
    with pytest.raises(WarehouseNotUpgraded, match="finds no warehouse version"):
        upgrade(loader, catalog)
    with loader.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = ANY(:s)"),
                {"s": list(LAYERS)},
            ).scalar()
            == 0
        )
