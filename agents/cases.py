"""Low scores -> detractor-alert (enriched) and follow-up cases: case-event log, SLA escalations on case-escalation.

One customer's follow-up state (`follow-ups` table, RocksDB with changelog) holds their recent scores, their open
case and updates that came before their case. Inputs are keyed by customer: the responses agent's alerts (an
internal topic), `case-update` (re-keyed first when a producer keyed it otherwise) and the SLA timer's ticks.
"""

from __future__ import annotations

import faust
from faust.types import EventT

from agents.pipeline import Pipeline
from agents.scheduler import Schedule
from cxloop.cases import Effects, FollowUp, on_alert, on_due, on_update
from cxloop.directory import Directory
from cxloop.model import CaseUpdate, DetractorAlert


def register(pipe: Pipeline, directory: Directory) -> faust.types.AgentT:
    follow_ups = pipe.table("follow-ups", help="customer id -> recent scores, open case, early updates (JSON)")
    schedule = Schedule(pipe, "cases")
    topics = {"alerts": pipe.internal_topic("alerts-by-customer"), "updates": pipe.topic("case-update"),
              "rekeyed": pipe.internal_topic("case-updates-by-customer"), "ticks": schedule.ticks}

    async def publish(key: bytes, state: FollowUp, effects: Effects) -> None:
        follow_ups[key] = state.to_json()
        for event in effects.events:
            await pipe.send(event, key=event.case_id)
        for escalation in effects.escalations:
            await pipe.send(escalation, key=escalation.case_id)
        if effects.alert is not None:
            await pipe.send(effects.alert, key=effects.alert.survey_id)
        if effects.advocacy is not None:
            await pipe.send(effects.advocacy, key=effects.advocacy.customer_id)
        if effects.wake_at is not None:
            schedule.at(key, effects.wake_at)
        else:
            schedule.done(key)

    async def on_alert_event(event: EventT) -> None:
        alert = pipe.decode(event, DetractorAlert)
        key = alert.customer_id.encode()
        state = FollowUp.from_json(follow_ups.get(key))
        await publish(key, state, on_alert(state, alert, directory, pipe.clock.now()))

    async def on_update_event(event: EventT) -> None:
        update = pipe.decode(event, CaseUpdate)
        key = update.customer_id.encode()
        if await pipe.rekeyed(event, key, topics["rekeyed"]):
            return
        state = FollowUp.from_json(follow_ups.get(key))
        await publish(key, state, on_update(state, update, pipe.clock.now()))

    async def on_tick(event: EventT) -> None:
        key = event.message.key or b""
        state = FollowUp.from_json(follow_ups.get(key))
        await publish(key, state, on_due(state, directory, pipe.clock.now()))

    handlers = {"alerts": on_alert_event, "updates": on_update_event, "rekeyed": on_update_event, "ticks": on_tick}
    return pipe.agent("cases", {topics[kind]: handler for kind, handler in handlers.items()})
