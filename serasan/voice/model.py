"""A small sentiment model trained on a deployment's own rated reviews, explainable per text.

Features, from the text as `serasan.voice.text` normalised it (less a courtesy that signs it
off as a letter does, `lexicon.sign_off`):

- TF-IDF of its words and word pairs (a word or pair seen in at least two training texts;
  sublinear term frequency), so "antre lama", "otp tidak" and "tidak bisa" can be learned;
- the project lexicon's positive and negative sums (`serasan.voice.lexicon`), each squashed
  with tanh(x / 3) and scaled by 3 so that the regularisation holds them back less than
  single words: where there are few ratings, the lexicon's knowledge carries the model.

Classifier: logistic regression (L2, C = 1, class_weight="balanced" so that a file that is 97 %
positive does not teach "everything is positive"), lbfgs, deterministic. The score is the log
odds of positive; positive above 0.

Explanation: the log odds are a sum over features, so every word and word pair present in the
text gets its share (its TF-IDF value times its coefficient), and each of the two lexicon
features is shared among the lexicon words that made it, in proportion to their weights.

The model is trained inside the pipeline on the deployment's own data and never shipped: the
training record (`TrainingRecord`) says what it learned from (counts and a checksum of the
texts and labels), how it was set up and how it scored in 5-fold cross-validation, so the
caller can store it beside the results.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from serasan.voice import lexicon
from serasan.voice.measure import Agreement, cross_validate
from serasan.voice.records import Driver, Polarity, Sentiment
from serasan.voice.text import normalised

METHOD = "model"
MIN_PER_POLARITY = 30  # rated texts of each polarity below which no model is trained
C = 1.0
LEXICON_SCALE = 3.0
LEXICON_SQUASH = 3.0
DRIVERS_KEPT = 10
SETUP = (
    f"scikit-learn {sklearn.__version__}: TF-IDF of words and word pairs (min_df=2, "
    f"sublinear tf) + the lexicon's positive and negative sums (tanh(x/{LEXICON_SQUASH:g}) "
    f"x {LEXICON_SCALE:g}); LogisticRegression(C={C:g}, class_weight='balanced')"
)


class TooFewRatings(ValueError):
    """Fewer than MIN_PER_POLARITY rated texts of one polarity: the lexicon is used instead.
    Carries the counts, so that a caller can say it in its own language."""

    def __init__(self, positive: int, negative: int, minimum: int):
        self.positive, self.negative, self.minimum = positive, negative, minimum
        super().__init__(
            f"{positive} positive and {negative} negative rated texts: a model needs at least "
            f"{minimum} of each"
        )


@dataclass(frozen=True)
class TrainingRecord:
    """What a trained model learned from and how well it did: stored by the caller."""

    trained_on: str  # the caller's description: datasets, load ids, period
    n_positive: int
    n_negative: int
    data_sha256: str  # of the texts and labels, in order: the same data gives the same hash
    setup: str  # features, classifier and library version
    vocabulary: int  # words and word pairs the model knows
    cross_validation: Agreement | None  # 5-fold, on the training data; None if not measured


@dataclass(frozen=True)
class _Features:
    text: str  # normalised
    drivers: tuple[Driver, ...]  # the lexicon's
    positive: float  # the lexicon's positive sum
    negative: float  # the lexicon's negative sum, as a positive number


@lru_cache(maxsize=100_000)
def _features(text: str) -> _Features:
    scored = lexicon.score(text)
    pos = sum(d.weight for d in scored.drivers if d.weight > 0)
    neg = -sum(d.weight for d in scored.drivers if d.weight < 0)
    words = normalised(text)
    closing = lexicon.sign_off(text)  # a letter's "..., terima kasih." is not praise
    if closing is not None and (cut := words.rfind(closing)) >= 0:
        words = words[:cut].rstrip()
    return _Features(words, scored.drivers, pos, neg)


def _lexicon_columns(feats: Sequence[_Features]) -> np.ndarray:
    return np.array(
        [
            [
                math.tanh(f.positive / LEXICON_SQUASH) * LEXICON_SCALE,
                math.tanh(f.negative / LEXICON_SQUASH) * LEXICON_SCALE,
            ]
            for f in feats
        ],
        dtype=float,
    ).reshape(len(feats), 2)


def checksum(texts: Sequence[str], labels: Sequence[Polarity]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\x1e".encode())
    return digest.hexdigest()


class SentimentModel:
    """A fitted model: `predict` for many texts, `analyse` for one with its drivers."""

    method = METHOD

    def __init__(
        self, texts: Sequence[str], labels: Sequence[Polarity], minimum: int = MIN_PER_POLARITY
    ):
        pos = sum(1 for label in labels if label is Polarity.POSITIVE)
        neg = len(labels) - pos
        if min(pos, neg) < max(minimum, 1):
            raise TooFewRatings(pos, neg, max(minimum, 1))
        feats = [_features(t) for t in texts]
        self._words = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"\S+", lowercase=False
        )
        words = self._words.fit_transform([f.text for f in feats])
        self._names: list[str] = self._words.get_feature_names_out().tolist()
        self._classifier = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
        y = np.array([label is Polarity.POSITIVE for label in labels])
        self._classifier.fit(self._matrix(feats, words), y)
        self.n_positive, self.n_negative = pos, neg

    def _matrix(
        self, feats: Sequence[_Features], words: sp.spmatrix | None = None
    ) -> sp.csr_matrix:
        if words is None:
            words = self._words.transform([f.text for f in feats])
        return sp.hstack([words, sp.csr_matrix(_lexicon_columns(feats))]).tocsr()

    @property
    def vocabulary(self) -> int:
        return len(self._names)

    def scores(self, texts: Sequence[str]) -> list[float]:
        """The log odds of positive, per text."""
        if not texts:
            return []
        values = self._classifier.decision_function(self._matrix([_features(t) for t in texts]))
        return [float(v) for v in values]

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        return [Polarity.POSITIVE if s > 0 else Polarity.NEGATIVE for s in self.scores(texts)]

    def analyse(self, text: str) -> Sentiment:
        """The polarity of one text, with the words that drove it."""
        feats = _features(text)
        row = self._matrix([feats])
        coef = self._classifier.coef_[0]
        score = float(self._classifier.decision_function(row)[0])
        shares: dict[str, float] = {}
        n_words = len(self._names)
        for index, value in zip(row.indices.tolist(), row.data.tolist(), strict=True):
            contribution = value * float(coef[index])
            if index < n_words:
                term = self._names[index]
                shares[term] = shares.get(term, 0.0) + contribution
                continue
            positive = index == n_words  # the lexicon's positive sum, else its negative sum
            own = [d for d in feats.drivers if (d.weight > 0) == positive]
            total = sum(abs(d.weight) for d in own)
            for d in own:
                shares[d.term] = shares.get(d.term, 0.0) + contribution * abs(d.weight) / total
        drivers = sorted(
            (Driver(term, round(weight, 3)) for term, weight in shares.items() if weight),
            key=lambda d: (-abs(d.weight), d.term),
        )
        polarity = Polarity.POSITIVE if score > 0 else Polarity.NEGATIVE
        return Sentiment(polarity, round(score, 3), METHOD, tuple(drivers[:DRIVERS_KEPT]))


def fit(texts: Sequence[str], labels: Sequence[Polarity]) -> SentimentModel:
    """A model fitted on `texts` (no record, no measurement, no minimum but one text of each
    polarity): what cross-validation calls on its folds."""
    return SentimentModel(texts, labels, minimum=1)


def train(
    texts: Sequence[str], labels: Sequence[Polarity], trained_on: str, measure: bool = True
) -> tuple[SentimentModel, TrainingRecord]:
    """A model trained on all the rated texts, and its record (with a 5-fold cross-validated
    agreement unless `measure` is False). Raises TooFewRatings below MIN_PER_POLARITY."""
    model = SentimentModel(texts, labels)
    record = TrainingRecord(
        trained_on=trained_on,
        n_positive=model.n_positive,
        n_negative=model.n_negative,
        data_sha256=checksum(texts, labels),
        setup=SETUP,
        vocabulary=model.vocabulary,
        cross_validation=cross_validate(texts, labels, fit) if measure else None,
    )
    return model, record
