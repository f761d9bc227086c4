"""The SQL engines (DuckDB, Spark): KPI kinds compiled to sqlglot trees and rendered per
dialect (`dialect`: the dialect-sensitive functions, written by us; `text`: kind and user SQL
parsed once and rewritten; `compile`: the kinds' aggregates and breach predicates)."""
