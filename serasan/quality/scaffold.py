"""A starting GX suite for a dataset, written from its catalog declarations.

`serasan suite scaffold --dataset ID` writes it; a data engineer then reviews it like code (adds
ranges the catalog cannot know, e.g. survey scores 1-4) and commits it beside the others. Every
rule gets plain words in Bahasa Indonesia (`meta.pesan`) and English (`meta.message`):

- not null, for every column declared `nullable: false`;
- the primary key unique (one column, or the combination);
- the region column: a Kemendagri code of the declared level inside the dataset's regency;
- the period column: one period of the declared granularity, from `min_date`, not after the
  run's logical date (`{"$PARAMETER": "run_date"}`);
- NIK columns (`generate.kind: nik`, or `nik` as a word of the column name): a valid NIK;
- `allowed` values: in that set;
- amounts in Rupiah (`unit: Rupiah`, or `generate.money`): non-negative money;
- other numeric measures: not negative, unless the column looks signed (a negative
  `generate.min`, or a name such as lintang/bujur/selisih/pertumbuhan).

Types are not scaffolded as rules: the parser has already given every column its catalog type
(a cell that does not fit is a rejected row, reported before validation), and GX checks a typed
pandas column's dtype as a whole, without a count of failing rows that our masks could match.
The format rules above (NIK, kode wilayah, period, money) are the per-row type checks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from serasan.common.clock import MONTH_NAMES as _BULAN
from serasan.common.clock import MONTH_NAMES_EN as _MONTHS
from serasan.config.catalog import Catalog, Column, Dataset
from serasan.quality import rules

DEFAULT_MIN_DATE = "2015-01-01"  # the warehouse's period dimension starts in January 2015
NOT_NULL = "expect_column_values_to_not_be_null"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND = "expect_compound_columns_to_be_unique"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
_NIK_NAME = re.compile(r"(^|_)nik(_|$)")
_SIGNED_NAME = re.compile(
    r"(^|_)(lat|lon|lng|latitude|longitude|lintang|bujur|suhu|selisih|"
    r"perubahan|pertumbuhan|growth|delta|saldo)(_|$)"
)
_MONEY_UNITS = {"rupiah", "rp", "idr"}


def _who(c: Column, word: str = "kolom") -> str:
    """How a message names a column: the header OPD staff see, then the column name."""
    return f"{word} '{c.label}' ({c.name})" if c.label and c.label != c.name else f"{word} {c.name}"


def _en(c: Column) -> str:
    return _who(c, "column")


def _exp(etype: str, pesan: str, message: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": etype, "kwargs": kwargs, "meta": {"pesan": pesan, "message": message}}


def is_nik(c: Column) -> bool:
    return c.type == "string" and (
        c.generate.get("kind") == "nik" or bool(_NIK_NAME.search(c.name))
    )


def is_money(c: Column) -> bool:
    return c.type in ("integer", "number") and (
        (c.unit or "").strip().lower() in _MONEY_UNITS or bool(c.generate.get("money"))
    )


def is_signed(c: Column) -> bool:
    low = c.generate.get("min")
    return (isinstance(low, int | float) and low < 0) or bool(_SIGNED_NAME.search(c.name))


def _typed(c: Column, value: str) -> Any:
    """An `allowed` entry (YAML text) as the value the parsed column holds."""
    if c.type == "integer":
        return int(value)
    if c.type == "number":
        return float(value)
    if c.type == "boolean":
        return str(value).strip().lower() in ("true", "ya", "yes", "1")
    return value


def _period_rule(ds: Dataset, c: Column, min_date: str | None) -> dict[str, Any]:
    gran = ds.period.granularity
    kwargs: dict[str, Any] = {"column": c.name, "granularity": gran}
    if min_date:
        kwargs["min_date"] = min_date
    kwargs["max_date"] = {"$PARAMETER": "run_date"}
    shape = {
        "day": ("tanggal yang sah", "a valid date"),
        "month": (
            "bulan yang ditulis sebagai tanggal 1 (mis. 1 Oktober 2026)",
            "a month, written as its first day (e.g. 1 October 2026)",
        ),
        "quarter": (
            "triwulan yang ditulis sebagai tanggal 1 Januari, April, Juli atau Oktober",
            "a quarter, written as 1 January, April, July or October",
        ),
        "year": (
            "tahun empat angka (mis. 2025)"
            if c.type == "integer"
            else "tahun yang ditulis sebagai tanggal 1 Januari",
            "a four-digit year (e.g. 2025)"
            if c.type == "integer"
            else "a year, written as 1 January",
        ),
    }[gran]
    since_id = since_en = ""
    if min_date:
        lo = rules.period_bound(min_date)
        assert lo is not None
        since_id = f"tidak sebelum {lo.day} {_BULAN[lo.month - 1]} {lo.year}, "
        since_en = f"not before {lo.day} {_MONTHS[lo.month - 1]} {lo.year}, "
        if gran == "year":
            since_id, since_en = f"tidak sebelum {lo.year}, ", f"not before {lo.year}, "
    return _exp(
        rules.IN_PERIOD,
        f"{_who(c)} harus {shape[0]}, {since_id}dan tidak di masa depan",
        f"{_en(c)} must be {shape[1]}, {since_en}and not in the future",
        **kwargs,
    )


def not_null_rule(c: Column) -> dict[str, Any]:
    """The column must not be empty."""
    return _exp(
        NOT_NULL,
        f"{_who(c)} wajib diisi, tidak boleh kosong",
        f"{_en(c)} is required and must not be empty",
        column=c.name,
    )


def key_rule(ds: Dataset) -> dict[str, Any]:
    """The primary key must be unique: one column, or the combination."""
    key = list(ds.primary_key)
    if len(key) == 1:
        kc = ds.column(key[0])
        assert kc is not None
        return _exp(
            UNIQUE,
            f"{_who(kc)} ganda: nilai yang sama sudah ada di baris lain",
            f"{_en(kc)} repeats: the same value is in another row",
            column=kc.name,
        )
    names = ", ".join(key)
    return _exp(
        COMPOUND,
        f"baris ganda: kombinasi {names} sudah ada di baris lain",
        f"duplicate key {names}: the combination is in another row",
        column_list=key,
    )


def region_rule(ds: Dataset, regency_name: str) -> dict[str, Any]:
    """The region column: a Kemendagri code of the declared level inside the dataset's area
    (its regency, or its scope)."""
    assert ds.region is not None
    c = ds.column(ds.region.column)
    assert c is not None
    level_id, level_en = rules.LEVEL_WORDS[ds.region.level]
    return _exp(
        rules.KODE_WILAYAH,
        f"{_who(c)} bukan kode {level_id} Kemendagri di {regency_name}",
        f"{_en(c)} is not a Kemendagri {level_en} code of {regency_name}",
        column=c.name,
        level=ds.region.level,
        parent=ds.area,
    )


def scaffold_suite(
    catalog: Catalog, ds: Dataset, min_date: str | None = DEFAULT_MIN_DATE
) -> dict[str, Any]:
    """The starting suite, as GX JSON (a dict), from the dataset's column declarations."""
    out: list[dict[str, Any]] = [not_null_rule(c) for c in ds.columns if not c.nullable]
    out.append(key_rule(ds))
    regency = catalog.regencies.get(ds.area)
    regency_name = regency.name if regency else rules.wilayah().get(ds.area, ("", ds.area))[1]
    for c in ds.columns:
        if ds.region is not None and c.name == ds.region.column:
            out.append(region_rule(ds, regency_name))
        elif c.name == ds.period.column:
            out.append(_period_rule(ds, c, min_date))
        elif is_nik(c):
            out.append(
                _exp(
                    rules.NIK,
                    f"{_who(c)} bukan NIK yang sah: harus 16 angka, diawali kode "
                    "provinsi, kabupaten/kota dan kecamatan yang ada, lalu tanggal lahir "
                    "(perempuan ditambah 40) dan bulan lahir yang benar",
                    f"{_en(c)} is not a valid NIK: it must be 16 digits, starting "
                    "with a real province, regency and district code, then a real day "
                    "of birth (plus 40 for women) and month of birth",
                    column=c.name,
                )
            )
        elif c.allowed:
            shown = ", ".join(c.allowed)
            out.append(
                _exp(
                    IN_SET,
                    f"{_who(c)} harus salah satu dari: {shown}",
                    f"{_en(c)} must be one of: {shown}",
                    column=c.name,
                    value_set=[_typed(c, v) for v in c.allowed],
                )
            )
        elif is_money(c):
            out.append(
                _exp(
                    rules.MONEY,
                    f"{_who(c)} harus jumlah rupiah yang tidak negatif dan masuk akal "
                    "(paling banyak Rp 1.000 triliun)",
                    f"{_en(c)} must be a rupiah amount, not negative and not "
                    "absurd (at most Rp 1,000 trillion)",
                    column=c.name,
                )
            )
        elif c.type in ("integer", "number") and not is_signed(c):
            out.append(
                _exp(
                    BETWEEN,
                    f"{_who(c)} tidak boleh negatif",
                    f"{_en(c)} must not be negative",
                    column=c.name,
                    min_value=0,
                )
            )
    return {
        "name": ds.id,
        "expectations": out,
        "meta": {
            "dataset": ds.id,
            "notes": "Scaffolded from the catalog by `serasan suite scaffold`. Review "
            "it like code: add what the catalog cannot know (ranges, "
            "cross-column rules), then keep it in expectations/.",
        },
    }


def write_suite(
    catalog: Catalog,
    ds: Dataset,
    path: Path,
    overwrite: bool = False,
    min_date: str | None = DEFAULT_MIN_DATE,
) -> Path:
    """Write the scaffolded suite as GX JSON; an existing file is kept unless `overwrite`."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} already exists; pass overwrite=True (--force) to replace it with a scaffold"
        )
    suite = scaffold_suite(catalog, ds, min_date=min_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
