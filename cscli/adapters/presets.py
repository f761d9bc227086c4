"""Vendor presets: each maps one export, as the vendor writes it, onto a canonical table.

One entry per export family; `cscli.engine.polars.loader` does the reading. Every entry says
where its column names come from. Names match case-insensitively and ignore a trailing
time-zone suffix (`Conversation started at (Europe/Paris)`), so a preset survives the small
spelling differences between an export dialog and its documentation. A preset column the file
lacks is simply not mapped; a source's own `columns:` always win. docs/presets.md describes
each preset for users (a test keeps it in step with this module).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cscli.adapters.base import Adapter, Offset, Sql

ZENDESK = Adapter(
    name="zendesk",
    description="Zendesk Support ticket export (CSV)",
    source=(
        "Zendesk help centre, 'Exporting data to a JSON, CSV, or XML file' (article "
        "4408886165402): the CSV ticket export's columns (Id, Requester, Assignee, Group, "
        "Status, Priority, Via, Created at, Solved at, Replies, Reopens, Group stations, "
        "First reply time in minutes, …), written in the account's time zone"
    ),
    column_map={
        "tickets": {
            "ticket_id": "Id",
            "created_at": "Created at",
            "resolved_at": "Solved at",
            "status": "Status",
            "channel": "Via",
            "agent": "Assignee",
            "team": "Group",
            "priority": "Priority",
            "customer_id": ("Requester id", "Requester"),
            "agent_replies": "Replies",
            "reopens": "Reopens",
            # a station is each group a ticket has been in, the first one included
            "reassignments": Sql(
                'CASE WHEN TRY_CAST("Group stations" AS INTEGER) > 0 '
                'THEN TRY_CAST("Group stations" AS INTEGER) - 1 END'
            ),
            "subject": "Subject",
            # Zendesk tags hold no spaces (it turns them into underscores) and are lower-case;
            # the CSV export lists a ticket's tags separated by spaces
            "tags": "Tags",
        },
        # Fivetran's Zendesk `ticket_comment` table joined with `user` for the author's role
        # (fivetran dbt_zendesk int_zendesk__comments_enriched: 'end-user' and 'not set' are
        # the customer, agent and admin are internal)
        "ticket_comments": {
            "comment_id": "id",
            "ticket_id": "ticket_id",
            "created_at": "created",
            "public": "public",
            "author": ("user_name", "user_id"),
            "author_role": Sql(
                "CASE WHEN lower(trim(user_role)) IN ('end-user', 'not set') THEN 'end_user' "
                "WHEN lower(trim(user_role)) IN ('agent', 'admin') THEN 'agent' "
                "ELSE user_role END"
            ),
        },
        # fivetran's zendesk source, table ticket_field_history (one row per field change);
        # only its status rows are status events (metadata_rows drops the other fields)
        "ticket_events": {
            "ticket_id": "ticket_id",
            "at": "updated",
            "status": "value",
            "actor": "user_id",
        },
    },
    metadata_rows={"ticket_events": "\"field_name\" <> 'status'"},
    list_separator={"tickets": " "},
    offsets={
        "tickets": {
            # "the time between ticket creation and the first public agent comment, in minutes"
            "first_response_at": Offset("created_at", ("First reply time in minutes",), 60.0),
        }
    },
)

FRESHDESK = Adapter(
    name="freshdesk",
    description="Freshdesk ticket export (Tickets → Export, CSV)",
    source=(
        "Freshdesk's ticket export dialog (Tickets → Export): Ticket ID, Subject, Status, "
        "Priority, Source, Type, Agent, Group, Created time, Resolved time, Closed time, "
        "Initial response time, First response time (in hrs), Agent interactions, Customer "
        "interactions, Tags; contact fields such as Contact ID when ticked"
    ),
    column_map={
        "tickets": {
            "ticket_id": "Ticket ID",
            "created_at": "Created time",
            "first_response_at": "Initial response time",
            "resolved_at": ("Resolved time", "Closed time"),
            "status": "Status",
            "priority": "Priority",
            "channel": "Source",
            "agent": "Agent",
            "team": "Group",
            "customer_id": "Contact ID",
            "agent_replies": "Agent interactions",
            "subject": "Subject",
            "tags": "Tags",  # comma-separated in the export
        }
    },
)

INTERCOM = Adapter(
    name="intercom",
    description="Intercom conversations report export (CSV)",
    source=(
        "Intercom help centre, 'Reporting metrics & attributes' (article 7022438), "
        "Conversations dataset: Conversation ID, Conversation started at, Conversation first "
        "replied at, Conversation last/first closed at, Current conversation state, Channel, "
        "Teammate currently assigned, Team currently assigned. The CSV export appends the "
        "workspace time zone to timestamp headers, e.g. 'Conversation started at "
        "(America/New_York)'; cscli reads those stamps in that zone"
    ),
    column_map={
        "tickets": {
            "ticket_id": "Conversation ID",
            "created_at": "Conversation started at",
            "first_response_at": "Conversation first replied at",
            "resolved_at": ("Conversation last closed at", "Conversation first closed at"),
            "status": "Current conversation state",
            "channel": "Channel",
            "agent": "Teammate currently assigned",
            "team": "Team currently assigned",
        }
    },
)

#: ServiceNow incident states → the status vocabulary of ticket_events (awaiting the caller
#: is pending; awaiting a problem, vendor or evidence is on hold); other states stay as they are
SERVICENOW_STATES = (
    'CASE lower(trim("incident_state")) '
    "WHEN 'new' THEN 'new' WHEN 'active' THEN 'open' WHEN 'in progress' THEN 'open' "
    "WHEN 'awaiting user info' THEN 'pending' WHEN 'awaiting caller' THEN 'pending' "
    "WHEN 'awaiting problem' THEN 'hold' WHEN 'awaiting vendor' THEN 'hold' "
    "WHEN 'awaiting evidence' THEN 'hold' WHEN 'on hold' THEN 'hold' "
    "WHEN 'resolved' THEN 'solved' WHEN 'closed' THEN 'closed' "
    'ELSE lower(trim("incident_state")) END'
)

SERVICENOW = Adapter(
    name="servicenow",
    description="ServiceNow incident list export (CSV; field names or labels)",
    source=(
        "ServiceNow incident table [incident] fields (number, opened_at, resolved_at, state, "
        "contact_type, assignment_group, assigned_to, priority, caller_id, reassignment_count, "
        "reopen_count, short_description, description); a list exported with labels has "
        "Number, Opened, Resolved, State, Channel, Assignment group, Assigned to, …"
    ),
    column_map={
        "tickets": {
            "ticket_id": ("number", "Number"),
            "created_at": ("opened_at", "Opened"),
            "resolved_at": ("resolved_at", "Resolved"),
            "status": ("state", "incident_state", "Incident state"),
            "channel": ("contact_type", "Channel", "Contact type"),
            "agent": ("assigned_to", "Assigned to"),
            "team": ("assignment_group", "Assignment group"),
            "priority": "priority",
            "customer_id": ("caller_id", "Caller"),
            "reopens": ("reopen_count", "Reopen count"),
            "reassignments": ("reassignment_count", "Reassignment count"),
            "subject": ("short_description", "Short description"),
            "description": "description",
        },
        # the incident audit log (one row per update, as the UCI event log has it): its
        # incident_state in Zendesk's status vocabulary
        "ticket_events": {
            "ticket_id": ("number", "Number"),
            "at": ("sys_updated_at", "Updated"),
            "status": Sql(SERVICENOW_STATES),
            "actor": ("sys_updated_by", "Updated by"),
            "group": ("assignment_group", "Assignment group"),
            "assignee": ("assigned_to", "Assigned to"),
        },
    },
)

AMAZON_CONNECT = Adapter(
    name="amazon_connect",
    description="Amazon Connect contact records, flattened to CSV/JSONL (Agent.*, Queue.*)",
    source=(
        "Amazon Connect Administrator Guide, 'Data model for Amazon Connect contact records': "
        "ContactId, InitiationMethod, InitiationTimestamp, DisconnectTimestamp, "
        "Queue.EnqueueTimestamp, Queue.Name, Agent.ConnectedToAgentTimestamp, Agent.Username, "
        "Agent.AgentInteractionDuration, Agent.CustomerHoldDuration, "
        "Agent.AfterContactWorkDuration (durations in whole seconds), CustomerEndpoint.Address; "
        "nested fields flattened with dots, as Athena/Glue and Kinesis Firehose exports do"
    ),
    column_map={
        "calls": {
            "call_id": "ContactId",
            "queued_at": "Queue.EnqueueTimestamp",
            "answered_at": "Agent.ConnectedToAgentTimestamp",
            "ended_at": "DisconnectTimestamp",
            "talk_seconds": "Agent.AgentInteractionDuration",
            "hold_seconds": "Agent.CustomerHoldDuration",
            "wrap_seconds": "Agent.AfterContactWorkDuration",
            # INBOUND, OUTBOUND, TRANSFER, CALLBACK, API, …: only INBOUND counts as offered
            "direction": "InitiationMethod",
            "queue": "Queue.Name",
            "agent": "Agent.Username",
            "customer_id": "CustomerEndpoint.Address",
        }
    },
)

GENESYS_CLOUD = Adapter(
    name="genesys_cloud",
    description="Genesys Cloud Interactions view export (Performance → Interactions, CSV)",
    source=(
        "Genesys Cloud Interactions view export: Conversation ID, Date (conversation start), "
        "Direction, Media Type, Queue, Users - Interacted, Abandoned (YES/NO), Total Queue, "
        "Total Talk, Total Hold, Total ACW (milliseconds), Transfers. Column names as "
        "Genesys' 'View available columns in performance views' lists them for the "
        "Interactions view"
    ),
    column_map={
        "calls": {
            "call_id": "Conversation ID",
            "queued_at": "Date",
            "talk_seconds": "Total Talk",
            "hold_seconds": "Total Hold",
            "wrap_seconds": "Total ACW",
            "direction": "Direction",
            "queue": ("Queue", "First Queue"),
            "agent": "Users - Interacted",
            "transfers": "Transfers",
        }
    },
    offsets={
        "calls": {
            # answered = conversation start + time in queue, for calls not abandoned
            "answered_at": Offset("queued_at", ("Total Queue",), 0.001, "\"Abandoned\" = 'NO'"),
        }
    },
    scale={"calls": {"talk_seconds": 0.001, "hold_seconds": 0.001, "wrap_seconds": 0.001}},
)


def _qualtrics_questions(table: str, header: Sequence[str]) -> dict[str, str]:
    """Qualtrics names questions by id; an NPS question `Q7` comes with a `Q7_NPS_GROUP`
    column (promoter/passive/detractor): its score is `Q7`, and the survey type is nps."""
    if table != "surveys":
        return {}
    names = set(header)
    for h in header:
        m = re.fullmatch(r"(.+)_NPS_GROUP", h)
        if m and m.group(1) in names:
            return {"score": m.group(1), "survey_type": "nps"}
    return {}


QUALTRICS = Adapter(
    name="qualtrics",
    description="Qualtrics survey responses export (CSV, with its question-text rows)",
    source=(
        "Qualtrics support, 'Understanding your dataset' and 'Download data': the response "
        "export's fields StartDate, EndDate, Status, Progress, Duration (in seconds), Finished, "
        "RecordedDate, ResponseId, ExternalReference, DistributionChannel, UserLanguage, then "
        "one column per question id (Q1, Q2, …; an NPS question adds Q#_NPS_GROUP). Under the "
        "header the CSV has a row of question texts and a row of ImportId JSON"
    ),
    column_map={
        "surveys": {
            "responded_at": ("RecordedDate", "EndDate"),
            "response_id": "ResponseId",
        }
    },
    metadata_rows={"surveys": "\"ResponseId\" = 'Response ID' OR \"ResponseId\" LIKE '{%'"},
    infer=_qualtrics_questions,
    hints={
        "score": "Qualtrics names questions by id: map the rating question with "
        '`columns: {score: "Q1"}` and set `survey_type:` (csat, ces, …) on sources.surveys',
    },
)

DELIGHTED = Adapter(
    name="delighted",
    description="Delighted-style NPS responses (id, person, score, comment, created_at)",
    source=(
        "Delighted API, 'List survey responses' (GET /v1/survey_responses): id, person, "
        "survey_type, score, comment, permalink, created_at and updated_at (Unix seconds), as "
        "a CSV or JSON export of that endpoint has them; without survey_type every response "
        "is NPS"
    ),
    column_map={
        "surveys": {
            "response_id": "id",
            "responded_at": "created_at",
            "score": "score",
            "comment": "comment",
            "customer_id": "person",
            "survey_type": "survey_type",
        }
    },
    timestamp_format="%s",
    survey_type="nps",
)

TWILIO_TASKROUTER = Adapter(
    name="twilio_taskrouter",
    description="Twilio TaskRouter worker activity events (worker.activity.update, flattened)",
    source=(
        "Twilio docs, 'TaskRouter Events reference' (twilio.com/docs/taskrouter/api/event/"
        "reference) and Event Streams 'Worker' event types (twilio.com/docs/events/event-types/"
        "taskrouter/worker): a worker.activity.update event's sid, timestamp, worker_sid, "
        "worker_name, worker_activity_name, worker_previous_activity_name and "
        "worker_time_in_previous_activity (seconds); one event per activity change, so a "
        "state lasts until the worker's next event"
    ),
    column_map={
        "agent_states": {
            "state_id": ("sid", "Sid"),
            "agent": ("worker_name", "WorkerName", "worker_sid", "WorkerSid"),
            "state": ("worker_activity_name", "WorkerActivityName"),
            "started_at": ("timestamp", "Timestamp"),
        }
    },
)


FIVETRAN_ZENDESK = Adapter(
    name="fivetran_zendesk",
    description="Zendesk Support as Fivetran lands it in a warehouse (table `ticket`)",
    source=(
        "Fivetran's Zendesk Support connector schema, as documented by the dbt package "
        "fivetran/dbt_zendesk_source (models/src_zendesk.yml): table ticket with id, "
        "created_at, status, priority, via_channel, assignee_id, group_id, requester_id, "
        "subject, _fivetran_deleted"
    ),
    column_map={
        "tickets": {
            "ticket_id": "id",
            "created_at": "created_at",
            "status": "status",
            "priority": "priority",
            "channel": "via_channel",
            "agent": "assignee_id",
            "team": "group_id",
            "customer_id": "requester_id",
            "subject": "subject",
        }
    },
    # a ticket Fivetran marks deleted (deleted in Zendesk) is not a record any more
    metadata_rows={
        "tickets": "lower(CAST(\"_fivetran_deleted\" AS VARCHAR)) IN ('true', 't', '1')"
    },
)

PRESETS: tuple[Adapter, ...] = (
    ZENDESK,
    FRESHDESK,
    INTERCOM,
    SERVICENOW,
    AMAZON_CONNECT,
    GENESYS_CLOUD,
    QUALTRICS,
    DELIGHTED,
    TWILIO_TASKROUTER,
    FIVETRAN_ZENDESK,
)
