"""The survey loop's rules after the invitation: survey ids, how an answer is scored, which answers raise an alert.

Pure functions over the records in `cxloop.model`; the agents call them and do the I/O.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime

from cxloop.model import (
    DetractorAlert,
    InvalidEvent,
    Invitation,
    ScoredResponse,
    SurveyResponse,
)
from cxloop.scoring import SCALES, Metric, ScoreOutOfRange, alert_priority, check_score, classify
from cxloop.themes import ThemeCoder


def survey_id(program_id: str, interaction_id: str) -> str:
    """Deterministic, so a replayed interaction yields the same survey and every duplicate is recognizable."""
    digest = hashlib.sha256(f"{program_id}\x00{interaction_id}".encode()).hexdigest()
    return f"sv_{digest[:24]}"


def score(response: SurveyResponse, invitation: Invitation, now: datetime,
          coder: ThemeCoder | None = None) -> ScoredResponse:
    """Join an answer to its invitation and classify it (and code its comment's themes and sentiment when a coder
    is given); raises InvalidEvent for answers that cannot count."""
    if response.survey_id != invitation.survey_id:
        raise InvalidEvent(f"response for {response.survey_id} joined to invitation {invitation.survey_id}")
    try:
        value = check_score(invitation.metric, response.score)
    except ScoreOutOfRange as exc:
        raise InvalidEvent(f"survey-response: {exc}") from exc
    if response.responded_at > invitation.expires_at:
        raise InvalidEvent(f"survey-response: answered after the survey expired at {invitation.expires_at}")
    metric: Metric = invitation.metric  # type: ignore[assignment]
    scored = ScoredResponse(
        survey_id=invitation.survey_id,
        program_id=invitation.program_id,
        metric=metric,
        score=value,
        category=classify(metric, value),
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
        locale=invitation.locale,
    )
    return with_themes(scored, coder)


def with_themes(scored: ScoredResponse, coder: ThemeCoder | None) -> ScoredResponse:
    """The answer with its comment's themes, praise and sentiment (unchanged without a comment or a coder)."""
    if coder is None or not scored.comment:
        return scored
    coding = coder.code(scored.comment, scored.locale, scored.category)
    return dataclasses.replace(scored, themes=list(coding.themes), praised=list(coding.praised),
                               sentiment=coding.sentiment)


def merge_comment(earlier: ScoredResponse, response: SurveyResponse, now: datetime,
                  coder: ThemeCoder | None = None) -> ScoredResponse | None:
    """One response per survey: the first score stands; a later comment joins it once. None: nothing new."""
    comment = (response.comment or "").strip()
    if not comment or earlier.comment:
        return None
    return with_themes(dataclasses.replace(earlier, comment=comment, scored_at=now), coder)


def alert_draft(scored: ScoredResponse, invitation: Invitation, now: datetime,
                    threshold: int | None = None) -> DetractorAlert:
    """The cases agent's input for an answer: category detractor (alert) for a score at or below `threshold`
    (default: the metric's detractors), promoter for promoters, passive for the rest."""
    metric: Metric = scored.metric  # type: ignore[assignment]
    limit = SCALES[metric].detractor_max if threshold is None else threshold
    if scored.score <= limit:
        category = "detractor"
    elif scored.category == "promoter":
        category = "promoter"  # may be asked to advocate
    else:
        category = "passive"  # may open a lighter case; includes low scores above the program's own threshold
    return DetractorAlert(
        category=category,
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
