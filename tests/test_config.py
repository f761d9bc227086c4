"""Config loading: every error names file:line:column; all problems are reported in one go."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cscli.config import find_config, load_config
from cscli.errors import ConfigError

Write = Callable[[str, str], Path]


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


def test_minimal_config_defaults(write: Write) -> None:
    cfg = load_config(write("cscli.yaml", "sources:\n  tickets: {path: t.csv}\n"))
    assert cfg.timezone == "UTC"
    assert cfg.sources["tickets"].paths == ("t.csv",)
    assert not cfg.kpis_explicit
    assert {k.id for k in cfg.kpis} >= {"ticket_volume", "csat", "service_level"}


def test_yaml_syntax_error_has_position(write: Write) -> None:
    path = write("cscli.yaml", "sources:\n  tickets: {path: t.csv\n")
    [msg] = problems(path)
    assert msg.startswith(f"{path}:3:1: invalid YAML")


def test_unknown_key_did_you_mean(write: Write) -> None:
    path = write(
        "cscli.yaml",
        """
        sources:
          tickets:
            path: t.csv
            colums: {agent: Assignee}
        """,
    )
    assert problems(path) == [
        f"{path}:4:5: unknown key 'colums' in sources.tickets (did you mean 'columns'?)"
    ]


def test_wrong_type_has_position(write: Write) -> None:
    path = write("cscli.yaml", "sources:\n  tickets: {path: t.csv, extra_columns: 3}\n")
    [msg] = problems(path)
    assert msg.startswith(f"{path}:2:41: sources.tickets.extra_columns: Input should be a list")


def test_all_problems_in_one_go(write: Write) -> None:
    path = write(
        "cscli.yaml",
        """
        version: 1
        timezone: Mars/Olympus
        sources:
          tickets: {path: t.csv}
          survey: {path: s.csv}
        kpis:
          - frist_response_time
          - {id: csat, params: {satisfied_mni: 4}}
          - {id: frt_p90, kpi: first_response_time, stat: p900}
        report: {grain: weekly}
        checks:
          - {kpi: csat, fail: "< 80m"}
          - {kpi: nope, fail: "< 1"}
        """,
    )
    found = problems(path)
    assert len(found) == 8
    assert found[0].startswith(f"{path}:2:11: timezone: unknown time zone 'Mars/Olympus'")
    assert f"{path}:5:3: unknown source 'survey' (did you mean 'surveys'?)" in found[1]
    assert (
        "7:5: unknown KPI 'frist_response_time' (did you mean 'first_response_time'?)" in (found[2])
    )
    assert (
        "8:25: unknown parameter 'satisfied_mni' for csat (did you mean 'satisfied_min'?)"
        in (found[3])
    )
    assert "9:51: frt_p90.stat: expected mean, median, min, max or pNN" in found[4]
    assert "10:17: report.grain:" in found[5]
    assert "12:23: fail: 80m is a duration but the KPI is measured in ratio" in found[6]
    assert "13:11: check needs `kpi:` naming a KPI of the report; 'nope' is not one" in found[7]


def test_missing_sources_key(write: Write) -> None:
    path = write("cscli.yaml", "timezone: UTC\n")
    assert problems(path) == [f"{path}:1:1: missing required key 'sources'"]


def test_duplicate_key_is_an_error(write: Write) -> None:
    path = write("cscli.yaml", "sources:\n  tickets: {path: a.csv}\n  tickets: {path: b.csv}\n")
    assert f"{path}:3:3: duplicate key 'tickets'" in problems(path)


def test_python_tags_are_refused(write: Write) -> None:
    # yaml.safe_load semantics: no object construction from the config
    path = write("cscli.yaml", "sources: !!python/object/apply:os.system ['true']\n")
    [msg] = problems(path)
    assert "invalid YAML" in msg


def test_kpi_params_and_custom_kpis(write: Write) -> None:
    cfg = load_config(
        write(
            "cscli.yaml",
            """
            sources: {tickets: {path: t.csv}, calls: {path: c.csv}}
            kpis:
              - {id: frt_p90, kpi: first_response_time, stat: p90}
              - {id: service_level, params: {threshold: 30s, abandons: met}}
              - {id: replies, source: tickets, sql: "avg(agent_replies)", unit: count}
              - {id: reopen_share, source: tickets, type: ratio, numerator: "reopens > 0"}
            """,
        )
    )
    frt = cfg.kpi("frt_p90")
    assert frt.params["stat"] == "p90" and frt.title == "First response time (stat=p90)"
    sl = cfg.kpi("service_level")
    assert sl.params["threshold"] == 30.0 and "within 30s" in sl.definition
    assert cfg.kpi("replies").unit == "count" and cfg.kpi("replies").anchor == "created_at"
    assert cfg.kpi("reopen_share").unit == "ratio"


def test_custom_kpi_sql_is_parsed_at_load(write: Write) -> None:
    path = write(
        "cscli.yaml",
        """
        sources: {tickets: {path: t.csv}}
        kpis:
          - {id: broken, source: tickets, sql: "avg(agent_replies"}
        """,
    )
    [msg] = problems(path)
    assert "3:5: KPI 'broken': cannot parse its SQL" in msg


def test_checks_are_parsed(write: Write) -> None:
    cfg = load_config(
        write(
            "cscli.yaml",
            """
            sources: {tickets: {path: t.csv}}
            checks:
              - {kpi: first_response_time, fail: "> 1h", warn: "> 45m"}
              - {kpi: csat, by: [channel], fail: "between 0.5 and 0.8", min_count: 30}
            """,
        )
    )
    frt, csat = cfg.checks
    assert frt.fail is not None and frt.fail.low.value == 3600
    assert frt.warn is not None and frt.warn.low.value == 2700
    assert frt.line == 3
    assert csat.by == ("channel",) and csat.min_count == 30


def test_lookup_order(write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write("explicit.yaml", "sources: {}\n")
    from_env = write("env.yaml", "sources: {}\n")
    local = write("cscli.yaml", "sources: {}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CSCLI_CONFIG", str(from_env))
    assert find_config(explicit) == explicit
    assert find_config(None) == from_env
    monkeypatch.delenv("CSCLI_CONFIG")
    assert find_config(None).resolve() == local.resolve()
    local.unlink()
    with pytest.raises(ConfigError, match="no config file found") as info:
        find_config(None)
    assert info.value.hint is not None and "--demo" in info.value.hint


# --- hostile YAML (issue #12) ---------------------------------------------------------------


def test_alias_bomb_is_bounded(write: Write) -> None:
    # nine levels of nine aliases would expand to 9⁹ ≈ 387 million strings (GBs of memory)
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    path = write("cscli.yaml", "sources: {tickets: {path: t.csv}}\n" + "\n".join(lines) + "\n")
    [msg] = problems(path)
    assert "invalid YAML: the config expands to more than 20,000 values" in msg
    assert msg.startswith(f"{path}:")


def test_too_many_aliases(write: Write) -> None:
    refs = ", ".join(["*x"] * 101)  # one more than MAX_YAML_ALIASES
    path = write("cscli.yaml", f"sources: {{tickets: {{path: t.csv}}}}\nx: &x 1\ny: [{refs}]\n")
    [msg] = problems(path)
    # the 101st alias: "y: [" is 4 characters and each "*x, " another 4 → column 5 + 100·4
    assert msg == f"{path}:3:405: invalid YAML: more than 100 aliases (*name)"


def test_recursive_alias_is_an_error(write: Write) -> None:
    path = write("cscli.yaml", "sources: {tickets: {path: t.csv}}\nx: &a [*a]\n")
    [msg] = problems(path)
    assert msg.startswith(f"{path}:2:") and "an alias refers to a value that contains it" in msg


def test_deep_nesting_is_an_error_with_its_position(write: Write) -> None:
    path = write("cscli.yaml", "sources: {tickets: {path: t.csv}}\nx: " + "[" * 5000 + "]" * 5000)
    [msg] = problems(path)
    # the root mapping is level 1 and x's list level 2, so the 50th "[" opens level 51:
    # column 3 ("x: ") + 50
    assert msg == f"{path}:2:53: invalid YAML: nested deeper than 50 levels"


@pytest.mark.parametrize(("char", "name"), [("\0", "a NUL character"), ("\x07", "U+0007")])
def test_nul_and_control_characters_are_config_errors(write: Write, char: str, name: str) -> None:
    path = write("cscli.yaml", f"sources:\n  tickets: {{path: t{char}.csv}}\n")
    [msg] = problems(path)
    # "  tickets: {path: t" is 19 characters: the character is at column 20
    assert msg.startswith(f"{path}:2:20: invalid YAML: ") and name in msg


def test_oversized_config_is_refused(write: Write) -> None:
    path = write("cscli.yaml", "sources: {tickets: {path: t.csv}}\n# " + "x" * 1_000_000 + "\n")
    [msg] = problems(path)
    assert "the limit is 1,000,000" in msg


@pytest.mark.parametrize("zone", ["posixrules", "localtime", "Factory"])
def test_zones_that_polars_cannot_use_are_config_errors(write: Write, zone: str) -> None:
    path = write("cscli.yaml", f"timezone: {zone}\nsources: {{tickets: {{path: t.csv}}}}\n")
    [msg] = problems(path)
    assert msg.startswith(f"{path}:1:11: timezone: time zone {zone!r} is not one cscli")


@pytest.mark.parametrize(
    ("kpi_id", "why"),
    [
        ("period", "report column or dimension"),
        ("scope", "report column or dimension"),
        ("channel", "report column or dimension"),
        ("Brand", "report column or dimension"),  # an extra column, usable as a dimension
        ("csat__n", "ends in __n"),
        ("csat__prev", "ends in __prev"),
    ],
)
def test_kpi_ids_that_collide_with_internal_names(write: Write, kpi_id: str, why: str) -> None:
    path = write(
        "cscli.yaml",
        f"""
        sources: {{tickets: {{path: t.csv, extra_columns: [Brand]}}}}
        kpis:
          - {{id: {kpi_id}, source: tickets, sql: "avg(agent_replies)"}}
        """,
    )
    [msg] = problems(path)
    assert msg.startswith(f"{path}:3:10: KPI id {kpi_id!r}") and why in msg


def test_kpi_id_that_is_another_kpis_flat_column(write: Write) -> None:
    path = write(
        "cscli.yaml",
        """
        sources: {tickets: {path: t.csv}}
        kpis:
          - ticket_volume
          - {id: ticket_volume_n, source: tickets, sql: "count(*)"}
        """,
    )
    [msg] = problems(path)
    assert msg.startswith(f"{path}:4:5: KPI id 'ticket_volume_n' is the name of 'ticket_volume'")


def test_a_key_with_brackets_is_an_unknown_key_not_a_crash(write: Write) -> None:
    # found by tests/test_hostile_config.py: "[" made the key look like a pydantic union tag
    path = write("cscli.yaml", "s[ources: null\n")
    assert problems(path) == [
        f"{path}:1:1: missing required key 'sources'",
        f"{path}:1:1: unknown key 's[ources' (did you mean 'sources'?)",
    ]


@pytest.mark.parametrize("zone", ["a" * 5000, "../../etc/passwd", "/etc/localtime"])
def test_zone_names_that_are_paths_or_too_long(write: Write, zone: str) -> None:
    path = write("cscli.yaml", f"timezone: '{zone}'\nsources: {{tickets: {{path: t.csv}}}}\n")
    [msg] = problems(path)
    assert msg.startswith(f"{path}:1:11: timezone: unknown time zone")


ADAPTER_LIST = (
    "adapters are generic, zendesk, freshdesk, intercom, servicenow, amazon_connect, "
    "genesys_cloud, qualtrics, delighted, twilio_taskrouter, fivetran_zendesk"
)


def test_unknown_adapter_is_a_config_problem_with_its_position(write: Write) -> None:
    # reported at load among the other problems, not when the source is read
    path = write(
        "cscli.yaml",
        """
        timezone: Mars/Olympus
        sources:
          tickets: {path: t.csv, adapter: zendsk}
          calls: {path: c.csv, adapter: nope}
        """,
    )
    # "  tickets: {path: t.csv, adapter: " is 34 characters: the name is at column 35;
    # "  calls: {path: c.csv, adapter: " is 32
    assert problems(path) == [
        f"{path}:1:11: timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as "
        "UTC or Europe/Berlin)",
        f"{path}:3:35: sources.tickets.adapter: unknown adapter 'zendsk' (did you mean "
        f"'zendesk'?); {ADAPTER_LIST}",
        f"{path}:4:33: sources.calls.adapter: unknown adapter 'nope'; {ADAPTER_LIST}",
    ]


def test_known_adapters_load(write: Write) -> None:
    cfg = load_config(write("cscli.yaml", "sources:\n  tickets: {path: t.csv, adapter: zendesk}\n"))
    assert cfg.sources["tickets"].adapter == "zendesk"


def test_values_of_the_wrong_type_are_problems_not_crashes(write: Write) -> None:
    # found by comparing the loader before and after the config package: each of these raised
    # a TypeError (an int given to the did-you-mean; a list looked up in a mapping)
    path = write(
        "cscli.yaml",
        """
        sources: {tickets: {path: t.csv}}
        kpis:
          - {id: x, sql: "count(*)", source: [tickets]}
          - {id: s, kpi: sentiment, source: [messages]}
        report: {kpis: [5]}
        """,
    )
    # "  - {id: x, sql: \"count(*)\", source: " is 37 characters, "  - {id: s, kpi: sentiment,
    # source: " 36 and "report: {kpis: [" 16
    assert problems(path) == [
        f"{path}:3:38: custom KPI 'x' needs `source:` one of tickets, calls, surveys, "
        "customers, messages, agent_states, ticket_comments, ticket_events, "
        "survey_invitations",
        f"{path}:4:37: sentiment reads one of surveys, messages, tickets, not ['messages']",
        f"{path}:5:17: report.kpis[0]: Input should be a valid string",
    ]
