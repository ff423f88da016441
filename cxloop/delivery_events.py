"""SendGrid Event Webhook payloads as cxloop delivery events, and which of them suppress future surveys.

SendGrid posts a JSON array of events; `custom_args` set on the send (survey_id, customer_id) come back as keys of
each event. Hard bounces, unsubscribes and spam reports become opt-outs: never survey that customer again.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from cxloop.model import ConsentChange, InvalidEvent, SurveyDelivery

SUPPRESSING = {"unsubscribe": "unsubscribe", "group_unsubscribe": "unsubscribe", "spamreport": "spam_report"}


def parse_sendgrid_events(body: bytes) -> list[dict[str, Any]]:
    try:
        events = json.loads(body)
    except ValueError as exc:
        raise InvalidEvent(f"webhook body is not JSON: {exc}") from exc
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise InvalidEvent("webhook body must be a JSON array of event objects")
    return events


def delivery_of(event: dict[str, Any]) -> SurveyDelivery | None:
    """The delivery event for one SendGrid event; None for events of mail cxloop did not send (no survey_id)."""
    survey_id = event.get("survey_id")
    if not survey_id:
        return None
    kind = str(event.get("event", ""))
    if event.get("event") == "bounce" and event.get("type") == "blocked":
        kind = "blocked"  # a soft bounce: the address may work later
    try:
        occurred = datetime.fromtimestamp(int(event["timestamp"]), timezone.utc)
        event_id = str(event["sg_event_id"] or "")
        if not event_id:
            raise ValueError("empty sg_event_id")
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"SendGrid event for {survey_id} lacks a valid timestamp or sg_event_id") from exc
    return SurveyDelivery(
        survey_id=str(survey_id), customer_id=event.get("customer_id"), event=kind, provider="sendgrid",
        provider_event_id=event_id, occurred_at=occurred, reason=str(event.get("reason") or ""),
    )


def suppression_of(delivery: SurveyDelivery) -> ConsentChange | None:
    """Hard bounces, unsubscribes and spam reports stop all future surveys to that customer."""
    reason = SUPPRESSING.get(delivery.event) or ("hard_bounce" if delivery.event == "bounce" else None)
    if reason is None or not delivery.customer_id:
        return None
    return ConsentChange(customer_id=delivery.customer_id, status="opted_out", changed_at=delivery.occurred_at,
                         reason=reason, source=delivery.provider)
