"""Social messages (first response per brand), sentiment KPIs and `cscli feedback`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cscli import api
from cscli.cli import app

pytest.importorskip("vaderSentiment")

Write = Callable[[str, str], Path]

# m1 (customer) → replied by BrandA after 10 min (r1) and again later (r2: not the first reply)
# m2 (customer) → replied by BrandB after 1 h (r3)
# m3 (customer) → never replied
# m4 (customer) replies to r1: not a conversation start, so not counted in FRT or response rate
MESSAGES = """
    message_id,created_at,text,author,inbound,in_response_to
    m1,2026-03-02T09:00:00Z,My order never arrived and support is useless,c1,true,
    r1,2026-03-02T09:10:00Z,Sorry to hear that! Please DM us your order number.,BrandA,false,m1
    r2,2026-03-02T11:00:00Z,We have sent a replacement.,BrandA,false,m1
    m2,2026-03-02T10:00:00Z,Thanks a lot for the quick and friendly help!,c2,true,
    r3,2026-03-02T11:00:00Z,Glad we could help!,BrandB,false,m2
    m3,2026-03-03T08:00:00Z,Terrible service. Still waiting for a refund.,c3,true,
    m4,2026-03-02T09:20:00Z,Done. Thanks,c1,true,r1
"""


@pytest.fixture
def config(write: Write) -> Path:
    write("messages.csv", MESSAGES)
    return write(
        "cscli.yaml",
        """
        sources:
          messages: {path: messages.csv}
        kpis:
          - message_volume
          - {id: frt, kpi: message_first_response_time, stat: mean}
          - message_response_rate
          - {id: social_sentiment, kpi: sentiment, source: messages}
          - {id: social_negative, kpi: negative_share, source: messages}
        """,
    )


def test_social_first_response_and_rate(config: Path) -> None:
    t = api.report(config).totals.row(0, named=True)
    # inbound messages: m1, m2, m3, m4 = 4
    assert (t["message_volume"], t["message_volume__n"]) == (4, 4)
    # conversation starts m1, m2, m3; first replies: m1 after 600 s (r1, not r2), m2 after 3600 s
    # mean (600 + 3600) / 2 = 2100 over n = 2; response rate 2 of 3
    assert (t["frt"], t["frt__n"]) == (pytest.approx(2100.0), 2)
    assert (t["message_response_rate"], t["message_response_rate__n"]) == (pytest.approx(2 / 3), 3)


def test_social_frt_by_responder(config: Path) -> None:
    result = api.report(config, by=["responder"])
    rows = {r["responder"]: r for r in result.table.iter_rows(named=True)}
    assert rows["BrandA"]["frt"] == pytest.approx(600.0)
    assert rows["BrandB"]["frt"] == pytest.approx(3600.0)
    # the response rate by responder is refused (issue #11): it would be 1/1 for BrandA (m1)
    # and BrandB (m2) and 0/1 for the empty responder (m3) — the cut decides the value
    assert "message_response_rate" not in result.table.columns
    [rate] = [s for s in result.kpis if s.kpi.id == "message_response_rate"]
    assert rate.reason is not None
    assert rate.reason.startswith("cannot be cut by responder: only answered messages")


def test_sentiment_scores_only_customers(config: Path) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    inbound = [
        "My order never arrived and support is useless",
        "Thanks a lot for the quick and friendly help!",
        "Terrible service. Still waiting for a refund.",
        "Done. Thanks",
    ]
    scores = [vader.polarity_scores(t)["compound"] for t in inbound]  # the reference scorer
    t = api.report(config).totals.row(0, named=True)
    # the brand's replies (r1–r3) are not the customers' sentiment: n = 4 inbound texts
    assert t["social_sentiment__n"] == 4
    assert t["social_sentiment"] == pytest.approx(sum(scores) / 4)
    negative = sum(1 for s in scores if s <= -0.05)
    assert t["social_negative"] == pytest.approx(negative / 4)


def test_feedback_command(config: Path) -> None:
    result = CliRunner().invoke(
        app, ["feedback", "-c", str(config), "--source", "messages", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["texts"] == 4
    labels = {r["label"]: r["n"] for r in doc["labels"]}
    assert sum(labels.values()) == 4
    negatives = [e["text"] for e in doc["examples"] if e["side"] == "negative"]
    assert "Terrible service. Still waiting for a refund." in negatives


def test_feedback_masks_personal_data(write: Write) -> None:
    write(
        "surveys.csv",
        """
        responded_at,score,survey_type,comment
        2026-03-02T09:00:00Z,1,csat,Awful. Call me on +49 30 1234567 or mail jane@example.com
        2026-03-02T09:00:00Z,5,csat,Great and friendly help
        """,
    )
    path = write("cscli.yaml", "sources: {surveys: {path: surveys.csv}}\n")
    report = api.feedback(path)
    texts = " ".join(report.summary.examples["comment"].to_list())
    assert "jane@example.com" not in texts and "1234567" not in texts
    assert "[email]" in texts and "[phone]" in texts


def test_feedback_table(config: Path) -> None:
    result = CliRunner().invoke(
        app, ["feedback", "-c", str(config), "--source", "messages", "--width", "120"]
    )
    assert result.exit_code == 0, result.output
    assert "Most negative" in result.stdout and "Labels" in result.stdout
