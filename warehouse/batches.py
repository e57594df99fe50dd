"""The rows a merge reads: an Arrow table or a staged Parquet file, in record batches, and the
checksum of those rows that does not depend on how they are chunked."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from serasan.common.arrow import ARROW_TYPES
from serasan.config.catalog import Column, Dataset

BATCH_ROWS = 65_536  # rows per record batch: bounded memory, large enough COPY writes

Batches = pa.Table | pq.ParquetFile | bytes | str | Path


def iso(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


class Source:
    """Rows to merge: an Arrow table, or a Parquet file (bytes, path or ParquetFile) read in
    record batches of the catalog's columns and types, so memory stays flat however many rows.

    `fingerprint` is the sha256 of the Parquet bytes when there are bytes to hash: the same
    staged object merged again is then recognised without decoding it.
    """

    def __init__(self, data: Batches):
        self.fingerprint: str | None = None
        self._table: pa.Table | None = None
        self._file: pq.ParquetFile | None = None
        if isinstance(data, pa.Table):
            self._table = data
        elif isinstance(data, pq.ParquetFile):
            self._file = data
        elif isinstance(data, bytes | bytearray | memoryview):
            self.fingerprint = hashlib.sha256(data).hexdigest()
            self._file = pq.ParquetFile(pa.BufferReader(data), pre_buffer=False)
        elif isinstance(data, str | Path):
            h = hashlib.sha256()
            with open(data, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
            self.fingerprint = h.hexdigest()
            self._file = pq.ParquetFile(data, pre_buffer=False)
        else:
            raise TypeError(f"expected Arrow or Parquet data, got {type(data).__name__}")

    @property
    def num_rows(self) -> int:
        # exactly one of _table and _file is set (__init__)
        if self._table is not None:
            return self._table.num_rows
        return typing.cast(pq.ParquetFile, self._file).metadata.num_rows

    def batches(self, ds: Dataset, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        cols = columns or ds.column_names
        schema = pa.schema([(c, _arrow_type(ds, c)) for c in cols])
        if self._table is not None:
            source: Iterable[pa.RecordBatch] = self._table.select(cols).to_batches(
                max_chunksize=BATCH_ROWS
            )
        else:
            source = typing.cast(pq.ParquetFile, self._file).iter_batches(
                batch_size=BATCH_ROWS, columns=cols
            )
        for b in source:
            if b.num_rows == 0:
                continue
            if b.schema != schema:
                b = pa.RecordBatch.from_arrays(
                    [b.column(i).cast(f.type) for i, f in enumerate(schema)], schema=schema
                )
            yield b

    def periods(self, ds: Dataset) -> list[Any]:
        """Distinct period values (dates or ints), read from the period column alone."""
        found: set[Any] = set()
        for b in self.batches(ds, [ds.period.column]):
            found.update(v for v in pc.unique(b.column(0)).to_pylist() if v is not None)
        return sorted(found)


def _arrow_type(ds: Dataset, name: str) -> pa.DataType:
    """The Arrow type of one of the dataset's columns (`name` is one of them)."""
    return ARROW_TYPES[typing.cast(Column, ds.column(name)).type]


def selected(batches: Iterable[pa.RecordBatch], mask: np.ndarray) -> Iterator[pa.RecordBatch]:
    """The rows of the batches where `mask` (over all of them, in order) is true."""
    at = 0
    for b in batches:
        part = mask[at : at + b.num_rows]
        at += b.num_rows
        if part.all():
            yield b
        elif part.any():
            yield b.filter(pa.array(part))


_FILL = {"int64": 0, "double": 0.0, "date32[day]": dt.date(1970, 1, 1), "bool": False}


class Digest:
    """sha256 of a batch's rows that does not depend on how they are chunked: each column's
    values, its string lengths and the positions of its nulls are three separate streams."""

    def __init__(self, ds: Dataset, mode: str):
        self._head = json.dumps([mode, [(c.name, c.type) for c in ds.columns]]).encode()
        self._values = [hashlib.sha256() for _ in ds.columns]
        self._lengths = [hashlib.sha256() for _ in ds.columns]
        self._nulls = [hashlib.sha256() for _ in ds.columns]
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        for arr, h, hl, hn in zip(
            batch.columns, self._values, self._lengths, self._nulls, strict=True
        ):
            if arr.null_count:
                valid = arr.is_valid().to_numpy(zero_copy_only=False)
                hn.update((np.flatnonzero(~valid) + self.rows).astype("<i8").tobytes())
            if pa.types.is_string(arr.type):
                arr = arr.fill_null("") if arr.null_count else arr
                strings = typing.cast(pa.StringArray, arr)
                hl.update(pc.binary_length(strings).to_numpy(zero_copy_only=False).tobytes())
                # numpy's stub (Python < 3.12) takes a few bytes-like types, not every object
                # with the buffer protocol, such as pyarrow's Buffer
                offsets = np.frombuffer(  # type: ignore[call-overload]
                    arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4
                )
                data = arr.buffers()[2]
                if data is not None and offsets[-1] > offsets[0]:
                    h.update(memoryview(data)[offsets[0] : offsets[-1]])
            else:
                if arr.null_count:
                    arr = arr.fill_null(pa.scalar(_FILL[str(arr.type)], type=arr.type))
                h.update(arr.to_numpy(zero_copy_only=False).tobytes())
        self.rows += batch.num_rows

    def feed(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            self.add(b)
            yield b

    def hexdigest(self) -> str:
        top = hashlib.sha256(self._head)
        for h in [*self._values, *self._lengths, *self._nulls]:
            top.update(h.digest())
        return top.hexdigest()


def digest(ds: Dataset, data: Batches, mode: str) -> str:
    """The checksum `merge` records for these rows in this load mode."""
    d = Digest(ds, mode)
    for b in Source(data).batches(ds):
        d.add(b)
    return d.hexdigest()


def periods_of(ds: Dataset, table: pa.Table) -> list[str]:
    """The distinct periods in a batch, as ISO strings (years as 'YYYY')."""
    values = {v for v in table[ds.period.column].to_pylist() if v is not None}
    return sorted(iso(v) for v in values)
