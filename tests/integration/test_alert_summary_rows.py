"""Skipped summary and whole-area total rows in the OPD's data-quality alert.

The parser sets aside a 'Jumlah' row and the row that totals the dataset's whole area (here
'Kabupaten Musi Banyuasin' in a table by kecamatan) as summary rows: counted among the rows not
loaded, listed in the rejected-rows file, but nothing the OPD has to fix. The alert names them
on one line of their own, and keeps them out of the problems, the examples and the rejected
count, which list what the OPD must correct.
"""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest
from sqlalchemy import select

from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.lake.keys import inbox_prefix
from serasan.pipeline.run import run_dataset
from serasan.runtime.context import RunContext
from serasan.warehouse.db import upgrade
from tests.support.warehouse import RUN_DATE

DS = "muba_pengunjung_taman_air"  # policy quarantine; by kecamatan of Musi Banyuasin
FILE = (
    "tanggal,kode_kecamatan,jumlah_pengunjung,pendapatan_tiket_rp\n"
    "2026-10-01,Sekayu,10,1000\n"  # row 2
    "2026-10-02,Babat Toman,12,1200\n"  # row 3
    "2026-10-03,Kabupaten Musi Banyuasin,22,2200\n"  # row 4: the whole regency's total
    "2026-10-04,Tidak Ada,1,1\n"  # row 5: no such kecamatan, the one problem to fix
    "Jumlah,,45,4400\n"  # row 6: a summary row
)
WORDS = {
    "id": {
        "counts": "Baris diterima: 5. Dimuat: 2. Ditolak: 1.",
        "skipped": "2 baris ringkasan/total dilewati (tidak dimuat, tidak perlu diperbaiki).",
        "subject": "1 dari 5 baris ditolak (quarantined)",
        "what": "Masalah yang ditemukan:",
        "examples": "Contoh baris (data pribadi disamarkan):",
        "one_row": ": 1 baris",
        "summary": ("baris ringkasan", "baris total"),
    },
    "en": {
        "counts": "Rows received: 5. Loaded: 2. Rejected: 1.",
        "skipped": "2 summary/total rows skipped (not loaded, nothing to fix).",
        "subject": "1 of 5 rows rejected (quarantined)",
        "what": "Problems found:",
        "examples": "Example rows (personal data masked):",
        "one_row": ": 1 rows",
        "summary": ("summary row", "total row"),
    },
}


def _by_name(catalog: Catalog) -> Catalog:
    """The dataset with its kecamatan written by name, as OPD tables often are."""
    data = catalog.dataset(DS).model_dump()
    data["region"] = {"column": "kode_kecamatan", "level": "kecamatan", "scheme": "name"}
    ds = Dataset.model_validate(data)
    return dataclasses.replace(catalog, datasets={**catalog.datasets, DS: ds})


@pytest.mark.parametrize("lang", ["id", "en"])
def test_summary_and_area_total_rows_are_a_line_not_problems(
    local_settings: Settings, catalog: Catalog, lang: str
) -> None:
    ctx = RunContext(
        settings=dataclasses.replace(local_settings, lang=lang),
        catalog=_by_name(catalog),
        run_date=RUN_DATE,
        run_id="summary-rows",
    )
    upgrade(ctx.engine, ctx.catalog)
    ds = ctx.catalog.dataset(DS)
    ctx.lake.put(inbox_prefix(ctx.catalog, ds) + "taman_air.csv", FILE.encode())
    [summary] = run_dataset(ctx, ds)
    # the warehouse's accounting is unchanged: every row not loaded is a rejected row
    assert (summary.status, summary.rows_in, summary.rows_loaded, summary.rows_rejected) == (
        "quarantined",
        5,
        2,
        3,
    )
    # and the rejected-rows file the OPD gets lists the summary rows too, for the record
    quarantined = list(csv.DictReader(io.StringIO(ctx.lake.get(summary.quarantine_key).decode())))
    assert [(r["baris"], r["aturan"]) for r in quarantined] == [
        ("4", "summary"),
        ("5", "parse"),
        ("6", "summary"),
    ]

    al = ctx.t("meta", "alert")
    with ctx.engine.connect() as conn:
        [alert] = conn.execute(select(al).where(al.c.load_id == summary.load_id)).mappings()
    ctx.engine.dispose()
    words = WORDS[lang]
    body: str = alert["body"]
    lines = body.splitlines()
    assert alert["subject"].endswith(words["subject"]), alert["subject"]
    assert words["counts"] in lines
    assert lines[lines.index(words["counts"]) + 1] == words["skipped"]
    # the problems: only the row to fix, with its count
    start = lines.index(words["what"]) + 1
    problems = lines[start : lines.index("", start)]
    assert len(problems) == 1, problems
    assert "kecamatan" in problems[0] and problems[0].endswith(words["one_row"])
    # the examples: the row to fix (row 5), not the summary rows (4 and 6)
    start = lines.index(words["examples"]) + 3  # after the table's header and rule
    examples = lines[start : lines.index("", start)]
    assert [e.split("|")[0].strip() for e in examples] == ["5"]
    # the summary rows appear nowhere but on their line
    for text in words["summary"]:
        assert not any(text in line for line in lines if line != words["skipped"]), text
    assert "Jumlah" not in body
    assert "2026-10-03" not in body  # the total row, dated like a record
