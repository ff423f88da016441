"""survey-invitation -> the survey at its send time, once per survey id, and at most one reminder to those who have
not answered: by email (outbox or SendGrid), or as a message on the channel gateway's topic (survey-outbound-sms,
-whatsapp, -ivr, -chat)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime

import faust
from faust.types import EventT, TableT

from agents.pipeline import Pipeline
from agents.scheduler import Schedule
from cxloop.clock import epoch_ms, from_epoch_ms
from cxloop.gateway_messages import outbound_message
from cxloop.model import Invitation
from cxloop.programs import SurveyPrograms
from cxloop.survey_email import build_survey_email
from cxloop.tokens import SurveyToken, TokenSigner
from sinks.email import EmailSender

log = logging.getLogger(__name__)
REMINDED = ("email", "sms", "whatsapp")  # a call back or a message into a closed chat would intrude


def register(
    pipe: Pipeline, invitations: TableT, answered: TableT, sender: EmailSender, signer: TokenSigner,
    programs: SurveyPrograms,
) -> faust.types.AgentT:
    dispatched = pipe.table("dispatched", help="survey id -> {ref, reminder_at, reminded}; replays are not re-sent")
    schedule = Schedule(pipe, "dispatch")

    def load(key: bytes) -> Invitation | None:
        stored = invitations.get(key)
        return Invitation.from_record(pipe.codec.decode(Invitation.contract, stored)) if stored else None

    def next_wakeup(invitation: Invitation) -> datetime | None:
        """When this survey next needs the dispatcher: its send time, its reminder, or never."""
        sent = dispatched.get(invitation.survey_id.encode())
        if sent is None:
            return invitation.send_at
        state = json.loads(sent)
        if state.get("reminder_at") and not state.get("reminded"):
            return from_epoch_ms(state["reminder_at"])
        return None

    async def send(invitation: Invitation, reminder: bool) -> str:
        token = signer.sign(
            SurveyToken(invitation.survey_id, invitation.metric, invitation.expires_at, invitation.locale,
                        invitation.program_id, invitation.customer_id)
        )
        program = programs.by_id(invitation.program_id)
        if invitation.delivery_channel != "email":
            message = outbound_message(
                invitation, "reminder" if reminder else "invitation", company=pipe.settings.company_name,
                now=pipe.clock.now(), program=program, survey_url=f"{pipe.settings.public_url.rstrip('/')}/r/{token}",
            )
            await pipe.send(message, key=invitation.survey_id, topic=message.topic)
            return message.message_id
        email = build_survey_email(invitation, token, pipe.settings.public_url, pipe.settings.company_name,
                                   program=program, reminder=reminder)
        return await asyncio.to_thread(sender.send, email)

    async def advance(invitation: Invitation) -> None:
        """Do whatever is due now for this survey, then wake up for what comes next."""
        key = invitation.survey_id.encode()
        now = pipe.clock.now()
        sent = dispatched.get(key)
        if sent is None and now >= invitation.expires_at:
            log.warning("survey %s expired at %s before it could be sent", invitation.survey_id, invitation.expires_at)
            dispatched[key] = json.dumps({"ref": None, "expired": True}).encode()
        elif sent is None and invitation.send_at <= now:
            reference = await send(invitation, reminder=False)
            program = programs.by_id(invitation.program_id)
            after = program.timing.reminder_after if program and invitation.delivery_channel in REMINDED else None
            reminder_at = invitation.send_at + after if after else None
            if reminder_at is not None and reminder_at >= invitation.expires_at:
                reminder_at = None
            reminder_ms = epoch_ms(reminder_at) if reminder_at else None
            dispatched[key] = json.dumps({"ref": reference, "reminder_at": reminder_ms, "reminded": False}).encode()
        elif sent is not None:
            state = json.loads(sent)
            due = state.get("reminder_at")
            if due and not state["reminded"] and due <= epoch_ms(now) and now < invitation.expires_at:
                if answered.get(key) is None:
                    await send(invitation, reminder=True)
                state["reminded"] = True
                dispatched[key] = json.dumps(state).encode()
        wakeup = next_wakeup(invitation)
        if wakeup is not None and wakeup > now:
            schedule.at(key, wakeup)
        else:
            schedule.done(key)

    async def on_invitation(event: EventT) -> None:
        invitation = pipe.decode(event, Invitation)
        invitations[invitation.survey_id.encode()] = event.message.value
        await advance(invitation)

    async def on_tick(event: EventT) -> None:
        invitation = load(event.message.key or b"")
        if invitation is not None:
            await advance(invitation)

    return pipe.agent("dispatch", {pipe.topic("survey-invitation"): on_invitation, schedule.ticks: on_tick})
