"""What became of each Kemendagri code, derived from consecutive published versions.

For every pair of consecutive versions (2016 -> 2018 -> ... -> 2025) the codes of the older one
that are gone from the newer one, and the kecamatan whose area moved, are classified; the steps
are then followed to the current version, so each change maps an old code straight to current
code(s), with the regulation (and year) of the version in which it changed.

The matching rules, applied to one step (older version A, newer version B):

* Names are compared normalised: case-folded, accents dropped, everything but letters and
  digits removed (`Tanjungmakmur` = `Tanjung Makmur`, `9/10 Ulu` = `9-10 Ulu`). Nothing fuzzy:
  a village renamed and moved in the same step is not matched (it comes out `removed`).
* A **village** (desa/kelurahan) code in A but not in B is matched to the codes of B of the same
  level, in the same kabupaten/kota, with the same normalised name, leaving out codes that
  already carried that name in A (those are other villages of the same name). One candidate that
  no other gone village also claims: `renumbered` (a desa moved to a new kecamatan, 16.06.03.2001
  -> 16.06.15.2001, or became a kelurahan, 16.11.02.2018 -> 16.11.02.1018).
* Where needed, **the same new parent** decides: if a village has several candidates, those
  under a kecamatan to which other villages of its old kecamatan unambiguously moved in this
  step are kept; exactly one left (and claimed by no other village): `renumbered`. This is how
  the two Mekar Sari of Banyuasin (16.07.02.2017, 16.07.04.2020) are told apart in 2020.
  Otherwise the code is `ambiguous` and carries every candidate: the history never guesses.
  No candidate at all: `removed` (merged, deleted, or renamed as it moved: review by hand).
* A **kecamatan** code in A but not in B follows its villages: all of its moved villages now in
  one kecamatan of B: `renumbered` to it; in several: `ambiguous`. With no moved villages its
  name decides as for a village; no match: `removed`.
* A kecamatan code in both A and B whose villages moved (some of its villages went to another
  kecamatan, or it received villages) is **`area_changed`**: the code stays valid but covers
  another area from B on, so a time series across that version must not be compared blindly.
  Its candidates are the current kecamatan that now hold its old area (16.03.03 Rambang Dangku
  -> 16.03.03 Rambang Niru + 16.03.26 Empat Petulai Dangku). A name change alone (a spelling,
  `KAB. MUSI BANYUASIN` -> `Kabupaten Musi Banyuasin`) is not a change of code and is not listed.
* **Kabupaten/kota and provinces** gone from B are matched first, by name across the country
  (`KAB.`/`Kabupaten` ignored): 91.01 KAB. MERAUKE -> 93.01 when Papua Selatan was formed. A
  renumbered kabupaten carries its kecamatan and villages: "the same kabupaten" above means its
  successor. A province that lost kabupaten is `area_changed` as a kecamatan is.
* Not matched by these rules: a kecamatan or village moved to another, existing kabupaten
  (`removed`); a desa split inside its kecamatan (a new desa beside the old one), which codes
  do not show and which is not flagged.

Following the steps: a code's targets in B are followed through every later step (renumbered
-> its target, ambiguous -> all candidates, removed -> dropped, area_changed -> itself). One
current code at the end and no ambiguity on the way: `renumbered`; several: `ambiguous`; none:
`removed`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from itertools import pairwise

from serasan.reference.versions import (
    Level,
    Region,
    Version,
    VersionTable,
    kabupaten_of,
    level_of,
    parent_of,
    version,
)


class ChangeKind(StrEnum):
    """What happened to an old code."""

    RENUMBERED = "renumbered"  # one current code replaces it
    AMBIGUOUS = "ambiguous"  # several current codes could replace it: never guessed
    AREA_CHANGED = "area_changed"  # still valid, but its area changed in that version
    REMOVED = "removed"  # gone, with no current code found by the rules


_KABUPATEN_PREFIX = re.compile(r"^\s*kab(upaten)?\b\.?\s*")


def normalise_name(name: str, level: Level | None = None) -> str:
    """`Tanjung Makmur`, `Tanjungmakmur` and `TANJUNG-MAKMUR` all give `tanjungmakmur`; for a
    kabupaten/kota the `KAB.`/`Kabupaten` prefix is dropped (`kota` is kept: it tells them apart)."""
    folded = name.casefold()
    if level is Level.KABUPATEN_KOTA:
        folded = _KABUPATEN_PREFIX.sub("", folded)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


@dataclass(frozen=True, slots=True)
class StepChange:
    """One code of an older version and what it is in the next version (`version`)."""

    old: Region
    kind: ChangeKind
    targets: tuple[str, ...]  # codes of the next version; area_changed: itself + where it went
    version: Version


@dataclass(frozen=True, slots=True)
class Change:
    """An old code mapped to current code(s), and the version whose regulation changed it."""

    old_code: str
    old_name: str
    level: Level
    kind: ChangeKind
    version: Version
    new_code: str | None  # renumbered: its current code; area_changed: itself; else None
    new_name: str  # the current name of new_code, "" without one
    candidates: tuple[str, ...]  # ambiguous: the current codes it could be; area_changed: the
    # current codes that now hold its old area; renumbered: (new_code,); removed: ()

    @property
    def regulation(self) -> str:
        return self.version.regulation

    @property
    def year(self) -> int:
        return self.version.year

    @property
    def supersedes(self) -> bool:
        """The old code is no longer valid (every kind but area_changed)."""
        return self.kind is not ChangeKind.AREA_CHANGED


Key = tuple[str, Level, str]


def _scope(region: Region, kabupaten_moves: Mapping[str, str]) -> str:
    """Where a same-name match is looked for: the kabupaten/kota of a kecamatan or village (its
    successor if the kabupaten itself was renumbered), the whole country above that."""
    kabupaten = kabupaten_of(region.code)
    if kabupaten is None:
        return ""
    return kabupaten_moves.get(kabupaten, kabupaten)


def _key(region: Region, kabupaten_moves: Mapping[str, str]) -> Key:
    return (
        _scope(region, kabupaten_moves),
        region.level,
        normalise_name(region.name, region.level),
    )


def _arrivals(old: VersionTable, new: VersionTable) -> dict[Key, list[str]]:
    """Codes of `new` by (scope, level, name), leaving out codes that had that name in `old`."""
    found: dict[Key, list[str]] = defaultdict(list)
    for code, region in new.regions.items():
        before = old.get(code)
        if before is not None and normalise_name(before.name, before.level) == normalise_name(
            region.name, region.level
        ):
            continue
        found[_key(region, {})].append(code)
    return found


def _parent(code: str) -> str:
    return parent_of(code) or ""


def _by_name(
    regions: Sequence[Region], arrivals: Mapping[Key, list[str]], kabupaten_moves: Mapping[str, str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Gone regions -> their same-name candidates, and those with one candidate nobody else claims."""
    candidates = {
        r.code: tuple(sorted(arrivals.get(_key(r, kabupaten_moves), ()))) for r in regions
    }
    claimants: dict[str, set[str]] = defaultdict(set)
    for old_code, cands in candidates.items():
        for c in cands:
            claimants[c].add(old_code)
    unique = {
        old_code: cands[0]
        for old_code, cands in candidates.items()
        if len(cands) == 1 and claimants[cands[0]] == {old_code}
    }
    return candidates, unique


def _match_villages(
    villages: Sequence[Region],
    arrivals: Mapping[Key, list[str]],
    kabupaten_moves: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Gone villages -> (resolved code, candidates of the others) by name, then by new parent."""
    candidates, resolved = _by_name(villages, arrivals, kabupaten_moves)
    moved_to: dict[str, set[str]] = defaultdict(set)
    for old_code, new_code in resolved.items():
        moved_to[_parent(old_code)].add(_parent(new_code))
    narrowed = {
        old_code: tuple(c for c in cands if _parent(c) in moved_to.get(_parent(old_code), ()))
        for old_code, cands in candidates.items()
        if old_code not in resolved
    }
    taken = Counter(resolved.values())
    taken.update(ns[0] for ns in narrowed.values() if len(ns) == 1)
    for old_code, ns in narrowed.items():
        if len(ns) == 1 and taken[ns[0]] == 1:
            resolved[old_code] = ns[0]
    unresolved = {
        old_code: (ns if len(ns) > 1 else candidates[old_code])
        for old_code, ns in narrowed.items()
        if old_code not in resolved
    }
    return resolved, unresolved


def derive_step(old: VersionTable, new: VersionTable) -> dict[str, StepChange]:
    """The codes of `old` that are gone from `new` or whose area moved, by old code."""
    arrivals = _arrivals(old, new)
    gone = [r for code, r in old.regions.items() if code not in new]
    changes: dict[str, StepChange] = {}
    moves: list[tuple[str, str]] = []  # (old code, new code) of every region renumbered

    def put(region: Region, kind: ChangeKind, targets: Iterable[str]) -> None:
        changes[region.code] = StepChange(region, kind, tuple(targets), new.version)
        if kind is ChangeKind.RENUMBERED:
            moves.append((region.code, changes[region.code].targets[0]))

    def put_by_name(region: Region, cands: tuple[str, ...], unique: Mapping[str, str]) -> None:
        if region.code in unique:
            put(region, ChangeKind.RENUMBERED, cands)
        else:
            put(region, ChangeKind.AMBIGUOUS if cands else ChangeKind.REMOVED, cands)

    # provinces and kabupaten/kota by name across the country (a new province takes them over)
    upper = [r for r in gone if r.level in (Level.PROVINSI, Level.KABUPATEN_KOTA)]
    upper_cands, upper_unique = _by_name(upper, arrivals, {})
    for r in upper:
        put_by_name(r, upper_cands[r.code], upper_unique)
    kabupaten_moves = {o: n for o, n in upper_unique.items() if level_of(o) is Level.KABUPATEN_KOTA}

    # villages by name within their kabupaten, then by new parent
    villages = [r for r in gone if r.level is Level.DESA_KELURAHAN]
    resolved, unresolved = _match_villages(villages, arrivals, kabupaten_moves)
    for r in villages:
        if r.code in resolved:
            put(r, ChangeKind.RENUMBERED, (resolved[r.code],))
        else:
            cands = unresolved.get(r.code, ())
            put(r, ChangeKind.AMBIGUOUS if cands else ChangeKind.REMOVED, cands)

    # kecamatan by their villages' moves, else by name within their kabupaten
    villages_to: dict[str, set[str]] = defaultdict(set)
    for old_code, new_code in moves:
        if _parent(old_code) != _parent(new_code):
            villages_to[_parent(old_code)].add(_parent(new_code))
    kecamatan = [r for r in gone if r.level is Level.KECAMATAN]
    kec_cands, kec_unique = _by_name(kecamatan, arrivals, kabupaten_moves)
    for r in kecamatan:
        dest = tuple(sorted(villages_to.get(r.code, ())))
        if dest:
            put(r, ChangeKind.RENUMBERED if len(dest) == 1 else ChangeKind.AMBIGUOUS, dest)
        else:
            put_by_name(r, kec_cands[r.code], kec_unique)

    # a code valid in both versions whose children moved out or in: its area changed
    lost_to: dict[str, set[str]] = defaultdict(set)
    received: set[str] = set()
    for old_code, new_code in moves:
        if _parent(old_code) != _parent(new_code):
            lost_to[_parent(old_code)].add(_parent(new_code))
            received.add(_parent(new_code))
    for code in sorted(set(lost_to) | received):
        region = old.get(code)
        if region is not None and code in new:
            put(region, ChangeKind.AREA_CHANGED, (code, *sorted(lost_to.get(code, set()) - {code})))
    return changes


def renamed(old: VersionTable, new: VersionTable) -> list[tuple[str, str, str]]:
    """Codes in both versions whose normalised name differs: (code, old name, new name)."""
    return [
        (code, r.name, new.regions[code].name)
        for code, r in old.regions.items()
        if code in new
        and normalise_name(r.name, r.level) != normalise_name(new.regions[code].name, r.level)
    ]


@dataclass(frozen=True, eq=False)
class CodeHistory:
    """Every change from the oldest version to `current`, indexed by old code."""

    current: VersionTable
    changes: tuple[Change, ...]
    _by_code: dict[str, tuple[Change, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_code: dict[str, list[Change]] = defaultdict(list)
        for change in self.changes:
            by_code[change.old_code].append(change)
        index = {code: tuple(sorted(cs, key=lambda c: c.year)) for code, cs in by_code.items()}
        object.__setattr__(self, "_by_code", index)

    def changes_for(self, code: str) -> tuple[Change, ...]:
        """The changes of `code`, oldest first; () for a code that never changed."""
        return self._by_code.get(code, ())

    def counts(self) -> Counter[ChangeKind]:
        return Counter(c.kind for c in self.changes)

    @cached_property  # asked for every unknown code's message: computed once
    def scope_name(self) -> str:
        """`Sumatera Selatan` for one province's codes, `Indonesia` for several."""
        provinces = [r for r in self.current.regions.values() if r.level is Level.PROVINSI]
        return provinces[0].name if len(provinces) == 1 else "Indonesia"


def derive_history(tables: Sequence[VersionTable]) -> CodeHistory:
    """The history of every code across `tables` (consecutive versions), up to the newest."""
    if not tables:
        raise ValueError("no versions to derive a history from")
    ordered = sorted(tables, key=lambda t: t.version.year)
    steps = [derive_step(a, b) for a, b in pairwise(ordered)]
    current = ordered[-1]

    def follow(codes: Iterable[str], start: int) -> tuple[set[str], bool]:
        """Codes of version `start` + 1 carried to the current version; True if ambiguous."""
        now, ambiguous = set(codes), False
        for step in steps[start:]:
            nxt: set[str] = set()
            for code in now:
                change = step.get(code)
                if change is None or change.kind is ChangeKind.AREA_CHANGED:
                    nxt.add(code)
                else:
                    nxt.update(change.targets)
                    ambiguous |= change.kind is ChangeKind.AMBIGUOUS
            now = nxt
        return now, ambiguous

    def name(code: str | None) -> str:
        region = current.get(code) if code is not None else None
        return region.name if region is not None else ""

    changes: list[Change] = []
    for i, step in enumerate(steps):
        for code in sorted(step):
            sc = step[code]
            finals, ambiguous = follow(sc.targets, i + 1)
            new_code: str | None
            if sc.kind is ChangeKind.AREA_CHANGED:
                kind = ChangeKind.AREA_CHANGED
                itself, _ = follow((code,), i + 1)
                new_code = next(iter(itself)) if len(itself) == 1 else None
            elif not finals:
                kind, new_code = ChangeKind.REMOVED, None
            elif ambiguous or sc.kind is ChangeKind.AMBIGUOUS or len(finals) > 1:
                kind, new_code = ChangeKind.AMBIGUOUS, None
            else:
                kind, new_code = ChangeKind.RENUMBERED, next(iter(finals))
            changes.append(
                Change(
                    old_code=code,
                    old_name=sc.old.name,
                    level=sc.old.level,
                    kind=kind,
                    version=sc.version,
                    new_code=new_code,
                    new_name=name(new_code),
                    candidates=tuple(sorted(finals)),
                )
            )
    return CodeHistory(current, tuple(changes))


HISTORY_COLUMNS = (
    "old_code",
    "new_code",
    "level",
    "regulation",
    "year",
    "kind",
    "candidates",
    "old_name",
    "new_name",
)
_SEP = ";"


def history_csv(history: CodeHistory) -> str:
    """The changes as CSV (HISTORY_COLUMNS, candidates `;`-separated, `\\n` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for c in sorted(history.changes, key=lambda c: (c.year, c.old_code)):
        writer.writerow(
            (
                c.old_code,
                c.new_code or "",
                c.level.value,
                c.regulation,
                c.year,
                c.kind.value,
                _SEP.join(c.candidates),
                c.old_name,
                c.new_name,
            )
        )
    return buf.getvalue()


def parse_history(text: str, current: VersionTable, source: str = "<text>") -> CodeHistory:
    """A history written by `history_csv`, against the current version's regions."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != HISTORY_COLUMNS:
        raise ValueError(f"{source}: the header must be {','.join(HISTORY_COLUMNS)}")
    changes: list[Change] = []
    for line, row in enumerate(reader, start=2):
        try:
            v = version(int(row["year"]))
            if row["regulation"] != v.regulation:
                raise ValueError(f"regulation {row['regulation']!r} is not {v.regulation!r}")
            changes.append(
                Change(
                    old_code=row["old_code"],
                    old_name=row["old_name"],
                    level=Level(row["level"]),
                    kind=ChangeKind(row["kind"]),
                    version=v,
                    new_code=row["new_code"] or None,
                    new_name=row["new_name"],
                    candidates=tuple(c for c in row["candidates"].split(_SEP) if c),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{source}:{line}: {exc}") from None
    return CodeHistory(current, tuple(changes))
