"""Systemic issues: a rolling detector per team, queue, contact reason and theme.

Each dimension value (team=team-north, theme=billing, ...) keeps its answers in time buckets. At every answer the
detractor share of the last `window` is compared with the `baseline` before it: a rise of at least `min_rise` share
points that a two-proportion z-test finds significant (z at least `z`), with at least `min_responses` on each side,
is a spike. A dimension raises at most once per window.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

from cxloop.clock import epoch_ms
from cxloop.directory import Systemic

BUCKETS_PER_WINDOW = 12


@dataclass(frozen=True)
class Spike:
    dimension: str  # team, queue, contact_reason, theme
    value: str
    current: tuple[int, int]  # (detractors, answers) in the window
    baseline: tuple[int, int]
    z: float

    def describe(self, rules: Systemic) -> str:
        (d1, n1), (d0, n0) = self.current, self.baseline
        return (f"detractor share for {self.dimension} {self.value}: {d1 / n1:.0%} ({d1}/{n1}) in the last "
                f"{rules.window} vs {d0 / n0:.0%} ({d0}/{n0}) over the {rules.baseline} before; z={self.z:.1f}")


@dataclass
class DimensionWindow:
    buckets: dict[str, list[int]] = field(default_factory=dict)  # bucket start (epoch ms) -> [answers, detractors]
    quiet_until: int = 0  # no second spike before this (epoch ms)

    @classmethod
    def from_json(cls, data: bytes | None) -> DimensionWindow:
        return cls(**json.loads(data)) if data else cls()

    def to_json(self) -> bytes:
        return json.dumps({"buckets": self.buckets, "quiet_until": self.quiet_until}).encode()


def dimensions_of(record: dict[str, object], rules: Systemic) -> list[tuple[str, str]]:
    """The (dimension, value) pairs an answer counts under."""
    pairs: list[tuple[str, str]] = []
    for dimension in rules.dimensions:
        if dimension == "theme":
            pairs += [("theme", str(t)) for t in record.get("themes") or []]  # type: ignore[attr-defined]
        elif record.get(f"{dimension}_id" if dimension == "team" else dimension):
            pairs.append((dimension, str(record[f"{dimension}_id" if dimension == "team" else dimension])))
    return pairs


def observe(state: DimensionWindow, dimension: str, value: str, at: datetime, detractor: bool,
            rules: Systemic) -> Spike | None:
    """Count one answer (at its answer time) and say whether this dimension value now spikes."""
    window = int(rules.window.total_seconds() * 1000)
    baseline = int(rules.baseline.total_seconds() * 1000)
    size = max(1000, window // BUCKETS_PER_WINDOW)
    t = epoch_ms(at)
    bucket = state.buckets.setdefault(str(t - t % size), [0, 0])
    bucket[0] += 1
    bucket[1] += int(detractor)
    start = t - window
    state.buckets = {k: v for k, v in state.buckets.items() if int(k) + size > start - baseline}
    current = [0, 0]
    before = [0, 0]
    for key, (n, d) in state.buckets.items():
        side = current if int(key) + size > start else before
        side[0] += n
        side[1] += d
    if t < state.quiet_until or min(current[0], before[0]) < rules.min_responses:
        return None
    p1, p0 = current[1] / current[0], before[1] / before[0]
    pooled = (current[1] + before[1]) / (current[0] + before[0])
    spread = math.sqrt(pooled * (1 - pooled) * (1 / current[0] + 1 / before[0]))
    if p1 - p0 < rules.min_rise or spread == 0:
        return None
    z = (p1 - p0) / spread
    if z < rules.z:
        return None
    state.quiet_until = t + window
    return Spike(dimension, value, (current[1], current[0]), (before[1], before[0]), z)
