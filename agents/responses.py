"""survey-response -> survey-scored, and detractor-alert for every detractor."""

from __future__ import annotations

import logging
from datetime import datetime

import faust
from faust.types import TableT

from agents.pipeline import Pipeline
from cxloop.deadletter import UnknownSurvey
from cxloop.model import Invitation, ScoredResponse, SurveyResponse
from cxloop.surveys import detractor_alert, merge_comment, score

log = logging.getLogger(__name__)


def register(pipe: Pipeline, invitations: TableT, answered: TableT) -> faust.types.AgentT:
    answers_by_customer = pipe.internal_topic("answers-by-customer")

    async def publish(scored: ScoredResponse, invitation: Invitation, now: datetime) -> None:
        await pipe.send(scored, key=scored.survey_id)
        alert = detractor_alert(scored, invitation, now)
        if alert is not None:
            await pipe.send(alert, key=alert.survey_id)
        answered[scored.survey_id.encode()] = pipe.codec.encode(scored.contract, scored.to_record())

    @pipe.app.agent(pipe.topic("survey-response"), name="responses", concurrency=1)
    async def responses(stream: faust.StreamT) -> None:
        async for event in stream.events():
            async with pipe.per_event(event, "responses"):
                response = pipe.decode(event, SurveyResponse)
                key = response.survey_id.encode()
                stored = invitations.get(key)
                if stored is None:
                    raise UnknownSurvey(f"no invitation known for survey {response.survey_id}")
                invitation = Invitation.from_record(pipe.codec.decode(Invitation.contract, stored))
                now = pipe.clock.now()
                earlier = answered.get(key)
                if earlier is not None:
                    merged = merge_comment(ScoredResponse.from_record(pipe.codec.decode("survey-scored", earlier)),
                                           response, now)
                    if merged is None:
                        log.info("survey %s already answered, duplicate ignored", response.survey_id)
                    else:
                        await publish(merged, invitation, now)
                    continue
                scored = score(response, invitation, now)
                await publish(scored, invitation, now)
                # The triggers stage keeps survey history per customer: caps can start their clock at the answer.
                await answers_by_customer.send(key=scored.customer_id.encode(),
                                               value=pipe.codec.encode(scored.contract, scored.to_record()))

    return responses
