"""What one run of the pipeline needs, handed down to every stage: settings, the catalog, the
logical date, the lake and the warehouse. It sits below the stages, so none of them needs the
orchestrator to get it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Engine

from serasan.common.clock import JAKARTA
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.store import Lake, open_lake
from serasan.runtime.connections import ConnectionResolver, Interval, env_connections
from serasan.warehouse.db import make_engine
from serasan.warehouse.tables import table


@dataclass
class RunContext:
    """What a run needs: settings, catalog, and the run's logical date in Asia/Jakarta."""

    settings: Settings
    catalog: Catalog
    run_date: dt.date
    dag_id: str | None = None
    run_id: str | None = None
    force: bool = False
    # periods given with files (`serasan ingest --period`), by content sha256; extract records
    # each in its raw object's manifest, which parse reads
    periods: dict[str, str] = field(default_factory=dict)
    # collection dates given with files (`serasan ingest --collected-on`), recorded likewise
    collected: dict[str, str] = field(default_factory=dict)
    interval: Interval | None = None  # the run's data interval; default: the day before run_date
    connections: ConnectionResolver = env_connections
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def data_interval(self) -> Interval:
        if self.interval is not None:
            return self.interval
        end = dt.datetime.combine(self.run_date, dt.time(), tzinfo=JAKARTA)
        return Interval(end - dt.timedelta(days=1), end)

    @cached_property
    def lake(self) -> Lake:
        return open_lake(self.settings)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.warehouse_url, self.settings.connect_timeout_s)
        return self._engine

    def t(self, layer: str, name: str) -> Any:
        return table(layer, name, self.engine.dialect.name)
