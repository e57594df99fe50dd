"""Settings: what they show of themselves never includes a password or a secret key."""

from __future__ import annotations

from serasan.config.settings import Settings


def test_settings_never_show_the_password() -> None:
    s = Settings(
        lake_url="/x",
        warehouse_url="postgresql://loader:s3cret@db:5432/wh",
        s3_secret_key="topsecret",
    )
    assert "s3cret" not in s.describe()
    assert "topsecret" not in repr(s)
