"""Deterministic synthetic OPD files, driven only by the catalog.

Onboarding a dataset must stay YAML-only, so every value here comes from a column's `type`,
`allowed`, `nullable` and `generate` hints; no dataset has code of its own. The same arguments
always give the same bytes, so demos and tests are reproducible, and defects can be injected at
a chosen rate to exercise the quality gate with known answers.

Row counts: when every primary-key column has a finite domain (period values, region codes,
`allowed`/`choices`, a `seq` `pool`) rows are a sample of that product, so keys stay unique;
otherwise a `seq` (or a redrawn NIK) keeps them unique. An optional `rows: N` hint on the period
column's `generate` sets the default count.

Citizen voice: a dataset whose voice text column says `generate: {kind: review_text}` gets
reviews or complaints as citizens write them (`serasan.demo.reviews`). Given the day the file was
collected (`collected`), it is what a real export holds: reviews reach back three years and,
where the date column reads them, say when they were written as review sites do ("3 bulan
lalu"), some run over several lines, some texts give a phone number. Such a file is loaded with
that collection date (`serasan ingest --collected-on`; the demo passes it in the DAG run's
conf). Columns the parser fills (a relative date's precision) are left empty.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import random
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from serasan.common.clock import MONTH_NAMES as BULAN
from serasan.common.paths import SEED_DIR
from serasan.config.catalog import Catalog, Column, Dataset
from serasan.demo import reviews

DEFAULT_AS_OF = datetime.date(2026, 10, 31)
FORMATS = ("xlsx", "csv")
DEFECT_KINDS = (
    "unknown_region",
    "negative_amount",
    "missing_value",
    "duplicate_key",
    "malformed_nik",
    "future_date",
)
MAX_DEFAULT_ROWS = 400  # cap for datasets whose key is a finite product (e.g. month x kecamatan)
DEFAULT_ROWS = {"day": 250, "month": 150, "quarter": 150, "year": 120}  # keys without a domain
NULL_SHARE = 0.1  # share of nullable, non-key values left empty in clean data
FIXED_TIMESTAMP = datetime.datetime(2026, 1, 1)  # workbook and zip entry times: same bytes

MALE = (
    "Ahmad",
    "Muhammad",
    "M. Rizki",
    "Agus",
    "Budi",
    "Dedi",
    "Hendra",
    "Iwan",
    "Yusuf",
    "Arif",
    "Fajar",
    "Rudi",
    "Syahrial",
    "Zulkifli",
    "Herman",
    "Darmawan",
    "Ilham",
    "Joni",
    "Abdul Rahman",
    "Firdaus",
)
FEMALE = (
    "Siti",
    "Nurhayati",
    "Aisyah",
    "Dewi",
    "Rina",
    "Yuliana",
    "Fitri",
    "Sri Wahyuni",
    "Erna",
    "Maryam",
    "Nurul",
    "Ratna",
    "Lia",
    "Desi",
    "Halimah",
    "Zubaidah",
    "Wulan",
)
MALE_LAST = (
    "Pratama",
    "Saputra",
    "Hidayat",
    "Syahputra",
    "Kurniawan",
    "Wijaya",
    "Ramadhan",
    "Firmansyah",
    "Hakim",
    "Effendi",
    "Saleh",
    "Anwar",
    "Gunawan",
    "Setiawan",
)
FEMALE_LAST = (
    "Aminah",
    "Sari",
    "Lestari",
    "Wulandari",
    "Rahmawati",
    "Fitriani",
    "Handayani",
    "Puspitasari",
    "Maharani",
    "Novita",
    "Yanti",
    "Susanti",
)
MALE_TITLES = ("H.", "Kgs.", "Mgs.", "Rd.")  # Haji, Kemas, Masagus, Raden (Palembang)
FEMALE_TITLES = ("Hj.", "Nyimas", "Nyayu", "Masayu")
GROUP_PREFIX = ("Kelompok Tani", "KT", "Poktan")
GROUP_NAME = (
    "Karya Makmur",
    "Sumber Rezeki",
    "Maju Bersama",
    "Sido Makmur",
    "Tunas Harapan",
    "Mekar Jaya",
    "Karet Lestari",
    "Harapan Baru",
    "Sinar Tani",
    "Usaha Bersama",
    "Tani Jaya",
    "Sri Rejeki",
    "Mulya Abadi",
    "Berkah Tani",
    "Bina Karya",
)
PHONE_PREFIX = (
    "0811",
    "0812",
    "0813",
    "0821",
    "0822",
    "0852",
    "0853",
    "0814",
    "0815",
    "0857",
    "0858",
    "0817",
    "0818",
    "0819",
    "0877",
    "0878",
    "0896",
    "0895",
    "0838",
    "0882",
)

Row = dict[str, Any]


@dataclass(frozen=True)
class GeneratedFile:
    """One generated file: what was written, and which defects it holds (kind -> rows)."""

    dataset_id: str
    filename: str
    rows: int
    defects: dict[str, int]
    data: bytes = field(default=b"", repr=False)
    path: Path | None = None
    rows_asked: int | None = None  # `--rows`, when given
    short_because: str | None = None  # why fewer rows than asked were written

    @property
    def short(self) -> str | None:
        """One line saying that fewer rows than asked were written, and why; else None."""
        if self.rows_asked is None or self.rows >= self.rows_asked:
            return None
        return (
            f"{self.dataset_id}: {self.rows_asked} rows asked, {self.rows} written: "
            f"{self.short_because or 'no more rows fit'}"
        )


@lru_cache(maxsize=1)
def _wilayah() -> dict[str, str]:
    """Kemendagri code -> level, read once from the seed."""
    with (SEED_DIR / "wilayah.csv").open(encoding="utf-8", newline="") as fh:
        return {r["kode"]: r["level"] for r in csv.DictReader(fh)}


def _region_codes(regency: str, level: str) -> list[str]:
    return sorted(k for k, lv in _wilayah().items() if lv == level and k.startswith(regency + "."))


def _decimals(c: Column) -> int:
    default = 0 if c.type == "integer" or c.generate.get("money") else 2
    return int(c.generate.get("decimals", default))


def _id_number(value: float, decimals: int) -> str:
    """1234567.891 -> '1.234.567,89': the Indonesian format OPD spreadsheets use."""
    text = f"{abs(value):,.{decimals}f}".translate(str.maketrans(",.", ".,"))
    return ("-" if value < 0 else "") + text


def applicable_defects(ds: Dataset) -> list[str]:
    """The defect kinds that make sense for a dataset (e.g. no NIK column, no malformed NIK)."""
    has = {
        "unknown_region": ds.region is not None,
        "negative_amount": bool(_measures(ds)),
        "missing_value": bool(_required(ds)),
        "duplicate_key": True,
        "future_date": True,
        "malformed_nik": any(c.generate.get("kind") == "nik" for c in ds.columns),
    }
    return [k for k in DEFECT_KINDS if has[k]]


def _measures(ds: Dataset) -> list[Column]:
    return [
        c
        for c in ds.columns
        if c.type in ("integer", "number")
        and c.name != ds.period.column
        and c.name not in ds.primary_key
    ]


def _required(ds: Dataset) -> list[Column]:
    return [c for c in ds.columns if not c.nullable and c.name not in ds.primary_key]


class _Builder:
    """Builds one dataset's rows; `rng` makes the clean data, `drng` only the defects."""

    def __init__(
        self, ds: Dataset, seed: int, as_of: datetime.date, collected: datetime.date | None = None
    ):
        self.ds, self.as_of, self.collected = ds, as_of, collected
        self.rng = random.Random(seed + zlib.crc32(ds.id.encode()))  # hash() varies per run
        self.drng = random.Random(f"{seed}:{ds.id}:defects")
        self.key = list(ds.primary_key)
        self.period = ds.period.column
        self.region = ds.region.column if ds.region else None
        self.kecamatan = _region_codes(ds.regency, "kecamatan")
        self.start = datetime.date(as_of.year, 1, 1)
        self.domains = {c.name: self._domain(c) for c in ds.columns}
        self.cap: str | None = None  # why rows() wrote fewer rows than asked
        self.filled = {c.precision_column for c in ds.columns if c.precision_column}

    def _column(self, name: str) -> Column:
        """A column the catalog's checks guarantee is declared (the period, a key column)."""
        col = self.ds.column(name)
        assert col is not None, f"{self.ds.id}: no column {name!r}"
        return col

    def _domain(self, c: Column) -> list[Any] | None:
        """Every value a column may take, or None when it has no finite domain."""
        hints = c.generate
        if c.name == self.period:
            return self._periods(c)
        if self.ds.region is not None and c.name == self.ds.region.column:
            level = self.ds.region.level
            real = _region_codes(self.ds.regency, level)
            codes = [str(x) for x in hints.get("choices") or real]
            if not codes or set(codes) - set(real):
                raise ValueError(
                    f"{self.ds.id}: region column {c.name!r} has codes that are not "
                    f"{level} codes of regency {self.ds.regency} in the seed"
                )
            return codes
        if c.allowed:
            return list(c.allowed)
        if hints.get("choices"):
            return [str(x) for x in hints["choices"]]
        if hints.get("kind") == "seq" and hints.get("pool"):
            return [self._seq(c, i) for i in range(1, int(hints["pool"]) + 1)]
        if c.type == "boolean":
            return [True, False]
        return None

    def _periods(self, c: Column) -> list[Any]:
        g, a = self.ds.period.granularity, self.as_of
        if g == "year":
            years = range(a.year - 3, a.year)
            return list(years) if c.type == "integer" else [datetime.date(y, 1, 1) for y in years]
        if c.type != "date":
            raise ValueError(
                f"{self.ds.id}: period column {c.name!r} must be a date for granularity {g!r}"
            )
        if g == "day":
            return [self.start + datetime.timedelta(i) for i in range((a - self.start).days + 1)]
        months = range(1, a.month + 1, 3 if g == "quarter" else 1)
        return [datetime.date(a.year, m, 1) for m in months]

    @staticmethod
    def _seq(c: Column, n: int) -> str:
        return f"{c.generate.get('prefix', '')}{n:04d}"

    # --- clean rows -------------------------------------------------------------------------

    def rows(self, n: int | None) -> list[Row]:
        """Key values first (a sampled product when every key column is finite), then the rest."""
        doms = [d for k in self.key if (d := self.domains[k]) is not None]
        finite = len(doms) == len(self.key)
        hint = self._column(self.period).generate.get("rows")
        if finite:
            total = math.prod(len(d) for d in doms)
            if n is not None and n > total:
                sizes = " x ".join(f"{k} ({len(d)})" for k, d in zip(self.key, doms, strict=True))
                self.cap = (
                    f"its primary key {sizes} holds only {total} distinct keys, and every row "
                    "needs its own"
                )
            n = min(total, n if n is not None else hint or MAX_DEFAULT_ROWS)
            keys = [self._decode(i, doms) for i in sorted(self.rng.sample(range(total), n))]
        else:
            if n is None:
                default = reviews.default_rows(self.ds) or DEFAULT_ROWS[self.ds.period.granularity]
                n = int(hint or default)
            keys = [{} for _ in range(n)]
        entity = finite and any(k != self.period for k in self.key)
        static = [c.name for c in self.ds.columns if c.type == "string" and c.name not in self.key]
        memo: dict[tuple[Any, ...], Row] = {}
        seen: dict[str, set[Any]] = {
            k: set()
            for k in self.key
            if self.domains[k] is None and self._column(k).generate.get("kind") != "seq"
        }
        order = [c for c in self.ds.columns if c.name in (self.period, self.region)]
        order += [c for c in self.ds.columns if c not in order]
        rows = []
        for row in keys:
            female = self.rng.random() < 0.5
            ident = tuple(row[k] for k in self.key if k != self.period) if entity else ()
            known = memo.setdefault(ident, {})
            for c in order:
                if c.name in row:
                    continue
                if entity and c.name in static and c.name in known:
                    row[c.name] = known[c.name]
                    continue
                row[c.name] = self._unique(c, row, female, seen.get(c.name))
                if entity and c.name in static:
                    known[c.name] = row[c.name]
            rows.append(row)
        if reviews.is_voice(self.ds):
            reviews.compose(self.ds, rows, self.rng, self.as_of, self.collected)
        rows.sort(key=lambda r: r[reviews.WHEN] if reviews.WHEN in r else r[self.period])
        for c in self.ds.columns:  # sequence numbers follow the (sorted) row order
            if c.generate.get("kind") == "seq" and self.domains[c.name] is None:
                for i, row in enumerate(rows, 1):
                    row[c.name] = self._seq(c, i) if c.name in self.key or row[c.name] else None
        return rows

    def _decode(self, index: int, doms: list[Any]) -> Row:
        """The index-th combination of the key columns' domains (mixed radix)."""
        row = {}
        for name, dom in zip(reversed(self.key), reversed(doms), strict=True):
            index, pos = divmod(index, len(dom))
            row[name] = dom[pos]
        return {k: row[k] for k in self.key}

    def _unique(self, c: Column, row: Row, female: bool, seen: set[Any] | None) -> Any:
        """A value; for a key column without a domain (`seen` given), one not drawn before."""
        for _ in range(1000):
            value = self._value(c, row, female)
            if seen is None:
                return value
            if value not in seen:
                seen.add(value)
                return value
        raise ValueError(f"{self.ds.id}: cannot draw enough unique values for key column {c.name}")

    def _value(self, c: Column, row: Row, female: bool) -> Any:
        rng = self.rng
        kind = c.generate.get("kind")
        if c.name in self.filled:  # the parser fills it (a relative date's precision)
            return None
        if c.nullable and rng.random() < NULL_SHARE:  # key columns are never nullable
            return None
        dom = self.domains[c.name]
        if dom is not None:
            return rng.choice(dom)
        if kind == "seq":
            return "seq"  # placeholder, numbered once rows are sorted
        if kind == "nik":
            return self._nik(row.get(self.region) if self.region else None, female, rng)
        if kind == "phone":
            tail = rng.randint(7, 9)
            return rng.choice(PHONE_PREFIX) + "".join(rng.choices("0123456789", k=tail))
        if kind == "person_name":
            return self._person(female, rng)
        if kind == "group_name":
            return f"{rng.choice(GROUP_PREFIX)} {rng.choice(GROUP_NAME)}"
        if c.type in ("integer", "number"):
            return self._measure(c, rng)
        if c.type == "date":
            return self.start + datetime.timedelta(rng.randint(0, (self.as_of - self.start).days))
        return f"{c.header} {rng.randint(1, 999)}"

    @staticmethod
    def _measure(c: Column, rng: random.Random) -> int | float:
        lo, hi, dec = c.generate.get("min", 0), c.generate.get("max", 1000), _decimals(c)
        step = c.generate.get("step")
        if step:
            value = rng.randint(math.ceil(lo / step), math.floor(hi / step)) * step
        elif dec == 0:
            value = rng.randint(math.ceil(lo), math.floor(hi))
        else:
            value = rng.uniform(lo, hi)
        return int(round(value)) if dec == 0 else round(float(value), dec)

    def _nik(self, region: str | None, female: bool, rng: random.Random) -> str:
        """16 digits: kecamatan code, birth date DDMMYY (women: DD + 40), serial."""
        kec = region[:8] if region and region[:8] in self.kecamatan else rng.choice(self.kecamatan)
        birth = datetime.date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))
        day = birth.day + (40 if female else 0)
        return (
            f"{kec.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
            f"{rng.randint(1, 9999):04d}"
        )

    @staticmethod
    def _person(female: bool, rng: random.Random) -> str:
        first = rng.choice(FEMALE if female else MALE)
        parts = [first]
        if rng.random() < 0.15:
            parts.insert(0, rng.choice(FEMALE_TITLES if female else MALE_TITLES))
        if rng.random() < 0.75:
            parts.append(rng.choice(FEMALE_LAST if female else MALE_LAST))
        return " ".join(parts)

    # --- defects ----------------------------------------------------------------------------

    def inject(self, rows: list[Row], rate: float) -> dict[str, int]:
        """Give each row, with probability `rate`, exactly one applicable defect."""
        kinds = applicable_defects(self.ds)
        keys = Counter(self._key(r) for r in rows)
        counts: Counter[str] = Counter()
        clean: list[int] = []  # earlier rows without a defect: sources for duplicate_key
        for i, row in enumerate(rows):
            if self.drng.random() < rate:
                order = self.drng.sample(kinds, len(kinds))
                done = next((k for k in order if self._defect(k, row, rows, clean, keys)), None)
                if done:
                    counts[done] += 1
                    continue
            clean.append(i)
        return {k: counts[k] for k in DEFECT_KINDS if counts[k]}

    def _key(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.key)

    def _set(
        self, row: Row, values: Row, keys: Counter[tuple[Any, ...]], duplicate: bool = False
    ) -> bool:
        """Set values; refuse when the row's key would collide, unless that is the defect."""
        old, new = self._key(row), self._key({**row, **values})
        if new != old and keys[new] and not duplicate:
            return False
        keys[old] -= 1
        keys[new] += 1
        row.update(values)
        return True

    def _defect(
        self, kind: str, row: Row, rows: list[Row], clean: list[int], keys: Counter[tuple[Any, ...]]
    ) -> bool:
        """Apply one defect to `row`; False when it cannot be applied without a second one."""
        rng, year = self.drng, self.as_of.year + 1
        if kind == "negative_amount":
            c = rng.choice(_measures(self.ds))
            return self._set(row, {c.name: -(abs(self._measure(c, rng)) or 1)}, keys)
        if kind == "missing_value":
            return self._set(row, {rng.choice(_required(self.ds)).name: None}, keys)
        if kind == "duplicate_key":
            source = rows[rng.choice(clean)] if clean else None
            if not source:
                return False
            return self._set(row, {k: source[k] for k in self.key}, keys, True)
        for _ in range(5):  # the rest may touch a key column: retry on a collision
            if kind == "unknown_region":
                # drawn only for a dataset with a region column (see `applicable_defects`)
                assert self.ds.region is not None and self.region is not None
                level = self.ds.region.level
                kec = rng.choice(self.kecamatan)
                code = (
                    f"{self.ds.regency}.{rng.randint(90, 99)}"
                    if level == "kecamatan"
                    else f"{kec}.29{rng.randint(0, 99):02d}"
                )
                if code in _wilayah():
                    continue
                value: Row = {self.region: code}
            elif kind == "malformed_nik":
                col = next(c.name for c in self.ds.columns if c.generate.get("kind") == "nik")
                nik, pos = row[col] or self._nik(None, False, rng), rng.randrange(16)
                value = {col: nik[:15] if rng.random() < 0.5 else f"{nik[:pos]}O{nik[pos + 1 :]}"}
            elif self.ds.period.granularity == "year":  # future_date
                is_int = self._column(self.period).type == "integer"
                value = {self.period: year if is_int else datetime.date(year, 1, 1)}
            else:
                day = datetime.date(year, 1, 1) + datetime.timedelta(rng.randint(0, 364))
                if self.ds.period.granularity != "day":
                    day = day.replace(day=1)
                value = {self.period: day}
            if self._set(row, value, keys):
                return True
        return False


# --- rendering ------------------------------------------------------------------------------


def _csv_cell(c: Column, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.{_decimals(c)}f}"
    return str(value)


def _render_csv(ds: Dataset, rows: list[Row]) -> bytes:
    """One header row of column names, ISO dates, '.' decimals, '' for null."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(ds.column_names)
    for row in rows:
        writer.writerow([_csv_cell(c, row[c.name]) for c in ds.columns])
    return buf.getvalue().encode("utf-8")


def _xlsx_cell(ds: Dataset, c: Column, value: Any) -> Any:
    """What OPD staff type: Indonesian number text, 'Rp' amounts, dates spelled out."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, datetime.date):
        month = f"{BULAN[value.month - 1]} {value.year}"
        monthly = ds.period.granularity in ("month", "quarter")
        if c.name == ds.period.column and monthly and value.day == 1:
            return month
        return f"{value.day} {month}"  # a day, even in a monthly column (a review's date)
    if c.type == "number":
        if c.generate.get("money"):
            return ("-" if value < 0 else "") + "Rp " + _id_number(abs(value), 0)
        return _id_number(value, _decimals(c))
    return value


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed time, so equal content gives equal bytes."""

    def writestr(
        self, zinfo_or_arcname: Any, data: Any, compress_type: Any = None, compresslevel: Any = None
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: Any,
        arcname: Any = None,
        compress_type: Any = None,
        compresslevel: Any = None,
    ) -> None:  # openpyxl writes sheets from a temp file
        path = Path(filename)
        self.writestr(arcname or path.name, path.read_bytes(), compress_type, compresslevel)


def _render_xlsx(ds: Dataset, catalog: Catalog, rows: list[Row]) -> bytes:
    """Sheet 'Data': title, '<regency> - <OPD>', blank row, labels on row 4, data from row 5."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    bold = Font(bold=True)
    ws.cell(1, 1, f"DATA {ds.title.upper()}").font = bold
    ws.cell(2, 1, f"{catalog.regencies[ds.regency].name} - {catalog.opd_of(ds).name}")
    for j, c in enumerate(ds.columns, 1):
        ws.cell(4, j, c.header).font = bold
        ws.column_dimensions[ws.cell(4, j).column_letter].width = max(12, len(c.header) + 2)
    for i, row in enumerate(rows, 5):
        for j, c in enumerate(ds.columns, 1):
            value = _xlsx_cell(ds, c, row[c.name])
            if value is None:
                continue
            cell = ws.cell(i, j, value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with '=' (never a formula)
    wb.properties.creator = "Serasan"
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP
    buf = io.BytesIO()
    ExcelWriter(wb, _FixedTimeZip(buf, "w", zipfile.ZIP_DEFLATED)).save()  # save() stamps now()
    return buf.getvalue()


# --- public API -----------------------------------------------------------------------------


def _check_args(rows: int | None, fmt: str, defect_rate: float) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not 0.0 <= defect_rate <= 1.0:
        raise ValueError(f"defect_rate must be between 0 and 1 (got {defect_rate!r})")
    if rows is not None and rows < 0:
        raise ValueError(f"rows must be 0 or more (got {rows!r})")


def generate_dataset(
    ds: Dataset,
    catalog: Catalog,
    rows: int | None = None,
    fmt: str = "xlsx",
    defect_rate: float = 0.0,
    seed: int = 42,
    as_of: datetime.date = DEFAULT_AS_OF,
    collected: datetime.date | None = None,
) -> GeneratedFile:
    """One dataset's file in memory, byte-identical for the same arguments.

    `rows` None picks a realistic size; a key made only of finite domains (period x region x
    allowed values x id pools) caps the count, since its rows must stay unique. `collected`:
    the day a citizen-voice file was collected, so that its reviews may say "3 bulan lalu"
    (`collected_relative` tells whether they do; the file must then be read with that date).
    """
    _check_args(rows, fmt, defect_rate)
    if ds.regency not in catalog.regencies:
        raise ValueError(f"dataset {ds.id}: regency {ds.regency!r} is not in the catalog")
    builder = _Builder(ds, seed, as_of, collected)
    data_rows = builder.rows(rows)
    defects = builder.inject(data_rows, defect_rate) if defect_rate else {}
    data = _render_csv(ds, data_rows) if fmt == "csv" else _render_xlsx(ds, catalog, data_rows)
    return GeneratedFile(
        dataset_id=ds.id,
        filename=f"{ds.id}.{fmt}",
        rows=len(data_rows),
        defects=defects,
        data=data,
        rows_asked=rows,
        short_because=builder.cap,
    )


def generate(
    out_dir: Path,
    catalog: Catalog,
    dataset_ids: list[str] | None = None,
    rows: int | None = None,
    fmt: str = "xlsx",
    defect_rate: float = 0.0,
    seed: int = 42,
    as_of: datetime.date = DEFAULT_AS_OF,
    collected: datetime.date | None = None,
) -> list[GeneratedFile]:
    """Write `<dataset_id>.<fmt>` for each dataset (all by default) into out_dir."""
    _check_args(rows, fmt, defect_rate)
    ids = sorted(catalog.datasets) if dataset_ids is None else list(dataset_ids)
    unknown = [i for i in ids if i not in catalog.datasets]
    if unknown:
        raise ValueError(
            f"unknown dataset id(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(catalog.datasets))}"
        )
    files = [
        generate_dataset(
            catalog.datasets[i], catalog, rows, fmt, defect_rate, seed, as_of, collected
        )
        for i in ids
    ]  # all in memory first: a failure leaves no half-written folder
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for gf in files:
        (out_dir / gf.filename).write_bytes(gf.data)
    return [replace(gf, path=out_dir / gf.filename) for gf in files]


def collected_relative(ds: Dataset, collected: datetime.date | None) -> bool:
    """Whether the dataset's file, generated with this collection date, writes relative dates
    (and so must be read with the same date: `--collected-on`, the DAG conf `collected`)."""
    return reviews.relative_dates(ds, collected)
