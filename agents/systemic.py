"""First scores per team, queue, contact reason and theme -> rolling aggregates, and systemic spikes.

The responses agent publishes each first score once per dimension value it counts under, keyed by that value and
stamped with the answer's time, to an internal topic. Here:

- Faust windowed tables keep rolling counts per value and metric in 1-minute, 1-hour and 24-hour tumbling windows, by
  the answer's time (stream time): one table write per window size and answer. After each answer its windows'
  counts are published on `rolling-aggregate`, which lands in ClickHouse; a sliding hour or day is the sum of the
  minutes in it. (Hopping windows wrote every overlapping window of every field per answer: most of the 187
  records the answer path produced per answer in bench/answers.py.)
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

WINDOWS = {  # name -> (size, expires): tumbling windows; expired ones leave the table, their last value stays landed
    "1m": (timedelta(minutes=1), timedelta(hours=2)),
    "1h": (timedelta(hours=1), timedelta(hours=3)),
    "24h": (timedelta(hours=24), timedelta(hours=30)),
}
FIELDS = ("answers", "detractors", "passives", "promoters", "score_sum")


def register(pipe: Pipeline, directory: Directory) -> faust.types.AgentT:
    windows = pipe.table("dimension-windows", help="dimension=value -> answer counts per time bucket (JSON)")
    rules = directory.systemic
    rolling = {
        name: pipe.app.Table(f"rolling-{name}", default=list, partitions=pipe.settings.topic_partitions,
                             help=f"dimension=value|metric -> [{', '.join(FIELDS)}] per {name} window").tumbling(
            size, expires=expires)
        for name, (size, expires) in WINDOWS.items()
    }

    async def roll(dimension: str, value: str, answer: dict, event: EventT) -> None:
        """Count the answer in its window of each size (one table write each), and publish the windows' counts."""
        increments = (1, answer["category"] == "detractor", answer["category"] == "passive",
                      answer["category"] == "promoter", answer["score"])
        stamp = event.message.timestamp
        base = f"{dimension}={value}|{answer['metric']}"
        for name, table in rolling.items():
            counts = [int(a) + int(b) for a, b in
                      zip(table[base].current() or [0] * len(FIELDS), increments, strict=True)]
            table[base] = counts
            start, end = table.table.window.current(stamp)  # type: ignore[union-attr]
            await pipe.send(RollingAggregate(
                window=name, dimension=dimension, value=value, metric=answer["metric"],
                window_start=from_epoch_ms(int(start * 1000)), window_end=from_epoch_ms(int(end * 1000)),
                updated_at=pipe.clock.now(), **dict(zip(FIELDS, counts, strict=True)),
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
