"""The application-database source, against real PostgreSQL and MariaDB servers (no mocks).

A copy of the shipped `muba_realisasi_pajak` dataset is pointed at an "app schema" table
(`simpatda.realisasi` on PostgreSQL, a uniquely named table in MariaDB's `test`), pulled by a
watermark into the inbox, and carried by the unchanged pipeline into the fact table.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import (
    URL,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import make_url

from serasan.config.catalog import Catalog, Dataset, Source
from serasan.config.settings import Settings
from serasan.ingest.sources import database as db
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.handoff import LoadSummary
from serasan.pipeline.run import run_dataset
from serasan.runtime.connections import ConnInfo, Interval, SourceError
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table

JAKARTA = ZoneInfo("Asia/Jakarta")
MARIADB_URL = os.environ.get("SERASAN_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
DATASET = "muba_realisasi_pajak"
CONN_ID = "simpatda"
MAPPING = {"target_rp": "target", "realisasi_rp": "Realisasi Rp", "jumlah_wajib_pajak": "jumlah_wp"}
HEADER = "periode,kode_kecamatan,jenis_pajak,target_rp,realisasi_rp,jumlah_wajib_pajak\n"


def _day(day: int) -> Interval:
    """One Jakarta day of October 2026, the way Airflow hands it over."""
    start = dt.datetime(2026, 10, day, tzinfo=JAKARTA)
    return Interval(start, start + dt.timedelta(days=1))


DAY5, DAY6, DAY7 = _day(5), _day(6), _day(7)

# id, periode, kode_kecamatan, jenis_pajak, target, Realisasi Rp, jumlah_wp, updated_at
ROWS = [
    (
        1,
        dt.date(2026, 9, 1),
        "16.06.01",
        "PBB-P2",
        "150000000.00",
        "120500000.50",
        340,
        dt.datetime(2026, 10, 5, 0, 0, 0),
    ),  # on the lower bound: in
    (
        2,
        dt.date(2026, 9, 1),
        "16.06.03",
        "BPHTB",
        "80000000.00",
        "91234567.25",
        None,
        dt.datetime(2026, 10, 5, 13, 45, 10),
    ),
    (
        3,
        dt.date(2026, 9, 1),
        "16.06.02",
        "Pajak Hotel",
        "50000000.00",
        "45000000.00",
        12,
        dt.datetime(2026, 10, 5, 23, 59, 59),
    ),
    (
        4,
        dt.date(2026, 9, 1),
        "16.06.04",
        "Pajak Restoran",
        "70000000.00",
        "1.50",
        5,
        dt.datetime(2026, 10, 4, 23, 59, 59),
    ),  # the day before: out
    (
        5,
        dt.date(2026, 9, 1),
        "16.06.05",
        "Pajak Reklame",
        "9000000.00",
        "8100000.00",
        44,
        dt.datetime(2026, 10, 6, 0, 0, 0),
    ),  # on the upper bound: next interval
]
LATER = [  # inserted after the first pull
    (
        6,
        dt.date(2026, 10, 1),
        "16.06.06",
        "Pajak Air Tanah",
        "3000000.00",
        "2750000.75",
        7,
        dt.datetime(2026, 10, 6, 8, 0, 0),
    ),
    (
        7,
        dt.date(2026, 10, 1),
        "16.06.07",
        "PBJT Tenaga Listrik",
        "4000000.00",
        "4100000.00",
        2,
        dt.datetime(2026, 10, 7, 9, 30, 0),
    ),
]
CSV_DAY5 = HEADER + (
    "2026-09-01,16.06.01,PBB-P2,150000000.00,120500000.50,340\n"
    "2026-09-01,16.06.02,Pajak Hotel,50000000.00,45000000.00,12\n"
    "2026-09-01,16.06.03,BPHTB,80000000.00,91234567.25,\n"
)
FACT_DAY5 = [
    (dt.date(2026, 9, 1), "16.06.01", "PBB-P2", 150000000.0, 120500000.5, 340),
    (dt.date(2026, 9, 1), "16.06.02", "Pajak Hotel", 50000000.0, 45000000.0, 12),
    (dt.date(2026, 9, 1), "16.06.03", "BPHTB", 80000000.0, 91234567.25, None),
]


# ------------------------------------------------------------------------ source servers


@dataclass
class SourceDB:
    """A real application database with one `realisasi`-shaped table in it."""

    kind: str
    url: URL  # with the password, for ConnInfo
    engine: Engine
    schema: str | None
    table: str
    created: list[str] = field(default_factory=list)  # dropped after the test

    def conn_info(self, **changes: object) -> ConnInfo:
        parts = {
            "conn_id": CONN_ID,
            "conn_type": "postgres" if self.kind == "postgresql" else "mariadb",
            "host": self.url.host,
            "port": self.url.port,
            "login": self.url.username,
            "password": self.url.password,
            "schema": self.url.database,
            **changes,
        }
        return ConnInfo(**parts)  # type: ignore[arg-type]

    def create(self, name: str | None = None, rows: list[tuple] = ROWS) -> Table:
        t = realisasi_table(MetaData(), name or self.table, self.schema)
        self.created.append(t.name)
        t.create(self.engine)
        self.insert(t, rows)
        return t

    def create_other(self, name: str) -> None:
        self.created.append(name)
        Table(name, MetaData(), Column("a", Integer), schema=self.schema).create(self.engine)

    def insert(self, t: Table, rows: list[tuple]) -> None:
        names = [c.name for c in t.columns]
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(t.insert(), [dict(zip(names, r, strict=True)) for r in rows])

    def quote(self, name: str) -> str:
        return self.engine.dialect.identifier_preparer.quote(name)

    def qualified(self, name: str | None = None) -> str:
        parts = [self.schema, name or self.table] if self.schema else [name or self.table]
        return ".".join(self.quote(p) for p in parts)

    def has_table(self, name: str) -> bool:
        return inspect(self.engine).has_table(name, schema=self.schema)


def realisasi_table(md: MetaData, name: str, schema: str | None, stamp: Any = DateTime) -> Table:
    """The tax system's table: its own column names, one with a space in it."""
    return Table(
        name,
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("periode", Date, nullable=False),
        Column("kode_kecamatan", String(20), nullable=False),
        Column("jenis_pajak", String(40), nullable=False),
        Column("target", Numeric(18, 2), nullable=False),
        Column("Realisasi Rp", Numeric(18, 2), nullable=False),
        Column("jumlah_wp", Integer),
        Column("updated_at", stamp, nullable=False),
        schema=schema,
    )


@pytest.fixture(scope="session")
def mariadb_server() -> URL:
    """The MariaDB server; fails (never skips) when it is unreachable."""
    url = make_url(MARIADB_URL)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(
            f"MariaDB is not reachable at {url.render_as_string(hide_password=True)} "
            f"({type(exc).__name__}: {exc}).\nStart it (on this machine: start-stop-daemon "
            "--start --oknodo --background --exec /usr/sbin/mariadbd) or set "
            "SERASAN_TEST_MARIADB_URL to a mysql+pymysql:// URL of a database where the user may "
            "CREATE and DROP tables.",
            pytrace=False,
        )
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_source(pg_url: str) -> Iterator[SourceDB]:
    """The tax system's schema `simpatda` in the test's fresh PostgreSQL database."""
    url = make_url(pg_url).set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE SCHEMA simpatda"))
    try:
        yield SourceDB("postgresql", url, engine, "simpatda", "realisasi")
    finally:
        engine.dispose()  # the database itself is dropped by pg_url


@pytest.fixture
def mariadb_source(mariadb_server: URL) -> Iterator[SourceDB]:
    """Tables named for this test only in the shared MariaDB database, dropped afterwards."""
    engine = create_engine(mariadb_server)
    src = SourceDB("mariadb", mariadb_server, engine, None, f"realisasi_{uuid.uuid4().hex[:10]}")
    try:
        yield src
    finally:
        for name in src.created:
            Table(name, MetaData()).drop(engine, checkfirst=True)
        engine.dispose()


@pytest.fixture(params=["postgresql", "mariadb"])
def source(request: pytest.FixtureRequest) -> SourceDB:
    return request.getfixturevalue(
        "pg_source" if request.param == "postgresql" else "mariadb_source"
    )


# ------------------------------------------------------------------------ helpers


def _dataset(catalog: Catalog, **params: object) -> Dataset:
    """The shipped dataset, read from an application database; upsert suits increments."""
    base = {
        "conn_id": CONN_ID,
        "watermark_column": "updated_at",
        "columns": MAPPING,
        "batch_size": 2,
    }
    return catalog.dataset(DATASET).model_copy(
        update={"source": Source(kind="database", params={**base, **params}), "load_mode": "upsert"}
    )


def _table_params(src: SourceDB, name: str | None = None) -> dict[str, object]:
    return {"table": name or src.table, "schema_name": src.schema}


def _ctx(
    settings: Settings, catalog: Catalog, src: SourceDB | None, interval: Interval, **kw: object
) -> RunContext:
    if src is not None:
        info = src.conn_info()
        kw.setdefault("connections", lambda conn_id: info)
    ctx = RunContext(
        settings=settings,
        catalog=catalog,
        run_date=dt.date(2026, 11, 1),
        dag_id="test",
        run_id=f"run-{interval.label}",
        interval=interval,
        **kw,
    )  # type: ignore[arg-type]
    upgrade(ctx.engine, catalog)
    return ctx


def _at(ctx: RunContext, interval: Interval) -> RunContext:
    """The same warehouse and lake, another run interval."""
    return RunContext(
        settings=ctx.settings,
        catalog=ctx.catalog,
        run_date=ctx.run_date,
        dag_id=ctx.dag_id,
        run_id=f"run-{interval.label}",
        interval=interval,
        connections=ctx.connections,
        _engine=ctx.engine,
    )


def _key(ctx: RunContext, ds: Dataset, interval: Interval) -> str:
    return inbox_prefix(ctx.catalog, ds) + f"db-{interval.label}.csv"


def _raw(ctx: RunContext, summary: LoadSummary) -> bytes:
    return ctx.lake.get(f"raw/{summary.dataset}/{summary.sha256}/{summary.filename}")


def _pulls(ctx: RunContext) -> list[dict]:
    sp = ctx.t("meta", "source_pull")
    with ctx.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(sp).order_by(sp.c.interval_start)).mappings()]


def _facts(ctx: RunContext, ds: Dataset) -> list[tuple]:
    t = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(*[t.c[c] for c in ds.column_names]).order_by(t.c.kode_kecamatan)
        ).all()
    return [tuple(r) for r in rows]


# ------------------------------------------------------------------------ the params model


def test_params_model_takes_a_table_or_a_query_and_nothing_else() -> None:
    p = db.PARAMS_MODEL.model_validate({"conn_id": "x", "table": "t", "watermark_column": "u"})
    assert (p.watermark_type, p.columns, p.batch_size, p.schema_name) == (
        "timestamp",
        {},
        10_000,
        None,
    )
    q = db.DatabaseParams.model_validate(
        {"conn_id": "x", "query": "SELECT 1", "watermark_column": "id", "watermark_type": "integer"}
    )
    assert q.query == "SELECT 1" and q.table is None
    bad = [
        {"conn_id": "x", "watermark_column": "u"},  # neither
        {"conn_id": "x", "table": "t", "query": "SELECT 1", "watermark_column": "u"},  # both
        {"conn_id": "x", "query": "SELECT 1", "schema_name": "s", "watermark_column": "u"},
        {"conn_id": "x", "table": "t", "watermark_column": "u", "tabel": "typo"},  # extra
        {"conn_id": "x", "table": "t", "watermark_column": "u", "watermark_type": "uuid"},
        {"conn_id": "x", "table": "t", "watermark_column": "u", "batch_size": 0},
    ]
    for params in bad:
        with pytest.raises(ValidationError):
            db.PARAMS_MODEL.model_validate(params)


def test_params_are_checked_against_the_dataset(catalog: Catalog) -> None:
    ds = _dataset(catalog, table="t", columns={"realisasi": "x"})
    with pytest.raises(SourceError, match=r"muba_realisasi_pajak: .*maps realisasi"):
        db.parse_params(ds)
    ds = _dataset(catalog, table="t", query="SELECT 1")
    with pytest.raises(SourceError, match="exactly one of"):
        db.parse_params(ds)


def test_connection_urls_per_conn_type() -> None:
    info = ConnInfo("c", "postgres", "db.opd", 5432, "app", "p@ss word", "simpatda")
    url = db.connection_url(info)
    assert url.drivername == "postgresql+psycopg" and url.password == "p@ss word"
    assert (
        url.render_as_string(hide_password=True)
        == "postgresql+psycopg://app:***@db.opd:5432/simpatda"
    )
    maria = db.connection_url(ConnInfo("c", "mariadb", "10.0.0.5", 3306, "ro", "pw", "pbb"))
    assert maria.drivername == "mysql+pymysql" and maria.query == {"charset": "utf8mb4"}
    assert db.connection_url(ConnInfo("c", "mysql", "h")).drivername == "mysql+pymysql"
    assert db.connection_url(ConnInfo("c", "postgresql", "h")).drivername == "postgresql+psycopg"
    lite = db.connection_url(ConnInfo("c", "sqlite", schema="/data/app.db"))
    assert lite.database == "file:/data/app.db" and lite.query["mode"] == "ro"
    over = db.connection_url(
        ConnInfo(
            "c",
            "generic",
            extra={"sqlalchemy_url": "postgresql+psycopg://u:pw@h/db?sslmode=require"},
        )
    )
    assert over.query == {"sslmode": "require"} and over.host == "h"
    with pytest.raises(SourceError, match="conn_type 'oracle' is not a supported database"):
        db.connection_url(ConnInfo("c", "oracle", "h"))


# ------------------------------------------------------------------------ pulling


def test_pull_writes_the_interval_as_csv_and_the_pipeline_loads_it(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    source.create()
    ds = _dataset(catalog, **_table_params(source))
    ctx = _ctx(local_settings, catalog, source, DAY5)

    keys = db.pull(ctx, ds)

    key = _key(ctx, ds, DAY5)
    assert keys == [key]
    data = ctx.lake.get(key)
    assert data.decode("utf-8") == CSV_DAY5
    [pull] = _pulls(ctx)
    assert pull == {
        "dataset_id": DATASET,
        "interval_start": "2026-10-05T00:00:00+07:00",
        "interval_end": "2026-10-06T00:00:00+07:00",
        "lower_bound": "2026-10-05T00:00:00",
        "upper_bound": "2026-10-06T00:00:00",
        "rows": 3,
        "inbox_key": key,
        "sha256": hashlib.sha256(data).hexdigest(),
    }

    [summary] = run_dataset(ctx, ds)  # extract pulls again: same interval, same bytes

    assert summary.status == "loaded", summary
    assert (summary.rows_in, summary.rows_loaded, summary.rows_rejected) == (3, 3, 0)
    assert summary.sha256 == pull["sha256"]
    assert _facts(ctx, ds) == FACT_DAY5
    assert ctx.lake.list(inbox_prefix(catalog, ds)) == []
    assert ctx.lake.get(f"raw/{DATASET}/{pull['sha256']}/db-{DAY5.label}.csv") == data


def test_rerun_gives_the_same_bytes_and_the_next_interval_only_new_rows(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    t = source.create()
    ds = _dataset(catalog, **_table_params(source))
    ctx = _ctx(local_settings, catalog, source, DAY5)
    [first] = run_dataset(ctx, ds)
    assert first.rows_loaded == 3
    first_bytes = _raw(ctx, first)
    source.insert(t, LATER)

    assert run_dataset(ctx, ds) == []  # same interval again: recognised, nothing reprocessed
    assert db.pull(ctx, ds) == [_key(ctx, ds, DAY5)]
    assert ctx.lake.get(_key(ctx, ds, DAY5)) == first_bytes
    assert _pulls(ctx)[0]["sha256"] == first.sha256
    assert _facts(ctx, ds) == FACT_DAY5
    ctx.lake.delete(_key(ctx, ds, DAY5))

    # the same instants written in UTC are the same interval: same record, same bytes
    utc = Interval(DAY5.start.astimezone(dt.UTC), DAY5.end.astimezone(dt.UTC))
    [utc_key] = db.pull(_at(ctx, utc), ds)
    assert ctx.lake.get(utc_key) == first_bytes and len(_pulls(ctx)) == 1
    ctx.lake.delete(utc_key)

    [second] = run_dataset(_at(ctx, DAY6), ds)

    assert second.rows_in == second.rows_loaded == 2
    rows = list(csv.DictReader(io.StringIO(_raw(ctx, second).decode())))
    assert [(r["kode_kecamatan"], r["realisasi_rp"]) for r in rows] == [
        ("16.06.05", "8100000.00"),
        ("16.06.06", "2750000.75"),
    ]
    assert _facts(ctx, ds) == [
        *FACT_DAY5,
        (dt.date(2026, 9, 1), "16.06.05", "Pajak Reklame", 9000000.0, 8100000.0, 44),
        (dt.date(2026, 10, 1), "16.06.06", "Pajak Air Tanah", 3000000.0, 2750000.75, 7),
    ]
    assert [p["rows"] for p in _pulls(ctx)] == [3, 2]


def test_integer_watermark_pulls_what_is_new_since_the_last_pull(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    t = source.create()
    ds = _dataset(catalog, **_table_params(source), watermark_column="id", watermark_type="integer")
    ctx = _ctx(local_settings, catalog, source, DAY5)

    [first] = run_dataset(ctx, ds)  # the first pull takes everything there is
    assert first.rows_loaded == 5
    first_bytes = _raw(ctx, first)
    codes = [r["kode_kecamatan"] for r in csv.DictReader(io.StringIO(first_bytes.decode()))]
    assert codes == ["16.06.01", "16.06.02", "16.06.03", "16.06.04", "16.06.05"]
    source.insert(t, LATER)

    assert db.pull(ctx, ds) == [_key(ctx, ds, DAY5)]  # re-run: the recorded bounds, 1..5
    assert ctx.lake.get(_key(ctx, ds, DAY5)) == first_bytes
    assert run_dataset(ctx, ds) == []

    [second] = run_dataset(_at(ctx, DAY6), ds)
    assert second.rows_loaded == 2
    assert [f[1] for f in _facts(ctx, ds)] == [f"16.06.0{i}" for i in range(1, 8)]

    assert db.pull(_at(ctx, DAY7), ds) == []  # nothing new: no file, but recorded
    assert [(p["lower_bound"], p["upper_bound"], p["rows"]) for p in _pulls(ctx)] == [
        ("0", "5", 5),
        ("5", "7", 2),
        ("7", "7", 0),
    ]
    assert _pulls(ctx)[2]["inbox_key"] is None and _pulls(ctx)[2]["sha256"] is None


def test_date_watermark_and_a_query_with_bound_parameters(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    source.create()
    q = source.quote  # the data engineer's query, reviewed like code: formatted here on purpose
    query = (
        f"SELECT periode, kode_kecamatan, jenis_pajak, target AS target_rp, "  # noqa: S608
        f"{q('Realisasi Rp')} AS realisasi_rp, jumlah_wp AS jumlah_wajib_pajak "
        f"FROM {source.qualified()} WHERE periode >= :lower AND periode < :upper;"
    )
    ds = _dataset(
        catalog, query=query, watermark_column="periode", watermark_type="date", columns={}
    )
    september = Interval(
        dt.datetime(2026, 9, 1, tzinfo=JAKARTA), dt.datetime(2026, 10, 1, tzinfo=JAKARTA)
    )
    ctx = _ctx(local_settings, catalog, source, september)

    [key] = db.pull(ctx, ds)

    rows = list(csv.DictReader(io.StringIO(ctx.lake.get(key).decode())))
    assert [r["kode_kecamatan"] for r in rows] == [f"16.06.0{i}" for i in range(1, 6)]
    assert rows[3] == {
        "periode": "2026-09-01",
        "kode_kecamatan": "16.06.04",
        "jenis_pajak": "Pajak Restoran",
        "target_rp": "70000000.00",
        "realisasi_rp": "1.50",
        "jumlah_wajib_pajak": "5",
    }
    assert _pulls(ctx)[0]["lower_bound"] == "2026-09-01"
    assert _pulls(ctx)[0]["upper_bound"] == "2026-10-01"
    [summary] = run_dataset(ctx, ds)
    assert summary.rows_loaded == 5


def test_zoned_timestamps_are_compared_as_instants(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    """timestamptz (PostgreSQL) and TIMESTAMP (MariaDB) hold instants: bounds are Jakarta's."""
    stamp = DateTime(timezone=True).with_variant(mysql.TIMESTAMP(), "mysql", "mariadb")
    name = f"realisasi_tz_{uuid.uuid4().hex[:6]}"
    t = realisasi_table(MetaData(), name, source.schema, stamp)
    source.created.append(name)
    t.create(source.engine)
    utc = [
        dt.datetime(2026, 10, 4, 16, 59, 59),
        dt.datetime(2026, 10, 4, 17, 0, 0),
        dt.datetime(2026, 10, 5, 16, 59, 59),
        dt.datetime(2026, 10, 5, 17, 0, 0),
    ]
    with source.engine.begin() as conn:  # written by an application whose session is UTC
        if source.kind == "mariadb":
            conn.execute(text("SET time_zone = '+00:00'"))
        names = [c.name for c in t.columns]
        conn.execute(
            t.insert(),
            [
                dict(
                    zip(
                        names,
                        (*r[:7], u.replace(tzinfo=dt.UTC) if source.kind == "postgresql" else u),
                        strict=True,
                    )
                )
                for r, u in zip(ROWS, utc, strict=False)
            ],
        )
    ds = _dataset(catalog, table=name, schema_name=source.schema)
    ctx = _ctx(local_settings, catalog, source, DAY5)

    [key] = db.pull(ctx, ds)

    rows = list(csv.DictReader(io.StringIO(ctx.lake.get(key).decode())))
    assert [r["kode_kecamatan"] for r in rows] == ["16.06.02", "16.06.03"]  # ids 2 and 3


def test_odd_identifiers_are_quoted(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    name = f"pajak\"daerah' `{uuid.uuid4().hex[:6]}"
    source.create(name)
    ds = _dataset(catalog, **_table_params(source, name))
    ctx = _ctx(local_settings, catalog, source, DAY5)

    [key] = db.pull(ctx, ds)

    assert ctx.lake.get(key).decode() == CSV_DAY5


def test_hostile_identifiers_execute_nothing(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    source.create()
    victim = f"y_{uuid.uuid4().hex[:8]}"
    source.create_other(victim)
    ctx = _ctx(local_settings, catalog, source, DAY5)
    drop = f"DROP TABLE {source.qualified(victim)}"
    hostile = [
        (_table_params(source, f"x; {drop}"), "does not exist"),
        ({**_table_params(source), "schema_name": f"public; {drop}; --"}, "does not exist"),
        ({**_table_params(source), "watermark_column": f"updated_at; {drop}; --"}, "has no column"),
        (
            {**_table_params(source), "columns": {"target_rp": f"target FROM x; {drop}; --"}},
            "has no column",
        ),
    ]
    for params, message in hostile:
        with pytest.raises(SourceError, match=message) as err:
            db.pull(ctx, _dataset(catalog, **params))
        assert CONN_ID in str(err.value) and DATASET in str(err.value)
        assert source.has_table(victim), params
    assert ctx.lake.list(inbox_prefix(catalog, catalog.dataset(DATASET))) == []


def test_sessions_are_read_only(source: SourceDB) -> None:
    t = source.create(rows=[])
    engine = db._engine(source.url, source.conn_info())
    try:
        with engine.connect() as conn, pytest.raises(Exception, match="(?i)read.only"):
            conn.execute(t.insert(), [dict(zip([c.name for c in t.columns], ROWS[0], strict=True))])
    finally:
        engine.dispose()
    with source.engine.connect() as conn:
        assert conn.execute(select(t.c.id)).all() == []


def test_missing_table_and_column_name_what_is_missing(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    source.create()
    ctx = _ctx(local_settings, catalog, source, DAY5)
    masked = (
        source.url.set(drivername="mysql+pymysql", query={"charset": "utf8mb4"})
        if source.kind == "mariadb"
        else source.url
    )
    where = masked.render_as_string(hide_password=True)
    with pytest.raises(SourceError) as err:
        db.pull(ctx, _dataset(catalog, **_table_params(source, "tidak_ada")))
    assert f"{DATASET}: database source 'simpatda' at {where}" in str(err.value)
    assert "table" in str(err.value) and "tidak_ada' does not exist" in str(err.value)

    with pytest.raises(SourceError, match=r"has no column 'diperbarui'; it has 'id', ") as err:
        db.pull(ctx, _dataset(catalog, **_table_params(source), watermark_column="diperbarui"))
    with pytest.raises(SourceError, match=r"has no columns 'target_rp', 'realisasi_rp', "):
        db.pull(ctx, _dataset(catalog, **_table_params(source), columns={}))
    assert _pulls(ctx) == []  # nothing recorded for a pull that could not start


def test_bad_credentials_and_unreachable_server_hide_the_password(
    source: SourceDB, catalog: Catalog, local_settings: Settings
) -> None:
    source.create()
    secret = "Rahasia-Bapenda-2026!"
    # PostgreSQL here trusts loopback, so an unknown role is what refuses the login.
    login = f"nobody_{uuid.uuid4().hex[:6]}" if source.kind == "postgresql" else "root"
    wrong = source.conn_info(login=login, password=secret)
    ds = _dataset(catalog, **_table_params(source))
    ctx = _ctx(local_settings, catalog, None, DAY5, connections=lambda conn_id: wrong)
    with pytest.raises(SourceError) as err:
        db.pull(ctx, ds)
    message = str(err.value)
    assert secret not in message and ":***@" in message and "simpatda" in message
    assert ("does not exist" if source.kind == "postgresql" else "Access denied") in message

    closed = source.conn_info(port=_closed_port(), password=secret)
    ctx = _at(ctx, DAY5)
    ctx.connections = lambda conn_id: closed
    with pytest.raises(SourceError, match=r"cannot be read \(OperationalError") as err:
        db.pull(ctx, ds)
    assert secret not in str(err.value) and DATASET in str(err.value)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_from_the_environment(
    source: SourceDB, catalog: Catalog, local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    source.create()
    scheme = "postgres" if source.kind == "postgresql" else "mysql"
    uri = source.url.set(drivername=scheme).render_as_string(hide_password=False)
    monkeypatch.setenv("SERASAN_CONN_SIMPATDA", uri)
    ds = _dataset(catalog, **_table_params(source))
    ctx = _ctx(local_settings, catalog, None, DAY5)  # the default resolver: env_connections

    [key] = db.pull(ctx, ds)

    assert ctx.lake.get(key).decode() == CSV_DAY5
    monkeypatch.setenv(
        "SERASAN_CONN_SIMPATDA",
        json.dumps(
            {
                "conn_type": scheme,
                "host": source.url.host,
                "port": source.url.port,
                "login": source.url.username,
                "schema": source.url.database,
            }
        ),
    )
    assert db.pull(ctx, ds) == [key]


def test_pull_into_s3_and_postgresql_warehouse(
    catalog: Catalog, s3_settings: Settings, pg_source: SourceDB
) -> None:
    """Production shape: the lake is S3, the warehouse PostgreSQL, the source PostgreSQL."""
    source = pg_source
    source.create()
    ds = _dataset(catalog, **_table_params(source))
    ctx = _ctx(s3_settings, catalog, source, DAY5)

    [summary] = run_dataset(ctx, ds)

    assert summary.rows_loaded == 3 and summary.status == "loaded"
    assert _raw(ctx, summary).decode() == CSV_DAY5
    assert _facts(ctx, ds) == FACT_DAY5
    assert _pulls(ctx)[0]["inbox_key"] == _key(ctx, ds, DAY5)
    assert run_dataset(ctx, ds) == []


def test_sqlite_source_and_number_formats(
    catalog: Catalog, local_settings: Settings, tmp_path: Path
) -> None:
    """A read-only SQLite file, and numbers the parser must not misread (1.234 is not 1234)."""
    path = tmp_path / "app.db"
    engine = create_engine(f"sqlite:///{path}")
    t = Table(
        "realisasi",
        MetaData(),
        Column("id", Integer),
        Column("periode", Date),
        Column("kode_kecamatan", String),
        Column("jenis_pajak", String),
        Column("target", Float),
        Column("Realisasi Rp", Float),
        Column("jumlah_wp", Integer),
        Column("updated_at", DateTime),
    )
    t.create(engine)
    rows = [
        (1, dt.date(2026, 9, 1), "16.06.01", "PBB-P2", 1.234, 0.5, 1, dt.datetime(2026, 10, 5, 1)),
        (
            2,
            dt.date(2026, 9, 1),
            "16.06.02",
            "BPHTB",
            12345678901234.5,
            7.0,
            None,
            dt.datetime(2026, 10, 5, 2),
        ),
    ]
    with engine.begin() as conn:
        conn.execute(t.insert(), [dict(zip(t.c.keys(), r, strict=True)) for r in rows])
    engine.dispose()
    ds = _dataset(catalog, table="realisasi")
    info = ConnInfo(CONN_ID, "sqlite", schema=str(path))
    ctx = _ctx(local_settings, catalog, None, DAY5, connections=lambda conn_id: info)

    [summary] = run_dataset(ctx, ds)

    assert summary.rows_loaded == 2
    assert _facts(ctx, ds) == [
        (dt.date(2026, 9, 1), "16.06.01", "PBB-P2", 1.234, 0.5, 1),
        (dt.date(2026, 9, 1), "16.06.02", "BPHTB", 12345678901234.5, 7.0, None),
    ]
    assert db._cell(Decimal("1.234"), "number") == "1.2340"
    assert db._cell(1e16, "number") == "10000000000000000"
    assert db._cell(dt.datetime(2026, 10, 5, 1, tzinfo=dt.UTC), "date") == "2026-10-05"
    assert (
        db._cell(dt.datetime(2026, 10, 5, 1, tzinfo=dt.UTC), "string")
        == "2026-10-05T08:00:00+07:00"
    )
