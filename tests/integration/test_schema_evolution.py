"""Fact tables follow the catalog: additive changes applied, breaking ones refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import MetaData, Table, inspect, select

from serasan.common.arrow import ARROW_TYPES
from serasan.config.catalog import Catalog, Column, Dataset
from serasan.warehouse.db import upgrade
from serasan.warehouse.evolution import SchemaChangeRefused, plan
from serasan.warehouse.facts import fact_table
from serasan.warehouse.history import history_table
from serasan.warehouse.loader import merge
from serasan.warehouse.tables import table

BANK = "muba_bank_sampah"
LAPOR = "muaraenim_pengaduan_masyarakat"


def _with(catalog: Catalog, *datasets: Dataset) -> Catalog:
    return dataclasses.replace(
        catalog, datasets={**catalog.datasets, **{d.id: d for d in datasets}}
    )


def _columns(ds: Dataset, **changes: dict[str, Any]) -> list[Column]:
    return [c.model_copy(update=changes[c.name]) if c.name in changes else c for c in ds.columns]


def _batch(ds: Dataset, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {
            c.name: pa.array([r.get(c.name) for r in rows], type=ARROW_TYPES[c.type])
            for c in ds.columns
        }
    )


BANK_ROWS = [
    {
        "periode": dt.date(2026, 1, 1),
        "kode_bank_sampah": f"BS-1606-{i:03d}",
        "kode_desa": "16.06.01.2001",
        "nasabah_aktif": 10 + i,
        "sampah_terkelola_kg": 100.5 * i,
        "nilai_tabungan_rp": 25000.0 * i,
    }
    for i in range(1, 4)
]
LAPOR_ROWS = [
    {
        "nomor_tiket": f"LPR-{i}",
        "tanggal": dt.date(2026, 3, 2),
        "kode_kecamatan": "16.03.01",
        "kategori": "Kesehatan",
        "status": "Selesai",
        "nama_pelapor": None if i == 1 else "Budi",
        "telepon_pelapor": None,
    }
    for i in range(1, 3)
]


def _loaded(engine, catalog: Catalog) -> None:  # noqa: ANN001
    upgrade(engine, catalog)
    for ds_id, rows in ((BANK, BANK_ROWS), (LAPOR, LAPOR_ROWS)):
        ds = catalog.dataset(ds_id)
        with engine.begin() as conn:
            merge(conn, ds, _batch(ds, rows), f"load-{ds_id}")


def _state(engine, catalog: Catalog) -> str:  # noqa: ANN001
    """Every fact table's columns, key and rows, and the recorded contract, as one digest."""
    dialect = engine.dialect.name
    parts: list[Any] = []
    with engine.connect() as conn:
        insp = inspect(conn)
        for ds in catalog.datasets.values():
            t = fact_table(ds, dialect)
            cols = insp.get_columns(t.name, schema=t.schema)
            parts.append([(c["name"], str(c["type"]), c["nullable"]) for c in cols])
            parts.append(insp.get_pk_constraint(t.name, schema=t.schema)["constrained_columns"])
            live = Table(t.name, MetaData(), autoload_with=conn, schema=t.schema)
            parts.append(sorted(map(tuple, conn.execute(select(live)).all()), key=repr))
        fc = table("meta", "fact_column", dialect)
        parts.append(sorted(map(tuple, conn.execute(select(fc)).all())))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _refused(engine, catalog: Catalog, changed: Catalog) -> str:  # noqa: ANN001
    before = _state(engine, catalog)
    with pytest.raises(SchemaChangeRefused) as exc:
        upgrade(engine, changed)
    assert _state(engine, catalog) == before, "a refused change altered the warehouse"
    return str(exc.value)


def test_a_new_nullable_column_is_added_and_the_data_kept(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)
    ds = catalog.dataset(BANK)
    catatan = Column(name="catatan", type="string", nullable=True, description="Catatan petugas")
    new = ds.model_copy(update={"columns": [*ds.columns, catatan]})
    applied = upgrade(engine, _with(catalog, new))
    assert [(c.dataset_id, c.column, c.kind) for c in applied] == [
        (BANK, "catatan", "add"),
        (BANK, "catatan", "hist_add"),
    ]  # superseded rows keep it too
    t = fact_table(new, engine.dialect.name)
    hist = history_table(new, engine.dialect.name)
    with engine.connect() as conn:
        assert "catatan" in {
            c["name"] for c in inspect(conn).get_columns(hist.name, schema=hist.schema)
        }
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.kode_bank_sampah)).mappings().all()
    assert [{k: r[k] for k in BANK_ROWS[0]} for r in rows] == BANK_ROWS
    assert {r["catatan"] for r in rows} == {None} and {r["load_id"] for r in rows} == {
        f"load-{BANK}"
    }
    # the new column loads, and the next upgrade has nothing left to do
    with engine.begin() as conn:
        merge(conn, new, _batch(new, [{**BANK_ROWS[0], "catatan": "timbang ulang"}]), "load-2")
    with engine.connect() as conn:
        assert (
            conn.execute(select(t.c.catatan).where(t.c.kode_bank_sampah == "BS-1606-001")).scalar()
            == "timbang ulang"
        )
        assert plan(conn, _with(catalog, new)) == []
    assert upgrade(engine, _with(catalog, new)) == []


def test_a_column_may_become_nullable(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)
    ds = catalog.dataset(BANK)
    new = ds.model_copy(update={"columns": _columns(ds, nasabah_aktif={"nullable": True})})
    applied = upgrade(engine, _with(catalog, new))
    assert [(c.column, c.kind) for c in applied] == [("nasabah_aktif", "nullable")]
    assert upgrade(engine, _with(catalog, new)) == []


def test_a_type_change_is_refused(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)
    ds = catalog.dataset(BANK)
    new = ds.model_copy(update={"columns": _columns(ds, nilai_tabungan_rp={"type": "integer"})})
    message = _refused(engine, catalog, _with(catalog, new))
    assert (
        "muba_bank_sampah: column nilai_tabungan_rp changes type from DOUBLE PRECISION to "
        "BIGINT; write a versioned migration"
    ) in message


def test_a_dropped_column_is_refused(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)
    ds = catalog.dataset(BANK)
    new = ds.model_copy(
        update={"columns": [c for c in ds.columns if c.name != "sampah_terkelola_kg"]}
    )
    message = _refused(engine, catalog, _with(catalog, new))
    assert (
        "muba_bank_sampah: column sampah_terkelola_kg is no longer in the catalog, but the "
        "fact table still holds it and its data; write a versioned migration"
    ) in message


def test_tightening_nullability_is_refused(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)  # LPR-1 has no nama_pelapor
    ds = catalog.dataset(LAPOR)
    assert ds.column("nama_pelapor").nullable
    new = ds.model_copy(update={"columns": _columns(ds, nama_pelapor={"nullable": False})})
    message = _refused(engine, catalog, _with(catalog, new))
    assert (
        "muaraenim_pengaduan_masyarakat: column nama_pelapor changes from nullable to NOT "
        "NULL (nullable: false)"
    ) in message


def test_a_new_not_null_column_is_refused(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)
    ds = catalog.dataset(BANK)
    berat = Column(name="berat_plastik_kg", type="number", nullable=False, description="Plastik")
    new = ds.model_copy(update={"columns": [*ds.columns, berat]})
    message = _refused(engine, catalog, _with(catalog, new))
    assert "muba_bank_sampah: column berat_plastik_kg is new and NOT NULL" in message


def test_a_changed_primary_key_is_refused(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)
    ds = catalog.dataset(BANK)
    new = ds.model_copy(update={"primary_key": ["periode", "kode_bank_sampah", "kode_desa"]})
    message = _refused(engine, catalog, _with(catalog, new))
    assert (
        "muba_bank_sampah: primary key changes from (periode, kode_bank_sampah) to "
        "(periode, kode_bank_sampah, kode_desa); write a versioned migration"
    ) in message
    # joining the key makes kode_desa NOT NULL in the table, where it held NULL before
    assert "muba_bank_sampah: column kode_desa changes from NULL to NOT NULL" in message


def test_every_refusal_is_listed_at_once_and_nothing_applied(engine, catalog: Catalog) -> None:  # noqa: ANN001
    _loaded(engine, catalog)
    bank, lapor = catalog.dataset(BANK), catalog.dataset(LAPOR)
    bank2 = bank.model_copy(
        update={
            "columns": _columns(
                bank, nilai_tabungan_rp={"type": "integer"}, nasabah_aktif={"type": "string"}
            )
        }
    )
    lapor2 = lapor.model_copy(
        update={
            "columns": [c for c in lapor.columns if c.name != "telepon_pelapor"],
            "primary_key": ["nomor_tiket", "tanggal"],
        }
    )
    other = catalog.dataset("muaraenim_timbulan_sampah")  # an additive change elsewhere waits
    other2 = other.model_copy(
        update={
            "columns": [
                *other.columns,
                Column(name="catatan", type="string", description="Catatan"),
            ]
        }
    )
    message = _refused(engine, catalog, _with(catalog, bank2, lapor2, other2))
    lines = message.splitlines()[1:]
    assert sorted(lines) == sorted(
        [
            "muba_bank_sampah: column nasabah_aktif changes type from BIGINT to TEXT; "
            "write a versioned migration",
            "muba_bank_sampah: column nilai_tabungan_rp changes type from DOUBLE PRECISION to "
            "BIGINT; write a versioned migration",
            "muaraenim_pengaduan_masyarakat: primary key changes from (nomor_tiket) to "
            "(nomor_tiket, tanggal); write a versioned migration",
            "muaraenim_pengaduan_masyarakat: column tanggal changes from NULL to NOT NULL, and rows "
            "already loaded may hold NULL; write a versioned migration",
            "muaraenim_pengaduan_masyarakat: column telepon_pelapor is no longer in the catalog, "
            "but the fact table still holds it and its data; write a versioned migration",
        ]
    )
    assert "2 fact table(s)" in message.splitlines()[0]


def test_a_warehouse_without_a_recorded_contract_adopts_the_catalog(
    engine,  # noqa: ANN001
    catalog: Catalog,
) -> None:
    _loaded(engine, catalog)
    fc = table("meta", "fact_column", engine.dialect.name)
    with engine.begin() as conn:  # fact tables built before meta.fact_column existed
        conn.execute(fc.delete())
    applied = upgrade(engine, catalog)
    assert {c.kind for c in applied} == {"record"}
    assert len(applied) == sum(len(d.columns) for d in catalog.datasets.values())
    ds = catalog.dataset(LAPOR)  # from then on, tightening is noticed again
    new = ds.model_copy(update={"columns": _columns(ds, nama_pelapor={"nullable": False})})
    assert "nama_pelapor changes from nullable to NOT NULL" in _refused(
        engine, catalog, _with(catalog, new)
    )
