"""Pillar KPIs: run each catalog KPI query over the warehouse and write `mart.kpi_value`.

Recomputing replaces a KPI's rows, so a rerun gives the same table. Status follows the KPI's
polarity: achievement = value/target (higher is better) or target/value (lower is better).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from serasan.catalog import Kpi
from serasan.warehouse.facts import LOAD_ID
from serasan.warehouse.names import qualified

if TYPE_CHECKING:
    from serasan.pipeline import RunContext

ON_TRACK, AT_RISK = 100.0, 80.0
_REF = re.compile(r"\{(\w+)\.(\w+)\}")


def render(query: str, dialect: str) -> str:
    """Resolve `{layer.table}` placeholders through the one naming function."""
    return _REF.sub(lambda m: qualified(m.group(1), m.group(2), dialect), query)


def status_of(value: float | None, target: float, polarity: str) -> tuple[float | None, str]:
    if value is None:
        return None, "missing"
    if polarity == "higher_is_better":
        pct = 100.0 * value / target if target else None
    else:
        pct = 100.0 * target / value if value else None
    if pct is None:
        return None, "missing"
    return pct, "on_track" if pct >= ON_TRACK else "at_risk" if pct >= AT_RISK else "off_track"


def evaluate(conn: Connection, kpi: Kpi) -> list[dict[str, Any]]:
    """The KPI's rows for every period its sources cover, with lineage to their loads."""
    dialect = conn.dialect.name
    rows = conn.execute(text(render(kpi.query, dialect))).mappings().all()
    lineage = set()
    for src in kpi.sources:
        fact = qualified("core", f"fact_{src}", dialect)
        lineage |= {r[0] for r in conn.execute(text(f"SELECT DISTINCT {LOAD_ID} FROM {fact}"))}  # noqa: S608 - catalog names
    out = []
    for r in rows:
        value = None if r["value"] is None else float(r["value"])
        pct, status = status_of(value, kpi.target, kpi.polarity)
        out.append({"kpi_code": kpi.code, "regency": kpi.regency, "pillar": kpi.pillar,
                    "period": str(r["period"]), "kode_wilayah": str(r["kode_wilayah"]),
                    "value": None if value is None else round(value, 6), "target": kpi.target,
                    "achievement_pct": None if pct is None else round(pct, 4),
                    "status": status, "satuan": kpi.satuan,
                    "load_ids": ",".join(sorted(lineage))})
    return out


def compute(ctx: RunContext, regency: str) -> dict[str, Any]:
    """Recompute every KPI of a regency; returns {kpi code: number of values}."""
    mart = ctx.t("mart", "kpi_value")
    counts: dict[str, int] = {}
    with ctx.engine.begin() as conn:
        for kpi in ctx.catalog.kpis_of(regency):
            rows = evaluate(conn, kpi)
            conn.execute(mart.delete().where(mart.c.kpi_code == kpi.code))
            if rows:
                conn.execute(mart.insert(), rows)
            counts[kpi.code] = len(rows)
    return {"regency": regency, "kpis": counts, "values": sum(counts.values())}
