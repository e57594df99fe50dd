"""Themes from the dictionary kept as data: stemmed variants counted once, particles, phrases,
a programme's own themes, and a dictionary that names its mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from serasan.config.catalog import load_catalog
from serasan.voice.themes import ThemeError, load_themes, match

BOOK = load_themes()  # catalog/themes.yaml
DEFAULT = BOOK.themes()


def names(text: str, programme: str | None = None) -> list[str]:
    return [m.theme for m in match(text, BOOK.themes(programme))]


def found(text: str, theme: str) -> tuple[tuple[str, ...], int]:
    m = next(m for m in match(text, DEFAULT) if m.theme == theme)
    return m.keywords, m.hits


def test_the_shipped_dictionary_has_the_default_themes() -> None:
    assert {t.name for t in DEFAULT} >= {
        "kebersihan",
        "parkir",
        "antrean",
        "harga tiket",
        "keamanan",
        "toilet",
        "petugas",
        "pelayanan",
        "aplikasi dan login",
    }


def test_the_shipped_dictionary_names_only_programmes_of_the_catalog() -> None:
    catalog = load_catalog()
    assert BOOK.programmes  # some programmes add themes
    assert BOOK.unknown_programmes(list(catalog.programmes)) == []


@pytest.mark.parametrize(
    "text",
    [
        "Tempatnya kotor",
        "kebersihan kurang",
        "kebersihannya terjaga",
        "tolong dibersihkan",
        "bersih",
    ],
)
def test_variants_of_a_root_keyword_all_name_the_theme(text: str) -> None:
    assert names(text) == ["kebersihan"]


def test_variants_count_once_per_occurrence_and_the_theme_once_per_text() -> None:
    keywords, hits = found("Kebersihan kurang, toiletnya kotor dan bau pesing", "kebersihan")
    assert keywords == ("bersih", "kotor", "bau", "pesing")  # in the dictionary's order
    assert hits == 4
    assert names("Kebersihan kurang, toiletnya kotor dan bau pesing") == ["kebersihan", "toilet"]


def test_slang_variants_are_one_keyword() -> None:
    # ngantri and antrian are written out as antre and antrean, which the root antre covers
    assert found("ngantri lama, antrian panjang", "antrean") == (("antre",), 2)
    assert found("mengantri dari pagi", "antrean") == (("antri",), 1)


def test_a_keyword_that_is_not_a_root_matches_with_particles_but_not_through_its_stem() -> None:
    assert names("petugasnya ramah") == ["petugas"]
    assert names("tugas sekolah anak") == []  # Sastrawi stems petugas to tugas: not matched


def test_keywords_of_several_words_match_in_a_row_and_win_over_their_words() -> None:
    assert found("tiket masuk mahal", "harga tiket") == (("tiket masuk", "mahal"), 2)
    assert names("kamar mandi jorok") == ["kebersihan", "toilet"]
    assert names("kamar tidur, mandi di hotel") == []  # not in a row: a clause between


def test_a_text_carries_several_themes_in_the_dictionarys_order() -> None:
    assert names("parkir susah, tiket mahal, aplikasi error") == [
        "parkir",
        "harga tiket",
        "aplikasi dan login",
    ]


def test_an_empty_text_has_no_theme() -> None:
    assert match("", DEFAULT) == ()
    assert match(None, DEFAULT) == ()


def test_a_programme_adds_its_own_themes_after_the_defaults() -> None:
    themes = [t.name for t in BOOK.themes("muba_taman_air")]
    assert themes[: len(DEFAULT)] == [t.name for t in DEFAULT]
    assert "wahana air" in themes
    assert names("kolam renangnya seru", "muba_taman_air") == ["wahana air"]
    assert names("kolam renangnya seru") == []  # not a default theme


def test_a_programme_adds_keywords_to_a_default_theme_of_the_same_name(tmp_path: Path) -> None:
    path = tmp_path / "themes.yaml"
    path.write_text(
        "default:\n  petugas: [petugas]\nprogrammes:\n  muba_cctv_kita:\n    petugas: [operator]\n",
        encoding="utf-8",
    )
    book = load_themes(path)
    assert [m.theme for m in match("operatornya sigap", book.themes("muba_cctv_kita"))] == [
        "petugas"
    ]
    assert match("operatornya sigap", book.themes()) == ()
    assert len(book.themes("muba_cctv_kita")) == 1  # merged, not a second theme


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("default: {}\n", "default: "),
        ("default:\n  parkir: []\n", "default: Value error, theme 'parkir' has no keywords"),
        ("default:\n  parkir: [parkir]\nprogramme: {}\n", "programme: Extra inputs"),
        (
            "default:\n  parkir: [parkir]\nprogrammes:\n  x:\n    t: []\n",
            "programmes.x.t: no keywords",
        ),
        ("default:\n  parkir: [parkir, ' ']\n", "default.parkir: an empty keyword"),
        ("default: [\n", "not valid YAML"),
    ],
)
def test_a_broken_dictionary_names_the_file_and_the_field(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "themes.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ThemeError) as exc:
        load_themes(path)
    assert str(exc.value).startswith(f"{path}: ")
    assert expected in str(exc.value)
