"""The region tables seeded from the shipped reference package (`serasan.reference`), on SQLite
and on a real PostgreSQL: ref.region with every current region of every shipped province,
core.dim_region with the code history's validity dates, ref.bps_kemendagri carried to current
codes. What each column means is in warehouse/migrations/versions/0011_region_history.py."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import (
    Engine,
    MetaData,
    Table,
    and_,
    func,
    inspect,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.schema import CreateSchema

from serasan.config.catalog import Catalog
from serasan.reference.provinces import SHIPPED, province
from serasan.reference.resolve import CrosswalkStatus
from serasan.reference.versions import VERSIONS, Level, load_versions, version
from serasan.warehouse.db import (
    KEPMENDAGRI_2025,
    _read_seed,
    alembic_config,
    dim_region_rows,
    seed,
    upgrade,
)
from serasan.warehouse.names import LAYERS, locate
from serasan.warehouse.tables import table
from tests.integration.test_warehouse import _schema_diffs

JAN_2016, JAN_2020 = dt.date(2016, 1, 1), dt.date(2020, 1, 1)
CHANGED_2020 = version(2020).regulation  # Permendagri 72/2019, revised by Kepmendagri ...


def _provinces() -> list[Any]:
    return [province(kode) for kode in SHIPPED]


def _rows(engine: Engine, name: str, layer: str, *where: Any) -> list[dict[str, Any]]:
    t = table(layer, name, engine.dialect.name)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).where(*where))]


def _one(engine: Engine, layer: str, name: str, *where: Any) -> dict[str, Any]:
    (row,) = _rows(engine, name, layer, *where)
    return row


def _checksum(engine: Engine, layer: str, name: str) -> str:
    t = table(layer, name, engine.dialect.name)
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(*t.primary_key.columns)).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_jirak_bps_code_maps_to_its_current_code(engine: Engine, catalog: Catalog) -> None:
    upgrade(engine, catalog)
    xwalk = table("ref", "bps_kemendagri", engine.dialect.name)
    row = _one(engine, "ref", "bps_kemendagri", xwalk.c.kode_bps == "1606031007")
    assert row == {
        "kode_bps": "1606031007",
        "kode_kemendagri": "16.06.15.2001",  # the raw BPS crosswalk said 16.06.03.2001 (2018)
        "level": "desa_kelurahan",
        "kode_kemendagri_sumber": "16.06.03.2001",
        "status": "moved",
        "kandidat": None,
    }
    # Jirak Jaya, the BPS kecamatan, is placed by its villages: all in 16.06.15 now
    row = _one(engine, "ref", "bps_kemendagri", xwalk.c.kode_bps == "1606031")
    assert (row["kode_kemendagri"], row["kode_kemendagri_sumber"]) == ("16.06.15", "16.06.03")
    # no single current code: kept, with NULL and the candidates, never a guess
    row = _one(engine, "ref", "bps_kemendagri", xwalk.c.kode_bps == "1603070")
    assert row["kode_kemendagri"] is None
    assert (row["status"], row["kandidat"]) == ("ambiguous", "16.03.03;16.03.26")


def test_dim_region_keeps_retired_codes_with_their_replacement(
    engine: Engine, catalog: Catalog
) -> None:
    upgrade(engine, catalog)
    region = table("core", "dim_region", engine.dialect.name)
    jirak = _rows(
        engine, "dim_region", "core", region.c.kode.in_(["16.06.03.2001", "16.06.15.2001"])
    )
    by_code = {r["kode"]: r for r in jirak}
    assert by_code["16.06.03.2001"] == {
        "kode": "16.06.03.2001",
        "nama": "Jirak",
        "level": "desa_kelurahan",
        "kode_induk": "16.06.03",
        "valid_from": JAN_2016,
        "valid_to": JAN_2020,
        "kode_pengganti": "16.06.15.2001",
        "perubahan": "renumbered",
        "regulasi": CHANGED_2020,
        "area_changed_at": None,
        "area_changed_into": None,
    }
    current = by_code["16.06.15.2001"]
    assert (current["nama"], current["kode_induk"]) == ("Jirak", "16.06.15")
    assert (current["valid_from"], current["valid_to"]) == (KEPMENDAGRI_2025, None)
    assert (current["kode_pengganti"], current["perubahan"]) == (None, None)

    # a value of 2017 coded 16.06.03.2001, joined to the code valid on its date, and on
    on = dt.date(2017, 6, 1)
    values = select(literal("16.06.03.2001").label("kode"), literal(7.0).label("nilai")).subquery()
    with engine.connect() as conn:
        joined = conn.execute(
            select(values.c.nilai, region.c.nama, region.c.kode_pengganti).join(
                region,
                and_(
                    region.c.kode == values.c.kode,
                    region.c.valid_from <= on,
                    or_(region.c.valid_to.is_(None), region.c.valid_to > on),
                ),
            )
        ).all()
    assert [tuple(r) for r in joined] == [(7.0, "Jirak", "16.06.15.2001")]

    removed = _one(engine, "core", "dim_region", region.c.kode == "16.11.02.2019")
    assert (removed["perubahan"], removed["kode_pengganti"]) == ("removed", None)
    assert removed["valid_to"] == dt.date(2018, 1, 1)


def test_a_code_whose_area_changed_is_flagged(engine: Engine, catalog: Catalog) -> None:
    """16.03.03 Rambang Dangku is 16.03.03 Rambang Niru since 2020, 16.03.26 split off."""
    upgrade(engine, catalog)
    region = table("core", "dim_region", engine.dialect.name)
    rows = _rows(engine, "dim_region", "core", region.c.kode.in_(["16.03.03", "16.03.26"]))
    by_code = {r["kode"]: r for r in rows}
    assert len(rows) == 2  # the code stays valid: one row, flagged
    assert {k: by_code["16.03.03"][k] for k in ("nama", "valid_to", "kode_pengganti")} == {
        "nama": "Rambang Niru",
        "valid_to": None,
        "kode_pengganti": None,
    }
    assert by_code["16.03.03"]["perubahan"] == "area_changed"
    assert by_code["16.03.03"]["regulasi"] == CHANGED_2020
    assert by_code["16.03.03"]["area_changed_at"] == JAN_2020
    assert by_code["16.03.03"]["area_changed_into"] == "16.03.03;16.03.26"
    assert by_code["16.03.26"]["nama"] == "Empat Petulai Dangku"

    # a time series of 16.03.03 across the split is flagged, one after it is not
    def flagged(first: dt.date, last: dt.date) -> bool:
        series = union_all(
            select(literal("16.03.03").label("kode"), literal(first).label("periode")),
            select(literal("16.03.03").label("kode"), literal(last).label("periode")),
        ).subquery()
        span = (
            select(
                series.c.kode,
                func.min(series.c.periode).label("first"),
                func.max(series.c.periode).label("last"),
            )
            .group_by(series.c.kode)
            .subquery()
        )
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    select(func.count())
                    .select_from(span.join(region, region.c.kode == span.c.kode))
                    .where(
                        region.c.valid_to.is_(None),
                        span.c.first < region.c.area_changed_at,
                        region.c.area_changed_at <= span.c.last,
                    )
                ).scalar()
            )

    assert flagged(dt.date(2018, 1, 1), dt.date(2021, 1, 1))
    assert not flagged(dt.date(2021, 1, 1), dt.date(2024, 1, 1))


def test_jawa_barat_is_in_ref_region(engine: Engine, catalog: Catalog) -> None:
    upgrade(engine, catalog)
    ref = table("ref", "region", engine.dialect.name)
    rows = _rows(engine, "region", "ref", ref.c.kode.in_(["32", "32.04", "32.04.05"]))
    assert sorted(
        (r["kode"], r["nama"], r["level"], r["kode_induk"], r["jenis"]) for r in rows
    ) == [
        ("32", "Jawa Barat", "provinsi", None, None),
        ("32.04", "Kabupaten Bandung", "kabupaten_kota", "32", "kabupaten"),
        ("32.04.05", "Cileunyi", "kecamatan", "32.04", None),
    ]
    kota = _one(engine, "ref", "region", ref.c.kode == "32.73")
    assert (kota["nama"], kota["jenis"]) == ("Kota Bandung", "kota")


def test_counts_are_the_reference_package_s(engine: Engine, catalog: Catalog) -> None:
    upgrade(engine, catalog)
    dialect = engine.dialect.name
    provinces = _provinces()
    current = [r for p in provinces for r in p.current.regions.values()]
    changes = [c for p in provinces for c in p.history.changes]
    crosswalk = [e for p in provinces for e in p.crosswalk.values()]
    area_changed = {
        (p.kode, c.old_code)
        for p in provinces
        for c in p.history.changes
        if not c.supersedes and c.old_code in p.current
    }
    ref, region = table("ref", "region", dialect), table("core", "dim_region", dialect)
    xwalk = table("ref", "bps_kemendagri", dialect)
    with engine.connect() as conn:

        def grouped(column: Any) -> dict[Any, int]:
            return dict(conn.execute(select(column, func.count()).group_by(column)).all())

        assert grouped(ref.c.level) == Counter(r.level.value for r in current)
        assert sum(grouped(ref.c.level).values()) == len(current) > 10_000
        assert grouped(region.c.perubahan) == {
            None: len(current) - len(area_changed),
            "area_changed": len(area_changed),
            **Counter(c.kind.value for c in changes if c.supersedes),
        }
        assert grouped(region.c.valid_to.is_(None)) == {
            True: len(current),
            False: sum(c.supersedes for c in changes),
        }
        assert grouped(xwalk.c.status) == Counter(e.status.value for e in crosswalk)
        assert sum(grouped(xwalk.c.status).values()) == len(crosswalk)
        assert conn.execute(
            select(func.count()).where(xwalk.c.kode_kemendagri.is_(None))
        ).scalar() == sum(
            e.status in (CrosswalkStatus.AMBIGUOUS, CrosswalkStatus.UNMATCHED) for e in crosswalk
        )
        # every current code a crosswalk entry or a retired code points at is in ref.region
        codes = set(conn.execute(select(ref.c.kode)).scalars())
        targets = set(conn.execute(select(xwalk.c.kode_kemendagri)).scalars()) - {None}
        for listed in conn.execute(
            select(region.c.kode_pengganti).where(region.c.kode_pengganti.is_not(None))
        ).scalars():
            targets |= set(listed.split(";"))
        assert targets <= codes
        # jenis: as wilayah.csv has it where it has it, and never missing for kabupaten/kota
        jenis = dict(conn.execute(select(ref.c.kode, ref.c.jenis)).all())
        levels = dict(conn.execute(select(ref.c.kode, ref.c.level)).all())
    for r in _read_seed("wilayah.csv"):
        assert jenis[r["kode"]] == r["jenis"], r
    for kode, level in levels.items():
        if level in (Level.KABUPATEN_KOTA, Level.DESA_KELURAHAN):
            assert jenis[kode] is not None, kode


def test_reseeding_is_idempotent_and_keeps_a_later_closing(
    engine: Engine, catalog: Catalog
) -> None:
    names = [("ref", "region"), ("core", "dim_region"), ("ref", "bps_kemendagri")]
    upgrade(engine, catalog)
    first = [_checksum(engine, *n) for n in names]
    upgrade(engine, catalog)
    assert [_checksum(engine, *n) for n in names] == first
    with engine.begin() as conn:  # the seed run twice in one transaction
        seed(conn, catalog)
        seed(conn, catalog)
    assert [_checksum(engine, *n) for n in names] == first

    region = table("core", "dim_region", engine.dialect.name)
    later = dt.date(2027, 1, 1)
    with engine.begin() as conn:  # a later decree retires a current code and adds its own
        conn.execute(
            update(region)
            .where(region.c.kode == "32.04.05", region.c.valid_from == KEPMENDAGRI_2025)
            .values(valid_to=later)
        )
        conn.execute(
            region.insert().values(
                kode="32.04.99",
                nama="Baru",
                level="kecamatan",
                kode_induk="32.04",
                valid_from=later,
            )
        )
    upgrade(engine, catalog)
    closed = _one(engine, "core", "dim_region", region.c.kode == "32.04.05")
    assert closed["valid_to"] == later
    assert _one(engine, "core", "dim_region", region.c.kode == "32.04.99")["nama"] == "Baru"


def test_upgrading_a_warehouse_seeded_by_the_old_seed(engine: Engine, catalog: Catalog) -> None:
    """At 0010 the crosswalk held the raw (2018) Kemendagri side and dim_region the 2025 codes."""
    dialect = engine.dialect.name
    with engine.begin() as conn:
        if dialect == "postgresql":
            for layer in LAYERS:
                conn.execute(CreateSchema(layer))
        command.upgrade(alembic_config(conn), "0010")
        schema, name = locate("ref", "bps_kemendagri", dialect)
        conn.execute(
            Table(name, MetaData(), autoload_with=conn, schema=schema).insert(),
            [
                {
                    "kode_bps": "1606031007",
                    "kode_kemendagri": "16.06.03.2001",
                    "level": "desa_kelurahan",
                }
            ],
        )
        schema, name = locate("core", "dim_region", dialect)
        conn.execute(
            Table(name, MetaData(), autoload_with=conn, schema=schema).insert(),
            [
                {
                    "kode": "16.06.15",
                    "nama": "Jirak Jaya",
                    "level": "kecamatan",
                    "kode_induk": "16.06",
                    "valid_from": KEPMENDAGRI_2025,
                    "valid_to": dt.date(2030, 1, 1),
                }
            ],
        )
    upgrade(engine, catalog)
    assert _schema_diffs(engine) == []
    xwalk = table("ref", "bps_kemendagri", dialect)
    region = table("core", "dim_region", dialect)
    assert (
        _one(engine, "ref", "bps_kemendagri", xwalk.c.kode_bps == "1606031007")["kode_kemendagri"]
        == "16.06.15.2001"
    )
    assert _one(engine, "core", "dim_region", region.c.kode == "16.06.15")["valid_to"] == dt.date(
        2030, 1, 1
    )

    with engine.begin() as conn:  # and back: the entries without a current code go
        command.downgrade(alembic_config(conn), "0010")
    schema, name = locate("ref", "bps_kemendagri", dialect)
    with engine.connect() as conn:
        cols = {c["name"]: c for c in inspect(conn).get_columns(name, schema=schema)}
        old = Table(name, MetaData(), autoload_with=conn, schema=schema)
        nulls = conn.execute(select(func.count()).where(old.c.kode_kemendagri.is_(None))).scalar()
    assert set(cols) == {"kode_bps", "kode_kemendagri", "level"}
    assert not cols["kode_kemendagri"]["nullable"] and nulls == 0


def test_retired_codes_are_in_every_version_from_valid_from(shared_dir: Path) -> None:
    """valid_from of a retired code is the oldest version (2016): the package does not ship
    the older versions to prove it, so check the claim against ../shared/reference."""
    folder = shared_dir / "reference" / "wilayah_versions"
    tables = {
        "16": load_versions(folder),
        "32": load_versions(folder, national=True),
    }
    assert set(tables) == set(SHIPPED)
    retired = [r for r in dim_region_rows() if r["valid_to"] is not None]
    assert retired
    for r in retired:
        held = {t.version.year for t in tables[r["kode"][:2]] if r["kode"] in t}
        known = {v.year for v in VERSIONS if r["valid_from"].year <= v.year < r["valid_to"].year}
        assert known <= held and r["valid_to"].year not in held, r
