"""Realistic records for the unit tests: one call, one chat, one transfer, and what the survey loop makes of them.

Times are whole milliseconds so they survive Avro's timestamp-millis unchanged. Decisions come from the programs in
`tests/programs/survey-everything.yaml` (every interaction with an email is invited at once) unless a test builds
its own programs with `rules_of`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cxloop.cases import FollowUp, on_alert, on_due
from cxloop.contact_policy import CustomerState
from cxloop.decisions import TriggerRules, Verdict
from cxloop.directory import Directory, Person, Route, Team
from cxloop.model import CaseUpdate, DetractorAlert, Interaction, Invitation, SurveyResponse
from cxloop.programs import SurveyPrograms, load_programs
from cxloop.scoring import Metric
from cxloop.tokens import TokenSigner

SURVEY_EVERYTHING = Path(__file__).resolve().parent.parent / "programs" / "survey-everything.yaml"
EVERYTHING = TriggerRules(load_programs(SURVEY_EVERYTHING))

ENDED_AT = datetime(2025, 3, 4, 9, 30, 15, 250_000, tzinfo=timezone.utc)
DECIDED_AT = ENDED_AT + timedelta(minutes=1)

# A trigger whose program in survey-everything.yaml asks each metric.
TRIGGER_FOR: dict[Metric, tuple[str, str]] = {
    "nps": ("call_end", "voice"),
    "csat": ("chat_end", "chat"),
    "ces": ("transfer", "voice"),
}


def interaction_record(**overrides: Any) -> dict[str, Any]:
    """An interaction as the Avro decoder hands it over: every field of the contract present."""
    record: dict[str, Any] = {
        "interaction_id": "genesys-call-000123",
        "source_system": "genesys",
        "trigger": "call_end",
        "channel": "voice",
        "started_at": ENDED_AT - timedelta(minutes=9, seconds=30),
        "ended_at": ENDED_AT,
        "customer_id": "cust-00042",
        "customer_email": "maria.lopez@example.org",
        "customer_phone": "+34600111222",
        "customer_locale": "en-GB",
        "customer_timezone": "Europe/Madrid",
        "customer_segment": "consumer",
        "handled_by": "human",
        "agent_id": "agent-ava",
        "agent_name": "Ava",
        "team_id": "team-north",
        "queue": "voice-billing",
        "contact_reason": "billing",
        "handle_time_seconds": 420,
        "wait_time_seconds": 150,
        "transfers": 1,
        "resolved": True,
        "first_contact_resolution": False,
    }
    record.update(overrides)
    return record


def interaction(**overrides: Any) -> Interaction:
    return Interaction.from_record(interaction_record(**overrides))


def interaction_for(metric: Metric, **overrides: Any) -> Interaction:
    trigger, channel = TRIGGER_FOR[metric]
    return interaction(trigger=trigger, channel=channel, **overrides)


def rules_of(*programs: dict[str, Any], **settings: Any) -> TriggerRules:
    """Trigger rules from programs written in the test, as they would be in the YAML file."""
    return TriggerRules(SurveyPrograms.model_validate({"programs": list(programs), **settings}))


def decide(
    source: Interaction, now: datetime = DECIDED_AT, rules: TriggerRules = EVERYTHING,
    state: CustomerState | None = None,
) -> Verdict:
    """One decision for a customer with no history unless `state` is given."""
    return rules.decide(source, state if state is not None else CustomerState(), now)


def invitation_for(metric: Metric, **overrides: Any) -> Invitation:
    """The invitation the survey-everything programs make for an interaction whose trigger asks `metric`."""
    invitation = decide(interaction_for(metric, **overrides)).invitation
    assert invitation is not None and invitation.metric == metric
    return invitation


def response_to(invitation: Invitation, score: int, **overrides: Any) -> SurveyResponse:
    fields: dict[str, Any] = {
        "survey_id": invitation.survey_id,
        "score": score,
        "source": "email_click",
        "responded_at": invitation.send_at + timedelta(hours=2),
        "comment": "The agent was kind but I had to call twice.",
    }
    fields.update(overrides)
    return SurveyResponse(**fields)


def replace(record: Any, **changes: Any) -> Any:
    return dataclasses.replace(record, **changes)


def signer(keys: dict[str, bytes] | None = None, active: str = "k2025") -> TokenSigner:
    return TokenSigner(keys or {"k2025": b"unit-test-signing-secret-2025"}, active)


def interaction_at(ended_at: datetime, **overrides: Any) -> Interaction:
    """The sample call, ended at `ended_at`, with an interaction id of its own unless one is given."""
    overrides.setdefault("interaction_id", f"call-{ended_at:%Y%m%dT%H%M%S}")
    return interaction(started_at=ended_at - timedelta(minutes=5), ended_at=ended_at, **overrides)


def case_records(alert_record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An update, the case's opening event and an SLA escalation, as the cases rules make them for this alert."""
    directory = Directory(people=(Person(id="lead", name="Lead"), Person(id="head", name="Head")), head="head",
                          teams=(Team(id="team-north", lead="lead"),), routes=(Route(owner="team_lead"),))
    alert = DetractorAlert.from_record(alert_record)
    at = alert.raised_at
    state = FollowUp()
    opened = on_alert(state, alert, directory, at)
    escalated = on_due(state, directory, at + timedelta(days=2))
    update = CaseUpdate(case_id=opened.events[0].case_id, customer_id=alert.customer_id, actor="lead",
                        updated_at=at + timedelta(days=2, hours=1), status="resolved", outcome="issue_fixed",
                        root_cause="process", note="refund issued")
    return update.to_record(), opened.events[0].to_record(), escalated.escalations[0].to_record()

