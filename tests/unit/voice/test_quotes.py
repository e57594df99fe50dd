"""Representative quotes: the stated rule (most theme keywords, then the longest text that fits,
then the smallest row id), one quote per row, and nothing returned unmasked."""

from __future__ import annotations

from collections.abc import Iterable

from serasan.publish.pii import mask_text
from serasan.voice.quotes import MAX_CHARS, representative_quotes, shorten
from serasan.voice.records import Polarity, VoiceRow
from serasan.voice.themes import ThemeMatch, load_themes, match

POS, NEG = Polarity.POSITIVE, Polarity.NEGATIVE
THEMES = load_themes().themes()


def analysed(rows: list[VoiceRow]) -> dict[str, tuple[ThemeMatch, ...]]:
    return {r.row_id: match(r.text, THEMES) for r in rows}


def test_the_row_with_most_theme_keywords_wins() -> None:
    rows = [
        VoiceRow("1", "toilet kotor sekali, sangat tidak nyaman untuk keluarga kami", 1),
        VoiceRow("2", "toilet kotor dan bau pesing", 1),  # 3 keywords of kebersihan, row 1 has 1
    ]
    quotes = representative_quotes(rows, analysed(rows), {"1": NEG, "2": NEG}, mask_text)
    assert [(q.theme, q.polarity, q.row_id, q.hits) for q in quotes] == [
        ("kebersihan", NEG, "2", 3),  # kotor, bau, pesing
        ("toilet", NEG, "1", 1),  # row 2 is quoted already
    ]


def test_then_the_longest_text_that_fits_then_the_smallest_row_id() -> None:
    long_text = "parkir " + "luas sekali " * 30  # over MAX_CHARS
    rows = [
        VoiceRow("10", "parkir rapi", 5),
        VoiceRow("9", "parkirnya luas dan rapi", 5),
        VoiceRow("3", "parkirnya rapi dan luas", 5),  # as long as row 9: smaller id
        VoiceRow("4", long_text, 5),
    ]
    assert len(long_text.strip()) > MAX_CHARS
    pol = {r.row_id: POS for r in rows}
    quotes = representative_quotes(rows, analysed(rows), pol, mask_text)
    assert [(q.theme, q.row_id) for q in quotes] == [("parkir", "3")]


def test_a_long_text_is_quoted_only_where_none_fits_and_then_cut_at_a_word() -> None:
    long_text = "Antrean di loket " + "sangat panjang dan lama sekali " * 12
    rows = [VoiceRow("1", long_text, 1)]
    (quote,) = representative_quotes(rows, analysed(rows), {"1": NEG}, mask_text)
    assert len(quote.text) <= MAX_CHARS
    assert quote.text.endswith("…")
    assert long_text.startswith(quote.text[:-1])
    assert not quote.text[:-1].endswith(" ")


def test_one_quote_per_theme_and_polarity_in_the_dictionary_order() -> None:
    rows = [
        VoiceRow("1", "petugasnya ramah sekali", 5),
        VoiceRow("2", "petugas jutek", 1),
        VoiceRow("3", "parkir mahal", 2),  # harga tiket too, but row 3 is quoted for parkir
        VoiceRow("4", "tempat bersih", 4),
    ]
    pol = {"1": POS, "2": NEG, "3": NEG, "4": POS}
    order = [t.name for t in THEMES]
    quotes = representative_quotes(rows, analysed(rows), pol, mask_text, theme_order=order)
    assert [(q.theme, q.polarity, q.row_id) for q in quotes] == [
        ("kebersihan", POS, "4"),
        ("parkir", NEG, "3"),
        ("petugas", POS, "1"),
        ("petugas", NEG, "2"),
    ]


def test_rows_without_polarity_or_text_are_not_quoted() -> None:
    rows = [VoiceRow("1", "parkir susah", 3), VoiceRow("2", None, 1)]
    assert representative_quotes(rows, analysed(rows), {"1": None, "2": NEG}, mask_text) == []


def test_the_quote_is_masked_before_it_is_returned() -> None:
    text = (
        "Petugas Pak Budi Santoso jutek, saya Siti sudah lapor ke 0812-3456-7890 dan "
        "siti.aminah@gmail.com, NIK 1606015708900001"
    )
    rows = [VoiceRow("7", text, 1, author="Siti Aminah")]
    (quote,) = representative_quotes(rows, analysed(rows), {"7": NEG}, mask_text)
    assert quote.row_id == "7"
    for secret in ("Budi", "Santoso", "Siti", "0812", "7890", "gmail", "1606015708900001"):
        assert secret not in quote.text
    assert quote.text == (
        "Petugas Pak [nama] jutek, saya [nama] sudah lapor ke [telepon] dan [email], NIK [NIK]"
    )


def test_the_masker_is_given_the_rows_author() -> None:
    seen: list[tuple[str, tuple[str | None, ...]]] = []

    def spy(text: str, names: Iterable[str | None] = ()) -> str:
        seen.append((text, tuple(names)))
        return "[disamarkan]"

    rows = [VoiceRow("1", "toilet bersih", 5, author="Rina")]
    (quote,) = representative_quotes(rows, analysed(rows), {"1": POS}, spy)
    assert quote.text == "[disamarkan]"
    assert seen == [("toilet bersih", ("Rina",))]


def test_shorten_keeps_short_texts_on_one_line() -> None:
    assert shorten("bagus\n  sekali ") == "bagus sekali"
