"""serasan.publish.pii: keyed pseudonyms and the scanner that reads exports before they leave.

The scanner is judged both ways: on a real register full of phone numbers and NPWPs
(../shared/samples/jakarta/ukm-jakarta-2014.csv, data.jakarta.go.id) it must find them, and on
data shaped like our exports (region codes, measures, periods, pseudonyms) it must find nothing.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from serasan.config.catalog import Catalog
from serasan.publish import pii
from serasan.publish.pii import Finding, find_in_text, is_valid_nik, pseudonym, scan_csv, scan_json
from serasan.reference.provinces import SHIPPED, data_text
from tests.support.paths import REPO_ROOT

KEY = "kunci-uji-pii-3b9e"
SEED = REPO_ROOT / "warehouse" / "seed"


def _nik(
    prov: int = 16,
    kab: int = 3,
    kec: int = 1,
    day: int = 1,
    month: int = 1,
    year: int = 90,
    serial: int = 1,
) -> str:
    return f"{prov:02d}{kab:02d}{kec:02d}{day:02d}{month:02d}{year:02d}{serial:04d}"


def _random_nik(rng: random.Random) -> str:
    return _nik(
        rng.choice(sorted(pii.PROVINCE_CODES)),
        rng.randint(1, 99),
        rng.randint(1, 99),
        rng.randint(1, 28) + rng.choice((0, 40)),
        rng.randint(1, 12),
        rng.randint(0, 99),
        rng.randint(1, 9999),
    )


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


# --- pseudonyms ------------------------------------------------------------------------------


def test_pseudonym_is_hmac_of_column_and_value_written_in_letters() -> None:
    p = pseudonym("1603010101900001", KEY, "nik")
    assert p is not None and re.fullmatch(r"PSN-[A-Z]{20}", p)
    # the construction, rebuilt here: HMAC-SHA256(key, column US value), base 26, A-Z
    n = int.from_bytes(
        hmac.new(KEY.encode(), b"nik\x1f1603010101900001", hashlib.sha256).digest(), "big"
    )
    letters = ""
    for _ in range(20):
        n, r = divmod(n, 26)
        letters += chr(65 + r)
    assert p == pii.PSEUDONYM_PREFIX + letters


def test_pseudonym_is_deterministic_and_depends_on_key_and_column() -> None:
    value = "1603010101900001"
    assert pseudonym(value, KEY, "nik") == pseudonym(value, KEY, "nik")
    assert pseudonym(value, KEY, "nik") == pseudonym(value, KEY.encode(), "nik")
    assert pseudonym(value, KEY, "nik") != pseudonym(value, KEY + "x", "nik")
    assert pseudonym(value, KEY, "nik") != pseudonym(value, KEY, "nik_ketua")
    assert pseudonym(value, KEY, "nik") != pseudonym("1603010101900002", KEY, "nik")
    assert pseudonym(None, KEY, "nik") is None
    assert pseudonym("", KEY, "nik") is None and pseudonym("  ", KEY, "nik") is None


def test_pseudonym_links_a_nik_however_it_was_written() -> None:
    forms = [
        "1603010101900001",
        " 1603010101900001 ",
        "1603 0101 0190 0001",
        "1603.0101.0190.0001",
        "1603-0101-0190-0001",
        "16.03.01.010190.0001",
        "1603010101900001.0",
    ]  # the last one went through Excel
    assert len({pseudonym(f, KEY, "nik") for f in forms}) == 1
    assert pseudonym(1603010101900001, KEY, "nik") == pseudonym(forms[0], KEY, "nik")
    # text is only stripped: names keep their spelling
    assert pseudonym(" Siti Aminah ", KEY, "nama") == pseudonym("Siti Aminah", KEY, "nama")
    assert pseudonym("Siti Aminah", KEY, "nama") != pseudonym("SITI AMINAH", KEY, "nama")


@pytest.mark.parametrize("key", ["", b"", "   ", None])
def test_pseudonym_without_a_key_says_where_the_key_comes_from(key: str | bytes | None) -> None:
    with pytest.raises(ValueError) as exc:
        pseudonym("1603010101900001", key, "nik")  # type: ignore[arg-type]
    message = str(exc.value)
    assert "serasan_pii" in message and "SERASAN_PII_KEY" in message
    assert KEY not in message and "1603010101900001" not in message
    with pytest.raises(ValueError):
        pseudonym(None, key, "nik")  # type: ignore[arg-type]  # a missing key is never quiet


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter than 16") as exc:
        pseudonym("1603010101900001", "pendek", "nik")
    assert "pendek" not in str(exc.value) and "SERASAN_PII_KEY" in str(exc.value)


def test_pseudonyms_never_look_like_personal_data() -> None:
    rng = random.Random(27_2022)
    values = []
    for _ in range(3000):
        values += [
            _random_nik(rng),
            "08" + str(rng.randint(10**9, 10**10)),
            f"{rng.randint(1, 99):02d}.{rng.randint(0, 999):03d}.{rng.randint(0, 999):03d}"
            f".{rng.randint(0, 9)}-{rng.randint(0, 999):03d}.000",
            f"user{rng.randint(0, 10**6)}@mail.id",
            str(rng.random()),
        ]
    keys = [KEY, "k" * 16, "\x00" * 32]
    out = [
        pseudonym(v, rng.choice(keys), rng.choice(["nik", "telepon", "npwp", "email"]))
        for v in values
    ]
    assert all(re.fullmatch(r"PSN-[A-Z]{20}", p) for p in out)  # no digit, ever
    assert len(set(out)) == len(out)
    assert [p for p in out if find_in_text(p) or find_in_text(p, numeric=True)] == []
    # ... also where the column name itself says NIK, phone or NPWP
    data = _csv(["nik", "telepon", "npwp"], [out[i : i + 3] for i in range(0, 300, 3)])
    assert scan_csv("pseudonim.csv", data) == []


# --- NIK ---------------------------------------------------------------------------------------


def test_valid_niks() -> None:
    assert is_valid_nik("1603010101900001")  # Muara Enim, born 1 January 1990, a man
    assert is_valid_nik(_nik(day=41))  # a woman born on the 1st: day + 40
    assert is_valid_nik(_nik(day=71, month=12, serial=9999))
    assert is_valid_nik(_nik(day=31, year=0))
    for prov in (11, 19, 21, 31, 36, 51, 53, 61, 65, 71, 76, 81, 82, 91, 96):
        assert is_valid_nik(_nik(prov=prov)), prov
    assert is_valid_nik(_nik(kab=71, kec=99))  # a kota, a high kecamatan number


@pytest.mark.parametrize(
    "nik",
    [
        _nik(prov=99),
        _nik(prov=97),  # 97 is a BPS code; Dukcapil's Papua codes are 91-96
        _nik(prov=10),
        _nik(prov=20),
        _nik(prov=37),
        _nik(prov=0),
        _nik(kab=0),
        _nik(kec=0),
        _nik(month=13),
        _nik(month=0),
        _nik(day=0),
        _nik(day=32),
        _nik(day=40),
        _nik(day=72),
        _nik(serial=0),
        "160301010190001",
        "16030101019000011",  # 15 and 17 digits
        "1603 0101 0190 0001",
        "160301010190000A",
        "",
    ],
)
def test_invalid_niks(nik: str) -> None:
    assert not is_valid_nik(nik)


# --- one cell ----------------------------------------------------------------------------------


def test_free_text_with_several_kinds() -> None:
    text = (
        "hubungi 0812-3456-7890 atau budi@gmail.com, NIK 1603 0141 0190 0001, "
        "NPWP 02.906.352.6-006.000, kantor (0711) 350 123, Telp. 8454416"
    )
    assert find_in_text(text) == [
        ("phone", "0812-3456-7890"),
        ("email", "budi@gmail.com"),
        ("nik", "1603 0141 0190 0001"),
        ("npwp", "02.906.352.6-006.000"),
        ("phone", "(0711) 350 123"),
        ("phone", "8454416"),
    ]
    # 17 digits is a typo, not a NIK; and a run of groups must be whole, so a region code
    # beside a number (16.06.01.2001 123456, 16 digits) is not one either
    assert find_in_text("NIK 1603 0141 0190 0001 7, RT 003") == []
    assert find_in_text("desa 16.06.01.2001 123456") == []
    assert find_in_text("1603014101900001 dan 1603014101900002") == [
        ("nik", "1603014101900001"),
        ("nik", "1603014101900002"),
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("08123456789", "08123456789"),
        ("0811 181 977", "0811 181 977"),
        ("0815 870 50 88", "0815 870 50 88"),
        ("+62 812-3456-7890", "+62 812-3456-7890"),
        ("(+62) 812 3456 7890", "(+62) 812 3456 7890"),
        ("6281234567890", "6281234567890"),
        ("(021) 8454416", "(021) 8454416"),
        ("( 021 ) 85909902", "( 021 ) 85909902"),
        ("021-6251475", "021-6251475"),
        ("021 98204116", "021 98204116"),
        ("021 - 5454338", "021 - 5454338"),
        ("(62-21) 4224408", "(62-21) 4224408"),
        ("+62 21 5454338", "+62 21 5454338"),
        ("0711-350123 / 350124", "0711-350123"),
        ("HP: 081868", "081868"),  # cut short, but after a phone word
    ],
)
def test_phone_formats(text: str, found: str) -> None:
    assert find_in_text(text) == [("phone", found)]


@pytest.mark.parametrize(
    "text",
    [
        "02.906.352.6-006.000",
        "02,880,104,1-045,000",
        "21.120.445.8.028.000",
        "1.332.246.6-042.000",  # Excel dropped the leading zero
        "99.999.999.9999.999".replace("9", "7"),
        "029063526006000",
        "21.829.007.0.18",
        "16,263,329,0,11",
        "26,234,229,0",  # truncated in the register
        "03.15.427.2-009.000",
        "21,12,270,7-045,000",  # a digit lost or added in the first part
    ],
)
def test_npwp_formats(text: str) -> None:
    assert [kind for kind, _ in find_in_text(text)] == ["npwp"]


def test_nik_as_excel_writes_it() -> None:
    nik = "1603010101900001"
    for text in (
        nik,
        nik + ".0",
        "1.603010101900001E15",
        "1.603010101900001e+15",
        "1.60301010190000E+15",
    ):  # Excel shows 15 significant digits
        assert [k for k, _ in find_in_text(text, numeric=True)] == ["nik"], text
        assert [k for k, _ in find_in_text(text)] == ["nik"], text
    # too few digits survive to say anything about a person
    assert find_in_text("1.60301E+15", numeric=True) == []
    # a 16-digit number without NIK structure is a number
    assert find_in_text("1234567890123456", numeric=True) == []
    assert find_in_text("1.6E+15") == find_in_text("1600000000000000.0", numeric=True) == []


def test_numeric_cells_are_only_checked_for_a_nik() -> None:
    amount = "62812345678.0"  # Rupiah, or +62 812-345-678 if read as text
    assert [k for k, _ in find_in_text(amount)] == ["phone"]
    assert find_in_text(amount, numeric=True) == []
    assert find_in_text("029063526006000", numeric=True) == []  # a 15-digit total
    assert find_in_text("budi@gmail.com", numeric=True) == []
    assert find_in_text("1603010101900001", numeric=True) == [("nik", "1603010101900001")]


# data shaped like our exports and the sources behind them: none of it is personal
NOT_PERSONAL = [
    # region codes: Kemendagri, BPS, with and without dots; Kalimantan Tengah starts 62
    "16",
    "16.03",
    "16.06.01",
    "16.06.01.2001",
    "1606012001",
    "16060120011",
    "62.71.01.1001",
    "6271011001",
    "31.71.01.1001",
    "3171011001",
    "96.01.01.2001",
    "1606",
    # dates, periods, years, times
    "2025-01-31",
    "31/01/2025",
    "01-31-2025",
    "2025-Q1",
    "2025-01",
    "2025",
    "202501",
    "2025-01-31T08:00:00+07:00",
    "09.00 - 10.00",
    "pukul 08.30 - 12.00 WIB",
    "08.00-16.00",
    # measures and amounts, as numbers and as Indonesians write them
    "160000.5",
    "12345678.25",
    "1250000",
    "1.250.000",
    "Rp 1.250.000,00",
    "12.345.678,5",
    "21.011.457.024",
    "2.500.000.000",
    "99.999.999.999.999",
    "0.123456789",
    "-6.2088",
    "106.845599",
    "-3.7140285",
    "104.1234567",
    "3.14159265358979",
    "1e-05",
    "6.02e+23",
    "0.333333333333333",
    "0,123456789012345",
    "12.1603010101900001",
    "-62812345678.5",
    "12345678901234",
    "600000000000.0",
    # codes and labels
    "LPR-0001",
    "SKM-2025-0042",
    "BS-1606-0001",
    "CCTV-0013",
    "KT-1606-0007",
    "11620",
    "13770",
    "003",
    "005",
    "RT003/005",
    "RT 003 RW 005",
    "DEP. PERINDAG (SIUP) NOMOR : 2468/13 - 1.82",
    "DE.PERINDAG (SIUP) NOMOR : 00614-05/PK/1.82",
    "NOMOR : 00291 - 03 / PK / 1.824.271",
    "DEP. PERINDAG:SIUP NO.03270182451",
    "DEP. PEKERJAAN UMUM: NO. IZIN: 1,2,602143,3171,100",
    "09.03.1.52.15377",  # TDP, the company register number: a business, not a person
    "ISBN 978-602-8519-93-9",
    "v1.2.3",
    "192.168.1.10",
    hashlib.sha256(b"export").hexdigest(),
    hashlib.sha256(b"0812").hexdigest(),
    hashlib.md5(b"x").hexdigest(),
    "0f3c1d2e0812345678901234abcdef",
    # text
    "Kecamatan Muara Enim",
    "Desa Tanjung Raja",
    "Kelurahan Pasar II",
    "orang",
    "Rupiah",
    "ton",
    "hektare",
    "Smart Economy",
    "Jl. Jend. Sudirman No. 120 KM 5",
    "Blok F lt. 1 Los 125 - 127",
    "Jl. Raya Bogor Km 21/18-19",
    "Sampah terkelola 12.345 kg dari 1.234 nasabah",
    pseudonym("1603010101900001", KEY, "nik"),
    pseudonym("08123456789", KEY, "telepon"),
]
# published on purpose: the walidata's and an OPD's contact (exports.allowed_contacts)
ALLOWED = ["SATUDATA@muaraenimkab.go.id", "dinsos@muaraenimkab.go.id"]


def test_zero_false_hits_on_export_shaped_values() -> None:
    assert [(v, hit) for v in NOT_PERSONAL if (hit := find_in_text(v))] == []
    cells = NOT_PERSONAL + ["kontak: satudata@muaraenimkab.go.id", "Dinsos@MuaraEnimKab.go.id"]
    data = _csv(["nilai", "kontak"], [[v, v] for v in cells])
    assert scan_csv("nilai.csv", data, allow=ALLOWED) == []
    doc = json.dumps([{"nilai": v} for v in cells]).encode()
    assert scan_json("nilai.json", doc, allow=ALLOWED) == []
    assert [f.kind for f in scan_json("nilai.json", doc)] == ["email", "email"]  # not blind


def test_zero_false_hits_on_every_region_code_and_name_of_the_seed() -> None:
    """ref.region and the BPS crosswalk, as exports carry them in kode_/nama_/kode_bps_: the
    seed fills them from the reference package's shipped provinces (and wilayah.csv's jenis)."""
    assert scan_csv("wilayah.csv", (SEED / "wilayah.csv").read_bytes()) == []
    for files in SHIPPED.values():
        for name in (files.current_file, files.crosswalk_file):
            data = data_text(name).encode()
            assert len(data.splitlines()) > 3000
            assert scan_csv(name, data) == []


def test_zero_false_hits_on_a_demo_shaped_export() -> None:
    rng = random.Random(11)
    kec = ["Muara Enim", "Lawang Kidul", "Tanjung Agung", "Gunung Megang", "Sungai Lilin"]
    header = [
        "kode_provinsi",
        "nama_provinsi",
        "kode_bps_provinsi",
        "kode_kabupaten_kota",
        "nama_kabupaten_kota",
        "kode_kecamatan",
        "nama_kecamatan",
        "kode_bps_kecamatan",
        "kode_desa",
        "nama_desa",
        "kode_bps_desa",
        "kode_kelompok",
        "nama_kelompok",
        "nik_ketua_pseudonim",
        "jumlah_anggota",
        "luas_kebun_ha",
        "produksi_kg",
        "nilai_rp",
        "periode",
        "tahun",
        "satuan",
    ]
    rows = []
    for i in range(2000):
        k, d = rng.randint(1, 20), rng.randint(1, 40)
        rows.append(
            [
                "16",
                "Sumatera Selatan",
                "16",
                "16.06",
                "Kabupaten Musi Banyuasin",
                f"16.06.{k:02d}",
                rng.choice(kec),
                f"1606{k:02d}0",
                f"16.06.{k:02d}.{2000 + d}",
                f"Desa {rng.choice(kec)} {d}",
                f"1606{k:02d}0{d:03d}",
                f"KT-1606-{i:04d}",
                f"Kelompok Tani {rng.choice(kec)}",
                pseudonym(_random_nik(rng), KEY, "nik_ketua"),
                rng.randint(5, 60),
                round(rng.uniform(0.5, 250), 2),
                round(rng.uniform(100, 99999), 1),
                rng.randint(150, 600_000_000) * 1000 + 0.0,
                f"2025-{rng.randint(1, 12):02d}",
                2025,
                rng.choice(["kilogram", "Rupiah", "orang", "hektare"]),
            ]
        )
    data = _csv(header, rows)
    numeric = ["jumlah_anggota", "luas_kebun_ha", "produksi_kg", "nilai_rp", "tahun"]
    assert scan_csv("demo.csv", data, numeric_columns=numeric) == []
    records = [dict(zip(header, r, strict=True)) for r in rows]
    assert scan_json("demo.json", json.dumps(records).encode()) == []


def test_generated_demo_sources_personal_columns_found_and_the_rest_silent(
    catalog: Catalog,
) -> None:
    """Every catalog dataset as `serasan generate` writes it: the NIKs and phone numbers it
    invents are all found from their content, and no other column gives a single hit."""
    from serasan.demo.generate import generate_dataset

    invented = 0
    for ds in catalog.datasets.values():
        reg = catalog.regency(ds.regency)
        allow = {reg.walidata_email, ds.satu_data.kontak} | {
            c.email for o in reg.opds for c in o.contacts
        }
        data = generate_dataset(ds, catalog, rows=500, fmt="csv", seed=7).data
        numeric = [c.name for c in ds.columns if c.type in ("integer", "number")]
        found = scan_csv(f"{ds.id}.csv", data, allow=allow, numeric_columns=numeric)
        assert [f for f in found if not ds.column(f.column).pii] == [], ds.id
        for c in ds.columns:
            if c.generate.get("kind") in ("nik", "phone"):
                values = [
                    r[c.name] for r in csv.DictReader(io.StringIO(data.decode())) if r[c.name]
                ]
                kind = c.generate["kind"]  # generator kinds nik/phone are scanner kinds too
                assert all([k for k, _ in find_in_text(v)] == [kind] for v in values), c.name
                invented += len(values)
    assert invented > 500


# --- files -------------------------------------------------------------------------------------


def test_scan_csv_reports_file_row_column_and_a_masked_excerpt() -> None:
    nik = _nik(day=45, month=8, year=87, serial=321)
    data = (
        "\ufeffkode_desa,keterangan,nilai_rp,kontak\n"
        "16.03.01.2001,baik,150000,\n"
        f'16.03.01.2002,"hubungi 0812-7788-9900\natau Budi.S@Gmail.com",{nik},\n'
        "16.03.01.2003,NPWP 02.906.352.6-006.000,6281234567890,dinsos@muaraenimkab.go.id\n"
        f"16.03.01.2004,{nik[:4]} {nik[4:8]} {nik[8:12]} {nik[12:]},1,x,extra 021-5454338\n"
    ).encode()
    found = scan_csv(
        "bansos.csv", data, allow=["DINSOS@muaraenimkab.go.id"], numeric_columns=["nilai_rp"]
    )
    assert [(f.file, f.row, f.column, f.kind) for f in found] == [
        ("bansos.csv", 2, "keterangan", "phone"),
        ("bansos.csv", 2, "keterangan", "email"),
        ("bansos.csv", 2, "nilai_rp", "nik"),
        ("bansos.csv", 3, "keterangan", "npwp"),  # 6281234567890 Rupiah is not a phone
        ("bansos.csv", 4, "keterangan", "nik"),
        ("bansos.csv", 4, "#5", "phone"),
    ]
    assert [f.excerpt for f in found] == [
        "081*******00",
        "B***@G***.com",
        "1603**********21",
        "029**********00",
        "1603**********21",
        "02******38",
    ]
    for f, raw in zip(found, ["7788", "Budi", nik, "906.352", nik[4:8], "5454338"], strict=True):
        assert raw not in f.excerpt and f.excerpt.count("*") >= len(f.excerpt) // 2
    assert all(isinstance(f, Finding) for f in found)


def test_allow_list_is_exact_and_case_insensitive() -> None:
    data = _csv(
        ["kontak"],
        [
            ["satudata@muaraenimkab.go.id"],
            ["SatuData@MuaraEnimKab.go.id"],
            ["x.satudata@muaraenimkab.go.id"],
            ["(0711) 350123"],
            ["0711-350123"],
            ["0711-350124"],
        ],
    )
    found = scan_csv("k.csv", data, allow=["SATUDATA@muaraenimkab.go.id", "0711 350123"])
    assert [(f.row, f.kind) for f in found] == [(3, "email"), (6, "phone")]


def test_numeric_columns_are_only_checked_for_a_nik() -> None:
    nik = _nik()
    data = _csv(
        ["realisasi_rp", "catatan"],
        [
            ["6281234567890.0", "6281234567890.0"],
            [nik + ".0", "ok"],
            ["029063526006000", "029063526006000"],
            ["1.603010101900001E15", "-"],
        ],
    )
    found = scan_csv("pajak.csv", data, numeric_columns=["realisasi_rp"])
    assert [(f.row, f.column, f.kind) for f in found] == [
        (1, "catatan", "phone"),
        (2, "realisasi_rp", "nik"),
        (3, "catatan", "npwp"),
        (4, "realisasi_rp", "nik"),
    ]


def test_a_column_named_for_phones_or_npwp_flags_any_long_number() -> None:
    data = _csv(
        ["no_hp", "telepon_kantor", "npwp_pemilik", "NIK Ketua", "jumlah_pengguna_hp", "nomor"],
        [
            [
                "8454416",
                "5454338 / 5454339",
                "13,469,903,13",
                "1603 0101 0190",
                "8454416",
                "8454416",
            ],
            ["12345", "-", "-", pseudonym("1603010101900001", KEY, "nik"), "-", "-"],
        ],
    )
    found = scan_csv("k.csv", data)
    assert [(f.row, f.column, f.kind) for f in found] == [
        (1, "no_hp", "phone"),
        (1, "telepon_kantor", "phone"),
        (1, "npwp_pemilik", "npwp"),
        (1, "NIK Ketua", "nik"),
    ]
    # a number column is never read this way: 8454416 kg is 8454416 kg
    assert scan_csv("k.csv", data, numeric_columns=["no_hp"])[0].column == "telepon_kantor"


def test_scan_json_records_numbers_and_nesting() -> None:
    nik = _nik(prov=31, kab=71)
    doc = [
        {"kode_desa": "16.03.01.2001", "nilai_rp": 6281234567890, "nik": None, "ok": True},
        {"kode_desa": "16.03.01.2002", "nilai_rp": int(nik), "catatan": "hub 0812 3456 7890"},
        {
            "kode_desa": "16.03.01.2003",
            "nilai_rp": float(nik),
            "pelapor": {"email": "siti@yahoo.co.id", "hp": ["+62 813 1111 2222"]},
        },
    ]
    found = scan_json("d.json", json.dumps(doc).encode())
    assert [(f.row, f.column, f.kind) for f in found] == [
        (2, "nilai_rp", "nik"),
        (2, "catatan", "phone"),
        (3, "nilai_rp", "nik"),
        (3, "pelapor.email", "email"),
        (3, "pelapor.hp[0]", "phone"),
    ]
    assert "siti" not in found[3].excerpt and found[3].excerpt == "s***@y***.id"
    assert scan_json("one.json", b'{"kontak": "budi@gmail.com"}')[0].row == 1


def test_scan_csv_counts_records_not_lines() -> None:
    data = b'kontak,catatan\n\n"x\ny",1\n\nbudi@gmail.com,2\n'  # blank lines, a 2-line cell
    [f] = scan_csv("b.csv", data)
    assert (f.row, f.column) == (2, "kontak")


def test_scan_file_dispatches_and_refuses_what_it_cannot_read() -> None:
    data = _csv(["catatan"], [["budi@gmail.com"]])
    assert [f.kind for f in pii.scan_file("x.CSV", data)] == ["email"]
    assert [f.kind for f in pii.scan_file("x.json", b'[{"a": "budi@gmail.com"}]')] == ["email"]
    assert pii.scan_file("x.csv", b"") == [] and pii.scan_file("x.json", b"[]") == []
    with pytest.raises(ValueError, match="only .csv and .json"):
        pii.scan_file("x.xlsx", b"PK")


def test_kinds() -> None:
    assert pii.KINDS == ("nik", "phone", "email", "npwp")


# --- the real Jakarta register -------------------------------------------------------------

PHONE_COLUMNS = ("telepon", "fax", "selular")
NOT_PII_COLUMNS = (
    "kelurahan",
    "kecamatan",
    "kota",
    "kode_pos",
    "rt",
    "rw",
    "ukuran_usaha",
    "kategori_usaha",
    "kegiatan_usaha",
    "jenis_usaha",
    "siup",
    "nama_bangunan",
    "nama_jalan",
)
# independent of the scanner: a number that says it is one (08x..., an area code set apart)
MARKED_PHONE = re.compile(
    r"(?<![0-9])(?:08[1-9][0-9]{7,10}(?![0-9])|08[1-9][0-9]?[ -][0-9 -]{6,}"
    r"|\( ?0[2-79][0-9]{1,2} ?\)|0[2-79][0-9]{1,2}(?: - |[ -])[0-9]{5,8}(?![0-9])|\(62-[0-9]{2}\))"
)
LONG_RUN = re.compile(r"[0-9](?:[ .\-]?[0-9]){5,}")  # 6+ digits: long enough to call someone


_SCANNED: dict[Path, tuple[list[str], list[list[str]], list[Finding]]] = {}


@pytest.fixture
def jakarta(shared_dir: Path) -> tuple[list[str], list[list[str]], list[Finding]]:
    """The register read with the csv module, and scanned once for the whole module."""
    path = shared_dir / "samples" / "jakarta" / "ukm-jakarta-2014.csv"
    if path not in _SCANNED:
        data = path.read_bytes()
        assert b"\r" not in data  # LF line ends; UTF-8 (mojibake typed in long ago, kept)
        records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        assert len(records) == 1 + 17952
        _SCANNED[path] = (records[0], records[1:], scan_csv(path.name, data))
    return _SCANNED[path]


def _values(jakarta: tuple, column: str) -> list[tuple[int, str]]:
    header, rows, _ = jakarta
    j = header.index(column)
    return [(i, r[j]) for i, r in enumerate(rows, start=1) if r[j].strip()]


def _kinds(jakarta: tuple) -> dict[tuple[int, str], set[str]]:
    out: dict[tuple[int, str], set[str]] = {}
    for f in jakarta[2]:
        out.setdefault((f.row, f.column), set()).add(f.kind)
    return out


def test_jakarta_every_phone_is_found(jakarta: tuple) -> None:
    kinds = _kinds(jakarta)
    for column in PHONE_COLUMNS:
        values = _values(jakarta, column)
        phone_like = [(i, v) for i, v in values if LONG_RUN.search(v)]
        missed = [(i, v) for i, v in phone_like if "phone" not in kinds.get((i, column), set())]
        assert missed == [], column
        # what is left is too short to call anyone: postal codes, '0', a lone area code --
        # and, in telepon, an NPWP typed into the wrong column (below)
        rest = [v for v in (v for _, v in values) if not LONG_RUN.search(v)]
        short = [v for v in rest if len(re.sub(r"[^0-9]", "", v)) <= 5]
        assert len(short) == {"telepon": 13, "fax": 3, "selular": 0}[column]
        assert len(rest) - len(short) == (column == "telepon")
        assert len(phone_like) == {"telepon": 7218, "fax": 1482, "selular": 131}[column]
    # the one long number in a phone column that is not a phone: an NPWP, reported as one
    [row] = [
        i
        for i, v in _values(jakarta, "telepon")
        if not LONG_RUN.search(v) and len(re.sub(r"[^0-9]", "", v)) >= 14
    ]
    assert kinds[(row, "telepon")] == {"npwp"} and row == 11768


def test_jakarta_phones_found_from_the_number_alone(jakarta: tuple) -> None:
    """Without the column name: every number written with its area code or mobile prefix is
    found (and bare 0216452933 too). What is left is local numbers without an area code
    ('8454416', half of this register), which nothing tells from a count of something; they
    are found only because the column is called telepon or fax (test above)."""
    expected = {  # found, phone-like, and what is left by kind
        "telepon": (3466, 7218, {"local": 3577, "local list": 111, "malformed": 64}),
        "fax": (830, 1482, {"local": 591, "local list": 47, "malformed": 14}),
        "selular": (130, 131, {"malformed": 1}),  # 'o811 834 730': a letter o for the zero
    }
    for column, (found_count, phone_like, left_kinds) in expected.items():
        values = [v for _, v in _values(jakarta, column)]
        found = {v for v in values if "phone" in {k for k, _ in find_in_text(v)}}
        marked = {v for v in values if MARKED_PHONE.search(v)}
        assert marked <= found, column
        assert sum(v in found for v in values) == found_count, column
        assert sum(1 for v in values if LONG_RUN.search(v)) == phone_like, column
        left = Counter(
            "local"
            if re.fullmatch(r"[1-9][0-9]{5,7}", v)
            else "local list"
            if re.fullmatch(r"[1-9][0-9]{5,7}(?: ?[/,-] ?[0-9]{2,8})+,?", v)
            else "malformed"  # 9-digit locals, 0021..., '021, 4393...', '02-3001...'
            for v in values
            if v not in found and LONG_RUN.search(v)
        )
        assert left == left_kinds, column


def test_jakarta_every_npwp_is_found(jakarta: tuple) -> None:
    kinds = _kinds(jakarta)
    values = _values(jakarta, "npwp")
    assert len(values) == 2346
    assert [(i, v) for i, v in values if kinds.get((i, "npwp")) != {"npwp"}] == []


# The NPWP values the content alone deliberately does not flag, by shape (9 = any digit), and
# why. The column name catches all of them (test above); these are what a misnamed column or
# free text would let through.
NPWP_NOT_FLAGGED_BY_CONTENT = {
    # TDP (Tanda Daftar Perusahaan) numbers typed into the NPWP column: a business register
    # number, not an NPWP and not a person
    "99.99.9.99.99999": 2,
    "99,99,9,99,99999": 5,
    # 11 digits grouped by thousands: exactly what an amount of tens of billions looks like
    "99.999.999.999": 5,
    "99,999,999,999": 3,
    # a digit too few or too many in the taxpayer part: no longer NPWP-shaped
    "9.999.99.9-999": 1,
    "9.999.999-999": 1,
    "99,999,99,9,9,99": 1,
    "99,999999,9,99": 1,
    "99.999,999,99999": 1,
    "99,999,9,99": 1,
    "99,999,999,99": 1,
    "99999999.9.99": 1,
    "99,9999,999,9,999,999": 1,
    "99.99.999.9.99": 1,
    "99,999,999,999,9,99": 1,
    "99,99,999,9,99": 1,
    "99999,999,9,99": 1,
    "99,999,999,O,99": 1,
    "99,999,99,9,99": 1,
    "99.999.99.9.99": 1,
    "99.999.99.9.999": 1,
}


def test_jakarta_npwp_found_from_the_number_alone(jakarta: tuple) -> None:
    values = [v for _, v in _values(jakarta, "npwp")]
    missed = [v for v in values if "npwp" not in {k for k, _ in find_in_text(v)}]
    assert Counter(re.sub(r"[0-9]", "9", v) for v in missed) == NPWP_NOT_FLAGGED_BY_CONTENT
    assert len(missed) == 32 and len(missed) / len(values) < 0.014  # 98.6% found by content


def test_jakarta_no_false_hits_in_the_other_columns(jakarta: tuple) -> None:
    """SIUP numbers, street numbers, postal codes, RT/RW, KBLI codes: nothing personal."""
    header, rows, findings = jakarta
    assert [f for f in findings if f.column in NOT_PII_COLUMNS] == []
    # numbers are there to be mistaken: digits in most SIUP cells, KBLI codes in kegiatan_usaha
    siup = [v for _, v in _values(jakarta, "siup")]
    assert sum(1 for v in siup if len(re.sub(r"[^0-9]", "", v)) >= 8) > 1000
    assert {f.column for f in findings} == {"telepon", "fax", "selular", "npwp"}
    # and what is reported is masked: never more than 4 digits of the value in a row
    assert all(re.fullmatch(r"[0-9]{0,4}\*+[0-9]{0,2}", f.excerpt) for f in findings)
    assert Counter(f.kind for f in findings) == {"phone": 8962, "npwp": 2347}
