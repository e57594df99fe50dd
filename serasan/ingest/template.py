"""The XLSX template an OPD fills in for one dataset, generated from the catalog alone.

Sheet `Data` has the layout the parser reads (title rows, the column headers on row 4, data from
row 5) with one example row; `Petunjuk` explains each column in Bahasa Indonesia and says where to
upload the file. Columns with allowed values (and the region column) get drop-down lists, and
text and date columns are formatted as text so that Excel does not turn a NIK into 1.6E+15 or
read 05/11 the American way. Every cell written is a plain text or number, never a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from serasan.common.clock import JAKARTA
from serasan.common.clock import MONTH_NAMES as BULAN
from serasan.common.paths import SEED_DIR
from serasan.config.catalog import Catalog, Column, Dataset
from serasan.lake.keys import inbox_prefix

HEADER_ROW = 4  # same as `serasan generate`; the parser finds the header row by its labels
FIRST_DATA_ROW = HEADER_ROW + 1
INPUT_ROWS = 5000  # rows that get drop-down lists and text formatting
TYPE_WORDS = {
    "string": "teks",
    "integer": "bilangan bulat",
    "number": "angka",
    "date": "tanggal",
    "boolean": "ya/tidak",
}
HOW_TO_WRITE = {
    "string": "teks apa adanya",
    "integer": "angka bulat tanpa satuan, mis. 1250",
    "number": "angka tanpa satuan; desimal dengan koma, mis. 1250,75",
    "date": "hari bulan tahun, mis. 5 Januari 2026 atau 05/01/2026 (hari/bulan/tahun)",
    "boolean": "Ya atau Tidak",
}
GRANULARITY = {"day": "hari", "month": "bulan", "quarter": "triwulan", "year": "tahun"}
LEVEL_WORDS = {"kecamatan": "kecamatan", "desa_kelurahan": "desa/kelurahan"}
BOLD = Font(bold=True)
EXAMPLE = Font(italic=True, color="808080")


@lru_cache(maxsize=1)
def _wilayah() -> dict[str, dict[str, str]]:
    """Kemendagri code -> its seed row (nama, level, kode_induk)."""
    with (SEED_DIR / "wilayah.csv").open(encoding="utf-8", newline="") as fh:
        return {r["kode"]: r for r in csv.DictReader(fh)}


def region_codes(ds: Dataset) -> list[str]:
    """The real codes the dataset's region column may hold, from the seed."""
    if ds.region is None:
        return []
    return sorted(
        k
        for k, r in _wilayah().items()
        if r["level"] == ds.region.level and k.startswith(ds.regency + ".")
    )


def _period_example(ds: Dataset, as_of: dt.date) -> dt.date | int:
    """The last complete period before `as_of`: what an OPD would report next."""
    g = ds.period.granularity
    if g == "day":
        return as_of - dt.timedelta(days=1)
    if g == "year":
        col = ds.column(ds.period.column)
        year = as_of.year - 1
        return year if col is not None and col.type == "integer" else dt.date(year, 1, 1)

    def start(d: dt.date) -> dt.date:
        return d.replace(month=(d.month - 1) // 3 * 3 + 1 if g == "quarter" else d.month, day=1)

    return start(start(as_of) - dt.timedelta(days=1))


def _number_example(c: Column) -> int | float:
    lo, hi = c.generate.get("min", 0), c.generate.get("max", 20)
    value = (lo + hi) / 2
    step = c.generate.get("step")
    if step:
        value = round(value / step) * step
    if c.type == "integer" or c.generate.get("money"):
        return int(round(value))
    return round(float(value), int(c.generate.get("decimals", 2)))


def example_row(catalog: Catalog, ds: Dataset, as_of: dt.date) -> dict[str, Any]:
    """One realistic, valid row as Python values, from each column's type, allowed values and
    generator hints; the region is a real code of the right level."""
    codes = region_codes(ds)
    region = None
    if ds.region is not None:
        col = ds.column(ds.region.column)
        hinted = [str(x) for x in (col.generate.get("choices") or [])] if col else []
        region = next((x for x in hinted if x in codes), codes[0] if codes else None)
    kecamatan = sorted(
        k
        for k, r in _wilayah().items()
        if r["level"] == "kecamatan" and k.startswith(ds.regency + ".")
    )
    kec = region[:8] if region and region[:8] in kecamatan else (kecamatan or [ds.regency])[0]
    day = as_of - dt.timedelta(days=1)
    row: dict[str, Any] = {}
    for c in ds.columns:
        kind, choices = c.generate.get("kind"), c.generate.get("choices")
        if c.name == ds.period.column:
            row[c.name] = _period_example(ds, as_of)
        elif ds.region is not None and c.name == ds.region.column:
            row[c.name] = region
        elif c.allowed:
            row[c.name] = c.allowed[0]
        elif choices:
            row[c.name] = str(choices[0])
        elif c.type in ("integer", "number"):
            row[c.name] = _number_example(c)
        elif c.type == "date":
            row[c.name] = day
        elif c.type == "boolean":
            row[c.name] = True
        elif kind == "seq":
            row[c.name] = f"{c.generate.get('prefix', '')}0001"
        elif kind == "nik":  # kecamatan code, birth date 12-08-85, serial
            row[c.name] = f"{kec.replace('.', '')}1208850001"
        elif kind == "phone":
            row[c.name] = "081234567890"
        elif kind == "person_name":
            row[c.name] = "Siti Aminah"
        elif kind == "group_name":
            row[c.name] = "Kelompok Tani Karya Makmur"
        else:
            row[c.name] = f"Contoh {c.header}"
    return row


def _cell_value(ds: Dataset, c: Column, value: Any) -> str | int | float:
    """What staff would type: dates in words, Ya/Tidak, numbers as numbers."""
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, dt.date):
        month = f"{BULAN[value.month - 1]} {value.year}"
        if c.name == ds.period.column and ds.period.granularity in ("month", "quarter"):
            return month
        return f"{value.day} {month}"
    return cast(str | int | float, value)  # the example's text or number, as it is


def _put(
    ws: Worksheet, row: int, col: int, value: str | int | float | None, font: Font | None = None
) -> Cell:
    """A literal cell: strings are stored as text even when they start with '='; '' is empty."""
    cell = ws.cell(row, col, None if value == "" else value)
    if isinstance(cell.value, str):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _decimals(c: Column) -> int:
    return (
        0 if c.type == "integer" or c.generate.get("money") else int(c.generate.get("decimals", 2))
    )


def _shown(ds: Dataset, c: Column, value: Any) -> str:
    """The example as staff would type it: 1.250,75 and 475.000.000, dates in words."""
    shown = _cell_value(ds, c, value)
    if isinstance(shown, int | float) and c.name != ds.period.column:
        return f"{shown:,.{_decimals(c)}f}".translate(str.maketrans(",.", ".,"))
    return str(shown)


def _how_to_write(ds: Dataset, c: Column) -> str:
    if c.name == ds.period.column:
        if c.type == "integer":
            return "tahun, empat angka, mis. 2025"
        if ds.period.granularity in ("month", "quarter"):
            return "bulan dan tahun, mis. Oktober 2026"
    if ds.region is not None and c.name == ds.region.column:
        return "kode lengkap dengan titik, dipilih dari daftar"
    if c.allowed:
        return "dipilih dari daftar"
    return HOW_TO_WRITE[c.type]


def _column_notes(ds: Dataset, c: Column) -> str:
    notes = [c.description]
    if c.name == ds.period.column:
        g = ds.period.granularity
        if g in ("month", "quarter") and c.type == "date":
            notes.append(f"periode per {GRANULARITY[g]}: tulis bulan dan tahun, mis. Oktober 2026")
        elif g == "year" and c.type == "integer":
            notes.append("periode per tahun: tulis tahunnya, mis. 2025")
        else:
            notes.append(f"periode per {GRANULARITY[g]}")
    if ds.region is not None and c.name == ds.region.column:
        notes.append(
            f"kode wilayah Kemendagri tingkat {LEVEL_WORDS[ds.region.level]}, "
            "lihat lembar 'Kode Wilayah'"
        )
    if c.pii:
        notes.append("data pribadi: dijaga kerahasiaannya dan tidak ikut diekspor")
    return "; ".join(notes)


def _data_sheet(ws: Worksheet, catalog: Catalog, ds: Dataset, example: dict[str, Any]) -> None:
    _put(ws, 1, 1, f"DATA {ds.title.upper()}", BOLD)
    _put(ws, 2, 1, f"{catalog.regency(ds.regency).name} - {catalog.opd_of(ds).name}")
    _put(
        ws,
        3,
        1,
        f"Baris {FIRST_DATA_ROW} adalah contoh: ganti dengan data Anda, satu baris "
        "per data. Jangan mengubah judul kolom. Petunjuk ada di lembar 'Petunjuk'.",
        EXAMPLE,
    )
    for j, c in enumerate(ds.columns, 1):
        _put(ws, HEADER_ROW, j, c.header, BOLD)
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(14, len(c.header) + 4)
        if c.type in ("string", "date"):  # typed input stays text: NIK, codes, d/m/y dates
            ws.column_dimensions[letter].number_format = "@"
        cell = _put(ws, FIRST_DATA_ROW, j, _cell_value(ds, c, example[c.name]), EXAMPLE)
        if c.type == "number":
            decimals = _decimals(c)
            cell.number_format = "#,##0" + ("." + "0" * decimals if decimals else "")
        elif c.type in ("string", "date"):
            cell.number_format = "@"
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 1)


def _list_validation(ws: Worksheet, col: int, source: str, title: str) -> DataValidation:
    letter = get_column_letter(col)
    dv = DataValidation(
        type="list",
        formula1=source,
        allow_blank=True,
        showDropDown=False,
        showErrorMessage=True,
        errorTitle=title,
        error="Pilih salah satu isian dari daftar.",
    )
    dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + INPUT_ROWS - 1}")
    ws.add_data_validation(dv)
    return dv


def _choice_lists(wb: Workbook, data: Worksheet, ds: Dataset) -> None:
    """Allowed values on a hidden sheet (no 255-character or comma limits), as drop-downs."""
    listed = [(j, c) for j, c in enumerate(ds.columns, 1) if c.allowed]
    if not listed:
        return
    ws = wb.create_sheet("Pilihan")
    ws.sheet_state = "hidden"
    for k, (j, c) in enumerate(listed, 1):
        _put(ws, 1, k, c.header, BOLD)
        for i, value in enumerate(c.allowed or [], 2):
            _put(ws, i, k, value)
        letter = get_column_letter(k)
        source = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${len(c.allowed or []) + 1}"
        _list_validation(data, j, source, c.header)


def _region_sheet(wb: Workbook, data: Worksheet, ds: Dataset) -> None:
    codes = region_codes(ds)
    if ds.region is None or not codes:
        return
    ws = wb.create_sheet("Kode Wilayah")
    seed = _wilayah()
    desa = ds.region.level == "desa_kelurahan"
    heads = ["Kode", "Nama", "Kecamatan"] if desa else ["Kode", "Nama"]
    for j, head in enumerate(heads, 1):
        _put(ws, 1, j, head, BOLD)
    for i, code in enumerate(codes, 2):
        _put(ws, i, 1, code)
        _put(ws, i, 2, seed[code]["nama"])
        if desa:
            _put(ws, i, 3, seed.get(seed[code]["kode_induk"], {}).get("nama", ""))
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 32
    ws.column_dimensions["C"].width = 28
    j = ds.column_names.index(ds.region.column) + 1
    _list_validation(
        data, j, f"{quote_sheetname(ws.title)}!$A$2:$A${len(codes) + 1}", "Kode wilayah"
    )


def _guide_sheet(ws: Worksheet, catalog: Catalog, ds: Dataset, example: dict[str, Any]) -> None:
    folder = inbox_prefix(catalog, ds)  # the OPD's folder, as its MinIO user sees it
    key = ", ".join(c.header for c in ds.columns if c.name in ds.primary_key)
    lines = [
        ("PETUNJUK PENGISIAN", BOLD),
        (ds.title, BOLD),
        (f"{catalog.regency(ds.regency).name} - {catalog.opd_of(ds).name} (dataset {ds.id})", None),
        (ds.description, None),
        ("", None),
        (
            f"1. Isi lembar 'Data' mulai baris {FIRST_DATA_ROW}, satu baris per data. Baris "
            f"{FIRST_DATA_ROW} berisi contoh: ganti atau hapus sebelum mengunggah.",
            None,
        ),
        (
            f"2. Jangan mengubah, menghapus atau memindahkan judul kolom di baris {HEADER_ROW}.",
            None,
        ),
        (f"3. Setiap kombinasi {key} hanya boleh muncul satu kali.", None),
        ("4. Jangan menambahkan baris Jumlah/Total; baris seperti itu tidak dimuat.", None),
        ("5. Tulis angka tanpa satuan (Rp, ton, orang). Kolom wajib tidak boleh kosong.", None),
        (
            f"6. Simpan sebagai .xlsx (atau .csv) lalu unggah ke folder {folder} di penyimpanan "
            "data (MinIO), atau lewat tautan unggah dari walidata.",
            None,
        ),
        ("", None),
        (f"Folder unggah: {folder}", BOLD),
        ("", None),
    ]
    for i, (text, font) in enumerate(lines, 1):
        _put(ws, i, 1, text, font)
    heads = [
        "Kolom",
        "Jenis isian",
        "Cara menulis",
        "Satuan",
        "Wajib diisi",
        "Pilihan yang diperbolehkan",
        "Keterangan",
        "Contoh",
    ]
    top = len(lines) + 1
    for j, head in enumerate(heads, 1):
        _put(ws, top, j, head, BOLD)
    for i, c in enumerate(ds.columns, top + 1):
        values = [
            c.header,
            TYPE_WORDS[c.type],
            _how_to_write(ds, c),
            c.unit or "",
            "boleh kosong" if c.nullable else "wajib",
            "; ".join(c.allowed or []),
            _column_notes(ds, c),
            _shown(ds, c, example[c.name]),
        ]
        for j, value in enumerate(values, 1):
            _put(ws, i, j, value).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFGH", (24, 14, 34, 12, 13, 36, 60, 24), strict=True):
        ws.column_dimensions[letter].width = width


def write_template(
    catalog: Catalog, ds: Dataset, path: Path | str, as_of: dt.date | None = None
) -> Path:
    """Write the dataset's XLSX template to `path` and return it.

    `as_of` (default: today in Asia/Jakarta) only chooses the example row's period: the last
    complete one, so the example looks like the next report the OPD would send.
    """
    as_of = as_of or dt.datetime.now(JAKARTA).date()
    example = example_row(catalog, ds, as_of)
    wb = Workbook()
    data = wb.active
    data.title = "Data"
    _data_sheet(data, catalog, ds, example)
    _guide_sheet(wb.create_sheet("Petunjuk"), catalog, ds, example)
    _region_sheet(wb, data, ds)
    _choice_lists(wb, data, ds)
    wb.active = 0
    wb.properties.creator = "Serasan"
    wb.properties.title = f"Template {ds.title}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
