"""Which side of the contrast a feedback text is on, and which positive texts are mixed.

Two pieces of `cscli feedback` that are not sentiment scores:

- **Survey sides by score.** For surveys the distinguishing terms contrast unhappy with happy
  respondents as their *score* says, not as VADER reads their comment:

      nps    negative (detractor) if score ≤ 6,   positive (promoter) if score ≥ 9; 7–8 neither
      csat   negative if score ≤ 2 (the bottom two boxes of 1–scale),
             positive if score ≥ satisfied_min (the CSAT KPI's, by default scale − 1)
      asat   as csat, with its own scale (satisfied from scale − 1)
      ces    negative if score ≤ 2, positive if score ≥ scale − 1 (the two ends of 1–scale);
             swapped when the scale runs easy → difficult (higher_is_better: false)

  A response between the ends, of another survey type or without a score is on neither side
  (it still counts in the prior of the log-odds ranking). Messages and tickets keep VADER's
  labels.

- **Negated complaints.** VADER reads "thanks, but it still did not work" as positive
  ("thanks" outweighs the rest). A positive text matching one of `NEGATED_COMPLAINTS`
  (case-insensitive) is *mixed*: it is listed apart, never among the most positive texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

#: a negation, then at most one word, then a verb of things working or arriving
_NEGATION = (
    r"(?:not|never|no longer|(?:did|does|do|is|was|are|were|has|have|had|wo|ca|could|would)"
    r"n['’]?t)"
)
_FIXED = (
    r"(?:work(?:s|ed|ing)?|resolved|fixed|solved|arrived?|came|received|delivered|refunded|"
    r"answered|helped?)"
)
#: the documented patterns of a negated complaint, each a polars (Rust) regex
NEGATED_COMPLAINTS: tuple[str, ...] = (
    # did not work, doesn't work, never arrived, has not been resolved, won't work, cant work
    rf"\b{_NEGATION}\s+(?:\w+\s+)?{_FIXED}\b",
    # still broken, still not fixed, still waiting, still missing
    r"\bstill\s+(?:broken|not\s+\w+|waiting|missing|failing|crashing|down)\b",
    # never got back, never heard back
    r"\bnever\s+(?:got|heard)\s+back\b",
)
_ANY_COMPLAINT = "(?i)" + "|".join(f"(?:{p})" for p in NEGATED_COMPLAINTS)


def negated_complaint_expr(text: pl.Expr) -> pl.Expr:
    """Whether `text` contains a negated complaint (`NEGATED_COMPLAINTS`); null stays null."""
    return text.cast(pl.String).str.contains(_ANY_COMPLAINT)


def has_negated_complaint(text: str) -> bool:
    """`negated_complaint_expr` for one text (through polars, so both agree)."""
    found: bool = pl.select(negated_complaint_expr(pl.lit(text, dtype=pl.String))).item()
    return found


@dataclass(frozen=True, slots=True)
class ScoreBand:
    """negative when score ≤ `negative_max`, positive when score ≥ `positive_min`; with
    `reversed`, negative when score ≥ `negative_max` and positive when ≤ `positive_min`."""

    negative_max: float
    positive_min: float
    reversed: bool = False


def survey_bands(
    *,
    csat_scale: float = 5,
    csat_satisfied_min: float | None = None,
    asat_scale: float = 5,
    ces_scale: float = 7,
    ces_higher_is_better: bool = True,
) -> dict[str, ScoreBand]:
    """The score band of each survey type (see the module docstring); the defaults are those
    of the built-in KPIs."""
    csat_top = csat_scale - 1 if csat_satisfied_min is None else csat_satisfied_min
    ces = (
        ScoreBand(min(2, ces_scale - 2), ces_scale - 1)
        if ces_higher_is_better
        else ScoreBand(ces_scale - 1, min(2, ces_scale - 2), reversed=True)
    )
    return {
        "nps": ScoreBand(6, 9),
        "csat": ScoreBand(min(2, csat_top - 1), csat_top),
        "asat": ScoreBand(min(2, asat_scale - 2), asat_scale - 1),
        "ces": ces,
    }


def score_side_expr(
    score: pl.Expr, survey_type: pl.Expr, bands: Mapping[str, ScoreBand]
) -> pl.Expr:
    """The side of each response from its score and survey type: "negative", "positive" or
    null."""
    kind = survey_type.cast(pl.String).str.strip_chars().str.to_lowercase()
    side: pl.Expr = pl.lit(None, dtype=pl.String)
    for name, band in bands.items():
        if band.reversed:
            neg, pos = score >= band.negative_max, score <= band.positive_min
        else:
            neg, pos = score <= band.negative_max, score >= band.positive_min
        side = (
            pl.when((kind == name) & neg)
            .then(pl.lit("negative"))
            .when((kind == name) & pos)
            .then(pl.lit("positive"))
            .otherwise(side)
        )
    return side
