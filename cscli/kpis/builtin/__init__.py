"""The built-in KPI definitions, one module per subject; `cscli.kpis.catalog` assembles them.

tickets, calls, surveys, sentiment (survey comments by default; message or ticket texts with
`source:`), messages (social), contacts (tickets and calls together) and customers; `common`
holds what they share.
"""
