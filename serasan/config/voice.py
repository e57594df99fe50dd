"""Citizen voice in the catalog: which columns of a review or complaint dataset say what, and
the regency's flagship programmes that the voice (and the KPIs) are about.

A regency declares its programmes as data (`catalog/programmes.yaml`): a name, its pillar and
OPD, since when, its KPIs and its citizen-voice sources. The evaluation pack is built from them.
A citizen-voice dataset (map and app-store reviews, survey comments, a complaint channel) is a
dataset like any other, with a `voice` block naming its text, rating, date and programme
columns, so the analysis never guesses which column is the review.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from serasan.config.catalog import Dataset, Kpi, Regency


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Voice(_Strict):
    """The roles of a citizen-voice dataset's columns."""

    kind: Literal["review", "survey_comment", "complaint"]
    # the review, comment or complaint itself; a complaint channel that records only the
    # category and status (counts and follow-up, no words) has none
    text: str | None = None
    date: str  # when it was written (a date column; relative dates resolved at parse)
    rating: str | None = None  # stars or a score, where the channel has one
    rating_scale: int = Field(default=5, ge=2, le=10)
    programme: str | None = None  # the column naming the programme (by its code) a row is about
    place: str | None = None  # the place or unit reviewed, where the channel says
    author: str | None = None  # the reviewer's name: personal data, never exported
    source_id: str | None = None  # the channel's own id (a Google review id names its author)
    # complaint channels: the status column, and the values meaning "followed up"
    status: str | None = None
    followed_up: list[str] = Field(default_factory=list)

    def columns(self) -> dict[str, str]:
        """Each role given, and its column."""
        roles = ("text", "date", "rating", "programme", "place", "author", "source_id", "status")
        return {r: c for r in roles if (c := getattr(self, r)) is not None}


class VoiceSource(_Strict):
    """A programme's citizen-voice dataset, and which of its rows are about the programme."""

    dataset: str
    # rows whose `programme` column holds this code (default: the programme's own code); a
    # dataset about one programme only (a complaint channel of one service) sets `all: true`
    all: bool = False


class Programme(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    regency: str
    name: str
    pillar: Literal["governance", "branding", "economy", "living", "society", "environment"]
    opd: str
    since: int = Field(ge=1990, le=2100)  # the year it started
    description: str
    kpis: list[str] = Field(default_factory=list)
    voice: list[VoiceSource] = Field(default_factory=list)


def voice_problems(ds: Dataset, path: Path) -> list[str]:
    """A voice block names declared columns of the right kinds; who wrote it stays private."""
    if ds.voice is None:
        return []
    problems = []
    v = ds.voice
    for role, name in v.columns().items():
        col = ds.column(name)
        where = f"{path}: voice.{role}"
        if col is None:
            problems.append(f"{where}: {name!r} is not a declared column")
            continue
        if role == "date" and col.type != "date":
            problems.append(f"{where}: {name!r} must be a date column (got {col.type})")
        if role == "rating" and col.type not in ("integer", "number"):
            problems.append(f"{where}: {name!r} must be a number column (got {col.type})")
        if role in ("text", "programme", "place", "author", "source_id", "status") and (
            col.type != "string"
        ):
            problems.append(f"{where}: {name!r} must be a text column (got {col.type})")
        if role in ("author", "source_id") and not col.pii:
            problems.append(
                f"{where}: {name!r} identifies the citizen who wrote the row, so it must be "
                "declared personal data (pii: true) and never leave the warehouse"
            )
    if v.text is None and v.kind != "complaint":
        problems.append(f"{path}: voice.text: a {v.kind} dataset names its text column")
    if v.followed_up and v.status is None:
        problems.append(f"{path}: voice.followed_up: needs voice.status, the status column")
    if v.kind == "complaint" and v.status is None:
        problems.append(f"{path}: voice.status: a complaint channel names its status column")
    return problems


def programme_problems(
    programmes: list[tuple[int, Programme]],
    regencies: dict[str, Regency],
    datasets: dict[str, Dataset],
    kpis: dict[str, Kpi],
    path: Path,
) -> list[str]:
    """Every reference of a programme resolves: regency, OPD, KPIs and voice datasets."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, p in programmes:
        where = f"{path}: [{i}]"
        if p.code in seen:
            problems.append(f"{where}.code: programme {p.code!r} is declared twice")
        seen.add(p.code)
        reg = regencies.get(p.regency)
        if reg is None:
            problems.append(f"{where}.regency: unknown regency {p.regency!r}")
            continue
        if reg.opd(p.opd) is None:
            problems.append(
                f"{where}.opd: {p.opd!r} is not an OPD of {reg.name}; "
                f"expected one of {[o.code for o in reg.opds]}"
            )
        for j, code in enumerate(p.kpis):
            kpi = kpis.get(code)
            if kpi is None:
                problems.append(f"{where}.kpis[{j}]: unknown KPI {code!r}")
            elif kpi.regency != p.regency:
                problems.append(
                    f"{where}.kpis[{j}]: KPI {code!r} belongs to regency {kpi.regency}, "
                    f"not {p.regency}"
                )
        for j, src in enumerate(p.voice):
            ds = datasets.get(src.dataset)
            if ds is None:
                problems.append(f"{where}.voice[{j}].dataset: unknown dataset {src.dataset!r}")
            elif ds.voice is None:
                problems.append(
                    f"{where}.voice[{j}].dataset: {src.dataset!r} has no voice block, so it "
                    "is not a citizen-voice dataset"
                )
            elif not ds.covers(p.regency):
                problems.append(
                    f"{where}.voice[{j}].dataset: {src.dataset!r} holds no rows of "
                    f"{p.regency} (its area is {ds.area})"
                )
            elif not src.all and ds.voice.programme is None:
                problems.append(
                    f"{where}.voice[{j}]: {src.dataset!r} names no programme column "
                    "(voice.programme), so say `all: true` if every row is about this programme"
                )
            elif not src.all:
                col = ds.column(ds.voice.programme)  # type: ignore[arg-type]
                if col is not None and col.allowed is not None and p.code not in col.allowed:
                    problems.append(
                        f"{where}.voice[{j}]: {src.dataset!r} column {col.name!r} never holds "
                        f"{p.code!r} (allowed: {col.allowed})"
                    )
    return problems
