"""The catalog: YAML that data engineers edit, loaded into typed, validated objects.

Onboarding a dataset is a YAML file plus a GX suite, no Python. Every mistake is reported with
the file, the field and what was expected, so the catalog can be fixed without reading code.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    ValidationError,
    field_validator,
)

from serasan.common.enums import LoadMode, QualityPolicy
from serasan.common.paths import CATALOG_DIR, EXPECTATIONS_DIR
from serasan.config.reading import dataset_problems as reading_problems
from serasan.config.regions import load_aliases, region_problems
from serasan.config.source_params import PARAMS_MODELS
from serasan.config.voice import Programme, Voice, programme_problems, voice_problems
from serasan.reference.names import NO_ALIASES, AliasTable

PILLARS: dict[str, str] = {
    "governance": "Smart Governance",
    "branding": "Smart Branding",
    "economy": "Smart Economy",
    "living": "Smart Living",
    "society": "Smart Society",
    "environment": "Smart Environment",
}
LEVELS = ("provinsi", "kabupaten_kota", "kecamatan", "desa_kelurahan")
IDENT = r"^[a-z][a-z0-9_]{1,62}$"  # also safe as a SQL table/column name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    name: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None


class Opd(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,40}$")
    name: str
    contacts: list[Contact] = Field(min_length=1)


class Regency(_Strict):
    kode: str = Field(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri kode wilayah")
    slug: str = Field(pattern=r"^[a-z][a-z0-9]{1,30}$")
    name: str
    walidata: str
    walidata_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    opds: list[Opd] = Field(min_length=1)
    ckan_org: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{2,100}$")  # CKAN owner_org

    def opd(self, code: str) -> Opd | None:
        return next((o for o in self.opds if o.code == code), None)


class Column(_Strict):
    name: str = Field(pattern=IDENT)
    type: Literal["string", "integer", "number", "date", "boolean"]
    label: str | None = None  # header OPD staff see in templates; parsed as well as `name`
    unit: str | None = None
    nullable: bool = True
    description: str
    pii: bool = False
    # how a personal-data column leaves in exports: dropped, or a keyed pseudonym (HMAC) where
    # ministries need to link rows across periods without knowing who they are
    pii_export: Literal["drop", "pseudonym"] = "drop"
    allowed: list[str] | None = None
    generate: dict[str, Any] = Field(default_factory=dict)  # hints for `serasan generate`
    na_values: list[str] | None = None  # cells read as empty here (default: the dataset's)
    dash: Literal["empty", "zero"] | None = None  # what '-' means here (default: the dataset's)
    # an integer count whose thousands dot became a decimal point (50.36 -> 50360)
    thousands_dot_lost: bool = False
    # date columns: also read "3 bulan lalu", "2 years ago", resolved against the file's
    # collection date (source.collected_on, or --collected-on), keeping their precision
    relative: bool = False
    # the text column (absent from files, filled by the parser) that receives each date's
    # precision: day, week, month or year ("2 years ago" is a year, not a day)
    precision_column: str | None = None

    @property
    def header(self) -> str:
        return self.label or self.name


class Source(_Strict):
    kind: Literal["spreadsheet", "database", "api"]
    params: dict[str, Any] = Field(default_factory=dict)
    # spreadsheet: the workbook sheet with the data, by name or 1-based position (a number);
    # default the sheet named Data, else the first (serasan.config.reading checks it)
    sheet: str | StrictInt | None = None
    # the day the files were collected (a one-off export of reviews): relative dates
    # ("3 months ago") are resolved against it; `--collected-on` gives it per file
    collected_on: dt.date | None = None


class PeriodSpec(_Strict):
    # the dataset's column that holds the period (in the key); a file may leave it out when
    # `constant`, `from_filename` or `--period` gives the period
    column: str
    granularity: Literal["day", "month", "quarter", "year"]
    constant: str | None = None  # every file's period, e.g. "2021", "2021-03", "2021-Q1"
    # a pattern that finds the period in the file name: named groups year, quarter, month, day
    from_filename: str | None = None


class RegionSpec(_Strict):
    column: str
    # kabupaten_kota: one row per regency or city of a province-scope dataset
    level: Literal["kabupaten_kota", "kecamatan", "desa_kelurahan"]
    # how the file writes the region (serasan.config.regions): Kemendagri codes, BPS codes
    # (mapped through the crosswalk) or names (resolved within their parent)
    scheme: Literal["kemendagri", "bps", "name"] = "kemendagri"
    undotted: bool = False  # kemendagri: accept 10-digit codes written without dots
    parent_column: str | None = None  # name: the column naming each row's kecamatan
    name_column: str | None = None  # the region's name in the file, checked against the code
    source_column: str | None = None  # a string column keeping the value as the file sent it


class SatuData(_Strict):
    """Satu Data Indonesia metadata (Perpres 39/2019): the data standard and who answers for it.

    The standard's fields (konsep ... ukuran) and the release schedule are optional here so a
    dataset can be onboarded before its standard is agreed; exports record which are missing,
    and the compliance report lists them.
    """

    produsen_data: str
    walidata: str
    frekuensi: str
    satuan: str
    level_penyajian: str
    lisensi: str
    kontak: str
    konsep: str | None = None
    definisi: str | None = None
    klasifikasi: str | None = None
    ukuran: str | None = None
    jadwal_rilis: str | None = None  # e.g. "setiap tanggal 15 bulan berikutnya"
    tags: list[str] = Field(default_factory=list)
    # counts of people below this are suppressed in desa-level exports (small-cell disclosure)
    min_cell_count: int = Field(default=5, ge=1)


class Retention(_Strict):
    """How long lake objects that hold personal data are kept, in days from when they arrived."""

    raw_days: int = Field(gt=0)
    quarantine_days: int = Field(gt=0)


class Dataset(_Strict):
    id: str = Field(pattern=IDENT)
    regency: str  # the regency whose OPD sends it, and whose walidata answers for it
    # the area its rows may lie in, when wider than `regency`: a province ("16"). Each served
    # regency inside it sees its own rows (KPIs, exports, report); rows of other regencies are
    # loaded and checked, and kept for comparison.
    scope: str | None = Field(default=None, pattern=r"^\d{2}(\.\d{2})?$")
    opd: str
    pillar: Literal["governance", "branding", "economy", "living", "society", "environment"]
    title: str
    description: str
    source: Source
    cadence: Literal["daily", "monthly", "quarterly", "yearly"]
    columns: list[Column] = Field(min_length=1)
    primary_key: list[str] = Field(min_length=1)
    period: PeriodSpec
    region: RegionSpec | None = None
    quality_policy: QualityPolicy  # YAML and messages as before: 'block', 'quarantine', 'warn'
    load_mode: LoadMode
    satu_data: SatuData
    retention: Retention | None = None  # required when a column is personal data
    # cells read as empty besides blank ones (default: NA, N/A, #N/A, n.a., ..., …)
    na_values: list[str] | None = None
    dash: Literal["empty", "zero"] = "empty"  # what '-' means in number columns
    voice: Voice | None = None  # a citizen-voice dataset: which columns say what

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, cols: list[Column]) -> list[Column]:
        names = [c.name for c in cols]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"column names must be unique, repeated: {', '.join(dupes)}")
        return cols

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def area(self) -> str:
        """The code every row's region must lie in: the scope, else the regency."""
        return self.scope or self.regency

    @property
    def wide(self) -> bool:
        """Its rows span more than its own regency (a province-scope dataset)."""
        return self.area != self.regency

    def covers(self, regency: str) -> bool:
        """Whether rows of `regency` may be in it."""
        return regency == self.area or regency.startswith(self.area + ".")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    _source: str | None = PrivateAttr(default=None)

    @property
    def view_source(self) -> str | None:
        """The id of the dataset this is a regency's view of (`view_of`), None if none."""
        return self._source


def view_of(ds: Dataset, regency: Regency) -> Dataset:
    """One served regency's view of a dataset: the rows inside the regency, exported under
    the regency's name. A dataset that is not province-scope is its own view. The owner's view
    keeps the dataset's id; another regency's is `<id>__<regency slug>`, so each has its own
    export history."""
    if not ds.wide:
        return ds
    view = ds.model_copy(
        update={
            "id": ds.id if regency.kode == ds.regency else f"{ds.id}__{regency.slug}",
            "regency": regency.kode,
            "scope": None,
            "title": f"{ds.title} ({regency.name})",
        }
    )
    view._source = ds.id
    return view


class Kpi(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_.-]{1,40}$")
    regency: str
    pillar: Literal["governance", "branding", "economy", "living", "society", "environment"]
    name: str
    konsep: str
    definisi: str
    rumus: str
    satuan: str
    # kecamatan: the query returns the regency's row per period and one row per kecamatan
    # (UNION ALL); kabupaten_kota: the regency's row only.
    level: Literal["kabupaten_kota", "kecamatan"]
    cadence: Literal["monthly", "quarterly", "yearly"]
    # The target every period value is held to: one number, or one per year (RPJMD targets
    # change yearly). A year without its own target takes the latest earlier year's.
    target: float | dict[int, float]
    polarity: Literal["higher_is_better", "lower_is_better"]
    # true when the regency value is the sum of the kecamatan values (counts, tonnes, rupiah):
    # a kecamatan's share is then not held to the regency's target
    additive: bool = False
    sources: list[str] = Field(min_length=1)
    query: str
    # A value counted from few observations (an average rating of 3 reviews) says little.
    # `voice`: the query also returns `n`, the reviews or complaints behind each value, and a
    # value from fewer than the setting SERASAN_VOICE_MIN_REVIEWS is withheld and marked
    # "terlalu sedikit data" (serasan.publish.kpi). Any query may return `n`; it is kept.
    min_count: Literal["voice"] | None = None

    @field_validator("target")
    @classmethod
    def _some_target(cls, t: float | dict[int, float]) -> float | dict[int, float]:
        if isinstance(t, dict) and not t:
            raise ValueError("give a number, or at least one year: number")
        return t

    def target_for(self, year: int) -> float | None:
        """The target of a year: its own, else the latest earlier year's, else None."""
        if not isinstance(self.target, dict):
            return float(self.target)
        years = [y for y in self.target if y <= year]
        return float(self.target[max(years)]) if years else None


# libyaml's safe loader when PyYAML was built with it: 7x faster on a 1,000-file catalog, and it
# builds the same objects as the pure-Python SafeLoader.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(Exception):
    """Raised with every problem found, one per line, each naming file and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Catalog:
    root: Path
    regencies: dict[str, Regency]
    datasets: dict[str, Dataset]
    kpis: dict[str, Kpi]
    files: dict[str, Path] = field(default_factory=dict)  # object key -> file it came from
    programmes: dict[str, Programme] = field(default_factory=dict)  # catalog/programmes.yaml
    expectations_dir: Path = EXPECTATIONS_DIR  # where `suites` reads each dataset's GX suite
    aliases: AliasTable = NO_ALIASES  # region-name variants, catalog/aliases.yaml

    def regency(self, kode: str) -> Regency:
        return self.regencies[kode]

    def dataset(self, dataset_id: str) -> Dataset:
        try:
            return self.datasets[dataset_id]
        except KeyError:
            raise KeyError(
                f"unknown dataset {dataset_id!r}; `serasan catalog list` shows the ids"
            ) from None

    def opd_of(self, ds: Dataset) -> Opd:
        opd = self.regencies[self.source_of(ds).regency].opd(ds.opd)
        assert opd is not None  # guaranteed by load_catalog's reference checks
        return opd

    def datasets_of(self, regency_kode: str) -> list[Dataset]:
        """The datasets the regency's OPDs send."""
        return [d for d in self.datasets.values() if d.regency == regency_kode]

    def datasets_for(self, regency_kode: str) -> list[Dataset]:
        """The datasets that may hold rows of the regency: its own, and the province-scope
        datasets of other regencies that cover it."""
        return [d for d in self.datasets.values() if d.covers(regency_kode)]

    def export_views(self, regency_kode: str) -> list[Dataset]:
        """What the regency exports: each dataset of `datasets_for`, a province-scope one as
        the regency's view of it (`view_of`)."""
        return [view_of(d, self.regency(regency_kode)) for d in self.datasets_for(regency_kode)]

    def source_of(self, ds: Dataset) -> Dataset:
        """The catalog's dataset behind a regency's view (the dataset itself otherwise)."""
        return self.datasets.get(ds.view_source or ds.id, ds)

    def kpis_of(self, regency_kode: str) -> list[Kpi]:
        return [k for k in self.kpis.values() if k.regency == regency_kode]

    @cached_property
    def suites(self) -> Mapping[str, dict[str, Any]]:
        """Each dataset's GX suite, read from `expectations_dir` when first asked for: a missing
        or broken suite of one dataset never stops work on another."""
        return _Suites(tuple(self.datasets), self.expectations_dir)


class _Suites(Mapping[str, dict[str, Any]]):
    """dataset id -> its suite, read once on first access."""

    def __init__(self, ids: tuple[str, ...], expectations_dir: Path):
        self._ids, self._dir = ids, expectations_dir
        self._read: dict[str, dict[str, Any]] = {}

    def __getitem__(self, dataset_id: str) -> dict[str, Any]:
        if dataset_id not in self._ids:
            raise KeyError(dataset_id)
        if dataset_id not in self._read:
            self._read[dataset_id] = read_suite(dataset_id, self._dir)
        return self._read[dataset_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def suite_path(dataset_id: str, expectations_dir: Path = EXPECTATIONS_DIR) -> Path:
    return expectations_dir / f"{dataset_id}.json"


def read_suite(dataset_id: str, expectations_dir: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    """The dataset's GX suite as GX's own JSON."""
    suite = json.loads(suite_path(dataset_id, expectations_dir).read_text(encoding="utf-8"))
    return cast(dict[str, Any], suite)


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _parse(
    model: type[BaseModel],
    data: Any,
    path: Path,
    problems: list[str],
    loc_prefix: tuple[Any, ...] = (),
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            where = _fmt_loc(loc_prefix + tuple(err["loc"]))
            got = err.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            problems.append(f"{path}: {where}: {err['msg']}{shown}")
        return None


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {exc}")
    except OSError as exc:
        problems.append(f"{path}: cannot be read: {exc}")
    return None


DatasetCheck = Callable[[Dataset], list[str]]


def load_catalog(
    root: Path = CATALOG_DIR,
    expectations_dir: Path = EXPECTATIONS_DIR,
    dataset_check: DatasetCheck | None = None,
) -> Catalog:
    """Load and cross-check the whole catalog; raise CatalogError listing every problem.

    `dataset_check` adds problems per dataset (the suite checks of `serasan.quality.suites`,
    which the catalog cannot import: validation sits above configuration).
    """
    problems: list[str] = []
    files: dict[str, Path] = {}
    regencies: dict[str, Regency] = {}
    for path in sorted((root / "regencies").glob("*.yaml")):
        reg = _parse(Regency, _read_yaml(path, problems), path, problems)
        if reg is None:
            continue
        if reg.kode in regencies:
            problems.append(f"{path}: kode: regency {reg.kode} is declared twice")
        regencies[reg.kode] = reg
        files[f"regency:{reg.kode}"] = path
    if not regencies:
        problems.append(f"{root / 'regencies'}: no regency YAML files found")

    datasets: dict[str, Dataset] = {}
    for path in sorted((root / "datasets").glob("*.yaml")):
        ds = _parse(Dataset, _read_yaml(path, problems), path, problems)
        if ds is None:
            continue
        if path.stem != ds.id:
            problems.append(f"{path}: id: must equal the file name {path.stem!r} (got {ds.id!r})")
        if ds.id in datasets:
            problems.append(f"{path}: id: dataset {ds.id} is declared twice")
        datasets[ds.id] = ds
        files[f"dataset:{ds.id}"] = path
        problems += _check_dataset(ds, regencies, path)
        if dataset_check is not None:
            problems += dataset_check(ds)

    kpis: dict[str, Kpi] = {}
    kpi_path = root / "kpis.yaml"
    raw_kpis = _read_yaml(kpi_path, problems) if kpi_path.exists() else []
    for i, item in enumerate(raw_kpis or []):
        kpi = _parse(Kpi, item, kpi_path, problems, loc_prefix=(i,))
        if kpi is None:
            continue
        kpis[kpi.code] = kpi
        if kpi.regency not in regencies:
            problems.append(f"{kpi_path}: [{i}].regency: unknown regency {kpi.regency!r}")
        for src in kpi.sources:
            if src not in datasets:
                problems.append(f"{kpi_path}: [{i}].sources: unknown dataset {src!r}")
            elif not datasets[src].covers(kpi.regency):
                problems.append(
                    f"{kpi_path}: [{i}].sources: dataset {src!r} holds no rows of "
                    f"{kpi.regency} (its area is {datasets[src].area})"
                )
        for ref in re.findall(r"\{(\w+)\.(\w+)\}", kpi.query):
            if ref[1].startswith("fact_") and ref[1].removeprefix("fact_") not in kpi.sources:
                problems.append(
                    f"{kpi_path}: [{i}].query: reads {{{ref[0]}.{ref[1]}}}, "
                    f"which is not one of its sources"
                )
    programmes: dict[str, Programme] = {}
    prog_path = root / "programmes.yaml"
    raw_programmes = _read_yaml(prog_path, problems) if prog_path.exists() else []
    parsed: list[tuple[int, Programme]] = []
    for i, item in enumerate(raw_programmes or []):
        prog = _parse(Programme, item, prog_path, problems, loc_prefix=(i,))
        if prog is not None:
            parsed.append((i, prog))
            programmes[prog.code] = prog
    problems += programme_problems(parsed, regencies, datasets, kpis, prog_path)
    aliases, alias_problems = load_aliases(root)
    problems += alias_problems
    if problems:
        raise CatalogError(problems)
    return Catalog(
        root=root,
        regencies=regencies,
        datasets=datasets,
        kpis=kpis,
        files=files,
        expectations_dir=expectations_dir,
        aliases=aliases,
        programmes=programmes,
    )


def _check_dataset(ds: Dataset, regencies: dict[str, Regency], path: Path) -> list[str]:
    problems = []
    names = set(ds.column_names)
    reg = regencies.get(ds.regency)
    if reg is None:
        problems.append(
            f"{path}: regency: unknown regency {ds.regency!r}; expected one of {sorted(regencies)}"
        )
    elif reg.opd(ds.opd) is None:
        problems.append(
            f"{path}: opd: {ds.opd!r} is not an OPD of {reg.name}; "
            f"expected one of {[o.code for o in reg.opds]}"
        )
    for i, key in enumerate(ds.primary_key):
        if key not in names:
            problems.append(f"{path}: primary_key[{i}]: {key!r} is not a declared column")
        elif ds.column(key).nullable:  # type: ignore[union-attr]
            problems.append(f"{path}: primary_key[{i}]: key column {key!r} must be nullable: false")
    pcol = ds.column(ds.period.column)
    if pcol is None:
        problems.append(f"{path}: period.column: {ds.period.column!r} is not a declared column")
    elif pcol.type not in ("date", "integer"):
        problems.append(
            f"{path}: period.column: {pcol.name!r} must be of type date or integer "
            f"(got {pcol.type})"
        )
    if ds.region and ds.region.column not in names:
        problems.append(f"{path}: region.column: {ds.region.column!r} is not a declared column")
    problems += _check_scope(ds, path)
    if ds.source.kind != "spreadsheet":
        problems += _check_source_params(ds, path)
    problems += reading_problems(ds, path)
    problems += region_problems(ds, path)
    problems += voice_problems(ds, path)
    problems += _relative_problems(ds, path)
    for c in ds.columns:
        if c.pii_export != "drop" and not c.pii:
            problems.append(
                f"{path}: columns.{c.name}.pii_export: only a personal-data column "
                "(pii: true) can be pseudonymised"
            )
    if ds.pii_columns and ds.retention is None:
        problems.append(
            f"{path}: retention: {', '.join(ds.pii_columns)} hold personal data, so "
            "the dataset must declare how long raw and quarantined files are kept "
            "(retention: {raw_days: N, quarantine_days: N}, UU 27/2022)"
        )
    if ds.load_mode == LoadMode.REPLACE_PERIOD and ds.period.column not in ds.primary_key:
        problems.append(
            f"{path}: primary_key: a replace_period dataset must have its period "
            f"column {ds.period.column!r} in the key"
        )
    return problems


def _relative_problems(ds: Dataset, path: Path) -> list[str]:
    """Relative dates are dates, and their precision goes to a text column the parser fills."""
    problems = []
    for c in ds.columns:
        if c.relative and c.type != "date":
            problems.append(f"{path}: columns.{c.name}.relative: only a date column (got {c.type})")
        if c.precision_column is None:
            continue
        target = ds.column(c.precision_column)
        if not c.relative:
            problems.append(f"{path}: columns.{c.name}.precision_column: only with relative: true")
        elif target is None or target.type != "string" or not target.nullable:
            problems.append(
                f"{path}: columns.{c.name}.precision_column: {c.precision_column!r} must be a "
                "declared text column with nullable: true (the parser fills it)"
            )
    return problems


def _check_scope(ds: Dataset, path: Path) -> list[str]:
    """A scope holds the dataset's own regency, and rows spread over it name their region."""
    problems = []
    if ds.scope is not None and not ds.covers(ds.regency):
        problems.append(
            f"{path}: scope: {ds.scope!r} does not contain the dataset's regency {ds.regency}; "
            f"a scope is wider than the regency (its province, {ds.regency[:2]!r})"
        )
    if ds.wide and ds.region is None:
        problems.append(
            f"{path}: scope: rows of a {ds.scope!r}-wide dataset must say where they are: "
            "declare a region block"
        )
    if ds.region is not None and ds.region.level == "kabupaten_kota" and not ds.wide:
        problems.append(
            f"{path}: region.level: kabupaten_kota rows of one regency ({ds.regency}) are "
            f"all the same region; declare `scope: {ds.regency[:2]!r}` for a province-wide table"
        )
    return problems


def _check_source_params(ds: Dataset, path: Path) -> list[str]:
    """Pulled sources: their params must fit the connector, and loads must be upserts."""
    problems = []
    try:
        PARAMS_MODELS[ds.source.kind].model_validate(ds.source.params)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(f"{path}: source.params.{_fmt_loc(tuple(err['loc']))}: {err['msg']}")
    if ds.load_mode != LoadMode.UPSERT:
        problems.append(
            f"{path}: load_mode: a {ds.source.kind} source is pulled increment by "
            "increment, so it must be 'upsert' (replace_period would drop the rest "
            "of each period)"
        )
    return problems
