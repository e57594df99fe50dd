"""How well the citizen-voice sentiment methods agree with the ratings of two real review files.

Files (read from ../shared/samples/real, or $SERASAN_SHARED_DIR/samples/real; never shipped):

- Mobile JKN, 10,000 Play Store reviews (`score` 1-5, `content`);
- Alun-Alun Lumajang, 4,908 Google Maps reviews (`rating` 1-5, `review_text` over several
  lines inside quotes; 14 ratings without text).

Reference: the rating's polarity, 1-2 stars negative and 4-5 positive, 3 stars left out.
Score: balanced accuracy (mean of the recall on positive and on negative texts), with a 95 %
bootstrap interval and Wilson intervals on each recall (`serasan.voice.measure`). Within each
file: 5-fold stratified cross-validation; across files: trained on one, measured on the other.
Seeds are fixed (`measure.SEED`), so the table is the same on every run.

Besides the methods Serasan ships (the project's lexicon, and the model trained on rated
reviews), the table shows, for reference only, a plain sum of InSet weights with simple
negation, read from ../shared (InSet has no licence: the project reads it here, never ships
it); and, for Mobile JKN, agreement with the sentiment label its authors gave.

Run: `.venv/bin/python bench/sentiment_eval.py [--markdown]`.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from serasan.publish.pii import mask_text
from serasan.voice import measure
from serasan.voice.evaluation import Measured, Mode, evaluate
from serasan.voice.measure import Agreement, RatedFile, agreement, out_of_fold
from serasan.voice.model import fit as fit_model
from serasan.voice.records import Polarity, VoiceRow
from serasan.voice.sentiment import Analyzer, LexiconMethod, choose
from serasan.voice.text import BOUNDARY, words

ROOT = Path(__file__).resolve().parent.parent
JKN = "mobilejkn-playstore-reviews/sentimen_mobileJKN.csv"
LUMAJANG = "lumajang-alunalun-reviews/reviews_clean.csv"
INSET = "inset-lexicon"
NEGATORS = ("tidak", "bukan", "belum", "jangan")


def samples_dir() -> Path:
    candidates = (
        [Path(os.environ["SERASAN_SHARED_DIR"])] if "SERASAN_SHARED_DIR" in os.environ else []
    )
    candidates.append(ROOT.parent / "shared")
    for c in candidates:
        if (c / "samples" / "real").is_dir():
            return c / "samples" / "real"
    sys.exit(f"../shared/samples/real not found (looked in {', '.join(map(str, candidates))})")


def read_files(real: Path) -> list[RatedFile]:
    return [
        measure.read_rated_csv(real / JKN, "content", "score"),
        measure.read_rated_csv(real / LUMAJANG, "review_text", "rating"),
    ]


class InSet:
    """Reference only: the sum of InSet weights over the normalised words, the next word's
    weight flipped after tidak/bukan/belum/jangan; positive above 0."""

    method = "InSet (reference only)"

    def __init__(self, folder: Path):
        self.weights: dict[str, int] = {}
        for name in ("positive.tsv", "negative.tsv"):
            with (folder / name).open(encoding="utf-8", newline="") as handle:
                for row in csv.reader(handle, delimiter="\t"):
                    if len(row) == 2 and row[1].strip().lstrip("+-").isdigit():
                        self.weights[row[0].strip()] = self.weights.get(row[0].strip(), 0) + int(
                            row[1]
                        )

    def predict(self, texts: Sequence[str]) -> list[Polarity]:
        out = []
        for text in texts:
            total, flip = 0, False
            for w in words(text):
                if w == BOUNDARY:
                    flip = False
                elif w in NEGATORS:
                    flip = True
                elif w in self.weights:
                    total += -self.weights[w] if flip else self.weights[w]
                    flip = False
            out.append(Polarity.POSITIVE if total > 0 else Polarity.NEGATIVE)
        return out


def pct(x: float) -> str:
    return f"{x * 100:.1f}"


def row_cells(method: str, file: str, mode: str, trained_on: str, a: Agreement) -> list[str]:
    return [
        method,
        file,
        mode,
        trained_on or "-",
        f"{a.n} ({a.n_positive}/{a.n_negative})",
        pct(a.balanced_accuracy),
        f"{pct(a.interval.low)}-{pct(a.interval.high)}",
        pct(a.recall_positive),
        pct(a.recall_negative),
        f"{pct(a.recall_negative_interval.low)}-{pct(a.recall_negative_interval.high)}",
    ]


HEADER = [
    "method",
    "file",
    "measured",
    "trained on",
    "n (pos/neg)",
    "balanced acc. %",
    "95 % interval",
    "recall pos %",
    "recall neg %",
    "recall neg 95 % (Wilson)",
]


def print_table(rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "|".join(" --- " for _ in HEADER) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADER)]
    print("  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def jkn_labels(real: Path) -> list[Polarity | None]:
    """The authors' label of each Mobile JKN text that has a rating polarity, in file order."""
    out: list[Polarity | None] = []
    with (real / JKN).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["content"].strip() and int(row["score"]) != 3:
                out.append(
                    {"positif": Polarity.POSITIVE, "negatif": Polarity.NEGATIVE}.get(row["label"])
                )
    return out


def short(file: str) -> str:
    return {"sentimen_mobileJKN.csv": "Mobile JKN", "reviews_clean.csv": "Lumajang"}.get(file, file)


def failures(file: RatedFile, analyzer: Analyzer, count: int) -> list[str]:
    """The first `count` texts (in file order) whose polarity the method gets wrong, masked."""
    out = []
    for text, label in zip(file.texts, file.labels, strict=True):
        found = analyzer.analyse(text)
        if found.polarity is not label:
            drivers = ", ".join(f"{d.term} {d.weight:+g}" for d in found.drivers[:4]) or "-"
            flat = " ".join(mask_text(text).split())
            out.append(f"  [{label}] {flat[:160]!r} -> {found.polarity} ({drivers})")
            if len(out) == count:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--failures", type=int, default=5, help="wrong texts shown per file")
    args = parser.parse_args()
    started = time.perf_counter()
    real = samples_dir()
    files = read_files(real)
    for f in files:
        neg = sum(1 for label in f.labels if label is Polarity.NEGATIVE)
        print(
            f"{short(f.name)}: {f.rows_read} rows read, {len(f.texts)} with text and 1-2 or 4-5 "
            f"stars ({len(f.texts) - neg} positive, {neg} negative); left out: "
            f"{f.without_text} without text, {f.neutral_or_unrated} with 3 stars"
        )
    print(
        f"seed {measure.SEED}, {measure.FOLDS} folds, {measure.BOOTSTRAP_DRAWS} bootstrap draws\n"
    )

    measured: list[Measured] = evaluate(files)
    rows = [
        row_cells(
            m.method,
            short(m.tested_on),
            "whole file"
            if m.method == "leksikon"
            else "5-fold CV"
            if m.mode is Mode.WITHIN
            else "across files",
            short(m.trained_on),
            m.agreement,
        )
        for m in measured
        if not (m.method == "leksikon" and m.mode is Mode.ACROSS)  # the same as its within
    ]
    inset = InSet(real.parent / "real" / INSET)
    for f in files:
        rows.append(
            row_cells(
                inset.method,
                short(f.name),
                "whole file",
                "-",
                agreement(f.labels, inset.predict(f.texts)),
            )
        )
    print("Agreement with the rating's polarity (the lexicon learns nothing: whole file)")
    print_table(rows, args.markdown)

    # Mobile JKN's authors labelled each review: the same predictions against their label
    labels = jkn_labels(real)
    jkn = files[0]
    extra = []
    for name, predicted in (
        ("leksikon", LexiconMethod().predict(jkn.texts)),
        ("model", out_of_fold(jkn.texts, jkn.labels, fit_model)),
    ):
        pairs = [(lab, p) for lab, p in zip(labels, predicted, strict=True) if lab is not None]
        a = agreement([lab for lab, _ in pairs], [p for _, p in pairs])
        extra.append(
            row_cells(
                name, "Mobile JKN", "vs authors' label", "Mobile JKN" if name == "model" else "-", a
            )
        )
    print("\nAgreement with Mobile JKN's own sentiment label (positif/negatif; netral left out)")
    print_table(extra, args.markdown)

    print("\nThe method each file would choose (serasan.voice.sentiment.choose):")
    for f in files:
        rows_in = [
            VoiceRow(str(i), t, 5 if lab is Polarity.POSITIVE else 1)
            for i, (t, lab) in enumerate(zip(f.texts, f.labels, strict=True))
        ]
        analyzer, choice = choose(rows_in, f"{short(f.name)} (sample file)")
        print(f"  {short(f.name)}: {choice.reason}")
        if args.failures:
            print(f"  where it fails (first {args.failures} in file order, personal data masked):")
            print("\n".join(failures(f, analyzer, args.failures)))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
