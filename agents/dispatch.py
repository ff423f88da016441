"""survey-invitation -> the survey email (outbox or SendGrid), once per survey id."""

from __future__ import annotations

import asyncio
import logging

import faust
from faust.types import TableT

from agents.pipeline import Pipeline
from cxloop.model import Invitation
from cxloop.survey_email import build_survey_email
from cxloop.tokens import SurveyToken, TokenSigner
from sinks.email import EmailSender

log = logging.getLogger(__name__)


def register(
    pipe: Pipeline, invitations: TableT, sender: EmailSender, signer: TokenSigner
) -> faust.types.AgentT:
    dispatched = pipe.table("dispatched", help="survey id -> delivery reference; replays are not re-sent")

    @pipe.app.agent(pipe.topic("survey-invitation"), name="dispatch", concurrency=1)
    async def dispatch(stream: faust.StreamT) -> None:
        async for event in stream.events():
            async with pipe.per_event(event, "dispatch"):
                invitation = pipe.decode(event, Invitation)
                key = invitation.survey_id.encode()
                invitations[key] = event.message.value
                if dispatched.get(key) is not None:
                    log.info("survey %s already sent, replay skipped", invitation.survey_id)
                    continue
                token = signer.sign(
                    SurveyToken(invitation.survey_id, invitation.metric, invitation.expires_at, invitation.locale)
                )
                email = build_survey_email(
                    invitation, token, pipe.settings.public_url, pipe.settings.company_name
                )
                reference = await asyncio.to_thread(sender.send, email)
                dispatched[key] = reference.encode()

    return dispatch
