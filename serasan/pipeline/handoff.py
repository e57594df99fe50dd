"""What the stages of one dataset's run hand each other, and Airflow's tasks pass as XCom.

    extract  -> [RawObject]  one per raw file to process
    parse    -> Parsed       the file's rows as typed Parquet in staging/, or why it was rejected
    validate -> Validated    the suite's verdict: staging Parquet of the rows that load,
                             quarantine files, Data Docs, what the alert will say
    load     -> LoadSummary  what the warehouse now holds from the file

Frozen dataclasses in the core; at a task boundary `to_xcom()` turns one into plain JSON types
(str, int, bool, None, list, dict) and `from_xcom()` reads it back, so Airflow's XCom carries
them whatever its serialiser. The big things (rows) travel through the lake, never XCom.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from serasan.common.enums import NOTHING_LOADED, LoadStatus
from serasan.config.catalog import Dataset

XCom = dict[str, Any]
Problem = tuple[str, int]  # a reason in plain words, and how many rows it concerns


def load_id_for(ds: Dataset, sha256: str) -> str:
    """The id of a file's load: the dataset and the file's content, so a rerun finds it."""
    return _load_id(ds.id, sha256)


def _load_id(dataset_id: str, sha256: str) -> str:
    return f"{dataset_id}-{sha256[:16]}"


def _plain(value: Any) -> Any:
    """A value as JSON types: enums as their string, tuples as lists, hand-offs as dicts."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class _XCom:
    def to_xcom(self) -> XCom:
        """This hand-off as plain JSON types, for Airflow's XCom."""
        out = _plain(self)
        assert isinstance(out, dict)
        return out


@dataclass(frozen=True)
class RawObject(_XCom):
    """A file under raw/ whose load has not finished (or is forced again)."""

    dataset: str
    sha256: str
    raw_key: str

    @property
    def filename(self) -> str:
        return self.raw_key.rsplit("/", 1)[-1]

    @property
    def load_id(self) -> str:
        return _load_id(self.dataset, self.sha256)

    @classmethod
    def from_xcom(cls, d: XCom) -> RawObject:
        return cls(dataset=d["dataset"], sha256=d["sha256"], raw_key=d["raw_key"])


@dataclass(frozen=True)
class Parsed(RawObject):
    """One raw file parsed: its typed rows (with `_row`, the row number the OPD sees) in
    `parsed_key`, and the rows parse set aside (unreadable cells, ragged lines, summary rows)
    in `rejects_key`; or, when the file could not be read at all, `error` and neither."""

    rows_in: int = 0  # non-blank rows under the header
    rows_parsed: int = 0  # rows in the Parquet; the others were set aside by parse
    header_row: int = 0  # 1-based; 0 when rejected
    notes: tuple[str, ...] = ()  # decisions taken for this file, e.g. the date order
    fix_file: bool = False  # a re-uploaded rejected-rows file: its rows are upserted
    parsed_key: str | None = None
    rejects_key: str | None = None
    error: str | None = None

    @property
    def rejected(self) -> bool:
        return self.error is not None

    @classmethod
    def from_xcom(cls, d: XCom) -> Parsed:
        return cls(
            dataset=d["dataset"],
            sha256=d["sha256"],
            raw_key=d["raw_key"],
            rows_in=int(d["rows_in"]),
            rows_parsed=int(d["rows_parsed"]),
            header_row=int(d["header_row"]),
            notes=tuple(d["notes"]),
            fix_file=bool(d["fix_file"]),
            parsed_key=d["parsed_key"],
            rejects_key=d["rejects_key"],
            error=d["error"],
        )


@dataclass(frozen=True)
class DqOutcome:
    """One expectation of the suite on one file (a `meta.dq_result` row)."""

    seq: int
    type: str
    column: str  # the expectation's columns, comma-separated
    success: bool
    unexpected_count: int
    element_count: int
    sample: str | None  # JSON: the keys and `_row` of up to 20 failing rows

    @classmethod
    def from_xcom(cls, d: XCom) -> DqOutcome:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class Validated(RawObject):
    """One raw file judged by its suite: what loads (`staging_key`), what the OPD gets back
    (`quarantine_key`), and what the alert and `meta.load_run` will say."""

    status: LoadStatus = LoadStatus.REJECTED
    rows_in: int = 0
    rows_valid: int = 0  # rows in the staging Parquet
    rows_rejected: int = 0
    problems: tuple[Problem, ...] = ()
    examples: tuple[dict[str, Any], ...] = ()  # up to 5 quarantined rows, for the alert
    dq: tuple[DqOutcome, ...] = ()
    staging_key: str | None = None
    quarantine_key: str | None = None
    periods: tuple[str, ...] = ()  # ISO periods the file is about (a blocked file's too)
    notes: tuple[str, ...] = ()
    error: str | None = None  # why the file was rejected
    fix_file: bool = False
    rows_failing: int | None = None  # rows in quarantine; None when the file was rejected
    docs_key: str | None = None

    @classmethod
    def from_xcom(cls, d: XCom) -> Validated:
        return cls(
            dataset=d["dataset"],
            sha256=d["sha256"],
            raw_key=d["raw_key"],
            status=LoadStatus(d["status"]),
            rows_in=int(d["rows_in"]),
            rows_valid=int(d["rows_valid"]),
            rows_rejected=int(d["rows_rejected"]),
            problems=tuple((str(text), int(n)) for text, n in d["problems"]),
            examples=tuple(dict(e) for e in d["examples"]),
            dq=tuple(DqOutcome.from_xcom(x) for x in d["dq"]),
            staging_key=d["staging_key"],
            quarantine_key=d["quarantine_key"],
            periods=tuple(d["periods"]),
            notes=tuple(d["notes"]),
            error=d["error"],
            fix_file=bool(d["fix_file"]),
            rows_failing=None if d["rows_failing"] is None else int(d["rows_failing"]),
            docs_key=d["docs_key"],
        )


@dataclass(frozen=True)
class LoadSummary(_XCom):
    """One file's load, as recorded: `rows_in == rows_loaded + rows_rejected`."""

    dataset: str
    sha256: str
    load_id: str
    filename: str
    status: LoadStatus
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    quarantine_key: str | None
    alert_key: str | None  # the alert's text in the lake, when there is one
    periods: tuple[str, ...]
    error: str | None

    @property
    def nothing_loaded(self) -> bool:
        """Blocked or rejected: the DAG run fails, so the engineers see it too."""
        return self.status in NOTHING_LOADED

    @classmethod
    def from_xcom(cls, d: XCom) -> LoadSummary:
        return cls(
            dataset=d["dataset"],
            sha256=d["sha256"],
            load_id=d["load_id"],
            filename=d["filename"],
            status=LoadStatus(d["status"]),
            rows_in=int(d["rows_in"]),
            rows_loaded=int(d["rows_loaded"]),
            rows_rejected=int(d["rows_rejected"]),
            quarantine_key=d["quarantine_key"],
            alert_key=d["alert_key"],
            periods=tuple(d["periods"]),
            error=d["error"],
        )
