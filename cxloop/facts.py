"""Which topics land in which ClickHouse fact table, and how a record becomes a row without raw PII."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

FACT_TABLES: dict[str, str] = {
    "interaction-completed": "interactions",
    "survey-decision": "survey_decisions",
    "survey-invitation": "survey_invitations",
    "survey-scored": "survey_scored",
    "detractor-alert": "detractor_alerts",
    "case-event": "case_events",
    "case-escalation": "case_escalations",
    "survey-delivery": "survey_delivery",
    "rolling-aggregate": "rolling_aggregates",
}


def pseudonym(key: bytes, customer_id: str) -> str:
    """A keyed pseudonym: stable per customer for joins and counts, not reversible without the key."""
    return hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()[:32]


def fact_row(record: dict[str, Any], columns: list[str], pseudonym_key: bytes) -> dict[str, Any]:
    """Project a decoded record onto a table's columns; email and phone never reach a column."""
    source = {k: v for k, v in record.items() if k not in ("customer_email", "customer_phone", "customer_id")}
    customer = record.get("customer_id")
    source["customer_key"] = pseudonym(pseudonym_key, customer) if customer else ""  # e.g. a delivery event without
    source.setdefault("locale", record.get("customer_locale", "en"))
    missing = [c for c in columns if c not in source]
    if missing:
        raise KeyError(f"record has no value for column(s) {', '.join(missing)}")
    return {c: source[c] for c in columns}
