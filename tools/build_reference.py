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

The output depends only on the input files, so a test rebuilds it and compares byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere, installed or not
    sys.path.insert(0, str(ROOT))

from serasan.reference.history import derive_history, history_csv, renamed  # noqa: E402
from serasan.reference.resolve import (  # noqa: E402
    CROSSWALK_FILE,
    CURRENT_FILE,
    HISTORY_FILE,
    CrosswalkStatus,
    crosswalk_csv,
    read_bps_tsv,
    rebuild_crosswalk,
)
from serasan.reference.versions import load_versions, regions_csv  # noqa: E402

DEFAULT_SHARED = ROOT.parent / "shared" / "reference"
DEFAULT_OUT = ROOT / "serasan" / "reference" / "data"
CROSSWALK_SOURCE = "bps_to_kemendagri_sumsel.tsv"


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
    }
    counts = history.counts()
    superseded = sum(n for kind, n in counts.items() if kind != "area_changed")
    names = sum(len(renamed(a, b)) for a, b in zip(tables, tables[1:], strict=False))
    by_status = {s: sum(e.status is s for e in crosswalk) for s in CrosswalkStatus}
    summary = [
        f"versions: {', '.join(str(t.version.year) for t in tables)}",
        f"superseded codes: {superseded} "
        f"(renumbered {counts['renumbered']}, ambiguous {counts['ambiguous']}, "
        f"removed {counts['removed']}); area_changed: {counts['area_changed']}; "
        f"name-only changes (not listed): {names}",
        f"crosswalk: {len(crosswalk)} BPS codes, "
        + ", ".join(f"{s.value} {n}" for s, n in by_status.items()),
    ]
    return files, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shared_reference", nargs="?", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    files, summary = build(args.shared_reference)
    print("\n".join(summary))
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (args.out / name).is_file()
            or (args.out / name).read_text(encoding="utf-8") != text
        ]
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
