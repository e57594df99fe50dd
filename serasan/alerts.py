"""Data-quality alerts an OPD can act on: what failed in plain words, how many rows, examples
(personal data masked), where the rejected rows are, and what to do next.

The foundation writes each alert to the warehouse outbox (`meta.alert`) and to the lake; sending
it by e-mail is the data-quality issue's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from serasan.catalog import Catalog, Dataset
from serasan.privacy import mask_record

MAX_EXAMPLES = 5

TEXT = {
    "id": {
        "subject": "[Serasan] {title}: {rejected} dari {rows_in} baris ditolak ({status})",
        "hello": "Yth. {contact},",
        "intro": "File \"{filename}\" untuk dataset \"{title}\" ({dataset}) sudah kami terima "
                 "dan periksa pada {date}.",
        "counts": "Baris diterima: {rows_in}. Dimuat: {loaded}. Ditolak: {rejected}.",
        "blocked": "Kebijakan dataset ini adalah 'block': karena ada baris yang salah, TIDAK ADA "
                   "baris yang dimuat ke gudang data sampai file diperbaiki.",
        "warned": "Kebijakan dataset ini adalah 'warn': semua baris tetap dimuat, tetapi mohon "
                  "perbaiki masalah di bawah ini pada pengiriman berikutnya.",
        "what": "Masalah yang ditemukan:",
        "rule": "- {reason}: {count} baris",
        "examples": "Contoh baris (data pribadi disamarkan):",
        "where": "Daftar lengkap baris yang ditolak beserta alasannya: {location}",
        "next": "Yang perlu dilakukan: perbaiki baris-baris tersebut di file asli Anda, lalu "
                "kirim ulang file yang sudah diperbaiki ke folder unggahan dataset ini "
                "({inbox}). Baris yang sudah benar tidak perlu diubah.",
        "link": "Atau unggah file perbaikan langsung melalui tautan ini (berlaku {hours} jam):",
        "sign": "Salam,\nSerasan - {walidata}",
    },
    "en": {
        "subject": "[Serasan] {title}: {rejected} of {rows_in} rows rejected ({status})",
        "hello": "Dear {contact},",
        "intro": "We received and checked the file \"{filename}\" for dataset \"{title}\" "
                 "({dataset}) on {date}.",
        "counts": "Rows received: {rows_in}. Loaded: {loaded}. Rejected: {rejected}.",
        "blocked": "This dataset's policy is 'block': because some rows are wrong, NO rows were "
                   "loaded into the warehouse until the file is fixed.",
        "warned": "This dataset's policy is 'warn': every row was loaded, but please fix the "
                  "problems below in the next delivery.",
        "what": "Problems found:",
        "rule": "- {reason}: {count} rows",
        "examples": "Example rows (personal data masked):",
        "where": "The full list of rejected rows with reasons: {location}",
        "next": "What to do: fix these rows in your original file and upload the corrected file "
                "to this dataset's upload folder ({inbox}). Rows that are already correct need "
                "no change.",
        "link": "Or upload the corrected file directly with this link (valid {hours} hours):",
        "sign": "Regards,\nSerasan - {walidata}",
    },
}


@dataclass(frozen=True)
class Alert:
    alert_id: str
    recipients: list[str]
    subject: str
    body: str


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[str(r.get(c) if r.get(c) is not None else "") for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    sep = "-+-".join("-" * w for w in widths)
    body = [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, sep, *body])


def compose(catalog: Catalog, ds: Dataset, *, alert_id: str, filename: str, run_date: str,
            status: str, rows_in: int, loaded: int, rejected: int,
            problems: list[tuple[str, int]], examples: list[dict[str, Any]],
            rejected_location: str, inbox: str, upload_url: str | None = None,
            upload_hours: int = 72, lang: str = "id") -> Alert:
    """Build the message; `problems` is (plain-words reason, row count) per failing rule."""
    t = TEXT.get(lang, TEXT["id"])
    opd = catalog.opd_of(ds)
    regency = catalog.regency(ds.regency)
    fields = {"title": ds.title, "dataset": ds.id, "filename": filename, "date": run_date,
              "rows_in": rows_in, "loaded": loaded, "rejected": rejected, "status": status,
              "contact": opd.contacts[0].name, "location": rejected_location, "inbox": inbox,
              "walidata": regency.walidata}
    def f(key: str) -> str:
        return t[key].format(**fields)

    parts = [f("hello"), "", f("intro"), f("counts")]
    if status == "blocked":
        parts.append(f("blocked"))
    elif status == "warned":
        parts.append(f("warned"))
    parts += ["", f("what"), *[t["rule"].format(reason=r, count=n) for r, n in problems]]
    if examples:
        cols = ["baris", "dimuat", "alasan",
                *[c for c in ds.column_names if c in examples[0]]][:8]
        masked = [mask_record(e, ds.pii_columns) for e in examples[:MAX_EXAMPLES]]
        parts += ["", f("examples"), _table(masked, cols)]
    parts += ["", f("where"), "", f("next")]
    if upload_url:
        parts += [t["link"].format(hours=upload_hours), upload_url]
    parts += ["", f("sign")]
    body = "\n".join(parts)
    return Alert(alert_id=alert_id, recipients=[c.email for c in opd.contacts],
                 subject=f("subject"), body=body)
