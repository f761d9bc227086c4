"""The qualitative view of scored comments: counts by label, extremes, distinguishing terms.

Pure functions over polars frames that already carry a text column, its sentiment score and
label (see `cscli.sentiment.with_sentiment`). Nothing here prints; the CLI renders the frames.

Personal data is masked in every text shown (`mask_pii_expr`), and before terms are counted.
Terms are ranked by the weighted log-odds ratio with an informative Dirichlet prior of
Monroe, Colaresi & Quinn (2008), "Fightin' Words", Political Analysis 16(4), §3.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from cscli.contrast import negated_complaint_expr
from cscli.derived import MULTI_VALUED
from cscli.errors import UsageError
from cscli.sentiment import LABEL_COL, LABEL_DTYPE, LABELS, SCORE_COL

# -- personal data -----------------------------------------------------------------------------

# The patterns run in polars' Rust regex engine, which has no look-around, so dates (whose
# digits and dashes look like a phone number) are first disguised with private-use characters
# that no pattern matches, then restored.
_DASH, _DOT = "\ue000", "\ue001"
_HIDE_DATES: tuple[tuple[str, str], ...] = (
    (r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", f"${{1}}{_DASH}${{2}}{_DASH}${{3}}"),  # 2026-01-05
    (r"\b(\d{1,2})-(\d{1,2})-(\d{4})\b", f"${{1}}{_DASH}${{2}}{_DASH}${{3}}"),  # 05-01-2026
    (r"\b(\d{1,2})\.(\d{1,2})\.(\d{2,4})\b", f"${{1}}{_DOT}${{2}}{_DOT}${{3}}"),  # 05.01.2026
)
#: separators inside phone and card numbers: space, NBSP and narrow NBSP, dashes of every kind
#: (hyphen, non-breaking hyphen, figure dash, en and em dash, minus), dot, slash, underscore
_SEP = "[ .\\-_/\u00a0\u202f\u2007\u2010-\u2015\u2212\ufe58\ufe63\uff0d]"
#: 13–19 digits, single separators between them: a payment card when the Luhn check passes
_CARD = f"\\d(?:{_SEP}?\\d){{12,18}}"
#: (pattern, replacement) in the order applied
PII_PATTERNS: tuple[tuple[str, str], ...] = (
    # any letters, full-width ＠ and small ﹫ too; a mailto: link goes with its address
    (
        r"(?i:mailto:)?[\p{L}\p{N}._%+-]+[@＠﹫][\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}",
        "[email]",
    ),
    # IBAN: country, check digits, 11–30 letters or digits in groups of four, spaced or not
    (r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", "[iban]"),
)
_GAP = f"(?:{_SEP}|[()]){{1,2}}"


def _glued_phone() -> str:
    """≥ 7 digits with at least one separator, touching letters on either side: the first
    separator after k digits, then enough digits to make seven."""
    parts = [f"\\d{{{k}}}{_GAP}\\d(?:(?:{_GAP})?\\d){{{max(6 - k, 0)},}}" for k in range(1, 7)]
    return "|".join([*parts, f"\\d{{7,}}{_GAP}\\d(?:(?:{_GAP})?\\d)*"])


#: after the card pass: "+" then ≥ 7 digits (+49 (0)30 1234567); runs of ≥ 9 digits; ≥ 7
#: digits with separators or parentheses ((555) 123-4567, 030/1234567), also glued to letters
#: when a separator shows it is a number (a bare "ORD1234567" is an identifier and is kept)
_NUMBER_PATTERNS: tuple[tuple[str, str], ...] = (
    (f"\\+\\(?\\d(?:(?:{_SEP}|[()]){{0,2}}\\d){{6,}}", "[phone]"),
    (r"\d{9,}", "[number]"),
    (f"(?:\\(|\\b)\\d(?:(?:{_SEP}|[()]){{0,2}}\\d){{6,}}\\b", "[phone]"),
    (_glued_phone(), "[phone]"),
)
#: social handles (@name, ＠name), masked in message sources
HANDLE_PATTERN = r"[@＠﹫][\p{L}\p{N}_]+"
PII_PLACEHOLDERS = ("[email]", "[phone]", "[number]", "[iban]", "[handle]")

#: the `side` column of `extremes` and `distinguishing_terms`
SIDE_DTYPE = pl.Enum(["negative", "positive"])


def _luhn(digits: pl.Expr) -> pl.Expr:
    """Whether a string of digits passes the Luhn check (every second digit from the right
    doubled, 9 subtracted when that exceeds 9, the sum a multiple of 10)."""
    d = pl.element().cast(pl.Int64)
    doubled = pl.when(pl.int_range(pl.len()) % 2 == 1).then(d * 2 - 9 * (d >= 5)).otherwise(d)
    return digits.str.reverse().str.split("").list.eval(doubled).list.sum() % 10 == 0


def _mask_cards(text: pl.Expr) -> pl.Expr:
    """Card numbers → [number]: the text is cut into candidate numbers and what lies between
    them, the candidates that pass the Luhn check are replaced, and the pieces joined."""
    piece = pl.element()
    is_card = piece.str.contains(f"^{_CARD}$") & _luhn(piece.str.replace_all(r"\D", ""))
    pieces = text.str.extract_all(f"{_CARD}|\\D+|\\d")
    masked = pieces.list.eval(pl.when(is_card).then(pl.lit("[number]")).otherwise(piece))
    return pl.when(text.str.contains(_CARD)).then(masked.list.join("")).otherwise(text)


def mask_pii_expr(text: pl.Expr, *, handles: bool = False) -> pl.Expr:
    """`text` with e-mail addresses, IBANs, card numbers, phone numbers and long digit runs
    replaced (and, with `handles`, social @handles).

    e-mail (any script, ＠ too, with its mailto:) → [email]; IBAN, spaced or not → [iban];
    13–19 digits passing the Luhn check (a card), with or without separators, even glued to
    letters → [number]; "+" and ≥ 7 digits, or ≥ 7 digits written with separators (any dash,
    space, NBSP, dot, slash, underscore) or parentheses → [phone]; ≥ 9 digits in a row →
    [number]; @name → [handle]. Dates (2026-01-05, 05.01.2026), times and numbers of up to 6
    digits ("order 42") are kept, and so is a bare 7–8 digit run glued to letters
    ("ORD1234567", an identifier). A phone number written as ≥ 9 digits without separators
    reads [number], and a grouped number that fails the Luhn check reads [phone]: masked
    either way.
    """
    for pattern, replacement in (*PII_PATTERNS, *_HIDE_DATES):
        text = text.str.replace_all(pattern, replacement)
    text = _mask_cards(text)
    for pattern, replacement in _NUMBER_PATTERNS:
        text = text.str.replace_all(pattern, replacement)
    if handles:
        text = text.str.replace_all(HANDLE_PATTERN, "[handle]")
    return text.str.replace_all(_DASH, "-", literal=True).str.replace_all(_DOT, ".", literal=True)


def mask_pii(text: str | None, *, handles: bool = False) -> str | None:
    """`mask_pii_expr` for one text (through polars, so both give the same result)."""
    if text is None:
        return None
    expr = mask_pii_expr(pl.lit(text, dtype=pl.String), handles=handles)
    masked: str = pl.select(expr).item()
    return masked


# -- counts and extremes -----------------------------------------------------------------------


def _require(frame: pl.DataFrame, *columns: str) -> None:
    if missing := [c for c in columns if c not in frame.columns]:
        names = ", ".join(f'"{c}"' for c in missing)
        raise UsageError(
            f"no column {names} in the feedback data",
            hint=f"columns available: {', '.join(frame.columns)}",
        )


def label_counts(
    frame: pl.DataFrame, *, label_col: str = LABEL_COL, by: Sequence[str] = ()
) -> pl.DataFrame:
    """Per group of `by` (all rows when empty): label, n and share, one row per label.

    share = n / (texts with a label in the group); null when the group has none. Every label
    appears, with n = 0 when absent. Texts without a label (blank text) are not counted.
    """
    _require(frame, label_col, *by)
    labelled = frame.lazy().select(*by, pl.col(label_col).cast(LABEL_DTYPE).alias("label"))
    for d in (d for d in by if d in MULTI_VALUED):  # a text in the group of each of its tags
        labelled = labelled.explode(d, empty_as_null=True, keep_nulls=True)
    labels = pl.LazyFrame({"label": list(LABELS)}, schema={"label": LABEL_DTYPE})
    groups = labelled.select(*by).unique() if by else pl.LazyFrame({"_": [0]})
    grid = groups.join(labels, how="cross").drop("_", strict=False)
    counts = labelled.drop_nulls("label").group_by(*by, "label").agg(pl.len().alias("n"))
    total = pl.col("n").sum().over(by) if by else pl.col("n").sum()
    return (
        grid.join(counts, on=[*by, "label"], how="left", nulls_equal=True)
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("n") / pl.when(total > 0).then(total)).alias("share"))
        .sort(*by, "label", nulls_last=True)
        .collect()
    )


def extremes(
    frame: pl.DataFrame,
    *,
    text_col: str = "text",
    score_col: str = SCORE_COL,
    label_col: str = LABEL_COL,
    n: int = 5,
    distinct: bool = True,
    handles: bool = False,
    mixed: bool = True,
) -> pl.DataFrame:
    """The `n` lowest-scored negative and `n` highest-scored positive texts, masked.

    Columns: side ("negative"/"positive"), then every column of `frame`, with `text_col` passed
    through `mask_pii_expr` (with `handles`, @handles too). Negative rows come first, lowest
    score first; then positive rows, highest first; ties keep input order. With `distinct`, a
    text repeated verbatim is shown once (its first row). A side has fewer than `n` rows when
    there are fewer such texts. With `mixed`, a positive text with a negated complaint
    (`cscli.contrast.NEGATED_COMPLAINTS`: "did not work", "still broken") is left out: it is
    listed apart (`mixed_texts`).
    """
    _require(frame, text_col, score_col, label_col)
    masked = frame.lazy().with_columns(
        mask_pii_expr(pl.col(text_col).cast(pl.String), handles=handles)
    )
    parts = []
    for side, descending in (("negative", False), ("positive", True)):
        rows = masked.filter(pl.col(label_col).cast(pl.String) == side)
        if mixed and side == "positive":
            rows = rows.filter(~negated_complaint_expr(pl.col(text_col)).fill_null(False))
        if distinct:
            rows = rows.unique(text_col, keep="first", maintain_order=True)
        parts.append(
            rows.sort(score_col, descending=descending, maintain_order=True)
            .head(n)
            .select(pl.lit(side).cast(SIDE_DTYPE).alias("side"), pl.all())
        )
    return pl.concat(parts).collect()


def _is_mixed(text_col: str, label_col: str) -> pl.Expr:
    positive = pl.col(label_col).cast(pl.String) == "positive"
    return (positive & negated_complaint_expr(pl.col(text_col))).fill_null(False)


def mixed_texts(
    frame: pl.DataFrame,
    *,
    text_col: str = "text",
    score_col: str = SCORE_COL,
    label_col: str = LABEL_COL,
    n: int = 5,
    handles: bool = False,
) -> pl.DataFrame:
    """Up to `n` distinct positive-labelled texts that contain a negated complaint, highest
    score first (ties in input order), masked: the frame's columns, `text_col` masked."""
    _require(frame, text_col, score_col, label_col)
    return (
        frame.lazy()
        .filter(_is_mixed(text_col, label_col))
        .with_columns(mask_pii_expr(pl.col(text_col).cast(pl.String), handles=handles))
        .unique(text_col, keep="first", maintain_order=True)
        .sort(score_col, descending=True, maintain_order=True)
        .head(n)
        .collect()
    )


# -- distinguishing terms ----------------------------------------------------------------------

# The word lists are written as text, one space-separated run, because 150 quoted words one per
# line would hide them.
#: negations ("not", "no", "never", "n't" forms) are deliberately absent: they carry sentiment
STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i i'd i'll i'm i've if in
    into is it it'd it'll its itself just let's me more most my myself of off on once only or
    other our ours ourselves out over own same shall she should so some such than that the their
    theirs them themselves then there these they they'd they'll they're they've this those
    through to too under until up very was we we'd we'll we're we've were what when where which
    while who whom why will with would you you'd you'll you're you've your yours yourself
    yourselves also get got im ive us
    """.split()  # noqa: SIM905
)
#: stop words that still make a phrase with a content word: "on hold", "hung up", "call back"
PARTICLES: frozenset[str] = frozenset(
    "about after again back before down from in off on out over through under up".split()  # noqa: SIM905
)
_HARD_STOP = sorted(STOP_WORDS - PARTICLES)
_STOP = sorted(STOP_WORDS)

_TOKEN = r"[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*"
#: clauses: bigrams never span punctuation ("Terrible. Waited" gives no "terrible waited")
_CLAUSE = r"[^.!?;:,()\[\]{}\"“”/|\n\r\t]+"


def _term_text(text: pl.Expr) -> pl.Expr:
    """Masked, lower-cased text with placeholders, links, @handles and entities removed."""
    text = mask_pii_expr(text.cast(pl.String))
    for pattern in (
        r"\[(?:email|phone|number|iban|handle)\]",
        r"(?i)https?://\S+|www\.\S+",
        HANDLE_PATTERN,
        r"&(?:[A-Za-z]+|#\d+);",
    ):
        text = text.str.replace_all(pattern, " ")
    return text.str.to_lowercase().str.replace_all(r"[’‘`´]", "'").str.replace_all(r"'s\b", "")


def _terms_per_text(frame: pl.LazyFrame, ngrams: tuple[int, ...]) -> pl.LazyFrame:
    """(_doc, _label, term, ngram): each n-gram once per text it occurs in."""
    tokens = (
        frame.with_columns(pl.col("_text").str.extract_all(_CLAUSE))
        .explode("_text")
        .with_columns(pl.col("_text").str.extract_all(_TOKEN).alias("_tokens"))
    )
    word, after = pl.element(), pl.element().shift(-1)
    parts = []
    if 1 in ngrams:
        unigrams = word.filter(~word.is_in(_STOP) & (word.str.len_chars() > 1))
        parts.append(
            tokens.select("_doc", "_label", pl.col("_tokens").list.eval(unigrams).alias("term"))
            .explode("term")
            .with_columns(pl.lit(1, dtype=pl.UInt8).alias("ngram"))
        )
    if 2 in ngrams:
        # keep "on hold", "not good", "wrong size"; drop "the refund", "is not", "on the"
        keep = (
            ~word.is_in(_HARD_STOP)
            & ~after.is_in(_HARD_STOP)
            & ~(word.is_in(_STOP) & after.is_in(_STOP))
        )
        bigrams = pl.when(keep).then(pl.concat_str(word, pl.lit(" "), after))
        parts.append(
            tokens.select("_doc", "_label", pl.col("_tokens").list.eval(bigrams).alias("term"))
            .explode("term")
            .with_columns(pl.lit(2, dtype=pl.UInt8).alias("ngram"))
        )
    return pl.concat(parts).drop_nulls("term").unique(["_doc", "term"])


_TERMS_SCHEMA = pl.Schema(
    {
        "side": SIDE_DTYPE,
        "term": pl.String(),
        "ngram": pl.UInt8(),
        "z": pl.Float64(),
        "log_odds": pl.Float64(),
        "n_negative": pl.Int64(),
        "n_positive": pl.Int64(),
    }
)


def distinguishing_terms(
    frame: pl.DataFrame,
    text_col: str = "text",
    label_col: str = LABEL_COL,
    *,
    top: int = 15,
    min_count: int = 3,
    ngrams: tuple[int, ...] = (1, 2),
    prior: float = 0.1,
    min_z: float = 1.96,
) -> pl.DataFrame:
    """The words and two-word phrases that most set negative texts apart from positive ones.

    Each term counts once per text (y = texts containing it). With y_w^neg, y_w^pos the counts
    in negative and positive texts, n^neg, n^pos their totals over all terms, and the prior
    α_w = prior · y_w^all (y^all: counts over every text of `frame`, neutral included;
    α_0 = Σ_w α_w), Monroe et al. (2008) eq. 16–22:

        δ_w = log((y_w^neg + α_w) / (n^neg + α_0 − y_w^neg − α_w))
            − log((y_w^pos + α_w) / (n^pos + α_0 − y_w^pos − α_w))
        σ²(δ_w) ≈ 1 / (y_w^neg + α_w) + 1 / (y_w^pos + α_w)
        z_w = δ_w / σ(δ_w)

    z > 0 marks negative texts. Returns up to `top` terms per side with z of that sign and
    |z| ≥ `min_z` (1.96: the two-sided 5% level of a standard normal), among terms in at
    least `min_count` negative-or-positive texts: side, term, ngram, z, log_odds
    (δ), n_negative, n_positive; negative side first, each by |z| descending, ties by term.

    Tokens are lower-cased runs of letters, digits and inner apostrophes ("don't"), after
    masking personal data and removing links and @handles; "'s" is dropped. Unigrams skip
    `STOP_WORDS` (which keeps negations); bigrams stay within a clause and are dropped when
    either word is a stop word other than a `PARTICLES` word, or both are stop words. A word
    is left out when a phrase containing it has the same counts on both sides (every
    "flightled" follows "cancelled": only "cancelled flightled" is listed).
    """
    _require(frame, text_col, label_col)
    if top < 1 or min_count < 1 or not prior > 0 or not min_z >= 0:
        raise UsageError(
            f"top ({top}) and min_count ({min_count}) must be at least 1, "
            f"prior ({prior}) greater than 0 and min_z ({min_z}) at least 0"
        )
    if not ngrams or set(ngrams) - {1, 2}:
        raise UsageError(f"ngrams must be 1, 2 or both, not {ngrams}")
    docs = frame.lazy().select(
        pl.int_range(pl.len()).alias("_doc"),
        pl.col(label_col).cast(pl.String).alias("_label"),
        _term_text(pl.col(text_col)).alias("_text"),
    )
    per_text = _terms_per_text(docs, tuple(ngrams))
    is_neg, is_pos = pl.col("_label") == "negative", pl.col("_label") == "positive"
    counts = per_text.group_by("term", "ngram").agg(
        is_neg.sum().cast(pl.Int64).alias("n_negative"),
        is_pos.sum().cast(pl.Int64).alias("n_positive"),
        pl.len().cast(pl.Int64).alias("n_all"),
    )
    y_neg, y_pos = pl.col("n_negative"), pl.col("n_positive")
    alpha = prior * pl.col("n_all")
    alpha0 = alpha.sum()
    n_neg, n_pos = y_neg.sum(), y_pos.sum()
    delta = ((y_neg + alpha) / (n_neg + alpha0 - y_neg - alpha)).log() - (
        (y_pos + alpha) / (n_pos + alpha0 - y_pos - alpha)
    ).log()
    variance = 1 / (y_neg + alpha) + 1 / (y_pos + alpha)
    ranked = counts.with_columns(
        delta.alias("log_odds"), (delta / variance.sqrt()).alias("z")
    ).filter((y_neg + y_pos >= min_count) & pl.col("z").is_finite() & (pl.col("z").abs() >= min_z))
    if set(ngrams) == {1, 2}:
        # a word found in exactly the texts of a phrase containing it repeats that phrase
        inside = (
            ranked.filter(pl.col("ngram") == 2)
            .select(pl.col("term").str.split(" "), "n_negative", "n_positive")
            .explode("term")
        )
        ranked = ranked.join(inside, on=["term", "n_negative", "n_positive"], how="anti")
    scored = (
        ranked.with_columns(
            pl.when(pl.col("z") > 0)
            .then(pl.lit("negative"))
            .when(pl.col("z") < 0)
            .then(pl.lit("positive"))
            .cast(_TERMS_SCHEMA["side"])
            .alias("side")
        )
        .drop_nulls("side")
        .sort("side", pl.col("z").abs(), "term", descending=[False, True, False])
        .group_by("side", maintain_order=True)
        .head(top)
    )
    return scored.select(_TERMS_SCHEMA.names()).cast(_TERMS_SCHEMA).collect()


# -- everything for one view -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    """What `cscli feedback` shows for one period and slice."""

    #: texts in the slice, and those with a score (non-blank text)
    n_texts: int
    n_scored: int
    #: label_counts(): [by…,] label, n, share
    counts: pl.DataFrame
    #: extremes(): side, the frame's columns, text masked
    examples: pl.DataFrame
    #: distinguishing_terms(): side, term, ngram, z, log_odds, n_negative, n_positive
    terms: pl.DataFrame
    #: what the terms' sides are: "sentiment" (the labels) or "score" (survey score bands)
    contrast: str = "sentiment"
    #: positive-labelled texts with a negated complaint, and mixed_texts() of them
    n_mixed: int = 0
    mixed: pl.DataFrame | None = None


def summarise_feedback(
    frame: pl.DataFrame,
    *,
    text_col: str = "text",
    score_col: str = SCORE_COL,
    label_col: str = LABEL_COL,
    by: Sequence[str] = (),
    examples: int = 5,
    top_terms: int = 15,
    min_count: int = 3,
    min_z: float = 1.96,
    mask_handles: bool = False,
    side_col: str | None = None,
) -> FeedbackResult:
    """Counts by label (per `by` group), the extremes, the mixed texts and the
    distinguishing terms of `frame`.

    `mask_handles`: the texts are social posts, whose @handles name people: mask them too.
    `side_col`: a column of "negative"/"positive"/null that the terms contrast instead of the
    labels (a survey's score band, `cscli.contrast.score_side_expr`)."""
    _require(frame, text_col, score_col, label_col, *by, *([side_col] if side_col else []))
    shown = frame.drop(side_col) if side_col else frame
    return FeedbackResult(
        n_texts=frame.height,
        n_scored=frame.height - frame[score_col].null_count(),
        counts=label_counts(frame, label_col=label_col, by=by),
        examples=extremes(
            shown,
            text_col=text_col,
            score_col=score_col,
            label_col=label_col,
            n=examples,
            handles=mask_handles,
        ),
        terms=distinguishing_terms(
            frame,
            text_col,
            side_col or label_col,
            top=top_terms,
            min_count=min_count,
            min_z=min_z,
        ),
        contrast="score" if side_col else "sentiment",
        n_mixed=int(frame.select(_is_mixed(text_col, label_col).sum()).item()),
        mixed=mixed_texts(
            shown,
            text_col=text_col,
            score_col=score_col,
            label_col=label_col,
            n=examples,
            handles=mask_handles,
        ),
    )
