"""Region schemes (issue 15): BPS codes never loaded as other villages, BPS codes mapped through
the crosswalk rebuilt against current codes, names with prefixes and aliases, superseded codes,
a code contradicted by its name, a file in the wrong scheme, and the 10-digit message.

The Musi Banyuasin files are built from the shipped reference (serasan/reference/data); the tests
that check it against ../shared read it through the root conftest's `shared_dir`, which fails,
never skips, when ../shared is missing.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from serasan.config.catalog import Catalog, Dataset
from serasan.config.settings import Settings
from serasan.parse import regions
from serasan.parse.reader import ParseError, ParseResult, parse_file
from serasan.reference import provinces
from serasan.reference.history import derive_history
from serasan.reference.names import match_name
from serasan.reference.resolve import read_bps_tsv, rebuild_crosswalk
from serasan.reference.versions import Level, load_versions

BANK = "muba_bank_sampah"  # desa level, Musi Banyuasin (16.06)
CCTV = "muba_cctv_kita"  # kecamatan level, Musi Banyuasin
WISATA = "muaraenim_kunjungan_wisata"  # kecamatan level, Muara Enim (16.03)


# --- helpers --------------------------------------------------------------------------------


def _variant(
    catalog: Catalog, ds_id: str, region: dict[str, Any], extra: list[dict[str, Any]] = ()
) -> Dataset:
    """The catalog's dataset with another region block and extra string columns."""
    ds = catalog.dataset(ds_id)
    data = ds.model_dump()
    data["columns"] = [*data["columns"], *extra]
    data["region"] = {"column": ds.region.column, "level": ds.region.level, **region}  # type: ignore[union-attr]
    return Dataset.model_validate(data)


def _string(name: str, label: str | None = None) -> dict[str, Any]:
    return {"name": name, "type": "string", "label": label, "description": name}


def _bank_file(
    codes: list[str], names: list[str] | None = None, header: str = "Nama Desa"
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    labels = ["Periode", "Kode Bank Sampah", "Kode Desa", "Nasabah Aktif"]
    labels += ["Sampah Terkelola (kg)", "Nilai Tabungan (Rp)"]
    writer.writerow(labels + ([header] if names is not None else []))
    for i, code in enumerate(codes):
        row = ["Mei 2026", f"BS-1606-{i:03d}", code, 10, "12,5", "Rp 100.000"]
        writer.writerow(row + ([names[i]] if names is not None else []))
    return buf.getvalue().encode()


def _cctv_file(values: list[str], year: int = 2026) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["Periode", "Kode Kamera", "Kode Kecamatan", "Lokasi", "Jam Online"])
    for i, value in enumerate(values):
        writer.writerow([f"Mei {year}", f"CCTV-{i:03d}", value, "Pasar Randik", "600"])
    return buf.getvalue().encode()


def _parse(data: bytes, ds: Dataset, catalog: Catalog) -> ParseResult:
    result = parse_file(data, "berkas.csv", ds, aliases=catalog.aliases)
    assert result.rows_in == result.table.num_rows + len(result.rejects)
    return result


def _muba_bps_villages() -> dict[str, str]:
    """BPS desa code -> current Kemendagri code, every mapped village of Musi Banyuasin."""
    p = provinces.province("16")
    assert p is not None
    return {
        bps: e.kemendagri_code
        for bps, e in sorted(p.crosswalk.items())
        if bps.startswith("1606") and len(bps) == 10 and e.kemendagri_code
    }


def _undotted(code: str) -> str:
    return f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"


# --- BPS codes under the default scheme -----------------------------------------------------


def test_a_bps_coded_file_under_the_default_scheme_is_refused_with_both_counts(
    catalog: Catalog,
) -> None:
    """Every mapped Musi Banyuasin village by its BPS code: read as undotted Kemendagri codes,
    some are real codes of other villages. None of them may load."""
    villages = _muba_bps_villages()
    other = [b for b, k in villages.items() if provinces.current_region(_undotted(b))]
    other_villages = [b for b in other if _undotted(b) != villages[b]]
    assert len(other_villages) >= 0.1 * len(villages)  # the trap is real: ~15 %
    for scheme in ({}, {"undotted": True}):  # even when the catalog allows undotted codes
        ds = _variant(catalog, BANK, scheme)
        with pytest.raises(ParseError) as err:
            _parse(_bank_file(list(villages)), ds, catalog)
        message = str(err.value)
        assert f"dari {len(villages)} nilai berbeda" in message
        assert f"sedangkan {len(villages)} (100%) terbaca sebagai kode BPS" in message
        assert f"and {len(villages)} as BPS codes" in message
        assert "`scheme: bps`" in message and "SERASAN_REGION_MATCH_MIN" in message
    # the count under the declared scheme: exactly the values that happen to be codes
    counts = regions.detect_scheme(list(villages), "16.06", "desa_kelurahan")
    assert counts == {"kemendagri": len(other), "bps": len(villages), "name": 0}


def test_bps_codes_among_kemendagri_codes_are_rejected_rows_never_other_villages(
    catalog: Catalog,
) -> None:
    villages = _muba_bps_villages()
    trap = next(b for b in villages if provinces.current_region(_undotted(b)))
    good = list(villages.values())[:30]
    result = _parse(_bank_file([*good, trap, "1606031007"]), catalog.dataset(BANK), catalog)
    assert result.table.column("kode_desa").to_pylist() == good
    assert _undotted(trap) not in result.table.column("kode_desa").to_pylist()
    assert [(r.row, r.column, r.value) for r in result.rejects] == [
        (32, "kode_desa", trap),
        (33, "kode_desa", "1606031007"),
    ]


def test_the_ten_digit_message_explains_both_readings_and_the_fix(catalog: Catalog) -> None:
    good = list(_muba_bps_villages().values())[:10]
    result = _parse(_bank_file([*good, "1606031007"]), catalog.dataset(BANK), catalog)
    (reject,) = result.rejects
    assert reject.row == 12 and reject.column == "kode_desa" and reject.value == "1606031007"
    assert reject.reason_id.startswith(
        "kolom 'Kode Desa' berisi '1606031007', seharusnya kode Kemendagri desa/kelurahan: "
        "1606031007 adalah 10 angka tanpa titik, yang bisa dibaca dua cara: "
        "sebagai kode Kemendagri tanpa titik berarti 16.06.03.1007, yang tidak ada; "
        "sebagai kode BPS (kecamatan BPS 1606031, desa 007) berarti 16.06.15.2001 (Jirak)."
    )
    assert "`scheme: bps`" in reject.reason_id and "`undotted: true`" in reject.reason_id
    assert "reads two ways" in reject.reason_en and "`scheme: bps`" in reject.reason_en
    assert reject.expected_id == "kode Kemendagri desa/kelurahan"  # rows counted per problem


def test_undotted_kemendagri_codes_load_only_where_declared(catalog: Catalog) -> None:
    good = list(_muba_bps_villages().values())[:10]
    undotted = [c.replace(".", "") for c in good]
    refused = _parse(_bank_file(undotted), catalog.dataset(BANK), catalog)
    assert refused.table.num_rows == 0 and len(refused.rejects) == 10
    ds = _variant(catalog, BANK, {"undotted": True})
    loaded = _parse(_bank_file(undotted), ds, catalog)
    assert loaded.rejects == [] and loaded.table.column("kode_desa").to_pylist() == good
    assert any("undotted: true" in n for n in loaded.notes)


# --- scheme: bps ----------------------------------------------------------------------------


def test_bps_scheme_maps_every_village_and_keeps_the_code_as_sent(catalog: Catalog) -> None:
    villages = _muba_bps_villages()
    ds = _variant(
        catalog,
        BANK,
        {"scheme": "bps", "source_column": "kode_desa_bps"},
        [_string("kode_desa_bps", "Kode Desa BPS")],
    )
    result = _parse(_bank_file(list(villages)), ds, catalog)
    assert result.rejects == []
    rows = result.table.to_pylist()
    assert {r["kode_desa_bps"]: r["kode_desa"] for r in rows} == villages
    jirak = next(r for r in rows if r["kode_desa_bps"] == "1606031007")
    assert jirak["kode_desa"] == "16.06.15.2001"  # superseded on the crosswalk's side
    (moved,) = [n for n in result.notes if "renumbered" in n]  # Jirak Jaya's twelve villages
    assert "12 values in 12 rows" in moved and "kept in column 'Kode Desa BPS'" in moved
    assert not any("absent from the file" in n and "Kode Desa BPS" in n for n in result.notes)


def test_bps_scheme_matches_the_shared_crosswalk_carried_through_the_history(
    shared_dir: Path, catalog: Catalog
) -> None:
    """Checked against ../shared by hand: the source crosswalk points Jirak at 16.06.03.2001,
    the 2020 version renumbered it 16.06.15.2001; every other village agrees likewise."""
    reference = shared_dir / "reference"
    pairs = read_bps_tsv(reference / "bps_to_kemendagri_sumsel.tsv")
    assert dict(pairs)["1606031007"] == "16.06.03.2001"
    history = derive_history(load_versions(reference / "wilayah_versions"))
    expected = {
        e.bps_code: e.kemendagri_code
        for e in rebuild_crosswalk(pairs, history)
        if e.bps_code.startswith("1606") and len(e.bps_code) == 10 and e.kemendagri_code
    }
    ds = _variant(catalog, BANK, {"scheme": "bps"})
    result = _parse(_bank_file(list(expected)), ds, catalog)
    assert result.rejects == []
    assert result.table.column("kode_desa").to_pylist() == list(expected.values())
    assert expected["1606031007"] == "16.06.15.2001"


def test_bps_codes_without_a_match_or_with_several_are_refused_saying_where(
    catalog: Catalog,
) -> None:
    ds = _variant(catalog, WISATA, {"scheme": "bps"})
    values = ["1603010", "1603070", "1603999", "16.03.01"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.header for c in ds.columns])
    for v in values:
        row = {c.name: "" for c in ds.columns}
        row.update(periode="Mei 2026", objek_wisata="Bukit Serelo", kode_kecamatan=v)
        writer.writerow([row.get(c.name) or "1" for c in ds.columns])
    result = parse_file(buf.getvalue().encode(), "wisata.csv", ds, aliases=catalog.aliases)
    by_value = {r.value: r for r in result.rejects}
    assert set(by_value) == {"1603070", "1603999", "16.03.01"}
    split = by_value["1603070"].reason_id  # Rambang Dangku: its villages are now in two kecamatan
    assert "kode BPS 1603070 bisa berarti beberapa kode Kemendagri" in split
    assert "16.03.03 (Rambang Niru), 16.03.26 (Empat Petulai Dangku)" in split
    assert "crosswalk BPS-Kemendagri Sumatera Selatan" in split and "tidak menebak" in split
    assert "kode BPS 1603999 tidak ada di crosswalk BPS-Kemendagri Sumatera Selatan" in (
        by_value["1603999"].reason_id
    )
    assert "7 angka tanpa titik" in by_value["16.03.01"].reason_id


def test_a_bps_village_without_a_kemendagri_match_says_what_was_looked_up_where() -> None:
    out = regions.resolve_bps("1603050004", Level.DESA_KELURAHAN)
    assert not out.ok
    assert out.why_id.startswith(
        "kode BPS 1603050004 tidak ada padanannya di kode Kemendagri (crosswalk BPS-Kemendagri "
        "Sumatera Selatan (kodewilayah/explorer 9549551, "
        "serasan/reference/data/bps_kemendagri_current_sumsel.csv"
    )
    assert "has no Kemendagri match" in out.why_en


# --- superseded codes and changed areas -----------------------------------------------------


def test_a_superseded_code_becomes_the_current_one_and_keeps_the_original(
    catalog: Catalog,
) -> None:
    ds = _variant(catalog, BANK, {"source_column": "kode_desa_asli"}, [_string("kode_desa_asli")])
    result = _parse(_bank_file(["16.06.03.2001", "16.06.15.2002"]), ds, catalog)
    assert result.rejects == []
    assert [(r["kode_desa"], r["kode_desa_asli"]) for r in result.table.to_pylist()] == [
        ("16.06.15.2001", "16.06.03.2001"),
        ("16.06.15.2002", "16.06.15.2002"),
    ]
    (note,) = [n for n in result.notes if "superseded" in n]
    assert "'16.06.03.2001' -> 16.06.15.2001" in note and "kode_desa_asli" in note


def test_a_changed_area_is_flagged_for_data_before_the_change_only(catalog: Catalog) -> None:
    ds = _variant(catalog, WISATA, {})
    spec = ds.region
    assert spec is not None
    before = regions.resolve_column(["16.03.03"], spec, "16.03", years=[2018])
    after = regions.resolve_column(["16.03.03"], spec, "16.03", years=[2021])
    assert before.codes == after.codes == ["16.03.03"] and before.rejects == after.rejects == []
    (flag,) = before.notes
    assert "16.03.03" in flag and "Rambang Dangku" in flag and "16.03.26" in flag
    assert after.notes == []
    assert provinces.area_changed("16.03.03", 2018) and not provinces.area_changed("16.03.03", 2021)


def test_an_old_code_that_split_ambiguously_is_refused_naming_the_candidates() -> None:
    """No Sumatera Selatan or Jawa Barat code split ambiguously (the history tells them all
    apart); a national case, rebuilt from the versions, is in tests/unit/reference. Here the
    resolver passes such a history's answer on: refused, with the candidates."""
    out = regions.resolve_bps("1607030", Level.KECAMATAN)
    assert not out.ok
    assert "16.07.04" in out.why_en and "16.07.21" in out.why_en and "does not guess" in out.why_en


# --- names ----------------------------------------------------------------------------------


def test_kecamatan_names_with_prefixes_case_and_spaces_resolve(catalog: Catalog) -> None:
    ds = _variant(
        catalog, CCTV, {"scheme": "name", "source_column": "nama_asli"}, [_string("nama_asli")]
    )
    names = ["Kec. Sungai Lilin", "KECAMATAN LAIS", "sungai  keruh", "Jirak Jaya", "Kec.Lais"]
    result = _parse(_cctv_file(names), ds, catalog)
    assert result.rejects == []
    assert result.table.column("kode_kecamatan").to_pylist() == [
        "16.06.07",
        "16.06.02",
        "16.06.03",
        "16.06.15",
        "16.06.02",
    ]
    assert result.table.column("nama_asli").to_pylist() == names
    (note,) = [n for n in result.notes if "normalised" in n]
    assert "'Kec. Sungai Lilin' -> 16.06.07" in note


def test_an_unmatched_name_is_refused_with_the_closest_candidates(catalog: Catalog) -> None:
    ds = _variant(catalog, CCTV, {"scheme": "name"})
    result = _parse(_cctv_file(["Sungai Lilim", "Palembang"]), ds, catalog)
    lilim, palembang = result.rejects
    assert lilim.reason_id.endswith(
        "tidak ada kecamatan bernama 'Sungai Lilim' di Kabupaten Musi Banyuasin (16.06) "
        "(kode wilayah Kepmendagri 300.2.2-2430/2025, serasan/reference/data) maupun di alias "
        f"{catalog.aliases.source}; yang paling mirip: Sungai Lilin (16.06.07). "
        "Bila itu nama lain dari salah satunya, tambahkan alias"
    )
    assert "closest: Sungai Lilin (16.06.07)" in lilim.reason_en
    assert "Palembang" in palembang.reason_en and "closest" not in palembang.reason_en


def test_an_ambiguous_desa_name_needs_its_kecamatan(catalog: Catalog) -> None:
    """Mekar Jaya is a desa in four kecamatan of Musi Banyuasin: by name alone it is refused
    naming all four; with the kecamatan column it resolves."""
    ds = _variant(catalog, BANK, {"scheme": "name"})
    result = _parse(_bank_file(["Mekar Jaya"]), ds, catalog)
    (reject,) = result.rejects
    for code in ("16.06.08.2005", "16.06.09.2058", "16.06.11.2027", "16.06.15.2011"):
        assert code in reject.reason_id
    assert "tidak memilih" in reject.reason_id
    ds = _variant(
        catalog,
        BANK,
        {"scheme": "name", "parent_column": "kecamatan"},
        [_string("kecamatan", "Kecamatan")],
    )
    kec = "Kecamatan"
    result = _parse(
        _bank_file(["Mekar Jaya", "Desa Jirak"], ["Kec. Jirak Jaya"] * 2, kec), ds, catalog
    )
    assert result.rejects == []
    assert result.table.column("kode_desa").to_pylist() == ["16.06.15.2011", "16.06.15.2001"]
    result = _parse(_bank_file(["Mekar Jaya"], ["Jirak Jaya Baru"], kec), ds, catalog)
    (reject,) = result.rejects
    assert reject.column == "kecamatan" and "Jirak Jaya Baru" in reject.reason_en


def test_kabupaten_names_with_aliases_and_prefixes(catalog: Catalog) -> None:
    """The spellings of the real Sumatera Selatan tables in ../shared/samples/real."""
    expected = {
        "Banyu Asin": ("16.07", "name"),
        "Kota Lubuklinggau": ("16.73", "name"),
        "Lubuk Linggau": ("16.73", "name"),
        "OKU Selatan": ("16.09", "alias"),
        "OKU Timur ": ("16.08", "alias"),
        "PALI": ("16.12", "alias"),
        "Ogan Komering Ilir ": ("16.02", "name"),
        "Penukal Abab Lematang Ilir": ("16.12", "name"),
        "Kab. Muara Enim": ("16.03", "name"),
    }
    for text, (code, how) in expected.items():
        out = regions.resolve_name(text, Level.KABUPATEN_KOTA, "16", catalog.aliases)
        assert (out.code, out.how or "name") == (code, how), text
        if how == "alias":
            assert "alias" in out.why_en and "aliases.yaml" in out.why_en
    jabar = provinces.name_index("32", Level.KABUPATEN_KOTA)
    assert jabar is not None
    bandung = match_name("Bandung", jabar)
    assert bandung.ambiguous and {r.code for r in bandung.candidates} == {"32.04", "32.73"}
    assert match_name("KAB. BANDUNG", jabar).region.code == "32.04"  # type: ignore[union-attr]
    assert match_name("Kota Bandung", jabar).region.code == "32.73"  # type: ignore[union-attr]
    refused = regions.resolve_name("Bandung", Level.KABUPATEN_KOTA, "32")
    assert not refused.ok and "Kabupaten Bandung (32.04), Kota Bandung (32.73)" in refused.why_en


# --- a code and a name ----------------------------------------------------------------------


def test_a_code_whose_name_is_another_regions_is_refused_naming_both(catalog: Catalog) -> None:
    ds = _variant(catalog, BANK, {"name_column": "nama_desa"}, [_string("nama_desa", "Nama Desa")])
    result = _parse(
        _bank_file(
            ["16.06.15.2001", "16.06.15.2001", "16.06.04.2009", "16.06.03.2001"],
            ["Sako Suban", "JIRAK", "Sako Subang", "Jirak"],
        ),
        ds,
        catalog,
    )
    (reject,) = result.rejects
    assert (reject.row, reject.column, reject.value) == (2, "kode_desa", "16.06.15.2001")
    assert (
        "kode 16.06.15.2001 adalah Jirak, tetapi kolom 'Nama Desa' menulis 'Sako Suban', nama "
        "desa/kelurahan lain: Sako Suban (16.06.04.2009)"
    ) in reject.reason_id
    assert result.table.column("kode_desa").to_pylist() == [
        "16.06.15.2001",
        "16.06.04.2009",
        "16.06.15.2001",
    ]
    (misspelt,) = [n for n in result.notes if "check the spelling" in n]
    assert "'Sako Subang' -> 16.06.04.2009" in misspelt


def test_the_name_check_works_under_the_bps_scheme_too(catalog: Catalog) -> None:
    ds = _variant(
        catalog,
        BANK,
        {"scheme": "bps", "name_column": "nama_desa"},
        [_string("nama_desa", "Nama Desa")],
    )
    result = _parse(_bank_file(["1606031007", "1606031007"], ["Jirak", "Sako Suban"]), ds, catalog)
    (reject,) = result.rejects
    assert reject.row == 3 and "Sako Suban (16.06.04.2009)" in reject.reason_en


# --- the whole file, settings, and the functions other stages call --------------------------


def test_a_names_file_declared_as_codes_is_refused_naming_the_name_scheme(
    catalog: Catalog,
) -> None:
    names = ["Sungai Lilin", "Lais", "Sungai Keruh", "Jirak Jaya", "Sekayu"]
    with pytest.raises(ParseError, match=r"`scheme: name`.*of 5 distinct values only 0"):
        _parse(_cctv_file(names), catalog.dataset(CCTV), catalog)
    mismatch = regions.check_scheme(names, catalog.dataset(CCTV).region, "16.06")  # type: ignore[arg-type]
    assert mismatch is not None
    assert (mismatch.likely, mismatch.total, mismatch.declared_count, mismatch.likely_count) == (
        "name",
        5,
        0,
        5,
    )


def test_the_thresholds_are_settings(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({}).region_match_min == 0.5
    s = Settings.from_env({"SERASAN_REGION_MATCH_MIN": "40%", "SERASAN_REGION_OTHER_MIN": "0.8"})
    assert (s.region_match_min, s.region_other_min) == (0.4, 0.8)
    assert Settings.from_env(s.as_env()) == s
    with pytest.raises(ValueError, match="SERASAN_REGION_OTHER_MIN"):
        Settings.from_env({"SERASAN_REGION_OTHER_MIN": "1.5"})
    # 1 of 5 values is a code (20 %), 4 are names (80 %): refused only at OTHER_MIN <= 0.8
    names = ["Sungai Lilin", "Lais", "Sungai Keruh", "Jirak Jaya", "16.06.01"]
    monkeypatch.setenv("SERASAN_REGION_OTHER_MIN", "0.8")
    with pytest.raises(ParseError, match="only 1 resolve as Kemendagri codes, and 4 as region"):
        _parse(_cctv_file(names), catalog.dataset(CCTV), catalog)
    monkeypatch.setenv("SERASAN_REGION_OTHER_MIN", "0.9")
    result = _parse(_cctv_file(names), catalog.dataset(CCTV), catalog)
    assert result.table.num_rows == 5  # names pass to the suite unchanged, as before
    monkeypatch.setenv("SERASAN_REGION_MATCH_MIN", "0.1")
    monkeypatch.setenv("SERASAN_REGION_OTHER_MIN", "0.8")  # 20 % >= 10 %: the declared wins
    assert _parse(_cctv_file(names), catalog.dataset(CCTV), catalog).table.num_rows == 5


def test_resolve_column_and_detect_scheme_for_onboarding_and_quality(catalog: Catalog) -> None:
    spec = catalog.dataset(BANK).region
    assert spec is not None
    codes, rejects, notes = regions.resolve_column(
        ["16.06.15.2001", "16.06.03.2001", "16.03.27.2011", "99.99", None, "1606031007"],
        spec,
        "16.06",
    )
    assert codes == ["16.06.15.2001", "16.06.15.2001", None, None, None, None]
    assert [(r.position, r.column) for r in rejects] == [
        (2, "kode_desa"),
        (3, "kode_desa"),
        (5, "kode_desa"),
    ]
    assert "outside this dataset's area (16.06)" in rejects[0].reason_en
    assert any("superseded" in n for n in notes)
    lenient = regions.resolve_column(["99.99"], spec, "16.06", strict=False)
    assert lenient.codes == ["99.99"] and lenient.rejects == []  # the parser leaves it to GX
    villages = _muba_bps_villages()
    assert regions.detect_scheme(list(villages.values()), "16.06", "desa_kelurahan") == {
        "kemendagri": len(villages),
        "bps": 0,
        "name": 0,
    }
    found = regions.detect_scheme(["Sungai Lilin", "Lais", "Sekayu"], "16.06")
    assert found == {"kemendagri": 0, "bps": 0, "name": 3}


def test_kode_wilayah_written_with_spaces_or_lost_zeros_are_still_read() -> None:
    assert regions.normalise_kode("32. 04. 05") == "32.04.05"
    assert regions.normalise_kode("16.6.1") == "16.06.01"
    assert regions.normalise_kode("160601") == "16.06.01"
    assert regions.normalise_kode("1606031007") == "1606031007"  # never dotted by guess
    assert regions.normalise_kode("1606152001", undotted=True) == "16.06.15.2001"
