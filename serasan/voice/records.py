"""The values the citizen-voice modules hand each other: rows in, polarities and results out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Polarity(StrEnum):
    """What a text says, or what its rating says (1-2 stars negative, 4-5 positive)."""

    POSITIVE = "positif"
    NEGATIVE = "negatif"


class DatePrecision(StrEnum):
    """How much of a row's date is known: "2 years ago" resolves to a year, not a day."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


def rating_polarity(rating: int | float | None) -> Polarity | None:
    """1-2 stars negative, 4-5 positive; 3 stars, no rating or a rating outside 1-5: None."""
    if rating is None or rating != rating:  # NaN
        return None
    if 1 <= rating <= 2:
        return Polarity.NEGATIVE
    if 4 <= rating <= 5:
        return Polarity.POSITIVE
    return None


def row_order(row_id: str) -> tuple[int, str]:
    """Row ids in order, numeric ids as numbers ("9" before "10"): what "the first row" and
    "the smallest row id" mean in the screening and quoting rules."""
    return (0, f"{int(row_id):020d}") if row_id.isdigit() else (1, row_id)


@dataclass(frozen=True)
class VoiceRow:
    """One review, complaint or survey comment as the analyses read it.

    `row_id` is Serasan's own row id (never a source's review id, which can identify its
    author); `rating` is 1-5 where the source has one; `date` with its `precision`; `author`
    only where the source has one, used to tell duplicates apart and to mask the author's name
    in quotes, never returned.
    """

    row_id: str
    text: str | None
    rating: float | None = None  # 1-5 stars (or the channel's scale)
    date: dt.date | None = None
    precision: DatePrecision | None = None
    author: str | None = None


@dataclass(frozen=True)
class Driver:
    """A word (or phrase) of the text and how much it pushed the score: + towards positive."""

    term: str
    weight: float


@dataclass(frozen=True)
class Sentiment:
    """The polarity of one text, its score, the method that gave it and the words behind it
    (strongest first).

    `score`: the lexicon's weighted sum, or the model's log-odds of positive; either way
    positive means positive. `drivers` is empty when no word of the text carries weight.
    """

    polarity: Polarity
    score: float
    method: str
    drivers: tuple[Driver, ...]
