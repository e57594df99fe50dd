"""Warehouse schema and loads, on SQLite and on a real PostgreSQL. What needs no database
(the migrations' sources, the seeds, layer names) is in
tests/unit/warehouse/test_migrations_and_seeds.py."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import pyarrow as pa
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import and_, func, inspect, literal, or_, select, update
from sqlalchemy.schema import CreateSchema

from serasan.config.catalog import Catalog
from serasan.reference.provinces import SHIPPED, province
from serasan.warehouse.db import KEPMENDAGRI_2025, alembic_config, upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.loader import merge
from serasan.warehouse.names import LAYERS, locate
from serasan.warehouse.tables import fixed_metadata, table


def _checksum(engine, t) -> str:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(*t.primary_key.columns)).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _schema_diffs(engine) -> list:  # noqa: ANN001
    """How the live fixed tables differ from tables.py (tables built from the catalog, fact and
    history tables, and those of other modules and of Alembic are not in it)."""
    md = fixed_metadata(engine.dialect.name)

    def fixed(d: tuple) -> bool:
        if d[0] == "remove_table":
            return False
        if d[0] == "remove_index":
            return d[1].table.key in md.tables
        return True

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_schemas": True})
        return [d for d in compare_metadata(ctx, md) if fixed(d)]


def test_upgrade_is_idempotent_and_matches_the_code(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    upgrade(engine, catalog)
    assert _schema_diffs(engine) == []
    with engine.connect() as conn:
        insp = inspect(conn)
        for ds in catalog.datasets.values():
            t = fact_table(ds, engine.dialect.name)
            assert insp.has_table(t.name, schema=t.schema), ds.id
        regions = conn.execute(
            select(func.count()).select_from(table("ref", "region", engine.dialect.name))
        ).scalar()
        assert regions == _shipped_regions()  # tests/integration/test_region_seed.py


@pytest.mark.parametrize("start", ["0001", "0003", "0006"])
def test_upgrading_from_an_earlier_revision_matches_the_code(
    engine,
    catalog: Catalog,  # noqa: ANN001
    start: str,
) -> None:
    with engine.begin() as conn:  # a warehouse an older Serasan built, before roles existed
        if engine.dialect.name == "postgresql":
            for layer in LAYERS:
                conn.execute(CreateSchema(layer))
        command.upgrade(alembic_config(conn), start)
    load_run = locate("meta", "load_run", engine.dialect.name)
    with engine.begin() as conn:
        cols = {c["name"] for c in inspect(conn).get_columns(load_run[1], schema=load_run[0])}
        # 0001 builds load_run as it was then, and 0004 adds the column
        assert ("rows_failing" in cols) == (start >= "0004")
        t = table("meta", "load_run", engine.dialect.name)
        conn.execute(
            t.insert().values(
                load_id="old",
                dataset_id="d",
                regency="16.03",
                opd="dlh",
                raw_key="raw/x",
                sha256="0" * 64,
                size_bytes=1,
                logical_date=dt.date(2026, 1, 1),
                status="loaded",
                rows_in=1,
                rows_loaded=1,
                rows_rejected=0,
            )
        )
    upgrade(engine, catalog)
    assert _schema_diffs(engine) == []
    with engine.connect() as conn:
        row = conn.execute(select(t.c.load_id, t.c.rows_failing)).one()
    assert tuple(row) == ("old", None)


def _count(conn, layer: str, name: str) -> int:  # noqa: ANN001
    return conn.execute(
        select(func.count()).select_from(table(layer, name, conn.dialect.name))
    ).scalar()


def _shipped_regions() -> int:
    """Current regions of every province the reference package ships (the seed's source)."""
    return sum(len(p.current.regions) for k in SHIPPED if (p := province(k)) is not None)


def _shipped_retired() -> int:
    """Codes the shipped history retired: dim_region keeps each, closed (valid_to)."""
    return sum(
        c.supersedes for k in SHIPPED if (p := province(k)) is not None for c in p.history.changes
    )


def test_region_dimension_and_bps_crosswalk_are_seeded(engine, catalog: Catalog) -> None:  # noqa: ANN001
    """Counts and the code history's rows in detail: tests/integration/test_region_seed.py."""
    upgrade(engine, catalog)
    dialect = engine.dialect.name
    region, xwalk = table("core", "dim_region", dialect), table("ref", "bps_kemendagri", dialect)
    crosswalk = [e for k in SHIPPED if (p := province(k)) is not None for e in p.crosswalk.values()]
    with engine.connect() as conn:
        assert _count(conn, "core", "dim_region") == _shipped_regions() + _shipped_retired()
        assert _count(conn, "ref", "bps_kemendagri") == len(crosswalk)
        validity = conn.execute(
            select(region.c.valid_from, func.count())
            .where(region.c.valid_to.is_(None))
            .group_by(region.c.valid_from)
        ).all()
        assert [tuple(v) for v in validity] == [(KEPMENDAGRI_2025, _shipped_regions())]
        levels = dict(
            conn.execute(select(xwalk.c.level, func.count()).group_by(xwalk.c.level)).all()
        )
        assert levels == dict(Counter(e.level.value for e in crosswalk))
        # every crosswalk target is a region of the current decree (no target: ambiguous or
        # unmatched, kept with NULL)
        orphans = conn.execute(
            select(func.count())
            .select_from(
                xwalk.outerjoin(
                    region,
                    and_(region.c.kode == xwalk.c.kode_kemendagri, region.c.valid_to.is_(None)),
                )
            )
            .where(region.c.kode.is_(None), xwalk.c.kode_kemendagri.is_not(None))
        )
        assert orphans.scalar() == 0

        # a value coded by BPS, joined to the region valid on its date
        on = dt.date(2026, 3, 1)
        bps_values = select(
            literal("1603050").label("kode_bps"), literal(42.0).label("nilai")
        ).subquery()
        joined = conn.execute(
            select(bps_values.c.nilai, region.c.kode, region.c.nama, region.c.level)
            .join_from(bps_values, xwalk, xwalk.c.kode_bps == bps_values.c.kode_bps)
            .join(
                region,
                and_(
                    region.c.kode == xwalk.c.kode_kemendagri,
                    region.c.valid_from <= on,
                    or_(region.c.valid_to.is_(None), region.c.valid_to > on),
                ),
            )
        ).all()
    assert [tuple(r) for r in joined] == [(42.0, "16.03.02", "Muara Enim", "kecamatan")]


def test_reseeding_keeps_what_a_later_decree_closed(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    region = table("core", "dim_region", engine.dialect.name)
    with engine.begin() as conn:
        conn.execute(
            update(region).where(region.c.kode == "16.06.01").values(valid_to=dt.date(2027, 1, 1))
        )
    upgrade(engine, catalog)
    with engine.connect() as conn:
        assert _count(conn, "core", "dim_region") == _shipped_regions() + _shipped_retired()
        closed = conn.execute(
            select(region.c.kode, region.c.valid_to).where(
                region.c.valid_to.is_not(None), region.c.valid_from == KEPMENDAGRI_2025
            )
        ).all()
    assert [tuple(r) for r in closed] == [("16.06.01", dt.date(2027, 1, 1))]


def _batch(ds, rows):  # noqa: ANN001, ANN202
    cols = {c.name: [r.get(c.name) for r in rows] for c in ds.columns}
    from serasan.common.arrow import ARROW_TYPES

    return pa.table({c.name: pa.array(cols[c.name], type=ARROW_TYPES[c.type]) for c in ds.columns})


def test_replace_period_replaces_only_that_period(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset("muaraenim_timbulan_sampah")
    jan, feb = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    first = [
        {"periode": jan, "kode_kecamatan": "16.03.01", "timbulan_ton": 10.0, "terkelola_ton": 5.0},
        {"periode": jan, "kode_kecamatan": "16.03.02", "timbulan_ton": 20.0, "terkelola_ton": 6.0},
        {"periode": feb, "kode_kecamatan": "16.03.01", "timbulan_ton": 11.0, "terkelola_ton": 7.0},
    ]
    resent_jan = [
        {"periode": jan, "kode_kecamatan": "16.03.01", "timbulan_ton": 12.0, "terkelola_ton": 8.0}
    ]
    fact = fact_table(ds, engine.dialect.name)
    with engine.begin() as conn:
        merge(conn, ds, _batch(ds, first), "load-a")
    with engine.begin() as conn:
        merge(conn, ds, _batch(ds, resent_jan), "load-b")
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                fact.c.periode, fact.c.kode_kecamatan, fact.c.timbulan_ton, fact.c.load_id
            ).order_by(fact.c.periode)
        ).all()
    assert [tuple(r) for r in rows] == [
        (jan, "16.03.01", 12.0, "load-b"),
        (feb, "16.03.01", 11.0, "load-a"),
    ]


def test_upsert_merges_by_key_and_is_idempotent(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset("muaraenim_pengaduan_masyarakat")
    base = {
        "tanggal": dt.date(2026, 3, 2),
        "kode_kecamatan": "16.03.01",
        "kategori": "Kesehatan",
        "nama_pelapor": None,
        "telepon_pelapor": None,
    }
    a = [
        {**base, "nomor_tiket": "LPR-1", "status": "Diproses"},
        {**base, "nomor_tiket": "LPR-2", "status": "Selesai"},
    ]
    b = [{**base, "nomor_tiket": "LPR-1", "status": "Selesai"}]
    fact = fact_table(ds, engine.dialect.name)
    for batch, load_id in ((a, "l1"), (b, "l2")):
        with engine.begin() as conn:
            merge(conn, ds, _batch(ds, batch), load_id)
    before = _checksum(engine, fact)
    with engine.begin() as conn:
        merge(conn, ds, _batch(ds, b), "l2")
    assert _checksum(engine, fact) == before
    with engine.connect() as conn:
        got = dict(conn.execute(select(fact.c.nomor_tiket, fact.c.status)).all())
    assert got == {"LPR-1": "Selesai", "LPR-2": "Selesai"}


def test_a_failed_merge_leaves_the_fact_table_untouched(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset("muaraenim_timbulan_sampah")
    fact = fact_table(ds, engine.dialect.name)
    good = [
        {
            "periode": dt.date(2026, 1, 1),
            "kode_kecamatan": "16.03.01",
            "timbulan_ton": 1.0,
            "terkelola_ton": 1.0,
        }
    ]
    with engine.begin() as conn:
        merge(conn, ds, _batch(ds, good), "ok")
    before = _checksum(engine, fact)
    bad = [{**good[0], "kode_kecamatan": None}]  # violates NOT NULL of a key column
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017, PT011
        merge(conn, ds, _batch(ds, bad), "bad")
    assert _checksum(engine, fact) == before
