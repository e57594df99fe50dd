"""The compose stack (docker/) against the code it runs, without Docker.

Docker cannot run where this is built, so the stack is checked from the other side: every
service the production issue lists is there with a healthcheck or as a gating one-shot; every
variable is in .env.example and no secret is written down; the SERASAN_* variables are the ones
serasan/settings.py and serasan/backup.py read; the Airflow keys exist in the installed Airflow
and its providers; the PostgreSQL roles are warehouse/roles.py's; the MinIO users and policies
are the catalog's; the backups are the serasan__backup DAG's, with a PostgreSQL client in the
image and a backup bucket the pipeline may use. The scripts the containers run are run here
too: the PostgreSQL init on the real PostgreSQL server of the suite (and the backup DAG's dump
and the restore drill as the stack's users), the MinIO init with a recording `mc`, and the
pipeline's MinIO policy, with the backup's own lake copy, on an S3 endpoint that enforces IAM
(moto_server).
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.metadata
import io
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import pytest
import yaml
from botocore.exceptions import ClientError
from minio import Minio
from minio.error import S3Error
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from serasan.admin.backup import backup_lake, dump_warehouse, restore, target_settings
from serasan.config.catalog import Catalog
from serasan.config.settings import Settings
from serasan.ingest.inbox_access import POLICY_PREFIX, inbox_user, upload_link
from serasan.lake.store import LocalLake, S3Lake
from serasan.quality.suites import load_validated_catalog
from serasan.warehouse import roles
from serasan.warehouse.db import make_engine, upgrade
from serasan.warehouse.names import LAYERS
from tests.support.paths import REPO_ROOT
from tests.support.services import moto_server

PROJECT = REPO_ROOT
DOCKER = PROJECT / "docker"
COMPOSE = DOCKER / "compose.yaml"
WORKER_OVERRIDE = DOCKER / "compose.worker.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
POLICY_DIR = DOCKER / "minio" / "policies"
PIPELINE_POLICY = DOCKER / "minio" / "pipeline-policy.json"
PG_INIT = DOCKER / "postgres" / "init.sh"
MINIO_INIT = DOCKER / "minio" / "init.sh"
DOCKERFILE = DOCKER / "Dockerfile"
STATSD_MAPPING = DOCKER / "statsd" / "mapping.yml"

# What the issue lists: service -> what it is
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
REQUIRED = {
    "postgres",
    "minio",
    "minio-init",
    "redis",
    "mailpit",
    "airflow-init",
    "statsd-exporter",
    *AIRFLOW_COMMANDS,
}
ONE_SHOT = {"minio-init", "airflow-init"}
AIRFLOW_SERVICES = {"airflow-init", *AIRFLOW_COMMANDS}
CELERY_EXECUTOR = "airflow.providers.celery.executors.celery_executor"

# the modules whose environment reads decide which SERASAN_* names the stack may set
READS_ENV = (
    PROJECT / "serasan" / "config" / "settings.py",
    PROJECT / "serasan" / "admin" / "backup.py",
    PROJECT / "serasan" / "admin" / "retention.py",
)
# the oldest pg_dump/pg_restore the backups accept: the server's major version (postgres:15)
MIN_PG_CLIENT = 15

SECRET_WORDS = {"PASSWORD", "SECRET", "TOKEN", "KEY", "FERNET", "JWT"}
# ${VAR}, ${VAR:?msg}, ${VAR?msg}, ${VAR:-default}, ${VAR-default}; $${...} is a literal $
REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
WHOLE_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}$")


# ------------------------------------------------------------------ reading the files


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = _load(COMPOSE)
    assert "version" not in doc, "the Compose Specification has no version: key"
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _env_example() -> dict[str, str]:
    out = {}
    for n, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f".env.example:{n}: {line!r}"
        assert name not in out, f".env.example:{n}: {name} twice"
        out[name] = value
    return out


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation, for the forms this stack uses."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        have = env.get(name)
        unset_or_empty = have is None or (op.startswith(":") and have == "")
        if op.endswith("?") and unset_or_empty:
            raise ValueError(f"{name}: {arg}")
        if op.endswith("-") and unset_or_empty:
            return arg
        return have or ""

    return REF.sub(one, value).replace("$$", "$")


def _resolved_env(service: dict[str, Any], values: dict[str, str] | None = None) -> dict[str, str]:
    values = _env_example() if values is None else values
    return {k: _interpolate(v, values) for k, v in _env(service).items()}


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def _healthcheck(service: dict[str, Any]) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test") or []
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return [str(t) for t in test]


def _secret_looking(key: str) -> bool:
    return bool(SECRET_WORDS & set(key.upper().split("_")))


def _env_reads(path: Path) -> tuple[set[str], set[str]]:
    """The SERASAN_* names a module reads (`env.get(N)`, `env[N]`, `os.environ.get(N)`,
    `os.getenv(N)`, with N a string or a module constant holding one), and the prefixes it reads
    by (module constants `..._PREFIX = "SERASAN_..._"`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    consts = {
        t.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for t in node.targets
        if isinstance(t, ast.Name)
    }

    def is_env(node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id == "env") or (
            isinstance(node, ast.Attribute) and node.attr == "environ"
        )

    def value(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return consts.get(node.id) if isinstance(node, ast.Name) else None

    names = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if (node.func.attr == "get" and is_env(node.func.value)) or (
                node.func.attr == "getenv"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "os"
            ):
                key = node.args[0]
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and is_env(node.value)
        ):
            key = node.slice
        name = value(key) if key is not None else None
        if name and re.fullmatch(r"SERASAN_[A-Z0-9_]+", name):
            names.add(name)
    prefixes = {
        v
        for k, v in consts.items()
        if k.endswith("_PREFIX") and re.fullmatch(r"SERASAN_[A-Z0-9_]+_", v)
    }
    return names, prefixes


def _code_names() -> tuple[set[str], set[str]]:
    """The SERASAN_* names the code reads (READS_ENV), and the prefixes it reads by."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for path in READS_ENV:
        n, p = _env_reads(path)
        assert n, f"{path.name} is not read as expected: no SERASAN_* name found"
        names |= n
        prefixes |= p
    assert {"SERASAN_LAKE_URL", "SERASAN_BACKUP_LAKE_URL"} <= names and prefixes, (
        "settings.py and backup.py are not read as expected"
    )
    return names, prefixes


def _airflow_options() -> tuple[dict[str, set[str]], dict[str, str]]:
    """Every [section] option of the installed Airflow and providers; section -> provider."""
    import airflow

    core = yaml.safe_load(
        (Path(airflow.__file__).parent / "config_templates" / "config.yml").read_text(
            encoding="utf-8"
        )
    )
    options = {s: set(doc.get("options") or {}) for s, doc in core.items()}
    owner = dict.fromkeys(options, "apache-airflow")
    for ep in importlib.metadata.entry_points(group="apache_airflow_provider"):
        info = ep.load()()
        for section, doc in (info.get("config") or {}).items():
            options.setdefault(section, set()).update(doc.get("options") or {})
            owner.setdefault(section, info["package-name"])
    return options, owner


def _pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)", line.strip())
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _published(service: dict[str, Any]) -> set[str]:
    """Container ports a service publishes, as "5432" or "9125/udp"."""
    out = set()
    for port in service.get("ports") or []:
        spec = str(port)
        proto = ""
        if "/" in spec:
            spec, proto = spec.rsplit("/", 1)
            proto = f"/{proto}"
        out.add(spec.rsplit(":", 1)[-1] + proto)
    return out


# ------------------------------------------------------------------ services


def test_every_listed_service_exists_with_a_pinned_image_or_the_build(
    services: dict[str, dict[str, Any]],
) -> None:
    assert REQUIRED <= set(services), f"missing: {sorted(REQUIRED - set(services))}"
    values = _env_example()
    for name, svc in services.items():
        assert svc.get("image") or svc.get("build"), f"{name} has neither image nor build"
        image = _interpolate(str(svc.get("image", "")), values)
        if image:
            tag = image.rsplit("/", 1)[-1]
            assert ":" in tag and not tag.endswith(":latest"), f"{name}: unpinned image {image}"
    assert services["postgres"]["image"] == "postgres:15"
    for name in AIRFLOW_SERVICES:
        build = services[name]["build"]
        assert (
            DOCKER / build["context"] / build["dockerfile"]
        ).resolve() == DOCKER / "Dockerfile", name
        assert _env(services[name])["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_each_airflow_service_runs_its_component(services: dict[str, dict[str, Any]]) -> None:
    for name, sub in AIRFLOW_COMMANDS.items():
        words = " ".join(_command(services[name]))
        assert f"airflow {sub}" in words, f"{name} runs {words!r}, not airflow {sub}"
    init = " ".join(_command(services["airflow-init"]))
    assert "airflow db migrate" in init and "serasan warehouse upgrade" in init
    assert init.index("airflow db migrate") < init.index("serasan warehouse upgrade")
    assert "set -euo pipefail" in init  # a failed migration fails the one-shot


def test_long_running_services_have_healthchecks_and_restart(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, svc in services.items():
        if name in ONE_SHOT:
            assert str(svc.get("restart", "no")) == "no", f"{name} is a one-shot"
            continue
        test = _healthcheck(svc)
        assert test and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, (
            f"{name} has no healthcheck"
        )
        assert svc.get("restart") in ("always", "unless-stopped"), f"{name}: restart policy"


def test_one_shot_services_gate_the_stack(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for target, dep in (svc.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            cond = dep["condition"]
            if cond == "service_completed_successfully":
                assert target in ONE_SHOT, f"{name} waits for {target} to exit"
            else:
                assert cond == "service_healthy", f"{name} -> {target}: {cond}"
                assert _healthcheck(services[target]), f"{target} has no healthcheck"
    for name in AIRFLOW_COMMANDS:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        for base in ("postgres", "redis", "minio"):
            assert deps[base]["condition"] == "service_healthy", f"{name} -> {base}"
    init = services["airflow-init"]["depends_on"]
    assert init["postgres"]["condition"] == "service_healthy"
    assert init["minio-init"]["condition"] == "service_completed_successfully"
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    waited = {
        t
        for s in services.values()
        for t, d in (s.get("depends_on") or {}).items()
        if d["condition"] == "service_completed_successfully"
    }
    assert waited == ONE_SHOT


def test_healthchecks_are_real_commands(services: dict[str, dict[str, Any]]) -> None:
    from airflow.cli import cli_config
    from airflow.jobs.dag_processor_job_runner import DagProcessorJobRunner
    from airflow.jobs.triggerer_job_runner import TriggererJobRunner

    def hc(name: str) -> str:
        return " ".join(_healthcheck(services[name])[1:])

    assert hc("postgres").startswith("pg_isready -h 127.0.0.1")
    assert "redis-cli ping" in hc("redis") and "REDISCLI_AUTH" in hc("redis")
    assert hc("minio") == "mc ready local"
    assert hc("mailpit") == "/mailpit readyz"
    assert "http://127.0.0.1:9102/metrics" in hc("statsd-exporter")
    assert hc("airflow-apiserver").endswith("http://localhost:8080/api/v2/monitor/health")
    env = _env(services["airflow-scheduler"])
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "True"
    assert hc("airflow-scheduler").endswith("http://localhost:8974/health")
    flags = {f for a in vars(cli_config).values() if isinstance(a, cli_config.Arg) for f in a.flags}
    assert {"--job-type", "--local"} <= flags
    assert (
        hc("airflow-dag-processor")
        == f"airflow jobs check --job-type {DagProcessorJobRunner.job_type} --local"
    )
    assert (
        hc("airflow-triggerer")
        == f"airflow jobs check --job-type {TriggererJobRunner.job_type} --local"
    )
    m = re.search(
        r"celery --app (\S+) inspect ping -d \"celery@\$\$\{HOSTNAME\}\"", hc("airflow-worker")
    )
    assert m, hc("airflow-worker")
    module, attr = m.group(1).rsplit(".", 1)
    assert module == CELERY_EXECUTOR and attr == "app"  # imported in the test below


def test_the_celery_executor_and_its_app_import(services: dict[str, dict[str, Any]]) -> None:
    """What the scheduler loads for the stack's executor, and the worker healthcheck's app."""
    from airflow.executors.executor_loader import ExecutorLoader

    path = ExecutorLoader.executors[_env(services["airflow-scheduler"])["AIRFLOW__CORE__EXECUTOR"]]
    assert path == f"{CELERY_EXECUTOR}.CeleryExecutor"
    try:
        module = importlib.import_module(CELERY_EXECUTOR)
        assert module.CeleryExecutor and module.app
    except ImportError as exc:
        pins = _pins()
        pytest.fail(
            f"the CeleryExecutor cannot be imported ({exc}): requirements.txt pins "
            f"apache-airflow-providers-celery=={pins.get('apache-airflow-providers-celery')} "
            f"with celery=={pins.get('celery')}. Pin versions that work together (install "
            "requirements.txt, `make install`), or no task of the stack will run",
            pytrace=False,
        )


def test_named_volumes_hold_the_state(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose["volumes"])
    wanted = {
        "postgres": "/var/lib/postgresql/data",
        "minio": "/data",
        "redis": "/data",
        "airflow-worker": "/opt/airflow/logs",
        "airflow-apiserver": "/opt/airflow/logs",
    }
    for name, target in wanted.items():
        named = {
            v.split(":")[0] for v in services[name]["volumes"] if str(v).split(":")[1] == target
        }
        assert named and named <= declared, f"{name}: {target} is not on a named volume"
    used = {
        str(v).split(":")[0]
        for s in services.values()
        for v in s.get("volumes") or []
        if not str(v).startswith(".")
    }
    assert used == declared


# ------------------------------------------------------------------ variables and secrets


def _all_refs() -> set[str]:
    refs = set()
    for path in (COMPOSE, WORKER_OVERRIDE):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.lstrip().startswith("#"):
                refs |= {m.group(1) for m in REF.finditer(line)}
    return refs


def test_every_variable_is_in_env_example_and_every_example_is_used() -> None:
    refs, example = _all_refs(), set(_env_example())
    assert refs - example == set(), f"referenced but not in .env.example: {sorted(refs - example)}"
    assert example - refs == set(), f"in .env.example but never used: {sorted(example - refs)}"


def test_env_example_holds_placeholders_only() -> None:
    for name, value in _env_example().items():
        if _secret_looking(name) and value:
            assert "change-me" in value, f".env.example: {name} must be a change-me placeholder"


def test_no_secret_is_written_in_the_compose_files(compose: dict[str, Any]) -> None:
    blocks = {
        "x-airflow-common": compose["x-airflow-common"],
        **compose["services"],
        **{f"override:{k}": v for k, v in _load(WORKER_OVERRIDE)["services"].items()},
    }
    for name, svc in blocks.items():
        for key, value in _env(svc).items():
            if _secret_looking(key):
                assert WHOLE_REF.match(value), f"{name}: {key} must be a ${{...}} reference"
            if "://" in value and "@" in value:  # a URL with credentials
                password = value.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
                assert WHOLE_REF.match(password), f"{name}: {key} has a literal password"
    text_ = COMPOSE.read_text(encoding="utf-8")
    for placeholder in {v for v in _env_example().values() if "change-me" in v}:
        assert placeholder not in text_


def test_no_env_file_is_tracked_and_docker_env_is_ignored() -> None:
    tracked = subprocess.run(
        ["git", "-C", str(PROJECT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert not [p for p in tracked if Path(p).name == ".env"], "a .env file is committed"
    ignored = subprocess.run(["git", "-C", str(PROJECT), "check-ignore", "-q", "docker/.env"])
    assert ignored.returncode == 0, "docker/.env is not git-ignored"
    dockerignore = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert "**/.env" in dockerignore and ".git" in dockerignore, "an .env could reach the image"


# ------------------------------------------------------------------ Serasan's settings


def test_serasan_variables_are_the_ones_the_code_reads(services: dict[str, dict[str, Any]]) -> None:
    names, prefixes = _code_names()
    for name in AIRFLOW_SERVICES:
        env = _env(services[name])
        serasan = {k for k in env if k.startswith("SERASAN_")}
        unknown = {
            k for k in serasan if k not in names and not any(k.startswith(p) for p in prefixes)
        }
        assert not unknown, (
            f"{name} sets {sorted(unknown)}, which neither "
            f"{' nor '.join(p.name for p in READS_ENV)} reads"
        )
        for needed in (
            "SERASAN_LAKE_URL",
            "SERASAN_S3_ENDPOINT",
            "SERASAN_S3_ACCESS_KEY",
            "SERASAN_S3_SECRET_KEY",
            "SERASAN_WAREHOUSE_URL",
            "SERASAN_BACKUP_LAKE_URL",
        ):
            assert env.get(needed), f"{name} lacks {needed}"


def test_settings_from_the_stack_point_at_its_services(services: dict[str, dict[str, Any]]) -> None:
    for name in AIRFLOW_SERVICES:
        s = Settings.from_env(_resolved_env(services[name]))
        assert s.lake_url == "s3://serasan-lake" and s.s3_endpoint == "minio:9000", name
        assert not s.s3_secure
        wh = make_url(s.warehouse_url)
        assert (wh.drivername, wh.host, wh.port, wh.database) == (
            "postgresql",
            "postgres",
            5432,
            "serasan",
        ), name
        expected = "serasan_admin" if name == "airflow-init" else "serasan_etl"
        assert wh.username == expected, f"{name} connects to the warehouse as {wh.username}"
        assert (s.smtp_host, s.smtp_port) == ("mailpit", 1025) and not s.starttls
        assert s.pii_key and s.ckan_url is None and s.webhook_url is None
    assert {"1025", "8025"} <= _published(services["mailpit"])  # SMTP, web UI


# ------------------------------------------------------------------ Airflow


def test_airflow_is_wired_to_the_stack(services: dict[str, dict[str, Any]]) -> None:
    redis_pw = _resolved_env(services["redis"])["REDIS_PASSWORD"]
    for name in AIRFLOW_SERVICES:
        raw, env = _env(services[name]), _resolved_env(services[name])
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379), name
        assert broker.password == redis_pw
        db = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert (db.scheme, db.hostname, db.port, db.path, db.username) == (
            "postgresql+psycopg2",
            "postgres",
            5432,
            "/airflow",
            "airflow",
        ), name
        backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
        assert (backend.scheme, backend.hostname, backend.path) == (
            "db+postgresql",
            "postgres",
            "/airflow",
        ), name
        assert env["AIRFLOW__METRICS__STATSD_ON"] == "True"
        assert env["AIRFLOW__METRICS__STATSD_HOST"] == "statsd-exporter"
        assert f"--statsd.listen-udp=:{env['AIRFLOW__METRICS__STATSD_PORT']}" in _command(
            services["statsd-exporter"]
        )
        # Serasan's own gauges go to the same exporter, over UDP
        assert env["SERASAN_STATSD_HOST"] == "statsd-exporter"
        assert f"--statsd.listen-udp=:{env['SERASAN_STATSD_PORT']}" in _command(
            services["statsd-exporter"]
        )
        assert (
            env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
            == "http://airflow-apiserver:8080/execution/"
        )
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        for key in (
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__API__SECRET_KEY",
        ):
            assert WHOLE_REF.match(raw[key]), f"{name}: {key}"
    assert "8080" in _published(services["airflow-apiserver"])
    assert importlib.util.find_spec("psycopg2"), "the metadata URL uses psycopg2"


def test_airflow_keys_exist_in_the_installed_airflow_and_providers(compose: dict[str, Any]) -> None:
    options, owner = _airflow_options()
    blocks = [compose["x-airflow-common"], *compose["services"].values()]
    keys = {k for b in blocks for k in _env(b) if k.startswith("AIRFLOW__")}
    assert len(keys) > 15
    missing = []
    for key in sorted(keys):
        section, sep, option = key.removeprefix("AIRFLOW__").partition("__")
        if not sep or option.lower() not in options.get(section.lower(), set()):
            missing.append(key)
    assert not missing, (
        f"{missing} are not options of Airflow {importlib.metadata.version('apache-airflow')} "
        "or of an installed provider. If they belong to a provider, install requirements.txt "
        "(`make install`); otherwise fix the name"
    )
    celery = {k for k in keys if k.startswith("AIRFLOW__CELERY__")}
    assert celery and owner["celery"] == "apache-airflow-providers-celery"
    assert "apache-airflow-providers-celery" in _pins(), (
        "the CeleryExecutor needs apache-airflow-providers-celery pinned in requirements.txt"
    )


def test_the_image_is_the_pinned_airflow_on_python_311() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    m = re.search(r"^FROM apache/airflow:(\S+)-python(\d+\.\d+)\s*$", dockerfile, re.MULTILINE)
    assert m, "docker/Dockerfile must extend the official apache/airflow image"
    version = importlib.metadata.version("apache-airflow")
    assert m.group(1) == version == _pins()["apache-airflow"]
    assert m.group(2) == f"{sys.version_info.major}.{sys.version_info.minor}" == "3.11"
    assert "pip install --no-cache-dir -r /opt/serasan/requirements.txt" in dockerfile
    check = re.search(r'python -c "import ([^"]+)"', dockerfile)
    assert check and {"airflow.providers.celery", "statsd"} <= {
        s.strip() for s in check.group(1).split(",")
    }, "the build must prove StatsD and Celery"


# ------------------------------------------------------------------ PostgreSQL


def _script_var(script: Path, name: str) -> str:
    m = re.search(rf'^{name}="?\$\{{{name}:-([^}}]+)\}}"?$', script.read_text(), re.MULTILINE)
    assert m, f"{script.name} has no default for {name}"
    return m.group(1)


def test_init_script_creates_the_roles_of_warehouse_roles(
    services: dict[str, dict[str, Any]],
) -> None:
    text_ = PG_INIT.read_text(encoding="utf-8")
    groups = dict(re.findall(r"^(OWNER|LOADER|READER)_ROLE=(\w+)$", text_, re.MULTILINE))
    assert groups == {"OWNER": roles.OWNER, "LOADER": roles.LOADER, "READER": roles.READER}
    pg = services["postgres"]
    assert "./postgres/init.sh:/docker-entrypoint-initdb.d/10-serasan.sh:ro" in pg["volumes"]
    required = set(re.search(r"for var in ([^;]+); do", text_).group(1).replace("\\", " ").split())
    assert required <= set(_env(pg)), f"postgres lacks {sorted(required - set(_env(pg)))}"
    common = _resolved_env(services["airflow-worker"])
    assert make_url(common["SERASAN_WAREHOUSE_URL"]).username == _script_var(
        PG_INIT, "WAREHOUSE_ETL_USER"
    )
    assert make_url(
        _resolved_env(services["airflow-init"])["SERASAN_WAREHOUSE_URL"]
    ).username == _script_var(PG_INIT, "WAREHOUSE_ADMIN_USER")
    assert urlsplit(common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).username == _script_var(
        PG_INIT, "AIRFLOW_DB_USER"
    )
    assert urlsplit(common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).path == "/" + _script_var(
        PG_INIT, "AIRFLOW_DB"
    )
    assert make_url(common["SERASAN_WAREHOUSE_URL"]).database == _script_var(
        PG_INIT, "WAREHOUSE_DB"
    )


@pytest.fixture
def initialised(pg_server_url: str) -> Iterator[dict[str, str]]:
    """docker/postgres/init.sh run on the suite's server, with unique database and user names
    (the group roles are the real, cluster-wide ones); everything it made is dropped after."""
    server = make_url(pg_server_url)
    tag = uuid.uuid4().hex[:8]
    names = {
        "AIRFLOW_DB": f"serasan_t_af_{tag}",
        "AIRFLOW_DB_USER": f"serasan_t_af_{tag}",
        "WAREHOUSE_DB": f"serasan_t_wh_{tag}",
        "WAREHOUSE_ADMIN_USER": f"serasan_t_admin_{tag}",
        "WAREHOUSE_ETL_USER": f"serasan_t_etl_{tag}",
        "WAREHOUSE_BI_USER": f"serasan_t_bi_{tag}",
    }
    passwords = {
        "AIRFLOW_DB_PASSWORD": "af'pw\"" + tag,  # quoting is psql's, not the shell's
        "WAREHOUSE_ADMIN_PASSWORD": "admin-" + tag,
        "WAREHOUSE_ETL_PASSWORD": "etl-pw-" + tag,
        "WAREHOUSE_BI_PASSWORD": "bi;pw--" + tag,
    }
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": server.host or "127.0.0.1",
        "PGPORT": str(server.port or 5432),
        "PGPASSWORD": server.password or "",
        "POSTGRES_USER": server.username or "postgres",
        "POSTGRES_DB": server.database or "postgres",
        **names,
        **passwords,
    }
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(2):  # the second run changes nothing and still succeeds
            run = subprocess.run(
                ["bash", str(PG_INIT)], env=env, capture_output=True, text=True, timeout=120
            )
            assert run.returncode == 0, run.stderr
        yield {**env, "server": pg_server_url}
    finally:
        with admin.connect() as conn:
            for db in (names["AIRFLOW_DB"], names["WAREHOUSE_DB"]):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            for key in (
                "AIRFLOW_DB_USER",
                "WAREHOUSE_ADMIN_USER",
                "WAREHOUSE_ETL_USER",
                "WAREHOUSE_BI_USER",
            ):
                conn.execute(text(f'DROP ROLE IF EXISTS "{names[key]}"'))
        admin.dispose()


def _url(init: dict[str, str], user_key: str, password_key: str, db_key: str) -> str:
    return (
        make_url(init["server"])
        .set(
            drivername="postgresql",
            username=init[user_key],
            password=init[password_key],
            database=init[db_key],
        )
        .render_as_string(hide_password=False)
    )


def test_init_script_on_a_real_server_lets_each_user_do_its_part(
    initialised: dict[str, str], catalog: Catalog, tmp_path: Path
) -> None:
    i = initialised
    admin_url = _url(i, "WAREHOUSE_ADMIN_USER", "WAREHOUSE_ADMIN_PASSWORD", "WAREHOUSE_DB")
    etl_url = _url(i, "WAREHOUSE_ETL_USER", "WAREHOUSE_ETL_PASSWORD", "WAREHOUSE_DB")
    bi_url = _url(i, "WAREHOUSE_BI_USER", "WAREHOUSE_BI_PASSWORD", "WAREHOUSE_DB")
    engines = [make_engine(u) for u in (admin_url, etl_url, bi_url)]
    admin, etl, bi = engines
    try:
        with admin.connect() as conn:
            members = set(
                conn.execute(
                    text(
                        "SELECT g.rolname, u.rolname, g.rolcanlogin, u.rolcanlogin FROM pg_auth_members m "
                        "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
                        "WHERE u.rolname = ANY(:u)"
                    ),
                    {
                        "u": [
                            i["WAREHOUSE_ADMIN_USER"],
                            i["WAREHOUSE_ETL_USER"],
                            i["WAREHOUSE_BI_USER"],
                        ]
                    },
                ).all()
            )
        assert members == {
            (roles.OWNER, i["WAREHOUSE_ADMIN_USER"], False, True),
            (roles.LOADER, i["WAREHOUSE_ETL_USER"], False, True),
            (roles.READER, i["WAREHOUSE_BI_USER"], False, True),
        }
        # airflow-init's two commands, as its users: Airflow's schema, then the warehouse's
        airflow_url = _url(i, "AIRFLOW_DB_USER", "AIRFLOW_DB_PASSWORD", "AIRFLOW_DB")
        bin_dir = Path(sys.executable).parent
        base = {
            **os.environ,
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_url.replace(
                "postgresql://", "postgresql+psycopg2://", 1
            ),
        }
        for argv, url in (
            ([str(bin_dir / "airflow"), "db", "migrate"], None),
            ([str(bin_dir / "serasan"), "warehouse", "upgrade"], admin_url),
            ([str(bin_dir / "serasan"), "warehouse", "upgrade"], etl_url),
        ):
            env = {**base, **({"SERASAN_WAREHOUSE_URL": url} if url else {})}
            run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, f"{' '.join(argv[1:])} as {url}: {run.stderr[-2000:]}"
        with admin.connect() as conn:
            owners = dict(
                conn.execute(
                    text(
                        "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                        "WHERE nspname = ANY(:s)"
                    ),
                    {"s": list(LAYERS)},
                ).all()
            )
        assert owners == dict.fromkeys(LAYERS, roles.OWNER)
        assert upgrade(etl, catalog) == []  # the DAGs' user only checks: the schema is current
        with etl.begin() as conn:  # merges stage in temporary tables
            conn.execute(text("CREATE TEMPORARY TABLE t (x int)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.execute(text("SELECT count(*) FROM meta.load_run")).scalar()
        with bi.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM mart.kpi_value")).scalar() == 0
        with pytest.raises(DBAPIError) as denied, bi.connect() as conn:
            conn.execute(text("SELECT count(*) FROM meta.load_run"))
        assert denied.value.orig.sqlstate == "42501"
        af = make_engine(airflow_url)
        engines.append(af)
        with af.connect() as conn:  # migrated as, and owned by, the airflow user
            assert (
                conn.execute(
                    text("SELECT tableowner FROM pg_tables WHERE tablename = 'dag_run'")
                ).scalar()
                == i["AIRFLOW_DB_USER"]
            )
        stranger = make_engine(
            _url(i, "WAREHOUSE_ETL_USER", "WAREHOUSE_ETL_PASSWORD", "AIRFLOW_DB")
        )
        engines.append(stranger)
        with pytest.raises(DBAPIError, match="CONNECT"), stranger.connect():
            pass
    finally:
        for eng in engines:
            eng.dispose()


def test_init_script_refuses_missing_short_or_placeholder_passwords() -> None:
    env = {
        "PATH": os.environ["PATH"],
        "AIRFLOW_DB_PASSWORD": "short",
        "WAREHOUSE_ADMIN_PASSWORD": "change-me-warehouse-admin",
        "WAREHOUSE_ETL_PASSWORD": "long-enough-password",
        "PGHOST": "/nonexistent",
    }
    run = subprocess.run(
        ["bash", str(PG_INIT)], env=env, capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 2
    assert "AIRFLOW_DB_PASSWORD is shorter than 12 characters" in run.stderr
    assert "WAREHOUSE_ADMIN_PASSWORD is still the placeholder" in run.stderr
    assert "WAREHOUSE_BI_PASSWORD is not set" in run.stderr


# ------------------------------------------------------------------ MinIO


def _policy_bucket(doc: dict[str, Any]) -> set[str]:
    return {
        r.removeprefix("arn:aws:s3:::").split("/")[0]
        for s in doc["Statement"]
        for r in s["Resource"]
    }


def test_minio_init_applies_the_catalogs_inbox_policies(
    services: dict[str, dict[str, Any]], catalog: Catalog
) -> None:
    users = sorted(
        inbox_user(load_validated_catalog(), kode, opd.code)
        for kode, reg in catalog.regencies.items()
        for opd in reg.opds
    )
    files = sorted(p.name for p in POLICY_DIR.glob("*.json"))
    assert files == sorted(f"{POLICY_PREFIX}{u}.json" for u in users), (
        "docker/minio/policies/ is not one file per OPD: run `serasan inbox policies`"
    )
    init = services["minio-init"]
    env = _env(init)
    inbox_vars = {k for k in env if k.startswith("SERASAN_INBOX_PASSWORD_")}
    assert inbox_vars == {
        "SERASAN_INBOX_PASSWORD_" + u.upper().replace("-", "_") for u in users
    }  # the names apply-policies.sh derives
    bucket = env["LAKE_BUCKET"]
    for f in POLICY_DIR.glob("*.json"):
        assert _policy_bucket(json.loads(f.read_text())) == {bucket}, f.name
    backup_bucket = _resolved_env(init)["BACKUP_BUCKET"]
    assert backup_bucket and backup_bucket != bucket
    assert _policy_bucket(json.loads(PIPELINE_POLICY.read_text())) == {bucket, backup_bucket}
    assert _env(services["airflow-worker"])["SERASAN_LAKE_URL"] == f"s3://{bucket}"
    assert "./minio:/serasan/minio:ro" in init["volumes"]
    assert init["entrypoint"] == ["bash", "/serasan/minio/init.sh"]
    assert urlsplit(env["MINIO_URL"]).hostname == "minio"
    assert "apply-policies.sh" in MINIO_INIT.read_text()
    pipeline = _resolved_env(init)
    common = _resolved_env(services["airflow-worker"])
    assert (pipeline["PIPELINE_ACCESS_KEY"], pipeline["PIPELINE_SECRET_KEY"]) == (
        common["SERASAN_S3_ACCESS_KEY"],
        common["SERASAN_S3_SECRET_KEY"],
    )


FAKE_MC = """#!/usr/bin/env bash
# records each call: argv, then what came on stdin (credentials must come that way)
stdin=""
if [ "$1" = alias ] || [ "$2 $3" = "user add" ]; then stdin="$(cat)"; fi
printf '%s\\t%s\\n' "$*" "${stdin//$'\\n'/|}" >> "$FAKE_MC_LOG"
"""


def _fake_mc(tmp_path: Path) -> Path:
    fake = tmp_path / "mc"
    fake.write_text(FAKE_MC)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return fake


def test_minio_init_script_sets_up_bucket_pipeline_and_opds(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    values = {
        k: (f"secret-{uuid.uuid4().hex[:10]}" if "change-me" in v else v)
        for k, v in _env_example().items()
    }
    values["SERASAN_S3_ACCESS_KEY"] = "serasan-pipeline"
    env = {
        "PATH": os.environ["PATH"],
        "MC": str(_fake_mc(tmp_path)),
        "FAKE_MC_LOG": str(tmp_path / "log"),
        **_resolved_env(services["minio-init"], values),
    }
    run = subprocess.run(
        ["bash", str(MINIO_INIT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    calls = [line.split("\t") for line in (tmp_path / "log").read_text().splitlines()]
    argv = [c[0] for c in calls]
    secrets_ = [
        v
        for k, v in env.items()  # access keys are user names: they are arguments
        if _secret_looking(k) and not k.endswith("ACCESS_KEY")
    ]
    assert not [a for a in argv for s in secrets_ if s in a], "a secret reached mc's argv"
    assert calls[0] == [
        "alias set serasan-admin http://minio:9000",
        f"{values['MINIO_ROOT_USER']}|{values['MINIO_ROOT_PASSWORD']}",
    ]
    assert argv[1:8] == [
        "mb --ignore-existing serasan-admin/serasan-lake",
        "version enable serasan-admin/serasan-lake",  # two uploads of one name: two versions
        "ilm rule add --noncurrent-expire-days 30 serasan-admin/serasan-lake",
        "mb --ignore-existing serasan-admin/serasan-backup",
        f"admin policy create serasan-admin serasan-pipeline {PIPELINE_POLICY}",
        "admin user add serasan-admin serasan-pipeline",
        "admin policy attach serasan-admin serasan-pipeline --user serasan-pipeline",
    ]
    assert calls[6][1] == values["SERASAN_S3_SECRET_KEY"]
    opd_policies = [
        a for a in argv if a.startswith(f"admin policy create serasan-admin {POLICY_PREFIX}")
    ]
    assert len(opd_policies) == len(list(POLICY_DIR.glob("*.json")))


def test_minio_init_script_refuses_placeholders_before_calling_mc(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "MC": str(_fake_mc(tmp_path)),
        "FAKE_MC_LOG": str(tmp_path / "log"),
        **_resolved_env(services["minio-init"]),
    }
    run = subprocess.run(
        ["bash", str(MINIO_INIT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert "MINIO_ROOT_PASSWORD is still the placeholder" in run.stderr
    assert "SERASAN_INBOX_PASSWORD_MUARAENIM_DLH is still the placeholder" in run.stderr
    assert not (tmp_path / "log").exists()


@pytest.fixture(scope="module")
def pipeline_s3() -> Iterator[tuple[str, dict[str, str]]]:
    """moto_server enforcing IAM: the lake bucket, the backup bucket, another bucket, and the
    pipeline's user with docker/minio/pipeline-policy.json (moto applies IAM user policies to S3
    requests)."""
    with moto_server(INITIAL_NO_AUTH_ACTION_COUNT="1000") as endpoint:
        url = f"http://{endpoint}"
        root = dict(
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        s3, iam = boto3.client("s3", **root), boto3.client("iam", **root)
        for bucket in ("serasan-lake", "serasan-backup", "other-bucket"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket="other-bucket", Key="x.csv", Body=b"a\n")
        iam.create_user(UserName="serasan-pipeline")
        iam.put_user_policy(
            UserName="serasan-pipeline",
            PolicyName="serasan-pipeline",
            PolicyDocument=PIPELINE_POLICY.read_text(),
        )
        made = iam.create_access_key(UserName="serasan-pipeline")["AccessKey"]
        httpx.post(f"{url}/moto-api/reset-auth", content=b"0").raise_for_status()
        yield endpoint, {"id": made["AccessKeyId"], "secret": made["SecretAccessKey"]}


def test_pipeline_policy_lets_the_lake_work_and_nothing_more(
    pipeline_s3: tuple[str, dict[str, str]],
) -> None:
    endpoint, keys = pipeline_s3
    # create_bucket=False: moto authorizes HEAD bucket as "s3:HeadBucket", which is no IAM
    # action (MinIO and AWS check s3:ListBucket, which the policy grants); MinIO refuses
    # policies with unknown actions, so the policy cannot name it
    lake = S3Lake(
        bucket="serasan-lake",
        endpoint=endpoint,
        access_key=keys["id"],
        secret_key=keys["secret"],
        create_bucket=False,
    )
    big = os.urandom(6 * 1024 * 1024)  # over 5 MiB: a multipart upload
    lake.put("raw/ds/abc/big.bin", big)
    lake.put("raw/ds/abc/x.csv", b"a,b\n1,2\n", overwrite=False)
    assert lake.get("raw/ds/abc/x.csv") == b"a,b\n1,2\n" and lake.exists("raw/ds/abc/x.csv")
    assert lake.size("raw/ds/abc/big.bin") == len(big)
    with lake.fetch("raw/ds/abc/big.bin") as path:
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(big).digest()
    assert lake.list("raw/") == ["raw/ds/abc/big.bin", "raw/ds/abc/x.csv"]
    # Presigned links carry the signer's rights (GetObject, PutObject: granted above); they are
    # not requested here because moto answers presigned requests with a 500 once IAM is on.
    assert "X-Amz-Signature=" in lake.presigned_get("raw/ds/abc/x.csv")
    key = "inbox/muaraenim-dlh/muaraenim_timbulan_sampah/upload.csv"
    assert "X-Amz-Signature=" in (upload_link(lake, key, hours=1) or "")
    lake.delete("raw/ds/abc/x.csv")  # retention deletes
    assert not lake.exists("raw/ds/abc/x.csv")
    client = Minio(
        endpoint=endpoint,
        access_key=keys["id"],
        secret_key=keys["secret"],
        secure=False,
        region="us-east-1",
    )
    for what, call in {
        "list buckets": lambda: client.list_buckets(),
        "read another bucket": lambda: client.get_object(
            bucket_name="other-bucket", object_name="x.csv"
        ),
        "write another bucket": lambda: client.put_object(
            bucket_name="other-bucket", object_name="y.csv", data=io.BytesIO(b"y"), length=1
        ),
        "create a bucket": lambda: client.make_bucket(bucket_name="new-bucket"),
    }.items():
        with pytest.raises(S3Error) as err:
            call()
        assert err.value.code == "AccessDenied", what


def test_pipeline_policy_lets_the_backup_copy_the_lake_and_nothing_more(
    pipeline_s3: tuple[str, dict[str, str]],
) -> None:
    """serasan/backup.py's own lake copy into the backup bucket, with the pipeline's keys (what
    serasan__backup does on the stack): allowed; deleting there, or another bucket: refused."""
    endpoint, keys = pipeline_s3
    creds = dict(
        endpoint=endpoint, access_key=keys["id"], secret_key=keys["secret"], create_bucket=False
    )  # see the test above: HEAD bucket is no IAM action
    lake = S3Lake(bucket="serasan-lake", **creds)
    target = S3Lake(bucket="serasan-backup", **creds)
    big = os.urandom(6 * 1024 * 1024)  # a multipart upload into the backup bucket
    lake.put("exports/bk/big.bin", big)
    lake.put("exports/bk/small.csv", b"a\n1\n")
    first = backup_lake(lake, target, day="2026-01-02")
    assert {"exports/bk/big.bin", "exports/bk/small.csv"} <= set(first["copied"])
    assert target.get("exports/bk/big.bin") == big
    assert target.exists(first["manifest"]) and lake.exists(first["manifest"])
    again = backup_lake(lake, target, day="2026-01-02")
    assert again["copied"] == [] and again["unchanged"] == again["objects"]
    client = Minio(
        endpoint=endpoint,
        access_key=keys["id"],
        secret_key=keys["secret"],
        secure=False,
        region="us-east-1",
    )
    for what, call in {
        "write another bucket": lambda: client.put_object(
            bucket_name="other-bucket", object_name="z.csv", data=io.BytesIO(b"z"), length=1
        ),
        "list another bucket": lambda: list(client.list_objects(bucket_name="other-bucket")),
    }.items():
        with pytest.raises(S3Error) as err:
            call()
        assert err.value.code == "AccessDenied", what
    assert target.exists("exports/bk/small.csv")
    # retention prunes old dumps and deleted personal data in the backup bucket too
    client.remove_object(bucket_name="serasan-backup", object_name="exports/bk/small.csv")
    assert not target.exists("exports/bk/small.csv")


def test_iam_enforcement_is_on(pipeline_s3: tuple[str, dict[str, str]]) -> None:
    """Without this, the test above could pass on moto's free unauthenticated requests."""
    endpoint, _ = pipeline_s3
    root = boto3.client(
        "s3",
        endpoint_url=f"http://{endpoint}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with pytest.raises(ClientError) as err:
        root.list_objects_v2(Bucket="serasan-lake")
    assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"


# ------------------------------------------------------------------ metrics


def test_statsd_exporter_reads_a_valid_mapping(services: dict[str, dict[str, Any]]) -> None:
    exporter = services["statsd-exporter"]
    assert "./statsd/mapping.yml:/etc/statsd-exporter/mapping.yml:ro" in exporter["volumes"]
    assert "--statsd.mapping-config=/etc/statsd-exporter/mapping.yml" in _command(exporter)
    mappings = _load(STATSD_MAPPING)["mappings"]
    assert mappings
    for m in mappings:
        assert m["match"].startswith("airflow.")  # AIRFLOW__METRICS__STATSD_PREFIX
        assert re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", m["name"]), m
        stars = m["match"].count("*")
        for label, value in (m.get("labels") or {}).items():
            assert re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label), m
            refs = [int(n) for n in re.findall(r"\$(\d+)", value)]
            assert all(1 <= n <= stars for n in refs), m
    prefix = _env(services["airflow-worker"])["AIRFLOW__METRICS__STATSD_PREFIX"]
    assert prefix == "airflow"


# ------------------------------------------------------------------ backups


def test_backups_are_the_dags_with_a_backup_bucket_of_their_own(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """One mechanism: serasan/backup.py, as the serasan__backup DAG on the workers; no backup
    service or volume of the stack's own. Its target is the bucket minio-init creates."""
    assert not [n for n in services if n.startswith("backup")], "backups are the DAG's job"
    assert not (DOCKER / "backup").exists()
    init = _resolved_env(services["minio-init"])
    bucket, lake_bucket = init["BACKUP_BUCKET"], init["LAKE_BUCKET"]
    policy = json.loads(PIPELINE_POLICY.read_text())
    assert bucket in _policy_bucket(policy) and bucket != lake_bucket
    for name in AIRFLOW_SERVICES:
        env = _resolved_env(services[name])
        assert env["SERASAN_BACKUP_LAKE_URL"] == f"s3://{bucket}", name
        settings = Settings.from_env(env)
        target = target_settings(settings, env)
        assert target is not None and target.lake_url == f"s3://{bucket}"
        # empty SERASAN_BACKUP_S3_*: the stack's MinIO, with the pipeline's keys
        assert (
            target.s3_endpoint,
            target.s3_access_key,
            target.s3_secret_key,
            target.s3_secure,
        ) == (
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key,
            settings.s3_secure,
        )
        override = {
            **env,
            "SERASAN_BACKUP_S3_ENDPOINT": "backup-host:9000",
            "SERASAN_BACKUP_S3_SECURE": "true",
            "SERASAN_BACKUP_S3_ACCESS_KEY": "bk",
            "SERASAN_BACKUP_S3_SECRET_KEY": "bk-secret",
        }
        other = target_settings(Settings.from_env(override), override)
        assert other is not None and (
            other.s3_endpoint,
            other.s3_access_key,
            other.s3_secret_key,
            other.s3_secure,
        ) == ("backup-host:9000", "bk", "bk-secret", True)


def test_minio_init_refuses_a_backup_bucket_the_policy_does_not_allow(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    values = {
        k: (f"secret-{uuid.uuid4().hex[:10]}" if "change-me" in v else v)
        for k, v in _env_example().items()
    }
    base = {
        "PATH": os.environ["PATH"],
        "MC": str(_fake_mc(tmp_path)),
        "FAKE_MC_LOG": str(tmp_path / "log"),
        **_resolved_env(services["minio-init"], values),
    }
    for bucket, message in (
        ("elsewhere", "pipeline-policy.json does not name the bucket elsewhere"),
        (base["LAKE_BUCKET"], "BACKUP_BUCKET must differ from LAKE_BUCKET"),
    ):
        run = subprocess.run(
            ["bash", str(MINIO_INIT)],
            env={**base, "BACKUP_BUCKET": bucket},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 2 and message in run.stderr, run.stderr
    assert not (tmp_path / "log").exists()


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    out = []
    for line in re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8")).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), " ".join(rest.split())))
    return out


def test_the_image_has_a_postgresql_client_for_the_backup_dag(
    services: dict[str, dict[str, Any]],
) -> None:
    steps = _instructions(DOCKERFILE)
    apt = [i for i, (op, args) in enumerate(steps) if op == "RUN" and "apt-get install" in args]
    assert len(apt) == 1, "docker/Dockerfile must install the PostgreSQL client with apt-get"
    run = steps[apt[0]][1]
    majors = [int(m) for m in re.findall(r"(?<![\w-])postgresql-client-(\d+)(?![\w.-])", run)]
    server = re.fullmatch(r"postgres:(\d+)(?:[.-]\S*)?", services["postgres"]["image"])
    assert server, services["postgres"]["image"]
    assert majors and min(majors) >= max(MIN_PG_CLIENT, int(server.group(1))), (
        f"pg_dump must be of PostgreSQL {MIN_PG_CLIENT}+ and the server's major or newer: {run}"
    )
    assert "apt-get update" in run and "--no-install-recommends" in run
    assert "rm -rf /var/lib/apt/lists/*" in run
    users = [(i, args) for i, (op, args) in enumerate(steps) if op == "USER"]
    before = [args for i, args in users if i < apt[0]]
    after = [args for i, args in users if i > apt[0]]
    assert before and before[-1] == "root", "apt-get runs as root"
    assert after and after[0] == "airflow" and users[-1][1] == "airflow", (
        "the image must switch back to USER airflow"
    )
    check = [args for op, args in steps if op == "RUN" and "python -c" in args]
    assert check and "pg_dump --version" in check[-1], "the build must prove pg_dump runs"


def test_the_backup_dag_can_dump_as_the_etl_user_and_the_drill_restores(
    initialised: dict[str, str], catalog: Catalog, tmp_path: Path
) -> None:
    """What serasan__backup runs on the stack (pg_dump as serasan_etl, the workers' warehouse
    user) and docker/README.md's restore drill (a database owned by serasan_owner, restored by
    serasan_admin, then `serasan warehouse upgrade`), with the users init.sh makes."""
    i = initialised
    admin_url = _url(i, "WAREHOUSE_ADMIN_USER", "WAREHOUSE_ADMIN_PASSWORD", "WAREHOUSE_DB")
    etl_url = _url(i, "WAREHOUSE_ETL_USER", "WAREHOUSE_ETL_PASSWORD", "WAREHOUSE_DB")
    admin = make_engine(admin_url)
    try:
        upgrade(admin, catalog)
    finally:
        admin.dispose()
    lake = LocalLake(tmp_path / "lake")
    settings = Settings.from_env(
        {
            "SERASAN_HOME": str(tmp_path),
            "SERASAN_LAKE_URL": str(tmp_path / "lake"),
            "SERASAN_WAREHOUSE_URL": etl_url,
        }
    )
    manifest = dump_warehouse(settings, lake, day="2026-01-02")
    assert manifest["user"] == i["WAREHOUSE_ETL_USER"] and manifest["tables"]
    drill = f"serasan_t_drill_{uuid.uuid4().hex[:8]}"
    server = create_engine(make_url(i["server"]), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:  # docker compose exec postgres createdb -O serasan_owner
            conn.execute(text(f'CREATE DATABASE "{drill}" OWNER {roles.OWNER}'))
        drill_url = make_url(admin_url).set(database=drill).render_as_string(hide_password=False)
        result = restore("2026-01-02", drill_url, lake=lake)
        assert result["equal"], result["differences"]
        restored = make_engine(drill_url)
        try:
            upgrade(restored, catalog)  # hands the restored objects back to serasan_owner
            with restored.connect() as conn:
                owners = set(
                    conn.execute(
                        text(
                            "SELECT DISTINCT pg_get_userbyid(nspowner) FROM pg_namespace "
                            "WHERE nspname = ANY(:s)"
                        ),
                        {"s": list(LAYERS)},
                    ).scalars()
                )
        finally:
            restored.dispose()
        assert owners == {roles.OWNER}
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{drill}" WITH (FORCE)'))
        server.dispose()


# ------------------------------------------------------------------ a worker on another host


def _hosts_in(env: dict[str, str]) -> set[str]:
    """Every host name an Airflow service's environment points at."""
    hosts = set()
    for key, value in env.items():
        if "://" in value and not value.startswith("s3://"):  # s3://<bucket> names no host
            hosts.add(urlsplit(value).hostname or "")
        elif key.endswith(("_HOST", "_ENDPOINT")) and value:
            hosts.add(value.split(":")[0])
    return hosts - {""}


def test_every_host_the_airflow_services_use_is_a_service(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in AIRFLOW_SERVICES:
        hosts = _hosts_in(_resolved_env(services[name]))
        assert hosts <= set(services), f"{name} points at {sorted(hosts - set(services))}"


def test_worker_override_reaches_every_service_on_the_main_host(
    services: dict[str, dict[str, Any]],
) -> None:
    override = _load(WORKER_OVERRIDE)["services"]
    assert set(override) == {"airflow-worker"}
    worker = override["airflow-worker"]
    mapped = {entry.split(":", 1)[0] for entry in worker["extra_hosts"]}
    env = _resolved_env(services["airflow-worker"])
    needed = _hosts_in(env)
    assert needed == mapped, f"not mapped to the main host: {sorted(needed - mapped)}"
    # ... and the main host publishes the port each of them is used on
    wanted = {
        "postgres": "5432",
        "redis": "6379",
        "minio": "9000",
        "airflow-apiserver": "8080",
        "mailpit": "1025",
        "statsd-exporter": f"{env['AIRFLOW__METRICS__STATSD_PORT']}/udp",
    }
    assert set(wanted) == needed
    for host, port in wanted.items():
        assert port in _published(services[host]), f"{host} does not publish {port}"
    from airflow.configuration import conf

    log_port = conf.get("logging", "worker_log_server_port")
    assert f"{log_port}:{log_port}" in worker["ports"]
    assert "hostname" in worker
