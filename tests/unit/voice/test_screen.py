"""Spam and exact duplicates: each rule on rows written for it, every exclusion listed with its
reason, and the counts reconciling with the rows in."""

from __future__ import annotations

import datetime as dt

import pytest

from serasan.voice.records import DatePrecision, VoiceRow
from serasan.voice.screen import DUPLICATE_MIN_WORDS, Excluded, Exclusion, screen

D = dt.date(2026, 3, 2)


def reasons(rows: list[VoiceRow]) -> dict[str, Exclusion]:
    return {e.row_id: e.reason for e in screen(rows).excluded}


@pytest.mark.parametrize(
    ("text", "rating", "reason"),
    [
        (None, None, Exclusion.EMPTY),
        ("   ", None, Exclusion.EMPTY),
        ("...", None, Exclusion.EMPTY),
        ("-", None, Exclusion.EMPTY),
        ("a", None, Exclusion.TOO_SHORT),
        ("promo murah cek https://contoh.example/diskon", 5, Exclusion.LINK),
        ("kunjungi www.jualobat.net sekarang", None, Exclusion.LINK),
        ("order di tokosebelah.com", 5, Exclusion.LINK),
        ("aaaaaaa", 5, Exclusion.REPEATED_CHARACTER),
        ("!!!!!!", 5, Exclusion.REPEATED_CHARACTER),
        ("!!!!!!", None, Exclusion.EMPTY),  # no letter and no rating: rule 1 comes first
    ],
)
def test_spam_rules(text: str | None, rating: int | None, reason: Exclusion) -> None:
    assert reasons([VoiceRow("1", text, rating)]) == {"1": reason}


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        (None, 5),  # a rating without text is a rating
        ("ok", None),  # two letters
        ("👍", None),  # an emoji says something
        ("👍👍👍", 5),  # one character repeated, but an emoji
        ("bagus", 5),
        ("Harga tiket Rp5.000, murah", 4),  # a price is not a link
    ],
)
def test_rows_that_are_not_spam(text: str | None, rating: int | None) -> None:
    assert reasons([VoiceRow("1", text, rating)]) == {}


def test_short_texts_are_never_duplicates() -> None:
    # many citizens write "sangat membantu" on the same day with the same rating
    rows = [VoiceRow(str(i), "Sangat membantu!", 5, D, DatePrecision.DAY) for i in range(1, 30)]
    assert reasons(rows) == {}
    assert DUPLICATE_MIN_WORDS > 2


def test_an_authorless_row_repeated_with_its_date_and_rating_is_an_exact_duplicate() -> None:
    text = "Toilet di taman air kotor sekali, tolong dibersihkan"
    rows = [
        VoiceRow("1", text, 2, D, DatePrecision.DAY),
        VoiceRow("2", text.upper() + "!!!", 2, D, DatePrecision.DAY),  # same once normalised
        VoiceRow("3", text, 2, dt.date(2026, 3, 3), DatePrecision.DAY),  # another day
    ]
    out = screen(rows)
    assert out.excluded == (Excluded("2", Exclusion.DUPLICATE, "1"),)
    assert [r.row_id for r in out.kept] == ["1", "3"]
    other_rating = [rows[0], VoiceRow("4", text, 1, D, DatePrecision.DAY)]
    assert screen(other_rating).excluded == ()


def test_without_author_or_full_date_rows_are_never_duplicates() -> None:
    # "6 years ago", no author: two citizens may well have written the same
    text = "Saya sangat suka alun alun ini"
    rows = [VoiceRow(str(i), text, 5, dt.date(2020, 1, 1), DatePrecision.YEAR) for i in (1, 2)]
    assert screen(rows).excluded == ()
    assert screen([VoiceRow(str(i), text, 5) for i in (1, 2)]).excluded == ()


def test_common_texts_of_many_citizens_are_not_a_campaign() -> None:
    rows = [
        VoiceRow(str(i), t, 5, dt.date(2026, 3, i), DatePrecision.DAY)
        for i, t in enumerate(["sangat membantu sekali terimakasih"] * 4 + ["👍👍👍👍👍"] * 4, 1)
    ]
    assert screen(rows).excluded == ()


def test_with_authors_a_duplicate_is_the_same_author_whatever_the_date() -> None:
    text = "Antrean loket pajak lama sekali hari ini"
    rows = [
        VoiceRow("1", text, 1, D, DatePrecision.DAY, author="Rina"),
        VoiceRow("2", text, 1, dt.date(2026, 4, 1), DatePrecision.DAY, author="rina "),
        VoiceRow("3", text, 1, D, DatePrecision.DAY, author="Joko"),  # someone else
    ]
    assert screen(rows).excluded == (Excluded("2", Exclusion.DUPLICATE, "1"),)


def test_the_same_text_from_many_rows_is_a_campaign_the_first_kept() -> None:
    text = "Wisata terbaik di Sumatera Selatan, ayo datang ke Sekayu bersama keluarga"
    rows = [
        VoiceRow(str(i), text, 5, dt.date(2026, 3, i), DatePrecision.DAY, author=f"akun{i}")
        for i in (12, 3, 7)
    ]
    out = screen(rows)
    assert [r.row_id for r in out.kept] == ["3"]  # the smallest row id, as a number
    assert out.excluded == (
        Excluded("12", Exclusion.COPIES, "3"),
        Excluded("7", Exclusion.COPIES, "3"),
    )


def test_two_rows_with_one_text_are_not_a_campaign() -> None:
    text = "Wisata terbaik di Sumatera Selatan, ayo datang ke Sekayu bersama keluarga"
    rows = [VoiceRow(str(i), text, 5, dt.date(2026, 3, i), DatePrecision.DAY) for i in (1, 2)]
    assert screen(rows).excluded == ()


def test_counts_reconcile_and_list_every_reason() -> None:
    rows = [
        VoiceRow("1", None, None),
        VoiceRow("2", "cek www.promo.xyz", None),
        VoiceRow("3", "bagus", 5),
        VoiceRow("4", None, 4),
    ]
    out = screen(rows)
    assert out.rows_in == 4 == len(out.kept) + len(out.excluded)
    assert dict(out.counts) == {
        Exclusion.EMPTY: 1,
        Exclusion.TOO_SHORT: 0,
        Exclusion.LINK: 1,
        Exclusion.REPEATED_CHARACTER: 0,
        Exclusion.COPIES: 0,
        Exclusion.DUPLICATE: 0,
    }
    assert [r.row_id for r in out.kept] == ["3", "4"]  # the input's order


def test_row_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="repeated: 1"):
        screen([VoiceRow("1", "a", 5), VoiceRow("1", "b", 5)])
