"""The catalog's column types as Arrow types: shared by the parser (which writes them) and the
loader (which reads them), so both agree without the warehouse importing the parser.
"""

from __future__ import annotations

import pyarrow as pa

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}
