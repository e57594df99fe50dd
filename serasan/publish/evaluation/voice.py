"""The evaluation pack's one door into `serasan.voice`: every call the pack makes to the citizen
voice analyses goes through this module, so a change of that package's API touches this file.

What the pack takes from it:

- **screening** (`serasan.voice.screen`): spam and exact duplicates excluded by its stated rules,
  each excluded row listed with its reason and the row it repeats;
- **the sentiment method** (`serasan.voice.sentiment.choose`): the project's lexicon, or a small
  model trained on the regency's own rated reviews of the evaluated days, whichever agrees
  better with the ratings (balanced accuracy, 5-fold cross-validated for the model); the choice,
  its reason and both measurements are what the pack's appendix states as the measured accuracy;
- **each row's polarity** (`sentiment.polarities`): its rating where it is 1-2 or 4-5 stars,
  else what the chosen method reads in its text;
- **themes** (`serasan.voice.themes`): the dictionary of the catalog's `themes.yaml`, the
  default themes plus the programme's own;
- **monthly counts** (`serasan.voice.trends.monthly`): at the resolution the dates support,
  with the rows left out and why;
- **representative quotes** (`serasan.voice.quotes`): one per top theme and polarity, by its
  stated rule, from texts already masked by the caller (`pii.mask_voice_record`) and masked
  again by the quotes module's own required masker (`pii.mask_text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from serasan.publish import pii
from serasan.voice import lexicon, quotes, screen, sentiment, themes, trends
from serasan.voice.measure import Agreement
from serasan.voice.records import DatePrecision, Polarity, VoiceRow, rating_polarity

POSITIVE, NEGATIVE = Polarity.POSITIVE.value, Polarity.NEGATIVE.value
YEAR_ONLY = trends.YEAR_ONLY
QUOTE_THEMES = 3  # quotes are drawn for the programme's most mentioned themes
QUOTE_MAX_CHARS = quotes.MAX_CHARS
DUPLICATE = screen.Exclusion.DUPLICATE.value

Analyzer = sentiment.Analyzer
ThemeBook = themes.ThemeBook
Theme = themes.Theme


@dataclass(frozen=True)
class Excluded:
    row_id: str
    reason: str  # in Bahasa Indonesia, as the screening rule names it
    same_as: str | None


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    rows: int
    positive: int
    negative: int


@dataclass(frozen=True)
class Quote:
    row_id: str
    text: str  # masked, one line
    theme: str
    polarity: str


@dataclass(frozen=True)
class Accuracy:
    """The chosen method's agreement with the ratings' polarity on the regency's own reviews."""

    method: str
    balanced_accuracy: float  # 0..1
    low: float
    high: float
    n_positive: int
    n_negative: int
    cross_validated: bool


@dataclass(frozen=True)
class Method:
    """The sentiment method the pack uses, and why."""

    analyzer: Analyzer
    name: str  # 'leksikon' or 'model'
    reason: str  # Bahasa Indonesia
    rated_texts: int
    lexicon: Agreement | None
    model: Agreement | None  # the model's cross-validated agreement, where one was trained
    model_data_sha256: str | None
    model_setup: str | None


def row(
    row_id: str,
    text: str | None,
    rating: float | None,
    date: dt.date | None,
    precision: str | None,
    author: str | None,
) -> VoiceRow:
    return VoiceRow(
        row_id=row_id,
        text=text,
        rating=None if rating is None else int(round(rating)),
        date=date,
        precision=DatePrecision(precision) if precision else None,
        author=author,
    )


def screened(rows: Sequence[VoiceRow]) -> tuple[list[VoiceRow], list[Excluded]]:
    result = screen.screen(rows)
    return list(result.kept), [
        Excluded(e.row_id, e.reason.value, e.same_as) for e in result.excluded
    ]


def choose(rows: Sequence[VoiceRow], trained_on: str) -> Method:
    """The method for the pack, measured on `rows` (the regency's kept rows)."""
    analyzer, choice = sentiment.choose(rows, trained_on)
    record = choice.training
    return Method(
        analyzer=analyzer,
        name=choice.method,
        reason=choice.reason,
        rated_texts=choice.rated_texts,
        lexicon=choice.lexicon_agreement,
        model=None if record is None else record.cross_validation,
        model_data_sha256=None if record is None else record.data_sha256,
        model_setup=None if record is None else record.setup,
    )


def polarities(rows: Sequence[VoiceRow], method: Method) -> dict[str, str | None]:
    """Row id -> 'positif', 'negatif' or None (a 3-star or unrated row without text)."""
    return {
        p.row_id: None if p.polarity is None else p.polarity.value
        for p in sentiment.polarities(rows, method.analyzer)
    }


def rating_side(rating: float | None) -> str | None:
    side = rating_polarity(rating)
    return None if side is None else side.value


def theme_book(catalog_root: Path) -> ThemeBook:
    return themes.load_themes(catalog_root / themes.THEMES_FILE)


def programme_themes(book: ThemeBook, programme: str) -> tuple[Theme, ...]:
    return book.themes(programme)


def theme_matches(text: str | None, of: Sequence[Theme]) -> tuple[themes.ThemeMatch, ...]:
    return themes.match(text, of)


def monthly(
    rows: Sequence[VoiceRow], polarity: Mapping[str, str | None]
) -> tuple[list[Month], dict[str, int]]:
    """Rows per month at the precision of their dates, and the rows left out by reason."""
    sides = {k: None if v is None else Polarity(v) for k, v in polarity.items()}
    trend = trends.monthly(rows, sides)
    return (
        [Month(m.month, m.rows, m.positive, m.negative) for m in trend.months],
        {k: v for k, v in trend.left_out.items() if v},
    )


def pick_quotes(
    rows: Sequence[VoiceRow],
    matches: Mapping[str, Sequence[themes.ThemeMatch]],
    polarity: Mapping[str, str | None],
    theme_order: Sequence[str],
) -> list[Quote]:
    """One quote per theme of `theme_order` and polarity, by the quotes module's rule.
    `rows` carry texts masked already; the module masks them again with `pii.mask_text`."""
    sides = {k: None if v is None else Polarity(v) for k, v in polarity.items()}
    found = quotes.representative_quotes(rows, matches, sides, pii.mask_text, theme_order)
    return [Quote(q.row_id, q.text, q.theme, q.polarity.value) for q in found]


def accuracy(method: Method) -> Accuracy | None:
    """The chosen method's measured agreement; None where it could not be measured (no rated
    texts of both polarities)."""
    measured = method.model if method.name == "model" else method.lexicon
    if measured is None:
        return None
    return Accuracy(
        method=method.name,
        balanced_accuracy=measured.balanced_accuracy,
        low=measured.interval.low,
        high=measured.interval.high,
        n_positive=measured.n_positive,
        n_negative=measured.n_negative,
        cross_validated=method.name == "model",
    )


def method_text() -> str:
    """The two sentiment methods in Bahasa Indonesia, for the pack's appendix."""
    lex = lexicon.lexicon()
    phrases = sum(len(v) for v in lex.phrases.values())
    return (
        "Polaritas sebuah ulasan adalah ratingnya bila 1-2 bintang (negatif) atau 4-5 bintang "
        "(positif); teks tanpa rating seperti itu (pengaduan, komentar survei, ulasan 3 "
        "bintang) dibaca oleh metode sentimen. Ada dua metode, keduanya luring dan dapat "
        "dijelaskan: leksikon yang ditulis sendiri oleh proyek Serasan "
        f"({len(lex.words)} kata dan {phrases} frasa; kata tidak baku seperti 'gk', 'bgt', "
        "'mantul' ditulis baku, kata dicocokkan lewat kata dasarnya (Sastrawi), kata ingkar "
        f"membalik kata bersentimen dalam jangkauan {lexicon.NEGATION_SCOPE} kata, bagian "
        "setelah 'tapi' berbobot lebih), dan model kecil (scikit-learn) yang dilatih pada "
        "ulasan berating milik kabupaten sendiri dalam tahun evaluasi, dengan jumlah bobot "
        "leksikon sebagai salah satu cirinya. Yang dipakai adalah yang lebih sesuai dengan "
        "rating menurut akurasi seimbang (rata-rata ketepatan pada ulasan positif dan negatif; "
        "model diukur dengan validasi silang 5 lipatan); tanpa cukup ulasan berating, leksikon."
    )
