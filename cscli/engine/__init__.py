"""Engines: where the KPI kinds are computed over canonical sources.

`cscli.engine.base` is the engine-neutral seam (the plan an engine executes and the small
aggregated tables it returns); `cscli.engine.polars` is the default implementation. Nothing
outside `cscli/engine/` may depend on how an engine computes, only on what `base` declares.
"""
