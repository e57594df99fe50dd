"""The citizen-voice KPIs in the catalog: three per Musi Banyuasin programme, in its pillar and
its list, with the count their minimum needs; a `min_count` KPI whose query returns no `n` is
refused by catalog validation. Computed on both backends in tests/integration/test_voice_kpis.py."""

from __future__ import annotations

import re

from serasan.config.catalog import Catalog
from serasan.publish import kpi

PREFIX = {
    "governance": "GOV",
    "branding": "BRD",
    "economy": "ECO",
    "living": "LIV",
    "society": "SOC",
    "environment": "ENV",
}


def test_each_programme_lists_its_three_voice_kpis_in_its_pillar(catalog: Catalog) -> None:
    muba = [p for p in catalog.programmes.values() if p.regency == "16.06"]
    assert len(muba) == 6
    for p in muba:
        codes = [f"MUBA-{PREFIX[p.pillar]}-{n:02d}" for n in (4, 5, 6)]
        assert p.kpis[-3:] == codes, p.code
        rating, positive, followed = (catalog.kpis[c] for c in codes)
        for k in (rating, positive, followed):
            assert re.fullmatch(r"MUBA-[A-Z]{3}-\d{2}", k.code)
            assert (k.regency, k.pillar, k.min_count, k.cadence) == (
                "16.06",
                p.pillar,
                "voice",
                "quarterly",
            )
            assert f"'{p.code}'" in k.query  # about this programme only
            assert re.search(r"\bAS n\b", k.query)
        assert rating.sources == positive.sources == ["muba_ulasan_program"]
        assert followed.sources == ["muba_pengaduan_masyarakat"]
        assert (rating.satuan, positive.satuan, followed.satuan) == ("bintang", "persen", "persen")
        assert "tanggal_presisi" in rating.query and "tanggal_presisi" in positive.query
        assert "'Selesai', 'Diproses'" in followed.query  # the voice block's followed_up
        assert kpi.count_noun(catalog, rating) == "ulasan"
        assert kpi.count_noun(catalog, followed) == "pengaduan"
    assert kpi.count_noun(catalog, catalog.kpis["MUBA-GOV-01"]) == "data"
    assert all(k.min_count is None for k in catalog.kpis.values() if k.regency == "16.03")


def test_a_min_count_kpi_must_return_n(catalog: Catalog) -> None:
    assert kpi.check_queries(catalog) == []
    k = catalog.kpis["MUBA-LIV-04"]
    without_n = k.model_copy(update={"query": k.query.replace(", COUNT(*) AS n", "")})
    assert "AS n" not in without_n.query
    broken = type(catalog)(
        root=catalog.root,
        regencies=catalog.regencies,
        datasets=catalog.datasets,
        kpis={**catalog.kpis, k.code: without_n},
        programmes=catalog.programmes,
    )
    [problem] = kpi.check_queries(broken)
    assert "MUBA-LIV-04.query: min_count: voice needs the query to return n" in problem


def test_too_few_reads_the_stored_count_and_minimum() -> None:
    assert kpi.too_few({"value": None, "n": 8, "min_n": 20})
    assert not kpi.too_few({"value": None, "n": 20, "min_n": 20})  # 20 is enough
    assert not kpi.too_few({"value": 4.2, "n": 24, "min_n": 20})
    assert not kpi.too_few({"value": None, "n": None, "min_n": 20})  # no data: missing
    assert not kpi.too_few({"value": None, "n": 3, "min_n": None})  # no minimum
    assert not kpi.too_few(None)
    assert kpi.minimums() == {"voice": 20}
