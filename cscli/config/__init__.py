"""The YAML config (DESIGN §3) → typed, frozen objects, with `file:line:column` on every error.

- `marks`: the YAML, read with the safe loader, and the position of every key and value;
- `problems`: `Problems`, the one collector every check reports to;
- `models`: the shapes (pydantic models for the structure, typed entries for `kpis:` and
  `checks:`) and the typed result, `Config`;
- `load`: finding and loading a file in two passes, structure then meaning (`resolve`,
  `resolve_kpis`, `resolve_checks`, `sql`; `calendars:` by `cscli.business_hours.parse`),
  which raise one `ConfigError` with every problem found.
"""

from cscli.config.load import find_config, load_config, parse_config
from cscli.config.models import (
    CalendarAssignment,
    CheckConfig,
    Config,
    Freshness,
    Grain,
    SourceConfig,
)

__all__ = [
    "CalendarAssignment",
    "CheckConfig",
    "Config",
    "Freshness",
    "Grain",
    "SourceConfig",
    "find_config",
    "load_config",
    "parse_config",
]
