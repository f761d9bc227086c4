"""The canonical sources of a config on polars, and the business-hours calendars they use.

Each source is read by its adapter's mapping into a `LoadedSource`: a lazy frame of canonical
columns with the checks that count its unusable records.
"""

from __future__ import annotations

from collections.abc import Collection

from cscli.adapters import ADAPTERS
from cscli.config import Config
from cscli.engine.polars.loader import LoadedSource, load_source
from cscli.errors import UsageError
from cscli.suggest import did_you_mean


def load_sources(config: Config, names: Collection[str]) -> dict[str, LoadedSource]:
    """The sources `names` of the config, loaded (in name order)."""
    loaded = {}
    for name in sorted(names):
        cfg = config.sources[name]
        adapter = ADAPTERS.get(cfg.adapter)
        if adapter is None:
            raise UsageError(
                f"sources.{name}.adapter: unknown adapter {cfg.adapter!r}"
                + did_you_mean(cfg.adapter, list(ADAPTERS)),
                hint=f"adapters: {', '.join(ADAPTERS)}",
            )
        loaded[name] = load_source(name, cfg, config.base_dir, adapter, str(config.path))
    return loaded
