"""`event_log:`: a source with one row per event, reduced to one record per case; and, with
`event_log.ticket_events:`, the same events read again as the canonical `ticket_events`.

`EventLogConfig` is the shape; `check_log_events` is its meaning (the config's one
`Problems` collector); `with_log_events` gives the config the `ticket_events` source the log
implies: the same files read the way the tickets source reads them, with the case as
`ticket_id`, the event time as `at` and the mapped status as `status`, so that every engine,
`validate` and `ingest` read it as any other status history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cscli.adapters import ADAPTERS
from cscli.schema import TICKET_STATUSES
from cscli.suggest import did_you_mean

if TYPE_CHECKING:
    from cscli.config.models import SourceConfig
    from cscli.config.problems import Problems


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _keys_as_text(value: object) -> object:
    """Coded activities (`1: new`, as YAML reads an unquoted number) are text like any other."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int | float) else k: v for k, v in value.items()}
    return value


def check_mapping(
    value: dict[str, str], allowed: Sequence[str], plural: str, label: str = ""
) -> dict[str, str]:
    """A mapping of an export's values onto canonical names (`statuses:` here, `states:` of
    agent states): each target is one of `allowed` (trimmed, any case)."""
    for name, target in value.items():
        canonical = str(target).strip().lower()
        if canonical not in allowed:
            raise ValueError(
                f"{label}{name!r} maps to {target!r}{did_you_mean(canonical, allowed)}; "
                f"{plural} are " + ", ".join(allowed)
            )
    return value


class LogEventsConfig(_Model):
    """The log's events as `ticket_events` (one status event per row of the log).

    `status` names the column holding each event's status (the log's `activity` unless set);
    `statuses` maps its values (compared trimmed and case-insensitively) onto new, open,
    pending, hold, solved and closed. A value neither mapped nor canonical is kept lower-cased
    and counted as a finding. Without `statuses`, a preset's own status mapping for
    ticket_events (servicenow) applies. `actor`, `group` and `assignee` name the columns of
    the optional canonical columns.
    """

    status: str | None = None
    statuses: dict[str, str] = Field(default_factory=dict)
    actor: str | None = None
    group: str | None = None
    assignee: str | None = None

    _text_keys = field_validator("statuses", mode="before")(
        classmethod(lambda cls, v: _keys_as_text(v))
    )
    _statuses = field_validator("statuses")(
        classmethod(lambda cls, v: check_mapping(v, TICKET_STATUSES, "ticket statuses"))
    )


class EventLogConfig(_Model):
    """A log with one row per event (status change, update) reduced to one row per case.

    created_at = the case's first event; first_response_at = its first event whose activity is
    in `first_response`; resolved_at = when it entered its final run of `resolved` activities
    (null when its last event is not one); reopens = events in `reopened`, or, without that
    list, moves from a resolved activity back to another; reassignments = events in
    `reassigned`. Every other column takes its value at the case's last event. A `columns:`
    mapping of the source wins over these derived values. `ticket_events:` (on the tickets
    source) also reads every event as the ticket's status history.
    """

    case: str
    timestamp: str
    activity: str | None = None
    first_response: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    #: activities that end a case without a resolution (cancelled, rejected): closed_at is
    #: when the case entered its final run of them; backlog drains it then
    closed: tuple[str, ...] = ()
    reopened: tuple[str, ...] = ()
    reassigned: tuple[str, ...] = ()
    timestamp_format: str | None = None
    ticket_events: LogEventsConfig | None = None


def check_log_events(sources: Mapping[str, SourceConfig], problems: Problems) -> None:
    """`event_log.ticket_events` only on the tickets source, not beside a ticket_events source
    of its own, and with a status column to read."""
    for name, cfg in sources.items():
        log = cfg.event_log
        if log is None or log.ticket_events is None:
            continue
        path = ("sources", name, "event_log", "ticket_events")
        if name != "tickets":
            problems.add(
                path,
                f"event_log.ticket_events belongs to the tickets source, not {name!r}: the "
                "events of a ticket log are the tickets' status history",
                key=True,
                hint=f"remove ticket_events from sources.{name}.event_log",
            )
        elif "ticket_events" in sources:
            problems.add(
                path,
                "sources.ticket_events is configured too: the status history comes from one "
                "of them",
                key=True,
                hint="remove event_log.ticket_events, or the ticket_events source",
            )
        elif (log.ticket_events.status or log.activity) is None and (
            log.ticket_events.statuses or not _preset_status(cfg)
        ):
            problems.add(
                path,
                "the events need a status: no column holds one",
                key=True,
                hint="set event_log.activity, or event_log.ticket_events.status (the column "
                "holding each event's status)",
            )


def with_log_events(sources: Mapping[str, SourceConfig]) -> dict[str, SourceConfig]:
    """The sources, with the `ticket_events` source a tickets `event_log.ticket_events`
    implies (after `check_log_events` found nothing)."""
    out = dict(sources)
    tickets = sources.get("tickets")
    if tickets is None or tickets.event_log is None or tickets.event_log.ticket_events is None:
        return out
    if "ticket_events" not in sources:
        out["ticket_events"] = events_source(tickets)
    return out


def events_source(cfg: SourceConfig) -> SourceConfig:
    """The tickets source's files read as `ticket_events`: the same reading settings (files,
    format, zone, encoding, null values), the log's columns as the canonical ones. The
    tickets' own `columns:`, `filter:`, `extra_columns:` and calendar are about tickets and
    are not carried over (a filtered-out ticket's history is never joined to a ticket)."""
    log = cfg.event_log
    assert log is not None and log.ticket_events is not None
    events = log.ticket_events
    columns = {"ticket_id": log.case, "at": log.timestamp}
    column = events.status or log.activity
    if events.statuses and column is not None:
        columns["status"] = status_sql(column, events.statuses)
    elif events.status is not None or (column is not None and not _preset_status(cfg)):
        assert column is not None
        columns["status"] = column
    for canonical in ("actor", "group", "assignee"):
        given = getattr(events, canonical)
        if given is not None:
            columns[canonical] = given
    fmt = log.timestamp_format or (
        cfg.timestamp_format if isinstance(cfg.timestamp_format, str) else None
    )
    return cfg.model_copy(
        update={
            "adapter": cfg.adapter if _preset_events(cfg) else "generic",
            "columns": columns,
            "extra_columns": (),
            "filter": None,
            "calendar": None,
            "event_log": None,
            "timestamp_format": fmt,
            "survey_type": None,
            "states": {},
        }
    )


def status_sql(column: str, statuses: Mapping[str, str]) -> str:
    """SQL mapping the values of `column` (trimmed, case-insensitive) onto the statuses; any
    other value lower-cased as it is (then counted by the status finding)."""
    value = f'lower(trim(CAST("{column.replace(chr(34), chr(34) * 2)}" AS VARCHAR)))'
    whens = " ".join(
        f"WHEN {_literal(k.strip().lower())} THEN {_literal(v.strip().lower())}"
        for k, v in statuses.items()
    )
    return f"CASE {value} {whens} ELSE {value} END"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _preset_events(cfg: SourceConfig) -> bool:
    """The tickets' preset reads status histories in the log's own shape (ServiceNow's audit
    log); a preset whose history is another table (Zendesk's ticket_field_history) does not."""
    adapter = ADAPTERS[cfg.adapter]
    return "ticket_events" in adapter.column_map and "ticket_events" not in adapter.metadata_rows


def _preset_status(cfg: SourceConfig) -> bool:
    return _preset_events(cfg) and "status" in ADAPTERS[cfg.adapter].column_map["ticket_events"]
