"""Benchmarks of cxloop's hot paths: codec and domain rules, ClickHouse landing, the stream worker end to end."""
