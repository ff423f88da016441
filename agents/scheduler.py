"""Due-time wake-ups for agents: survive restarts, fire within about a second of their time.

The agent says `at(key, when)` while handling an event; the schedule keeps it in its own table (RocksDB with a
changelog, so it survives restarts) and in a heap. A timer sends a tick (the key, no value) to the stage's tick topic
when the time comes; the tick lands on the partition that owns the key, so the agent handles it in order with its
other events and can write its tables. After a restart or a rebalance the table is re-read into the heap. A tick for
something already handled is a no-op for the agent, so duplicate ticks are harmless; `done(key)` forgets a key.
"""

from __future__ import annotations

import heapq
import logging
from datetime import datetime

import faust

from agents.pipeline import Pipeline
from cxloop.clock import epoch_ms

log = logging.getLogger(__name__)


class Schedule:
    def __init__(self, pipe: Pipeline, stage: str, interval: float = 0.5) -> None:
        self.ticks: faust.TopicT = pipe.internal_topic(f"{stage}-ticks")
        self._due = pipe.table(f"{stage}-wakeups", help="key -> when its agent must wake up (epoch ms)")
        self._clock = pipe.clock
        self._heap: list[tuple[int, bytes]] = []
        self._queued: set[tuple[int, bytes]] = set()
        self._due.on_recover(self._reload)
        pipe.app.timer(interval, name=f"{stage}-schedule")(self._fire)

    def at(self, key: bytes, when: datetime) -> None:
        """Wake the agent for `key` at `when` (replaces an earlier wake-up of the same key)."""
        due = epoch_ms(when)
        if self._due.get(key) != str(due).encode():
            self._due[key] = str(due).encode()
        if (due, key) not in self._queued:
            self._queued.add((due, key))
            heapq.heappush(self._heap, (due, key))

    def done(self, key: bytes) -> None:
        if self._due.get(key) is not None:
            del self._due[key]

    async def _reload(self) -> None:
        self._heap = [(int(value), key) for key, value in self._due.items()]
        self._queued = set(self._heap)
        heapq.heapify(self._heap)

    async def _fire(self) -> None:
        now = epoch_ms(self._clock.now())
        while self._heap and self._heap[0][0] <= now:
            due, key = heapq.heappop(self._heap)
            self._queued.discard((due, key))
            if self._due.get(key) == str(due).encode():  # else replaced or done meanwhile
                await self.ticks.send(key=key, value=b"")
