"""The KPI registry: built-in definitions, the kind vocabulary and the polars compiler."""
