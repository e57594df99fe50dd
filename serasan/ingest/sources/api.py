"""REST API sources: pull one run interval from an OPD's JSON endpoint into the dataset's inbox.

The pull writes ONE JSON file per interval (`api-<interval>.json`), a JSON array with one object
per record keyed by the catalog's column names. The records are ordered by the primary key and
serialised canonically, so pulling the same interval again gives the same bytes and the same
sha256, and the pipeline's extract step recognises the file as already processed.

Values are kept as the API gave them (strings, numbers, booleans): typing them is the parser's
job, so an API file and a spreadsheet go through the same conversions and the same rejects.

The token (the connection's password) goes only into a request header. It is never logged, and
any text quoted from a response is scrubbed of it before it reaches an error message.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import logging
import random
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from serasan.common.clock import JAKARTA
from serasan.config.source_params import ApiParams
from serasan.runtime.connections import ConnInfo, Interval, SourceError, checked_params

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset
    from serasan.runtime.context import RunContext

log = logging.getLogger(__name__)
BACKOFF_CAP_SECONDS = 60.0  # one wait between retries never exceeds this
RETRY_AFTER_CAP_SECONDS = 300.0  # a server asking for longer than this gets this
_SNIPPET = 200  # characters of a refused response quoted in the error


PARAMS_MODEL = ApiParams


def pull(ctx: RunContext, ds: Dataset) -> list[str]:
    """Fetch the run's data interval into the inbox as one JSON file; returns the keys written.

    Zero records write no file (an empty file would be a load with nothing in it) but the pull
    is still recorded in `meta.source_pull`, so "the API had nothing" differs from "not pulled".
    """
    from serasan.lake.keys import inbox_prefix  # local: the pipeline imports this package

    params = parse_params(ds)
    interval = ctx.data_interval
    since, until = _iso(interval.start), _iso(interval.end)
    conn = ctx.connections(params.conn_id)
    with _Client(ds, params, conn) as client:
        raw = list(client.records(since, until))
    records = sorted(
        (map_record(r, ds, params) for r in raw), key=lambda r: _order_key(r, ds.primary_key)
    )
    key = sha = None
    if records:
        data = (
            json.dumps(
                records, ensure_ascii=False, sort_keys=True, indent=None, separators=(",", ":")
            )
            + "\n"
        ).encode("utf-8")
        key = inbox_prefix(ctx.catalog, ds) + f"api-{interval.label}.json"
        sha = hashlib.sha256(data).hexdigest()
        ctx.lake.put(key, data, "application/json")
    _record_pull(ctx, ds, interval, since, until, len(records), key, sha)
    log.info(
        "%s: pulled %d records for %s from %s", ds.id, len(records), interval.label, params.path
    )
    return [key] if key else []


def parse_params(ds: Dataset) -> ApiParams:
    """The dataset's params, checked against its columns; mistakes name the dataset and field."""
    return checked_params(ds, ApiParams, "an api", "fields")


def map_record(record: Any, ds: Dataset, params: ApiParams) -> dict[str, Any]:
    """One API record as `{catalog column: value}`, every column present, None when absent."""
    if not isinstance(record, dict):
        raise SourceError(
            f"{ds.id}: {params.path} returned a record that is not a JSON object "
            f"(got {type(record).__name__})"
        )
    return {c: _dig(record, params.fields.get(c, c)) for c in ds.column_names}


def base_url(conn: ConnInfo) -> str:
    """Scheme, host, port and base path of an HTTP connection.

    The scheme comes from the host (`https://api.example`), then `schema` when it is http or
    https (Airflow's HTTP connection form), then extra `scheme`/`schema`, then the connection
    type, else https. Any other `schema` is a base path: a URI `https://host/api/v1` parses
    into conn_type `https` and schema `api/v1`.
    """
    host = (conn.host or "").strip()
    if not host:
        raise SourceError(f"connection {conn.conn_id!r} has no host")
    scheme, prefix = None, ""
    if "://" in host:
        scheme, host = host.split("://", 1)
    host, _, host_path = host.partition("/")
    schema = (conn.schema or "").strip().strip("/")
    if schema.lower() in ("http", "https"):
        scheme = scheme or schema.lower()
    elif schema:
        prefix = schema
    extra_scheme = conn.extra.get("scheme") or conn.extra.get("schema")
    scheme = scheme or (str(extra_scheme).lower() if extra_scheme else None)
    if not scheme and (conn.conn_type or "").lower() in ("http", "https"):
        scheme = (conn.conn_type or "").lower()
    port = f":{conn.port}" if conn.port else ""
    path = "/".join(p for p in (host_path.strip("/"), prefix) if p)
    return f"{scheme or 'https'}://{host}{port}" + (f"/{path}" if path else "")


# ------------------------------------------------------------------------ fetching


class _Client:
    """GETs the pages of one pull, with retries; knows the token only to send and scrub it."""

    def __init__(self, ds: Dataset, params: ApiParams, conn: ConnInfo) -> None:
        self.ds, self.p, self.conn_id = ds, params, conn.conn_id
        self._token = conn.password or ""
        try:
            url = httpx.URL(base_url(conn).rstrip("/") + "/" + params.path.lstrip("/"))
        except httpx.InvalidURL as exc:
            raise SourceError(
                f"{ds.id}: connection {conn.conn_id!r} and path {params.path!r} "
                f"do not make a valid URL ({exc})"
            ) from None
        # httpx drops a URL's own query when `params=` is given: keep `path`'s query ourselves
        self.fixed_query = dict(url.params.multi_items())
        self.url = url.copy_with(query=None)
        self.where = url.path  # what errors name: no query, no credentials
        headers = {"Accept": "application/json"}
        if self._token:
            header = conn.extra.get("token_header")
            if header:
                headers[str(header)] = self._token
            else:
                headers["Authorization"] = f"Bearer {self._token}"
        self.http = httpx.Client(
            headers=headers, timeout=params.timeout_seconds, follow_redirects=False
        )
        self._jitter = random.Random()

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def records(self, since: str, until: str) -> Iterator[Any]:
        """Every record of the interval, page after page, until the API says there are no more."""
        p = self.p
        base: dict[str, Any] = dict(self.fixed_query)
        if p.since_param:
            base[p.since_param] = since
        if p.until_param:
            base[p.until_param] = until
        page, offset, cursor = 1, 0, None
        for n in range(1, p.max_pages + 1):
            query = dict(base)
            if p.pagination == "page":
                query.update({p.page_param: page, p.size_param: p.page_size})
            elif p.pagination == "offset":
                query.update({p.offset_param: offset, p.limit_param: p.page_size})
            elif p.pagination == "cursor":
                query[p.size_param] = p.page_size
                if cursor is not None:
                    query[p.cursor_param] = cursor
            body = self._get(query, n)
            rows = self._records_of(body, n)
            yield from rows
            if p.pagination == "none":
                return
            if p.pagination == "cursor":
                nxt = _dig(body, p.next_cursor_path)
                if nxt is None or nxt == "":
                    return
                cursor = str(nxt)
            elif len(rows) < p.page_size:
                return
            page += 1
            offset += len(rows)
        raise SourceError(
            f"{self.ds.id}: GET {self.where} still had more pages after "
            f"max_pages={p.max_pages}; stopped so a pagination loop cannot run "
            f"forever (raise max_pages if the interval really is that large)"
        )

    def _records_of(self, body: Any, n: int) -> list[Any]:
        rows = _dig(body, self.p.records_path) if self.p.records_path else body
        if not isinstance(rows, list):
            found = "nothing" if rows is None else f"a {type(rows).__name__}"
            raise SourceError(
                f"{self.ds.id}: GET {self.where} (page {n}): expected a list of "
                f"records at {self.p.records_path or '(the body)'!r}, found {found}"
            )
        return rows

    def _get(self, query: dict[str, Any], n: int) -> Any:
        """One page, retried on 5xx, 429, timeouts and broken connections; other 4xx fail now."""
        attempts = self.p.max_retries + 1
        what = f"{self.ds.id}: GET {self.where} (page {n})"
        for attempt in range(1, attempts + 1):
            wait = self._backoff(attempt)
            try:
                resp = self.http.get(self.url, params=query)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                if isinstance(exc, httpx.TimeoutException):
                    problem = f"timed out after {self.p.timeout_seconds:g} s"
                else:
                    problem = f"connection failed ({type(exc).__name__})"
            except httpx.HTTPError as exc:  # a request that can never work: no retry
                raise SourceError(self._scrub(f"{what}: {type(exc).__name__}: {exc}")) from None
            else:
                status = resp.status_code
                if status < 300:
                    try:
                        return resp.json()
                    except ValueError:
                        raise SourceError(
                            f"{what}: HTTP {status} but the body is not JSON: {self._snippet(resp)}"
                        ) from None
                if status in (401, 403):
                    raise SourceError(
                        f"{what} returned HTTP {status}: the token in connection "
                        f"{self.conn_id!r} was refused"
                    )
                if 300 <= status < 400:
                    raise SourceError(
                        f"{what} returned HTTP {status}, a redirect to "
                        f"{self._scrub(resp.headers.get('location', '?'))}; "
                        f"point connection {self.conn_id!r} at the final URL"
                    )
                if status != 429 and status < 500:
                    raise SourceError(
                        f"{what} returned HTTP {status} {resp.reason_phrase}: {self._snippet(resp)}"
                    )
                problem = f"HTTP {status} {resp.reason_phrase}".rstrip()
                after = _retry_after(resp.headers.get("retry-after"))
                if after is not None:
                    wait = min(after, RETRY_AFTER_CAP_SECONDS)
            if attempt == attempts:
                raise SourceError(
                    f"{what} failed: {problem}, after {attempts} attempt"
                    f"{'s' if attempts > 1 else ''}"
                )
            log.warning(
                "%s: %s; retry %d of %d in %.2f s", what, problem, attempt, self.p.max_retries, wait
            )
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped, with jitter (half to all of it) so parallel DAGs spread out."""
        ceiling = min(BACKOFF_CAP_SECONDS, self.p.backoff_seconds * 2.0 ** (attempt - 1))
        return ceiling * self._jitter.uniform(0.5, 1.0)

    def _snippet(self, resp: httpx.Response) -> str:
        text = " ".join(resp.text.split())
        return self._scrub(text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else "")) or "(empty)"

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


# ------------------------------------------------------------------------ helpers


def _iso(moment: dt.datetime) -> str:
    """ISO 8601 in Asia/Jakarta (+07:00): what OPD APIs in Indonesia expect and log."""
    return moment.astimezone(JAKARTA).isoformat(timespec="seconds")


def _dig(doc: Any, path: str) -> Any:
    """Follow a dotted path through objects; a key containing the dots itself wins."""
    if isinstance(doc, dict) and path in doc:
        return doc[path]
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _rank(value: Any) -> tuple[int, Any]:
    """A total order over JSON values: numbers, then strings, then anything else, then null."""
    if value is None:
        return (3, "")
    if isinstance(value, bool | int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True, ensure_ascii=False))


def _order_key(record: dict[str, Any], primary_key: list[str]) -> tuple[Any, ...]:
    # the whole record breaks ties, so even duplicate keys come out in one order
    return (
        tuple(_rank(record[k]) for k in primary_key),
        json.dumps(record, sort_keys=True, ensure_ascii=False),
    )


def _record_pull(
    ctx: RunContext,
    ds: Dataset,
    interval: Interval,
    lower: str,
    upper: str,
    rows: int,
    key: str | None,
    sha: str | None,
) -> None:
    """Replace this interval's row in meta.source_pull: the last pull is the one that counts."""
    t = ctx.t("meta", "source_pull")
    start, end = _iso(interval.start), _iso(interval.end)
    with ctx.engine.begin() as conn:
        conn.execute(
            t.delete().where(
                (t.c.dataset_id == ds.id)
                & (t.c.interval_start == start)
                & (t.c.interval_end == end)
            )
        )
        conn.execute(
            t.insert().values(
                dataset_id=ds.id,
                interval_start=start,
                interval_end=end,
                lower_bound=lower,
                upper_bound=upper,
                rows=rows,
                inbox_key=key,
                sha256=sha,
            )
        )
