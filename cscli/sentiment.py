"""Sentiment of free text: a score in [−1, 1] and a label, offline, cached per text.

A `Scorer` turns texts into compound scores; `VaderScorer` is the default (the VADER lexicon,
Hutto & Gilbert 2014, shipped inside the optional `vaderSentiment` package, so nothing is
downloaded at run time). Another model plugs in by implementing the same three members.

    label(s) = negative  if s ≤ −band
               positive  if s ≥ +band
               neutral   otherwise            (band = 0.05 by default, VADER's convention)

`sentiment_frame` scores only the unique non-blank texts of a column, in batches, reporting
progress per batch, and keeps every score in a `SentimentCache` (Parquet, keyed by a BLAKE2b
hash of the text) so that a re-run scores only texts it has not seen. Null, empty and
whitespace-only texts get a null score and a null label: they are not "neutral".
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import polars as pl

from cscli.errors import UsageError

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["negative", "neutral", "positive"]
LABELS: tuple[Label, ...] = ("negative", "neutral", "positive")
#: the dtype of every label column: ordered negative < neutral < positive
LABEL_DTYPE = pl.Enum(LABELS)

#: VADER's documented neutral band: |compound| < 0.05 is neutral
DEFAULT_NEUTRAL = 0.05
#: texts per `Scorer.score` call, and so per progress update
BATCH_SIZE = 2_000

SCORE_COL = "sentiment"
LABEL_COL = "sentiment_label"

INSTALL_HINT = 'pip install "cscli[sentiment]"'

Progress = Callable[[int, int], None]


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores texts: `name` and `version` identify its cache file.

    `score` returns one compound score in [−1, 1] per text, in order. It is only ever given
    texts that contain a non-whitespace character. Change `version` whenever the same text
    could get a different score, or stale cached scores will be reused.
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def score(self, texts: Sequence[str]) -> list[float]: ...


#: bumped when VaderScorer's own text preparation changes (it is part of `version`)
_VADER_PREP = "1"


class VaderScorer:
    """VADER's compound score: the normalised sum of its lexicon valences, in [−1, 1].

    compound = x / √(x² + 15), x = the sum of word valences after VADER's rules (negation,
    boosters, "but", capitals, "!"); emoji are read through VADER's emoji→words lexicon.

    One preparation step is ours: U+FE0F (the emoji variation selector) is removed first.
    VADER looks emoji up one code point at a time, so without this "❤️" (U+2764 U+FE0F) becomes
    the unknown word "heart\\ufe0f" and scores 0, while "❤" scores +0.64.

    `overrides` sets the valence (−4 … +4; 0 = no sentiment) of lower-case words, for words
    that mean something else in a domain: a brand called "United", or "please"/"help" in
    support requests. They are part of `version`, so they get their own cache.
    """

    name = "vader"

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError:
            raise UsageError(
                "sentiment scoring needs the optional package vaderSentiment, "
                "which is not installed",
                hint=INSTALL_HINT,
            ) from None
        words = {w.strip().lower(): float(v) for w, v in (overrides or {}).items()}
        if bad := [f"{w}={v}" for w, v in words.items() if not w or not -4 <= v <= 4]:
            raise UsageError(
                f"sentiment word overrides must be non-empty words with a valence from -4 to 4: "
                f"{', '.join(bad)}",
                hint="VADER's own valences run from -4 (most negative) to +4; 0 is neutral",
            )
        self._analyzer: SentimentIntensityAnalyzer = SentimentIntensityAnalyzer()
        self._analyzer.lexicon.update(words)
        try:
            package = metadata.version("vaderSentiment")
        except metadata.PackageNotFoundError:  # vendored or unusual install
            package = "unknown"
        self.version = f"{package}-prep{_VADER_PREP}"
        if words:
            digest = hashlib.blake2b(repr(sorted(words.items())).encode(), digest_size=4)
            self.version += f"-words{digest.hexdigest()}"

    def score(self, texts: Sequence[str]) -> list[float]:
        polarity = self._analyzer.polarity_scores
        return [float(polarity(t.replace("\ufe0f", ""))["compound"]) for t in texts]


def check_neutral(neutral: float) -> None:
    """The neutral band must be in (0, 1]; 0 would make a score of exactly 0 ambiguous."""
    if not 0 < neutral <= 1:
        raise UsageError(
            f"the neutral band must be greater than 0 and at most 1, not {neutral}",
            hint="0.05 is VADER's convention; larger values label fewer texts",
        )


def label(score: float | None, neutral: float = DEFAULT_NEUTRAL) -> Label | None:
    """negative if score ≤ −neutral, positive if score ≥ +neutral, else neutral; None stays None."""
    check_neutral(neutral)
    if score is None:
        return None
    if score <= -neutral:
        return "negative"
    if score >= neutral:
        return "positive"
    return "neutral"


def label_expr(score: pl.Expr, neutral: float = DEFAULT_NEUTRAL) -> pl.Expr:
    """`label` as an expression named `sentiment_label`, typed `LABEL_DTYPE`; null stays null."""
    check_neutral(neutral)
    return (
        pl.when(score <= -neutral)
        .then(pl.lit("negative"))
        .when(score >= neutral)
        .then(pl.lit("positive"))
        .when(score.is_not_null())
        .then(pl.lit("neutral"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .cast(LABEL_DTYPE)
        .alias(LABEL_COL)
    )


# -- cache -------------------------------------------------------------------------------------


class SentimentCacheWarning(UserWarning):
    """The score cache could not be read or written; scoring went ahead without it."""


def text_key(text: str) -> str:
    """The cache key of a text: BLAKE2b-128 of its UTF-8 bytes, hex (stable across versions)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def default_cache_dir() -> Path:
    """cscli's cache folder (`cscli.cache.cache_dir`: `$CSCLI_CACHE_DIR`, else
    `$XDG_CACHE_HOME/cscli`, else the platform's, `~/.cache/cscli` on Linux)."""
    from cscli.cache import cache_dir

    return cache_dir()


def cache_file_name(scorer: Scorer) -> str:
    """`sentiment-<name>-<version>.parquet`, with characters unsafe in file names replaced."""
    stem = f"sentiment-{scorer.name}-{scorer.version}"
    return re.sub(r"[^A-Za-z0-9._+-]", "_", stem) + ".parquet"


_CACHE_SCHEMA = pl.Schema({"key": pl.String, "score": pl.Float64})


class SentimentCache:
    """Scores by text key, kept in one Parquet file (columns key: String, score: Float64).

    The file is read on first use and rewritten by `save` through a temporary file and
    `os.replace`, so a reader never sees half a file. A cache that cannot be read (corrupt,
    wrong columns, unreadable) or written is reported as a `SentimentCacheWarning` and
    otherwise ignored: the scores are recomputed, never wrong. Two processes saving the same
    file at once do not corrupt it; the last one's entries win.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._known: pl.DataFrame | None = None
        self._new: list[pl.DataFrame] = []

    @classmethod
    def for_scorer(cls, scorer: Scorer, directory: Path | None = None) -> SentimentCache:
        """The cache file of `scorer` in `directory` (default: `default_cache_dir()`)."""
        folder = default_cache_dir() if directory is None else directory
        return cls(folder / cache_file_name(scorer))

    def _warn(self, what: str, error: BaseException) -> None:
        warnings.warn(
            f"sentiment cache {self.path}: {what} ({type(error).__name__}: {error}); "
            "scoring without it",
            SentimentCacheWarning,
            stacklevel=3,
        )

    def _load(self) -> pl.DataFrame:
        if self._known is not None:
            return self._known
        known = _CACHE_SCHEMA.to_frame()
        if self.path.exists():
            try:
                frame = pl.read_parquet(self.path)
                if frame.schema != _CACHE_SCHEMA:
                    raise ValueError(f"unexpected columns {dict(frame.schema)}")
                known = frame.unique("key", keep="last")
            except (OSError, ValueError, pl.exceptions.PolarsError) as error:
                self._warn("cannot be read and is ignored", error)
        self._known = known
        return known

    def __len__(self) -> int:
        return self._load().height + sum(f.height for f in self._new)

    def lookup(self, keys: Sequence[str]) -> list[float | None]:
        """The cached score of each key, in order; None where there is none."""
        if not keys:
            return []
        known = pl.concat([self._load(), *self._new])
        asked = pl.DataFrame({"key": keys}, schema={"key": pl.String})
        found = asked.join(known, on="key", how="left", maintain_order="left")
        return found["score"].to_list()

    def add(self, keys: Sequence[str], scores: Sequence[float]) -> None:
        """Remember scores (kept in memory until `save`)."""
        if len(keys) != len(scores):
            raise ValueError(f"{len(keys)} keys but {len(scores)} scores")
        if keys:
            self._new.append(pl.DataFrame({"key": keys, "score": scores}, schema=_CACHE_SCHEMA))

    def save(self) -> bool:
        """Write the file if anything was added; False (with a warning) if it could not be."""
        if not self._new:
            return True
        merged = pl.concat([self._load(), *self._new]).unique("key", keep="last")
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            os.close(fd)
            merged.write_parquet(tmp)
            os.replace(tmp, self.path)
        except (OSError, pl.exceptions.PolarsError) as error:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            self._warn("cannot be written", error)
            return False
        self._known, self._new = merged, []
        return True


# -- scoring a column --------------------------------------------------------------------------


def _check_scores(scores: Sequence[float], expected: int, scorer: Scorer) -> None:
    if len(scores) != expected:
        raise ValueError(f"scorer {scorer.name} returned {len(scores)} scores for {expected} texts")
    bad = [s for s in scores if not -1 <= s <= 1]  # NaN fails the comparison too
    if bad:
        raise ValueError(f"scorer {scorer.name} returned scores outside [-1, 1]: {bad[:3]}")


def score_texts(
    texts: Sequence[str],
    scorer: Scorer,
    *,
    cache: SentimentCache | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[float]:
    """Scores of `texts` (expected unique and non-blank), from the cache or the scorer.

    Texts missing from the cache go to `scorer.score` in batches of `batch_size`;
    `progress(done, total)` is called once with done = 0 and then after every batch, where
    total is the number of texts that needed scoring (0 when all came from the cache). The
    cache is saved even if scoring stops part-way, so finished batches are not lost.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    keys = [text_key(t) for t in texts] if cache is not None else []
    found = cache.lookup(keys) if cache is not None else [None] * len(texts)
    scores: list[float] = [0.0 if s is None else s for s in found]
    todo = [i for i, s in enumerate(found) if s is None]
    total = len(todo)
    if progress is not None:
        progress(0, total)
    try:
        for start in range(0, total, batch_size):
            batch = todo[start : start + batch_size]
            new = scorer.score([texts[i] for i in batch])
            _check_scores(new, len(batch), scorer)
            for i, s in zip(batch, new, strict=True):
                scores[i] = float(s)
            if cache is not None:
                cache.add([keys[i] for i in batch], [scores[i] for i in batch])
            if progress is not None:
                progress(start + len(batch), total)
    finally:
        if cache is not None:
            cache.save()
    return scores


def sentiment_frame(
    texts: pl.Series,
    scorer: Scorer,
    *,
    cache: SentimentCache | None = None,
    progress: Progress | None = None,
    neutral: float = DEFAULT_NEUTRAL,
    batch_size: int = BATCH_SIZE,
) -> pl.DataFrame:
    """One row per input text, in order: text (String), sentiment (Float64), sentiment_label.

    sentiment = the scorer's compound score, null where the text is null, empty or only
    whitespace; sentiment_label = `label(sentiment, neutral)` as `LABEL_DTYPE`. Each distinct
    text is scored once (see `score_texts` for batches, progress and the cache).
    """
    check_neutral(neutral)
    text = texts.cast(pl.String).rename("text")
    unique = text.filter(text.str.strip_chars().str.len_chars() > 0).unique(maintain_order=True)
    scores = score_texts(
        unique.to_list(), scorer, cache=cache, progress=progress, batch_size=batch_size
    )
    table = pl.DataFrame(
        {"text": unique, SCORE_COL: scores}, schema={"text": pl.String, SCORE_COL: pl.Float64}
    )
    return (
        text.to_frame()
        .join(table, on="text", how="left", maintain_order="left")
        .with_columns(label_expr(pl.col(SCORE_COL), neutral))
    )


def with_sentiment(
    frame: pl.DataFrame,
    text_col: str,
    scorer: Scorer,
    *,
    cache: SentimentCache | None = None,
    progress: Progress | None = None,
    neutral: float = DEFAULT_NEUTRAL,
    batch_size: int = BATCH_SIZE,
) -> pl.DataFrame:
    """`frame` with `sentiment` and `sentiment_label` columns for `text_col` (see above)."""
    if text_col not in frame.columns:
        raise UsageError(
            f'no column "{text_col}" to score',
            hint=f"columns available: {', '.join(frame.columns)}",
        )
    scored = sentiment_frame(
        frame[text_col],
        scorer,
        cache=cache,
        progress=progress,
        neutral=neutral,
        batch_size=batch_size,
    )
    return frame.with_columns(scored[SCORE_COL], scored[LABEL_COL])


# -- evaluation against human labels -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Agreement of predicted labels with gold labels over the n rows where both exist.

    accuracy = Σ_c confusion[c, c] / n
    precision_c = confusion[c, c] / Σ_g confusion[g, c]    (0 when c is never predicted)
    recall_c = confusion[c, c] / Σ_p confusion[c, p]
    F1_c = 2·precision_c·recall_c / (precision_c + recall_c)   (0 when both are 0)
    macro_f1 = mean of F1_c over negative, neutral, positive
    """

    n: int
    #: None when n = 0
    accuracy: float | None
    macro_f1: float | None
    #: label, precision, recall, f1, support (gold count)
    per_label: pl.DataFrame
    #: gold (String) then one count column per predicted label
    confusion: pl.DataFrame


def evaluate(gold: pl.Series, predicted: pl.Series) -> Evaluation:
    """Compare two label columns (String or `LABEL_DTYPE`); rows with a null are left out."""
    if gold.len() != predicted.len():
        raise ValueError(f"{gold.len()} gold labels but {predicted.len()} predictions")
    pairs = pl.DataFrame(
        {"gold": gold.cast(pl.String), "pred": predicted.cast(pl.String)}
    ).drop_nulls()
    unknown = set(pairs["gold"].unique()) | set(pairs["pred"].unique())
    if extra := unknown - set(LABELS):
        raise ValueError(f"labels must be {', '.join(LABELS)}; found {sorted(extra)}")
    counts = {(g, p): n for g, p, n in pairs.group_by("gold", "pred").len().iter_rows()}
    cell = {(g, p): counts.get((g, p), 0) for g in LABELS for p in LABELS}
    n = pairs.height
    rows = []
    for c in LABELS:
        tp = cell[(c, c)]
        predicted_c = sum(cell[(g, c)] for g in LABELS)
        support = sum(cell[(c, p)] for p in LABELS)
        precision = tp / predicted_c if predicted_c else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((c, precision, recall, f1, support))
    per_label = pl.DataFrame(
        rows, schema=["label", "precision", "recall", "f1", "support"], orient="row"
    )
    confusion = pl.DataFrame(
        {"gold": list(LABELS)} | {p: [cell[(g, p)] for g in LABELS] for p in LABELS}
    )
    return Evaluation(
        n=n,
        accuracy=sum(cell[(c, c)] for c in LABELS) / n if n else None,
        macro_f1=sum(r[3] for r in rows) / len(LABELS) if n else None,
        per_label=per_label,
        confusion=confusion,
    )
