"""Library verbs that mirror the commands. The CLI parses options and calls these; so can you.

>>> from cscli import api
>>> result = api.report(demo=True, by=["channel"], grain="week")
>>> result.totals["csat"][0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from cscli.config import Config, find_config, load_config
from cscli.config.engine import with_engine
from cscli.errors import ConfigError, ConfigProblem, UsageError
from cscli.kpis.catalog import CATALOG
from cscli.kpis.spec import KpiDef, instantiate
from cscli.period import Grain, resolve_period
from cscli.profiles import PROFILES, Profile
from cscli.suggest import did_you_mean

if TYPE_CHECKING:
    # the engine loads with the first verb that computes: `cscli kpis`, `cscli --help` and
    # a config error need no polars
    import polars as pl

    from cscli.checks import CheckResult
    from cscli.engine.canonical import Manifest
    from cscli.feedback import FeedbackResult
    from cscli.results import ReportResult
    from cscli.validate import ValidationResult

PACKAGE_DIR = Path(__file__).resolve().parent


def demo_config_path() -> Path:
    """The bundled sample config: inside the wheel, or in the source checkout."""
    for candidate in (
        PACKAGE_DIR / "_bundled" / "configs" / "sample.yaml",
        PACKAGE_DIR.parent / "configs" / "sample.yaml",
    ):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        [ConfigProblem("sample.yaml", None, None, "the bundled sample config is missing")],
        hint="reinstall cscli; the wheel ships configs/sample.yaml and sample_data/",
    )


def open_config(
    path: Path | None = None, *, demo: bool = False, engine: str | None = None
) -> Config:
    """Load the config: the demo one, `path`, `$CSCLI_CONFIG`, or `./cscli.yaml`; `engine`
    (polars, duckdb, spark) overrides its `engine:`."""
    if demo and path is not None:
        raise UsageError("--demo and --config cannot be combined")
    return with_engine(load_config(demo_config_path() if demo else find_config(path)), engine)


def report(
    config: Path | Config | None = None,
    *,
    demo: bool = False,
    date_from: str | None = None,
    date_to: str | None = None,
    last: str | None = None,
    by: Sequence[str] | None = None,
    grain: Grain | None = None,
    kpis: Sequence[str] = (),
    compare: bool | str | None = None,
    profile: str | None = None,
    trend: bool = False,
    engine: str | None = None,
) -> ReportResult:
    """Compute the report's KPIs.

    `by`, `grain` and `compare` default to the config's `report:` section; a `profile`
    (`scorecard`, `team`) supplies KPIs and dimensions that `kpis` and `by` may override.
    `trend` adds per-bucket totals over all groups (for sparklines).
    """
    from cscli.pipeline import ReportRequest, run_report

    cfg = (
        with_engine(config, engine)
        if isinstance(config, Config)
        else open_config(config, demo=demo, engine=engine)
    )
    period = resolve_period(date_from, date_to, last, cfg.timezone)
    chosen = get_profile(profile) if profile else None
    if by is None:
        by = chosen.by if chosen else cfg.report.by
    mode = compare_mode(compare if compare is not None else cfg.report.compare)
    request = ReportRequest(
        kpi_ids=tuple(kpis) or (profile_kpis(chosen, cfg) if chosen else ()),
        by=tuple(by),
        grain=grain if grain is not None else cfg.report.grain,
        compare=mode is not None,
        compare_to=mode or "previous",
        trend=trend,
    )
    return run_report(cfg, request, period)


COMPARE_MODES = ("previous", "yoy")


def compare_mode(value: bool | str | None) -> str | None:
    """`--compare` / `report.compare`: True or `previous` → previous, `yoy`, else off."""
    if value is True or value == "previous":
        return "previous"
    if value == "yoy":
        return "yoy"
    if value in (None, False, "off", "none"):
        return None
    raise UsageError(f"--compare: unknown mode {value!r}", hint="use --compare or --compare yoy")


def profile_kpis(profile: Profile, config: Config | None = None) -> tuple[str, ...]:
    """A profile's KPIs, with those of its optional ones that the catalogue (or the config's
    `kpis:`) defines."""
    known = set(CATALOG) | ({k.id for k in config.kpis} if config else set())
    return (*profile.kpis, *(k for k in profile.optional if k in known))


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise UsageError(
            f"unknown profile {name!r}{did_you_mean(name, PROFILES)}",
            hint="profiles: " + "; ".join(f"{p.name}: {p.description}" for p in PROFILES.values()),
        )
    return PROFILES[name]


def kpi_catalog() -> list[KpiDef]:
    """The built-in KPI definitions, in catalogue order."""
    return list(CATALOG.values())


def check(
    config: Path | Config | None = None,
    *,
    demo: bool = False,
    date_from: str | None = None,
    date_to: str | None = None,
    last: str | None = None,
    rules: Sequence[str] = (),
    engine: str | None = None,
) -> CheckResult:
    """Evaluate the config's SLA rules over the period (all rules, or those named in `rules`);
    `engine` overrides the config's."""
    from cscli.checks import run_checks

    cfg = (
        with_engine(config, engine)
        if isinstance(config, Config)
        else open_config(config, demo=demo, engine=engine)
    )
    period = resolve_period(date_from, date_to, last, cfg.timezone)
    return run_checks(cfg, period, only=rules)


def breaches(
    config: Path | Config | None, result: CheckResult, *, demo: bool = False, strict: bool = False
) -> pl.DataFrame:
    """The records behind each failed rule × group of `result` (warned ones too with `strict`),
    with their dimensions: what `--breaches` writes. Pass the `Config` that `check` was given,
    so that it is not loaded again."""
    from cscli.checks import breach_records

    cfg = config if isinstance(config, Config) else open_config(config, demo=demo)
    return breach_records(cfg, result, strict=strict)


def validate(
    config: Path | Config | None = None, *, demo: bool = False, engine: str | None = None
) -> ValidationResult:
    """Load every source of the config and report rows, mappings and data-quality findings;
    `engine` overrides the config's (its KPI SQL is checked for it)."""
    from cscli.validate import validate as run

    cfg = (
        with_engine(config, engine)
        if isinstance(config, Config)
        else open_config(config, demo=demo, engine=engine)
    )
    return run(cfg)


def ingest(
    config: Path | Config | None = None,
    *,
    out: Path,
    sources: Sequence[str] = (),
    demo: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Manifest:
    """Load the sources (all of them when `sources` is empty) with their adapters and write
    them as canonical Parquet under `out`, partitioned by month, with the manifest
    `out/cscli-ingest.json` (docs/ingest.md); returns the manifest. Sources ingested before
    into `out` and not named here are kept. `progress` hears each source's name."""
    from cscli.engine.polars.ingest import ingest as run

    cfg = config if isinstance(config, Config) else open_config(config, demo=demo)
    return run(cfg, sources, out, progress)


def init(
    folder: Path,
    *,
    force: bool = False,
    timezone: str = "UTC",
    write: bool = True,
    database: str | None = None,
) -> tuple[Path, str]:
    """Write a starter `cscli.yaml` for the exports in `folder` (or the tables of the
    `database` URI, the config written into `folder`); returns (path, text).

    The text is parsed and every source loaded before anything is written, so the file that
    lands runs; an existing config is kept unless `force`.
    """
    from cscli.config import parse_config
    from cscli.output import write_atomic
    from cscli.scaffold import render_config, scan_folder
    from cscli.validate import validate as run_validate

    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", hint="cscli init FOLDER-WITH-EXPORTS")
    target = folder / "cscli.yaml"
    if write and target.exists() and not force:
        raise UsageError(f"{target} exists", hint="use --force to replace it")
    if database is not None:
        from cscli.init_database import init_database

        text = init_database(database, folder, timezone)
        if write:
            write_atomic(target, text)
        return target, text
    matches = scan_folder(folder)
    if not matches:
        raise UsageError(
            f"no file in {folder} looks like tickets, calls, surveys or customers",
            hint="cscli needs at least an id and a timestamp column; see `cscli kpis` and the "
            "canonical tables in the README, then write sources: by hand",
        )
    text = render_config(matches, folder, timezone)
    run_validate(parse_config(text, target))
    if write:
        write_atomic(target, text)
    return target, text


def feedback(
    config: Path | Config | None = None,
    *,
    demo: bool = False,
    source: str = "surveys",
    by: Sequence[str] = (),
    where: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    last: str | None = None,
    neutral: float = 0.05,
    examples: int = 5,
    top_terms: int = 15,
    min_count: int = 3,
    progress: Callable[[int, int], None] | None = None,
) -> FeedbackReport:
    """The qualitative view: sentiment labels, the most negative and positive texts (masked),
    and the terms that set negative texts apart, for a period and slice of one source."""
    import dataclasses

    import polars as pl

    from cscli.availability import sentiment_unavailable
    from cscli.contrast import score_side_expr, survey_bands
    from cscli.derived import TEXT_COLUMNS
    from cscli.engine.polars.compile import sql
    from cscli.engine.polars.records import kpi_records
    from cscli.feedback import summarise_feedback
    from cscli.sentiment import label_expr

    cfg = config if isinstance(config, Config) else open_config(config, demo=demo)
    if source not in TEXT_COLUMNS:
        raise UsageError(
            f"--source {source}: no text to read", hint=f"sources: {', '.join(TEXT_COLUMNS)}"
        )
    if source not in cfg.sources:
        raise UsageError(f"the config has no {source} source", hint="add it under sources:")
    why = sentiment_unavailable()
    if why:
        raise UsageError(f"cscli feedback {why}")
    base = CATALOG["sentiment"]
    anchor = dict(base.alt_sources)[source]
    kpi = instantiate(dataclasses.replace(base, source=source, anchor=anchor))
    period = resolve_period(date_from, date_to, last, cfg.timezone)
    # the columns --where names are looked up like --by dimensions (a survey's channel is its
    # ticket's); the text is checked (no subqueries, no table functions) before polars parses it
    where_dims: list[str] = []
    if where:
        from cscli.sqlcheck import SqlError, check_columns, parse

        try:
            where_dims = [c for c in parse(where).meta.root_names() if c not in by]
        except SqlError as e:
            raise UsageError(
                f"--where: {e.problem.message} (at character {e.problem.offset + 1})",
                hint="--where is one SQL condition on the source's columns",
            ) from None
    dims = tuple(dict.fromkeys((*by, *where_dims)))
    [frame] = kpi_records(cfg, [(kpi, dims, {})], period, progress=progress)
    text = TEXT_COLUMNS[source]
    if where:
        columns = [c for c in frame.collect_schema().names() if not c.startswith("_")]
        found = check_columns(where, columns, what=f"the {source} records")
        if found is not None:
            raise UsageError(
                f"--where: {found.message} (at character {found.offset + 1})",
                hint=f"--where is a SQL condition on the columns {', '.join(columns)}",
            )
        frame = frame.filter(sql(where).fill_null(False))
    if source == "messages" and "inbound" in frame.collect_schema().names():
        frame = frame.filter(pl.col("inbound").fill_null(False))
    # surveys: the terms contrast unhappy with happy respondents by score (cscli.contrast)
    by_score = source == "surveys"
    extra = [c for c in ("score", "survey_type") if by_score and c not in (text, *by)]
    local = pl.col(anchor).dt.convert_time_zone(cfg.timezone).dt.date()
    rows = frame.select(text, "sentiment", *by, *extra, local.alias("_date")).collect()
    rows = rows.with_columns(label_expr(pl.col("sentiment"), neutral))
    if by_score:
        params = {k.base.id: k.params for k in cfg.kpis}
        csat, asat, ces = (params.get(i, {}) for i in ("csat", "asat", "ces"))
        bands = survey_bands(
            csat_scale=csat.get("scale", 5),
            csat_satisfied_min=csat.get("satisfied_min"),
            asat_scale=asat.get("scale", 5),
            ces_scale=ces.get("scale", 7),
            ces_higher_is_better=bool(ces.get("higher_is_better", True)),
        )
        side = score_side_expr(pl.col("score"), pl.col("survey_type"), bands)
        rows = rows.with_columns(side.alias("_score_side"))
    # the effective period: the dates asked for, else the span of the texts' dates
    span = (rows["_date"].min(), rows["_date"].max())
    rows = rows.drop("_date", *extra)
    summary = summarise_feedback(
        rows,
        text_col=text,
        score_col="sentiment",
        label_col="sentiment_label",
        by=by,
        examples=examples,
        top_terms=top_terms,
        min_count=min_count,
        mask_handles=source == "messages",
        side_col="_score_side" if by_score else None,
    )
    start = period.start or (span[0] if isinstance(span[0], date) else None)
    end = period.end or (span[1] if isinstance(span[1], date) else None)
    return FeedbackReport(cfg.path, source, text, tuple(by), where, (start, end), neutral, summary)


@dataclass(frozen=True)
class FeedbackReport:
    config_path: Path
    source: str
    text_column: str
    by: tuple[str, ...]
    where: str | None
    period: tuple[date | None, date | None]
    neutral: float
    summary: FeedbackResult
