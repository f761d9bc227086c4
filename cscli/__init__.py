"""cscli: customer-service KPIs from ticket, call and survey exports."""

import os as _os

__version__ = "0.1.0"

#: Polars allocates through jemalloc, which by default hands freed pages back to the kernel
#: within seconds and faults them in again for the next morsel: on the 10M bench a third of
#: the CPU time was the kernel's. A one-shot process gains nothing from returning them, so
#: unless the caller set it, jemalloc keeps them (read when polars is first imported, so
#: only before that). Measured in docs/performance.md ("Allocator").
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"
_os.environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC_CONF)
