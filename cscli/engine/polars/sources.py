"""The canonical sources of a config on polars.

Each source is read by its adapter's mapping into a `LoadedSource`: a lazy frame of canonical
columns with the checks that count its unusable records. The adapter name was checked when
the config was loaded (`config.models`), with its position.
"""

from __future__ import annotations

from collections.abc import Collection

from cscli.adapters import ADAPTERS
from cscli.config import Config
from cscli.engine.polars.loader import LoadedSource, load_source


def load_sources(config: Config, names: Collection[str]) -> dict[str, LoadedSource]:
    """The sources `names` of the config, loaded (in name order)."""
    return {
        name: load_source(
            name,
            config.sources[name],
            config.base_dir,
            ADAPTERS[config.sources[name].adapter],
            str(config.path),
        )
        for name in sorted(names)
    }
