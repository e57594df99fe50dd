"""The regency report: one offline HTML file per regency and month, whose numbers are the
warehouse's. Read back from the lake and parsed; the browser test opens the same files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from serasan.cli.main import main
from serasan.common.clock import MONTH_NAMES
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.publish import kpi, report
from serasan.runtime.context import RunContext
from tests.support.report_html import MONTH, id_number, parse, within
from tests.support.warehouse import deliver, warehouse_context


def _visible(html: str) -> str:
    """The words a reader sees: tags, attributes and the style sheet dropped."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", html, flags=re.S))


def _html(ctx: RunContext, slug: str) -> str:
    return ctx.lake.get(f"reports/{slug}/{MONTH}.html").decode()


def _kpi_rows(ctx: RunContext) -> list[dict[str, Any]]:
    mart = ctx.t("mart", "kpi_value")
    with ctx.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(mart)).mappings()]


def test_each_pillar_and_kpi_shows_the_warehouse_numbers(regencies_loaded: RunContext) -> None:
    ctx = regencies_loaded
    rows = _kpi_rows(ctx)
    month_end = kpi.period_span(MONTH)[1]
    for reg in ctx.catalog.regencies.values():
        els = parse(_html(ctx, reg.slug))
        sections = [
            e["attrs"]["data-pillar"]
            for e in els
            if e["tag"] == "section" and "pillar" in e["classes"]
        ]
        assert sections == ["governance", "branding", "economy", "living", "society", "environment"]
        articles = {e["attrs"]["data-kpi"]: e for e in els if "kpi" in e["classes"]}
        assert set(articles) == {k.code for k in ctx.catalog.kpis_of(reg.kode)}
        for k in ctx.catalog.kpis_of(reg.kode):
            period = kpi.latest_ended(k.cadence, month_end)
            assert articles[k.code]["attrs"]["data-period"] == period
            [row] = [
                r
                for r in rows
                if (r["kpi_code"], r["period"], r["kode_wilayah"]) == (k.code, period, reg.kode)
            ]
            [value] = [e for e in els if "kpi-value" in e["classes"] and within(e, data_kpi=k.code)]
            assert float(value["attrs"]["data-value"]) == row["value"]
            decimals = len(value["text"].partition(",")[2])
            assert id_number(value["text"]) == pytest.approx(round(row["value"], decimals))
            [target] = [
                e for e in els if "kpi-target" in e["classes"] and within(e, data_kpi=k.code)
            ]
            assert id_number(target["text"]) == pytest.approx(row["target"], abs=0.5)
            assert articles[k.code]["attrs"]["data-status"] == row["status"]
            charts = [e for e in els if e["tag"] == "svg" and within(e, data_kpi=k.code)]
            assert "line-chart" in charts[0]["classes"]  # every KPI here has several periods
            points = [
                e
                for e in els
                if e["tag"] == "circle" and "point" in e["classes"] and within(e, data_kpi=k.code)
            ]
            assert (
                float(next(p for p in points if "current" in p["classes"])["attrs"]["data-value"])
                == row["value"]
            )
            kec = sorted(
                (
                    r
                    for r in rows
                    if r["kpi_code"] == k.code
                    and r["period"] == period
                    and r["kode_wilayah"] != reg.kode
                ),
                key=lambda r: r["kode_wilayah"],
            )
            bars = [
                e
                for e in els
                if e["tag"] == "rect" and "bar" in e["classes"] and within(e, data_kpi=k.code)
            ]
            assert [float(b["attrs"]["data-value"]) for b in bars] == [r["value"] for r in kec]
            assert (k.level == "kecamatan") == bool(kec)


def test_quality_and_satu_data_pages(regencies_loaded: RunContext) -> None:
    ctx = regencies_loaded
    ex, qs = ctx.t("meta", "export_run"), ctx.t("meta", "quality_score")
    with ctx.engine.connect() as conn:
        ready = {}
        for r in conn.execute(select(ex.c.dataset_id, ex.c.status)):
            ready[r.dataset_id] = ready.get(r.dataset_id, 0) + (r.status == "ready")
        scores = [dict(r) for r in conn.execute(select(qs).order_by(qs.c.period)).mappings()]
    singles = 0
    for reg in ctx.catalog.regencies.values():
        els = parse(_html(ctx, reg.slug))
        opds = {e["attrs"]["data-opd"] for e in els if "opd" in e["classes"]}
        assert opds == {f"{reg.slug}-{d.opd}" for d in ctx.catalog.datasets_of(reg.kode)}
        for o in opds:
            own = [s for s in scores if s["regency"] == reg.kode and f"{reg.slug}-{s['opd']}" == o]
            [caption] = [e for e in els if e["tag"] == "figcaption" and within(e, data_opd=o)]
            assert caption["text"].startswith("Skor kualitas data ")
            svgs = [e for e in els if e["tag"] == "svg" and within(e, data_opd=o)]
            single = [e for e in els if "single-value" in e["classes"] and within(e, data_opd=o)]
            if len(own) != 1:
                assert len(svgs) == 1 and not single
                continue
            # a single month of scores is its value with its month, not a one-dot line chart
            assert not svgs and len(single) == 1
            assert single[0]["attrs"]["data-period"] == own[0]["period"]
            assert float(single[0]["attrs"]["data-value"]) == own[0]["score_rows"]
            singles += 1
        rows = {
            e["attrs"]["data-dataset"]: e
            for e in els
            if e["tag"] == "tr" and "data-dataset" in e["attrs"]
        }
        assert set(rows) == {d.id for d in ctx.catalog.datasets_of(reg.kode)}
        for ds_id in rows:
            cells = [e["text"] for e in els if e["tag"] == "td" and within(e, data_dataset=ds_id)]
            assert int(cells[1]) == ready[ds_id] > 0
            assert int(cells[2]) + int(cells[3]) == ready[ds_id]
    assert singles  # everything is loaded on one logical date: one month of scores per OPD


def test_the_file_opens_offline_and_is_rewritten_only_when_it_changes(
    regencies_loaded: RunContext,
) -> None:
    ctx = regencies_loaded
    for reg in ctx.catalog.regencies.values():
        html = _html(ctx, reg.slug)
        assert re.findall(r"https?://[^\s\"'<>]+", html) == [
            "http://www.w3.org/2000/svg"
        ] * html.count("http://www.w3.org/2000/svg")
        assert "<script" not in html and "<link" not in html and " src=" not in html
        # the as-of date as Indonesian readers write it, in the header and the footer
        day = ctx.run_date
        said = f"keadaan data per {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
        assert html.count(said) == 2 and f"per {day.isoformat()}" not in _visible(html)
        again = report.write(ctx, reg.kode, MONTH)
        assert again["written"] is False and again["key"] == f"reports/{reg.slug}/{MONTH}.html"


def test_a_missing_kpi_shows_why(settings: Settings, catalog: Catalog) -> None:
    ctx = warehouse_context(settings, catalog)
    karet = catalog.dataset("muaraenim_produksi_karet")  # policy block
    [blocked] = deliver(ctx, karet.id, defect_rate=0.3, seed=9)
    kpi.compute(ctx, "16.03")
    report.write(ctx, "16.03")
    els = parse(_html(ctx, "muaraenim"))
    article = next(e for e in els if e["attrs"].get("data-kpi") == "ME-ECO-01")
    assert article["attrs"]["data-status"] == "missing"
    [reason] = [e for e in els if "reason" in e["classes"] and within(e, data_kpi="ME-ECO-01")]
    assert "ditolak validasi" in reason["text"] and blocked.load_id in reason["text"]
    [value] = [e for e in els if "kpi-value" in e["classes"] and within(e, data_kpi="ME-ECO-01")]
    assert value["attrs"]["data-value"] == "" and "0" not in value["text"]
    failing = [
        e["text"] for e in els if e["tag"] == "td" and within(e, data_opd="muaraenim-disbun")
    ]
    assert karet.title in failing and "diblokir" in failing


def test_report_command(
    local_settings: Settings,
    catalog: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    for key, value in local_settings.as_env().items():
        monkeypatch.setenv(key, value)
    warehouse_context(local_settings, catalog)
    assert main(["report", "--regency", "nowhere"]) == 2
    assert "unknown regency 'nowhere'" in capsys.readouterr().err
    assert main(["report", "--regency", "muaraenim", "--period", "2026-13"]) == 2
    assert "expected a month YYYY-MM" in capsys.readouterr().err
    assert main(["kpi", "compute", "--regency", "16.03", "--date", "2026-11-01"]) == 0
    assert "missing" in capsys.readouterr().out
    out = tmp_path / "laporan.html"
    assert main(["report", "--regency", "16.03", "--date", "2026-11-01", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "reports/muaraenim/2026-10.html" in said
    assert out.read_text().startswith("<!DOCTYPE html>")
