"""The polars loader: every adapter's exports (CSV, TSV, Parquet, JSON/JSONL) read into a
canonical LazyFrame, with the checks that count what could not be read.

One module per concern, in the order `load_source` runs them: `read` (paths, formats, the
first rows, read errors), `event_log` (one record per case), `mapping` (which column gives
each canonical column, offsets, derived columns, the source filter), `parse` (timestamp
sniffing and coercion), then `findings` (what is counted) and `diagnose` (where a file is
broken). `source` holds the types it returns. Adapters (`cscli.adapters`) are only data.
"""

from cscli.engine.polars.loader.load import load_source
from cscli.engine.polars.loader.read import explain_read_error, no_records_error, structure_error
from cscli.engine.polars.loader.source import LoadedSource, QualityCheck

__all__ = [
    "LoadedSource",
    "QualityCheck",
    "explain_read_error",
    "load_source",
    "no_records_error",
    "structure_error",
]
