"""Personal data in citizen reviews: `pii.mask_text` and the citizen-voice helpers.

Judged on generated Indonesian reviews whose personal data is known (each is built beside the
text it must mask to), and on the two real review files of ../shared/samples/real: Google Maps
reviews of Alun-Alun Lumajang and Play Store reviews of Mobile JKN. Neither real file has an
author column (Lumajang: review_id, rating, date, review_text, date_parsed, year; Mobile JKN:
score, at, content, label), so their rows get generated authors, whose names are also written
into some of the real texts.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from serasan.config.catalog import Dataset
from serasan.config.voice import voice_problems
from serasan.publish import pii
from serasan.publish.pii import (
    NAME_MASK,
    find_in_review,
    find_in_text,
    mask_text,
    mask_voice_record,
    masked_text_columns,
    row_id,
    scan_csv,
)

KEY = "kunci-uji-ulasan-7c1d"
LUMAJANG = ("lumajang-alunalun-reviews", "reviews_clean.csv")
MOBILE_JKN = ("mobilejkn-playstore-reviews", "sentimen_mobileJKN.csv")

# ------------------------------------------------------------------------ the honorific rule


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Pelayanan Pak Budi Santoso ramah", "Pelayanan Pak [nama] ramah"),
        ("mbak Rina di loket judes", "mbak [nama] di loket judes"),
        ("Terima kasih Bu Hj. Siti", "Terima kasih Bu Hj. [nama]"),
        (
            "Bapak Dr. Ir. H. Ahmad Fauzi sudah turun tangan",
            "Bapak Dr. Ir. H. [nama] sudah turun tangan",
        ),
        ("Pak Haji Ma'ruf parkirnya rapi", "Pak Haji [nama] parkirnya rapi"),
        ("diperiksa dr. Sari, ramah sekali", "diperiksa dr. [nama], ramah sekali"),
        ("dr.Hendra sabar", "dr.[nama] sabar"),
        ("PAK Joko satpamnya galak", "PAK [nama] satpamnya galak"),
        ("kak Dewi, Om Hendra dan Tante Lina", "kak [nama], Om [nama] dan Tante [nama]"),
        (
            "Bang Ucok tukang parkir, Mas Eko, Dik Putra",
            "Bang [nama] tukang parkir, Mas [nama], Dik [nama]",
        ),
        ("Sdri. Wati dan Sdr Bambang", "Sdri. [nama] dan Sdr [nama]"),
        # one to three words: a fourth capitalised word stays
        ("Pak Budi Santoso Wijaya Kusuma", "Pak [nama] Kusuma"),
        # the name ends at a line break
        ("Ibu Ani\nPetugas ramah", "Ibu [nama]\nPetugas ramah"),
    ],
)
def test_the_words_after_an_honorific_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "pak tolong diperbaiki aplikasinya",  # no capitalised word after it
        "ibu saya mau daftar",
        "Bapak Ibu petugas sudah baik",  # honorifics are not names
        "om Tante",
        "Pak Haji",
        "dr rumah ke RS, Dr karena antri",  # 'dari' in chat: dr without its dot
        "H-1 lebaran ramai, H mau scan",  # H without its dot
        "Kapak Budi",  # 'pak' inside a word
        "Ibukota Nusantara",
        "terima kasih pak. Pelayanan bagus",  # the honorific ends a sentence
    ],
)
def test_no_honorific_no_mask(text: str) -> None:
    assert mask_text(text) == text
    assert find_in_review(text) == []


def test_known_false_positives_and_misses_are_as_documented() -> None:
    # a capitalised title or common word after an honorific is taken for a name
    assert mask_text("Bu Kades tidak ada di tempat") == "Bu [nama] tidak ada di tempat"
    assert mask_text("Terima kasih Pak Bupati") == "Terima kasih Pak [nama]"
    assert mask_text("pindah ke Ibu Kota Nusantara") == "pindah ke Ibu [nama]"
    # names in small letters or in capitals, and names without an honorific, stay
    for text in ("mbak rina di loket judes", "PAK BUDI galak", "Rina di loket judes"):
        assert mask_text(text) == text


# ------------------------------------------------------------------------ the author's name


def test_every_word_of_the_author_is_masked_whole_in_any_case() -> None:
    author = ["Budi Santoso"]
    assert mask_text("saya budi, dari BUDI santoso", author) == "saya [nama], dari [nama]"
    assert mask_text("Budiman dan Santosowati", author) == "Budiman dan Santosowati"
    assert mask_text("akun budi99 diblokir", author) == "akun [nama]99 diblokir"
    # words of fewer than three letters are not names enough: 'Al', 'S.'
    assert mask_text("Al S. Budi, al", ["Al S. Budi"]) == "Al S. [nama], al"
    assert pii.name_tokens(["Al S. Budi", None, "", "Nur'aini-Putri 2"]) == {
        "budi",
        "nur",
        "aini",
        "putri",
    }


def test_names_next_to_each_other_become_one_mask() -> None:
    assert mask_text("Budi Santoso hadir", ["Budi Santoso"]) == "[nama] hadir"
    assert mask_text("Pak Budi Santoso hadir", ["Budi Santoso"]) == "Pak [nama] hadir"
    assert mask_text("Pak Haji Ahmad", ["Haji Ahmad"]) == "Pak [nama]"
    assert mask_text("budi, santoso", ["Budi Santoso"]) == "[nama], [nama]"


def test_a_name_inside_an_email_or_number_is_masked_with_it() -> None:
    text = "Budi: budi.santoso@gmail.com"
    assert find_in_review(text, ["Budi Santoso"]) == [
        ("author", "Budi"),
        ("email", "budi.santoso@gmail.com"),
    ]
    assert mask_text(text, ["Budi Santoso"]) == "[nama]: [email]"


# ------------------------------------------------------------------------ numbers and addresses


@pytest.mark.parametrize(
    "phone",
    [
        "0812-3456-7890",
        "0812 3456 7890",
        "081234567890",
        "0857.0877.9643",
        "0858-1234-567",
        "+62 812-3456-7890",
        "+62-812-3456-7890",
        "+6281234567890",
        "(+62) 812 3456 7890",
        "62 812 3456 7890",
        "6281234567890",
        "(0341) 881234",
        "0341-881234",
    ],
)
def test_indonesian_phone_numbers_are_masked(phone: str) -> None:
    assert mask_text(f"hubungi {phone} ya") == "hubungi [telepon] ya"
    assert mask_text(f"WA:{phone}") == "WA:[telepon]"


def test_nik_email_and_npwp_are_masked() -> None:
    text = "NIK 3508014101900001, npwp 01.234.567.8-901.000, email budi.s@yahoo.co.id."
    assert mask_text(text) == "NIK [NIK], npwp [NPWP], email [email]."
    assert mask_text("nik saya 3508 0141 0190 0001 ditolak") == "nik saya [NIK] ditolak"


def test_numbers_that_are_no_one_stay() -> None:
    text = "antre 2 jam, nomor 102000, Rp 10.000, jam 08.00-16.00, tgl 12-05-2025, otp 654321"
    assert mask_text(text) == text


def test_masking_leaves_nothing_the_scanner_finds_even_where_numbers_run_together() -> None:
    # masking the NPWP leaves '.000081234567890', which the scanner reads again: masked too
    assert mask_text("01.234.567.8-901.000081234567890") == "[NPWP].[NPWP]"
    rng = random.Random(18)
    atoms = ["0812", "3456", "7890", "1603", "0101", "62", "+62", " ", "-", ".", "@", "x"]
    atoms += ["gmail.com", "(0341)", "telp", "3508014101900001", "01.234.567.8-901.000"]
    for _ in range(20_000):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(2, 10)))
        assert find_in_text(mask_text(text)) == [], text


# ------------------------------------------------------------------------ generated reviews

HONORIFICS = ["Pak", "pak", "Bu", "bu", "Bapak", "Ibu", "Mas", "mas", "Mbak", "mbak", "Bang"]
HONORIFICS += ["Kak", "kak", "Dik", "Om", "Tante", "Sdr.", "dr.", "Bu Hj.", "Pak Haji", "PAK"]
FIRST = ["Budi", "Rina", "Siti", "Ahmad", "Dewi", "Joko", "Wati", "Hendra", "Yusuf", "Lina"]
LAST = ["Santoso", "Lestari", "Nurhaliza", "Fauzi", "Wijaya", "Hasibuan", "Siregar", "Rahmawati"]
PRAISE = ["ramah", "judes", "sigap banget", "kurang senyum", "mantul", "gk jelas", "sabar bgt"]
OPENERS = ["Pelayanan", "petugas loket", "tadi dilayani", "makasih buat", "kecewa sama"]
CLOSERS = ["", ".", "!!", " 👍", ", mantap", " tp antri lama"]


def _generated_nik(rng: random.Random) -> str:
    return (
        f"{rng.choice(sorted(pii.PROVINCE_CODES)):02d}{rng.randint(1, 79):02d}"
        f"{rng.randint(1, 40):02d}{rng.randint(1, 28) + rng.choice((0, 40)):02d}"
        f"{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}{rng.randint(1, 9999):04d}"
    )


def _generated_phone(rng: random.Random) -> str:
    a, b, c = rng.randint(11, 99), rng.randint(1000, 9999), rng.randint(1000, 9999)
    return rng.choice(
        [
            f"08{a}-{b}-{c}",
            f"08{a} {b} {c}",
            f"08{a}{b}{c}",
            f"+62 8{a}-{b}-{c}",
            f"+628{a}{b}{c}",
            f"628{a}{b}{c}",
            f"62 8{a} {b} {c}",
        ]
    )


def _generated_review(rng: random.Random) -> tuple[str, str, str, list[str]]:
    """(author, text, the text as it must be masked, the personal values in the text)."""
    author = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    parts: list[tuple[str, str]] = []  # (raw, masked)
    personal: list[str] = []
    staff = " ".join(rng.sample(FIRST + LAST, rng.randint(1, 3)))
    parts += [(f"{rng.choice(OPENERS)} {rng.choice(HONORIFICS)} ", "")]
    parts += [(staff, NAME_MASK), (f" {rng.choice(PRAISE)}", "")]
    personal += staff.split()
    extras = rng.sample(["author", "phone", "nik", "email"], rng.randint(0, 4))
    for extra in extras:
        if extra == "author":
            word = rng.choice(author.split())
            word = rng.choice([word, word.lower(), word.upper()])
            parts += [(", saya ", ""), (word, NAME_MASK)]
            personal.append(word)
        elif extra == "phone":
            phone = _generated_phone(rng)
            parts += [(", wa ", ""), (phone, "[telepon]")]
            personal.append(phone)
        elif extra == "nik":
            nik = _generated_nik(rng)
            parts += [(" nik ", ""), (nik, "[NIK]"), (" gk kebaca", "")]
            personal.append(nik)
        else:
            first, last = author.lower().split()
            email = f"{first}.{last}{rng.randint(1, 99)}@gmail.com"
            parts += [(" email ", ""), (email, "[email]")]
            personal.append(email)
    parts.append((rng.choice(CLOSERS), ""))
    text = "".join(raw for raw, _ in parts)
    masked = "".join(mask or raw for raw, mask in parts)
    return author, text, masked, personal


def test_generated_reviews_are_masked_exactly() -> None:
    rng = random.Random(20261101)
    kinds: Counter[str] = Counter()
    for _ in range(2000):
        author, text, expected, personal = _generated_review(rng)
        masked = mask_text(text, [author])
        assert masked == expected, text
        assert not any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", masked) for v in personal)
        assert find_in_text(masked) == []
        assert mask_text(masked, [author]) == masked  # masking twice changes nothing more
        kinds.update(k for k, _ in find_in_review(text, [author]))
    # every rule was exercised many times
    assert min(kinds[k] for k in ("name", "author", "phone", "nik", "email")) > 300, kinds


# ------------------------------------------------------------------------ citizen-voice datasets


def _col(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "description": name, **extra}


def _voice_dataset(ds_id: str = "muba_ulasan_uji") -> Dataset:
    """A review dataset as the catalog declares one: author and source id are personal data."""
    return Dataset.model_validate(
        {
            "id": ds_id,
            "regency": "16.06",
            "opd": "dlh",
            "pillar": "living",
            "title": "Ulasan uji",
            "description": "Ulasan warga",
            "source": {"kind": "spreadsheet"},
            "cadence": "monthly",
            "columns": [
                _col("id_ulasan", "string", nullable=False, pii=True),
                _col("nama_pengulas", "string", pii=True, pii_export="pseudonym"),
                _col("tanggal", "date", nullable=False),
                _col("bintang", "integer"),
                _col("ulasan", "string"),
                _col("balasan_pengelola", "string"),
                _col("program", "string", allowed=["taman_air_muba"]),
                _col("tempat", "string"),
                _col("sumber", "string", allowed=["google_maps", "play_store"]),
            ],
            "primary_key": ["id_ulasan"],
            "period": {"column": "tanggal", "granularity": "day"},
            "quality_policy": "quarantine",
            "load_mode": "upsert",
            "retention": {"raw_days": 365, "quarantine_days": 90},
            "satu_data": {
                "produsen_data": "DLH",
                "walidata": "Diskominfo",
                "frekuensi": "Bulanan",
                "satuan": "Ulasan",
                "level_penyajian": "Kabupaten",
                "lisensi": "CC-BY-4.0",
                "kontak": "dlh@mubakab.go.id",
            },
            "voice": {
                "kind": "review",
                "text": "ulasan",
                "date": "tanggal",
                "rating": "bintang",
                "programme": "program",
                "place": "tempat",
                "author": "nama_pengulas",
                "source_id": "id_ulasan",
            },
        }
    )


def test_the_test_dataset_is_one_the_catalog_accepts() -> None:
    assert voice_problems(_voice_dataset(), Path("ulasan.yaml")) == []


def test_the_text_of_a_voice_dataset_is_masked_with_its_authors_name() -> None:
    ds = _voice_dataset()
    assert masked_text_columns(ds) == ["ulasan"]
    record = {
        "id_ulasan": "ChZDSUhNMG9nS0VJQ0FnSUNFNE",
        "nama_pengulas": "Rina Marlina",
        "bintang": 1,
        "ulasan": "saya Rina, Pak Joko di loket judes, wa 0812-3456-7890",
        "balasan_pengelola": "Terima kasih Kak Rina",
        "program": "taman_air_muba",
        "tempat": "Warung Bu Siti",
        "sumber": "google_maps",
    }
    out = mask_voice_record(ds, record)
    assert out["ulasan"] == "saya [nama], Pak [nama] di loket judes, wa [telepon]"
    # everything else as it was: the export drops or pseudonymises the personal columns, and
    # its scanner reads every other cell as before
    assert {k: v for k, v in out.items() if k != "ulasan"} == {
        k: v for k, v in record.items() if k != "ulasan"
    }
    assert record["ulasan"].startswith("saya Rina")  # the warehouse row is not changed
    assert mask_voice_record(ds, {**record, "ulasan": None})["ulasan"] is None
    # a row without an author still has its numbers and honorific names masked
    assert mask_voice_record(ds, {**record, "nama_pengulas": None})["ulasan"] == (
        "saya Rina, Pak [nama] di loket judes, wa [telepon]"
    )


def test_the_shipped_voice_datasets_mask_their_text(catalog: Any) -> None:
    voiced = [ds for ds in catalog.datasets.values() if ds.voice is not None]
    assert voiced
    for ds in voiced:
        v = ds.voice
        assert masked_text_columns(ds) == ([v.text] if v.text else []), ds.id
        record = {c.name: f"nilai {c.name}" for c in ds.columns}
        if v.author:
            record[v.author] = "Rina Marlina"
        if v.text:
            record[v.text] = "saya RINA, Pak Joko, nik 3508014101900001, rina@gmail.com"
        out = mask_voice_record(ds, record)
        if v.text:
            assert out[v.text] == (
                ("saya [nama]" if v.author else "saya RINA") + ", Pak [nama], nik [NIK], [email]"
            ), ds.id
        assert {k: x for k, x in out.items() if k != v.text} == {
            k: x for k, x in record.items() if k != v.text
        }
        assert re.fullmatch(r"SRS-[A-Z]{16}", row_id(ds, record, KEY))
        # the channel's own id (a Google review id, a LAPOR ticket that opens the complaint's
        # page) leads to the writer: declared, personal, so exports drop it for the row id
        assert v.source_id is not None, ds.id
        assert next(c for c in ds.columns if c.name == v.source_id).pii, ds.id


def test_a_dataset_without_a_voice_block_is_left_alone(catalog: Any) -> None:
    ds = catalog.datasets["muba_bank_sampah"]
    assert ds.voice is None and masked_text_columns(ds) == []
    record = {c.name: "Pak Budi 0812-3456-7890" for c in ds.columns}
    assert mask_voice_record(ds, record) == record


def test_row_ids_replace_source_ids() -> None:
    ds = _voice_dataset()
    a = {"id_ulasan": "ChZDSUhNMG9nS0VJQ0FnSUNFNE", "ulasan": "x"}
    b = {"id_ulasan": "ChdDSUhNMG9nS0VJQ0FnSUNFNFg", "ulasan": "x"}
    ra = row_id(ds, a, KEY)
    assert re.fullmatch(r"SRS-[A-Z]{16}", ra)
    assert row_id(ds, dict(a, ulasan="changed"), KEY) == ra  # the key decides, not the text
    assert row_id(ds, b, KEY) != ra
    assert row_id(_voice_dataset("muba_ulasan_lain"), a, KEY) != ra  # per dataset
    assert row_id(ds, a, KEY + "-rotated") != ra  # nobody without the key can rebuild it
    assert row_id(ds, a, KEY) != pii.pseudonym(a["id_ulasan"], KEY, "id_ulasan")
    assert find_in_text(ra) == []
    with pytest.raises(ValueError, match="SERASAN_PII_KEY"):
        row_id(ds, a, "")
    with pytest.raises(ValueError, match="shorter than 16 bytes"):
        row_id(ds, a, "pendek")


# ------------------------------------------------------------------------ the real review files


def _read(shared_dir: Path, where: tuple[str, str]) -> tuple[list[str], list[dict[str, str]]]:
    path = shared_dir / "samples" / "real" / where[0] / where[1]
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    return list(reader.fieldnames or []), rows


def _csv_of(column: str, texts: list[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([column])
    writer.writerows([t] for t in texts)
    return buf.getvalue().encode()


REAL = {
    # file, its text column, what mask_text finds in it, and the honorific names it masks
    "lumajang": (
        LUMAJANG,
        "review_text",
        {"phone": 2, "name": 4},
        # 'Luluk' names a warung's owner and 'Asat' someone thanked, 'Bupati Thoriqul Haq' the
        # regent with his title: masked rightly; 'Bupati Lumajang' is a title and a place
        ["Luluk", "Asat", "Bupati Thoriqul Haq", "Bupati Lumajang"],
    ),
    # 'bang Toyib' (a song's runaway husband) and 'Mas Broo' (slang): false positives
    "mobile_jkn": (MOBILE_JKN, "content", {"name": 2}, ["Toyib", "Broo"]),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_reviews_are_masked_and_the_scanner_finds_nothing_left(
    shared_dir: Path, name: str
) -> None:
    where, column, counts, names = REAL[name]
    header, rows = _read(shared_dir, where)
    assert column in header
    assert not [h for h in header if re.search(r"author|nama|name|user|pengulas", h, re.I)]
    found = [f for r in rows for f in find_in_review(r[column])]
    assert Counter(k for k, _ in found) == counts
    assert [m for k, m in found if k == "name"] == names
    assert [m for k, m in found if k == "phone"] == (
        ["085708779643"] * 2 if counts.get("phone") else []
    )
    masked = [mask_text(r[column]) for r in rows]
    assert sum(m != r[column] for m, r in zip(masked, rows, strict=True)) == sum(counts.values())
    # written and read the way an export is, every cell of the CSV: the scanner that would have
    # held the raw texts back finds nothing in the masked ones
    raw_findings = scan_csv(f"{name}.csv", _csv_of(column, [r[column] for r in rows]))
    assert Counter(f.kind for f in raw_findings) == {k: counts[k] for k in counts if k in pii.KINDS}
    assert scan_csv(f"{name}.csv", _csv_of(column, masked)) == []
    assert not [m for m in masked if find_in_text(m)]


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_reviews_keep_no_word_of_their_authors_name(shared_dir: Path, name: str) -> None:
    """Each real row gets a generated author; one row in four has the author's name written
    into its text, as reviewers sign or address a reply ('saya Budi', 'BUDI SANTOSO')."""
    where, column, _, _ = REAL[name]
    _, rows = _read(shared_dir, where)
    rng = random.Random(name)
    first = FIRST + ["Eko", "Sri", "Agus", "Yanti", "Rudi", "Nur", "Fitri", "Dedi"]
    last = LAST + ["Saputra", "Kurniawan", "Handayani", "Pratama", "Nasution", "Sembiring"]
    written = 0
    for r in rows:
        author = f"{rng.choice(first)} {rng.choice(last)}"
        text = r[column]
        if rng.random() < 0.25:
            signed = rng.choice([author, author.upper(), author.split()[0].lower()])
            text = rng.choice([f"saya {signed}, {text}", f"{text}\n- {signed}"])
            written += 1
        masked = mask_text(text, [author])
        words = pii.name_tokens([author])
        left = [w for w in re.findall(r"[^\W\d_]+", masked) if w.casefold() in words]
        assert left == [], (author, masked)
        assert find_in_text(masked) == []
    assert written > len(rows) // 5


def test_lumajang_review_ids_leave_as_serasan_row_ids(shared_dir: Path) -> None:
    """The export of a Lumajang-like review dataset: the Google review id (it leads to its
    author's profile) leaves only as Serasan's row id, the text masked."""
    ds = _voice_dataset()
    _, rows = _read(shared_dir, LUMAJANG)
    out = []
    for r in rows:
        record = {
            "id_ulasan": r["review_id"],
            "nama_pengulas": "Pengguna Google",
            "bintang": int(r["rating"]),
            "ulasan": r["review_text"],
        }
        masked = mask_voice_record(ds, record)
        out.append([row_id(ds, record, KEY), masked["bintang"], masked["ulasan"]])
    ids = [o[0] for o in out]
    assert len(set(ids)) == len(set(r["review_id"] for r in rows)) == len(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([pii.ROW_ID_COLUMN, "bintang", "ulasan"])
    writer.writerows(out)
    data = buf.getvalue()
    assert scan_csv("ulasan.csv", data.encode()) == []
    assert not [r["review_id"] for r in rows if r["review_id"] in data]


@pytest.mark.parametrize(("name", "hit"), [("lumajang", 1291), ("mobile_jkn", 917)])
def test_other_reviewers_names_are_not_masked_because_names_are_words(
    shared_dir: Path, name: str, hit: int
) -> None:
    """Why only the row's own author: two reviewers' names masked in every real text would
    take 'bagus' and 'indah' from a fifth of the Lumajang reviews."""
    where, column, _, _ = REAL[name]
    _, rows = _read(shared_dir, where)
    everyone = ["Bagus Prasetyo", "Indah Lestari"]
    changed = [r[column] for r in rows if mask_text(r[column], everyone) != mask_text(r[column])]
    assert len(changed) == hit
    words = Counter(
        m.casefold() for t in changed for k, m in find_in_review(t, everyone) if k == "author"
    )
    assert set(words) <= {"bagus", "indah", "prasetyo", "lestari"} and words["bagus"] > hit / 2
