"""The region column read as the catalog declares it: Kemendagri codes, BPS codes or names,
each resolved to the current Kemendagri code, and never guessed.

The rules, per `region.scheme` (`serasan.config.regions` documents the catalog fields):

* `kemendagri` (default): dotted codes, with spaces and lost leading zeros repaired
  (`32. 04. 05`, `16.6.1`); undotted codes of 2, 4 or 6 digits get their dots. A 10-digit value
  without dots is refused unless the catalog says `undotted: true`: BPS `PPKKCCCDDD` and
  Kemendagri `PPKKCCDDDD` are both 10 digits, and reading one as the other turns villages into
  other real villages. The message gives both readings and names the `scheme: bps` fix.
* `bps`: the value is a BPS code of the declared level (4, 7 or 10 digits), mapped through the
  BPS crosswalk rebuilt against current codes (`serasan.reference.resolve.rebuild_crosswalk`):
  1606031007 (Jirak) -> 16.06.15.2001. No entry, no match or several candidates: refused,
  saying what was looked up where.
* `name`: the value is a region name, resolved among the current regions of the declared level
  under its parent (the dataset's regency, or the kecamatan that `parent_column` names) by
  `serasan.reference.names`: prefixes, case, spaces and punctuation aside, then the catalog's
  alias table. Unmatched or ambiguous names are refused naming the closest candidates.

Whatever the scheme, a code that was superseded (`serasan.reference.history`) becomes the
current code (the file's own value stays in `source_column`, when declared); one that split
ambiguously or was removed is refused naming the candidates; one whose area changed after the
row's year is kept and flagged in the notes. When `name_column` is declared, the row's name is
checked against the code: a name that is another region's is refused, naming both.

A file is refused as a whole when under `region_match_min` (0.5) of its distinct values resolve
under the declared scheme while at least `region_other_min` (0.9) resolve under another
(`SERASAN_REGION_MATCH_MIN`, `SERASAN_REGION_OTHER_MIN`): a BPS file under the default scheme
does not load the 15 % of its codes that happen to be Kemendagri codes of other villages.

Entry points: `RowResolver` (the parser's, one per file), `resolve_column` (a column at once,
for quality checks and onboarding), `detect_scheme` and `check_scheme`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from serasan.parse.sniff import ParseError
from serasan.reference import provinces
from serasan.reference.names import (
    LEVEL_WORDS,
    NO_ALIASES,
    AliasTable,
    describe,
    match_name,
    name_key,
    parent_name,
    split_name,
    under,
)
from serasan.reference.resolve import CrosswalkStatus
from serasan.reference.versions import (
    CURRENT,
    Level,
    kabupaten_of,
    level_of,
    parent_of,
    version_in_force,
)

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset, RegionSpec

Scheme = Literal["kemendagri", "bps", "name"]
SCHEMES: tuple[Scheme, ...] = ("kemendagri", "bps", "name")
SCHEME_WORDS: dict[str, tuple[str, str]] = {
    "kemendagri": ("kode Kemendagri", "Kemendagri codes"),
    "bps": ("kode BPS", "BPS codes"),
    "name": ("nama wilayah", "region names"),
}
BPS_LENGTHS = {
    Level.PROVINSI: 2,
    Level.KABUPATEN_KOTA: 4,
    Level.KECAMATAN: 7,
    Level.DESA_KELURAHAN: 10,
}
_WIDTHS = (2, 2, 2, 4)  # Kemendagri: provinsi.kabupaten.kecamatan.desa
_KODE_OK = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
_CODE_LIKE = re.compile(r"^[\d.\s]+$")
_REFERENCE = f"kode wilayah {CURRENT.regulation}, serasan/reference/data"
_REFERENCE_EN = f"the region codes of {CURRENT.regulation}, serasan/reference/data"


def _level(spec_level: str) -> Level:
    return Level(spec_level)


def _words(level: Level) -> tuple[str, str]:
    return LEVEL_WORDS[level]


def normalise_kode(value: str | None, *, undotted: bool = False) -> str | None:
    """A Kemendagri code as files write it, in dotted form; anything else unchanged.

    `32. 04. 05` -> `32.04.05`, `16.6.1` -> `16.06.01`, `1606` -> `16.06`, `160601` ->
    `16.06.01`. A 10-digit value is dotted (`1606152001` -> `16.06.15.2001`) only with
    `undotted`: it could be a BPS code. Nothing else is rebuilt.
    """
    if value is None:
        return None
    v = value.strip()
    if _KODE_OK.match(v):
        return v
    if _CODE_LIKE.match(v):
        v = "".join(v.split())
    if v.isdigit() and (len(v) in (2, 4, 6) or (undotted and len(v) == 10)):
        parts, i = [], 0
        for w in _WIDTHS:
            if i < len(v):
                parts.append(v[i : i + w])
                i += w
        return ".".join(parts)
    parts = v.split(".")
    if 1 < len(parts) <= 4 and all(p.isdigit() for p in parts):
        return ".".join(
            p.zfill(w) if len(p) <= w else p for p, w in zip(parts, _WIDTHS, strict=False)
        )
    return v


# --------------------------------------------------------------------------- one value


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one value is: a current code, or why not (Bahasa Indonesia and English)."""

    code: str | None  # the code to load; None: refused
    why_id: str = ""  # refused: what was looked up where; else how it resolved, if notable
    why_en: str = ""
    how: str = ""  # "", superseded, crosswalk_moved, alias, name, undotted, unchecked
    area_changed: bool = False
    original: str | None = None  # the code that was superseded (superseded, crosswalk_moved)
    column: str | None = None  # refused because of this column (None: the region column)
    name_differs: str | None = None  # the file's name for it, unlike the Kemendagri name

    @property
    def ok(self) -> bool:
        return self.code is not None


def _refuse(why_id: str, why_en: str, column: str | None = None) -> Outcome:
    return Outcome(None, why_id, why_en, column=column)


def _history(code: str, year: int | None, how: str = "", original: str | None = None) -> Outcome:
    """A dotted code through the code history of its province."""
    r = provinces.resolve_code(code, year)
    if r is None or r.unknown:
        return Outcome(code, how=how or "unchecked", original=original)
    if r.current_code is None:  # ambiguous split, removed, or a code since reused
        return _refuse(r.message_id, r.message_en)
    if r.superseded:
        return Outcome(
            r.current_code,
            r.message_id,
            r.message_en,
            how="superseded",
            area_changed=r.area_changed,
            original=original or code,
        )
    if r.area_changed:
        return Outcome(code, r.message_id, r.message_en, how or "", True, original)
    return Outcome(code, how=how, original=original)


def _bps_reading(digits: str) -> tuple[str, str]:
    """What a 10-digit value is as a BPS code: its current Kemendagri code, or why none."""
    entry = provinces.bps_entry(digits)
    if entry is None or entry.kemendagri_code is None:
        return (
            f"sebagai kode BPS, {digits} tidak ada padanannya di kode Kemendagri",
            f"as a BPS code, {digits} has no Kemendagri match",
        )
    region = provinces.current_region(entry.kemendagri_code)
    name = f" ({region.name})" if region is not None else ""
    return (
        f"sebagai kode BPS (kecamatan BPS {digits[:7]}, desa {digits[7:]}) berarti "
        f"{entry.kemendagri_code}{name}",
        f"as a BPS code (BPS kecamatan {digits[:7]}, village {digits[7:]}) it means "
        f"{entry.kemendagri_code}{name}",
    )


def _undotted_reading(digits: str) -> tuple[str, str]:
    dotted = normalise_kode(digits, undotted=True) or digits
    region = provinces.current_region(dotted)
    r = provinces.resolve_code(dotted)
    if region is not None:
        what_id = what_en = f"{dotted} ({region.name})"
    elif r is not None and r.current_code is not None and not r.unknown:
        what_id = f"{dotted}, kini {r.current_code} ({r.current_name})"
        what_en = f"{dotted}, now {r.current_code} ({r.current_name})"
    else:
        what_id, what_en = f"{dotted}, yang tidak ada", f"{dotted}, which does not exist"
    return (
        f"sebagai kode Kemendagri tanpa titik berarti {what_id}",
        f"as an undotted Kemendagri code it means {what_en}",
    )


def resolve_kemendagri(value: str, year: int | None = None, *, undotted: bool = False) -> Outcome:
    """A Kemendagri code as the file wrote it."""
    compact = "".join(value.split()) if _CODE_LIKE.match(value) else value.strip()
    if compact.isdigit() and len(compact) == 10 and not undotted:
        bps_id, bps_en = _bps_reading(compact)
        kem_id, kem_en = _undotted_reading(compact)
        return _refuse(
            f"{compact} adalah 10 angka tanpa titik, yang bisa dibaca dua cara: {kem_id}; "
            f"{bps_id}. Serasan tidak menebak: bila file memakai kode BPS, nyatakan "
            "`scheme: bps` di blok region katalog; bila kode Kemendagri tanpa titik, nyatakan "
            "`undotted: true`",
            f"{compact} is 10 digits without dots, which reads two ways: {kem_en}; {bps_en}. "
            "Serasan does not guess: if the file carries BPS codes, declare `scheme: bps` in "
            "the catalog's region block; if undotted Kemendagri codes, `undotted: true`",
        )
    code = normalise_kode(compact, undotted=undotted) or compact
    if level_of(code) is None:
        return Outcome(code, how="unchecked")  # not a code: the suite says what is wrong
    how = "undotted" if compact.isdigit() and len(compact) == 10 else ""
    return _history(code, year, how)


def resolve_bps(value: str, level: Level, year: int | None = None) -> Outcome:
    """A BPS code, through the crosswalk carried to current Kemendagri codes."""
    digits = "".join(value.split())
    length = BPS_LENGTHS[level]
    lvl_id, lvl_en = _words(level)
    if not digits.isdigit() or len(digits) != length:
        return _refuse(
            f"kode BPS {lvl_id} ditulis {length} angka tanpa titik, misalnya "
            f"{'1606031007'[:length]}",
            f"a BPS {lvl_en} code is {length} digits without dots, such as {'1606031007'[:length]}",
        )
    p = provinces.province_of(digits)
    if p is None:
        shipped = ", ".join(f"{k} {f.name}" for k, f in provinces.SHIPPED.items())
        return _refuse(
            f"kode BPS {digits}: Serasan tidak memiliki crosswalk BPS-Kemendagri untuk provinsi "
            f"{digits[:2]} (tersedia: {shipped})",
            f"BPS code {digits}: Serasan has no BPS-Kemendagri crosswalk for province "
            f"{digits[:2]} (shipped: {shipped})",
        )
    entry = p.crosswalk.get(digits)
    if entry is None:
        return _refuse(
            f"kode BPS {digits} tidak ada di {p.crosswalk_label('id')}",
            f"BPS code {digits} is not in the {p.crosswalk_label('en')}",
        )
    if entry.status is CrosswalkStatus.UNMATCHED or (
        entry.kemendagri_code is None and not entry.candidates
    ):
        return _refuse(
            f"kode BPS {digits} tidak ada padanannya di kode Kemendagri "
            f"({p.crosswalk_label('id')}): {entry.reason}",
            f"BPS code {digits} has no Kemendagri match ({p.crosswalk_label('en')}): "
            f"{entry.reason}",
        )
    if entry.kemendagri_code is None:
        cands = [(c, provinces.current_region(c)) for c in entry.candidates]
        listed = ", ".join(f"{c} ({r.name})" if r else c for c, r in cands)
        return _refuse(
            f"kode BPS {digits} bisa berarti beberapa kode Kemendagri: {listed} "
            f"({p.crosswalk_label('id')}: {entry.reason}); Serasan tidak menebak: tulis kode "
            "Kemendagri-nya",
            f"BPS code {digits} could mean several Kemendagri codes: {listed} "
            f"({p.crosswalk_label('en')}: {entry.reason}); Serasan does not guess: write the "
            "Kemendagri code",
        )
    code = entry.kemendagri_code
    if entry.status is CrosswalkStatus.MOVED:
        region = provinces.current_region(code)
        name = f" ({region.name})" if region is not None else ""
        out = _history(code, year, "crosswalk_moved", entry.source_code)
        return Outcome(
            code,
            f"kode BPS {digits} -> {code}{name}; crosswalk sumber memberi {entry.source_code}, "
            f"yang tidak berlaku lagi ({entry.reason})",
            f"BPS code {digits} -> {code}{name}; the source crosswalk gave {entry.source_code}, "
            f"no longer valid ({entry.reason})",
            "crosswalk_moved",
            out.area_changed,
            entry.source_code,
        )
    return _history(code, year, "crosswalk")


def _name_as_of(value: str, level: Level, parent: str, year: int) -> Outcome | None:
    """A name of a row of `year` in the version then in force (None: it names no region of
    that version, or the version is the current one), carried to today's code."""
    if version_in_force(year) is CURRENT:
        return None
    names = provinces.name_index_as_of(parent, level, year)
    if names is None:
        return None
    m = match_name(value, names, suggest=False)
    if m.ambiguous:
        lvl_id, lvl_en = _words(level)
        v = version_in_force(year)
        return _refuse(
            f"nama {value!r} cocok dengan beberapa {lvl_id} pada kode wilayah {v.regulation} "
            f"(berlaku tahun {year}): {describe(m.candidates)}; Serasan tidak memilih",
            f"name {value!r} matches several {lvl_en}s in the codes of {v.regulation} (in "
            f"force in {year}): {describe(m.candidates)}; Serasan does not choose",
        )
    if m.region is None:
        return None
    now = provinces.current_region(m.region.code)
    if now is not None and name_key(now.name) == name_key(m.region.name):
        return None  # the same name today: the current index reads it (and says so)
    out = _history(m.region.code, year)
    if not out.ok:
        return out
    v = version_in_force(year)
    then_id = f"{value!r} adalah nama {m.region.code} pada {v.regulation} (berlaku tahun {year})"
    then_en = f"{value!r} is the name of {m.region.code} in {v.regulation} (in force in {year})"
    region = provinces.current_region(out.code or "")
    now_id = f", kini {out.code} ({region.name})" if region is not None else ""
    now_en = f", now {out.code} ({region.name})" if region is not None else ""
    return replace(
        out,
        why_id=then_id + now_id + (f"; {out.why_id}" if out.why_id else ""),
        why_en=then_en + now_en + (f"; {out.why_en}" if out.why_en else ""),
        how="former_name",
    )


def resolve_name(
    value: str,
    level: Level,
    parent: str,
    aliases: AliasTable = NO_ALIASES,
    *,
    suggest: bool = True,
    year: int | None = None,
) -> Outcome:
    """A region name among the regions of `level` under `parent`: those of the version in force
    in `year` first (a 2018 row's names are 2018's), then the current ones (`suggest`: name the
    closest regions when it matches none)."""
    if year is not None:
        past = _name_as_of(value, level, parent, year)
        if past is not None:
            return past
    lvl_id, lvl_en = _words(level)
    names = provinces.name_index(parent, level)
    if names is None:
        return _refuse(
            f"Serasan tidak memiliki kode wilayah provinsi {parent[:2]}: nama {value!r} tidak "
            "dapat dicari",
            f"Serasan ships no region codes of province {parent[:2]}: name {value!r} cannot be "
            "looked up",
        )
    current = provinces.province_of(parent)
    regions = current.current.regions if current is not None else {}
    where = parent_name(parent, regions)
    m = match_name(value, names, aliases, suggest=suggest)
    if m.region is not None:
        if m.via == "alias":
            return Outcome(
                m.region.code,
                f"{value!r} dibaca sebagai {m.region.name} ({m.region.code}) melalui alias di "
                f"{aliases.source}",
                f"{value!r} read as {m.region.name} ({m.region.code}) through the alias in "
                f"{aliases.source}",
                "alias",
            )
        if not m.exact:
            return Outcome(
                m.region.code,
                f"{value!r} dibaca sebagai {m.region.name} ({m.region.code})",
                f"{value!r} read as {m.region.name} ({m.region.code})",
                "name",
            )
        return Outcome(m.region.code)
    if m.ambiguous:
        return _refuse(
            f"nama {value!r} cocok dengan beberapa {lvl_id} di {where}: "
            f"{describe(m.candidates)}; Serasan tidak memilih: tulis nama lengkapnya "
            "(Kabupaten/Kota ...) atau kodenya",
            f"name {value!r} matches several {lvl_en}s in {where}: {describe(m.candidates)}; "
            "Serasan does not choose: write the full name (Kabupaten/Kota ...) or the code",
        )
    close_id = f"; yang paling mirip: {describe(m.candidates)}" if m.candidates else ""
    close_en = f"; closest: {describe(m.candidates)}" if m.candidates else ""
    return _refuse(
        f"tidak ada {lvl_id} bernama {value!r} di {where} ({_REFERENCE}) maupun di alias "
        f"{aliases.source}{close_id}. Bila itu nama lain dari salah satunya, tambahkan alias",
        f"no {lvl_en} named {value!r} in {where} ({_REFERENCE_EN}) nor among the aliases in "
        f"{aliases.source}{close_en}. If it is another spelling of one of them, add an alias",
    )


def check_name(
    code: str, name: str, column: str, original: str | None = None, year: int | None = None
) -> Outcome | None:
    """The file's name for the region of `code`: None if it agrees (or cannot be judged), an
    Outcome refusing the row if it is another region's name, one with how='name_differs' if it
    is no region's name (a misspelling: loaded, and listed in the notes). A row of `year` may
    name the region as the version then in force did."""
    region = provinces.current_region(code)
    key = name_key(name)
    if region is None or not key or key == name_key(region.name):
        return None
    if year is not None:
        then = provinces.region_as_of(original or code, year)
        if then is not None and key == name_key(then.name):
            return None
    if original is not None:  # the name the superseded code had
        p = provinces.province_of(original)
        olds = {c.old_name for c in p.history.changes_for(original)} if p is not None else set()
        if key in {name_key(n) for n in olds}:
            return None
    scope = kabupaten_of(code) if region.level in (Level.KECAMATAN, Level.DESA_KELURAHAN) else None
    scope = scope or parent_of(code) or code[:2]
    index = provinces.name_index(scope, region.level)
    others = [r for r in (index.by_key(name) if index is not None else ()) if r.code != code]
    if others:
        lvl_id, lvl_en = _words(region.level)
        return _refuse(
            f"kode {code} adalah {region.name}, tetapi kolom '{column}' menulis {name!r}, nama "
            f"{lvl_id} lain: {describe(others)}. Serasan tidak memilih salah satunya: periksa "
            "kode dan nama di file",
            f"code {code} is {region.name}, but column '{column}' says {name!r}, the name of "
            f"another {lvl_en}: {describe(others)}. Serasan does not pick one: check the code "
            "and the name in the file",
        )
    return Outcome(code, name_differs=name)


# how a value resolved that the notes tell (besides area changes and names that differ)
_NOTABLE = frozenset({"superseded", "crosswalk_moved", "alias", "name", "undotted", "former_name"})


# --------------------------------------------------------------------------- strictness


def judge(outcome: Outcome, level: Level, scope: str | None) -> Outcome:
    """Strict reading (quality checks, scheme detection): a current code of `level` inside
    `scope`, or refused saying which of the three it is not."""
    if not outcome.ok:
        return outcome
    code = outcome.code or ""
    lvl_id, lvl_en = _words(level)
    if provinces.province_of(code) is None:
        return _refuse(
            f"{code}: Serasan tidak memiliki kode wilayah provinsi {code[:2]}",
            f"{code}: Serasan ships no region codes of province {code[:2]}",
        )
    region = provinces.current_region(code)
    if region is None:
        return _refuse(
            f"{code} bukan kode {lvl_id} yang berlaku ({_REFERENCE})",
            f"{code} is not a current {lvl_en} code ({_REFERENCE_EN})",
        )
    if region.level is not level:
        return _refuse(
            f"{code} ({region.name}) adalah kode {_words(region.level)[0]}, bukan {lvl_id}",
            f"{code} ({region.name}) is a {_words(region.level)[1]} code, not a {lvl_en}",
        )
    if scope and not under(code, scope):
        return _refuse(
            f"{code} ({region.name}) berada di luar wilayah dataset ini ({scope})",
            f"{code} ({region.name}) lies outside this dataset's area ({scope})",
        )
    return outcome


# --------------------------------------------------------------------------- a whole file


def _year(value: Any) -> int | None:
    if isinstance(value, dt.date):
        return value.year
    if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2200:
        return value
    return None


RowKey = tuple[str, Any, Any, int | None]  # a row's (value, parent, name, year)


@dataclass(frozen=True, slots=True)
class Miss:
    """A row the region rules refuse: the column, what was expected, and why this value."""

    column: str
    expected_id: str
    expected_en: str
    detail: tuple[str, str]
    total_of: str | None = None  # the value names the dataset's whole area: its total row


@dataclass(frozen=True, slots=True)
class SchemeMismatch:
    """The file is written in another scheme than the catalog declares."""

    declared: str
    likely: str
    total: int
    declared_count: int
    likely_count: int
    message: str  # Bahasa Indonesia (English)


class RowResolver:
    """The region rules for one file: the parser calls `apply` on each row's converted values,
    then `finish` (which raises ParseError on a scheme mismatch) and `notes`."""

    def __init__(
        self,
        spec: RegionSpec,
        regency: str,
        columns: Sequence[str],
        *,
        period_column: str | None = None,
        headers: dict[str, str] | None = None,
        aliases: AliasTable = NO_ALIASES,
        strict: bool = False,
        match_min: float | None = None,
        other_min: float | None = None,
        dataset_id: str = "",
    ):
        self.spec = spec
        self.level = _level(spec.level)
        self.regency = regency
        self.aliases = aliases
        self.strict = strict
        self.dataset_id = dataset_id
        self.headers = headers or {}
        pos = {name: i for i, name in enumerate(columns)}
        self.i_region = pos[spec.column]
        self.i_parent = pos.get(spec.parent_column) if spec.parent_column else None
        self.i_name = pos.get(spec.name_column) if spec.name_column else None
        self.i_source = pos.get(spec.source_column) if spec.source_column else None
        self.i_period = pos.get(period_column) if period_column else None
        if match_min is None or other_min is None:
            from serasan.config.settings import Settings

            s = Settings.from_env()
            match_min = s.region_match_min if match_min is None else match_min
            other_min = s.region_other_min if other_min is None else other_min
        self.match_min, self.other_min = match_min, other_min
        lvl_id, lvl_en = _words(self.level)
        scheme_id, scheme_en = SCHEME_WORDS[spec.scheme]
        self.expected = (f"{scheme_id} {lvl_id}", f"{scheme_en[:-1]} of a {lvl_en}")
        self._cache: dict[tuple[str, str | None, str | None, int | None], Outcome] = {}
        self._rows: dict[tuple[Any, Any, Any, int | None], tuple[Outcome, bool]] = {}
        self._parents: dict[tuple[str, int | None], Outcome] = {}
        self._seen: dict[tuple[str, str | None], bool] = {}  # distinct (value, parent) -> ok
        self._how: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
        self._flags: dict[str, str] = {}  # area_changed code -> message (English)
        self.row = 0  # the row being read, for deferred counting
        self.events: list[tuple[int, RowKey, int]] | None = None

    def header(self, column: str | None) -> str:
        name = column or self.spec.column
        return self.headers.get(name, name)

    # -- one value

    def _parent(self, raw: str | None, year: int | None = None) -> Outcome:
        """The kecamatan a `parent_column` value names (a name or a dotted code), in the
        version in force in the row's `year`."""
        column = self.spec.parent_column
        if raw is None:
            return _refuse(
                f"kolom '{self.header(column)}' kosong: nama desa dicari di dalam kecamatannya",
                f"column '{self.header(column)}' is empty: a village name is looked up within "
                "its kecamatan",
                column,
            )
        if (raw, year) not in self._parents:
            if _CODE_LIKE.match(raw) and "." in raw:
                found = judge(resolve_kemendagri(raw, year), Level.KECAMATAN, self.regency)
            else:
                found = resolve_name(raw, Level.KECAMATAN, self.regency, self.aliases, year=year)
            if not found.ok:
                found = _refuse(
                    f"kecamatan di kolom '{self.header(column)}': {found.why_id}",
                    f"the kecamatan in column '{self.header(column)}': {found.why_en}",
                    column,
                )
            self._parents[(raw, year)] = found
        return self._parents[(raw, year)]

    def resolve(
        self,
        raw: str,
        parent: str | None = None,
        name: str | None = None,
        year: int | None = None,
    ) -> Outcome:
        """One value (with its row's parent, name and year) under the declared scheme."""
        key = (raw, parent, name, year)
        found = self._cache.get(key)
        if found is not None:
            return found
        scheme = self.spec.scheme
        if scheme == "bps":
            out = resolve_bps(raw, self.level, year)
        elif scheme == "name":
            where = self._parent(parent, year) if self.spec.parent_column else Outcome(self.regency)
            # a village of an earlier year is looked up in its kecamatan as that year coded it
            within = where.original or where.code if year is not None else where.code
            out = (
                resolve_name(raw, self.level, within, self.aliases, year=year)
                if within is not None
                else where
            )
        else:
            out = resolve_kemendagri(raw, year, undotted=self.spec.undotted)
        if self.strict:
            out = judge(out, self.level, self.regency)
        if out.ok and name is not None and self.spec.name_column:
            checked = check_name(
                out.code or "", name, self.header(self.spec.name_column), out.original, year
            )
            if checked is not None and not checked.ok:
                out = checked
            elif checked is not None:
                out = replace(out, name_differs=name)
        self._cache[key] = out
        return out

    def record(self, raw: str, out: Outcome, rows: int = 1) -> None:
        """Count what `rows` rows' value did that the notes tell."""
        code = out.code or ""
        if out.how in _NOTABLE:
            self._how[out.how][(raw, code, out.why_en if out.how != "undotted" else "")] += rows
        if out.name_differs is not None:
            self._how["name_differs"][(out.name_differs, code, "")] += rows
        if out.area_changed:
            self._flags.setdefault(code, out.why_en)

    def lookup(self, key: RowKey) -> tuple[Outcome, bool]:
        """The outcome of a row's (value, parent, name, year), and whether the notes tell it:
        resolved once per file, without counting anything."""
        hit = self._rows.get(key)
        if hit is None:  # a value (with its parent, name and year) not met before in this file
            out = self.resolve(*key)
            notable = out.ok and (
                out.how in _NOTABLE or out.area_changed or out.name_differs is not None
            )
            hit = self._rows[key] = (out, notable)
        return hit

    def count(self, key: RowKey, rows: int = 1) -> None:
        """Count `rows` rows of `key` for the scheme check and the notes. Deferred (kept as
        events with the row number in `row`) while `events` is a list, so that a reader that
        meets rows out of order can replay them in the file's order (`replay`)."""
        if self.events is not None:
            self.events.append((self.row, key, rows))
            return
        out, notable = self.lookup(key)
        self._seen.setdefault((key[0], key[1]), out.ok)
        if notable:
            self.record(key[0], out, rows)

    def replay(self, events: list[tuple[int, RowKey, int]]) -> None:
        """Count deferred rows as if met in the file's order: by each key's first row."""
        first: dict[RowKey, int] = {}
        total: Counter[RowKey] = Counter()
        for row, key, rows in events:
            if key not in first or row < first[key]:
                first[key] = row
            total[key] += rows
        for key in sorted(first, key=first.__getitem__):
            self.count(key, total[key])

    def key(self, columns: list[list[Any]]) -> RowKey | None:
        raw = columns[self.i_region][-1]
        if raw is None:
            return None
        if type(raw) is not str:
            raw = str(raw)
        parent = columns[self.i_parent][-1] if self.i_parent is not None else None
        name = columns[self.i_name][-1] if self.i_name is not None else None
        year = _year(columns[self.i_period][-1]) if self.i_period is not None else None
        return (raw, parent, name, year)

    def miss(self, raw: str, out: Outcome) -> Miss:
        total = area_total(raw, self.regency) if out.column is None else None
        return Miss(out.column or self.spec.column, *self.expected, (out.why_id, out.why_en), total)

    def apply(self, columns: list[list[Any]]) -> Miss | None:
        """The region value of the row just converted (the last of each column's list) replaced
        by its current code, the file's value copied to `source_column`; a Miss if refused."""
        key = self.key(columns)
        if key is None:
            return None
        out, _ = self.lookup(key)
        self.count(key)
        if not out.ok:
            return self.miss(key[0], out)
        columns[self.i_region][-1] = out.code
        if self.i_source is not None:
            columns[self.i_source][-1] = key[0]
        return None

    # -- the whole file

    def mismatch(self) -> SchemeMismatch | None:
        """The declared scheme against the others, over the file's distinct values."""
        if not self._seen:
            return None
        values = [v for v, _ in self._seen]
        parents = [p for _, p in self._seen]
        counts = detect_scheme(
            values,
            self.regency,
            self.spec.level,
            parents=parents if self.spec.parent_column else None,
            aliases=self.aliases,
        )
        total = len(self._seen)
        declared = counts[self.spec.scheme]
        if declared >= self.match_min * total:
            return None
        others = [(n, s) for s, n in counts.items() if s != self.spec.scheme]
        best, likely = max(others)
        if best < self.other_min * total or best == 0:
            return None
        col = self.header(None)
        d_id, d_en = SCHEME_WORDS[self.spec.scheme]
        l_id, l_en = SCHEME_WORDS[likely]
        where = f" (catalog/datasets/{self.dataset_id}.yaml)" if self.dataset_id else ""
        fix = f"`scheme: {likely}`" + (" dengan `undotted: true`" if likely == "kemendagri" else "")
        fix_en = f"`scheme: {likely}`" + (
            " with `undotted: true`" if likely == "kemendagri" else ""
        )
        message = (
            f"kolom '{col}' tampaknya berisi {l_id}, bukan {d_id} seperti dinyatakan katalog "
            f"(scheme: {self.spec.scheme}): dari {total} nilai berbeda, hanya {declared} "
            f"({declared / total:.0%}) terbaca sebagai {d_id}, sedangkan {best} "
            f"({best / total:.0%}) terbaca sebagai {l_id}. Serasan tidak memuat yang kebetulan "
            f"cocok; bila file memang begitu, nyatakan {fix} di blok region{where} "
            f"(column '{col}' looks like {l_en}, not the {d_en} the catalog declares: of "
            f"{total} distinct values only {declared} resolve as {d_en}, and {best} as {l_en}; "
            f"nothing is loaded from it: declare {fix_en} in the region block if the file is "
            f"written so; thresholds SERASAN_REGION_MATCH_MIN={self.match_min}, "
            f"SERASAN_REGION_OTHER_MIN={self.other_min})"
        )
        return SchemeMismatch(self.spec.scheme, likely, total, declared, best, message)

    def finish(self, filename: str) -> None:
        """Raise ParseError when the file is written in another scheme than declared."""
        found = self.mismatch()
        if found is not None:
            raise ParseError(f"{filename}: {found.message}")

    @property
    def area_changed(self) -> dict[str, str]:
        """Codes loaded whose area changed after the rows' year, with the history's words."""
        return dict(self._flags)

    def notes(self) -> list[str]:
        """What the rules did that the walidata should know, one line each."""
        col = self.header(None)
        kept = (
            f"; nilai asli disimpan di kolom '{self.header(self.spec.source_column)}'"
            if self.spec.source_column
            else ""
        )
        kept_en = (
            f"; the file's values are kept in column '{self.header(self.spec.source_column)}'"
            if self.spec.source_column
            else ""
        )
        out: list[str] = []
        words = {
            "superseded": ("kode lama diganti kode sekarang", "superseded codes replaced"),
            "crosswalk_moved": (
                "kode BPS yang padanannya sudah berganti kode",
                "BPS codes whose Kemendagri match was renumbered",
            ),
            "alias": ("nama dibaca melalui alias", "names read through an alias"),
            "name": ("nama dibaca setelah dinormalkan", "names read once normalised"),
            "former_name": (
                "nama lama, dibaca pada kode wilayah yang berlaku tahun barisnya",
                "earlier names, read in the codes in force in their row's year",
            ),
            "undotted": (
                "kode Kemendagri tanpa titik diberi titik (undotted: true)",
                "undotted Kemendagri codes dotted (undotted: true)",
            ),
            "name_differs": (
                "nama tidak sama dengan nama Kemendagri untuk kodenya (dimuat; periksa ejaannya)",
                "names unlike the Kemendagri name of their code (loaded; check the spelling)",
            ),
        }
        for how, (w_id, w_en) in words.items():
            seen = self._how.get(how)
            if not seen:
                continue
            rows = sum(seen.values())
            shown = [f"{raw!r} -> {code}" if how != "alias" else why for (raw, code, why) in seen][
                :5
            ]
            more = f", +{len(seen) - 5}" if len(seen) > 5 else ""
            extra_id = kept if how in ("superseded", "crosswalk_moved") else ""
            extra_en = kept_en if how in ("superseded", "crosswalk_moved") else ""
            out.append(
                f"kolom '{col}': {w_id}, {len(seen)} nilai pada {rows} baris{extra_id} "
                f"(column '{col}': {w_en}, {len(seen)} values in {rows} rows{extra_en}): "
                f"{'; '.join(shown)}{more}"
            )
        for code, why in sorted(self._flags.items()):
            out.append(
                f"kolom '{col}': wilayah {code} berubah; deret waktu melewati perubahan itu tidak "
                f"sebanding (column '{col}': area of {code} changed): {why}"
            )
        return out


# --------------------------------------------------------------------------- for other stages


class ColumnReject(NamedTuple):
    position: int  # the index of the value in the values given
    column: str
    value: str
    reason_id: str
    reason_en: str


class ColumnResolution(NamedTuple):
    codes: list[str | None]  # the current code per value; None if empty or refused
    rejects: list[ColumnReject]
    notes: list[str]


def resolve_column(
    values: Sequence[Any],
    spec: RegionSpec,
    regency: str,
    *,
    parents: Sequence[Any] | None = None,
    names: Sequence[Any] | None = None,
    years: Sequence[Any] | None = None,
    aliases: AliasTable = NO_ALIASES,
    strict: bool = True,
) -> ColumnResolution:
    """A region column at once, as the parser reads it row by row (`strict`: also refuse codes
    that are not current codes of the level inside `regency`, which the parser leaves to the
    suite). Values are the file's text (or the parser's output: current codes resolve to
    themselves)."""
    cols = [spec.column, "__parent", "__name", "__year"]
    resolver = RowResolver(
        spec.model_copy(
            update={
                "parent_column": "__parent" if spec.parent_column else None,
                "name_column": "__name" if spec.name_column else None,
                "source_column": None,
            }
        ),
        regency,
        cols,
        period_column="__year",
        headers={
            "__parent": spec.parent_column or "",
            "__name": spec.name_column or "",
        },
        aliases=aliases,
        strict=strict,
        match_min=0.5,
        other_min=0.9,
    )
    codes: list[str | None] = []
    rejects: list[ColumnReject] = []
    for i, value in enumerate(values):
        text = None if value is None else str(value).strip() or None
        row: list[list[Any]] = [
            [text],
            [parents[i] if parents is not None else None],
            [names[i] if names is not None else None],
            [years[i] if years is not None else None],
        ]
        miss = resolver.apply(row)
        if miss is not None:
            rejects.append(ColumnReject(i, miss.column, text or "", *miss.detail))
            codes.append(None)
        else:
            codes.append(row[0][0])
    return ColumnResolution(codes, rejects, resolver.notes())


def detect_scheme(
    values: Iterable[Any],
    regency: str,
    level: str | None = None,
    *,
    parents: Sequence[Any] | None = None,
    aliases: AliasTable = NO_ALIASES,
) -> dict[str, int]:
    """How many distinct values resolve, strictly (current codes of the level inside
    `regency`), under each scheme. Kemendagri counts undotted codes (onboarding proposes
    `undotted: true` then). Without `level`, each scheme's best level counts."""
    pairs = list(
        dict.fromkeys(
            (str(v).strip(), (str(parents[i]).strip() if parents is not None else None))
            for i, v in enumerate(values)
            if v is not None and str(v).strip()
        )
    )
    levels = [Level(level)] if level else [Level.KECAMATAN, Level.DESA_KELURAHAN]
    if not level and regency.count(".") == 0:
        levels.insert(0, Level.KABUPATEN_KOTA)
    counts: dict[str, int] = {}
    for scheme in SCHEMES:
        best = 0
        for lvl in levels:
            n = 0
            parent_cache: dict[str | None, str | None] = {}
            for raw, parent in pairs:
                if scheme == "bps":
                    out = resolve_bps(raw, lvl)
                elif scheme == "name":
                    if _CODE_LIKE.match(raw):  # digits and dots are no region's name
                        continue
                    where: str | None = regency
                    if parent is not None:
                        if parent not in parent_cache:
                            p = (
                                judge(resolve_kemendagri(parent), Level.KECAMATAN, regency)
                                if _CODE_LIKE.match(parent) and "." in parent
                                else resolve_name(
                                    parent, Level.KECAMATAN, regency, aliases, suggest=False
                                )
                            )
                            parent_cache[parent] = p.code
                        where = parent_cache[parent]
                    out = (
                        resolve_name(raw, lvl, where, aliases, suggest=False)
                        if where
                        else _refuse("", "")
                    )
                else:
                    out = resolve_kemendagri(raw, undotted=True)
                n += judge(out, lvl, regency).ok
            best = max(best, n)
        counts[scheme] = best
    return counts


def check_scheme(
    values: Iterable[Any],
    spec: RegionSpec,
    regency: str,
    *,
    parents: Sequence[Any] | None = None,
    aliases: AliasTable = NO_ALIASES,
    match_min: float | None = None,
    other_min: float | None = None,
) -> SchemeMismatch | None:
    """The file-level rule on a column's values: a SchemeMismatch if the file is written in
    another scheme than `spec` declares."""
    listed = list(values)
    resolver = RowResolver(
        spec.model_copy(
            update={
                "name_column": None,
                "source_column": None,
                "parent_column": "__parent" if spec.parent_column else None,
            }
        ),
        regency,
        [spec.column, "__parent"],
        aliases=aliases,
        strict=True,
        match_min=match_min,
        other_min=other_min,
        headers={"__parent": spec.parent_column or ""},
    )
    for i, value in enumerate(listed):
        text = None if value is None else str(value).strip() or None
        parent = parents[i] if parents is not None else None
        resolver.apply([[text], [parent]])
    return resolver.mismatch()


def for_dataset(
    ds: Dataset, aliases: AliasTable = NO_ALIASES, *, strict: bool = False
) -> RowResolver | None:
    """The parser's resolver for a dataset with a region column, None without one."""
    if ds.region is None:
        return None
    return RowResolver(
        ds.region,
        ds.area,
        ds.column_names,
        period_column=ds.period.column,
        headers={c.name: c.header for c in ds.columns},
        aliases=aliases,
        strict=strict,
        dataset_id=ds.id,
    )


_DEFAULT_ALIASES: dict[str, AliasTable] = {}


def default_aliases() -> AliasTable:
    """The alias table of the catalog in SERASAN_CATALOG_DIR, read once (for callers that have
    no Catalog at hand; those that do pass `catalog.aliases`). Its problems are
    `catalog validate`'s to report: here a broken file gives no aliases."""
    from serasan.common.paths import catalog_dir
    from serasan.config.regions import load_aliases

    root = catalog_dir()
    key = str(root)
    if key not in _DEFAULT_ALIASES:
        table, problems = load_aliases(root)
        _DEFAULT_ALIASES[key] = NO_ALIASES if problems else table
    return _DEFAULT_ALIASES[key]


_PROVINCE_WORD = re.compile(r"^\s*(provinsi|prov\b\.?)\s*", re.IGNORECASE)


def area_total(raw: str, area: str) -> str | None:
    """The name of `area` when a refused region value names the area itself ('Sumatera
    Selatan' in a table by kabupaten/kota of province 16, 'Kabupaten Muara Enim' in one by
    kecamatan): the file's total row, not a region of the table. None otherwise."""
    region = provinces.current_region(area)
    if region is None:
        return None
    text = raw.strip()
    if "".join(text.split()) in (area, area.replace(".", "")):
        return region.name
    kind, key = split_name(_PROVINCE_WORD.sub("", text))
    own_kind, own_key = split_name(region.name)
    if key and key == own_key and (kind is None or kind == own_kind):
        return region.name
    return None


def fills(ds: Dataset, column: str) -> bool:
    """Whether the region rules fill this column (`source_column`), absent from the file."""
    return ds.region is not None and ds.region.source_column == column
