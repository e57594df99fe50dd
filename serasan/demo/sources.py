"""Stand-ins for OPD applications, so `serasan demo` exercises all three kinds of source.

A regency has spreadsheets, application databases and REST APIs. With no services at hand, the
demo fills a SQLite file as the "application database" and serves the "application API" from a
loopback HTTP server for the length of the run. Both hold generated rows stamped as updated on
the day before the run, which is the interval the DAGs pull. The data is the same on every run,
so pulling again yields the same bytes and nothing changes in the warehouse.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Column, DateTime, MetaData, Table, Text, create_engine, insert

from serasan.config.catalog import Catalog, Dataset
from serasan.demo.generate import generate_dataset

DEMO_TOKEN = "demo-token"  # the stand-in API's token; not a secret of any real system


def _records(
    ds: Dataset, catalog: Catalog, defect_rate: float, updated: str
) -> list[dict[str, str | None]]:
    gen = generate_dataset(ds, catalog, fmt="csv", defect_rate=defect_rate, seed=42)
    rows = list(csv.DictReader(io.StringIO(gen.data.decode("utf-8"))))
    return [
        {**{k: (v if v != "" else None) for k, v in r.items()}, "updated_at": updated} for r in rows
    ]


def _updated_stamp(run_date: dt.date) -> str:
    return f"{run_date - dt.timedelta(days=1)}T10:00:00+07:00"


def prepare_database(
    ds: Dataset, catalog: Catalog, folder: Path, run_date: dt.date, defect_rate: float
) -> dict[str, str]:
    """(Re)create the SQLite application database; returns the env that names its connection."""
    params = ds.source.params
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{params['conn_id']}.db"
    path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    records = _records(ds, catalog, defect_rate, _updated_stamp(run_date))
    stamp = dt.datetime.combine(run_date - dt.timedelta(days=1), dt.time(10))  # local time
    source_cols = {**{c: c for c in ds.column_names}, **params.get("columns", {})}
    table = Table(
        params["table"],
        MetaData(),
        *[Column(source_cols[c], Text) for c in ds.column_names],
        Column(params["watermark_column"], DateTime),
    )
    table.create(bind=engine)
    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [
                {
                    **{source_cols[c]: r[c] for c in ds.column_names},
                    params["watermark_column"]: stamp,
                }
                for r in records
            ],
        )
    engine.dispose()
    return {f"SERASAN_CONN_{params['conn_id'].upper()}": f"sqlite:///{path}"}


class _Api(BaseHTTPRequestHandler):
    records: list[dict[str, Any]] = []
    path_prefix = "/"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        if self.headers.get("Authorization") != f"Bearer {DEMO_TOKEN}":
            return self._send(401, {"error": "unauthorized"})
        if url.path != self.path_prefix:
            return self._send(404, {"error": "not found"})
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        since, until = q.get("updated_since", ""), q.get("updated_until", "~")
        rows = [r for r in self.records if since <= r["updated_at"] < until]
        page, size = int(q.get("page", 1)), int(q.get("per_page", 100))
        self._send(
            200,
            {
                "data": rows[(page - 1) * size : page * size],
                "meta": {"page": page, "total": len(rows)},
            },
        )

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # keep the demo's output readable
        return


@contextmanager
def serve_api(
    ds: Dataset, catalog: Catalog, run_date: dt.date, defect_rate: float
) -> Iterator[dict[str, str]]:
    """Serve the dataset's stand-in API on 127.0.0.1; yields the env naming its connection."""
    params = ds.source.params
    handler = type(
        "DemoApi",
        (_Api,),
        {
            "records": _records(ds, catalog, defect_rate, _updated_stamp(run_date)),
            "path_prefix": "/" + params["path"].lstrip("/"),
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conn = {
        "conn_type": "http",
        "host": "127.0.0.1",
        "port": server.server_address[1],
        "password": DEMO_TOKEN,
    }
    try:
        yield {f"SERASAN_CONN_{params['conn_id'].upper()}": json.dumps(conn)}
    finally:
        server.shutdown()
        server.server_close()
