"""Application databases as a source: pull one run interval through SQLAlchemy into the inbox.

An OPD's own system (Bapenda's tax database on PostgreSQL, others on MariaDB) is read
incrementally by a watermark column and written as ONE CSV file per run interval
(`db-<interval>.csv`) into the dataset's inbox. From there the pipeline is the same as for a
spreadsheet: raw with sha256, parse, validate, load.

Re-running an interval must give the same bytes, so the pipeline recognises the file by its
sha256. Therefore the bounds of every pull are recorded in `meta.source_pull` before any row is
read, and a re-run of the same interval reuses them instead of computing new ones. Rows are
ordered by the primary key, then the watermark, then every other column, so equal data gives
equal bytes.

Identifiers from the catalog (schema, table, columns) are never formatted into SQL: the table
is reflected and the SELECT built with SQLAlchemy Core, which quotes them; values are bound
parameters. A `query` is taken as written: it is catalog text, reviewed like code.

The password never reaches a log line or an error message: URLs are rendered with the password
masked, and driver messages are scrubbed of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    URL,
    Engine,
    FromClause,
    MetaData,
    Select,
    Table,
    and_,
    bindparam,
    column,
    create_engine,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from serasan.common.clock import JAKARTA
from serasan.config.source_params import DatabaseParams
from serasan.runtime.connections import ConnInfo, Interval, SourceError, checked_params

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset
    from serasan.runtime.context import RunContext

log = logging.getLogger(__name__)
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}
CONNECT_TIMEOUT_SECONDS = 15
# Bounds for the min/max probe of an integer watermark over a `query` that filters on
# :lower/:upper itself: wide enough for any BIGINT.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


PARAMS_MODEL = DatabaseParams


def parse_params(ds: Dataset) -> DatabaseParams:
    """The dataset's params, checked against its columns; mistakes name the dataset and field."""
    return checked_params(ds, DatabaseParams, "a database", "columns")


# ------------------------------------------------------------------------ connection


def connection_url(info: ConnInfo) -> URL:
    """The SQLAlchemy URL of a connection; `extra.sqlalchemy_url` overrides the parts."""
    override = info.extra.get("sqlalchemy_url")
    if override:
        try:
            return make_url(str(override))
        except ArgumentError:
            raise SourceError(
                f"connection {info.conn_id!r}: extra.sqlalchemy_url is not an SQLAlchemy URL"
            ) from None
    kind = (info.conn_type or "").lower().split("+", 1)[0]  # postgresql+psycopg -> postgresql
    driver = DRIVERS.get(kind)
    if driver is None:
        raise SourceError(
            f"connection {info.conn_id!r}: conn_type {info.conn_type!r} is not a "
            f"supported database; expected one of {sorted(DRIVERS)} or an "
            "extra.sqlalchemy_url"
        )
    if driver == "sqlite":  # read-only: a missing file is an error, not a new empty database
        return URL.create(
            "sqlite",
            database=f"file:{info.schema or info.host}",
            query={"mode": "ro", "uri": "true"},
        )
    query = {"charset": "utf8mb4"} if driver.startswith("mysql") else {}
    return URL.create(
        driver,
        username=info.login,
        password=info.password,
        host=info.host,
        port=info.port,
        database=info.schema,
        query=query,
    )


def _engine(url: URL, info: ConnInfo) -> Engine:
    """A short-lived engine whose sessions are read-only and read times in Asia/Jakarta.

    Read-only because a pull never writes to an OPD's system, whatever a `query` says; Jakarta
    because the interval bounds are bound as naive Jakarta times (the zone of the OPDs' apps).
    """
    timeout = int(info.extra.get("connect_timeout", CONNECT_TIMEOUT_SECONDS))
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend == "postgresql" and driver == "psycopg":
        options = "-c TimeZone=Asia/Jakarta -c default_transaction_read_only=on"
        return create_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": timeout, "options": options}
        )
    engine = create_engine(
        url,
        poolclass=NullPool,
        connect_args=({"connect_timeout": timeout} if driver == "pymysql" else {}),
    )
    if backend in ("mysql", "mariadb"):

        @event.listens_for(engine, "connect")
        def _session(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET time_zone = '+07:00'")
                cur.execute("SET SESSION TRANSACTION READ ONLY")

    return engine


@dataclass(frozen=True)
class _Where:
    """What an error message says about the source: never the password."""

    dataset: str
    conn_id: str
    url: str  # rendered with the password masked
    password: str | None

    def error(self, what: str, exc: BaseException | None = None) -> SourceError:
        detail = ""
        if exc is not None:
            orig = getattr(exc, "orig", None) or exc
            detail = " ".join(str(orig).split())
            if self.password:
                detail = detail.replace(self.password, "***")
            detail = f" ({type(orig).__name__}: {detail})"
        return SourceError(
            f"{self.dataset}: database source {self.conn_id!r} at {self.url}: {what}{detail}"
        )


# ------------------------------------------------------------------------ the SELECT


@dataclass
class _Plan:
    """The statement's parts: selected columns (catalog order), watermark, order."""

    selected: list[Any]
    watermark: Any
    order: list[Any]
    where: Any  # the FROM clause's rows (table or wrapped query)


def _source_columns(ds: Dataset, params: DatabaseParams) -> list[str]:
    return [params.columns.get(c, c) for c in ds.column_names]


def _find(names: list[str], wanted: str) -> str | None:
    """A source column by exact name, else by a unique case-insensitive match (MariaDB style)."""
    if wanted in names:
        return wanted
    folded = [n for n in names if n.lower() == wanted.lower()]
    return folded[0] if len(folded) == 1 else None


def _plan(
    conn: Connection,
    ds: Dataset,
    params: DatabaseParams,
    where: _Where,
    probe_bounds: dict[str, Any],
) -> _Plan:
    """Reflect the table (or probe the query) and check every needed column is there."""
    wanted = _source_columns(ds, params)
    src: FromClause  # the table, or the query wrapped as a subquery
    if params.table is not None:
        label = f"{params.schema_name}.{params.table}" if params.schema_name else params.table
        try:
            src = Table(
                params.table,
                MetaData(),
                schema=params.schema_name,
                autoload_with=conn,
                resolve_fks=False,
            )
        except NoSuchTableError:
            raise where.error(
                f"table {label!r} does not exist (or this login cannot see it)"
            ) from None
        available = list(src.c.keys())
        what = f"table {label!r}"
    else:
        sql = _query_text(params.query or "")
        probe: Select[Any] = select(literal_column("*")).select_from(
            text(sql).columns().subquery("src")
        )
        try:
            available = list(conn.execute(probe.limit(0), probe_bounds).keys())
        except SQLAlchemyError as exc:
            raise where.error("the query in source.params.query cannot run", exc) from exc
        src = text(sql).columns(*[column(n) for n in available]).subquery("src")
        what = "the query's result"
    resolved: dict[str, str] = {}
    missing = []
    for name in [*wanted, params.watermark_column]:
        found = _find(available, name)
        if found is None:
            missing.append(name)
        else:
            resolved[name] = found
    if missing:
        raise where.error(
            f"{what} has no column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; it has "
            f"{', '.join(repr(a) for a in available)} (source.params.columns maps a catalog "
            "column to a source column of another name)"
        )
    columns = [src.c[resolved[n]] for n in wanted]
    wm = src.c[resolved[params.watermark_column]]
    key = [src.c[resolved[params.columns.get(k, k)]] for k in ds.primary_key]
    rest = [c for c in columns if all(c is not k for k in [*key, wm])]
    # labelled, so two catalog columns read from one source column stay two columns
    selected = [c.label(f"c{i}") for i, c in enumerate(columns)]
    return _Plan(selected=selected, watermark=wm, order=[*key, wm, *rest], where=src)


def _query_text(query: str) -> str:
    return query.strip().rstrip(";").strip()


# ------------------------------------------------------------------------ bounds


def _interval_bounds(interval: Interval, kind: str) -> tuple[Any, Any]:
    """Timestamps as naive Asia/Jakarta time (the sessions' zone), dates as Jakarta dates."""
    start, end = interval.start.astimezone(JAKARTA), interval.end.astimezone(JAKARTA)
    if kind == "date":
        return start.date(), end.date()
    return start.replace(tzinfo=None), end.replace(tzinfo=None)


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _from_text(value: str | None, kind: str) -> Any:
    if value is None:
        return None
    if kind == "integer":
        return int(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    return dt.datetime.fromisoformat(value)


def _recorded(ctx: RunContext, ds: Dataset, key: tuple[str, str]) -> Any:
    sp = ctx.t("meta", "source_pull")
    with ctx.engine.connect() as conn:
        return conn.execute(
            select(sp.c.lower_bound, sp.c.upper_bound).where(
                and_(
                    sp.c.dataset_id == ds.id,
                    sp.c.interval_start == key[0],
                    sp.c.interval_end == key[1],
                )
            )
        ).first()


def _last_upper(ctx: RunContext, ds: Dataset) -> int | None:
    """The highest integer watermark any earlier pull reached: no row is pulled twice."""
    sp = ctx.t("meta", "source_pull")
    with ctx.engine.connect() as conn:
        uppers = (
            conn.execute(
                select(sp.c.upper_bound).where(
                    and_(sp.c.dataset_id == ds.id, sp.c.upper_bound.is_not(None))
                )
            )
            .scalars()
            .all()
        )
    values = [int(u) for u in uppers if u.lstrip("-").isdigit()]
    return max(values) if values else None


def _integer_bounds(
    conn: Connection,
    plan: _Plan,
    previous: int | None,
) -> tuple[int | None, int | None]:
    """(previous upper, or min - 1 on the first pull; current max), both None when empty."""
    probe = select(func.min(plan.watermark), func.max(plan.watermark)).select_from(plan.where)
    if previous is not None:
        probe = probe.where(plan.watermark > bindparam("lower"))
    lowest, highest = conn.execute(
        probe, {"lower": _INT_MIN if previous is None else previous, "upper": _INT_MAX}
    ).one()
    if previous is not None:
        return previous, (previous if highest is None else max(previous, int(highest)))
    if lowest is None:
        return None, None
    return int(lowest) - 1, int(highest)


def _reserve(
    ctx: RunContext,
    ds: Dataset,
    key: tuple[str, str],
    bounds: tuple[Any, Any],
) -> Any:
    """Record new bounds before any row is read; if another run of this interval was first,
    return its row so both pull the same rows."""
    sp = ctx.t("meta", "source_pull")
    try:
        with ctx.engine.begin() as wh:
            wh.execute(
                sp.insert().values(
                    dataset_id=ds.id,
                    interval_start=key[0],
                    interval_end=key[1],
                    lower_bound=_to_text(bounds[0]),
                    upper_bound=_to_text(bounds[1]),
                    rows=0,
                )
            )
        return None
    except IntegrityError:
        return _recorded(ctx, ds, key)


def _parse_recorded(row: Any, kind: str, ds: Dataset, key: tuple[str, str]) -> tuple[Any, Any]:
    try:
        return _from_text(row.lower_bound, kind), _from_text(row.upper_bound, kind)
    except ValueError:
        raise SourceError(
            f"{ds.id}: meta.source_pull holds bounds {row.lower_bound!r}.."
            f"{row.upper_bound!r} for {key[0]}..{key[1]}, which are not "
            f"{kind} values; was watermark_type changed?"
        ) from None


# ------------------------------------------------------------------------ CSV


def _number(value: Any) -> str:
    """Plain digits with a `.` decimal point, never 3 decimals (the parser would read 1.234
    as a thousands separator) and never an exponent."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if not isinstance(value, Decimal):
        return str(value)  # text in a numeric column: the parser reads or rejects it
    out = format(value, "f")
    if "." in out and len(out.rsplit(".", 1)[1]) == 3:
        out += "0"
    return out


def _moment(value: dt.datetime) -> dt.datetime:
    return value.astimezone(JAKARTA) if value.tzinfo else value


def _cell(value: Any, kind: str) -> str:
    """One CSV cell as the parser reads it: ISO dates, plain numbers, empty for NULL."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        moment = _moment(value)
        return moment.date().isoformat() if kind == "date" else moment.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if kind in ("integer", "number") or isinstance(value, float | Decimal):
        return _number(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _write_csv(rows: Iterator[Any], ds: Dataset) -> tuple[bytes, int]:
    kinds = [c.type for c in ds.columns]
    buf = io.BytesIO()
    out = io.TextIOWrapper(buf, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ds.column_names)
    count = 0
    for row in rows:
        writer.writerow([_cell(v, k) for v, k in zip(row, kinds, strict=True)])
        count += 1
    out.flush()
    data = buf.getvalue()
    out.detach()
    return data, count


def _stream(
    conn: Connection,
    stmt: Any,
    bounds: dict[str, Any],
    batch_size: int,
) -> Iterator[Any]:
    """Rows in batches of `batch_size` through a server-side cursor where the driver has one."""
    result = conn.execution_options(yield_per=batch_size).execute(stmt, bounds)
    for batch in result.partitions(batch_size):
        yield from batch


# ------------------------------------------------------------------------ pull


@contextmanager
def _reading(where: _Where) -> Iterator[None]:
    """Driver errors on the source become a SourceError that says which source and why."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise where.error("cannot be read", exc) from exc


def pull(ctx: RunContext, ds: Dataset) -> list[str]:
    """Fetch the run's data interval into the inbox as one CSV file; returns the keys written.

    Zero rows write no file (a file with nothing in it would be a load of nothing), but the
    pull is still recorded in `meta.source_pull`, so "nothing new" differs from "not pulled".
    """
    from serasan.lake.keys import inbox_prefix  # local: the pipeline imports this package

    params = parse_params(ds)
    kind = params.watermark_type
    info = ctx.connections(params.conn_id)
    url = connection_url(info)
    where = _Where(
        ds.id,
        params.conn_id,
        url.render_as_string(hide_password=True),
        info.password or url.password,
    )
    interval = ctx.data_interval
    key = (
        interval.start.astimezone(JAKARTA).isoformat(),
        interval.end.astimezone(JAKARTA).isoformat(),
    )
    recorded = _recorded(ctx, ds, key)
    previous = _last_upper(ctx, ds) if kind == "integer" and recorded is None else None
    try:
        engine = _engine(url, info)
    except (ImportError, ArgumentError) as exc:
        raise where.error("no SQLAlchemy driver for this URL", exc) from exc
    try:
        with _reading(where), engine.connect() as conn:
            probe = (
                {"lower": _INT_MIN, "upper": _INT_MAX}
                if kind == "integer"
                else dict(zip(("lower", "upper"), _interval_bounds(interval, kind), strict=True))
            )
            plan = _plan(conn, ds, params, where, probe)
            if recorded is None:
                new = (
                    _integer_bounds(conn, plan, previous)
                    if kind == "integer"
                    else _interval_bounds(interval, kind)
                )
        if recorded is None:
            recorded = _reserve(ctx, ds, key, new)
        lower, upper = new if recorded is None else _parse_recorded(recorded, kind, ds, key)
        data, count = b"", 0
        if lower is not None or upper is not None:  # both None: an empty source, first pull
            if kind == "integer":
                cond = [plan.watermark > bindparam("lower"), plan.watermark <= bindparam("upper")]
            else:
                cond = [plan.watermark >= bindparam("lower"), plan.watermark < bindparam("upper")]
            stmt = select(*plan.selected).select_from(plan.where).where(*cond)
            with _reading(where), engine.connect() as conn:
                rows = _stream(
                    conn,
                    stmt.order_by(*plan.order),
                    {"lower": lower, "upper": upper},
                    params.batch_size,
                )
                data, count = _write_csv(rows, ds)
    finally:
        engine.dispose()

    inbox_key = sha = None
    if count:
        inbox_key = inbox_prefix(ctx.catalog, ds) + f"db-{interval.label}.csv"
        sha = hashlib.sha256(data).hexdigest()
        ctx.lake.put(inbox_key, data, "text/csv; charset=utf-8")
    sp = ctx.t("meta", "source_pull")
    with ctx.engine.begin() as wh:
        wh.execute(
            sp.update()
            .where(
                and_(
                    sp.c.dataset_id == ds.id,
                    sp.c.interval_start == key[0],
                    sp.c.interval_end == key[1],
                )
            )
            .values(rows=count, inbox_key=inbox_key, sha256=sha)
        )
    log.info(
        "%s: pulled %d rows for %s from %s (%s), %s in (%s, %s)",
        ds.id,
        count,
        interval.label,
        params.conn_id,
        where.url,
        params.watermark_column,
        lower,
        upper,
    )
    return [inbox_key] if inbox_key else []
