"""cscli: customer-service KPIs from ticket, call and survey exports."""

import os as _os

__version__ = "0.1.0"

#: Polars allocates through jemalloc and asks it (polars/__init__.py) to hand freed pages back
#: to the kernel within half a second, so the next morsel faults them in again: on the 10M
#: bench a third of cscli's CPU time was the kernel's. A one-shot process gains nothing from
#: returning them, so cscli keeps them (polars appends this to its own setting, and the later
#: keys win). Read when polars is first imported, so only before that; a value the caller set
#: is kept, but not the one polars itself left in the environment of a parent process that
#: imported it. Its background threads stay on: turning them off cut the context switches
#: tenfold but raised the peak RSS (30M tickets: 0.85 → 1.25 GB; 100M: 1.6 → 3.0 GB) for a
#: wall time within noise. Measured in docs/performance.md.
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"
_POLARS_OWN = "dirty_decay_ms:500,muzzy_decay_ms:1000"
if _os.environ.get("_RJEM_MALLOC_CONF", _POLARS_OWN) in (
    _POLARS_OWN,
    _POLARS_OWN + ",thp:always,metadata_thp:always",  # polars' own with POLARS_THP=1
):
    _os.environ["_RJEM_MALLOC_CONF"] = JEMALLOC_CONF
