"""Warehouse schema and loads, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib

import pyarrow as pa
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from serasan.catalog import Catalog
from serasan.paths import SEED_DIR
from serasan.settings import Settings
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.loader import merge
from serasan.warehouse.names import locate, qualified
from serasan.warehouse.tables import fixed_metadata, table


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path):  # noqa: ANN001, ANN201
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wh.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _checksum(engine, t) -> str:  # noqa: ANN001
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(*t.primary_key.columns)).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_upgrade_is_idempotent_and_matches_the_code(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    upgrade(engine, catalog)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_schemas": True})
        diffs = [d for d in compare_metadata(ctx, fixed_metadata(engine.dialect.name))
                 if d[0] != "remove_table"]  # fact tables and alembic_version are not in it
        assert diffs == []
        insp = inspect(conn)
        for ds in catalog.datasets.values():
            t = fact_table(ds, engine.dialect.name)
            assert insp.has_table(t.name, schema=t.schema), ds.id
        regions = conn.execute(select(func.count()).select_from(
            table("ref", "region", engine.dialect.name))).scalar()
        seed_rows = (SEED_DIR / "wilayah.csv").read_text(encoding="utf-8").count("\n") - 1
        assert regions == seed_rows == 1 + 17 + 22 + 15 + 256 + 242


def test_layer_names_are_mapped_in_one_place() -> None:
    assert locate("core", "fact_x", "postgresql") == ("core", "fact_x")
    assert locate("core", "fact_x", "sqlite") == (None, "core__fact_x")
    assert qualified("mart", "kpi_value", "sqlite") == "mart__kpi_value"
    for bad in ("x; DROP TABLE y", "Fact", "a b"):
        with pytest.raises(ValueError, match="unsafe"):
            locate("core", bad, "postgresql")


def _batch(ds, rows):  # noqa: ANN001, ANN202
    cols = {c.name: [r.get(c.name) for r in rows] for c in ds.columns}
    from serasan.parse import ARROW_TYPES

    return pa.table({c.name: pa.array(cols[c.name], type=ARROW_TYPES[c.type])
                     for c in ds.columns})


def test_replace_period_replaces_only_that_period(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset("muaraenim_timbulan_sampah")
    jan, feb = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    first = [{"periode": jan, "kode_kecamatan": "16.03.01", "timbulan_ton": 10.0,
              "terkelola_ton": 5.0},
             {"periode": jan, "kode_kecamatan": "16.03.02", "timbulan_ton": 20.0,
              "terkelola_ton": 6.0},
             {"periode": feb, "kode_kecamatan": "16.03.01", "timbulan_ton": 11.0,
              "terkelola_ton": 7.0}]
    resent_jan = [{"periode": jan, "kode_kecamatan": "16.03.01", "timbulan_ton": 12.0,
                   "terkelola_ton": 8.0}]
    fact = fact_table(ds, engine.dialect.name)
    with engine.begin() as conn:
        merge(conn, ds, _batch(ds, first), "load-a")
    with engine.begin() as conn:
        merge(conn, ds, _batch(ds, resent_jan), "load-b")
    with engine.connect() as conn:
        rows = conn.execute(select(fact.c.periode, fact.c.kode_kecamatan, fact.c.timbulan_ton,
                                   fact.c.load_id).order_by(fact.c.periode)).all()
    assert [tuple(r) for r in rows] == [(jan, "16.03.01", 12.0, "load-b"),
                                        (feb, "16.03.01", 11.0, "load-a")]


def test_upsert_merges_by_key_and_is_idempotent(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    ds = catalog.dataset("muaraenim_pengaduan_masyarakat")
    base = {"tanggal": dt.date(2026, 3, 2), "kode_kecamatan": "16.03.01",
            "kategori": "Kesehatan", "nama_pelapor": None, "telepon_pelapor": None}
    a = [{**base, "nomor_tiket": "LPR-1", "status": "Diproses"},
         {**base, "nomor_tiket": "LPR-2", "status": "Selesai"}]
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
    good = [{"periode": dt.date(2026, 1, 1), "kode_kecamatan": "16.03.01",
             "timbulan_ton": 1.0, "terkelola_ton": 1.0}]
    with engine.begin() as conn:
        merge(conn, ds, _batch(ds, good), "ok")
    before = _checksum(engine, fact)
    bad = [{**good[0], "kode_kecamatan": None}]  # violates NOT NULL of a key column
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017, PT011
        merge(conn, ds, _batch(ds, bad), "bad")
    assert _checksum(engine, fact) == before


def test_settings_never_show_the_password() -> None:
    s = Settings(lake_url="/x", warehouse_url="postgresql://loader:s3cret@db:5432/wh",
                 s3_secret_key="topsecret")
    assert "s3cret" not in s.describe()
    assert "topsecret" not in repr(s)
