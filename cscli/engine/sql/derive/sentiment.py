"""Sentiment on the SQL engines (the twin of `cscli.engine.polars.enrich.with_sentiment`).

Scoring is Python (VADER), not SQL: the distinct texts are read with one query, scored on the
driver with `cscli.sentiment` and its cache (a re-run scores nothing), and the scores go back
to the engine as a small lookup table (`Lookup`, broadcast on Spark) that the records LEFT
JOIN on the text. It scales with the number of distinct texts, not of rows. The polars frame of
the lookup is built here, the only polars in the derivation builders (imported when scoring).
"""

from __future__ import annotations

from sqlglot import exp

from cscli.derived import Derivation
from cscli.engine.sql.derive.common import fill_false, text, when
from cscli.engine.sql.kinds import Unsupported
from cscli.engine.sql.relations import (
    Lookup,
    Relation,
    SqlContext,
    alias,
    col,
    render,
    subquery,
)

#: the text column of a sentiment lookup (the score column is `sentiment`)
TEXT = "__text"


def lookup_name(source: str) -> str:
    """The name of the lookup table of a source's scores."""
    return f"__sentiment_{source}"


def _scores(rel: Relation, text_col: str, ctx: SqlContext) -> Lookup:
    """The distinct texts of `text_col`, read with one query and scored on the driver."""
    import polars as pl

    from cscli.sentiment import SCORE_COL, SentimentCache, VaderScorer, sentiment_frame

    if ctx.run is None:
        raise Unsupported("sentiment needs the engine to read the texts before its queries")
    query = exp.Select(expressions=[alias(text(col(text_col)), TEXT)], distinct=exp.Distinct())
    query = query.from_(subquery(rel.query, "_r"), copy=False)
    (texts,) = ctx.run([render(query, ctx.d)])
    scorer = VaderScorer()
    series = texts[TEXT].cast(pl.String)
    scored = sentiment_frame(series.drop_nulls(), scorer, cache=SentimentCache.for_scorer(scorer))
    table = scored.select(pl.col("text").alias(TEXT), SCORE_COL).unique(TEXT)
    return Lookup(lookup_name(ctx.name), table, broadcast=True)


def with_sentiment(rel: Relation, d: Derivation, ctx: SqlContext) -> Relation:
    """`sentiment` (−1…1) of the source's text column, NULL for a blank text; on messages the
    customers' only (a brand's own replies are not scored)."""
    (text_col,) = d.inputs
    scores = _scores(rel, text_col, ctx)
    ctx.lookup(scores)
    table = Relation.table(scores.name, (TEXT, "sentiment"))
    rel = rel.left_join(table, on={text_col: TEXT}, take=["sentiment"], broadcast=True)
    if d.source == "messages" and "inbound" in ctx.columns:
        rel = rel.with_columns(sentiment=when(fill_false(col("inbound")), col("sentiment")))
    return rel
