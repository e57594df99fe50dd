"""Data-quality alerts an OPD can act on: what failed in plain words, how many rows, examples
(personal data masked), where the rejected rows are, and what to do next.

Every alert is written to the warehouse outbox (`meta.alert`) and to the lake first;
`serasan.alerts.delivery` then sends it by e-mail and webhook. Besides the quality alert of a load, this
module words the lateness reminder and the daily digest an OPD receives (`serasan.alerts.freshness`
decides what is late), and the engineers' messages, which never go to an OPD.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from serasan.common.clock import MONTH_NAMES as BULAN
from serasan.common.clock import MONTH_NAMES_EN as MONTHS
from serasan.common.enums import LoadStatus
from serasan.common.masking import mask_record
from serasan.config.catalog import Catalog, Dataset

MAX_EXAMPLES = 5
# The reasons `serasan.parse.reader` gives the rows it skips on purpose (its Reject kind
# "summary"): a 'Jumlah'/'Total' row, and the total row of the dataset's whole area ('Sumatera
# Selatan' in a province table). They are counted among the rejected rows, but they are no
# problem the OPD must fix, so an alert shows them on a line of their own.
SUMMARY_REASONS = re.compile(
    r"^(baris ringkasan \(Jumlah/Total\) tidak dimuat"
    r"|summary row \(Jumlah/Total\) is not loaded"
    r"|baris total .+ \(seluruh wilayah dataset\) tidak dimuat"
    r"|total row of .+ \(the dataset's whole area\) is not loaded)$"
)
SUMMARY_RULE = "summary"  # the `aturan` of such a row among the examples

TEXT = {
    "id": {
        "subject": "[Serasan] {title}: {rejected} dari {rows_in} baris ditolak ({status})",
        "hello": "Yth. {contact},",
        "intro": 'File "{filename}" untuk dataset "{title}" ({dataset}) sudah kami terima '
        "dan periksa pada {date}.",
        "counts": "Baris diterima: {rows_in}. Dimuat: {loaded}. Ditolak: {rejected}.",
        "skipped": "{skipped} baris ringkasan/total dilewati (tidak dimuat, tidak perlu "
        "diperbaiki).",
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
        "intro": 'We received and checked the file "{filename}" for dataset "{title}" '
        "({dataset}) on {date}.",
        "counts": "Rows received: {rows_in}. Loaded: {loaded}. Rejected: {rejected}.",
        "skipped": "{skipped} summary/total rows skipped (not loaded, nothing to fix).",
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

    def as_text(self) -> bytes:
        """The copy kept in the lake: headers as a mail client shows them, then the body."""
        return (
            f"Subject: {self.subject}\nTo: {', '.join(self.recipients)}\n\n{self.body}\n".encode()
        )


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[str(r.get(c) if r.get(c) is not None else "") for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    sep = "-+-".join("-" * w for w in widths)
    body = [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, sep, *body])


def is_summary(reason: str, examples: Sequence[dict[str, Any]] = ()) -> bool:
    """Whether a problem's reason is that of a skipped summary or whole-area total row: one the
    parser words so, or one an example row of rule "summary" gives."""
    return bool(SUMMARY_REASONS.match(reason)) or any(
        e.get("aturan") == SUMMARY_RULE and e.get("alasan") == reason for e in examples
    )


def compose(
    catalog: Catalog,
    ds: Dataset,
    *,
    alert_id: str,
    filename: str,
    run_date: str,
    status: str,
    rows_in: int,
    loaded: int,
    rejected: int,
    problems: list[tuple[str, int]],
    examples: list[dict[str, Any]],
    rejected_location: str,
    inbox: str,
    upload_url: str | None = None,
    upload_hours: int = 72,
    lang: str = "id",
) -> Alert:
    """Build the message; `problems` is (plain-words reason, row count) per failing rule.

    Summary and whole-area total rows the parser skipped (`is_summary`) are not among the
    problems, the examples or the rejected count: one line says how many were skipped."""
    t = TEXT.get(lang, TEXT["id"])
    opd = catalog.opd_of(ds)
    regency = catalog.regency(ds.regency)
    skipped = sum(n for r, n in problems if is_summary(r, examples))
    problems = [(r, n) for r, n in problems if not is_summary(r, examples)]
    examples = [e for e in examples if e.get("aturan") != SUMMARY_RULE]
    fields = {
        "title": ds.title,
        "dataset": ds.id,
        "filename": filename,
        "date": run_date,
        "rows_in": rows_in,
        "loaded": loaded,
        "rejected": max(rejected - skipped, 0),
        "skipped": skipped,
        "status": status,
        "contact": opd.contacts[0].name,
        "location": rejected_location,
        "inbox": inbox,
        "walidata": regency.walidata,
    }

    def f(key: str) -> str:
        return t[key].format(**fields)

    parts = [f("hello"), "", f("intro"), f("counts")]
    if skipped:
        parts.append(f("skipped"))
    if status == LoadStatus.BLOCKED:
        parts.append(f("blocked"))
    elif status == LoadStatus.WARNED:
        parts.append(f("warned"))
    if problems:
        parts += ["", f("what"), *[t["rule"].format(reason=r, count=n) for r, n in problems]]
    if examples:
        cols = ["baris", "dimuat", "alasan", *[c for c in ds.column_names if c in examples[0]]][:8]
        masked = [mask_record(e, ds.pii_columns) for e in examples[:MAX_EXAMPLES]]
        parts += ["", f("examples"), _table(masked, cols)]
    parts += ["", f("where"), "", f("next")]
    if upload_url:
        parts += [t["link"].format(hours=upload_hours), upload_url]
    parts += ["", f("sign")]
    body = "\n".join(parts)
    return Alert(
        alert_id=alert_id,
        recipients=[c.email for c in opd.contacts],
        subject=f("subject"),
        body=body,
    )


# ------------------------------------------------------------------ lateness and daily digest

ROMAN = ("I", "II", "III", "IV")

TEXT_LATE = {
    "id": {
        "subject": "[Serasan] Data terlambat: {opd} ({n} dataset)",
        "intro": "Per {date}, data berikut belum kami terima padahal batas waktu pengirimannya "
        "sudah lewat:",
        "item": "- {title} ({dataset}): data periode {period}, batas kirim {deadline}, "
        "terlambat {days} hari. Folder unggahan: {inbox}",
        "ask": "Mohon kirim file datanya ke folder unggahan dataset tersebut secepatnya. Jika "
        "data untuk periode itu memang tidak ada, mohon beri tahu walidata.",
        "escalated": "Karena keterlambatan sudah lebih dari {grace} hari, pemberitahuan ini juga "
        "disampaikan kepada walidata ({walidata}).",
    },
    "en": {
        "subject": "[Serasan] Late data: {opd} ({n} datasets)",
        "intro": "As of {date}, we have not received the following data although its deadline "
        "has passed:",
        "item": "- {title} ({dataset}): data for {period}, due {deadline}, {days} days late. "
        "Upload folder: {inbox}",
        "ask": "Please upload the file to the dataset's upload folder as soon as possible. If "
        "there is no data for that period, please tell the walidata.",
        "escalated": "Because it is more than {grace} days late, the walidata ({walidata}) "
        "receives this notice as well.",
    },
}


class DigestText(TypedDict):
    """The daily digest's wording in one language."""

    subject: str
    intro: str
    columns: tuple[str, ...]  # the table's header, one per value of a row
    on_time: str
    received_late: str
    missing: str
    late_count: str
    all_good: str
    legend: str
    load: dict[str, str]  # a load's status -> its wording
    never: str


TEXT_DIGEST: dict[str, DigestText] = {
    "id": {
        "subject": "[Serasan] Ringkasan harian {opd}, {date}",
        "intro": "Berikut ringkasan status data {opd} per {date}:",
        "columns": (
            "dataset",
            "periode wajib",
            "batas kirim",
            "status",
            "muat terakhir",
            "baris",
            "ditolak",
        ),
        "on_time": "tepat waktu",
        "received_late": "diterima terlambat {days} hari",
        "missing": "BELUM DIKIRIM, terlambat {days} hari",
        "late_count": "{n} dataset belum dikirim untuk periode wajibnya. Mohon segera kirim "
        "ke folder unggahan masing-masing dataset.",
        "all_good": "Semua dataset sudah dikirim untuk periode wajibnya. Terima kasih.",
        "legend": "Periode wajib: periode terakhir yang batas kirimnya sudah lewat. Muat "
        "terakhir: tanggal dan hasil pemeriksaan file terakhir.",
        "load": {
            LoadStatus.LOADED: "dimuat",
            LoadStatus.QUARANTINED: "sebagian ditolak",
            LoadStatus.WARNED: "dimuat dengan peringatan",
            LoadStatus.BLOCKED: "diblokir",
            LoadStatus.REJECTED: "file ditolak",
        },
        "never": "belum pernah",
    },
    "en": {
        "subject": "[Serasan] Daily summary {opd}, {date}",
        "intro": "The status of {opd}'s data as of {date}:",
        "columns": ("dataset", "period due", "deadline", "status", "last load", "rows", "rejected"),
        "on_time": "on time",
        "received_late": "received {days} days late",
        "missing": "NOT RECEIVED, {days} days late",
        "late_count": "{n} datasets have not been delivered for their due period. Please "
        "upload them to each dataset's upload folder.",
        "all_good": "Every dataset was delivered for its due period. Thank you.",
        "legend": "Period due: the latest period whose deadline has passed. Last load: the date "
        "and outcome of the latest file checked.",
        "load": {
            LoadStatus.LOADED: "loaded",
            LoadStatus.QUARANTINED: "partly rejected",
            LoadStatus.WARNED: "loaded with warnings",
            LoadStatus.BLOCKED: "blocked",
            LoadStatus.REJECTED: "file rejected",
        },
        "never": "never",
    },
}


def date_words(day: dt.date, lang: str = "id") -> str:
    """A date as people write it in letters: 10 November 2026."""
    months = BULAN if lang == "id" else MONTHS
    return f"{day.day} {months[day.month - 1]} {day.year}"


def period_words(cadence: str, start: dt.date, lang: str = "id") -> str:
    """A due period in words: Oktober 2026, Triwulan III 2026, 2025, 31 Oktober 2026."""
    months = BULAN if lang == "id" else MONTHS
    if cadence == "monthly":
        return f"{months[start.month - 1]} {start.year}"
    if cadence == "quarterly":
        q = (start.month - 1) // 3
        return f"Triwulan {ROMAN[q]} {start.year}" if lang == "id" else f"Q{q + 1} {start.year}"
    if cadence == "yearly":
        return str(start.year)
    return date_words(start, lang)


@dataclass(frozen=True)
class LateItem:
    """One dataset missing for its due period, in the words the OPD will read."""

    dataset: str
    title: str
    period: str
    deadline: dt.date
    days_late: int
    inbox: str


@dataclass(frozen=True)
class DigestRow:
    """One dataset's line in an OPD's daily digest."""

    dataset: str
    title: str
    period: str
    deadline: dt.date
    received_late_days: int | None  # None: not received; 0: on time; n: n days late
    days_late: int  # days past the deadline as of the digest date, when not received
    last_load_date: dt.date | None
    last_load_status: str | None
    rows_in: int | None
    rows_rejected: int | None


def compose_late(
    catalog: Catalog,
    regency_kode: str,
    opd_code: str,
    *,
    alert_id: str,
    run_date: dt.date,
    items: Sequence[LateItem],
    recipients: list[str],
    escalated: bool,
    grace_days: int,
    lang: str = "id",
) -> Alert:
    """The reminder to an OPD that a due submission is missing (copied to the walidata late)."""
    t = TEXT_LATE.get(lang, TEXT_LATE["id"])
    regency = catalog.regency(regency_kode)
    opd = regency.opd(opd_code)
    assert opd is not None
    base = TEXT.get(lang, TEXT["id"])
    parts = [
        base["hello"].format(contact=opd.contacts[0].name),
        "",
        t["intro"].format(date=date_words(run_date, lang)),
        "",
    ]
    parts += [
        t["item"].format(
            title=i.title,
            dataset=i.dataset,
            period=i.period,
            deadline=date_words(i.deadline, lang),
            days=i.days_late,
            inbox=i.inbox,
        )
        for i in items
    ]
    parts += ["", t["ask"]]
    if escalated:
        parts.append(t["escalated"].format(grace=grace_days, walidata=regency.walidata))
    parts += ["", base["sign"].format(walidata=regency.walidata)]
    return Alert(
        alert_id=alert_id,
        recipients=recipients,
        subject=t["subject"].format(opd=opd.name, n=len(items)),
        body="\n".join(parts),
    )


def compose_digest(
    catalog: Catalog,
    regency_kode: str,
    opd_code: str,
    *,
    alert_id: str,
    run_date: dt.date,
    rows: Sequence[DigestRow],
    lang: str = "id",
) -> Alert:
    """The OPD's daily summary: each dataset's due period, whether it arrived, its last load."""
    t = TEXT_DIGEST.get(lang, TEXT_DIGEST["id"])
    base = TEXT.get(lang, TEXT["id"])
    regency = catalog.regency(regency_kode)
    opd = regency.opd(opd_code)
    assert opd is not None
    cols = list(t["columns"])
    table_rows = []
    for r in rows:
        if r.received_late_days is None:
            status = t["missing"].format(days=r.days_late)
        elif r.received_late_days > 0:
            status = t["received_late"].format(days=r.received_late_days)
        else:
            status = t["on_time"]
        last = (
            f"{r.last_load_date.isoformat()} "
            f"({t['load'].get(r.last_load_status or '', r.last_load_status)})"
            if r.last_load_date
            else t["never"]
        )
        table_rows.append(
            dict(
                zip(
                    cols,
                    [
                        r.dataset,
                        r.period,
                        r.deadline.isoformat(),
                        status,
                        last,
                        "-" if r.rows_in is None else r.rows_in,
                        "-" if r.rows_rejected is None else r.rows_rejected,
                    ],
                    strict=True,
                )
            )
        )
    missing = sum(r.received_late_days is None for r in rows)
    parts = [
        base["hello"].format(contact=opd.contacts[0].name),
        "",
        t["intro"].format(opd=opd.name, date=date_words(run_date, lang)),
        "",
        _table(table_rows, cols),
        "",
        t["late_count"].format(n=missing) if missing else t["all_good"],
        "",
        t["legend"],
        "",
        base["sign"].format(walidata=regency.walidata),
    ]
    return Alert(
        alert_id=alert_id,
        recipients=[c.email for c in opd.contacts],
        subject=t["subject"].format(opd=opd.name, date=date_words(run_date, lang)),
        body="\n".join(parts),
    )


# ------------------------------------------------------------------ engineers only


def compose_task_failure(
    *,
    alert_id: str,
    recipients: list[str],
    dag_id: str,
    task_id: str,
    run_id: str,
    logical_date: str | None,
    try_number: int | None,
    log_url: str | None,
    log_path: str | None,
    error: str | None,
) -> Alert:
    """A task failed after its retries: what an engineer needs to find the log, nothing more."""
    lines = [
        f"Task {task_id} of DAG {dag_id} failed after its retries.",
        "",
        f"DAG:          {dag_id}",
        f"task:         {task_id}",
        f"run id:       {run_id}",
        f"logical date: {logical_date or '-'}",
        f"try:          {try_number or '-'}",
        f"log:          {log_url or '-'}",
    ]
    if log_path:
        lines.append(f"log file:     {log_path}")
    lines += [
        "",
        f"error: {error or '-'}",
        "",
        "OPDs are not told about pipeline errors; their data-quality alerts are sent separately.",
    ]
    return Alert(
        alert_id=alert_id,
        recipients=recipients,
        subject=f"[Serasan] task failed: {dag_id}.{task_id} ({run_id})",
        body="\n".join(lines),
    )


def compose_outbox_backlog(
    *,
    alert_id: str,
    recipients: list[str],
    run_date: dt.date,
    max_age_hours: int,
    stuck: Sequence[dict[str, Any]],
) -> Alert:
    """Alerts that have not gone out: OPDs are waiting for them, so the engineers are told."""
    cols = [
        "kind",
        "alert_id",
        "channel",
        "recipient",
        "status",
        "attempts",
        "age_hours",
        "last_error",
    ]
    rows = [{**s, "last_error": str(s.get("last_error") or "")[:120]} for s in stuck[:50]]
    body = [
        f"{len(stuck)} alert deliveries are still undelivered after {max_age_hours} hours "
        f"or have failed for good (as of {run_date.isoformat()}).",
        "",
        _table(rows, cols),
        "",
    ]
    if len(stuck) > 50:
        body.append(f"... and {len(stuck) - 50} more in meta.alert_delivery.")
    body.append(
        "Check the SMTP server and the webhook (SERASAN_SMTP_*, SERASAN_WEBHOOK_*, "
        "or the serasan_smtp / serasan_webhook connections). Pending deliveries are "
        "retried with backoff by every drain; none is lost."
    )
    return Alert(
        alert_id=alert_id,
        recipients=recipients,
        subject=f"[Serasan] outbox not draining: {len(stuck)} alerts undelivered",
        body="\n".join(body),
    )


# ------------------------------------------------------------------ walidata and engineers

TEXT_CLAIM = {
    "id": {
        "subject": "[Serasan] {title}: dua file berbeda untuk periode {periods}",
        "intro": 'Dua file berbeda untuk periode yang sama dari dataset "{title}" ({dataset}, '
        "{opd}) dimuat dalam satu jendela proses ({why}).",
        "rule": "Dataset ini mengganti seluruh isi satu periode dengan file yang dimuat terakhir, "
        "sehingga gudang data kini hanya berisi baris dari file yang dimuat terakhir:",
        "kept": '- dipakai: "{filename}" (muat {load_id})',
        "replaced": '- diganti: "{filename}" (muat {load_id}, dimuat {at}), periode {periods}',
        "ask": "Mohon pastikan bersama OPD file mana yang benar. Jika file yang dimuat terakhir "
        "adalah perbaikan file lainnya, tidak ada yang perlu dilakukan. Jika file yang diganti "
        "yang benar, tarik kembali muat yang dipakai: serasan retract {load_id} --reason ...",
    },
    "en": {
        "subject": "[Serasan] {title}: two different files for period {periods}",
        "intro": 'Two different files for the same period of "{title}" ({dataset}, {opd}) were '
        "loaded within one run window ({why}).",
        "rule": "This dataset replaces a whole period with the file loaded last, so the warehouse "
        "now holds the rows of the file loaded last only:",
        "kept": '- kept: "{filename}" (load {load_id})',
        "replaced": '- replaced: "{filename}" (load {load_id}, loaded {at}), periods {periods}',
        "ask": "Please check with the OPD which file is right. If the file loaded last is a "
        "corrected version of the other, nothing needs doing. If the replaced one is right, "
        "retract the kept load: serasan retract {load_id} --reason ...",
    },
}


def compose_period_claim(
    catalog: Catalog,
    ds: Dataset,
    *,
    alert_id: str,
    recipients: list[str],
    filename: str,
    load_id: str,
    periods: Sequence[str],
    replaced: Sequence[dict[str, Any]],
    why: str,
    lang: str = "id",
) -> Alert:
    """Two files claimed one period of a `replace_period` dataset in one run window: the one
    loaded last silently won. For the walidata and the engineers; `replaced` holds each earlier
    load's `filename`, `load_id`, `merged_at` and shared `periods`."""
    t = TEXT_CLAIM.get(lang, TEXT_CLAIM["id"])
    opd = catalog.opd_of(ds)
    fields = {"title": ds.title, "dataset": ds.id, "opd": opd.name, "periods": ", ".join(periods)}
    parts = [
        t["intro"].format(why=why, **fields),
        "",
        t["rule"],
        t["kept"].format(filename=filename, load_id=load_id),
        *[
            t["replaced"].format(
                filename=r["filename"],
                load_id=r["load_id"],
                at=r["merged_at"],
                periods=", ".join(r["periods"]),
            )
            for r in replaced
        ],
        "",
        t["ask"].format(load_id=load_id),
        "",
        TEXT.get(lang, TEXT["id"])["sign"].format(walidata=catalog.regency(ds.regency).walidata),
    ]
    return Alert(
        alert_id=alert_id,
        recipients=recipients,
        subject=t["subject"].format(**fields),
        body="\n".join(parts),
    )
