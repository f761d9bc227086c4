"""Real data: brands' first response times on Twitter (TWCS, first 5,000 tweets).

The expected figures are recomputed here with the standard library only (csv, datetime,
statistics), independently of cscli's polars pipeline. Skips where ../shared is absent.
"""

from __future__ import annotations

import csv
import statistics
from datetime import datetime

import pytest

from cscli import api
from tests.conftest import ROOT, SHARED

DATA = SHARED / "data" / "twcs_head5000" / "twcs_head5000.csv"
CONFIG = ROOT / "configs" / "examples" / "twitter_support.yaml"

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="../shared/data is absent")


def reference() -> tuple[dict[str, list[float]], int, int, int]:
    """(first-reply seconds per brand, inbound messages, conversation starts, answered)."""
    with DATA.open(encoding="utf-8", newline="") as f:
        tweets = list(csv.DictReader(f))

    def at(row: dict[str, str]) -> datetime:
        return datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")

    first: dict[str, tuple[datetime, str]] = {}
    for t in tweets:
        parent = t["in_response_to_tweet_id"]
        if t["inbound"] == "False" and parent:
            key = str(int(float(parent)))
            if key not in first or at(t) < first[key][0]:
                first[key] = (at(t), t["author_id"])
    per_brand: dict[str, list[float]] = {}
    starts = answered = inbound = 0
    for t in tweets:
        if t["inbound"] != "True":
            continue
        inbound += 1
        if t["in_response_to_tweet_id"]:
            continue
        starts += 1
        reply = first.get(t["tweet_id"])
        if reply is not None:
            answered += 1
            seconds = (reply[0] - at(t)).total_seconds()
            per_brand.setdefault(reply[1], []).append(seconds)
    return per_brand, inbound, starts, answered


def test_brand_first_response_times_match_an_independent_count() -> None:
    per_brand, inbound, starts, answered = reference()
    result = api.report(
        CONFIG, by=["responder"], kpis=["message_volume", "message_first_response_time"]
    )
    totals = result.totals.row(0, named=True)
    assert totals["message_volume"] == inbound
    every = [s for values in per_brand.values() for s in values if s >= 0]
    assert totals["message_first_response_time__n"] == len(every)
    assert totals["message_first_response_time"] == pytest.approx(statistics.median(every))
    rows = {r["responder"]: r for r in result.table.iter_rows(named=True)}
    for brand in ("AmazonHelp", "AppleSupport", "Uber_Support"):
        if brand in per_brand:
            expected = statistics.median(s for s in per_brand[brand] if s >= 0)
            assert rows[brand]["message_first_response_time"] == pytest.approx(expected), brand
    rate = api.report(CONFIG, kpis=["message_response_rate"]).totals.row(0, named=True)
    assert rate["message_response_rate"] == pytest.approx(answered / starts)
    assert rate["message_response_rate__n"] == starts
