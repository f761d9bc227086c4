"""The polars engine: loader, enrichment, kind compiler, stocks, quality counts, business time."""
