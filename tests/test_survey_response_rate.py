"""survey_response_rate (issue 17): survey responses / survey invitations, from the
survey_invitations source (one row per invitation, responded_at empty while unanswered),
placed by sent_at. Every value below is worked out by hand from INVITATIONS."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cscli import api
from cscli.cli import app
from tests.helpers import row, totals, vn

Write = Callable[[str, str], Path]

# The export time is the newest sent_at or responded_at: 2026-03-14T09:00 (i3's response).
# Seconds observed after sending: i1 12d, i2 11d, i3 10d, i4 9d, i5 8d, i6 2d, i7 1d.
# i1 answered after 1 h, i3 after 10 d, i4 after 1 d, i7 after 3 h; i2, i5, i6 unanswered.
# i8 has the unknown type "survey" (a finding, excluded); i9 has no sent_at (a finding, dropped).
INVITATIONS = """\
    invitation_id,sent_at,survey_type,responded_at,agent
    i3,2026-03-04T09:00:00Z,csat,2026-03-14T09:00:00Z,Bob
    i1,2026-03-02T09:00:00Z,csat,2026-03-02T10:00:00Z,Amy
    i2,2026-03-03T09:00:00Z,csat,,Amy
    i4,2026-03-05T09:00:00Z,nps,2026-03-06T09:00:00Z,Bob
    i5,2026-03-06T09:00:00Z,nps,,Bob
    i6,2026-03-12T09:00:00Z,nps,,Amy
    i7,2026-03-13T09:00:00Z,csat,2026-03-13T12:00:00Z,Amy
    i8,2026-03-07T09:00:00Z,survey,,Amy
    i9,,csat,,Amy
"""
SOURCES = "sources:\n  survey_invitations: {path: invitations.csv}\n"
KPIS = (
    "kpis:\n"
    "  - {id: rr, kpi: survey_response_rate}\n"
    "  - {id: rr_csat, kpi: survey_response_rate, survey_type: csat, window: 14d}\n"
    "  - {id: rr_ces, kpi: survey_response_rate, survey_type: ces}\n"
)


@pytest.fixture
def config(write: Write) -> Path:
    write("invitations.csv", INVITATIONS)
    return write("cscli.yaml", SOURCES + KPIS)


def test_response_rate_over_judged_invitations(config: Path) -> None:
    t = totals(api.report(config))
    # window 7d: i6 (unanswered, seen 2d) is open; judged i1 i2 i3 i4 i5 i7 = 6; answered
    # within 7d: i1, i4, i7 (i3 took 10d) → 3/6 = 0.5; open share 1 of the 7 typed = 1/7
    assert vn(t, "rr") == (pytest.approx(0.5), 6)
    assert t["rr__open"] == pytest.approx(1 / 7)
    # csat only, window 14d: i2 (unanswered, seen 11d < 14d) is open; judged i1 i3 i7, all
    # answered within 14d → 3/3 = 1.0; open share 1 of 4
    assert vn(t, "rr_csat") == (pytest.approx(1.0), 3)
    assert t["rr_csat__open"] == pytest.approx(1 / 4)
    # no ces invitation at all → no value, n 0
    assert vn(t, "rr_ces") == (None, 0)


def test_response_rate_by_survey_type(config: Path) -> None:
    result = api.report(config, by=["survey_type"])
    # csat: i1 i2 i3 i7 all seen ≥ 7d or answered; answered within 7d: i1, i7 → 2/4
    csat = row(result, survey_type="csat")
    assert vn(csat, "rr") == (pytest.approx(0.5), 2 * 2)
    # nps: i6 open; judged i4 i5; answered i4 → 1/2, open 1/3
    nps = row(result, survey_type="nps")
    assert vn(nps, "rr") == (pytest.approx(0.5), 2)
    assert nps["rr__open"] == pytest.approx(1 / 3)
    # rr_csat in the nps group: no csat invitation there → null
    assert vn(nps, "rr_csat") == (None, 0)


def test_unknown_type_and_missing_sent_at_are_findings(config: Path) -> None:
    issues = {(q.source, q.issue): q.rows for q in api.report(config).data_quality}
    unknown = "survey_type: survey type not one of csat, nps, ces, asat"
    assert issues[("survey_invitations", unknown)] == 1
    assert issues[("survey_invitations", "sent_at: missing value (required)")] == 1


def test_cli_report_json(config: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", "-c", str(config), "--kpi", "survey_response_rate", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    got = doc["totals"]["kpis"]["survey_response_rate"]
    # as rr above: 3 of 6 judged invitations answered within 7 days
    assert (got["value"], got["n"]) == (pytest.approx(0.5), 6)


def test_a_response_before_its_invitation_is_left_out(write: Write) -> None:
    # a answered an hour before it was sent (a finding, excluded); b answered after 1 h; c is
    # unanswered and seen 0 s (the export time is its own sent_at) → open
    write(
        "invitations.csv",
        """\
        invitation_id,sent_at,survey_type,responded_at
        a,2026-03-01T09:00:00Z,csat,2026-03-01T08:00:00Z
        b,2026-03-02T09:00:00Z,csat,2026-03-02T10:00:00Z
        c,2026-03-20T09:00:00Z,csat,
        """,
    )
    result = api.report(write("cscli.yaml", SOURCES + KPIS))
    t = totals(result)
    # judged: b only → 1/1; open share: c, 1 of the 2 kept
    assert vn(t, "rr") == (pytest.approx(1.0), 1)
    assert t["rr__open"] == pytest.approx(1 / 2)
    issues = {(q.source, q.issue): q.rows for q in result.data_quality}
    assert issues[("survey_invitations", "responded_at before sent_at")] == 1


def test_survey_type_as_a_constant_of_the_source(write: Write) -> None:
    # an export of nps invitations only, with its own column names
    write(
        "inv.csv",
        """\
        id,sent,answered
        a,2026-03-01T09:00:00Z,2026-03-01T10:00:00Z
        b,2026-03-02T09:00:00Z,
        c,2026-03-20T09:00:00Z,
        """,
    )
    path = write(
        "cscli.yaml",
        "sources:\n  survey_invitations: {path: inv.csv, survey_type: nps, columns: "
        "{invitation_id: id, sent_at: sent, responded_at: answered}}\n",
    )
    result = api.report(path, kpis=["survey_response_rate"], by=["survey_type"])
    # a answered (1 h), b unanswered and seen 18 d ≥ 7 d, c seen 0 s → open: 1/2, open 1/3
    nps = row(result, survey_type="nps")
    assert vn(nps, "survey_response_rate") == (pytest.approx(0.5), 2)
    assert nps["survey_response_rate__open"] == pytest.approx(1 / 3)


# (hours after the start the invitation is sent, hours to its response or None, type)
INVITATION = st.tuples(
    st.integers(0, 24 * 30),
    st.none() | st.integers(0, 24 * 12),
    st.sampled_from(["csat", "nps"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(INVITATION, min_size=1, max_size=25))
def test_response_rate_matches_duckdb(rows: list[tuple[int, int | None, str]]) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)

    def stamp(hours: int) -> str:
        return (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    lines = ["sent_at,survey_type,responded_at"]
    lines += [f"{stamp(s)},{kind},{'' if r is None else stamp(s + r)}" for s, r, kind in rows]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "invitations.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        path = folder / "cscli.yaml"
        path.write_text(
            SOURCES + "kpis:\n  - {id: rr, kpi: survey_response_rate, window: 3d}\n",
            encoding="utf-8",
        )
        t = totals(api.report(path))
        # the same definition in SQL, over the hours: export time = newest sent or response
        con = duckdb.connect()
        con.execute("CREATE TABLE inv (sent INTEGER, resp INTEGER)")
        con.executemany(
            "INSERT INTO inv VALUES (?, ?)", [(s, None if r is None else s + r) for s, r, _ in rows]
        )
        judged, answered, total = con.execute(
            """
            WITH e AS (SELECT max(greatest(sent, coalesce(resp, sent))) AS export FROM inv),
            j AS (
                SELECT resp IS NOT NULL AND resp - sent <= 72 AS answered,
                       (resp IS NOT NULL AND resp - sent <= 72) OR export - sent >= 72 AS judged
                FROM inv, e
            )
            SELECT count(*) FILTER (WHERE judged), count(*) FILTER (WHERE judged AND answered),
                   count(*)
            FROM j
            """
        ).fetchone()
    assert t["rr__n"] == judged
    if judged == 0:
        assert t["rr"] is None
    else:
        assert t["rr"] == pytest.approx(answered / judged)
    assert t["rr__open"] == pytest.approx((total - judged) / total)


def test_a_report_without_kpis_shows_the_response_rate(write: Write) -> None:
    write("invitations.csv", INVITATIONS)
    result = api.report(write("cscli.yaml", SOURCES))
    # the default KPIs of a survey_invitations source: the response rate, as rr above
    assert [s.kpi.id for s in result.kpis] == ["survey_response_rate"]
    assert vn(totals(result), "survey_response_rate") == (pytest.approx(0.5), 6)


def test_init_proposes_the_invitations_source_with_its_type(write: Write) -> None:
    folder = write(
        "exports/nps_invitations.csv",
        "invitation_id,sent_at,responded_at\na,2026-03-01T09:00:00Z,\n",
    ).parent
    result = CliRunner().invoke(app, ["init", "--print", str(folder)])
    assert result.exit_code == 0, result.output
    assert "survey_invitations:" in result.stdout
    assert "survey_type: nps   # every invitation is of this type" in result.stdout
