"""The sentiment KPIs: mean sentiment and the negative and positive shares of scored texts.

Survey comments by default; message or ticket texts with `source:` in the KPI's config entry.
Each is one `KpiDef`; `KPIS` lists them in catalogue order (`cscli.kpis.catalog`).
"""

from __future__ import annotations

from cscli.kpis.builtin.common import sql_num
from cscli.kpis.spec import Built, KpiDef, Param, Ratio, Stat

SENTIMENT_SOURCES = (
    ("surveys", "responded_at"),
    ("messages", "created_at"),
    ("tickets", "created_at"),
)
NEUTRAL = Param(
    "neutral",
    "number",
    0.05,
    "half-width of the neutral band, above 0 and below 1: a score ≤ −neutral is negative, "
    "≥ +neutral positive",
    minimum=0,
    maximum=1,
    exclusive=True,
)
TEXT_NOTE = (
    "Texts are scored offline by VADER (the `sentiment` extra) from −1 to +1: survey comments "
    "(source surveys), inbound message text (messages: customers, not the brand's replies) "
    "or ticket subjects (tickets); empty texts are not counted. VADER is a lexicon for short "
    "English social text: treat it as indicative (docs/sentiment.md measures it against human "
    "labels)."
)

SENTIMENT = KpiDef(
    id="sentiment",
    title="Sentiment",
    short="Sentiment",
    source="surveys",
    unit="score",
    higher_is_better=True,
    anchor="responded_at",
    definition="Mean sentiment score (−1…+1) of the texts in the period. " + TEXT_NOTE,
    alt_sources=SENTIMENT_SOURCES,
    build=lambda p: Built(Stat("sentiment", "mean", nonnegative=False)),
)

NEGATIVE_SHARE = KpiDef(
    id="negative_share",
    title="Negative share",
    short="Negative",
    source="surveys",
    unit="ratio",
    higher_is_better=False,
    anchor="responded_at",
    definition=(
        "Texts in the period scoring at most −{neutral} / texts with a score. " + TEXT_NOTE
    ),
    params=(NEUTRAL,),
    alt_sources=SENTIMENT_SOURCES,
    build=lambda p: Built(
        Ratio(f"sentiment <= {sql_num(-p['neutral'])}", where="sentiment IS NOT NULL")
    ),
)

POSITIVE_SHARE = KpiDef(
    id="positive_share",
    title="Positive share",
    short="Positive",
    source="surveys",
    unit="ratio",
    higher_is_better=True,
    anchor="responded_at",
    definition=(
        "Texts in the period scoring at least +{neutral} / texts with a score. " + TEXT_NOTE
    ),
    params=(NEUTRAL,),
    alt_sources=SENTIMENT_SOURCES,
    build=lambda p: Built(
        Ratio(f"sentiment >= {sql_num(p['neutral'])}", where="sentiment IS NOT NULL")
    ),
)


KPIS: tuple[KpiDef, ...] = (SENTIMENT, NEGATIVE_SHARE, POSITIVE_SHARE)
