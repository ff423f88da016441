"""Liveness: a worker that has work waiting but handles nothing for too long exits, so its supervisor restarts it.

Faust workers can strand a partition after a rebalance with a backlog (faust-streaming #173, #175): the event loop
goes idle with lag left on the input topics and never recovers on its own. A restart does recover (replays are safe
by design), so the watchdog turns that silent stall into a crash: exit code 70, after logging why.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

from faust.types import TP

from agents.pipeline import Pipeline

log = logging.getLogger(__name__)
STALLED_EXIT_CODE = 70


@dataclass
class Progress:
    """Pure bookkeeping: has the count of handled events moved while there was work waiting?"""

    stall_seconds: float
    handled: int = 0
    since: float = field(default_factory=time.monotonic)

    def stalled(self, handled: int, lag: int, now: float) -> bool:
        if handled != self.handled or lag <= 0:
            self.handled, self.since = handled, now
            return False
        return now - self.since >= self.stall_seconds


def register(pipe: Pipeline, stall_seconds: float, interval: float = 5.0) -> None:
    app = pipe.app
    progress = Progress(stall_seconds)

    @app.timer(interval, name="watchdog")
    async def watch() -> None:
        if app.rebalancing or app.in_recovery:
            progress.stalled(-1, 0, time.monotonic())  # not a stall: reset the clock
            return
        mine = set(pipe.source_topics)
        tps: list[TP] = [tp for tp in app.consumer.assignment() if tp.topic in mine]
        if not tps:
            return
        ends = await app.consumer.highwaters(*tps)
        committed = app.consumer._committed_offset  # type: ignore[attr-defined]  # no public view of it
        lag = sum(max(0, end - (committed.get(tp) or 0)) for tp, end in ends.items())
        if progress.stalled(pipe.events_handled, lag, time.monotonic()):
            log.error("no event handled for %.0fs with %d waiting on %s: exiting for a restart",
                      stall_seconds, lag, sorted({tp.topic for tp in tps}))
            logging.shutdown()
            os._exit(STALLED_EXIT_CODE)
