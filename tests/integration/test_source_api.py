"""The REST API source against a real HTTP server on loopback: pagination, retries, auth, bytes.

The server (`tests/support/fake_api.py`) is a fake SP4N-LAPOR complaints API. Nothing is
mocked: the connector speaks HTTP to it, writes to a real lake and a real warehouse.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog, Dataset, Source
from serasan.config.settings import Settings
from serasan.ingest.sources import pull as pull_source
from serasan.ingest.sources.api import PARAMS_MODEL, ApiParams, base_url, map_record, parse_params
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.runtime.connections import ConnInfo, Interval, SourceError, conn_from_uri
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from serasan.warehouse.facts import fact_table
from tests.support.fake_api import TOKEN, V1, V2, FakeLaporApi, sample_records
from tests.support.warehouse import RUN_DATE

JAKARTA = ZoneInfo("Asia/Jakarta")
DS_ID = "muaraenim_pengaduan_masyarakat"
OCTOBER = Interval(
    dt.datetime(2026, 10, 1, tzinfo=JAKARTA), dt.datetime(2026, 11, 1, tzinfo=JAKARTA)
)
KEY = (
    "inbox/muaraenim-diskominfo/muaraenim_pengaduan_masyarakat/api-20261001T0000-20261101T0000.json"
)
# updated in [2026-10-01T00:00+07:00, 2026-11-01T00:00+07:00): 23 plus the two edge records
EXPECTED_IDS = [f"LPR-2610{i:04d}" for i in range(1, 24)] + ["LPR-26100100", "LPR-26100101"]
PELAPOR = {"nama_pelapor": "pelapor.nama", "telepon_pelapor": "pelapor.telepon"}
FAST = {"backoff_seconds": 0.01, "timeout_seconds": 5}


@pytest.fixture(scope="module")
def api() -> Iterator[FakeLaporApi]:
    server = FakeLaporApi().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_api(api: FakeLaporApi) -> None:
    api.reset()


def _ctx(
    settings: Settings,
    catalog: Catalog,
    api: FakeLaporApi,
    params: dict[str, Any],
    *,
    password: str | None = TOKEN,
    extra: dict[str, Any] | None = None,
    interval: Interval = OCTOBER,
    port: int | None = None,
) -> tuple[RunContext, Dataset]:
    """A run of the LAPOR dataset re-pointed at the fake API, on a migrated warehouse."""
    source = Source(kind="api", params={"conn_id": "lapor", "path": V1, **FAST, **params})
    ds = catalog.dataset(DS_ID).model_copy(update={"source": source})
    cat = dataclasses.replace(catalog, datasets={**catalog.datasets, DS_ID: ds})

    def resolve(conn_id: str) -> ConnInfo:
        if conn_id != "lapor":
            raise SourceError(f"connection {conn_id!r} is not defined")
        return ConnInfo(
            conn_id,
            "http",
            "127.0.0.1",
            port or api.port,
            password=password,
            schema="http",
            extra=extra or {},
        )

    ctx = RunContext(
        settings=settings,
        catalog=cat,
        run_date=RUN_DATE,
        dag_id="test",
        run_id="run-1",
        interval=interval,
        connections=resolve,
    )
    upgrade(ctx.engine, cat)
    return ctx, ds


def _written(ctx: RunContext, key: str = KEY) -> tuple[bytes, list[dict[str, Any]]]:
    data = ctx.lake.get(key)
    return data, json.loads(data)


def _pulls(ctx: RunContext) -> list[dict[str, Any]]:
    t = ctx.t("meta", "source_pull")
    with ctx.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(t)).mappings()]


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["nomor_tiket"] for r in records]


# ------------------------------------------------------------------------ pagination


def test_page_pagination_fetches_exactly_the_interval(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "page_size": 10})

    keys = pull_source(ctx, ds)  # through the package's dispatch, as extract() calls it

    assert keys == [KEY]
    data, records = _written(ctx)
    assert _ids(records) == EXPECTED_IDS  # ordered by the primary key, not the API's order
    assert records[2] == {
        "nomor_tiket": "LPR-26100003",
        "tanggal": "2026-10-22",
        "kode_kecamatan": "16.03.10",
        "kategori": "Kependudukan",
        "nama_pelapor": None,
        "telepon_pelapor": None,
        "status": "Selesai",
    }
    assert data.startswith(
        b'[{"kategori":"Kesehatan","kode_kecamatan":"16.03.02",'
        b'"nama_pelapor":null,"nomor_tiket":"LPR-26100001","status":'
        b'"Diproses","tanggal":"2026-10-08","telepon_pelapor":null},{'
    )
    assert data.endswith(b"}]\n") and data.count(b"\n") == 1
    reqs = api.requests()
    assert [(r.query["page"], r.query["per_page"]) for r in reqs] == [
        ("1", "10"),
        ("2", "10"),
        ("3", "10"),
    ]
    assert {(r.query["updated_since"], r.query["updated_until"]) for r in reqs} == {
        ("2026-10-01T00:00:00+07:00", "2026-11-01T00:00:00+07:00")
    }
    assert {r.headers["authorization"] for r in reqs} == {f"Bearer {TOKEN}"}
    assert _pulls(ctx) == [
        {
            "dataset_id": DS_ID,
            "interval_start": "2026-10-01T00:00:00+07:00",
            "interval_end": "2026-11-01T00:00:00+07:00",
            "lower_bound": "2026-10-01T00:00:00+07:00",
            "upper_bound": "2026-11-01T00:00:00+07:00",
            "rows": 25,
            "inbox_key": KEY,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    ]
    assert ctx.lake.list(inbox_prefix(ctx.catalog, ds)) == [KEY]  # nothing else beside it


def test_offset_pagination_reads_past_a_full_last_page(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "offset", "page_size": 5})

    assert pull_source(ctx, ds) == [KEY]

    _, records = _written(ctx)
    assert _ids(records) == EXPECTED_IDS
    # 25 records in pages of 5: five full pages, then an empty one says it is over
    assert [(r.query["offset"], r.query["limit"]) for r in api.requests()] == [
        ("0", "5"),
        ("5", "5"),
        ("10", "5"),
        ("15", "5"),
        ("20", "5"),
        ("25", "5"),
    ]
    assert all("page" not in r.query for r in api.requests())


def test_cursor_pagination(local_settings: Settings, catalog: Catalog, api: FakeLaporApi) -> None:
    ctx, ds = _ctx(
        local_settings, catalog, api, {"pagination": "cursor", "page_size": 7, "fields": PELAPOR}
    )

    assert pull_source(ctx, ds) == [KEY]

    _, records = _written(ctx)
    assert _ids(records) == EXPECTED_IDS
    reqs = api.requests()
    assert len(reqs) == 4  # 7 + 7 + 7 + 4
    assert "cursor" not in reqs[0].query
    cursors = [r.query["cursor"] for r in reqs[1:]]
    assert len(set(cursors)) == 3 and all(c for c in cursors)
    assert {r.query["per_page"] for r in reqs} == {"7"}


def test_cursor_pagination_other_envelope_on_s3_and_postgres(
    s3_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(
        s3_settings,
        catalog,
        api,
        {
            "pagination": "cursor",
            "path": V2,
            "page_size": 10,
            "records_path": "result.items",
            "next_cursor_path": "paging.next",
            "size_param": "limit",
            "fields": PELAPOR,
        },
    )
    assert ctx.engine.dialect.name == "postgresql"

    assert pull_source(ctx, ds) == [KEY]

    data, records = _written(ctx)
    assert _ids(records) == EXPECTED_IDS
    by_id = {r["nomor_tiket"]: r for r in records}
    assert by_id["LPR-26100100"] == {
        "nomor_tiket": "LPR-26100100",
        "tanggal": "2026-09-30",
        "kode_kecamatan": "16.03.02",
        "kategori": "Kesehatan",
        "nama_pelapor": "Rahmat Hidayat",
        "telepon_pelapor": "+6281377001122",
        "status": "Diproses",
    }
    assert [r.path for r in api.requests()] == [V2, V2, V2]
    assert [r.query.get("limit") for r in api.requests()] == ["10", "10", "10"]
    [row] = _pulls(ctx)
    assert row["rows"] == 25 and row["sha256"] == hashlib.sha256(data).hexdigest()
    assert ctx.lake.location(KEY).startswith("s3://")


def test_no_pagination_is_one_request(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(
        local_settings, catalog, api, {"pagination": "none", "path": f"{V1}?sumber=lapor&kanal=web"}
    )

    assert pull_source(ctx, ds) == [KEY]

    assert _ids(_written(ctx)[1]) == EXPECTED_IDS
    [req] = api.requests()
    assert req.path == V1  # and the path's own query is kept beside the interval's
    assert req.query == {
        "sumber": "lapor",
        "kanal": "web",
        "updated_since": "2026-10-01T00:00:00+07:00",
        "updated_until": "2026-11-01T00:00:00+07:00",
    }


# ------------------------------------------------------------------------ auth and connection


def test_token_header_from_extra(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(
        local_settings, catalog, api, {"pagination": "page"}, extra={"token_header": "X-Api-Key"}
    )

    assert pull_source(ctx, ds) == [KEY]

    [req] = api.requests()
    assert req.headers["x-api-key"] == TOKEN and "authorization" not in req.headers


def test_uri_connection_gives_scheme_and_base_path(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "path": "v1/pengaduan"})
    ctx.connections = lambda conn_id: conn_from_uri(
        conn_id, f"http://:{TOKEN}@127.0.0.1:{api.port}/api"
    )

    assert pull_source(ctx, ds) == [KEY]

    [req] = api.requests()
    assert req.path == V1 and req.headers["authorization"] == f"Bearer {TOKEN}"


def test_base_url_forms() -> None:
    def conn(**kw: Any) -> ConnInfo:
        return ConnInfo("lapor", **kw)

    assert (
        base_url(conn(conn_type="http", host="lapor.local", port=8080)) == "http://lapor.local:8080"
    )
    assert (
        base_url(conn(conn_type="http", host="lapor.local", schema="https"))
        == "https://lapor.local"
    )  # Airflow's HTTP form: schema is the scheme
    assert (
        base_url(conn(conn_type="generic", host="lapor.local", extra={"scheme": "http"}))
        == "http://lapor.local"
    )
    assert (
        base_url(conn(host="https://lapor.local/api", schema="v2")) == "https://lapor.local/api/v2"
    )
    assert base_url(conn(conn_type="generic", host="lapor.local")) == "https://lapor.local"
    with pytest.raises(SourceError, match="'lapor' has no host"):
        base_url(conn(conn_type="http"))


def test_refused_token_fails_at_once_without_showing_it(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "token-lama-9d8e7f"
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page"}, password=wrong)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SourceError) as err:
        pull_source(ctx, ds)

    msg = str(err.value)
    assert "the token in connection 'lapor' was refused" in msg and "HTTP 401" in msg
    assert DS_ID in msg and V1 in msg
    assert wrong not in msg and wrong not in caplog.text and TOKEN not in msg
    assert len(api.requests()) == 1  # no retry on 401
    assert api.requests()[0].headers["authorization"] == f"Bearer {wrong}"
    assert ctx.lake.list(inbox_prefix(ctx.catalog, ds)) == [] and _pulls(ctx) == []


def test_other_4xx_fails_at_once_and_quotes_the_server(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "path": "/api/v1/x"})

    with pytest.raises(
        SourceError,
        match=r"GET /api/v1/x \(page 1\) returned HTTP 404 Not "
        r"Found: .*/api/v1/x tidak ditemukan",
    ):
        pull_source(ctx, ds)
    assert len(api.requests()) == 1


# ------------------------------------------------------------------------ retries


def test_two_503s_then_success(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi, caplog: pytest.LogCaptureFixture
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page"})
    api.fail(503, times=2)
    caplog.set_level(logging.DEBUG)

    assert pull_source(ctx, ds) == [KEY]

    assert len(api.requests()) == 3
    assert _ids(_written(ctx)[1]) == EXPECTED_IDS
    assert caplog.text.count("HTTP 503 Service Unavailable; retry") == 2
    assert TOKEN not in caplog.text


def test_a_timeout_then_success(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "timeout_seconds": 0.3})
    api.stall(1.5)

    started = time.monotonic()
    assert pull_source(ctx, ds) == [KEY]

    assert time.monotonic() - started < 1.4  # did not wait for the stalled answer
    assert len(api.requests()) == 2
    assert _ids(_written(ctx)[1]) == EXPECTED_IDS


def test_persistent_timeouts_name_the_timeout(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(
        local_settings,
        catalog,
        api,
        {"pagination": "page", "timeout_seconds": 0.2, "max_retries": 1},
    )
    api.stall(0.6, times=2)

    with pytest.raises(
        SourceError,
        match=r"\(page 1\) failed: timed out after 0.2 s, "
        r"after 2 attempts",
    ):
        pull_source(ctx, ds)


def test_429_retry_after_is_honoured(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page"})
    api.fail(429, headers={"Retry-After": "1"})

    assert pull_source(ctx, ds) == [KEY]

    first, second = api.requests()
    assert second.at - first.at >= 0.95  # the server's 1 s, not the 0.01 s backoff

    # and Retry-After: 0 wins over a long backoff
    api.reset()
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "backoff_seconds": 30})
    api.fail(429, headers={"Retry-After": "0"})
    started = time.monotonic()
    assert pull_source(ctx, ds) == [KEY]
    assert time.monotonic() - started < 5 and len(api.requests()) == 2


def test_persistent_500_gives_up_after_max_retries(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "max_retries": 3})
    api.fail(500, times=10)

    with pytest.raises(SourceError) as err:
        pull_source(ctx, ds)

    assert str(err.value) == (
        f"{DS_ID}: GET {V1} (page 1) failed: HTTP 500 Internal Server Error, after 4 attempts"
    )
    assert len(api.requests()) == 4
    assert ctx.lake.list(inbox_prefix(ctx.catalog, ds)) == [] and _pulls(ctx) == []


def test_500_on_a_later_page_is_retried_there(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "page_size": 10})
    api.fail(502, when={"page": "2"})

    assert pull_source(ctx, ds) == [KEY]

    assert [r.query["page"] for r in api.requests()] == ["1", "2", "2", "3"]
    assert _ids(_written(ctx)[1]) == EXPECTED_IDS


def test_connection_refused_is_retried_then_reported(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    ctx, ds = _ctx(
        local_settings, catalog, api, {"pagination": "page", "max_retries": 2}, port=closed
    )

    with pytest.raises(
        SourceError,
        match=rf"{DS_ID}: GET {V1} \(page 1\) failed: connection "
        r"failed \(ConnectError\), after 3 attempts",
    ):
        pull_source(ctx, ds)


# ------------------------------------------------------------------------ output


def test_same_interval_twice_gives_identical_bytes(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(
        local_settings, catalog, api, {"pagination": "page", "page_size": 4, "fields": PELAPOR}
    )
    pull_source(ctx, ds)
    first = ctx.lake.get(KEY)
    ctx.lake.delete(KEY)  # as extract() does once the raw copy exists
    api.newest_first = True  # the API now serves the same records in the other order

    assert pull_source(ctx, ds) == [KEY]

    second = ctx.lake.get(KEY)
    assert second == first
    assert [r.query["page"] for r in api.requests()][-1] == "7"  # pages really differed
    [row] = _pulls(ctx)  # replaced, not added
    assert row["sha256"] == hashlib.sha256(second).hexdigest() and row["rows"] == 25


def test_fields_mapping_with_a_dotted_path(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "fields": PELAPOR})

    pull_source(ctx, ds)

    data, records = _written(ctx)
    by_id = {r["nomor_tiket"]: r for r in records}
    assert by_id["LPR-26100002"]["nama_pelapor"] == "Dédi Kurniawan"
    assert by_id["LPR-26100002"]["telepon_pelapor"] == "081230000002"
    assert by_id["LPR-26100004"]["nama_pelapor"] is None  # anonymous: null, not absent
    assert "Dédi Kurniawan".encode() in data  # ensure_ascii=False: readable UTF-8
    assert all(set(r) == set(ds.column_names) for r in records)


def test_values_are_kept_as_the_api_gave_them(catalog: Catalog) -> None:
    params = {
        "conn_id": "lapor",
        "path": V1,
        "pagination": "none",
        "fields": {
            "kategori": "jumlah_dukungan",
            "status": "anonim",
            "nama_pelapor": "pelapor.nama",
            "kode_kecamatan": "tidak.ada",
        },
    }
    ds = catalog.dataset(DS_ID).model_copy(update={"source": Source(kind="api", params=params)})
    record = sample_records()[3]  # i = 4: an anonymous complaint

    mapped = map_record(record, ds, parse_params(ds))

    assert mapped == {
        "nomor_tiket": "LPR-26100004",
        "tanggal": "2026-10-06",
        "kode_kecamatan": None,
        "kategori": 12,
        "nama_pelapor": None,
        "telepon_pelapor": None,
        "status": True,
    }


def test_zero_records_write_nothing_but_are_recorded(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    quiet = Interval(
        dt.datetime(2030, 1, 1, tzinfo=JAKARTA), dt.datetime(2030, 1, 2, tzinfo=JAKARTA)
    )
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page"}, interval=quiet)

    assert pull_source(ctx, ds) == []

    assert ctx.lake.list(inbox_prefix(ctx.catalog, ds)) == []
    assert _pulls(ctx) == [
        {
            "dataset_id": DS_ID,
            "interval_start": "2030-01-01T00:00:00+07:00",
            "interval_end": "2030-01-02T00:00:00+07:00",
            "lower_bound": "2030-01-01T00:00:00+07:00",
            "upper_bound": "2030-01-02T00:00:00+07:00",
            "rows": 0,
            "inbox_key": None,
            "sha256": None,
        }
    ]


def test_an_interval_in_utc_is_sent_in_jakarta_time(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    utc = Interval(
        dt.datetime(2026, 9, 30, 17, tzinfo=dt.UTC), dt.datetime(2026, 10, 31, 17, tzinfo=dt.UTC)
    )
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "none"}, interval=utc)

    [key] = pull_source(ctx, ds)

    assert key.endswith("api-20260930T1700-20261031T1700.json")
    assert _ids(_written(ctx, key)[1]) == EXPECTED_IDS
    [req] = api.requests()
    assert req.query["updated_since"] == "2026-10-01T00:00:00+07:00"


def test_max_pages_stops_an_endless_cursor(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "cursor", "max_pages": 3})
    api.endless_cursor = True

    with pytest.raises(
        SourceError,
        match=rf"{DS_ID}: GET {V1} still had more pages after "
        r"max_pages=3",
    ):
        pull_source(ctx, ds)

    assert len(api.requests()) == 3
    assert ctx.lake.list(inbox_prefix(ctx.catalog, ds)) == [] and _pulls(ctx) == []


def test_records_path_must_hold_a_list(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(local_settings, catalog, api, {"pagination": "page", "records_path": "meta"})

    with pytest.raises(SourceError, match=r"expected a list of records at 'meta', found a dict"):
        pull_source(ctx, ds)


# ------------------------------------------------------------------------ params


def test_params_model_is_strict(catalog: Catalog) -> None:
    assert PARAMS_MODEL is ApiParams
    p = ApiParams(conn_id="lapor", path=V1, pagination="cursor")
    assert (p.records_path, p.page_size, p.max_retries, p.max_pages, p.since_param) == (
        "data",
        100,
        5,
        10_000,
        "updated_since",
    )
    base = catalog.dataset(DS_ID)
    for bad, expected in [
        (
            {"conn_id": "lapor", "path": V1, "pagination": "page", "page_szie": 10},
            r"page_szie: Extra inputs are not permitted",
        ),
        ({"conn_id": "lapor", "path": V1, "pagination": "scroll"}, r"pagination: Input should"),
        (
            {"conn_id": "lapor", "path": V1, "pagination": "page", "fields": {"pelapor": "x"}},
            r"fields maps pelapor, which is not a column",
        ),
    ]:
        ds = base.model_copy(update={"source": Source(kind="api", params=bad)})
        with pytest.raises(SourceError, match=rf"^{DS_ID}: .*{expected}"):
            parse_params(ds)


# ------------------------------------------------------------------------ end to end


def test_api_pull_end_to_end_lands_in_the_fact_table(
    local_settings: Settings, catalog: Catalog, api: FakeLaporApi
) -> None:
    ctx, ds = _ctx(
        local_settings, catalog, api, {"pagination": "page", "page_size": 10, "fields": PELAPOR}
    )

    [summary] = run_dataset(ctx, ds)

    assert summary.status == "loaded", summary
    assert summary.rows_in == summary.rows_loaded == 25
    t = fact_table(ds, ctx.engine.dialect.name)
    with ctx.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.nomor_tiket, t.c.tanggal, t.c.nama_pelapor).order_by(t.c.nomor_tiket)
        ).all()
    assert [r.nomor_tiket for r in rows] == EXPECTED_IDS
    assert (rows[1].tanggal, rows[1].nama_pelapor) == (dt.date(2026, 10, 15), "Dédi Kurniawan")
    # the same interval again: same bytes, recognised by sha256, nothing changes
    assert run_dataset(ctx, ds) == []
