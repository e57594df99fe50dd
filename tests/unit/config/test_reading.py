"""The catalog's reading fields (`na_values`, `dash`, `thousands_dot_lost`, `period.constant`,
`period.from_filename`) as `serasan catalog validate` checks them, and period text."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from serasan.cli.main import main
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.reading import format_period, parse_period, period_from_groups

DS = "muaraenim_produksi_karet"  # tahun (integer, year), jumlah_petani (integer), luas (number)


def _validate(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    cat, exp = tmp_path / "catalog", tmp_path / "expectations"
    shutil.copytree(CATALOG_DIR, cat)
    shutil.copytree(EXPECTATIONS_DIR, exp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = cat / "datasets" / f"{DS}.yaml"
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    try:
        code = main(["--catalog", str(cat), "--expectations", str(exp), "catalog", "validate"])
    except SystemExit as exc:  # a catalog that does not load exits at once
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def _column(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["columns"] if c["name"] == name)


def _period(**kw: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["period"].update(kw)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_period(constant="2021-03"), "period.constant: '2021-03' is not a year period"),
        (_period(constant="21"), "period.constant: '21' is not a year period"),
        (
            _period(constant="2021", from_filename=r"(?P<year>\d{4})"),
            "period: give the period by one of column (the file's own), constant or "
            "from_filename, not both constant and from_filename",
        ),
        (
            _period(from_filename=r"(\d{4})"),
            "period.from_filename: a year period needs the named group(s) (?P<year>...)",
        ),
        (_period(from_filename=r"(?P<year>\d{4}"), "period.from_filename: not a regular"),
        (
            lambda d: _column(d, "luas_tm_ha").update(thousands_dot_lost=True),
            "columns.luas_tm_ha.thousands_dot_lost: only an integer column",
        ),
        (
            lambda d: _column(d, "kode_kecamatan").update(dash="zero"),
            "columns.kode_kecamatan.dash: only a number column can read '-' as zero",
        ),
        (lambda d: d.update(na_values=["NA", "-"]), "na_values: ['-'] cannot be an empty marker"),
        (lambda d: d.update(dash="nol"), "dash: Input should be 'empty' or 'zero'"),
    ],
)
def test_catalog_validate_names_a_wrong_reading_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mutate: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    code, out = _validate(tmp_path, mutate, capsys)
    assert code == 1
    assert f"{DS}.yaml" in out and expected in out, out


@pytest.mark.parametrize(
    "mutate",
    [
        _period(constant="2021"),
        _period(from_filename=r"karet_(?P<year>\d{4})"),
        lambda d: d.update(na_values=["NA", "tidak ada"], dash="zero"),
        lambda d: _column(d, "jumlah_petani").update(thousands_dot_lost=True, dash="empty"),
    ],
)
def test_catalog_validate_accepts_the_reading_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Callable[[dict[str, Any]], None]
) -> None:
    code, out = _validate(tmp_path, mutate, capsys)
    assert code == 0, out


@pytest.mark.parametrize(
    ("text", "granularity", "day"),
    [
        ("2021", "year", dt.date(2021, 1, 1)),
        ("2021-Q3", "quarter", dt.date(2021, 7, 1)),
        ("2021q1", "quarter", dt.date(2021, 1, 1)),
        ("2021-03", "month", dt.date(2021, 3, 1)),
        ("2021-03-31", "day", dt.date(2021, 3, 31)),
    ],
)
def test_period_text_round_trips(text: str, granularity: str, day: dt.date) -> None:
    assert parse_period(text, granularity) == day
    assert parse_period(format_period(day, granularity), granularity) == day


@pytest.mark.parametrize(
    ("text", "granularity"),
    [("2021", "month"), ("2021-13", "month"), ("2021-02-30", "day"), ("2021-Q5", "quarter")],
)
def test_period_text_of_another_granularity_is_refused(text: str, granularity: str) -> None:
    with pytest.raises(ValueError, match=granularity):
        parse_period(text, granularity)


def test_period_from_file_name_groups_reads_month_names() -> None:
    assert period_from_groups({"year": "2025", "month": "Maret"}, "month") == dt.date(2025, 3, 1)
    assert period_from_groups({"year": "2025", "month": "agu"}, "month") == dt.date(2025, 8, 1)
    assert period_from_groups({"year": "2025", "quarter": "Q2"}, "quarter") == dt.date(2025, 4, 1)
    with pytest.raises(ValueError, match="month"):
        period_from_groups({"year": "2025", "month": "Smarch"}, "month")
