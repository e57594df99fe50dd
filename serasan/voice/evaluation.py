"""The sentiment methods measured on rated review files: within each file and across files.

For every method and every file: within the file by 5-fold stratified cross-validation
(`measure.cross_validate`), and across files, trained on all of each other file and measured on
all of this one (`measure.across`). The lexicon learns nothing, so its within-file and
cross-file figures are its figure on the whole file. `bench/sentiment_eval.py` prints the table
for the sample files; `docs/citizen-voice.md` shows it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from serasan.voice import lexicon, model
from serasan.voice.measure import Agreement, Classifier, Fit, RatedFile, across, cross_validate
from serasan.voice.records import Polarity
from serasan.voice.sentiment import LexiconMethod


class Mode(StrEnum):
    WITHIN = "within"  # 5-fold stratified cross-validation inside one file
    ACROSS = "across"  # trained on another file, measured on this one


def _lexicon(texts: Sequence[str], labels: Sequence[Polarity]) -> Classifier:
    return LexiconMethod()  # learns nothing


METHODS: Mapping[str, Fit] = {lexicon.METHOD: _lexicon, model.METHOD: model.fit}


@dataclass(frozen=True)
class Measured:
    method: str
    tested_on: str
    mode: Mode
    trained_on: str  # the file it learned from ("" for the lexicon, which learns nothing)
    agreement: Agreement


def evaluate(files: Sequence[RatedFile], methods: Mapping[str, Fit] = METHODS) -> list[Measured]:
    """Every method on every file, within and across, in a stable order."""
    out: list[Measured] = []
    for name, fit in methods.items():
        learns = name != lexicon.METHOD
        for test in files:
            within = cross_validate(test.texts, test.labels, fit)
            out.append(Measured(name, test.name, Mode.WITHIN, test.name if learns else "", within))
            for train in files:
                if train is test:
                    continue
                measured = across((train.texts, train.labels), (test.texts, test.labels), fit)
                out.append(
                    Measured(name, test.name, Mode.ACROSS, train.name if learns else "", measured)
                )
    return out
