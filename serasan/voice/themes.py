"""Themes of citizens' texts from a theme dictionary kept as data (`catalog/themes.yaml`).

The dictionary has default themes, which every programme uses, and each programme (by its code
in `catalog/programmes.yaml`) may add its own themes or more keywords to a default theme of the
same name. A text carries every theme one of whose keywords it contains; a theme counts once per
text however many of its keywords appear ("kotor", "kebersihan" and "bersih" are one theme).

Keywords are matched on the words as `serasan.voice.text` normalised them (slang written out),
so "ngantri" and "antrian" are "antre"/"antrean":

- a keyword is taken as written and as the slang table writes it out ("antri": antri, antre);
- a keyword that is a root word (its own Sastrawi stem) matches every word built on it:
  "bersih" matches "kebersihan", "kebersihannya", "membersihkan";
- any other keyword matches as written, or with a particle after it (-nya, -ku, -mu, -lah,
  -kah, -pun): "petugas" matches "petugasnya" but not "tugas", which Sastrawi would give;
- a keyword of several words ("kamar mandi", "harga tiket") matches those words in a row, each
  word by the two rules above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from serasan.common.paths import catalog_dir
from serasan.voice.text import BOUNDARY, Token, slang, stem, tokens

THEMES_FILE = "themes.yaml"
_PARTICLES = ("nya", "ku", "mu", "lah", "kah", "pun")

_Keywords = list[str]


class _ThemesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: dict[str, _Keywords] = Field(min_length=1)
    programmes: dict[str, dict[str, _Keywords]] = Field(default_factory=dict)

    @field_validator("default")
    @classmethod
    def _keywords_given(cls, value: dict[str, _Keywords]) -> dict[str, _Keywords]:
        for theme, words in value.items():
            if not words:
                raise ValueError(f"theme {theme!r} has no keywords")
        return value


@dataclass(frozen=True)
class _Form:
    """One word of a keyword: the forms it matches as written, and the roots it matches
    through stems (the forms that are their own Sastrawi stem)."""

    written: frozenset[str]
    roots: frozenset[str]

    def positions(self, index: _Index) -> set[int]:
        """Where in the text this word stands (as written, with a particle, or by stem)."""
        found: set[int] = set()
        for w in self.written:
            found |= index.words.get(w, set())
        for r in self.roots:
            found |= index.stems.get(r, set())
        return found


@dataclass(frozen=True)
class _Index:
    """A text's tokens by word (and by word without a particle) and by stem."""

    size: int
    words: dict[str, set[int]]
    stems: dict[str, set[int]]

    @classmethod
    def of(cls, toks: Sequence[Token]) -> _Index:
        words: dict[str, set[int]] = {}
        stems: dict[str, set[int]] = {}
        for i, t in enumerate(toks):
            if t.word == BOUNDARY:
                continue
            words.setdefault(t.word, set()).add(i)
            for p in _PARTICLES:
                if t.word.endswith(p) and len(t.word) > len(p):
                    words.setdefault(t.word[: -len(p)], set()).add(i)
            stems.setdefault(t.stem, set()).add(i)
        return cls(len(toks), words, stems)


def _forms(word: str) -> list[_Form]:
    """The forms of one word of a keyword: as written and as its slang entry writes it out
    ("antri": antri and antre); an entry of several words gives several forms in a row."""
    standard = slang().get(word, ())
    if len(standard) > 1:
        return [f for w in standard for f in _forms(w)]
    written = frozenset({word, *standard})
    return [_Form(written, frozenset(w for w in written if w.isalpha() and stem(w) == w))]


@dataclass(frozen=True)
class Keyword:
    text: str  # as the dictionary writes it
    words: tuple[_Form, ...]

    @classmethod
    def of(cls, text: str) -> Keyword:
        forms = [f for part in text.lower().split() for f in _forms(part)]
        if not forms:
            raise ValueError("a keyword has at least one word")
        return cls(text, tuple(forms))

    def starts(self, index: _Index) -> list[int]:
        """Where the keyword occurs in the indexed text."""
        first = self.words[0].positions(index)
        for k, form in enumerate(self.words[1:], start=1):
            if not first:
                break
            first &= {i - k for i in form.positions(index)}
        return sorted(first)


@dataclass(frozen=True)
class Theme:
    name: str
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True)
class ThemeMatch:
    """A theme a text carries: the keywords found (as the dictionary writes them, in its
    order) and how many times keywords of the theme occur in the text (occurrences do not
    overlap: longer keywords are matched first, and two keywords that normalise to the same
    word count once where they match the same word)."""

    theme: str
    keywords: tuple[str, ...]
    hits: int


class ThemeError(ValueError):
    """The theme dictionary is not valid: the message names the file and the field."""


@dataclass(frozen=True)
class ThemeBook:
    """The default themes and each programme's additions."""

    default: tuple[Theme, ...]
    programmes: Mapping[str, tuple[Theme, ...]]

    def themes(self, programme: str | None = None) -> tuple[Theme, ...]:
        """The themes of a programme: the defaults, with the programme's keywords added to a
        default theme of the same name, then the programme's own themes."""
        extra = {t.name: t for t in self.programmes.get(programme or "", ())}
        out = [
            Theme(t.name, t.keywords + extra.pop(t.name).keywords) if t.name in extra else t
            for t in self.default
        ]
        return tuple(out) + tuple(extra.values())

    def unknown_programmes(self, known: Sequence[str]) -> list[str]:
        """Programme codes the dictionary names that `known` (the catalog's) lacks."""
        return sorted(set(self.programmes) - set(known))


def _build(raw: dict[str, list[str]], path: Path, where: str) -> tuple[Theme, ...]:
    themes = []
    for name, words in raw.items():
        if not words:
            raise ThemeError(f"{path}: {where}.{name}: no keywords")
        if not all(w.strip() for w in words):
            raise ThemeError(f"{path}: {where}.{name}: an empty keyword")
        themes.append(Theme(name, tuple(Keyword.of(k) for k in dict.fromkeys(words))))
    return tuple(themes)


def load_themes(path: Path | None = None) -> ThemeBook:
    """The theme dictionary (default: `themes.yaml` in the catalog folder)."""
    path = path or catalog_dir() / THEMES_FILE
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _ThemesFile.model_validate(raw)
    except OSError as exc:
        raise ThemeError(f"{path}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ThemeError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ThemeError(f"{path}: {where}: {first['msg']}") from exc
    return ThemeBook(
        _build(parsed.default, path, "default"),
        {
            code: _build(themes, path, f"programmes.{code}")
            for code, themes in parsed.programmes.items()
        },
    )


def match(text: str | None, themes: Sequence[Theme]) -> tuple[ThemeMatch, ...]:
    """The themes `text` carries, in the dictionary's order."""
    if not text or not text.strip():
        return ()
    index = _Index.of(tokens(text))  # boundaries hold a place: no keyword spans one
    found: list[ThemeMatch] = []
    for theme in themes:
        covered: set[int] = set()
        named: set[str] = set()
        hits = 0
        # longer keywords first: "tiket masuk" is one occurrence, not "tiket" and another
        for keyword in sorted(theme.keywords, key=lambda k: -len(k.words)):
            for i in keyword.starts(index):
                span = set(range(i, i + len(keyword.words)))
                if span & covered:
                    continue
                covered |= span
                named.add(keyword.text)
                hits += 1
        if hits:
            order = tuple(k.text for k in theme.keywords if k.text in named)
            found.append(ThemeMatch(theme.name, order, hits))
    return tuple(found)
