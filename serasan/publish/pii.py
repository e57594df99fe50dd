"""Personal data (UU 27/2022) in files about to leave: keyed pseudonyms, and a last-line scanner.

Exports drop personal columns or replace them by `pseudonym` (HMAC, the key never leaves the
platform). `scan_file` then reads every cell of the data files an export is about to publish and
reports anything that still looks like a NIK, a phone number, an e-mail address or an NPWP, so
a mistake in the catalog (a personal column not marked `pii`, a phone typed into an address)
blocks the export instead of reaching a ministry. The scanner errs on the side of silence where
a value is as likely to be statistics (region codes, amounts, measures) as a person: a gate that
cries wolf gets switched off. Findings carry a masked excerpt only, never the value.

Citizen voice (reviews, complaints, survey comments) is published with its words, so its text
is masked instead (`mask_text`: what the scanner finds, names after an honorific, and the
author's own name), its author and source id leave as any personal column does, and Serasan's
own `row_id` stands for the source's id (a Google review id leads to its author).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset

PSEUDONYM_PREFIX = "PSN-"
KINDS = ("nik", "phone", "email", "npwp")

_PSEUDONYM_LETTERS = 20  # 26**20 ~ 2**94: no collisions in any register we will ever hold
_NO_KEY = (
    "no pseudonym key configured: set the password of the Airflow connection "
    "`serasan_pii`, or the environment variable SERASAN_PII_KEY"
)
MIN_KEY_BYTES = 16  # the NIK space can be enumerated: a short key would let anyone rebuild it
_A = re.ASCII  # \d and \w mean [0-9] and [A-Za-z0-9_]: no Arabic-Indic digits, and fast

# ------------------------------------------------------------------------------ pseudonyms

_WHOLE_FLOAT = re.compile(r"([0-9]+)\.0+", _A)  # '1603010101900001.0': Excel kept it as float
_DIGIT_LIKE = re.compile(r"[0-9][0-9 .\-]*", _A)
_DIGIT_SEPARATORS = re.compile(r"[ .\-]")


def _normalise(value: object) -> str:
    """One person, one pseudonym: '1603 0101 0190 0001', '1603.0101.0190.0001' and
    '1603010101900001.0' (a NIK that went through Excel) are the same NIK."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    if m := _WHOLE_FLOAT.fullmatch(s):
        s = m.group(1)
    if _DIGIT_LIKE.fullmatch(s):
        s = _DIGIT_SEPARATORS.sub("", s)
    return s


def _key_bytes(key: str | bytes) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if not raw or not raw.strip():
        raise ValueError(_NO_KEY)
    if len(raw) < MIN_KEY_BYTES:
        raise ValueError(
            f"the pseudonym key is shorter than {MIN_KEY_BYTES} bytes: anyone could "
            "try every NIK against it; " + _NO_KEY.replace("no pseudonym key configured: ", "")
        )
    return raw


def _letters(raw: bytes, message: str, count: int) -> str:
    """`count` letters A-Z from HMAC-SHA256(raw, message)."""
    n = int.from_bytes(hmac.new(raw, message.encode(), hashlib.sha256).digest(), "big")
    letters = []
    for _ in range(count):
        n, r = divmod(n, 26)
        letters.append(chr(65 + r))
    return "".join(letters)


def pseudonym(value: str | None, key: str | bytes, column: str) -> str | None:
    """'PSN-' + 20 letters from HMAC-SHA256(key, column + US + value); None (and a blank)
    stays None.

    Keyed, so nobody without the key can rebuild the table of NIK -> pseudonym (the NIK space
    is small enough to enumerate); the column is part of the message, so a pseudonym in one
    column cannot be joined to another column's; letters only, so a pseudonym can never look
    like a NIK, a phone number or an NPWP to the scanner, a spreadsheet or a reader.
    """
    raw = _key_bytes(key)
    if value is None or not str(value).strip():
        return None  # a blank is no one: one pseudonym for all blanks would look like a person
    return PSEUDONYM_PREFIX + _letters(raw, f"{column}\x1f{_normalise(value)}", _PSEUDONYM_LETTERS)


# ------------------------------------------------------------------------------ NIK

# Kemendagri (Dukcapil) province codes, which NIKs carry. 91-96 are Papua and the provinces
# split from it in 2022 (Papua Selatan, Tengah, Pegunungan, Barat Daya); 97 is a BPS code only.
PROVINCE_CODES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        21,
        31,
        32,
        33,
        34,
        35,
        36,
        51,
        52,
        53,
        61,
        62,
        63,
        64,
        65,
        71,
        72,
        73,
        74,
        75,
        76,
        81,
        82,
        91,
        92,
        93,
        94,
        95,
        96,
    }
)
_SIXTEEN = re.compile(r"[0-9]{16}", _A)


def _nik_prefix_ok(d: str) -> bool:
    """The first 12 digits of a NIK: province, kab/kota, kecamatan, then DDMMYY of birth with
    40 added to the day for women."""
    if int(d[0:2]) not in PROVINCE_CODES or d[2:4] == "00" or d[4:6] == "00":
        return False
    day, month = int(d[6:8]), int(d[8:10])
    return (1 <= day <= 31 or 41 <= day <= 71) and 1 <= month <= 12


def is_valid_nik(digits: str) -> bool:
    """16 digits with NIK structure (region, birth date, serial 0001-9999).

    Random 16-digit numbers pass about 2.5% of the time, so the structure is what keeps
    16-digit quantities and IDs from being reported as people.
    """
    return (
        isinstance(digits, str)
        and _SIXTEEN.fullmatch(digits) is not None
        and _nik_prefix_ok(digits)
        and digits[12:] != "0000"
    )


# ------------------------------------------------------------------------------ detection

# A number token: digit groups joined by '.', ',', '-' (one or two, e.g. '..' or '-,' typos)
# with optional spaces around them, or by a single space. Not glued to a letter or digit on
# the left (sha256 hex, 'RT003', 'NIK1603...' are not tokens), and not the tail of a number
# ('12.1603...'). NIK and NPWP are both recognised from a token's digit groups.
_TOKEN = re.compile(r"(?<![\w])(?<![0-9][.,\-])[0-9]+(?:(?: ?[.,\-]{1,2} ?| )[0-9]+)*", _A)
_GROUP = re.compile(r"[0-9]+", _A)
_NPWP_BOUNDARIES = frozenset({2, 5, 8, 9, 12})  # 99.999.999.9-999.999
_SCI = re.compile(r"\s*\+?([0-9])(?:[.,]([0-9]+))?[eE]\+?([0-9]{1,2})\s*", _A)

# Phones. One separator between digit groups: '-', '.', ' - ', or a space. Landline groups
# have 3+ digits so that times ('09.00 - 10.00') never qualify; mobile numbers start 08x, which
# no time or date does, and are also written in pairs ('0815 870 50 88').
_PSEP = r"(?: ?[.\-] ?| )"
_MOBILE = re.compile(
    rf"(?<![\w+])(?:\(\+?62\) ?|\+ ?62{_PSEP}?|62{_PSEP}?|0)8[1-9][0-9]*(?:{_PSEP}[0-9]{{2,}})*"
    r"(?![0-9])",
    _A,
)
# Area codes are 0 + 2-3 digits (021, 0711) and never start 00, 01 or 08 (mobile). The area
# code is set apart -- (021) 8454416, ( 021 ) 8590990, 021) 9256062 (a lost bracket),
# 021-6251475, 021 98204116, (62-21) 4224408, +62 21 5454338 -- or the number is written
# bare, 0216452933: 9-12 digits, unless labelled as a document number ('SIUP NO.03270182451').
_LAND = re.compile(
    rf"(?<![\w+])(?P<area>\( ?0[2-79][0-9]{{1,2}} ?\) ?|0[2-79][0-9]{{1,2}}(?:\) ?|{_PSEP})"
    rf"|\(\+?62{_PSEP}?[2-79][0-9]{{1,2}}\) ?|\+ ?62{_PSEP}?[2-79][0-9]{{1,2}}{_PSEP}?"
    rf"|62{_PSEP}[2-79][0-9]{{1,2}}{_PSEP})"
    rf"(?P<sub>[0-9]{{3,}}(?:{_PSEP}[0-9]{{3,}})*)(?![0-9])",
    _A,
)
_LAND_BARE = re.compile(r"(?<![\w+])0[2-79][0-9]{7,10}(?![0-9A-Za-z])", _A)
_DOCUMENT_NUMBER = re.compile(r"(?:^|[^A-Za-z])(?:no|nomor|nomer|nr|reg)[ .:]*$", re.IGNORECASE)
# A digit run right after a phone word in free text ('Telp. 8454416', 'HP: 0812 ...').
_PHONE_WORD = re.compile(
    r"(?<![A-Za-z])(?:telp?|tlp|telepon|telpon|phone|hp|fax|faks|wa)(?![A-Za-z])[.:]?[ :]*"
    r"\(?(?P<num>[0-9](?:\)? ?[.\-]? ?[0-9]){5,})",
    _A | re.IGNORECASE,
)

# A column whose name says what it holds: there any digit run long enough is that datum.
# Jakarta's register writes most phone numbers without an area code ('8454416') and many
# NPWPs with a digit too few or too many; nothing but the column name tells those from counts.
_HEADER_KINDS = (
    (
        "phone",
        re.compile(
            r"(?:^|[^a-z])(?:telp|telepon|telpon|tlp|phone|telephone|hp|"
            r"handphone|ponsel|selular|seluler|cellular|mobile|fax|faks|"
            r"faksimile|facsimile|wa|whatsapp)(?:[^a-z]|$)"
        ),
        6,
    ),
    ("npwp", re.compile(r"(?:^|[^a-z])npwp(?:[^a-z]|$)"), 8),
    ("nik", re.compile(r"(?:^|[^a-z])(?:nik|ktp)(?:[^a-z]|$)"), 8),
)
_COUNT_HEADER = re.compile(r"jumlah|total|banyak|rasio|persen|count|number_of|rata")
_RUN = re.compile(r"[0-9](?:(?: ?[.,\-/]{1,2} ?| )?[0-9])*", _A)

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w\-])",
    _A,
)

_DROP_DIGITS = str.maketrans("", "", "0123456789")
# Measures, counts, years and BPS codes, the bulk of a statistics file: a number that does not
# start with 0 and has at most 14 digits before any decimals is none of the four kinds.
_PLAIN_NUMBER = re.compile(r"-?[1-9][0-9]{0,13}(?:\.[0-9]+)?|-?0(?:\.[0-9]+)?", _A)
# Pre-filter: nothing we look for has fewer than 5 digits, except an e-mail address. Most
# cells of a statistics file fail it, at the cost of one regex search.
_WORTH_A_LOOK = re.compile(r"@|[0-9](?:[^0-9]*+[0-9]){4}")
_NOT_DIGIT = re.compile(r"[^0-9]")

Span = tuple[str, int, int]  # kind, start, end


def _digit_count(text: str) -> int:
    return len(text) - len(text.translate(_DROP_DIGITS))


def _tokens(text: str) -> Iterator[tuple[list[tuple[int, int]], list[str]]]:
    """Each number token long enough to hold an NPWP (8+ digits, truncated) or a NIK, as its
    digit groups (start, end) and the separators between them."""
    for m in _TOKEN.finditer(text):
        if _digit_count(m.group()) < 8:
            continue
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(text, m.start(), m.end())]
        seps = [text[a[1] : b[0]] for a, b in zip(groups, groups[1:], strict=False)]
        yield groups, seps


def _whole(text: str, groups: list[tuple[int, int]], seps: list[str], i: int) -> bool:
    """Group i stands on its own: not the fraction of a decimal ('0.333333333333333') nor
    glued to a letter on the right."""
    return (i == 0 or " " in seps[i - 1]) and not _glued(text, groups[i][1])


def _glued(text: str, end: int) -> bool:
    """A letter right after the digits: part of a code or a hex string, not a number."""
    return end < len(text) and text[end].isalpha()


def _nik_spans(text: str, groups: list[tuple[int, int]], seps: list[str]) -> list[Span]:
    """A NIK is 16 digits with NIK structure, either one group ('1603010101900001', also
    '1603010101900001.0' from Excel) or a whole run of groups joined by one and the same
    one-character separator ('1603 0101 0190 0001', '16.03.01.010190.0001'). Runs must be
    whole, so a region code next to a number ('16.06.01.2001 123456': 16 digits, two
    separators) is not read as a NIK."""
    found: list[Span] = []
    for k, (a, b) in enumerate(groups):
        if b - a == 16 and is_valid_nik(text[a:b]) and _whole(text, groups, seps, k):
            found.append(("nik", a, b))
    i = 0
    while i < len(groups):
        j = i
        while j < len(seps) and len(seps[j]) == 1 and seps[j] == seps[i]:
            j += 1
        if j > i:
            digits = "".join(text[a:b] for a, b in groups[i : j + 1])
            if len(digits) == 16 and is_valid_nik(digits) and not _glued(text, groups[j][1]):
                found.append(("nik", groups[i][0], groups[j][1]))
        i = j + 1
    return found


def _npwp_spans(text: str, groups: list[tuple[int, int]], seps: list[str]) -> list[Span]:
    """NPWP: 15 digits, 99.999.999.9-999.999, in the ways registers really write them.

    Starting at any group of a token, any of:
    (1) one bare group of 15 digits;
    (2) 15 digits (14 when Excel dropped the leading zero: '1.332.246.6-042.000'), three or
        more separators, all on NPWP group boundaries and two of them after 99.999, so a
        missing or doubled one further on ('99.999.999.9999.999') is tolerated;
    (3) the taxpayer part and check digit 9.999.999.9 / 99.999.999.9 written with '.', ','
        or '-' and whatever the register kept after it ('21.829.007.0.18', '16,263,329,0,11'):
        no number format produces that grouping -- except a decimal comma after thousands
        dots ('12.345.678,5'), so a token ending right there on a changed separator is not;
    (4) five to seven groups ending with the tax-office and branch codes (-999.999), where
        the token starts with a zero ('03.15.427.2-009.000': a digit lost) or has the
        check-digit dash ('21,12,270,7-045,000') -- amounts have neither.
    Thousands-grouped numbers without these marks (99.999.999.999, 99.999.999.999.999) are
    amounts as far as anyone can tell, and are left alone even when typed as an NPWP.
    """
    sizes = [b - a for a, b in groups]
    found: list[Span] = []
    i = 0
    while i < len(groups):
        end = _npwp_at(text, groups, seps, sizes, i)
        if end is None:
            i += 1
        else:
            found.append(("npwp", groups[i][0], groups[end][1]))
            i = end + 1
    return found


def _marked(sep: str) -> bool:
    return "." in sep or "," in sep or "-" in sep


def _npwp_at(
    text: str, groups: list[tuple[int, int]], seps: list[str], sizes: list[int], i: int
) -> int | None:
    """The index of the last group of an NPWP that starts at group i, or None."""
    if sizes[i] == 15:
        return i if _whole(text, groups, seps, i) else None
    if sizes[i] > 2:
        return None
    total = 0  # (2)
    cuts: list[int] = []
    for j in range(i, len(groups)):
        total += sizes[j]
        if total >= 14:
            pad = 15 - total
            shifted = {c + pad for c in cuts}
            if pad in (0, 1) and len(cuts) >= 3 and {2, 5} <= shifted <= _NPWP_BOUNDARIES:
                return j
            break
        cuts.append(total)
    if sizes[i + 1 : i + 4] == [3, 3, 1] and all(map(_marked, seps[i : i + 3])):  # (3)
        end = i + 3
        if end == len(groups) - 1 and seps[i + 2].strip() != seps[i + 1].strip():
            return None
        while end + 1 < len(groups) and end < i + 5 and sizes[end + 1] <= 4:
            end += 1
        return end
    for j in range(i + 4, min(i + 7, len(groups))):  # (4)
        if not all(map(_marked, seps[i:j])):
            break
        if (
            sizes[j - 1] == sizes[j] == 3
            and 12 <= sum(sizes[i : j + 1]) <= 16
            and (text[groups[i][0]] == "0" or (sizes[j - 2] == 1 and "-" in seps[j - 2]))
        ):
            return j
    return None


def _phone_ok(digits: str, area_digits: int | None) -> bool:
    """National form (0...) of a candidate: mobile 08x + 7-10 digits; landline area code of
    3-4 digits (with its 0) and a subscriber number of 5-8 digits."""
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    if digits.startswith("08"):
        return 10 <= len(digits) <= 13
    return area_digits is not None and 3 <= area_digits <= 4 and 5 <= len(digits) - area_digits <= 8


def _trim(text: str, start: int, end: int, area_digits: int | None) -> Span | None:
    """The longest run of whole digit groups from `start` that is a valid number: a list
    '021 5454338 5454339' gives its first number."""
    for stop in sorted((g.end() for g in _GROUP.finditer(text, start, end)), reverse=True):
        if _phone_ok(_NOT_DIGIT.sub("", text[start:stop]), area_digits):
            return ("phone", start, stop)
    return None


def _phone_spans(text: str) -> list[Span]:
    """Indonesian phone numbers recognised from the number itself, or from 'Telp.' before it."""
    found: list[Span | None] = []
    for m in _MOBILE.finditer(text):
        found.append(_trim(text, m.start(), m.end(), None))
    for m in _LAND.finditer(text):
        area = m.group("area")
        n = _digit_count(area)
        if area.lstrip("(+ ").startswith("62"):
            n -= 1  # 62 21 -> 021
        found.append(_trim(text, m.start(), m.end(), n))
    found.extend(
        ("phone", m.start(), m.end())
        for m in _LAND_BARE.finditer(text)
        if not _DOCUMENT_NUMBER.search(text, max(0, m.start() - 10), m.start())
    )
    found.extend(("phone", m.start("num"), m.end("num")) for m in _PHONE_WORD.finditer(text))
    return [s for s in found if s is not None]


def _hint_spans(text: str, kind: str, min_digits: int) -> list[Span]:
    return [
        (kind, m.start(), m.end())
        for m in _RUN.finditer(text)
        if _digit_count(m.group()) >= min_digits
    ]


def _sci_nik(text: str) -> bool:
    """A whole cell in scientific notation, as Excel shows a NIK typed into a number cell
    ('1.60301010190000E+15'). A float keeps 15-16 significant digits, so the serial may be
    lost: it counts as a NIK when the digits that survive cover the region and birth date
    (12 or more) and those have NIK structure; fewer digits say too little to be a person."""
    m = _SCI.fullmatch(text)
    if not m or int(m.group(3)) != 15:
        return False
    known = m.group(1) + (m.group(2) or "")
    if len(known) >= 16:
        return is_valid_nik(known[:16])
    return len(known) >= 12 and _nik_prefix_ok(known)


def _add(found: list[Span], spans: Iterable[Span]) -> None:
    """Keep spans that do not overlap one already found: one datum, one finding."""
    for span in spans:
        if not any(span[1] < e and s < span[2] for _, s, e in found):
            found.append(span)


def _find(
    text: str, numeric: bool = False, hint: tuple[str, int] | None = None
) -> tuple[Span, ...]:
    """Spans of personal data in one cell, most specific kind first (NIK, NPWP, e-mail,
    phone), then what the column name implies (`hint`: kind and minimum digits)."""
    if not _WORTH_A_LOOK.search(text):
        return ()
    if hint is None and _PLAIN_NUMBER.fullmatch(text) and not text.startswith("62"):
        return ()
    if numeric and _digit_count(text) < 12:
        return ()  # a NIK, even one Excel cut short, keeps 12 digits
    if _sci_nik(text):
        return (("nik", 0, len(text)),)
    return tuple(_find_spans(text, numeric, hint))


def _find_spans(text: str, numeric: bool, hint: tuple[str, int] | None) -> list[Span]:
    found: list[Span] = []
    for groups, seps in _tokens(text):
        _add(found, _nik_spans(text, groups, seps))
        if not numeric:
            _add(found, _npwp_spans(text, groups, seps))
    if numeric:
        return found
    if "@" in text:
        _add(found, (("email", m.start(), m.end()) for m in _EMAIL.finditer(text)))
    _add(found, sorted(_phone_spans(text), key=lambda s: (s[1], -s[2])))
    if hint:
        _add(found, _hint_spans(text, *hint))
    return sorted(found, key=lambda s: s[1])


def find_in_text(text: str, numeric: bool = False) -> list[tuple[str, str]]:
    """(kind, matched text) of every NIK, phone, e-mail and NPWP in one cell, free text too.

    `numeric`: the cell belongs to a number column, where only a NIK is looked for (Excel
    stores NIKs as numbers); amounts such as 6281234567.0 Rupiah would otherwise read as
    +62 phone numbers, and 15-digit totals as NPWPs.
    """
    return [(kind, text[s:e]) for kind, s, e in _find(text, numeric)]


# ------------------------------------------------------------------------------ free text

# What `mask_text` writes in place of each kind. No digit and no '@', so a masked text never
# looks like personal data to the scanner; one tag for every name, so no two can be told apart.
NAME_MASK = "[nama]"
TEXT_MASKS = {
    "nik": "[NIK]",
    "phone": "[telepon]",
    "email": "[email]",
    "npwp": "[NPWP]",
    "name": NAME_MASK,  # after an honorific
    "author": NAME_MASK,  # a word of the author's own name
}
TEXT_KINDS = tuple(TEXT_MASKS)

# Honorifics written as a word before a name, any case: 'Pak Budi', 'mbak Rina', 'PAK Joko'.
HONORIFIC_WORDS = (
    "pak", "bu", "bapak", "ibu", "mas", "mbak", "mba", "bang", "abang", "kak", "kakak",
    "dik", "adik", "om", "tante", "sdr", "sdri", "saudara", "saudari", "pakde", "bude",
    "budhe", "kang", "cak", "haji", "hajah", "hajjah", "hj", "ustad", "ustadz",
    "ustadzah", "kyai", "kiai", "prof",
)  # fmt: skip
# Honorifics written as an abbreviation, only with their dot: without it 'dr' is chat for
# 'dari' ('dr rumah') and 'H' a day ('H-1').
HONORIFIC_ABBREVIATIONS = ("dr", "drg", "prof", "ir", "h", "hj", "sdr", "sdri", "ust")
_MAX_NAME_WORDS = 3

_HONORIFIC = (
    rf"(?i:(?:{'|'.join(HONORIFIC_WORDS)})[ \t]+"
    rf"|(?:{'|'.join(HONORIFIC_ABBREVIATIONS)})\.[ \t]*)"
)
# A capitalised word: a capital, then small letters ('Budi', "Ma'ruf"); not 'BUDI' or 'budi',
# nor an honorific ('Bapak Ibu petugas' names no one).
_NAME_WORD = rf"(?!(?i:{'|'.join(HONORIFIC_WORDS)})(?![\w'’]))[A-Z][a-z]+(?:['’][a-z]+)*(?![\w'’])"
# One or more honorifics in a row ('Pak Haji', 'Bu Hj.', 'Bapak Dr. Ir. H.'), then one to
# three capitalised words: those words are the name.
_HONORIFIC_NAME = re.compile(
    rf"(?<!\w){_HONORIFIC}+"
    rf"(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,{_MAX_NAME_WORDS - 1}}})"
)
_NAME_TOKEN = re.compile(r"[^\W\d_]{3,}")  # a word of a name: 3+ letters
_NAME_GAP = re.compile(r"[ \t]*")
_MAX_PASSES = 3


def name_tokens(names: Iterable[str | None]) -> frozenset[str]:
    """The words of `names` that `mask_text` masks: each run of three or more letters,
    casefolded ('Budi S. Santoso' -> budi, santoso; 'A. Ri' -> nothing)."""
    return frozenset(t.casefold() for n in names if n for t in _NAME_TOKEN.findall(str(n)))


@functools.lru_cache(maxsize=4096)
def _names_pattern(tokens: frozenset[str]) -> re.Pattern[str] | None:
    if not tokens:
        return None
    words = "|".join(re.escape(t) for t in sorted(tokens, key=lambda t: (-len(t), t)))
    return re.compile(rf"(?<![^\W\d_])(?:{words})(?![^\W\d_])", re.IGNORECASE)


def _text_spans(text: str, tokens: frozenset[str]) -> list[Span]:
    """NIK, NPWP, e-mail and phone spans as the scanner finds them, then names that overlap
    none of them: after an honorific ('name'), and words of the author's name ('author')."""
    found = list(_find(text))
    names: list[Span] = [
        ("name", m.start("name"), m.end("name")) for m in _HONORIFIC_NAME.finditer(text)
    ]
    pattern = _names_pattern(tokens)
    if pattern is not None:
        names += [("author", m.start(), m.end()) for m in pattern.finditer(text)]
    found += [n for n in names if not any(n[1] < e and s < n[2] for _, s, e in found)]
    return sorted(found, key=lambda sp: (sp[1], -sp[2]))


def _replace(text: str, spans: list[Span]) -> str:
    """Each span by its kind's tag; names that overlap or stand next to each other (with
    spaces between) become one tag: 'Budi Santoso' -> '[nama]', not '[nama] [nama]'."""
    merged: list[tuple[str, int, int]] = []
    for kind, s, e in spans:
        tag = TEXT_MASKS[kind]
        if merged and tag == NAME_MASK and merged[-1][0] == NAME_MASK:
            _, ps, pe = merged[-1]
            if s <= pe or _NAME_GAP.fullmatch(text, pe, s):
                merged[-1] = (tag, ps, max(pe, e))
                continue
        merged.append((tag, s, e))
    out, pos = [], 0
    for tag, s, e in merged:
        out += [text[pos:s], tag]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def find_in_review(text: str, names: Iterable[str | None] = ()) -> list[tuple[str, str]]:
    """(kind, matched text) of what `mask_text` masks in `text`, in order: the scanner's
    kinds (nik, phone, email, npwp), 'name' (after an honorific) and 'author' (a word of
    one of `names`)."""
    return [(k, text[s:e]) for k, s, e in _text_spans(text, name_tokens(names))]


def mask_text(text: str, names: Iterable[str | None] = ()) -> str:
    """Free text (a review, a complaint, a survey comment) with its personal data masked.

    - NIK, phone numbers, e-mail addresses and NPWP, wherever the export scanner
      (`find_in_text`) finds them, become [NIK], [telepon], [email] and [NPWP];
    - names after an honorific: one or more honorifics in a row -- a word of
      HONORIFIC_WORDS (Pak, Bu, Bapak, Ibu, Mas, Mbak, Bang, Kak, Dik, Om, Tante, Sdr, Haji,
      ...) followed by a space, or an abbreviation of HONORIFIC_ABBREVIATIONS with its dot
      (dr., Dr., drg., Prof., Ir., H., Hj., Sdr.), in any case -- followed by one to three
      capitalised words (a capital, then small letters): the words become [nama] and the
      honorific stays ('Pak Budi Santoso ramah' -> 'Pak [nama] ramah', 'Bu Hj. Siti' ->
      'Bu Hj. [nama]');
    - every word of three or more letters of `names` (the author's name), as a whole word
      in any case: 'Budi' and 'BUDI' in the text of Budi Santoso become [nama];
    names next to each other become one [nama].

    Known false positives: a capitalised title or common word after an honorific is masked
    as a name ('Bu Kades' -> 'Bu [nama]', 'Pak Bupati', 'Ibu Kota', 'kak Tolong'), and so
    is a common word that is also a word of the author's name (the review of 'Bagus Indah'
    loses 'bagus'). Known misses: names in small letters ('mbak rina') or capitals
    ('PAK BUDI'), and names without an honorific other than the author's.

    Masking never leaves anything the scanner would find: the result is read again, up to
    three times, in case removing one number joined two others.
    """
    if not text:
        return text
    out = _replace(text, _text_spans(text, name_tokens(names)))
    for _ in range(_MAX_PASSES):
        again = _find(out)
        if not again:
            break
        out = _replace(out, list(again))
    return out


# ------------------------------------------------------------------------------ citizen voice

ROW_ID_COLUMN = "id_baris"
ROW_ID_PREFIX = "SRS-"
_ROW_ID_LETTERS = 16  # 26**16 ~ 2**75


def masked_text_columns(ds: Dataset) -> list[str]:
    """The columns of a dataset that leave through `mask_text`: a citizen-voice dataset's
    text (`voice.text`). Its author and source id are personal data (`pii: true`, which the
    catalog requires of them), so they are dropped or pseudonymised like any other; every
    other cell is read by the scanner as before, and a hit there holds the period back."""
    v = ds.voice
    return [v.text] if v is not None and v.text is not None else []


def mask_voice_record(ds: Dataset, record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a warehouse row of a citizen-voice dataset with its text
    (`masked_text_columns`) masked by `mask_text`, the names being the row's own author
    (`voice.author`). Only the row's own author: masking every reviewer's name in every
    text would take common words with them (Bagus, Indah, Sari, Cahaya are names).
    Personal columns are left as they are, for the export to drop or pseudonymise."""
    out = dict(record)
    v = ds.voice
    if v is None:
        return out
    names = [record.get(v.author)] if v.author else []
    for column in masked_text_columns(ds):
        value = record.get(column)
        if isinstance(value, str) and value:
            out[column] = mask_text(value, names)
    return out


def row_id(ds: Dataset, record: Mapping[str, Any], key: str | bytes) -> str:
    """Serasan's own id of a row: 'SRS-' + 16 letters from HMAC-SHA256(key, the dataset and
    the row's primary key), in place of the source's id (a Google review id leads to its
    author's profile).

    Stable across reloads, reprocessing and periods, the same in every regency's view of a
    dataset, and in the export, the report's quotes and the evaluation pack alike; keyed, so
    nobody without the key can go from a public review id to the row or back; letters only,
    so the scanner never mistakes it for a number. Raises ValueError without a key."""
    raw = _key_bytes(key)
    values = "\x1f".join(_normalise(record[k]) for k in ds.primary_key)
    message = f"\x1erow\x1f{ds.view_source or ds.id}\x1f{values}"
    return ROW_ID_PREFIX + _letters(raw, message, _ROW_ID_LETTERS)


# ------------------------------------------------------------------------------ files


@dataclass(frozen=True)
class Finding:
    """One personal datum in a file. `row` is the 1-based data row (the header is not
    counted); `excerpt` is masked, so findings can be stored and shown to anyone."""

    file: str
    row: int
    column: str
    kind: str
    excerpt: str


def _mask(kind: str, matched: str) -> str:
    """Enough to find the cell again, never enough to use: NIK 1603**********01, phone
    081*******90, budi@gmail.com b***@g***.com. Like privacy.mask_value, but short numbers
    keep fewer digits (an 8-digit local number keeps 2, not 6)."""
    if kind == "email":
        local, _, domain = matched.partition("@")
        host, _, tld = domain.rpartition(".")
        return f"{local[:1]}***@{host[:1]}***.{tld}"
    digits = re.sub(r"[^0-9]", "", matched)
    n = len(digits)
    head, tail = min(4, n // 4), min(2, n // 5)
    return digits[:head] + "*" * (n - head - tail) + digits[n - tail :]


class _Allow:
    """Values published on purpose (the walidata's e-mail, OPD contacts): an exact match,
    case-insensitive, is not a finding; numbers also match with other separators or +62."""

    def __init__(self, values: Iterable[str]):
        self.text = {v.strip().casefold() for v in values if v and v.strip()}
        self.digits = {d for d in (_national(v) for v in self.text) if len(d) >= 5}

    def __contains__(self, item: tuple[str, str]) -> bool:
        kind, matched = item
        return matched.strip().casefold() in self.text or (
            kind != "email" and _national(matched) in self.digits
        )


def _national(value: str) -> str:
    digits = re.sub(r"[^0-9]", "", value)
    return (
        "0" + digits[2:]
        if digits.startswith("62") and value.lstrip("( ").startswith(("+", "62"))
        else digits
    )


_MEMO_CELLS = 100_000


def _header_hint(column: str) -> tuple[str, int] | None:
    """What a column's name says it holds ('telepon', 'no_hp', 'npwp_pemilik', 'nik_ketua'),
    unless it is a count or ratio of them ('jumlah_pengguna_hp')."""
    name = column.lower()
    if _COUNT_HEADER.search(name):
        return None
    return next(((kind, n) for kind, pattern, n in _HEADER_KINDS if pattern.search(name)), None)


def _scan_cells(
    name: str, cells: Iterable[tuple[int, str, str, bool]], allow: Iterable[str]
) -> list[Finding]:
    allowed = _Allow(allow)
    hints: dict[str, tuple[str, int] | None] = {}
    # Exports repeat the same region codes, names, periods and units on every row: remember
    # each cell's answer, for this file only (the cells may be personal data), and bounded.
    seen: dict[tuple[str, bool, tuple[str, int] | None], tuple[Span, ...]] = {}
    out: list[Finding] = []
    for row, column, text, numeric in cells:
        if column not in hints:
            hints[column] = _header_hint(column)
        key = (text, numeric, None if numeric else hints[column])
        spans = seen.get(key)
        if spans is None:
            spans = _find(*key)
            if len(seen) < _MEMO_CELLS:
                seen[key] = spans
        for kind, s, e in spans:
            matched = text[s:e]
            if (kind, matched) not in allowed:
                out.append(Finding(name, row, column, kind, _mask(kind, matched)))
    return out


def scan_csv(
    name: str, data: bytes, allow: Iterable[str] = (), numeric_columns: Iterable[str] = ()
) -> list[Finding]:
    """Every cell of a UTF-8 CSV with one header row. Undecodable bytes are replaced rather
    than refused: a check that stops at the first odd byte would let the rest through."""
    numeric = set(numeric_columns)
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"), newline=""))
    header = next(reader, [])
    names = [h.strip() for h in header]

    def cells() -> Iterator[tuple[int, str, str, bool]]:
        worth = _WORTH_A_LOOK.search
        row = 0
        for record in reader:
            if not record:
                continue  # a blank line is not a data row
            row += 1
            for j, text in enumerate(record):
                if worth(text):
                    column = names[j] if j < len(names) else f"#{j + 1}"
                    yield row, column, text, column in numeric

    return _scan_cells(name, cells(), allow)


def _flatten(value: Any, column: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{column}.{k}" if column else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{column}[{i}]")
    else:
        yield column, value


def scan_json(
    name: str, data: bytes, allow: Iterable[str] = (), numeric_columns: Iterable[str] = ()
) -> list[Finding]:
    """A JSON array of records. JSON numbers are checked as number cells (NIK only); nested
    values are read too (column 'a.b'), and a top-level object counts as one record."""
    numeric = set(numeric_columns)
    doc = json.loads(data.decode("utf-8-sig", errors="replace"))
    records = doc if isinstance(doc, list) else [doc]

    def cells() -> Iterator[tuple[int, str, str, bool]]:
        for row, record in enumerate(records, start=1):
            for column, value in _flatten(record, ""):
                if value is None or isinstance(value, bool):
                    continue
                if isinstance(value, int | float):
                    yield row, column, str(value), True
                elif str(value):
                    yield row, column, str(value), column in numeric

    return _scan_cells(name, cells(), allow)


def scan_file(name: str, data: bytes, **kw: Any) -> list[Finding]:
    """Dispatch on the file name; any other kind of file is refused, not passed unread."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return scan_csv(name, data, **kw)
    if lower.endswith(".json"):
        return scan_json(name, data, **kw)
    raise ValueError(f"cannot scan {name!r} for personal data: only .csv and .json files")
