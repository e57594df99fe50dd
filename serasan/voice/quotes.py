"""Representative quotes per theme and polarity, chosen by a stated rule, masked, with row ids.

The rule, for each theme (in the dictionary's order) and each polarity (positive, then
negative), among the rows that carry the theme and have that polarity:

1. the row with the most occurrences of the theme's keywords (`ThemeMatch.hits`);
2. then a text of at most `MAX_CHARS` characters before a longer one, and among those the
   longest (among longer ones, the shortest);
3. then the smallest row id (numeric ids compared as numbers).

A row is quoted once: a row already quoted for an earlier theme is passed over. Texts are
compared as they are; the one chosen is masked (`mask`, the caller's text masker: NIK, phone
numbers, e-mail, NPWP, names after an honorific and the row's author's name) and flattened to
one line, then cut at a word to `MAX_CHARS` with "…" if it is longer. Nothing unmasked leaves
this module: `mask` is required.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from serasan.voice.records import Polarity, VoiceRow, row_order
from serasan.voice.themes import ThemeMatch

MAX_CHARS = 280
POLARITIES = (Polarity.POSITIVE, Polarity.NEGATIVE)


class Masker(Protocol):
    """`serasan.publish.pii.mask_text`'s shape: the text, and names to mask wherever they
    appear (the author's)."""

    def __call__(self, text: str, names: Iterable[str | None] = ...) -> str: ...


@dataclass(frozen=True)
class Quote:
    theme: str
    polarity: Polarity
    row_id: str  # Serasan's row id
    text: str  # masked, one line, at most MAX_CHARS characters
    hits: int  # occurrences of the theme's keywords in the text


def _rank(row: VoiceRow, hits: int) -> tuple[int, int, int, tuple[int, str]]:
    length = len(" ".join((row.text or "").split()))
    fits = length <= MAX_CHARS
    return (-hits, 0 if fits else 1, -length if fits else length, row_order(row.row_id))


def shorten(text: str, limit: int = MAX_CHARS) -> str:
    """One line, at most `limit` characters, cut at a word with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def representative_quotes(
    rows: Sequence[VoiceRow],
    themes: Mapping[str, Sequence[ThemeMatch]],
    polarities: Mapping[str, Polarity | None],
    mask: Masker,
    theme_order: Sequence[str] | None = None,
) -> list[Quote]:
    """One quote per theme and polarity where a row has both (the rule in the module doc).

    `themes` and `polarities` are by row id (from `serasan.voice.themes.match` and
    `serasan.voice.sentiment.polarities`); `theme_order` defaults to the order in which the
    themes first appear in `themes`.
    """
    by_theme: dict[str, list[tuple[VoiceRow, int]]] = {}
    order: list[str] = list(theme_order or ())
    for row in rows:
        if not row.text or not row.text.strip():
            continue
        for found in themes.get(row.row_id, ()):
            by_theme.setdefault(found.theme, []).append((row, found.hits))
            if theme_order is None and found.theme not in order:
                order.append(found.theme)
    quoted: set[str] = set()
    out: list[Quote] = []
    for theme in order:
        for polarity in POLARITIES:
            candidates = [
                (row, hits)
                for row, hits in by_theme.get(theme, [])
                if polarities.get(row.row_id) is polarity and row.row_id not in quoted
            ]
            if not candidates:
                continue
            row, hits = min(candidates, key=lambda c: _rank(*c))
            quoted.add(row.row_id)
            masked = mask(row.text or "", names=(row.author,))
            out.append(Quote(theme, polarity, row.row_id, shorten(masked), hits))
    return out
