"""The qualitative view: personal-data masking, counts by label, extremes, distinguishing terms."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli import __version__, api
from cscli.cli import app
from cscli.contrast import has_negated_complaint, score_side_expr, survey_bands
from cscli.errors import UsageError
from cscli.feedback import (
    SIDE_DTYPE,
    distinguishing_terms,
    extremes,
    label_counts,
    mask_pii,
    mask_pii_expr,
    mixed_texts,
    summarise_feedback,
)
from cscli.sentiment import LABEL_DTYPE, LABELS

Write = Callable[[str, str], Path]

# -- personal data -----------------------------------------------------------------------------

MASKED = [
    ("write to jane.doe+shop@example.co.uk today", "write to [email] today"),
    ("JOHN_SMITH@Mail.Example.COM", "[email]"),
    ("call +49 30 1234567 please", "call [phone] please"),
    ("+44 20 7946 0958.", "[phone]."),
    ("+1-555-123-4567", "[phone]"),
    ("+49 (0)30 1234567", "[phone]"),
    ("(555) 123-4567", "[phone]"),
    ("555-123-4567", "[phone]"),
    ("555.123.4567", "[phone]"),
    ("tel 030 1234567", "tel [phone]"),
    ("mobile 0151-12345678", "mobile [phone]"),
    ("card 4111 1111 1111 1111 declined", "card [number] declined"),
    ("4111-1111-1111-1111", "[number]"),
    ("4111111111111111", "[number]"),
    ("amex 3782 822463 10005", "amex [number]"),
    ("account 123456789", "account [number]"),
    ("me@x.org or 555-123-4567", "[email] or [phone]"),
]
KEPT = [
    "delivered on 2026-01-05 at 10:30",
    "from 2026-01-05 - 2026-01-07",
    "on 05.01.2026",
    "on 05-01-2026 or 5/1/2026",
    "order 42",
    "ref 123456",
    "ORD1234567",  # letters make it an identifier, not a phone number
    "3 days and 2 hours, 10/10",
    "I paid $1,299.99",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_dates_and_short_numbers_are_kept(text: str) -> None:
    assert mask_pii(text) == text


def test_mask_expression_is_vectorised_and_keeps_nulls() -> None:
    texts = [t for t, _ in MASKED] + KEPT + [None]
    out = pl.DataFrame({"t": texts}).select(mask_pii_expr(pl.col("t")))["t"].to_list()
    assert out == [e for _, e in MASKED] + KEPT + [None]
    assert mask_pii(None) is None


#: text made of the characters that personal data and its look-alikes are written with
pii_like = st.text(alphabet="0123456789 -.()+@abcxyz/:", max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.lists(pii_like, max_size=8))
def test_masking_is_idempotent_and_leaves_no_long_digit_run(texts: list[str]) -> None:
    once = pl.Series(texts, dtype=pl.String).to_frame("t").select(mask_pii_expr(pl.col("t")))
    twice = once.select(mask_pii_expr(pl.col("t")))
    assert twice.equals(once)
    for text in once["t"]:
        assert not re.search(r"\d{9}", text)


# -- counts ------------------------------------------------------------------------------------


def test_label_counts_fill_every_label() -> None:
    frame = pl.DataFrame(
        {"sentiment_label": ["negative", "positive", "positive", None]},
        schema={"sentiment_label": LABEL_DTYPE},
    )
    out = label_counts(frame)
    # 3 labelled texts: 1 negative, 0 neutral, 2 positive; the blank one is not counted
    assert out.rows() == [("negative", 1, 1 / 3), ("neutral", 0, 0.0), ("positive", 2, 2 / 3)]


def test_label_counts_by_group() -> None:
    frame = pl.DataFrame(
        {
            "channel": ["email", "email", "chat", "phone"],
            "sentiment_label": ["negative", "neutral", "positive", None],
        }
    )
    out = label_counts(frame, by=["channel"])
    assert out.rows() == [
        ("chat", "negative", 0, 0.0),
        ("chat", "neutral", 0, 0.0),
        ("chat", "positive", 1, 1.0),
        ("email", "negative", 1, 0.5),
        ("email", "neutral", 1, 0.5),
        ("email", "positive", 0, 0.0),
        # a group with no labelled text: n = 0 and no share (0/0 is not 0 %)
        ("phone", "negative", 0, None),
        ("phone", "neutral", 0, None),
        ("phone", "positive", 0, None),
    ]
    assert out["n"].sum() == 3


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from([*LABELS, None])),
        max_size=30,
    )
)
def test_label_counts_sum_to_the_labelled_texts(rows: list[tuple[str, str | None]]) -> None:
    frame = pl.DataFrame(rows, schema={"g": pl.String, "sentiment_label": pl.String}, orient="row")
    out = label_counts(frame, by=["g"])
    assert out["n"].sum() == frame["sentiment_label"].count()
    assert out.height == 3 * frame["g"].n_unique()
    shares = out.group_by("g").agg(pl.col("share").sum(), pl.col("n").sum())
    for share, n in shares.select("share", "n").iter_rows():
        assert share == pytest.approx(1.0) if n else share == 0


# -- extremes ----------------------------------------------------------------------------------


def scored(rows: list[tuple[str | None, float | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"text": pl.String, "sentiment": pl.Float64, "sentiment_label": LABEL_DTYPE},
        orient="row",
    ).with_row_index("id")


def test_extremes_order_mask_and_distinct() -> None:
    frame = scored(
        [
            ("awful, call me on 555-123-4567", -0.9, "negative"),
            ("bad", -0.5, "negative"),
            ("awful, call me on 555-123-4567", -0.9, "negative"),  # a repeat
            ("meh", 0.0, "neutral"),
            ("great", 0.8, "positive"),
            ("superb, mail me at a@b.com", 0.95, "positive"),
            ("fine", 0.3, "positive"),
            (None, None, None),
        ]
    )
    out = extremes(frame, n=2)
    assert out.schema["side"] == SIDE_DTYPE
    assert out.columns == ["side", "id", "text", "sentiment", "sentiment_label"]
    assert out.select("side", "id", "text").rows() == [
        ("negative", 0, "awful, call me on [phone]"),
        ("negative", 1, "bad"),
        ("positive", 5, "superb, mail me at [email]"),
        ("positive", 4, "great"),
    ]
    repeats = extremes(frame, n=5, distinct=False)
    assert repeats.filter(pl.col("side") == "negative")["id"].to_list() == [0, 2, 1]


def test_extremes_never_shows_neutral_text_as_an_extreme() -> None:
    frame = scored([("meh", -0.01, "neutral"), ("ok", 0.02, "neutral")])
    assert extremes(frame).height == 0


# -- distinguishing terms ----------------------------------------------------------------------

NEGATIVE = [
    "I want a refund, the item was broken",
    "Still waiting for my refund after two weeks.",
    "Refund never arrived and support was rude",
    "Wrong size again! I need a refund",
    "Wrong size, not good",
    "Terrible. Waited on hold for an hour",
    "Waited on hold twice; not happy",
    "On hold forever, mail me at angry@example.com or 555-123-4567",
]
POSITIVE = [
    "Great service, fast delivery",
    "Lovely staff, great help",
    "Fast delivery and great quality",
    "Thanks, great experience",
    "Good size and fast delivery",
]
NEUTRAL = ["Order arrived today", "Parcel was delivered on Monday"]


def corpus() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "text": NEGATIVE + POSITIVE + NEUTRAL,
            "label": ["negative"] * len(NEGATIVE)
            + ["positive"] * len(POSITIVE)
            + ["neutral"] * len(NEUTRAL),
        }
    )


def test_refund_ranks_first_on_the_negative_side() -> None:
    terms = distinguishing_terms(corpus(), "text", "label", min_count=2, min_z=0)
    negative = terms.filter(pl.col("side") == "negative")
    positive = terms.filter(pl.col("side") == "positive")
    # "refund" is in 4 negative texts and no positive one
    assert negative.row(0, named=True) | {"z": None, "log_odds": None} == {
        "side": "negative",
        "term": "refund",
        "ngram": 1,
        "z": None,
        "log_odds": None,
        "n_negative": 4,
        "n_positive": 0,
    }
    assert positive["term"][0] == "great"
    assert (negative["z"] > 0).all()
    assert (positive["z"] < 0).all()
    # most distinguishing first on each side
    assert negative["z"].to_list() == sorted(negative["z"].to_list(), reverse=True)
    assert positive["z"].to_list() == sorted(positive["z"].to_list())


def test_phrases_negations_and_stop_words() -> None:
    terms = distinguishing_terms(corpus(), "text", "label", min_count=2, top=50, min_z=0)
    found = set(terms["term"])
    assert {"on hold", "wrong size", "not", "waited on"} <= found
    assert "the" not in found
    assert "a refund" not in found  # a determiner makes no phrase
    assert "terrible waited" not in found  # bigrams stop at punctuation
    # "size" occurs in 2 negative texts and 1 positive text, "wrong size" in 2 negative only
    size = terms.filter(pl.col("term") == "wrong size").row(0, named=True)
    assert (size["ngram"], size["n_negative"], size["n_positive"]) == (2, 2, 0)


def test_personal_data_never_becomes_a_term() -> None:
    frame = pl.DataFrame(
        {
            "text": ["reach me at bob@example.com or 555-123-4567 asap"] * 3 + ["lovely"] * 3,
            "label": ["negative"] * 3 + ["positive"] * 3,
        }
    )
    terms = set(distinguishing_terms(frame, "text", "label", top=50, min_z=0)["term"])
    assert terms == {"reach", "asap", "lovely"}


def test_a_word_that_only_occurs_inside_one_phrase_is_listed_once() -> None:
    frame = pl.DataFrame(
        {
            "text": ["Cancelled Flightled again", "cancelled flightled", "cancelled flightled"]
            + ["cancelled my complaint, all good"] * 2
            + ["great"] * 3,
            "label": ["negative"] * 5 + ["positive"] * 3,
        }
    )
    terms = distinguishing_terms(frame, "text", "label", min_count=1, top=50, min_z=0)
    found = set(terms["term"])
    assert "cancelled flightled" in found
    assert "flightled" not in found  # same 3 texts as the phrase
    assert "cancelled" in found  # also in 2 other texts


def test_z_score_by_hand() -> None:
    frame = pl.DataFrame(
        {"text": ["refund now", "refund late", "great now"], "l": ["negative"] * 2 + ["positive"]}
    )
    out = distinguishing_terms(frame, "text", "l", min_count=1, ngrams=(1,), prior=0.1, min_z=0)
    # counts (neg/pos/all): refund 2/0/2, now 1/1/2, late 1/0/1, great 0/1/1
    # n_neg = 4, n_pos = 2; α_refund = 0.1·2 = 0.2; α_0 = 0.1·6 = 0.6
    delta = math.log(2.2 / (4 + 0.6 - 2 - 0.2)) - math.log(0.2 / (2 + 0.6 - 0 - 0.2))
    z = delta / math.sqrt(1 / 2.2 + 1 / 0.2)
    refund = out.filter(pl.col("term") == "refund").row(0, named=True)
    assert refund["log_odds"] == pytest.approx(delta)
    assert refund["z"] == pytest.approx(z)
    assert set(out["ngram"]) == {1}


def test_min_count_and_empty_input() -> None:
    assert distinguishing_terms(corpus(), "text", "label", min_count=100).height == 0
    empty = distinguishing_terms(
        pl.DataFrame({"text": [], "label": []}, schema={"text": pl.String, "label": pl.String}),
        "text",
        "label",
    )
    assert empty.height == 0
    assert empty.columns == [
        "side",
        "term",
        "ngram",
        "z",
        "log_odds",
        "n_negative",
        "n_positive",
    ]


@pytest.mark.parametrize("ngrams", [(), (3,), (1, 3)])
def test_only_unigrams_and_bigrams(ngrams: tuple[int, ...]) -> None:
    with pytest.raises(UsageError, match="ngrams"):
        distinguishing_terms(corpus(), "text", "label", ngrams=ngrams)


@pytest.mark.parametrize(
    "options", [{"top": 0}, {"min_count": 0}, {"prior": 0.0}, {"prior": float("nan")}]
)
def test_bad_options_are_usage_errors(options: dict[str, float]) -> None:
    with pytest.raises(UsageError, match="at least 1"):
        distinguishing_terms(corpus(), "text", "label", **options)  # type: ignore[arg-type]


# -- the whole view ----------------------------------------------------------------------------


def test_summarise_feedback() -> None:
    frame = corpus().with_columns(
        pl.when(pl.col("label") == "negative")
        .then(-0.5)
        .when(pl.col("label") == "positive")
        .then(0.5)
        .otherwise(0.0)
        .alias("sentiment"),
        pl.col("label").alias("sentiment_label"),
    )
    result = summarise_feedback(frame, examples=1, top_terms=3, min_count=2, min_z=0)
    assert (result.n_texts, result.n_scored) == (15, 15)
    assert result.counts["n"].to_list() == [8, 2, 5]
    assert result.examples["side"].to_list() == ["negative", "positive"]
    # ties keep input order: the first negative and the first positive text
    assert result.examples["text"].to_list() == [NEGATIVE[0], POSITIVE[0]]
    assert result.terms["term"][0] == "refund"
    with pytest.raises(UsageError, match='no column "comment"') as caught:
        summarise_feedback(frame, text_col="comment")
    assert caught.value.hint == "columns available: text, label, sentiment, sentiment_label"


# -- hostile personal data (issue #12) ---------------------------------------------------------


def luhn_ok(number: str) -> bool:
    """The Luhn check in plain Python, independent of the polars implementation."""
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
    )
    return total % 10 == 0


NBSP, NNBSP = "\u00a0", "\u202f"
HOSTILE_MASKED = [
    # e-mails in any script, with a full-width ＠, or as a mailto: link
    ("schreib jürgen.müller@beispiel.de bitte", "schreib [email] bitte"),
    ("mail 山田@例え.jp now", "mail [email] now"),
    ("ann＠example.com", "[email]"),
    ("<mailto:bob@example.org>", "<[email]>"),
    ("MAILTO:Bob@Example.org", "[email]"),
    # phone numbers with every kind of dash, slashes, NBSP, or glued to letters
    ("call 030–1234567", "call [phone]"),  # en dash
    ("call 030—1234567", "call [phone]"),  # em dash
    ("call 030‑123‑4567", "call [phone]"),  # non-breaking hyphen
    ("call 030−1234567", "call [phone]"),  # minus sign
    ("call 030/1234567", "call [phone]"),
    (f"call 030{NBSP}1234567", "call [phone]"),
    (f"call +49{NNBSP}30{NNBSP}1234567", "call [phone]"),
    ("call030-1234567now", "call[phone]now"),
    ("tel:+4930123456", "tel:[phone]"),
    ("tel0301234567", "tel[number]"),  # ≥ 9 digits glued: masked as a number
    # cards (Luhn-valid) with _, /, NBSP separators or glued to letters
    ("card 4111_1111_1111_1111 ok", "card [number] ok"),
    ("card 4111/1111/1111/1111", "card [number]"),
    (f"card 5555{NBSP}5555{NBSP}5555{NBSP}4444", "card [number]"),
    ("card4111111111111111exp", "card[number]exp"),
    ("visa:4111-1111-1111-1111.", "visa:[number]."),
    # a Luhn-invalid grouped number is still masked, as the phone-like number it is
    ("ref 4111 1111 1111 1112", "ref [phone]"),
    # IBANs with or without spaces
    ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [iban] please"),
    ("iban DE89370400440532013000", "iban [iban]"),
    ("GB82 WEST 1234 5698 7654 32", "[iban]"),
]


@pytest.mark.parametrize(("text", "expected"), HOSTILE_MASKED)
def test_hostile_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_the_card_examples_are_what_they_claim() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5555555555554444")
    assert luhn_ok("378282246310005")  # the Amex number in MASKED
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize("text", ["ORD1234567", "v1.2.3", "ref 123-45", "Order#42 on 2026-01-05"])
def test_identifiers_and_short_numbers_stay(text: str) -> None:
    assert mask_pii(text) == text


def test_handles_are_masked_only_when_asked() -> None:
    text = "@ann_b and ＠Bob99 said hi to me@x.org"
    assert mask_pii(text) == "@ann_b and ＠Bob99 said hi to [email]"
    assert mask_pii(text, handles=True) == "[handle] and [handle] said hi to [email]"


def test_masked_values_never_become_terms() -> None:
    # every hostile form, in negative texts only: none of its parts may be a telling term
    negative = [f"{t} refund" for t, _ in HOSTILE_MASKED]
    frame = pl.DataFrame(
        {
            "text": negative * 3 + ["lovely"] * 3,
            "label": ["negative"] * (3 * len(negative)) + ["positive"] * 3,
        }
    )
    terms = set(distinguishing_terms(frame, "text", "label", top=500, min_count=1, min_z=0)["term"])
    secrets = {
        "jürgen", "müller", "beispiel", "山田", "ann", "example", "bob", "4111", "1111",
        "5555", "4444", "030", "1234567", "de89", "3704", "gb82", "west", "mailto",
    }  # fmt: skip
    words = {w for term in terms for w in term.split()}
    assert not words & secrets, words & secrets
    assert "refund" in terms


def test_message_examples_mask_handles() -> None:
    frame = pl.DataFrame(
        {
            "text": ["@ann_b terrible service", "@bob great"],
            "score": [-0.9, 0.9],
            "label": ["negative", "positive"],
        }
    )
    shown = extremes(frame, score_col="score", label_col="label", handles=True)["text"].to_list()
    assert shown == ["[handle] terrible service", "[handle] great"]


# -- issue #18: |z| threshold, survey sides by score, mixed texts, period, JSON ---------------


def test_terms_need_z_of_at_least_1_96() -> None:
    frame = pl.DataFrame(
        {
            "text": ["refund"] * 6 + ["late"] + ["great"] * 6,
            "label": ["negative"] * 7 + ["positive"] * 6,
        }
    )
    # counts (neg/pos/all): refund 6/0/6, late 1/0/1, great 0/6/6; n_neg = 7, n_pos = 6
    # α = 0.1·y_all: refund 0.6, late 0.1, great 0.6; α_0 = 1.3
    # refund: δ = ln(6.6 / (7 + 1.3 − 6.6)) − ln(0.6 / (6 + 1.3 − 0.6)) = 1.3564 + 2.4130
    #         = 3.7694; σ = √(1/6.6 + 1/0.6) = 1.3484; z = +2.795  (kept)
    # late:   δ = ln(1.1 / 7.2) − ln(0.1 / 7.2) = ln 11 = 2.3979; σ = √(1/1.1 + 1/0.1) = 3.3029;
    #         z = +0.726  (|z| < 1.96: dropped)
    # great:  δ = ln(0.6 / 7.7) − ln(6.6 / 0.7) = −2.5521 − 2.2437 = −4.7958; z = −3.557
    terms = distinguishing_terms(frame, "text", "label", min_count=1)
    assert terms.select("side", "term").rows() == [("negative", "refund"), ("positive", "great")]
    assert terms["z"].to_list() == pytest.approx([2.795, -3.557], abs=5e-4)
    everything = distinguishing_terms(frame, "text", "label", min_count=1, min_z=0)
    late = everything.filter(pl.col("term") == "late")["z"].item()
    assert late == pytest.approx(math.log(11) / math.sqrt(1 / 1.1 + 10))
    with pytest.raises(UsageError, match="min_z"):
        distinguishing_terms(frame, "text", "label", min_z=-1)


SIDES = [
    # NPS: detractors 0–6, passives 7–8, promoters 9–10
    ("nps", 0, "negative"),
    ("nps", 6, "negative"),
    ("nps", 7, None),
    ("nps", 8, None),
    ("nps", 9, "positive"),
    ("NPS ", 10, "positive"),  # the type as written in exports: case and spaces
    # CSAT on 1–5: bottom two boxes 1–2, satisfied from scale − 1 = 4
    ("csat", 2, "negative"),
    ("csat", 3, None),
    ("csat", 4, "positive"),
    # CES on 1–7, higher is better: 1–2 against 6–7
    ("ces", 2, "negative"),
    ("ces", 5, None),
    ("ces", 6, "positive"),
    ("other", 1, None),
    ("nps", None, None),
]


def test_survey_sides_by_score() -> None:
    frame = pl.DataFrame(SIDES, schema=["survey_type", "score", "want"], orient="row")
    got = frame.select(score_side_expr(pl.col("score"), pl.col("survey_type"), survey_bands()))
    assert got.to_series().to_list() == frame["want"].to_list()


def test_survey_sides_follow_the_kpi_scales() -> None:
    # CES on 1–5 running easy → difficult: 4–5 (scale − 1 and up) are unhappy, 1–2 happy;
    # CSAT on 1–10 with satisfied_min 8: ≤ 2 against ≥ 8
    bands = survey_bands(
        csat_scale=10, csat_satisfied_min=8, ces_scale=5, ces_higher_is_better=False
    )
    frame = pl.DataFrame(
        [("ces", 5), ("ces", 4), ("ces", 3), ("ces", 2), ("csat", 7), ("csat", 8), ("csat", 2)],
        schema=["survey_type", "score"],
        orient="row",
    )
    got = frame.select(score_side_expr(pl.col("score"), pl.col("survey_type"), bands))
    assert got.to_series().to_list() == [
        "negative", "negative", None, "positive", None, "positive", "negative",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, but it did not work",
        "Friendly agent, the fix doesn't work",
        "Great staff but my parcel never arrived",
        "Good people, still broken though",
        "Nice chat, issue not resolved",
        "Lovely, but it has not been fixed",
        "Thank you! Still waiting for the refund",
        "THANKS, DIDNT WORK",
        "nice, but they never got back to me",
        "not only resolved but refunded",  # the documented false alarm (docs/sentiment.md)
    ],
)
def test_negated_complaints_are_found(text: str) -> None:
    assert has_negated_complaint(text)


@pytest.mark.parametrize(
    "text", ["It works now, thanks", "Resolved quickly", "Not bad at all", "Never had an issue"]
)
def test_praise_is_not_a_negated_complaint(text: str) -> None:
    assert not has_negated_complaint(text)


def test_mixed_texts_are_listed_apart_not_as_most_positive() -> None:
    frame = scored(
        [
            ("Thanks so much, but it still did not work", 0.9, "positive"),
            ("great", 0.8, "positive"),
            ("Thanks so much, but it still did not work", 0.9, "positive"),  # a repeat
            ("awful, never arrived", -0.7, "negative"),  # negative already: not mixed
            ("Lovely agent, problem not resolved, call 555-123-4567", 0.6, "positive"),
            (None, None, None),
        ]
    )
    shown = extremes(frame, n=5)
    assert shown.select("side", "text").rows() == [
        ("negative", "awful, never arrived"),
        ("positive", "great"),
    ]
    assert extremes(frame, n=5, mixed=False).filter(pl.col("side") == "positive").height == 3
    # highest score first, each text once, masked
    assert mixed_texts(frame)["text"].to_list() == [
        "Thanks so much, but it still did not work",
        "Lovely agent, problem not resolved, call [phone]",
    ]
    summary = summarise_feedback(frame, min_count=1)
    # rows 0, 2 and 4: positive with a negated complaint (the repeat counts: 3 texts)
    assert summary.n_mixed == 3
    assert summary.mixed is not None and summary.mixed.height == 2


def test_summarise_contrasts_the_side_column() -> None:
    # VADER calls every text positive; the scores say the "refund" ones are detractors
    frame = pl.DataFrame(
        {
            "text": ["refund, thanks"] * 6 + ["great, thanks"] * 6,
            "sentiment": [0.5] * 12,
            "sentiment_label": ["positive"] * 12,
            "band": ["negative"] * 6 + ["positive"] * 6,
        }
    )
    by_label = summarise_feedback(frame, min_count=1)
    assert by_label.contrast == "sentiment"
    assert by_label.terms.filter(pl.col("side") == "negative").height == 0
    by_score = summarise_feedback(frame, min_count=1, side_col="band")
    assert by_score.contrast == "score"
    # refund 6/0, great 0/6, thanks 6/6 (z = 0: on neither side); n_neg = n_pos = 12
    assert by_score.terms.select("side", "term", "n_negative", "n_positive").rows() == [
        ("negative", "refund", 6, 0),
        ("positive", "great", 0, 6),
    ]


SURVEY_CSV = """
    responded_at,score,survey_type,comment
    2026-03-02T09:00:00Z,0,nps,Thanks for trying but refund
    2026-03-02T10:00:00Z,3,nps,Thanks for trying but refund
    2026-03-03T09:00:00Z,6,nps,Thanks for trying but refund
    2026-03-03T10:00:00Z,2,nps,Thanks for trying but refund
    2026-03-04T09:00:00Z,1,nps,Thanks for trying but refund
    2026-03-04T10:00:00Z,5,nps,Thanks for trying but refund
    2026-03-04T11:00:00Z,8,nps,refund ok
    2026-03-05T09:00:00Z,9,nps,Thanks great
    2026-03-05T10:00:00Z,10,nps,Thanks great
    2026-03-05T11:00:00Z,9,nps,Thanks great
    2026-03-05T12:00:00Z,10,nps,Thanks great
    2026-03-05T13:00:00Z,9,nps,Thanks great
    2026-03-05T23:30:00Z,10,nps,Thanks great
    """


@pytest.fixture
def surveys(write: Write) -> Path:
    write("surveys.csv", SURVEY_CSV)
    return write("cscli.yaml", "timezone: Europe/Berlin\nsources: {surveys: {path: surveys.csv}}\n")


def test_survey_terms_contrast_detractors_with_promoters(surveys: Path) -> None:
    pytest.importorskip("vaderSentiment")
    report = api.feedback(surveys, min_count=1)
    s = report.summary
    assert s.contrast == "score"
    # detractors (0–6): 6 texts with "refund"; the passive (8) is on neither side
    refund = s.terms.filter(pl.col("term") == "refund").row(0, named=True)
    assert (refund["side"], refund["n_negative"], refund["n_positive"]) == ("negative", 6, 0)
    # promoters (9–10): 6 texts "Thanks great" ("great" alone repeats the phrase: not listed)
    great = s.terms.filter(pl.col("term") == "thanks great").row(0, named=True)
    assert (great["side"], great["n_negative"], great["n_positive"]) == ("positive", 0, 6)
    # VADER reads the detractors' "Thanks for trying but refund" as positive: by its labels
    # "refund" would be no negative term at all
    detractor = s.examples.filter(pl.col("comment").str.contains("refund"))
    assert set(detractor["sentiment_label"].cast(pl.String)) <= {"positive"}


def test_the_period_shows_the_data_span(surveys: Path) -> None:
    pytest.importorskip("vaderSentiment")
    # the last response, 2026-03-05T23:30Z, is 2026-03-06 00:30 in Berlin
    assert api.feedback(surveys).period == (date(2026, 3, 2), date(2026, 3, 6))
    asked = api.feedback(surveys, date_from="2026-03-01")
    assert asked.period == (date(2026, 3, 1), date(2026, 3, 6))


def test_feedback_json_names_tool_version_and_dates(surveys: Path) -> None:
    pytest.importorskip("vaderSentiment")
    result = CliRunner().invoke(app, ["feedback", "-c", str(surveys), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["tool"], doc["version"]) == ("cscli", __version__)
    assert doc["period"] == {"from": "2026-03-02", "to": "2026-03-06"}
    assert doc["contrast"] == "score"
    assert doc["mixed"] == {"n": 0, "examples": []}
    table = CliRunner().invoke(app, ["feedback", "-c", str(surveys), "--width", "120"])
    assert "2026-03-02 → 2026-03-06" in table.stdout
    assert "by survey score" in table.stdout
