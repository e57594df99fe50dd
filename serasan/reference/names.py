"""Region names as files write them, matched to Kemendagri codes without guessing.

A name is compared by its key: the leading prefix (`Kab.`, `Kabupaten`, `Kota`, `Kec.`,
`Kecamatan`, `Desa`, `Kel.`, `Kelurahan`) set aside, then case-folded, accents dropped and
everything but letters and digits removed, so `KAB. BANYU ASIN`, `Banyuasin` and `banyu-asin`
share the key `banyuasin`. The prefix is kept as the name's kind: where two regions under one
parent share a key (Kabupaten Bandung and Kota Bandung), the kind the file wrote decides, and
without one the name is ambiguous.

`match_name` looks a name up among the current regions of one level under one parent:

1. the regions whose key equals the name's key (narrowed by kind when there are several);
2. if none, the alias table (`catalog/aliases.yaml`, a reviewed list of the variants real files
   use, each mapped to its code: `OKU Selatan` -> 16.09);
3. if still none, or several: no match. The closest names by spelling (difflib) are named so
   that the walidata can fix the file or add an alias, but never picked.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from serasan.reference.versions import Level, Region, level_of

# longest first: `kabupaten` before `kab`, `kota administrasi` before `kota`
_PREFIX = re.compile(
    r"^\s*(?P<p>kabupaten|kab\b\.?|kota\s+administrasi|kota\s+adm\b\.?|kota|kecamatan|kec\b\.?"
    r"|kelurahan|kel\b\.?|desa|ds\b\.?)(?=[\s.]|$)[\s.]*",
    re.IGNORECASE,
)
_KINDS = {
    "kab": "kabupaten",
    "kabupaten": "kabupaten",
    "kota": "kota",
    "kec": "kecamatan",
    "kecamatan": "kecamatan",
    "kel": "kelurahan",
    "kelurahan": "kelurahan",
    "desa": "desa",
    "ds": "desa",
}
_KIND_LEVEL = {
    "kabupaten": Level.KABUPATEN_KOTA,
    "kota": Level.KABUPATEN_KOTA,
    "kecamatan": Level.KECAMATAN,
    "kelurahan": Level.DESA_KELURAHAN,
    "desa": Level.DESA_KELURAHAN,
}
LEVEL_WORDS = {
    Level.PROVINSI: ("provinsi", "province"),
    Level.KABUPATEN_KOTA: ("kabupaten/kota", "regency/city"),
    Level.KECAMATAN: ("kecamatan", "district (kecamatan)"),
    Level.DESA_KELURAHAN: ("desa/kelurahan", "village (desa/kelurahan)"),
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


def split_name(text: str) -> tuple[str | None, str]:
    """(kind, key): `Kab. Banyu Asin` -> ("kabupaten", "banyuasin"), `Sungai Lilin` -> (None,
    "sungaililin"). A prefix alone (`Kota`) is a name, not a prefix."""
    m = _PREFIX.match(text)
    if m is not None and _fold(text[m.end() :]):
        word = re.split(r"[\s.]", m.group("p").casefold())[0]
        kind = "kota" if word == "kota" else _KINDS.get(word)
        return kind, _fold(text[m.end() :])
    return None, _fold(text)


def name_key(text: str) -> str:
    """The key two spellings of one name share: `Kec. Sungai Lilin` -> `sungaililin`."""
    return split_name(text)[1]


def kind_of(region: Region) -> str | None:
    """What the region is: kabupaten or kota by its name, desa or kelurahan by its code."""
    if region.level is Level.KABUPATEN_KOTA:
        return split_name(region.name)[0]
    if region.level is Level.DESA_KELURAHAN:
        return "kelurahan" if region.code[-4] == "1" else "desa"
    if region.level is Level.KECAMATAN:
        return "kecamatan"
    return None


def under(code: str, parent: str | None) -> bool:
    """`16.06.15.2001` lies under `16.06` (and under None, the whole country)."""
    return parent is None or code.startswith(parent + ".")


# --------------------------------------------------------------------------- aliases


@dataclass(frozen=True, slots=True)
class Alias:
    """One spelling a file uses for a region, and the region's code."""

    alias: str
    kode: str
    note: str = ""

    @property
    def level(self) -> Level | None:
        return level_of(self.kode)


@dataclass(frozen=True, eq=False)
class AliasTable:
    """The reviewed aliases, by key. `source` says where they come from, for messages."""

    aliases: tuple[Alias, ...] = ()
    source: str = "catalog/aliases.yaml"
    _by_key: Mapping[str, tuple[Alias, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_key: dict[str, list[Alias]] = defaultdict(list)
        for a in self.aliases:
            by_key[name_key(a.alias)].append(a)
        object.__setattr__(self, "_by_key", {k: tuple(v) for k, v in by_key.items()})

    def lookup(self, text: str, parent: str | None, level: Level) -> tuple[Alias, ...]:
        """The aliases spelled like `text` for a region of `level` under `parent`."""
        return tuple(
            a
            for a in self._by_key.get(name_key(text), ())
            if a.level is level and under(a.kode, parent)
        )

    def __len__(self) -> int:
        return len(self.aliases)


NO_ALIASES = AliasTable()


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class NameMatch:
    """What a name is among the regions of one level under one parent."""

    asked: str
    region: Region | None  # the one region it names; None if unmatched or ambiguous
    via: str  # "name" or "alias" when matched, "" otherwise
    alias: Alias | None  # the alias used
    ambiguous: bool  # several regions carry the name
    candidates: tuple[Region, ...]  # ambiguous: those regions; unmatched: the closest names

    @property
    def matched(self) -> bool:
        return self.region is not None

    @property
    def exact(self) -> bool:
        """Matched by a name spelled exactly as Kemendagri spells it (case aside)."""
        return (
            self.region is not None
            and self.via == "name"
            and " ".join(self.asked.casefold().split())
            == " ".join(self.region.name.casefold().split())
        )


@dataclass(frozen=True, eq=False)
class NameIndex:
    """The current regions of one level under one parent, by key."""

    parent: str | None
    level: Level
    regions: tuple[Region, ...]
    _by_key: Mapping[str, tuple[Region, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_key: dict[str, list[Region]] = defaultdict(list)
        for r in self.regions:
            by_key[name_key(r.name)].append(r)
        object.__setattr__(self, "_by_key", {k: tuple(v) for k, v in by_key.items()})

    def by_key(self, text: str) -> tuple[Region, ...]:
        """The regions whose name has `text`'s key, narrowed by its kind when several do."""
        kind, key = split_name(text)
        found = self._by_key.get(key, ())
        if kind is not None and _KIND_LEVEL[kind] is not self.level:
            return ()  # 'Kabupaten Muara Enim' is not kecamatan Muara Enim: the prefix says so
        if len(found) > 1 and kind is not None:
            narrowed = tuple(r for r in found if kind_of(r) == kind)
            found = narrowed or found
        return found

    def closest(self, text: str, n: int = 3) -> tuple[Region, ...]:
        """The regions whose names are spelled most like `text` (only to name them)."""
        key = name_key(text)
        keys = difflib.get_close_matches(key, list(self._by_key), n=n, cutoff=0.6)
        return tuple(r for k in keys for r in self._by_key[k])[:n]


def index(regions: Iterable[Region], parent: str | None, level: Level) -> NameIndex:
    return NameIndex(
        parent, level, tuple(r for r in regions if r.level is level and under(r.code, parent))
    )


def match_name(
    text: str, names: NameIndex, aliases: AliasTable = NO_ALIASES, *, suggest: bool = True
) -> NameMatch:
    """`text` among `names`: by key, then by alias, else unmatched with the closest named
    (`suggest`: look for them; counting matches needs no suggestions)."""
    found = names.by_key(text)
    if len(found) == 1:
        return NameMatch(text, found[0], "name", None, False, ())
    if len(found) > 1:
        return NameMatch(text, None, "", None, True, found)
    hits = aliases.lookup(text, names.parent, names.level)
    codes = sorted({a.kode for a in hits})
    if len(codes) == 1:
        region = next((r for r in names.regions if r.code == codes[0]), None)
        if region is not None:
            return NameMatch(text, region, "alias", hits[0], False, ())
    if len(codes) > 1:
        regions = tuple(r for r in names.regions if r.code in codes)
        return NameMatch(text, None, "", None, True, regions)
    return NameMatch(text, None, "", None, False, names.closest(text) if suggest else ())


def describe(regions: Sequence[Region]) -> str:
    """`Sungai Lilin (16.06.05), Lais (16.06.04)`."""
    return ", ".join(f"{r.name} ({r.code})" for r in regions)


def parent_name(code: str | None, current: Mapping[str, Region]) -> str:
    """`Kabupaten Musi Banyuasin (16.06)`; the code alone when unknown, `Indonesia` for None."""
    if code is None:
        return "Indonesia"
    region = current.get(code)
    return f"{region.name} ({code})" if region is not None else code


__all__ = [
    "LEVEL_WORDS",
    "NO_ALIASES",
    "Alias",
    "AliasTable",
    "NameIndex",
    "NameMatch",
    "describe",
    "index",
    "kind_of",
    "match_name",
    "name_key",
    "parent_name",
    "split_name",
    "under",
]
