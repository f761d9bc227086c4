"""`engine:` in the config: which engine computes the KPIs, and the Spark session settings."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: the engines a config can name (`engine:`); polars is the default and the reference
ENGINES = ("polars", "duckdb", "spark")
EngineName = Literal["polars", "duckdb", "spark"]


class EngineConfig(BaseModel):
    """`engine: duckdb`, or `engine: {name: spark, master: local[2], remote: sc://…, conf:
    {…}}`: where the KPIs are computed (`--engine` and `$CSCLI_ENGINE` override the name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: EngineName = "polars"
    #: Spark: the master URL (local[2], spark://host:7077, yarn…)
    master: str | None = None
    #: Spark Connect: sc://host:15002
    remote: str | None = None
    #: Spark configuration (spark.sql.shuffle.partitions: 64, …)
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _named(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v


# a value check of the source models (kept here: models.py is at its size limit)
def check_since(value: object) -> object:
    text = value.isoformat() if hasattr(value, "isoformat") else value
    if text is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d+d", str(text)):
        return text
    raise ValueError(f"since: {value!r} is not a day (2026-01-01) or a number of days (90d)")


__all__ = ["ENGINES", "EngineConfig", "EngineName", "check_since"]
