"""Build the shipped region-code reference (`serasan/reference/data/`) from ../shared/reference.

    python tools/build_reference.py                       # ../shared/reference beside the checkout
    python tools/build_reference.py /path/to/shared/reference --out /tmp/ref
    python tools/build_reference.py --check               # exit 1 if the shipped files are stale

Reads Sumatera Selatan's six code versions (`wilayah_versions/wilayah_sumsel_YYYY.csv`) and the
BPS crosswalk (`bps_to_kemendagri_sumsel.tsv`), and writes:

* `code_history_sumsel.csv`: every old code and what it is now (`serasan.reference.history`);
* `wilayah_sumsel_current.csv`: the current version's codes (`kode,nama,level`), which the
  resolver needs to tell a stable code from an unknown one;
* `bps_kemendagri_current_sumsel.csv`: the BPS crosswalk carried to current codes.

and the same three for every other province of `serasan.reference.provinces.SHIPPED` (Jawa
Barat, 32), cut from the national versions (`wilayah_kemendagri_YYYY.csv.gz`) and the national
crosswalk (`bps_to_kemendagri_indonesia.tsv.gz`); their large files are written gzipped.

The output depends only on the input files, so a test rebuilds it and compares byte for byte
(gzipped files: their text).
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere, installed or not
    sys.path.insert(0, str(ROOT))

from serasan.reference.as_of import entries_csv, past_entries  # noqa: E402
from serasan.reference.history import (  # noqa: E402
    CodeHistory,
    derive_history,
    history_csv,
    renamed,
)
from serasan.reference.provinces import SHIPPED, ProvinceFiles  # noqa: E402
from serasan.reference.resolve import (  # noqa: E402
    CROSSWALK_FILE,
    CURRENT_FILE,
    HISTORY_FILE,
    CrosswalkEntry,
    CrosswalkStatus,
    crosswalk_csv,
    parse_bps_tsv,
    read_bps_tsv,
    rebuild_crosswalk,
)
from serasan.reference.versions import (  # noqa: E402
    VersionTable,
    load_versions,
    regions_csv,
)

DEFAULT_SHARED = ROOT.parent / "shared" / "reference"
DEFAULT_OUT = ROOT / "serasan" / "reference" / "data"
CROSSWALK_SOURCE = "bps_to_kemendagri_sumsel.tsv"
NATIONAL_CROSSWALK = "bps_to_kemendagri_indonesia.tsv.gz"


def build(shared_reference: Path) -> tuple[dict[str, str], list[str]]:
    """The shipped files' text by name, and a summary of what they hold."""
    if not (shared_reference / "wilayah_versions").is_dir():
        raise SystemExit(
            f"{shared_reference} holds no wilayah_versions/: pass the path of shared/reference"
        )
    tables = load_versions(shared_reference / "wilayah_versions")
    history = derive_history(tables)
    crosswalk = rebuild_crosswalk(read_bps_tsv(shared_reference / CROSSWALK_SOURCE), history)
    files = {
        HISTORY_FILE: history_csv(history),
        CURRENT_FILE: regions_csv(history.current.regions.values()),
        CROSSWALK_FILE: crosswalk_csv(crosswalk),
        SHIPPED["16"].names_file: entries_csv(past_entries(tables)),
    }
    names = sum(len(renamed(a, b)) for a, b in zip(tables, tables[1:], strict=False))
    summary = [
        f"versions: {', '.join(str(t.version.year) for t in tables)}",
        *_summary("Sumatera Selatan", history, crosswalk, names),
    ]
    national = [f for kode, f in SHIPPED.items() if kode != "16"]
    if national:
        all_tables = load_versions(shared_reference / "wilayah_versions", national=True)
        all_pairs = _national_pairs(shared_reference / NATIONAL_CROSSWALK)
        for province in national:
            more, lines = _province(province, all_tables, all_pairs)
            files.update(more)
            summary += lines
    return files, summary


def _national_pairs(path: Path) -> list[tuple[str, str | None]]:
    """The national crosswalk, which (unlike the Sumatera Selatan cut) has no header line."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    header = "kode_bps\tkode_kemendagri\n"
    return parse_bps_tsv(text if text.startswith(header) else header + text, str(path))


def _summary(
    name: str, history: CodeHistory, crosswalk: list[CrosswalkEntry], names: int
) -> list[str]:
    counts = history.counts()
    superseded = sum(n for kind, n in counts.items() if kind != "area_changed")
    by_status = {s: sum(e.status is s for e in crosswalk) for s in CrosswalkStatus}
    return [
        f"{name}: {len(history.current.regions)} current codes; superseded codes: {superseded} "
        f"(renumbered {counts['renumbered']}, ambiguous {counts['ambiguous']}, "
        f"removed {counts['removed']}); area_changed: {counts['area_changed']}; "
        f"name-only changes (not listed): {names}",
        f"{name} crosswalk: {len(crosswalk)} BPS codes, "
        + ", ".join(f"{s.value} {n}" for s, n in by_status.items()),
    ]


def _province(
    files: ProvinceFiles,
    national: list[VersionTable],
    pairs: list[tuple[str, str | None]],
) -> tuple[dict[str, str], list[str]]:
    """One province cut from the national versions and crosswalk: its three files."""
    prefix = files.kode + "."
    tables = [
        VersionTable(
            t.version,
            {c: r for c, r in t.regions.items() if c == files.kode or c.startswith(prefix)},
        )
        for t in national
    ]
    history = derive_history(tables)
    crosswalk = rebuild_crosswalk([p for p in pairs if p[0].startswith(files.kode)], history)
    names = sum(len(renamed(a, b)) for a, b in zip(tables, tables[1:], strict=False))
    out = {
        files.history_file: history_csv(history),
        files.current_file: regions_csv(history.current.regions.values()),
        files.crosswalk_file: crosswalk_csv(crosswalk),
        files.names_file: entries_csv(past_entries(tables)),
    }
    return out, _summary(files.name, history, crosswalk, names)


def _encode(name: str, text: str) -> bytes:
    data = text.encode("utf-8")
    return gzip.compress(data, compresslevel=9, mtime=0) if name.endswith(".gz") else data


def _shipped_text(path: Path) -> str | None:
    if not path.is_file():
        return None
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shared_reference", nargs="?", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    files, summary = build(args.shared_reference)
    print("\n".join(summary))
    if args.check:
        stale = [name for name, text in files.items() if _shipped_text(args.out / name) != text]
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        data = _encode(name, text)
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
