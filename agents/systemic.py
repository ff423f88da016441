"""First scores per team, queue, contact reason and theme -> case-escalation (kind systemic) on a spike.

The responses agent publishes each first score once per dimension value it counts under, keyed by that value, to an
internal topic; this agent keeps each value's rolling window (`dimension-windows` table) and raises the spike.
"""

from __future__ import annotations

import json

import faust
from faust.types import EventT

from agents.pipeline import Pipeline
from cxloop.clock import from_epoch_ms
from cxloop.directory import Directory
from cxloop.model import CaseEscalation
from cxloop.systemic import DimensionWindow, observe


def register(pipe: Pipeline, directory: Directory) -> faust.types.AgentT:
    windows = pipe.table("dimension-windows", help="dimension=value -> answer counts per time bucket (JSON)")
    rules = directory.systemic

    async def on_answer(event: EventT) -> None:
        key = event.message.key or b""
        dimension, _, value = key.decode().partition("=")
        answer = json.loads(event.message.value or b"{}")
        state = DimensionWindow.from_json(windows.get(key))
        at = from_epoch_ms(answer["t"])
        spike = observe(state, dimension, value, at, answer["detractor"], rules)
        windows[key] = state.to_json()
        if spike is None:
            return
        now = pipe.clock.now()
        escalation = CaseEscalation(
            escalation_id=f"systemic:{key.decode()}:{answer['t']}", case_id=f"systemic:{key.decode()}",
            customer_id="", kind="systemic", level=0, owner_id=directory.systemic_owner(dimension, value),
            previous_owner_id="", raised_at=now, due_at=now + directory.sla.detractor, overdue_seconds=0,
            team_id=value if dimension == "team" else None, queue=value if dimension == "queue" else None,
            contact_reason=value if dimension == "contact_reason" else None,
            theme=value if dimension == "theme" else None, detail=spike.describe(rules),
        )
        await pipe.send(escalation, key=escalation.case_id)

    @pipe.app.agent(pipe.internal_topic("scores-by-dimension"), name="systemic", concurrency=1)
    async def systemic(stream: faust.StreamT) -> None:
        async for event in stream.events():
            async with pipe.per_event(event, "systemic"):
                await on_answer(event)

    return systemic
