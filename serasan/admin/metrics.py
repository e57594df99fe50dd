"""Serasan's own metrics, beside Airflow's: rows loaded and rejected, alerts waiting, export lag.

They are read from the warehouse (`meta.load_run`, `meta.alert_delivery`, `meta.export_run`),
so they are always derivable and agree with what the tables say. Two outlets:

- StatsD gauges in the DogStatsD tag format, which the compose stack's statsd-exporter turns
  into Prometheus series next to Airflow's own (`serasan.rows_loaded:120|g|#dataset:...`);
- the Prometheus text format, for `serasan metrics` and a node-exporter textfile collector.

Export lag of a dataset: the days its newest loaded data has waited for an export, 0 when the
latest export is newer than the latest load.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from serasan.alerts.freshness import RECEIVED
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.warehouse.tables import table


@dataclass(frozen=True)
class Metric:
    name: str  # without prefix, e.g. "rows_loaded"
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    help: str = ""


HELP = {
    "rows_in": "Rows received in OPD files, by dataset",
    "rows_loaded": "Rows loaded into the warehouse, by dataset",
    "rows_rejected": "Rows rejected and quarantined, by dataset",
    "loads": "Loads recorded in meta.load_run, by dataset and status",
    "alerts_pending": "Alert deliveries waiting in the outbox, by channel and status",
    "export_lag_days": "Days the newest loaded data has waited for a Satu Data export",
}


def collect(engine: Engine, catalog: Catalog, as_of: dt.date) -> list[Metric]:
    dialect = engine.dialect.name
    lr, ad = table("meta", "load_run", dialect), table("meta", "alert_delivery", dialect)
    ex = table("meta", "export_run", dialect)
    out: list[Metric] = []
    with engine.connect() as conn:
        sums = {
            r.dataset_id: r
            for r in conn.execute(
                select(
                    lr.c.dataset_id,
                    func.sum(lr.c.rows_in).label("rows_in"),
                    func.sum(lr.c.rows_loaded).label("rows_loaded"),
                    func.sum(lr.c.rows_rejected).label("rows_rejected"),
                ).group_by(lr.c.dataset_id)
            )
        }
        statuses = conn.execute(
            select(lr.c.dataset_id, lr.c.status, func.count()).group_by(
                lr.c.dataset_id, lr.c.status
            )
        ).all()
        newest = dict(
            conn.execute(
                select(lr.c.dataset_id, func.max(lr.c.logical_date))
                .where(lr.c.status.in_(RECEIVED))
                .group_by(lr.c.dataset_id)
            ).all()
        )
        exported = dict(
            conn.execute(
                select(ex.c.dataset_id, func.max(ex.c.exported_at))
                .where(ex.c.status == "ready")
                .group_by(ex.c.dataset_id)
            ).all()
        )
        waiting = conn.execute(
            select(ad.c.channel, ad.c.status, func.count())
            .where(ad.c.status.in_(("pending", "failed")))
            .group_by(ad.c.channel, ad.c.status)
        ).all()
    for ds in sorted(catalog.datasets.values(), key=lambda d: d.id):
        labels = {"dataset": ds.id, "regency": ds.regency, "opd": ds.opd}
        row = sums.get(ds.id)
        for name in ("rows_in", "rows_loaded", "rows_rejected"):
            out.append(
                Metric(name, float(getattr(row, name) or 0) if row else 0.0, labels, HELP[name])
            )
        loaded = _as_date(newest.get(ds.id))
        last_export = _as_date(exported.get(ds.id))
        lag = (
            0
            if loaded is None or (last_export and last_export >= loaded)
            else max((as_of - loaded).days, 0)
        )
        out.append(Metric("export_lag_days", float(lag), labels, HELP["export_lag_days"]))
    for ds_id, status, n in statuses:
        out.append(Metric("loads", float(n), {"dataset": ds_id, "status": status}, HELP["loads"]))
    for channel, status, n in waiting:
        out.append(
            Metric(
                "alerts_pending",
                float(n),
                {"channel": channel, "status": status},
                HELP["alerts_pending"],
            )
        )
    if not waiting:
        out.append(
            Metric(
                "alerts_pending",
                0.0,
                {"channel": "all", "status": "pending"},
                HELP["alerts_pending"],
            )
        )
    return out


def _as_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/]")


def statsd_lines(metrics: list[Metric], prefix: str = "serasan") -> list[str]:
    """DogStatsD gauges; tag values lose the characters the protocol reserves (`,|#:`)."""
    lines = []
    for m in metrics:
        tags = ",".join(f"{k}:{_UNSAFE.sub('_', v)}" for k, v in sorted(m.labels.items()))
        lines.append(f"{prefix}.{m.name}:{m.value:g}|g" + (f"|#{tags}" if tags else ""))
    return lines


def send_statsd(metrics: list[Metric], host: str, port: int, prefix: str = "serasan") -> int:
    """Send the gauges over UDP, packed into datagrams of at most 1,400 bytes; returns the
    number of datagrams. UDP never blocks the pipeline: a missing collector loses numbers only."""
    packets, current = [], ""
    for line in statsd_lines(metrics, prefix):
        if current and len(current) + 1 + len(line) > 1400:
            packets.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        packets.append(current)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for p in packets:
            sock.sendto(p.encode(), (host, port))
    return len(packets)


def prometheus(metrics: list[Metric], prefix: str = "serasan") -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines, seen = [], set()
    for m in sorted(metrics, key=lambda m: m.name):
        name = f"{prefix}_{m.name}"
        if name not in seen:
            seen.add(name)
            lines += [f"# HELP {name} {m.help}", f"# TYPE {name} gauge"]
        labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(m.labels.items()))
        lines.append(f"{name}{{{labels}}} {m.value:g}" if labels else f"{name} {m.value:g}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def publish(settings: Settings, engine: Engine, catalog: Catalog, as_of: dt.date) -> int:
    """Send the current gauges to `SERASAN_STATSD_HOST`; 0 datagrams when it is unset."""
    if not settings.statsd_host:
        return 0
    return send_statsd(collect(engine, catalog, as_of), settings.statsd_host, settings.statsd_port)
