"""Backups: the last warehouse dump and the last copy of the lake."""

from __future__ import annotations

import datetime as dt
from typing import Any

from serasan.admin.doctor.report import Check
from serasan.common.clock import JAKARTA
from serasan.config.settings import Settings, safe_url

BACKUP_MAX_AGE_DAYS = 2  # the backup DAG runs daily: older than this, it has stopped


def check_backups(settings: Settings, lake_ok: bool, env: Any = None) -> Check:

    from serasan.admin import backup
    from serasan.lake.store import open_lake

    if not lake_ok:
        return Check("backups", "warn", "backups not checked: the lake cannot be used")
    lake = open_lake(settings)
    today = dt.datetime.now(JAKARTA).date()
    dumps = backup.list_dumps(lake)
    target = backup.target_settings(settings, env)
    lake_days = sorted(
        k.split("/")[2] for k in lake.list(backup.LAKE_PREFIX) if k.endswith("/manifest.json")
    )
    info = {
        "last_dump": dumps[-1] if dumps else None,
        "last_lake_backup": lake_days[-1] if lake_days else None,
        "target": safe_url(target.lake_url)
        if target and "://" in target.lake_url
        else target.lake_url
        if target
        else None,
    }
    problems = []
    if not dumps:
        problems.append(
            "no warehouse dump in the lake yet (run `serasan backup`, and switch on "
            "the serasan__backup DAG)"
        )
    elif (today - dt.date.fromisoformat(dumps[-1]["day"])).days > BACKUP_MAX_AGE_DAYS:
        problems.append(
            f"the last warehouse dump is from {dumps[-1]['day']}: is the "
            "serasan__backup DAG running?"
        )
    if target is None:
        problems.append(
            f"{backup.TARGET_ENV} is not set, so the lake's objects are not backed up anywhere"
        )
    elif not lake_days or (today - dt.date.fromisoformat(lake_days[-1])).days > BACKUP_MAX_AGE_DAYS:
        problems.append(
            f"the lake was last copied to {info['target']} on "
            f"{lake_days[-1] if lake_days else 'no day yet'}"
        )
    if problems:
        return Check("backups", "warn", "; ".join(problems), info)
    return Check(
        "backups",
        "ok",
        f"last warehouse dump {dumps[-1]['day']} "
        f"({dumps[-1]['key']}, {dumps[-1]['size_bytes']} bytes); lake copied to "
        f"{info['target']} on {lake_days[-1]}",
        info,
    )
