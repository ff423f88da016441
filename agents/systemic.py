"""First scores per team, queue, contact reason and theme -> rolling aggregates, and systemic spikes.

The responses agent publishes each first score once per dimension value it counts under, keyed by that value and
stamped with the answer's time, to an internal topic. Here:

- Faust windowed tables keep rolling counts per value and metric: 1 minute tumbling, 1 hour hopping every 15 minutes,
  24 hours hopping every 6 hours, by the answer's time (stream time). After each answer every window that contains
  it is published on `rolling-aggregate` with its counts, which lands in ClickHouse.
- The systemic detector keeps each value's answer buckets (`dimension-windows` table) and raises a spike on
  `case-escalation`.
"""

from __future__ import annotations

import json
from datetime import timedelta

import faust
from faust.types import EventT

from agents.pipeline import Pipeline
from cxloop.clock import from_epoch_ms
from cxloop.directory import Directory
from cxloop.model import CaseEscalation, RollingAggregate
from cxloop.systemic import DimensionWindow, observe

WINDOWS = {  # name -> (size, step, expires): expired windows leave the table, their last value stays landed
    "1m": (timedelta(minutes=1), timedelta(minutes=1), timedelta(hours=2)),
    "1h": (timedelta(hours=1), timedelta(minutes=15), timedelta(hours=3)),
    "24h": (timedelta(hours=24), timedelta(hours=6), timedelta(hours=30)),
}
FIELDS = ("answers", "detractors", "passives", "promoters", "score_sum")


def register(pipe: Pipeline, directory: Directory) -> faust.types.AgentT:
    windows = pipe.table("dimension-windows", help="dimension=value -> answer counts per time bucket (JSON)")
    rules = directory.systemic
    rolling = {
        name: pipe.app.Table(f"rolling-{name}", default=int, partitions=pipe.settings.topic_partitions,
                             help=f"dimension=value|metric|field -> count in {name} windows").hopping(
            size, step, expires=expires)
        for name, (size, step, expires) in WINDOWS.items()
    }

    async def roll(dimension: str, value: str, answer: dict, event: EventT) -> None:
        """Count the answer in every window that contains it, and publish each of those windows' counts."""
        increments = {"answers": 1, "detractors": answer["category"] == "detractor",
                      "passives": answer["category"] == "passive", "promoters": answer["category"] == "promoter",
                      "score_sum": answer["score"]}
        stamp = event.message.timestamp
        base = f"{dimension}={value}|{answer['metric']}"
        for name, table in rolling.items():
            size, step, _ = WINDOWS[name]
            for field in FIELDS:
                table[f"{base}|{field}"] += int(increments[field])
            for back in range(int(size / step)):  # the windows containing it, latest start first
                ago = back * step.total_seconds()
                start, end = table.table.window.current(stamp - ago)  # type: ignore[union-attr]
                counts = {field: table[f"{base}|{field}"].delta(ago) for field in FIELDS}
                await pipe.send(RollingAggregate(
                    window=name, dimension=dimension, value=value, metric=answer["metric"],
                    window_start=from_epoch_ms(int(start * 1000)), window_end=from_epoch_ms(int(end * 1000)),
                    updated_at=pipe.clock.now(), **counts,
                ), key=f"{name}|{base}")

    async def on_answer(event: EventT) -> None:
        key = event.message.key or b""
        dimension, _, value = key.decode().partition("=")
        answer = json.loads(event.message.value or b"{}")
        await roll(dimension, value, answer, event)
        if not rules.enabled:
            return
        state = DimensionWindow.from_json(windows.get(key))
        spike = observe(state, dimension, value, from_epoch_ms(answer["t"]), answer["category"] == "detractor",
                        rules)
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
