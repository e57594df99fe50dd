"""`serasan doctor` against real services: a folder lake + SQLite and S3 (moto_server) +
PostgreSQL, aiosmtpd for SMTP and the loopback CKAN portal. Everything ok when the stack is
right; each broken piece is named, with where it is and what to do; no secret is ever printed.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy.engine import make_url

from serasan.admin import backup
from serasan.admin.doctor import PROBE_KEY, Check, render, run_doctor
from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.lake.store import open_lake
from serasan.warehouse.db import alembic_config, make_engine, upgrade
from serasan.warehouse.roles import LOADER, READER
from tests.support.fake_ckan import TOKEN as CKAN_TOKEN
from tests.support.fake_ckan import FakeCkan
from tests.support.mail import SmtpServer
from tests.support.services import PG_URL, free_port

PII_KEY = "kunci-doktor-uji-3f9a7c2e5b18d604"  # 33 bytes

# the newest migration: revisions are numbered by their file names (0001_..., 0002_...)
HEAD = max(
    p.name[:4]
    for p in (Path(__file__).parents[2] / "warehouse" / "migrations" / "versions").glob("0*.py")
)


class Portal(FakeCkan):
    """The loopback CKAN plus the read actions the doctor calls, answered as CKAN does."""

    editor_of: set[str] | None = None  # organizations the token's user may publish in (None: all)

    def _do_status_show(self, _data: dict[str, Any], _files: Any) -> dict[str, Any]:
        return {
            "ckan_version": "2.10.4",
            "site_url": self.url,
            "site_title": "Satu Data (uji)",
            "site_description": "",
            "locale_default": "id",
            "extensions": [],
        }

    def _do_organization_list(self, data: dict[str, Any], _files: Any) -> list[str]:
        wanted = data.get("organizations")
        return sorted(n for n in self.orgs if not wanted or n in wanted)

    def _do_organization_list_for_user(
        self, _data: dict[str, Any], _files: Any
    ) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(o)
            for n, o in sorted(self.orgs.items())
            if self.editor_of is None or n in self.editor_of
        ]


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    server = Portal().start()
    yield server
    server.stop()


@pytest.fixture
def ckan(portal: Portal) -> Portal:
    portal.reset()
    portal.editor_of = None
    return portal


@pytest.fixture
def smtp_auth() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port(), auth=("serasan", "smtp-Rahasia-81f3")).start()
    yield server
    server.stop()


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def _statuses(checks: list[Check]) -> dict[str, str]:
    return {c.name: c.status for c in checks}


def _good(settings: Settings, smtp: SmtpServer, ckan: Portal) -> Settings:
    return dataclasses.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="serasan@muaraenimkab.go.id",
        ckan_url=ckan.url,
        ckan_token=CKAN_TOKEN,
        pii_key=PII_KEY,
    )


def _backed_up(settings: Settings, target: str) -> dict[str, str]:
    """Run the real backup once, so the backups check has something to find."""
    backup.run_backup(settings, target=backup.target_settings(settings, {}, target))
    return {backup.TARGET_ENV: target}


@pytest.fixture
def local_stack(
    local_settings: Settings, catalog: Catalog, smtp: SmtpServer, ckan: Portal, tmp_path: Path
) -> tuple[Settings, dict[str, str]]:
    """Folder lake + SQLite warehouse, upgraded and backed up; SMTP and CKAN on loopback."""
    engine = make_engine(local_settings.warehouse_url)
    upgrade(engine, catalog)
    engine.dispose()
    settings = _good(local_settings, smtp, ckan)
    return settings, _backed_up(settings, str(tmp_path / "backup-target"))


# ------------------------------------------------------------------------ all ok


def test_everything_ok_on_the_folder_lake_and_sqlite(
    local_stack: tuple[Settings, dict[str, str]], ckan: Portal
) -> None:
    settings, env = local_stack
    started = time.monotonic()
    checks = run_doctor(settings, env=env)
    assert _statuses(checks) == {
        "catalog": "ok",
        "lake": "ok",
        "warehouse": "ok",
        "smtp": "ok",
        "ckan": "ok",
        "pii": "ok",
        "backups": "ok",
    }, render(checks)
    assert time.monotonic() - started < 20
    by = _by_name(checks)
    shipped = len(list((CATALOG_DIR / "datasets").glob("*.yaml")))
    kpis = sum(
        1
        for line in (CATALOG_DIR / "kpis.yaml").read_text().splitlines()
        if line.startswith("- code:")
    )
    assert f"2 regencies, {shipped} datasets, {kpis} KPIs" in by["catalog"].message
    assert f"{PROBE_KEY} written and read back" in by["lake"].message
    assert f"is at revision {HEAD} (head)" in by["warehouse"].message
    assert f"{shipped} fact tables match the catalog" in by["warehouse"].message
    assert "EHLO ok; no mail was sent" in by["smtp"].message
    assert "pemkab-muara-enim, pemkab-musi-banyuasin" in by["ckan"].message
    assert "(33 bytes)" in by["pii"].message
    assert ckan.writes() == []  # the doctor only reads the portal
    lake = open_lake(settings)
    assert lake.exists(PROBE_KEY)
    run_doctor(settings, env=env)
    assert [k for k in lake.list("_doctor/")] == [PROBE_KEY]  # overwritten, never piled up


def test_cli_prints_each_check_and_exits_0(
    local_stack: tuple[Settings, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, env = local_stack
    for key, value in {**settings.as_env(), **env}.items():
        monkeypatch.setenv(key, value)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("serasan doctor: nothing fails")
    assert all(f"ok    {name}" in out for name in ("catalog", "lake", "smtp", "ckan", "pii"))
    assert main(["doctor", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True and [c["name"] for c in doc["checks"]] == [
        "catalog",
        "lake",
        "warehouse",
        "smtp",
        "ckan",
        "pii",
        "backups",
    ]


def test_everything_ok_on_s3_and_postgresql_as_the_loader(
    s3_settings: Settings,
    catalog: Catalog,
    smtp_auth: SmtpServer,
    ckan: Portal,
    login_as: Callable[[str], str],
) -> None:
    """Production-shaped: the DAGs' login is a member of serasan_loader, SMTP needs a login."""
    owner = make_engine(s3_settings.warehouse_url)
    upgrade(owner, catalog)  # as the superuser the suite connects as
    owner.dispose()
    loader_url = login_as(LOADER)
    settings = dataclasses.replace(
        _good(s3_settings, smtp_auth, ckan),
        warehouse_url=loader_url,
        smtp_user="serasan",
        smtp_password="smtp-Rahasia-81f3",
        smtp_starttls=False,
    )
    open_lake(settings)  # the bucket exists, as a deployment's does
    env = _backed_up(settings, f"s3://backup-{uuid.uuid4().hex[:8]}")  # pg_dump as the loader
    checks = run_doctor(settings, env=env)
    assert _statuses(checks) == {
        "catalog": "ok",
        "lake": "ok",
        "warehouse": "ok",
        "warehouse role": "ok",
        "smtp": "ok",
        "ckan": "ok",
        "pii": "ok",
        "backups": "ok",
    }, render(checks)
    by = _by_name(checks)
    bucket = settings.lake_url.removeprefix("s3://")
    assert f"bucket {bucket} on http://{settings.s3_endpoint}" in by["lake"].message
    user = make_url(loader_url).username
    assert (
        f"connected as {user} (member of {LOADER}): it may write meta and core"
        in by["warehouse role"].message
    )
    assert "may upgrade" not in by["warehouse role"].message
    assert by["smtp"].message.startswith(
        f"SMTP 127.0.0.1:{smtp_auth.port}: EHLO, login as serasan ok"
    )


# ------------------------------------------------------------------------ secrets


def test_no_secret_is_ever_printed(
    s3_settings: Settings,
    catalog: Catalog,
    portal: Portal,
    smtp_auth: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every secret set, two of them wrong (the SMTP password and the CKAN token, which the
    portal echoes back in its error): nothing of any of them reaches stdout or stderr."""
    portal.reset()
    secrets = {
        "pg": "Pg-Rahasia-4b7e19",
        "s3": "S3-Rahasia-0c5d2a",
        "smtp": "Smtp-Salah-9e4f",
        "ckan": "ckan-token-SALAH-77a1d3",
        "pii": "Pii-Rahasia-kunci-2d81c6e0f3",
        "hook": "Hook-Rahasia-51aa",
    }
    url = make_url(s3_settings.warehouse_url).set(password=secrets["pg"])  # trust auth: ignored
    settings = dataclasses.replace(
        s3_settings,
        warehouse_url=url.render_as_string(hide_password=False),
        s3_secret_key=secrets["s3"],
        smtp_host="127.0.0.1",
        smtp_port=smtp_auth.port,
        smtp_user="serasan",
        smtp_password=secrets["smtp"],
        smtp_starttls=False,
        ckan_url=portal.url,
        ckan_token=secrets["ckan"],
        pii_key=secrets["pii"],
        webhook_url="http://127.0.0.1:9/hook",
        webhook_token=secrets["hook"],
    )
    engine = make_engine(settings.warehouse_url)
    upgrade(engine, catalog)
    engine.dispose()
    open_lake(settings)  # the bucket
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    assert main(["doctor"]) == 1
    text = capsys.readouterr()
    assert main(["doctor", "--json"]) == 1
    js = capsys.readouterr()
    doc = json.loads(js.out)
    status = {c["name"]: c["status"] for c in doc["checks"]}
    assert status["smtp"] == status["ckan"] == "fail" and status["lake"] == "ok"
    assert status["warehouse"] == "ok"
    assert any(r.status == 403 for r in portal.requests())  # the portal did echo the token
    for name, secret in secrets.items():
        for stream in (text.out, text.err, js.out, js.err):
            assert secret not in stream, name
    assert "***" in text.out or "***" in js.out  # the scrubbed echo


# ------------------------------------------------------------------------ failures


def _fails(checks: list[Check], name: str, *parts: str) -> Check:
    check = _by_name(checks)[name]
    assert check.status == "fail", render(checks)
    for part in parts:
        assert part in check.message, check.message
    return check


def test_wrong_s3_bucket(
    s3_settings: Settings, local_stack: tuple[Settings, dict[str, str]]
) -> None:
    settings, env = local_stack
    wrong = dataclasses.replace(
        settings,
        lake_url="s3://serasan-lakx",
        s3_endpoint=s3_settings.s3_endpoint,
        s3_access_key="test",
        s3_secret_key="test",
    )
    checks = run_doctor(wrong, env=env)
    _fails(
        checks,
        "lake",
        f"bucket serasan-lakx does not exist on http://{s3_settings.s3_endpoint}",
        "fix SERASAN_LAKE_URL",
    )
    assert _by_name(checks)["backups"].status == "warn"  # not checked, says why
    assert _statuses(checks)["warehouse"] == "ok"
    assert "serasan-lakx" not in [b.name for b in open_lake(s3_settings).client.list_buckets()]


def test_s3_endpoint_not_listening(local_stack: tuple[Settings, dict[str, str]]) -> None:
    settings, env = local_stack
    port = free_port()
    dead = dataclasses.replace(
        settings,
        lake_url="s3://serasan-lake",
        s3_endpoint=f"127.0.0.1:{port}",
        s3_access_key="k",
        s3_secret_key="s3-secret",
    )
    started = time.monotonic()
    checks = run_doctor(dead, env=env)
    assert time.monotonic() - started < 15
    _fails(
        checks,
        "lake",
        f"cannot reach S3 at http://127.0.0.1:{port} (connection refused)",
        "SERASAN_S3_ENDPOINT",
    )


def test_warehouse_server_not_listening(local_stack: tuple[Settings, dict[str, str]]) -> None:
    settings, env = local_stack
    port = free_port()
    url = make_url(PG_URL).set(port=port).render_as_string(hide_password=False)
    started = time.monotonic()
    checks = run_doctor(dataclasses.replace(settings, warehouse_url=url), env=env)
    assert time.monotonic() - started < 15
    _fails(
        checks,
        "warehouse",
        f"cannot connect to PostgreSQL at 127.0.0.1:{port}",
        "is the server running",
    )


def test_warehouse_database_missing(
    local_stack: tuple[Settings, dict[str, str]], pg_server_url: str
) -> None:
    settings, env = local_stack
    name = f"serasan_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    checks = run_doctor(dataclasses.replace(settings, warehouse_url=url), env=env)
    _fails(
        checks,
        "warehouse",
        f"database {name} does not exist on 127.0.0.1:5432",
        "createdb",
        "serasan warehouse upgrade",
    )
    assert "warehouse role" not in _by_name(checks)


def test_sqlite_warehouse_missing(
    local_stack: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    settings, env = local_stack
    path = tmp_path / "nowhere" / "wh.db"
    checks = run_doctor(dataclasses.replace(settings, warehouse_url=f"sqlite:///{path}"), env=env)
    _fails(checks, "warehouse", f"SQLite warehouse {path} does not exist")
    assert not path.parent.exists()  # the doctor created nothing


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_warehouse_behind_the_code(
    backend: str,
    local_stack: tuple[Settings, dict[str, str]],
    catalog: Catalog,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    settings, env = local_stack
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = make_engine(url)
    upgrade(engine, catalog)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0009")
    engine.dispose()
    checks = run_doctor(dataclasses.replace(settings, warehouse_url=url), env=env)
    check = _fails(
        checks,
        "warehouse",
        f"is at revision 0009, the code needs {HEAD}",
        "run `serasan warehouse upgrade`",
    )
    assert check.details["revision"] == ["0009"] and check.details["head"] == [HEAD]


def test_fact_table_behind_the_catalog(
    local_stack: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    """A catalog column added after the last upgrade: the warehouse is behind the catalog."""
    settings, env = local_stack
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root)
    path = root / "datasets" / "muba_bank_sampah.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\ncolumns:\n" in text
    path.write_text(
        text.replace(
            "\ncolumns:\n",
            "\ncolumns:\n  - {name: catatan_tambahan, type: string, description: Catatan.}\n",
            1,
        ),
        encoding="utf-8",
    )
    checks = run_doctor(settings, root, env=env)
    assert _statuses(checks)["catalog"] == "ok", render(checks)
    _fails(
        checks,
        "warehouse",
        "behind the catalog",
        "muba_bank_sampah: column catatan_tambahan is added",
        "run `serasan warehouse upgrade`",
    )


def test_a_reader_login_cannot_write_meta_and_core(
    pg_url: str,
    catalog: Catalog,
    local_stack: tuple[Settings, dict[str, str]],
    login_as: Callable[[str], str],
) -> None:
    settings, env = local_stack
    engine = make_engine(pg_url)
    upgrade(engine, catalog)
    engine.dispose()
    reader = login_as(READER)
    checks = run_doctor(dataclasses.replace(settings, warehouse_url=reader), env=env)
    user = make_url(reader).username
    role = _fails(
        checks,
        "warehouse role",
        f"connected as {user} (member of {READER})",
        "which may not write",
        "in core and meta",
        f"GRANT {LOADER} TO {user}",
    )
    assert role.details["cannot_write"]
    # the reader may not read meta either: the schema check says so instead of crashing
    assert _by_name(checks)["warehouse"].status == "fail"


def test_superuser_login_is_a_warning(
    pg_url: str, catalog: Catalog, local_stack: tuple[Settings, dict[str, str]]
) -> None:
    settings, env = local_stack
    engine = make_engine(pg_url)
    upgrade(engine, catalog)
    engine.dispose()
    checks = run_doctor(dataclasses.replace(settings, warehouse_url=pg_url), env=env)
    role = _by_name(checks)["warehouse role"]
    assert role.status == "warn" and "(superuser)" in role.message
    assert "may write meta and core, and may upgrade" in role.message
    assert f"member of {LOADER}" in role.message


def test_smtp_refuses_the_login(
    local_stack: tuple[Settings, dict[str, str]], smtp_auth: SmtpServer
) -> None:
    settings, env = local_stack
    wrong = dataclasses.replace(
        settings,
        smtp_port=smtp_auth.port,
        smtp_user="serasan",
        smtp_password="salah-sandi-1234",
        smtp_starttls=False,
    )
    checks = run_doctor(wrong, env=env)
    _fails(
        checks,
        "smtp",
        f"SMTP 127.0.0.1:{smtp_auth.port} refused the login of serasan (535",
        "SERASAN_SMTP_PASSWORD",
    )
    assert smtp_auth.box.messages == []


def test_smtp_port_closed(local_stack: tuple[Settings, dict[str, str]]) -> None:
    settings, env = local_stack
    port = free_port()
    checks = run_doctor(dataclasses.replace(settings, smtp_port=port), env=env)
    _fails(
        checks,
        "smtp",
        f"cannot connect to SMTP 127.0.0.1:{port} (connection refused)",
        "wait in the outbox",
    )


def test_smtp_without_starttls_support(
    local_stack: tuple[Settings, dict[str, str]], smtp_auth: SmtpServer
) -> None:
    """A login is never sent in clear by default: aiosmtpd here offers no STARTTLS."""
    settings, env = local_stack
    tls = dataclasses.replace(
        settings, smtp_port=smtp_auth.port, smtp_user="serasan", smtp_password="smtp-Rahasia-81f3"
    )
    _fails(run_doctor(tls, env=env), "smtp", "does not offer STARTTLS", "port 465")


def test_ckan_token_rejected(local_stack: tuple[Settings, dict[str, str]], ckan: Portal) -> None:
    settings, env = local_stack
    checks = run_doctor(dataclasses.replace(settings, ckan_token="ckan-token-lama-0000"), env=env)
    check = _fails(
        checks,
        "ckan",
        f"CKAN at {ckan.url} rejected the token on status_show",
        "SERASAN_CKAN_TOKEN",
    )
    assert "ckan-token-lama-0000" not in check.message and "***" in check.message


def test_ckan_token_cannot_publish_into_an_organization(
    local_stack: tuple[Settings, dict[str, str]], ckan: Portal
) -> None:
    settings, env = local_stack
    ckan.editor_of = {"pemkab-muara-enim"}
    _fails(
        run_doctor(settings, env=env),
        "ckan",
        "may not create datasets in pemkab-musi-banyuasin",
        "make it an editor",
    )


def test_ckan_not_listening(local_stack: tuple[Settings, dict[str, str]]) -> None:
    settings, env = local_stack
    port = free_port()
    checks = run_doctor(dataclasses.replace(settings, ckan_url=f"http://127.0.0.1:{port}"), env=env)
    _fails(checks, "ckan", f"cannot reach CKAN at http://127.0.0.1:{port}", "connection refused")


def test_unset_services_are_warnings_that_say_what_happens(
    local_stack: tuple[Settings, dict[str, str]],
) -> None:
    settings, _ = local_stack
    bare = dataclasses.replace(
        settings, smtp_host=None, ckan_url=None, ckan_token=None, pii_key=None
    )
    checks = run_doctor(bare, env={})
    by = _by_name(checks)
    assert _statuses(checks)["catalog"] == "ok" and not any(c.status == "fail" for c in checks)
    assert by["smtp"].status == "warn" and "wait in the outbox" in by["smtp"].message
    assert by["ckan"].status == "warn" and "exports stay in the lake" in by["ckan"].message
    assert (
        by["pii"].status == "warn"
        and "pseudonym columns (muaraenim_penerima_bansos.nik, "
        "muba_kelompok_tani_karet.nik_ketua) are dropped"
        in by["pii"].message
    )
    assert (
        by["backups"].status == "warn"
        and "SERASAN_BACKUP_LAKE_URL is not set" in by["backups"].message
    )


def test_short_pii_key_fails(local_stack: tuple[Settings, dict[str, str]]) -> None:
    settings, env = local_stack
    checks = run_doctor(dataclasses.replace(settings, pii_key="pendek-sekali"), env=env)
    check = _fails(checks, "pii", "has 13 bytes, pseudonyms need at least 16")
    assert "pendek-sekali" not in check.message


def test_broken_catalog_names_the_file_and_field(
    local_stack: tuple[Settings, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, env = local_stack
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root)
    path = root / "datasets" / "muba_bank_sampah.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("cadence: monthly", "cadence: weekly"),
        encoding="utf-8",
    )
    checks = run_doctor(settings, root, env=env)
    check = _fails(
        checks,
        "catalog",
        f"catalog at {root} has",
        str(path),
        "cadence",
        "serasan catalog validate",
    )
    assert any("cadence" in p for p in check.details["problems"])
    by = _by_name(checks)
    assert by["warehouse"].status == "warn" and "catalog does not load" in by["warehouse"].message
    assert by["lake"].status == "ok"  # the other checks still run

    for key, value in {**settings.as_env(), **env}.items():
        monkeypatch.setenv(key, value)
    assert main(["--catalog", str(root), "doctor"]) == 1
    assert "FAIL  catalog" in capsys.readouterr().out
