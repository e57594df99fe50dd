"""Which sentiment method a deployment uses, chosen by measurement on its own rated reviews.

Two methods, both explainable:

- the **lexicon** (`serasan.voice.lexicon`), written for the project, which needs no data and
  is always available;
- the **model** (`serasan.voice.model`), trained on the deployment's rated reviews (at least
  `MIN_PER_POLARITY` of each polarity, 3 stars left out), with the lexicon's sums among its
  features.

`choose` measures both on the rated reviews it is given: the lexicon as it is (it learns
nothing, so it is scored on all of them), the model by 5-fold cross-validation. The model is
used where its balanced accuracy is higher; otherwise, or where there are too few ratings to
train, the lexicon. The choice, both measurements and the model's training record come back as
a `SentimentChoice` for the caller to store. The chosen method is then applied where there is
no rating (complaints, survey comments); where a row has a rating of 1-2 or 4-5, the rating is
its polarity (`polarities`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from serasan.voice import lexicon
from serasan.voice.measure import Agreement, agreement
from serasan.voice.model import MIN_PER_POLARITY, TooFewRatings, TrainingRecord, train
from serasan.voice.records import Polarity, Sentiment, VoiceRow, rating_polarity

__all__ = [
    "MIN_PER_POLARITY",
    "Analyzer",
    "LexiconMethod",
    "RowPolarity",
    "SentimentChoice",
    "choose",
    "polarities",
]


class Analyzer(Protocol):
    """A sentiment method: one text with its drivers, or many texts' polarities."""

    @property
    def method(self) -> str: ...

    def analyse(self, text: str) -> Sentiment: ...

    def predict(self, texts: Sequence[str]) -> list[Polarity]: ...


class LexiconMethod:
    """The lexicon as a method: positive when its sum is above `threshold`."""

    method = lexicon.METHOD

    def __init__(self, threshold: float = 0.0):
        self.threshold = threshold

    def analyse(self, text: str) -> Sentiment:
        return lexicon.score(text, self.threshold)

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        return [self.analyse(t).polarity for t in texts]


@dataclass(frozen=True)
class SentimentChoice:
    """The method chosen for a deployment, why, and what each method scored."""

    method: str  # lexicon.METHOD or model.METHOD
    reason: str  # in Bahasa Indonesia, for the methods appendix
    rated_texts: int  # rated 1-2 or 4-5, with text: what both were measured on
    lexicon_agreement: Agreement | None  # None without texts of both polarities
    training: TrainingRecord | None  # None when no model could be trained

    @property
    def agreement(self) -> Agreement | None:
        """The chosen method's measured agreement with the ratings (the model's is
        cross-validated), for the methods appendix; None where nothing could be measured."""
        if self.method == lexicon.METHOD:
            return self.lexicon_agreement
        return self.training.cross_validation if self.training is not None else None


def _percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + " %"


def choose(rows: Iterable[VoiceRow], trained_on: str) -> tuple[Analyzer, SentimentChoice]:
    """The better of lexicon and model on the rated rows (pass the rows `screen` kept)."""
    texts: list[str] = []
    labels: list[Polarity] = []
    for row in rows:
        polarity = rating_polarity(row.rating)
        if row.text and row.text.strip() and polarity is not None:
            texts.append(row.text)
            labels.append(polarity)
    lex = LexiconMethod()
    both = Polarity.POSITIVE in labels and Polarity.NEGATIVE in labels
    lex_score = agreement(labels, lex.predict(texts)) if both else None
    try:
        model, record = train(texts, labels, trained_on)
    except TooFewRatings as exc:
        reason = (
            f"leksikon: ulasan berperingkat terlalu sedikit untuk melatih model ({exc.positive} "
            f"positif dan {exc.negative} negatif; model memerlukan sedikitnya {exc.minimum} "
            "dari masing-masing)"
        )
        return lex, SentimentChoice(lex.method, reason, len(texts), lex_score, None)
    assert record.cross_validation is not None and lex_score is not None
    model_ba = record.cross_validation.balanced_accuracy
    lex_ba = lex_score.balanced_accuracy
    figures = f"model {_percent(model_ba)}, leksikon {_percent(lex_ba)} (akurasi seimbang)"
    if model_ba > lex_ba:
        return model, SentimentChoice(
            model.method,
            f"model: lebih sesuai dengan peringkat, {figures}",
            len(texts),
            lex_score,
            record,
        )
    return lex, SentimentChoice(
        lex.method, f"leksikon: model tidak lebih baik, {figures}", len(texts), lex_score, record
    )


@dataclass(frozen=True)
class RowPolarity:
    """A row's polarity and where it came from: its rating, or the method that read its text."""

    row_id: str
    polarity: Polarity | None  # None: a 3-star or unrated row without text
    source: str  # "peringkat" or the method
    sentiment: Sentiment | None  # the text's analysis, where the text was read


def polarities(rows: Iterable[VoiceRow], analyzer: Analyzer) -> list[RowPolarity]:
    """Each row's polarity: its rating where it is 1-2 or 4-5, else its text's. A text in
    which the method found nothing that carries sentiment (no driver: "sudah berkali kali
    disampaikan") has none, so it is left out of shares rather than counted as negative."""
    out: list[RowPolarity] = []
    for row in rows:
        rated = rating_polarity(row.rating)
        if rated is not None:
            out.append(RowPolarity(row.row_id, rated, "peringkat", None))
        elif row.text and row.text.strip():
            found = analyzer.analyse(row.text)
            side = found.polarity if found.drivers else None
            out.append(RowPolarity(row.row_id, side, analyzer.method, found))
        else:
            out.append(RowPolarity(row.row_id, None, "", None))
    return out
