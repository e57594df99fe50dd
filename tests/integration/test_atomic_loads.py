"""A load killed with SIGKILL at any point leaves the old state or the new one, never a mix.

PostgreSQL only: a child process runs `pipeline.load` on a 200,000-row batch and is killed
during COPY, during the diff join (upsert), while old rows move to history, while new versions
are copied into the fact table (replace_period), and just before COMMIT. The
kill points are found in `pg_stat_activity` (the child's connection has its own
application_name), and for the last one by a SQLAlchemy `commit` hook in the child. After each
kill every table the load writes is compared, by checksum of its full contents, with the state
before; no staging table may be left over, and the next run must complete the load. Loading the
same object again, or re-running the load, must then leave every one of those tables unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Text, cast, create_engine, func, literal, select, text, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import make_url

from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.handoff import Validated, load_id_for
from serasan.pipeline.load import load
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from serasan.warehouse.history import ensure_history_tables, history_table, merge_log_table
from serasan.warehouse.tables import table
from tests.support.paths import REPO_ROOT
from tests.support.warehouse import RUN_DATE

ROWS = 200_000
ROOT = REPO_ROOT

CHILD = textwrap.dedent("""
    import datetime as dt, json, sys, time
    from sqlalchemy import event
    from serasan.config.settings import Settings
    from serasan.pipeline.handoff import Validated
    from serasan.pipeline.load import load
    from serasan.quality.suites import load_validated_catalog
    from serasan.runtime.context import RunContext

    cfg = json.loads(open(sys.argv[1]).read())
    catalog = load_validated_catalog()
    ctx = RunContext(settings=Settings(lake_url=cfg["lake"], warehouse_url=cfg["url"]),
                     catalog=catalog, run_date=dt.date.fromisoformat(cfg["run_date"]),
                     dag_id="kill-test", run_id="run-1")
    if cfg["hang_before_commit"]:
        @event.listens_for(ctx.engine, "commit")
        def _hang(conn):
            open(cfg["marker"], "w").write("about to commit")
            time.sleep(600)
    staged = Validated.from_xcom(cfg["staged"])
    print(json.dumps(load(ctx, catalog.dataset(cfg["dataset"]), staged).to_xcom()))
""")


def _table(ds: Dataset, n: int, seed: int, base: pa.Table | None = None) -> pa.Table:
    """`n` rows for `ds`; with `base`, a corrected version: half the rows changed, 5% of the
    keys gone and 5% new ones."""
    rng = np.random.default_rng(seed)
    if ds.id == "muaraenim_timbulan_sampah":
        keys = np.arange(n) if base is None else np.arange(n // 20, n + n // 20)
        t = pa.table(
            {
                "periode": pa.array([dt.date(2026, 1, 1)] * n, pa.date32()),
                "kode_kecamatan": pa.array([f"K{k:07d}" for k in keys]),
                "timbulan_ton": pa.array(np.round(rng.uniform(1, 900, n), 2)),
                "terkelola_ton": pa.array(np.round(rng.uniform(1, 300, n), 2)),
            }
        )
    else:
        keys = np.arange(n) if base is None else np.arange(n // 20, n + n // 20)
        t = pa.table(
            {
                "tahun": pa.array(np.full(n, 2025), pa.int64()),
                "kode_kelompok": pa.array([f"KT-1606-{k:07d}" for k in keys]),
                "nama_kelompok": pa.array([f"Kelompok Tani {k % 977}" for k in keys]),
                "kode_desa": pa.array([f"16.06.{k % 15 + 1:02d}.20{k % 9 + 1:02d}" for k in keys]),
                "nama_ketua": pa.array([f"Ketua {k}" for k in keys]),
                "nik_ketua": pa.array([f"1606{k:012d}" for k in keys]),
                "telepon_ketua": pa.array([None if k % 10 == 0 else f"0812{k:08d}" for k in keys]),
                "jumlah_anggota": pa.array(rng.integers(10, 60, n)),
                "luas_kebun_ha": pa.array(np.round(rng.uniform(8, 120, n), 2)),
                "produksi_kg": pa.array(np.round(rng.uniform(8000, 160000, n), 1)),
            }
        )
    if base is not None:  # keep the other half of the shared keys exactly as they were
        old = {k: i for i, k in enumerate(base.column(1).to_pylist())}
        idx = [old.get(k, -1) for k in t.column(1).to_pylist()]
        same = np.array([i >= 0 and j % 2 == 0 for j, i in enumerate(idx)])
        cols = []
        for name in t.column_names:
            b = base.column(name).take(pa.array([max(i, 0) for i in idx]))
            cols.append(
                pa.array(
                    np.where(
                        same,
                        b.to_numpy(zero_copy_only=False),
                        t.column(name).to_numpy(zero_copy_only=False),
                    ),
                    type=t.schema.field(name).type,
                )
            )
        t = pa.table(cols, names=t.column_names)
    return t


def _stage(ctx: RunContext, ds: Dataset, t: pa.Table, name: str) -> dict:
    """Put a batch where `validate` would have: raw bytes, staged Parquet, and its hand-off
    (`Validated`, as XCom)."""
    buf = io.BytesIO()
    pq.write_table(t, buf)
    data = buf.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    raw_key = f"raw/{ds.id}/{sha}/{name}"
    ctx.lake.put(raw_key, data)
    ctx.lake.put(f"staging/{ds.id}/{sha}.parquet", data)
    periods = sorted(
        {
            v.isoformat() if isinstance(v, dt.date) else str(v)
            for v in t.column(ds.period.column).unique().to_pylist()
        }
    )
    return {
        "dataset": ds.id,
        "sha256": sha,
        "raw_key": raw_key,
        "filename": name,
        "load_id": load_id_for(ds, sha),
        "status": "loaded",
        "rows_in": t.num_rows,
        "rows_valid": t.num_rows,
        "rows_rejected": 0,
        "problems": [],
        "examples": [],
        "dq": [],
        "staging_key": f"staging/{ds.id}/{sha}.parquet",
        "quarantine_key": None,
        "periods": periods,
        "notes": [],
        "error": None,
        "fix_file": False,
        "rows_failing": 0,
        "docs_key": None,
    }


def _state(engine, ds: Dataset) -> dict[str, str]:  # noqa: ANN001
    """Row count and md5 of the full contents of every table a load writes (the ledger's merge
    time left out), computed by PostgreSQL."""
    d = "postgresql"
    log = merge_log_table(d)
    rows = {
        "fact": fact_table(ds, d),
        "history": history_table(ds, d),
        **{n: table("meta", n, d) for n in ("load_run", "dq_result", "alert", "quality_score")},
    }
    out = {}
    with engine.connect() as conn:
        for name, t in [*rows.items(), ("merge_log", log)]:
            cols = [c for c in t.c if t is not log or c.name not in ("seq", "merged_at")]
            rec = cast(tuple_(*cols), Text)
            count, digest = conn.execute(
                select(
                    func.count(),
                    func.md5(func.string_agg(rec, aggregate_order_by(literal("|"), rec))),
                ).select_from(t)
            ).one()
            out[name] = f"{count}:{digest}"
    return out


def _leftovers(engine) -> list[str]:  # noqa: ANN001
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE c.relname ~ '^(stg|dif)_' "
                    "OR (n.nspname = 'staging' AND c.relkind = 'r')"
                )
            )
        ]


class Killer:
    """Runs loads in child processes and kills them at chosen points."""

    def __init__(self, tmp: Path, settings: Settings, admin_url: str):
        self.tmp, self.settings, self.n = tmp, settings, 0
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        (tmp / "child.py").write_text(CHILD)

    def _spawn(self, ds: Dataset, staged: dict, hang: bool) -> tuple[subprocess.Popen, str]:
        self.n += 1
        app = f"serasan-kill-{os.getpid()}-{self.n}"
        url = (
            make_url(self.settings.warehouse_url)
            .update_query_dict({"application_name": app})
            .render_as_string(hide_password=False)
        )
        cfg = {
            "lake": self.settings.lake_url,
            "url": url,
            "run_date": RUN_DATE.isoformat(),
            "dataset": ds.id,
            "staged": staged,
            "hang_before_commit": hang,
            "marker": str(self.tmp / f"marker-{self.n}"),
        }
        path = self.tmp / f"cfg-{self.n}.json"
        path.write_text(json.dumps(cfg))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, str(self.tmp / "child.py"), str(path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=(self.tmp / f"child-{self.n}.err").open("wb"),
        )
        return proc, app

    def _backend(self, app: str) -> tuple[str, str] | None:
        with self.admin.connect() as conn:
            row = conn.execute(
                text("SELECT state, query FROM pg_stat_activity WHERE application_name = :a"),
                {"a": app},
            ).first()
        return (row[0], row[1]) if row else None

    def kill_at(self, ds: Dataset, staged: dict, point: str) -> str:
        """Start a load and SIGKILL it at `point`; returns what the kill interrupted."""
        proc, app = self._spawn(ds, staged, hang=point == "commit")
        marker = self.tmp / f"marker-{self.n}"
        pattern = {
            "copy": "COPY ",
            "diff": "INSERT INTO dif_",
            "supersede": "WITH gone AS",
            "copy-into-facts": 'COPY "core"."fact_',
        }
        deadline = time.monotonic() + 120
        seen = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = (self.tmp / f"child-{self.n}.err").read_text()
                pytest.fail(f"the load finished before reaching {point!r}: {err[-2000:]}")
            if point == "commit":
                if marker.exists():
                    seen = "idle in transaction, about to COMMIT"
                    break
            else:
                b = self._backend(app)
                if b and b[0] == "active" and b[1].lstrip().startswith(pattern[point]):
                    seen = b[1].split("\n")[0][:80]
                    break
            time.sleep(0.002)
        assert seen, f"the child never reached {point!r}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        while self._backend(app) is not None:  # the server notices the client is gone
            assert time.monotonic() < deadline, "the killed load's backend never went away"
            time.sleep(0.05)
        return seen

    def run(self, ds: Dataset, staged: dict) -> dict:
        proc, _ = self._spawn(ds, staged, hang=False)
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, (self.tmp / f"child-{self.n}.err").read_text()[-3000:]
        return json.loads(out.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("ds_id", ["muaraenim_timbulan_sampah", "muba_kelompok_tani_karet"])
def test_a_killed_load_leaves_the_old_state_or_the_new(
    ds_id: str, pg_url: str, tmp_path: Path, catalog: Catalog
) -> None:
    ds = catalog.dataset(ds_id)
    settings = Settings(lake_url=str(tmp_path / "lake"), warehouse_url=pg_url)
    ctx = RunContext(
        settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="kill-test", run_id="run-1"
    )
    upgrade(ctx.engine, catalog)
    with ctx.engine.begin() as conn:
        ensure_history_tables(conn, catalog)
    killer = Killer(tmp_path, settings, pg_url)
    v1_table = _table(ds, ROWS, seed=1)
    v1 = _stage(ctx, ds, v1_table, "v1.csv")
    v2 = _stage(ctx, ds, _table(ds, ROWS, seed=2, base=v1_table), "v2.csv")
    states = {"empty": _state(ctx.engine, ds)}

    # the first load COPYs straight into the fact table: killed there, nothing is left
    killed = [("v1", killer.kill_at(ds, v1, "copy"), _state(ctx.engine, ds))]
    assert _leftovers(ctx.engine) == []
    assert killer.run(ds, v1)["rows_loaded"] == ROWS
    states["v1"] = _state(ctx.engine, ds)

    # an upsert correction goes through staging, a diff join, history, then COMMIT; a
    # replaced period moves the rows the hashes found changed to history, then COPYs the new
    # versions straight into the fact table
    points = (
        ("copy", "diff", "supersede", "commit")
        if ds.load_mode == "upsert"
        else ("supersede", "copy-into-facts", "commit")
    )
    for point in points:
        killed.append(("v2", killer.kill_at(ds, v2, point), _state(ctx.engine, ds)))
        assert _leftovers(ctx.engine) == [], f"left behind after a kill during {point}"
    summary = killer.run(ds, v2)
    assert summary["status"] == "loaded" and summary["rows_loaded"] == ROWS
    states["v2"] = _state(ctx.engine, ds)
    assert states["v2"]["fact"] != states["v1"]["fact"]
    assert not states["v2"]["history"].startswith("0:")  # half the shared rows were replaced

    for version, what, state in killed:
        before = states["empty" if version == "v1" else "v1"]
        after = states[version]
        assert state in (before, after), f"a kill during {what!r} left a mixed state"
        assert state == before, f"a kill before COMMIT ({what!r}) must leave the old state"

    # the new state is exactly v2 on top of v1
    with ctx.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(fact_table(ds, "postgresql"))).scalar()
    expected = ROWS + ROWS // 20 if ds.load_mode == "upsert" else ROWS
    assert n == expected

    # running the load again, or sending the same object again, changes nothing
    load(ctx, ds, Validated.from_xcom(v2))
    assert _state(ctx.engine, ds) == states["v2"]
    ctx.lake.put(inbox_prefix(catalog, ds) + "again.csv", ctx.lake.get(v2["raw_key"]))
    again = RunContext(
        settings=settings, catalog=catalog, run_date=RUN_DATE, dag_id="kill-test", run_id="run-2"
    )
    assert run_dataset(again, ds) == []
    assert _state(ctx.engine, ds) == states["v2"]
    assert _leftovers(ctx.engine) == []


# ------------------------------------------------------------------------ the loader's encoding

ALL_TYPES = {
    "id": "bench_types",
    "regency": "16.06",
    "opd": "dlh",
    "pillar": "living",
    "title": "every column type",
    "description": "loader round trip",
    "source": {"kind": "spreadsheet"},
    "cadence": "monthly",
    "columns": [
        {"name": "periode", "type": "date", "nullable": False, "description": "d"},
        {"name": "kode", "type": "string", "nullable": False, "description": "k"},
        {"name": "teks", "type": "string", "description": "t"},
        {"name": "jumlah", "type": "integer", "description": "i"},
        {"name": "nilai", "type": "number", "description": "n"},
        {"name": "aktif", "type": "boolean", "description": "b"},
        {"name": "tanggal", "type": "date", "description": "d"},
    ],
    "primary_key": ["periode", "kode"],
    "period": {"column": "periode", "granularity": "month"},
    "quality_policy": "quarantine",
    "load_mode": "replace_period",
    "satu_data": {
        "produsen_data": "x",
        "walidata": "x",
        "frekuensi": "x",
        "satuan": "x",
        "level_penyajian": "x",
        "lisensi": "x",
        "kontak": "x",
    },
}
ODD_ROWS = [
    (dt.date(2026, 1, 1), "a", "", 0, 0.0, False, dt.date(1999, 12, 31)),
    (dt.date(2026, 1, 1), "b", None, None, None, None, None),
    (
        dt.date(2026, 1, 1),
        "c",
        'kutip " koma , baris\nbaru; titik\\N',
        -(2**62),
        -1.5e-300,
        True,
        dt.date(2000, 1, 1),
    ),
    (dt.date(2026, 1, 1), "d", "Bahasa: ĕ ñ 中文 🌴", 2**62, 1 / 3, True, dt.date(1970, 1, 1)),
    (dt.date(2026, 1, 1), "e", "NULL", 42, 123456789.125, False, dt.date(2099, 12, 31)),
]


def _odd_table(ds: Dataset) -> pa.Table:
    from serasan.common.arrow import ARROW_TYPES

    cols = list(zip(*ODD_ROWS, strict=True))
    return pa.table(
        {
            c.name: pa.array(list(v), ARROW_TYPES[c.type])
            for c, v in zip(ds.columns, cols, strict=True)
        }
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "postgresql-csv"])
def test_every_type_survives_the_load_exactly(backend: str, tmp_path: Path) -> None:
    """Binary COPY, CSV COPY (a fact table whose types differ from the catalog's) and
    executemany all store exactly the Arrow values: NULL is not '', floats are exact."""
    from sqlalchemy import Numeric

    from serasan.warehouse.db import make_engine
    from serasan.warehouse.loader import merge

    ds = Dataset.model_validate(ALL_TYPES)
    url = f"sqlite:///{tmp_path / 'wh.db'}" if backend == "sqlite" else _fresh_pg()
    engine = make_engine(url)
    dialect = engine.dialect.name
    fact = fact_table(ds, dialect)
    with engine.begin() as conn:
        if dialect == "postgresql":
            for layer in ("core", "meta", "staging"):
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{layer}"')
        table("meta", "load_run", dialect).create(conn, checkfirst=True)
        if backend == "postgresql-csv":  # an older table: `jumlah` as numeric, not bigint
            fact.c.jumlah.type = Numeric()
        fact.create(conn)
    with engine.begin() as conn:
        assert merge(conn, ds, _odd_table(ds), "types-1") == len(ODD_ROWS)
    with engine.connect() as conn:
        got = [tuple(r) for r in conn.execute(select(fact).order_by(fact.c.kode))]
    assert [(*r[:3], None if r[3] is None else int(r[3]), *r[4:7]) for r in got] == ODD_ROWS
    assert {r[-1] for r in got} == {"types-1"}
    engine.dispose()


def _fresh_pg() -> str:
    """A scratch database on the test server, dropped after the test."""
    import uuid

    from tests.support.services import PG_URL

    server = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"serasan_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    _CREATED.append(name)
    return server.set(database=name).render_as_string(hide_password=False)


_CREATED: list[str] = []


@pytest.fixture(autouse=True)
def _drop_scratch_databases():  # noqa: ANN202
    yield
    if _CREATED:
        from tests.support.services import PG_URL

        admin = create_engine(
            make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            while _CREATED:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{_CREATED.pop()}" WITH (FORCE)')
        admin.dispose()


def test_the_checksum_depends_on_the_rows_not_on_their_chunks() -> None:
    from serasan.warehouse.loader import digest

    ds = Dataset.model_validate(ALL_TYPES)
    t = _odd_table(ds)
    rechunked = pa.Table.from_batches(t.to_batches(max_chunksize=2))
    buf = io.BytesIO()
    pq.write_table(t, buf, row_group_size=3)
    same = digest(ds, t, "upsert")
    assert digest(ds, rechunked, "upsert") == same == digest(ds, buf.getvalue(), "upsert")
    assert digest(ds, t, "replace_period") != same  # the mode is part of what was merged
    changed = t.set_column(4, "nilai", pa.array([0.0, None, -1.5e-300, 1 / 3, 123456789.0]))
    assert digest(ds, changed, "upsert") != same
    nulls_moved = t.set_column(2, "teks", pa.array([None, "", *t["teks"].to_pylist()[2:]]))
    assert digest(ds, nulls_moved, "upsert") != same  # NULL and '' are told apart


def test_the_ledger_keeps_datasets_apart(tmp_path: Path) -> None:
    """The same load id in two datasets is two merges (the ledger is per dataset)."""
    from serasan.warehouse.db import make_engine
    from serasan.warehouse.loader import merge

    one = Dataset.model_validate(ALL_TYPES)
    two = Dataset.model_validate({**ALL_TYPES, "id": "bench_types_two"})
    engine = make_engine(f"sqlite:///{tmp_path / 'wh.db'}")
    with engine.begin() as conn:
        table("meta", "load_run", "sqlite").create(conn)
        for ds in (one, two):
            fact_table(ds, "sqlite").create(conn)
    for ds in (one, two, one, two):
        with engine.begin() as conn:
            merge(conn, ds, _odd_table(ds), "same-id")
    with engine.connect() as conn:
        for ds in (one, two):
            assert conn.execute(
                select(func.count()).select_from(fact_table(ds, "sqlite"))
            ).scalar() == len(ODD_ROWS)
        log = merge_log_table("sqlite")
        assert sorted(conn.execute(select(log.c.dataset_id, log.c.load_id)).all()) == [
            ("bench_types", "same-id"),
            ("bench_types_two", "same-id"),
        ]
    engine.dispose()
