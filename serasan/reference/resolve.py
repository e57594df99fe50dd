"""Which code a place has now: one code at a time, and the whole BPS crosswalk.

`resolve("16.06.03.2001")` says the code was superseded in the 2020 version (Permendagri
72/2019, revised by Kepmendagri 146.1-4717/2020) and that 16.06.15.2001 (Jirak) is current.
`as_of_year` is the year of the data the code comes from: only the changes after the version in
force that year apply, so `resolve("16.03.03", as_of_year=2018)` is flagged `area_changed`
(Rambang Dangku was split in 2020) and `resolve("16.03.03", as_of_year=2021)` is not. Without
it every change applies. A superseded code resolves when it maps to exactly one current code;
one that could map to several is `ambiguous` and carries the candidates, never a guess.

`rebuild_crosswalk` carries the BPS -> Kemendagri crosswalk (whose Kemendagri side follows the
2018 version, in force in 2019) to current codes. A BPS kecamatan whose Kemendagri kecamatan
changed area is placed by its own villages: BPS 1606031 (Jirak Jaya) pointed at 16.06.03, but
its villages are all in 16.06.15 now, so it maps to 16.06.15.

The shipped data (`data/`, Sumatera Selatan) is read by `shipped_history` and
`shipped_crosswalk`; `tools/build_reference.py` writes it from ../shared/reference.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path

from serasan.reference.history import Change, ChangeKind, CodeHistory, parse_history
from serasan.reference.versions import (
    CURRENT,
    VERSIONS,
    Level,
    VersionTable,
    level_of,
    parent_of,
    parse_regions,
    version_in_force,
)

HISTORY_FILE = "code_history_sumsel.csv"
CURRENT_FILE = "wilayah_sumsel_current.csv"
CROSSWALK_FILE = "bps_kemendagri_current_sumsel.csv"
# the BPS crosswalk's Kemendagri side: every code of it is in the 2018 version, in force in 2019
CROSSWALK_AS_OF = 2019


def _data_text(name: str) -> str:
    return resources.files("serasan.reference").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def shipped_history() -> CodeHistory:
    """Sumatera Selatan's code history and current codes, as shipped in `data/`."""
    current = VersionTable(CURRENT, parse_regions(_data_text(CURRENT_FILE), CURRENT_FILE))
    return parse_history(_data_text(HISTORY_FILE), current, HISTORY_FILE)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a code is now. `candidates`: for an ambiguous code the current codes it could be,
    for an area_changed one the current codes that hold its former area, for a renumbered one
    its current code; otherwise ()."""

    original_code: str  # as asked, whitespace removed
    current_code: str | None  # the code to use now; None if ambiguous, removed or unknown
    current_name: str | None
    level: Level | None
    as_of_year: int | None
    regulation: str | None  # the regulation of the version that changed it
    year: int | None  # that version's year
    superseded: bool  # the original code is no longer valid
    area_changed: bool  # the area behind the code changed after the data's year
    ambiguous: bool  # several current codes are possible: choose by hand
    unknown: bool  # in no version we hold
    candidates: tuple[str, ...]
    message_id: str  # Bahasa Indonesia
    message_en: str

    @property
    def resolved(self) -> bool:
        """A single current code is known (it may still carry `area_changed`)."""
        return self.current_code is not None

    @property
    def removed(self) -> bool:
        return self.superseded and not self.ambiguous and self.current_code is None


def _named(history: CodeHistory, code: str) -> str:
    region = history.current.get(code)
    return f"{code} ({region.name})" if region is not None else code


def _listing(history: CodeHistory, codes: Iterable[str], conjunction: str) -> str:
    named = [_named(history, c) for c in codes]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} {conjunction} {named[-1]}"


def _was(change: Change) -> str:
    return f"{change.old_code} ({change.old_name})"


def _span() -> str:
    return f"{VERSIONS[0].year}-{VERSIONS[-1].year}"


def resolve(
    code: str, as_of_year: int | None = None, *, history: CodeHistory | None = None
) -> Resolution:
    """The current code for `code` (as written in data of `as_of_year`, if given)."""
    h = history if history is not None else shipped_history()
    asked = "".join(code.split())
    level = level_of(asked)
    blank = Resolution(
        original_code=asked,
        current_code=None,
        current_name=None,
        level=level,
        as_of_year=as_of_year,
        regulation=None,
        year=None,
        superseded=False,
        area_changed=False,
        ambiguous=False,
        unknown=False,
        candidates=(),
        message_id="",
        message_en="",
    )
    if level is None:
        hint_id = hint_en = ""
        if asked.isdigit():
            hint_id = " Kode Kemendagri ditulis bertitik (16.06.15.2001); kode tanpa titik mungkin kode BPS."
            hint_en = (
                " Kemendagri codes are dotted (16.06.15.2001); an undotted one may be a BPS code."
            )
        return replace(
            blank,
            unknown=True,
            message_id=f"'{asked}' bukan kode wilayah Kemendagri.{hint_id}",
            message_en=f"'{asked}' is not a Kemendagri region code.{hint_en}",
        )

    everything = h.changes_for(asked)
    in_force = version_in_force(as_of_year) if as_of_year is not None else None
    relevant = [c for c in everything if in_force is None or c.year > in_force.year]
    in_current = asked in h.current
    late = not relevant and not in_current and bool(everything)
    if late:  # the data's year is after the code was given up: its changes still tell
        relevant = list(everything)
    superseding = [c for c in relevant if c.supersedes]
    area = [c for c in relevant if not c.supersedes]
    late_id = (
        f" Catatan: kode ini sudah tidak berlaku untuk data tahun {as_of_year}." if late else ""
    )
    late_en = f" Note: this code was no longer valid for data of {as_of_year}." if late else ""

    if not relevant:
        if in_current:
            name = h.current.regions[asked].name
            since_id = (
                f"sesudah data tahun {as_of_year}" if as_of_year else f"dalam versi {_span()}"
            )
            since_en = f"since data of {as_of_year}" if as_of_year else f"in the versions {_span()}"
            return replace(
                blank,
                current_code=asked,
                current_name=name,
                message_id=f"Kode {asked} ({name}) berlaku dan tidak berubah {since_id}.",
                message_en=f"Code {asked} ({name}) is current and has not changed {since_en}.",
            )
        return replace(
            blank,
            unknown=True,
            message_id=f"Kode {asked} tidak dikenal: tidak ada dalam kode wilayah {h.scope_name} versi {_span()}.",
            message_en=f"Code {asked} is unknown: it is in none of the {h.scope_name} region-code versions {_span()}.",
        )

    if superseding and in_current:  # given up once and later given to another place
        first = superseding[0]
        cands = tuple(sorted({asked, *first.candidates}))
        name = h.current.regions[asked].name
        return replace(
            blank,
            regulation=first.regulation,
            year=first.year,
            superseded=True,
            area_changed=bool(area),
            ambiguous=True,
            candidates=cands,
            message_id=(
                f"Kode {asked} dipakai untuk {first.old_name} sampai versi {first.year} "
                f"({first.version.regulation_id}) dan kini untuk {name}: sebutkan tahun data; "
                f"kemungkinan: {_listing(h, cands, 'atau')}."
            ),
            message_en=(
                f"Code {asked} meant {first.old_name} until the {first.year} version "
                f"({first.regulation}) and now means {name}: give the data's year; "
                f"possible: {_listing(h, cands, 'or')}."
            ),
        )

    if not superseding:  # still valid, but its area changed after the data's year
        first = area[0]
        cands = tuple(sorted({c for a in area for c in a.candidates}))
        region = h.current.regions.get(asked)
        name = region.name if region is not None else first.new_name
        was_id = f", dulu {first.old_name}" if first.old_name != name else ""
        was_en = f", formerly {first.old_name}" if first.old_name != name else ""
        return replace(
            blank,
            current_code=asked,
            current_name=name,
            regulation=first.regulation,
            year=first.year,
            area_changed=True,
            candidates=cands,
            message_id=f"Kode {asked} masih berlaku ({name}{was_id}), " + _area_id(h, asked, area),
            message_en=f"Code {asked} is still valid ({name}{was_en}), " + _area_en(h, asked, area),
        )

    first = superseding[0]
    reg_id, reg_en = first.version.regulation_id, first.regulation
    if first.kind is ChangeKind.RENUMBERED and first.new_code is not None:
        new = first.new_code
        later = [c for c in h.changes_for(new) if not c.supersedes and c.year > first.year]
        area_all = [*area, *later]
        msg_id = (
            f"Kode {_was(first)} tidak berlaku lagi sejak versi {first.year} ({reg_id}); "
            f"kode sekarang: {_named(h, new)}."
        )
        msg_en = (
            f"Code {_was(first)} was superseded in the {first.year} version ({reg_en}); "
            f"the current code is {_named(h, new)}."
        )
        for which, changes in ((asked, area), (new, later)):
            if changes:
                msg_id += f" Kode {which} " + _area_id(h, which, changes)
                msg_en += f" Code {which} " + _area_en(h, which, changes)
        return replace(
            blank,
            current_code=new,
            current_name=first.new_name or None,
            regulation=reg_en,
            year=first.year,
            superseded=True,
            area_changed=bool(area_all),
            candidates=(new,),
            message_id=msg_id + late_id,
            message_en=msg_en + late_en,
        )
    if first.kind is ChangeKind.AMBIGUOUS:
        msg_id = (
            f"Kode {_was(first)} tidak berlaku lagi sejak versi {first.year} ({reg_id}) dan bisa "
            f"menjadi {_listing(h, first.candidates, 'atau')}; Serasan tidak menebak: "
            "pilih kode yang benar secara manual."
        )
        msg_en = (
            f"Code {_was(first)} was superseded in the {first.year} version ({reg_en}) and could "
            f"be {_listing(h, first.candidates, 'or')}; Serasan does not guess: choose the right "
            "code by hand."
        )
    else:
        msg_id = (
            f"Kode {_was(first)} dihapus pada versi {first.year} ({reg_id}); tidak ada kode "
            "sekarang yang cocok dengan namanya."
        )
        msg_en = (
            f"Code {_was(first)} was removed in the {first.year} version ({reg_en}); no current "
            "code matches its name."
        )
    return replace(
        blank,
        regulation=reg_en,
        year=first.year,
        superseded=True,
        area_changed=bool(area),
        ambiguous=first.kind is ChangeKind.AMBIGUOUS,
        candidates=first.candidates,
        message_id=msg_id + late_id,
        message_en=msg_en + late_en,
    )


def _area_id(history: CodeHistory, code: str, area: Sequence[Change]) -> str:
    first = area[0]
    others = tuple(c for a in area for c in a.candidates if c != code)
    where = (
        f"wilayah lamanya kini {_listing(history, (code, *sorted(set(others))), 'dan')}"
        if others
        else "ia menerima wilayah dari tempat lain"
    )
    return (
        f"tetapi wilayahnya berubah pada versi {first.year} ({first.version.regulation_id}): "
        f"{where}. Jangan bandingkan deret waktu melewati {first.year} tanpa penyesuaian."
    )


def _area_en(history: CodeHistory, code: str, area: Sequence[Change]) -> str:
    first = area[0]
    others = tuple(c for a in area for c in a.candidates if c != code)
    where = (
        f"its former area is now {_listing(history, (code, *sorted(set(others))), 'and')}"
        if others
        else "it received area from elsewhere"
    )
    return (
        f"but its area changed in the {first.year} version ({first.regulation}): {where}. "
        f"Do not compare a time series across {first.year} without adjusting."
    )


# --- the BPS crosswalk, carried to current codes ---------------------------------------------


class CrosswalkStatus(StrEnum):
    UNCHANGED = "unchanged"  # the source's Kemendagri code is current and means the same area
    MOVED = "moved"  # the source's Kemendagri code was replaced: kode_kemendagri is the current one
    AMBIGUOUS = "ambiguous"  # several current codes are possible (candidates): choose by hand
    UNMATCHED = "unmatched"  # no current code: none in the source, or removed without successor


@dataclass(frozen=True, slots=True)
class CrosswalkEntry:
    bps_code: str
    kemendagri_code: str | None  # current; None if ambiguous or unmatched
    level: Level
    status: CrosswalkStatus
    source_code: str | None  # the Kemendagri code the source crosswalk gave
    candidates: tuple[str, ...]
    reason: str  # why it moved, or why it is ambiguous or unmatched; "" if unchanged


CROSSWALK_COLUMNS = (
    "kode_bps",
    "kode_kemendagri",
    "level",
    "status",
    "kode_kemendagri_source",
    "candidates",
    "reason",
)
_BPS_LEVELS = {
    2: Level.PROVINSI,
    4: Level.KABUPATEN_KOTA,
    7: Level.KECAMATAN,
    10: Level.DESA_KELURAHAN,
}
_BPS_CHILD_LENGTH = {2: 4, 4: 7, 7: 10}


def parse_bps_tsv(text: str, source: str = "<text>") -> list[tuple[str, str | None]]:
    """The source crosswalk (`kode_bps<TAB>kode_kemendagri`, the latter may be empty)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].split("\t") != ["kode_bps", "kode_kemendagri"]:
        raise ValueError(f"{source}: the header must be kode_bps<TAB>kode_kemendagri")
    pairs: list[tuple[str, str | None]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip().isdigit():
            raise ValueError(f"{source}:{number}: expected a BPS code and a Kemendagri code")
        pairs.append((fields[0].strip(), fields[1].strip() or None))
    return pairs


def read_bps_tsv(path: Path) -> list[tuple[str, str | None]]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return parse_bps_tsv(raw.decode("utf-8"), str(path))


def rebuild_crosswalk(
    pairs: Sequence[tuple[str, str | None]],
    history: CodeHistory | None = None,
    as_of_year: int = CROSSWALK_AS_OF,
) -> list[CrosswalkEntry]:
    """Each BPS code of `pairs` with its current Kemendagri code, in the order given."""
    h = history if history is not None else shipped_history()
    children: dict[str, list[str]] = defaultdict(list)
    for bps, _ in pairs:
        for length, child_length in _BPS_CHILD_LENGTH.items():
            if len(bps) == child_length:
                children[bps[:length]].append(bps)
    done: dict[str, CrosswalkEntry] = {}
    for bps, source in sorted(pairs, key=lambda p: -len(p[0])):  # villages first
        done[bps] = _carry(bps, source, h, as_of_year, [done[c] for c in children.get(bps, ())])
    return [done[bps] for bps, _ in pairs]


def _carry(
    bps: str,
    source: str | None,
    h: CodeHistory,
    as_of_year: int,
    children: Sequence[CrosswalkEntry],
) -> CrosswalkEntry:
    level = (level_of(source) if source else None) or _BPS_LEVELS.get(len(bps))
    if level is None:
        raise ValueError(f"BPS code {bps} has no Kemendagri code and no known length")

    def entry(
        status: CrosswalkStatus,
        current: str | None = None,
        candidates: Iterable[str] = (),
        reason: str = "",
    ) -> CrosswalkEntry:
        return CrosswalkEntry(bps, current, level, status, source, tuple(candidates), reason)

    if source is None:
        return entry(CrosswalkStatus.UNMATCHED, reason="no Kemendagri code in the source crosswalk")
    r = resolve(source, as_of_year, history=h)
    changed = f"in the {r.year} version ({r.regulation})"
    if r.unknown:
        return entry(CrosswalkStatus.UNMATCHED, reason=f"{source} is in no version of the codes")
    if r.ambiguous:
        return entry(
            CrosswalkStatus.AMBIGUOUS,
            candidates=r.candidates,
            reason=f"{source} was superseded {changed}; several current codes match",
        )
    if r.current_code is None:
        return entry(
            CrosswalkStatus.UNMATCHED,
            reason=f"{source} was removed {changed}; no current code matches",
        )
    if r.area_changed:  # place it by where its own villages (or kecamatan) are now:
        # BPS 1606031 (Jirak Jaya) -> 16.06.03 in the source, its villages all in 16.06.15 now
        parents: set[str] = set()
        for child in children:  # its parts that the source placed under the same code
            if child.source_code is None or parent_of(child.source_code) != source:
                continue
            for code in (child.kemendagri_code,) if child.kemendagri_code else child.candidates:
                parents.add(parent_of(code) or "")
        area = f"the area of {source} changed {changed}"
        if len(parents) == 1:
            (now,) = parents
            status = CrosswalkStatus.UNCHANGED if now == source else CrosswalkStatus.MOVED
            return entry(status, now, (now,), f"{area}; this BPS code's parts are all in {now} now")
        if parents:
            listed = ", ".join(sorted(parents))
            return entry(
                CrosswalkStatus.AMBIGUOUS,
                candidates=sorted(parents),
                reason=f"{area}; this BPS code's parts are now in {listed}",
            )
        return entry(
            CrosswalkStatus.AMBIGUOUS,
            candidates=r.candidates,
            reason=f"{area}; no parts listed to decide by",
        )
    if r.superseded:
        return entry(
            CrosswalkStatus.MOVED,
            r.current_code,
            (r.current_code,),
            f"{source} was renumbered {changed}",
        )
    return entry(CrosswalkStatus.UNCHANGED, r.current_code)


def crosswalk_csv(entries: Iterable[CrosswalkEntry]) -> str:
    """The rebuilt crosswalk as CSV (CROSSWALK_COLUMNS, `\\n` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CROSSWALK_COLUMNS)
    for e in entries:
        writer.writerow(
            (
                e.bps_code,
                e.kemendagri_code or "",
                e.level.value,
                e.status.value,
                e.source_code or "",
                ";".join(e.candidates),
                e.reason,
            )
        )
    return buf.getvalue()


def parse_crosswalk(text: str, source: str = "<text>") -> list[CrosswalkEntry]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CROSSWALK_COLUMNS:
        raise ValueError(f"{source}: the header must be {','.join(CROSSWALK_COLUMNS)}")
    entries: list[CrosswalkEntry] = []
    for line, row in enumerate(reader, start=2):
        try:
            entries.append(
                CrosswalkEntry(
                    bps_code=row["kode_bps"],
                    kemendagri_code=row["kode_kemendagri"] or None,
                    level=Level(row["level"]),
                    status=CrosswalkStatus(row["status"]),
                    source_code=row["kode_kemendagri_source"] or None,
                    candidates=tuple(c for c in row["candidates"].split(";") if c),
                    reason=row["reason"],
                )
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{source}:{line}: {exc}") from None
    return entries


@lru_cache(maxsize=1)
def shipped_crosswalk() -> tuple[CrosswalkEntry, ...]:
    """Sumatera Selatan's BPS -> current Kemendagri crosswalk, as shipped in `data/`."""
    return tuple(parse_crosswalk(_data_text(CROSSWALK_FILE), CROSSWALK_FILE))
