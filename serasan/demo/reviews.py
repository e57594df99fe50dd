"""Citizens' reviews and complaints for the demo, written as citizens write them.

A dataset whose `voice` text column carries `generate: {kind: review_text}` gets rows that read
like a regency's real citizen voice instead of filler: short, informal Indonesian with slang
("gk", "bgt", "udh", "tp", "yg", "dgn", "sy", "mantul", "ok bgt"), elongations ("kerennn"),
typos, sometimes an emoji; themes that fit the programme the row is about (Taman Air: kolam,
toilet, harga tiket, parkir, wahana anak; Bank Sampah: timbang, harga sampah, jadwal, petugas;
...); a rating that agrees with the words (one or two stars complain, five praise, three say
both); now and then a person named after an honorific ("pak Joko di loket ramah") or a phone
number, so that the masking of personal data has real work to do.

Everything comes from the dataset's `voice` block (which column is the text, the rating, the
programme, the place, the status and which statuses mean "followed up") and its columns'
`allowed` values; the phrase banks are keyed by programme code, and a programme the banks do not
know gets general phrases. The generator's own random stream drives every choice, so the same
seed gives the same bytes.

Without a collection date the file is as tidy as the generator's other files: every date
absolute, inside the generator's year and growing towards its end (voice accumulates as a
channel becomes known), one line per text, and no phone number inside a text (the export
scanner's tests hold generated files to personal data in personal columns; names after an
honorific, which it does not look for, still occur). With one (`collected`, the day the export
was made, as `serasan demo` generates them) the file is what a real export holds: reviews reach
back three years and, on a date column declared `relative: true`, most map reviews and some
social-media comments say when they were written as the sites do ("3 bulan lalu", "2 years
ago", "kemarin"), to be resolved against that day by the parser (app-store and survey rows keep
absolute dates); some reviews run over several lines, and some texts give a phone number.

Counts are stratified: each programme gets its share of the rows exactly, and its dates are
spread over the period by quantiles, so every programme's quarters hold the reviews their
weights promise (the citizen-voice KPIs withhold a value counted from too few).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset

WHEN = "__when__"  # a row's true date: not a column (never written), the rows' sort key
VOICE_ROWS = 400  # rows of a voice dataset when neither `--rows` nor a `rows` hint says
DEMO_ROWS = {"review": 1600, "complaint": 400}  # `serasan demo`, reviews over three years
SPAN_DAYS = 3 * 365  # with a collection date, reviews reach back this far
NAMED_SHARE = {"review": 0.12, "complaint": 0.22}  # texts naming someone after an honorific
PHONE_SHARE = {"review": 0.03, "complaint": 0.1}  # texts with a phone number in them
GENERAL_SHARE = 0.15  # complaints about no flagship programme (where the column may be empty)
PLACE_EMPTY = 0.1  # reviews that name no place

# platform -> (share of its rows with a rating, share written as a relative date when the
# dataset's date column reads them, share with no text at all: a rating alone)
PLATFORMS: dict[str, tuple[float, float, float]] = {
    "Google Maps": (1.0, 0.85, 0.08),
    "Play Store": (1.0, 0.0, 0.04),
    "App Store": (1.0, 0.0, 0.04),
    "Survei": (0.95, 0.0, 0.0),
    "Media Sosial": (0.0, 0.5, 0.0),
}


@dataclass(frozen=True)
class Bank:
    """What citizens say about one programme."""

    weight: float  # share of the dataset's rows about it
    stars: tuple[float, float, float, float, float]  # weights of 1 ... 5 stars
    follow_up: float  # share of its complaints followed up
    platforms: tuple[tuple[str, float], ...]  # where its reviews are written, with weights
    places: tuple[str, ...]
    good: tuple[str, ...]  # praise
    bad: tuple[str, ...]  # complaint
    but: tuple[str, ...]  # a small "but" in a good review
    staff_good: tuple[str, ...]  # praise of a person: § is where "pak Joko" goes
    staff_bad: tuple[str, ...]
    complaints: tuple[tuple[str, str], ...]  # (category, complaint to SP4N-LAPOR)


BANKS: dict[str, Bank] = {
    "muba_taman_air": Bank(
        weight=0.21,
        stars=(0.07, 0.05, 0.10, 0.28, 0.50),
        follow_up=0.85,
        platforms=(("Google Maps", 0.8), ("Survei", 0.14), ("Media Sosial", 0.06)),
        places=("Taman Air Muba", "Taman Air Muba Sekayu", "Kolam Renang Taman Air"),
        good=(
            "tempatnya bersih dan adem",
            "kolamnya jernih, anak anak betah main air",
            "wahana anaknya seru banget",
            "harga tiket murah meriah",
            "cocok untuk liburan dengan keluarga",
            "toiletnya bersih, ada tempat bilas juga",
            "parkirnya luas dan tertib",
            "tempat wisata keluarga terbaik di sekayu",
            "seluncurannya seru, anak saya tidak mau pulang",
            "tiket cuma 10rb sudah puas main seharian",
            "banyak gazebo untuk duduk duduk",
            "bukan cuma murah tapi bersih juga",
            "kolam anak dangkal jadi aman untuk balita",
        ),
        bad=(
            "kolamnya kotor, airnya keruh",
            "toilet bau dan tidak ada air",
            "parkir semrawut, jukir minta lebih dari karcis dengan kasar",
            "harga tiket naik tapi fasilitas begitu begitu saja",
            "wahana anak banyak yang rusak",
            "antre tiket lama banget pas hari libur",
            "sampah berserakan di pinggir kolam",
            "ramai sekali sampai tidak bisa berenang",
            "lantai kolam licin, anak saya jatuh",
            "tempat bilasnya sempit dan kotor",
            "penjaga kolam tidak ada pas ramai, bahaya untuk anak anak",
        ),
        but=(
            "tapi parkir agak sempit",
            "cuma toiletnya perlu dibersihkan lagi",
            "sayang pas weekend ramai banget",
            "tapi harga makanan di dalam agak mahal",
            "semoga wahananya ditambah",
        ),
        staff_good=("§ penjaga kolam sigap banget", "petugas tiket § ramah", "§ di loket ramah"),
        staff_bad=("§ di loket jutek banget", "ditegur § dengan kasar"),
        complaints=(
            ("Pariwisata", "mohon kolam Taman Air dikuras, airnya keruh dan bau"),
            ("Lingkungan", "sampah di area Taman Air menumpuk dekat pintu keluar, tidak diangkut"),
            ("Pariwisata", "parkir di Taman Air Muba ditarik 10rb padahal karcisnya 5rb"),
            ("Pariwisata", "wahana seluncuran anak di Taman Air rusak, bautnya lepas, berbahaya"),
            ("Lingkungan", "toilet umum Taman Air tidak ada air dan bau sekali"),
        ),
    ),
    "muba_layanan_pajak": Bank(
        weight=0.18,
        stars=(0.14, 0.08, 0.12, 0.26, 0.40),
        follow_up=0.92,
        platforms=(("Google Maps", 0.45), ("Play Store", 0.4), ("Survei", 0.15)),
        places=("Kantor Bapenda Muba", "Loket PBB Bapenda Sekayu", "Aplikasi Pajak Daerah Muba"),
        good=(
            "bayar PBB online sekarang gampang banget",
            "antreannya cepat, tidak sampai 15 menit",
            "petugasnya ramah dan sabar menjelaskan",
            "bisa bayar lewat aplikasi, tidak perlu ke kantor",
            "pelayanan cepat, SPPT langsung jadi",
            "ruang tunggunya nyaman ada AC",
            "bayar pajak sekarang bisa dengan QRIS",
            "urus BPHTB tidak berbelit",
        ),
        bad=(
            "antre lama banget, loket cuma buka satu",
            "aplikasinya error pas mau bayar",
            "bayar online sudah terpotong tapi status belum lunas",
            "petugas lempar lempar ke loket lain",
            "SPPT PBB tidak sampai sampai ke rumah",
            "sistem offline terus, disuruh balik besok",
            "hitungan denda PBB tidak jelas",
            "antre bukan main lamanya",
        ),
        but=(
            "tapi parkirnya sempit",
            "cuma aplikasinya kadang lemot",
            "sayang loket tutup jam 2 siang",
        ),
        staff_good=("§ di loket ramah banget", "dibantu § sampai selesai, terima kasih"),
        staff_bad=("§ di loket jutek", "§ bilang sistem error terus"),
        complaints=(
            ("Pajak", "sudah bayar PBB lewat aplikasi tapi status masih belum lunas"),
            ("Pajak", "SPPT PBB tahun ini belum diterima padahal jatuh tempo sebentar lagi"),
            ("Pajak", "antrean di loket Bapenda sangat panjang, yang buka hanya satu loket"),
            ("Pajak", "aplikasi pajak daerah error saat pembayaran BPHTB"),
        ),
    ),
    "muba_cctv_kita": Bank(
        weight=0.16,
        stars=(0.18, 0.12, 0.15, 0.22, 0.33),
        follow_up=0.7,
        platforms=(("Play Store", 0.6), ("Google Maps", 0.34), ("Media Sosial", 0.06)),
        places=("Aplikasi CCTV Kita", "CCTV Simpang Lampu Merah Sekayu", "CCTV Pasar Sekayu"),
        good=(
            "siarannya lancar, bisa pantau jalan sebelum berangkat",
            "kameranya jernih, malam pun jelas",
            "bikin aman, maling jadi mikir mikir",
            "membantu banget pas banjir, bisa lihat kondisi jalan",
            "aplikasinya ringan dengan gambar yang jernih",
            "kota jadi lebih aman",
            "bisa cek macet dari rumah",
        ),
        bad=(
            "kameranya sering mati, cuma layar hitam",
            "siaran putus putus, loading terus",
            "aplikasinya error tidak bisa dibuka",
            "gambarnya buram tidak kelihatan apa apa",
            "lampu jalan di titik cctv mati jadi gelap tidak kelihatan",
            "ada kejadian tapi rekamannya tidak ada",
            "kamera di simpang sudah berbulan bulan mati",
        ),
        but=(
            "tapi kadang siarannya lemot",
            "cuma kamera di pasar sering offline",
            "semoga titik kamera ditambah",
        ),
        staff_good=("§ dari diskominfo cepat respon pas saya lapor",),
        staff_bad=("saya sudah lapor ke § tapi tidak ada tindak lanjut",),
        complaints=(
            ("Keamanan", "kamera CCTV di simpang lampu merah mati, padahal rawan kecelakaan"),
            ("Keamanan", "lampu jalan di sekitar tiang CCTV mati, malam gelap dan rawan begal"),
            ("Infrastruktur", "aplikasi CCTV Kita tidak bisa dibuka sejak update terakhir"),
            ("Keamanan", "minta rekaman CCTV pasar untuk kasus pencurian motor, tidak direspons"),
        ),
    ),
    "muba_sport_tourism": Bank(
        weight=0.15,
        stars=(0.08, 0.06, 0.12, 0.28, 0.46),
        follow_up=0.75,
        platforms=(("Google Maps", 0.45), ("Media Sosial", 0.05), ("Survei", 0.5)),
        places=("Musi Triboatton", "Muba Half Marathon", "Stadion Serasan Sekate"),
        good=(
            "eventnya seru, ramai banget pesertanya",
            "panitianya sigap dan ramah",
            "rute larinya bagus lewat pinggir sungai",
            "hadiahnya besar, semangat ikut lagi tahun depan",
            "bikin muba makin dikenal",
            "umkm ikut laris pas ada event",
            "balap perahunya seru ditonton",
            "medalinya keren, racepack lengkap",
        ),
        bad=(
            "panitia tidak profesional, jadwal molor 2 jam dengan alasan tidak jelas",
            "parkir penuh, jalan macet total",
            "hadiah belum dibayar sampai sekarang",
            "tidak ada air minum di rute",
            "pendaftaran ribet, webnya error",
            "peserta luar daerah bingung tidak ada info",
            "sampah berserakan habis acara",
        ),
        but=(
            "tapi parkirnya susah",
            "cuma panitianya kurang info",
            "semoga tahun depan lebih tertib",
        ),
        staff_good=("§ dari panitia cepat bantu",),
        staff_bad=("§ panitia tidak bisa ditanya",),
        complaints=(
            ("Pariwisata", "hadiah lomba belum dibayarkan panitia sudah 2 bulan"),
            ("Pariwisata", "parkir event di stadion tidak diatur, jalan macet total"),
            ("Pariwisata", "pendaftaran online event lari error padahal uang sudah ditransfer"),
            ("Lingkungan", "sampah sisa event dibiarkan menumpuk di pinggir sungai"),
        ),
    ),
    "muba_bank_sampah": Bank(
        weight=0.15,
        stars=(0.06, 0.06, 0.12, 0.30, 0.46),
        follow_up=0.8,
        platforms=(("Google Maps", 0.5), ("Survei", 0.45), ("Media Sosial", 0.05)),
        places=("Bank Sampah Induk Sekayu", "Bank Sampah Berkah Mandiri", "Bank Sampah Kayuara"),
        good=(
            "timbangannya jujur, langsung dicatat di buku tabungan",
            "harga sampah plastiknya lumayan",
            "petugasnya rajin jemput sampah",
            "lumayan banget untuk tambah uang belanja",
            "jadwal setor jelas tiap sabtu",
            "lingkungan jadi lebih bersih sejak ada bank sampah",
            "ibu ibu di sini semangat memilah sampah dengan rapi",
            "tabungan sampah bisa untuk bayar listrik",
        ),
        bad=(
            "harga sampah turun terus, tidak sebanding",
            "jadwal timbang sering ganti tanpa info",
            "petugas jarang datang, sampah menumpuk di rumah",
            "saldo tabungan tidak bisa dicairkan",
            "timbangannya tidak akurat, berat selalu kurang",
            "sampah sudah dipilah tapi tidak dijemput jemput",
            "pencatatan berantakan, saldo saya hilang",
        ),
        but=(
            "tapi jadwal timbangnya kadang molor",
            "cuma harga kardus murah banget",
            "semoga ada penjemputan ke dusun",
        ),
        staff_good=("§ petugas timbang sabar mengajari memilah",),
        staff_bad=("§ petugasnya susah dihubungi",),
        complaints=(
            ("Lingkungan", "sampah yang sudah dipilah warga tidak dijemput petugas bank sampah"),
            ("Lingkungan", "saldo tabungan bank sampah tidak bisa dicairkan, mohon kejelasan"),
            ("Lingkungan", "harga beli sampah plastik di bank sampah turun tanpa pemberitahuan"),
        ),
    ),
    "muba_kelompok_tani_karet": Bank(
        weight=0.15,
        stars=(0.12, 0.12, 0.18, 0.30, 0.28),
        follow_up=0.65,
        platforms=(("Survei", 0.5), ("Google Maps", 0.47), ("Media Sosial", 0.03)),
        places=("UPPB Sido Makmur", "Kelompok Tani Karya Makmur", "Pasar Lelang Karet Sekayu"),
        good=(
            "harga karet di lelang lebih tinggi dari tengkulak",
            "pelatihan sadap dari penyuluh bermanfaat banget",
            "bibit karet unggul bantuan dinas tumbuh bagus",
            "penyuluhnya rajin datang ke kebun",
            "jual bareng dengan kelompok, timbangannya jujur",
            "bokar bersih dihargai lebih mahal",
            "sekarang tahu cara membuat bokar bersih",
        ),
        bad=(
            "harga karet anjlok, tidak cukup untuk makan",
            "bibit bantuan banyak yang mati",
            "penyuluh tidak pernah datang ke desa kami",
            "pelatihan cuma sekali, habis itu tidak ada lagi",
            "pembayaran lelang telat 2 minggu",
            "bantuan pupuk tidak merata",
            "jalan ke kebun rusak, truk karet tidak bisa masuk",
        ),
        but=(
            "tapi harga masih naik turun",
            "cuma pelatihannya kurang sering",
            "semoga bantuan bibit ditambah",
        ),
        staff_good=("§ penyuluh sabar mengajari",),
        staff_bad=("sudah lapor ke § penyuluh tapi belum ada kabar",),
        complaints=(
            (
                "Infrastruktur",
                "jalan produksi kebun karet di desa kami rusak, truk tidak bisa lewat",
            ),
            ("Keamanan", "pencurian getah karet di kebun anggota kelompok tani makin sering"),
            ("Lingkungan", "bau limbah tempat pengolahan karet sampai ke pemukiman"),
            ("Infrastruktur", "gudang UPPB bocor, bokar anggota kelompok rusak kena hujan"),
        ),
    ),
}

GENERIC = Bank(  # a programme code the banks do not know
    weight=0.1,
    stars=(0.1, 0.08, 0.14, 0.28, 0.4),
    follow_up=0.75,
    platforms=(("Google Maps", 0.6), ("Survei", 0.3), ("Media Sosial", 0.1)),
    places=("Kantor Layanan",),
    good=("pelayanannya cepat", "programnya bermanfaat untuk warga", "petugasnya ramah"),
    bad=("pelayanannya lambat", "programnya tidak jelas", "petugasnya tidak ada di tempat"),
    but=("tapi informasinya kurang",),
    staff_good=("§ ramah dan membantu",),
    staff_bad=("§ tidak membantu",),
    complaints=(("Infrastruktur", "layanan program ini tidak berjalan di desa kami"),),
)

# complaints about no flagship programme, by category
GENERAL_COMPLAINTS: tuple[tuple[str, str], ...] = (
    ("Kesehatan", "antrean di puskesmas lama sekali, dokter baru datang siang"),
    ("Kesehatan", "obat di puskesmas sering kosong, disuruh beli di luar"),
    ("Pendidikan", "atap SD di desa kami bocor, murid belajar di teras"),
    ("Pendidikan", "pungutan seragam di sekolah mahal dan tidak ada kuitansi"),
    ("Kependudukan", "KTP elektronik belum jadi sudah 3 bulan, katanya blangko habis"),
    ("Kependudukan", "urus KK di disdukcapil bolak balik karena sistem offline"),
    ("Infrastruktur", "jalan desa berlubang dan becek, sudah banyak yang jatuh"),
    ("Infrastruktur", "lampu jalan mati sepanjang jalan poros desa"),
    ("Lingkungan", "sampah di TPS pasar tidak diangkut sudah seminggu"),
    ("Lingkungan", "banjir setiap hujan karena drainase tersumbat"),
    ("Keamanan", "balap liar tiap malam minggu di jalan lingkar, warga resah"),
)

CHEER = (
    "mantul",
    "ok bgt",
    "kerennn",
    "mantap jiwa",
    "recommended bgt",
    "top markotop",
    "pokoknya puas",
    "sukses trs pemkab muba",
    "the best",
)
SCOLD = ("kecewa bgt", "parah", "payah", "gk lagi2 deh", "tolong diperbaiki", "nyesel")
EMOJI = {
    "good": ("👍", "😍", "🙏", "🔥", "❤️", "👌", "😊"),
    "bad": ("😡", "😤", "👎", "🙄", "😠", "😭"),
    "mixed": ("🙏", "😅", "🤔"),
}
# standard word -> how citizens type it
SLANG: dict[str, tuple[str, ...]] = {
    "tidak": ("gk", "ga", "gak", "tdk", "nggak"),
    "yang": ("yg",),
    "dengan": ("dgn", "dg"),
    "saya": ("sy", "aku"),
    "sudah": ("udh", "udah", "sdh"),
    "tapi": ("tp", "tpi"),
    "bukan": ("bkn",),
    "untuk": ("utk", "buat"),
    "karena": ("krn", "karna"),
    "juga": ("jg",),
    "banget": ("bgt", "bngt"),
    "kalau": ("kalo", "klo"),
    "belum": ("blm",),
    "lagi": ("lg",),
    "bisa": ("bs",),
    "sekarang": ("skrg",),
    "banyak": ("byk",),
    "jadi": ("jd",),
    "sama": ("sm",),
    "mantap": ("mantul", "mantapp"),
    "bagus": ("bgs",),
    "terima kasih": ("makasih", "trims", "thx"),
    "anak anak": ("anak2",),
    "ibu ibu": ("ibu2",),
    "mikir mikir": ("mikir2",),
    "lempar lempar": ("lempar2",),
    "duduk duduk": ("duduk2",),
    "sampai sampai": ("sampe2",),
}
_SLANG = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, SLANG), key=len, reverse=True)) + r")\b"
)
ELONGATE = (
    "bagus",
    "keren",
    "mantap",
    "mantul",
    "parah",
    "lama",
    "kecewa",
    "puas",
    "bersih",
    "kotor",
    "mahal",
    "seru",
    "lemot",
    "bgt",
    "banget",
    "murah",
    "ramah",
    "betah",
    "jutek",
)
_ELONGATE = re.compile(r"\b(" + "|".join(ELONGATE) + r")\b")
HONORIFIC_MALE = ("pak", "Pak", "bapak", "mas", "bang")
HONORIFIC_FEMALE = ("bu", "Bu", "ibu", "mbak", "kak")
STAFF_MALE = ("Joko", "Budi", "Agus", "Dedi", "Hendra", "Iwan", "Yusuf", "Arif", "Rudi", "Ilham")
STAFF_FEMALE = ("Siti", "Dewi", "Rina", "Fitri", "Erna", "Nurul", "Ratna", "Lia", "Desi", "Wulan")
PHONE_PREFIX = ("0812", "0813", "0821", "0822", "0852", "0853", "0857", "0878", "0895")
NAME_MARK, PHONE_MARK = "§1§", "§2§"  # where a name or a phone goes, out of the noise's reach

# relative dates as Google Maps and social media write them, in Indonesian and English
RELATIVE_EN = 0.3  # share written in English (an export made in an English-language browser)


# ------------------------------------------------------------------------ which datasets


def is_voice(ds: Dataset) -> bool:
    """A citizen-voice dataset whose text column asks for citizens' text (`review_text`)."""
    v = ds.voice
    if v is None or v.text is None:
        return False
    col = ds.column(v.text)
    return col is not None and col.generate.get("kind") == "review_text"


def default_rows(ds: Dataset) -> int | None:
    """VOICE_ROWS for a voice dataset (enough reviews per programme and quarter), else None."""
    return VOICE_ROWS if is_voice(ds) else None


def demo_rows(ds: Dataset) -> int | None:
    """The rows `serasan demo` writes of a voice dataset collected on a date (reviews over three
    years need more rows than a year of complaints), else None."""
    v = ds.voice
    return DEMO_ROWS.get(v.kind) if v is not None and is_voice(ds) else None


def relative_dates(ds: Dataset, collected: dt.date | None) -> bool:
    """Whether rows of this dataset are written with relative dates: a voice dataset whose date
    column reads them, generated with a collection date."""
    v = ds.voice
    if collected is None or v is None or not is_voice(ds):
        return False
    col = ds.column(v.date)
    return col is not None and col.relative


# ------------------------------------------------------------------------ rows


def compose(
    ds: Dataset,
    rows: list[dict[str, Any]],
    rng: random.Random,
    as_of: dt.date,
    collected: dt.date | None = None,
) -> None:
    """Rewrite a voice dataset's rows in place: programme, platform, place, rating, text, date
    and (complaints) category and status, consistent with each other; `WHEN` gets each row's
    true date. The other columns (ids, authors, phones, regions) stay as generated."""
    v = ds.voice
    assert v is not None  # is_voice(ds)
    relative = relative_dates(ds, collected)
    export = collected is not None  # an export as collected: phones in texts, several lines
    end = collected if relative and collected is not None else as_of
    whole_days = ds.period.granularity == "day" or v.date != ds.period.column or relative
    programmes = _allowed(ds, v.programme)
    prog_col = ds.column(v.programme) if v.programme else None
    general = GENERAL_SHARE if v.kind == "complaint" and prog_col and prog_col.nullable else 0.0
    codes: list[str | None] = _allot(
        len(rows), [(p, BANKS.get(p, GENERIC).weight) for p in programmes], general, rng
    )
    when = _dates(codes, rng, end, relative, whole_days)
    platform_col = _column_with(ds, PLATFORMS)
    category_col = _column_with(ds, {c for c, _ in GENERAL_COMPLAINTS})
    for row, code, day in zip(rows, codes, when, strict=True):
        bank = BANKS.get(code, GENERIC) if code else None
        row[WHEN] = day
        if v.programme:
            row[v.programme] = code
        platform = None
        if platform_col is not None:
            platform = _platform(bank or GENERIC, _allowed(ds, platform_col), rng)
            row[platform_col] = platform
        rated, said_relative, silent = PLATFORMS.get(platform or "", (1.0, 0.0, 0.0))
        if v.kind == "complaint":
            _complaint(ds, row, bank, day, end, category_col, rng, export)
        else:
            assert v.text is not None  # is_voice(ds)
            stars = _stars(bank or GENERIC, rng)  # a review without a rating still has a mood
            has_rating = v.rating is not None and rng.random() < rated
            if v.rating:
                row[v.rating] = stars if has_rating else None
            silent_row = has_rating and rng.random() < silent
            text = None if silent_row else review_text(bank or GENERIC, stars, rng, export)
            row[v.text] = text
            if v.place:
                places = (bank or GENERIC).places
                row[v.place] = None if rng.random() < PLACE_EMPTY else rng.choice(places)
        if relative and rng.random() < said_relative:
            row[v.date] = relative_text(day, end, rng)
        else:
            row[v.date] = day if whole_days else day.replace(day=1)


def _allowed(ds: Dataset, column: str | None) -> list[str]:
    col = ds.column(column) if column else None
    return list(col.allowed or []) if col is not None else []


def _column_with(ds: Dataset, values: Any) -> str | None:
    """The text column whose allowed values are (some of) these: the platform, the category."""
    roles = set(ds.voice.columns().values()) if ds.voice else set()
    for c in ds.columns:
        if c.name not in roles and c.allowed and set(c.allowed) & set(values):
            return c.name
    return None


def _allot(
    n: int, weights: list[tuple[str, float]], general: float, rng: random.Random
) -> list[str | None]:
    """n programme codes (None: no programme), each exactly its share (largest remainder),
    shuffled."""
    total = sum(w for _, w in weights) or 1.0
    shares: list[tuple[str | None, float]] = [(p, (1 - general) * w / total) for p, w in weights]
    if general:
        shares.append((None, general))
    if not shares:
        return [None] * n
    exact = [(p, n * s) for p, s in shares]
    counts = {p: math.floor(x) for p, x in exact}
    left = n - sum(counts.values())
    for p, _ in sorted(exact, key=lambda e: e[1] - math.floor(e[1]), reverse=True)[:left]:
        counts[p] += 1
    out = [p for p, _ in shares for _ in range(counts[p])]
    rng.shuffle(out)
    return out


def _dates(
    codes: list[str | None], rng: random.Random, end: dt.date, long: bool, whole_days: bool
) -> list[dt.date]:
    """Each row's true date, stratified per programme: the k rows of a programme take the k
    quantiles of the date distribution (with jitter), so its every period holds its share."""
    groups: dict[str | None, list[int]] = {}
    for i, code in enumerate(codes):
        groups.setdefault(code, []).append(i)
    out: list[dt.date] = [end] * len(codes)
    for members in groups.values():
        k = len(members)
        days = [_date_at((j + rng.random()) / k, end, long, whole_days, rng) for j in range(k)]
        rng.shuffle(days)
        for i, day in zip(members, days, strict=True):
            out[i] = day
    return out


def _date_at(q: float, end: dt.date, long: bool, whole_days: bool, rng: random.Random) -> dt.date:
    """The q-quantile of the dates. Within the year of `end`: months weighted by the square of
    their number (voice grows as a channel becomes known). Over three years (`long`): a density
    falling linearly with age, so recent months hold more."""
    if long:
        age = SPAN_DAYS * (1 - math.sqrt(1 - q))
        return end - dt.timedelta(days=min(int(age), SPAN_DAYS))
    months = list(range(1, end.month + 1))
    weights = [m * m for m in months]
    target, acc = q * sum(weights), 0.0
    month = months[-1]
    for m, w in zip(months, weights, strict=True):
        acc += w
        if target < acc:
            month = m
            break
    first = dt.date(end.year, month, 1)
    if not whole_days:
        return first
    last = end if month == end.month else _month_end(first)
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _month_end(first: dt.date) -> dt.date:
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _platform(bank: Bank, allowed: list[str], rng: random.Random) -> str:
    options = [(p, w) for p, w in bank.platforms if p in allowed] or [(p, 1.0) for p in allowed]
    return rng.choices([p for p, _ in options], [w for _, w in options])[0]


def _stars(bank: Bank, rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4, 5), bank.stars)[0]


def _complaint(
    ds: Dataset,
    row: dict[str, Any],
    bank: Bank | None,
    day: dt.date,
    end: dt.date,
    category_col: str | None,
    rng: random.Random,
    export: bool,
) -> None:
    """A complaint's category, text and status, consistent with each other and its age."""
    v = ds.voice
    assert v is not None
    category, text = rng.choice(bank.complaints if bank else GENERAL_COMPLAINTS)
    if category_col is not None:
        allowed = _allowed(ds, category_col)
        row[category_col] = category if category in allowed else rng.choice(allowed)
    if v.text:
        row[v.text] = complaint_text(text, rng, export)
    if v.status:
        row[v.status] = _status(ds, bank, day, end, rng)


def _status(ds: Dataset, bank: Bank | None, day: dt.date, end: dt.date, rng: random.Random) -> str:
    """Followed up with the programme's likelihood (less for a complaint of the last two weeks);
    a followed-up one of more than a month ago is mostly done (the first followed-up value)."""
    v = ds.voice
    assert v is not None and v.status is not None
    allowed = _allowed(ds, v.status)
    done = [s for s in v.followed_up if s in allowed] or allowed[:1]
    open_ = [s for s in allowed if s not in done] or done
    age = (end - day).days
    chance = (bank or GENERIC).follow_up * (0.6 if age < 14 else 1.0)
    if rng.random() >= chance:
        return rng.choice(open_)
    finished = 0.85 if age > 30 else 0.35
    return done[0] if len(done) == 1 or rng.random() < finished else rng.choice(done[1:])


# ------------------------------------------------------------------------ words


def review_text(bank: Bank, stars: int, rng: random.Random, export: bool = False) -> str:
    """A short review whose words agree with its stars: 1-2 complain, 3 says both, 4 praises
    (sometimes with a "but"), 5 praises warmly. `export`: as a platform's export holds it,
    sometimes over several lines, now and then with a phone number."""
    mood = "bad" if stars <= 2 else "mixed" if stars == 3 else "good"
    clauses: list[str] = []
    if mood == "good":
        clauses += rng.sample(bank.good, min(len(bank.good), 1 + (rng.random() < 0.45)))
        if stars == 4 and rng.random() < 0.35:
            clauses.append(rng.choice(bank.but))
    elif mood == "bad":
        clauses += rng.sample(bank.bad, min(len(bank.bad), 1 + (rng.random() < 0.5)))
    else:
        clauses += [
            rng.choice(bank.good),
            rng.choice(("tapi ", "tp ", "cuma ", "sayang ")) + (rng.choice(bank.bad)),
        ]
    if rng.random() < NAMED_SHARE["review"]:
        pool = bank.staff_good if mood != "bad" else bank.staff_bad
        clauses.insert(rng.randrange(len(clauses) + 1), rng.choice(pool).replace("§", NAME_MARK))
    if mood == "good" and rng.random() < 0.5:
        clauses.append(rng.choice(CHEER))
    elif mood == "bad" and rng.random() < 0.45:
        clauses.append(rng.choice(SCOLD))
    if export and rng.random() < PHONE_SHARE["review"]:
        clauses.append(rng.choice(("info wa", "cp", "hub")) + " " + PHONE_MARK)
    slang = rng.choice((0.3, 0.6, 0.9))
    text = _join(clauses, rng, export)
    text = informal(text, rng, slang=slang, stretch=0.3, typo=0.2)
    text = _case(text, rng, angry=stars == 1)
    if rng.random() < 0.3:
        text += " " + "".join(rng.choices(EMOJI[mood], k=rng.randint(1, 3)))
    return _fill(text, rng)


def complaint_text(complaint: str, rng: random.Random, export: bool = False) -> str:
    """A complaint to SP4N-LAPOR: what is wrong, often since when, whom it was told to, a
    closing request; in an export, sometimes a phone number to call back."""
    parts = [complaint]
    if rng.random() < 0.4:
        parts.append(
            rng.choice(
                (
                    f"sudah {rng.randint(2, 6)} minggu",
                    "sudah berkali kali disampaikan",
                    "sudah lapor ke kantor desa tapi belum ada tindakan",
                )
            )
        )
    if rng.random() < NAMED_SHARE["complaint"]:
        parts.append(
            rng.choice(
                (
                    f"sudah saya sampaikan ke {NAME_MARK} tapi belum ada kabar",
                    f"petugas atas nama {NAME_MARK} tidak merespons",
                    f"kata {NAME_MARK} tunggu saja",
                )
            )
        )
    if rng.random() < 0.6:
        parts.append(
            rng.choice(
                (
                    "Mohon ditindaklanjuti.",
                    "Terima kasih.",
                    "Tolong segera diperbaiki.",
                    "Mohon perhatian pemkab muba.",
                )
            )
        )
    if export and rng.random() < PHONE_SHARE["complaint"]:
        parts.append(rng.choice(("Hub saya di", "No WA", "bisa hubungi")) + " " + PHONE_MARK)
    text = informal(", ".join(parts), rng, slang=0.3, stretch=0.05, typo=0.1)
    text = text[:1].upper() + text[1:]
    if rng.random() < 0.35:
        text = rng.choice(("Selamat siang, ", "Assalamualaikum. ", "Izin melapor, ")) + text
    return _fill(text, rng)


def informal(text: str, rng: random.Random, *, slang: float, stretch: float, typo: float) -> str:
    """Typed as citizens type: slang for standard words (each with chance `slang`), an
    elongated emotive word ("kerennn", chance `stretch`), a typo (chance `typo`). Names and
    phone numbers (their marks) are never touched."""

    def swap(m: re.Match[str]) -> str:
        word = m.group(1)
        return rng.choice(SLANG[word]) if rng.random() < slang else word

    text = _SLANG.sub(swap, text)
    if rng.random() < stretch:
        found = list(_ELONGATE.finditer(text))
        if found:
            m = rng.choice(found)
            word = m.group(1)
            text = text[: m.end()] + word[-1] * rng.randint(2, 4) + text[m.end() :]
    if rng.random() < typo:
        words = [m for m in re.finditer(r"[a-z]{5,}", text) if "§" not in m.group()]
        if words:
            m = rng.choice(words)
            w, i = m.group(), rng.randrange(1, len(m.group()) - 2)
            wrong = (
                w[:i] + w[i + 1] + w[i] + w[i + 2 :] if rng.random() < 0.6 else w[:i] + w[i + 1 :]
            )
            text = text[: m.start()] + wrong + text[m.end() :]
    return text


def _join(clauses: list[str], rng: random.Random, lines: bool) -> str:
    out = clauses[0]
    for c in clauses[1:]:
        newline = lines and rng.random() < 0.15
        out += rng.choice((", ", " ", ". ", ".. ", "\n" if newline else ", ")) + c
    return out + rng.choice(("", "", ".", "!!", "..", "!"))


def _case(text: str, rng: random.Random, angry: bool) -> str:
    r = rng.random()
    if angry and r < 0.08:
        return text.upper()  # the marks hold no letters: names go in afterwards
    if r < 0.55:
        return text.lower()
    return text[:1].upper() + text[1:]


def _fill(text: str, rng: random.Random) -> str:
    """Put a person (an honorific and a capitalised name) and a phone number at their marks."""
    while NAME_MARK in text:
        male = rng.random() < 0.55
        who = (
            f"{rng.choice(HONORIFIC_MALE if male else HONORIFIC_FEMALE)} "
            f"{rng.choice(STAFF_MALE if male else STAFF_FEMALE)}"
        )
        text = text.replace(NAME_MARK, who, 1)
    while PHONE_MARK in text:
        digits = rng.choice(PHONE_PREFIX) + "".join(rng.choices("0123456789", k=8))
        style = rng.randrange(3)
        phone = (
            digits
            if style == 0
            else f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
            if style == 1
            else f"{digits[:4]} {digits[4:8]} {digits[8:]}"
        )
        text = text.replace(PHONE_MARK, phone, 1)
    return text


def relative_text(day: dt.date, collected: dt.date, rng: random.Random) -> str:
    """How a review site says when `day` was, seen on `collected`, rounded as the sites round.
    The parser (serasan.parse.relative_dates) reads it back into the same month, or for "N
    tahun lalu" the same year; "N minggu lalu" lands up to six days after `day`, which near
    the turn of a month is the next month, as on the sites."""
    english = rng.random() < RELATIVE_EN
    age = (collected - day).days
    months = collected.year * 12 + collected.month - day.year * 12 - day.month
    if age == 0:
        return "today" if english else "hari ini"
    if age == 1:
        return "yesterday" if english else "kemarin"
    if age < 7:
        return f"{age} days ago" if english else f"{age} hari lalu"
    if months == 0 or age < 28:
        weeks = age // 7
        if weeks == 1:
            return "a week ago" if english else "seminggu lalu"
        return f"{weeks} weeks ago" if english else f"{weeks} minggu lalu"
    if months < 12:
        if months == 1:
            return "a month ago" if english else rng.choice(("sebulan lalu", "1 bulan lalu"))
        return f"{months} months ago" if english else f"{months} bulan lalu"
    years = collected.year - day.year
    if years == 1:
        return "a year ago" if english else rng.choice(("setahun lalu", "1 tahun yang lalu"))
    return f"{years} years ago" if english else f"{years} tahun lalu"
