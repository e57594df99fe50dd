"""Kemendagri code history: Jirak Jaya renumbered, Rambang Dangku's area changed, an ambiguous
split rejected with its candidates, unknown and stable codes, and the shipped data equal to what
tools/build_reference.py makes of ../shared/reference (read via the root conftest's
`shared_dir`, which fails, never skips, when ../shared is missing)."""

from __future__ import annotations

import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from serasan.reference.history import (
    ChangeKind,
    CodeHistory,
    derive_history,
    derive_step,
    history_csv,
    parse_history,
)
from serasan.reference.resolve import (
    CROSSWALK_FILE,
    CURRENT_FILE,
    HISTORY_FILE,
    CrosswalkStatus,
    read_bps_tsv,
    rebuild_crosswalk,
    resolve,
    shipped_crosswalk,
    shipped_history,
)
from serasan.reference.versions import (
    CURRENT,
    VERSIONS,
    Version,
    load_version,
    load_versions,
    parse_regions,
    version,
    version_in_force,
)
from tests.support.paths import REPO_ROOT

PERMENDAGRI_72_2019 = "Permendagri 72/2019, revised by Kepmendagri 146.1-4717/2020"
DATA_DIR = REPO_ROOT / "serasan" / "reference" / "data"


@pytest.fixture
def reference_dir(shared_dir: Path) -> Path:
    found = shared_dir / "reference"
    if not (found / "wilayah_versions").is_dir():
        pytest.fail(f"{found}/wilayah_versions is missing from ../shared", pytrace=False)
    return found


@lru_cache(maxsize=2)
def _derived(reference: Path) -> CodeHistory:
    return derive_history(load_versions(reference / "wilayah_versions"))


@pytest.fixture
def history(reference_dir: Path) -> CodeHistory:
    """Sumatera Selatan's history, derived from the six versions in ../shared."""
    return _derived(reference_dir)


def _version_file(folder: Path, year: int, rows: list[str]) -> None:
    text = "kode,nama,level\n" + "\n".join(rows) + "\n"
    (folder / version(year).file_name()).write_text(text, encoding="utf-8")


# --- Jirak Jaya: a village renumbered into a new kecamatan -----------------------------------


def test_jirak_bps_code_reaches_its_current_kemendagri_code(
    reference_dir: Path, history: CodeHistory
) -> None:
    pairs = dict(read_bps_tsv(reference_dir / "bps_to_kemendagri_sumsel.tsv"))
    assert pairs["1606031007"] == "16.06.03.2001"  # the source follows the 2018 codes

    (change,) = history.changes_for("16.06.03.2001")
    assert (change.kind, change.new_code, change.old_name) == (
        ChangeKind.RENUMBERED,
        "16.06.15.2001",
        "Jirak",
    )
    assert (change.year, change.regulation) == (2020, PERMENDAGRI_72_2019)

    r = resolve("16.06.03.2001", history=history)
    assert r.current_code == "16.06.15.2001" and r.current_name == "Jirak"
    assert r.original_code == "16.06.03.2001"
    assert r.superseded and not (r.ambiguous or r.unknown or r.area_changed)
    assert (r.year, r.regulation) == (2020, PERMENDAGRI_72_2019)
    assert "16.06.15.2001" in r.message_id and "Permendagri 72/2019" in r.message_id
    assert "superseded in the 2020 version" in r.message_en
    assert resolve("16.06.03.2001") == r  # the shipped data says the same

    crosswalk = {e.bps_code: e for e in rebuild_crosswalk(list(pairs.items()), history)}
    jirak = crosswalk["1606031007"]
    assert (jirak.source_code, jirak.kemendagri_code, jirak.status) == (
        "16.06.03.2001",
        "16.06.15.2001",
        CrosswalkStatus.MOVED,
    )
    assert PERMENDAGRI_72_2019 in jirak.reason
    # BPS kecamatan Jirak Jaya pointed at Sungai Keruh; its villages now place it in 16.06.15
    assert (crosswalk["1606031"].source_code, crosswalk["1606031"].kemendagri_code) == (
        "16.06.03",
        "16.06.15",
    )
    assert crosswalk["1606030"].kemendagri_code == "16.06.03"
    assert crosswalk["1606030"].status is CrosswalkStatus.UNCHANGED


def test_jirak_given_a_late_year_still_resolves_with_a_note(history: CodeHistory) -> None:
    r = resolve("16.06.03.2001", as_of_year=2022, history=history)
    assert r.current_code == "16.06.15.2001" and r.superseded
    assert "2022" in r.message_en and "no longer valid" in r.message_en


# --- Rambang Dangku: a code that stays valid while its area changes --------------------------


def test_rambang_dangku_is_flagged_area_changed(history: CodeHistory) -> None:
    (change,) = history.changes_for("16.03.03")
    assert change.kind is ChangeKind.AREA_CHANGED
    assert (change.old_name, change.new_name, change.year) == (
        "Rambang Dangku",
        "Rambang Niru",
        2020,
    )
    assert change.new_code == "16.03.03"
    assert change.candidates == ("16.03.03", "16.03.26")  # where the old area is now

    before = resolve("16.03.03", as_of_year=2018, history=history)
    assert before.area_changed and not before.superseded and not before.ambiguous
    assert before.current_code == "16.03.03" and before.current_name == "Rambang Niru"
    assert (before.year, before.regulation) == (2020, PERMENDAGRI_72_2019)
    assert before.candidates == ("16.03.03", "16.03.26")
    assert "Rambang Dangku" in before.message_id and "16.03.26" in before.message_id
    assert "Do not compare a time series across 2020" in before.message_en

    undated = resolve("16.03.03", history=history)
    assert undated.area_changed  # without a year, the split may lie inside the data

    after = resolve("16.03.03", as_of_year=2021, history=history)
    assert not after.area_changed and after.current_code == "16.03.03"


def test_crosswalk_lists_kecamatan_split_across_two_current_codes(
    reference_dir: Path, history: CodeHistory
) -> None:
    pairs = read_bps_tsv(reference_dir / "bps_to_kemendagri_sumsel.tsv")
    entry = {e.bps_code: e for e in rebuild_crosswalk(pairs, history)}["1603070"]
    assert entry.source_code == "16.03.03" and entry.kemendagri_code is None
    assert entry.status is CrosswalkStatus.AMBIGUOUS
    assert entry.candidates == ("16.03.03", "16.03.26")
    assert "area of 16.03.03 changed" in entry.reason


# --- ambiguity: never guessed ----------------------------------------------------------------


def test_same_name_in_two_new_kecamatan_is_resolved_only_by_the_villages_parent(
    reference_dir: Path,
) -> None:
    """The data's only superseded Sumsel code with several same-name candidates: two Mekar Sari
    of Banyuasin. Each old kecamatan's other villages all went to one new kecamatan, which
    decides; nothing in Sumatera Selatan stays ambiguous."""
    folder = reference_dir / "wilayah_versions"
    old, new = load_version(folder, version(2018)), load_version(folder, version(2020))
    mekar_sari = sorted(
        c for c, r in new.regions.items() if r.name == "Mekar Sari" and c[:5] == "16.07"
    )
    # 16.07.08.2019 was Mekar Sari before; the two new ones are the candidates of both old codes
    assert mekar_sari == ["16.07.08.2019", "16.07.20.2007", "16.07.21.2006"]
    assert "16.07.08.2019" in old and "16.07.20.2007" not in old and "16.07.21.2006" not in old
    step = derive_step(old, new)
    assert step["16.07.02.2017"].targets == ("16.07.20.2007",)
    assert step["16.07.04.2020"].targets == ("16.07.21.2006",)
    assert _derived(reference_dir).counts()[ChangeKind.AMBIGUOUS] == 0


def test_a_split_with_two_candidates_is_ambiguous_and_names_both(tmp_path: Path) -> None:
    _version_file(
        tmp_path,
        2016,
        [
            "99,PROVINSI UJI,provinsi",
            "99.01,KAB. UJI,kabupaten_kota",
            "99.01.01,Alfa,kecamatan",
            "99.01.01.2001,Suka Maju,desa_kelurahan",
            "99.01.01.2002,Lama,desa_kelurahan",
        ],
    )
    _version_file(
        tmp_path,
        2018,
        [
            "99,PROVINSI UJI,provinsi",
            "99.01,KAB. UJI,kabupaten_kota",
            "99.01.01,Alfa,kecamatan",
            "99.01.01.2002,Lama,desa_kelurahan",
            "99.01.02,Beta,kecamatan",
            "99.01.02.2001,Sukamaju,desa_kelurahan",
            "99.01.03,Gama,kecamatan",
            "99.01.03.2001,Suka Maju,desa_kelurahan",
        ],
    )
    history = derive_history(load_versions(tmp_path, VERSIONS[:2]))
    (change,) = history.changes_for("99.01.01.2001")
    assert change.kind is ChangeKind.AMBIGUOUS and change.new_code is None
    assert change.candidates == ("99.01.02.2001", "99.01.03.2001")

    r = resolve("99.01.01.2001", history=history)
    assert r.ambiguous and r.superseded and r.current_code is None and not r.resolved
    assert r.candidates == ("99.01.02.2001", "99.01.03.2001")
    for message in (r.message_id, r.message_en):
        assert "99.01.02.2001 (Sukamaju)" in message and "99.01.03.2001 (Suka Maju)" in message
    assert "does not guess" in r.message_en and "tidak menebak" in r.message_id

    (entry,) = rebuild_crosswalk([("9901010001", "99.01.01.2001")], history, as_of_year=2016)
    assert entry.status is CrosswalkStatus.AMBIGUOUS and entry.kemendagri_code is None
    assert entry.candidates == ("99.01.02.2001", "99.01.03.2001")


def test_national_versions_hold_a_real_ambiguous_case(reference_dir: Path) -> None:
    """Papua Pegunungan, 2023: two villages both named Wuyukwi (a desa and a kelurahan) moved
    from 91.07.01 to 94.02.01; which is which is not the codes' to say."""
    folder = reference_dir / "wilayah_versions"
    tables = [load_version(folder, version(y), national=True) for y in (2022, 2023)]
    history = derive_history(tables)
    (change,) = history.changes_for("91.07.01.2003")
    assert change.kind is ChangeKind.AMBIGUOUS
    assert change.candidates == ("94.02.01.1010", "94.02.01.2002")
    (kabupaten,) = history.changes_for("91.07")  # Puncak Jaya, to the new province 94
    assert (kabupaten.kind, kabupaten.new_code) == (ChangeKind.RENUMBERED, "94.02")


# --- unknown, stable, removed ----------------------------------------------------------------


@pytest.mark.parametrize("code", ["16.99.99.9999", "32.04.05", "16.06.03.2999"])
def test_unknown_code(code: str) -> None:
    r = resolve(code)
    assert r.unknown and r.current_code is None and not (r.superseded or r.ambiguous)
    assert "Sumatera Selatan" in r.message_en and "tidak dikenal" in r.message_id


def test_undotted_code_is_not_taken_for_a_kemendagri_code() -> None:
    r = resolve("1606031007")
    assert r.unknown and r.level is None and "BPS" in r.message_en and "BPS" in r.message_id


@pytest.mark.parametrize(
    ("code", "name"),
    [("16.06.15.2001", "Jirak"), ("16.71", "Kota Palembang"), ("16. 06. 15", "Jirak Jaya")],
)
def test_stable_code(code: str, name: str) -> None:
    r = resolve(code)
    assert r.current_code == code.replace(" ", "") and r.current_name == name
    assert not (r.superseded or r.area_changed or r.ambiguous or r.unknown)
    assert r.regulation is None and r.candidates == ()
    assert "tidak berubah" in r.message_id and "has not changed" in r.message_en


def test_removed_code_has_no_successor(history: CodeHistory) -> None:
    (change,) = history.changes_for("16.11.02.2019")  # Pagar Alam, Empat Lawang, gone in 2018
    assert change.kind is ChangeKind.REMOVED
    r = resolve("16.11.02.2019", history=history)
    assert r.removed and r.current_code is None and not r.ambiguous
    assert "Permendagri 137/2017" in r.message_en


def test_every_code_gone_from_the_current_version_is_in_the_history(reference_dir: Path) -> None:
    tables = load_versions(reference_dir / "wilayah_versions")
    history = _derived(reference_dir)
    gone = {c for t in tables[:-1] for c in t.regions if c not in tables[-1]}
    listed = {c.old_code for c in history.changes if c.supersedes}
    assert gone == listed


# --- versions, and the shipped files ---------------------------------------------------------


def test_versions_and_the_one_in_force() -> None:
    assert [v.year for v in VERSIONS] == [2016, 2018, 2020, 2022, 2023, 2025]
    assert CURRENT == Version(2025, "Kepmendagri 300.2.2-2430/2025")
    assert version(2020).regulation == PERMENDAGRI_72_2019
    assert [version_in_force(y).year for y in (2010, 2017, 2019, 2021, 2024, 2030)] == [
        2016,
        2016,
        2018,
        2020,
        2023,
        2025,
    ]


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ("16.01,Ogan,kecamatan", "not shaped as a kecamatan"),
        ("16.01,Ogan,kabupaten", "unknown level"),
        ("16,A,provinsi\n16,B,provinsi", "appears twice"),
    ],
)
def test_malformed_version_file_is_refused(rows: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_regions("kode,nama,level\n" + rows + "\n", "x.csv")


def test_history_csv_round_trips(history: CodeHistory) -> None:
    text = history_csv(history)
    assert history_csv(parse_history(text, history.current)) == text


def test_shipped_data_is_what_the_build_script_makes(reference_dir: Path, tmp_path: Path) -> None:
    script = REPO_ROOT / "tools" / "build_reference.py"
    run = subprocess.run(
        [sys.executable, str(script), str(reference_dir), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    built_names = sorted(p.name for p in tmp_path.iterdir())
    assert {HISTORY_FILE, CURRENT_FILE, CROSSWALK_FILE, "names_history_sumsel.csv"} <= set(
        built_names
    )
    for name in built_names:  # every shipped province's files, the earlier names included
        built, shipped = (tmp_path / name).read_bytes(), (DATA_DIR / name).read_bytes()
        assert built == shipped, f"{name} is stale: run python tools/build_reference.py"
    assert history_csv(shipped_history()) == (DATA_DIR / HISTORY_FILE).read_text(encoding="utf-8")
    assert len(shipped_crosswalk()) == len(
        read_bps_tsv(reference_dir / "bps_to_kemendagri_sumsel.tsv")
    )
