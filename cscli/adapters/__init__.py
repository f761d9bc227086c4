"""Adapters: one entry per export family, all loaded through `cscli.adapters.generic`."""

from __future__ import annotations

from cscli.adapters.base import Adapter

GENERIC = Adapter(
    name="generic",
    description="canonical column names, or any names mapped with `columns:`",
)

ADAPTERS: dict[str, Adapter] = {a.name: a for a in (GENERIC,)}
