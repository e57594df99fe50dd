"""The period of a file that does not carry it: from the catalog or from the person sending it.

A dataset's period column stays in the fact table's key; a file may leave it out when the
period comes from context, in this order:

1. `--period` on `serasan check` / `serasan ingest` (kept in the raw object's manifest, so
   every retry and reprocess reads the same period);
2. the catalog's `period.constant` (every file of the dataset is that period);
3. the catalog's `period.from_filename`, a pattern with named groups (`year`, `quarter`,
   `month`, `day`) matched against the file name.

The period column is then filled for every row. When the file carries the column as well, an
empty cell takes the period, and a row naming another period is rejected, naming both.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from serasan.config.catalog import Dataset
from serasan.config.reading import format_period, parse_period, period_from_groups
from serasan.parse.sniff import ParseError


@dataclass(frozen=True)
class PeriodContext:
    text: str  # as written: '2021', '2021-03'
    value: dt.date | int  # what the period column holds: the first day, or the year
    source_id: str
    source_en: str

    def note(self, header: str, in_file: bool) -> str:
        if in_file:
            return (
                f"periode {self.text} dari {self.source_id}; sel kosong di kolom '{header}' "
                f"diisi periode ini, baris dengan periode lain ditolak (period {self.text} from "
                f"{self.source_en}; empty cells of '{header}' take it, rows naming another "
                "period are rejected)"
            )
        return (
            f"kolom '{header}' tidak ada di berkas; diisi {self.text} dari {self.source_id} "
            f"untuk setiap baris (column '{header}' is absent from the file; filled with "
            f"{self.text} from {self.source_en} for every row)"
        )


def resolve(ds: Dataset, filename: str, given: str | None = None) -> PeriodContext | None:
    """The period context of one file, or None when the file must carry its period column.

    Raises ParseError when `--period` does not fit the dataset's granularity, or when the
    catalog's file-name pattern finds no period in the file name.
    """
    spec = ds.period
    gran = spec.granularity
    if given is not None:
        try:
            day = parse_period(given, gran)
        except ValueError as exc:
            raise ParseError(f"--period: {exc} (dataset {ds.id} is per {gran})") from None
        src_id, src_en = "--period", "--period"
        if spec.constant is not None or spec.from_filename is not None:
            src_id = src_en = "--period, in place of the catalog's period"
    elif spec.constant is not None:
        try:
            day = parse_period(spec.constant, gran)
        except ValueError as exc:  # catalog validate refuses it; a stray catalog gets this
            raise ParseError(f"period.constant of {ds.id}: {exc}") from None
        src_id, src_en = "katalog (period.constant)", "the catalog (period.constant)"
    elif spec.from_filename is not None:
        m = re.search(spec.from_filename, filename)
        if m is None:
            raise ParseError(
                f"{filename}: nama berkas tidak memuat periode menurut pola "
                f"period.from_filename {spec.from_filename!r}; ganti nama berkas atau beri "
                f"--period (the file name carries no period matching {spec.from_filename!r}; "
                "rename the file or give --period)"
            )
        try:
            day = period_from_groups(m.groupdict(), gran)
        except ValueError as exc:
            raise ParseError(
                f"{filename}: periode dari nama berkas tidak terbaca (the period in the file "
                f"name cannot be read: {exc}; pattern {spec.from_filename!r})"
            ) from None
        src_id, src_en = f"nama berkas ({filename})", f"the file name ({filename})"
    else:
        return None
    col = ds.column(spec.column)
    value: dt.date | int = day.year if col is not None and col.type == "integer" else day
    return PeriodContext(format_period(day, gran), value, src_id, src_en)
