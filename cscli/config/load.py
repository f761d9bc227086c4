"""Finding the config file, and loading it in two passes that report every problem at once.

1. structure and types: `RawConfig.model_validate`, each pydantic error turned into a problem
   at its position (an unknown key with a "did you mean" from the fields of its model);
2. meaning (`cscli.config.resolve`): KPI ids and parameters against the registry, check
   conditions against their KPI's unit, calendars and the references to them.

The second pass runs even when the first failed, on the data as read, so that one run reports
all; `Problems.raise_if_any` then raises one `ConfigError` with every problem in file order.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from cscli.config.engine import check_sql, env_engine
from cscli.config.event_log import with_log_events
from cscli.config.marks import load_yaml
from cscli.config.models import Config, RawConfig
from cscli.config.problems import Problems
from cscli.config.resolve import resolve
from cscli.config.sla import read_policies
from cscli.errors import ConfigError, ConfigProblem, dotted
from cscli.suggest import did_you_mean

ENV_VAR = "CSCLI_CONFIG"
DEFAULT_NAME = "cscli.yaml"
#: the largest config file read
MAX_CONFIG_BYTES = 1_000_000


def find_config(explicit: Path | None) -> Path:
    """`-c`, else `$CSCLI_CONFIG`, else `./cscli.yaml`."""
    if explicit is not None:
        candidate, origin = explicit, "--config"
    elif os.environ.get(ENV_VAR):
        candidate, origin = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        candidate, origin = Path(DEFAULT_NAME), "the current directory"
        if not candidate.exists():
            raise ConfigError(
                [ConfigProblem(DEFAULT_NAME, None, None, "no config file found")],
                hint=(
                    "pass one with -c PATH, set $CSCLI_CONFIG, or try the bundled sample "
                    "with --demo"
                ),
            )
    if not candidate.is_file():
        raise ConfigError(
            [ConfigProblem(str(candidate), None, None, f"config file not found (from {origin})")],
            hint="check the path, or try the bundled sample with --demo",
        )
    return candidate


def load_config(path: Path) -> Config:
    """Read and validate a config file; raises ConfigError listing every problem."""
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                [
                    ConfigProblem(
                        file,
                        None,
                        None,
                        f"the config is {size:,} bytes; the limit is {MAX_CONFIG_BYTES:,}",
                    )
                ],
                hint="a config names files and rules; keep data in the sources",
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([ConfigProblem(file, None, None, f"cannot read the file: {e}")]) from e
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate the config `text` read from `path`; raises ConfigError listing every problem."""
    file = str(path)
    data, marks, found = load_yaml(text, file)
    if found and data is None:
        raise ConfigError(found)
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigProblem(file, 1, 1, "the config must be a mapping with at least `sources:`")]
        )
    problems = Problems(file, text, marks)
    problems.extend(found)
    raw = _structure(data, problems)
    resolved = resolve(data, raw, problems)
    sla_policies = read_policies(data, problems)
    engine = raw.engine if raw is not None else None
    if engine is not None:
        chosen = env_engine()
        if chosen is not None and chosen != engine.name:
            engine = engine.model_copy(update={"name": chosen})
        check_sql(problems, resolved.kpis, engine.name, data)
    problems.raise_if_any()
    assert raw is not None and engine is not None  # a structure problem is a problem
    return Config(
        path=path,
        timezone=raw.timezone,
        sources=with_log_events(raw.sources),
        kpis=resolved.kpis,
        kpis_explicit=raw.kpis is not None,
        report=raw.report,
        checks=resolved.checks,
        calendars=resolved.calendars,
        default_calendar=raw.calendar,
        engine=engine,
        sla_policies=sla_policies,
    )


# --- pass 1: structure --------------------------------------------------------------------


def _structure(data: dict[str, Any], problems: Problems) -> RawConfig | None:
    """The validated structure, or None with every pydantic error reported."""
    try:
        return RawConfig.model_validate(data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            _report(err, problems)
    return None


def _report(err: ErrorDetails, problems: Problems) -> None:
    loc = _clean_loc(err["loc"])
    if err["type"] in ("extra_forbidden", "missing"):
        # the last element is the key at fault, a user's own for extra_forbidden
        loc = (*_clean_loc(err["loc"][:-1]), *err["loc"][-1:])
    if err["type"] == "extra_forbidden":
        problems.add(loc, _unknown_key(loc), key=True)
    elif err["type"] == "missing":
        problems.add(loc[:-1], f"missing required key {loc[-1]!r}")
    else:
        problems.add(loc, f"{dotted(loc)}: {_pydantic_message(err)}")


def _clean_loc(loc: Sequence[Any]) -> tuple[str | int, ...]:
    # pydantic adds union-member tags such as 'str' or 'function-after[...]' to the path
    tags = ("str", "int", "float", "bool", "dict[str,any]", "list[str]", "tuple[str, ...]")
    return tuple(p for p in loc if not (isinstance(p, str) and (p in tags or _TAG.match(p))))


_TAG = re.compile(r"^[\w-]+\[.*\]$")


def _pydantic_message(err: ErrorDetails) -> str:
    msg = str(err["msg"]).removeprefix("Value error, ")
    for pydantic_word, ours in (
        ("a valid tuple", "a list"),
        ("a valid list", "a list"),
        ("a valid dictionary", "a mapping"),
    ):
        msg = msg.replace(pydantic_word, ours)
    return msg


def _unknown_key(loc: Sequence[str | int]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    known = list(model.model_fields) if model else []
    where = f" in {dotted(loc[:-1])}" if len(loc) > 1 else ""
    return f"unknown key {key!r}{where}{did_you_mean(key, known)}"


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model of the mapping at `loc`, found through the field types from `RawConfig`
    (`("sources", "tickets")` → SourceConfig), or None where the value is no model."""
    kind: Any = RawConfig
    for part in loc:
        model = _model_in(kind)
        if model is not None:
            field = model.model_fields.get(str(part))
            kind = field.annotation if field is not None else None
        elif get_origin(kind) in (dict, Mapping):
            kind = get_args(kind)[1]
        else:
            return None
    return _model_in(kind)


def _model_in(kind: Any) -> type[BaseModel] | None:
    """`kind` itself when it is a model, or the model among the members of a union."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind
    if get_origin(kind) in (Union, types.UnionType):
        for member in get_args(kind):
            if isinstance(member, type) and issubclass(member, BaseModel):
                return member
    return None
