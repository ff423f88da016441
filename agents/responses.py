"""survey-response -> survey-scored, and every low score (and passive) to the cases agent, which raises the alert.

Text replies (SMS, WhatsApp, chat) and IVR keypresses are read into a score here: a reply with no readable score is
asked again once on its channel (its words kept for the answer), a score without a comment gets the follow-up probe,
and STOP opts the customer out.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import faust
from faust.types import TableT

from agents.pipeline import Pipeline
from cxloop.clock import epoch_ms
from cxloop.deadletter import UnknownSurvey
from cxloop.directory import Systemic
from cxloop.gateway_messages import TEXT_CHANNELS, outbound_message
from cxloop.model import ConsentChange, InvalidEvent, Invitation, ScoredResponse, SurveyResponse
from cxloop.programs import SurveyPrograms
from cxloop.replies import read_reply
from cxloop.surveys import alert_draft, merge_comment, score
from cxloop.systemic import dimensions_of
from cxloop.themes import ThemeCoder

log = logging.getLogger(__name__)
ASK_AGAIN_AT_MOST = 1


def register(pipe: Pipeline, invitations: TableT, answered: TableT, programs: SurveyPrograms,
             systemic: Systemic, coder: ThemeCoder) -> faust.types.AgentT:
    answers_by_customer = pipe.internal_topic("answers-by-customer")
    alerts_by_customer = pipe.internal_topic("alerts-by-customer")
    by_dimension = pipe.internal_topic("scores-by-dimension")
    replies = pipe.table("replies", help="survey id -> {asked_again, pending_comment} of its text replies")

    async def publish(scored: ScoredResponse, invitation: Invitation, now: datetime) -> bytes:
        """survey-scored, the cases agent's input, the answered table; returns the scored record's Avro bytes."""
        value = pipe.codec.encode(scored.contract, scored.to_record())
        await pipe.topic(scored.contract).send(key=scored.survey_id.encode(), value=value)
        program = programs.by_id(invitation.program_id)
        # The cases agent opens or joins a case and raises the alert on detractor-alert, or asks a promoter.
        draft = alert_draft(scored, invitation, now, program.alert_threshold if program else None)
        await alerts_by_customer.send(key=draft.customer_id.encode(),
                                      value=pipe.codec.encode(draft.contract, draft.to_record()))
        answered[scored.survey_id.encode()] = value
        return value

    async def message(invitation: Invitation, kind: str, now: datetime, score: int | None = None,
                      sequence: int = 0) -> None:
        """Ask again or probe on the channel the survey went out on, when it is a conversation."""
        if invitation.delivery_channel not in (*TEXT_CHANNELS, "chat"):
            return
        outbound = outbound_message(invitation, kind, company=pipe.settings.company_name, now=now,
                                    program=programs.by_id(invitation.program_id), score=score, sequence=sequence)
        await pipe.send(outbound, key=invitation.survey_id, topic=outbound.topic)

    async def read_text(response: SurveyResponse, invitation: Invitation, earlier: ScoredResponse | None,
                        now: datetime) -> SurveyResponse | None:
        """The reply as a scored answer, or None when it was an opt-out or had no score (asked again)."""
        if response.responded_at > invitation.expires_at:
            raise InvalidEvent(f"survey-response: answered after the survey expired at {invitation.expires_at}")
        key = response.survey_id.encode()
        state = json.loads(replies.get(key) or b"{}")
        outcome = read_reply(response, invitation.metric,  # type: ignore[arg-type]
                             earlier.score if earlier else None, state.get("pending_comment"))
        if outcome.opt_out:
            change = ConsentChange(customer_id=invitation.customer_id, status="opted_out", changed_at=now,
                                   reason="stop_reply", source=f"{invitation.delivery_channel}-gateway")
            await pipe.send(change, key=invitation.customer_id)
            return None
        if outcome.answer is not None:
            return outcome.answer
        asked = state.get("asked_again", 0)
        if outcome.ask_again and asked >= ASK_AGAIN_AT_MOST:
            raise InvalidEvent(f"survey-response: no score in the reply {response.reply_text!r}, "
                               f"already asked again {asked} time(s)")
        pending = " ".join(c for c in (state.get("pending_comment"), outcome.pending_comment) if c)
        replies[key] = json.dumps({"asked_again": asked + outcome.ask_again, "pending_comment": pending or None}
                                  ).encode()
        if outcome.ask_again:
            await message(invitation, "clarify", now, sequence=asked + 1)
        return None

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
                earlier_bytes = answered.get(key)
                earlier = (ScoredResponse.from_record(pipe.codec.decode("survey-scored", earlier_bytes))
                           if earlier_bytes is not None else None)
                typed = response.score is None
                if typed:
                    answer = await read_text(response, invitation, earlier, now)
                    if answer is None:
                        continue
                    response = answer
                if earlier is not None:
                    merged = merge_comment(earlier, response, now, coder)
                    if merged is None:
                        log.info("survey %s already answered, duplicate ignored", response.survey_id)
                    else:
                        await publish(merged, invitation, now)
                    continue
                scored = score(response, invitation, now, coder)
                encoded = await publish(scored, invitation, now)
                if typed and scored.comment is None and invitation.delivery_channel in TEXT_CHANNELS:
                    await message(invitation, "follow_up", now, score=scored.score)
                first = json.dumps({"t": epoch_ms(scored.responded_at), "metric": scored.metric,
                                    "score": scored.score, "category": scored.category}).encode()
                for dimension, value in dimensions_of(scored.to_record(), systemic):
                    # stamped with the answer's time: the windowed tables follow it
                    await by_dimension.send(key=f"{dimension}={value}".encode(), value=first,
                                            timestamp=scored.responded_at.timestamp())
                # The triggers stage keeps survey history per customer: caps can start their clock at the answer.
                await answers_by_customer.send(key=scored.customer_id.encode(), value=encoded)

    return responses
