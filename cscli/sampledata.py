"""Deterministic, vectorised sample-data generator for tickets, calls, surveys and customers.

Run ``python -m cscli.sampledata --out sample_data`` (see ``--help``) or call :func:`generate`.

Model. Every random number is a pure function of (seed, table, stream, row): uniform k of row
i is polars' ``hash(i, seed=(seed·10 + table)·1000 + k)`` scaled into (0, 1); normals come from
Box–Muller, log-normals are ``median·exp(σ·N)``, categories compare a uniform with cumulative
weights. Nothing loops over rows; the same seed and arguments give byte-identical CSV output
(with the same polars version). Arrivals follow hourly weights in Europe/Berlin time (Mon–Fri
08–18 busy, 09–12 peak, Mondays busiest; evenings, nights, weekends quiet; daily noise; slight
growth) drawn by stratified inverse-CDF sampling, so ids are chronological. The period runs from
``start`` 00:00 to ``end`` 23:59:59 Berlin time, the export time: anything later stays empty.

* 40 agents in 5 teams of 8, each with a skill factor exp(0.25·N) scaling response, resolution,
  talk and wrap times. Customers start over the 2 years before the period end (~10% churn);
  tickets, calls and NPS answers only pick customers that already exist.
* Tickets: first response log-normal by channel (medians chat 3 min, phone 10 min, social
  40 min, web 3 h, email 5 h) × priority (urgent 0.3 … low 1.5) × skill, ~5% never answered;
  resolution log-normal after it (email ~1 day … chat ~3 h), longer if reopened, shorter with
  the knowledge base; ~8% unresolved (open/pending), many near the period end. Resolved tickets
  are ``closed`` 4 days after resolution (as in Zendesk), ``solved`` before that.
* Calls: wait log-normal, median ~9 s scaled by the hour's load (Monday mornings worst), so
  that about 79% are answered within 20 s; exponential caller patience, mean 240 s; abandoned
  when patience < wait, ~5% overall, some within 5 s.
* Surveys: CSAT (60%; 80% rate a resolved ticket, 20% an answered call, 1 min–2 days later;
  lower after a slow first response, reopens, reassignments, long waits, transfers), NPS (25%,
  per customer, ~45% promoters, ~20% detractors), CES (15%, rates a ticket, 7 = easiest). ~40%
  have a comment whose tone matches the score. A ticket or call is rated at most once.

Deliberate data-quality defects, at fixed rows (ids for the default sizes in brackets):

* tickets rows ⌊n·0.11⌋, ⌊n·0.47⌋, ⌊n·0.83⌋ (T-002201, T-009401, T-016601): resolved_at 1, 2
  and 3 h BEFORE created_at (first_response_at empty, status closed or solved);
* tickets rows ⌊n·0.29⌋, ⌊n·0.66⌋ (T-005801, T-013201): created_at is the text ``not a date``;
* ticket row ⌊n·0.58⌋ (T-011601): agent_replies is ``n/a``;
* surveys: the csat response number ⌊n_csat/3⌋ (0-based, in response order) has score 6.

In parquet tickets the two text defects are nulls instead (the columns are typed).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl

Format = Literal["mixed", "parquet", "csv"]
TZ = "Europe/Berlin"
DAY = 86_400
ISO = "%Y-%m-%dT%H:%M:%S%:z"
NAIVE = "%Y-%m-%d %H:%M:%S"
# fmt: off
TEAMS = ("Billing", "Tech L1", "Tech L2", "Accounts", "Onboarding")
AGENTS = (  # 8 per team in TEAMS order: agent k works in team k // 8
    "Ana Silva", "Ben Okafor", "Chen Wei", "Dana Kowalski", "Elif Yilmaz", "Farah Haddad",
    "Gustavo Pereira", "Hannah Becker", "Ivan Petrov", "Jana Novak", "Kenji Tanaka",
    "Lena Schmidt", "Marco Rossi", "Nadia Rahman", "Omar Farouk", "Priya Nair", "Quentin Dubois",
    "Rosa Martinez", "Samuel Mensah", "Tomasz Nowak", "Uma Patel", "Viktor Lindqvist",
    "Wanjiru Kamau", "Xavier Laurent", "Yara Costa", "Zoe Fischer", "Aisha Bello",
    "Björn Eriksson", "Carmen López", "Daniel Cohen", "Emma Johansson", "Felix Wagner",
    "Grace Mwangi", "Hiro Sato", "Isabel García", "Jonas Weber", "Kofi Asante", "Laila Ahmadi",
    "Mateo Fernández", "Nora Lindberg",
)
# channel: weight, first-response median (s), resolution median (s), subject templates
CHANNELS: dict[str, tuple[float, float, float, tuple[str, ...]]] = {
    "email": (0.40, 5 * 3600, DAY, (
        "Invoice question", "Cannot log in, password reset mail not arriving",
        "Refund request for order", "Export to CSV fails, please help", "Update billing address")),
    "chat": (0.25, 180, 3 * 3600, (
        "Quick question about pricing", "App crashes on start", "How do I add a user?",
        "Payment declined", 'Error "invalid token" on login')),
    "web": (0.15, 3 * 3600, 16 * 3600, (
        "Feature request: dark mode", "Bug report, dashboard not loading", "API returns 500",
        "Account deletion request", "Change of plan")),
    "social": (0.10, 2400, 8 * 3600, (
        "Is the service down?", "Still waiting for a reply, any update?", "Cannot reach support")),
    "phone": (0.10, 600, 4 * 3600, (
        "Callback: billing dispute", "Callback: setup help, new account",
        "Follow-up call about contract renewal")),
}
PRIORITIES = {"low": (0.20, 1.5), "normal": (0.55, 1.0), "high": (0.20, 0.6), "urgent": (0.05, 0.3)}
TICKET_TEAM_WEIGHTS = (0.25, 0.30, 0.10, 0.20, 0.15)
STATUSES = ("solved", "closed", "open", "pending")
# queue: weight, team index, talk-time factor
QUEUES = {"billing": (0.30, 0, 1.0), "tech": (0.35, 1, 1.3), "sales": (0.15, 4, 0.8),
          "general": (0.20, 3, 0.7)}
SEGMENTS = {"free": 0.60, "pro": 0.32, "enterprise": 0.08}
SURVEY_TYPES = ("csat", "nps", "ces")
NPS_WEIGHTS = (2, 1, 1, 2, 2, 4, 8, 15, 20, 22, 23)  # scores 0..10: 20% ≤ 6, 45% ≥ 9
COMMENTS = (  # positive, neutral, negative
    ("Quick and friendly help, thanks!", "Solved on the first try.", "Great support, very patient.",
     "Clear answer, exactly what I needed.", "Fast, competent and friendly."),
    ("It was okay.", "Took a while, but it got sorted.", "Average experience.",
     "The answer was fine, the process could be simpler."),
    ("Waited three days for a reply.", "Had to explain my problem three times.",
     "Issue still not fixed.", 'The "solution" did not work, still broken.',
     "Transferred again and again, very frustrating."),
)
BAD_RESOLVED, BAD_CREATED, BAD_REPLIES = (0.11, 0.47, 0.83), (0.29, 0.66), 0.58
# hourly level for 00-07, 07-08, 08-09 and 12-18, 09-12, 18-22, 22-24; weekday factor Mon..Sun
PROFILES = {
    "tickets": ((0.08, 0.35, 1.0, 1.2, 0.45, 0.15), (1.25, 1.1, 1.0, 1.0, 0.9, 0.35, 0.3)),
    "calls": ((0.01, 0.15, 1.0, 1.4, 0.2, 0.03), (1.3, 1.1, 1.0, 1.0, 0.9, 0.2, 0.05)),
}
# fmt: on


class _Rng:
    """Counter-based random streams: stream k of row ``idx`` hashes (idx, seed, table, k)."""

    def __init__(self, seed: int, table: int) -> None:
        self.base = (seed * 10 + table) * 1000

    def u(self, k: int, idx: pl.Expr | None = None) -> pl.Expr:
        h = (pl.col("i") if idx is None else idx).hash(self.base + k)
        return ((h % 2**52).cast(pl.Float64) + 0.5) / 2**52

    def normal(self, k: int, idx: pl.Expr | None = None) -> pl.Expr:
        radius = (-2.0 * self.u(k, idx).log()).sqrt()
        return radius * (2 * math.pi * self.u(k + 500, idx)).cos()

    def lognormal(self, k: int, median: pl.Expr | float, sigma: float) -> pl.Expr:
        return median * (sigma * self.normal(k)).exp()


@dataclass(frozen=True)
class _Ctx:
    seed: int
    start: int  # period start, epoch seconds
    export: int  # period end (Berlin 23:59:59) = export time, epoch seconds
    started: pl.Series  # customers' start times, ascending
    until: int | None = None  # arrivals end here (a month of a longer period); None: export
    agents: int | None = None  # the seed of the agents' skills; None: seed

    @property
    def arrivals_end(self) -> int:
        return self.export if self.until is None else self.until

    def customer(self, t: pl.Expr, u: pl.Expr) -> pl.Expr:
        """A customer index among those started at or before ``t``."""
        known = pl.lit(self.started).search_sorted(t, side="right").clip(1, self.started.len())
        return (u * known).floor().cast(pl.Int64)


def _pick(u: pl.Expr, weights: Sequence[float]) -> pl.Expr:
    """Index of the category a uniform falls into, given (unnormalised) weights."""
    cuts = [c / sum(weights) for c in accumulate(weights)][:-1]
    return pl.sum_horizontal([u > c for c in cuts]).cast(pl.Int64)


def _lookup(idx: pl.Expr | str, values: Sequence[object], dtype: Any = pl.Float64) -> pl.Expr:
    """Map the codes 0, 1, 2, … of ``idx`` to ``values``."""
    idx = pl.col(idx) if isinstance(idx, str) else idx
    return idx.replace_strict(list(range(len(values))), list(values), return_dtype=dtype)


def _label(col: str, labels: Sequence[str]) -> pl.Expr:
    return _lookup(col, labels, pl.String)


def _rows(n: int) -> pl.DataFrame:
    return pl.select(i=pl.int_range(n, dtype=pl.Int64))


def _ids(prefix: str, col: str, n: int, width: int, offset: int = 0) -> pl.Expr:
    digits = (pl.col(col) + (1 + offset)).cast(pl.String).str.zfill(max(width, len(str(n))))
    return pl.format(prefix + "{}", digits)


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.round().cast(pl.Int64)


def _ts(col: str) -> pl.Expr:
    return pl.from_epoch(pl.col(col), time_unit="s").dt.replace_time_zone("UTC")


def _arrivals(ctx: _Ctx, n: int, profile: str, rng: _Rng) -> pl.DataFrame:
    """Rows ``i`` < n with chronological arrival seconds ``t`` and the hour's relative ``load``."""
    lvl, weekday = PROFILES[profile]
    by_hour = [lvl[0]] * 7 + [lvl[1], lvl[2]] + [lvl[3]] * 3 + [lvl[2]] * 6 + [lvl[4]] * 4
    local = _ts("t").dt.convert_time_zone(TZ)
    noise = (0.15 * rng.normal(1, pl.col("k") // 24) + 0.1 * rng.normal(2, pl.col("k"))).exp()
    shape = _lookup(local.dt.hour(), [*by_hour, lvl[5], lvl[5]])
    trend = 1 + 0.15 * pl.col("k") / pl.len()
    hours = pl.select(k=pl.int_range((ctx.arrivals_end + 1 - ctx.start) // 3600, dtype=pl.Int64))
    hours = hours.with_columns(t=ctx.start + 3600 * pl.col("k")).with_columns(
        w=shape * _lookup(local.dt.weekday() - 1, weekday) * noise * trend
    )
    w = pl.col("w")
    hours = hours.with_columns(load=w / w.quantile(0.9), w=w / w.sum()).with_columns(hi=w.cum_sum())
    q = (pl.col("i").cast(pl.Float64) + rng.u(3)) / max(n, 1)
    hour = pl.lit(hours["hi"]).search_sorted(q, side="right").clip(0, hours.height - 1)
    df = _rows(n).with_columns(q=q).with_columns(hour=hour.cast(pl.Int64))

    def at(col: str) -> pl.Expr:
        return pl.lit(hours[col]).gather(pl.col("hour"))

    frac = ((pl.col("q") - at("hi") + at("w")) / at("w")).clip(0.0, 0.9999)
    return df.select("i", t=at("t") + (frac * 3600).floor().cast(pl.Int64), load=at("load"))


def _customers(n: int, start: int, export: int, seed: int) -> pl.DataFrame:
    rng, span = _Rng(seed, 0), max(730 * DAY, export - start + 365 * DAY)
    started = export - span + ((pl.col("i") + rng.u(1)) / n * span).floor().cast(pl.Int64)
    churn = pl.col("started") + ((export - pl.col("started")) * (0.15 + 0.85 * rng.u(3)))
    df = _rows(n).with_columns(started=started, segment=_pick(rng.u(4), list(SEGMENTS.values())))
    return df.with_columns(churned=pl.when(rng.u(2) < 0.10).then(churn.cast(pl.Int64)))


def _skill(seed: int) -> pl.Expr:
    skill = pl.select(s=(0.25 * _Rng(seed, 9).normal(1, pl.int_range(len(AGENTS)))).exp())
    return _lookup(pl.col("agent"), skill["s"].to_list())


def _tickets(ctx: _Ctx, n: int) -> pl.DataFrame:
    rng, ch, export = _Rng(ctx.seed, 1), list(CHANNELS.values()), ctx.export
    sizes = [len(c[3]) for c in ch]
    df = _arrivals(ctx, n, "tickets", rng).select("i", created="t")
    df = df.with_columns(
        channel=_pick(rng.u(4), [c[0] for c in ch]),
        priority=_pick(rng.u(5), [p[0] for p in PRIORITIES.values()]),
        agent=_pick(rng.u(6), TICKET_TEAM_WEIGHTS) * 8 + (rng.u(7) ** 1.3 * 8).cast(pl.Int64),
        customer=ctx.customer(pl.col("created"), rng.u(8)),
        reopens=_pick(rng.u(9), (0.94, 0.05, 0.01)),
        reassignments=_pick(rng.u(10), (0.88, 0.09, 0.025, 0.005)),
        kb_used=rng.u(11) < 0.30,
    )
    channel, skill = pl.col("channel"), _skill(ctx.seed if ctx.agents is None else ctx.agents)
    prio = _lookup(pl.col("priority"), [p[1] for p in PRIORITIES.values()])
    fr_norm = _lookup(channel, [c[1] for c in ch]) * prio
    fr = pl.col("created") + _int(rng.lognormal(12, fr_norm * skill, 0.9))
    subject = (rng.u(13) * _lookup(channel, sizes)).cast(pl.Int64)
    df = df.with_columns(
        fr_norm=fr_norm,
        subject=_lookup(channel, list(accumulate(sizes, initial=0)), pl.Int64) + subject,
        first_response=pl.when((rng.u(14) > 0.05) & (fr <= export)).then(fr),
    )
    kb = pl.when(pl.col("kb_used")).then(0.8).otherwise(1.0)
    res_median = _lookup(channel, [c[2] for c in ch]) * (0.5 + prio / 2) * skill * kb
    res_median *= 1 + 1.5 * pl.col("reopens")
    res = pl.coalesce("first_response", "created") + _int(rng.lognormal(15, res_median, 1.1))
    no_fr = pl.col("first_response").is_null()
    unresolved = rng.u(16) < pl.when(no_fr).then(0.3).otherwise(0.055)
    bad = [int(n * f) for f in BAD_RESOLVED]
    bad_res = pl.col("created") - 3600 * pl.col("i").replace_strict(bad, [1, 2, 3], default=0)
    is_bad = pl.col("i").is_in(bad)
    df = df.with_columns(
        first_response=pl.when(~is_bad).then("first_response"),
        resolved=pl.when(is_bad).then(bad_res).when(~unresolved & (res <= export)).then(res),
    )
    status = (pl.when(pl.col("resolved") < export - 4 * DAY).then(1)  # closed
              .when(pl.col("resolved").is_not_null()).then(0)  # solved
              .when(no_fr | (rng.u(18) < 0.6)).then(2).otherwise(3))  # open, pending  # fmt: skip
    replies = (
        1 + rng.lognormal(17, 1.2, 0.8).cast(int) + 2 * pl.col("reopens") + pl.col("reassignments")
    )
    return df.with_columns(agent_replies=pl.when(no_fr).then(0).otherwise(replies), status=status)


def _calls(ctx: _Ctx, n: int, tickets: pl.DataFrame) -> pl.DataFrame:
    rng, qs, skill = _Rng(ctx.seed, 2), list(QUEUES.values()), _skill(ctx.seed)
    team = _lookup(pl.col("queue"), [q[1] for q in qs], pl.Int64)
    team = pl.when((team == 1) & (rng.u(5) < 0.2)).then(2).otherwise(team)
    known = pl.lit(tickets["created"]).search_sorted(pl.col("queued"), side="right")
    ticket = (known.cast(pl.Float64) * (1 - rng.u(8) ** 4)).cast(pl.Int64).clip(0, known - 1)
    df = _arrivals(ctx, n, "calls", rng).select("i", "load", queued="t")
    df = df.with_columns(queue=_pick(rng.u(4), [q[0] for q in qs])).with_columns(
        agent=team * 8 + (rng.u(6) * 8).cast(pl.Int64),
        ticket=pl.when((rng.u(7) < 0.2) & (known > 0)).then(ticket),
        wait=rng.lognormal(9, 9 * pl.col("load").clip(0.4, 2.0) ** 1.5, 1.0).round(),
        patience=(-240 * rng.u(10).log()).round(),
    )
    answered = pl.col("patience") >= pl.col("wait")
    talk_median = 300 * _lookup(pl.col("queue"), [q[2] for q in qs]) * skill
    hold = pl.when(rng.u(13) < 0.6).then(0.0).otherwise(rng.lognormal(14, 60, 0.7).round())
    transfers = _pick(rng.u(16), (0.90, 0.08, 0.02))
    ticket_customer = pl.lit(tickets["customer"]).gather(pl.col("ticket"))
    df = df.with_columns(
        customer=pl.coalesce(ticket_customer, ctx.customer(pl.col("queued"), rng.u(11))),
        answered=pl.when(answered).then(pl.col("queued") + pl.col("wait").cast(pl.Int64)),
        talk_seconds=pl.when(answered).then(rng.lognormal(12, talk_median, 0.6).round()),
        hold_seconds=pl.when(answered).then(hold),
        wrap_seconds=pl.when(answered).then(rng.lognormal(15, 30 * skill, 0.5).round()),
        agent=pl.when(answered).then("agent"),
        transfers=pl.when(answered).then(transfers).otherwise(0),
        resolved=pl.when(answered).then(rng.u(17) < 0.8 - 0.35 * (transfers > 0).cast(float)),
    )
    talk_hold = _int(pl.col("talk_seconds") + pl.col("hold_seconds"))
    ended = pl.coalesce(pl.col("answered") + talk_hold, pl.col("queued") + _int(pl.col("patience")))
    return df.drop("load").with_columns(ended=ended)


def _score(latent: pl.Expr, cuts: Sequence[float]) -> pl.Expr:
    return 1 + pl.sum_horizontal([latent > c for c in cuts]).cast(pl.Int64)


def _sample(frame: pl.DataFrame, keep: pl.Expr, key: int, lo: int, m: int) -> pl.DataFrame:
    """Rows lo..lo+m of a fixed pseudo-random permutation of the rows that pass ``keep``."""
    pool = frame.select(pl.col("i").filter(keep).sort_by(pl.col("i").filter(keep).hash(key)))
    if pool.height == 0:
        raise ValueError("too few resolved tickets/answered calls to attach surveys to")
    rows = pool["i"].gather(pl.int_range(lo, lo + m, eager=True) % pool.height)
    picked = frame.select(pl.all().gather(rows))
    return picked.with_columns(src=pl.col("i"), i=pl.int_range(lo, lo + m, dtype=pl.Int64))


def _surveys(ctx: _Ctx, n: int, tickets: pl.DataFrame, calls: pl.DataFrame) -> pl.DataFrame:
    rng, cutoff = _Rng(ctx.seed, 3), ctx.export - 2 * DAY
    n_csat, n_nps = round(n * 0.60), round(n * 0.25)
    n_ces, n_ct = n - n_csat - n_nps, round(n_csat * 0.8)
    t_ok = pl.col("resolved").is_between(pl.col("created"), cutoff)
    c_ok = pl.col("answered").is_not_null() & (pl.col("ended") < cutoff)
    delay = _int(rng.lognormal(22, 3 * 3600, 1.2).clip(60, 2 * DAY - 60))

    def rows(kind: int, t: pl.Expr, score: pl.Expr, contact: str = "") -> list[pl.Expr]:
        none = pl.lit(None, dtype=pl.Int64)
        return [t.alias("responded"), pl.lit(kind, dtype=pl.Int64).alias("type"),
                score.alias("score"), pl.col("customer"),
                (pl.col("src") if contact == "ticket" else none).alias("ticket"),
                (pl.col("src") if contact == "call" else none).alias("call")]  # fmt: skip

    fr_late = ((pl.col("first_response") - pl.col("created")) / pl.col("fr_norm")).log()
    t_latent = (1.1 + 0.8 * rng.normal(20) - 0.45 * fr_late.clip(-2, 4).fill_null(1.5)
                - 0.9 * pl.col("reopens") - 0.3 * pl.col("reassignments")
                + 0.2 * pl.col("kb_used").cast(float))  # fmt: skip
    c_latent = (1.3 + 0.8 * rng.normal(21) - 0.4 * (pl.col("wait") / 25).log().clip(-2, 3)
                - 0.6 * pl.col("transfers") + 0.5 * pl.col("resolved").cast(float))  # fmt: skip
    ces_latent = (0.8 + rng.normal(24) - 0.5 * pl.col("reassignments") - 0.7 * pl.col("reopens")
                  - 0.1 * pl.col("agent_replies"))  # fmt: skip
    csat_cuts, ces_cuts = (-0.8, -0.4, 0.2, 0.9), (-2.0, -1.6, -1.1, -0.6, 0.0, 0.7)
    after_ticket, after_call = pl.col("resolved") + delay, pl.col("ended") + delay
    nps = _arrivals(ctx, n_nps, "tickets", rng)
    nps = nps.with_columns(customer=ctx.customer(pl.col("t"), rng.u(27)))
    frames = [  # tickets are sampled from one permutation, so csat and ces never share one
        _sample(tickets, t_ok, rng.base + 31, 0, n_ct)
        .select(rows(0, after_ticket, _score(t_latent, csat_cuts), "ticket")),
        _sample(calls, c_ok, rng.base + 32, 0, n_csat - n_ct)
        .select(rows(0, after_call, _score(c_latent, csat_cuts), "call")),
        _sample(tickets, t_ok, rng.base + 31, n_ct, n_ces)
        .select(rows(2, after_ticket, _score(ces_latent, ces_cuts), "ticket")),
        nps.select(rows(1, pl.col("t"), _pick(rng.u(28), NPS_WEIGHTS))),
    ]  # fmt: skip
    df = pl.concat(frames).sort("responded", maintain_order=True).with_columns(i=pl.int_range(n))
    is_csat, score = pl.col("type") == 0, pl.col("score")
    tone = (pl.when(score <= _lookup("type", (2, 6, 3), pl.Int64)).then(2)  # negative
            .when(score <= _lookup("type", (3, 8, 5), pl.Int64)).then(1).otherwise(0))  # fmt: skip
    sizes = [len(c) for c in COMMENTS]
    offset = _lookup(tone, list(accumulate(sizes, initial=0)), pl.Int64)
    code = offset + (rng.u(30) * _lookup(tone, sizes)).cast(pl.Int64)
    return df.with_columns(
        score=pl.when(is_csat & (is_csat.cum_sum() == n_csat // 3 + 1)).then(6).otherwise(score),
        comment=pl.when(rng.u(29) < 0.4).then(code),
    ).with_columns(comment=_label("comment", [c for cs in COMMENTS for c in cs]))


def _ticket_table(
    tk: pl.DataFrame, n: int, customers: int, text: bool, stamp: Callable[[str, str], pl.Expr],
    ids: int | None = None, offset: int = 0,
) -> pl.LazyFrame:  # fmt: skip
    """The export of ``n`` generated tickets; their ids count from ``offset`` + 1, as wide as
    ``ids`` (default ``n``) needs."""
    bad_created = ~pl.col("i").is_in([int(n * f) for f in BAD_CREATED])
    replies = pl.col("agent_replies").cast(pl.String if text else pl.Int64)
    subjects = [s for c in CHANNELS.values() for s in c[3]]
    # fmt: off
    return tk.lazy().with_columns(team=pl.col("agent") // 8).select(
        ticket_id=_ids("T-", "i", n if ids is None else ids, 6, offset),
        created_at=pl.when(bad_created).then(stamp("created", "tickets"))
        .otherwise(pl.lit("not a date") if text else None),
        first_response_at=stamp("first_response", "tickets"),
        resolved_at=stamp("resolved", "tickets"), status=_label("status", STATUSES),
        channel=_label("channel", list(CHANNELS)), assignee=_label("agent", AGENTS),
        team=_label("team", TEAMS), priority=_label("priority", list(PRIORITIES)),
        customer_id=_ids("C-", "customer", customers, 5),
        agent_replies=pl.when(pl.col("i") != int(n * BAD_REPLIES)).then(replies)
        .otherwise(pl.lit("n/a") if text else None),
        reopens="reopens", reassignments="reassignments", kb_used="kb_used",
        subject=_label("subject", subjects),
    )
    # fmt: on


def generate(
    out_dir: Path, *, tickets: int = 20_000, calls: int = 30_000, surveys: int = 8_000,
    customers: int = 6_000, seed: int = 7, fmt: Format = "mixed",
    start: date = date(2026, 1, 1), end: date = date(2026, 6, 30),
) -> dict[str, Path]:  # fmt: skip
    """Write the four tables into ``out_dir``; return the file written per table."""
    if seed < 0 or tickets < 100 or min(calls, customers) < 1 or surveys < 0 or end < start:
        raise ValueError("need seed >= 0, >= 100 tickets, >= 1 call and customer, start <= end")
    tz = ZoneInfo(TZ)
    t0 = int(datetime.combine(start, time(), tz).timestamp())
    export = int(datetime.combine(end + timedelta(days=1), time(), tz).timestamp()) - 1
    cust = _customers(customers, t0, export, seed)
    ctx = _Ctx(seed, t0, export, cust["started"])
    tk = _tickets(ctx, tickets)
    cl = _calls(ctx, calls, tk)
    sv = _surveys(ctx, surveys, tk, cl)
    csv = {t: fmt == "csv" or (fmt == "mixed" and t != "calls") for t in ("tickets", "calls")}
    csv |= {"surveys": fmt != "parquet", "customers": fmt != "parquet"}
    zone_fmt = {"tickets": (TZ, ISO), "calls": ("UTC", ISO), "surveys": (TZ, NAIVE)}

    def stamp(col: str, table: str) -> pl.Expr:
        zone, text_fmt = zone_fmt.get(table, ("UTC", NAIVE))
        return _ts(col).dt.convert_time_zone(zone).dt.strftime(text_fmt) if csv[table] else _ts(col)

    agent, team = _label("agent", AGENTS), _label("team", TEAMS)
    cid, tid = _ids("C-", "customer", customers, 5), _ids("T-", "ticket", tickets, 6)
    # fmt: off
    frames = {
        "tickets": _ticket_table(tk, tickets, customers, csv["tickets"], stamp),
        "calls": cl.lazy().with_columns(team=pl.col("agent") // 8).select(
            call_id=_ids("K-", "i", calls, 7), queued_at=stamp("queued", "calls"),
            answered_at=stamp("answered", "calls"), ended_at=stamp("ended", "calls"),
            talk_seconds="talk_seconds", hold_seconds="hold_seconds",
            wrap_seconds="wrap_seconds", direction=pl.lit("inbound"),
            queue=_label("queue", list(QUEUES)), agent=agent, team=team, customer_id=cid,
            ticket_id=tid, transfers="transfers", resolved="resolved",
        ),
        "surveys": sv.lazy().select(
            response_id=_ids("S-", "i", surveys, 6), responded_at=stamp("responded", "surveys"),
            survey_type=_label("type", SURVEY_TYPES), score="score", comment="comment",
            ticket_id=tid, call_id=_ids("K-", "call", calls, 7), customer_id=cid,
        ),
        "customers": cust.lazy().select(
            customer_id=_ids("C-", "i", customers, 5), started_at=stamp("started", "customers"),
            churned_at=stamp("churned", "customers"), segment=_label("segment", list(SEGMENTS)),
        ),
    }
    # fmt: on
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for table, lf in frames.items():
        path = written[table] = out_dir / f"{table}.{'csv' if csv[table] else 'parquet'}"
        (lf.sink_csv if csv[table] else lf.sink_parquet)(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cscli.sampledata", description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--out", type=Path, required=True, help="output directory")
    for table, default in (("tickets", 20_000), ("calls", 30_000), ("surveys", 8_000)):
        p.add_argument(f"--{table}", type=int, default=default)
    p.add_argument("--customers", type=int, help="default: min(tickets * 0.3, 2_000_000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--format", choices=["mixed", "parquet", "csv"], default="mixed")
    p.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1))
    p.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 30))
    p.add_argument(
        "--months",
        type=int,
        help="tickets only, in this many monthly Parquet files "
        "from --start (see cscli.sampledata_months); --end, --calls, --surveys unused",
    )
    a = p.parse_args(argv)
    customers = a.customers if a.customers is not None else min(round(a.tickets * 0.3), 2_000_000)
    if a.months is not None:
        from cscli.sampledata_months import generate_months

        files = generate_months(
            a.out,
            tickets=a.tickets,
            months=a.months,
            customers=max(customers, 1),
            seed=a.seed,
            start=a.start,
        )
        for path in files:
            print(f"tickets    {path}  ({path.stat().st_size:,} bytes)")
        return 0
    sizes = {k: getattr(a, k) for k in ("tickets", "calls", "surveys", "seed", "start", "end")}
    written = generate(a.out, customers=max(customers, 1), fmt=a.format, **sizes)
    for table, path in written.items():
        print(f"{table:<10} {path}  ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
