"""The engine of a run: `engine:` in the config, `$CSCLI_ENGINE`, `--engine` (the last wins),
and the check that every KPI's SQL runs exactly on it.

The SQL engines parse KPI SQL with their own compiler (`cscli.engine.sql.text`); SQL that one
of them cannot run exactly (an approximate quantile, `WITHIN GROUP`, a function it lacks) is
refused when the config is loaded for that engine, not in the middle of a report.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any, cast

from cscli.config.engines import ENGINES, EngineName
from cscli.config.models import Config
from cscli.config.problems import Problems
from cscli.errors import ConfigError, ConfigProblem, UsageError
from cscli.kpis.columns import kind_sql

ENV_ENGINE = "CSCLI_ENGINE"


def engine_name(value: str, origin: str) -> EngineName:
    """A valid engine name, or a usage error naming where it came from."""
    name = value.strip().lower()
    if name not in ENGINES:
        raise UsageError(
            f"{origin}: unknown engine {value!r}",
            hint=f"engines: {', '.join(ENGINES)}",
        )
    return cast("EngineName", name)


def env_engine() -> EngineName | None:
    """The engine `$CSCLI_ENGINE` names, or None when unset."""
    value = os.environ.get(ENV_ENGINE, "").strip()
    return engine_name(value, f"${ENV_ENGINE}") if value else None


def sql_problems(
    config_kpis: Sequence[Any], engine: str, entries: Sequence[Any] | None
) -> list[tuple[tuple[str | int, ...], str]]:
    """(path in the file, message) per KPI SQL text the engine cannot run exactly."""
    if engine == "polars":
        return []
    from cscli.engine.sql.dialect import dialect_for
    from cscli.engine.sql.text import problems

    d = dialect_for(engine)
    index = _entry_index(entries or [])
    out = []
    for k in config_kpis:
        kinds = [k.kind] + ([k.built.fallback.kind] if k.built.fallback is not None else [])
        texts = dict.fromkeys(t for kind in kinds for t in kind_sql(kind))
        for text in texts:
            for why in problems(text, d):
                path: tuple[str | int, ...] = ("kpis", index[k.id]) if k.id in index else ()
                out.append((path, f"KPI {k.id!r} cannot run on the {engine} engine: {why}"))
    return out


def _entry_index(entries: Sequence[Any]) -> Mapping[str, int]:
    out: dict[str, int] = {}
    for i, e in enumerate(entries):
        key = e if isinstance(e, str) else e.get("id") if isinstance(e, dict) else None
        if isinstance(key, str):
            out.setdefault(key, i)
    return out


def check_sql(problems: Problems, config_kpis: Sequence[Any], engine: str, data: Any) -> None:
    """Add a problem per KPI SQL text the engine cannot run exactly (config load)."""
    entries = data.get("kpis") if isinstance(data, dict) else None
    for path, message in sql_problems(config_kpis, engine, entries):
        problems.add(path, message)


def with_engine(config: Config, name: str | None) -> Config:
    """The config run on engine `name` (`--engine`; None: as configured), its KPI SQL
    checked for that engine."""
    if name is None or name == config.engine.name:
        return config
    chosen = engine_name(name, "--engine")
    found = sql_problems(config.kpis, chosen, None)
    if found:
        raise ConfigError(
            [ConfigProblem(str(config.path), None, None, message) for _, message in found],
            hint="write the SQL portably (quantile_cont(x, q), no approx_ functions), or run "
            "it on the polars engine",
        )
    engine = config.engine.model_copy(update={"name": chosen})
    return dataclasses.replace(config, engine=engine)
