"""Engines: where the KPI kinds are computed over canonical sources.

`cscli.engine.base` is the engine-neutral seam (the plan an engine executes and the small
aggregated tables it returns); `cscli.engine.polars` is the default implementation. Nothing
outside `cscli/engine/` may depend on how an engine computes, only on what `base` declares;
`engine_for` is where the engine of a run is chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from cscli.config import Config
    from cscli.engine.base import Engine


def engine_for(
    config: Config, *, progress: Callable[[int, int], None] | None = None
) -> Engine[Any]:
    """The engine that computes this config's KPIs: polars (the only one so far)."""
    from cscli.engine.polars.engine import PolarsEngine

    return PolarsEngine(config, progress=progress)
