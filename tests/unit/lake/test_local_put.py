"""The folder lake writes through a temp file and a rename: a write that fails part-way (a full
disk, Ctrl-C) leaves neither a half-written object nor a stray temp file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from serasan.lake.store import LocalLake


def test_a_failed_write_leaves_no_temp_file_and_the_old_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = LocalLake(tmp_path)
    lake.put("raw/x/a.csv", b"old")

    def interrupted(src: str, dst: str) -> None:  # the rename never happens
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lake.put("raw/x/a.csv", b"new")
    monkeypatch.undo()
    assert lake.get("raw/x/a.csv") == b"old"
    assert sorted(p.name for p in (tmp_path / "raw" / "x").iterdir()) == ["a.csv"]


def test_a_write_that_cannot_start_leaves_nothing(tmp_path: Path) -> None:
    lake = LocalLake(tmp_path)
    with pytest.raises(TypeError):
        lake.put("raw/y/b.csv", "not bytes")  # type: ignore[arg-type]
    assert list((tmp_path / "raw" / "y").iterdir()) == []
    assert lake.list("raw/") == []
