"""Runtime settings from the environment; one place decides which backend each port uses.

Secrets (S3 keys, database passwords) are read here and never printed: `describe()` masks them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from serasan.paths import DEFAULT_HOME


@dataclass(frozen=True)
class Settings:
    lake_url: str
    warehouse_url: str
    s3_endpoint: str | None = None
    s3_access_key: str | None = field(default=None, repr=False)
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    lang: str = "id"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, home: Path | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("SERASAN_HOME", home or DEFAULT_HOME))
        endpoint = env.get("SERASAN_S3_ENDPOINT") or None
        return cls(
            lake_url=env.get("SERASAN_LAKE_URL") or str(home / "lake"),
            warehouse_url=env.get("SERASAN_WAREHOUSE_URL") or f"sqlite:///{home / 'warehouse.db'}",
            s3_endpoint=endpoint,
            s3_access_key=env.get("SERASAN_S3_ACCESS_KEY") or None,
            s3_secret_key=env.get("SERASAN_S3_SECRET_KEY") or None,
            s3_region=env.get("SERASAN_S3_REGION", "us-east-1"),
            s3_secure=env.get("SERASAN_S3_SECURE", "false").lower() in ("1", "true", "yes"),
            lang=env.get("SERASAN_LANG", "id"),
        )

    def as_env(self) -> dict[str, str]:
        """The same settings as environment variables, for a child process or a DAG run."""
        env = {"SERASAN_LAKE_URL": self.lake_url, "SERASAN_WAREHOUSE_URL": self.warehouse_url,
               "SERASAN_S3_REGION": self.s3_region, "SERASAN_LANG": self.lang,
               "SERASAN_S3_SECURE": "true" if self.s3_secure else "false"}
        for key, value in (("SERASAN_S3_ENDPOINT", self.s3_endpoint),
                           ("SERASAN_S3_ACCESS_KEY", self.s3_access_key),
                           ("SERASAN_S3_SECRET_KEY", self.s3_secret_key)):
            if value:
                env[key] = value
        return env

    def describe(self) -> str:
        """Human summary with the password of the warehouse URL masked."""
        wh = make_url(self.warehouse_url).render_as_string(hide_password=True)
        lake = self.lake_url + (f" via {self.s3_endpoint}" if self.s3_endpoint else "")
        return f"lake: {lake}\nwarehouse: {wh}"
