"""The project's own sentiment lexicon, with negation scope, intensifiers and contrast.

The words and rules are data (`data/lexicon_id.tsv`, written for Serasan; its header explains
the kinds). Scoring one text, after `serasan.voice.text` normalised it:

- phrases first, longest first ("luar biasa" is not "biasa"; "tempat sampah" is not "sampah");
- a word counts as written, else through its Sastrawi stem ("kebersihannya" -> "bersih");
- a negator ("tidak", "bukan", "belum", "jangan") flips the next sentiment word within three
  words (small words such as "di", "yang", "ada" not counted), never across a clause boundary
  (punctuation or "tapi"); one that flips nothing counts its own weight ("tidak" alone is a
  complaint in most reviews: "otp tidak dikirim");
- "kurang" and "minim" flip a positive word after them, or else the positive word right before
  them ("kebersihan kurang"); a negative word after them keeps its sign ("minim tempat teduh"
  is not praise, "kurang kotor" is rare);
- an intensifier ("sangat", "banget") multiplies the sentiment word next to it;
- after a contrast word ("tapi", "namun", "padahal") the rest of the text weighs more;
- a courtesy formula ("terima kasih") counts only in a text with no other sentiment word,
  and never as a sign-off (starting the text's last clause after SIGN_OFF_AFTER words or
  more, with at most three words after it): a complaint that ends "..., terima kasih" is
  signed off politely, not praising, while "Terima kasih BPJS" thanks.

The score is the sum; the text is positive when the score is above the threshold (0 unless
measured otherwise, see `serasan.voice.sentiment`). Every weight that entered the sum is a
`Driver`, so a reader sees why.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from serasan.voice.records import Driver, Polarity, Sentiment
from serasan.voice.text import BOUNDARY, Token, read_table, stem, tokens

NEGATION_SCOPE = 3  # words after a negator that it may reach, small words not counted
SIGN_OFF_AFTER = 4  # words before a clause-opening courtesy that make it a letter's sign-off
SIGN_OFF_TAIL = 3  # words a sign-off may have after it ("atas perhatiannya", "bapak")
# small words a negation reaches across without counting them ("tidak di kelola dengan baik")
SMALL_WORDS = frozenset({"di", "ke", "dengan", "yang", "itu", "ini", "nya", "ada", "saja", "lagi"})
METHOD = "leksikon"

_KINDS = ("word", "negator", "lack", "intensifier", "boundary", "courtesy")
_SENTIMENT = ("word", "courtesy")  # kinds that carry sentiment of their own


@dataclass(frozen=True)
class Entry:
    term: str
    kind: str
    weight: float


@dataclass(frozen=True)
class Lexicon:
    """Words by their written form and by stem, phrases by their first word."""

    words: dict[str, Entry]
    stems: dict[str, Entry]
    phrases: dict[str, tuple[tuple[tuple[str, ...], Entry], ...]]

    def lookup(self, token: Token) -> Entry | None:
        entry = self.words.get(token.word) or self.stems.get(token.stem)
        return entry if entry is None or entry.kind not in _SENTIMENT or entry.weight else None


@cache
def lexicon() -> Lexicon:
    """The shipped lexicon (read once)."""
    words: dict[str, Entry] = {}
    stems: dict[str, Entry] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
    for term, kind, weight in read_table("lexicon_id.tsv", 3):
        if kind not in _KINDS:
            raise ValueError(f"serasan/voice/data/lexicon_id.tsv: {term!r}: unknown kind {kind!r}")
        entry = Entry(term, kind, float(weight))
        parts = tuple(term.split())
        if term in words or any(p == parts for p, _ in phrases.get(parts[0], [])):
            raise ValueError(f"serasan/voice/data/lexicon_id.tsv: {term!r} is listed twice")
        if len(parts) > 1:
            phrases.setdefault(parts[0], []).append((parts, entry))
            continue
        words[term] = entry
        if stem(term) == term:  # a root word answers for the words built on it
            stems[term] = entry
    return Lexicon(
        words,
        stems,
        {k: tuple(sorted(v, key=lambda pe: -len(pe[0]))) for k, v in phrases.items()},
    )


@dataclass
class _Unit:
    term: str
    entry: Entry | None  # None: a word without sentiment


def _units(toks: list[Token], lex: Lexicon) -> list[_Unit]:
    """The tokens with phrases joined, each with its lexicon entry."""
    out: list[_Unit] = []
    i = 0
    words = [t.word for t in toks]
    while i < len(toks):
        for parts, entry in lex.phrases.get(words[i], ()):
            if tuple(words[i : i + len(parts)]) == parts:
                out.append(_Unit(entry.term, entry if entry.weight else None))
                i += len(parts)
                break
        else:
            word = toks[i].word
            out.append(_Unit(word, None if word == BOUNDARY else lex.lookup(toks[i])))
            i += 1
    return out


def _signs_off(units: list[_Unit], i: int) -> bool:
    """Whether the courtesy at `i` closes a longer text as a letter does: it opens the last
    clause, after SIGN_OFF_AFTER words or more, with at most SIGN_OFF_TAIL words after it."""
    before = sum(1 for u in units[:i] if u.term != BOUNDARY)
    rest = [u.term for u in units[i + 1 :]]
    while rest and rest[-1] == BOUNDARY:  # the closing full stop
        rest.pop()
    opens_clause = i > 0 and units[i - 1].term == BOUNDARY
    last_clause = BOUNDARY not in rest
    return opens_clause and last_clause and before >= SIGN_OFF_AFTER and len(rest) <= SIGN_OFF_TAIL


def sign_off(text: str) -> str | None:
    """The courtesy that signs the text off as a letter does ('terima kasih'), if any: what
    the model leaves out of a text's words, as the score leaves it out of the sum."""
    units = _units(tokens(text), lexicon())
    for i, unit in enumerate(units):
        if unit.entry is not None and unit.entry.kind == "courtesy" and _signs_off(units, i):
            return unit.term
    return None


def score(text: str, threshold: float = 0.0) -> Sentiment:
    """The lexicon's sentiment of one text: the sum of its drivers against `threshold`."""
    lex = lexicon()
    units = _units(tokens(text), lex)
    hits: list[tuple[int, str, float]] = []  # unit index, term, weight (a list, so a later
    # "kurang" or intensifier can change the weight of a hit already made)
    clause = 1.0
    negator: tuple[int, _Unit] | None = None  # the open negator and where it stands
    reach = 0  # words the open negator has passed
    boost = 1.0  # a pending intensifier for the next sentiment word

    def close_negator() -> None:
        nonlocal negator
        if negator is None:
            return
        pos, unit = negator
        assert unit.entry is not None
        previous = hits[-1] if hits else None
        if unit.entry.kind == "lack" and previous and previous[0] == pos - 1 and previous[2] > 0:
            hits[-1] = (previous[0], f"{previous[1]} {unit.term}", -previous[2])
        elif unit.entry.weight:
            hits.append((pos, unit.term, unit.entry.weight * clause))
        negator = None

    for i, unit in enumerate(units):
        entry = unit.entry
        if unit.term == BOUNDARY:
            close_negator()
            boost = 1.0
            continue
        if entry is None:
            if negator is not None and unit.term not in SMALL_WORDS:
                reach += 1
                if reach >= NEGATION_SCOPE:
                    close_negator()
            continue
        if entry.kind == "boundary":
            close_negator()
            clause = max(clause, entry.weight)
            continue
        if entry.kind in ("negator", "lack"):
            close_negator()
            negator, reach = (i, unit), 0
            continue
        if entry.kind == "intensifier":
            if hits and hits[-1][0] == i - 1 and negator is None:
                pos, term, weight = hits[-1]
                hits[-1] = (pos, f"{term} {unit.term}", weight * entry.weight)
            else:
                boost = entry.weight
            continue
        weight = entry.weight * clause * boost
        boost = 1.0
        if negator is not None:
            lack = negator[1].entry is not None and negator[1].entry.kind == "lack"
            if not (lack and weight < 0):
                weight = -weight
            hits.append((i, f"{negator[1].term} {unit.term}", weight))
            negator = None
        else:
            hits.append((i, unit.term, weight))
    close_negator()
    courtesy = {u.term for u in units if u.entry is not None and u.entry.kind == "courtesy"}
    if any(term not in courtesy for _, term, _ in hits):  # said with more than politeness
        hits = [h for h in hits if h[1] not in courtesy]
    hits = [h for h in hits if not (h[1] in courtesy and _signs_off(units, h[0]))]
    total = sum(w for _, _, w in hits)
    drivers = tuple(
        Driver(term, round(weight, 3))
        for _, term, weight in sorted(hits, key=lambda h: (-abs(h[2]), h[0]))
        if weight
    )
    polarity = Polarity.POSITIVE if total > threshold else Polarity.NEGATIVE
    return Sentiment(polarity, round(total, 3), METHOD, drivers)
