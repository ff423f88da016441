"""Due-time wake-ups for agents: survive restarts, fire within about a second of their time.

An agent keeps what is due in its own table (the durable part) and tells the schedule `at(key, when)`. A timer sends
a tick (the key, no value) to the stage's tick topic when the time comes; the tick arrives on the partition that
owns the key, so the agent handles it in order with its other events and can write its tables. After a restart or a
rebalance the agent re-reads its table (`on_recover`) and re-schedules; a tick for something already handled is a
no-op, so duplicate ticks are harmless.
"""

from __future__ import annotations

import heapq
import logging
from datetime import datetime

import faust

from cxloop.clock import Clock

log = logging.getLogger(__name__)


class Schedule:
    def __init__(self, app: faust.App, ticks: faust.TopicT, clock: Clock, interval: float = 0.5) -> None:
        self._heap: list[tuple[float, bytes]] = []
        self._queued: dict[bytes, float] = {}
        self._ticks = ticks
        self._clock = clock
        app.timer(interval, name=f"schedule-{ticks.get_topic_name()}")(self._fire)

    def at(self, key: bytes, when: datetime) -> None:
        due = when.timestamp()
        if key in self._queued and self._queued[key] <= due:
            return  # an earlier wake-up is already queued; the agent re-schedules what remains then
        self._queued[key] = due
        heapq.heappush(self._heap, (due, key))

    def clear(self) -> None:
        self._heap.clear()
        self._queued.clear()

    async def _fire(self) -> None:
        now = self._clock.now().timestamp()
        while self._heap and self._heap[0][0] <= now:
            due, key = heapq.heappop(self._heap)
            if self._queued.get(key) != due:
                continue  # superseded by an earlier wake-up for the same key
            del self._queued[key]
            await self._ticks.send(key=key, value=b"")
