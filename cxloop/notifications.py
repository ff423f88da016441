"""What a case owner receives: a Slack-compatible webhook call, signed, and an email.

The webhook body is Slack's incoming-webhook JSON (`text` and `blocks`) plus a `case` object for machines. It is
signed like Stripe and Slack sign theirs: `X-Cxloop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">` with the shared secret, so a receiver can check origin and refuse replays by the timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from typing import Any

from cxloop.directory import Person
from cxloop.model import CaseEvent
from cxloop.survey_email import SurveyEmail

NOTIFIED = ("opened", "attached", "escalated")
HEADLINE = {
    "opened": "New follow-up case",
    "attached": "Another low score on your open case",
    "escalated": "Case escalated to you: not contacted in time",
}


def summary(event: CaseEvent) -> str:
    where = ", ".join(x for x in (event.team_id, event.agent_id, event.contact_reason, event.interaction_channel) if x)
    return (f"{HEADLINE[event.event]}: {event.case_id}, {event.metric.upper()} {event.score} from customer "
            f"{event.customer_id} ({where}); priority {event.priority}, contact by {event.due_at:%Y-%m-%d %H:%M} UTC")


def webhook_body(event: CaseEvent, person: Person) -> bytes:
    text = summary(event)
    note = f"\n> {event.note}" if event.note else ""
    payload: dict[str, Any] = {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{HEADLINE[event.event]}*\n{text}{note}"}}],
        "case": {**{k: v for k, v in event.to_record().items() if k in (
            "event_id", "case_id", "customer_id", "event", "status", "owner_id", "level", "priority", "metric",
            "score", "survey_id", "team_id", "agent_id", "queue", "contact_reason")},
                 "due_at": event.due_at.isoformat(), "owner_name": person.name},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: bytes, body: bytes, header: str, now: int, max_age: int = 300) -> bool:
    """For receivers (and tests): the header's MAC matches and its timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or abs(now - int(parts["t"])) > max_age:
        return False
    return hmac.compare_digest(signature(secret, body, int(parts["t"])), header)


def owner_email(event: CaseEvent, person: Person) -> SurveyEmail:
    if not person.email:
        raise ValueError(f"{person.id} has no email address")
    text = summary(event) + (f"\n\nComment: {event.note}" if event.note else "")
    return SurveyEmail(
        survey_id=event.event_id, to=person.email, subject=f"[cxloop] {HEADLINE[event.event]}: {event.case_id}",
        text=text, html=f"<p>{html.escape(text).replace(chr(10), '<br>')}</p>", kind="case", customer_id="",
    )
