"""The survey loop's rules: who is invited, how an answer is scored, which answers raise an alert.

Pure functions over the records in `cxloop.model`; the agents call them and do the I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cxloop.model import (
    DetractorAlert,
    Interaction,
    InvalidEvent,
    Invitation,
    ScoredResponse,
    SurveyDecision,
    SurveyResponse,
)
from cxloop.scoring import Metric, ScoreOutOfRange, alert_priority, check_score, classify

# Until survey programs are configurable, each trigger gets the metric CX teams usually use for it:
# effort after self-service and transfers, satisfaction after a ticket or chat, NPS after calls and escalations.
DEFAULT_METRIC_BY_TRIGGER: dict[str, Metric] = {
    "call_end": "nps",
    "escalation": "nps",
    "ticket_solved": "csat",
    "chat_end": "csat",
    "transfer": "ces",
    "self_service_end": "ces",
    "bot_session_end": "ces",
}


@dataclass(frozen=True)
class SurveyPolicy:
    """The walking skeleton's single program: survey every interaction that has an email address."""

    metric_by_trigger: dict[str, Metric] = field(default_factory=lambda: dict(DEFAULT_METRIC_BY_TRIGGER))
    delay: timedelta = timedelta(0)
    expiry: timedelta = timedelta(days=7)

    def program_for(self, interaction: Interaction) -> tuple[str, Metric]:
        metric = self.metric_by_trigger.get(interaction.trigger, "csat")
        return f"default-{metric}", metric


def survey_id(program_id: str, interaction_id: str) -> str:
    """Deterministic, so a replayed interaction yields the same survey and every duplicate is recognizable."""
    digest = hashlib.sha256(f"{program_id}\x00{interaction_id}".encode()).hexdigest()
    return f"sv_{digest[:24]}"


def decide(
    interaction: Interaction, policy: SurveyPolicy, now: datetime
) -> tuple[SurveyDecision, Invitation | None]:
    program_id, metric = policy.program_for(interaction)
    sid = survey_id(program_id, interaction.interaction_id)
    send_at = max(interaction.ended_at + policy.delay, now)
    expires_at = interaction.ended_at + policy.delay + policy.expiry

    def decision(outcome: str, detail: str, invited: bool = False) -> SurveyDecision:
        return SurveyDecision(
            interaction_id=interaction.interaction_id,
            customer_id=interaction.customer_id,
            outcome=outcome,
            channel=interaction.channel,
            decided_at=now,
            program_id=program_id,
            survey_id=sid if invited else None,
            detail=detail,
        )

    if not interaction.customer_email:
        return decision("no_contact", "no email address on the interaction"), None
    if now >= expires_at:
        return decision("expired", f"interaction ended {interaction.ended_at.isoformat()}, past expiry"), None
    invitation = Invitation(
        survey_id=sid,
        program_id=program_id,
        metric=metric,
        interaction_id=interaction.interaction_id,
        customer_id=interaction.customer_id,
        delivery_channel="email",
        created_at=now,
        send_at=send_at,
        expires_at=expires_at,
        interaction_channel=interaction.channel,
        trigger=interaction.trigger,
        interaction_ended_at=interaction.ended_at,
        customer_email=interaction.customer_email,
        customer_phone=interaction.customer_phone,
        locale=interaction.customer_locale,
        handled_by=interaction.handled_by,
        agent_id=interaction.agent_id,
        agent_name=interaction.agent_name,
        team_id=interaction.team_id,
        queue=interaction.queue,
        contact_reason=interaction.contact_reason,
        handle_time_seconds=interaction.handle_time_seconds,
        wait_time_seconds=interaction.wait_time_seconds,
        transfers=interaction.transfers,
        resolved=interaction.resolved,
    )
    return decision("invited", f"sampled 100% into {program_id}", invited=True), invitation


def score(response: SurveyResponse, invitation: Invitation, now: datetime) -> ScoredResponse:
    """Join an answer to its invitation and classify it; raises InvalidEvent for answers that cannot count."""
    if response.survey_id != invitation.survey_id:
        raise InvalidEvent(f"response for {response.survey_id} joined to invitation {invitation.survey_id}")
    try:
        check_score(invitation.metric, response.score)
    except ScoreOutOfRange as exc:
        raise InvalidEvent(f"survey-response: {exc}") from exc
    if response.responded_at > invitation.expires_at:
        raise InvalidEvent(f"survey-response: answered after the survey expired at {invitation.expires_at}")
    metric: Metric = invitation.metric  # type: ignore[assignment]
    return ScoredResponse(
        survey_id=invitation.survey_id,
        program_id=invitation.program_id,
        metric=metric,
        score=response.score,
        category=classify(metric, response.score),
        source=response.source,
        responded_at=response.responded_at,
        scored_at=now,
        interaction_id=invitation.interaction_id,
        customer_id=invitation.customer_id,
        delivery_channel=invitation.delivery_channel,
        interaction_channel=invitation.interaction_channel,
        trigger=invitation.trigger,
        handled_by=invitation.handled_by,
        interaction_ended_at=invitation.interaction_ended_at,
        comment=(response.comment or "").strip() or None,
        agent_id=invitation.agent_id,
        team_id=invitation.team_id,
        queue=invitation.queue,
        contact_reason=invitation.contact_reason,
        handle_time_seconds=invitation.handle_time_seconds,
        wait_time_seconds=invitation.wait_time_seconds,
        transfers=invitation.transfers,
        resolved=invitation.resolved,
    )


def detractor_alert(scored: ScoredResponse, invitation: Invitation, now: datetime) -> DetractorAlert | None:
    if scored.category != "detractor":
        return None
    metric: Metric = scored.metric  # type: ignore[assignment]
    return DetractorAlert(
        alert_id=scored.survey_id,
        survey_id=scored.survey_id,
        raised_at=now,
        priority=alert_priority(metric, scored.score),
        metric=metric,
        score=scored.score,
        responded_at=scored.responded_at,
        customer_id=scored.customer_id,
        interaction_id=scored.interaction_id,
        interaction_channel=scored.interaction_channel,
        comment=scored.comment,
        themes=list(scored.themes),
        customer_email=invitation.customer_email,
        customer_phone=invitation.customer_phone,
        agent_id=invitation.agent_id,
        agent_name=invitation.agent_name,
        team_id=invitation.team_id,
        queue=invitation.queue,
        contact_reason=invitation.contact_reason,
    )
