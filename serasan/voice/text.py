"""Citizens' text as words: lower case, slang written out, elongations undone, stems.

One normalisation for every analysis of `serasan.voice` (sentiment, themes, duplicates), so
"gk bgs", "GAK BAGUSSS" and "tidak bagus" are the same two words everywhere:

1. lower case; line breaks, Google's "…" truncation mark and punctuation become spaces, but
   punctuation that ends a clause (. , ; ! ? and the like) is kept as a boundary token `|`;
2. reduplication written with a 2 or ² becomes two words ("alun2" -> "alun alun");
3. letters repeated three times or more become one ("mantaaap" -> "mantap"); a doubled letter
   becomes one where only the single-letter form is a known word ("sampaah" -> "sampah");
4. informal words become their standard form from `data/slang_id.tsv` ("gk" -> "tidak",
   "mantul" -> "mantap betul");
5. each word gets its Sastrawi stem ("kebersihan" -> "bersih"); the analyses match a word as
   written first and through its stem second, since Sastrawi cuts some informal words
   ("lemot" -> "lot").

Emoji are kept as tokens of their own: 👍 says as much as "bagus".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

BOUNDARY = "|"  # the token a clause-ending punctuation mark becomes

_REDUPLICATION = re.compile(r"\b([a-z]{2,})[2²]", re.IGNORECASE)
_RUN3 = re.compile(r"(.)\1{2,}")
_DOUBLE = re.compile(r"(.)\1")
_CLAUSE_END = re.compile(r"[.,;:!?()\[\]\n]+|…|\.\.\.")
# a word (letters, inner apostrophes dropped), a boundary, or one emoji / pictograph
_TOKEN = re.compile(r"[a-z]+|\||[\u2600-\u27bf\U0001f300-\U0001faff]")


@dataclass(frozen=True)
class Token:
    """One word as normalised, and its stem (equal to the word where Sastrawi keeps it)."""

    word: str
    stem: str


def read_table(name: str, columns: int) -> list[tuple[str, ...]]:
    """Rows of one of the TSV files in `serasan/voice/data`: comments and the header dropped,
    each row exactly `columns` fields (a malformed line names the file and the line)."""
    text = resources.files("serasan.voice").joinpath(f"data/{name}").read_text(encoding="utf-8")
    rows: list[tuple[str, ...]] = []
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = tuple(f.strip() for f in line.split("\t"))
        if len(fields) != columns or not all(fields):
            raise ValueError(f"serasan/voice/data/{name}:{number}: expected {columns} fields")
        if not header_seen:
            header_seen = True
            continue
        rows.append(fields)
    return rows


@cache
def slang() -> dict[str, tuple[str, ...]]:
    """Informal word -> its standard form, as words."""
    table: dict[str, tuple[str, ...]] = {}
    for informal, standard in read_table("slang_id.tsv", 2):
        if informal in table:
            raise ValueError(f"serasan/voice/data/slang_id.tsv: {informal!r} is listed twice")
        table[informal] = tuple(standard.split())
    return table


@cache
def _stemmer() -> object:
    return StemmerFactory().create_stemmer()


@cache
def dictionary() -> frozenset[str]:
    """The words elongation may land on: Sastrawi's root words (about 30,000), the informal
    words and their standard forms, and the sentiment lexicon's words."""
    words = set(StemmerFactory().get_words())
    for informal, standard in slang().items():
        words.add(informal)
        words.update(standard)
    for term, _kind, _weight in read_table("lexicon_id.tsv", 3):
        words.update(term.split())
    return frozenset(words)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Sastrawi stem of one lower-case word (cached: reviews repeat their words)."""
    if not word.isalpha() or not word.isascii():
        return word
    result: str = _stemmer().stem(word)  # type: ignore[attr-defined]
    return result or word


@lru_cache(maxsize=65536)
def _undo_elongation(word: str) -> str:
    known = dictionary()
    word = _RUN3.sub(r"\1", word)
    if word in known or not _DOUBLE.search(word):
        return word
    single = _DOUBLE.sub(r"\1", word)
    return single if single in known else word


def clean(text: str) -> str:
    """Lower case, accents folded, reduplication written out, clause ends marked by `|`."""
    text = unicodedata.normalize("NFKC", text).replace("\u00b2", "2")
    text = _REDUPLICATION.sub(r"\1 \1", text.lower())
    text = _CLAUSE_END.sub(f" {BOUNDARY} ", text)
    text = text.replace("-", " ").replace("'", "").replace("`", "")
    return text


def words(text: str) -> list[str]:
    """The normalised words of `text` (boundaries `|` and emoji included), slang written
    out."""
    table = slang()
    out: list[str] = []
    for raw in _TOKEN.findall(clean(text)):
        if raw == BOUNDARY:
            if out and out[-1] != BOUNDARY:
                out.append(BOUNDARY)
            continue
        word = raw if not raw.isalpha() else _undo_elongation(raw)
        out.extend(table.get(word, (word,)))
    while out and out[-1] == BOUNDARY:
        out.pop()
    return out


def tokens(text: str) -> list[Token]:
    """`words`, each with its stem."""
    return [Token(w, stem(w)) for w in words(text)]


def normalised(text: str) -> str:
    """The text as one string of normalised words, boundaries dropped: what duplicates and
    the model compare."""
    return " ".join(w for w in words(text) if w != BOUNDARY)
