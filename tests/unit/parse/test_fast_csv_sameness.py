"""Proof of sameness (issue 17): the vectorised CSV reader (`serasan.parse.fast_csv`) against the
per-row reader (`parse_rows`, the reference), file by file.

For every input both paths must give the identical table (`Table.equals`: types, values, `_row`
numbers; float zeros compared with their sign too), identical rejects (same rows, columns,
messages, records, order), identical rows_in, header_row and notes; or both raise ParseError
with the identical message. `assert_same` checks that and, when it fails, says where: the first
differing column and row, the first differing reject, the notes of each.

The corpus:
- every catalog dataset's generated CSV (clean, and with every defect kind at 30 %), and its
  generated workbook's values written as CSV;
- messy files (`serasan.demo.messy`) in every combination of encoding, line end, delimiter and
  title rows, for datasets with numbers, dates and regions;
- the real CSV files of ../shared/samples/real, each with the dataset `serasan onboard` drafts
  from it (in process, in a copy of the catalog with Kabupaten Bandung added, as
  tests/integration/test_real_files.py does), and the Jakarta samples with their fixtures;
- hostile and odd inputs, the suite's own (tests/unit/parse/test_bad_input.py, test_reader.py,
  test_regions.py, test_empties_and_period.py) and more;
- files spanning many blocks of the fast reader (`fast_csv.BLOCK` made small), conventions
  revealed only after the first block included.

Separately: the fast path must really run on the files it should take (a clean or defective
generated file, a messy one), and must leave to the per-row reader a file with a quoted line
break and a UTF-16 file.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import itertools
import logging
import math
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from serasan.common.paths import CATALOG_DIR
from serasan.config.catalog import Dataset, load_catalog
from serasan.demo.generate import applicable_defects, generate_dataset
from serasan.demo.messy import DELIMITERS, LINE_ENDS, messy_file
from serasan.parse import fast_csv
from serasan.parse.reader import ParseError, ParseResult, Reject, parse_file, read_cells
from serasan.quality.onboard import draft
from serasan.quality.suites import load_validated_catalog
from serasan.reference.names import AliasTable
from tests.support.paths import FIXTURES_DIR

CATALOG = load_validated_catalog()
IDS = sorted(CATALOG.datasets)
MB = 2**20

CCTV = "muba_cctv_kita"  # periode (month), kode_kamera, kode_kecamatan, lokasi, jam_online
PAJAK = "muba_realisasi_pajak"  # periode, kode_kecamatan, jenis_pajak, target_rp, realisasi_rp,
# jumlah_wajib_pajak (integer, nullable)
ADUAN = "muaraenim_pengaduan_masyarakat"  # nomor_tiket, tanggal (day), kode_kecamatan, ...
SAMPAH = "muaraenim_timbulan_sampah"  # periode, kode_kecamatan, timbulan_ton, terkelola_ton
BANK = "muba_bank_sampah"  # desa level, Musi Banyuasin (16.06)
WISATA = "muaraenim_kunjungan_wisata"  # kecamatan level, Muara Enim (16.03)
KARET = "muaraenim_produksi_karet"  # tahun (integer, year), kode_kecamatan, 3 measures
TANI = "muba_kelompok_tani_karet"  # tahun, desa, names, NIK, phone, measures
TAMAN = "muba_pengunjung_taman_air"  # tanggal (day), money
HEADER = ["Periode", "Kode Kamera", "Kode Kecamatan", "Lokasi", "Jam Online"]

Outcome = ParseResult | Exception  # a result, its ParseError, or a crash


# ---------------------------------------------------------------- the comparison


def _outcome(
    data: bytes,
    filename: str,
    ds: Dataset,
    period: str | None,
    aliases: AliasTable | None,
    fast: bool,
) -> Outcome:
    """A path's result, or what it raised (a ParseError; anything else is a crash)."""
    try:
        return parse_file(data, filename, ds, period, aliases, fast=fast)
    except Exception as exc:  # compared, and reported, by _diff
        return exc


def _short(value: Any, limit: int = 240) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _brief(out: Outcome) -> str:
    if isinstance(out, Exception):
        return f"raises {type(out).__name__}: {_short(str(out), 400)}"
    return (
        f"a result: {out.table.num_rows} rows, {len(out.rejects)} rejects, rows_in "
        f"{out.rows_in}, header_row {out.header_row}"
    )


def _signed_zeros(table: pa.Table, name: str) -> list[bool]:
    return [
        isinstance(v, float) and v == 0 and math.copysign(1, v) < 0
        for v in table.column(name).to_pylist()
    ]


def _table_diff(ref: pa.Table, got: pa.Table) -> list[str]:
    out: list[str] = []
    if not ref.schema.equals(got.schema):
        out.append(f"schema differs:\n  per-row: {ref.schema}\n  fast:    {got.schema}")
        return out
    if ref.num_rows != got.num_rows:
        out.append(f"table rows: per-row {ref.num_rows}, fast {got.num_rows}")
    rows_ref = ref.column("_row").to_pylist()
    rows_got = got.column("_row").to_pylist()
    for name in ref.column_names:
        a, b = ref.column(name).to_pylist(), got.column(name).to_pylist()
        za, zb = (_signed_zeros(t, name) for t in (ref, got))
        for i, (x, y) in enumerate(itertools.zip_longest(a, b)):
            if x != y or type(x) is not type(y) or (i < len(za) and i < len(zb) and za[i] != zb[i]):
                where_ref = rows_ref[i] if i < len(rows_ref) else "-"
                where_got = rows_got[i] if i < len(rows_got) else "-"
                out.append(
                    f"first differing cell: column {name!r}, table row {i} (_row per-row "
                    f"{where_ref}, fast {where_got}): per-row {_short(x)}, fast {_short(y)}"
                )
                break
        if out and out[-1].startswith("first differing cell"):
            break
    if not out and not ref.equals(got):
        out.append("Table.equals is False though every value agrees (NaN? chunk types?)")
    return out


def _reject_text(r: Reject) -> str:
    record = dict(r.record)
    return (
        f"row {r.row}, column {r.column!r}, value {r.value!r}, kind {r.kind}\n"
        f"      reason_en: {_short(r.reason_en, 300)}\n"
        f"      record: {_short(record, 300)}"
    )


def _rejects_diff(ref: list[Reject], got: list[Reject]) -> list[str]:
    if ref == got:
        return []
    out = [f"rejects: per-row {len(ref)}, fast {len(got)}"]
    for i, (a, b) in enumerate(itertools.zip_longest(ref, got)):
        if a != b:
            out.append(f"first differing reject, #{i}:")
            out.append("  per-row: " + (_reject_text(a) if a is not None else "(none)"))
            out.append("  fast:    " + (_reject_text(b) if b is not None else "(none)"))
            if a is not None and b is not None:
                fields = [f for f in a.__dataclass_fields__ if getattr(a, f) != getattr(b, f)]
                out.append(f"  fields that differ: {', '.join(fields)}")
            break
    return out


def _diff(ref: Outcome, got: Outcome) -> list[str]:
    crashes = [
        f"{label} path crashes: {type(out).__name__}: {_short(str(out), 300)}"
        for label, out in (("per-row", ref), ("fast", got))
        if isinstance(out, Exception) and not isinstance(out, ParseError)
    ]
    if crashes:  # the contract: a result or a ParseError, never another exception
        return [*crashes, "(a file gives a result or a ParseError, never another exception)"]
    if isinstance(ref, ParseError) or isinstance(got, ParseError):
        if isinstance(ref, ParseError) and isinstance(got, ParseError):
            if str(ref) == str(got):
                return []
            return [f"messages differ:\n  per-row: {ref}\n  fast:    {got}"]
        return [f"per-row {_brief(ref)}", f"fast    {_brief(got)}"]
    assert isinstance(ref, ParseResult) and isinstance(got, ParseResult)
    out: list[str] = []
    if ref.rows_in != got.rows_in:
        out.append(f"rows_in: per-row {ref.rows_in}, fast {got.rows_in}")
    if ref.header_row != got.header_row:
        out.append(f"header_row: per-row {ref.header_row}, fast {got.header_row}")
    out += _table_diff(ref.table, got.table)
    out += _rejects_diff(ref.rejects, got.rejects)
    if ref.notes != got.notes:
        out.append("notes differ (- per-row, + fast):")
        out += [
            "  " + line
            for line in difflib.ndiff(ref.notes, got.notes)
            if line[:1] in "-+?" and line.strip()
        ]
    return out


def assert_same(
    data: bytes,
    filename: str,
    ds: Dataset,
    period: str | None = None,
    aliases: AliasTable | None = None,
) -> Outcome:
    """Both paths give the same outcome for the file; the per-row reader's is returned."""
    ref = _outcome(data, filename, ds, period, aliases, fast=False)
    got = _outcome(data, filename, ds, period, aliases, fast=True)
    problems = _diff(ref, got)
    if problems:
        pytest.fail(
            f"{filename} ({ds.id}, {len(data)} bytes, period {period!r}): the fast path differs "
            "from the per-row reader\n" + "\n".join(problems),
            pytrace=False,
        )
    return ref


def _taken(data: bytes, filename: str, ds: Dataset, caplog: pytest.LogCaptureFixture) -> str:
    """Why the fast reader left the file to the per-row reader ('' when it took it)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=fast_csv.__name__):
        result = fast_csv.parse(lambda: io.BytesIO(data), filename, ds)
    if result is not None:
        return ""
    reasons = [r.getMessage() for r in caplog.records if "row by row" in r.getMessage()]
    return "; ".join(reasons) or "(no reason logged)"


# ---------------------------------------------------------------- building files


def _csv(
    rows: list[list[Any]],
    delim: str = ",",
    newline: str = "\n",
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delim, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    text = buf.getvalue().replace("\n", newline)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def _lines(lines: list[str], newline: str = "\n", encoding: str = "utf-8") -> bytes:
    """Lines written as they are (no quoting): for cells the csv module would quote."""
    return "".join(line + newline for line in lines).encode(encoding)


def _labels(ds_id: str) -> list[str]:
    return [c.header for c in CATALOG.dataset(ds_id).columns]


def _good(n: int, start: int = 1, period: str = "2026-05-01", hours: str = "600") -> list[str]:
    """CCTV lines without quotes (the fast path's kind of line)."""
    return [f"{period},CCTV-{i:03d},16.06.01,Pasar Randik,{hours}" for i in range(start, start + n)]


SATU_DATA = dict.fromkeys(
    ("produsen_data", "walidata", "frekuensi", "satuan", "level_penyajian", "lisensi", "kontak"),
    "x",
)


def _custom(columns: list[dict[str, Any]], period: dict[str, Any], **extra: Any) -> Dataset:
    """A small dataset outside the catalog (regency 16.06, no region column)."""
    return Dataset.model_validate(
        {
            "id": "uji_baca",
            "regency": "16.06",
            "opd": "dlh",
            "pillar": "environment",
            "title": "t",
            "description": "d",
            "source": {"kind": "spreadsheet"},
            "cadence": "yearly",
            "columns": columns,
            "primary_key": extra.pop("primary_key", [columns[0]["name"], period["column"]]),
            "period": period,
            "quality_policy": "quarantine",
            "load_mode": "upsert",
            "satu_data": SATU_DATA,
            **extra,
        }
    )


def _col(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "description": name, **extra}


KODE = _col("kode", "string", nullable=False)
TAHUN = _col("tahun", "integer", nullable=False)
YEAR = {"column": "tahun", "granularity": "year"}


def _variant(ds_id: str, region: dict[str, Any], extra: Sequence[dict[str, Any]] = ()) -> Dataset:
    """A catalog dataset with another region block and extra string columns."""
    ds = CATALOG.dataset(ds_id)
    data = ds.model_dump()
    data["columns"] = [*data["columns"], *extra]
    data["region"] = {"column": ds.region.column, "level": ds.region.level, **region}  # type: ignore[union-attr]
    return Dataset.model_validate(data)


def _string(name: str, label: str | None = None) -> dict[str, Any]:
    return {"name": name, "type": "string", "label": label, "description": name}


# ---------------------------------------------------------------- 1. generated files


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("ds_id", IDS)
def test_generated_csv_with_every_defect_kind_is_the_same(ds_id: str, seed: int) -> None:
    ds = CATALOG.dataset(ds_id)
    gf = generate_dataset(ds, CATALOG, fmt="csv", seed=seed, defect_rate=0.3)
    assert_same(gf.data, gf.filename, ds)


@pytest.mark.parametrize("ds_id", IDS)
def test_generated_clean_csv_is_the_same(ds_id: str) -> None:
    ds = CATALOG.dataset(ds_id)
    gf = generate_dataset(ds, CATALOG, fmt="csv", seed=7)
    assert_same(gf.data, gf.filename, ds)


@pytest.mark.parametrize("ds_id", IDS)
def test_generated_corpus_holds_every_defect_kind(ds_id: str) -> None:
    """The two seeds above between them inject every defect kind that applies."""
    ds = CATALOG.dataset(ds_id)
    seen: set[str] = set()
    for seed in (1, 2):
        seen |= set(generate_dataset(ds, CATALOG, fmt="csv", seed=seed, defect_rate=0.3).defects)
    assert seen == set(applicable_defects(ds))


def _as_csv(cells: list[list[Any]]) -> list[list[Any]]:
    """Workbook values as text: whole floats without '.0', dates as ISO."""
    out = []
    for row in cells:
        line = []
        for v in row:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            elif isinstance(v, dt.datetime | dt.date):
                v = v.isoformat()
            line.append(v)
        out.append(line)
    return out


@pytest.mark.parametrize("ds_id", IDS)
def test_generated_workbook_values_written_as_csv_are_the_same(ds_id: str) -> None:
    """The XLSX rendering (title rows, 'Rp 1.234.567', 'Mei 2026', '5 Januari 2026', 'Ya')."""
    ds = CATALOG.dataset(ds_id)
    gf = generate_dataset(ds, CATALOG, fmt="xlsx", seed=3, defect_rate=0.3)
    cells = read_cells(gf.data, gf.filename)
    assert_same(_csv(_as_csv(cells)), f"{ds_id}.csv", ds)
    assert_same(_csv(_as_csv(cells), delim=";", newline="\r\n"), f"{ds_id}_semicolon.csv", ds)


# ---------------------------------------------------------------- 2. messy files

MESSY = [BANK, PAJAK, ADUAN, TANI, TAMAN, "bank_undotted"]
ENCODINGS = ["utf-8", "cp1252"]
TITLE_ROWS = [0, 1, 2]


def _messy_ds(name: str) -> Dataset:
    if name == "bank_undotted":  # a region block that allows 10-digit codes without dots
        return _variant(BANK, {"undotted": True})
    return CATALOG.dataset(name)


@pytest.mark.parametrize("title_rows", TITLE_ROWS)
@pytest.mark.parametrize("delimiter", DELIMITERS, ids=["semicolon", "comma", "tab"])
@pytest.mark.parametrize("line_end", LINE_ENDS, ids=["CR", "CRLF", "LF"])
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", MESSY)
def test_messy_files_are_the_same(
    name: str, encoding: str, line_end: str, delimiter: str, title_rows: int
) -> None:
    ds = _messy_ds(name)
    m = messy_file(
        ds,
        CATALOG,
        250,
        seed=11,
        rate=0.05,
        encoding=encoding,
        line_end=line_end,
        delimiter=delimiter,
        title_rows=title_rows,
    )
    assert_same(m.data, m.filename, ds, aliases=CATALOG.aliases)


@pytest.mark.parametrize("name", MESSY)
def test_very_messy_files_are_the_same(name: str) -> None:
    """Every defect in a third of the rows: conventions and region counts under pressure."""
    ds = _messy_ds(name)
    for seed in (1, 2, 3):
        m = messy_file(ds, CATALOG, 300, seed=seed, rate=0.3)
        assert_same(m.data, m.filename, ds, aliases=CATALOG.aliases)


# ---------------------------------------------------------------- 3. real files

REAL = "samples/real"
REAL_FILES: dict[str, dict[str, str]] = {
    "kabbandung-satudata/penduduk3204.csv": {"regency": "32.04", "opd": "disdukcapil"},
    "jabar-dukcapil-desa/gis-dukcapil.csv": {
        "regency": "32.04",
        "opd": "disdukcapil",
        "scope": "32",
    },
    "sumsel-bps-tables/Nikah dan Cerai Menurut Kabupaten_Kota di Provinsi Sumatera Selatan, "
    "2022.csv": {"regency": "16.03", "opd": "dinsos", "scope": "16"},
    "lumajang-alunalun-reviews/reviews_clean.csv": {"regency": "16.06", "opd": "dlh"},
    "mobilejkn-playstore-reviews/sentimen_mobileJKN.csv": {"regency": "16.06", "opd": "dlh"},
}
KABBANDUNG = """\
kode: "32.04"
slug: kabbandung
name: Kabupaten Bandung
walidata: Dinas Komunikasi, Informatika dan Statistik Kabupaten Bandung
walidata_email: satudata@bandungkab.go.id
opds:
  - code: disdukcapil
    name: Dinas Kependudukan dan Pencatatan Sipil
    contacts: [{name: Operator Data Disdukcapil, email: disdukcapil@bandungkab.go.id}]
"""


@pytest.fixture(scope="module")
def onboarding(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, str], Dataset]:
    """The dataset `serasan onboard` drafts from a real file (cached per file), in a copy of
    the catalog with Kabupaten Bandung added (as the reviewer of test_real_files does)."""
    root = tmp_path_factory.mktemp("onboard") / "catalog"
    shutil.copytree(CATALOG_DIR, root)
    (root / "regencies" / "kabbandung.yaml").write_text(KABBANDUNG, encoding="utf-8")
    structure = load_catalog(root)
    drafted: dict[Path, Dataset] = {}

    def dataset(path: Path, rel: str) -> Dataset:
        if path not in drafted:
            d = draft(
                path.read_bytes(),
                path.name,
                structure,
                "uji_berkas_nyata",
                pillar="society",
                check=False,
                **REAL_FILES[rel],  # type: ignore[arg-type]
            )
            drafted[path] = d.dataset
        return drafted[path]

    return dataset


def _edited(ds: Dataset, edit: Callable[[dict[str, Any]], None]) -> Dataset:
    data = ds.model_dump()
    edit(data)
    return Dataset.model_validate(data)


def _name_column(column: str) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["region"]["name_column"] = column

    return edit


def _no_lost_dot(data: dict[str, Any]) -> None:
    for c in data["columns"]:
        c["thousands_dot_lost"] = False


def _jabar_reviewed(data: dict[str, Any]) -> None:
    """The reviewer's edits of test_real_files: the file's BPS code kept, the name checked."""
    data["columns"].append(_string("kode_desa_bps", "Kode desa BPS"))
    data["region"].update(name_column="kelurahan_desa", source_column="kode_desa_bps")
    data["period"]["constant"] = None


REAL_VARIANTS: list[tuple[str, str, Callable[[dict[str, Any]], None] | None, str | None]] = [
    ("kabbandung-satudata/penduduk3204.csv", "draft", None, None),
    ("kabbandung-satudata/penduduk3204.csv", "name_column", _name_column("wilayah"), None),
    ("kabbandung-satudata/penduduk3204.csv", "without_lost_dot", _no_lost_dot, None),
    ("jabar-dukcapil-desa/gis-dukcapil.csv", "draft", None, None),
    ("jabar-dukcapil-desa/gis-dukcapil.csv", "reviewed_2021", _jabar_reviewed, "2021"),
    (list(REAL_FILES)[2], "draft", None, None),
    (list(REAL_FILES)[2], "period_given", None, "2022"),
    ("lumajang-alunalun-reviews/reviews_clean.csv", "draft", None, None),
    ("mobilejkn-playstore-reviews/sentimen_mobileJKN.csv", "draft", None, None),
]


def test_every_real_csv_is_in_the_corpus(shared_dir: Path) -> None:
    found = {str(p.relative_to(shared_dir / REAL)) for p in (shared_dir / REAL).rglob("*.csv")}
    assert found == set(REAL_FILES)
    assert {rel for rel, *_ in REAL_VARIANTS} == set(REAL_FILES)


@pytest.mark.parametrize(
    ("rel", "variant", "edit", "period"),
    REAL_VARIANTS,
    ids=[f"{Path(r).parent.name}-{v}" for r, v, _, _ in REAL_VARIANTS],
)
def test_real_csv_files_are_the_same(
    shared_dir: Path,
    onboarding: Callable[[Path, str], Dataset],
    rel: str,
    variant: str,
    edit: Callable[[dict[str, Any]], None] | None,
    period: str | None,
) -> None:
    path = shared_dir / REAL / rel
    ds = onboarding(path, rel)
    if edit is not None:
        ds = _edited(ds, edit)
    assert_same(path.read_bytes(), path.name, ds, period, aliases=CATALOG.aliases)


JAKARTA = sorted(p.name for p in (FIXTURES_DIR / "jakarta").glob("*.yaml"))


@pytest.mark.parametrize("name", JAKARTA)
def test_jakarta_samples_are_the_same(shared_dir: Path, name: str) -> None:
    ds = Dataset.model_validate(
        yaml.safe_load((FIXTURES_DIR / "jakarta" / name).read_text(encoding="utf-8"))
    )
    path = shared_dir / "samples" / "jakarta" / ds.source.params["sample"]
    assert_same(path.read_bytes(), path.name, ds)


# ---------------------------------------------------------------- 4. hostile and odd inputs


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes
    ds: Dataset
    filename: str = "berkas.csv"
    period: str | None = None
    aliases: AliasTable | None = None


def _cases() -> Iterator[Case]:  # noqa: C901 - one list, read top to bottom
    cctv = CATALOG.dataset(CCTV)
    pajak = CATALOG.dataset(PAJAK)
    aduan = CATALOG.dataset(ADUAN)
    sampah = CATALOG.dataset(SAMPAH)
    karet = CATALOG.dataset(KARET)
    head = ",".join(HEADER)

    def c(id_: str, data: bytes, ds: Dataset = cctv, **kw: Any) -> Case:
        return Case(id_, data, ds, **kw)

    # --- quotes
    yield c(
        "quoted_newline", _lines([head, *_good(2), '2026-05-01,CCTV-9,16.06.01,"Pasar\nRandik",1'])
    )
    yield c(
        "quoted_newline_crlf",
        _lines(
            [head, *_good(2), '2026-05-01,CCTV-9,16.06.01,"Pasar\r\nRandik",1', *_good(2, 5)],
            "\r\n",
        ),
    )
    yield c(
        "quoted_newline_cr", _lines([head, '2026-05-01,CCTV-9,16.06.01,"A\rB",1', *_good(2)], "\r")
    )
    yield c("quoted_cells_one_line", _csv([HEADER, *[r.split(",") for r in _good(3)]]))
    yield c(
        "quoted_delimiter_in_cell",
        _lines([head, '2026-05-01,CCTV-1,16.06.01,"Pasar, Randik",600', *_good(2, 2)]),
    )
    yield c("doubled_quotes", _lines([head, '2026-05-01,CCTV-1,16.06.01,"Toko ""Maju""",600']))
    yield c(
        "quote_inside_unquoted_cell",
        _lines([head, '2026-05-01,CCTV-1,16.06.01,Toko 5" Sekayu,600', *_good(2, 2)]),
    )
    yield c(
        "quote_in_middle_of_cell", _lines([head, '2026-05-01,CCTV-1,16.06.01,Pasar "Randik",600'])
    )
    yield c(
        "unclosed_quote_at_end",
        _lines(
            [
                head,
                *_good(3, hours="600"),
                '2026-05-01,"CCTV-009,16.06.01,Pasar,1',
                "2026-05-01,CCTV-010,16.06.01,Pasar,1",
            ]
        ),
    )
    yield c(
        "unclosed_quote_paired_later",
        _lines(
            [
                head,
                *_good(3),
                '2026-05-01,"CCTV-009,16.06.01,Pasar,1',
                *_good(5, 10),
                '2026-05-01,CCTV-2,16.06.01,"Pasar",1',
            ]
        ),
    )
    big = [head, *_good(2, hours="600"), '2026-05-01,"CCTV-009,16.06.01,Pasar,1']
    yield c("unclosed_quote_large_file", _lines(big + _good(60_000, 10, hours="600")))
    yield c("quote_after_text_in_cell", _lines([head, '2026-05-01,CCTV-1,16.06.01,Pasar"x"y,600']))
    # --- bytes
    nul = _lines([head, *_good(3)]).replace(b"CCTV-002", b"CCTV\x00002")
    yield c("nul_near_start", nul)
    late_nul = _lines([head, *_good(3000)]).replace(b"CCTV-2500", b"CCTV\x002500")
    yield c("nul_after_the_sniffed_head", late_nul)
    yield c("bom", b"\xef\xbb\xbf" + _lines([head, *_good(3)]))
    yield c(
        "bom_semicolon_crlf",
        b"\xef\xbb\xbf"
        + _lines([h.replace(",", ";") for h in [head, *_good(3, hours="600")]], "\r\n"),
    )
    unicode_rows = [
        HEADER,
        ["Mei 2026", "CCTV-001", "16.06.01", "Jembatan Ampera – Sekayu", "600,5"],
        ["Juni 2026", "CCTV-002", "16.6.2", "Pasar Randik", "1.234,25"],
    ]
    for enc in ("utf-16", "utf-16-le", "utf-16-be"):
        yield c(f"{enc}", _csv(unicode_rows, encoding=enc))
    yield c(
        "cp1252_accents",
        _csv(
            [HEADER, ["2026-05-01", "CCTV-001", "16.06.01", "Kedai Andrés Muñoz", "600,5"]],
            encoding="cp1252",
        ),
    )
    yield c(
        "cp1252_ellipsis_marker",
        b"Periode,Kode Kamera,Kode Kecamatan,Lokasi,Jam Online\n2026-05-01,CCTV-1,16.06.01,Pasar,\x85\n",
    )
    stray = _lines([head, *_good(2500)]).decode()
    yield c(
        "stray_cp1252_byte_after_100kb",
        stray.encode() + b"2026-05-01,CCTV-999,16.06.01,Caf\xe9 Sekayu \xe2\x80\x93 UTF-8 too,1\n",
    )
    yield c(
        "utf8_non_ascii_names",
        _lines([head, "2026-05-01,CCTV-1,16.06.01,Nyimas Şahin – Ñusa ✓,600", *_good(2, 2)]),
    )
    yield c(
        "nbsp_in_cells",
        _lines(
            [
                head,
                '2026-05-01,CCTV-1,\u00a016.06.01\u00a0,Pasar\u00a0Randik,"1\u00a0234,5"',
                "2026-05-01,CCTV-2,16.06.01,Pasar,1\u00a0234",
            ]
        ),
    )
    yield c(
        "unit_separator_in_cell",
        _lines([head, "2026-05-01,CCTV-1,16.06.01,Pasar\x1fRandik,600", *_good(2, 2)]),
    )
    yield c(
        "control_chars_in_cells",
        _lines([head, "2026-05-01,CCTV-1,16.06.01,Pasar\x0bRandik\x0c,600", *_good(2, 2)]),
    )
    yield c(
        "line_separator_u2028",
        _lines([head, "2026-05-01,CCTV-1,16.06.01,Pasar\u2028Randik,600", *_good(2, 2)]),
    )
    yield c(
        "fullwidth_and_arabic_digits",
        _lines(
            [
                head,
                "2026-05-01,CCTV-1,16.06.01,Pasar,１２３",
                "2026-05-01,CCTV-2,16.06.01,Pasar,١٢٣",
                *_good(2, 3),
            ]
        ),
    )
    # --- long lines
    yield c(
        "two_mb_cell",
        _lines(
            [head, *_good(2), "2026-05-01,CCTV-3,16.06.01," + "x" * (2 * MB) + ",600", *_good(1, 4)]
        ),
    )
    yield c("two_mb_single_line", (head + "," + "y" * (2 * MB)).encode())
    yield c("two_mb_of_cells_on_one_line", _lines([head, ",".join(["1"] * (MB))]))
    yield c("six_hundred_columns", _lines([head, *_good(1), ",".join(["x"] * 600)]))
    # --- shape
    ragged = [
        head,
        *_good(2),
        "2026-05-01,CCTV-010,16.06.01,Pasar Randik,600,catatan lebih",
        "2026-05-01,CCTV-011,16.06.01",
        "2026-05-01,CCTV-012,16.06.01,Pasar Randik,600,,,",
        "2026-05-01,CCTV-013,16.06.01,Pasar Randik",
        "2026-05-01",
    ]
    yield c("ragged_rows", _lines(ragged))
    yield c("ragged_majority", _lines([head, *[r + ",x" for r in _good(6)], *_good(2, 7)]))
    yield c(
        "blank_and_delimiter_only_lines",
        _lines(
            [head, "", *_good(1), ",,,,", "   ", "\t", " , , ,, ", ",,,,,,,,", *_good(1, 2), ""]
        ),
    )
    yield c(
        "whitespace_around_cells",
        _lines(
            [
                head,
                " 2026-05-01 , CCTV-1 ,  16.06.01 , Pasar Randik ,  600.5 ",
                "\t2026-05-01\t,CCTV-2,16.06.01\t,\tPasar,\t600\t",
                '2026-05-01,CCTV-3,16.06.01,Pasar, "600,5"',
            ]
        ),
    )
    yield c(
        "tab_delimited", _csv([HEADER, *[r.split(",") for r in _good(3, hours="600")]], delim="\t")
    )
    yield c(
        "tab_delimited_with_spaces",
        _lines(["\t".join(HEADER), "2026-05-01\t CCTV-1 \t16.06.01\tPasar Randik\t 600,5 "]),
    )
    yield c("trailing_delimiters", _lines([head + ",", *[r + "," for r in _good(3, hours="600")]]))
    yield c(
        "trailing_delimiters_semicolon",
        _lines([head.replace(",", ";") + ";;;", *[r.replace(",", ";") + ";;;" for r in _good(3)]]),
    )
    titles = ["LAPORAN CCTV", "Kabupaten Musi Banyuasin", "", "Keadaan Mei 2026"]
    yield c("header_on_line_5", _lines([*titles, head, *_good(3)]))
    yield c("header_on_line_5_padded", _lines([t + ",,,," for t in titles] + [head, *_good(3)]))
    yield c("header_only", _lines([head]))
    yield c("header_only_no_newline", head.encode())
    yield c("header_and_blank_lines", _lines([head, "", "", ",,,,"]))
    for data, label in [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "bom_only"),
        (b"\xff\xfe", "utf16_bom_only"),
        (b"  \r\n\t \n\n   ", "whitespace_only"),
    ]:
        yield c(f"{label}_file", data)
    yield c("no_header_at_all", b"apa saja\nbukan data\n")
    yield c(
        "renamed_column", _lines(["Periode,Kode Kamera,Kecamatan,Lokasi,Jam Online", *_good(2)])
    )
    yield c(
        "html_error_page",
        b"\n  <!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body></body></html>\n",
    )
    yield c("json_array", b'[{"periode": "2026-05-01", "kode_kamera": "CCTV-001"}]')
    yield c("csv_named_xlsx", _lines([head, *_good(2)]), filename="laporan.xlsx")
    yield c(
        "extra_labelled_column",
        _lines([head + ",Keterangan", *[r + ",kamera baru" for r in _good(2)], *_good(1, 3)]),
    )
    yield c(
        "columns_reordered",
        _lines(
            [
                "Lokasi,Jam Online,Kode Kamera,Periode,Kode Kecamatan",
                "Pasar,600,CCTV-1,2026-05-01,16.06.01",
            ]
        ),
    )
    yield c("repeated_header_midway", _lines([head, *_good(2), head, *_good(2, 3)]))
    # --- line ends
    yield c("cr_only", _lines([head, *_good(5)], "\r"))
    yield c("crlf", _lines([head, *_good(5)], "\r\n"))
    yield c(
        "mixed_crlf_lf",
        b"".join(
            (line + ("\r\n" if i % 2 else "\n")).encode()
            for i, line in enumerate([head, *_good(6)])
        ),
    )
    yield c(
        "mixed_cr_lf",
        b"".join(
            (line + ("\r" if i % 3 == 0 else "\n")).encode()
            for i, line in enumerate([head, *_good(7)])
        ),
    )
    yield c("double_cr_before_lf", _lines([head, *_good(4)], "\r\r\n"))
    yield c("no_final_newline", _lines([head, *_good(3)]).rstrip(b"\n"))
    yield c("final_lone_cr", _lines([head, *_good(3)]) + b"\r")
    # --- headers
    wisata = CATALOG.dataset(WISATA)
    merged = [
        ["Bulan", "Objek Wisata", "Kode Kecamatan", "Wisatawan", ""],
        ["", "", "", "Nusantara", "Mancanegara"],
        ["2026-05-01", "Bukit Serelo", "16.03.01", "1200", "3"],
        ["Juni 2026", "Danau Shuji", "16.03.02", "1.300", "-"],
    ]
    yield c("merged_two_row_header", _csv(merged), wisata)
    yield c("merged_header_below_titles", _csv([["DATA KUNJUNGAN WISATA"], [], *merged]), wisata)
    labels = [
        "  NOMOR  TIKET ",
        "tanggal masuk",
        "Kode-Kecamatan",
        "KATEGORI",
        "nama pelapor",
        "No HP Pelapor",
        "STATUS ",
    ]
    yield c(
        "header_by_odd_labels",
        _csv([labels, ["LPR-1", "2026-01-05", "16.03.01", "Kesehatan", "Budi", "0811", "Selesai"]]),
        aduan,
    )
    # --- summary rows
    summary = [
        ["LAPORAN TIMBULAN SAMPAH"],
        _labels(SAMPAH),
        ["2026-05-01", "16.03.01", "512,5", "200,25"],
        [],
        ["2026-05-01", "16.03.02", "600", "250"],
        ["Jumlah", "", "1.112,5", "450,25"],
        ["", "", "", ""],
        ["", "TOTAL KESELURUHAN", "1.112,5", "450,25"],
        ["  jumlah", "", "1", "1"],
        ["Sub Total", "", "1", "1"],
        ["Grand total:", "", "1", "1"],
        ["TOTAL", "16.03.03", "1", "1"],
        ["Jumlah Kecamatan", "16.03.04", "1", "1"],
    ]
    yield c("summary_rows", _csv(summary), sampah)
    usaha = _custom(
        [
            _col("nama_usaha", "string", nullable=False),
            TAHUN,
            _col("omzet", "number", nullable=False),
        ],
        YEAR,
    )
    business = [
        ["nama_usaha", "tahun", "omzet"],
        ["TOTAL MAKMUR", "2025", "1.000"],
        ["Total Makmur Jaya", "2025", "2.000"],
        ["TOTAL MAKMUR", "", "3.000"],
        ["Jumlah", "2025", "6.000"],
        ["TOTAL KESELURUHAN:", "2025", "6.000"],
        ["Totalindo", "2025", "5"],
    ]
    yield c("summary_words_and_a_business_called_total_makmur", _csv(business), usaha)
    # --- numbers
    pajak_rows = [
        _labels(PAJAK),
        ["2026-05-01", "16.06.01", "PBB-P2", "1.234.567,89", "Rp 1.000.000", "2014.0"],
        ["2026-05-01", "16.06.02", "PBB-P2", "Rp 1.250.000", "Rp1.000.000", "-"],
        ["2026-05-01", "16.06.03", "PBB-P2", "Rp. 500.000", "-Rp 350.000", "15"],
        ["2026-05-01", "16.06.04", "PBB-P2", "-1.234,5", "IDR 2.000", ""],
        ["2026-05-01", "16.06.05", "PBB-P2", "(1.000)", "(Rp 1.000)", "7.0"],
        ["2026-05-01", "16.06.06", "PBB-P2", "-", "1 250 000", "20"],
        ["2026-05-01", "16.06.07", "PBB-P2", "1\u00a0250\u00a0000", "+5", "+5"],
        ["2026-05-01", "16.06.08", "PBB-P2", "-0", "-0,0", "-0"],
        ["2026-05-01", "16.06.09", "PBB-P2", "007", "0,5", "007"],
        ["2026-05-01", "16.06.10", "PBB-P2", "1e5", "1E5", "1e5"],
        ["2026-05-01", "16.06.11", "PBB-P2", "nan", "inf", "NaN"],
        ["2026-05-01", "16.06.12", "PBB-P2", "1_000", "Infinity", "1.5"],
        ["2026-05-01", "16.06.13", "PBB-P2", ",5", "-,5", "12,5"],
        ["2026-05-01", "16.06.14", "PBB-P2", "1.000", "1,000", "1.000"],
        ["2026-05-01", "16.06.15", "PBB-P2", "Rp -1.000", "- 1.000", "1,000"],
    ]
    yield c("indonesian_numbers_money_and_odd_numbers", _csv(pajak_rows), pajak)
    yield c("indonesian_numbers_semicolon", _csv(pajak_rows, delim=";"), pajak)
    huge = [
        _labels(PAJAK),
        ["2026-05-01", "16.06.01", "PBB-P2", "1", "1", "12345678901234567890"],
        ["2026-05-01", "16.06.02", "PBB-P2", "1", "1", "9223372036854775807"],
        ["2026-05-01", "16.06.03", "PBB-P2", "1", "1", "9007199254740993"],
        ["2026-05-01", "16.06.04", "PBB-P2", "123456789012345678901234567890", "1", "5"],
        ["2026-05-01", "16.06.05", "PBB-P2", "1", "1", "999999999999999999"],
    ]
    for i in range(1, len(huge)):
        yield c(f"huge_number_{i}", _csv([huge[0], huge[i]]), pajak)
    yield c(
        "ambiguous_thousands_only",
        _csv(
            [
                _labels(SAMPAH),
                ["2026-05-01", "16.03.01", "1,000", "1.000"],
                ["2026-05-01", "16.03.02", "2,000", "2.000"],
            ]
        ),
        sampah,
    )
    yield c(
        "conventions_per_column",
        _csv(
            [
                _labels(SAMPAH),
                ["2026-05-01", "16.03.01", "1234.5", "1.234,5"],
                ["2026-05-01", "16.03.02", "1.234", "1.234"],
                ["2026-05-01", "16.03.03", "1,234.75", "12.345.678"],
                ["2026-05-01", "16.03.04", "600", "250"],
            ]
        ),
        sampah,
    )
    yield c(
        "mixed_conventions_in_one_column",
        _csv(
            [
                _labels(SAMPAH),
                *[
                    ["2026-05-01", f"16.03.{i:02d}", v, "1"]
                    for i, v in enumerate(["1.5", "2,5", "3.25", "1.234,5", "1,234.5", "7"], 1)
                ],
            ]
        ),
        sampah,
    )
    yield c(
        "tied_conventions_first_seen_wins",
        _csv(
            [
                _labels(SAMPAH),
                ["2026-05-01", "16.03.01", "2,5", "1"],
                ["2026-05-01", "16.03.02", "1.5", "1"],
            ]
        ),
        sampah,
    )
    yield c(
        "value_against_convention",
        _csv(
            [
                _labels(SAMPAH),
                ["2026-05-01", "16.03.01", "512.5", "1.200,25"],
                ["2026-05-01", "16.03.02", "1.234,5", "12.5"],
            ]
        ),
        sampah,
    )
    counts = _custom([KODE, TAHUN, _col("jumlah", "integer")], YEAR)
    ints = [
        "1.5",
        "12,5",
        "50.36",
        "5.1",
        "1.000",
        "2.500.000",
        "-0",
        "+5",
        "007",
        "1e5",
        "12345678901234567",
        "1,000",
        " 42 ",
        "4 2",
    ]
    yield c(
        "integer_column_odd_values",
        _csv([["kode", "tahun", "jumlah"], *[[f"K{i}", 2024, v] for i, v in enumerate(ints)]]),
        counts,
    )
    lost = _custom([KODE, TAHUN, _col("penduduk", "integer", thousands_dot_lost=True)], YEAR)
    cells = ["50.36", "167.228", "5.1", "1.234.567", "0", "2500", "950", "NA", "-", "-12.5", "1,5"]
    yield c(
        "thousands_dot_lost",
        _csv([["kode", "tahun", "penduduk"], *[[f"K{i}", 2024, v] for i, v in enumerate(cells)]]),
        lost,
    )
    # --- empty markers, dash, yes/no
    mixed_cols = [
        KODE,
        TAHUN,
        _col("jumlah", "number"),
        _col("tanggal", "date"),
        _col("aktif", "boolean"),
        _col("catatan", "string"),
    ]
    markers = [
        "NA",
        "N/A",
        "n/a",
        "...",
        "…",
        "#N/A",
        "n.a.",
        "-",
        "\u2013",
        " - ",
        "",
        "na",
        "NULL",
    ]
    marker_rows: list[list[Any]] = [["kode", "tahun", "jumlah", "tanggal", "aktif", "catatan"]]
    marker_rows += [[f"K{i}", 2024, m, m, m, m] for i, m in enumerate(markers)]
    marker_rows += [["K99", 2024, "1.250,5", "15/01/2024", "ya", "ok"]]
    yield c("empty_markers", _csv(marker_rows), _custom(mixed_cols, YEAR))
    yield c("empty_markers_dash_zero", _csv(marker_rows), _custom(mixed_cols, YEAR, dash="zero"))
    declared = [
        KODE,
        TAHUN,
        _col("col_a", "integer"),
        _col("col_b", "integer", na_values=["x"]),
        _col("catatan", "string", na_values=["N/A"]),
    ]
    declared_rows: list[list[Any]] = [
        ["kode", "tahun", "col_a", "col_b", "catatan"],
        ["K1", 2024, "Tidak Ada", "X", "N/A"],
        ["K2", 2024, "NA", 3, "-"],
        ["K3", 2024, "tidak ada", "x", "n/a"],
    ]
    yield c(
        "declared_markers", _csv(declared_rows), _custom(declared, YEAR, na_values=["tidak ada"])
    )
    bools = [
        "ya",
        "Y",
        "TRUE",
        "1",
        "benar",
        "ada",
        "tidak",
        "t",
        "N",
        "false",
        "0",
        "salah",
        "tidak ada",
        "maybe",
        "Ya ",
        "2",
    ]
    yield c(
        "yes_no_values",
        _csv([["kode", "tahun", "aktif"], *[[f"K{i}", 2024, b] for i, b in enumerate(bools)]]),
        _custom([KODE, TAHUN, _col("aktif", "boolean")], YEAR),
    )

    # --- dates
    def dates(values: list[str]) -> bytes:
        rows: list[list[Any]] = [_labels(ADUAN)]
        rows += [
            [f"LPR-{i:04d}", d, "16.03.01", "Kesehatan", "Siti", "", "Selesai"]
            for i, d in enumerate(values, 1)
        ]
        return _csv(rows)

    yield c("dates_dmy", dates(["13/02/2026", "03/04/2026", "5/6/26", "2026-03-15"]), aduan)
    yield c("dates_mdy", dates(["02/13/2026", "03/04/2026", "5/6/26"]), aduan)
    yield c("dates_mixed_dmy_mdy", dates(["13/02/2026", "03/04/2026", "02/13/2026"]), aduan)
    yield c("dates_all_ambiguous", dates(["03/04/2026", "05/06/2026", "2026-07-08"]), aduan)
    yield c("date_impossible_both_ways", dates(["13/02/2026", "13/13/2026", "03/04/2026"]), aduan)
    yield c(
        "dates_dots_and_dashes",
        dates(["13.02.2026", "14-02-2026", "15-2-26", "2026-2-16", "2026-02-30", "2026-13-01"]),
        aduan,
    )
    yield c(
        "dates_words_and_abbreviations",
        dates(
            [
                "5 Januari 2026",
                "5 Agt 2026",
                "17 Agustus 2026",
                "1 Pebruari 2026",
                "2 Peb 2026",
                "09 Mei 2026",
                "3 Okt. 2026",
                "10 Nop 2026",
                "25 Des 2026",
                "Nop 2025",
                "Januari-2026",
                "5 Bulan 2026",
            ]
        ),
        aduan,
    )
    yield c(
        "excel_serial_numbers_in_csv",
        dates(["46027", "46027.75", "2026-01-07", "0", "99999"]),
        aduan,
    )
    yield c(
        "dates_with_times",
        dates(["2026-01-05 08:30", "2026-01-05T08:30:00", "05/01/2026 08:30"]),
        aduan,
    )
    yield c("dates_with_spaces", dates([" 2026-01-05 ", "\t13/02/2026", "5  Januari  2026"]), aduan)
    month = _csv(
        [
            _labels(SAMPAH),
            *[
                [p, f"16.03.{i:02d}", "1", "1"]
                for i, p in enumerate(
                    [
                        "Mei 2026",
                        "Agt 2026",
                        "15 Juni 2026",
                        "2026-07-20",
                        "20/09/2026",
                        "2026-07-01",
                    ],
                    1,
                )
            ],
        ]
    )
    yield c("month_period_truncated", month, sampah)
    # --- periods
    years = _csv(
        [
            _labels(KARET),
            *[
                [y, f"16.03.{i:02d}", "1", "1", "1"]
                for i, y in enumerate(
                    [
                        "2025",
                        " 2025 ",
                        "2025,0",
                        "2025.0",
                        "2.025",
                        "Tahun 2025",
                        "25",
                        "2025-01-01",
                    ],
                    1,
                )
            ],
        ]
    )
    yield c("years_as_periods", years, karet)
    no_period = _csv([["kode", "jumlah"], ["K1", 10], ["K2", 20]])
    cols = [KODE, TAHUN, _col("jumlah", "integer")]
    yield c("period_missing_without_context", no_period, _custom(cols, YEAR))
    yield c("period_from_context_argument", no_period, _custom(cols, YEAR), period="2025")
    yield c("period_from_catalog_constant", no_period, _custom(cols, {**YEAR, "constant": "2021"}))
    from_name = _custom(cols, {**YEAR, "from_filename": r"(?P<year>\d{4})"})
    yield c("period_from_file_name", no_period, from_name, filename="penduduk_2019_final.csv")
    yield c("period_file_name_without_one", no_period, from_name, filename="penduduk.csv")
    yield c(
        "period_argument_over_file_name",
        no_period,
        from_name,
        filename="data_2019.csv",
        period="2020",
    )
    yield c("period_argument_not_a_year", no_period, _custom(cols, YEAR), period="2020-03")
    agree = _csv(
        [
            ["kode", "tahun", "jumlah"],
            ["K1", 2021, 1],
            ["K2", "", 2],
            ["K3", 2019, 3],
            ["K4", "2021.0", 4],
            ["K5", "NA", 5],
        ]
    )
    yield c(
        "period_column_must_agree_with_context", agree, _custom(cols, {**YEAR, "constant": "2021"})
    )
    month_cols = [KODE, _col("periode", "date", nullable=False), _col("jumlah", "integer")]
    month_ds = _custom(
        month_cols,
        {
            "column": "periode",
            "granularity": "month",
            "from_filename": r"(?P<month>[A-Za-z]+)[_ ](?P<year>\d{4})",
        },
        primary_key=["kode", "periode"],
    )
    yield c("month_period_from_file_name", no_period, month_ds, filename="sampah_Maret_2025.csv")
    month_rows = _csv(
        [
            ["kode", "periode", "jumlah"],
            ["K1", "Maret 2025", 1],
            ["K2", "2025-03-15", 2],
            ["K3", "April 2025", 3],
            ["K4", "", 4],
        ]
    )
    yield c(
        "month_period_column_and_file_name", month_rows, month_ds, filename="sampah_Maret_2025.csv"
    )
    # --- regions
    bank = CATALOG.dataset(BANK)

    def bank_file(codes: list[str], names: list[str] | None = None) -> bytes:
        labels = [
            "Periode",
            "Kode Bank Sampah",
            "Kode Desa",
            "Nasabah Aktif",
            "Sampah Terkelola (kg)",
            "Nilai Tabungan (Rp)",
        ]
        rows: list[list[Any]] = [labels + (["Nama Desa"] if names is not None else [])]
        for i, code in enumerate(codes):
            row = ["2026-05-01", f"BS-1606-{i:03d}", code, 10, "12,5", "Rp 100.000"]
            rows.append(row + ([names[i]] if names is not None else []))
        return _csv(rows)

    def cctv_file(values: list[str], year: int = 2026) -> bytes:
        rows: list[list[Any]] = [HEADER]
        rows += [
            [f"{year}-05-01", f"CCTV-{i:03d}", v, "Pasar Randik", "600"]
            for i, v in enumerate(values)
        ]
        return _csv(rows)

    kec = [
        "16.06.01",
        "16.6.2",
        "160603",
        "16. 06. 04",
        " 16.06.05 ",
        "16.06.99",
        "16.03.01",
        "16.06",
        "1606",
        "16.06.01.2001",
        "abc",
        "16.06.15",
        "16.06.03",
    ]
    yield c("region_codes_written_many_ways", cctv_file(kec), aliases=CATALOG.aliases)
    yield c("region_codes_2018", cctv_file(kec, year=2018), aliases=CATALOG.aliases)
    villages = [
        "16.06.03.2001",
        "16.06.15.2002",
        "1606152003",
        "16.6.15.2004",
        "16.06.01.2001",
        "1606031007",
        "16.06.99.2999",
    ]
    yield c("region_superseded_and_ten_digit", bank_file(villages), bank, aliases=CATALOG.aliases)
    yield c(
        "region_undotted_allowed",
        bank_file(villages),
        _variant(BANK, {"undotted": True}),
        aliases=CATALOG.aliases,
    )
    source = _variant(BANK, {"source_column": "kode_desa_asli"}, [_string("kode_desa_asli")])
    yield c("region_source_column", bank_file(villages), source, aliases=CATALOG.aliases)
    bps = _variant(
        BANK,
        {"scheme": "bps", "source_column": "kode_desa_bps"},
        [_string("kode_desa_bps", "Kode Desa BPS")],
    )
    yield c(
        "region_bps_scheme",
        bank_file(
            ["1606031007", "1606031008", "1606010001", "16.06.01.2001", "1603050004", "160601"]
        ),
        bps,
        aliases=CATALOG.aliases,
    )
    bps_all = [f"16060{k}{j:03d}" for k in range(10, 30) for j in range(1, 12)]
    yield c(
        "region_bps_codes_under_default_scheme", bank_file(bps_all), bank, aliases=CATALOG.aliases
    )
    names = _variant(CCTV, {"scheme": "name", "source_column": "nama_asli"}, [_string("nama_asli")])
    kec_names = [
        "Kec. Sungai Lilin",
        "KECAMATAN LAIS",
        "sungai  keruh",
        "Jirak Jaya",
        "Kec.Lais",
        "Sekayu",
        "Tidak Ada",
        "Musi Banyuasin",
        "Kabupaten Musi Banyuasin",
        "16.06.01",
        "Babat Toman",
        "Lawang Wetan",
    ]
    yield c("region_names", cctv_file(kec_names), names, aliases=CATALOG.aliases)
    named = _variant(BANK, {"name_column": "nama_desa"}, [_string("nama_desa", "Nama Desa")])
    yield c(
        "region_name_column_checked",
        bank_file(
            ["16.06.15.2001", "16.06.03.2001", "16.06.01.2001", "16.06.01.2002"],
            ["Jirak", "Jirak", "Sekayu", "Soak Baru"],
        ),
        named,
        aliases=CATALOG.aliases,
    )

    parent = _variant(
        BANK, {"scheme": "name", "parent_column": "kecamatan"}, (_string("kecamatan", "Kecamatan"),)
    )
    yield c(
        "region_names_within_a_parent_column",
        bank_file(
            ["Mekar Jaya", "Desa Jirak", "Mekar Jaya", "Jirak", "Kayu Ara", "Soak Baru"],
            ["Kec. Jirak Jaya", "Kec. Jirak Jaya", "Jirak Jaya Baru", "", "Sekayu", "16.06.01"],
        ).replace(b"Nama Desa", b"Kecamatan"),
        parent,
        aliases=CATALOG.aliases,
    )
    in_file = _variant(
        BANK, {"source_column": "kode_desa_asli"}, (_string("kode_desa_asli", "Kode Asli"),)
    )
    yield c(
        "region_source_column_also_in_the_file",
        bank_file(["16.06.03.2001", "16.06.01.2001", ""], ["X1", "", "X3"]).replace(
            b"Nama Desa", b"Kode Asli"
        ),
        in_file,
        aliases=CATALOG.aliases,
    )
    # --- more shapes of numbers, dates and markers
    shapes = [
        "Rp 15.382.417",
        "Rp15.382.417",
        "RP. 1.000",
        "rp 1.000",
        "Rp.1.000",
        "idr 1.000",
        "IDR1.000",
        "Rp\t1.000",
        "Rp  1.000",
        "-Rp 1.000",
        "Rp -1.000",
        "Rp-1.000",
        "Rp - 1.000",
        "Rp 1.000,-",
        "Rp 1.000,00",
        "Rp\u00a01.000",
        "1.000.000,5",
        "1.00.000",
        "12.34.567",
        ",5",
        "1.",
        "1,",
        "Rp",
        "Rp ",
        "Rp 0",
        "Rp 01.000",
        "+1.000",
        "1.000,0",
        "(Rp 1.000)",
        "( 1.000 )",
        "Rp 9.007.199.254.740.993",
        "1 234 567",
        "1\u00a0234\u00a0567",
        "1.234.567,891",
    ]
    shape_rows: list[list[Any]] = [_labels(PAJAK)]
    shape_rows += [
        ["2026-05-01", f"16.06.{i % 20 + 1:02d}", "PBB-P2", v, v, "1"] for i, v in enumerate(shapes)
    ]
    yield c("money_and_number_shapes", _csv(shape_rows), pajak)
    int_rows: list[list[Any]] = [_labels(PAJAK)]
    int_rows += [
        ["2026-05-01", f"16.06.{i % 20 + 1:02d}", "PBB-P2", "1", "1", v]
        for i, v in enumerate(shapes)
    ]
    yield c("money_and_number_shapes_in_an_integer_column", _csv(int_rows), pajak)
    yield c(
        "date_words_many",
        dates(
            [
                "1 Februari 2026",
                "01 Februari 2026",
                "1 FEBRUARI 2026",
                "1 februari 2026",
                "Februari 2026",
                "Feb 2026",
                "Feb. 2026",
                "Feb-2026",
                "1-Feb-2026",
                "1 Feb 26",
                "31 Februari 2026",
                "0 Januari 2026",
                "1 Foo 2026",
                "Sept 2026",
                "1 Sept. 2026",
                "1  Februari  2026",
                "1\tFebruari\t2026",
                "Mei 126",
                "Mei 0026",
                "Mei 00",
                "May 2026",
                "1 Mei 2026.",
                "1\u00a0Mei\u00a02026",
                "５ Mei 2026",
                "1 Méi 2026",
                "Nop\u00a02025",
            ]
        ),
        aduan,
    )
    # --- votes from cells the bulk pass reads (non-ASCII spaces and digits)
    votes = [
        ["2026-05-01", "16.03.01", "1.5", "1"],
        ["2026-05-01", "16.03.02", "\u00a0,123", "\u00a0.123"],
        ["2026-05-01", "16.03.03", "\u00a0,123", "(\u00a0.123)"],
        ["2026-05-01", "16.03.04", "1.000", "１.５"],
        ["2026-05-01", "16.03.05", "١.٥", "1.000"],
        ["2026-05-01", "16.03.06", "Rp\u00a0,5", "-\u00a0.123"],
    ]
    yield c("convention_votes_of_non_ascii_cells", _csv([_labels(SAMPAH), *votes]), sampah)
    yield c(
        "date_order_evidence_in_fullwidth_digits",
        dates(["02/13/2026", "１３/０２/２０２６", "03/04/2026"]),
        aduan,
    )
    yield c("date_order_evidence_in_arabic_digits", dates(["13/02/2026", "٠٢/١٣/٢٠٢٦"]), aduan)
    text_markers = _custom(
        [KODE, TAHUN, _col("ket", "string", na_values=["belum diisi…", "strasse", "N/A"])], YEAR
    )
    marker_cells = [
        "BELUM DIISI…",
        "Belum diisi…",
        "belum diisi…",
        "STRAßE",
        "n/a",
        "N/A",
        "\u00a0N/A",
        "Ｎ/Ａ",
    ]
    yield c(
        "declared_markers_in_a_text_column_non_ascii",
        _csv([["kode", "tahun", "ket"], *[[f"K{i}", 2024, v] for i, v in enumerate(marker_cells)]]),
        text_markers,
    )
    number_markers = _custom(
        [KODE, TAHUN, _col("jumlah", "number", na_values=["tidak ada…", "kosong"])], YEAR
    )
    yield c(
        "declared_markers_in_a_number_column_non_ascii",
        _csv(
            [
                ["kode", "tahun", "jumlah"],
                *[
                    [f"K{i}", 2024, v]
                    for i, v in enumerate(["TIDAK ADA…", "Kosong", "KOSONG", "1,5", "—", "–"])
                ],
            ]
        ),
        number_markers,
    )
    # --- the period from context meets markers in the period column
    context_rows = _csv(
        [
            ["kode", "tahun", "jumlah"],
            ["K1", "NA", 1],
            ["K2", "-", 2],
            ["K3", "2021", 3],
            ["K4", "N/A", 4],
            ["K5", "", 5],
        ]
    )
    yield c(
        "period_context_with_markers_in_the_column",
        context_rows,
        _custom(cols, YEAR),
        period="2021",
    )
    yield c(
        "period_constant_with_markers_in_the_column",
        context_rows,
        _custom(cols, {**YEAR, "constant": "2021"}),
    )
    yield c(
        "period_context_marker_only",
        _csv([["kode", "tahun", "jumlah"], ["K1", "NA", 5]]),
        _custom(cols, YEAR),
        period="2021",
    )
    yield c(
        "period_context_dash_only",
        _csv([["kode", "tahun", "jumlah"], ["K1", "-", 5]]),
        _custom(cols, YEAR),
        period="2021",
    )
    month_markers = _csv(
        [
            ["kode", "periode", "jumlah"],
            ["K1", "NA", 1],
            ["K2", "-", 2],
            ["K3", "Maret 2025", 3],
            ["K4", "…", 4],
        ]
    )
    yield c(
        "month_period_from_file_name_with_markers",
        month_markers,
        month_ds,
        filename="sampah_Maret_2025.csv",
    )
    # --- granularities no catalog dataset uses
    quarter = _custom(
        [KODE, _col("periode", "date", nullable=False), _col("jumlah", "integer")],
        {"column": "periode", "granularity": "quarter"},
        primary_key=["kode", "periode"],
    )
    q_dates = [
        "2026-01-15",
        "2026-02-28",
        "2026-03-31",
        "2026-04-01",
        "2026-06-30",
        "2026-08-15",
        "2026-12-31",
        "15/11/2026",
        "Mei 2026",
        "2026-02-29",
    ]
    q_rows = _csv(
        [["kode", "periode", "jumlah"], *[[f"K{i}", d, i] for i, d in enumerate(q_dates)]]
    )
    yield c("quarter_period", q_rows, quarter)
    year_date = _custom(
        [KODE, _col("periode", "date", nullable=False), _col("jumlah", "integer")],
        {"column": "periode", "granularity": "year"},
        primary_key=["kode", "periode"],
    )
    yield c("year_period_as_a_date", q_rows, year_date)
    yield c("year_period_as_a_date_from_context", q_rows, year_date, period="2026")
    # --- more shapes of files
    quoted_all = io.StringIO()
    csv.writer(quoted_all, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
        [HEADER, *[r.split(",") for r in _good(5)]]
    )
    yield c("every_cell_quoted", quoted_all.getvalue().encode())
    yield c("quoted_header_only", _lines(['"' + '","'.join(HEADER) + '"', *_good(4)]))
    single = _custom([_col("tahun", "integer", nullable=False)], YEAR, primary_key=["tahun"])
    yield c("single_column_file", b"tahun\n2021\n2022\n\n2023\n  \nNA\n2.024\nJumlah\n", single)
    twins = _custom(
        [
            KODE,
            TAHUN,
            _col("jumlah", "integer", label="Jumlah"),
            _col("jumlah_2", "integer", label="Jumlah"),
        ],
        YEAR,
    )
    yield c(
        "repeated_labels_matched_in_order",
        _lines(["kode,tahun,Jumlah,Jumlah", "K1,2024,1,2", "K2,2024,3,x"]),
        twins,
    )
    yield c("trailing_delimiters_on_data_only", _lines([head, *[r + ",," for r in _good(4)]]))
    yield c("fewer_cells_than_labels_but_enough", _lines([head + ",Catatan,Lain", *_good(4)]))
    # --- bytes that are not UTF-8 (read as Windows-1252) in odd places
    odd_bytes = [
        b"Caf\xe9",  # cp1252
        b"\x81\x8d\x8f\x90\x9d",  # undefined in cp1252
        b"end\xe2\x80",  # a UTF-8 sequence cut short before the line end
        b"\xc0\xaf",  # an overlong encoding
        b"\xed\xa0\x80",  # a surrogate
        b"\xc3\xa9 and \xe9",  # UTF-8 and cp1252 side by side
        b"\xa0600\xa0",  # a cp1252 no-break space (read as U+00A0)
        b"\x85",  # cp1252 ellipsis, an empty marker
    ]
    for i, raw in enumerate(odd_bytes):
        body = b"Periode,Kode Kamera,Kode Kecamatan,Lokasi,Jam Online\n"
        body += b"2026-05-01,CCTV-1,16.06.01," + raw + b",600\n"
        body += b"2026-05-01,CCTV-2,16.06.01,Pasar," + raw + b"\n"
        body += b"2026-05-01,CCTV-3,16.06.01,Pasar,600\n"
        yield c(f"non_utf8_bytes_{i}", body)


CASES = list(_cases())


def test_hostile_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_and_odd_inputs_are_the_same(case: Case) -> None:
    assert_same(case.data, case.filename, case.ds, case.period, case.aliases)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_and_odd_inputs_in_small_blocks_are_the_same(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_csv, "BLOCK", 4096)
    assert_same(case.data, case.filename, case.ds, case.period, case.aliases)


# ---------------------------------------------------------------- 5. many blocks

BLOCKS = [1024, 4096, 4099]


def _sampah_rows(first: list[str], later: list[str], n_first: int, n_later: int) -> bytes:
    rows: list[list[Any]] = [_labels(SAMPAH)]
    for i in range(n_first):
        rows.append(["2026-05-01", f"16.03.{i % 20 + 1:02d}", first[i % len(first)], "250"])
    for i in range(n_later):
        rows.append(["2026-06-01", f"16.03.{i % 20 + 1:02d}", later[i % len(later)], "250"])
    return _csv(rows, delim=";")


def _aduan_dates(first: list[str], later: list[str], n_first: int, n_later: int) -> bytes:
    rows: list[list[Any]] = [_labels(ADUAN)]
    values = [first[i % len(first)] for i in range(n_first)]
    values += [later[i % len(later)] for i in range(n_later)]
    for i, d in enumerate(values, 1):
        rows.append([f"LPR-{i:05d}", d, "16.03.01", "Kesehatan", "Siti", "", "Selesai"])
    return _csv(rows)


def _block_cases() -> Iterator[Case]:
    sampah = CATALOG.dataset(SAMPAH)
    aduan = CATALOG.dataset(ADUAN)
    cctv = CATALOG.dataset(CCTV)
    yield Case(
        "convention_id_after_first_block",
        _sampah_rows(["1.000", "2.000"], ["1.234,5", "7"], 400, 200),
        sampah,
    )
    yield Case(
        "convention_en_after_first_block",
        _sampah_rows(["1.000", "2.000"], ["1,234.5", "7"], 400, 200),
        sampah,
    )
    yield Case(
        "convention_en_first_then_outvoted_by_id",
        _sampah_rows(["1.5", "1.000"], ["2,5", "2,75", "3,5"], 300, 300),
        sampah,
    )
    yield Case(
        "convention_tie_across_blocks",
        _sampah_rows(["1.000"] * 9 + ["1.5"], ["1.000"] * 9 + ["2,5"], 300, 300),
        sampah,
    )
    yield Case(
        "date_order_mdy_after_first_block",
        _aduan_dates(["03/04/2026", "2026-01-05"], ["02/13/2026", "04/05/2026"], 300, 100),
        aduan,
    )
    yield Case(
        "date_order_dmy_after_first_block",
        _aduan_dates(["03/04/2026"], ["13/02/2026", "04/05/2026"], 300, 100),
        aduan,
    )
    yield Case(
        "date_orders_mixed_in_later_blocks",
        _aduan_dates(["03/04/2026"], ["13/02/2026", "02/13/2026"], 300, 100),
        aduan,
    )
    yield Case(
        "date_words_after_first_block",
        _aduan_dates(["2026-01-05"], ["5 Januari 2026", "Nop 2025", "NA", "-"], 300, 100),
        aduan,
    )
    head = ",".join(HEADER)
    lines = [head, *_good(400)]
    lines[250] = '2026-05-01,CCTV-250,16.06.01,"Pasar\nRandik",600'
    yield Case("quoted_newline_in_a_later_block", _lines(lines), cctv)
    lines = [head, *_good(400)]
    lines[300] = "2026-05-01,CCTV-300,16.06.01,Pasar\x00,600"
    yield Case("nul_in_a_later_block", _lines(lines), cctv)
    lines = [head, *_good(400)]
    lines[200] = "2026-05-01,CCTV-200,16.06.01," + "p" * 20_000 + ",600"
    yield Case("line_longer_than_a_block", _lines(lines), cctv)
    lines = [head, *_good(2000)]
    yield Case(
        "cp1252_byte_late",
        _lines(lines).replace(
            b"CCTV-1800,16.06.01,Pasar Randik", b"CCTV-1800,16.06.01,Caf\xe9 Randik"
        ),
        cctv,
    )
    yield Case("cr_only_many_blocks", _lines([head, *_good(900)], "\r"), cctv)
    yield Case("crlf_many_blocks", _lines([head, *_good(900)], "\r\n"), cctv)
    mixed = b"".join(
        (line + ("\r\n" if i % 5 else "\n")).encode() for i, line in enumerate([head, *_good(900)])
    )
    yield Case("mixed_line_ends_many_blocks", mixed, cctv)
    titles = ["KETERANGAN " + "panjang sekali " * 20 + f"{i}" for i in range(25)]
    yield Case(
        "header_after_more_than_a_block_of_titles", _lines([*titles, head, *_good(300)]), cctv
    )
    ragged = [head, *_good(600)]
    for i in range(5, 600, 97):
        ragged[i] = ragged[i] + ",lebih"
    for i in range(50, 600, 131):
        ragged[i] = "2026-05-01,CCTV-x,16.06.01"
    for i in range(70, 600, 113):
        ragged[i] = "Jumlah,,,,1.000"
    for i in range(90, 600, 89):
        ragged[i] = ",,,,"
    yield Case("ragged_summary_and_blank_lines_across_blocks", _lines(ragged), cctv)
    bank = CATALOG.dataset(BANK)
    labels = [
        "Periode",
        "Kode Bank Sampah",
        "Kode Desa",
        "Nasabah Aktif",
        "Sampah Terkelola (kg)",
        "Nilai Tabungan (Rp)",
    ]
    codes = [
        "16.06.03.2001",
        "16.06.15.2002",
        "1606152003",
        "16.06.01.2001",
        "16.06.99.2999",
        "16.06.03.2005",
    ]
    rows: list[list[Any]] = [labels]
    rows += [
        [
            "2026-05-01",
            f"BS-{i:05d}",
            codes[(i * 7) % len(codes)] if i % 9 == 0 else "16.06.01.2002",
            10,
            "12,5",
            "100000",
        ]
        for i in range(1200)
    ]
    yield Case("region_counts_across_blocks", _csv(rows), bank, aliases=CATALOG.aliases)
    rows = [labels] + [
        ["2026-05-01", f"BS-{i:05d}", f"16060{10 + i % 20}{i % 11 + 1:03d}", 10, "12,5", "1"]
        for i in range(1500)
    ]
    yield Case(
        "bps_file_under_default_scheme_across_blocks", _csv(rows), bank, aliases=CATALOG.aliases
    )


BLOCK_CASES = list(_block_cases())


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("case", BLOCK_CASES, ids=[case.id for case in BLOCK_CASES])
def test_files_over_many_blocks_are_the_same(
    case: Case, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_csv, "BLOCK", block)
    assert len(case.data) > 3 * block
    assert_same(case.data, case.filename, case.ds, case.period, case.aliases)


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("ds_id", [ADUAN, CCTV, BANK, TAMAN, "muaraenim_survei_kepuasan"])
def test_generated_files_over_many_blocks_are_the_same(
    ds_id: str, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_csv, "BLOCK", block)
    ds = CATALOG.dataset(ds_id)
    gf = generate_dataset(ds, CATALOG, rows=1500, fmt="csv", seed=5, defect_rate=0.3)
    assert len(gf.data) > 2 * block  # a key of finite domains caps some at a few hundred rows
    assert_same(gf.data, gf.filename, ds)


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize(
    ("encoding", "line_end", "delimiter"),
    [("cp1252", "\r", ";"), ("utf-8", "\r\n", ","), ("cp1252", "\n", "\t")],
    ids=["cp1252-CR-semicolon", "utf8-CRLF-comma", "cp1252-LF-tab"],
)
@pytest.mark.parametrize("name", [ADUAN, BANK, PAJAK, "bank_undotted"])
def test_messy_files_over_many_blocks_are_the_same(
    name: str,
    encoding: str,
    line_end: str,
    delimiter: str,
    block: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fast_csv, "BLOCK", block)
    ds = _messy_ds(name)
    m = messy_file(
        ds, CATALOG, 1500, seed=13, encoding=encoding, line_end=line_end, delimiter=delimiter
    )
    assert len(m.data) > 3 * block
    assert_same(m.data, m.filename, ds, aliases=CATALOG.aliases)


@pytest.mark.parametrize("rel", list(REAL_FILES), ids=[Path(r).parent.name for r in REAL_FILES])
def test_real_files_over_many_blocks_are_the_same(
    shared_dir: Path,
    onboarding: Callable[[Path, str], Dataset],
    rel: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = shared_dir / REAL / rel
    data = path.read_bytes()
    block = max(256, len(data) // 40)  # some 40 blocks, whatever the file's size
    monkeypatch.setattr(fast_csv, "BLOCK", block)
    assert len(data) > 3 * block
    assert_same(data, path.name, onboarding(path, rel), aliases=CATALOG.aliases)


def test_a_file_over_pyarrows_own_block_is_the_same() -> None:
    """Over 2 MB (fast_csv's pyarrow chunks), with odd rows spread through it."""
    head = ",".join(HEADER)
    lines = [head, *_good(60_000)]
    for i in range(7, len(lines), 4999):
        lines[i] = lines[i].replace("600,5", "Rp 1.234,5").replace("Pasar Randik", "Pasar Andrés")
    for i in range(11, len(lines), 7919):
        lines[i] = "Jumlah,,,,99"
    data = _lines(lines)
    assert len(data) > 2 * MB
    assert_same(data, "besar.csv", CATALOG.dataset(CCTV))


# ---------------------------------------------------------------- 6. the fast path really runs


@pytest.mark.parametrize("ds_id", IDS)
def test_fast_path_takes_a_clean_generated_file(
    ds_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    ds = CATALOG.dataset(ds_id)
    gf = generate_dataset(ds, CATALOG, fmt="csv", seed=7)
    assert _taken(gf.data, gf.filename, ds, caplog) == ""


@pytest.mark.parametrize("ds_id", IDS)
def test_fast_path_takes_a_generated_file_with_defects(
    ds_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    ds = CATALOG.dataset(ds_id)
    gf = generate_dataset(ds, CATALOG, fmt="csv", seed=1, defect_rate=0.3)
    assert _taken(gf.data, gf.filename, ds, caplog) == ""


@pytest.mark.parametrize("name", MESSY)
def test_fast_path_takes_a_messy_cp1252_semicolon_cr_file(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    ds = _messy_ds(name)
    m = messy_file(ds, CATALOG, 400, seed=3, encoding="cp1252", line_end="\r", delimiter=";")
    assert b"\r" in m.data and b"\n" not in m.data and m.data.count(b";") > 400
    assert _taken(m.data, m.filename, ds, caplog) == ""


def test_fast_path_takes_a_file_over_many_blocks(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_csv, "BLOCK", 4096)
    data = _sampah_rows(["1.000", "2.000"], ["1.234,5", "7"], 400, 200)
    assert _taken(data, "sampah.csv", CATALOG.dataset(SAMPAH), caplog) == ""


def test_fast_path_leaves_a_quoted_line_break_to_the_per_row_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = _lines([",".join(HEADER), *_good(3), '2026-05-01,CCTV-9,16.06.01,"Pasar\nRandik",1'])
    why = _taken(data, "cctv.csv", CATALOG.dataset(CCTV), caplog)
    assert why != ""
    assert "quote" in why


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_fast_path_leaves_utf16_to_the_per_row_reader(
    encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = _csv([HEADER, *[r.split(",") for r in _good(3)]], encoding=encoding)
    why = _taken(data, "cctv.csv", CATALOG.dataset(CCTV), caplog)
    assert why != ""
    assert "utf-16" in why.lower()


@pytest.mark.parametrize("block", [None, 1024])
@pytest.mark.parametrize(
    "data",
    [
        _aduan_dates(["13/02/2026", "03/04/2026"], ["02/13/2026"], 2, 1),
        _aduan_dates(["03/04/2026"], ["13/02/2026", "02/13/2026"], 300, 100),
    ],
    ids=["small", "mixed_after_the_first_block"],
)
def test_mixed_date_orders_raise_the_same_parse_error(
    data: bytes, block: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if block is not None:
        monkeypatch.setattr(fast_csv, "BLOCK", block)
    out = assert_same(data, "aduan.csv", CATALOG.dataset(ADUAN))
    assert isinstance(out, ParseError)
    assert "aduan.csv" in str(out) and "Tanggal Masuk" in str(out) and "D/M/Y" in str(out)
