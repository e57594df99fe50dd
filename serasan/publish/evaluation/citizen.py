"""Citizen voice per programme: the rows of its voice datasets in the evaluated days, counted and
analysed through the one adapter to `serasan.voice` (`serasan.publish.evaluation.voice`).

Rows are read from each voice dataset's fact table (`voice` block: text, rating, date, programme,
status and author columns; the date column's `precision_column` says how much of each date is
known), the programme's rows only (or all of them, `all: true`), within the regency. Then:

- spam and exact duplicates are excluded by the voice package's stated rules, counted and
  listed with their reason, never dropped silently;
- each row's polarity is its rating (1-2, 4-5 stars), else what the pack's sentiment method
  reads in its text (one method for the whole pack, chosen by measurement: `voice.choose`);
- counts need no minimum; a share (positive sentiment, a star of the rating distribution, the
  complaints followed up, a period of the sentiment trend) is given only from `min_reviews` up,
  and is None ("terlalu sedikit data") below it;
- trends are counted at the resolution the dates support (`voice.monthly`: a date known only to
  its year is in no month; the rows left out are counted by reason). The sentiment trend is
  monthly where a month reaches the minimum, else quarterly where a quarter does, else none;
- quotes are masked (`pii.mask_voice_record`: phones, NIK, e-mail, NPWP, names after an
  honorific, the author's own name) and carry Serasan's row id (`pii.row_id`), never the
  source's id.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from serasan.config.catalog import Catalog, Dataset, Regency
from serasan.config.voice import Programme
from serasan.publish import pii
from serasan.publish.evaluation import voice
from serasan.publish.evaluation.period import Window
from serasan.voice.records import VoiceRow
from serasan.warehouse.facts import LOAD_ID, fact_table


@dataclass(frozen=True)
class Row:
    """One voice row as the pack reads it (the author only to mask and to tell duplicates
    apart; never shown)."""

    dataset: Dataset
    row_id: str
    record: dict[str, Any]
    text: str | None
    rating: float | None
    date: dt.date
    precision: str | None
    load_id: str
    status: str | None
    author: str | None

    def voice_row(self, text: str | None = None) -> VoiceRow:
        return voice.row(
            self.row_id,
            self.text if text is None else text,
            self.rating,
            self.date,
            self.precision,
            self.author,
        )

    def masked_text(self) -> str:
        v = self.dataset.voice
        if v is None or v.text is None:
            return ""
        return str(pii.mask_voice_record(self.dataset, self.record).get(v.text) or "")


@dataclass(frozen=True)
class Excluded:
    dataset_id: str
    row_id: str
    kept_row_id: str  # the row it repeats, where it repeats one
    rule: str


@dataclass(frozen=True)
class TrendPoint:
    period: str  # '2026-03' or '2026-Q1'
    reviews: int  # rows dated in the period (at a precision that names it)
    judged: int  # rows with a polarity
    positive: int

    def positive_pct(self, minimum: int) -> float | None:
        return 100.0 * self.positive / self.judged if self.judged >= minimum else None


@dataclass(frozen=True)
class Quote:
    row_id: str
    dataset_id: str
    text: str  # masked
    theme: str | None
    polarity: str | None


@dataclass(frozen=True)
class SourceCount:
    dataset_id: str
    title: str
    kind: str
    rows: int
    load_ids: tuple[str, ...]


@dataclass(frozen=True)
class Voice:
    """What citizens said about one programme in one window."""

    min_reviews: int
    sources: list[SourceCount]
    reviews: int  # rows counted (spam and duplicates excluded)
    with_text: int
    excluded: list[Excluded]
    rating_scale: int
    ratings: dict[int, int]  # stars -> rows
    judged: int  # rows with a polarity (rating or text)
    positive: int
    negative: int
    left_out: dict[str, int]  # rows in no month, by reason (a date known to its year only)
    months: list[TrendPoint]  # every month of the window
    trend_resolution: str | None  # 'monthly', 'quarterly' or None
    trend: list[TrendPoint]
    themes: list[tuple[str, int]]
    quotes: list[Quote]
    complaints: int  # rows of complaint channels that record a status
    followed_up: int
    load_ids: tuple[str, ...] = field(default=())

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def average_rating(self) -> float | None:
        if not self.rated:
            return None
        return sum(star * n for star, n in self.ratings.items()) / self.rated

    @property
    def positive_pct(self) -> float | None:
        return 100.0 * self.positive / self.judged if self.judged >= self.min_reviews else None

    def rating_pct(self, star: int) -> float | None:
        if self.rated < self.min_reviews:
            return None
        return 100.0 * self.ratings.get(star, 0) / self.rated

    @property
    def followed_up_pct(self) -> float | None:
        if self.complaints < self.min_reviews:
            return None
        return 100.0 * self.followed_up / self.complaints

    @property
    def has_ratings(self) -> bool:
        return bool(self.ratings)

    @property
    def year_only(self) -> int:
        return self.left_out.get(voice.YEAR_ONLY, 0)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def read_rows(
    conn: Connection,
    catalog: Catalog,
    regency: Regency,
    programme: Programme,
    window: Window,
    pii_key: str | bytes,
) -> list[Row]:
    """The programme's voice rows dated in the window, in a stable order."""
    out: list[Row] = []
    for src in programme.voice:
        ds = catalog.dataset(src.dataset)
        v = ds.voice
        assert v is not None  # catalog validate: a programme's voice source has a voice block
        fact = fact_table(ds, conn.dialect.name)
        date_col = ds.column(v.date)
        precision = date_col.precision_column if date_col is not None else None
        names = list(
            dict.fromkeys(
                [*ds.primary_key, *v.columns().values(), *([precision] if precision else [])]
            )
        )
        query = select(*[fact.c[n] for n in names], fact.c[LOAD_ID]).where(
            fact.c[v.date] >= window.start, fact.c[v.date] <= window.end
        )
        if not src.all and v.programme is not None:
            query = query.where(fact.c[v.programme] == programme.code)
        if ds.wide and ds.region is not None:
            query = query.where(fact.c[ds.region.column].like(f"{regency.kode}.%"))
        for rec in conn.execute(query.order_by(*[fact.c[k] for k in ds.primary_key])).mappings():
            record = dict(rec)
            rating = record.get(v.rating) if v.rating else None
            out.append(
                Row(
                    dataset=ds,
                    row_id=pii.row_id(ds, record, pii_key),
                    record=record,
                    text=record.get(v.text) if v.text else None,
                    rating=None if rating is None else float(rating),
                    date=_as_date(record[v.date]),
                    precision=record.get(precision) if precision else None,
                    load_id=record[LOAD_ID],
                    status=record.get(v.status) if v.status else None,
                    author=record.get(v.author) if v.author else None,
                )
            )
    return out


def screen(rows: Sequence[Row]) -> tuple[list[Row], list[Excluded]]:
    """The rows kept, and those excluded as spam or duplicates (the voice package's rules)."""
    by_id = {r.row_id: r for r in rows}
    kept, excluded = voice.screened([r.voice_row() for r in rows])
    return [by_id[k.row_id] for k in kept], [
        Excluded(by_id[e.row_id].dataset.id, e.row_id, e.same_as or "", e.reason) for e in excluded
    ]


def _month_keys(window: Window) -> list[str]:
    return [f"{window.year}-{m:02d}" for m in range(1, window.end.month + 1)]


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}"


def analyse(
    rows: list[Row],
    window: Window,
    min_reviews: int,
    sources: list[Dataset],
    method: voice.Method,
    themes: Sequence[voice.Theme],
    with_quotes: bool = True,
) -> Voice:
    """The counts, shares, trend, themes and quotes of one programme's rows."""
    kept, excluded = screen(rows)
    kept_v = [r.voice_row() for r in kept]
    polarity = voice.polarities(kept_v, method)
    matches = {r.row_id: voice.theme_matches(r.text, themes) for r in kept if r.text}
    scale = max((d.voice.rating_scale for d in sources if d.voice is not None), default=5)
    ratings: Counter[int] = Counter()
    for r in kept:
        if r.rating is not None and 1 <= r.rating <= scale:
            ratings[int(round(r.rating))] += 1
    months_found, left_out = voice.monthly(kept_v, polarity)
    found = {m.month: m for m in months_found}
    months = []
    for key in _month_keys(window):
        m = found.get(key)
        months.append(
            TrendPoint(key, 0, 0, 0)
            if m is None
            else TrendPoint(key, m.rows, m.positive + m.negative, m.positive)
        )
    quarters: dict[str, TrendPoint] = {}
    for p in months:
        q = quarters.get(_quarter(p.period), TrendPoint(_quarter(p.period), 0, 0, 0))
        quarters[q.period] = TrendPoint(
            q.period, q.reviews + p.reviews, q.judged + p.judged, q.positive + p.positive
        )
    if any(p.judged >= min_reviews for p in months):
        resolution, trend = "monthly", months
    elif any(p.judged >= min_reviews for p in quarters.values()):
        resolution, trend = "quarterly", list(quarters.values())
    else:
        resolution, trend = None, []
    counts = Counter(t.theme for ms in matches.values() for t in ms)
    order = [t.name for t in themes]
    top = sorted(counts.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
    quoted: list[Quote] = []
    if with_quotes and top:
        by_id = {r.row_id: r for r in kept}
        masked = [r.voice_row(r.masked_text()) for r in kept if r.text and r.text.strip()]
        for picked in voice.pick_quotes(
            masked, matches, polarity, [t for t, _ in top[: voice.QUOTE_THEMES]]
        ):
            quoted.append(
                Quote(
                    picked.row_id,
                    by_id[picked.row_id].dataset.id,
                    picked.text,
                    picked.theme,
                    picked.polarity,
                )
            )
    complaint_rows = [
        r
        for r in kept
        if r.dataset.voice is not None and r.dataset.voice.followed_up and r.status is not None
    ]
    followed = sum(
        r.status in r.dataset.voice.followed_up  # type: ignore[union-attr]
        for r in complaint_rows
    )
    per_source = Counter(r.dataset.id for r in kept)
    loads: dict[str, set[str]] = {}
    for r in kept:
        loads.setdefault(r.dataset.id, set()).add(r.load_id)
    sides = [s for s in polarity.values() if s is not None]
    return Voice(
        min_reviews=min_reviews,
        sources=[
            SourceCount(
                d.id,
                d.title,
                d.voice.kind if d.voice is not None else "review",
                per_source.get(d.id, 0),
                tuple(sorted(loads.get(d.id, ()))),
            )
            for d in sources
        ],
        reviews=len(kept),
        with_text=sum(1 for r in kept if r.text and r.text.strip()),
        excluded=excluded,
        rating_scale=scale,
        ratings={s: ratings.get(s, 0) for s in range(1, scale + 1)} if ratings else {},
        judged=len(sides),
        positive=sum(s == voice.POSITIVE for s in sides),
        negative=sum(s == voice.NEGATIVE for s in sides),
        left_out=left_out,
        months=months,
        trend_resolution=resolution,
        trend=trend,
        themes=top,
        quotes=quoted,
        complaints=len(complaint_rows),
        followed_up=followed,
        load_ids=tuple(sorted({r.load_id for r in kept})),
    )
