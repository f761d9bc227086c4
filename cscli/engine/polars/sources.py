"""The canonical sources of a config on polars.

Each source is read by its adapter's mapping into a `LoadedSource`: a lazy frame of canonical
columns with the checks that count its unusable records. The adapter name was checked when
the config was loaded (`config.models`), with its position. A source that points at data
written by `cscli ingest` (`format: canonical`, or a folder beside its manifest) is read back
as it is (`loader.canonical`). A CSV, TSV or JSON export goes through the source cache
(`cached`, docs/cache.md): a re-run over unchanged exports reads their canonical form.
"""

from __future__ import annotations

from collections.abc import Collection

from cscli.adapters import ADAPTERS
from cscli.config import Config
from cscli.engine.canonical import canonical_folder
from cscli.engine.polars.cached import load_cached
from cscli.engine.polars.loader import LoadedSource, load_source
from cscli.engine.polars.loader.canonical import load_canonical


def load_sources(config: Config, names: Collection[str]) -> dict[str, LoadedSource]:
    """The sources `names` of the config, loaded (in name order)."""
    out = {}
    for name in sorted(names):
        cfg = config.sources[name]
        folder = canonical_folder(cfg.path, cfg.format, config.base_dir)
        if folder is not None:
            out[name] = load_canonical(name, folder, cfg, str(config.path))
        elif (cached := load_cached(name, config)) is not None:
            out[name] = cached
        else:
            out[name] = load_source(
                name, cfg, config.base_dir, ADAPTERS[cfg.adapter], str(config.path)
            )
    return out
