"""`serasan demo` on a PostgreSQL warehouse loads both citizen-voice datasets of Musi Banyuasin:
reviews generated as collected on the as-of date, their relative dates ("3 bulan lalu") read
against the collection date the demo passes in the DAG run's conf, complaints with their
status, and the citizen-voice KPIs computed from them and shown on the report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.demo import reviews
from serasan.demo.generate import DEFAULT_AS_OF
from serasan.demo.run import run_demo
from serasan.lake import keys
from serasan.lake.store import open_lake
from serasan.publish import kpi
from serasan.warehouse.db import make_engine
from serasan.warehouse.facts import fact_table
from serasan.warehouse.tables import table
from tests.support.report_html import MONTH, parse, within

REVIEWS, COMPLAINTS = "muba_ulasan_program", "muba_pengaduan_masyarakat"
PROGRAMMES = ("GOV", "BRD", "ECO", "LIV", "SOC", "ENV")


@pytest.fixture
def pg_demo(pg_url: str, tmp_path: Path) -> Iterator[Settings]:
    saved = dict(os.environ)
    yield Settings(lake_url=str(tmp_path / "lake"), warehouse_url=pg_url)
    os.environ.clear()
    os.environ.update(saved)


def test_demo_loads_both_voice_datasets_into_postgresql(
    pg_demo: Settings, catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = Path(os.environ["AIRFLOW_HOME"])
    work = tmp_path / "work"
    assert run_demo(catalog, pg_demo, home, dt.date(2026, 11, 1), 0.03, work) == 0
    out = capsys.readouterr().out
    engine = make_engine(pg_demo.warehouse_url)
    assert engine.dialect.name == "postgresql"
    lr = table("meta", "load_run", "postgresql")
    with engine.connect() as conn:
        runs = {
            r["dataset_id"]: dict(r)
            for r in conn.execute(select(lr).where(lr.c.dataset_id.in_([REVIEWS, COMPLAINTS])))
            .mappings()
            .all()
        }
        facts = {
            d: pd.read_sql(select(fact_table(catalog.dataset(d), "postgresql")), conn)
            for d in (REVIEWS, COMPLAINTS)
        }
        kv = table("mart", "kpi_value", "postgresql")
        mart = [
            dict(r) for r in conn.execute(select(kv).where(kv.c.kpi_code.like("MUBA-%"))).mappings()
        ]
    engine.dispose()

    # both loaded, the demo's 3 % defects set aside, every other row in the warehouse
    for d, rows in ((REVIEWS, 1600), (COMPLAINTS, 400)):
        assert reviews.demo_rows(catalog.dataset(d)) == rows
        run = runs[d]
        assert run["status"] in ("loaded", "quarantined"), run
        assert run["rows_in"] == rows and run["rows_loaded"] >= 0.9 * rows, run
        assert len(facts[d]) == run["rows_loaded"]
        assert d in out.split("Summary")[1]

    # the reviews were read against the collection date the demo gave the DAG run
    data = (work / f"{REVIEWS}.xlsx").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    manifest = json.loads(open_lake(pg_demo).get(keys.manifest_key(REVIEWS, sha)))
    assert manifest["collected_on"] == DEFAULT_AS_OF.isoformat() == "2026-10-31"
    ulasan = facts[REVIEWS]
    assert set(ulasan["tanggal_presisi"]) == {"day", "week", "month", "year"}
    days = pd.to_datetime(ulasan["tanggal"])
    assert days.min() < pd.Timestamp("2024-06-01") and days.max() <= pd.Timestamp("2026-10-31")
    precision = ulasan["tanggal_presisi"]
    assert (days[precision == "month"].dt.day == 1).all()  # "3 bulan lalu": its month
    years = days[precision == "year"]
    assert ((years.dt.month == 1) & (years.dt.day == 1)).all()  # "2 tahun lalu": 1 January
    texts = ulasan["ulasan"].dropna()
    slang = r"(?i)\b(?:gk|ga|gak|tdk|bgt|yg|tp|udh|udah|sy|dgn|jd|blm|mantul)\b"
    assert texts.str.contains(slang).mean() >= 0.3
    assert texts.str.contains(r"(?i:\b(?:pak|bu|mas|mbak)) [A-Z][a-z]+").any()
    assert set(ulasan["program"]) == {p.code for p in catalog.programmes.values() if
                                      p.regency == "16.06"}  # fmt: skip
    assert ulasan.loc[ulasan["sumber"] == "Media Sosial", "rating"].isna().all()

    pengaduan = facts[COMPLAINTS]
    assert set(pengaduan["status"]) == {"Selesai", "Diproses", "Belum Diproses"}
    assert pengaduan["program"].isna().mean() < 0.25
    assert pengaduan["isi_pengaduan"].notna().all()

    # the citizen-voice KPIs: every programme's Q3 2026 shown, older quarters with too few
    # reviews withheld and marked
    by = {(r["kpi_code"], r["period"]): r for r in mart if r["kode_wilayah"] == "16.06"}
    for p in PROGRAMMES:
        for code in (f"MUBA-{p}-04", f"MUBA-{p}-05", f"MUBA-{p}-06"):
            r = by[(code, "2026-Q3")]
            assert r["value"] is not None and r["n"] >= 20 and r["min_n"] == 20, r
    withheld = [r for r in mart if kpi.too_few(r)]
    assert withheld and all(r["reason"].startswith("terlalu sedikit data: ") for r in withheld)
    assert any(r["period"].startswith("2025") for r in withheld)

    html = open_lake(pg_demo).get(f"reports/musibanyuasin/{MONTH}.html").decode()
    els = parse(html)
    for p in PROGRAMMES:
        code = f"MUBA-{p}-04"
        [count] = [e for e in els if "kpi-n" in e["classes"] and within(e, data_kpi=code)]
        n = by[(code, "2026-Q3")]["n"]
        assert re.fullmatch(rf"Dihitung dari {n} ulasan \(ditampilkan mulai 20\)\.",
                            " ".join(count["text"].split()))  # fmt: skip
