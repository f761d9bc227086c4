"""Adapters: one entry per export family, all loaded by `cscli.engine.polars.loader`.

`generic` expects canonical names (or a source's `columns:`); the vendor presets in
`cscli.adapters.presets` map an export as the vendor writes it.
"""

from __future__ import annotations

from cscli.adapters.base import Adapter
from cscli.adapters.presets import PRESETS

GENERIC = Adapter(
    name="generic",
    description="canonical column names, or any names mapped with `columns:`",
)

ADAPTERS: dict[str, Adapter] = {a.name: a for a in (GENERIC, *PRESETS)}
