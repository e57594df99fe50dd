"""Generated citizen voice reads as intended: ratings agree with the words, slang and typos,
names after honorifics and phone numbers that the masking then hides, themes per programme,
relative and absolute dates that the parser reads back, the same bytes for the same seed.

The polarity and theme words below are this test's own, not the generator's phrase banks, so
the checks measure the text as a reader would."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from collections import Counter, defaultdict

import pandas as pd
import pytest

from serasan.demo import reviews
from serasan.demo.generate import collected_relative, generate_dataset
from serasan.parse import relative_dates
from serasan.parse.reader import ParseError, parse_file
from serasan.publish.pii import mask_text
from serasan.quality.suites import load_validated_catalog

CATALOG = load_validated_catalog()
REVIEWS = CATALOG.datasets["muba_ulasan_program"]
COMPLAINTS = CATALOG.datasets["muba_pengaduan_masyarakat"]
COLLECTED = dt.date(2026, 10, 31)

POSITIVE = set(
    "bersih jernih adem betah seru murah cocok terbaik luas tertib aman cepat ramah sabar "
    "gampang nyaman lancar bermanfaat rajin jujur lumayan semangat bagus bgs keren mantap "
    "mantapp mantul puas recommended best top sukses sigap lengkap laris dikenal membantu "
    "tinggi tumbuh ok ringan".split()
)
NEGATIVE = set(
    "kotor keruh bau semrawut rusak lama berserakan licin jatuh sempit bahaya error terpotong "
    "offline molor mati buram gelap putus loading kecewa parah payah nyesel jutek kasar macet "
    "ribet bingung telat anjlok hilang menumpuk turun lemot mahal susah naik berantakan belum blm "
    "lempar percuma".split()
)
# a name after an honorific, as the masking rule reads it (serasan.publish.pii)
NAMED = re.compile(r"(?i:\b(?:pak|bu|bapak|ibu|mas|mbak|bang|kak)) [A-Z][a-z]+")
PHONE = re.compile(r"\b08\d{2}[- ]?\d{4}[- ]?\d{4}\b")
EMOJI = re.compile(r"[\u2600-\u27bf\U0001f300-\U0001faff]")
THEMES = {  # the themes per programme, and words of the programme itself
    "muba_taman_air": "kolam toilet tiket parkir wahana seluncuran bilas gazebo air berenang",
    "muba_bank_sampah": "timbang timbangannya sampah setor jemput tabungan saldo petugas jadwal",
    "muba_cctv_kita": "kamera kameranya cctv siaran siarannya aplikasinya aman maling lampu "
    "rekamannya macet jalan",
    "muba_layanan_pajak": "antre antreannya antrean aplikasi aplikasinya bayar online petugas "
    "petugasnya pbb sppt loket pajak bphtb qris",
    "muba_sport_tourism": "event eventnya peserta pesertanya panitia panitianya parkir hadiah "
    "hadiahnya rute perahunya medalinya racepack acara",
    "muba_kelompok_tani_karet": "karet harga pelatihan bibit penyuluh penyuluhnya bokar lelang "
    "pupuk kebun kelompok sadap",
}


def _csv(ds_id: str, **kwargs) -> list[dict[str, str]]:
    gen = generate_dataset(CATALOG.datasets[ds_id], CATALOG, fmt="csv", **kwargs)
    return list(csv.DictReader(io.StringIO(gen.data.decode("utf-8"))))


def _words(text: str) -> list[str]:
    """Lower case, elongations undone ('kerennn' -> 'keren', 'mantulll' -> 'mantul')."""
    out = []
    for w in re.findall(r"[a-z]+", text.lower()):
        w = re.sub(r"(.)\1{2,}", r"\1", w)
        if w not in POSITIVE | NEGATIVE:
            w = re.sub(r"(.)\1+$", r"\1", w)
        out.append(w)
    return out


def _score(text: str) -> int:
    ws = _words(text)
    return sum(w in POSITIVE for w in ws) - sum(w in NEGATIVE for w in ws)


@pytest.fixture(scope="module", params=[None, COLLECTED], ids=["absolute", "collected"])
def review_rows(request: pytest.FixtureRequest) -> list[dict[str, str]]:
    return _csv(REVIEWS.id, rows=1600, collected=request.param)


@pytest.fixture(scope="module")
def complaint_rows() -> list[dict[str, str]]:
    return _csv(COMPLAINTS.id, rows=600, collected=COLLECTED)


# ------------------------------------------------------------------------ ratings and words


def test_ratings_agree_with_the_words(review_rows: list[dict[str, str]]) -> None:
    rated = [r for r in review_rows if r["rating"] and r["ulasan"]]
    by_stars: dict[int, list[int]] = defaultdict(list)
    for r in rated:
        by_stars[int(r["rating"])].append(_score(r["ulasan"]))
    assert set(by_stars) == {1, 2, 3, 4, 5}
    low = by_stars[1] + by_stars[2]
    high = by_stars[5]
    assert sum(s < 0 for s in low) / len(low) >= 0.8  # one or two stars complain
    assert sum(s > 0 for s in low) / len(low) <= 0.05
    assert sum(s > 0 for s in high) / len(high) >= 0.85  # five stars praise
    assert sum(s < 0 for s in high) / len(high) <= 0.05
    mixed = [r["ulasan"] for r in rated if r["rating"] == "3"]
    both = [t for t in mixed if set(_words(t)) & POSITIVE and set(_words(t)) & NEGATIVE]
    assert len(both) / len(mixed) >= 0.4  # three stars say both
    mean = {s: sum(v) / len(v) for s, v in by_stars.items()}
    assert max(mean[1], mean[2]) < mean[3] < min(mean[4], mean[5])
    frame = pd.DataFrame(
        {"stars": [int(r["rating"]) for r in rated], "score": [_score(r["ulasan"]) for r in rated]}
    )
    assert frame["stars"].corr(frame["score"], method="spearman") >= 0.6


def test_reviews_are_informal(review_rows: list[dict[str, str]]) -> None:
    texts = [r["ulasan"] for r in review_rows if r["ulasan"]]
    words = Counter(w for t in texts for w in re.findall(r"[a-z0-9]+", t.lower()))
    for slang in ("gk", "bgt", "mantul", "udh", "tp", "yg", "dgn", "sy", "bkn", "jd", "blm"):
        assert words[slang], slang
    assert any("ok bgt" in t.lower() for t in texts)
    slangy = [t for t in texts if set(re.findall(r"[a-z]+", t.lower())) & {"gk", "ga", "gak",
              "tdk", "bgt", "yg", "udh", "udah", "tp", "sy", "dgn", "jd", "blm", "mantul"}]  # fmt: skip
    assert len(slangy) / len(texts) >= 0.3
    stretched = [t for t in texts if re.search(r"([a-z])\1{2,}", t.lower())]  # "kerennn"
    assert 0.05 <= len(stretched) / len(texts) <= 0.5
    assert any(re.search(r"\bkeren{3,}", t.lower()) for t in texts)
    emoji = [t for t in texts if EMOJI.search(t)]
    assert 0.1 <= len(emoji) / len(texts) <= 0.5
    lengths = sorted(len(t) for t in texts)
    assert lengths[len(lengths) // 2] <= 140  # short, as citizens write
    assert sum(t == t.lower() for t in texts) / len(texts) >= 0.3  # mostly no capitals


def test_reviews_have_typos(review_rows: list[dict[str, str]]) -> None:
    """Some words are one slip away from a word that occurs correctly elsewhere: two letters
    swapped, or one left out."""
    texts = [r["ulasan"] for r in review_rows if r["ulasan"]]
    counts = Counter(w for t in texts for w in re.findall(r"[a-z]{5,}", t.lower()))
    common = {w for w, n in counts.items() if n >= 5}

    def slips(word: str) -> set[str]:
        swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
        return swapped | {word[:i] + word[i + 1 :] for i in range(len(word))}

    typos = {w for w in counts if w not in common and any(s in common for s in slips(w))}
    mistyped = [t for t in texts if set(re.findall(r"[a-z]{4,}", t.lower())) & typos]
    assert 0.02 <= len(mistyped) / len(texts) <= 0.3


def test_each_programme_is_talked_about_in_its_own_themes(
    review_rows: list[dict[str, str]],
) -> None:
    by_programme: dict[str, list[set[str]]] = defaultdict(list)
    for r in review_rows:
        if r["ulasan"]:
            by_programme[r["program"]].append(set(_words(r["ulasan"])))
    assert set(by_programme) == set(THEMES)
    for code, texts in by_programme.items():
        own = set(THEMES[code].split())
        assert sum(bool(t & own) for t in texts) / len(texts) >= 0.6, code
    pool = by_programme["muba_cctv_kita"]  # a camera network's reviews name no swimming pool
    assert sum("kolam" in t for t in pool) == 0
    taman = by_programme["muba_taman_air"]
    assert sum(bool(t & {"kamera", "cctv", "pbb", "karet"}) for t in taman) == 0


def test_platforms_decide_ratings(review_rows: list[dict[str, str]]) -> None:
    by = defaultdict(list)
    for r in review_rows:
        by[r["sumber"]].append(r)
    assert set(by) == {"Google Maps", "Play Store", "Survei", "Media Sosial"}
    assert all(r["rating"] for r in by["Google Maps"] + by["Play Store"])
    assert not any(r["rating"] for r in by["Media Sosial"])
    assert {r["rating"] for r in review_rows} == {"", "1", "2", "3", "4", "5"}
    rating_only = [r for r in by["Google Maps"] if not r["ulasan"]]
    assert 0 < len(rating_only) < 0.2 * len(by["Google Maps"])  # a rating without words


def test_programme_shares_follow_their_weights(review_rows: list[dict[str, str]]) -> None:
    counts = Counter(r["program"] for r in review_rows)
    total = sum(b.weight for b in reviews.BANKS.values())
    for code, bank in reviews.BANKS.items():
        assert abs(counts[code] - len(review_rows) * bank.weight / total) <= 1, code


# ------------------------------------------------------------------------ personal data


def test_some_texts_name_people_and_phones_and_masking_hides_them(
    complaint_rows: list[dict[str, str]],
) -> None:
    """As exported (with a collection date): names after an honorific and phone numbers."""
    exported = _csv(REVIEWS.id, rows=1600, collected=COLLECTED)
    for rows, text, share in (
        (exported, "ulasan", (0.05, 0.25)),
        (complaint_rows, "isi_pengaduan", (0.1, 0.4)),
    ):
        texts = [r[text] for r in rows if r[text]]
        named = [t for t in texts if NAMED.search(t)]
        assert share[0] <= len(named) / len(texts) <= share[1], text
        phoned = [t for t in texts if PHONE.search(t)]
        assert 0.01 <= len(phoned) / len(texts) <= 0.2, text
        for t in named + phoned:
            masked = mask_text(t)
            assert not NAMED.search(masked), masked
            assert not PHONE.search(masked), masked
            assert "[nama]" in masked or "[telepon]" in masked


# ------------------------------------------------------------------------ complaints


def test_complaints_fit_their_programme_and_status(complaint_rows: list[dict[str, str]]) -> None:
    kategori = COMPLAINTS.column("kategori")
    status = COMPLAINTS.column("status")
    assert kategori is not None and status is not None
    assert {r["kategori"] for r in complaint_rows} <= set(kategori.allowed or [])
    assert {r["status"] for r in complaint_rows} == set(status.allowed or [])
    pajak = {r["program"] for r in complaint_rows if r["kategori"] == "Pajak"}
    assert pajak == {"muba_layanan_pajak"}
    general = [r for r in complaint_rows if not r["program"]]
    assert 0.1 <= len(general) / len(complaint_rows) <= 0.2  # about no flagship programme
    assert {r["kategori"] for r in general} >= {"Kesehatan", "Pendidikan", "Kependudukan"}
    words = {
        "muba_cctv_kita": {"cctv", "kamera", "lampu"},
        "muba_bank_sampah": {"sampah"},
        "muba_taman_air": {"taman"},
    }
    for code, expected in words.items():
        texts = [r["isi_pengaduan"].lower() for r in complaint_rows if r["program"] == code]
        assert all(any(w in t for w in expected) for t in texts), code
    # older complaints are more often done than those of the last two weeks
    cutoff = (dt.date(2026, 10, 31) - dt.timedelta(days=14)).isoformat()
    old = [r["status"] for r in complaint_rows if r["tanggal"] < cutoff]
    new = [r["status"] for r in complaint_rows if r["tanggal"] >= cutoff]
    assert new and old.count("Selesai") / len(old) > new.count("Selesai") / len(new)


# ------------------------------------------------------------------------ dates


def test_without_a_collection_date_the_file_is_tidy() -> None:
    """Absolute dates, one line per text, no phone number in a text (names after an honorific
    still occur: the export scanner does not look for them, the masking does)."""
    rows = _csv(REVIEWS.id)
    assert len(rows) == reviews.VOICE_ROWS
    for ds, text in ((REVIEWS, "ulasan"), (COMPLAINTS, "isi_pengaduan")):
        texts = [r[text] for r in _csv(ds.id, rows=1000) if r[text]]
        assert not any(PHONE.search(t) or "\n" in t for t in texts), ds.id
        assert any(NAMED.search(t) for t in texts), ds.id
    for r in rows:
        day = dt.date.fromisoformat(r["tanggal"])
        assert dt.date(2026, 1, 1) <= day <= COLLECTED  # the generator's year
        assert r["tanggal_presisi"] == ""  # the parser fills it
    months = Counter(r["tanggal"][:7] for r in rows)
    assert months["2026-09"] > months["2026-03"] > months["2026-01"]  # voice grows
    assert not collected_relative(REVIEWS, None)


def test_with_a_collection_date_reviews_say_when_as_sites_do() -> None:
    rows = _csv(REVIEWS.id, rows=1600, collected=COLLECTED)
    assert collected_relative(REVIEWS, COLLECTED)
    assert not collected_relative(COMPLAINTS, COLLECTED)  # its date column reads no "lalu"
    said = [r["tanggal"] for r in rows]
    relative = [t for t in said if relative_dates.looks_relative(t)]
    absolute = [t for t in said if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t)]
    assert len(relative) + len(absolute) == len(said)
    assert 0.2 <= len(relative) / len(said) <= 0.8
    assert any(t.endswith("ago") for t in relative) and any("lalu" in t for t in relative)
    assert any("tahun" in t or "year" in t for t in relative)  # only the year is known
    assert any("bulan" in t or "month" in t for t in relative)
    assert any(dt.date.fromisoformat(t).day != 1 for t in absolute)  # whole days
    assert min(absolute) < "2024-06-01" and max(absolute) <= COLLECTED.isoformat()
    platforms = {r["sumber"] for r in rows if relative_dates.looks_relative(r["tanggal"])}
    assert platforms <= {"Google Maps", "Media Sosial"}  # app stores and surveys give dates


def test_relative_dates_resolve_to_the_day_they_describe() -> None:
    rng = random.Random(5)
    for age in range(0, 3 * 365):
        day = COLLECTED - dt.timedelta(days=age)
        for _ in range(3):
            text = reviews.relative_text(day, COLLECTED, rng)
            got = relative_dates.read(text, COLLECTED)
            assert got is not None, text
            resolved, precision = got
            if precision == "year":
                assert resolved == dt.date(day.year, 1, 1), (day, text)
            elif precision == "month":
                assert resolved == day.replace(day=1), (day, text)
            elif precision == "week":
                assert 0 <= (resolved - day).days <= 6, (day, text)
            else:
                assert resolved == day, (day, text)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_parser_reads_the_file_with_its_collection_date(fmt: str) -> None:
    gen = generate_dataset(REVIEWS, CATALOG, rows=300, fmt=fmt, collected=COLLECTED)
    with pytest.raises(ParseError, match="collected-on"):
        parse_file(gen.data, gen.filename, REVIEWS, aliases=CATALOG.aliases)
    got = parse_file(gen.data, gen.filename, REVIEWS, aliases=CATALOG.aliases, collected=COLLECTED)
    assert (got.rows_in, got.table.num_rows, got.rejects) == (300, 300, [])
    table = got.table.to_pylist()
    assert {r["tanggal_presisi"] for r in table} == {"day", "week", "month", "year"}
    assert all(r["tanggal"] <= COLLECTED for r in table)
    # a date keeps what its words say: "3 bulan lalu" a month (its first day), "2 tahun lalu"
    # a year (1 January), an absolute date its day
    assert all(r["tanggal"].day == 1 for r in table if r["tanggal_presisi"] == "month")
    years = [r["tanggal"] for r in table if r["tanggal_presisi"] == "year"]
    assert all((d.month, d.day) == (1, 1) for d in years)
    assert any(r["tanggal"].day != 1 for r in table if r["tanggal_presisi"] == "day")
    texts = [r["ulasan"] for r in table if r["ulasan"]]
    assert any("\n" in t for t in texts)  # an export's review over several lines, read whole


# ------------------------------------------------------------------------ determinism


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_same_seed_same_bytes(fmt: str) -> None:
    for ds in (REVIEWS, COMPLAINTS):
        one = generate_dataset(ds, CATALOG, rows=200, fmt=fmt, collected=COLLECTED)
        two = generate_dataset(ds, CATALOG, rows=200, fmt=fmt, collected=COLLECTED)
        other = generate_dataset(ds, CATALOG, rows=200, fmt=fmt, collected=COLLECTED, seed=43)
        assert one.data == two.data
        assert one.data != other.data


def test_only_datasets_asking_for_citizen_text_get_it() -> None:
    """A complaint channel with no text column (counts and status only) gets no citizen text."""
    ds = CATALOG.datasets["muaraenim_pengaduan_masyarakat"]
    assert not reviews.is_voice(ds)
    assert reviews.is_voice(REVIEWS) and reviews.is_voice(COMPLAINTS)
    assert reviews.demo_rows(ds) is None and reviews.demo_rows(REVIEWS) == 1600
