"""Spam and exact duplicates: excluded by stated rules, counted, and listed, never dropped.

Each row is checked against the rules below in this order; the first that applies excludes it
and is its reason. Every excluded row is listed (`Screened.excluded`: row id, reason, and the
row it repeats where there is one), so `len(kept) + len(excluded)` is always the number of
rows in. "First" means the smallest row id (numeric ids compared as numbers); both lists keep
the order the rows came in.

1. **kosong**: no text (or only spaces and punctuation) and no rating: nothing said at all.
   A rating without text is kept: it is a rating.
2. **terlalu pendek**: fewer than 2 letters or digits, no emoji, and no rating ("-", ".", "?").
3. **tautan**: a web link (http://, https://, www., or a word ending in a domain such as .com,
   .id, .net, .xyz): reviews and complaints do not need links; advertising does.
4. **satu karakter berulang**: at least 3 characters, all the same one, not an emoji
   ("aaaaaaa", "!!!!!!"): "👍👍👍" is a review.
5. **duplikat persis** (not spam: one review delivered twice): the same normalised text
   (`serasan.voice.text.normalised`: case, slang, elongation and punctuation aside) of at
   least `DUPLICATE_MIN_WORDS` words (emoji not counted), the same rating, and the same author
   (casefolded) where the source records authors, or, where it does not, the same full date
   (day precision). The first row is kept. Rows can only be told to be one review when
   something beyond the words says so: many citizens write "sangat membantu" on the same day
   (1,500 of the 10,000 Mobile JKN reviews repeat a text of one or two words from the same day
   and rating), and seven Lumajang reviews of different authors share a text and a year.
   Without an author and a full date, rows are never duplicates.
6. **teks sama di banyak baris**: the same normalised text of at least `CAMPAIGN_MIN_WORDS`
   words from `COPIES` or more rows that are not duplicates of each other: a campaign. The
   first row is kept; the others are excluded and point at it. Short common texts ("sangat
   membantu sekali terima kasih", five thumbs up) are what many citizens write, not a
   campaign.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from serasan.voice.records import DatePrecision, VoiceRow, row_order
from serasan.voice.text import normalised

DUPLICATE_MIN_WORDS = 5  # words (emoji not counted) below which a text is never a duplicate
CAMPAIGN_MIN_WORDS = 10  # words below which a text repeated by many is not a campaign
COPIES = 3  # rows with one text (CAMPAIGN_MIN_WORDS or more) that make a campaign


class Exclusion(StrEnum):
    EMPTY = "kosong"
    TOO_SHORT = "terlalu pendek"
    LINK = "tautan"
    REPEATED_CHARACTER = "satu karakter berulang"
    COPIES = "teks sama di banyak baris"
    DUPLICATE = "duplikat persis"


SPAM = (
    Exclusion.EMPTY,
    Exclusion.TOO_SHORT,
    Exclusion.LINK,
    Exclusion.REPEATED_CHARACTER,
    Exclusion.COPIES,
)

_LINK = re.compile(
    r"https?://|\bwww\.|\b[\w-]+\.(?:com|id|net|org|xyz|info|biz|ly|me|io|co|site|online|link)"
    r"(?:/\S*)?(?!\w)",
    re.IGNORECASE,
)
_EMOJI = re.compile(r"[\u2600-\u27bf\U0001f300-\U0001faff]")
_ALNUM = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Excluded:
    row_id: str
    reason: Exclusion
    same_as: str | None = None  # the kept row this one repeats (duplicates and copies)


@dataclass(frozen=True)
class Screened:
    kept: tuple[VoiceRow, ...]
    excluded: tuple[Excluded, ...]

    @property
    def rows_in(self) -> int:
        return len(self.kept) + len(self.excluded)

    @property
    def counts(self) -> Mapping[Exclusion, int]:
        """Rows excluded per reason, every reason listed (zeros included)."""
        found = Counter(e.reason for e in self.excluded)
        return {reason: found.get(reason, 0) for reason in Exclusion}


def _spam(row: VoiceRow) -> Exclusion | None:
    text = (row.text or "").strip()
    has_emoji = bool(_EMOJI.search(text))
    alnum = len(_ALNUM.findall(text))
    if row.rating is None and not alnum and not has_emoji:
        return Exclusion.EMPTY
    if row.rating is None and alnum < 2 and not has_emoji:
        return Exclusion.TOO_SHORT
    if _LINK.search(text):
        return Exclusion.LINK
    squeezed = "".join(text.split())
    if len(squeezed) >= 3 and len(set(squeezed)) == 1 and not has_emoji:
        return Exclusion.REPEATED_CHARACTER
    return None


def screen(rows: Sequence[VoiceRow]) -> Screened:
    """The rows kept, and the rows excluded with their reasons (rules in the module doc)."""
    seen = Counter(r.row_id for r in rows)
    if len(seen) != len(rows):
        twice = sorted(i for i, n in seen.items() if n > 1)[:5]
        raise ValueError(f"row ids must be unique; repeated: {', '.join(twice)}")
    ordered = sorted(rows, key=lambda r: row_order(r.row_id))
    excluded: dict[str, Excluded] = {}
    norm: dict[str, str] = {}
    for row in ordered:
        reason = _spam(row)
        if reason is not None:
            excluded[row.row_id] = Excluded(row.row_id, reason)
            continue
        words = normalised(row.text) if row.text else ""
        if sum(1 for w in words.split() if w.isalpha()) >= DUPLICATE_MIN_WORDS:
            norm[row.row_id] = words

    # 5. exact duplicates, before campaigns: a row delivered twice is not a campaign
    first_of: dict[tuple[object, ...], str] = {}
    for row in ordered:
        same = norm.get(row.row_id)
        if same is None or row.row_id in excluded:
            continue
        if row.author and row.author.strip():
            who: tuple[object, ...] = ("author", row.author.strip().casefold())
        elif row.date is not None and row.precision in (None, DatePrecision.DAY):
            who = ("date", row.date)
        else:
            continue  # nothing but the words: cannot be told to be one review
        key = (same, row.rating, *who)
        if key in first_of:
            excluded[row.row_id] = Excluded(row.row_id, Exclusion.DUPLICATE, first_of[key])
        else:
            first_of[key] = row.row_id

    # 6. the same text from many rows
    remaining = [r for r in ordered if r.row_id in norm and r.row_id not in excluded]
    by_text: dict[str, list[str]] = {}
    for row in remaining:
        by_text.setdefault(norm[row.row_id], []).append(row.row_id)
    for text, ids in by_text.items():
        long_enough = sum(1 for w in text.split() if w.isalpha()) >= CAMPAIGN_MIN_WORDS
        if long_enough and len(ids) >= COPIES:
            for row_id in ids[1:]:
                excluded[row_id] = Excluded(row_id, Exclusion.COPIES, ids[0])

    kept = tuple(r for r in rows if r.row_id not in excluded)
    listed = tuple(excluded[r.row_id] for r in rows if r.row_id in excluded)
    return Screened(kept, listed)
