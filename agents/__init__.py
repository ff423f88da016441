"""Faust agents, one module per pipeline stage: decode, call the domain, write."""
