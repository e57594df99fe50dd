"""How well a sentiment method agrees with the ratings citizens gave: the measurement itself.

- Reference: the rating's polarity, 1-2 stars negative and 4-5 positive; 3 stars, and rows
  without text or rating, are left out (`rated_texts`).
- Score: balanced accuracy, the mean of the recall on positive and on negative texts, so that
  calling everything positive scores 50 % however lopsided the file (Lumajang is 97 %
  positive).
- Interval: 95 %, Wilson's for each recall, and for the balanced accuracy the 2.5 and 97.5
  percentiles of a bootstrap that resamples the positive and the negative texts separately
  (each recall is then a binomial draw; 4,000 draws, seeded, so the interval is the same on
  every run).
- Within one file: 5-fold stratified cross-validation (seeded); the method learns or is tuned
  on four folds and predicts the fifth, and the pooled out-of-fold predictions are scored once.
- Across files: learned or tuned on all of one file, scored on all of the other.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sklearn.model_selection import StratifiedKFold

from serasan.voice.records import Polarity, rating_polarity

SEED = 20261101  # every shuffle and bootstrap of the measurement
FOLDS = 5
BOOTSTRAP_DRAWS = 4000
Z95 = 1.959963984540054


class Classifier(Protocol):
    def predict(self, texts: Sequence[str]) -> list[Polarity]: ...


Fit = Callable[[Sequence[str], Sequence[Polarity]], Classifier]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Agreement:
    """A method's predictions against the ratings' polarities."""

    n_positive: int
    n_negative: int
    recall_positive: float  # share of positive texts called positive
    recall_negative: float  # share of negative texts called negative
    balanced_accuracy: float  # (recall_positive + recall_negative) / 2
    interval: Interval  # 95 %, bootstrap, of the balanced accuracy
    recall_positive_interval: Interval  # 95 %, Wilson
    recall_negative_interval: Interval  # 95 %, Wilson

    @property
    def n(self) -> int:
        return self.n_positive + self.n_negative


def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """Wilson's score interval for a proportion."""
    if n == 0:
        return Interval(0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def agreement(truth: Sequence[Polarity], predicted: Sequence[Polarity]) -> Agreement:
    """Balanced accuracy of `predicted` against `truth`, with its intervals."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} reference labels but {len(predicted)} predictions")
    pos = sum(1 for t in truth if t is Polarity.POSITIVE)
    neg = len(truth) - pos
    if not pos or not neg:
        raise ValueError("balanced accuracy needs positive and negative texts")
    hit_pos = sum(1 for t, p in zip(truth, predicted, strict=True) if t is p is Polarity.POSITIVE)
    hit_neg = sum(1 for t, p in zip(truth, predicted, strict=True) if t is p is Polarity.NEGATIVE)
    r_pos, r_neg = hit_pos / pos, hit_neg / neg
    rng = np.random.default_rng(SEED)
    draws = (rng.binomial(pos, r_pos, BOOTSTRAP_DRAWS) / pos) + (
        rng.binomial(neg, r_neg, BOOTSTRAP_DRAWS) / neg
    )
    low, high = np.percentile(draws / 2, [2.5, 97.5])
    return Agreement(
        n_positive=pos,
        n_negative=neg,
        recall_positive=r_pos,
        recall_negative=r_neg,
        balanced_accuracy=(r_pos + r_neg) / 2,
        interval=Interval(float(low), float(high)),
        recall_positive_interval=wilson(hit_pos, pos),
        recall_negative_interval=wilson(hit_neg, neg),
    )


def folds(labels: Sequence[Polarity], k: int = FOLDS, seed: int = SEED) -> list[list[int]]:
    """The test indices of `k` stratified folds (shuffled with `seed`)."""
    y = np.array([label is Polarity.POSITIVE for label in labels])
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [sorted(test.tolist()) for _, test in splitter.split(np.zeros(len(y)), y)]


def out_of_fold(
    texts: Sequence[str], labels: Sequence[Polarity], fit: Fit, k: int = FOLDS
) -> list[Polarity]:
    """Each text predicted by the method fitted on the other folds."""
    predicted: list[Polarity | None] = [None] * len(texts)
    for test in folds(labels, k):
        held = set(test)
        train = [i for i in range(len(texts)) if i not in held]
        method = fit([texts[i] for i in train], [labels[i] for i in train])
        for i, p in zip(test, method.predict([texts[i] for i in test]), strict=True):
            predicted[i] = p
    return [p for p in predicted if p is not None]


def cross_validate(
    texts: Sequence[str], labels: Sequence[Polarity], fit: Fit, k: int = FOLDS
) -> Agreement:
    """Within one file: `k`-fold stratified cross-validation, out-of-fold predictions pooled."""
    return agreement(labels, out_of_fold(texts, labels, fit, k))


def across(
    train: tuple[Sequence[str], Sequence[Polarity]],
    test: tuple[Sequence[str], Sequence[Polarity]],
    fit: Fit,
) -> Agreement:
    """Across files: fitted on all of `train`, scored on all of `test`."""
    method = fit(*train)
    return agreement(test[1], method.predict(test[0]))


@dataclass(frozen=True)
class RatedFile:
    """The texts of one rated review file that have a polarity, and what was left out."""

    name: str
    rows_read: int
    texts: tuple[str, ...]
    labels: tuple[Polarity, ...]
    without_text: int
    neutral_or_unrated: int  # 3 stars, or no rating


def rated_texts(
    name: str, rows: Iterable[tuple[str | None, float | None]], rows_read: int | None = None
) -> RatedFile:
    """(text, rating) pairs as a `RatedFile`: texts with a 1-2 or 4-5 rating kept."""
    texts: list[str] = []
    labels: list[Polarity] = []
    without_text = neutral = count = 0
    for text, rating in rows:
        count += 1
        if text is None or not text.strip():
            without_text += 1
            continue
        polarity = rating_polarity(rating)
        if polarity is None:
            neutral += 1
            continue
        texts.append(text)
        labels.append(polarity)
    return RatedFile(name, rows_read or count, tuple(texts), tuple(labels), without_text, neutral)


def read_rated_csv(path: Path, text_column: str, rating_column: str) -> RatedFile:
    """A CSV export of rated reviews (one header row, text in quotes over several lines
    allowed, UTF-8) as a `RatedFile`. For measurements: the pipeline reads review files
    through the catalog like any other dataset."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {text_column, rating_column} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: no column {', '.join(sorted(missing))}")
        pairs = [
            (
                row[text_column] or None,
                float(row[rating_column]) if row[rating_column].strip() else None,
            )
            for row in reader
        ]
    return rated_texts(path.name, pairs, len(pairs))
