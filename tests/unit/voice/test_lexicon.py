"""The project's own lexicon: slang, elongation, stems, negation scope, "kurang", intensifiers,
contrast and phrases, on short Indonesian texts written for these tests."""

from __future__ import annotations

from importlib import resources

import pytest

from serasan.voice import lexicon
from serasan.voice.lexicon import score
from serasan.voice.records import Polarity
from serasan.voice.text import BOUNDARY, normalised, read_table, slang, tokens, words

POS, NEG = Polarity.POSITIVE, Polarity.NEGATIVE


def drivers(text: str) -> dict[str, float]:
    return {d.term: d.weight for d in score(text).drivers}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gk bgs", ["tidak", "bagus"]),
        ("GAK BAGUSSS", ["tidak", "bagus"]),
        ("mantul", ["mantap", "betul"]),
        ("apk nya lemot bgt", ["aplikasi", "nya", "lemot", "banget"]),
        ("mantaaap", ["mantap"]),
        ("sampaahhh", ["sampah"]),  # a doubled letter undone where only one is a word
        ("maaf", ["maaf"]),  # and kept where the word has it
        ("alun2 rame", ["alun", "alun", "rame"]),
    ],
)
def test_slang_elongation_and_reduplication_are_written_out(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_clause_ends_become_one_boundary_and_none_at_the_ends() -> None:
    assert words("bagus... tapi kotor!!") == ["bagus", BOUNDARY, "tapi", "kotor"]
    assert normalised("Bagus... tapi KOTOR!!") == "bagus tapi kotor"


def test_every_word_carries_its_sastrawi_stem() -> None:
    assert [(t.word, t.stem) for t in tokens("kebersihannya membantu")] == [
        ("kebersihannya", "bersih"),
        ("membantu", "bantu"),
    ]


def test_plain_polarity_words() -> None:
    assert score("pelayanan bagus").polarity is POS
    assert score("tempatnya kotor").polarity is NEG
    assert drivers("pelayanan bagus") == {"bagus": 2.0}


def test_a_root_word_matches_the_words_built_on_it() -> None:
    assert drivers("kebersihannya terjaga") == {"kebersihannya": 2.0}  # through bersih


def test_a_noun_whose_stem_is_a_sentiment_word_stays_neutral() -> None:
    # penerangan (lighting) is not terang (bright): the lexicon lists it with weight 0
    assert drivers("penerangan di taman") == {}


def test_slang_negation_flips_the_word_after_it() -> None:
    assert score("gk ramah").polarity is NEG
    assert drivers("gk ramah") == {"tidak ramah": -2.0}
    assert score("tidak ribet").polarity is POS  # a negative word flipped


def test_negation_reaches_three_words_not_counting_small_ones() -> None:
    # di, dengan: small words, not counted
    assert drivers("tidak di kelola dengan baik") == {"tidak baik": -2.0}
    # mau, datang, taman: three words, and bagus is out of reach
    found = drivers("tidak mau datang lagi ke taman bagus")
    assert found == {"tidak": -1.0, "bagus": 2.0}


def test_negation_stops_at_a_clause_boundary() -> None:
    # the comma ends the scope: "tidak" flips nothing and counts on its own
    assert drivers("tidak, bagus") == {"tidak": -1.0, "bagus": 2.0}


def test_a_negator_that_flips_nothing_counts_its_own_weight() -> None:
    assert drivers("kode otp tidak dikirim") == {"tidak dikirim": -2.0}  # a phrase
    assert drivers("otp tidak datang") == {"tidak": -1.0}


def test_kurang_flips_a_positive_word_after_it_or_before_it() -> None:
    assert drivers("kurang bersih") == {"kurang bersih": -2.0}
    assert drivers("kebersihan kurang") == {"kebersihan kurang": -2.0}


def test_kurang_keeps_a_negative_word_negative() -> None:
    assert drivers("kurang kotor") == {"kurang kotor": -3.0}


def test_kurang_before_a_neutral_noun_counts_on_its_own() -> None:
    assert drivers("kurang penerangan") == {"kurang": -1.5}
    assert drivers("minim tempat sampah") == {"minim": -1.0}  # "tempat sampah" is neutral


def test_intensifiers_multiply_the_word_next_to_them() -> None:
    assert drivers("bagus banget") == {"bagus banget": 3.0}
    assert drivers("sangat bagus") == {"bagus": 3.0}
    assert drivers("gk bgs bgt") == {"tidak bagus banget": -3.0}


def test_what_follows_a_contrast_weighs_more() -> None:
    found = score("bagus tapi kotor")
    assert found.polarity is NEG
    assert {d.term: d.weight for d in found.drivers} == {"kotor": -4.5, "bagus": 2.0}


def test_phrases_win_over_the_words_inside_them() -> None:
    assert drivers("luar biasa") == {"luar biasa": 3.0}
    assert drivers("biasa aja") == {"biasa saja": -1.5}
    assert drivers("tempat sampah penuh") == {}
    assert drivers("aplikasi sampah") == {"sampah": -2.0}


def test_emoji_count() -> None:
    assert score("👍👍").polarity is POS
    assert drivers("👎") == {"👎": -3.0}


def test_drivers_come_strongest_first_and_sum_to_the_score() -> None:
    found = score("mantap, sangat membantu, tapi kadang lemot")
    weights = [abs(d.weight) for d in found.drivers]
    assert weights == sorted(weights, reverse=True)
    assert found.score == pytest.approx(sum(d.weight for d in found.drivers))


def test_a_text_without_sentiment_words_has_no_drivers_and_is_not_positive() -> None:
    found = score("Jalan ini ke pasar")
    assert found.drivers == ()
    assert found.score == 0
    assert found.polarity is NEG  # positive only above the threshold, 0


def test_the_threshold_is_applied_to_the_sum() -> None:
    assert score("lumayan", threshold=0.0).polarity is POS  # +1
    assert score("lumayan", threshold=1.0).polarity is NEG


def test_the_shipped_data_says_who_wrote_it_and_under_which_licence() -> None:
    for name in ("lexicon_id.tsv", "slang_id.tsv"):
        head = resources.files("serasan.voice").joinpath(f"data/{name}").read_text("utf-8")
        comments = " ".join(ln.lstrip("# ") for ln in head.splitlines()[:6] if ln.startswith("#"))
        assert "Written for Serasan" in comments
        assert "Apache-2.0" in comments
        assert "not derived from" in comments


def test_the_shipped_data_reads_without_duplicates_or_unknown_kinds() -> None:
    lex = lexicon.lexicon()
    rows = read_table("lexicon_id.tsv", 3)
    phrases = sum(len(v) for v in lex.phrases.values())
    assert len(lex.words) + phrases == len(rows)
    kinds = {"word", "negator", "lack", "intensifier", "boundary", "courtesy"}
    assert {kind for _, kind, _ in rows} <= kinds
    assert all(-3 <= float(w) <= 3 for _, kind, w in rows if kind in ("word", "courtesy"))
    assert len(slang()) == len(read_table("slang_id.tsv", 2))
    assert all(k != " ".join(v) for k, v in slang().items())  # no entry maps to itself


def test_a_courtesy_counts_only_where_nothing_else_carries_sentiment() -> None:
    # a complaint signed off politely, as LAPOR complaints are: the thanks do not outweigh it
    signed = lexicon.score(
        "Mohon kolam Taman Air dikuras, airnya keruh dan bau, sudah saya sampaikan ke bapak "
        "[nama] tapi belum ada kabar, Terima kasih."
    )
    assert signed.polarity is Polarity.NEGATIVE
    assert "terima kasih" not in {d.term for d in signed.drivers}
    # thanks alone thank; thanks beside praise leave the praise to speak
    alone = lexicon.score("Terima kasih BPJS")
    assert alone.polarity is Polarity.POSITIVE and [d.term for d in alone.drivers] == [
        "terima kasih"
    ]
    praised = lexicon.score("mantap, makasih")
    assert [d.term for d in praised.drivers] == ["mantap"]
    # a negated courtesy is still read, when it is all there is
    assert lexicon.score("tidak terima kasih").polarity is Polarity.NEGATIVE


def test_a_courtesy_that_signs_a_letter_off_says_nothing() -> None:
    # a complaint with no sentiment word of its own, closed with thanks: no polarity, not praise
    signed = lexicon.score(
        "Selamat siang, Antrean di loket Bapenda sangat panjang, yang buka hanya satu loket, "
        "sudah berkali kali disampaikan, Terima kasih."
    )
    assert signed.drivers == () and signed.polarity is Polarity.NEGATIVE  # score 0: not positive
    assert (
        lexicon.score("sudah tiga kali saya datang. Terima kasih atas perhatiannya.").drivers == ()
    )
    # thanks that open the text, or follow too few words, are thanks
    for text in (
        "Terima kasih atas pelayanannya pak",
        "Sudah beres, terima kasih",
        "makasih bapenda",
    ):
        assert [d.term for d in lexicon.score(text).drivers] == ["terima kasih"], text
