"""The qualitative view: personal-data masking, counts by label, extremes, distinguishing terms."""

from __future__ import annotations

import math
import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscli.errors import UsageError
from cscli.feedback import (
    SIDE_DTYPE,
    distinguishing_terms,
    extremes,
    label_counts,
    mask_pii,
    mask_pii_expr,
    summarise_feedback,
)
from cscli.sentiment import LABEL_DTYPE, LABELS

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
