"""interaction-completed -> survey-decision (always) and survey-invitation (when invited)."""

from __future__ import annotations

import faust

from agents.pipeline import Pipeline
from cxloop.model import Interaction
from cxloop.surveys import SurveyPolicy, decide


def register(pipe: Pipeline, policy: SurveyPolicy) -> faust.types.AgentT:
    @pipe.app.agent(pipe.topic("interaction-completed"), name="triggers", concurrency=1)
    async def triggers(stream: faust.StreamT) -> None:
        async for event in stream.events():
            async with pipe.per_event(event, "triggers"):
                interaction = pipe.decode(event, Interaction)
                decision, invitation = decide(interaction, policy, pipe.clock.now())
                await pipe.send(decision, key=interaction.customer_id)
                if invitation is not None:
                    await pipe.send(invitation, key=invitation.survey_id)

    return triggers
